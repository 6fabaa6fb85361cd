using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

/// <summary>A customer the rules pick, with the facts <see cref="PoolRules.Evaluate"/> needs.</summary>
/// <param name="LastContactAt">The last follow-up the pool counts (only its channels, when it counts only some).</param>
/// <param name="LastFollowUpAt">The customer's own last follow-up, of any channel, as read: the reclaim takes the customer only if it is unchanged.</param>
public sealed record PoolCandidate(Guid Id, Guid OrganizationId, string Name, string? Company, Guid OwnerId, string? Grade, string Stage,
    DateTimeOffset AssignedAt, DateTimeOffset? LastContactAt, DateTimeOffset? StageChangedAt, DateTimeOffset? ClaimedAt, DateTimeOffset? ProtectedUntil,
    DateTimeOffset? ContractEndsAt = null, DateTimeOffset? LastFollowUpAt = null)
{
    public CustomerFacts Facts => new(Grade, Stage, AssignedAt, LastContactAt, StageChangedAt, ClaimedAt, ProtectedUntil, ContractEndsAt);
}

/// <summary>
/// The reclaim sweep (R4.2–R4.4), run by the scheduler on whichever node holds its lease. Per pool it walks the
/// organisation's customers in slices of the table's physical order (<see cref="TableWalk"/>); per slice one read picks
/// the governed customers due now or within the longest warning and <see cref="PoolRules.Evaluate"/> decides each. Per
/// batch (written beside the next reads, on PostgreSQL several at once) one short transaction takes the due ones back,
/// its UPDATE repeating the rule's WHERE, so a follow-up that lands first keeps the customer and one that lands after
/// fails on the owner it no longer has (never both). Warnings are unique per customer, due time and lead time. Each
/// owner hears once per pool and sweep: one message, or a digest naming how many.
/// </summary>
public sealed class ReclaimJob(TideflowDbContext db, IServiceScopeFactory scopes, IConfiguration config, ILogger<ReclaimJob> logger) : IScheduledJob
{
    public const string Name = "pool-sweep";

    /// <summary>About this many of an organisation's customers per slice read: one short statement each.</summary>
    private int SliceSize => Math.Max(1, config.GetValue("Pool:SweepSlice", 5000));

    /// <summary>
    /// At most this many picked customers per write transaction. The transaction holds SQLite's one write lock, or its
    /// rows' locks on PostgreSQL, so a rep saving a customer meanwhile may wait that long; fewer, larger transactions
    /// finish the round sooner. Measured at 1M customers, 95k due, on 2 cores shared with the list load and a writer
    /// (session 20, docs/benchmarks.md): PostgreSQL, one writer, 150 → 12.7–13.9 s, longest writer wait 13–25 ms
    /// (75 → 14.3 s; 400 → 16.7 s, 41 ms); three writers (session 21) 150 → 8.4–9.8 s, 100 → 8.9 s, 300 → 10.0 s.
    /// SQLite 150 → 24.0–25.5 s, longest writer wait 56–125 ms; 250 → 21.6 s, 123 ms; a slice's picks at once (~475) →
    /// 16.8 s, 964 ms (231–1,334 ms in earlier sessions): a writer that has waited long retries at long intervals and
    /// misses the gaps between longer transactions. With the gap fitted to the transaction (session 21): 150 → 25.4–27.5 s,
    /// 57–79 ms; 300 → 19.7 s, 87 ms, too near the 100 ms the issue allows.
    /// </summary>
    private int BatchSize => Math.Max(1, config.GetValue("Pool:SweepBatch", 150));

    /// <summary>
    /// SQLite only: between two write transactions the write lock stays free at least this long. A writer that found it
    /// taken retries on busy_timeout's back-off (<see cref="SqliteBusyTimeout"/>); with no gap the sweep takes the lock
    /// again before the writer looks, and the writer waits through many transactions.
    /// </summary>
    private TimeSpan SqliteGap => TimeSpan.FromMilliseconds(config.GetValue("Pool:SweepSqliteGapMs", 15));

