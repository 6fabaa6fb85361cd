using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Tideflow.Bench.Generation;
using Tideflow.Web.Features.Pipeline;

namespace Tideflow.Bench.Running;

/// <summary>
/// Scenario 4, claims from the public pool (issue 6: ≥ 500 claims/s with 32 concurrent reps on PostgreSQL, limits
/// exact). Set-up (not timed): the default pool's daily claim limit is raised to <see cref="Limit"/> through the API,
/// enough customers without pool history are moved into the pool by SQL, and 64 reps get API tokens. Each of 32 reps
/// then claims <see cref="Limit"/> + 2 distinct customers one after another, all 32 at once, through
/// <c>POST /api/customers/{id}/claim</c>: exactly <see cref="Limit"/> must succeed per rep and the last two must be
/// refused with 409 (daily limit); afterwards the database must show each rep's counter at the limit and exactly that
/// many customers claimed by them. Before it, 32 further reps do the same with other customers, not measured, so the run
/// sees a warm server (code at its final JIT tier, EF Core's query cache, full connection pools) as a team would once the
/// server has been up a while. <b>Floor</b>: 32 other reps do the same with one hand-written transaction per claim
/// (counter up only below the limit, the customer taken only while still pooled, the history row, the first-contact
/// task), same driver shape, after one round of warm-up by another 32 reps. Its connections skip Npgsql's reset on
/// return to the pool, as the app's do since session 17.
/// </summary>
public static class ClaimScenario
{
    public const int Limit = 50;
    private const int Reps = 32;
    private const int Extra = 2;
    /// <summary>
    /// Claims per rep of the warm-up (other reps, other customers, not measured): a whole day's, refusals included. With
    /// 10 each (before session 17) a third of the app's CPU in the measured run still went to the JIT's tier-up and to
    /// code not yet at its final tier (perf, session 17): the run measured a server minutes after its start.
    /// </summary>
    private const int WarmUp = Limit + Extra;
    private const string Marker = "bench-claim";

    /// <param name="maxHeld">The pool's held cap for the run (null: none). Set above what any rep holds, it refuses nothing
    /// but makes every claim count the rep's holdings, as a team with 库容 set does.</param>
    /// <param name="warmUpRounds">Rounds of warm-up, each 32 reps × <see cref="WarmUp"/> claims.</param>
    public static async Task<IReadOnlyList<ResultRow>> RunAsync(AppProcess app, Organisation org, string connectionString, bool isPostgres,
        int seed, int? maxHeld, int warmUpRounds, TextWriter log, CancellationToken ct)
    {
        var adminToken = org.Tokens.Single(t => t.UserId == org.Admin.Id).Secret;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Reps };
        using var http = new HttpClient(handler) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await using var db = new BenchDb(isPostgres, connectionString);

        var pools = await Api.JsonAsync(http, HttpMethod.Get, "api/pools", adminToken, null, ct);
        var pool = pools.EnumerateArray().Single(p => p.GetProperty("isDefault").GetBoolean());
        var poolId = pool.GetProperty("id").GetGuid();
        var settings = JsonNode.Parse(pool.GetProperty("settings").GetRawText())!.AsObject();
        settings["dailyClaimLimit"] = Limit;
        settings["maxHeld"] = maxHeld;
        settings["embargoHours"] = 0;
        await Api.JsonAsync(http, HttpMethod.Put, $"api/pools/{poolId}", adminToken, new
        {
            name = pool.GetProperty("name").GetString(),
            teamIds = pool.GetProperty("teamIds").EnumerateArray().Select(t => t.GetGuid()).ToList(),
            settings,
        }, ct);

