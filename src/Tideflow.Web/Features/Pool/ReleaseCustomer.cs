using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

/// <summary>Why the customer goes back: one of the pool's reasons, plus free text; <see cref="PoolId"/> picks another pool than the owner's team's.</summary>
public sealed record ReleaseRequest(string? Reason, string? Note = null, Guid? PoolId = null);

/// <summary>
/// Where a customer would go on release (or sits now), the reasons its pool offers, and its reclaim outlook: due when,
/// by which rule ("12 天后回收"), or exempt and why.
/// </summary>
public sealed record PoolOutlook(Guid PoolId, string Pool, IReadOnlyList<string> Reasons, ReclaimStatus? Status, DateTimeOffset? DueAt, string? Why,
    DateTimeOffset? ProtectedUntil);

/// <summary>Protect from reclaim for so many days (at most the pool's maximum), with why.</summary>
public sealed record ProtectRequest(int Days, string? Reason);

/// <summary>
/// A rep returns a customer to the pool with a reason (R4.5); a manager may do it for a rep of theirs (the manager is
/// the actor, the rep the previous owner). And managers protect customers from reclaim, within the pool's limits.
/// The owner is a concurrency token: a release racing the sweep or a reassignment fails cleanly with 409.
/// </summary>
public sealed class ReleaseCustomer(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public async Task ReleaseAsync(Guid customerId, ReleaseRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var customer = await db.Customers.SingleOrDefaultAsync(c => c.Id == customerId, ct) ?? throw Problem.NotFound("Customer");
        if (customer.OwnerId is not { } owner)
        {
            throw Problem.Conflict("This customer is already in the pool.");
        }
        var now = clock.GetUtcNow();
        var (pool, why) = await Releases.PoolAndReasonAsync(db, me, customer.OrganizationId, owner, request, now, ct);
        Releases.IntoPool(customer, owner, pool.Id, why, now);
        customer.ClaimedAt = null;
        customer.ProtectedUntil = null;
        customer.UpdatedAt = now;
        await Releases.RecordAsync(db, me, new OwnershipChange
        {
            OrganizationId = customer.OrganizationId, CustomerId = customer.Id, FromId = owner, ToId = null, Reason = why,
            ById = me.Id, At = now, Event = OwnershipEvent.Released, PoolId = pool.Id,
        }, db.FollowUpTasks.Where(t => t.CustomerId == customer.Id), NotificationKinds.CustomerReleased,
            new { name = customer.Name, by = me.Scope.UserName, reason = why }, $"/customers/{customer.Id}", ct);
        await db.SaveChangesAsync(ct);
    }

    public async Task<PoolOutlook> OutlookAsync(Guid customerId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var customer = await db.Customers.AsNoTracking().Where(c => c.Id == customerId)
            .Select(c => new { c.OwnerId, c.PoolId, c.OrganizationId, c.ProtectedUntil }).SingleOrDefaultAsync(ct) ?? throw Problem.NotFound("Customer");
        var now = clock.GetUtcNow();
        CustomerPool pool;
        if (customer.OwnerId is { } owner)
        {
            var team = await db.Users.Where(u => u.Id == owner).Select(u => u.TeamId).SingleAsync(ct);
            pool = await Pools.ForTeamAsync(db, customer.OrganizationId, team, now, ct);
        }
        else
        {
            pool = await db.Pools.SingleAsync(p => p.Id == customer.PoolId, ct);
        }
        var settings = PoolSettingsJson.Read(pool.Settings);
        ReclaimDecision? decision = null;
        if (customer.OwnerId is not null)
        {
            var facts = await ReclaimJob.Candidates(db, db.Customers.Where(c => c.Id == customerId), settings).SingleAsync(ct);
            decision = PoolRules.Evaluate(facts.Facts, settings, await Pipeline.PipelineSettings.LoadAsync(db, customer.OrganizationId, ct), now);
        }
        return new PoolOutlook(pool.Id, pool.Name, settings.Reasons, decision?.Status, decision?.DueAt, decision?.Reason, customer.ProtectedUntil);
    }

    public async Task<DateTimeOffset?> ProtectAsync(Guid customerId, ProtectRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.AssignOwners);
        var customer = await db.Customers.SingleOrDefaultAsync(c => c.Id == customerId, ct) ?? throw Problem.NotFound("Customer");
        if (customer.OwnerId is not { } owner)
        {
            throw Problem.Conflict("A customer in the pool has nobody to protect it for; assign it first.");
        }
        var now = clock.GetUtcNow();
        var team = await db.Users.Where(u => u.Id == owner).Select(u => u.TeamId).SingleAsync(ct);
        var settings = PoolSettingsJson.Read((await Pools.ForTeamAsync(db, customer.OrganizationId, team, now, ct)).Settings);
        if (request.Days < 0 || request.Days > settings.MaxProtectDays)
        {
            throw Problem.Invalid("days", $"Protect for 1 to {settings.MaxProtectDays} days, or 0 to lift the protection.");
        }
        if (request.Days > 0 && (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Trim().Length > 400))
        {
            throw Problem.Invalid("reason", "Say why this customer is protected (at most 400 characters).");
        }
        if (request.Days > 0 && !(customer.ProtectedUntil > now)
            && await db.Customers.CountAsync(c => c.OwnerId == owner && c.ProtectedUntil > now, ct) >= settings.MaxProtectedPerRep)
        {
            throw Problem.Conflict($"This rep already has {settings.MaxProtectedPerRep} protected customers, the most the pool allows.");
        }
        customer.ProtectedUntil = request.Days == 0 ? null : now.AddDays(request.Days);
        customer.UpdatedAt = now;
        db.OwnershipChanges.Add(new OwnershipChange
        {
            OrganizationId = customer.OrganizationId, CustomerId = customer.Id, FromId = owner, ToId = owner, ById = me.Id, At = now,
            Reason = request.Days == 0 ? "protection lifted" : $"protected for {request.Days} days: {request.Reason!.Trim()}",
        });
        await db.SaveChangesAsync(ct);
        return customer.ProtectedUntil;
    }
}

