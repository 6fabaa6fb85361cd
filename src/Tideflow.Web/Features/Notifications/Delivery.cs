using Tideflow.Domain.Notifications;
using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Notifications;

/// <summary>
/// One notification on its way to one outside channel (email, DingTalk, WeCom). Written in the same save as the
/// notification, so nothing is announced that is not also stored; the dispatcher leases it, sends it and books the result.
/// </summary>
public sealed class NotificationDelivery : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid NotificationId { get; set; }
    public Guid RecipientId { get; set; }
    public ReminderChannel Channel { get; set; }
    public DeliveryState State { get; set; }
    /// <summary>Attempts made so far, including one in flight.</summary>
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    /// <summary>Which dispatcher round holds it, and until when: with two app nodes, only the holder sends.</summary>
    public Guid? LeaseToken { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A user's choice of reminder channels (R5.5). Robot addresses and the DingTalk secret are stored encrypted.</summary>
public sealed class ReminderPreference : IOrganizationOwned
{
    public Guid UserId { get; set; }
    public Guid OrganizationId { get; set; }
    public bool Email { get; set; }
    public bool DingTalk { get; set; }
    public string? DingTalkWebhook { get; set; }
    public string? DingTalkSecret { get; set; }
    public bool WeCom { get; set; }
    public string? WeComWebhook { get; set; }

    public IEnumerable<ReminderChannel> Chosen()
    {
        if (Email) yield return ReminderChannel.Email;
        if (DingTalk) yield return ReminderChannel.DingTalk;
        if (WeCom) yield return ReminderChannel.WeCom;
    }
}

/// <summary>An organisation's reminder set-up, edited by the admin: the mail server, escalation, the address links point to.</summary>
public sealed class ReminderSettings : IOrganizationOwned
{
    public Guid OrganizationId { get; set; }
    public int EscalateAfterHours { get; set; } = TaskReminders.DefaultEscalateAfterHours;
    /// <summary>Where people open Tideflow ("https://crm.example.com"); messages outside the app link there.</summary>
    public string? AppUrl { get; set; }
    public string? SmtpHost { get; set; }
    public int SmtpPort { get; set; } = 587;
    public SmtpSecurity SmtpSecurity { get; set; } = SmtpSecurity.StartTls;
    public string? SmtpUserName { get; set; }
    public string? SmtpPassword { get; set; }
    public string? FromAddress { get; set; }
    public string? FromName { get; set; }
}

public enum SmtpSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS (port 587).</summary>
    StartTls,
    /// <summary>TLS from the first byte (port 465).</summary>
    SslOnConnect,
    /// <summary>No encryption: only for a relay on the same machine or network.</summary>
    None,
}
