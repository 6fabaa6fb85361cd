using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Scoring;

public enum RescoreStatus
{
    Running,
    Completed,
    Failed,
}

/// <summary>"Re-score all open leads" after a rule change (R2.5): one job, its progress readable from any page load.</summary>
public sealed class RescoreJob : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public int Version { get; set; }
    public RescoreStatus Status { get; set; }
    public int Total { get; set; }
    public int Done { get; set; }
    /// <summary>Leads whose grade changed.</summary>
    public int Regraded { get; set; }
    public string? Error { get; set; }
    public Guid CreatedById { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Last progress; a running job silent for <see cref="RescoreLeads.Stalled"/> lost its node.</summary>
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

public sealed record RescoreJobView(Guid Id, int Version, RescoreStatus Status, int Total, int Done, int Regraded, string? Error,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

public sealed class RescoreLeads(TideflowDbContext db, CurrentUser me, TimeProvider clock, JobQueue<RescoreRunner> queue)
{
    /// <summary>Open leads: those a rep may still work (new, queued, nurtured).</summary>
    public static readonly LeadStatus[] Open = [LeadStatus.New, LeadStatus.Queued, LeadStatus.Nurture];

    /// <summary>A batch takes seconds; a job without progress for this long died with its node (restart, crash).</summary>
    public static readonly TimeSpan Stalled = TimeSpan.FromMinutes(10);

    public async Task<RescoreJobView> StartAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var now = clock.GetUtcNow();
        foreach (var running in await db.RescoreJobs.Where(j => j.Status == RescoreStatus.Running).ToListAsync(ct))
        {
            if (now - running.UpdatedAt < Stalled)
            {
                throw Problem.Conflict("A re-score is already running.");
            }
            (running.Status, running.Error, running.FinishedAt) = (RescoreStatus.Failed, "Stopped without finishing: the app node running it went away.", now);
        }
        var (version, _) = await ScoreCards.CurrentAsync(db, ct);
        var job = new RescoreJob
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Version = version, Status = RescoreStatus.Running,
            Total = await db.Leads.CountAsync(l => Open.Contains(l.Status), ct), CreatedById = me.Id, CreatedAt = now, UpdatedAt = now,
        };
        db.RescoreJobs.Add(job);
        await db.SaveChangesAsync(ct);
        await queue.EnqueueAsync(job.Id, ct);
        return View(job);
    }

    public async Task<RescoreJobView> GetAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        return View(await db.RescoreJobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, ct) ?? throw Problem.NotFound("Re-score"));
    }

    public async Task<RescoreJobView?> LatestAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var job = await db.RescoreJobs.AsNoTracking().OrderByDescending(j => j.CreatedAt).FirstOrDefaultAsync(ct);
        return job is null ? null : View(job);
    }

    private static RescoreJobView View(RescoreJob j) =>
        new(j.Id, j.Version, j.Status, j.Total, j.Done, j.Regraded, j.Error, j.CreatedAt, j.FinishedAt);
}

/// <summary>
/// Walks the organisation's leads in slices of the table's physical order (<see cref="TableWalk"/>), writing each in
/// short transactions of at most <see cref="BatchSize"/> leads, so the app keeps serving while it runs. Per-row audit is
/// off (a re-score touches every lead); one entry records the job.
/// </summary>
public sealed class RescoreRunner(TideflowDbContext db, CurrentUser current, TimeProvider clock) : IJobRunner
{
    public const int BatchSize = 2000;

    /// <summary>Leads read at once: several write batches, so PostgreSQL's can be spread over the slice's pages.</summary>
    public const int SliceSize = 10 * BatchSize;

    public async Task RunAsync(Guid id, CancellationToken ct)
    {
        current.Set(DataScope.System);
        var job = await db.RescoreJobs.SingleAsync(j => j.Id == id, ct);
        current.Set(DataScope.ForChannel(job.OrganizationId, "rescore"));
        db.AuditEntityChanges = false;
        var (version, card) = await ScoreCards.CurrentAsync(db, ct);
        var channels = await db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Id, ct);
        // As stored: a lead this job scored reads back as not before it began.
        var started = Database.AsStored(clock.GetUtcNow());
        job.Version = version;
        db.Audit("rescore-started", nameof(RescoreJob), job.Id.ToString(), new { version, job.Total });
        await db.SaveChangesAsync(ct);

