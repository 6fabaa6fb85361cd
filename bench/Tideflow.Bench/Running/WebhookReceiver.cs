using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Tideflow.Bench.Running;

/// <summary>
/// A local stand-in for a WeCom group robot on 127.0.0.1: answers <c>{"errcode":0}</c> and notes when each message
/// arrived, per robot key (the app's deliveries and the floor's use different keys).
/// </summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Dictionary<string, (int Count, TimeSpan Last)> arrivals = [];
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly Lock gate = new();

    public string Origin { get; }

    private WebhookReceiver(int port)
    {
        Origin = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(Origin + "/");
    }

    public static WebhookReceiver Start()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var receiver = new WebhookReceiver(port);
        receiver.listener.Start();
        for (var i = 0; i < 8; i++)
        {
            _ = receiver.ServeAsync();
        }
        return receiver;
    }

    public string Url(string key) => $"{Origin}/cgi-bin/webhook/send?key={key}";

    /// <summary>How many messages came for <paramref name="key"/>, and when the last one did (on this receiver's stopwatch).</summary>
    public (int Count, TimeSpan Last) Arrivals(string key)
    {
        lock (gate)
        {
            return arrivals.GetValueOrDefault(key);
        }
    }

    public TimeSpan Now => clock.Elapsed;

    private static readonly byte[] Ok = Encoding.UTF8.GetBytes("""{"errcode":0,"errmsg":"ok"}""");

    private async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using (var drain = new MemoryStream())
            {
                await context.Request.InputStream.CopyToAsync(drain);
            }
            var key = context.Request.QueryString["key"] ?? "";
            lock (gate)
            {
                var (count, _) = arrivals.GetValueOrDefault(key);
                arrivals[key] = (count + 1, clock.Elapsed);
            }
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(Ok);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
    }
}
