using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Notifications;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Notifications;

/// <summary>What a user sees of their reminder channels: choices and whether each address is set, never the addresses.</summary>
public sealed record ReminderChoiceView(bool Email, string? EmailAddress, bool DingTalk, bool DingTalkWebhookSet, bool DingTalkSecretSet,
    bool WeCom, bool WeComWebhookSet, string? Mobile, IReadOnlyList<string> AllowedRobotOrigins);

/// <summary>
/// A user's reminder channels. For each robot address and the secret: null keeps what is stored, "" removes it, a value
/// replaces it (the stored one is never shown back). The mobile the robots @-mention: null keeps, "" removes.
/// </summary>
public sealed record ReminderChoiceRequest(bool Email, bool DingTalk, bool WeCom,
    [property: MaxLength(500)] string? DingTalkWebhook = null,
    [property: MaxLength(200)] string? DingTalkSecret = null,
    [property: MaxLength(500)] string? WeComWebhook = null,
    [property: MaxLength(40)] string? Mobile = null);

public sealed record TestReminderRequest(ReminderChannel Channel);

public sealed record TestReminderResult(ReminderChannel Channel, bool Delivered, string? Error);

/// <summary>The signed-in user's own reminder channels (R5.5): choose, save, and send a test through each.</summary>
public sealed class ReminderChoices(TideflowDbContext db, CurrentUser me, ReminderSenders senders, NotificationText text)
{
    public async Task<ReminderChoiceView> GetAsync(CancellationToken ct = default)
    {
        var user = await MeAsync(ct);
        var p = await db.ReminderPreferences.AsNoTracking().SingleOrDefaultAsync(x => x.UserId == me.Id, ct);
        return new ReminderChoiceView(p?.Email ?? false, user.Email, p?.DingTalk ?? false, p?.DingTalkWebhook is not null, p?.DingTalkSecret is not null,
            p?.WeCom ?? false, p?.WeComWebhook is not null, user.PhoneNumber, senders.WebhookOrigins);
    }

    public async Task<ReminderChoiceView> SaveAsync(ReminderChoiceRequest request, CancellationToken ct = default)
    {
        var user = await MeAsync(ct);
        Problem.ThrowIfInvalid(request);
        var p = await db.ReminderPreferences.SingleOrDefaultAsync(x => x.UserId == me.Id, ct);
        if (p is null)
        {
            p = new ReminderPreference { UserId = me.Id, OrganizationId = me.OrganizationId };
            db.ReminderPreferences.Add(p);
        }
        var errors = new Dictionary<string, string[]>();
        p.DingTalkWebhook = Replace(p.DingTalkWebhook, request.DingTalkWebhook, ReminderChannel.DingTalk, "dingTalkWebhook", errors);
        p.DingTalkSecret = Replace(p.DingTalkSecret, request.DingTalkSecret, null, "dingTalkSecret", errors);
        p.WeComWebhook = Replace(p.WeComWebhook, request.WeComWebhook, ReminderChannel.WeCom, "weComWebhook", errors);
        if (request.Email && string.IsNullOrWhiteSpace(user.Email))
        {
            errors["email"] = ["your account has no email address; ask an admin to add one"];
        }
        if (request.DingTalk && p.DingTalkWebhook is null && !errors.ContainsKey("dingTalkWebhook"))
        {
            errors["dingTalkWebhook"] = ["required to remind you on DingTalk"];
        }
        if (request.WeCom && p.WeComWebhook is null && !errors.ContainsKey("weComWebhook"))
        {
            errors["weComWebhook"] = ["required to remind you on WeCom"];
        }
        if (request.Mobile is not null)
        {
            var mobile = Domain.Leads.ContactRules.NormalizePhone(request.Mobile, "CN", out var invalid);
            if (invalid)
            {
                errors["mobile"] = ["not a phone number, e.g. 138 0013 8000"];
            }
            else if (mobile != user.PhoneNumber)
            {
                (await db.Users.SingleAsync(u => u.Id == me.Id, ct)).PhoneNumber = mobile;
            }
        }
        if (errors.Count > 0)
        {
            throw Problem.Invalid(errors);
        }
        p.Email = request.Email;
        p.DingTalk = request.DingTalk;
        p.WeCom = request.WeCom;
        await db.SaveChangesAsync(ct);
        return await GetAsync(ct);
    }