        var claimers = org.Reps.Skip(1).Take(2 * Reps).ToList();
        // The app's warm-up reps, then the floor's: each side warms up with a full day of its own reps.
        var warmers = org.Reps.Skip(1 + 2 * Reps).Take(2 * Reps).ToList();
        if (warmers.Count < 2 * Reps)
        {
            throw new InvalidOperationException($"The claim scenario needs {1 + 4 * Reps} reps; the data set has {org.Reps.Count}.");
        }
        var tokens = await TokensAsync(db, org, claimers.Concat(warmers.Take(Reps)).ToList(), seed, ct);
        var now = TimeProvider.System.GetUtcNow();
        var day = Day(now);
        var perRep = Limit + Extra;
        var measured = 2 * Reps * perRep;
        // The warm-up's customers go back to the pool after each round, so the floor's warm-up takes the same ones.
        var needed = measured + Reps * WarmUp;
        await db.ExecAsync($"""DELETE FROM "ClaimCounts" WHERE "UserId" IN ({string.Join(", ", claimers.Concat(warmers).Select((_, i) => "@u" + i))})""", ct,
            claimers.Concat(warmers).Select((u, i) => ("@u" + i, (object?)u.Id)).ToArray());
        var pooled = await db.ScalarAsync("""SELECT COUNT(*) FROM "Customers" WHERE "PoolId" = @pool AND "OwnerId" IS NULL AND "PoolReason" = @marker""",
            ct, ("@pool", poolId), ("@marker", Marker));
        if (pooled < needed)
        {
            // Customers with no pool history, so no cool-down applies to anyone claiming them.
            await db.ExecAsync("""
                UPDATE "Customers" SET "PreviousOwnerId" = "OwnerId", "OwnerId" = NULL, "PoolId" = @pool, "PooledAt" = @long, "PoolReason" = @marker,
                    "ProtectedUntil" = NULL, "ClaimedAt" = NULL
                WHERE "Id" IN (SELECT c."Id" FROM "Customers" c WHERE c."OwnerId" IS NOT NULL AND c."OwnerId" <> @bench
                    AND NOT EXISTS (SELECT 1 FROM "OwnershipChanges" o WHERE o."CustomerId" = c."Id") ORDER BY c."Id" DESC LIMIT @n)
                """, ct, ("@pool", poolId), ("@long", now.AddDays(-30)), ("@marker", Marker), ("@bench", org.BenchRep.Id), ("@n", needed - pooled));
        }
        var ids = await db.IdsAsync("""
            SELECT "Id" FROM "Customers" WHERE "PoolId" = @pool AND "OwnerId" IS NULL AND "PoolReason" = @marker ORDER BY "Id" LIMIT @n
            """, ct, ("@pool", poolId), ("@marker", Marker), ("@n", needed));
        if (ids.Count < needed)
        {
            throw new InvalidOperationException($"Only {ids.Count} pooled customers for {needed} claims.");
        }
        log.WriteLine($"claims: {Reps} reps × {perRep} claims each (limit {Limit}{(maxHeld is { } cap ? $", held cap {cap}" : "")}) on the app, then the floor; pool {poolId}, day {day}");

        // Warm-up, as on a server that has been up a while: 32 other reps claim a day's worth of other customers each, in
        // rounds (after each the customers go back to the pool and the reps' counters to zero), so the code has reached
        // its final JIT tier and EF Core's query cache and the connection pools are full. One round was the warm-up
        // until session 17; a third of the measured run's app CPU then went to compiling and to code not yet at its
        // final tier (perf). The first and the last round are reported, so the cold start stays in view.
        var since = TimeProvider.System.GetUtcNow();
        var warmReps = warmers.Take(Reps).Select((u, i) => ("@u" + i, (object?)u.Id)).ToList();
        var warmIn = string.Join(", ", warmReps.Select(r => r.Item1));
        var rounds = new List<(ClaimRun Run, double CpuPerRequest)>();
        for (var round = 1; round <= warmUpRounds; round++)
        {
            var cpu = app.CpuTime();
            var warm = await RunAsync(Reps, WarmUp, async (rep, n) =>
            {
                using var response = await Api.SendAsync(http, HttpMethod.Post, $"api/customers/{ids[measured + rep * WarmUp + n]}/claim",
                    tokens[2 * Reps + rep], null, ct);
                return OutcomeOf(response.StatusCode);
            });
            var perRequest = (app.CpuTime() - cpu).TotalMilliseconds / (Reps * WarmUp);
            if (warm.Errors > 0 || warm.Claimed != Reps * Limit)
            {
                throw new InvalidOperationException($"Warm-up: {warm.Claimed} of {Reps * Limit} claimed, {warm.Errors} errors.");
            }
            rounds.Add((warm, perRequest));
            log.WriteLine($"claims: warm-up round {round}: {warm.Claimed} claims in {warm.Wall.TotalSeconds:F2} s, app CPU {perRequest:F2} ms a request");
            await db.ExecAsync($"""
                UPDATE "Customers" SET "OwnerId" = NULL, "PoolId" = @pool, "PooledAt" = @long, "PoolReason" = @marker, "ClaimedAt" = NULL
                WHERE "OwnerId" IN ({warmIn}) AND "ClaimedAt" >= @since
                """, ct, [("@pool", poolId), ("@long", now.AddDays(-30)), ("@marker", Marker), ("@since", since), .. warmReps]);
            await db.ExecAsync($"""DELETE FROM "ClaimCounts" WHERE "UserId" IN ({warmIn})""", ct, [.. warmReps]);
            // Their history rows and first-contact tasks too: left, the tasks would fall due in later runs on this data set.
            await db.ExecAsync($"""DELETE FROM "FollowUpTasks" WHERE "OwnerId" IN ({warmIn}) AND "CreatedAt" >= @since""", ct,
                [("@since", since), .. warmReps]);
            await db.ExecAsync($"""DELETE FROM "OwnershipChanges" WHERE "ToId" IN ({warmIn}) AND "At" >= @since""", ct,
                [("@since", since), .. warmReps]);
        }
        log.WriteLine("claims: warm-up done");

