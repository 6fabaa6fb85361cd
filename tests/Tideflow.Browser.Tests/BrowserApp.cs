using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

[assembly: AssemblyFixture(typeof(Tideflow.Browser.Tests.BrowserApp))]
// The tests share one demo organisation (and rep1 switches language), so they run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Tideflow.Browser.Tests;

/// <summary>
/// The real app on Kestrel (127.0.0.1, a free port) with the demo organisation on a fresh SQLite file,
/// and one headless Chromium from the system (Playwright's own browser downloads are never used).
/// </summary>
public sealed class BrowserApp : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly string dbFile = Path.Combine(Path.GetTempPath(), $"tideflow-browser-{Guid.NewGuid():N}.db");
    private readonly ConcurrentQueue<string> errors = new();
    private Server? server;
    private IPlaywright? playwright;
    private IBrowser? browser;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Stands in for DingTalk and WeCom: the app may call it (Reminders:WebhookOrigins).</summary>
    public Tideflow.Web.Tests.Infrastructure.RobotReceiver Robots { get; private set; } = null!;

    public bool Available => browser is not null;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                throw new InvalidOperationException($"CI must run the browser tests: Chromium is missing at {ChromiumPath}.");
            }
            return;
        }

        Robots = await Tideflow.Web.Tests.Infrastructure.RobotReceiver.StartAsync();
        server = new Server(dbFile, Robots.Origin, new ErrorCollector(errors));
        server.UseKestrel(0); // binds http://127.0.0.1:0
        server.StartServer(); // migrations and the demo organisation are in place before Kestrel listens
        var addresses = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Kestrel did not bind 127.0.0.1: {string.Join(", ", addresses ?? [])}");
        BaseAddress = new Uri(address);

        Assertions.SetDefaultExpectTimeout(15_000);
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public void SkipIfUnavailable()
    {
        if (!Available)
        {
            Assert.Skip($"Browser tests need Chromium at {ChromiumPath}: apt-get install chromium fonts-noto-cjk");
        }
    }

    /// <summary>A fresh context (no cookies) in a Chinese-speaking browser.</summary>
    public async Task<IBrowserContext> NewContextAsync(int width, int height)
    {
        SkipIfUnavailable();
        var context = await browser!.NewContextAsync(new()
        {
            BaseURL = BaseAddress.ToString().TrimEnd('/'),
            ViewportSize = new() { Width = width, Height = height },
            Locale = "zh-CN",
            TimezoneId = "Asia/Shanghai",
        });
        context.SetDefaultTimeout(30_000); // generous: CI runs every test assembly at once on 2 cores
        context.Page += (_, page) => page.PageError += (_, e) => errors.Enqueue($"browser: {e}");
        return context;
    }

    /// <summary>Errors the server logged and uncaught script errors in the browser since the last call.</summary>
    public List<string> TakeErrors()
    {
        var taken = new List<string>();
        while (errors.TryDequeue(out var e))
        {
            taken.Add(e);
        }
        return taken;
    }

    public async ValueTask DisposeAsync()
    {
        if (browser is not null)
        {
            await browser.CloseAsync();
        }
        playwright?.Dispose();
        if (server is not null)
        {
            await server.DisposeAsync();
        }
        if (Robots is not null)
        {
            await Robots.DisposeAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var f in new[] { dbFile, dbFile + "-wal", dbFile + "-shm" })
        {
            File.Delete(f);
        }
    }

    private sealed class Server(string dbFile, string robots, ILoggerProvider errorLog) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Database:Provider", "Sqlite");
            builder.UseSetting("ConnectionStrings:Tideflow", $"Data Source={dbFile}");
            builder.UseSetting("Demo:Seed", "true");
            // The merge test signs in, merges and undoes within seconds with one authenticator code; the API tests
            // check that a code is accepted once.
            builder.UseSetting("Security:AuthenticatorCodesOnce", "false");
            builder.UseSetting("Urls", "http://127.0.0.1:0");
            builder.UseSetting("Reminders:WebhookOrigins:0", robots);
            builder.ConfigureLogging(l => l.AddProvider(errorLog));
        }
    }

    private sealed class ErrorCollector(ConcurrentQueue<string> errors) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                errors.Enqueue($"server {logLevel}: {formatter(state, exception)} {exception}");
            }
        }

        public void Dispose()
        {
        }
    }
}
