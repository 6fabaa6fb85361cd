using System.Collections.Concurrent;
using Tideflow.Domain.Assignment;
using Tideflow.Domain.Scoring;

namespace Tideflow.Web.Features.Assignment;

/// <summary>
/// What routing reads that changes rarely — score card, rules, reps, teams, absences — for one organisation.
/// Every arrival needs it; reading it from the database each time was most of what scoring and assignment cost.
/// </summary>
public sealed record RoutingSnapshot(
    int Version,
    ScoreCard Card,
    IReadOnlyList<AssignmentRule> Rules,
    IReadOnlyList<RoutingSnapshot.Person> People,
    IReadOnlyDictionary<Guid, IReadOnlyList<Guid>> TeamMembers,
    IReadOnlyList<(Guid UserId, Absence Absence)> Absences,
    DateTimeOffset LoadedAt)
{
    public sealed record Person(Guid Id, string Name, bool IsActive, int? Capacity);

    /// <summary>
    /// How long a node trusts its snapshot. A save on this node drops it at once (see <see cref="RoutingCache"/>);
    /// a change made on another node counts here within this time.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The per-organisation snapshots of this process. The DbContext drops an organisation's snapshot after any save that
/// touches users, teams, absences, rules or score cards, so on one node a change counts for the very next arrival.
/// </summary>
public static class RoutingCache
{
    private static readonly ConcurrentDictionary<Guid, RoutingSnapshot> Snapshots = new();

    public static RoutingSnapshot? Get(Guid organizationId, DateTimeOffset now) =>
        Snapshots.TryGetValue(organizationId, out var s) && now - s.LoadedAt < RoutingSnapshot.MaxAge && now >= s.LoadedAt ? s : null;

    public static void Put(Guid organizationId, RoutingSnapshot snapshot) => Snapshots[organizationId] = snapshot;

    public static void Drop(Guid organizationId) => Snapshots.TryRemove(organizationId, out _);

    /// <summary>Entity types whose change makes a snapshot stale.</summary>
    public static bool Affects(Type entity) =>
        entity == typeof(Access.AppUser) || entity == typeof(Access.Team) || entity == typeof(RepAbsence)
        || entity == typeof(StoredAssignmentRule) || entity == typeof(Scoring.ScoreCardVersion);
}