    /// <summary>Sends a test message through one channel now, with the saved set-up, and says whether it got through.</summary>
    public async Task<TestReminderResult> TestAsync(TestReminderRequest request, CancellationToken ct = default)
    {
        var user = await MeAsync(ct);
        var p = await db.ReminderPreferences.AsNoTracking().SingleOrDefaultAsync(x => x.UserId == me.Id, ct);
        var settings = await db.ReminderSettings.AsNoTracking().SingleOrDefaultAsync(s => s.OrganizationId == me.OrganizationId, ct)
            ?? new ReminderSettings { OrganizationId = me.OrganizationId };
        var body = text.Render(NotificationKinds.ReminderTest, new Dictionary<string, string> { ["name"] = user.DisplayName }, user.Culture);
        var link = string.IsNullOrWhiteSpace(settings.AppUrl) ? null : settings.AppUrl.TrimEnd('/') + "/profile";
        db.Audit("reminders.test", "ReminderPreference", me.Id.ToString(), new { channel = request.Channel.ToString() });
        await db.SaveChangesAsync(ct);
        try
        {
            await senders.SendAsync(new OutgoingReminder(request.Channel, "Tideflow · " + body, body, link, user.Email, user.PhoneNumber, senders.RobotsOf(p), settings), ct);
            return new TestReminderResult(request.Channel, true, null);
        }
        catch (DeliveryFailed e)
        {
            return new TestReminderResult(request.Channel, false, e.Message);
        }
    }

    private string? Replace(string? stored, string? given, ReminderChannel? channel, string field, Dictionary<string, string[]> errors)
    {
        if (given is null)
        {
            return stored;
        }
        given = given.Trim();
        if (given.Length == 0)
        {
            return null;
        }
        if (channel is { } c && WebhookAddress.Problem(c, given, senders.WebhookOrigins) is { } problem)
        {
            errors[field] = [problem];
            return stored;
        }
        return senders.Protect(given);
    }

    private async Task<AppUser> MeAsync(CancellationToken ct)
    {
        if (!me.IsAuthenticated || me.Id == Guid.Empty)
        {
            throw Problem.Unauthorized();
        }
        return await db.Users.AsNoTracking().SingleAsync(u => u.Id == me.Id, ct);
    }
}

public sealed record ReminderSettingsView(int EscalateAfterHours, string? AppUrl, string? SmtpHost, int SmtpPort, SmtpSecurity SmtpSecurity,
    string? SmtpUserName, bool SmtpPasswordSet, string? FromAddress, string? FromName);

public sealed record ReminderSettingsRequest(
    [property: Range(0, 720)] int EscalateAfterHours,
    [property: MaxLength(300)] string? AppUrl,
    [property: MaxLength(255)] string? SmtpHost,
    [property: Range(1, 65535)] int SmtpPort,
    SmtpSecurity SmtpSecurity,
    [property: MaxLength(255)] string? SmtpUserName,
    [property: MaxLength(255)] string? SmtpPassword,
    [property: MaxLength(255), EmailAddress] string? FromAddress,
    [property: MaxLength(100)] string? FromName);

public sealed record TestEmailRequest([property: Required, EmailAddress, MaxLength(255)] string To);

public sealed record DeliveryRow(Guid Id, DateTimeOffset CreatedAt, string Recipient, ReminderChannel Channel, string Kind, DeliveryState State,
    int Attempts, DateTimeOffset NextAttemptAt, DateTimeOffset? SentAt, string? LastError);

