using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Data;

public sealed class MigrationTests
{
    private static CurrentUser System()
    {
        var user = new CurrentUser();
        user.Set(DataScope.System);
        return user;
    }

    [Fact]
    public void The_sqlite_migrations_cover_the_whole_model()
    {
        var options = new DbContextOptionsBuilder<SqliteTideflowDbContext>().UseSqlite("Data Source=:memory:").Options;
        using var db = new SqliteTideflowDbContext(options, System(), TimeProvider.System);
        Assert.False(db.Database.HasPendingModelChanges(), "Model changed without a migration: run scripts/add-migration.sh <Name>.");
    }

    [Fact]
    public void The_postgres_migrations_cover_the_whole_model()
    {
        var options = new DbContextOptionsBuilder<PostgresTideflowDbContext>().UseNpgsql("Host=localhost").Options;
        using var db = new PostgresTideflowDbContext(options, System(), TimeProvider.System);
        Assert.False(db.Database.HasPendingModelChanges(), "Model changed without a migration: run scripts/add-migration.sh <Name>.");
    }

    [Fact]
    public Task Sqlite_an_earlier_import_s_row_receipts_become_import_receipts_on_upgrade() =>
        OwnSqliteFile.UseAsync(async (_, newContext) =>
        {
            await using var db = newContext();
            await EarlierImportReceiptsSurviveTheUpgradeAsync(db);
        });

    [Fact]
    public async Task Postgres_an_earlier_import_s_row_receipts_become_import_receipts_on_upgrade()
    {
        PostgresApp.SkipWithoutServer();
        var name = $"tideflow_test_{Guid.NewGuid():N}";
        var options = new DbContextOptionsBuilder<PostgresTideflowDbContext>();
        Database.ConfigurePostgres(options, PostgresApp.ForDatabase(name));
        try
        {
            await using var db = new PostgresTideflowDbContext(options.Options, System(), TimeProvider.System);
            await EarlierImportReceiptsSurviveTheUpgradeAsync(db);
        }
        finally
        {
            await PostgresApp.DropAsync(name);
        }
    }

    /// <summary>A file imported before import receipts existed must still be skipped when it is imported again.</summary>
    private static async Task EarlierImportReceiptsSurviveTheUpgradeAsync(TideflowDbContext db)
    {
        var migrator = db.GetInfrastructure().GetRequiredService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var upgrade = migrations.FindIndex(m => m.EndsWith("_ImportReceiptsAndLeanerIndexes", StringComparison.Ordinal));
        await migrator.MigrateAsync(migrations[upgrade - 1], TestContext.Current.CancellationToken);

        var at = new DateTimeOffset(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
        var org = new Features.Access.Organization { Id = Guid.CreateVersion7(), Name = "升级前", CreatedAt = at };
        var lead = new Features.Leads.Lead { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Status = Features.Leads.LeadStatus.New, ArrivedAt = at, UpdatedAt = at };
        var hash = Convert.ToHexStringLower(global::System.Security.Cryptography.SHA256.HashData("名单.csv"u8));
        db.AddRange(org, lead,
            new Features.Leads.CaptureReceipt { OrganizationId = org.Id, Key = $"import:{hash}:7", LeadId = lead.Id, At = at },
            new Features.Leads.CaptureReceipt { OrganizationId = org.Id, Key = $"import:{hash}:1234", LeadId = lead.Id, At = at },
            new Features.Leads.CaptureReceipt { OrganizationId = org.Id, Key = "payload:web:abc", LeadId = lead.Id, At = at });
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        db.ChangeTracker.Clear();

        await migrator.MigrateAsync(migrations[upgrade], TestContext.Current.CancellationToken);

        var receipts = await db.ImportReceipts.OrderBy(r => r.FirstRow).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal([(org.Id, hash, 7, 7, at), (org.Id, hash, 1234, 1234, at)],
            receipts.Select(r => (r.OrganizationId, r.FileHash, r.FirstRow, r.LastRow, r.At)));
        Assert.Equal([7, 1234], Features.Leads.ImportReceipt.Written(receipts, 6, 1300).Order());
        // The channel's own receipts (retries, repeated payloads) stay as they were.
        Assert.Equal(["payload:web:abc"], await db.CaptureReceipts.Select(r => r.Key).ToListAsync(TestContext.Current.CancellationToken));
    }
}

/// <summary>A SQLite file of a test's own, with a connection pool of its own; deleted afterwards.</summary>
internal static class OwnSqliteFile
{
    public static async Task UseAsync(Func<string, Func<SqliteTideflowDbContext>, Task> test)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tideflow-test-{Guid.NewGuid():N}.db");
        var connectionString = $"Data Source={path}";
        var options = new DbContextOptionsBuilder<SqliteTideflowDbContext>();
        Database.ConfigureSqlite(options, connectionString);
        var user = new CurrentUser();
        user.Set(DataScope.System);
        try
        {
            await test(connectionString, () => new SqliteTideflowDbContext(options.Options, user, TimeProvider.System));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearPool(new Microsoft.Data.Sqlite.SqliteConnection(connectionString));
            foreach (var file in new[] { path, path + "-wal", path + "-shm" })
            {
                File.Delete(file);
            }
        }
    }
}

