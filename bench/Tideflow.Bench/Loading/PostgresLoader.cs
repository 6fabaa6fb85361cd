using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Tideflow.Bench.Generation;
using Tideflow.Web.Data;

namespace Tideflow.Bench.Loading;

/// <summary>
/// Fastest correct path into PostgreSQL: a fresh database, the app's migrations, then Npgsql binary COPY per table
/// (uuid, timestamptz at offset 0, boolean — the types the migrations declare).
/// </summary>
public static partial class PostgresLoader
{
    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex SafeName();

    /// <summary>The connection string of <paramref name="database"/> on the server of <paramref name="server"/>.</summary>
    public static string ConnectionString(string server, string database) =>
        new NpgsqlConnectionStringBuilder(server) { Database = database }.ToString();

    public static LoadResult Load(string server, string database, Generator generator, TextWriter log)
    {
        if (!SafeName().IsMatch(database))
        {
            throw new ArgumentException($"Database name '{database}' must be lowercase letters, digits and underscores.");
        }
        var total = Stopwatch.StartNew();
        using (var admin = new NpgsqlConnection(server))
        {
            admin.Open();
            // Identifiers cannot be parameters; the name was checked against SafeName above.
            Exec(admin, "DROP DATABASE IF EXISTS \"" + database + "\" WITH (FORCE)");
            Exec(admin, "CREATE DATABASE \"" + database + "\"");
        }
        var connectionString = ConnectionString(server, database);
        var options = new DbContextOptionsBuilder<PostgresTideflowDbContext>().UseNpgsql(connectionString).Options;
        using (var db = new PostgresTideflowDbContext(options, SystemUser.Create(), TimeProvider.System))
        {
            db.Database.Migrate();
        }

        var loading = Stopwatch.StartNew();
        var org = generator.Organisation();
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();

        using (var w = connection.BeginBinaryImport("""COPY "Organizations" ("Id", "Name", "CreatedAt") FROM STDIN (FORMAT BINARY)"""))
        {
            w.StartRow();
            w.Write(org.Organization.Id, NpgsqlDbType.Uuid);
            w.Write(org.Organization.Name, NpgsqlDbType.Varchar);
            w.Write(org.Organization.CreatedAt, NpgsqlDbType.TimestampTz);
            w.Complete();
        }
        using (var w = connection.BeginBinaryImport("""COPY "Teams" ("Id", "OrganizationId", "Name", "ParentTeamId") FROM STDIN (FORMAT BINARY)"""))
        {
            foreach (var t in org.Teams)
            {
                w.StartRow();
                w.Write(t.Id, NpgsqlDbType.Uuid);
                w.Write(t.OrganizationId, NpgsqlDbType.Uuid);
                w.Write(t.Name, NpgsqlDbType.Varchar);
                Uuid(w, t.ParentTeamId);
            }
            w.Complete();
        }
        using (var w = connection.BeginBinaryImport(
                   """
                   COPY "AspNetUsers" ("Id", "OrganizationId", "DisplayName", "Role", "TeamId", "ManagerId", "IsActive",
                       "Culture", "TimeZone", "CreatedAt", "UserName", "NormalizedUserName", "Email", "NormalizedEmail",
                       "EmailConfirmed", "SecurityStamp", "ConcurrencyStamp", "PhoneNumberConfirmed", "TwoFactorEnabled",
                       "LockoutEnabled", "AccessFailedCount") FROM STDIN (FORMAT BINARY)
                   """))
        {
            // Managers come before their reps in the list, so the self-reference is satisfied row by row too.
            foreach (var u in org.Users)
            {
                w.StartRow();
                w.Write(u.Id, NpgsqlDbType.Uuid);
                w.Write(u.OrganizationId, NpgsqlDbType.Uuid);
                w.Write(u.DisplayName, NpgsqlDbType.Varchar);
                w.Write(u.Role, NpgsqlDbType.Varchar);
                Uuid(w, u.TeamId);
                Uuid(w, u.ManagerId);
                w.Write(true, NpgsqlDbType.Boolean);
                w.Write("zh-CN", NpgsqlDbType.Varchar);
                w.Write("Asia/Shanghai", NpgsqlDbType.Varchar);
                w.Write(u.CreatedAt, NpgsqlDbType.TimestampTz);
                w.Write(u.UserName, NpgsqlDbType.Varchar);
                w.Write(u.UserName.ToUpperInvariant(), NpgsqlDbType.Varchar);
                w.Write(u.Email, NpgsqlDbType.Varchar);
                w.Write(u.Email.ToUpperInvariant(), NpgsqlDbType.Varchar);
                w.Write(false, NpgsqlDbType.Boolean);
                w.Write(u.SecurityStamp, NpgsqlDbType.Varchar);
                w.Write(u.ConcurrencyStamp, NpgsqlDbType.Varchar);
                w.Write(false, NpgsqlDbType.Boolean);
                w.Write(false, NpgsqlDbType.Boolean);
                w.Write(true, NpgsqlDbType.Boolean);
                w.Write(0, NpgsqlDbType.Integer);
            }
            w.Complete();
        }
        using (var w = connection.BeginBinaryImport(
                   """COPY "ApiTokens" ("Id", "OrganizationId", "UserId", "Name", "Prefix", "Hash", "CreatedAt") FROM STDIN (FORMAT BINARY)"""))
        {
            foreach (var t in org.Tokens)
            {
                w.StartRow();
                w.Write(t.Id, NpgsqlDbType.Uuid);
                w.Write(t.OrganizationId, NpgsqlDbType.Uuid);
                w.Write(t.UserId, NpgsqlDbType.Uuid);
                w.Write(t.Name, NpgsqlDbType.Varchar);
                w.Write(t.Prefix, NpgsqlDbType.Varchar);
                w.Write(t.Hash, NpgsqlDbType.Varchar);
                w.Write(t.CreatedAt, NpgsqlDbType.TimestampTz);
            }
            w.Complete();
        }

        var channel = generator.Channel(org);
        using (var w = connection.BeginBinaryImport(
                   """COPY "Channels" ("Id", "OrganizationId", "Name", "Kind", "SourceTag", "Key", "IsActive", "CreatedAt", "CapTimeZone") FROM STDIN (FORMAT BINARY)"""))
        {
            w.StartRow();
            w.Write(channel.Id, NpgsqlDbType.Uuid);
            w.Write(channel.OrganizationId, NpgsqlDbType.Uuid);
            w.Write(channel.Name, NpgsqlDbType.Varchar);
            w.Write(channel.Kind, NpgsqlDbType.Varchar);
            w.Write(channel.SourceTag, NpgsqlDbType.Varchar);
            w.Write(channel.Key, NpgsqlDbType.Varchar);
            w.Write(true, NpgsqlDbType.Boolean);
            w.Write(channel.CreatedAt, NpgsqlDbType.TimestampTz);
            w.Write(Tideflow.Web.Features.Leads.Channel.DefaultCapTimeZone, NpgsqlDbType.Varchar);
            w.Complete();
        }

        var pool = generator.DefaultPool(org);
        using (var w = connection.BeginBinaryImport(
                   """COPY "Pools" ("Id", "OrganizationId", "Name", "IsDefault", "Settings", "CreatedAt", "UpdatedAt") FROM STDIN (FORMAT BINARY)"""))
        {
            w.StartRow();
            w.Write(pool.Id, NpgsqlDbType.Uuid);
            w.Write(pool.OrganizationId, NpgsqlDbType.Uuid);
            w.Write(pool.Name, NpgsqlDbType.Varchar);
            w.Write(true, NpgsqlDbType.Boolean);
            w.Write(DefaultPoolSettings, NpgsqlDbType.Varchar);
            w.Write(pool.CreatedAt, NpgsqlDbType.TimestampTz);
            w.Write(pool.CreatedAt, NpgsqlDbType.TimestampTz);
            w.Complete();
        }

        long customers = 0;
        using (var w = connection.BeginBinaryImport(
                   """
                   COPY "Customers" ("Id", "OrganizationId", "Name", "Company", "Mobile", "Email", "Region", "Industry",
                       "OwnerId", "CreatedById", "CreatedAt", "UpdatedAt", "CompanyKey", "Stage", "StageChangedAt", "Grade", "Score",
                       "AssignedAt", "LastFollowUpAt", "NextContactAt", "PoolId", "PooledAt", "PoolReason") FROM STDIN (FORMAT BINARY)
                   """))
        {
            foreach (var c in generator.Customers(org))
            {
                w.StartRow();
                w.Write(c.Id, NpgsqlDbType.Uuid);
                w.Write(c.OrganizationId, NpgsqlDbType.Uuid);
                w.Write(c.Name, NpgsqlDbType.Varchar);
                w.Write(c.Company, NpgsqlDbType.Varchar);
                w.Write(c.Mobile, NpgsqlDbType.Varchar);
                Text(w, c.Email);
                w.Write(c.Region, NpgsqlDbType.Varchar);
                w.Write(c.Industry, NpgsqlDbType.Varchar);
                Uuid(w, c.OwnerId);
                Uuid(w, c.CreatedById);
                w.Write(c.CreatedAt, NpgsqlDbType.TimestampTz);
                w.Write(c.UpdatedAt, NpgsqlDbType.TimestampTz);
                Text(w, CompanyKey(c.Company));
                w.Write(c.Stage, NpgsqlDbType.Varchar);
                Instant(w, c.StageChangedAt);
                Text(w, c.Grade);
                if (c.Score is { } score)
                {
                    w.Write(score, NpgsqlDbType.Integer);
                }
                else
                {
                    w.WriteNull();
                }
                Instant(w, c.AssignedAt);
                Instant(w, c.LastFollowUpAt);
                Instant(w, c.NextContactAt);
                Uuid(w, c.PoolId);
                Instant(w, c.PooledAt);
                Text(w, c.PoolReason);
                if (++customers % 200_000 == 0)
                {
                    log.WriteLine($"  {customers:N0} customers, {total.Elapsed.TotalSeconds:F0} s");
                }
            }
            w.Complete();
        }
        long leads = 0;
        var keys = new List<(Guid Org, string Key, Guid Lead)>();
        using (var w = connection.BeginBinaryImport(
                   """
                   COPY "Leads" ("Id", "OrganizationId", "Name", "Company", "Mobile", "Email", "ChannelId", "SourceTag", "Status",
                       "ArrivedAt", "UpdatedAt", "CompanyKey") FROM STDIN (FORMAT BINARY)
                   """))
        {
            foreach (var l in generator.Leads(org, channel))
            {
                w.StartRow();
                w.Write(l.Id, NpgsqlDbType.Uuid);
                w.Write(l.OrganizationId, NpgsqlDbType.Uuid);
                w.Write(l.Name, NpgsqlDbType.Varchar);
                w.Write(l.Company, NpgsqlDbType.Varchar);
                w.Write(l.Mobile, NpgsqlDbType.Varchar);
                Text(w, l.Email);
                w.Write(l.ChannelId, NpgsqlDbType.Uuid);
                w.Write(l.SourceTag, NpgsqlDbType.Varchar);
                w.Write("New", NpgsqlDbType.Varchar);
                w.Write(l.ArrivedAt, NpgsqlDbType.TimestampTz);
                w.Write(l.ArrivedAt, NpgsqlDbType.TimestampTz);
                Text(w, CompanyKey(l.Company));
                foreach (var k in l.Keys)
                {
                    keys.Add((l.OrganizationId, k, l.Id));
                }
                leads++;
            }
            w.Complete();
        }
        using (var w = connection.BeginBinaryImport("""COPY "ContactKeys" ("OrganizationId", "Key", "LeadId") FROM STDIN (FORMAT BINARY)"""))
        {
            foreach (var (o, k, l) in keys)
            {
                w.StartRow();
                w.Write(o, NpgsqlDbType.Uuid);
                w.Write(k, NpgsqlDbType.Varchar);
                w.Write(l, NpgsqlDbType.Uuid);
            }
            w.Complete();
        }
        log.WriteLine($"  {customers:N0} customers and {leads:N0} leads, {total.Elapsed.TotalSeconds:F0} s");
        var pursuits = LoadPursuits(connection, connectionString, generator, org, log, total);
        var insertTime = loading.Elapsed;
        // What autovacuum would do shortly after a bulk load anyway.
        Exec(connection, "VACUUM ANALYZE");
        log.WriteLine($"  VACUUM ANALYZE done, {total.Elapsed.TotalSeconds:F0} s");
        return new LoadResult(org, customers, insertTime, total.Elapsed, leads, pursuits);
    }

