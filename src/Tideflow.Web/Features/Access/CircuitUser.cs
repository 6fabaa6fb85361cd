using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;

namespace Tideflow.Web.Features.Access;

/// <summary>
/// Interactive pages have no HttpContext per event; this re-resolves the data scope before each
/// inbound event, so role changes and deactivation count in an open page too.
/// </summary>
public sealed class UserCircuitHandler(AuthenticationStateProvider auth, CurrentUser current, IServiceScopeFactory scopes) : CircuitHandler
{
    public override async Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        try
        {
            await RefreshAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The connection went away while it came up (the page was left at once): nothing runs on it, and the
            // next connection or inbound event loads the scope again.
        }
    }

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            await RefreshAsync(CancellationToken.None);
            await next(context);
        };

    private async Task RefreshAsync(CancellationToken ct)
    {
        var state = await auth.GetAuthenticationStateAsync();
        if (CurrentUser.UserIdOf(state.User) is not { } id)
        {
            current.Set(DataScope.Anonymous);
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var loaded = await DataScopeLoader.LoadAsync(scope.ServiceProvider.GetRequiredService<TideflowDbContext>(), id, ct);
        current.Set(loaded);
        if (!loaded.IsAuthenticated && auth is IHostEnvironmentAuthenticationStateProvider circuitState)
        {
            // Deactivated between the page's first (prerendered) response and its circuit, or between two
            // revalidations: sign the circuit out now, so the router sends it to the login page instead of a
            // page asking for data as nobody.
            circuitState.SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
        }
    }
}

/// <summary>Signs an open page out within seconds of deactivation or a security-stamp change.</summary>
public sealed class RevalidatingUserState(ILoggerFactory loggerFactory, IServiceScopeFactory scopes)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(10);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        var options = scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<IdentityOptions>>().Value;
        if (CurrentUser.UserIdOf(state.User) is not { } id)
        {
            return false;
        }
        var user = await db.Users.IgnoreQueryFilters().AsNoTracking()
            .Where(u => u.Id == id).Select(u => new { u.IsActive, u.SecurityStamp }).SingleOrDefaultAsync(ct);
        var stamp = state.User.FindFirstValue(options.ClaimsIdentity.SecurityStampClaimType);
        return user is { IsActive: true } && user.SecurityStamp == stamp;
    }
}
