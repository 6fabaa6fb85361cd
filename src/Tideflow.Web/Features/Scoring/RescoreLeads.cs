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
    public DateTimeOffset? FinishedAt { get; set; }
}

public sealed record RescoreJobView(Guid Id, int Version, RescoreStatus Status, int Total, int Done, int Regraded, string? Error,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt);

public sealed class RescoreLeads(TideflowDbContext db, CurrentUser me, TimeProvider clock, RescoreQueue queue)
{
    /// <summary>Open leads: those a rep may still work (new, queued, nurtured).</summary>
    public static readonly LeadStatus[] Open = [LeadStatus.New, LeadStatus.Queued, LeadStatus.Nurture];

    public async Task<RescoreJobView> StartAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        if (await db.RescoreJobs.AnyAsync(j => j.Status == RescoreStatus.Running, ct))
        {
            throw Problem.Conflict("A re-score is already running.");
        }
        var (version, _) = await ScoreCards.CurrentAsync(db, ct);
        var job = new RescoreJob
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Version = version, Status = RescoreStatus.Running,
            Total = await db.Leads.CountAsync(l => Open.Contains(l.Status), ct), CreatedById = me.Id, CreatedAt = clock.GetUtcNow(),
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

public sealed class RescoreQueue
{
    private readonly System.Threading.Channels.Channel<Guid> queue = System.Threading.Channels.Channel.CreateUnbounded<Guid>();
    public ValueTask EnqueueAsync(Guid id, CancellationToken ct) => queue.Writer.WriteAsync(id, ct);
    public IAsyncEnumerable<Guid> ReadAllAsync(CancellationToken ct) => queue.Reader.ReadAllAsync(ct);
}

public sealed class RescoreWorker(RescoreQueue queue, IServiceScopeFactory scopes, ILogger<RescoreWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var id in queue.ReadAllAsync(stoppingToken))
        {
            await using var scope = scopes.CreateAsyncScope();
            var runner = scope.ServiceProvider.GetRequiredService<RescoreRunner>();
            try
            {
                await runner.RunAsync(id, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "Re-score {Id} failed", id);
                await runner.FailAsync(id, e.Message);
            }
        }
    }
}

/// <summary>
/// Walks the open leads in id order, in batches, each batch one short transaction, so the app keeps serving
/// while it runs. Per-row audit is off (a re-score touches every lead); one entry records the job.
/// </summary>
public sealed class RescoreRunner(TideflowDbContext db, CurrentUser current, TimeProvider clock)
{
    public const int BatchSize = 2000;

    public async Task RunAsync(Guid id, CancellationToken ct)
    {
        current.Set(DataScope.System);
        var job = await db.RescoreJobs.SingleAsync(j => j.Id == id, ct);
        current.Set(DataScope.ForChannel(job.OrganizationId, "rescore"));
        db.AuditEntityChanges = false;
        var (version, card) = await ScoreCards.CurrentAsync(db, ct);
        var channels = await db.Channels.AsNoTracking().ToDictionaryAsync(c => c.Id, ct);
        job.Version = version;
        db.Audit("rescore-started", nameof(RescoreJob), job.Id.ToString(), new { version, job.Total });
        await db.SaveChangesAsync(ct);

        // The ids first (16 bytes a lead), then batches by id: no offset paging over a table that changes meanwhile.
        var ids = await db.Leads.Where(l => Open.Contains(l.Status)).OrderBy(l => l.Id).Select(l => l.Id).ToListAsync(ct);
        job.Total = ids.Count;
        foreach (var chunk in ids.Chunk(BatchSize))
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    job.Regraded += await RescoreBatchAsync(chunk, channels, card, version, ct);
                    break;
                }
                catch (DbUpdateConcurrencyException) when (attempt < 4)
                {
                    // A rep qualified or an event re-scored one of these leads meanwhile: read the batch again.
                    db.ChangeTracker.Clear();
                }
            }
            job.Done += chunk.Length;
            // The batch cleared the change tracker; Update writes the job's progress whole.
            db.RescoreJobs.Update(job);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        db.RescoreJobs.Update(job);
        job.Status = RescoreStatus.Completed;
        job.FinishedAt = clock.GetUtcNow();
        db.Audit("rescore-completed", nameof(RescoreJob), job.Id.ToString(), new { version, job.Done, job.Regraded });
        await db.SaveChangesAsync(ct);
    }

    private async Task<int> RescoreBatchAsync(Guid[] chunk, Dictionary<Guid, Leads.Channel> channels, Domain.Scoring.ScoreCard card,
        int version, CancellationToken ct)
    {
        var batch = await db.Leads.Where(l => chunk.Contains(l.Id) && Open.Contains(l.Status)).ToListAsync(ct);
        var now = clock.GetUtcNow();
        var regraded = 0;
        foreach (var lead in batch)
        {
            var before = lead.Grade;
            var result = LeadScoring.Apply(lead, lead.ChannelId is { } c ? channels.GetValueOrDefault(c) : null, card, version, now);
            if (before is not null && before != result.Grade)
            {
                regraded++;
            }
        }
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
        return regraded;
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
