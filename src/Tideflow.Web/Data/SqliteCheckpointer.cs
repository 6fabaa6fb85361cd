using Microsoft.Data.Sqlite;

namespace Tideflow.Web.Data;

/// <summary>
/// Copies SQLite's write-ahead log into the database file every 100 ms, on a thread of its own.
/// Left to SQLite, the copy falls to whichever connection commits once the log passes 1,000 pages: after an import
/// batch or a sweep slice that was the next web request to save anything, which then copied the other writer's pages
/// inside its own request, and the import's own commits copied their pages before taking the next batch. The app's
/// connections keep an automatic checkpoint at 10,000 pages (<see cref="SqlitePragmas"/>) in case this one falls behind
/// (a reader holding an old snapshot for long): then the commit that takes the log past it copies the log, as before,
/// only later and more of it.
/// PASSIVE: it never waits for, or makes wait, a reader or a writer for a lock. But each copy ends with an fsync of the
/// database file, and another connection's commit can wait for that at the disk: every 250 ms, during the reclaim sweep
/// at 1M customers, 12 of another process's 865 one-row commits took 53–76 ms; every 100 ms (or 80) the copies are
/// smaller and none took over 50 ms, with the sweep and an import as fast as before (docs/benchmarks.md, "Session 21").
/// </summary>
public sealed class SqliteCheckpointer(string connectionString, IConfiguration config, ILogger<SqliteCheckpointer> logger)
    : BackgroundService
{
    private TimeSpan Interval => TimeSpan.FromMilliseconds(Math.Max(10, config.GetValue("Sqlite:CheckpointMs", 100)));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The wall clock on purpose, not the app's TimeProvider: this is disk upkeep, not business time, and a test
        // that moves the app's clock on by two weeks must not wake it 4.8 million times.
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CheckpointAsync(stoppingToken);
                }
                catch (SqliteException e)
                {
                    // The file not there yet, or locked by a migration at start: the next tick tries again.
                    logger.LogDebug(e, "SQLite checkpoint skipped");
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A failed checkpoint must not stop the app: the connections' own fallback checkpoint still runs.
                    logger.LogWarning(e, "SQLite checkpoint failed");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One passive checkpoint: the log's frames and how many of them are now in the database file (fewer while a reader
    /// still needs older pages, or another checkpoint is running; the next tick takes the rest).
    /// </summary>
    public async Task<(long Logged, long Copied)> CheckpointAsync(CancellationToken ct)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetInt64(1), reader.GetInt64(2)) : (0, 0);
    }
}
