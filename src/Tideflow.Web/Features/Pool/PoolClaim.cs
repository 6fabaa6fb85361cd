using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

public sealed record ClaimResult(Guid Id, string Name, int ClaimedToday, int DailyLimit, DateTimeOffset FirstContactDue);

/// <summary>What a claim reads of the customer or lead it would take, through the caller's data scope.</summary>
/// <remarks>Set by initializer, not constructor, so EF Core can look into it when the claim's one read builds on it.</remarks>
public sealed record PoolItem
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public Guid? OwnerId { get; init; }
    public Guid? PoolId { get; init; }
    public DateTimeOffset? PooledAt { get; init; }
    public required Guid OrganizationId { get; init; }
    public string? Grade { get; init; }
}

/// <summary>
/// A rep claims from a pool they belong to (R4.6) — a customer (<see cref="ClaimCustomer"/>) or a lead
/// (<see cref="ClaimLead"/>), under the same limits and the same race rules. One transaction: the rep's counter for the
/// day goes up only while below the limit (a conditional UPDATE that also queues the rep's parallel claims behind each
/// other), the held cap is counted behind that, and the record is taken with <c>WHERE owner IS NULL</c>: of two reps
/// claiming the same record at once exactly one changes the row; the other is told who just took it. On PostgreSQL a
/// customer's claim does all of it in one statement (<see cref="TakeInOneStatementAsync"/>).
/// </summary>
/// <remarks>
/// Lead and customer claims share the rep's day counter (<see cref="ClaimCount"/>): the limit is on how much new work a
/// rep takes on in a day, and each claim of either kind brings a first contact due within hours.
/// </remarks>
public abstract class PoolClaim(TideflowDbContext db, CurrentUser me, TimeProvider clock, IStringLocalizer<Strings> L)
{
    protected TideflowDbContext Db { get; } = db;
    protected CurrentUser Me { get; } = me;

    /// <summary>How long a record taken from the pool is answered "just taken" rather than "not found".</summary>
    private static readonly TimeSpan JustTaken = TimeSpan.FromMinutes(10);

    /// <summary>"Customer" or "Lead": the 404's subject.</summary>
    protected abstract string Kind { get; }

    /// <summary>Where the messages that name the kind (该客户… / 该线索…) start in the string resources.</summary>
    protected abstract string TextPrefix { get; }

    /// <summary>The record as the caller's data scope shows it; empty when it does not.</summary>
    protected abstract IQueryable<PoolItem> Find(Guid id);

    /// <summary>Its owner and pool past the data scope (within the caller's organisation), to explain a refusal; null if none.</summary>
    protected abstract Task<(Guid? OwnerId, Guid? PoolId)?> StateAsync(Guid id, CancellationToken ct);

    /// <summary>The record's ownership history.</summary>
    protected abstract IQueryable<OwnershipChange> HistoryOf(Guid id);

    /// <summary>The conditional UPDATE: owner = caller only while it still sits unowned in <paramref name="poolId"/>; rows changed.</summary>
    protected abstract Task<int> TakeAsync(Guid id, Guid poolId, DateTimeOffset now, CancellationToken ct);

    /// <summary>Inside the claim's transaction, after the take: history and first-contact task (tracked, saved by the caller).</summary>
    /// <returns>When the first contact is due.</returns>
    protected abstract Task<DateTimeOffset> TakenAsync(PoolItem item, Guid poolId, PoolSettings settings, DateTimeOffset now, CancellationToken ct);

    private string Text(string name) => L[TextPrefix + name];

