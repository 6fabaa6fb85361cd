using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tideflow.Bench.Generation;
using Tideflow.Bench.Loading;

namespace Tideflow.Bench.Running;

/// <summary>
/// The floor of the ingestion scenario: per submission, one pooled connection and one transaction that looks up the
/// contact keys and then inserts a touch (known contact) or a lead, its arrival touch and its keys (new contact), with
/// hand-written ADO.NET. What the app adds on top — HTTP, JSON parsing, receipts, blocklist and tag rules, EF Core —
/// is the ratio. On SQLite the transaction is BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default) and every open sets
/// the same busy_timeout and synchronous=NORMAL the app's connection interceptor sets.
/// </summary>
public sealed class CaptureFloor : IAsyncDisposable
{
    private readonly bool sqlite;
    private readonly string connectionString;
    private readonly NpgsqlDataSource? dataSource;
    private readonly Guid org;
    private readonly Guid channel;
    private readonly string sourceTag;

    public CaptureFloor(bool sqlite, string connectionString, Guid org, ChannelRow channel)
    {
        this.sqlite = sqlite;
        this.connectionString = connectionString;
        dataSource = sqlite ? null : NpgsqlDataSource.Create(connectionString);
        this.org = org;
        this.channel = channel.Id;
        sourceTag = channel.SourceTag;
    }

    /// <summary>One submission's worth of database work; returns true when it created a lead.</summary>
    public async Task<bool> CaptureAsync(SubmissionRow s, CancellationToken ct)
    {
        await using DbConnection connection = sqlite ? new SqliteConnection(connectionString) : dataSource!.CreateConnection();
        await connection.OpenAsync(ct);
        if (sqlite)
        {
            await using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL;";
            await pragma.ExecuteNonQueryAsync(ct);
        }
        await using var tx = await connection.BeginTransactionAsync(ct);
        var keys = s.Keys;
        object? leadId = null, customerId = null;
        var found = false;
        await using (var lookup = Command(connection, tx, keys.Count == 1
                         ? """SELECT "LeadId", "CustomerId" FROM "ContactKeys" WHERE "OrganizationId" = @org AND "Key" = @k1 ORDER BY "Id" LIMIT 1"""
                         : """SELECT "LeadId", "CustomerId" FROM "ContactKeys" WHERE "OrganizationId" = @org AND "Key" IN (@k1, @k2) ORDER BY "Id" LIMIT 1"""))
        {
            Add(lookup, "@org", Id(org));
            for (var i = 0; i < keys.Count; i++)
            {
                Add(lookup, "@k" + (i + 1), keys[i]);
            }
            await using var reader = await lookup.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                found = true;
                leadId = reader.GetValue(0);
                customerId = reader.GetValue(1);
            }
        }
        var now = TimeProvider.System.GetUtcNow();
        var payload = JsonSerializer.Serialize(new { name = s.Name, mobile = s.Mobile, email = s.Email, utm_campaign = s.Campaign });
        if (!found)
        {
            var id = Guid.CreateVersion7();
            leadId = Id(id);
            customerId = DBNull.Value;
            await using (var lead = Command(connection, tx,
                             """
                             INSERT INTO "Leads" ("Id", "OrganizationId", "Name", "Mobile", "Email", "ChannelId", "SourceTag", "Campaign",
                                 "Status", "RawPayload", "ArrivedAt", "UpdatedAt")
                             VALUES (@id, @org, @name, @mobile, @email, @channel, @tag, @campaign, 'New', @raw, @at, @at)
                             """))
            {
                Add(lead, "@id", leadId);
                Add(lead, "@org", Id(org));
                Add(lead, "@name", s.Name);
                Add(lead, "@mobile", s.Mobile);
                Add(lead, "@email", (object?)s.Email ?? DBNull.Value);
                Add(lead, "@channel", Id(channel));
                Add(lead, "@tag", sourceTag);
                Add(lead, "@campaign", s.Campaign);
                Add(lead, "@raw", payload);
                Add(lead, "@at", At(now));
                await lead.ExecuteNonQueryAsync(ct);
            }
            foreach (var k in keys)
            {
                await using var key = Command(connection, tx,
                    """INSERT INTO "ContactKeys" ("OrganizationId", "Key", "LeadId") VALUES (@org, @key, @lead)""");
                Add(key, "@org", Id(org));
                Add(key, "@key", k);
                Add(key, "@lead", leadId);
                await key.ExecuteNonQueryAsync(ct);
            }
        }
        await using (var touch = Command(connection, tx,
                         """
                         INSERT INTO "LeadTouches" ("Id", "OrganizationId", "LeadId", "CustomerId", "ChannelId", "Kind", "At", "Ip", "RawPayload")
                         VALUES (@id, @org, @lead, @customer, @channel, @kind, @at, '127.0.0.1', @raw)
                         """))
        {
            Add(touch, "@id", Id(Guid.CreateVersion7()));
            Add(touch, "@org", Id(org));
            Add(touch, "@lead", leadId ?? DBNull.Value);
            Add(touch, "@customer", customerId ?? DBNull.Value);
            Add(touch, "@channel", Id(channel));
            Add(touch, "@kind", found ? "duplicate" : "arrival");
            Add(touch, "@at", At(now));
            Add(touch, "@raw", payload);
            await touch.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return !found;
    }

    private object Id(Guid id) => sqlite ? SqliteLoader.Id(id)! : id;

    private object At(DateTimeOffset at) => sqlite ? SqliteLoader.Ticks(at) : at;

    private static DbCommand Command(DbConnection connection, DbTransaction tx, string sql)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
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
