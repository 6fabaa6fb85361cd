using System.Collections.Concurrent;
using Tideflow.Domain.Assignment;
using Tideflow.Domain.Scoring;

namespace Tideflow.Web.Features.Assignment;

/// <summary>
/// What arrivals are judged and routed by that changes rarely — score card, rules, reps, teams, absences, custom fields,
/// follow-up plans, tagging rules, blocked values, the pools of teams — for one organisation. Every arrival needs it; reading it from the
/// database each time was most of what scoring and assignment cost.
/// </summary>
public sealed record RoutingSnapshot(
    int Version,
    ScoreCard Card,
    IReadOnlyList<AssignmentRule> Rules,
    IReadOnlyList<RoutingSnapshot.Person> People,
    IReadOnlyDictionary<Guid, IReadOnlyList<Guid>> TeamMembers,
    IReadOnlyList<(Guid UserId, Absence Absence)> Absences,
    IReadOnlyList<Domain.Leads.CustomField> CustomFields,
    IReadOnlyList<Domain.Pipeline.GradePlan> Plans,
    IReadOnlyList<Domain.Leads.TagRule> TagRules,
    IReadOnlySet<string> Blocklist,
    DateTimeOffset LoadedAt)
{
    public sealed record Person(Guid Id, string Name, bool IsActive, int? Capacity);

    /// <summary>The pool (线索池) a lead no rep could take goes to, by the team a rule meant it for (Guid.Empty: none), as looked up.</summary>
    public ConcurrentDictionary<Guid, Guid?> PoolOfTeam { get; } = new();

    /// <summary>
    /// How long a node trusts its snapshot. A save on this node drops it at once (see <see cref="RoutingCache"/>);
    /// a change made on another node counts here within this time.
    /// </summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);
}

/// <summary>
/// The per-organisation snapshots of this process. The DbContext drops an organisation's snapshot after any save that
/// touches what it holds, so on one node a change counts for the very next arrival.
/// </summary>
public static class RoutingCache
{
    private static readonly ConcurrentDictionary<Guid, RoutingSnapshot> Snapshots = new();
    // Bumped by every drop. A snapshot read while a save dropped the old one carries the older generation and is not
    // kept, so a reader that started before the save cannot put stale rules back.
    private static readonly ConcurrentDictionary<Guid, long> Generations = new();

    public static RoutingSnapshot? Get(Guid organizationId, DateTimeOffset now) =>
        Snapshots.TryGetValue(organizationId, out var s) && now - s.LoadedAt < RoutingSnapshot.MaxAge && now >= s.LoadedAt ? s : null;

    /// <summary>Read before loading a snapshot; hand it to <see cref="Put"/>.</summary>
    public static long Generation(Guid organizationId) => Generations.GetValueOrDefault(organizationId);

    public static void Put(Guid organizationId, RoutingSnapshot snapshot, long generation)
    {
        if (Generation(organizationId) == generation)
        {
            Snapshots[organizationId] = snapshot;
            // A drop between the check and the store: take the snapshot back out.
            if (Generation(organizationId) != generation)
            {
                Snapshots.TryRemove(organizationId, out _);
            }
        }
    }

    public static void Drop(Guid organizationId)
    {
        Generations.AddOrUpdate(organizationId, 1, (_, g) => g + 1);
        Snapshots.TryRemove(organizationId, out _);
    }

    /// <summary>Entity types whose change makes a snapshot stale.</summary>
    public static bool Affects(Type entity) =>
        entity == typeof(Access.AppUser) || entity == typeof(Access.Team) || entity == typeof(RepAbsence)
        || entity == typeof(StoredAssignmentRule) || entity == typeof(Scoring.ScoreCardVersion) || entity == typeof(Leads.StoredCustomField)
        || entity == typeof(Pipeline.StoredFollowUpPlans) || entity == typeof(Leads.StoredTagRule) || entity == typeof(Leads.BlockedValue)
        || entity == typeof(Pool.CustomerPool) || entity == typeof(Pool.PoolTeam);
}
