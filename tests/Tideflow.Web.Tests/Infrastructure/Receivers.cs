using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace Tideflow.Web.Tests.Infrastructure;

public sealed record RobotMessage(string Robot, string Content, string[] Mentions);

/// <summary>
/// Stands in for DingTalk's and WeCom's group-robot endpoints on 127.0.0.1. It checks a DingTalk signature the way
/// DingTalk documents it — written out here on its own, not with the app's code — and can be told to fail.
/// </summary>
public sealed class RobotReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    public ConcurrentQueue<RobotMessage> Received { get; } = new();
    public ConcurrentQueue<string> Refused { get; } = new();
    public string Origin { get; }
    public string DingTalkSecret { get; } = "SEC" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    /// <summary>Answer HTTP 500 to this many requests before answering normally.</summary>
    public int FailNext { get => Volatile.Read(ref failNext); set => Volatile.Write(ref failNext, value); }
    private int failNext;

    public string DingTalkWebhook => $"{Origin}/robot/send?access_token=test-token";
    public string WeComWebhook => $"{Origin}/cgi-bin/webhook/send?key=test-key";

    private RobotReceiver(WebApplication app, string origin)
    {
        this.app = app;
        Origin = origin;
    }

    /// <summary>The clock DingTalk's freshness check compares the timestamp with: the sending node's.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    public static async Task<RobotReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        RobotReceiver? self = null;
        app.MapPost("/robot/send", async (HttpContext http) =>
        {
            if (Interlocked.Decrement(ref self!.failNext) >= 0)
            {
                return Results.StatusCode(500);
            }
            var q = http.Request.Query;
            var body = await JsonDocument.ParseAsync(http.Request.Body);
            if (!long.TryParse(q["timestamp"], out var timestamp) || Math.Abs(self.Clock.GetUtcNow().ToUnixTimeMilliseconds() - timestamp) > 3_600_000
                || q["sign"] != Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(self.DingTalkSecret),
                    Encoding.UTF8.GetBytes($"{timestamp}\n{self.DingTalkSecret}"))))
            {
                self.Refused.Enqueue("bad signature");
                return Results.Json(new { errcode = 310000, errmsg = "sign not match" });
            }
            var root = body.RootElement;
            self.Received.Enqueue(new RobotMessage("dingtalk", root.GetProperty("text").GetProperty("content").GetString()!,
                root.GetProperty("at").GetProperty("atMobiles").EnumerateArray().Select(m => m.GetString()!).ToArray()));
            return Results.Json(new { errcode = 0, errmsg = "ok" });
        });
        app.MapPost("/cgi-bin/webhook/send", async (HttpContext http) =>
        {
            if (Interlocked.Decrement(ref self!.failNext) >= 0)
            {
                return Results.StatusCode(500);
            }
            if (http.Request.Query["key"] != "test-key")
            {
                return Results.Json(new { errcode = 93000, errmsg = "invalid webhook url" });
            }
            var text = (await JsonDocument.ParseAsync(http.Request.Body)).RootElement.GetProperty("text");
            self.Received.Enqueue(new RobotMessage("wecom", text.GetProperty("content").GetString()!,
                text.GetProperty("mentioned_mobile_list").EnumerateArray().Select(m => m.GetString()!).ToArray()));
            return Results.Json(new { errcode = 0, errmsg = "ok" });
        });
        await app.StartAsync();
        var address = app.Urls.Single();
        self = new RobotReceiver(app, address.TrimEnd('/'));
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>
/// A minimal SMTP receiver on 127.0.0.1 for tests: enough of RFC 5321 for one client to hand over messages (no TLS, no
/// auth). No SMTP server package is available from this machine's NuGet mirror, so the few commands are answered here.
/// </summary>
public sealed class SmtpReceiver : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    public ConcurrentQueue<MimeMessage> Received { get; } = new();
    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public static SmtpReceiver Start()
    {
        var r = new SmtpReceiver();
        r.listener.Start();
        _ = r.AcceptAsync();
        return r;
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.UTF8);
        var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 localhost test SMTP");
        while (await reader.ReadLineAsync() is { } line)
        {
            var verb = line.Split(' ', 2)[0].ToUpperInvariant();
            switch (verb)
            {
                case "EHLO":
                    await writer.WriteLineAsync("250-localhost");
                    await writer.WriteLineAsync("250 8BITMIME");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 end with .");
                    var data = new StringBuilder();
                    while (await reader.ReadLineAsync() is { } d && d != ".")
                    {
                        data.Append(d.StartsWith("..", StringComparison.Ordinal) ? d[1..] : d).Append("\r\n");
                    }
                    Received.Enqueue(MimeMessage.Load(new MemoryStream(Encoding.UTF8.GetBytes(data.ToString()))));
                    await writer.WriteLineAsync("250 queued");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return;
                default:
                    await writer.WriteLineAsync("250 OK");
                    break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        return ValueTask.CompletedTask;
    }
}
