namespace Tideflow.Web.Data;

/// <summary>
/// How a SQLite writer that found the write lock taken waits for it (<c>PRAGMA busy_timeout</c>, set on every
/// connection): SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 ms and then 100 ms at a time
/// between tries, so it tries again 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228 ms … after its first try. The waits the
/// bench's writer measured beside the sweep land on exactly those marks (53–57, 78–85, 128–135, 182–187, 430 ms;
/// docs/benchmarks.md, "Session 21").
/// </summary>
public static class SqliteBusyTimeout
{
    private static readonly int[] Sleeps = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50];
    private const int LastSleep = 100;

    /// <summary>
    /// The sleep a writer is in once it has waited <paramref name="waited"/>: a lock left free at least this long after
    /// being held that long is seen free by every writer that began waiting while it was held.
    /// </summary>
    public static TimeSpan SleepAfter(TimeSpan waited)
    {
        var tried = 0;
        foreach (var sleep in Sleeps)
        {
            tried += sleep;
            if (waited.TotalMilliseconds < tried)
            {
                return TimeSpan.FromMilliseconds(sleep);
            }
        }
        return TimeSpan.FromMilliseconds(LastSleep);
    }
}