        await foreach (var slice in TableWalk.SlicesAsync(db, db.Leads, job.OrganizationId, SliceSize, ct))
        {
            slice.Found(await RescoreBatchAsync(job, slice.Rows, channels, card, version, started, ct));
        }
        // One more look, one statement: a PostgreSQL row an update moved behind the walk, or a lead reopened behind it,
        // was not seen and still carries an older score.
        var missed = await db.Leads.Where(l => Open.Contains(l.Status) && !(l.ScoreVersion == version && l.ScoredAt >= started))
            .Select(l => l.Id).ToListAsync(ct);
        foreach (var chunk in missed.Chunk(BatchSize))
        {
            await RescoreBatchAsync(job, db.Leads.Where(l => chunk.Contains(l.Id)), channels, card, version, started, ct);
        }
        db.RescoreJobs.Update(job);
        // Every open lead is now on this version, whether this job scored it or its own save did meanwhile.
        job.Done = job.Total;
        job.Status = RescoreStatus.Completed;
        job.FinishedAt = clock.GetUtcNow();
        db.Audit("rescore-completed", nameof(RescoreJob), job.Id.ToString(), new { version, job.Done, job.Regraded });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Scores the open leads among <paramref name="leads"/>, writes them, and records the job's progress; how many it scored.</summary>
    private async Task<int> RescoreBatchAsync(RescoreJob job, IQueryable<Lead> leads, Dictionary<Guid, Leads.Channel> channels,
        Domain.Scoring.ScoreCard card, int version, DateTimeOffset started, CancellationToken ct)
    {
        // Only what scoring reads: raw payloads and consent texts would be most of the bytes. A lead this version scored
        // since the job began (its own save, or this job: a PostgreSQL row the job's update moved ahead of the walk) is current.
        var batch = await leads.AsNoTracking().Where(l => Open.Contains(l.Status) && !(l.ScoreVersion == version && l.ScoredAt >= started))
            .Select(l => new Lead
            {
                Id = l.Id, OrganizationId = l.OrganizationId, Name = l.Name, Company = l.Company, Mobile = l.Mobile, Email = l.Email,
                ChannelId = l.ChannelId, SourceTag = l.SourceTag, Tags = l.Tags, Campaign = l.Campaign, Status = l.Status,
                Fields = l.Fields, Grade = l.Grade, BehaviourPoints = l.BehaviourPoints, BehaviourAsOf = l.BehaviourAsOf,
                BehaviourCount = l.BehaviourCount,
            }).ToListAsync(ct);
        if (batch.Count == 0)
        {
            // A stretch of other organisations' rows still shows the job alive (a silent job counts as stalled).
            if (clock.GetUtcNow() - job.UpdatedAt > TimeSpan.FromMinutes(1))
            {
                await SaveProgressAsync(job, ct);
            }
            return 0;
        }
        var now = clock.GetUtcNow();
        foreach (var lead in batch)
        {
            var before = lead.Grade;
            var result = LeadScoring.Apply(lead, lead.ChannelId is { } c ? channels.GetValueOrDefault(c) : null, card, version, now);
            if (before is not null && before != result.Grade)
            {
                job.Regraded++;
            }
        }
        foreach (var part in WriteBatches(batch))
        {
            await WriteScoresAsync(part, ct);
            job.Done = Math.Min(job.Done + part.Length, job.Total);
            await SaveProgressAsync(job, ct);
        }
        return batch.Count;
    }

    /// <summary>
    /// A slice's leads in transactions of at most <see cref="BatchSize"/>. SQLite: neighbours together, so each
    /// transaction writes few pages. PostgreSQL: every n-th lead of the slice together, so a transaction changes a row
    /// or two per page and each new row version fits in its page (a HOT update: no index touched, the row stays in
    /// place) — all of a page's rows in one transaction overflowed the page, cost every index an entry per lead and
    /// moved the rows ahead of the walk (measured: writes 3× slower).
    /// </summary>
    private IEnumerable<Lead[]> WriteBatches(List<Lead> slice)
    {
        if (!db.Database.IsNpgsql())
        {
            return slice.Chunk(BatchSize);
        }
        var parts = (slice.Count + BatchSize - 1) / BatchSize;
        return Enumerable.Range(0, parts).Select(k => slice.Where((_, i) => i % parts == k).ToArray());
    }

