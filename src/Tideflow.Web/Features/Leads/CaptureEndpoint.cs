using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

/// <summary>
/// The public door for leads: `POST /capture/{channelKey}` takes a classic HTML form post or a JSON body
/// (`fields[]`, `context`, `legalConsentOptions`, or plain top-level fields). Every outcome answers the same,
/// so the endpoint never tells a stranger whether a phone number is already known.
/// </summary>
public static class CaptureEndpoint
{
    public const int MaxBodyBytes = 64 * 1024;
    public const string HoneypotField = "_hp";
    public const string ReturnField = "_return";

    public static void MapCapture(this IEndpointRouteBuilder app)
    {
        app.MapPost("/capture/{channelKey}", HandleAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .WithTags("Capture")
            .WithSummary("Submit a lead to a channel (public; HTML form or JSON).");
    }

    public static void AddCaptureRateLimits(this IServiceCollection services, IConfiguration config)
    {
        var perIp = config.GetValue("Capture:PerIpPerMinute", 120);
        var perChannel = config.GetValue("Capture:PerChannelPerSecond", 3000);
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(60);
                context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.HttpContext.Response.WriteAsJsonAsync(new
                {
                    type = "https://tools.ietf.org/html/rfc6585#section-4",
                    title = "Too many requests",
                    status = 429,
                    detail = "Too many submissions; try again after the Retry-After interval.",
                }, ct);
            };
            // Only the public capture door is limited: per sending IP, and per channel.
            static bool IsCapture(HttpContext http) => http.Request.Path.StartsWithSegments("/capture");
            o.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(http => IsCapture(http)
                    ? RateLimitPartition.GetFixedWindowLimiter("ip:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
                        _ => new FixedWindowRateLimiterOptions { PermitLimit = perIp, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter("")),
                PartitionedRateLimiter.Create<HttpContext, string>(http => IsCapture(http)
                    ? RateLimitPartition.GetFixedWindowLimiter(ChannelPartition(http.Request.Path.Value),
                        _ => new FixedWindowRateLimiterOptions { PermitLimit = perChannel, Window = TimeSpan.FromSeconds(1), QueueLimit = 0 })
                    : RateLimitPartition.GetNoLimiter("")));
        });
    }

    // Random made-up keys share one bucket instead of creating a limiter each.
    private static string ChannelPartition(string? path)
    {
        var key = path?.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        return key.Length == 32 && key.All(Uri.IsHexDigit) ? "channel:" + key : "channel:malformed";
    }

    private static async Task<IResult> HandleAsync(string channelKey, HttpContext http, CaptureWriter writer, CancellationToken ct)
    {
        var body = await ReadBodyAsync(http.Request, ct);
        if (body is null)
        {
            return Results.Problem(statusCode: 413, title: "Payload too large", detail: $"A submission may be at most {MaxBodyBytes / 1024} KB.");
        }
        Submission submission;
        string? returnUrl = null;
        var isForm = http.Request.HasFormContentType;
        try
        {
            (submission, returnUrl) = isForm ? ParseForm(body, http) : ParseJson(body, http);
        }
        catch (JsonException e)
        {
            return Results.Problem(statusCode: 400, title: "Malformed JSON",
                detail: $"The body is not valid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}.");
        }
        catch (FormatException e)
        {
            return Results.Problem(statusCode: 400, title: "Malformed submission", detail: e.Message);
        }

        if (writer.SubmitAsync(channelKey, submission) is not { } written)
        {
            return Results.Problem(statusCode: 503, title: "Restarting", detail: "The server is restarting; send the submission again in a moment.");
        }
        var (channel, result) = await written;
        if (channel is null || result is null)
        {
            var db = http.RequestServices.GetRequiredService<TideflowDbContext>();
            db.Audit("capture-rejected", nameof(Channel), null, new { reason = channel is null ? "unknown-key" : "inactive-channel" },
                organizationId: channel?.OrganizationId ?? Guid.Empty);
            await db.SaveChangesAsync(ct);
            return Results.Problem(statusCode: 401, title: "Unknown channel", detail: "The channel key is wrong or the channel is switched off.");
        }
        if (!isForm)
        {
            return Results.Json(new { accepted = true }, statusCode: StatusCodes.Status202Accepted);
        }
        return IsAllowedReturn(returnUrl, channel)
            ? new SeeOther(returnUrl!)
            : Results.Content(ThankYouPage, "text/html; charset=utf-8");
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static (Submission, string?) ParseForm(byte[] body, HttpContext http)
    {
        var pairs = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        var fields = pairs.Where(p => !p.Key.StartsWith('_')).ToDictionary(p => p.Key, p => p.Value.ToString());
        var raw = JsonSerializer.Serialize(pairs.ToDictionary(p => p.Key, p => p.Value.ToString()), Shared.StoredJson.Options);
        var honeypot = pairs.TryGetValue(HoneypotField, out var hp) && !string.IsNullOrWhiteSpace(hp);
        var page = pairs.TryGetValue("_page", out var p1) ? p1.ToString() : http.Request.Headers.Referer.ToString();
        var consent = pairs.TryGetValue("_consent_text", out var c) ? c.ToString() : null;
        var submission = new Submission(fields, Blank(page), http.Connection.RemoteIpAddress?.ToString(), Blank(consent),
            http.Request.Headers["Idempotency-Key"].ToString(), honeypot, raw);
        return (submission, pairs.TryGetValue(ReturnField, out var back) ? back.ToString() : null);
    }

    private static (Submission, string?) ParseJson(byte[] body, HttpContext http)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("The JSON body must be an object.");
        }
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? page = null, ip = null, consent = null;
        var honeypot = false;
        foreach (var property in root.EnumerateObject())
        {
            switch (property.Name)
            {
                case "fields" when property.Value.ValueKind == JsonValueKind.Array:
                    foreach (var f in property.Value.EnumerateArray())
                    {
                        if (f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String)
                        {
                            fields.TryAdd(n.GetString()!, f.TryGetProperty("value", out var v) ? Text(v) : "");
                        }
                    }
                    break;
                case "context" when property.Value.ValueKind == JsonValueKind.Object:
                    page = String(property.Value, "pageUri") ?? String(property.Value, "pageUrl");
                    ip = String(property.Value, "ipAddress");
                    break;
                case "legalConsentOptions" when property.Value.ValueKind == JsonValueKind.Object:
                    consent = property.Value.TryGetProperty("consent", out var cons) && cons.ValueKind == JsonValueKind.Object
                        ? String(cons, "text") : String(property.Value, "text");
                    break;
                case HoneypotField:
                    honeypot = !string.IsNullOrWhiteSpace(Text(property.Value));
                    break;
                default:
                    if (property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                    {
                        fields.TryAdd(property.Name, Text(property.Value));
                    }
                    break;
            }
        }
        // The address a third party reports for its visitor is evidence; ours is the sender's.
        var submission = new Submission(fields, Blank(page), Blank(ip) ?? http.Connection.RemoteIpAddress?.ToString(),
            Blank(consent), http.Request.Headers["Idempotency-Key"].ToString(), honeypot, Encoding.UTF8.GetString(body));
        return (submission, null);
    }

    private static bool IsAllowedReturn(string? url, Channel channel)
    {
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) ||
            uri.Scheme is not ("http" or "https") || string.IsNullOrWhiteSpace(channel.AllowedDomains))
        {
            return false;
        }
        return channel.AllowedDomains.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(d => uri.Host.Equals(d, StringComparison.OrdinalIgnoreCase) ||
                      uri.Host.EndsWith("." + d, StringComparison.OrdinalIgnoreCase));
    }

    private static string Text(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() ?? "" : e.GetRawText();
    private static string? String(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private const string ThankYouPage = """
        <!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>提交成功 · Thank you</title></head>
        <body style="font-family:sans-serif;text-align:center;padding:48px"><h1>提交成功</h1><p>我们会尽快与您联系。</p><p>Thank you — we will be in touch soon.</p></body></html>
        """;

    /// <summary>303: the browser follows with a GET, so a refresh does not post the form again.</summary>
    private sealed class SeeOther(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }
}