    /// <summary>
    /// SQLite only: how long the lock stays free after a transaction that held it this long — at least
    /// <see cref="SqliteGap"/>, and longer than the sleep a writer that began waiting during it is now in (plus 5 ms for
    /// the scheduler), so its next try falls in the gap. With the fixed 15 ms after every transaction, the sweeps whose
    /// longest transaction took 63–130 ms (most take 15) made the other writer wait 134–435 ms: after waiting that long
    /// it sleeps 20–25 ms between tries, misses a 15 ms gap and waits through the next transaction too (session 21).
    /// </summary>
    private TimeSpan SqliteGapAfter(TimeSpan held) =>
        TimeSpan.FromTicks(Math.Max(SqliteGap.Ticks, (SqliteBusyTimeout.SleepAfter(held) + TimeSpan.FromMilliseconds(5)).Ticks));

    /// <summary>
    /// PostgreSQL only (SQLite has one writer): this many batches written at once, each writer on its own connection
    /// and in its own transaction. The batches hold different customers, so their row locks never meet. Measured at 1M
    /// customers, 95k due, on 2 cores shared with the list load and a writer (session 21, docs/benchmarks.md): one
    /// writer 12.7–13.0 s, two 9.5 s, three 8.4–9.8 s, four 8.5 s with the list's p99 at 100 ms instead of 80.
    /// </summary>
    private int Writers => Math.Max(1, config.GetValue("Pool:SweepWriters", 3));

