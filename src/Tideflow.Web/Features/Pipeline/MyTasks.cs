using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pipeline;

public sealed record TaskRow(Guid Id, string Kind, DateTimeOffset DueAt, bool Overdue, Guid? LeadId, Guid? CustomerId, string? Subject, string? Title = null,
    string? NotDoneReason = null);

/// <summary>Why an open task is not done yet (客户出差, 需补充方案 …).</summary>
public sealed record NotDoneRequest([property: Required, MaxLength(500)] string Reason);

/// <summary>The caller's own open tasks, soonest first: what the workbench puts in front of a rep.</summary>
public sealed class MyTasks(TideflowDbContext db, CurrentUser me, TimeProvider clock, Notifications.NotificationText text)
{
    public async Task<List<TaskRow>> OpenAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var now = clock.GetUtcNow();
        var id = me.Id;
        // The first 50 are picked before what they are about is joined: joined first, PostgreSQL looked up the customer
        // or lead of every open task (1,400 for a rep with 2,000 customers) and only then sorted.
        var soonest = db.FollowUpTasks.AsNoTracking().Where(t => t.OwnerId == id && t.ClosedAt == null).OrderBy(t => t.DueAt).Take(50);
        var rows = await (from t in soonest
                          join l in db.Leads on t.LeadId equals l.Id into ls
                          from l in ls.DefaultIfEmpty()
                          join c in db.Customers on t.CustomerId equals c.Id into cs
                          from c in cs.DefaultIfEmpty()
                          orderby t.DueAt
                          select new { t.Id, t.Kind, t.Title, t.DueAt, t.LeadId, t.CustomerId, Subject = c != null ? c.Name : l != null ? (l.Name ?? l.Company) : null, t.NotDoneReason })
            .ToListAsync(ct);
        return rows.Select(r => new TaskRow(r.Id, r.Kind, r.DueAt, r.DueAt < now, r.LeadId, r.CustomerId, r.Subject, r.Title, r.NotDoneReason)).ToList();
    }

    /// <summary>
    /// The owner records why a task is not done (R5.5). When the task was already escalated, the managers who heard of it
    /// hear the reason too; an escalation still to come carries it.
    /// </summary>
    public async Task<TaskRow> ExplainAsync(Guid id, NotDoneRequest request, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        Problem.ThrowIfInvalid(request);
        var reason = request.Reason.Trim();
        if (reason.Length == 0)
        {
            throw Problem.Invalid("reason", "say why the task is not done");
        }
        var task = await db.FollowUpTasks.SingleOrDefaultAsync(t => t.Id == id, ct) ?? throw Problem.NotFound("Task");
        if (task.OwnerId != me.Id)
        {
            throw Problem.Forbidden("Only the task's owner says why it is not done.");
        }
        if (task.ClosedAt is not null)
        {
            throw Problem.Conflict("This task is already closed.");
        }
        var now = clock.GetUtcNow();
        task.NotDoneReason = reason;
        task.NotDoneAt = now;
        if (task.EscalatedAt is not null)
        {
            var owner = await db.Users.AsNoTracking().SingleAsync(u => u.Id == task.OwnerId, ct);
            var managers = await Notifications.TaskReminderJob.ManagersOfAsync(db, task.OrganizationId, [(owner.Id, owner.ManagerId, owner.TeamId)], ct);
            var subject = await SubjectAsync(task, ct);
            var cultures = await Notifications.TaskReminderJob.CulturesOfAsync(db, managers[owner.Id], ct);
            foreach (var manager in managers[owner.Id])
            {
                Notifications.Inboxes.Add(db, task.OrganizationId, manager, Notifications.NotificationKinds.TaskExplained,
                    new { rep = owner.DisplayName, subject = subject ?? "—", task = task.Title ?? text.In(cultures[manager], $"Task_{task.Kind}"), reason },
                    FollowUpTask.LinkFor(task.CustomerId, task.LeadId), now);
            }
        }
        await db.SaveChangesAsync(ct);
        return (await OpenAsync(ct)).FirstOrDefault(t => t.Id == id)
            ?? new TaskRow(task.Id, task.Kind, task.DueAt, task.DueAt < now, task.LeadId, task.CustomerId, await SubjectAsync(task, ct), task.Title, reason);
    }

    private async Task<string?> SubjectAsync(FollowUpTask task, CancellationToken ct) =>
        task.CustomerId is { } c ? await db.Customers.Where(x => x.Id == c).Select(x => x.Name).SingleOrDefaultAsync(ct)
        : task.LeadId is { } l ? await db.Leads.Where(x => x.Id == l).Select(x => x.Name ?? x.Company).SingleOrDefaultAsync(ct)
        : null;
}

public static class TaskEndpoints
{
    public static void MapTasks(this RouteGroupBuilder api)
    {
        api.MapGet("/tasks", (MyTasks h, CancellationToken ct) => h.OpenAsync(ct)).WithTags("Tasks");
        api.MapPost("/tasks/{id:guid}/not-done", (Guid id, NotDoneRequest r, MyTasks h, CancellationToken ct) => h.ExplainAsync(id, r, ct)).WithTags("Tasks");
    }
}