        var runCpu = app.CpuTime();
        var appRun = await RunAsync(Reps, perRep, async (rep, n) =>
        {
            using var response = await Api.SendAsync(http, HttpMethod.Post, $"api/customers/{ids[rep * perRep + n]}/claim", tokens[rep], null, ct);
            return OutcomeOf(response.StatusCode);
        });
        var appCpu = (app.CpuTime() - runCpu).TotalMilliseconds / (Reps * perRep);
        log.WriteLine($"claims: app run done in {appRun.Wall.TotalSeconds:F2} s");
        // The same pool setting as the app's (Data/Database.cs): a pooled open does not reset the connection.
        await using var floorDb = new BenchDb(isPostgres, isPostgres ? connectionString + ";No Reset On Close=true" : connectionString);
        var floorClaim = new FloorClaim(floorDb, org.Organization.Id, poolId, day);
        // The floor warms up with its own 32 reps, one round, on the customers the app's warm-up put back in the pool.
        var floorWarm = await RunAsync(Reps, WarmUp, (rep, n) =>
            floorClaim.ClaimAsync(warmers[Reps + rep].Id, ids[measured + rep * WarmUp + n], ct));
        if (floorWarm.Errors > 0 || floorWarm.Claimed != Reps * Limit)
        {
            throw new InvalidOperationException($"Floor warm-up: {floorWarm.Claimed} of {Reps * Limit} claimed, {floorWarm.Errors} errors.");
        }
        var floorRun = await RunAsync(Reps, perRep, (rep, n) =>
            floorClaim.ClaimAsync(claimers[Reps + rep].Id, ids[(Reps + rep) * perRep + n], ct));

        var exact = await ExactAsync(db, claimers, poolId, day, now, ct);
        log.WriteLine($"claims app: {appRun.Claimed} claimed, {appRun.Refused} refused, {appRun.Errors} errors in {appRun.Wall.TotalSeconds:F2} s; " +
                      $"floor: {floorRun.Claimed}/{floorRun.Refused}/{floorRun.Errors} in {floorRun.Wall.TotalSeconds:F2} s; {exact}");

