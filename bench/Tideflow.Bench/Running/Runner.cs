using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using Tideflow.Bench.Generation;
using Tideflow.Bench.Loading;

namespace Tideflow.Bench.Running;

public sealed record RunOptions(Scale Scale, string Provider, int Seed, string? Target, string? Server, bool Reuse,
    int Requests, int Concurrency, string CommandLine, string? Only = null, int? CaptureRequests = null, int CaptureConcurrency = 32,
    int ImportRows = 100_000, int WorkbenchLoads = 200, int? CaptureWarmUp = null, int ListRate = 80, int? ClaimMaxHeld = null,
    int? ClaimWarmUpRounds = null, int ImportWarmUpRows = 20_000, bool ImportFloorLeadsOnly = false)
{
    /// <summary>Whether <paramref name="scenario"/> ("list", "workbench", "route", "rescore", "capture", "import", "sweep", "claim", "reminders") runs; all do unless --only names some.</summary>
    public bool Runs(string scenario) => Only is null || Only.Split(',').Contains(scenario, StringComparer.OrdinalIgnoreCase);
}

public sealed record ResultRow(string Scenario, string Tideflow, string Floor, string Ratio, string Target, string Result);

/// <summary>Loads (or reuses) a data set, starts the app, runs the scenarios beside their floors, prints a table.</summary>
public static class Runner
{
    private const double Mb = 1024 * 1024;
    private static readonly TimeSpan MeasureLimit = TimeSpan.FromSeconds(90);

    /// <summary>A reused data set older than this is loaded again when the workbench runs: its "today" would have passed.</summary>
    private static readonly TimeSpan WorkbenchFreshness = TimeSpan.FromHours(12);

