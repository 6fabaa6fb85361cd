using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

public sealed record PoolLeadQuery(string? Search = null, string? Grade = null, string? SourceTag = null, Guid? PreviousOwnerId = null,
    string? Sort = null, bool Descending = false, int Page = 1, int PageSize = 25);

/// <summary>A lead as the 线索池 shows it: contact details masked until claimed (R9.6).</summary>
public sealed record PoolLeadRow(Guid Id, string? Name, string? Company, string? Mobile, string? Email, string? Grade, int? Score,
    string? SourceTag, DateTimeOffset ArrivedAt, DateTimeOffset PooledAt, string? Reason, Guid? PreviousOwnerId, string? PreviousOwner);

/// <summary>The lead pool (线索池) of a pool the caller belongs to: the open leads nobody owns, to claim.</summary>
public sealed class PoolLeads(TideflowDbContext db, PoolCustomers pools)
{
    public async Task<Page<PoolLeadRow>> LeadsAsync(Guid poolId, PoolLeadQuery q, CancellationToken ct = default)
    {
        await pools.MemberPoolAsync(poolId, ct);
        var query = PoolViews.Waiting(db.Leads.AsNoTracking().Where(l => l.Status == LeadStatus.New), poolId, q.Grade, q.PreviousOwnerId);
        if (!string.IsNullOrWhiteSpace(q.Search))
        {
            var s = q.Search.Trim();
            query = query.Where(l => (l.Name != null && l.Name.Contains(s)) || (l.Company != null && l.Company.Contains(s)));
        }
        if (!string.IsNullOrWhiteSpace(q.SourceTag))
        {
            var tag = q.SourceTag.Trim();
            query = query.Where(l => l.SourceTag == tag);
        }
        return await PoolViews.PageAsync(db, query, q.Sort, q.Descending, q.Page, q.PageSize,
            x => new PoolLeadRow(x.Item.Id, x.Item.Name, x.Item.Company, x.Item.Mobile, x.Item.Email, x.Item.Grade, x.Item.Score,
                x.Item.SourceTag, x.Item.ArrivedAt, x.Item.PooledAt ?? x.Item.UpdatedAt, x.Item.PoolReason, x.Item.PreviousOwnerId, x.Previous),
            r => r with { Mobile = ContactMask.Phone(r.Mobile), Email = ContactMask.Email(r.Email) }, ct);
    }
}
