using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Assignment;

public enum AssignTo
{
    /// <summary>A named rep.</summary>
    Rep,
    /// <summary>A rep of a team (its whole subtree), chosen by <see cref="TeamMethod"/>.</summary>
    Team,
    /// <summary>Nobody: the lead waits in the lead pool.</summary>
    Pool,
}

public enum TeamMethod
{
    RoundRobin,
    LeastLoaded,
}

/// <summary>
/// One routing rule (R3.1). All conditions must hold; no conditions matches every lead (a catch-all).
/// <see cref="RerouteOnRegrade"/>: when a lead's grade changes later, route it again and move it if this rule
/// (or the one that now matches) sends it elsewhere.
/// </summary>
public sealed record AssignmentRule(
    string Name,
    IReadOnlyList<FieldCondition> Conditions,
    AssignTo Target,
    Guid? RepId = null,
    Guid? TeamId = null,
    TeamMethod Method = TeamMethod.RoundRobin,
    bool RerouteOnRegrade = false);

public sealed record Absence(DateTimeOffset From, DateTimeOffset Until);

/// <summary>A rep as routing sees them. <see cref="OpenCount"/>: open leads and customers they own now.</summary>
public sealed record RepLoad(Guid Id, string Name, bool IsActive, int? Capacity, int OpenCount, IReadOnlyList<Absence> Absences)
{
    /// <summary>Why the rep cannot take a new lead now, or null when they can.</summary>
    public string? Unavailable(DateTimeOffset now)
    {
        if (!IsActive)
        {
            return "inactive";
        }
        if (Absences.Any(a => a.From <= now && now < a.Until))
        {
            return "away";
        }
        return Capacity is { } cap && OpenCount >= cap ? "full" : null;
    }
}

/// <summary>
/// Everything routing reads besides the lead. <see cref="TeamMembers"/>: each team's reps, whole subtree, in a
/// stable order (round-robin walks it). <see cref="Turns"/>: per team, how many leads its rotation has placed
/// before this one (missing: 0). The caller claims a turn atomically in the database, so concurrent arrivals get
/// consecutive turns and therefore consecutive reps.
/// </summary>
public sealed record RoutingState(
    IReadOnlyDictionary<Guid, RepLoad> Reps,
    IReadOnlyDictionary<Guid, IReadOnlyList<Guid>> TeamMembers,
    IReadOnlyDictionary<Guid, long> Turns,
    DateTimeOffset Now);

/// <summary>
/// Where a lead goes and why. <see cref="RepId"/> null: the lead pool. <see cref="TeamId"/> is set when a team's
/// rotation chose the rep, so the caller can advance that team's cursor. <see cref="Skipped"/> lists what was
/// passed over ("rule 'VIP': 王芳 away").
/// </summary>
/// <param name="PoolTeamId">
/// When nobody could take the lead: the team of the first matching rule that targeted a team, whose pool the lead waits
/// in (its reps are the ones the rule meant), even if a later rule sends it to the pool; null when no team rule matched,
/// for the default pool. One team, so one pool: a lead never waits in two.
/// </param>
public sealed record RouteDecision(Guid? RepId, string? RuleName, Guid? TeamId, string Reason, IReadOnlyList<string> Skipped,
    Guid? PoolTeamId = null)
{
    public bool ToPool => RepId is null;
}

/// <summary>
/// Routes a lead (R3.1–R3.3): a sticky owner first, then the rules in order; the first rule that matches and can
/// place the lead wins. A rule whose rep or team cannot take it (inactive, away, full) falls through to the next
/// rule, so one rep's vacation never strands leads; when nothing can take it, the lead waits in the pool.
/// </summary>
public static class RoutingPolicy
{
    /// <param name="stickyOwner">Who already owns this person or company (R3.3); they get it unless inactive.</param>
    public static RouteDecision Route(
        IReadOnlyList<AssignmentRule> rules, IReadOnlyDictionary<string, string?> fields, Guid? stickyOwner, RoutingState state)
    {
        var skipped = new List<string>();
        if (stickyOwner is { } owner)
        {
            // Capacity and absence do not break a relationship: the returning contact is already theirs.
            if (state.Reps.TryGetValue(owner, out var rep) && rep.IsActive)
            {
                return new RouteDecision(owner, null, null, $"sticky: already works with {rep.Name}", skipped);
            }
            skipped.Add("sticky owner inactive or gone");
        }

        var lookup = FieldConditions.Lookup(fields);
        var matched = false;
        Guid? waitsFor = null;
        foreach (var rule in rules)
        {
            if (!(rule.Conditions ?? []).All(c => FieldConditions.Holds(c, lookup)))
            {
                continue;
            }
            matched = true;
            switch (rule.Target)
            {
                case AssignTo.Pool:
                    return new RouteDecision(null, rule.Name, null, $"rule '{rule.Name}' → lead pool", skipped, waitsFor);
                case AssignTo.Rep when rule.RepId is { } repId:
                    if (!state.Reps.TryGetValue(repId, out var named))
                    {
                        skipped.Add($"rule '{rule.Name}': rep unknown");
                        continue;
                    }
                    if (named.Unavailable(state.Now) is { } why)
                    {
                        skipped.Add($"rule '{rule.Name}': {named.Name} {why}");
                        continue;
                    }
                    return new RouteDecision(repId, rule.Name, null, $"rule '{rule.Name}' → {named.Name}", skipped);
                case AssignTo.Team when rule.TeamId is { } teamId:
                    var chosen = PickInTeam(rule.Method, teamId, state);
                    if (chosen is null)
                    {
                        skipped.Add($"rule '{rule.Name}': nobody in the team can take a lead");
                        waitsFor ??= teamId;
                        continue;
                    }
                    var method = rule.Method == TeamMethod.RoundRobin ? "round-robin" : "least-loaded";
                    return new RouteDecision(chosen.Id, rule.Name, teamId, $"rule '{rule.Name}' → {chosen.Name} ({method})", skipped);
                default:
                    skipped.Add($"rule '{rule.Name}': no target");
                    continue;
            }
        }
        return new RouteDecision(null, null, null, matched ? "nobody could take it → lead pool" : "no rule matched → lead pool", skipped, waitsFor);
    }

    /// <summary>
    /// Round-robin: turn n goes to available rep n mod (number available), in member order, so while nobody's
    /// availability changes, every rep gets one lead before anyone gets a second. Least-loaded: the available rep
    /// with the fewest open leads and customers; ties go to whoever round-robin would pick first.
    /// </summary>
    public static RepLoad? PickInTeam(TeamMethod method, Guid teamId, RoutingState state)
    {
        if (!state.TeamMembers.TryGetValue(teamId, out var members) || members.Count == 0)
        {
            return null;
        }
        var available = members
            .Select(id => state.Reps.GetValueOrDefault(id))
            .Where(r => r is not null && r.Unavailable(state.Now) is null)
            .Select(r => r!)
            .ToList();
        if (available.Count == 0)
        {
            return null;
        }
        var turn = state.Turns.GetValueOrDefault(teamId);
        var start = (int)(((turn % available.Count) + available.Count) % available.Count);
        var rotation = available.Skip(start).Concat(available.Take(start)).ToList();
        if (method == TeamMethod.RoundRobin)
        {
            return rotation[0];
        }
        var fewest = rotation.Min(r => r.OpenCount);
        return rotation.First(r => r.OpenCount == fewest);
    }
}
