using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

/// <summary>
/// A rep claims a lead from the 线索池 under the pool's limits (<see cref="PoolClaim"/>). Once taken it is the rep's as
/// if routing had assigned it: history, and the first-contact task from the grade's follow-up plan.
/// </summary>
public sealed class ClaimLead(TideflowDbContext db, CurrentUser me, TimeProvider clock, IStringLocalizer<Strings> L, LeadRouter router)
    : PoolClaim(db, me, clock, L)
{
    protected override string Kind => "Lead";

    protected override string TextPrefix => "LeadPool_";

    protected override IQueryable<PoolItem> Find(Guid id) =>
        Db.Leads.AsNoTracking().Where(l => l.Id == id).Select(l => new PoolItem
        {
            Id = l.Id, Name = l.Name ?? l.Company ?? "", OwnerId = l.OwnerId, PoolId = l.Status == LeadStatus.New ? l.PoolId : null,
            PooledAt = l.PooledAt, OrganizationId = l.OrganizationId, Grade = l.Grade,
        });

    protected override async Task<(Guid? OwnerId, Guid? PoolId)?> StateAsync(Guid id, CancellationToken ct) =>
        await Db.Leads.IgnoreQueryFilters().Where(l => l.Id == id && l.OrganizationId == Me.OrganizationId)
            .Select(l => new { l.OwnerId, PoolId = l.Status == LeadStatus.New ? l.PoolId : null }).SingleOrDefaultAsync(ct) is { } s ? (s.OwnerId, s.PoolId) : null;

    protected override IQueryable<OwnershipChange> HistoryOf(Guid id) => Db.OwnershipChanges.Where(o => o.LeadId == id);

    // Status is the lead's concurrency token for merges and reviews; an open lead only is taken.
    protected override Task<int> TakeAsync(Guid id, Guid poolId, DateTimeOffset now, CancellationToken ct) =>
        Db.Leads.Where(l => l.Id == id && l.OwnerId == null && l.PoolId == poolId && l.Status == LeadStatus.New)
            .ExecuteUpdateAsync(l => l
                .SetProperty(x => x.OwnerId, Me.Id)
                .SetProperty(x => x.PoolId, (Guid?)null)
                .SetProperty(x => x.PooledAt, (DateTimeOffset?)null)
                .SetProperty(x => x.PoolReason, (string?)null)
                .SetProperty(x => x.AssignedAt, now)
                .SetProperty(x => x.UpdatedAt, now), ct);

    protected override async Task<DateTimeOffset> TakenAsync(PoolItem item, Guid poolId, PoolSettings settings, DateTimeOffset now, CancellationToken ct)
    {
        var lead = await Db.Leads.AsNoTracking().SingleAsync(l => l.Id == item.Id, ct);
        var (_, card) = await Scoring.ScoreCards.CurrentAsync(Db, ct);
        return router.Handed(card, await Pipeline.FollowUpPlanSettings.LoadAsync(Db, lead.OrganizationId, card, ct), lead, new OwnershipChange
        {
            OrganizationId = item.OrganizationId, LeadId = item.Id, FromId = null, ToId = Me.Id, Reason = "claimed from the lead pool",
            ById = Me.Id, At = now, Event = OwnershipEvent.Claimed, PoolId = poolId,
        });
    }
}