    private async Task SaveProgressAsync(RescoreJob job, CancellationToken ct)
    {
        job.UpdatedAt = clock.GetUtcNow();
        db.RescoreJobs.Update(job);
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    /// <summary>
    /// The five score columns of a batch, written set-wise (measured: tracked entities cost ~15× the database work).
    /// A lead that a behaviour event or a rep changed since it was read is skipped: its own save scored it already.
    /// </summary>
    private async Task WriteScoresAsync(Lead[] leads, CancellationToken ct)
    {
        if (leads.Length == 0)
        {
            return;
        }
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = db.Database.GetDbConnection();
            if (db is PostgresTideflowDbContext)
            {
                await using var update = connection.CreateCommand();
                update.CommandText = """
                    UPDATE "Leads" l SET "Score" = r.score, "Grade" = r.grade, "ScoreVersion" = r.version, "ScoredAt" = r.at, "ScoreBreakdown" = r.breakdown
                    FROM unnest(@ids, @scores, @grades, @versions, @ats, @breakdowns, @counts) AS r(id, score, grade, version, at, breakdown, count)
                    WHERE l."Id" = r.id AND l."BehaviourCount" = r.count AND l."Status" IN ('New', 'Queued', 'Nurture')
                    """;
                update.Parameters.Add(new Npgsql.NpgsqlParameter("ids", leads.Select(l => l.Id).ToArray()));
                update.Parameters.Add(new Npgsql.NpgsqlParameter("scores", leads.Select(l => l.Score!.Value).ToArray()));
                update.Parameters.Add(new Npgsql.NpgsqlParameter("grades", leads.Select(l => l.Grade!).ToArray()));
                update.Parameters.Add(new Npgsql.NpgsqlParameter("versions", leads.Select(l => l.ScoreVersion!.Value).ToArray()));
                update.Parameters.Add(new Npgsql.NpgsqlParameter("ats", leads.Select(l => l.ScoredAt!.Value).ToArray()));
                update.Parameters.Add(new Npgsql.NpgsqlParameter("breakdowns", leads.Select(l => l.ScoreBreakdown!).ToArray()));
                update.Parameters.Add(new Npgsql.NpgsqlParameter("counts", leads.Select(l => l.BehaviourCount).ToArray()));
                await update.ExecuteNonQueryAsync(ct);
                return;
            }
            await using var tx = await connection.BeginTransactionAsync(ct);
            await using var row = connection.CreateCommand();
            row.Transaction = tx;
            row.CommandText = """
                UPDATE "Leads" SET "Score" = $score, "Grade" = $grade, "ScoreVersion" = $version, "ScoredAt" = $at, "ScoreBreakdown" = $breakdown
                WHERE "Id" = $id AND "BehaviourCount" = $count AND "Status" IN ('New', 'Queued', 'Nurture')
                """;
            var parameters = new[] { "$score", "$grade", "$version", "$at", "$breakdown", "$id", "$count" }.Select(n =>
            {
                var p = row.CreateParameter();
                p.ParameterName = n;
                row.Parameters.Add(p);
                return p;
            }).ToArray();
            foreach (var lead in leads)
            {
                parameters[0].Value = lead.Score!.Value;
                parameters[1].Value = lead.Grade!;
                parameters[2].Value = lead.ScoreVersion!.Value;
                // As the SQLite model stores them: instants as UTC ticks, Guids as upper-case text.
                parameters[3].Value = lead.ScoredAt!.Value.UtcTicks;
                parameters[4].Value = lead.ScoreBreakdown!;
                parameters[5].Value = lead.Id.ToString().ToUpperInvariant();
                parameters[6].Value = lead.BehaviourCount;
                await row.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public async Task FailAsync(Guid id, string error)
    {
        db.ChangeTracker.Clear();
        current.Set(DataScope.System);
        var job = await db.RescoreJobs.SingleAsync(j => j.Id == id);
        job.Status = RescoreStatus.Failed;
        job.Error = error.Length > 2000 ? error[..2000] : error;
        job.FinishedAt = clock.GetUtcNow();
        await db.SaveChangesAsync();
    }

    private static LeadStatus[] Open => RescoreLeads.Open;
}