    public async Task<string> RunAsync(DateTimeOffset now, Guid? organizationId, CancellationToken ct)
    {
        // The instant this sweep stamps must read back equal.
        now = Database.AsStored(now);
        var organizations = await db.Organizations.Where(o => organizationId == null || o.Id == organizationId).Select(o => o.Id).ToListAsync(ct);
        int reclaimed = 0, warned = 0;
        var failed = new List<string>();
        foreach (var org in organizations)
        {
            try
            {
                await Pools.DefaultAsync(db, org, now, ct);
                var pipeline = await Pipeline.PipelineSettings.LoadAsync(db, org, ct);
                foreach (var pool in await db.Pools.AsNoTracking().Where(p => p.OrganizationId == org).OrderBy(p => p.Id).ToListAsync(ct))
                {
                    var (r, w) = await SweepAsync(pool, PoolSettingsJson.Read(pool.Settings), pipeline, now, ct);
                    reclaimed += r;
                    warned += w;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One organisation's bad data must not stop the others' sweep; the job's result names it.
                logger.LogError(e, "Pool sweep failed for organisation {Organization}", org);
                failed.Add($"{org}: {e.Message}");
                db.ChangeTracker.Clear();
                db.AuditEntityChanges = true;
            }
        }
        if (failed.Count > 0)
        {
            throw new InvalidOperationException($"reclaimed {reclaimed}, warned {warned}; failed for {string.Join("; ", failed)}");
        }
        return $"reclaimed {reclaimed}, warned {warned}";
    }

    private async Task<(int Reclaimed, int Warned)> SweepAsync(CustomerPool pool, PoolSettings s, SalesPipeline pipeline, DateTimeOffset now,
        CancellationToken ct)
    {
        var owners = await GovernedOwnersAsync(db, pool, ct);
        if (owners.Count == 0)
        {
            return (0, 0);
        }
        var isGoverned = IsGoverned(pool, owners);
        // One pick serves both: the rules only ever add customers as time passes, so whoever is due now or owed a
        // warning is due by now + the longest warning.
        var horizon = s.Warnings.Count == 0 ? now : now + TimeSpan.FromHours(s.Warnings.Max());
        var picked = ReclaimRulesSql.Due(s, pipeline, db, horizon);
        var sqlite = db.Database.IsSqlite();
        var writers = sqlite ? 1 : Writers;
        var round = new SweepRound();
        var reading = new System.Diagnostics.Stopwatch();
        var slices = 0;

        // The slices are read and decided here, on this job's connection, while the writers (each on its own connection)
        // write the batches decided before: reading overlaps writing, and on PostgreSQL several batches are written at once.
        async Task PassAsync(IAsyncEnumerable<IQueryable<Customer>> pass)
        {
            var batches = System.Threading.Channels.Channel.CreateBounded<Batch>(2 * writers);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // Started with the first batch: most pools have nothing due on most rounds, and a writer costs a scope and a connection.
            List<Task> writing = [];
            Exception? readFailure = null;
            // A PostgreSQL row another transaction updated can turn up again further on in the walk, while its first
            // batch is still being written: one batch per customer and pass keeps two writers off the same row (and its
            // warning). The last look, a pass of its own after every batch of the walk is written, sees it again.
            var queued = new HashSet<Guid>();
            try
            {
                await foreach (var slice in pass.WithCancellation(stop.Token))
                {
                    slices++;
                    reading.Start();
                    var candidates = await Candidates(db, slice.Where(isGoverned).Where(picked), s).ToListAsync(stop.Token);
                    reading.Stop();
                    // PostgreSQL's last look sees again the customers this round warned: they need no second look.
                    foreach (var batch in candidates.Where(c => !round.WarnedBefore(c.Id) && queued.Add(c.Id)).Chunk(BatchSize))
                    {
                        var decided = batch.Select(c => new Decided(c, PoolRules.Evaluate(c.Facts, s, pipeline, now))).ToList();
                        var toReclaim = decided.Where(d => d.Decision.Status == ReclaimStatus.Due).ToList();
                        var toWarn = decided.Select(d => (Customer: d, Hours: PoolRules.WarningNow(d.Decision, s, now) ?? 0)).Where(d => d.Hours > 0).ToList();
                        if (toReclaim.Count > 0 || toWarn.Count > 0)
                        {
                            if (writing.Count == 0)
                            {
                                writing.AddRange(Enumerable.Range(0, writers).Select(_ => Task.Run(() => WriteAsync(batches.Reader, stop), CancellationToken.None)));
                            }
                            await batches.Writer.WriteAsync(new Batch(toReclaim, toWarn), stop.Token);
                        }
                    }
                }
            }
            catch (Exception e)
            {
                readFailure = e;
            }
            finally
            {
                // After a failed read the batches already decided are still written: they are as valid as the ones before.
                batches.Writer.TryComplete();
            }
            try
            {
                await Task.WhenAll(writing);
            }
            catch (Exception) when (writing.Any(w => w.IsFaulted) || readFailure is not null)
            {
                // Reported below: a writer's failure first, since it is what stopped the read.
            }
            var cause = writing.FirstOrDefault(w => w.IsFaulted)?.Exception!.InnerException ?? readFailure;
            if (cause is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
            }
        }

        async Task WriteAsync(System.Threading.Channels.ChannelReader<Batch> batches, CancellationTokenSource stop)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                scope.ServiceProvider.GetRequiredService<Access.CurrentUser>().Set(Access.DataScope.System);
                var writer = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
                // SQLite: one connection with a 64 MB page cache instead of the 2 MB default (about 500 pages; a batch's
                // rows, history rows, tasks and their indexes span more). With no tasks to close, the other writer's
                // longest wait was 71-183 ms in four runs with the default and 58-79 ms in five with it
                // (docs/benchmarks.md, "Session 23").
                await using var bulk = await writer.BulkWritingAsync(ct);
                // The reclaim's WHERE is the writer's own query: a context serves one operation at a time.
                var governed = writer.Customers.Where(isGoverned);
                var due = ReclaimRulesSql.Due(s, pipeline, writer, now);
                var sinceWrite = System.Diagnostics.Stopwatch.StartNew();
                var held = TimeSpan.Zero;
                await foreach (var batch in batches.ReadAllAsync(stop.Token))
                {
                    // The queue hands out what it holds even once stopped: a writer that failed stops the others here.
                    stop.Token.ThrowIfCancellationRequested();
                    if (sqlite && SqliteGapAfter(held) - sinceWrite.Elapsed is { Ticks: > 0 } rest)
                    {
                        await Task.Delay(rest, stop.Token);
                    }
                    var watch = System.Diagnostics.Stopwatch.StartNew();
                    // The batch in hand is finished even when another writer failed meanwhile; only the next is not begun.
                    var (taken, sent) = await WriteBatchAsync(writer, pool, governed, due, batch, now, ct);
                    held = watch.Elapsed;
                    round.Written(taken, sent, held);
                    sinceWrite.Restart();
                }
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                await stop.CancelAsync();
                // A cancellation nobody asked for is a failure too: it must not pass for the app stopping.
                if (e is OperationCanceledException)
                {
                    throw new InvalidOperationException($"A pool sweep writer was cancelled: {e.Message}", e);
                }
                throw;
            }
        }