    /// <summary>
    /// Follow-ups, stage moves and open tasks: one pass over the generated histories feeding three binary COPYs at once,
    /// each on its own connection (the customers they point at are committed). As pg_restore does, the three tables'
    /// keys, indexes and foreign keys are dropped first and made again afterwards from their own definitions: building an
    /// index by sorting and checking a foreign key with one join are far faster than 10 M row-by-row index inserts and
    /// trigger checks, and every constraint is still validated when it is added back.
    /// </summary>
    private static PursuitCounts LoadPursuits(NpgsqlConnection connection, string connectionString, Generator generator, Organisation org,
        TextWriter log, Stopwatch total)
    {
        const string Tables = """ '"FollowUpRecords"'::regclass, '"StageMoves"'::regclass, '"FollowUpTasks"'::regclass """;
        var constraints = Strings(connection, $"""
            SELECT conrelid::regclass::text, conname, contype::text, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE (conrelid IN ({Tables}) AND contype IN ('p', 'f')) OR (confrelid IN ({Tables}) AND contype = 'f') ORDER BY contype = 'f' DESC
            """);
        var indexes = Strings(connection, $"""
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid IN ({Tables}) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            """);
        // Foreign keys first, then keys; then the plain indexes. Names come from the catalogue.
        // Other tables' foreign keys into these three (attachments on a follow-up) go too: a key cannot be dropped under them.
        foreach (var c in constraints)
        {
            Exec(connection, $"ALTER TABLE {c[0]} DROP CONSTRAINT \"{c[1].Replace("\"", "\"\"", StringComparison.Ordinal)}\"");
        }
        foreach (var i in indexes)
        {
            Exec(connection, $"DROP INDEX {i[0]}");
        }

        long records = 0, moves = 0, tasks = 0;
        // A tenth as many as the tasks: kept and copied after the pass, into a table whose indexes stay.
        var ownership = new List<OwnershipChangeRow>();
        using (var rc = Open(connectionString))
        using (var mc = Open(connectionString))
        using (var tc = Open(connectionString))
        using (var rw = rc.BeginBinaryImport(
                   """
                   COPY "FollowUpRecords" ("Id", "OrganizationId", "CustomerId", "AuthorId", "Channel", "Content", "Goal", "GoalReached",
                       "NextPlan", "NextContactAt", "At") FROM STDIN (FORMAT BINARY)
                   """))
        using (var mw = mc.BeginBinaryImport(
                   """
                   COPY "StageMoves" ("Id", "OrganizationId", "CustomerId", "Sequence", "From", "To", "ById", "At", "LostReason", "Details")
                   FROM STDIN (FORMAT BINARY)
                   """))
        using (var tw = tc.BeginBinaryImport(
                   """
                   COPY "FollowUpTasks" ("Id", "OrganizationId", "OwnerId", "CustomerId", "Kind", "Title", "DueAt", "CreatedAt",
                       "RemindedAt", "EscalatedAt") FROM STDIN (FORMAT BINARY)
                   """))
        {
            // Completing a COPY of millions of rows can take longer than the default 30 s command timeout.
            (rw.Timeout, mw.Timeout, tw.Timeout) = (Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            foreach (var h in generator.Histories(org))
            {
                foreach (var f in h.Records)
                {
                    rw.StartRow();
                    rw.Write(f.Id, NpgsqlDbType.Uuid);
                    rw.Write(f.OrganizationId, NpgsqlDbType.Uuid);
                    rw.Write(f.CustomerId, NpgsqlDbType.Uuid);
                    rw.Write(f.AuthorId, NpgsqlDbType.Uuid);
                    rw.Write(f.Channel, NpgsqlDbType.Varchar);
                    rw.Write(f.Content, NpgsqlDbType.Varchar);
                    Text(rw, f.Goal);
                    rw.Write(f.GoalReached, NpgsqlDbType.Boolean);
                    Text(rw, f.NextPlan);
                    Instant(rw, f.NextContactAt);
                    rw.Write(f.At, NpgsqlDbType.TimestampTz);
                    if (++records % 2_000_000 == 0)
                    {
                        log.WriteLine($"  {records:N0} follow-ups, {total.Elapsed.TotalSeconds:F0} s");
                    }
                }
                foreach (var m in h.Moves)
                {
                    mw.StartRow();
                    mw.Write(m.Id, NpgsqlDbType.Uuid);
                    mw.Write(m.OrganizationId, NpgsqlDbType.Uuid);
                    mw.Write(m.CustomerId, NpgsqlDbType.Uuid);
                    mw.Write(m.Sequence, NpgsqlDbType.Integer);
                    mw.Write(m.From, NpgsqlDbType.Varchar);
                    mw.Write(m.To, NpgsqlDbType.Varchar);
                    mw.Write(m.ById, NpgsqlDbType.Uuid);
                    mw.Write(m.At, NpgsqlDbType.TimestampTz);
                    Text(mw, m.LostReason);
                    Text(mw, m.Details);
                    moves++;
                }
                foreach (var t in h.Tasks)
                {
                    tw.StartRow();
                    tw.Write(t.Id, NpgsqlDbType.Uuid);
                    tw.Write(t.OrganizationId, NpgsqlDbType.Uuid);
                    tw.Write(t.OwnerId, NpgsqlDbType.Uuid);
                    tw.Write(t.CustomerId, NpgsqlDbType.Uuid);
                    tw.Write(t.Kind, NpgsqlDbType.Varchar);
                    Text(tw, t.Title);
                    tw.Write(t.DueAt, NpgsqlDbType.TimestampTz);
                    tw.Write(t.CreatedAt, NpgsqlDbType.TimestampTz);
                    Instant(tw, t.RemindedAt);
                    Instant(tw, t.EscalatedAt);
                    tasks++;
                }
                ownership.AddRange(h.Ownership);
            }
            rw.Complete();
            mw.Complete();
            tw.Complete();
        }
        using (var ow = connection.BeginBinaryImport(
                   """
                   COPY "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "Rule", "ById", "At", "Event", "PoolId")
                   FROM STDIN (FORMAT BINARY)
                   """))
        {
            ow.Timeout = Timeout.InfiniteTimeSpan;
            foreach (var o in ownership)
            {
                ow.StartRow();
                ow.Write(o.OrganizationId, NpgsqlDbType.Uuid);
                ow.Write(o.CustomerId, NpgsqlDbType.Uuid);
                Uuid(ow, o.FromId);
                Uuid(ow, o.ToId);
                ow.Write(o.Reason, NpgsqlDbType.Varchar);
                Text(ow, o.Rule);
                Uuid(ow, o.ById);
                ow.Write(o.At, NpgsqlDbType.TimestampTz);
                ow.Write(o.Event, NpgsqlDbType.Varchar);
                ow.Write(o.PoolId, NpgsqlDbType.Uuid);
            }
            ow.Complete();
        }
        log.WriteLine($"  {records:N0} follow-ups, {moves:N0} stage moves, {tasks:N0} open tasks, {ownership.Count:N0} pool history rows copied, " +
                      $"{total.Elapsed.TotalSeconds:F0} s");
        var building = Stopwatch.StartNew();
        Exec(connection, "SET maintenance_work_mem = '512MB'");
        // Keys, then indexes, then foreign keys (each checked against its customers and users in one join).
        foreach (var c in constraints.Where(c => c[2] == "p"))
        {
            Exec(connection, $"ALTER TABLE {c[0]} ADD CONSTRAINT \"{c[1].Replace("\"", "\"\"", StringComparison.Ordinal)}\" {c[3]}");
        }
        foreach (var i in indexes)
        {
            Exec(connection, i[1]);
        }
        foreach (var c in constraints.Where(c => c[2] == "f"))
        {
            Exec(connection, $"ALTER TABLE {c[0]} ADD CONSTRAINT \"{c[1].Replace("\"", "\"\"", StringComparison.Ordinal)}\" {c[3]}");
        }
        log.WriteLine($"  {constraints.Count} keys and foreign keys and {indexes.Count} indexes made again in {building.Elapsed.TotalSeconds:F1} s, " +
                      $"{total.Elapsed.TotalSeconds:F0} s");
        return new PursuitCounts(records, moves, tasks, ownership.Count);
    }

    private static List<string[]> Strings(NpgsqlConnection connection, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection);
        using var reader = cmd.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add(Enumerable.Range(0, reader.FieldCount).Select(reader.GetString).ToArray());
        }
        return rows;
    }

    /// <summary>The default pool's settings as the app writes them when it creates the pool.</summary>
    internal static readonly string DefaultPoolSettings =
        Tideflow.Web.Features.Pool.PoolSettingsJson.Write(Tideflow.Domain.Pool.PoolSettings.Default);

    private static NpgsqlConnection Open(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        return connection;
    }

    private static void Instant(NpgsqlBinaryImporter w, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.Write(v, NpgsqlDbType.TimestampTz);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Uuid(NpgsqlBinaryImporter w, Guid? value)
    {
        if (value is { } v)
        {
            w.Write(v, NpgsqlDbType.Uuid);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Text(NpgsqlBinaryImporter w, string? value)
    {
        if (value is null)
        {
            w.WriteNull();
        }
        else
        {
            w.Write(value, NpgsqlDbType.Varchar);
        }
    }

    // As the app stores it for sticky ownership (R3.3): the company's matching key, never longer than its column.
    private static string? CompanyKey(string company) =>
        Tideflow.Domain.Leads.ContactRules.CompanyKey(company) is { } key ? key.Length <= 200 ? key : key[..200] : null;

    private static void Exec(NpgsqlConnection connection, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection);
        cmd.CommandTimeout = 0;
        cmd.ExecuteNonQuery();
    }
}
