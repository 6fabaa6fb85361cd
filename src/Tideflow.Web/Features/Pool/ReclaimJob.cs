using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

/// <summary>A customer the rules pick, with the facts <see cref="PoolRules.Evaluate"/> needs.</summary>
public sealed record PoolCandidate(Guid Id, Guid OrganizationId, string Name, string? Company, Guid OwnerId, string? Grade, string Stage,
    DateTimeOffset AssignedAt, DateTimeOffset? LastContactAt, DateTimeOffset? StageChangedAt, DateTimeOffset? ClaimedAt, DateTimeOffset? ProtectedUntil,
    DateTimeOffset? ContractEndsAt = null)
{
    public CustomerFacts Facts => new(Grade, Stage, AssignedAt, LastContactAt, StageChangedAt, ClaimedAt, ProtectedUntil, ContractEndsAt);
}

/// <summary>
/// The reclaim sweep (R4.2–R4.4), run by the scheduler on whichever node holds its lease. Per pool it walks the
/// organisation's customers in slices of the table's physical order (<see cref="TableWalk"/>); per slice one read picks
/// the governed customers due now or within the longest warning, <see cref="PoolRules.Evaluate"/> decides each, and one
/// short transaction takes the due ones back, its UPDATE repeating the rule's WHERE, so a follow-up that lands first
/// keeps the customer and one that lands after fails on the owner it no longer has (never both). Warnings are unique per
/// customer, due time and lead time. Each owner hears once per pool and sweep: one message, or a digest naming how many.
/// </summary>
public sealed class ReclaimJob(TideflowDbContext db, IConfiguration config, ILogger<ReclaimJob> logger) : IScheduledJob
{
    public const string Name = "pool-sweep";

    /// <summary>About this many of an organisation's customers per slice read: one short statement each.</summary>
    private int SliceSize => Math.Max(1, config.GetValue("Pool:SweepSlice", 5000));

    /// <summary>
    /// At most this many picked customers per write transaction. The transaction holds SQLite's one write lock, or its
    /// rows' locks on PostgreSQL, so a rep saving a customer meanwhile may wait that long; fewer, larger transactions
    /// finish the round sooner. Measured at 1M customers, 95k due, on 2 cores shared with the list load and other work:
    /// PostgreSQL 150 → 39 s, longest writer wait 0.26 s (a slice's ~500 at once: 59 s, 2.5 s). SQLite pays a fixed
    /// ~0.2 s per transaction under that load (a turn of the one write lock, its gap, the awaits queued behind the
    /// requests), so it writes a slice's picks at once: 59–66 s (at most 500: 120 s; 150: 195 s).
    /// </summary>
    private int BatchSize => Math.Max(1, config.GetValue<int?>("Pool:SweepBatch") ?? (db.Database.IsSqlite() ? 1000 : 150));

    /// <summary>
    /// SQLite only: between two write transactions the write lock stays free at least this long (reading the next slice
    /// counts towards it). A writer that found it taken retries on busy_timeout's back-off (1, 3, 8, 18, 33, 53, 78 ms
    /// after its first try); with no gap the sweep takes the lock again before the writer looks, and the writer waits
    /// through many transactions.
    /// </summary>
    private TimeSpan SqliteGap => TimeSpan.FromMilliseconds(config.GetValue("Pool:SweepSqliteGapMs", 15));

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
        var governed = db.Customers.Where(isGoverned);
        var due = ReclaimRulesSql.Due(s, pipeline, db, now);
        // One pick serves both: the rules only ever add customers as time passes, so whoever is due now or owed a
        // warning is due by now + the longest warning.
        var horizon = s.Warnings.Count == 0 ? now : now + TimeSpan.FromHours(s.Warnings.Max());
        var picked = ReclaimRulesSql.Due(s, pipeline, db, horizon);
        var sqlite = db.Database.IsSqlite();
        var news = new OwnerNews();
        var sinceWrite = System.Diagnostics.Stopwatch.StartNew();
        var (reading, writing) = (new System.Diagnostics.Stopwatch(), new System.Diagnostics.Stopwatch());
        int reclaimed = 0, warned = 0, slices = 0, writes = 0;
        var longestWrite = TimeSpan.Zero;
        var warnedNow = new HashSet<Guid>();
        async Task SliceAsync(IQueryable<Customer> slice)
        {
            slices++;
            reading.Start();
            var candidates = await Candidates(db, slice.Where(isGoverned).Where(picked), s).ToListAsync(ct);
            reading.Stop();
            // PostgreSQL's last look sees again the customers this round warned: they need no second look.
            candidates = candidates.Where(c => !warnedNow.Contains(c.Id)).ToList();
            foreach (var batch in candidates.Chunk(BatchSize))
            {
                var decided = batch.Select(c => new Decided(c, PoolRules.Evaluate(c.Facts, s, pipeline, now))).ToList();
                var toReclaim = decided.Where(d => d.Decision.Status == ReclaimStatus.Due).ToList();
                var toWarn = decided.Select(d => (Customer: d, Hours: PoolRules.WarningNow(d.Decision, s, now) ?? 0)).Where(d => d.Hours > 0).ToList();
                if (toReclaim.Count == 0 && toWarn.Count == 0)
                {
                    continue;
                }
                if (sqlite && SqliteGap - sinceWrite.Elapsed is { Ticks: > 0 } rest)
                {
                    await Task.Delay(rest, ct);
                }
                var started = writing.Elapsed;
                writing.Start();
                var (taken, sent) = await WriteSliceAsync(pool, governed, due, toReclaim, toWarn, now, ct);
                writing.Stop();
                sinceWrite.Restart();
                writes++;
                longestWrite = TimeSpan.FromTicks(Math.Max(longestWrite.Ticks, (writing.Elapsed - started).Ticks));
                news.Reclaimed.AddRange(taken);
                news.Warned.AddRange(sent);
                warnedNow.UnionWith(sent.Select(d => d.Candidate.Id));
                reclaimed += taken.Count;
                warned += sent.Count;
            }
        }

