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
        var due = now + settings.FirstContactWithin(item.Grade);
        Db.OwnershipChanges.Add(new OwnershipChange
        {
            OrganizationId = item.OrganizationId, CustomerId = item.Id, FromId = null, ToId = Me.Id, Reason = "claimed from the pool",
            ById = Me.Id, At = now, Event = OwnershipEvent.Claimed, PoolId = poolId,
        });
        Db.FollowUpTasks.Add(new FollowUpTask
        {
            Id = Guid.CreateVersion7(), OrganizationId = item.OrganizationId, OwnerId = Me.Id, CustomerId = item.Id,
            // The pool's deadline rules the first contact; after it, the grade's plan takes over (R5.4).
            Kind = TaskKinds.FirstContact, DueAt = due, PlanStep = 0, CreatedAt = now,
        });
        return Task.FromResult(due);
    }
}
