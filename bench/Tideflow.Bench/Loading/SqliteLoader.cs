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
                INSERT INTO "Channels" ("Id", "OrganizationId", "Name", "Kind", "SourceTag", "Key", "IsActive", "CreatedAt")
                VALUES (@p1, @p2, @p3, @p4, @p5, @p6, 1, @p7)
                """);
            Set(channels, Id(channel.Id), Id(channel.OrganizationId), channel.Name, channel.Kind, channel.SourceTag, channel.Key,
                Ticks(channel.CreatedAt));
            tx.Commit();
        }

        var insert = Command(connection, null,
            """
            INSERT INTO "Customers" ("Id", "OrganizationId", "Name", "Company", "Mobile", "Email", "Region", "Industry",
                "OwnerId", "CreatedById", "CreatedAt", "UpdatedAt", "CompanyKey")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13)
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
                    Id(c.OwnerId), Id(c.CreatedById), Ticks(c.CreatedAt), Ticks(c.UpdatedAt), CompanyKey(c.Company));
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
        var insertTime = loading.Elapsed;
        // Planner statistics, as a long-running database would have; then a clean WAL for the app.
        Exec(connection, "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);");
        return new LoadResult(org, customers, insertTime, total.Elapsed, leads);
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
}

public sealed record LoadResult(Organisation Organisation, long Customers, TimeSpan InsertTime, TimeSpan TotalTime, long Leads = 0);

internal static class SystemUser
{
    public static Tideflow.Web.Features.Access.CurrentUser Create()
    {
        var user = new Tideflow.Web.Features.Access.CurrentUser();
        user.Set(Tideflow.Web.Features.Access.DataScope.System);
        return user;
    }
}
