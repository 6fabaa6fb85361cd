using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using MailKit.Net.Smtp;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Localization;
using MimeKit;
using Tideflow.Domain.Notifications;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Notifications;

/// <summary>A send that did not get through. Permanent ones (nothing configured) are not retried: retrying cannot help.</summary>
public sealed class DeliveryFailed(string reason, bool permanent = false) : Exception(reason)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>What one delivery needs to leave the building: the rendered text and where it goes.</summary>
public sealed record OutgoingReminder(ReminderChannel Channel, string Subject, string Text, string? Link,
    string? Email, string? Mobile, RobotAddresses? Robots, ReminderSettings Settings);

/// <summary>A user's robot addresses and DingTalk secret, decrypted, for the moment of sending.</summary>
public sealed record RobotAddresses(string? DingTalkWebhook, string? DingTalkSecret, string? WeComWebhook);

/// <summary>A notification in its reader's language, for channels outside the app.</summary>
public sealed class NotificationText(IStringLocalizer<Strings> strings)
{
    public string Render(string kind, IReadOnlyDictionary<string, string> parameters, string culture) =>
        InCulture(culture, () => Format(strings, kind, parameters));

    /// <summary>A localized string in <paramref name="culture"/>, for values rendered into a notification when it is written.</summary>
    public string In(string culture, string key) => InCulture(culture, () => strings[key].Value);

    // The localizer reads the current UI culture; a job renders for many readers in turn.
    private static string InCulture(string culture, Func<string> render)
    {
        var previous = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo(culture);
            return render();
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }

    /// <summary>Parameters are stored in the order the message names them.</summary>
    public static string Format(IStringLocalizer localizer, string kind, IReadOnlyDictionary<string, string> parameters) =>
        string.Format(localizer[$"Notification_{kind}"], parameters.Values.Cast<object>().ToArray());

    public static IReadOnlyDictionary<string, string> Parse(string? parameters) =>
        parameters is null ? new Dictionary<string, string>() : JsonSerializer.Deserialize<Dictionary<string, string>>(parameters)!;
}

/// <summary>
/// Sends one reminder over email (SMTP via MailKit), a DingTalk group robot (signed) or a WeCom group robot. Secrets
/// are stored encrypted with the app's data-protection keys, which live in the database, so every node can read them.
/// </summary>
public sealed class ReminderSenders(IHttpClientFactory http, IDataProtectionProvider protection, IConfiguration config, TimeProvider clock)
{
    public const string HttpClientName = "reminders";
    private readonly IDataProtector secrets = protection.CreateProtector("Tideflow.Reminders.Secrets");

    public string Protect(string value) => secrets.Protect(value);

    public string? Unprotect(string? value) => value is null ? null : secrets.Unprotect(value);

    /// <summary>Decrypted once per recipient and batch, not once per message.</summary>
    public RobotAddresses? RobotsOf(ReminderPreference? p) =>
        p is null ? null : new(Unprotect(p.DingTalkWebhook), Unprotect(p.DingTalkSecret), Unprotect(p.WeComWebhook));

    /// <summary>Robot addresses the admin allows (Reminders:WebhookOrigins); by default DingTalk's and WeCom's own.</summary>
    public IReadOnlyList<string> WebhookOrigins =>
        config.GetSection("Reminders:WebhookOrigins").Get<string[]>() is { Length: > 0 } origins ? origins : WebhookAddress.DefaultOrigins;

    public Task SendAsync(OutgoingReminder r, CancellationToken ct) => r.Channel switch
    {
        ReminderChannel.Email => SendEmailAsync(r, ct),
        ReminderChannel.DingTalk => SendDingTalkAsync(r, ct),
        ReminderChannel.WeCom => SendWeComAsync(r, ct),
        _ => throw new DeliveryFailed($"Unknown channel {r.Channel}", permanent: true),
    };