public sealed record DeliveryList(int Pending, int Failed, DateTimeOffset? OldestPendingDueAt, IReadOnlyList<DeliveryRow> Items);

/// <summary>The admin's side of reminders: the mail server, escalation, and every delivery's state (R5.5).</summary>
public sealed class ReminderSetup(TideflowDbContext db, CurrentUser me, ReminderSenders senders, TimeProvider clock)
{
    public async Task<ReminderSettingsView> GetAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var s = await db.ReminderSettings.AsNoTracking().SingleOrDefaultAsync(x => x.OrganizationId == me.OrganizationId, ct)
            ?? new ReminderSettings { OrganizationId = me.OrganizationId };
        return new ReminderSettingsView(s.EscalateAfterHours, s.AppUrl, s.SmtpHost, s.SmtpPort, s.SmtpSecurity, s.SmtpUserName,
            s.SmtpPassword is not null, s.FromAddress, s.FromName);
    }

    /// <summary>Saves the set-up. The password: null keeps the stored one, "" removes it.</summary>
    public async Task<ReminderSettingsView> SaveAsync(ReminderSettingsRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        Problem.ThrowIfInvalid(request);
        if (!string.IsNullOrWhiteSpace(request.AppUrl)
            && (!Uri.TryCreate(request.AppUrl.Trim(), UriKind.Absolute, out var app) || app.Scheme is not ("http" or "https")))
        {
            throw Problem.Invalid("appUrl", "must be the full address people open Tideflow at, e.g. https://crm.example.com");
        }
        if (!string.IsNullOrWhiteSpace(request.SmtpHost) && string.IsNullOrWhiteSpace(request.FromAddress))
        {
            throw Problem.Invalid("fromAddress", "required when a mail server is set");
        }
        var s = await db.ReminderSettings.SingleOrDefaultAsync(x => x.OrganizationId == me.OrganizationId, ct);
        if (s is null)
        {
            s = new ReminderSettings { OrganizationId = me.OrganizationId };
            db.ReminderSettings.Add(s);
        }
        s.EscalateAfterHours = request.EscalateAfterHours;
        s.AppUrl = Blank(request.AppUrl)?.TrimEnd('/');
        s.SmtpHost = Blank(request.SmtpHost);
        s.SmtpPort = request.SmtpPort;
        s.SmtpSecurity = request.SmtpSecurity;
        s.SmtpUserName = Blank(request.SmtpUserName);
        if (request.SmtpPassword is not null)
        {
            s.SmtpPassword = request.SmtpPassword.Length == 0 ? null : senders.Protect(request.SmtpPassword);
        }
        s.FromAddress = Blank(request.FromAddress);
        s.FromName = Blank(request.FromName);
        await db.SaveChangesAsync(ct);
        return await GetAsync(ct);
    }

    /// <summary>Sends a test email with the saved mail server now: the end-to-end check of the SMTP set-up.</summary>
    public async Task<TestReminderResult> TestEmailAsync(TestEmailRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        Problem.ThrowIfInvalid(request);
        var s = await db.ReminderSettings.AsNoTracking().SingleOrDefaultAsync(x => x.OrganizationId == me.OrganizationId, ct)
            ?? new ReminderSettings { OrganizationId = me.OrganizationId };
        db.Audit("reminders.test-email", "ReminderSettings", me.OrganizationId.ToString(), new { to = request.To });
        await db.SaveChangesAsync(ct);
        try
        {
            await senders.SendAsync(new OutgoingReminder(ReminderChannel.Email, "Tideflow · SMTP test",
                $"This is a test message from Tideflow, sent {clock.GetUtcNow():u}. 测试邮件：提醒邮件配置正确。", s.AppUrl, request.To, null, null, s), ct);
            return new TestReminderResult(ReminderChannel.Email, true, null);
        }
        catch (DeliveryFailed e)
        {
            return new TestReminderResult(ReminderChannel.Email, false, e.Message);
        }
    }

    public async Task<DeliveryList> ListAsync(DeliveryState? state, int take = 100, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        if (take is < 1 or > 500)
        {
            throw Problem.Invalid("take", "between 1 and 500");
        }
        var pending = await db.NotificationDeliveries.CountAsync(d => d.State == DeliveryState.Pending, ct);
        var failed = await db.NotificationDeliveries.CountAsync(d => d.State == DeliveryState.Failed, ct);
        var oldest = await db.NotificationDeliveries.Where(d => d.State == DeliveryState.Pending)
            .OrderBy(d => d.NextAttemptAt).Select(d => (DateTimeOffset?)d.NextAttemptAt).FirstOrDefaultAsync(ct);
        var items = await (from d in db.NotificationDeliveries.AsNoTracking()
                           where state == null || d.State == state
                           join u in db.Users on d.RecipientId equals u.Id
                           // Notifications are filtered to their own recipient; the admin sees only the kind of another's, not its text.
                           join n in db.Notifications.IgnoreQueryFilters().Where(n => n.OrganizationId == me.OrganizationId) on d.NotificationId equals n.Id
                           orderby d.CreatedAt descending, d.Id descending
                           select new DeliveryRow(d.Id, d.CreatedAt, u.DisplayName, d.Channel, n.Kind, d.State, d.Attempts, d.NextAttemptAt, d.SentAt, d.LastError))
            .Take(take).ToListAsync(ct);
        return new DeliveryList(pending, failed, oldest, items);
    }

    /// <summary>Puts a failed delivery back in line with a fresh set of attempts (after the admin fixed the set-up).</summary>
    public async Task<DeliveryRow> RetryAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var now = clock.GetUtcNow();
        var retried = await db.NotificationDeliveries.Where(d => d.Id == id && d.State == DeliveryState.Failed)
            .ExecuteUpdateAsync(d => d.SetProperty(x => x.State, DeliveryState.Pending).SetProperty(x => x.Attempts, 0)
                .SetProperty(x => x.NextAttemptAt, now), ct);
        if (retried == 0)
        {
            throw await db.NotificationDeliveries.AnyAsync(d => d.Id == id, ct)
                ? Problem.Conflict("Only a failed delivery can be retried; this one is waiting or sent.")
                : Problem.NotFound("Delivery");
        }
        db.Audit("reminders.retry", "NotificationDelivery", id.ToString());
        await db.SaveChangesAsync(ct);
        return (await ListAsync(null, 500, ct)).Items.FirstOrDefault(d => d.Id == id)
            ?? throw Problem.NotFound("Delivery");
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

