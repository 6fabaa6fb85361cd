using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Tideflow.Bench.Generation;
using Tideflow.Web.Data;

namespace Tideflow.Bench.Loading;

/// <summary>
/// Fastest correct path into SQLite: the app's migrations create the schema, then prepared INSERTs in large
/// transactions with synchronous=OFF. Storage matches what EF Core writes: Guids as uppercase TEXT,
/// DateTimeOffset as INTEGER UTC ticks (the app's converter), booleans as 0/1.
/// </summary>
public static class SqliteLoader
{
    private const int Batch = 50_000;

    public static string ConnectionString(string path) => new SqliteConnectionStringBuilder { DataSource = path }.ToString();

    public static LoadResult Load(string path, Generator generator, TextWriter log)
    {
        var total = Stopwatch.StartNew();
        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connectionString = ConnectionString(path);
        var options = new DbContextOptionsBuilder<SqliteTideflowDbContext>().UseSqlite(connectionString).Options;
        using (var db = new SqliteTideflowDbContext(options, SystemUser.Create(), TimeProvider.System))
        {
            db.Database.Migrate();
        }

        var loading = Stopwatch.StartNew();
        var org = generator.Organisation();
        var channel = generator.Channel(org);
        long customers = 0;
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        Exec(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;");

        using (var tx = connection.BeginTransaction())
        {
            using var cmd = Command(connection, tx,
                """INSERT INTO "Organizations" ("Id", "Name", "CreatedAt") VALUES (@p1, @p2, @p3)""");
            Set(cmd, Id(org.Organization.Id), org.Organization.Name, Ticks(org.Organization.CreatedAt));

            using var teams = Command(connection, tx,
                """INSERT INTO "Teams" ("Id", "OrganizationId", "Name", "ParentTeamId") VALUES (@p1, @p2, @p3, @p4)""");
            foreach (var t in org.Teams)
            {
                Set(teams, Id(t.Id), Id(t.OrganizationId), t.Name, Id(t.ParentTeamId));
            }

            using var users = Command(connection, tx,
                """
                INSERT INTO "AspNetUsers" ("Id", "OrganizationId", "DisplayName", "Role", "TeamId", "ManagerId", "IsActive",
                    "Culture", "TimeZone", "CreatedAt", "UserName", "NormalizedUserName", "Email", "NormalizedEmail",
                    "EmailConfirmed", "SecurityStamp", "ConcurrencyStamp", "PhoneNumberConfirmed", "TwoFactorEnabled",
                    "LockoutEnabled", "AccessFailedCount")
                VALUES (@p1, @p2, @p3, @p4, @p5, @p6, 1, 'zh-CN', 'Asia/Shanghai', @p7, @p8, @p9, @p10, @p11, 0, @p12, @p13, 0, 0, 1, 0)
                """);
            foreach (var u in org.Users)
            {
                Set(users, Id(u.Id), Id(u.OrganizationId), u.DisplayName, u.Role, Id(u.TeamId), Id(u.ManagerId),
                    Ticks(u.CreatedAt), u.UserName, u.UserName.ToUpperInvariant(), u.Email, u.Email.ToUpperInvariant(),
                    u.SecurityStamp, u.ConcurrencyStamp);
            }

            using var tokens = Command(connection, tx,
                """
                INSERT INTO "ApiTokens" ("Id", "OrganizationId", "UserId", "Name", "Prefix", "Hash", "CreatedAt")
                VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7)
                """);
            foreach (var t in org.Tokens)
            {
                Set(tokens, Id(t.Id), Id(t.OrganizationId), Id(t.UserId), t.Name, t.Prefix, t.Hash, Ticks(t.CreatedAt));
            }

            using var channels = Command(connection, tx,
                """
                INSERT INTO "Channels" ("Id", "OrganizationId", "Name", "Kind", "SourceTag", "Key", "IsActive", "CreatedAt", "CapTimeZone")
                VALUES (@p1, @p2, @p3, @p4, @p5, @p6, 1, @p7, @p8)
                """);
            Set(channels, Id(channel.Id), Id(channel.OrganizationId), channel.Name, channel.Kind, channel.SourceTag, channel.Key,
                Ticks(channel.CreatedAt), Tideflow.Web.Features.Leads.Channel.DefaultCapTimeZone);

            using var pools = Command(connection, tx,
                """
                INSERT INTO "Pools" ("Id", "OrganizationId", "Name", "IsDefault", "Settings", "CreatedAt", "UpdatedAt")
                VALUES (@p1, @p2, @p3, 1, @p4, @p5, @p6)
                """);
            var pool = generator.DefaultPool(org);
            Set(pools, Id(pool.Id), Id(pool.OrganizationId), pool.Name, PostgresLoader.DefaultPoolSettings, Ticks(pool.CreatedAt), Ticks(pool.CreatedAt));
            tx.Commit();
        }

        var insert = Command(connection, null,
            """
            INSERT INTO "Customers" ("Id", "OrganizationId", "Name", "Company", "Mobile", "Email", "Region", "Industry",
                "OwnerId", "CreatedById", "CreatedAt", "UpdatedAt", "CompanyKey", "Stage", "StageChangedAt", "Grade", "Score",
                "AssignedAt", "LastFollowUpAt", "NextContactAt", "PoolId", "PooledAt", "PoolReason")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14, @p15, @p16, @p17, @p18, @p19, @p20, @p21, @p22, @p23)
            """);
        try
        {
            SqliteTransaction? batch = null;
            foreach (var c in generator.Customers(org))
            {
                if (batch is null)
                {
                    batch = connection.BeginTransaction();
                    insert.Transaction = batch;
                }
                Set(insert, Id(c.Id), Id(c.OrganizationId), c.Name, c.Company, c.Mobile, c.Email, c.Region, c.Industry,
                    Id(c.OwnerId), Id(c.CreatedById), Ticks(c.CreatedAt), Ticks(c.UpdatedAt), CompanyKey(c.Company), c.Stage,
                    Ticks(c.StageChangedAt), c.Grade, c.Score, Ticks(c.AssignedAt), Ticks(c.LastFollowUpAt), Ticks(c.NextContactAt),
                    Id(c.PoolId), Ticks(c.PooledAt), c.PoolReason);
                if (++customers % Batch == 0)
                {
                    batch.Commit();
                    batch.Dispose();
                    batch = null;
                    if (customers % 200_000 == 0)
                    {
                        log.WriteLine($"  {customers:N0} customers, {total.Elapsed.TotalSeconds:F0} s");
                    }
                }
            }
            batch?.Commit();
            batch?.Dispose();
        }
        finally
        {
            insert.Dispose();
        }
        var leads = LoadLeads(connection, generator.Leads(org, channel));
        log.WriteLine($"  {customers:N0} customers and {leads:N0} leads, {total.Elapsed.TotalSeconds:F0} s");
        var pursuits = LoadPursuits(connection, generator.Histories(org), log, total);
        var insertTime = loading.Elapsed;
        // Planner statistics, as a long-running database would have; then a clean WAL for the app.
        Exec(connection, "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");
        log.WriteLine($"  ANALYZE done, {total.Elapsed.TotalSeconds:F0} s");
        return new LoadResult(org, customers, insertTime, total.Elapsed, leads, pursuits);
    }

    /// <summary>
    /// Follow-ups, stage moves and open tasks, customer by customer, in transactions of about 50,000 rows. The three
    /// tables' secondary indexes are dropped first and created again afterwards from their own SQL (a sort instead of
    /// 10 M random index inserts); the primary keys stay.
    /// </summary>
    private static PursuitCounts LoadPursuits(SqliteConnection connection, IEnumerable<CustomerHistory> histories, TextWriter log, Stopwatch total)
    {
        var indexes = new List<(string Name, string Sql)>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = """
                SELECT name, sql FROM sqlite_master
                WHERE type = 'index' AND tbl_name IN ('FollowUpRecords', 'StageMoves', 'FollowUpTasks') AND sql IS NOT NULL
                """;
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                indexes.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        foreach (var (name, _) in indexes)
        {
            // A name from the catalogue, quoted as an identifier.
            Exec(connection, "DROP INDEX \"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"");
        }

        using var record = Command(connection, null,
            """
            INSERT INTO "FollowUpRecords" ("Id", "OrganizationId", "CustomerId", "AuthorId", "Channel", "Content", "Goal", "GoalReached",
                "NextPlan", "NextContactAt", "At")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11)
            """);
        using var move = Command(connection, null,
            """
            INSERT INTO "StageMoves" ("Id", "OrganizationId", "CustomerId", "Sequence", "From", "To", "ById", "At", "LostReason", "Details")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10)
            """);
        using var task = Command(connection, null,
            """
            INSERT INTO "FollowUpTasks" ("Id", "OrganizationId", "OwnerId", "CustomerId", "Kind", "Title", "DueAt", "CreatedAt",
                "RemindedAt", "EscalatedAt")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10)
            """);
        using var change = Command(connection, null,
            """
            INSERT INTO "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "Rule", "ById", "At", "Event", "PoolId")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10)
            """);
        long records = 0, moves = 0, tasks = 0, changes = 0, inBatch = 0;
        SqliteTransaction? batch = null;
        foreach (var h in histories)
        {
            if (batch is null)
            {
                batch = connection.BeginTransaction();
                (record.Transaction, move.Transaction, task.Transaction, change.Transaction) = (batch, batch, batch, batch);
            }
            foreach (var f in h.Records)
            {
                Set(record, Id(f.Id), Id(f.OrganizationId), Id(f.CustomerId), Id(f.AuthorId), f.Channel, f.Content, f.Goal, f.GoalReached ? 1 : 0,
                    f.NextPlan, Ticks(f.NextContactAt), Ticks(f.At));
                if (++records % 2_000_000 == 0)
                {
                    log.WriteLine($"  {records:N0} follow-ups, {total.Elapsed.TotalSeconds:F0} s");
                }
            }
            foreach (var m in h.Moves)
            {
                Set(move, Id(m.Id), Id(m.OrganizationId), Id(m.CustomerId), m.Sequence, m.From, m.To, Id(m.ById), Ticks(m.At), m.LostReason, m.Details);
            }
            foreach (var t in h.Tasks)
            {
                Set(task, Id(t.Id), Id(t.OrganizationId), Id(t.OwnerId), Id(t.CustomerId), t.Kind, t.Title, Ticks(t.DueAt), Ticks(t.CreatedAt),
                    Ticks(t.RemindedAt), Ticks(t.EscalatedAt));
            }
            foreach (var o in h.Ownership)
            {
                Set(change, Id(o.OrganizationId), Id(o.CustomerId), Id(o.FromId), Id(o.ToId), o.Reason, o.Rule, Id(o.ById), Ticks(o.At), o.Event,
                    Id(o.PoolId));
            }
            moves += h.Moves.Count;
            tasks += h.Tasks.Count;
            changes += h.Ownership.Count;
            inBatch += h.Records.Count + h.Moves.Count + h.Tasks.Count + h.Ownership.Count;
            if (inBatch >= Batch)
            {
                batch.Commit();
                batch.Dispose();
                (batch, inBatch) = (null, 0);
            }
        }
        batch?.Commit();
        batch?.Dispose();
        log.WriteLine($"  {records:N0} follow-ups, {moves:N0} stage moves, {tasks:N0} open tasks, {changes:N0} pool history rows inserted, " +
                      $"{total.Elapsed.TotalSeconds:F0} s");
        var building = Stopwatch.StartNew();
        foreach (var (_, sql) in indexes)
        {
            Exec(connection, sql);
        }
        log.WriteLine($"  {indexes.Count} indexes created again in {building.Elapsed.TotalSeconds:F1} s, {total.Elapsed.TotalSeconds:F0} s");
        return new PursuitCounts(records, moves, tasks, changes);
    }

    // The BANT and behaviour columns are named although they only hold their zero: SQLite rebuilt "Leads" for the
    // LeadPools migration, and EF's rebuild keeps NOT NULL but not the defaults the columns were added with.
    private static long LoadLeads(SqliteConnection connection, IEnumerable<LeadRow> rows)
    {
        using var lead = Command(connection, null,
            """
            INSERT INTO "Leads" ("Id", "OrganizationId", "Name", "Company", "Mobile", "Email", "ChannelId", "SourceTag", "Status",
                "ArrivedAt", "UpdatedAt", "CompanyKey", "BantBudget", "BantAuthority", "BantNeed", "BantTimeline", "BehaviourCount", "BehaviourPoints")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, 'New', @p9, @p10, @p11, FALSE, FALSE, FALSE, FALSE, 0, 0)
            """);
        using var key = Command(connection, null,
            """INSERT INTO "ContactKeys" ("OrganizationId", "Key", "LeadId") VALUES (@p1, @p2, @p3)""");
        long count = 0;
        SqliteTransaction? batch = null;
        foreach (var l in rows)
        {
            if (batch is null)
            {
                batch = connection.BeginTransaction();
                lead.Transaction = batch;
                key.Transaction = batch;
            }
            Set(lead, Id(l.Id), Id(l.OrganizationId), l.Name, l.Company, l.Mobile, l.Email, Id(l.ChannelId), l.SourceTag,
                Ticks(l.ArrivedAt), Ticks(l.ArrivedAt), CompanyKey(l.Company));
            foreach (var k in l.Keys)
            {
                Set(key, Id(l.OrganizationId), k, Id(l.Id));
            }
            if (++count % Batch == 0)
            {
                batch.Commit();
                batch.Dispose();
                batch = null;
            }
        }
        batch?.Commit();
        batch?.Dispose();
        return count;
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        var count = sql.Count(ch => ch == '@');
        for (var i = 1; i <= count; i++)
        {
            cmd.Parameters.Add(new SqliteParameter("@p" + i, null));
        }
        cmd.Prepare();
        return cmd;
    }

    private static void Set(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        cmd.ExecuteNonQuery();
    }

    // As the app stores it for sticky ownership (R3.3): the company's matching key, never longer than its column.
    private static string? CompanyKey(string company) =>
        Tideflow.Domain.Leads.ContactRules.CompanyKey(company) is { } key ? key.Length <= 200 ? key : key[..200] : null;

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>EF Core's SQLite provider writes Guids as uppercase text (verified on a database the app wrote).</summary>
    public static string? Id(Guid? id) => id?.ToString().ToUpperInvariant();

    public static long Ticks(DateTimeOffset at) => at.UtcTicks;

    private static long? Ticks(DateTimeOffset? at) => at?.UtcTicks;
}

/// <summary>Rows of the customers' pursuits a load wrote: follow-up records, stage moves, open tasks, pool history.</summary>
public sealed record PursuitCounts(long FollowUps, long StageMoves, long OpenTasks, long PoolHistory);

public sealed record LoadResult(Organisation Organisation, long Customers, TimeSpan InsertTime, TimeSpan TotalTime, long Leads = 0,
    PursuitCounts? Pursuits = null);

internal static class SystemUser
{
    public static Tideflow.Web.Features.Access.CurrentUser Create()
    {
        var user = new Tideflow.Web.Features.Access.CurrentUser();
        user.Set(Tideflow.Web.Features.Access.DataScope.System);
        return user;
    }
}
