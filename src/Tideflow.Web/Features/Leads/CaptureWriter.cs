using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;

namespace Tideflow.Web.Features.Leads;

/// <summary>
/// Group commit for the public door. SQLite has one writer, so submissions that each took their own transaction
/// queued behind one another (a few hundred a second, with a long tail). Here a writer loop takes every submission
/// that arrived while it wrote its previous batch and saves them together, one transaction per channel; each request
/// is answered only once its own submission is committed, so accepted still means durable. A node runs two loops
/// (Capture:Writers), so one batch is read and judged while the other is written.
/// </summary>
public sealed class CaptureWriter(IServiceScopeFactory scopes, IConfiguration config, ILogger<CaptureWriter> log) : BackgroundService
{
    /// <summary>A batch's upper bound: enough to carry a burst, small enough that its transaction stays short.</summary>
    public const int MaxBatch = 200;

    private readonly Channel<Pending> queue = System.Threading.Channels.Channel.CreateUnbounded<Pending>(
        new UnboundedChannelOptions { SingleReader = false });

    private sealed record Pending(string ChannelKey, Submission Submission, TaskCompletionSource<Captured> Done);

    /// <summary>The channel behind the key (null: no such key) and, when it is active, what became of the submission.</summary>
    public sealed record Captured(Channel? Channel, CaptureResult? Result);

    /// <returns>The outcome once committed; null when this node is shutting down and takes nothing new.</returns>
    /// <remarks>
    /// The channel is looked up here, once per batch, not by each request: a request of the public door then needs no
    /// database context at all, and creating one and querying with it was the largest part of a request's own work.
    /// </remarks>
    public Task<Captured>? SubmitAsync(string channelKey, Submission submission)
    {
        var pending = new Pending(channelKey, submission, new TaskCompletionSource<Captured>(TaskCreationOptions.RunContinuationsAsynchronously));
        return queue.Writer.TryWrite(pending) ? pending.Done.Task : null;
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        // What was accepted before the stop is still written: the loop ends when the queue is empty.
        queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, config.GetValue("Capture:Writers", 2))).Select(_ => Task.Run(WriteLoopAsync, CancellationToken.None)));

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            try
            {
                await WriteAsync(batch);
            }
            catch (Exception e)
            {
                // Whatever went wrong, this loop keeps serving: a dead writer would leave every later request waiting.
                log.LogError(e, "Writing a batch of {Count} submissions failed.", batch.Count);
                batch.ForEach(p => p.Done.TrySetException(e));
            }
        }
    }

    /// <summary>One scope and one open connection for the whole batch: at a few submissions per batch, opening them was a cost per submission.</summary>
    private async Task WriteAsync(List<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        Dictionary<string, Channel> channels;
        try
        {
            await db.Database.OpenConnectionAsync();
            var keys = batch.Select(p => p.ChannelKey).Distinct().ToList();
            channels = await db.Channels.IgnoreQueryFilters().AsNoTracking().Where(c => EF.Parameter(keys).Contains(c.Key)).ToDictionaryAsync(c => c.Key);
        }
        catch (Exception e)
        {
            batch.ForEach(p => p.Done.TrySetException(e));
            return;
        }
        foreach (var pending in batch.Where(p => channels.GetValueOrDefault(p.ChannelKey) is not { IsActive: true }))
        {
            pending.Done.TrySetResult(new Captured(channels.GetValueOrDefault(pending.ChannelKey), null));
        }
        var capture = scope.ServiceProvider.GetRequiredService<CaptureLead>();
        foreach (var perChannel in batch.Where(p => channels.GetValueOrDefault(p.ChannelKey) is { IsActive: true }).GroupBy(p => p.ChannelKey))
        {
            var channel = channels[perChannel.Key];
            var pending = perChannel.ToList();
            try
            {
                // Not a request's token: a visitor who closes the tab does not take the others' submissions with them.
                var results = await capture.CaptureAsync(channel, pending.Select(p => p.Submission).ToList(), CancellationToken.None);
                for (var i = 0; i < pending.Count; i++)
                {
                    pending[i].Done.TrySetResult(new Captured(channel, results[i]));
                }
            }
            catch (Exception e) when (pending.Count > 1)
            {
                // One bad submission must not fail the others that happened to arrive with it.
                log.LogWarning(e, "A batch of {Count} submissions to channel {Channel} failed; writing them one at a time.", pending.Count, channel.Id);
                foreach (var one in pending)
                {
                    await WriteOneAsync(channel, one);
                }
            }
            catch (Exception e)
            {
                pending[0].Done.TrySetException(e);
            }
        }
    }

    private async Task WriteOneAsync(Channel channel, Pending pending)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var results = await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(channel, [pending.Submission], CancellationToken.None);
            pending.Done.TrySetResult(new Captured(channel, results[0]));
        }
        catch (Exception e)
        {
            pending.Done.TrySetException(e);
        }
    }
}
