using System.Diagnostics;

namespace Tideflow.Bench.Running;

public sealed record Latencies(IReadOnlyList<double> Milliseconds, TimeSpan Wall, int Errors)
{
    public double Percentile(double p)
    {
        if (Milliseconds.Count == 0)
        {
            return double.NaN;
        }
        var sorted = Milliseconds.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public double PerSecond => Milliseconds.Count / Wall.TotalSeconds;

    public double Mean => Milliseconds.Count == 0 ? double.NaN : Milliseconds.Average();
}

/// <summary>
/// A closed-loop driver: <c>concurrency</c> workers take request numbers until <c>requests</c> are done or the time
/// limit passes. Used identically for the app (over HTTP) and for its floor (raw ADO.NET), so the two compare.
/// </summary>
public static class Load
{
    public static async Task<Latencies> RunAsync(int requests, int concurrency, TimeSpan limit,
        Func<CancellationToken, Task> operation, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(limit);
        var results = new double[requests];
        var next = -1;
        var done = 0;
        var errors = 0;
        var wall = Stopwatch.StartNew();
        // Task.Run: Microsoft.Data.Sqlite's async methods complete synchronously, so without it the "concurrent"
        // workers would run one after another on the calling thread.
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (!timeout.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= requests)
                {
                    return;
                }
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await operation(timeout.Token);
                    results[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    Interlocked.Increment(ref done);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested)
                {
                    results[i] = double.NaN;
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or InvalidOperationException or System.Data.Common.DbException)
                {
                    results[i] = double.NaN;
                    Interlocked.Increment(ref errors);
                }
            }
        }, CancellationToken.None)).ToArray();
        await Task.WhenAll(workers);
        wall.Stop();
        return new Latencies(results.Where(r => r > 0 && !double.IsNaN(r)).ToArray(), wall.Elapsed, errors);
    }
}