/// <summary>The import's SQLite connection: its own larger page cache while it writes, SQLite's default once back in the pool.</summary>
public sealed class SqliteBulkWritingTests
{
    [Fact]
    public async Task A_bulk_writing_scope_keeps_one_connection_with_a_larger_cache_and_gives_it_back_with_the_default() =>
        await OwnSqliteFile.UseAsync(async (_, newContext) =>
        {
            await using var db = newContext();
            static async Task<long> CacheSize(TideflowDbContext db) => (await db.Database.SqlQueryRaw<long>("PRAGMA cache_size").ToListAsync()).Single();
            var inside = new List<long>();
            await using (await db.BulkWritingAsync(CancellationToken.None))
            {
                // Each query opens and closes the connection itself; the scope keeps it open between them.
                inside.Add(await CacheSize(db));
                inside.Add(await CacheSize(db));
                Assert.Equal(System.Data.ConnectionState.Open, db.Database.GetDbConnection().State);
            }
            Assert.Equal([-65536L, -65536L], inside);
            Assert.Equal(System.Data.ConnectionState.Closed, db.Database.GetDbConnection().State);

            // What the connection goes back to the pool with, seen on a connection held open around a scope (other
            // tests empty every pool now and then, so a pooled connection cannot be counted on to come back).
            await db.Database.OpenConnectionAsync();
            await using (await db.BulkWritingAsync(CancellationToken.None))
            {
                Assert.Equal(-65536L, await CacheSize(db));
            }
            Assert.Equal(-2000L, await CacheSize(db));
            await db.Database.CloseConnectionAsync();
        });
}

/// <summary>SQLite's log is copied into the database file by the app's own checkpointer, not by whoever commits next.</summary>
public sealed class SqliteCheckpointerTests
{
    [Fact]
    public async Task The_apps_connections_leave_the_log_to_the_checkpointer_which_copies_all_of_it() =>
        await OwnSqliteFile.UseAsync(async (connectionString, newContext) =>
        {
            // Held open throughout: when a database's last connection closes, SQLite copies the log itself.
            await using var holder = new Microsoft.Data.Sqlite.SqliteConnection(connectionString);
            await holder.OpenAsync();
            await using (var db = newContext())
            {
                await db.Database.OpenConnectionAsync();
                Assert.Equal(10_000L, (await db.Database.SqlQueryRaw<long>("PRAGMA wal_autocheckpoint").ToListAsync()).Single());
                await db.Database.ExecuteSqlRawAsync("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)");
                // About 2,000 pages of log, more than SQLite's own threshold of 1,000: the commits did not copy them.
                for (var i = 0; i < 20; i++)
                {
                    await db.Database.ExecuteSqlRawAsync("INSERT INTO t (text) SELECT printf('%.400c', 'x') FROM (WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 1000) SELECT k FROM n)");
                }
                await db.Database.CloseConnectionAsync();
            }
            var checkpointer = new SqliteCheckpointer(connectionString, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build(),
                Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteCheckpointer>.Instance);
            var (logged, copied) = await checkpointer.CheckpointAsync(CancellationToken.None);
            Assert.True(logged > 1_000, $"{logged} frames in the log");
            Assert.Equal(logged, copied);
        });
}

public sealed class PostgresConnectionTests
{
    [Fact]
    public void Statements_the_app_repeats_are_prepared_unless_the_connection_string_says_otherwise()
    {
        var prepared = new Npgsql.NpgsqlConnectionStringBuilder(Database.PreparePostgres("Host=db;Database=tideflow;Username=t;Password=p"));
        Assert.Equal((200, 2, true), (prepared.MaxAutoPrepare, prepared.AutoPrepareMinUsages, prepared.NoResetOnClose));
        Assert.Equal(("db", "tideflow", "p"), (prepared.Host, prepared.Database, prepared.Password));

        Assert.Equal(0, new Npgsql.NpgsqlConnectionStringBuilder(Database.PreparePostgres("Host=db;Max Auto Prepare=0")).MaxAutoPrepare);
        Assert.Equal(5, new Npgsql.NpgsqlConnectionStringBuilder(Database.PreparePostgres("Host=db;maxautoprepare=5")).MaxAutoPrepare);
        Assert.False(new Npgsql.NpgsqlConnectionStringBuilder(Database.PreparePostgres("Host=db;No Reset On Close=false")).NoResetOnClose);
        Assert.False(new Npgsql.NpgsqlConnectionStringBuilder(Database.PreparePostgres("Host=db;noresetonclose=False")).NoResetOnClose);
        // Each setting is kept or defaulted on its own.
        var unprepared = new Npgsql.NpgsqlConnectionStringBuilder(Database.PreparePostgres("Host=db;Max Auto Prepare=0"));
        Assert.Equal((0, true), (unprepared.MaxAutoPrepare, unprepared.NoResetOnClose));
        var kept = new Npgsql.NpgsqlConnectionStringBuilder(Database.PreparePostgres("Host=db;No Reset On Close=true"));
        Assert.Equal((200, true), (kept.MaxAutoPrepare, kept.NoResetOnClose));
    }
}

