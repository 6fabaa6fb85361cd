namespace Tideflow.Web.Shared;

/// <summary>A long job (import, re-score) that runs outside any request; its progress lives in its own row.</summary>
public interface IJobRunner
{
    Task RunAsync(Guid id, CancellationToken ct);

    /// <summary>Marks the job failed with the reason, so the page polling it stops and says why.</summary>
    Task FailAsync(Guid id, string error);
}

/// <summary>Jobs started on this node, waiting for <see cref="JobWorker{TRunner}"/>.</summary>
public sealed class JobQueue<TRunner> where TRunner : IJobRunner
{
    private readonly System.Threading.Channels.Channel<Guid> jobs = System.Threading.Channels.Channel.CreateUnbounded<Guid>();
    public ValueTask EnqueueAsync(Guid id, CancellationToken ct) => jobs.Writer.WriteAsync(id, ct);
    public IAsyncEnumerable<Guid> ReadAllAsync(CancellationToken ct) => jobs.Reader.ReadAllAsync(ct);
}

/// <summary>Runs one kind of job one at a time on this node, each in its own DI scope, so a browser never waits on one.</summary>
public sealed class JobWorker<TRunner>(JobQueue<TRunner> queue, IServiceScopeFactory scopes, ILogger<JobWorker<TRunner>> logger)
    : BackgroundService where TRunner : IJobRunner
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var id in queue.ReadAllAsync(stoppingToken))
        {
            await using var scope = scopes.CreateAsyncScope();
            var runner = scope.ServiceProvider.GetRequiredService<TRunner>();
            try
            {
                await runner.RunAsync(id, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "{Job} {Id} failed", typeof(TRunner).Name, id);
                await runner.FailAsync(id, e.Message);
            }
        }
    }
}
