using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Notifications;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Notifications;

/// <summary>An open task with what its messages name.</summary>
internal sealed record DueTask(Guid Id, Guid OrganizationId, Guid OwnerId, string Kind, string? Title, Guid? LeadId, Guid? CustomerId,
    string? Subject, DateTimeOffset DueAt, string? NotDoneReason, string OwnerName, Guid? OwnerManagerId, Guid? OwnerTeamId)
{
    public string Link => FollowUpTask.LinkFor(CustomerId, LeadId);
}

/// <summary>
/// Task reminders and escalation (R5.5), run by the scheduler on whichever node holds its lease. A task is reminded once
/// (<see cref="FollowUpTask.RemindedAt"/>) and escalated once (<see cref="FollowUpTask.EscalatedAt"/>), each stamped in
/// the same transaction as the notifications, by an UPDATE that only touches rows not yet stamped. Several tasks for
/// one person in one round make one message, not a flood (after an outage, or the first run after an upgrade).
/// </summary>
public sealed class TaskReminderJob(TideflowDbContext db, NotificationText text) : IScheduledJob
{
    public const string Name = "task-reminders";
    private const int Chunk = 1000;

    public async Task<string> RunAsync(DateTimeOffset now, Guid? organizationId, CancellationToken ct)
    {
        var organizations = await db.Organizations.Where(o => organizationId == null || o.Id == organizationId).Select(o => o.Id).ToListAsync(ct);
        var hours = await db.ReminderSettings.Where(s => organizations.Contains(s.OrganizationId))
            .ToDictionaryAsync(s => s.OrganizationId, s => s.EscalateAfterHours, ct);
        int reminded = 0, escalated = 0;
        foreach (var org in organizations)
        {
            reminded += await RemindAsync(org, now, ct);
            escalated += await EscalateAsync(org, hours.GetValueOrDefault(org, TaskReminders.DefaultEscalateAfterHours), now, ct);
        }
        return $"reminded {reminded}, escalated {escalated}";
    }

    private IQueryable<DueTask> Open(Guid org, Expression<Func<FollowUpTask, bool>> which) =>
        from t in db.FollowUpTasks.AsNoTracking().Where(which)
        where t.OrganizationId == org && t.ClosedAt == null
        join u in db.Users on t.OwnerId equals u.Id
        join l in db.Leads on t.LeadId equals l.Id into ls
        from l in ls.DefaultIfEmpty()
        join c in db.Customers on t.CustomerId equals c.Id into cs
        from c in cs.DefaultIfEmpty()
        orderby t.DueAt, t.Id
        select new DueTask(t.Id, t.OrganizationId, t.OwnerId, t.Kind, t.Title, t.LeadId, t.CustomerId,
            c != null ? c.Name : l != null ? (l.Name ?? l.Company) : null, t.DueAt, t.NotDoneReason, u.DisplayName, u.ManagerId, u.TeamId);

    private async Task<int> RemindAsync(Guid org, DateTimeOffset now, CancellationToken ct)
    {
        var total = 0;
        while (true)
        {
            var due = await Open(org, t => t.RemindedAt == null && t.DueAt <= now)
                .Take(Chunk).ToListAsync(ct);
            if (due.Count == 0)
            {
                return total;
            }
            var cultures = await CulturesAsync(due.Select(t => t.OwnerId), ct);
            total += await StampAndNotifyAsync(org, due.Select(t => t.Id).ToList(), stampEscalated: false, now, () =>
            {
                foreach (var owned in due.GroupBy(t => t.OwnerId))
                {
                    var culture = cultures.GetValueOrDefault(owned.Key, "zh-CN");
                    if (owned.Count() == 1)
                    {
                        var t = owned.Single();
                        Inboxes.Add(db, org, t.OwnerId, NotificationKinds.TaskDue, new { subject = t.Subject ?? "—", task = Describe(t, culture) }, t.Link, now);
                    }
                    else
                    {
                        Inboxes.Add(db, org, owned.Key, NotificationKinds.TasksDue,
                            new { count = owned.Count().ToString(), names = Names(owned) }, "/", now);
                    }
                }
            }, ct);
            if (due.Count < Chunk)
            {
                return total;
            }
        }
    }