public abstract class AuditTrailTests<TApp>(TApp app) where TApp : TideflowApp
{
    [Fact]
    public async Task The_audit_log_cannot_be_changed_or_deleted_even_from_code()
    {
        var org = await app.NewOrgAsync();
        await app.As(org.RepA).PostJson("/api/customers", new { name = "append only" });
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            var entry = await db.AuditEntries.FirstAsync(a => a.OrganizationId == org.Id);
            entry.Action = "tampered";
            return await db.SaveChangesAsync();
        }));
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            db.AuditEntries.Remove(await db.AuditEntries.FirstAsync(a => a.OrganizationId == org.Id));
            return await db.SaveChangesAsync();
        }));
    }

    [Fact]
    public async Task Secrets_never_reach_the_audit_log()
    {
        var org = await app.NewOrgAsync();
        var created = await (await app.As(org.Admin).PostJson("/api/users",
            new { userName = $"audit.{Guid.NewGuid():N}", displayName = "新人", password = "Sup3r-secret-pw", role = "Rep" })).ReadAsync<UserRow>();
        var token = await (await app.As(org.RepA).PostJson("/api/tokens", new { name = "t" })).ReadAsync<CreatedApiToken>();
        var all = await app.InDbAsync(db => db.AuditEntries.Where(a => a.OrganizationId == org.Id).Select(a => a.Changes ?? "").ToListAsync());
        var text = string.Join("\n", all);
        Assert.Contains(created.Id.ToString(), await app.InDbAsync(db => db.AuditEntries.Where(a => a.EntityType == "AppUser" && a.Action == "create").Select(a => a.EntityId).ToListAsync()));
        Assert.DoesNotContain("AQAAAA", text, StringComparison.Ordinal); // Identity password hash prefix
        Assert.DoesNotContain(token.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiTokens.HashOf(token.Secret), text, StringComparison.Ordinal);
        Assert.DoesNotContain(org.AdminTotpKey, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_api_token_expires_when_its_time_is_up_on_the_clock()
    {
        app.SkipIfUnavailable();
        // Its own app instance: moving this clock must not disturb tests running beside it.
        await using var node = app.SecondNode();
        var org = await TestOrg.CreateAsync(node.Services);
        var created = await (await node.As(org.RepA).PostJson("/api/tokens", new { name = "short", expiresInDays = 1 })).ReadAsync<CreatedApiToken>();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await node.WithToken(created.Secret).GetAsync("/api/me")).StatusCode);
        node.Clock.Advance(TimeSpan.FromHours(23));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await node.WithToken(created.Secret).GetAsync("/api/me")).StatusCode);
        node.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await node.WithToken(created.Secret).GetAsync("/api/me")).StatusCode);
    }
}

public sealed class AuditTrailTests_Sqlite(SqliteApp app) : AuditTrailTests<SqliteApp>(app);
public sealed class AuditTrailTests_Postgres(PostgresApp app) : AuditTrailTests<PostgresApp>(app);

public sealed class AuditChangesTests
{
    [Fact]
    public void Stored_changes_read_as_field_before_and_after()
    {
        var lines = Tideflow.Web.Features.Access.AuditChanges.Describe(
            """{"Name":["孙丽","孙丽华"],"Email":[null,"a@b.cn"],"Region":["上海",null],"Count":[1,2]}""").ToList();
        Assert.Equal(["Name: 孙丽 → 孙丽华", "Email: a@b.cn", "Region: 上海 → ∅", "Count: 1 → 2"], lines);
        Assert.Equal(["reason: bad-credentials"], Tideflow.Web.Features.Access.AuditChanges.Describe("""{"reason":"bad-credentials"}"""));
        Assert.Empty(Tideflow.Web.Features.Access.AuditChanges.Describe(null));
    }
}

public sealed class SqliteBusyTimeoutTests
{
    /// <summary>SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between tries.</summary>
    [Theory]
    [InlineData(0, 1)]
    [InlineData(2.9, 2)]
    [InlineData(3, 5)]
    [InlineData(16, 10)]
    [InlineData(18, 15)]
    [InlineData(40, 20)]
    [InlineData(53, 25)]
    [InlineData(127.9, 25)]
    [InlineData(128, 50)]
    [InlineData(227, 50)]
    [InlineData(228, 100)]
    [InlineData(5000, 100)]
    public void A_writer_that_has_waited_this_long_sleeps_this_long_before_its_next_try(double waitedMs, double sleepMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(sleepMs), Tideflow.Web.Data.SqliteBusyTimeout.SleepAfter(TimeSpan.FromMilliseconds(waitedMs)));
}