        try
        {
            await foreach (var slice in TableWalk.SlicesAsync(db, db.Customers, pool.OrganizationId, SliceSize, ct))
            {
                await SliceAsync(slice.Rows);
            }
            // A PostgreSQL row an update moved behind the walk was not seen (a SQLite row keeps its rowid).
            if (db.Database.IsNpgsql())
            {
                // One statement, one snapshot: every row once, also those an update moved behind the walk. Whatever the
                // slices handled no longer matches the WHERE, or is skipped as already warned.
                await SliceAsync(db.Customers);
            }
            logger.LogInformation("Pool sweep of {Pool}: {Slices} slices read in {Reading:F0} ms, {Writes} written in {Writing:F0} ms (longest {Longest:F0} ms); reclaimed {Reclaimed}, warned {Warned}",
                pool.Id, slices, reading.Elapsed.TotalMilliseconds, writes, writing.Elapsed.TotalMilliseconds, longestWrite.TotalMilliseconds, reclaimed, warned);
        }
        finally
        {
            // The reclaims are committed: their owners hear of them even when a later slice failed or the app is stopping.
            await NotifyAsync(pool, news, now);
        }
        return (reclaimed, warned);
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
            c.StageChangedAt, c.ClaimedAt, c.ProtectedUntil, c.ContractEndsAt));
    }

    /// <summary>
    /// One slice's due customers back to the pool and its warnings recorded, in one transaction (on SQLite one turn of
    /// the write lock); returns those this sweep took and warned about.
    /// </summary>
    private async Task<(List<Decided> Taken, List<Decided> Warned)> WriteSliceAsync(CustomerPool pool, IQueryable<Customer> governed,
        System.Linq.Expressions.Expression<Func<Customer, bool>> due, List<Decided> toReclaim, List<(Decided Customer, int Hours)> toWarn,
        DateTimeOffset now, CancellationToken ct)
    {
        List<Decided> taken = [], warned = [];
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            db.AuditEntityChanges = false;
            try
            {
                taken = await ReclaimAsync(pool, governed, due, toReclaim, now, ct);
                warned = await WarnAsync(toWarn, now, ct);
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

    private async Task<List<Decided>> ReclaimAsync(CustomerPool pool, IQueryable<Customer> governed,
        System.Linq.Expressions.Expression<Func<Customer, bool>> due, List<Decided> decided, DateTimeOffset now, CancellationToken ct)
    {
        if (decided.Count == 0)
        {
            return [];
        }
        foreach (var group in decided.GroupBy(d => d.Decision.Reason))
        {
            var ids = group.Select(d => d.Candidate.Id).ToList();
            var reason = group.Key;
            // The WHERE again: a follow-up, claim or protection committed since the pick wins.
            // LastFollowUpAt is on the row itself: PostgreSQL re-checks it against a follow-up committed meanwhile even
            // when the rule counts only some channels (a subquery on the records would still see the old snapshot).
            await governed.Where(due).Where(c => ids.Contains(c.Id) && (c.LastFollowUpAt == null || c.LastFollowUpAt <= now)).ExecuteUpdateAsync(c => c
                .SetProperty(x => x.PreviousOwnerId, x => x.OwnerId)
                .SetProperty(x => x.OwnerId, (Guid?)null)
                .SetProperty(x => x.PoolId, pool.Id)
                .SetProperty(x => x.PooledAt, now)
                .SetProperty(x => x.PoolReason, reason)
                .SetProperty(x => x.ClaimedAt, (DateTimeOffset?)null)
                .SetProperty(x => x.UpdatedAt, now), ct);
        }
        var picked = decided.Select(d => d.Candidate.Id).ToList();
        // Ours: pooled by this sweep's instant and not already booked by another node's sweep of the same instant.
        // Found by Id, the rest compared here: with "PoolId = … AND PooledAt = now" in the WHERE, SQLite's planner
        // prefers that index and reads every customer this sweep has pooled so far, for every slice.
        var ours = (await db.Customers.Where(c => picked.Contains(c.Id))
                .Select(c => new { c.Id, c.OwnerId, c.PoolId, c.PooledAt,
                    Booked = db.OwnershipChanges.Any(o => o.CustomerId == c.Id && o.Event == OwnershipEvent.Reclaimed && o.At == now) })
                .ToListAsync(ct))
            .Where(c => c.OwnerId == null && c.PoolId == pool.Id && c.PooledAt == now && !c.Booked).Select(c => c.Id).ToList();
        if (ours.Count == 0)
        {
            return [];
        }
        var taken = decided.Where(d => ours.Contains(d.Candidate.Id)).ToList();
        // The history, one INSERT … SELECT per rule: a row per customer, written by the database, not one by one.
        foreach (var group in taken.GroupBy(d => d.Decision.Rule!.When))
        {
            await RecordReclaimsAsync(group.Select(d => d.Candidate.Id).ToList(), group.Key.ToString(), ct);
        }
        await db.FollowUpTasks.Where(t => t.CustomerId != null && ours.Contains(t.CustomerId.Value) && t.ClosedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.ClosedAt, now).SetProperty(x => x.ClosedReason, "reclaimed"), ct);
        return taken;
    }

    /// <summary>Records warnings once per customer, due time and lead time; returns those this sweep recorded.</summary>
    private async Task<List<Decided>> WarnAsync(List<(Decided Customer, int Hours)> toWarn, DateTimeOffset now, CancellationToken ct)
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
            // Inside the slice's transaction EF Core saves behind a savepoint: a refusal here leaves the reclaims standing.
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
        // Whatever a failed slice left unsaved is not news.
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
    /// One history row per reclaimed customer, written by one INSERT … SELECT from the rows the slice's UPDATE just
    /// pooled and its read-back found this sweep's, in the same transaction (previous owner, reason, pool and instant
    /// come from the row itself). Parameters are made by the model's own mappings, so SQLite compares Guids in the form
    /// EF Core stores them.
    /// </summary>
    private async Task RecordReclaimsAsync(List<Guid> ids, string rule, CancellationToken ct)
    {
        var customer = db.Model.FindEntityType(typeof(Customer))!;
        var change = db.Model.FindEntityType(typeof(OwnershipChange))!;
        await using var factory = db.Database.GetDbConnection().CreateCommand();
        System.Data.Common.DbParameter Param(Microsoft.EntityFrameworkCore.Metadata.IEntityType type, string property, string name, object? value) =>
            type.FindProperty(property)!.GetRelationalTypeMapping().CreateParameter(factory, name, value);
        var parameters = new List<object>
        {
            Param(change, nameof(OwnershipChange.Rule), "@rule", rule),
            Param(change, nameof(OwnershipChange.Event), "@event", OwnershipEvent.Reclaimed),
        };
        parameters.AddRange(ids.Select((id, i) => Param(customer, nameof(Customer.Id), "@c" + i, id)));
        // Only parameter names go into the text; every value is a parameter.
        var list = string.Join(", ", ids.Select((_, i) => "@c" + i));
        var sql = $"""
            INSERT INTO "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "Rule", "ById", "At", "Event", "PoolId")
            SELECT c."OrganizationId", c."Id", c."PreviousOwnerId", NULL, c."PoolReason", @rule, NULL, c."PooledAt", @event, c."PoolId"
            FROM "Customers" AS c
            WHERE c."Id" IN ({list})
            """;
        await db.Database.ExecuteSqlRawAsync(sql, parameters, ct);
    }

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
