using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

public static class Database
{
    public const string DefaultSqlite = "Data Source=data/tideflow.db";

    /// <summary>An instant in whole microseconds, as PostgreSQL keeps it: what a job stamps must read back equal.</summary>
    public static DateTimeOffset AsStored(DateTimeOffset instant) =>
        new(instant.UtcTicks - instant.UtcTicks % 10, TimeSpan.Zero);

    /// <summary>
    /// For a long run of bulk writes (an import, the pool sweep's writer) on SQLite: one connection kept open with a
    /// 64 MB page cache instead of SQLite's 2 MB, given back to the pool with the default when the scope ends. An
    /// import's inserts land all over the lead, key and task indexes; with the small cache it read the same pages back
    /// from the file again and again (a 100,000-row import: 12.8 → 12.1–12.4 s, docs/benchmarks.md "Session 18"). A
    /// no-op on PostgreSQL.
    /// </summary>
    public static async Task<IAsyncDisposable> BulkWritingAsync(this TideflowDbContext db, CancellationToken ct)
    {
        if (!db.Database.IsSqlite())
        {
            return NoScope.Instance;
        }
        await db.Database.OpenConnectionAsync(ct);
        var scope = new SqliteBulkScope(db);
        try
        {
            await db.Database.ExecuteSqlRawAsync(SqliteBulkScope.Larger, ct);
        }
        catch
        {
            await scope.DisposeAsync();
            throw;
        }
        return scope;
    }

    private sealed class NoScope : IAsyncDisposable
    {
        public static readonly NoScope Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class SqliteBulkScope(TideflowDbContext db) : IAsyncDisposable
    {
        public const string Larger = "PRAGMA cache_size=-65536;";
        public const string Default = "PRAGMA cache_size=-2000;";

        public async ValueTask DisposeAsync()
        {
            var connection = db.Database.GetDbConnection();
            try
            {
                // Back to the pool with SQLite's default, so no other request grows a 64 MB cache.
                await db.Database.ExecuteSqlRawAsync(Default);
            }
            catch (SqliteException)
            {
                // The import's own error (a full disk, say) is the one to report; this connection is not kept either.
                SqliteConnection.ClearPool((SqliteConnection)connection);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
    }

    public static DatabaseProvider ProviderFrom(IConfiguration config)
    {
        var value = config["Database:Provider"];
        if (string.IsNullOrWhiteSpace(value) || value.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return DatabaseProvider.Sqlite;
        }
        if (value.Equals("postgres", StringComparison.OrdinalIgnoreCase) ||
            value.Equals("postgresql", StringComparison.OrdinalIgnoreCase))
        {
            return DatabaseProvider.Postgres;
        }
        throw new InvalidOperationException($"Database:Provider '{value}' is not supported; use Sqlite or Postgres.");
    }

    public static void AddTideflowDatabase(this IServiceCollection services, IConfiguration config)
    {
        var provider = ProviderFrom(config);
        var connection = config.GetConnectionString("Tideflow");
        if (provider == DatabaseProvider.Sqlite)
        {
            connection = PrepareSqlite(string.IsNullOrWhiteSpace(connection) ? DefaultSqlite : connection);
            services.AddDbContext<TideflowDbContext, SqliteTideflowDbContext>(o => ConfigureSqlite(o, connection));
            services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SqliteCheckpointer>(sp, connection));
            services.AddHostedService(sp => sp.GetRequiredService<SqliteCheckpointer>());
        }
        else
        {
            if (string.IsNullOrWhiteSpace(connection))
            {
                throw new InvalidOperationException(
                    "Database:Provider is Postgres but ConnectionStrings:Tideflow is empty. " +
                    "Set ConnectionStrings__Tideflow, e.g. \"Host=127.0.0.1;Database=tideflow;Username=tideflow;Password=...\".");
            }
            connection = PreparePostgres(connection);
            services.AddDbContext<TideflowDbContext, PostgresTideflowDbContext>(o => UsePostgres(o, connection));
        }
    }

    public static void ConfigureSqlite(DbContextOptionsBuilder options, string connection) =>
        SkipModelCheckAtMigrate(options.UseSqlite(connection, o => o.CommandTimeout(30)))
            .AddInterceptors(new SqlitePragmas());

    public static void ConfigurePostgres(DbContextOptionsBuilder options, string connection) => UsePostgres(options, PreparePostgres(connection));

    private static void UsePostgres(DbContextOptionsBuilder options, string prepared) =>
        SkipModelCheckAtMigrate(options.UseNpgsql(prepared, o => o.EnableRetryOnFailure(3, TimeSpan.FromSeconds(2), null)));

    /// <summary>
    /// Migrate() on every start would also diff the migrations' snapshot against a design-time copy of the model (the
    /// pending-model-changes warning): two more models built and their code JIT'd, about 18 MB kept for the life of
    /// the process. MigrationTests (DatabaseTests.cs) make that check on both providers, where a forgotten migration belongs.
    /// </summary>
    private static DbContextOptionsBuilder SkipModelCheckAtMigrate(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));

