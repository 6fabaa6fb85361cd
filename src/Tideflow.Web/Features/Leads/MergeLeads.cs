using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

public sealed record SuspectedDuplicate(LeadRow A, LeadRow B);

/// <param name="TotpCode">The current code of the merger's authenticator: a merge is a sensitive operation (R9.4).</param>
public sealed record MergeRequest(Guid IntoId, string? TotpCode = null);

public sealed record UndoMergeRequest(string? TotpCode = null);

public sealed record MergeView(Guid Id, Guid SurvivorId, Guid MergedId, DateTimeOffset At, DateTimeOffset? UndoneAt);

/// <summary>
/// Same company and a similar name, but no shared mobile or email: the system cannot be sure, a manager decides.
/// A merge moves every touch and contact key to the survivor and records what moved, so an admin can undo it.
/// </summary>
public sealed class MergeLeads(TideflowDbContext db, CurrentUser me, TimeProvider clock, SecondFactor secondFactor)
{
    private sealed record Moved(List<Guid> Touches, List<long> Keys, Dictionary<string, string?> FilledFields);

    public async Task<List<SuspectedDuplicate>> SuspectedAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        // Only leads that share a company key with another are candidates; the rule then compares names.
        var shared = db.Leads.Where(l => l.CompanyKey != null && (l.Status == LeadStatus.New || l.Status == LeadStatus.Queued))
            .GroupBy(l => l.CompanyKey).Where(g => g.Count() > 1).Select(g => g.Key);
        var leads = await db.Leads.AsNoTracking()
            .Where(l => l.Name != null && (l.Status == LeadStatus.New || l.Status == LeadStatus.Queued) && shared.Contains(l.CompanyKey))
            .OrderBy(l => l.CompanyKey).Take(5000).ToListAsync(ct);
        var byId = (await Rows(leads.Select(l => l.Id).ToList(), ct)).ToDictionary(r => r.Id);
        var pairs = new List<SuspectedDuplicate>();
        foreach (var group in leads.GroupBy(l => l.CompanyKey))
        {
            var list = group.OrderBy(l => l.ArrivedAt).ToList();
            for (var i = 0; i < list.Count; i++)
            {
                for (var j = i + 1; j < list.Count; j++)
                {
                    if (DuplicateRules.IsSuspectedDuplicate(Contact(list[i]), Contact(list[j])))
                    {
                        pairs.Add(new SuspectedDuplicate(byId[list[i].Id], byId[list[j].Id]));
                    }
                }
            }
        }
        return pairs.Take(200).ToList();
    }

    public async Task<MergeView> MergeAsync(Guid mergedId, MergeRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        if (mergedId == request.IntoId)
        {
            throw Problem.Invalid("intoId", "A lead cannot be merged into itself.");
        }
        var merged = await db.Leads.SingleOrDefaultAsync(l => l.Id == mergedId, ct) ?? throw Problem.NotFound("Lead");
        await secondFactor.RequireFreshCodeAsync(request.TotpCode, ct);
        var survivor = await db.Leads.SingleOrDefaultAsync(l => l.Id == request.IntoId, ct) ?? throw Problem.NotFound("Lead");
        if (merged.Status == LeadStatus.Merged || survivor.Status == LeadStatus.Merged)
        {
            throw Problem.Conflict("One of the two leads is already merged.");
        }
        if (merged.Status == LeadStatus.Qualified || survivor.Status == LeadStatus.Qualified)
        {
            throw Problem.Conflict("One of the two leads is already a customer; work the customer instead.");
        }
        var touches = await db.LeadTouches.Where(t => t.LeadId == mergedId).ToListAsync(ct);
        var keys = await db.ContactKeys.Where(k => k.LeadId == mergedId).ToListAsync(ct);
        var filled = new Dictionary<string, string?>();
        void Fill(string field, string? survivorValue, string? mergedValue, Action<string?> set)
        {
            if (survivorValue is null && mergedValue is not null)
            {
                filled[field] = null;
                set(mergedValue);
            }
        }
        Fill(nameof(Lead.Name), survivor.Name, merged.Name, v => survivor.Name = v);
        Fill(nameof(Lead.Company), survivor.Company, merged.Company, v => survivor.Company = v);
        Fill(nameof(Lead.Mobile), survivor.Mobile, merged.Mobile, v => survivor.Mobile = v);
        Fill(nameof(Lead.Email), survivor.Email, merged.Email, v => survivor.Email = v);
        foreach (var t in touches) t.LeadId = survivor.Id;
        foreach (var k in keys) k.LeadId = survivor.Id;
        var merge = new LeadMerge
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, SurvivorId = survivor.Id, MergedId = merged.Id,
            MergedStatusBefore = merged.Status, ById = me.Id, At = clock.GetUtcNow(),
            Moved = JsonSerializer.Serialize(new Moved(touches.Select(t => t.Id).ToList(), keys.Select(k => k.Id).ToList(), filled)),
        };
        merged.Status = LeadStatus.Merged;
        // Nobody works a merged lead any more: its open tasks close (the survivor's owner has their own).
        foreach (var task in await db.FollowUpTasks.Where(t => t.LeadId == mergedId && t.ClosedAt == null).ToListAsync(ct))
        {
            (task.ClosedAt, task.ClosedReason) = (merge.At, "merged");
        }
        merged.MergedIntoId = survivor.Id;
        merged.UpdatedAt = survivor.UpdatedAt = merge.At;
        db.Add(merge);
        db.LeadTouches.Add(new LeadTouch { Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, LeadId = survivor.Id, Kind = "merge", At = merge.At, Ip = me.Ip,
            RawPayload = JsonSerializer.Serialize(new { merged = merged.Id, merged.Name, merged.Mobile, merged.Email }) });
        // Both leads carry their status as a concurrency token: a merge racing another merge or a review loses cleanly.
        survivor.UpdatedAt = merge.At;
        db.Entry(survivor).Property(l => l.Status).IsModified = true;
        await SaveOrConflictAsync(ct);
        return View(merge);
    }

    /// <summary>Admin only: everything that moved goes back, the merged lead returns to what it was.</summary>
    public async Task<MergeView> UndoAsync(Guid mergeId, UndoMergeRequest? request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageUsers);
        var merge = await db.Set<LeadMerge>().SingleOrDefaultAsync(m => m.Id == mergeId, ct) ?? throw Problem.NotFound("Merge");
        await secondFactor.RequireFreshCodeAsync(request?.TotpCode, ct);
        if (merge.UndoneAt is not null)
        {
            throw Problem.Conflict("This merge was already undone.");
        }
        var moved = JsonSerializer.Deserialize<Moved>(merge.Moved)!;
        var merged = await db.Leads.SingleOrDefaultAsync(l => l.Id == merge.MergedId, ct) ?? throw Problem.NotFound("Lead");
        var survivor = await db.Leads.SingleOrDefaultAsync(l => l.Id == merge.SurvivorId, ct) ?? throw Problem.NotFound("Lead");
        if (survivor.Status == LeadStatus.Merged)
        {
            throw Problem.Conflict("The surviving lead has since been merged itself; undo that merge first.");
        }
        // One unit of work: touches and keys move back, the merge is marked undone, or nothing happens.
        foreach (var t in await db.LeadTouches.Where(t => moved.Touches.Contains(t.Id)).ToListAsync(ct)) t.LeadId = merged.Id;
        foreach (var k in await db.ContactKeys.Where(k => moved.Keys.Contains(k.Id)).ToListAsync(ct)) k.LeadId = merged.Id;
        foreach (var field in moved.FilledFields.Keys)
        {
            switch (field)
            {
                case nameof(Lead.Name): survivor.Name = null; break;
                case nameof(Lead.Company): survivor.Company = null; break;
                case nameof(Lead.Mobile): survivor.Mobile = null; break;
                case nameof(Lead.Email): survivor.Email = null; break;
            }
        }
        merged.Status = merge.MergedStatusBefore;
        merged.MergedIntoId = null;
        merge.UndoneAt = clock.GetUtcNow();
        db.Audit("merge-undone", nameof(LeadMerge), merge.Id.ToString(), new { survivor = survivor.Id, merged = merged.Id, moved.Touches.Count });
        await SaveOrConflictAsync(ct);
        return View(merge);
    }

    public async Task<List<MergeView>> ForLeadAsync(Guid leadId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        _ = await db.Leads.AsNoTracking().AnyAsync(l => l.Id == leadId, ct) ? true : throw Problem.NotFound("Lead");
        return (await db.Set<LeadMerge>().AsNoTracking().Where(m => m.SurvivorId == leadId || m.MergedId == leadId).ToListAsync(ct))
            .OrderByDescending(m => m.At).Select(View).ToList();
    }

    private async Task SaveOrConflictAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw Problem.Conflict("One of these leads was changed by someone else just now; reload and try again.");
        }
    }

    private Task<List<LeadRow>> Rows(List<Guid> ids, CancellationToken ct) =>
        Leads.Project(db, db.Leads.AsNoTracking().Where(l => ids.Contains(l.Id))).ToListAsync(ct);

    private static NormalizedContact Contact(Lead l) => new(l.Name, l.Company, l.CompanyKey, l.Mobile, l.Email, []);

    private static MergeView View(LeadMerge m) => new(m.Id, m.SurvivorId, m.MergedId, m.At, m.UndoneAt);
}

public static class MergeEndpoints
{
    public static void MapMerges(this RouteGroupBuilder api)
    {
        api.MapGet("/leads/suspected-duplicates", (MergeLeads h, CancellationToken ct) => h.SuspectedAsync(ct)).WithTags("Leads");
        api.MapPost("/leads/{id:guid}/merge", (Guid id, MergeRequest r, MergeLeads h, CancellationToken ct) => h.MergeAsync(id, r, ct)).WithTags("Leads");
        api.MapGet("/leads/{id:guid}/merges", (Guid id, MergeLeads h, CancellationToken ct) => h.ForLeadAsync(id, ct)).WithTags("Leads");
        api.MapPost("/merges/{id:guid}/undo", (Guid id, UndoMergeRequest? r, MergeLeads h, CancellationToken ct) => h.UndoAsync(id, r, ct)).WithTags("Leads");
    }
}
