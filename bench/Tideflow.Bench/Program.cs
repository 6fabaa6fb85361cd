using Tideflow.Bench.Generation;
using Tideflow.Bench.Loading;
using Tideflow.Bench.Running;

// Commands are documented in docs/benchmarks.md.
//   generate --scale small|large --provider sqlite|postgres --out <file or database name> [--seed 42] [--server <pg>]
//   run      --scale small|large --provider sqlite|postgres [--db <file or database name>] [--reuse] [--seed 42]
//            [--requests 500] [--concurrency 8] [--server <pg>] [--only list,capture,import]
//            [--capture-requests 5000|20000] [--capture-warmup 10000|30000] [--capture-concurrency 32] [--import-rows 100000] [--workbench-loads 200]
//            [--list-rate 80 (list requests/s beside the re-score and the sweep; 0: back to back)]
//            [--claim-max-held N (the pool's held cap during the claim scenario, high enough never to refuse: measures a capped claim)]
//            [--claim-warmup-rounds 8|1 (rounds of 32 reps × a day's claims before the measured claims)]
//            [--import-warmup-rows 20000 (an import of this many rows before the measured one; 0: none)]
//            [--import-floor full|leads (leads: the floor writes the lead rows only, no contact keys or touches)]
if (args.Length == 0 || args[0] is not ("generate" or "run"))
{
    await Console.Error.WriteLineAsync("usage: generate|run --scale small|large --provider sqlite|postgres [options]; see docs/benchmarks.md");
    return 1;
}

var options = new Dictionary<string, string>(StringComparer.Ordinal);
var flags = new HashSet<string>(StringComparer.Ordinal);
for (var i = 1; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal))
    {
        await Console.Error.WriteLineAsync($"unexpected argument '{args[i]}'");
        return 1;
    }
    var key = args[i][2..];
    if (key == "reuse")
    {
        flags.Add(key);
    }
    else if (i + 1 < args.Length)
    {
        options[key] = args[++i];
    }
    else
    {
        await Console.Error.WriteLineAsync($"--{key} needs a value");
        return 1;
    }
}

string Get(string key, string fallback) => options.TryGetValue(key, out var v) ? v : fallback;
int Int(string key, int fallback) => int.Parse(Get(key, fallback.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);

var scale = Scale.Parse(Get("scale", "small"));
var provider = Get("provider", "sqlite").ToLowerInvariant();
if (provider is not ("sqlite" or "postgres"))
{
    await Console.Error.WriteLineAsync("--provider must be sqlite or postgres");
    return 1;
}
var seed = Int("seed", 42);
var server = options.GetValueOrDefault("server") ?? Environment.GetEnvironmentVariable("TIDEFLOW_TEST_POSTGRES");
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (args[0] == "generate")
{
    // Anchored at the wall clock, as `run` does, so a later `run --reuse` finds today's workbench in it.
    var generator = new Generator(scale, seed, Runner.DataSetNow());
    LoadResult result;
    if (provider == "postgres")
    {
        result = PostgresLoader.Load(server ?? throw new ArgumentException("PostgreSQL needs --server or TIDEFLOW_TEST_POSTGRES."),
            Get("out", $"tideflow_bench_{scale.Name}"), generator, Console.Out);
    }
    else
    {
        result = SqliteLoader.Load(Get("out", Path.Combine(Path.GetTempPath(), $"tideflow-bench-{scale.Name}.db")), generator, Console.Out);
    }
    Console.WriteLine($"{result.Customers:N0} customers in {result.InsertTime.TotalSeconds:F1} s, {result.TotalTime.TotalSeconds:F1} s with migrations and ANALYZE" +
                      (result.Pursuits is { } p ? $" ({p.FollowUps:N0} follow-ups, {p.StageMoves:N0} stage moves, {p.OpenTasks:N0} open tasks, {p.PoolHistory:N0} pool history rows)" : "") +
                      $", anchored at {generator.Now:yyyy-MM-dd HH:mm:ss} UTC");
    foreach (var t in result.Organisation.Tokens)
    {
        var user = result.Organisation.Users.Single(u => u.Id == t.UserId);
        Console.WriteLine($"token for {user.UserName} ({user.Role}): {t.Secret}");
    }
    return 0;
}

// Enough threads that every client really is concurrent from the first request (the floor's SQLite calls block).
ThreadPool.GetMinThreads(out var workerThreads, out var ioThreads);
ThreadPool.SetMinThreads(Math.Max(workerThreads, 64), Math.Max(ioThreads, 64));
var importFloor = Get("import-floor", "full");
if (importFloor is not ("full" or "leads"))
{
    await Console.Error.WriteLineAsync("--import-floor must be full or leads");
    return 1;
}
var run = new RunOptions(scale, provider, seed, options.GetValueOrDefault("db"), server, flags.Contains("reuse"),
    Int("requests", 500), Int("concurrency", 8), "dotnet run -c Release --project bench/Tideflow.Bench -- " + string.Join(' ', args),
    options.GetValueOrDefault("only"), options.ContainsKey("capture-requests") ? Int("capture-requests", 0) : null,
    Int("capture-concurrency", 32), Int("import-rows", 100_000), Int("workbench-loads", 200),
    options.ContainsKey("capture-warmup") ? Int("capture-warmup", 0) : null, Math.Max(0, Int("list-rate", 80)),
    options.ContainsKey("claim-max-held") ? Int("claim-max-held", 0) : null,
    options.ContainsKey("claim-warmup-rounds") ? Int("claim-warmup-rounds", 0) : null, Math.Max(0, Int("import-warmup-rows", 20_000)), importFloor == "leads");
return await Runner.RunAsync(run, Console.Error, cancel.Token);
