using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

/// <summary>A rep claims a customer from the 公海; the limits and the race are <see cref="PoolClaim"/>'s.</summary>
public sealed class ClaimCustomer(TideflowDbContext db, CurrentUser me, TimeProvider clock, IStringLocalizer<Strings> L)
    : PoolClaim(db, me, clock, L)
{
    protected override string Kind => "Customer";

    protected override string TextPrefix => "Pool_";

    protected override IQueryable<PoolItem> Find(Guid id) =>
        Db.Customers.AsNoTracking().Where(c => c.Id == id).Select(c => new PoolItem
        {
            Id = c.Id, Name = c.Name, OwnerId = c.OwnerId, PoolId = c.PoolId, PooledAt = c.PooledAt, OrganizationId = c.OrganizationId, Grade = c.Grade,
        });

    protected override async Task<(Guid? OwnerId, Guid? PoolId)?> StateAsync(Guid id, CancellationToken ct) =>
        await Db.Customers.IgnoreQueryFilters().Where(c => c.Id == id && c.OrganizationId == Me.OrganizationId)
            .Select(c => new { c.OwnerId, c.PoolId }).SingleOrDefaultAsync(ct) is { } s ? (s.OwnerId, s.PoolId) : null;

    protected override IQueryable<OwnershipChange> HistoryOf(Guid id) => Db.OwnershipChanges.Where(o => o.CustomerId == id);

    protected override Task<int> TakeAsync(Guid id, Guid poolId, DateTimeOffset now, CancellationToken ct) =>
        Db.Customers.Where(c => c.Id == id && c.OwnerId == null && c.PoolId == poolId)
            .ExecuteUpdateAsync(c => c
                .SetProperty(x => x.OwnerId, Me.Id)
                .SetProperty(x => x.PoolId, (Guid?)null)
                .SetProperty(x => x.PooledAt, (DateTimeOffset?)null)
                .SetProperty(x => x.PoolReason, (string?)null)
                .SetProperty(x => x.ProtectedUntil, (DateTimeOffset?)null)
                .SetProperty(x => x.ClaimedAt, now)
                .SetProperty(x => x.AssignedAt, now)
                .SetProperty(x => x.UpdatedAt, now), ct);

    /// <summary>The pool's first-contact deadline (首次联系时限) runs from the claim; the sweep reclaims it when missed.</summary>
    protected override Task<DateTimeOffset> TakenAsync(PoolItem item, Guid poolId, PoolSettings settings, DateTimeOffset now, CancellationToken ct)
    {
        var (history, task) = Rows(item, poolId, settings, now);
        Db.OwnershipChanges.Add(history);
        Db.FollowUpTasks.Add(task);
        return Task.FromResult(task.DueAt);
    }

    private (OwnershipChange History, FollowUpTask Task) Rows(PoolItem item, Guid poolId, PoolSettings settings, DateTimeOffset now) =>
    (
        new OwnershipChange
        {
            OrganizationId = item.OrganizationId, CustomerId = item.Id, FromId = null, ToId = Me.Id, Reason = "claimed from the pool",
            ById = Me.Id, At = now, Event = OwnershipEvent.Claimed, PoolId = poolId,
        },
        new FollowUpTask
        {
            Id = Guid.CreateVersion7(), OrganizationId = item.OrganizationId, OwnerId = Me.Id, CustomerId = item.Id,
            // The pool's deadline rules the first contact; after it, the grade's plan takes over (R5.4).
            Kind = TaskKinds.FirstContact, DueAt = now + settings.FirstContactWithin(item.Grade), PlanStep = 0, CreatedAt = now,
        }
    );

    /// <remarks>
    /// The customer is locked first (<c>FOR UPDATE</c>, so of two reps claiming it the second finds it gone), then the
    /// rep's day counter goes up only while below the limit (the rep's parallel claims queue on that row and each sees the
    /// last one's count); the take and the rows after it happen only if both did. The same values as
    /// <see cref="TakenAsync"/> and <see cref="PoolClaim.ClaimAudit"/> write.
    /// <para>
    /// A held cap needs the count of what the rep holds as of after their other claims: a statement sees the database as
    /// it was when it began, before it waited for the counter. So under a cap the customer and the counter are locked
    /// first (same order), and the claim's statement, begun after, counts the holdings: three round trips instead of one.
    /// </para>
    /// </remarks>
    protected override async Task<OneStatementClaim?> TakeInOneStatementAsync(PoolItem item, Guid poolId, PoolSettings settings,
        string day, DateTimeOffset now, int? cap, CancellationToken ct)
    {
        var (history, task) = Rows(item, poolId, settings, now);
        var audit = ClaimAudit(item, poolId, task.DueAt);
        // Positional ($1…, in this order): Npgsql sends the text as written instead of rewriting named parameters on every call.
        object?[] values =
        [
            item.Id, poolId, Me.Id, day, settings.DailyClaimLimit, now, item.OrganizationId, history.Reason, history.Event.ToString(),
            task.Id, task.Kind, task.DueAt, task.PlanStep, audit.ActorName, audit.Ip, audit.Action, audit.EntityType, audit.EntityId,
            audit.Changes, cap,
        ];
        return await Db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            await Db.Database.OpenConnectionAsync(ct);
            try
            {
                var connection = Db.Database.GetDbConnection();
                await using var tx = cap is null ? null : await connection.BeginTransactionAsync(ct);
                if (tx is not null)
                {
                    await using var lockRows = connection.CreateCommand();
                    lockRows.Transaction = tx;
                    lockRows.CommandText = $"""
                        WITH {Target}
                        SELECT 1 FROM "ClaimCounts" WHERE "UserId" = $3 AND "Day" = $4 AND EXISTS (SELECT FROM target) FOR UPDATE
                        """;
                    Bind(lockRows, values[..4]);
                    if (await lockRows.ExecuteScalarAsync(ct) is null)
                    {
                        // Not claimable: nothing is locked, so the claim's statement must not run (were the customer back
                        // in the pool a moment later, its count of holdings would predate the rep's other claims).
                        return new OneStatementClaim(false, null, null, task.DueAt);
                    }
                }
                await using var command = connection.CreateCommand();
                command.Transaction = tx;
                command.CommandText = tx is null ? Uncapped : Capped;
                Bind(command, tx is null ? values[..^1] : values);
                OneStatementClaim result;
                await using (var reader = await command.ExecuteReaderAsync(ct))
                {
                    await reader.ReadAsync(ct);
                    int? count = reader.IsDBNull(1) ? null : reader.GetInt32(1);
                    if (count is not null && !reader.GetBoolean(2))
                    {
                        // Cannot happen (the row is locked for the statement); if it did, the count went up for nothing.
                        throw new InvalidOperationException("The claim counted but did not take the customer.");
                    }
                    result = new OneStatementClaim(reader.GetBoolean(0), count, reader.IsDBNull(3) ? null : reader.GetInt32(3), task.DueAt);
                }
                if (tx is not null)
                {
                    await tx.CommitAsync(ct);
                }
                return result;
            }
            finally
            {
                await Db.Database.CloseConnectionAsync();
            }
        });
    }

    private static void Bind(System.Data.Common.DbCommand command, object?[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = value ?? DBNull.Value });
        }
    }

    /// <summary>The customer, locked while it still sits unowned in the pool.</summary>
    private const string Target = """
        target AS (
            SELECT "Id" FROM "Customers" WHERE "Id" = $1 AND "OwnerId" IS NULL AND "PoolId" = $2 FOR UPDATE
        )
        """;

    private static readonly string Uncapped = Statement(held: "", condition: "", heldCount: "NULL::int");

    private static readonly string Capped = Statement(
        held: """held AS (SELECT count(*)::int AS n FROM "Customers" WHERE "OwnerId" = $3),""",
        condition: """AND (SELECT n FROM held) < $20""",
        heldCount: """(SELECT n FROM held)""");

    private static string Statement(string held, string condition, string heldCount) => $"""
        WITH {Target}, {held} counted AS (
            UPDATE "ClaimCounts" SET "Count" = "Count" + 1
            WHERE "UserId" = $3 AND "Day" = $4 AND "Count" < $5 AND EXISTS (SELECT FROM target) {condition}
            RETURNING "Count"
        ), taken AS (
            UPDATE "Customers" SET "OwnerId" = $3, "PoolId" = NULL, "PooledAt" = NULL, "PoolReason" = NULL,
                "ProtectedUntil" = NULL, "ClaimedAt" = $6, "AssignedAt" = $6, "UpdatedAt" = $6
            WHERE "Id" IN (SELECT "Id" FROM target) AND EXISTS (SELECT FROM counted)
            RETURNING "Id"
        ), history AS (
            INSERT INTO "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "ById", "At", "Event", "PoolId")
            SELECT $7, "Id", NULL, $3, $8, $3, $6, $9, $2 FROM taken
        ), task AS (
            INSERT INTO "FollowUpTasks" ("Id", "OrganizationId", "OwnerId", "CustomerId", "Kind", "DueAt", "PlanStep", "CreatedAt")
            SELECT $10, $7, $3, "Id", $11, $12, $13, $6 FROM taken
        ), audit AS (
            INSERT INTO "AuditEntries" ("OrganizationId", "At", "ActorId", "ActorName", "Ip", "Action", "EntityType", "EntityId", "Changes")
            SELECT $7, $6, $3, $14, $15, $16, $17, $18, $19 FROM taken
        )
        SELECT EXISTS (SELECT FROM target), (SELECT "Count" FROM counted), EXISTS (SELECT FROM taken), {heldCount}
        """;
}