    public async Task<ClaimResult> ClaimAsync(Guid id, CancellationToken ct = default)
    {
        Me.Require(Permission.WorkCustomers);
        var now = clock.GetUtcNow();
        var day = DayOf(now);
        var history = HistoryOf(id);
        var meId = Me.Id;
        // The record, its pool's rules and what the limits look at, in one round trip: every claim pays for this read.
        // What the rep holds is not read here: when a cap applies it is counted once, in the transaction that enforces
        // it (a rep holds thousands, and counting them twice was most of a capped claim's time).
        var read = await Find(id).Select(i => new
        {
            Item = i,
            PoolSettings = Db.Pools.Where(p => p.Id == i.PoolId).Select(p => p.Settings).FirstOrDefault(),
            Capacity = Db.Users.Where(u => u.Id == meId).Select(u => u.Capacity).FirstOrDefault(),
            Today = Db.ClaimCounts.Where(c => c.UserId == meId && c.Day == day).Select(c => (int?)c.Count).FirstOrDefault(),
            LastLost = history.Where(o => o.FromId == meId && (o.Event == OwnershipEvent.Released || o.Event == OwnershipEvent.Reclaimed))
                .Max(o => (DateTimeOffset?)o.At),
        }).SingleOrDefaultAsync(ct);
        if (read is null)
        {
            // Not visible: in a pool the caller is not a member of (403, saying which), or claimed by someone a moment ago
            // (409: the caller saw it in the pool seconds before). Anything else does not exist for the caller (404).
            var state = await StateAsync(id, ct);
            if (state is { OwnerId: null, PoolId: { } elsewhere }
                && await Db.Pools.Where(p => p.Id == elsewhere).Select(p => p.Name).SingleOrDefaultAsync(ct) is { } poolName)
            {
                throw Problem.Forbidden(string.Format(Text("NotMember"), poolName));
            }
            if (state?.OwnerId is { } winner && await HistoryOf(id).AnyAsync(o => o.ToId == winner
                    && (o.Event == OwnershipEvent.Claimed || o.Event == OwnershipEvent.AssignedFromPool) && o.At >= now - JustTaken, ct))
            {
                throw Problem.Conflict(string.Format(Text("JustTaken"), await NameOfAsync(winner, ct)));
            }
            throw Problem.NotFound(Kind);
        }
        var item = read.Item;
        if (item.OwnerId is { } owner)
        {
            throw Problem.Conflict(owner == Me.Id ? Text("AlreadyYours") : string.Format(Text("AlreadyOwned"), await NameOfAsync(owner, ct)));
        }
        if (item.PoolId is not { } poolId || read.PoolSettings is null)
        {
            throw Problem.Conflict(Text("NotInPool"));
        }
        var settings = PoolSettingsJson.Read(read.PoolSettings);
        // Held 0 here: the cap is checked in the transaction below, on a count no parallel claim of the rep can slip past.
        var facts = new ClaimFacts(read.Today ?? 0, 0, read.Capacity, read.LastLost, item.PooledAt ?? now);
        if (ClaimPolicy.Check(settings, facts, now) is { } denied)
        {
            throw Refused(denied);
        }
        if (read.Today is null)
        {
            await CreateCounterAsync(day, ct);
        }
        var heldCap = ClaimPolicy.HeldCap(settings, facts.Capacity);
        if (Db is PostgresTideflowDbContext && await TakeInOneStatementAsync(item, poolId, settings, day, now, heldCap, ct) is { } one)
        {
            if (one.DayCount is { } count)
            {
                return new ClaimResult(id, item.Name, count, settings.DailyClaimLimit, one.FirstContactDue);
            }
            // Gone is said first (nobody can claim it now); with both the day and the cap used up, the cap is named, as
            // it still holds tomorrow.
            throw !one.Found ? await TakenAlreadyAsync(id, ct)
                : heldCap is { } c && one.Held is { } n && n >= c ? Refused(new ClaimDenied(ClaimRefusal.HeldLimit, n, c, null))
                : DailyLimitReached(settings);
        }

        var firstContact = now;
        var today = 0;
        // PostgreSQL's retrying strategy wants the whole transaction as one retriable unit.
        await Db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            Db.ChangeTracker.Clear();
            await using var tx = await Db.Database.BeginTransactionAsync(ct);
            // RETURNING: the day's count for the answer comes with the update, not from another read.
            var counted = await Db.Database.SqlQuery<int>($"""
                UPDATE "ClaimCounts" SET "Count" = "Count" + 1
                WHERE "UserId" = {Me.Id} AND "Day" = {day} AND "Count" < {settings.DailyClaimLimit}
                RETURNING "Count" AS "Value"
                """).ToListAsync(ct);
            if (counted.Count == 0)
            {
                throw DailyLimitReached(settings);
            }
            // The cap is on customers held (R4.6); a claimed lead becomes one when qualified, so a rep at the cap takes neither.
            if (heldCap is { } cap && await Db.Customers.CountAsync(c => c.OwnerId == Me.Id, ct) is var held && held >= cap)
            {
                throw Refused(new ClaimDenied(ClaimRefusal.HeldLimit, held, cap, null));
            }
            if (await TakeAsync(id, poolId, now, ct) == 0)
            {
                await tx.RollbackAsync(ct);
                throw await TakenAlreadyAsync(id, ct);
            }
            firstContact = await TakenAsync(item, poolId, settings, now, ct);
            Db.AuditEntries.Add(ClaimAudit(item, poolId, firstContact));
            Db.AuditEntityChanges = false;
            try
            {
                await Db.SaveChangesAsync(ct);
            }
            finally
            {
                Db.AuditEntityChanges = true;
            }
            await tx.CommitAsync(ct);
            today = counted[0];
        });
        return new ClaimResult(id, item.Name, today, settings.DailyClaimLimit, firstContact);
    }

    /// <summary>
    /// PostgreSQL only: the counter, the take, the history row, the first-contact task and the audit entry as one
    /// statement — one round trip, atomic without a transaction (a claim's write was four, each a socket send and a pass
    /// through EF Core; measured 225 → 340 claims/s). Null where the kind has no such statement.
    /// </summary>
    /// <param name="heldCap">The most customers the rep may hold, if any applies.</param>
    protected virtual Task<OneStatementClaim?> TakeInOneStatementAsync(PoolItem item, Guid poolId, PoolSettings settings, string day,
        DateTimeOffset now, int? heldCap, CancellationToken ct) => Task.FromResult<OneStatementClaim?>(null);

    /// <summary>What <see cref="TakeInOneStatementAsync"/> did.</summary>
    /// <param name="Found">The record still sat unowned in the pool (and was locked for the statement).</param>
    /// <param name="DayCount">The rep's count for the day after this claim; null when nothing was taken.</param>
    /// <param name="Held">Under a held cap, what the rep held before this claim.</param>
    protected sealed record OneStatementClaim(bool Found, int? DayCount, int? Held, DateTimeOffset FirstContactDue);

    /// <summary>
    /// One entry for the claim — owner, pool and first contact due, before and after — whichever way it was written; the
    /// history row and the task are its parts, not entries of their own.
    /// </summary>
    protected Access.AuditEntry ClaimAudit(PoolItem item, Guid poolId, DateTimeOffset firstContactDue) =>
        Db.AuditEntryFor(Access.AuditActions.Claim, Kind, item.Id.ToString(), new Dictionary<string, object?[]>
        {
            ["OwnerId"] = [null, Me.Id],
            ["PoolId"] = [poolId, null],
            ["FirstContactDue"] = [null, firstContactDue],
        }, item.OrganizationId);

    private Problem DailyLimitReached(PoolSettings settings) =>
        Refused(new ClaimDenied(ClaimRefusal.DailyLimit, settings.DailyClaimLimit, settings.DailyClaimLimit, null));

    /// <summary>The take found it no longer unowned in the pool: who just took it, or that it left the pool.</summary>
    private async Task<Problem> TakenAlreadyAsync(Guid id, CancellationToken ct)
    {
        var winner = (await StateAsync(id, ct))?.OwnerId;
        return Problem.Conflict(winner is { } w ? string.Format(Text("JustTaken"), await NameOfAsync(w, ct)) : Text("NotInPool"));
    }

    /// <summary>A refused claim in the caller's language: 今日已领取 3/3 …</summary>
    public Problem Refused(ClaimDenied denied) => Problem.Conflict(denied.Reason switch
    {
        ClaimRefusal.DailyLimit => string.Format(L["Pool_DailyLimit"], denied.Count, denied.Limit),
        ClaimRefusal.HeldLimit => string.Format(L["Pool_HeldLimit"], denied.Count, denied.Limit),
        ClaimRefusal.Cooldown => string.Format(Text("Cooldown"), Me.Time(denied.PossibleFrom)),
        ClaimRefusal.Embargo => string.Format(Text("Embargo"), Me.Time(denied.PossibleFrom)),
        _ => denied.Message,
    });

    /// <summary>The rep's day, in their time zone: "today" resets at their midnight.</summary>
    public string DayOf(DateTimeOffset now) => UserTime.Local(now, Me.Scope.TimeZone).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string> NameOfAsync(Guid userId, CancellationToken ct) =>
        await Db.Users.Where(u => u.Id == userId).Select(u => u.DisplayName).SingleOrDefaultAsync(ct) ?? "?";

    private async Task CreateCounterAsync(string day, CancellationToken ct)
    {
        Db.ClaimCounts.Add(new ClaimCount { UserId = Me.Id, Day = day, OrganizationId = Me.OrganizationId });
        try
        {
            await Db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (Leads.CaptureLead.IsUniqueViolation(e))
        {
            // The rep's other claim created it a moment ago.
        }
        Db.ChangeTracker.Clear();
    }
}
