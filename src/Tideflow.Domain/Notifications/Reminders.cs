using System.Security.Cryptography;
using System.Text;

namespace Tideflow.Domain.Notifications;

/// <summary>Where a notification goes besides the in-app bell, each as the user chose (R5.5).</summary>
public enum ReminderChannel
{
    Email,
    DingTalk,
    WeCom,
}

/// <summary>A delivery's life: waiting (first try or a retry), delivered, or given up after the last retry.</summary>
public enum DeliveryState
{
    Pending,
    Sent,
    Failed,
}

/// <summary>
/// Retries with backoff. A robot that is down for a minute, or an SMTP server that greylists, gets the message a little
/// later; one that is wrong for a day is given up on, and the admin sees why.
/// </summary>
public static class DeliveryRetry
{
    private static readonly TimeSpan[] Waits =
    [
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
    ];

    /// <summary>Attempts in all, the first one included.</summary>
    public static int MaxAttempts => Waits.Length + 1;

    /// <summary>When to try again after <paramref name="attemptsMade"/> failed attempts; null: give up.</summary>
    public static DateTimeOffset? NextAttempt(int attemptsMade, DateTimeOffset now) =>
        attemptsMade >= 1 && attemptsMade < MaxAttempts ? now + Waits[attemptsMade - 1] : null;
}

/// <summary>
/// DingTalk's signed group-robot webhook: <c>sign = Base64(HMAC-SHA256(key: secret, message: timestamp + "\n" + secret))</c>,
/// URL-encoded, with the timestamp in milliseconds. DingTalk refuses a timestamp more than an hour off its clock.
/// </summary>
public static class DingTalkSigning
{
    public static string Sign(string secret, long timestampMs)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        var hash = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{timestampMs}\n{secret}"));
        return Convert.ToBase64String(hash);
    }

    /// <summary>The webhook URL with <c>timestamp</c> and <c>sign</c> appended, as DingTalk expects them.</summary>
    public static string SignedUrl(string webhook, string secret, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeMilliseconds();
        var separator = webhook.Contains('?') ? '&' : '?';
        return $"{webhook}{separator}timestamp={timestamp}&sign={Uri.EscapeDataString(Sign(secret, timestamp))}";
    }

    /// <summary>What DingTalk checks on arrival; used by tests and the local receiver the benchmark runs.</summary>
    public static bool Verify(string secret, long timestampMs, string sign, DateTimeOffset now) =>
        Math.Abs(now.ToUnixTimeMilliseconds() - timestampMs) <= TimeSpan.FromHours(1).TotalMilliseconds
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestampMs)), Encoding.ASCII.GetBytes(sign));
}

/// <summary>
/// Which addresses a robot webhook may point at. The app POSTs to whatever a user saves, so it only POSTs where the
/// admin allows (by default the two robots' own hosts over HTTPS), never to the machine's own network.
/// </summary>
public static class WebhookAddress
{
    public static readonly IReadOnlyList<string> DefaultOrigins = ["https://oapi.dingtalk.com", "https://qyapi.weixin.qq.com"];

    /// <summary>Why <paramref name="url"/> cannot be used for <paramref name="channel"/>; null when it can.</summary>
    public static string? Problem(ReminderChannel channel, string url, IEnumerable<string> allowedOrigins)
    {
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return "must be a full https:// address";
        }
        var origin = uri.GetLeftPart(UriPartial.Authority);
        if (!allowedOrigins.Any(o => string.Equals(o.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase)))
        {
            return $"{origin} is not an allowed robot address (allowed: {string.Join(", ", allowedOrigins)})";
        }
        var query = uri.Query;
        return channel switch
        {
            ReminderChannel.DingTalk when !query.Contains("access_token=", StringComparison.Ordinal) =>
                "a DingTalk robot address ends in ?access_token=…",
            ReminderChannel.WeCom when !query.Contains("key=", StringComparison.Ordinal) =>
                "a WeCom robot address ends in ?key=…",
            _ => null,
        };
    }
}

/// <summary>How a group robot @-mentions a user: by the mobile number they use in DingTalk/WeCom, national form for China.</summary>
public static class RobotMention
{
    public static string? Of(string? e164) =>
        string.IsNullOrEmpty(e164) ? null : e164.StartsWith("+86", StringComparison.Ordinal) ? e164[3..] : e164;
}

/// <summary>
/// Task reminders and escalation (R5.5): the owner hears when a task falls due; when it is still open a number of hours
/// later, the owner's manager hears too.
/// </summary>
public static class TaskReminders
{
    public const int DefaultEscalateAfterHours = 24;

    /// <summary>Tasks due at or before this are overdue by at least <paramref name="escalateAfterHours"/>; null: escalation is off (0).</summary>
    public static DateTimeOffset? EscalateDueBefore(int escalateAfterHours, DateTimeOffset now) =>
        escalateAfterHours > 0 ? now - TimeSpan.FromHours(escalateAfterHours) : null;

    /// <summary>Overdue by at least <paramref name="escalateAfterHours"/> (0 turns escalation off).</summary>
    public static bool EscalationDue(DateTimeOffset dueAt, bool open, bool escalated, int escalateAfterHours, DateTimeOffset now) =>
        open && !escalated && EscalateDueBefore(escalateAfterHours, now) is { } cutoff && dueAt <= cutoff;

    /// <summary>
    /// Who hears of an overdue task: the owner's own manager when one is set; otherwise the managers of the owner's team,
    /// or of the nearest team above it that has any (a rep in 华东一组 reports to the 华东 manager). Never the owner
    /// themself: a manager's own overdue task goes further up.
    /// </summary>
    public static IReadOnlyList<Guid> EscalateTo(Guid ownerId, Guid? ownersManager, Guid? ownersTeam,
        IReadOnlyDictionary<Guid, Guid?> parentTeam, ILookup<Guid, Guid> managersByTeam)
    {
        if (ownersManager is { } m && m != ownerId)
        {
            return [m];
        }
        var seen = new HashSet<Guid>();
        for (var team = ownersTeam; team is { } t && seen.Add(t); team = parentTeam.GetValueOrDefault(t))
        {
            var managers = managersByTeam[t].Where(id => id != ownerId).Distinct().ToList();
            if (managers.Count > 0)
            {
                return managers;
            }
        }
        return [];
    }
}
