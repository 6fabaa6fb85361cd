using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tideflow.Bench.Loading;

namespace Tideflow.Bench.Running;

/// <summary>
/// The floor of the customer-list scenario: the same COUNT and the same first page (filter by organisation and
/// owner, newest first, owner's name joined, 25 rows) by a minimal hand-written ADO.NET program with pooled
/// connections. What the app adds on top — HTTP, token and scope lookups, EF Core, JSON — is the ratio.
/// </summary>
public sealed class Floor : IAsyncDisposable
{
    private const string Count = """SELECT COUNT(*) FROM "Customers" WHERE "OrganizationId" = @org AND "OwnerId" = @owner""";

    private const string FirstPage = """
        SELECT c."Id", c."Name", c."Company", c."Mobile", c."Email", c."Region", c."Industry", c."OwnerId",
               u."DisplayName", c."CreatedAt", c."UpdatedAt"
        FROM "Customers" c LEFT JOIN "AspNetUsers" u ON u."Id" = c."OwnerId"
        WHERE c."OrganizationId" = @org AND c."OwnerId" = @owner
        ORDER BY c."CreatedAt" DESC, c."Id"
        LIMIT 25 OFFSET 0
        """;

    private readonly Func<DbConnection> open;
    private readonly object org;
    private readonly object owner;
    private readonly NpgsqlDataSource? dataSource;

    private Floor(Func<DbConnection> open, object org, object owner, NpgsqlDataSource? dataSource)
    {
        this.open = open;
        this.org = org;
        this.owner = owner;
        this.dataSource = dataSource;
    }

    public static Floor Sqlite(string connectionString, Guid org, Guid owner) =>
        new(() => new SqliteConnection(connectionString), SqliteLoader.Id(org)!, SqliteLoader.Id(owner)!, null);

    public static Floor Postgres(string connectionString, Guid org, Guid owner)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        return new Floor(dataSource.CreateConnection, org, owner, dataSource);
    }

    /// <summary>One request's worth of work; returns the total so the caller can check it.</summary>
    public async Task<long> ListAsync(CancellationToken ct)
    {
        await using var connection = open();
        await connection.OpenAsync(ct);
        long total;
        await using (var count = Command(connection, Count))
        {
            total = Convert.ToInt64(await count.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
        }
        await using var page = Command(connection, FirstPage);
        await using var reader = await page.ExecuteReaderAsync(ct);
        var rows = new List<object?[]>(25);
        while (await reader.ReadAsync(ct))
        {
            var row = new object?[reader.FieldCount];
            reader.GetValues(row!);
            rows.Add(row);
        }
        return total;
    }

    private DbCommand Command(DbConnection connection, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        Add(cmd, "@org", org);
        Add(cmd, "@owner", owner);
        return cmd;
    }

    private static void Add(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }

    public async ValueTask DisposeAsync()
    {
        if (dataSource is not null)
        {
            await dataSource.DisposeAsync();
        }
    }
}
