using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

/// <summary>
/// A rep returns an open lead to the 线索池 with one of the pool's reasons (plus free text); a manager may do it for a rep
/// of theirs, as with customers (<see cref="Releases"/>). Only open (new) leads go back: a qualified lead is a customer
/// now, and one in nurture stays with the rep who nurtures it.
/// </summary>
public sealed class ReleaseLead(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public async Task ReleaseAsync(Guid leadId, ReleaseRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var lead = await db.Leads.SingleOrDefaultAsync(l => l.Id == leadId, ct) ?? throw Problem.NotFound("Lead");
        if (lead.OwnerId is not { } owner)
        {
            throw Problem.Conflict("This lead has no owner; it is already waiting in the lead pool or for review.");
        }
        if (lead.Status != LeadStatus.New)
        {
            throw Problem.Conflict($"The lead is {lead.Status}; only open leads go back to the lead pool.");
        }
        var now = clock.GetUtcNow();
        var (pool, why) = await Releases.PoolAndReasonAsync(db, me, lead.OrganizationId, owner, request, now, ct);
        Releases.IntoPool(lead, owner, pool.Id, why, now);
        lead.UpdatedAt = now;
        await Releases.RecordAsync(db, me, new OwnershipChange
        {
            OrganizationId = lead.OrganizationId, LeadId = lead.Id, FromId = owner, ToId = null, Reason = why,
            ById = me.Id, At = now, Event = OwnershipEvent.Released, PoolId = pool.Id,
        }, db.FollowUpTasks.Where(t => t.LeadId == lead.Id), NotificationKinds.LeadReleased,
            new { name = lead.Name ?? lead.Company ?? "", by = me.Scope.UserName, reason = why }, $"/leads/{lead.Id}", ct);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw Problem.Conflict("Someone else changed this lead at the same moment; reload it.");
        }
    }

    /// <summary>The pool the lead sits in, or would go to on release, and the reasons it offers.</summary>
    public async Task<PoolOutlook> OutlookAsync(Guid leadId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var lead = await db.Leads.AsNoTracking().Where(l => l.Id == leadId)
            .Select(l => new { l.OwnerId, l.PoolId, l.OrganizationId }).SingleOrDefaultAsync(ct) ?? throw Problem.NotFound("Lead");
        CustomerPool pool;
        if (lead.OwnerId is null && lead.PoolId is { } pooled)
        {
            pool = await db.Pools.SingleAsync(p => p.Id == pooled, ct);
        }
        else
        {
            var team = lead.OwnerId is { } owner ? await db.Users.Where(u => u.Id == owner).Select(u => u.TeamId).SingleAsync(ct) : null;
            pool = await Pools.ForTeamAsync(db, lead.OrganizationId, team, clock.GetUtcNow(), ct);
        }
        return new PoolOutlook(pool.Id, pool.Name, PoolSettingsJson.Read(pool.Settings).Reasons, null, null, null, null);
    }
}
