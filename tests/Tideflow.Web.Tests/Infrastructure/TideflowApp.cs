using Microsoft.AspNetCore.Builder;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;

[assembly: AssemblyFixture(typeof(Tideflow.Web.Tests.Infrastructure.SqliteApp))]
[assembly: AssemblyFixture(typeof(Tideflow.Web.Tests.Infrastructure.PostgresApp))]

namespace Tideflow.Web.Tests.Infrastructure;

/// <summary>
/// The real app through its real HTTP pipeline on a real database. Each test makes its own
/// organisation (see <see cref="TestOrg"/>), so tests share one app without sharing data.
/// </summary>
public abstract class TideflowApp : WebApplicationFactory<Program>, IAsyncLifetime
{
    public FakeTimeProvider Clock { get; } = new(TimeProvider.System.GetUtcNow());
    public abstract string Provider { get; }
    public abstract string ConnectionString { get; }
    public virtual bool Available => true;
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Database:Provider", Provider);
        builder.UseSetting("ConnectionStrings:Tideflow", ConnectionString);
        builder.UseSetting("Demo:Seed", "false");
        // Every test client is 127.0.0.1: the per-IP capture limit is tested on its own node.
        builder.UseSetting("Capture:PerIpPerMinute", "100000");
        // Nodes with clocks moved ahead would sweep every test's organisation; the sweep test turns it on for itself.
        builder.UseSetting("Scheduler:Enabled", "false");
        // Tests deliver reminders by calling DeliverNotifications, on the node and at the time they choose.
        builder.UseSetting("Reminders:Dispatch", "false");
        // Tests use one authenticator code for several calls within seconds; the replay test turns the check on for its node.
        builder.UseSetting("Security:AuthenticatorCodesOnce", "false");
        // A compacting collection of the whole test process at every node's start would pause the other tests.
        builder.UseSetting("Memory:CollectAfterStart", "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(s =>
        {
            s.AddSingleton<TimeProvider>(Clock);
            s.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, LoopbackClient>();
        });
    }

    public virtual ValueTask InitializeAsync()
    {
        if (Available)
        {
            _ = Server; // starts the host: migrations run here, once per provider
        }
        return ValueTask.CompletedTask;
    }

    public void SkipIfUnavailable()
    {
        if (!Available)
        {
            Assert.Skip(PostgresApp.NoServer);
        }
    }

    public HttpClient Anonymous() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public HttpClient As(Persona persona) => WithToken(persona.Token);

    public HttpClient WithToken(string? token)
    {
        var client = Anonymous();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return client;
    }

    /// <summary>Another app instance on the same database, like a second node behind a load balancer.</summary>
    public TideflowApp SecondNode(IReadOnlyDictionary<string, string>? settings = null, Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor? interceptor = null)
    {
        var node = new NodeApp(Provider, ConnectionString, settings ?? new Dictionary<string, string>(), interceptor);
        _ = node.Server;
        return node;
    }

    public async Task<TestOrg> NewOrgAsync()
    {
        SkipIfUnavailable();
        return await TestOrg.CreateAsync(Services);
    }

    /// <summary>
    /// A node on a database of its own: for a test whose scheduled jobs, run days ahead on its clock, would otherwise
    /// sweep or remind every other test's organisation in the shared database under their feet.
    /// </summary>
    public TideflowApp IsolatedNode(IReadOnlyDictionary<string, string>? settings = null)
    {
        var name = $"tideflow_test_{Guid.NewGuid():N}";
        var file = Path.Combine(Path.GetTempPath(), name + ".db");
        var node = Provider == "Sqlite"
            ? new NodeApp(Provider, $"Data Source={file}", settings ?? new Dictionary<string, string>(), null, () =>
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                foreach (var f in new[] { file, file + "-wal", file + "-shm" })
                {
                    File.Delete(f);
                }
                return Task.CompletedTask;
            })
            : new NodeApp(Provider, PostgresApp.ForDatabase(name), settings ?? new Dictionary<string, string>(), null, () => PostgresApp.DropAsync(name));
        _ = node.Server;
        return node;
    }

    /// <summary>Runs work against the database as the system (no data scope), for arranging and checking.</summary>
    public async Task<T> InDbAsync<T>(Func<TideflowDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        return await work(scope.ServiceProvider.GetRequiredService<TideflowDbContext>());
    }
}

public sealed class NodeApp(string provider, string connectionString, IReadOnlyDictionary<string, string> settings,
    Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor? interceptor, Func<Task>? dropDatabase = null) : TideflowApp
{
    public override string Provider => provider;
    public override string ConnectionString => connectionString;
    protected override IReadOnlyDictionary<string, string> Settings => settings;

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (dropDatabase is not null)
        {
            await dropDatabase();
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (interceptor is not null)
        {
            builder.ConfigureTestServices(s =>
            {
                if (provider == "Sqlite")
                {
                    s.ConfigureDbContext<SqliteTideflowDbContext>(o => o.AddInterceptors(interceptor));
                }
                else
                {
                    s.ConfigureDbContext<PostgresTideflowDbContext>(o => o.AddInterceptors(interceptor));
                }
            });
        }
    }
}

