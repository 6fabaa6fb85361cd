using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pipeline;

public sealed record TaskRow(Guid Id, string Kind, DateTimeOffset DueAt, bool Overdue, Guid? LeadId, Guid? CustomerId, string? Subject, string? Title = null);

/// <summary>The caller's own open tasks, soonest first: what the workbench puts in front of a rep.</summary>
public sealed class MyTasks(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public async Task<List<TaskRow>> OpenAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var now = clock.GetUtcNow();
        var id = me.Id;
        var rows = await (from t in db.FollowUpTasks.AsNoTracking()
                          where t.OwnerId == id && t.ClosedAt == null
                          join l in db.Leads on t.LeadId equals l.Id into ls
                          from l in ls.DefaultIfEmpty()
                          join c in db.Customers on t.CustomerId equals c.Id into cs
                          from c in cs.DefaultIfEmpty()
                          orderby t.DueAt
                          select new { t.Id, t.Kind, t.Title, t.DueAt, t.LeadId, t.CustomerId, Subject = c != null ? c.Name : l != null ? (l.Name ?? l.Company) : null })
            .Take(50).ToListAsync(ct);
        return rows.Select(r => new TaskRow(r.Id, r.Kind, r.DueAt, r.DueAt < now, r.LeadId, r.CustomerId, r.Subject, r.Title)).ToList();
    }
}

public static class TaskEndpoints
{
    public static void MapTasks(this RouteGroupBuilder api) =>
        api.MapGet("/tasks", (MyTasks h, CancellationToken ct) => h.OpenAsync(ct)).WithTags("Tasks");
}