/// <summary>What releasing a customer and releasing a lead share: where it goes, the reason, and the bookkeeping.</summary>
public static class Releases
{
    /// <summary>
    /// The pool chosen on release (one the caller belongs to) or the owner's team's, and the reason: one of that pool's
    /// release reasons, plus free text.
    /// </summary>
    public static async Task<(CustomerPool Pool, string Why)> PoolAndReasonAsync(TideflowDbContext db, CurrentUser me, Guid organizationId, Guid owner,
        ReleaseRequest request, DateTimeOffset now, CancellationToken ct)
    {
        CustomerPool pool;
        if (request.PoolId is { } chosen)
        {
            pool = await db.Pools.SingleOrDefaultAsync(p => p.Id == chosen, ct) ?? throw Problem.Invalid("poolId", "There is no such pool.");
            // Into a pool the caller belongs to (those who see everything may pick any): nobody drops work on other teams.
            if (me.Scope.PoolIds is { } mine && !mine.Contains(pool.Id))
            {
                throw Problem.Invalid("poolId", $"You are not a member of {pool.Name}.");
            }
        }
        else
        {
            var team = await db.Users.Where(u => u.Id == owner).Select(u => u.TeamId).SingleAsync(ct);
            pool = await Pools.ForTeamAsync(db, organizationId, team, now, ct);
        }
        var settings = PoolSettingsJson.Read(pool.Settings);
        var reason = request.Reason?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            throw Problem.Invalid("reason", $"Say why it goes back: one of {string.Join(", ", settings.Reasons)}.");
        }
        if (!settings.Reasons.Contains(reason, StringComparer.OrdinalIgnoreCase))
        {
            throw Problem.Invalid("reason", $"\"{reason}\" is not a release reason of {pool.Name}; choose one of {string.Join(", ", settings.Reasons)}.");
        }
        var note = request.Note?.Trim();
        if (note is { Length: > 400 })
        {
            throw Problem.Invalid("note", "At most 400 characters.");
        }
        if (reason.Length + (note?.Length ?? 0) > 480)
        {
            throw Problem.Invalid("note", $"At most {480 - reason.Length} characters with this reason.");
        }
        return (pool, string.IsNullOrEmpty(note) ? reason : $"{reason}: {note}");
    }

    /// <summary>Out of its owner's hands, into the pool: who let it go, where, since when, why.</summary>
    public static void IntoPool(IPooled item, Guid owner, Guid poolId, string why, DateTimeOffset now)
    {
        (item.PreviousOwnerId, item.OwnerId) = (owner, null);
        (item.PoolId, item.PooledAt, item.PoolReason) = (poolId, now, why);
    }

    /// <summary>
    /// The history line (the actor and the previous owner apart), the record's open tasks closed, and the owner told
    /// when someone else (their manager) released it.
    /// </summary>
    public static async Task RecordAsync(TideflowDbContext db, CurrentUser me, OwnershipChange released, IQueryable<FollowUpTask> tasks,
        string notification, object parameters, string link, CancellationToken ct)
    {
        db.OwnershipChanges.Add(released);
        foreach (var task in await tasks.Where(t => t.ClosedAt == null).ToListAsync(ct))
        {
            task.ClosedAt = released.At;
            task.ClosedReason = "released";
        }
        if (released.FromId is { } owner && owner != me.Id)
        {
            Inboxes.Add(db, released.OrganizationId, owner, notification, parameters, link, released.At);
        }
    }
}
