using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Shared;

/// <summary>
/// Runs one page operation in its own DI scope (its own DbContext) as the circuit's user. A circuit lives
/// for hours and its events can overlap; one shared DbContext would be used concurrently and go stale.
/// </summary>
public sealed class Ui(IServiceScopeFactory scopes, CurrentUser circuitUser)
{
    public async Task<T> Run<THandler, T>(Func<THandler, Task<T>> work) where THandler : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        var user = scope.ServiceProvider.GetRequiredService<CurrentUser>();
        user.Set(circuitUser.Scope);
        user.Ip = circuitUser.Ip;
        try
        {
            return await work(scope.ServiceProvider.GetRequiredService<THandler>());
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateConcurrencyException)
        {
            throw Problem.ChangedMeanwhile;
        }
    }

    public Task Run<THandler>(Func<THandler, Task> work) where THandler : notnull =>
        Run<THandler, bool>(async h =>
        {
            await work(h);
            return true;
        });
}
