using System.Text.Json;
using Tideflow.Bench.Generation;

namespace Tideflow.Bench.Running;

/// <summary>
/// The floor of the ingestion scenario: per submission, one pooled connection and one transaction that looks up the
/// contact keys and then inserts a touch (known contact) or a lead, its arrival touch and its keys (new contact), with
/// hand-written ADO.NET. What the app adds on top — HTTP, JSON parsing, receipts, blocklist and tag rules, EF Core —
/// is the ratio. On SQLite the transaction is BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default) and every open sets
/// the app's pragmas that bear on a writer's waits (<see cref="BenchDb.SqlitePragmas"/>).
/// </summary>
public sealed class CaptureFloor(bool sqlite, string connectionString, Guid org, ChannelRow channel) : IAsyncDisposable
{
    private readonly BenchDb db = new(!sqlite, connectionString);

    /// <summary>One submission's worth of database work; returns true when it created a lead.</summary>
    public async Task<bool> CaptureAsync(SubmissionRow s, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var keys = s.Keys;
        object? leadId = null, customerId = null;
        var found = false;
        var lookupKeys = keys.Select((k, i) => ("@k" + (i + 1), (object?)k));
        await using (var lookup = db.Command(connection, tx, keys.Count == 1
                         ? """SELECT "LeadId", "CustomerId" FROM "ContactKeys" WHERE "OrganizationId" = @org AND "Key" = @k1 ORDER BY "Id" LIMIT 1"""
                         : """SELECT "LeadId", "CustomerId" FROM "ContactKeys" WHERE "OrganizationId" = @org AND "Key" IN (@k1, @k2) ORDER BY "Id" LIMIT 1""",
                         [("@org", org), .. lookupKeys]))
        {
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
            leadId = db.Convert(Guid.CreateVersion7());
            customerId = DBNull.Value;
            await using (var lead = db.Command(connection, tx,
                             """
                             INSERT INTO "Leads" ("Id", "OrganizationId", "Name", "Mobile", "Email", "ChannelId", "SourceTag", "Campaign",
                                 "Status", "RawPayload", "ArrivedAt", "UpdatedAt", "BantBudget", "BantAuthority", "BantNeed", "BantTimeline",
                                 "BehaviourCount", "BehaviourPoints")
                             VALUES (@id, @org, @name, @mobile, @email, @channel, @tag, @campaign, 'New', @raw, @at, @at, FALSE, FALSE, FALSE, FALSE, 0, 0)
                             """,
                             ("@id", leadId), ("@org", org), ("@name", s.Name), ("@mobile", s.Mobile), ("@email", s.Email), ("@channel", channel.Id),
                             ("@tag", channel.SourceTag), ("@campaign", s.Campaign), ("@raw", payload), ("@at", now)))
            {
                await lead.ExecuteNonQueryAsync(ct);
            }
            foreach (var k in keys)
            {
                await using var key = db.Command(connection, tx,
                    """INSERT INTO "ContactKeys" ("OrganizationId", "Key", "LeadId") VALUES (@org, @key, @lead)""",
                    ("@org", org), ("@key", k), ("@lead", leadId));
                await key.ExecuteNonQueryAsync(ct);
            }
        }
        await using (var touch = db.Command(connection, tx,
                         """
                         INSERT INTO "LeadTouches" ("Id", "OrganizationId", "LeadId", "CustomerId", "ChannelId", "Kind", "At", "Ip", "RawPayload")
                         VALUES (@id, @org, @lead, @customer, @channel, @kind, @at, '127.0.0.1', @raw)
                         """,
                         ("@id", Guid.CreateVersion7()), ("@org", org), ("@lead", leadId), ("@customer", customerId), ("@channel", channel.Id),
                         ("@kind", found ? "duplicate" : "arrival"), ("@at", now), ("@raw", payload)))
        {
            await touch.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return !found;
    }

    public ValueTask DisposeAsync() => db.DisposeAsync();
}
