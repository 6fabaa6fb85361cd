using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Tideflow.Bench.Running;

/// <summary>
/// The app as a separate process (the Release build), bound to 127.0.0.1 on a free port. Only this process is
/// ever stopped, by its own handle.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    public Uri BaseAddress { get; }
    public int Pid => process.Id;
    public string LogPath { get; }

    private AppProcess(Process process, StreamWriter log, Uri baseAddress, string logPath)
    {
        this.process = process;
        this.log = log;
        BaseAddress = baseAddress;
        LogPath = logPath;
    }

    public static async Task<AppProcess> StartAsync(string appDll, string provider, string connectionString, CancellationToken ct,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        if (!File.Exists(appDll))
        {
            throw new FileNotFoundException($"Build the app first: dotnet build -c Release src/Tideflow.Web ({appDll} is missing).");
        }
        var port = FreeLoopbackPort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}/");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { appDll, "--urls", baseAddress.ToString().TrimEnd('/') },
            WorkingDirectory = Path.GetDirectoryName(appDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["Database__Provider"] = provider;
        info.Environment["ConnectionStrings__Tideflow"] = connectionString;
        info.Environment["Demo__Seed"] = "false";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        // The sweep's one line per pool (slices, time reading and writing) says where its time went.
        info.Environment["Logging__LogLevel__Tideflow.Web.Features.Pool.ReclaimJob"] = "Information";
        // The capture door's rate limits would otherwise measure themselves (120/min per IP).
        info.Environment["Capture__PerIpPerMinute"] = "100000000";
        info.Environment["Capture__PerChannelPerSecond"] = "100000000";
        // Scheduled jobs run only when a scenario asks (POST /api/jobs/{name}/run), never in the middle of another one.
        info.Environment["Scheduler__Enabled"] = "false";
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var logPath = Path.Combine(Path.GetTempPath(), $"tideflow-bench-app-{port}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the app.");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppProcess(process, log, baseAddress, logPath);
        await app.WaitReadyAsync(ct);
        return app;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            log.WriteLine(line);
        }
    }

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with code {process.ExitCode}; see {LogPath}.");
            }
            try
            {
                using var response = await http.GetAsync(new Uri("health/ready", UriKind.Relative), ct);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(200, ct);
        }
        throw new TimeoutException($"The app did not become ready in 90 s; see {LogPath}.");
    }

    /// <summary>Resident set size now, and its high-water mark since start, in bytes (Linux /proc).</summary>
    public (long Rss, long Peak) Memory()
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kb(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kb(line);
            }
        }
        return (rss, peak);
    }

    /// <summary>CPU time (user + system) the app process has used since start (Linux /proc, clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the whole line.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static long Kb(string line) =>
        long.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        lock (log)
        {
            log.Dispose();
        }
    }
}