public static class ReminderEndpoints
{
    public static void MapReminders(this RouteGroupBuilder api)
    {
        var mine = api.MapGroup("/me/reminders").WithTags("Reminders");
        mine.MapGet("/", (ReminderChoices h, CancellationToken ct) => h.GetAsync(ct));
        mine.MapPut("/", (ReminderChoiceRequest r, ReminderChoices h, CancellationToken ct) => h.SaveAsync(r, ct));
        mine.MapPost("/test", (TestReminderRequest r, ReminderChoices h, CancellationToken ct) => h.TestAsync(r, ct));

        var admin = api.MapGroup("/reminders").WithTags("Reminders");
        admin.MapGet("/settings", (ReminderSetup h, CancellationToken ct) => h.GetAsync(ct));
        admin.MapPut("/settings", (ReminderSettingsRequest r, ReminderSetup h, CancellationToken ct) => h.SaveAsync(r, ct));
        admin.MapPost("/settings/test-email", (TestEmailRequest r, ReminderSetup h, CancellationToken ct) => h.TestEmailAsync(r, ct));
        admin.MapGet("/deliveries", (DeliveryState? state, int? take, ReminderSetup h, CancellationToken ct) => h.ListAsync(state, take ?? 100, ct));
        admin.MapPost("/deliveries/{id:guid}/retry", (Guid id, ReminderSetup h, CancellationToken ct) => h.RetryAsync(id, ct));
    }
}
