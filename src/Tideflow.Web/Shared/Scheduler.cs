using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Shared;

/// <summary>
/// A recurring job's row: when it last ran, with what result, when it runs next, and who holds it now. The lease is
/// taken with one conditional UPDATE, so with several app nodes exactly one runs a given round.
/// </summary>
public sealed class ScheduledJob
{
    public required string Name { get; set; }
    public DateTimeOffset NextRunAt { get; set; }
    public DateTimeOffset? LastStartedAt { get; set; }
    public DateTimeOffset? LastFinishedAt { get; set; }
    public string? LastResult { get; set; }
    public bool LastFailed { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public string? LeaseHolder { get; set; }
}

/// <summary>A job the scheduler runs every so often, as the system, on whichever node takes the lease.</summary>
public interface IScheduledJob
{
    /// <summary>
    /// Runs one round — for every organisation, or for one when an admin presses "Run now" — and returns what the admin
    /// page shows as its result ("reclaimed 12, warned 3").
    /// </summary>
    Task<string> RunAsync(DateTimeOffset now, Guid? organizationId, CancellationToken ct);
}

public sealed record JobSchedule(string Name, Type Job, TimeSpan Every);

public sealed record JobRow(string Name, DateTimeOffset NextRunAt, DateTimeOffset? LastStartedAt, DateTimeOffset? LastFinishedAt,
    string? LastResult, bool LastFailed, bool Running, bool Late);

/// <summary>
/// The scheduler inside the app (no cron to set up): ticks on the injected clock, and for each job that is due takes
/// the lease, runs it and books the result. A missed round is simply caught up by the next; a node that dies mid-run
/// loses its lease after <see cref="Lease"/>.
/// </summary>
public sealed class Scheduler(IServiceScopeFactory scopes, IEnumerable<JobSchedule> jobs, TimeProvider clock, IConfiguration config,
    ILogger<Scheduler> logger) : BackgroundService
{
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(30);
    private readonly string node = $"{Guid.NewGuid():N}@{Environment.MachineName}"[..Math.Min(100, 33 + Environment.MachineName.Length)];

    public IReadOnlyList<JobSchedule> Jobs { get; } = jobs.ToList();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Scheduler:Enabled", true))
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(config.GetValue("Scheduler:TickSeconds", 30)), clock);
        // Jobs this node leaves to the others (e.g. reminders sent from one node only).
        var skip = config.GetSection("Scheduler:Skip").Get<string[]>() ?? [];
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var job in Jobs.Where(j => !skip.Contains(j.Name, StringComparer.OrdinalIgnoreCase)))
            {
                try
                {
                    await RunIfDueAsync(job, force: false, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The database may be away for a moment; the next tick tries again.
                    logger.LogError(e, "Scheduler could not run {Job}", job.Name);
                }
            }
        }
    }

    /// <summary>Runs the job if it is due (or <paramref name="force"/>d) and no node holds it; false when it did not run.</summary>
    public async Task<bool> RunIfDueAsync(JobSchedule job, bool force, CancellationToken ct, Guid? organizationId = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        var now = clock.GetUtcNow();
        await EnsureRowAsync(db, job.Name, now, ct);
        var taken = await db.ScheduledJobs
            .Where(j => j.Name == job.Name && (force || j.NextRunAt <= now) && (j.LeaseUntil == null || j.LeaseUntil < now))
            .ExecuteUpdateAsync(j => j.SetProperty(x => x.LeaseUntil, now + Lease).SetProperty(x => x.LeaseHolder, node)
                .SetProperty(x => x.LastStartedAt, now), ct);
        if (taken == 0)
        {
            return false;
        }
        var result = "stopped before it finished";
        var failed = true;
        try
        {
            result = await ((IScheduledJob)scope.ServiceProvider.GetRequiredService(job.Job)).RunAsync(now, organizationId, ct);
            failed = false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Job {Job} failed", job.Name);
            result = e.Message;
        }
        finally
        {
            // Even when the app is stopping mid-run: hand the lease back rather than leave it to lapse.
            var finished = clock.GetUtcNow();
            result = result.Length > 1000 ? result[..1000] : result;
            await db.ScheduledJobs.Where(j => j.Name == job.Name && j.LeaseHolder == node)
                .ExecuteUpdateAsync(j => j.SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null).SetProperty(x => x.LeaseHolder, (string?)null)
                    .SetProperty(x => x.LastFinishedAt, finished).SetProperty(x => x.LastResult, result).SetProperty(x => x.LastFailed, failed)
                    .SetProperty(x => x.NextRunAt, x => organizationId == null ? now + job.Every : x.NextRunAt), CancellationToken.None);
        }
        return true;
    }

    private static async Task EnsureRowAsync(TideflowDbContext db, string name, DateTimeOffset now, CancellationToken ct)
    {
        if (await db.ScheduledJobs.AnyAsync(j => j.Name == name, ct))
        {
            return;
        }
        db.ScheduledJobs.Add(new ScheduledJob { Name = name, NextRunAt = now });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // The other node created it first.
        }
        db.ChangeTracker.Clear();
    }
}

/// <summary>The admin's view of the scheduler (R5.6): each job's last run, next run and result; a late job is flagged.</summary>
public sealed class ScheduledJobs(TideflowDbContext db, CurrentUser me, Scheduler scheduler, TimeProvider clock)
{
    public async Task<List<JobRow>> ListAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var now = clock.GetUtcNow();
        var rows = await db.ScheduledJobs.AsNoTracking().ToListAsync(ct);
        return scheduler.Jobs.Select(j => rows.FirstOrDefault(r => r.Name == j.Name) is { } r
                ? new JobRow(r.Name, r.NextRunAt, r.LastStartedAt, r.LastFinishedAt, r.LastResult, r.LastFailed,
                    r.LeaseUntil > now, IsLate(r.NextRunAt, j.Every, now))
                : new JobRow(j.Name, now, null, null, null, false, false, false))
            .ToList();
    }

    /// <summary>"Run now" for the admin's organisation: takes the lease like a scheduled round (so it never runs twice at once) and returns the row.</summary>
    public async Task<JobRow> RunNowAsync(string name, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var job = scheduler.Jobs.FirstOrDefault(j => j.Name == name) ?? throw Problem.NotFound("Job");
        // Another node's round usually ends in seconds: wait for it a little before saying so.
        for (var attempt = 0; !await scheduler.RunIfDueAsync(job, force: true, ct, me.OrganizationId); attempt++)
        {
            if (attempt == 60)
            {
                throw Problem.Conflict($"{name} is running on another node right now; try again when it has finished.");
            }
            await Task.Delay(500, ct);
        }
        return (await ListAsync(ct)).Single(j => j.Name == name);
    }

    /// <summary>Late: a whole period past its due time and still not run (no node is running the scheduler, or the job keeps failing to start).</summary>
    public static bool IsLate(DateTimeOffset nextRunAt, TimeSpan every, DateTimeOffset now) => now - nextRunAt > every + TimeSpan.FromMinutes(1);
}

public static class SchedulerEndpoints
{
    public static IServiceCollection AddScheduledJob<TJob>(this IServiceCollection services, string name, TimeSpan every) where TJob : class, IScheduledJob
    {
        services.AddScoped<TJob>();
        services.AddSingleton(new JobSchedule(name, typeof(TJob), every));
        return services;
    }

    public static void MapScheduledJobs(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/jobs").WithTags("Scheduler");
        g.MapGet("/", (ScheduledJobs h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPost("/{name}/run", (string name, ScheduledJobs h, CancellationToken ct) => h.RunNowAsync(name, ct));
    }
}