    private async Task SendEmailAsync(OutgoingReminder r, CancellationToken ct)
    {
        var s = r.Settings;
        if (string.IsNullOrWhiteSpace(s.SmtpHost) || string.IsNullOrWhiteSpace(s.FromAddress))
        {
            throw new DeliveryFailed("No mail server is set up (admin: Reminders settings).", permanent: true);
        }
        if (string.IsNullOrWhiteSpace(r.Email))
        {
            throw new DeliveryFailed("The recipient's account has no email address.", permanent: true);
        }
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(s.FromName ?? "Tideflow", s.FromAddress));
        message.To.Add(MailboxAddress.Parse(r.Email));
        message.Subject = r.Subject;
        message.Body = new TextPart("plain") { Text = r.Link is null ? r.Text : $"{r.Text}\n\n{r.Link}" };
        using var smtp = new SmtpClient { Timeout = (int)TimeSpan.FromSeconds(15).TotalMilliseconds };
        try
        {
            await smtp.ConnectAsync(s.SmtpHost, s.SmtpPort, s.SmtpSecurity switch
            {
                SmtpSecurity.SslOnConnect => MailKit.Security.SecureSocketOptions.SslOnConnect,
                SmtpSecurity.None => MailKit.Security.SecureSocketOptions.None,
                _ => MailKit.Security.SecureSocketOptions.StartTls,
            }, ct);
            if (!string.IsNullOrEmpty(s.SmtpUserName))
            {
                await smtp.AuthenticateAsync(s.SmtpUserName, Unprotect(s.SmtpPassword) ?? "", ct);
            }
            await smtp.SendAsync(message, ct);
            await smtp.DisconnectAsync(quit: true, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            throw new DeliveryFailed($"SMTP {s.SmtpHost}:{s.SmtpPort}: {e.Message}", permanent: e is MailKit.Security.AuthenticationException);
        }
    }

    private async Task SendDingTalkAsync(OutgoingReminder r, CancellationToken ct)
    {
        var webhook = r.Robots?.DingTalkWebhook ?? throw new DeliveryFailed("No DingTalk robot address is set.", permanent: true);
        var secret = r.Robots?.DingTalkSecret;
        var url = string.IsNullOrEmpty(secret) ? webhook : DingTalkSigning.SignedUrl(webhook, secret, clock.GetUtcNow());
        // A group robot @-mentions by mobile number; the text must name the number for the mention to show.
        var mobile = RobotMention.Of(r.Mobile);
        var mention = mobile is null ? "" : $" @{mobile}";
        await PostRobotAsync(ReminderChannel.DingTalk, webhook, url, new
        {
            msgtype = "text",
            text = new { content = Compose(r) + mention },
            at = new { atMobiles = mobile is null ? Array.Empty<string>() : [mobile] },
        }, ct);
    }

    private async Task SendWeComAsync(OutgoingReminder r, CancellationToken ct)
    {
        var webhook = r.Robots?.WeComWebhook ?? throw new DeliveryFailed("No WeCom robot address is set.", permanent: true);
        await PostRobotAsync(ReminderChannel.WeCom, webhook, webhook, new
        {
            msgtype = "text",
            text = new { content = Compose(r), mentioned_mobile_list = RobotMention.Of(r.Mobile) is { } mobile ? [mobile] : Array.Empty<string>() },
        }, ct);
    }

    private static string Compose(OutgoingReminder r) => r.Link is null ? r.Text : $"{r.Text}\n{r.Link}";

    /// <summary>Both robots answer HTTP 200 with <c>{"errcode":0}</c> on success and a non-zero errcode otherwise.</summary>
    private async Task PostRobotAsync(ReminderChannel channel, string configured, string url, object body, CancellationToken ct)
    {
        // Checked again at send time: the allowed origins may have narrowed since the address was saved.
        if (WebhookAddress.Problem(channel, configured, WebhookOrigins) is { } problem)
        {
            throw new DeliveryFailed($"Robot address refused: {problem}", permanent: true);
        }
        HttpResponseMessage response;
        try
        {
            response = await http.CreateClient(HttpClientName).PostAsJsonAsync(url, body, ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            throw new DeliveryFailed($"{channel}: {(e is TaskCanceledException ? "no answer within the time limit" : e.Message)}");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new DeliveryFailed($"{channel}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            }
            var answer = await response.Content.ReadAsStringAsync(ct);
            try
            {
                using var json = JsonDocument.Parse(answer);
                if (json.RootElement.TryGetProperty("errcode", out var code) && code.GetInt32() != 0)
                {
                    var message = json.RootElement.TryGetProperty("errmsg", out var m) ? m.GetString() : "";
                    // 310000 (DingTalk: bad signature or keyword) and 93000 (WeCom: bad key) will not fix themselves.
                    throw new DeliveryFailed($"{channel} refused: {code.GetInt32()} {message}", permanent: code.GetInt32() is 310000 or 93000 or 300001);
                }
            }
            catch (JsonException)
            {
                throw new DeliveryFailed($"{channel}: unexpected answer {Truncate(answer)}");
            }
        }
    }

    private static string Truncate(string s) => s.Length > 200 ? s[..200] : s;
}
