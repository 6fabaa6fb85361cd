using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Notifications;

/// <summary>
/// An in-app message for one user. Stored as a kind plus parameters, so each reader sees it in their own language.
/// Email, DingTalk and WeCom copies go out as <see cref="NotificationDelivery"/> rows, planned in the same save.
/// </summary>
public sealed class Notification : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid RecipientId { get; set; }
    public required string Kind { get; set; }
    /// <summary>JSON object of the values the message names.</summary>
    public string? Parameters { get; set; }
    public string? Link { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ReadAt { get; set; }
}

public static class NotificationKinds
{
    /// <summary>Someone the recipient owns came back through a channel (R1.3).</summary>
    public const string ContactReturned = "contact-returned";
    /// <summary>A lead was routed or handed to the recipient (R3.5).</summary>
    public const string LeadAssigned = "lead-assigned";
    /// <summary>Several leads were routed to the recipient at once (an import): one message, not one each.</summary>
    public const string LeadsAssigned = "leads-assigned";
    /// <summary>A lead the recipient owns changed grade after a behaviour event (R2.3).</summary>
    public const string LeadRegraded = "lead-regraded";
    /// <summary>A manager handed the recipient a customer (R3.4).</summary>
    public const string CustomerAssigned = "customer-assigned";
    /// <summary>The sweep took one of the recipient's customers back to the pool (R4.4).</summary>
    public const string CustomerReclaimed = "customer-reclaimed";
    /// <summary>Several of the recipient's customers went back to the pool in one sweep (one message, not one each).</summary>
    public const string CustomersReclaimed = "customers-reclaimed";
    /// <summary>Several of the recipient's customers will be reclaimed soon unless followed up.</summary>
    public const string ReclaimWarnings = "reclaim-warnings";
    /// <summary>One of the recipient's customers will be reclaimed soon unless followed up (R4.3).</summary>
    public const string ReclaimWarning = "reclaim-warning";
    /// <summary>A manager returned one of the recipient's customers to the pool (R4.5).</summary>
    public const string CustomerReleased = "customer-released";
    /// <summary>A manager returned one of the recipient's leads to the lead pool.</summary>
    public const string LeadReleased = "lead-released";
    /// <summary>One of the recipient's tasks is due now (R5.5).</summary>
    public const string TaskDue = "task-due";
    /// <summary>Several of the recipient's tasks fell due since the last round.</summary>
    public const string TasksDue = "tasks-due";
    /// <summary>A task of one of the recipient's reps is overdue by the escalation threshold.</summary>
    public const string TaskOverdue = "task-overdue";
    /// <summary>As <see cref="TaskOverdue"/>, with the rep's account of why it is not done.</summary>
    public const string TaskOverdueExplained = "task-overdue-explained";
    /// <summary>Several tasks of the recipient's reps became overdue since the last round.</summary>
    public const string TasksOverdue = "tasks-overdue";
    /// <summary>A rep explained an escalated task after the escalation went out.</summary>
    public const string TaskExplained = "task-explained";
    /// <summary>A customer entered a stage whose action tells the recipient's role (R5.1).</summary>
    public const string StageEntered = "stage-entered";
    /// <summary>The user pressed "send test reminder".</summary>
    public const string ReminderTest = "reminder-test";
}

public sealed record NotificationRow(Guid Id, string Kind, IReadOnlyDictionary<string, string> Parameters, string? Link,
    DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

public sealed record Inbox(int Unread, IReadOnlyList<NotificationRow> Items);

/// <summary>A user's own notifications; the DbContext filter shows nobody else's.</summary>
public sealed class Inboxes(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    /// <summary>"张三、李四、王五 …": the first three names of a digest.</summary>
    public static string FirstNames(IEnumerable<string> names)
    {
        var all = names.ToList();
        return string.Join("、", all.Take(3)) + (all.Count > 3 ? " …" : "");
    }

    public async Task<Inbox> GetAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var unread = await db.Notifications.CountAsync(n => n.ReadAt == null, ct);
        var items = await db.Notifications.AsNoTracking().OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id).Take(30).ToListAsync(ct);
        return new Inbox(unread, items.Select(n => new NotificationRow(n.Id, n.Kind, NotificationText.Parse(n.Parameters),
            n.Link, n.CreatedAt, n.ReadAt)).ToList());
    }

    /// <summary>How many are unread: what the bell's badge polls.</summary>
    public Task<int> UnreadAsync(CancellationToken ct = default) =>
        me.IsAuthenticated ? db.Notifications.CountAsync(n => n.ReadAt == null, ct) : throw Problem.Unauthorized();

    public async Task<Inbox> MarkReadAsync(Guid? id, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var now = clock.GetUtcNow();
        var unread = await db.Notifications.Where(n => n.ReadAt == null && (id == null || n.Id == id)).ToListAsync(ct);
        if (id is not null && unread.Count == 0 && !await db.Notifications.AnyAsync(n => n.Id == id, ct))
        {
            throw Problem.NotFound("Notification");
        }
        foreach (var n in unread)
        {
            n.ReadAt = now;
        }
        await db.SaveChangesAsync(ct);
        return await GetAsync(ct);
    }

    /// <summary>Queues a notification in the caller's unit of work; it is saved with the change that caused it.</summary>
    public static void Add(TideflowDbContext db, Guid organizationId, Guid recipientId, string kind, object parameters, string? link, DateTimeOffset now) =>
        db.Notifications.Add(new Notification
        {
            Id = Guid.CreateVersion7(), OrganizationId = organizationId, RecipientId = recipientId, Kind = kind,
            Parameters = JsonSerializer.Serialize(parameters), Link = link, CreatedAt = now,
        });
}

public static class NotificationEndpoints
{
    public static void MapNotifications(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/notifications").WithTags("Notifications");
        g.MapGet("/", (Inboxes h, CancellationToken ct) => h.GetAsync(ct));
        g.MapPost("/{id:guid}/read", (Guid id, Inboxes h, CancellationToken ct) => h.MarkReadAsync(id, ct));
        g.MapPost("/read-all", (Inboxes h, CancellationToken ct) => h.MarkReadAsync(null, ct));
    }
}
