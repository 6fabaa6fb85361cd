using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tideflow.Bench.Loading;

namespace Tideflow.Bench.Running;

/// <summary>
/// Hand-written SQL against either provider, for scenario set-up and floors. Parameters are converted to what each
/// provider stores (SQLite: Guids as uppercase TEXT, instants as INTEGER UTC ticks, as the app's converters write them),
/// and every SQLite open sets the app's pragmas that bear on a writer's waits (<see cref="SqlitePragmas"/>).
/// </summary>
public sealed class BenchDb(bool postgres, string connectionString) : IAsyncDisposable
{
    /// <summary>
    /// What the app's connection interceptor sets that bears on a writer's waits: its busy_timeout, synchronous=NORMAL,
    /// and the automatic checkpoint at 10,000 pages (the app copies the log on a thread of its own). With SQLite's
    /// default of 1,000 pages a bench writer's commit could copy the log the app had just written, a cost an app
    /// writer's commit does not pay (until session 21). Not foreign_keys=ON: the floors write without the checks the
    /// app's writes make, as they always have.
    /// </summary>
    public const string SqlitePragmas = "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000;";

    private readonly NpgsqlDataSource? dataSource = postgres ? NpgsqlDataSource.Create(connectionString) : null;

    public bool IsPostgres => postgres;

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        DbConnection connection = postgres ? dataSource!.CreateConnection() : new SqliteConnection(connectionString);
        await connection.OpenAsync(ct);
        if (!postgres)
        {
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = SqlitePragmas;
            await pragma.ExecuteNonQueryAsync(ct);
        }
        return connection;
    }

    public DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.CommandTimeout = 600;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = Convert(value) ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    public object? Convert(object? value) => postgres ? value : value switch
    {
        Guid g => SqliteLoader.Id(g),
        DateTimeOffset t => SqliteLoader.Ticks(t),
        _ => value,
    };

    public async Task<int> ExecAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = Command(connection, null, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<long> ScalarAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] args)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = Command(connection, null, sql, args);
        return System.Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    public Task<List<Guid>> IdsAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] args) =>
        ColumnAsync(sql, r => postgres ? r.GetGuid(0) : Guid.Parse(r.GetString(0)), args, ct);

    public Task<List<string>> TextsAsync(string sql, CancellationToken ct, params (string Name, object? Value)[] args) =>
        ColumnAsync(sql, r => r.GetString(0), args, ct);

    private async Task<List<T>> ColumnAsync<T>(string sql, Func<DbDataReader, T> read, (string Name, object? Value)[] args, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var cmd = Command(connection, null, sql, args);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var values = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            values.Add(read(reader));
        }
        return values;
    }

    public async ValueTask DisposeAsync()
    {
        if (dataSource is not null)
        {
            await dataSource.DisposeAsync();
        }
    }
}
