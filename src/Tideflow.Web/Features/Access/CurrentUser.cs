using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Access;

/// <summary>
/// What the current caller may see. Resolved from the database on every request (and every Blazor
/// event), so a role change or deactivation counts on the very next call.
/// </summary>
public sealed record DataScope(
    Guid OrganizationId,
    Guid UserId,
    string UserName,
    Role Role,
    IReadOnlyList<Guid>? VisibleOwnerIds,
    bool IsSystem,
    string TimeZone = "Asia/Shanghai",
    IReadOnlyList<Guid>? PoolIds = null)
{
    /// <summary>Not signed in: no business rows at all.</summary>
    public static readonly DataScope Anonymous = new(Guid.Empty, Guid.Empty, "", Role.Rep, [], false);

    /// <summary>Jobs, seeding and migrations act for the system and see everything.</summary>
    public static readonly DataScope System = new(Guid.Empty, Guid.Empty, "system", Role.Admin, null, true);

    /// <summary>A public capture endpoint acting for one channel: sees its organisation, is no user.</summary>
    public static DataScope ForChannel(Guid organizationId, string channelName) =>
        new(organizationId, Guid.Empty, $"channel:{channelName}", Role.Admin, null, false);

    public bool IsAuthenticated => UserId != Guid.Empty;
}

/// <summary>The one place that knows who is calling; the DbContext's query filters read it.</summary>
public sealed class CurrentUser
{
    public DataScope Scope { get; private set; } = DataScope.Anonymous;
    public string? Ip { get; set; }

    public Guid Id => Scope.UserId;
    public Guid OrganizationId => Scope.OrganizationId;
    public Role Role => Scope.Role;
    public bool IsAuthenticated => Scope.IsAuthenticated;

    public string Time(DateTimeOffset? instant) => UserTime.Format(instant, Scope.TimeZone);

    public void Set(DataScope scope) => Scope = scope;

    public void Require(Permission permission)
    {
        if (!IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        if (!RolePermissions.Has(Role, permission))
        {
            throw Problem.Forbidden($"Your role ({Role}) does not allow {permission}.");
        }
    }

    public static Guid? UserIdOf(ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;
}

/// <summary>What a data scope is built from: the user, their team's pools and the default pool — one row.</summary>
public sealed record ScopeUser
{
    public required Guid Id { get; init; }
    public required Guid OrganizationId { get; init; }
    public string? UserName { get; init; }
    public required Role Role { get; init; }
    public Guid? TeamId { get; init; }
    public required bool IsActive { get; init; }
    public required string TimeZone { get; init; }
    public required List<Guid> TeamPools { get; init; }
    public Guid? DefaultPool { get; init; }
}

public static class DataScopeLoader
{
    /// <summary>
    /// The users as scope rows, with the pools of their own team and the default pool: for a rep (most requests) the
    /// whole scope is this one round trip. The API token lookup joins it, so a token call reads token and scope at once.
    /// </summary>
    public static IQueryable<ScopeUser> ScopeUsers(this IQueryable<AppUser> users, TideflowDbContext db) =>
        users.Select(u => new ScopeUser
        {
            Id = u.Id, OrganizationId = u.OrganizationId, UserName = u.UserName, Role = u.Role, TeamId = u.TeamId, IsActive = u.IsActive,
            TimeZone = u.TimeZone,
            TeamPools = db.PoolTeams.IgnoreQueryFilters().Where(t => t.OrganizationId == u.OrganizationId && t.TeamId == u.TeamId)
                .Select(t => t.PoolId).ToList(),
            DefaultPool = db.Pools.IgnoreQueryFilters().Where(p => p.OrganizationId == u.OrganizationId && p.IsDefault)
                .Select(p => (Guid?)p.Id).FirstOrDefault(),
        });

    /// <summary>Anonymous when the user is unknown or deactivated.</summary>
    public static async Task<DataScope> LoadAsync(TideflowDbContext db, Guid userId, CancellationToken ct = default) =>
        await ScopeOfAsync(db, await db.Users.IgnoreQueryFilters().AsNoTracking().Where(u => u.Id == userId).ScopeUsers(db)
            .SingleOrDefaultAsync(ct), ct);

    /// <summary>Anonymous when the user is unknown or deactivated.</summary>
    public static async Task<DataScope> ScopeOfAsync(TideflowDbContext db, ScopeUser? user, CancellationToken ct = default)
    {
        if (user is null || !user.IsActive)
        {
            return DataScope.Anonymous;
        }
        var userId = user.Id;
        IReadOnlySet<Guid>? owners;
        IReadOnlySet<Guid> poolTeams;
        if (DataScopeRules.LevelFor(user.Role) == ScopeLevel.Team)
        {
            var teams = await db.Teams.IgnoreQueryFilters().AsNoTracking()
                .Where(t => t.OrganizationId == user.OrganizationId)
                .Select(t => new TeamNode(t.Id, t.ParentTeamId)).ToListAsync(ct);
            var members = await db.Users.IgnoreQueryFilters().AsNoTracking()
                .Where(u => u.OrganizationId == user.OrganizationId && u.TeamId != null)
                .Select(u => new Member(u.Id, u.TeamId)).ToListAsync(ct);
            owners = DataScopeRules.VisibleOwners(userId, user.Role, user.TeamId, teams, members);
            poolTeams = user.TeamId is { } team ? DataScopeRules.Subtree(team, teams) : new HashSet<Guid>();
        }
        else
        {
            owners = DataScopeRules.VisibleOwners(userId, user.Role, user.TeamId, [], []);
            poolTeams = user.TeamId is { } team ? new HashSet<Guid> { team } : new HashSet<Guid>();
        }
        // Everyone but those who see all claims from (and so sees) the pools of their team, or their subtree's.
        var pools = owners is null ? null
            : poolTeams.Count <= 1 ? Features.Pool.Pools.MemberOf(user.TeamPools, user.DefaultPool, user.TeamId)
            : await Features.Pool.Pools.MemberOfAsync(db, user.OrganizationId, poolTeams, user.TeamId is null, ct);
        return new DataScope(user.OrganizationId, userId, user.UserName ?? "", user.Role,
            owners?.ToList(), false, user.TimeZone, pools);
    }

    /// <summary>After authentication: resolve the scope, or treat a deactivated user as anonymous.</summary>
    public static async Task ResolveForRequest(HttpContext context, Func<Task> next)
    {
        var current = context.RequestServices.GetRequiredService<CurrentUser>();
        current.Ip = context.Connection.RemoteIpAddress?.ToString();
        if (CurrentUser.UserIdOf(context.User) is { } id)
        {
            var db = context.RequestServices.GetRequiredService<TideflowDbContext>();
            var scope = context.Items[typeof(DataScope)] is DataScope read && read.UserId == id ? read
                : await LoadAsync(db, id, context.RequestAborted);
            current.Set(scope);
            if (!scope.IsAuthenticated)
            {
                context.User = new ClaimsPrincipal(new ClaimsIdentity());
            }
        }
        await next();
    }
}
