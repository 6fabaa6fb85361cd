using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tideflow.Bench.Running;

/// <summary>
/// A local stand-in for a WeCom group robot on 127.0.0.1 (Kestrel, so the receiver is not what is measured): answers
/// <c>{"errcode":0}</c> and notes when each message arrived, per robot key (the app and the floor use different keys).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly Dictionary<string, (int Count, TimeSpan First, TimeSpan Last)> arrivals = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Lock gate = new();

    public string Origin { get; private set; } = "";

    private WebhookReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        app = builder.Build();
        app.MapPost("/cgi-bin/webhook/send", async (HttpContext http) =>
        {
            using (var drain = new MemoryStream())
            {
                await http.Request.Body.CopyToAsync(drain);
            }
            var key = http.Request.Query["key"].ToString();
            lock (gate)
            {
                var (count, first, _) = arrivals.GetValueOrDefault(key);
                arrivals[key] = (count + 1, count == 0 ? clock.Elapsed : first, clock.Elapsed);
            }
            return Results.Json(new { errcode = 0, errmsg = "ok" });
        });
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        await receiver.app.StartAsync();
        receiver.Origin = receiver.app.Urls.Single().TrimEnd('/');
        return receiver;
    }

    public string Url(string key) => $"{Origin}/cgi-bin/webhook/send?key={key}";

    /// <summary>How many messages came for <paramref name="key"/>, and when the first and last did (on this receiver's stopwatch).</summary>
    public (int Count, TimeSpan First, TimeSpan Last) Arrivals(string key)
    {
        lock (gate)
        {
            return arrivals.GetValueOrDefault(key);
        }
    }

    public TimeSpan Now => clock.Elapsed;

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