    private async Task<int> EscalateAsync(Guid org, int afterHours, DateTimeOffset now, CancellationToken ct)
    {
        if (TaskReminders.EscalateDueBefore(afterHours, now) is not { } overdueBefore)
        {
            return 0;
        }
        var total = 0;
        while (true)
        {
            var overdue = await Open(org, t => t.EscalatedAt == null && t.DueAt <= overdueBefore)
                .Take(Chunk).ToListAsync(ct);
            if (overdue.Count == 0)
            {
                return total;
            }
            var managers = await ManagersOfAsync(db, org, overdue.Select(t => (t.OwnerId, t.OwnerManagerId, t.OwnerTeamId)), ct);
            var byManager = overdue.SelectMany(t => managers[t.OwnerId].Select(manager => (Manager: manager, Task: t)))
                .GroupBy(x => x.Manager, x => x.Task).ToList();
            var cultures = await CulturesAsync(byManager.Select(g => g.Key), ct);
            total += await StampAndNotifyAsync(org, overdue.Select(t => t.Id).ToList(), stampEscalated: true, now, () =>
            {
                foreach (var tasks in byManager)
                {
                    var culture = cultures.GetValueOrDefault(tasks.Key, "zh-CN");
                    if (tasks.Count() == 1)
                    {
                        var t = tasks.Single();
                        object parameters = t.NotDoneReason is null
                            ? new { rep = t.OwnerName, subject = t.Subject ?? "—", task = Describe(t, culture), hours = afterHours.ToString() }
                            : new { rep = t.OwnerName, subject = t.Subject ?? "—", task = Describe(t, culture), hours = afterHours.ToString(), reason = t.NotDoneReason };
                        Inboxes.Add(db, org, tasks.Key, t.NotDoneReason is null ? NotificationKinds.TaskOverdue : NotificationKinds.TaskOverdueExplained, parameters, t.Link, now);
                    }
                    else
                    {
                        Inboxes.Add(db, org, tasks.Key, NotificationKinds.TasksOverdue, new
                        {
                            count = tasks.Count().ToString(), reps = string.Join("、", tasks.Select(t => t.OwnerName).Distinct()), hours = afterHours.ToString(),
                        }, "/", now);
                    }
                }
            }, ct);
            if (overdue.Count < Chunk)
            {
                return total;
            }
        }
    }

    /// <summary>
    /// Stamps the tasks and saves the notifications in one transaction. Only rows still unstamped are stamped; should
    /// any have been stamped meanwhile (a second runner despite the lease), nothing is sent and the next round re-reads.
    /// </summary>
    private async Task<int> StampAndNotifyAsync(Guid org, List<Guid> ids, bool stampEscalated, DateTimeOffset now, Action addNotifications, CancellationToken ct) =>
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var stamped = stampEscalated
                ? await db.FollowUpTasks.Where(t => ids.Contains(t.Id) && t.EscalatedAt == null)
                    .ExecuteUpdateAsync(t => t.SetProperty(x => x.EscalatedAt, now), ct)
                : await db.FollowUpTasks.Where(t => ids.Contains(t.Id) && t.RemindedAt == null)
                    .ExecuteUpdateAsync(t => t.SetProperty(x => x.RemindedAt, now), ct);
            if (stamped != ids.Count)
            {
                await tx.RollbackAsync(ct);
                return 0;
            }
            addNotifications();
            db.Audit(stampEscalated ? "tasks.escalated" : "tasks.reminded", "FollowUpTask", null, new { count = ids.Count },
                organizationId: org, actorName: "system");
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            db.ChangeTracker.Clear();
            return ids.Count;
        });

    /// <summary>Who hears of each owner's overdue tasks (<see cref="TaskReminders.EscalateTo"/>), looked up for many owners at once.</summary>
    internal static async Task<ILookup<Guid, Guid>> ManagersOfAsync(TideflowDbContext db, Guid org,
        IEnumerable<(Guid Owner, Guid? Manager, Guid? Team)> owners, CancellationToken ct)
    {
        var distinct = owners.Distinct().ToList();
        if (distinct.All(o => o.Manager is not null && o.Manager != o.Owner))
        {
            return distinct.ToLookup(o => o.Owner, o => o.Manager!.Value);
        }
        // Teams and managers are a few rows per organisation: read once, walk in memory.
        var parents = await db.Teams.AsNoTracking().Where(t => t.OrganizationId == org).ToDictionaryAsync(t => t.Id, t => t.ParentTeamId, ct);
        var managers = (await db.Users.AsNoTracking().Where(u => u.OrganizationId == org && u.IsActive && u.Role == Role.Manager && u.TeamId != null)
            .Select(u => new { u.Id, u.TeamId }).ToListAsync(ct)).ToLookup(u => u.TeamId!.Value, u => u.Id);
        return distinct.SelectMany(o => TaskReminders.EscalateTo(o.Owner, o.Manager, o.Team, parents, managers).Select(manager => (o.Owner, Manager: manager)))
            .ToLookup(x => x.Owner, x => x.Manager);
    }

    private Task<Dictionary<Guid, string>> CulturesAsync(IEnumerable<Guid> users, CancellationToken ct) => CulturesOfAsync(db, users, ct);

    /// <summary>Each user's language, for values written into their notifications.</summary>
    internal static Task<Dictionary<Guid, string>> CulturesOfAsync(TideflowDbContext db, IEnumerable<Guid> users, CancellationToken ct)
    {
        var ids = users.Distinct().ToList();
        return db.Users.AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Culture, ct);
    }

    private string Describe(DueTask t, string culture) => t.Title ?? text.In(culture, $"Task_{t.Kind}");

    private static string Names(IEnumerable<DueTask> tasks)
    {
        var names = tasks.Select(t => t.Subject ?? "—").Distinct().ToList();
        return string.Join("、", names.Take(5)) + (names.Count > 5 ? "…" : "");
    }
}
