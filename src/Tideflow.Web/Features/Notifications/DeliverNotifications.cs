using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Notifications;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Notifications;

public sealed record DeliveryRound(int Sent, int Retrying, int Failed)
{
    public int Handled => Sent + Retrying + Failed;
}

/// <summary>
/// Sends waiting deliveries (R5.5). Each round leases a batch with one conditional UPDATE — only rows still waiting and
/// not leased by a live round — and sends only what it leased, so with two app nodes each delivery goes out once.
/// A node that dies mid-send loses the lease after <see cref="Lease"/> and the delivery is retried: a crash between the
/// robot's "ok" and our bookkeeping can repeat one message, nothing else can.
/// </summary>
public sealed class DeliverNotifications(TideflowDbContext db, ReminderSenders senders, NotificationText text, TimeProvider clock,
    ILogger<DeliverNotifications> logger)
{
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private const int BatchSize = 200;
    private const int SendersAtOnce = 16;

    /// <summary>Sends everything due now, batch after batch, until nothing is left or the batch limit is reached.</summary>
    public async Task<DeliveryRound> DeliverDueAsync(CancellationToken ct, int maxBatches = 50)
    {
        var total = new DeliveryRound(0, 0, 0);
        for (var i = 0; i < maxBatches; i++)
        {
            var round = await DeliverBatchAsync(ct);
            total = new DeliveryRound(total.Sent + round.Sent, total.Retrying + round.Retrying, total.Failed + round.Failed);
            if (round.Handled < BatchSize)
            {
                break;
            }
        }
        return total;
    }

    private async Task<DeliveryRound> DeliverBatchAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var candidates = await db.NotificationDeliveries
            .Where(d => d.State == DeliveryState.Pending && d.NextAttemptAt <= now && (d.LeaseUntil == null || d.LeaseUntil < now))
            .OrderBy(d => d.NextAttemptAt).Select(d => d.Id).Take(BatchSize).ToListAsync(ct);
        if (candidates.Count == 0)
        {
            return new DeliveryRound(0, 0, 0);
        }
        var token = Guid.NewGuid();
        // The WHERE is evaluated again on each row as it is locked, so of two rounds racing for a row only one takes it.
        await db.NotificationDeliveries
            .Where(d => candidates.Contains(d.Id) && d.State == DeliveryState.Pending && (d.LeaseUntil == null || d.LeaseUntil < now))
            .ExecuteUpdateAsync(d => d.SetProperty(x => x.LeaseToken, token).SetProperty(x => x.LeaseUntil, now + Lease)
                .SetProperty(x => x.Attempts, x => x.Attempts + 1), ct);
        var leased = await (from d in db.NotificationDeliveries.AsNoTracking()
                            where d.LeaseToken == token
                            join n in db.Notifications on d.NotificationId equals n.Id
                            join u in db.Users on d.RecipientId equals u.Id
                            join p in db.ReminderPreferences on d.RecipientId equals p.UserId into ps
                            from p in ps.DefaultIfEmpty()
                            select new
                            {
                                d.Id, d.OrganizationId, d.RecipientId, d.Channel, d.Attempts, n.Kind, n.Parameters, n.Link,
                                u.Email, u.PhoneNumber, u.Culture, u.IsActive, Preference = p,
                            })
            .ToListAsync(ct);
        var robots = leased.DistinctBy(l => l.RecipientId).ToDictionary(l => l.RecipientId, l => senders.RobotsOf(l.Preference));
        var organizations = leased.Select(l => l.OrganizationId).Distinct().ToList();
        var settings = await db.ReminderSettings.AsNoTracking().Where(s => organizations.Contains(s.OrganizationId)).ToDictionaryAsync(s => s.OrganizationId, ct);

        var outcomes = new System.Collections.Concurrent.ConcurrentBag<(Guid Id, int Attempts, DeliveryFailed? Failure)>();
        await Parallel.ForEachAsync(leased, new ParallelOptions { MaxDegreeOfParallelism = SendersAtOnce, CancellationToken = ct }, async (l, token) =>
        {
            try
            {
                if (!l.IsActive)
                {
                    throw new DeliveryFailed("The recipient's account is deactivated.", permanent: true);
                }
                var s = settings.GetValueOrDefault(l.OrganizationId) ?? new ReminderSettings { OrganizationId = l.OrganizationId };
                var body = text.Render(l.Kind, NotificationText.Parse(l.Parameters), l.Culture);
                var link = l.Link is null || string.IsNullOrWhiteSpace(s.AppUrl) ? null : s.AppUrl.TrimEnd('/') + l.Link;
                await senders.SendAsync(new OutgoingReminder(l.Channel, Subject(body), body, link, l.Email, l.PhoneNumber,
                    robots[l.RecipientId], s), token);
                outcomes.Add((l.Id, l.Attempts, null));
            }
            catch (DeliveryFailed e)
            {
                outcomes.Add((l.Id, l.Attempts, e));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Delivery {Delivery} failed unexpectedly", l.Id);
                outcomes.Add((l.Id, l.Attempts, new DeliveryFailed(e.Message)));
            }
        });

        var finished = clock.GetUtcNow();
        var sent = outcomes.Where(o => o.Failure is null).Select(o => o.Id).ToList();
        if (sent.Count > 0)
        {
            await db.NotificationDeliveries.Where(d => sent.Contains(d.Id) && d.LeaseToken == token)
                .ExecuteUpdateAsync(d => d.SetProperty(x => x.State, DeliveryState.Sent).SetProperty(x => x.SentAt, finished)
                    .SetProperty(x => x.LeaseToken, (Guid?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null)
                    .SetProperty(x => x.LastError, (string?)null), CancellationToken.None);
        }
        // Failures are booked per outcome, not per row: a robot that is down fails a whole batch the same way.
        var failures = outcomes.Where(o => o.Failure is not null)
            .Select(o => (o.Id, Next: o.Failure!.Permanent ? null : DeliveryRetry.NextAttempt(o.Attempts, finished),
                Error: o.Failure.Message.Length > 1000 ? o.Failure.Message[..1000] : o.Failure.Message))
            .GroupBy(f => (f.Next, f.Error)).ToList();
        foreach (var group in failures)
        {
            var (next, error) = group.Key;
            var ids = group.Select(f => f.Id).ToList();
            await db.NotificationDeliveries.Where(d => ids.Contains(d.Id) && d.LeaseToken == token)
                .ExecuteUpdateAsync(d => d.SetProperty(x => x.State, next is null ? DeliveryState.Failed : DeliveryState.Pending)
                    .SetProperty(x => x.NextAttemptAt, x => next ?? x.NextAttemptAt)
                    .SetProperty(x => x.LeaseToken, (Guid?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null)
                    .SetProperty(x => x.LastError, error), CancellationToken.None);
        }
        var failed = failures.Where(g => g.Key.Next is null).Sum(g => g.Count());
        return new DeliveryRound(sent.Count, failures.Sum(g => g.Count()) - failed, failed);
    }

    /// <summary>An email subject: the message's first line, short.</summary>
    private static string Subject(string body)
    {
        var line = body.Split('\n')[0];
        return "Tideflow · " + (line.Length > 80 ? line[..80] + "…" : line);
    }
}

/// <summary>Runs <see cref="DeliverNotifications"/> every few seconds on every node (Reminders:Dispatch, Reminders:DispatchSeconds).</summary>
public sealed class DeliveryWorker(IServiceScopeFactory scopes, IConfiguration config, TimeProvider clock, ILogger<DeliveryWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!config.GetValue("Reminders:Dispatch", true))
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(config.GetValue("Reminders:DispatchSeconds", 2)), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
                await scope.ServiceProvider.GetRequiredService<DeliverNotifications>().DeliverDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database may be away for a moment; the next tick tries again.
                logger.LogError(e, "Delivering notifications failed");
            }
        }
    }
}