public sealed class SqliteApp : TideflowApp
{
    private readonly string file = Path.Combine(Path.GetTempPath(), $"tideflow-test-{Guid.NewGuid():N}.db");
    public override string Provider => "Sqlite";
    public override string ConnectionString => $"Data Source={file}";

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var f in new[] { file, file + "-wal", file + "-shm" })
        {
            File.Delete(f);
        }
    }
}

/// <summary>Runs when TIDEFLOW_TEST_POSTGRES is set; in CI a missing one is a failure, never a silent skip.</summary>
public sealed class PostgresApp : TideflowApp
{
    public static readonly string? ServerConnection = Environment.GetEnvironmentVariable("TIDEFLOW_TEST_POSTGRES");
    public const string NoServer = "PostgreSQL tests need TIDEFLOW_TEST_POSTGRES (a connection string to a server where databases may be created).";

    /// <summary>For a PostgreSQL test without an app of its own: skipped without a server, a failure in CI.</summary>
    public static void SkipWithoutServer()
    {
        FailInCiWithoutServer();
        if (string.IsNullOrWhiteSpace(ServerConnection))
        {
            Assert.Skip(NoServer);
        }
    }

    private static void FailInCiWithoutServer()
    {
        if (string.IsNullOrWhiteSpace(ServerConnection) && Environment.GetEnvironmentVariable("CI") == "true")
        {
            throw new InvalidOperationException("CI must run the PostgreSQL tests: set TIDEFLOW_TEST_POSTGRES.");
        }
    }

    private readonly string database = $"tideflow_test_{Guid.NewGuid():N}";

    public override string Provider => "Postgres";
    public override bool Available => !string.IsNullOrWhiteSpace(ServerConnection);
    public override string ConnectionString => ForDatabase(database);

    public static string ForDatabase(string name) =>
        new NpgsqlConnectionStringBuilder(ServerConnection) { Database = name }.ConnectionString;

    public override ValueTask InitializeAsync()
    {
        FailInCiWithoutServer();
        return base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        var left = Available ? await SessionStateLeftAsync() : null;
        await base.DisposeAsync();
        if (Available)
        {
            await DropAsync(database);
        }
        if (left is not null)
        {
            throw new InvalidOperationException(left);
        }
    }

    /// <summary>
    /// The app's connections go back to Npgsql's pool without a reset (No Reset On Close, Data/Database.cs), which is
    /// safe only while nothing the app does leaves session state on a connection. Checked once every PostgreSQL test has
    /// run: no advisory lock or temporary table in any session on the database, and none of the app's pooled
    /// connections with a session setting, an open cursor or a LISTEN.
    /// </summary>
    private async Task<string?> SessionStateLeftAsync()
    {
        var found = new List<string>();
        await using (var admin = new NpgsqlConnection(ConnectionString))
        {
            await admin.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                SELECT (SELECT count(*)::int FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                        WHERE l.locktype = 'advisory' AND a.datname = current_database()),
                       (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'pg\_temp\_%')
                """, admin);
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            if (reader.GetInt32(0) > 0 || reader.GetInt32(1) > 0)
            {
                found.Add($"{reader.GetInt32(0)} advisory locks and {reader.GetInt32(1)} temporary tables held by sessions");
            }
        }
        // Several of the app's pooled connections at once, so the pool hands out more than its most recent one.
        var scopes = Enumerable.Range(0, 8).Select(_ => Services.CreateAsyncScope()).ToList();
        try
        {
            foreach (var scope in scopes)
            {
                var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
                await db.Database.OpenConnectionAsync();
                await using var cmd = db.Database.GetDbConnection().CreateCommand();
                cmd.CommandText = """
                    SELECT coalesce((SELECT 'settings: ' || string_agg(name, ', ') FROM pg_settings WHERE source = 'session'), '')
                        || coalesce((SELECT ' cursors: ' || string_agg(name, ', ') FROM pg_cursors WHERE name <> ''), '')
                        || coalesce((SELECT ' listening: ' || string_agg(c, ', ') FROM pg_listening_channels() c), '')
                    """;
                if (await cmd.ExecuteScalarAsync() is string state && state.Length > 0)
                {
                    found.Add($"a pooled connection has session state: {state}");
                }
            }
        }
        finally
        {
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }
        return found.Count == 0 ? null : "The app left session state on its PostgreSQL connections, which go back to the pool unreset: "
            + string.Join("; ", found);
    }

    public static async Task DropAsync(string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(ForDatabase("postgres"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>The in-memory test server has no socket; give requests the address a local browser would have.</summary>
internal sealed class LoopbackClient : Microsoft.AspNetCore.Hosting.IStartupFilter
{
    public Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> Configure(Action<Microsoft.AspNetCore.Builder.IApplicationBuilder> next) => app =>
    {
        app.Use(async (http, nextMiddleware) =>
        {
            http.Connection.RemoteIpAddress ??= System.Net.IPAddress.Loopback;
            await nextMiddleware();
        });
        next(app);
    };
}