        var appRate = appRun.Claimed / appRun.Wall.TotalSeconds;
        var floorRate = floorRun.Claimed / floorRun.Wall.TotalSeconds;
        var ratio = floorRate / appRate;
        var name = $"claims, {Reps} reps at once, {perRep} each (limit {Limit}{(maxHeld is { } held ? $", held cap {held}" : "")})";
        return
        [
            new(name + ": claims/s", $"{appRate:F0}/s", $"{floorRate:F0}/s", $"{ratio:F1}×", isPostgres ? "≥ 500/s and ≥ ½ floor" : "≥ ½ floor",
                (!isPostgres || appRate >= 500) && ratio <= 2 ? "pass" : "fail"),
            new(rounds.Count == 1 ? "claims: the warm-up (server just started) → the measured run"
                    : $"claims: the warm-up's first round (server just started) → its round {rounds.Count} → the measured run",
                string.Join(" → ", rounds.Take(1).Concat(rounds.Skip(1).TakeLast(1)).Select(r => (r.Run.Claimed / r.Run.Wall.TotalSeconds, r.CpuPerRequest))
                    .Append((appRate, appCpu)).Select(r => $"{r.Item1:F0}/s ({r.Item2:F2} ms app CPU a request)")), "—", "—", "—", "—"),
            new(name + ": p50 / p99 per claim", $"{appRun.Percentile(50):F1} / {appRun.Percentile(99):F1} ms",
                $"{floorRun.Percentile(50):F1} / {floorRun.Percentile(99):F1} ms", "—", "—", "—"),
            new("claim limits exact afterwards", $"{appRun.Claimed} claimed, {appRun.Refused} refused, {appRun.Errors} errors; {exact}",
                $"{floorRun.Claimed} claimed, {floorRun.Refused} refused", "—",
                $"{Reps * Limit} claimed, {Reps * Extra} refused, every counter = {Limit}",
                appRun.Claimed == Reps * Limit && appRun.Refused == Reps * Extra && appRun.Errors == 0 && appRun.EveryRepAt(Limit)
                    && exact.StartsWith("exact", StringComparison.Ordinal) ? "pass" : "fail"),
        ];
    }

    private enum Outcome { Claimed, Refused, Error }

    private static Outcome OutcomeOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.OK => Outcome.Claimed,
        HttpStatusCode.Conflict => Outcome.Refused,
        _ => Outcome.Error,
    };

    private sealed record ClaimRun(int Claimed, int Refused, int Errors, TimeSpan Wall, IReadOnlyList<double> Milliseconds, IReadOnlyList<int> PerRep)
    {
        public double Percentile(double p) => new Latencies(Milliseconds, Wall, Errors).Percentile(p);
        public bool EveryRepAt(int limit) => PerRep.All(n => n == limit);
    }

    /// <summary>All reps start together; each claims its own customers one after another (a closed loop per rep).</summary>
    private static async Task<ClaimRun> RunAsync(int reps, int perRep, Func<int, int, Task<Outcome>> claim)
    {
        var latencies = new List<double>();
        var perRepClaimed = new int[reps];
        int refused = 0, errors = 0;
        var wall = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, reps).Select(rep => Task.Run(async () =>
        {
            for (var n = 0; n < perRep; n++)
            {
                var watch = Stopwatch.StartNew();
                var outcome = await claim(rep, n);
                lock (latencies)
                {
                    latencies.Add(watch.Elapsed.TotalMilliseconds);
                    switch (outcome)
                    {
                        case Outcome.Claimed: perRepClaimed[rep]++; break;
                        case Outcome.Refused: refused++; break;
                        default: errors++; break;
                    }
                }
            }
        })));
        wall.Stop();
        return new ClaimRun(perRepClaimed.Sum(), refused, errors, wall.Elapsed, latencies, perRepClaimed);
    }

    /// <summary>The rep's day as the app counts it: the rep's local date (the generated reps are in Asia/Shanghai).</summary>
    private static string Day(DateTimeOffset now) =>
        TimeZoneInfo.ConvertTime(now, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Every claimer's counter for the day and the customers they took since set-up, against the limit.</summary>
    private static async Task<string> ExactAsync(BenchDb db, List<UserRow> claimers, Guid pool, string day, DateTimeOffset since, CancellationToken ct)
    {
        var wrong = new List<string>();
        foreach (var rep in claimers)
        {
            var counter = await db.ScalarAsync("""SELECT COALESCE(MAX("Count"), -1) FROM "ClaimCounts" WHERE "UserId" = @u AND "Day" = @d""", ct,
                ("@u", rep.Id), ("@d", day));
            var taken = await db.ScalarAsync("""
                SELECT COUNT(*) FROM "OwnershipChanges" WHERE "ToId" = @u AND "Event" = 'Claimed' AND "At" >= @since AND "PoolId" = @pool
                """, ct, ("@u", rep.Id), ("@since", since), ("@pool", pool));
            var owned = await db.ScalarAsync("""SELECT COUNT(*) FROM "Customers" WHERE "OwnerId" = @u AND "ClaimedAt" >= @since""", ct,
                ("@u", rep.Id), ("@since", since));
            if (counter != Limit || taken != Limit || owned != Limit)
            {
                wrong.Add($"{rep.UserName}: counter {counter}, history {taken}, held {owned}");
            }
        }
        return wrong.Count == 0 ? $"exact: all {claimers.Count} counters at {Limit}, {Limit} history rows and customers each" : "not exact: " + string.Join("; ", wrong);
    }

    /// <summary>API tokens for the claiming reps (bench data only: the secrets follow from the seed and the rep).</summary>
    private static async Task<List<string>> TokensAsync(BenchDb db, Organisation org, List<UserRow> reps, int seed, CancellationToken ct)
    {
        await db.ExecAsync("""DELETE FROM "ApiTokens" WHERE "Name" = @name""", ct, ("@name", Marker));
        var secrets = new List<string>();
        foreach (var rep in reps)
        {
            var secret = Generator.TokenPrefix + Generator.HashOf($"{seed}:{rep.Id}:{Marker}")[..43];
            await db.ExecAsync("""
                INSERT INTO "ApiTokens" ("Id", "OrganizationId", "UserId", "Name", "Prefix", "Hash", "CreatedAt")
                VALUES (@id, @org, @user, @name, @prefix, @hash, @at)
                """, ct, ("@id", Guid.NewGuid()), ("@org", org.Organization.Id), ("@user", rep.Id), ("@name", Marker), ("@prefix", secret[..10]),
                ("@hash", Generator.HashOf(secret)), ("@at", org.Organization.CreatedAt));
            secrets.Add(secret);
        }
        return secrets;
    }

    /// <summary>One claim as a minimal program would do it: one transaction, the same conditional updates as the app.</summary>
    private sealed class FloorClaim(BenchDb db, Guid org, Guid pool, string day)
    {
        public async Task<Outcome> ClaimAsync(Guid rep, Guid customer, CancellationToken ct)
        {
            var now = TimeProvider.System.GetUtcNow();
            await using var connection = await db.OpenAsync(ct);
            await using (var counter = db.Command(connection, null, """
                INSERT INTO "ClaimCounts" ("UserId", "Day", "Count", "OrganizationId") VALUES (@u, @d, 0, @org) ON CONFLICT DO NOTHING
                """, ("@u", rep), ("@d", day), ("@org", org)))
            {
                await counter.ExecuteNonQueryAsync(ct);
            }
            await using var tx = await connection.BeginTransactionAsync(ct);
            await using (var count = db.Command(connection, tx, """
                UPDATE "ClaimCounts" SET "Count" = "Count" + 1 WHERE "UserId" = @u AND "Day" = @d AND "Count" < @limit
                """, ("@u", rep), ("@d", day), ("@limit", Limit)))
            {
                if (await count.ExecuteNonQueryAsync(ct) == 0)
                {
                    await tx.RollbackAsync(ct);
                    return Outcome.Refused;
                }
            }
            await using (var take = db.Command(connection, tx, """
                UPDATE "Customers" SET "OwnerId" = @u, "PoolId" = NULL, "PooledAt" = NULL, "PoolReason" = NULL, "ProtectedUntil" = NULL,
                    "ClaimedAt" = @now, "AssignedAt" = @now, "UpdatedAt" = @now
                WHERE "Id" = @id AND "OwnerId" IS NULL AND "PoolId" = @pool
                """, ("@u", rep), ("@now", now), ("@id", customer), ("@pool", pool)))
            {
                if (await take.ExecuteNonQueryAsync(ct) == 0)
                {
                    await tx.RollbackAsync(ct);
                    return Outcome.Refused;
                }
            }
            await using (var history = db.Command(connection, tx, """
                INSERT INTO "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "ById", "At", "Event", "PoolId")
                VALUES (@org, @id, NULL, @u, 'claimed from the pool', @u, @now, 'Claimed', @pool);
                INSERT INTO "FollowUpTasks" ("Id", "OrganizationId", "OwnerId", "CustomerId", "Kind", "DueAt", "CreatedAt")
                VALUES (@task, @org, @u, @id, @kind, @due, @now)
                """, ("@org", org), ("@id", customer), ("@u", rep), ("@now", now), ("@pool", pool), ("@task", Guid.CreateVersion7()),
                ("@kind", TaskKinds.FirstContact), ("@due", now.AddHours(48))))
            {
                await history.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            return Outcome.Claimed;
        }
    }
}
