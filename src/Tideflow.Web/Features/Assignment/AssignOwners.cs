using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Assignment;

public sealed record AssignRequest(
    [property: Required, MinLength(1), MaxLength(AssignOwners.MaxBatch)] List<Guid> Ids,
    Guid OwnerId,
    [property: Required, StringLength(500, MinimumLength = 2)] string Reason);

public sealed record AssignResult(int Assigned, int Unchanged);

/// <summary>
/// Managers assign and reassign leads and customers by hand, one or many, with a reason (R3.4). A batch is all or
/// nothing: if any record cannot be assigned, nothing changes and the answer lists each refused record and why.
/// </summary>
public sealed class AssignOwners(TideflowDbContext db, CurrentUser me, TimeProvider clock, LeadRouter router)
{
    public const int MaxBatch = 500;

    public async Task<AssignResult> AssignLeadsAsync(AssignRequest request, CancellationToken ct = default)
    {
        var (owner, reason) = await CheckAsync(request, ct);
        var ids = request.Ids.Distinct().ToList();
        var leads = await db.Leads.Where(l => ids.Contains(l.Id)).ToListAsync(ct);
        var refused = new Dictionary<string, string[]>();
        foreach (var id in ids.Where(id => leads.All(l => l.Id != id)))
        {
            refused[id.ToString()] = ["does not exist or is not visible to you"];
        }
        foreach (var lead in leads.Where(l => l.Status is not (LeadStatus.New or LeadStatus.Queued or LeadStatus.Nurture)))
        {
            refused[lead.Id.ToString()] = [lead.Status == LeadStatus.Qualified
                ? "is already a customer; reassign the customer"
                : $"is {lead.Status} and cannot be assigned"];
        }
        ThrowIfRefused(refused);
        var now = clock.GetUtcNow();
        var assigned = 0;
        foreach (var lead in leads.Where(l => l.OwnerId != owner.Id))
        {
            await router.CloseOpenTasksAsync(lead.Id, now, ct);
            router.Assign(null, lead, owner.Id, reason, rule: null, byId: me.Id, now);
            assigned++;
        }
        await SaveAsync(ct);
        return new AssignResult(assigned, leads.Count - assigned);
    }

    public async Task<AssignResult> AssignCustomersAsync(AssignRequest request, CancellationToken ct = default)
    {
        var (owner, reason) = await CheckAsync(request, ct);
        var ids = request.Ids.Distinct().ToList();
        var customers = await db.Customers.Where(c => ids.Contains(c.Id)).ToListAsync(ct);
        var refused = ids.Where(id => customers.All(c => c.Id != id))
            .ToDictionary(id => id.ToString(), _ => new[] { "does not exist or is not visible to you" });
        ThrowIfRefused(refused);
        var now = clock.GetUtcNow();
        var assigned = 0;
        foreach (var customer in customers.Where(c => c.OwnerId != owner.Id))
        {
            // From the pool a manager assigns directly, past the claim limits (R4.7); the history says it came from the pool.
            var pooled = customer.OwnerId is null ? customer.PoolId : null;
            db.OwnershipChanges.Add(new OwnershipChange
            {
                OrganizationId = customer.OrganizationId, CustomerId = customer.Id, FromId = customer.OwnerId, ToId = owner.Id,
                Reason = reason, ById = me.Id, At = now, Event = pooled is null ? null : OwnershipEvent.AssignedFromPool, PoolId = pooled,
            });
            customer.OwnerId = owner.Id;
            customer.PoolId = null;
            customer.PooledAt = null;
            customer.PoolReason = null;
            customer.ClaimedAt = null;
            customer.AssignedAt = now;
            customer.UpdatedAt = now;
            Inboxes.Add(db, customer.OrganizationId, owner.Id, NotificationKinds.CustomerAssigned,
                new { name = customer.Name, by = me.Scope.UserName }, "/customers", now);
            // The customer's open tasks go with it: the old owner can no longer open it.
            foreach (var task in await db.FollowUpTasks.Where(t => t.CustomerId == customer.Id && t.ClosedAt == null).ToListAsync(ct))
            {
                task.OwnerId = owner.Id;
            }
            assigned++;
        }
        await SaveAsync(ct);
        return new AssignResult(assigned, customers.Count - assigned);
    }

    public async Task<List<OwnershipRow>> LeadHistoryAsync(Guid leadId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        // Through the lead, so its scope decides who may read the history.
        if (!await db.Leads.AnyAsync(l => l.Id == leadId, ct))
        {
            throw Problem.NotFound("Lead");
        }
        return await HistoryAsync(db.OwnershipChanges.Where(o => o.LeadId == leadId), ct);
    }

    public async Task<List<OwnershipRow>> CustomerHistoryAsync(Guid customerId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct))
        {
            throw Problem.NotFound("Customer");
        }
        var leadIds = await db.Leads.Where(l => l.CustomerId == customerId).Select(l => (Guid?)l.Id).ToListAsync(ct);
        // A customer's history starts with the lead it was qualified from.
        return await HistoryAsync(db.OwnershipChanges.Where(o => o.CustomerId == customerId || leadIds.Contains(o.LeadId)), ct);
    }

    private async Task<List<OwnershipRow>> HistoryAsync(IQueryable<OwnershipChange> changes, CancellationToken ct)
    {
        var users = db.Users;
        return await (from o in changes.AsNoTracking()
                      join f in users on o.FromId equals f.Id into fs
                      from f in fs.DefaultIfEmpty()
                      join t in users on o.ToId equals t.Id into ts
                      from t in ts.DefaultIfEmpty()
                      join b in users on o.ById equals b.Id into bs
                      from b in bs.DefaultIfEmpty()
                      join p in db.Pools on o.PoolId equals p.Id into ps
                      from p in ps.DefaultIfEmpty()
                      orderby o.At descending, o.Id descending
                      select new OwnershipRow(o.At, f == null ? null : f.DisplayName, t == null ? null : t.DisplayName,
                          o.Reason, o.Rule, b == null ? null : b.DisplayName, o.Event, p == null ? null : p.Name)).ToListAsync(ct);
    }

    private async Task<(AppUser Owner, string Reason)> CheckAsync(AssignRequest request, CancellationToken ct)
    {
        me.Require(Permission.AssignOwners);
        Problem.ThrowIfInvalid(request);
        var visible = me.Scope.VisibleOwnerIds;
        var owner = await db.Users.SingleOrDefaultAsync(u => u.Id == request.OwnerId, ct);
        if (owner is null || (visible is not null && !visible.Contains(owner.Id)))
        {
            throw Problem.Invalid("ownerId", "The new owner is unknown or outside your team.");
        }
        if (!owner.IsActive)
        {
            throw Problem.Invalid("ownerId", $"{owner.DisplayName} is inactive.");
        }
        if (!RolePermissions.Has(owner.Role, Permission.WorkCustomers))
        {
            throw Problem.Invalid("ownerId", $"{owner.DisplayName} ({owner.Role}) cannot own customers.");
        }
        var reason = request.Reason.Trim();
        if (reason.Length < 2)
        {
            throw Problem.Invalid("reason", "Say why, in at least 2 characters.");
        }
        return (owner, reason);
    }

    private async Task SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw Problem.Conflict("One of these records changed at the same moment (an event, a qualification); nothing was assigned. Try again.");
        }
    }

    private static void ThrowIfRefused(Dictionary<string, string[]> refused)
    {
        if (refused.Count > 0)
        {
            throw new Problem(400, "Invalid input", $"{refused.Count} record(s) cannot be assigned; nothing was changed.", refused);
        }
    }
}
