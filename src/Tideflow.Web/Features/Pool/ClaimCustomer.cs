using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

public sealed record ClaimResult(Guid CustomerId, string Name, int ClaimedToday, int DailyLimit, DateTimeOffset FirstContactDue);

/// <summary>
/// A rep claims a customer from a pool they belong to (R4.6). One transaction: the rep's counter for the day goes up
/// only while below the limit (a conditional UPDATE that also queues the rep's parallel claims behind each other), the
/// held cap is counted behind that, and the customer is taken with <c>WHERE owner IS NULL</c>: of two reps claiming
/// the same customer at once exactly one changes the row; the other is told who just took it.
/// </summary>
public sealed class ClaimCustomer(TideflowDbContext db, CurrentUser me, TimeProvider clock, IStringLocalizer<Strings> L)
{
    /// <summary>How long a customer taken from the pool is answered "just taken" rather than "not found".</summary>
    private static readonly TimeSpan JustTaken = TimeSpan.FromMinutes(10);

    public async Task<ClaimResult> ClaimAsync(Guid customerId, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var now = clock.GetUtcNow();
        var customer = await db.Customers.AsNoTracking().Where(c => c.Id == customerId)
            .Select(c => new
            {
                c.Id, c.Name, c.OwnerId, c.PoolId, c.PooledAt, c.OrganizationId, c.Grade,
                Pool = db.Pools.Where(p => p.Id == c.PoolId).Select(p => new { p.Id, p.Settings }).FirstOrDefault(),
            }).SingleOrDefaultAsync(ct);
        if (customer is null)
        {
            // Not visible: in a pool the caller is not a member of (403, saying which), or claimed by someone a moment ago
            // (409: the caller saw it in the pool seconds before). Anything else does not exist for the caller (404).
            var state = await db.Customers.IgnoreQueryFilters()
                .Where(c => c.Id == customerId && c.OrganizationId == me.OrganizationId)
                .Select(c => new { c.OwnerId, Pool = db.Pools.IgnoreQueryFilters().Where(p => p.Id == c.PoolId).Select(p => p.Name).FirstOrDefault() })
                .SingleOrDefaultAsync(ct);
            if (state is { OwnerId: null, Pool: { } elsewhere })
            {
                throw Problem.Forbidden(string.Format(L["Pool_NotMember"], elsewhere));
            }
            if (state?.OwnerId is { } winner && await db.OwnershipChanges.AnyAsync(o => o.CustomerId == customerId && o.ToId == winner
                    && (o.Event == OwnershipEvent.Claimed || o.Event == OwnershipEvent.AssignedFromPool) && o.At >= now - JustTaken, ct))
            {
                throw Problem.Conflict(string.Format(L["Pool_JustTaken"], await NameOfAsync(winner, ct)));
            }
            throw Problem.NotFound("Customer");
        }
        if (customer.OwnerId is { } owner)
        {
            throw Problem.Conflict(owner == me.Id ? L["Pool_AlreadyYours"] : string.Format(L["Pool_AlreadyOwned"], await NameOfAsync(owner, ct)));
        }
        var pool = customer.Pool ?? throw Problem.Conflict(L["Pool_NotInPool"]);
        var settings = PoolSettingsJson.Read(pool.Settings);
        var day = DayOf(now);
        // Everything the limits look at, in one round trip. Holdings are counted only when a cap applies: a rep holds
        // thousands, and counting them was most of a claim's time.
        var poolCap = settings.MaxHeld is not null;
        var mine = await db.Users.Where(u => u.Id == me.Id).Select(u => new
        {
            u.Capacity,
            Today = db.ClaimCounts.Where(c => c.UserId == me.Id && c.Day == day).Select(c => (int?)c.Count).FirstOrDefault(),
            Held = poolCap || u.Capacity != null ? db.Customers.Count(c => c.OwnerId == me.Id) : 0,
            LastLost = db.OwnershipChanges.Where(o => o.CustomerId == customerId && o.FromId == me.Id
                    && (o.Event == OwnershipEvent.Released || o.Event == OwnershipEvent.Reclaimed))
                .Max(o => (DateTimeOffset?)o.At),
        }).SingleAsync(ct);
        var facts = new ClaimFacts(mine.Today ?? 0, mine.Held, mine.Capacity, mine.LastLost, customer.PooledAt ?? now);
        if (ClaimPolicy.Check(settings, facts, now) is { } denied)
        {
            throw Refused(denied);
        }
        if (mine.Today is null)
        {
            await CreateCounterAsync(day, ct);
        }

        var firstContact = settings.FirstContactWithin(customer.Grade);
        // PostgreSQL's retrying strategy wants the whole transaction as one retriable unit.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var counted = await db.ClaimCounts.Where(c => c.UserId == me.Id && c.Day == day && c.Count < settings.DailyClaimLimit)
                .ExecuteUpdateAsync(c => c.SetProperty(x => x.Count, x => x.Count + 1), ct);
            if (counted == 0)
            {
                throw Refused(new ClaimDenied(ClaimRefusal.DailyLimit, settings.DailyClaimLimit, settings.DailyClaimLimit, null));
            }
            if (ClaimPolicy.HeldCap(settings, facts.Capacity) is { } cap && await HeldAsync(ct) is var held && held >= cap)
            {
                throw Refused(new ClaimDenied(ClaimRefusal.HeldLimit, held, cap, null));
            }
            var taken = await db.Customers.Where(c => c.Id == customerId && c.OwnerId == null && c.PoolId == pool.Id)
                .ExecuteUpdateAsync(c => c
                    .SetProperty(x => x.OwnerId, me.Id)
                    .SetProperty(x => x.PoolId, (Guid?)null)
                    .SetProperty(x => x.PooledAt, (DateTimeOffset?)null)
                    .SetProperty(x => x.PoolReason, (string?)null)
                    .SetProperty(x => x.ProtectedUntil, (DateTimeOffset?)null)
                    .SetProperty(x => x.ClaimedAt, now)
                    .SetProperty(x => x.AssignedAt, now)
                    .SetProperty(x => x.UpdatedAt, now), ct);
            if (taken == 0)
            {
                await tx.RollbackAsync(ct);
                var winner = await db.Customers.IgnoreQueryFilters().Where(c => c.Id == customerId).Select(c => c.OwnerId).SingleOrDefaultAsync(ct);
                throw Problem.Conflict(winner is { } w ? string.Format(L["Pool_JustTaken"], await NameOfAsync(w, ct)) : L["Pool_NotInPool"]);
            }
            db.OwnershipChanges.Add(new OwnershipChange
            {
                OrganizationId = customer.OrganizationId, CustomerId = customerId, FromId = null, ToId = me.Id, Reason = "claimed from the pool",
                ById = me.Id, At = now, Event = OwnershipEvent.Claimed, PoolId = pool.Id,
            });
            db.FollowUpTasks.Add(new FollowUpTask
            {
                Id = Guid.CreateVersion7(), OrganizationId = customer.OrganizationId, OwnerId = me.Id, CustomerId = customerId,
                // The pool's deadline rules the first contact; after it, the grade's plan takes over (R5.4).
                Kind = TaskKinds.FirstContact, DueAt = now + firstContact, PlanStep = 0, CreatedAt = now,
            });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        });
        var today = await db.ClaimCounts.Where(c => c.UserId == me.Id && c.Day == day).Select(c => c.Count).SingleAsync(ct);
        return new ClaimResult(customerId, customer.Name, today, settings.DailyClaimLimit, now + firstContact);
    }

    /// <summary>A refused claim in the caller's language: 今日已领取 3/3 …</summary>
    public Problem Refused(ClaimDenied denied) => Problem.Conflict(denied.Reason switch
    {
        ClaimRefusal.DailyLimit => string.Format(L["Pool_DailyLimit"], denied.Count, denied.Limit),
        ClaimRefusal.HeldLimit => string.Format(L["Pool_HeldLimit"], denied.Count, denied.Limit),
        ClaimRefusal.Cooldown => string.Format(L["Pool_Cooldown"], me.Time(denied.PossibleFrom)),
        ClaimRefusal.Embargo => string.Format(L["Pool_Embargo"], me.Time(denied.PossibleFrom)),
        _ => denied.Message,
    });

    /// <summary>The rep's day, in their time zone: "today" resets at their midnight.</summary>
    public string DayOf(DateTimeOffset now) => UserTime.Local(now, me.Scope.TimeZone).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private Task<int> HeldAsync(CancellationToken ct) => db.Customers.CountAsync(c => c.OwnerId == me.Id, ct);

    private async Task<string> NameOfAsync(Guid userId, CancellationToken ct) =>
        await db.Users.Where(u => u.Id == userId).Select(u => u.DisplayName).SingleOrDefaultAsync(ct) ?? "?";

    private async Task CreateCounterAsync(string day, CancellationToken ct)
    {
        db.ClaimCounts.Add(new ClaimCount { UserId = me.Id, Day = day, OrganizationId = me.OrganizationId });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (Leads.CaptureLead.IsUniqueViolation(e))
        {
            // The rep's other claim created it a moment ago.
        }
        db.ChangeTracker.Clear();
    }
}
