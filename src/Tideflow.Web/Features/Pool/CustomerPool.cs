using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Pool;

/// <summary>
/// A public pool (公海, R4.1). Every organisation has one default pool, created with <see cref="PoolSettings.Default"/>,
/// so "move to pool" never fails for want of configuration. Other pools have member teams; a team belongs to at most
/// one pool, and reps of teams in no other pool are members of the default pool.
/// </summary>
public sealed class CustomerPool : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public bool IsDefault { get; set; }
    /// <summary>JSON of <see cref="PoolSettings"/>; read with <see cref="PoolSettingsJson"/>.</summary>
    public required string Settings { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Goes up by one with every save of the pool: what an editor started from.</summary>
    public int Version { get; set; }
}

/// <summary>
/// What sits in a pool while nobody owns it — customers (公海) and leads (线索池) alike: the pool view, claim and release
/// read these, whichever the record is.
/// </summary>
public interface IPooled
{
    Guid Id { get; }
    Guid? OwnerId { get; set; }
    Guid? PoolId { get; set; }
    DateTimeOffset? PooledAt { get; set; }
    string? PoolReason { get; set; }
    Guid? PreviousOwnerId { get; set; }
    string? Grade { get; }
    int? Score { get; }
}

/// <summary>A team whose reps claim from, and whose customers are reclaimed into, the pool.</summary>
public sealed class PoolTeam : IOrganizationOwned
{
    public Guid PoolId { get; set; }
    /// <summary>Unique: a team is in one pool at most, so a customer never goes to two.</summary>
    public Guid TeamId { get; set; }
    public Guid OrganizationId { get; set; }
}

/// <summary>
/// How many customers a rep claimed on one day (in their time zone). The claim raises it with a conditional UPDATE
/// (<c>WHERE Count &lt; limit</c>), which also serialises one rep's parallel claims: the limit holds exactly.
/// </summary>
public sealed class ClaimCount : IOrganizationOwned
{
    public Guid UserId { get; set; }
    /// <summary>yyyy-MM-dd in the rep's time zone.</summary>
    public required string Day { get; set; }
    public Guid OrganizationId { get; set; }
    public int Count { get; set; }
}

/// <summary>A reclaim warning sent to an owner; unique per customer, due time and lead time, so it is sent once.</summary>
public sealed class PoolWarning : IOrganizationOwned
{
    public long Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid CustomerId { get; set; }
    public Guid OwnerId { get; set; }
    public int HoursBefore { get; set; }
    public DateTimeOffset DueAt { get; set; }
    public DateTimeOffset SentAt { get; set; }
}

public static class PoolSettingsJson
{
    public static PoolSettings Read(string json) => JsonSerializer.Deserialize<PoolSettings>(json, Shared.StoredJson.Options) ?? PoolSettings.Default;

    public static string Write(PoolSettings settings) => JsonSerializer.Serialize(settings, Shared.StoredJson.Options);
}

/// <summary>Which pools there are and who belongs to which; the lookups every pool slice shares.</summary>
public static class Pools
{
    public const string DefaultName = "公海";

    /// <summary>The organisation's default pool, created on first need.</summary>
    public static async Task<CustomerPool> DefaultAsync(TideflowDbContext db, Guid organizationId, DateTimeOffset now, CancellationToken ct)
    {
        var pool = await db.Pools.SingleOrDefaultAsync(p => p.OrganizationId == organizationId && p.IsDefault, ct);
        if (pool is not null)
        {
            return pool;
        }
        pool = new CustomerPool
        {
            Id = Guid.CreateVersion7(), OrganizationId = organizationId, Name = DefaultName, IsDefault = true,
            Settings = PoolSettingsJson.Write(PoolSettings.Default), CreatedAt = now, UpdatedAt = now,
        };
        db.Pools.Add(pool);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another request created it at the same moment (one default per organisation is a unique index).
            db.Entry(pool).State = EntityState.Detached;
            return await db.Pools.SingleAsync(p => p.OrganizationId == organizationId && p.IsDefault, ct);
        }
        return pool;
    }

    /// <summary>At startup: every organisation has its default pool before anyone asks which pools they belong to.</summary>
    public static async Task EnsureDefaultPoolsAsync(IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        foreach (var org in await db.Organizations.Where(o => !db.Pools.Any(p => p.OrganizationId == o.Id && p.IsDefault)).Select(o => o.Id).ToListAsync(ct))
        {
            await DefaultAsync(db, org, now, ct);
        }
    }

    /// <summary>The pool a customer owned by a member of <paramref name="teamId"/> goes back to: its team's pool, else the default.</summary>
    public static async Task<CustomerPool> ForTeamAsync(TideflowDbContext db, Guid organizationId, Guid? teamId, DateTimeOffset now, CancellationToken ct)
    {
        if (teamId is { } team && await db.PoolTeams.Where(t => t.TeamId == team).Select(t => (Guid?)t.PoolId).SingleOrDefaultAsync(ct) is { } poolId)
        {
            return await db.Pools.SingleAsync(p => p.Id == poolId, ct);
        }
        return await DefaultAsync(db, organizationId, now, ct);
    }

    /// <summary>
    /// The pool a lead nobody could take waits in: the pool of the team a routing rule meant it for, else the default pool;
    /// null only when the organisation has no default pool yet (then it waits unpooled, seen by managers as before).
    /// Never creates a pool: routing runs inside an arrival's save.
    /// </summary>
    public static async Task<Guid?> ForRoutedLeadAsync(TideflowDbContext db, Guid organizationId, Guid? teamId, CancellationToken ct)
    {
        if (teamId is { } team && await db.PoolTeams.IgnoreQueryFilters().Where(t => t.TeamId == team && t.OrganizationId == organizationId)
                .Select(t => (Guid?)t.PoolId).SingleOrDefaultAsync(ct) is { } poolId)
        {
            return poolId;
        }
        return await db.Pools.IgnoreQueryFilters().Where(p => p.OrganizationId == organizationId && p.IsDefault).Select(p => (Guid?)p.Id).SingleOrDefaultAsync(ct);
    }

    /// <summary>The pools a user claims from: their team's pool, or the default pool when their team is in none.</summary>
    public static async Task<List<Guid>> MemberOfAsync(TideflowDbContext db, Guid organizationId, IReadOnlyCollection<Guid> teamIds, bool withoutTeam, CancellationToken ct)
    {
        var pools = await db.PoolTeams.IgnoreQueryFilters().Where(t => t.OrganizationId == organizationId && teamIds.Contains(t.TeamId))
            .Select(t => new { t.TeamId, t.PoolId }).ToListAsync(ct);
        var ids = pools.Select(p => p.PoolId).Distinct().ToList();
        if (withoutTeam || teamIds.Any(t => pools.All(p => p.TeamId != t)))
        {
            var fallback = await db.Pools.IgnoreQueryFilters().Where(p => p.OrganizationId == organizationId && p.IsDefault)
                .Select(p => (Guid?)p.Id).SingleOrDefaultAsync(ct);
            if (fallback is { } id)
            {
                ids.Add(id);
            }
        }
        return ids;
    }

    /// <summary>
    /// <see cref="MemberOfAsync"/> for one team (or none), from what the caller already read: the pools that team is a
    /// member of and the organisation's default pool, which takes a team in no pool, and users without a team.
    /// </summary>
    public static List<Guid> MemberOf(IReadOnlyCollection<Guid> teamPools, Guid? defaultPool, Guid? teamId)
    {
        var ids = teamPools.Distinct().ToList();
        if ((teamId is null || ids.Count == 0) && defaultPool is { } id)
        {
            ids.Add(id);
        }
        return ids;
    }
}
