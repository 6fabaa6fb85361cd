using System.Threading.Channels;

namespace Tideflow.Web.Features.Leads;

/// <summary>
/// Group commit for the public door. SQLite has one writer, so submissions that each took their own transaction
/// queued behind one another (a few hundred a second, with a long tail). Here one loop per node takes every
/// submission that arrived while it wrote the previous batch and saves them together, one transaction per channel;
/// each request is answered only once its own submission is committed, so accepted still means durable.
/// </summary>
public sealed class CaptureWriter(IServiceScopeFactory scopes, ILogger<CaptureWriter> log) : BackgroundService
{
    /// <summary>A batch's upper bound: enough to carry a burst, small enough that its transaction stays short.</summary>
    public const int MaxBatch = 200;

    private readonly Channel<Pending> queue = System.Threading.Channels.Channel.CreateUnbounded<Pending>(
        new UnboundedChannelOptions { SingleReader = true });

    private sealed record Pending(Channel Channel, Submission Submission, TaskCompletionSource<CaptureResult> Done);

    /// <returns>The outcome once committed; null when this node is shutting down and takes nothing new.</returns>
    public Task<CaptureResult>? SubmitAsync(Channel channel, Submission submission)
    {
        var pending = new Pending(channel, submission, new TaskCompletionSource<CaptureResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        return queue.Writer.TryWrite(pending) ? pending.Done.Task : null;
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        // What was accepted before the stop is still written: the loop ends when the queue is empty.
        queue.Writer.TryComplete();
        return base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        while (await queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            foreach (var perChannel in batch.GroupBy(p => p.Channel.Id))
            {
                await WriteAsync(perChannel.ToList());
            }
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            var results = await CaptureAsync(batch[0].Channel, batch.Select(p => p.Submission).ToList());
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception e) when (batch.Count > 1)
        {
            // One bad submission must not fail the others that happened to arrive with it.
            log.LogWarning(e, "A batch of {Count} submissions to channel {Channel} failed; writing them one at a time.", batch.Count, batch[0].Channel.Id);
            foreach (var pending in batch)
            {
                await WriteAsync([pending]);
            }
        }
        catch (Exception e)
        {
            batch[0].Done.TrySetException(e);
        }
    }

    private async Task<IReadOnlyList<CaptureResult>> CaptureAsync(Channel channel, List<Submission> submissions)
    {
        await using var scope = scopes.CreateAsyncScope();
        // Not the request's token: a visitor who closes the tab does not take the others' submissions with them.
        return await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(channel, submissions, CancellationToken.None);
    }
}