    /// <summary>
    /// The app sends the same few hundred statements over and over: prepared once per physical connection, PostgreSQL
    /// skips parsing and planning them again (planning the sticky-owner lookup of every arrival took longer than
    /// running it). Npgsql keeps prepared statements across pooled opens. A connection string that sets
    /// <c>Max Auto Prepare</c> itself (0 turns it off) keeps its value.
    /// <para>
    /// No Reset On Close: the app keeps no session state on a connection (no session SET, advisory lock, cursor, LISTEN
    /// or temporary table; transactions end before the connection goes back), so the reset Npgsql otherwise sends with
    /// the next statement after every pooled open (what DISCARD ALL does, less dropping the prepared statements)
    /// is work for nothing (PostgreSQL's CPU per claim 2.1 → 1.5 ms, session 17). A connection string that sets it keeps it.
    /// The tests' PostgreSQL app checks, after all its tests, that no session state was left behind.
    /// </para>
    /// </summary>
    public static string PreparePostgres(string connection)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connection }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", "", StringComparison.Ordinal)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var prepared = new Npgsql.NpgsqlConnectionStringBuilder(connection);
        if (!given.Contains("MaxAutoPrepare"))
        {
            (prepared.MaxAutoPrepare, prepared.AutoPrepareMinUsages) = (200, 2);
        }
        if (!given.Contains("NoResetOnClose"))
        {
            prepared.NoResetOnClose = true;
        }
        return prepared.ConnectionString;
    }

    private static string PrepareSqlite(string connection)
    {
        var builder = new SqliteConnectionStringBuilder(connection);
        if (builder.DefaultTimeout < 30)
        {
            builder.DefaultTimeout = 30;
        }
        return builder.ToString();
    }

    /// <summary>
    /// Customers created before sticky ownership existed have no company key (it is computed in C#, so a migration
    /// cannot fill it). Filled once, in batches, at start; afterwards every write sets it.
    /// </summary>
    public static async Task BackfillCompanyKeysAsync(IServiceProvider services, ILogger logger, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        db.AuditEntityChanges = false;
        var filled = new Dictionary<Guid, int>();
        while (true)
        {
            var batch = await db.Customers.Where(c => c.CompanyKey == null && c.Company != null && c.Company != "")
                .OrderBy(c => c.Id).Take(2000).ToListAsync(ct);
            if (batch.Count == 0)
            {
                break;
            }
            foreach (var c in batch)
            {
                var key = Tideflow.Domain.Leads.ContactRules.CompanyKey(c.Company);
                // A company name that normalizes to nothing keeps an empty key, so it is not read again.
                c.CompanyKey = key is null ? "" : key.Length <= 200 ? key : key[..200];
                filled[c.OrganizationId] = filled.GetValueOrDefault(c.OrganizationId) + 1;
            }
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        // Per-row audit is off for this bulk fill; each organisation's log gets one entry saying what happened.
        foreach (var (organization, count) in filled)
        {
            db.Audit("company-keys-filled", nameof(Features.Customers.Customer), null, new { count }, organizationId: organization);
        }
        if (filled.Count > 0)
        {
            await db.SaveChangesAsync(ct);
            logger.LogInformation("Filled the company key of {Count} customers (sticky ownership).", filled.Values.Sum());
        }
    }

    /// <summary>Applies migrations; a database that cannot be reached is a clear message, not a stack trace.</summary>
    public static async Task MigrateAsync(IServiceProvider services, ILogger logger, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        try
        {
            CreateSqliteFolder(db);
            await db.Database.MigrateAsync(ct);
        }
        catch (Exception e) when (e is SqliteException or Npgsql.NpgsqlException or InvalidOperationException
                                      or System.Net.Sockets.SocketException or TimeoutException
                                      or IOException or UnauthorizedAccessException)
        {
            logger.LogDebug(e, "Migration failed");
            throw new DatabaseUnavailableException(Describe(db, e), e);
        }
    }

    /// <summary>A fresh clone just runs: the folder of the database file is created on first start.</summary>
    private static void CreateSqliteFolder(TideflowDbContext db)
    {
        if (!db.Database.IsSqlite())
        {
            return;
        }
        var builder = new SqliteConnectionStringBuilder(db.Database.GetConnectionString());
        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && builder.Mode != SqliteOpenMode.Memory)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(file));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }
        }
    }

    private static string Describe(TideflowDbContext db, Exception e)
    {
        var root = e.GetBaseException();
        return db.Database.IsSqlite()
            ? $"Cannot open the SQLite database ({db.Database.GetDbConnection().DataSource}): {root.Message}. " +
              "Is another process holding it locked, or is the folder read-only?"
            : $"Cannot reach PostgreSQL ({db.Database.GetDbConnection().DataSource}): {root.Message}. " +
              "Check that the server is running and ConnectionStrings__Tideflow is right.";
    }
}

