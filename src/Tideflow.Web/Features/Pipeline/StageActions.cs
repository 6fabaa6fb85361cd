using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pipeline;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Notifications;

namespace Tideflow.Web.Features.Pipeline;

/// <summary>What entering a stage does by itself (<see cref="Stage.OnEnter"/>): tasks and notifications, saved with the move.</summary>
public static class StageActions
{
    public static async Task RunAsync(TideflowDbContext db, Customer customer, Stage entered, CurrentUser me, DateTimeOffset now, CancellationToken ct)
    {
        if (entered.OnEnter.Count == 0)
        {
            return;
        }
        var owner = customer.OwnerId is { } ownerId ? await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == ownerId, ct) : null;
        var managers = owner is null ? []
            : (await TaskReminderJob.ManagersOfAsync(db, customer.OrganizationId, [(owner.Id, owner.ManagerId, owner.TeamId)], ct))[owner.Id].ToList();
        var link = FollowUpTask.LinkFor(customer.Id, null);
        var told = new HashSet<Guid>();
        foreach (var action in entered.OnEnter)
        {
            var people = action.For switch
            {
                StageRole.Owner => owner is null ? [] : [owner.Id],
                StageRole.Manager => managers,
                StageRole.Finance => await ActiveAsync(db, Role.Finance, ct),
                StageRole.Admin => await ActiveAsync(db, Role.Admin, ct),
                _ => [],
            };
            if (action.Kind == StageActionKind.Task)
            {
                foreach (var person in people)
                {
                    db.FollowUpTasks.Add(new FollowUpTask
                    {
                        Id = Guid.CreateVersion7(), OrganizationId = customer.OrganizationId, OwnerId = person, CustomerId = customer.Id,
                        Kind = TaskKinds.StageTask, Title = action.Title, DueAt = now.AddHours(action.DueInHours), CreatedAt = now,
                    });
                }
                continue;
            }
            // The one who made the move needs no message about it, and nobody hears of one move twice.
            foreach (var person in people.Where(p => p != me.Id && told.Add(p)))
            {
                Inboxes.Add(db, customer.OrganizationId, person, NotificationKinds.StageEntered,
                    new { name = customer.Name, stage = entered.Name, by = me.Scope.UserName }, link, now);
            }
        }
    }

    private static Task<List<Guid>> ActiveAsync(TideflowDbContext db, Role role, CancellationToken ct) =>
        db.Users.AsNoTracking().Where(u => u.Role == role && u.IsActive).Select(u => u.Id).ToListAsync(ct);
}