        try
        {
            await PassAsync(TableWalk.SlicesAsync(db, db.Customers, pool.OrganizationId, SliceSize, ct).Select(slice => slice.Rows));
            // A PostgreSQL row an update moved behind the walk was not seen (a SQLite row keeps its rowid).
            if (db.Database.IsNpgsql())
            {
                // One statement, one snapshot: every row once, also those an update moved behind the walk. Whatever the
                // slices handled no longer matches the WHERE, or is skipped as already warned.
                await PassAsync(new[] { db.Customers.AsQueryable() }.ToAsyncEnumerable());
            }
            logger.LogInformation("Pool sweep of {Pool}: {Slices} slices read in {Reading:F0} ms, {Writes} written by {Writers} in {Writing:F0} ms (longest {Longest:F0} ms); reclaimed {Reclaimed}, warned {Warned}",
                pool.Id, slices, reading.Elapsed.TotalMilliseconds, round.Writes, writers, round.Writing.TotalMilliseconds, round.Longest.TotalMilliseconds,
                round.News.Reclaimed.Count, round.News.Warned.Count);
        }
        finally
        {
            // The reclaims are committed: their owners hear of them even when a later batch failed or the app is stopping.
            await NotifyAsync(pool, round.News, now);
        }
        return (round.News.Reclaimed.Count, round.News.Warned.Count);
    }

    /// <summary>One write transaction's customers: those to take back and those to warn.</summary>
    private sealed record Batch(List<Decided> ToReclaim, List<(Decided Customer, int Hours)> ToWarn);

    /// <summary>What one pool's sweep has written so far, added to by each writer as its transactions commit.</summary>
    private sealed class SweepRound
    {
        private readonly Lock gate = new();
        private readonly HashSet<Guid> warned = [];

        public OwnerNews News { get; } = new();
        public int Writes { get; private set; }
        public TimeSpan Writing { get; private set; }
        public TimeSpan Longest { get; private set; }

        public void Written(List<Decided> taken, List<Decided> sent, TimeSpan took)
        {
            lock (gate)
            {
                News.Reclaimed.AddRange(taken);
                News.Warned.AddRange(sent);
                warned.UnionWith(sent.Select(d => d.Candidate.Id));
                Writes++;
                Writing += took;
                Longest = took > Longest ? took : Longest;
            }
        }

        public bool WarnedBefore(Guid customer)
        {
            lock (gate)
            {
                return warned.Contains(customer);
            }
        }
    }

    private sealed record Decided(PoolCandidate Candidate, ReclaimDecision Decision);

    /// <summary>What this sweep did to each owner's customers in one pool, told at its end.</summary>
    private sealed class OwnerNews
    {
        public List<Decided> Reclaimed { get; } = [];
        public List<Decided> Warned { get; } = [];
    }

    /// <summary>The customers a pool's rules govern: owned by members of its teams (the default pool: of teams in no pool).</summary>
    public static async Task<IQueryable<Customer>> GovernedAsync(TideflowDbContext db, CustomerPool pool, CancellationToken ct) =>
        db.Customers.Where(IsGoverned(pool, await GovernedOwnersAsync(db, pool, ct)));

    private static System.Linq.Expressions.Expression<Func<Customer, bool>> IsGoverned(CustomerPool pool, List<Guid> owners) =>
        c => c.OrganizationId == pool.OrganizationId && c.OwnerId != null && owners.Contains(c.OwnerId.Value);

    /// <summary>The users whose customers a pool's rules govern: members of its teams (the default pool: of teams in no pool).</summary>
    public static Task<List<Guid>> GovernedOwnersAsync(TideflowDbContext db, CustomerPool pool, CancellationToken ct)
    {
        var pooledTeams = db.PoolTeams.Where(t => t.OrganizationId == pool.OrganizationId);
        var owners = pool.IsDefault
            ? db.Users.Where(u => u.OrganizationId == pool.OrganizationId && (u.TeamId == null || !pooledTeams.Any(t => t.TeamId == u.TeamId)))
            : db.Users.Where(u => u.OrganizationId == pool.OrganizationId && pooledTeams.Any(t => t.PoolId == pool.Id && t.TeamId == u.TeamId));
        return owners.OrderBy(u => u.Id).Select(u => u.Id).ToListAsync(ct);
    }

    /// <summary>Picked customers with their facts; the last contact counts only the channels the pool counts.</summary>
    public static IQueryable<PoolCandidate> Candidates(TideflowDbContext db, IQueryable<Customer> customers, PoolSettings s)
    {
        var channels = s.CountedChannels?.Select(ch => Enum.Parse<FollowUpChannel>(ch, ignoreCase: true)).ToList() ?? [];
        var every = s.CountsEveryChannel;
        return customers.Select(c => new PoolCandidate(c.Id, c.OrganizationId, c.Name, c.Company, c.OwnerId!.Value, c.Grade, c.Stage,
            c.AssignedAt ?? c.CreatedAt,
            every ? c.LastFollowUpAt : db.FollowUpRecords.Where(f => f.CustomerId == c.Id && channels.Contains(f.Channel)).Max(f => (DateTimeOffset?)f.At),
            c.StageChangedAt, c.ClaimedAt, c.ProtectedUntil, c.ContractEndsAt, c.LastFollowUpAt));
    }

    /// <summary>
    /// One batch's due customers back to the pool and its warnings recorded, in one transaction (on SQLite one turn of
    /// the write lock); returns those this sweep took and warned about.
    /// </summary>
    private static async Task<(List<Decided> Taken, List<Decided> Warned)> WriteBatchAsync(TideflowDbContext db, CustomerPool pool,
        IQueryable<Customer> governed, System.Linq.Expressions.Expression<Func<Customer, bool>> due, Batch batch, DateTimeOffset now, CancellationToken ct)
    {
        List<Decided> taken = [], warned = [];
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            db.AuditEntityChanges = false;
            try
            {
                taken = await ReclaimAsync(db, pool, governed, due, batch.ToReclaim, now, ct);
                warned = await WarnAsync(db, batch.ToWarn, now, ct);
            }
            finally
            {
                db.AuditEntityChanges = true;
            }
            await tx.CommitAsync(ct);
            db.ChangeTracker.Clear();
        });
        return (taken, warned);
    }

    private static async Task<List<Decided>> ReclaimAsync(TideflowDbContext db, CustomerPool pool, IQueryable<Customer> governed,
        System.Linq.Expressions.Expression<Func<Customer, bool>> due, List<Decided> decided, DateTimeOffset now, CancellationToken ct)
    {
        var ours = new HashSet<Guid>();
        foreach (var group in decided.GroupBy(d => (d.Decision.Reason, d.Decision.Rule!.When)))
        {
            var ids = group.Select(d => d.Candidate.Id).ToList();
            // The WHERE again: a follow-up, claim or protection committed since the pick wins.
            var stillDue = governed.Where(due).Where(c => ids.Contains(c.Id) && (c.LastFollowUpAt == null || c.LastFollowUpAt <= now)).Select(c => c.Id);
            ours.UnionWith(await PoolAsync(db, stillDue, group.Select(d => d.Candidate).ToList(), pool, group.Key.Reason, group.Key.When.ToString(), now, ct));
        }
        return decided.Where(d => ours.Contains(d.Candidate.Id)).ToList();
    }

    /// <summary>
    /// Puts the customers <paramref name="stillDue"/> selects into the pool, writes their history rows and closes their
    /// open tasks; returns the ids this statement pooled, which are this sweep's and no other's: the UPDATE's RETURNING
    /// names only rows it changed, and a row another node's sweep pooled first no longer matches the WHERE. On
    /// PostgreSQL it is one statement (one round trip) whose UPDATE carries the rule's WHERE itself, so a row changed
    /// and committed while the UPDATE waited for it is judged again on its new version (READ COMMITTED re-checks an
    /// UPDATE's own WHERE; a row lock taken by a sub-select first cost a lock record per customer and did the same);
    /// its history and tasks follow in the same statement from what the UPDATE returned. That new version is judged
    /// with the sweep's snapshot of other tables, though: a follow-up stamped before the sweep's instant and committed
    /// while the reclaim waited would leave a rule that counts only some channels still true (its records sub-select
    /// does not see the record). So the customer's own last follow-up must also be as the sweep read it; any follow-up
    /// committed since puts the customer off to the next sweep, which judges it afresh. (Nor is a records sub-select
    /// that the planner joins judged again against the row's new columns: "first contact missed" counting some channels
    /// compares records with ClaimedAt, which only ever changes to now or to nothing, and either fails the rule on the
    /// row itself.) SQLite has one writer, whose statements see every commit before them, and no data-modifying WITH:
    /// the UPDATE … RETURNING, then the history and the tasks by the ids it returned, in the batch's transaction.
    /// </summary>
    private static async Task<List<Guid>> PoolAsync(TideflowDbContext db, IQueryable<Guid> stillDue, List<PoolCandidate> picked, CustomerPool pool, string reason, string rule, DateTimeOffset now,
        CancellationToken ct)
    {
        // EF Core writes the rule's WHERE and its parameters; only the model's names and parameter names are added here.
        string pick;
        var parameters = new List<System.Data.Common.DbParameter>();
        await using (var query = stillDue.CreateDbCommand())
        {
            // EF Core formats raw SQL with string.Format (for parameter placeholders): braces in its own SQL stay literal.
            pick = query.CommandText.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal);
            parameters.AddRange(query.Parameters.Cast<System.Data.Common.DbParameter>());
            query.Parameters.Clear();
        }
        await using var factory = db.Database.GetDbConnection().CreateCommand();
        var customer = db.Model.FindEntityType(typeof(Customer))!;
        var change = db.Model.FindEntityType(typeof(OwnershipChange))!;
        var task = db.Model.FindEntityType(typeof(FollowUpTask))!;
        System.Data.Common.DbParameter Param(Microsoft.EntityFrameworkCore.Metadata.IEntityType type, string property, string name, object? value) =>
            type.FindProperty(property)!.GetRelationalTypeMapping().CreateParameter(factory, name, value);
        parameters.AddRange(
        [
            Param(customer, nameof(Customer.PoolId), "@sweep_pool", pool.Id),
            Param(customer, nameof(Customer.PooledAt), "@sweep_now", now),
            Param(customer, nameof(Customer.PoolReason), "@sweep_reason", reason),
        ]);
        List<System.Data.Common.DbParameter> following =
        [
            Param(change, nameof(OwnershipChange.Rule), "@sweep_rule", rule),
            Param(change, nameof(OwnershipChange.Event), "@sweep_event", OwnershipEvent.Reclaimed),
            Param(task, nameof(FollowUpTask.ClosedAt), "@sweep_closed_at", now),
            Param(task, nameof(FollowUpTask.ClosedReason), "@sweep_closed_reason", "reclaimed"),
        ];
        const string pooled = """
            "PreviousOwnerId" = "OwnerId", "OwnerId" = NULL, "PoolId" = @sweep_pool, "PooledAt" = @sweep_now,
            "PoolReason" = @sweep_reason, "ClaimedAt" = NULL, "UpdatedAt" = @sweep_now
            """;
        // The history row: previous owner, reason, pool and instant as the UPDATE left them on the customer.
        const string history = """
            INSERT INTO "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "Rule", "ById", "At", "Event", "PoolId")
            SELECT m."OrganizationId", m."Id", m."PreviousOwnerId", NULL, m."PoolReason", @sweep_rule, NULL, m."PooledAt", @sweep_event, m."PoolId"
            """;
        const string closeTasks = """UPDATE "FollowUpTasks" SET "ClosedAt" = @sweep_closed_at, "ClosedReason" = @sweep_closed_reason""";
        if (db.Database.IsNpgsql())
        {
            // The picked ids, and their last follow-ups as read at the same positions.
            var array = factory.CreateParameter();
            array.ParameterName = "@sweep_picked";
            array.Value = picked.Select(c => c.Id).ToArray();
            var seen = factory.CreateParameter();
            seen.ParameterName = "@sweep_seen";
            seen.Value = picked.Select(c => c.LastFollowUpAt).ToArray();
            // Only the model's names, EF Core's SQL and parameter names go into the text; every value is a parameter.
            // The WHERE of EF Core's pick becomes the UPDATE's, on the same alias.
            var shape = System.Text.RegularExpressions.Regex.Match(pick, """^SELECT c\."Id"\s+FROM "Customers" AS c\s+WHERE (?<where>.*)$""",
                System.Text.RegularExpressions.RegexOptions.Singleline);
            if (!shape.Success)
            {
                throw new InvalidOperationException($"The sweep's pick is not of the shape it writes into its UPDATE: {pick}");
            }
            var oneStatement = $"""
                WITH moved AS (
                    UPDATE "Customers" AS c SET {pooled}
                    WHERE ({shape.Groups["where"].Value})
                        AND c."LastFollowUpAt" IS NOT DISTINCT FROM (@sweep_seen)[array_position(@sweep_picked, c."Id")]
                    RETURNING "Id", "OrganizationId", "PreviousOwnerId", "PoolReason", "PooledAt", "PoolId"),
                history AS ({history} FROM moved AS m),
                tasks AS ({closeTasks} WHERE "CustomerId" IN (SELECT "Id" FROM moved) AND "ClosedAt" IS NULL)
                SELECT "Id" AS "Value" FROM moved
                """;
            return await db.Database.SqlQueryRaw<Guid>(oneStatement, [.. parameters, .. following, array, seen]).ToListAsync(ct);
        }
        var update = $"""UPDATE "Customers" SET {pooled} WHERE "Id" IN ({pick}) RETURNING "Id" AS "Value" """;
        var ours = await db.Database.SqlQueryRaw<Guid>(update, [.. parameters]).ToListAsync(ct);
        if (ours.Count > 0)
        {
            var list = string.Join(", ", ours.Select((_, i) => "@sweep_c" + i));
            following.AddRange(ours.Select((id, i) => Param(customer, nameof(Customer.Id), "@sweep_c" + i, id)));
            var historyAndTasks = $"""
                {history} FROM "Customers" AS m WHERE m."Id" IN ({list});
                {closeTasks} WHERE "CustomerId" IN ({list}) AND "ClosedAt" IS NULL;
                """;
            await db.Database.ExecuteSqlRawAsync(historyAndTasks, [.. following], ct);
        }
        return ours;
    }

    /// <summary>Records warnings once per customer, due time and lead time; returns those this sweep recorded.</summary>
    private static async Task<List<Decided>> WarnAsync(TideflowDbContext db, List<(Decided Customer, int Hours)> toWarn, DateTimeOffset now, CancellationToken ct)
    {
        if (toWarn.Count == 0)
        {
            return [];
        }
        var ids = toWarn.Select(d => d.Customer.Candidate.Id).ToList();
        var sent = (await db.PoolWarnings.Where(w => ids.Contains(w.CustomerId)).Select(w => new { w.CustomerId, w.DueAt, w.HoursBefore }).ToListAsync(ct))
            .Select(w => (w.CustomerId, w.DueAt, w.HoursBefore)).ToHashSet();
        var unsent = toWarn.Where(d => !sent.Contains((d.Customer.Candidate.Id, d.Customer.Decision.DueAt!.Value, d.Hours))).ToList();
        if (unsent.Count == 0)
        {
            return [];
        }
        foreach (var (d, hours) in unsent)
        {
            db.PoolWarnings.Add(new PoolWarning
            {
                OrganizationId = d.Candidate.OrganizationId, CustomerId = d.Candidate.Id, OwnerId = d.Candidate.OwnerId, HoursBefore = hours,
                DueAt = d.Decision.DueAt!.Value, SentAt = now,
            });
        }
        try
        {
            // Inside the batch's transaction EF Core saves behind a savepoint: a refusal here leaves the reclaims standing.
            await db.SaveChangesAsync(ct);
            return unsent.Select(d => d.Customer).ToList();
        }
        catch (DbUpdateException e) when (Leads.CaptureLead.IsUniqueViolation(e))
        {
            // Another sweep (a node that took over a lapsed lease) warned the same customers: theirs stand.
            db.ChangeTracker.Clear();
            return [];
        }
    }

    /// <summary>
    /// One message per owner for the customers this sweep took from them, one for those it warned about, and one audit
    /// entry for the pool's round (each customer's own record is its history row).
    /// </summary>
    private async Task NotifyAsync(CustomerPool pool, OwnerNews news, DateTimeOffset now)
    {
        // Whatever a failed batch left unsaved is not news.
        db.ChangeTracker.Clear();
        if (news.Reclaimed.Count > 0)
        {
            db.AuditEntries.Add(new Access.AuditEntry
            {
                OrganizationId = pool.OrganizationId, At = now, ActorName = "system", Action = Access.AuditActions.Update,
                EntityType = "PoolSweep", EntityId = pool.Id.ToString(),
                Changes = System.Text.Json.JsonSerializer.Serialize(new { reclaimed = news.Reclaimed.Count, pool = pool.Name }),
            });
        }
        foreach (var theirs in news.Reclaimed.GroupBy(d => d.Candidate.OwnerId).Select(g => g.ToList()))
        {
            var (first, decision) = (theirs[0].Candidate, theirs[0].Decision);
            if (theirs.Count == 1)
            {
                Inboxes.Add(db, first.OrganizationId, first.OwnerId, NotificationKinds.CustomerReclaimed,
                    new { name = first.Name, pool = pool.Name, reason = decision.Reason }, $"/customers/{first.Id}", now);
            }
            else
            {
                Inboxes.Add(db, first.OrganizationId, first.OwnerId, NotificationKinds.CustomersReclaimed,
                    new { count = Count(theirs.Count), names = Inboxes.FirstNames(theirs.Select(d => d.Candidate.Name)), pool = pool.Name }, "/pool", now);
            }
        }
        foreach (var theirs in news.Warned.GroupBy(d => d.Candidate.OwnerId).Select(g => g.OrderBy(d => d.Decision.DueAt).ToList()))
        {
            var (c, decision) = (theirs[0].Candidate, theirs[0].Decision);
            var left = PoolCountdown.Describe(decision.DueAt!.Value - now);
            if (theirs.Count == 1)
            {
                Inboxes.Add(db, c.OrganizationId, c.OwnerId, NotificationKinds.ReclaimWarning,
                    new { name = c.Name, left, reason = decision.Reason }, $"/customers/{c.Id}", now);
            }
            else
            {
                Inboxes.Add(db, c.OrganizationId, c.OwnerId, NotificationKinds.ReclaimWarnings,
                    new { count = Count(theirs.Count), names = Inboxes.FirstNames(theirs.Select(d => d.Candidate.Name)), left }, "/", now);
            }
        }
        if (db.ChangeTracker.HasChanges())
        {
            db.AuditEntityChanges = false;
            try
            {
                await db.SaveChangesAsync(CancellationToken.None);
            }
            finally
            {
                db.AuditEntityChanges = true;
                db.ChangeTracker.Clear();
            }
        }
    }

    private static string Count(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// "If the sweep ran now": the customers the given settings would reclaim from this pool, by which rule and from whom
    /// — the same WHERE and the same <see cref="PoolRules.Evaluate"/> as the sweep.
    /// </summary>
    public static async Task<(int Total, List<(PoolCandidate Customer, ReclaimDecision Decision)> Sample)> PreviewAsync(
        TideflowDbContext db, CustomerPool pool, PoolSettings s, DateTimeOffset now, int take, CancellationToken ct)
    {
        var pipeline = await Pipeline.PipelineSettings.LoadAsync(db, pool.OrganizationId, ct);
        var governed = (await GovernedAsync(db, pool, ct)).Where(ReclaimRulesSql.Due(s, pipeline, db, now));
        var total = await governed.CountAsync(ct);
        var sample = await Candidates(db, governed.OrderBy(c => c.AssignedAt).ThenBy(c => c.Id).Take(take), s).ToListAsync(ct);
        return (total, sample.Select(c => (c, PoolRules.Evaluate(c.Facts, s, pipeline, now))).ToList());
    }
}

/// <summary>"12 天后回收", "23 小时后回收": how long until a reclaim, in the unit a rep reads at a glance.</summary>
public static class PoolCountdown
{
    /// <summary>Whole days from two days on; below that hours, rounded up and at least one.</summary>
    public static (int Amount, bool InDays) Of(TimeSpan left) => left >= TimeSpan.FromDays(2)
        ? ((int)left.TotalDays, true)
        : (Math.Max(1, (int)Math.Ceiling(left.TotalHours)), false);

    /// <summary>Language-neutral, for a stored notification parameter: "12d", "23h".</summary>
    public static string Describe(TimeSpan left)
    {
        var (n, days) = Of(left);
        return days ? $"{n}d" : $"{n}h";
    }

    /// <summary>In the reader's language, for pages.</summary>
    public static string Text(TimeSpan left, Microsoft.Extensions.Localization.IStringLocalizer L)
    {
        var (n, days) = Of(left);
        return string.Format(L[days ? "ReclaimInDays" : "ReclaimInHours"], n);
    }
}