public sealed class DatabaseUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>WAL lets readers run beside the single SQLite writer; busy_timeout makes writers queue instead of fail.</summary>
internal sealed class SqlitePragmas : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    // wal_autocheckpoint: SqliteCheckpointer copies the log on its own thread; this is only the fallback should it fall behind.
    private const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; " +
                                   "PRAGMA wal_autocheckpoint=10000;";

    // Pooled connections keep their settings; set them once per physical connection (its native handle), not on every
    // open — EF opens and closes for each query, and four PRAGMAs each time were a measurable share of a short request.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<object, object> Prepared = [];

    public override async Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection,
        Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (IsNew(connection))
        {
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = Pragmas;
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public override void ConnectionOpened(System.Data.Common.DbConnection connection,
        Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData)
    {
        if (IsNew(connection))
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = Pragmas;
            cmd.ExecuteNonQuery();
        }
    }

    private static bool IsNew(System.Data.Common.DbConnection connection) =>
        connection is not SqliteConnection { Handle: { } handle } || Prepared.TryAdd(handle, handle);
}

// Design-time factories: `dotnet ef` builds each provider's context to generate its migrations.
internal sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteTideflowDbContext>
{
    public SqliteTideflowDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<SqliteTideflowDbContext>().UseSqlite(Database.DefaultSqlite).Options;
        var user = new CurrentUser();
        user.Set(DataScope.System);
        return new SqliteTideflowDbContext(options, user, TimeProvider.System);
    }
}

internal sealed class PostgresDesignFactory : IDesignTimeDbContextFactory<PostgresTideflowDbContext>
{
    public PostgresTideflowDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<PostgresTideflowDbContext>()
            .UseNpgsql("Host=localhost;Database=tideflow_design").Options;
        var user = new CurrentUser();
        user.Set(DataScope.System);
        return new PostgresTideflowDbContext(options, user, TimeProvider.System);
    }
}