    public static async Task<int> RunAsync(RunOptions o, TextWriter log, CancellationToken ct)
    {
        var root = RepoRoot();
        var appDll = Path.Combine(root, "src", "Tideflow.Web", "bin", "Release", "net10.0", "Tideflow.Web.dll");
        // The data set's "now" is the wall clock's (the app runs on it), or the reused data set's own.
        var generator = new Generator(o.Scale, o.Seed, DataSetNow());
        var isPostgres = o.Provider == "postgres";
        string connectionString;
        string dataSet;
        if (isPostgres)
        {
            var server = o.Server ?? throw new ArgumentException("PostgreSQL needs --server or TIDEFLOW_TEST_POSTGRES.");
            var database = o.Target ?? $"tideflow_bench_{o.Scale.Name}";
            connectionString = PostgresLoader.ConnectionString(server, database);
            dataSet = await ReusableAsync(o, connectionString, log, ct) is { } reused
                ? $"reused {database}, {reused}"
                : Describe(PostgresLoader.Load(server, database, generator, log), generator);
        }
        else
        {
            var path = o.Target ?? Path.Combine(Path.GetTempPath(), $"tideflow-bench-{o.Scale.Name}.db");
            connectionString = SqliteLoader.ConnectionString(path);
            dataSet = File.Exists(path) && await ReusableAsync(o, connectionString, log, ct) is { } reused
                ? $"reused {path}, {reused}"
                : Describe(SqliteLoader.Load(path, generator, log), generator);
        }
        log.WriteLine($"data set: {dataSet}");
        var org = generator.Organisation();
        var repToken = org.Tokens.Single(t => t.UserId == org.BenchRep.Id).Secret;

        var rows = new List<ResultRow>();
        var loadBefore = Machine.LoadAverage();
        // Reminders go to a local robot only: the app may call nothing else.
        await using var robot = await WebhookReceiver.StartAsync();
        await using (var app = await AppProcess.StartAsync(appDll, isPostgres ? "Postgres" : "Sqlite", connectionString, ct,
                         new Dictionary<string, string> { ["Reminders__WebhookOrigins__0"] = robot.Origin }))
        {
            if (app.BaseAddress.Host != "127.0.0.1")
            {
                throw new InvalidOperationException("The load driver only targets 127.0.0.1.");
            }
            await Task.Delay(TimeSpan.FromSeconds(3), ct);
            var idle = app.Memory().Rss;
            log.WriteLine($"app pid {app.Pid} at {app.BaseAddress}, idle RSS {idle / Mb:F0} MB, log {app.LogPath}");

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = o.Concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
            using var http = new HttpClient(handler) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            foreach (var token in org.Tokens)
            {
                using var me = await Get(http, "api/me", token.Secret, ct);
                if (me.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"GET /api/me with the {token.UserId} token answered {(int)me.StatusCode}.");
                }
            }
            if (o.Runs("list"))
            {
                const string list = "api/customers?page=1&pageSize=25";
                using (var first = await Get(http, list, repToken, ct))
                {
                    first.EnsureSuccessStatusCode();
                    using var json = JsonDocument.Parse(await first.Content.ReadAsStringAsync(ct));
                    var total = json.RootElement.GetProperty("total").GetInt32();
                    var items = json.RootElement.GetProperty("items").GetArrayLength();
                    if (total != o.Scale.BenchRepCustomers || items != 25)
                    {
                        throw new InvalidOperationException($"The rep's list answered total {total}, {items} items; expected {o.Scale.BenchRepCustomers} and 25.");
                    }
                }

                await using var floor = isPostgres
                    ? Floor.Postgres(connectionString, org.Organization.Id, org.BenchRep.Id)
                    : Floor.Sqlite(connectionString, org.Organization.Id, org.BenchRep.Id);
                if (await floor.ListAsync(ct) != o.Scale.BenchRepCustomers)
                {
                    throw new InvalidOperationException("The floor's count disagrees with the data set.");
                }

                async Task AppList(CancellationToken token)
                {
                    using var response = await Get(http, list, repToken, token);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        throw new InvalidOperationException($"list answered {(int)response.StatusCode}");
                    }
                    await response.Content.ReadAsByteArrayAsync(token);
                }

                // Warm both paths (JIT, pools, page cache), then measure each with the same driver.
                var warm = Math.Min(100, o.Requests);
                await Load.RunAsync(warm, o.Concurrency, MeasureLimit, AppList, ct);
                await Load.RunAsync(warm, o.Concurrency, MeasureLimit, floor.ListAsync, ct);
                var appRun = await Load.RunAsync(o.Requests, o.Concurrency, MeasureLimit, AppList, ct);
                var peak = app.Memory().Peak;
                var floorRun = await Load.RunAsync(o.Requests, o.Concurrency, MeasureLimit, floor.ListAsync, ct);
                log.WriteLine($"app: {appRun.Milliseconds.Count} ok, {appRun.Errors} errors, {appRun.PerSecond:F0}/s, mean {appRun.Mean:F2} ms; " +
                              $"floor: {floorRun.Milliseconds.Count} ok, {floorRun.Errors} errors, {floorRun.PerSecond:F0}/s, mean {floorRun.Mean:F2} ms");

                var name = $"customer list, rep with {o.Scale.BenchRepCustomers:N0} customers ({o.Requests} req, {o.Concurrency} clients)";
                rows.Add(Ratio(name + " p50", appRun.Percentile(50), floorRun.Percentile(50), null));
                rows.Add(Ratio(name + " p99", appRun.Percentile(99), floorRun.Percentile(99), isPostgres ? 100 : null));
                rows.Add(Ratio(name + " throughput", appRun.PerSecond, floorRun.PerSecond, null, higherIsBetter: true));
                if (appRun.Errors + floorRun.Errors > 0 || appRun.Milliseconds.Count < o.Requests || floorRun.Milliseconds.Count < o.Requests)
                {
                    rows.Add(new ResultRow("errors / unfinished requests", $"{appRun.Errors} / {o.Requests - appRun.Milliseconds.Count}",
                        $"{floorRun.Errors} / {o.Requests - floorRun.Milliseconds.Count}", "", "0", "fail"));
                }
                rows.Add(Memory("idle RSS after start", idle, 150));
                rows.Add(Memory("peak RSS (VmHWM) through the list scenario", peak, 500));
            }
            if (o.Runs("workbench"))
            {
                // Before any scenario that changes customers (the sweep rewrites every owner's follow-up dates).
                rows.AddRange(await WorkbenchScenario.RunAsync(app, org, o.Scale.BenchRepCustomers, connectionString, isPostgres, o.WorkbenchLoads, log, ct));
            }
            if (o.Runs("route"))
            {
                rows.AddRange(await RoutingScenario.RunAsync(app, org, connectionString, isPostgres, log, ct));
            }
            if (o.Runs("rescore"))
            {
                rows.AddRange(await RescoreScenario.RunAsync(app, o, org, connectionString, isPostgres, log, ct));
            }
            if (o.Runs("capture"))
            {
                rows.AddRange(await CaptureScenario.RunAsync(app, o, generator, org, connectionString, isPostgres, log, ct));
            }
            if (o.Runs("import"))
            {
                rows.AddRange(await ImportScenario.RunAsync(app, o, generator, org, connectionString, isPostgres, log, ct));
            }
            if (o.Runs("sweep"))
            {
                rows.AddRange(await SweepScenario.RunAsync(app, o, org, connectionString, isPostgres, log, ct));
            }
            if (o.Runs("claim"))
            {
                rows.AddRange(await ClaimScenario.RunAsync(app, org, connectionString, isPostgres, o.Seed, o.ClaimMaxHeld,
                    Math.Max(1, o.ClaimWarmUpRounds ?? o.Scale.ClaimWarmUpRounds), log, ct));
            }
            if (o.Runs("reminders"))
            {
                rows.AddRange(await ReminderScenario.RunAsync(app, org, robot, connectionString, isPostgres, log, ct));
            }
        }

        log.WriteLine();
        await Console.Out.WriteLineAsync(Report(o, dataSet, $"{loadBefore} before, {Machine.LoadAverage()} after", Machine.BuiltFrom(appDll), rows));
        return rows.Any(r => r.Result == "fail") ? 2 : 0;
    }

    private static Task<HttpResponseMessage> Get(HttpClient http, string path, string token, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(path, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return SendAndDispose(http, request, ct);
    }

    private static async Task<HttpResponseMessage> SendAndDispose(HttpClient http, HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            return await http.SendAsync(request, ct);
        }
    }

    private static ResultRow Ratio(string scenario, double app, double floor, double? absoluteMs, bool higherIsBetter = false)
    {
        var ratio = higherIsBetter ? floor / app : app / floor;
        var pass = ratio <= 2 && (absoluteMs is null || app < absoluteMs);
        var unit = higherIsBetter ? "/s" : " ms";
        var target = absoluteMs is { } ms ? $"< {ms:F0} ms and ≤ 2× floor" : "≤ 2× floor";
        return new ResultRow(scenario, Format(app) + unit, Format(floor) + unit, $"{ratio:F1}×", target, pass ? "pass" : "fail");
    }

    private static ResultRow Memory(string scenario, long bytes, int limitMb) =>
        new(scenario, $"{bytes / Mb:F1} MB", "—", "—", $"< {limitMb} MB", bytes / Mb < limitMb ? "pass" : "fail");

    private static string Format(double v) => v.ToString(v < 10 ? "F2" : v < 100 ? "F1" : "F0", CultureInfo.InvariantCulture);

    private static string Describe(LoadResult r, Generator g) =>
        $"{r.Customers:N0} customers, {r.Organisation.Users.Count} users, {r.Organisation.Teams.Count} teams loaded in " +
        $"{r.InsertTime.TotalSeconds:F1} s, {r.TotalTime.TotalSeconds:F1} s with migrations and ANALYZE (incl. {r.Leads:N0} leads with their " +
        $"contact keys and the capture channel" + (r.Pursuits is { } p
            ? $"; {p.FollowUps:N0} follow-ups, {p.StageMoves:N0} stage moves, {p.OpenTasks:N0} open tasks, {p.PoolHistory:N0} pool history rows" : "") +
        $"), anchored at {g.Now:yyyy-MM-dd HH:mm:ss} UTC";

    /// <summary>The wall clock to the second: the "now" a fresh data set is generated at.</summary>
    public static DateTimeOffset DataSetNow()
    {
        var now = TimeProvider.System.GetUtcNow();
        return now.AddTicks(-(now.UtcTicks % TimeSpan.TicksPerSecond));
    }

    /// <summary>
    /// With --reuse, whether the data set can serve this run: the right number of customers, the capture channel and
    /// follow-ups (data sets from before either are loaded again), and — when the workbench runs — generated recently
    /// enough that its "today" is today. Null means load it again; otherwise when it was anchored.
    /// </summary>
    private static async Task<string?> ReusableAsync(RunOptions o, string connectionString, TextWriter log, CancellationToken ct)
    {
        if (!o.Reuse)
        {
            return null;
        }
        try
        {
            await using System.Data.Common.DbConnection c = o.Provider == "postgres"
                ? new NpgsqlConnection(connectionString)
                : new SqliteConnection(connectionString + ";Mode=ReadOnly");
            await c.OpenAsync(ct);
            await using var cmd = c.CreateCommand();
            cmd.CommandText = $"""
                SELECT (SELECT COUNT(*) FROM "Customers"),
                       EXISTS (SELECT 1 FROM "Channels" WHERE "Key" = '{Generator.ChannelKey}') AND EXISTS (SELECT 1 FROM "FollowUpRecords"),
                       (SELECT "CreatedAt" FROM "Organizations" WHERE "Name" = '{Generator.OrganizationName}')
                """;
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var founded = o.Provider == "postgres" ? reader.GetFieldValue<DateTimeOffset>(2) : new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero);
            var anchored = Generator.NowOf(founded);
            var age = TimeProvider.System.GetUtcNow() - anchored;
            if (reader.GetInt64(0) != o.Scale.Customers || !reader.GetBoolean(1))
            {
                log.WriteLine("data set: not the right size, or without the capture channel or follow-ups; loading it again");
                return null;
            }
            if (o.Runs("workbench") && age > WorkbenchFreshness)
            {
                log.WriteLine($"data set: anchored {age.TotalHours:F0} h ago, too old for the workbench's today; loading it again");
                return null;
            }
            return $"anchored at {anchored:yyyy-MM-dd HH:mm:ss} UTC ({age.TotalHours:F1} h ago)";
        }
        catch (System.Data.Common.DbException)
        {
            return null;
        }
    }

    public static string Report(RunOptions o, string dataSet, string load, string builtFrom, IReadOnlyList<ResultRow> rows)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine($"### {o.Provider}, scale {o.Scale.Name}, seed {o.Seed}");
        w.WriteLine();
        w.WriteLine($"- machine: {Environment.ProcessorCount} cores, {Machine.MemoryGiB():F0} GiB RAM, {Machine.CpuModel()}");
        w.WriteLine($"- date: {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, commit {Machine.Commit()}, app binary built from {builtFrom}");
        w.WriteLine($"- load average (1 min): {load} (anything else running on the machine skews the numbers)");
        w.WriteLine($"- data set: {dataSet}");
        w.WriteLine($"- command: `{o.CommandLine}`");
        w.WriteLine();
        w.WriteLine("| scenario | Tideflow | floor | ratio | target | result |");
        w.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            w.WriteLine($"| {r.Scenario} | {r.Tideflow} | {r.Floor} | {r.Ratio} | {r.Target} | {r.Result} |");
        }
        return w.ToString();
    }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tideflow.slnx")))
            {
                return dir.FullName;
            }
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tideflow.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Run from inside the Tideflow repository.");
    }
}

internal static class Machine
{
    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    public static double MemoryGiB()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(':')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
    }

    public static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim()
        ?? "unknown CPU";

    /// <summary>The SDK stamps the source commit into the informational version ("1.0.0+&lt;sha&gt;").</summary>
    public static string BuiltFrom(string assembly)
    {
        var version = FileVersionInfo.GetVersionInfo(assembly).ProductVersion ?? "";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 && version.Length >= plus + 8 ? version[(plus + 1)..(plus + 8)] : "unknown";
    }

    public static string Commit()
    {
        var commit = Git("rev-parse --short HEAD", out _);
        if (string.IsNullOrEmpty(commit))
        {
            return "unknown";
        }
        // The app measured is the working tree's build: say so when src/ differs from the commit.
        Git("diff --quiet HEAD -- src", out var dirty);
        return dirty == 0 ? commit : commit + " (+ uncommitted changes in src/)";
    }

    private static string Git(string arguments, out int exitCode)
    {
        try
        {
            var info = new ProcessStartInfo("git", arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = Runner.RepoRoot(),
            };
            using var git = Process.Start(info)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            exitCode = git.ExitCode;
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            exitCode = -1;
            return "";
        }
    }
}
