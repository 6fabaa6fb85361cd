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
                   """COPY "Channels" ("Id", "OrganizationId", "Name", "Kind", "SourceTag", "Key", "IsActive", "CreatedAt") FROM STDIN (FORMAT BINARY)"""))
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
            w.Complete();
        }

        long customers = 0;
        using (var w = connection.BeginBinaryImport(
                   """
                   COPY "Customers" ("Id", "OrganizationId", "Name", "Company", "Mobile", "Email", "Region", "Industry",
                       "OwnerId", "CreatedById", "CreatedAt", "UpdatedAt", "CompanyKey") FROM STDIN (FORMAT BINARY)
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
        var insertTime = loading.Elapsed;
        // What autovacuum would do shortly after a bulk load anyway.
        Exec(connection, "VACUUM ANALYZE");
        return new LoadResult(org, customers, insertTime, total.Elapsed, leads);
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
