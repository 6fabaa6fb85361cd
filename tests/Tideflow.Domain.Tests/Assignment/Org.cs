using Tideflow.Domain.Assignment;
using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Tests.Assignment;

/// <summary>An organisation as routing sees it, built up rep by rep; <see cref="Route"/> reads it as it is at that moment.</summary>
internal sealed class Org
{
    public static readonly DateTimeOffset Monday = new(2025, 3, 10, 9, 0, 0, TimeSpan.FromHours(8));

    public Dictionary<Guid, RepLoad> Reps { get; } = [];

    public Dictionary<Guid, IReadOnlyList<Guid>> Teams { get; } = [];

    /// <summary>Per team, how many leads its rotation has placed (the turn the next lead takes).</summary>
    public Dictionary<Guid, long> Turns { get; } = [];

    public DateTimeOffset Now { get; set; } = Monday;

    public RepLoad Rep(string name, bool active = true, int? capacity = null, int open = 0, params Absence[] absences)
    {
        var rep = new RepLoad(Guid.NewGuid(), name, active, capacity, open, absences);
        Reps[rep.Id] = rep;
        return rep;
    }

    /// <summary>A rep away from yesterday until tomorrow.</summary>
    public RepLoad AwayRep(string name) => Rep(name, absences: new Absence(Now.AddDays(-1), Now.AddDays(1)));

    public Guid Team(params RepLoad[] members)
    {
        var id = Guid.NewGuid();
        Teams[id] = [.. members.Select(m => m.Id)];
        return id;
    }

    public RoutingState State => new(Reps, Teams, Turns, Now);

    public RouteDecision Route(IReadOnlyList<AssignmentRule> rules, Dictionary<string, string?>? lead = null, Guid? stickyOwner = null) =>
        RoutingPolicy.Route(rules, lead ?? [], stickyOwner, State);

    public string? NameOf(Guid? id) => id is { } rep ? Reps[rep].Name : null;

    /// <summary>
    /// Routes <paramref name="arrivals"/> leads one after another as the application would: the chosen rep owns one
    /// more open lead, and a team's rotation takes its next turn. Returns who got each lead ("pool" for nobody).
    /// </summary>
    public List<string> Simulate(IReadOnlyList<AssignmentRule> rules, int arrivals)
    {
        var got = new List<string>();
        for (var i = 0; i < arrivals; i++)
        {
            var decision = Route(rules);
            if (decision.RepId is { } id)
            {
                Reps[id] = Reps[id] with { OpenCount = Reps[id].OpenCount + 1 };
                if (decision.TeamId is { } team)
                {
                    Turns[team] = Turns.GetValueOrDefault(team) + 1;
                }
            }
            got.Add(NameOf(decision.RepId) ?? "pool");
        }
        return got;
    }

    public static FieldCondition When(string field, FieldOperator op, string? value) => new(field, op, value);

    public static FieldCondition Is(string field, string value) => When(field, FieldOperator.Equals, value);

    public static AssignmentRule ToRep(string name, RepLoad rep, params FieldCondition[] when) =>
        new(name, when, AssignTo.Rep, RepId: rep.Id);

    public static AssignmentRule ToTeam(string name, Guid team, TeamMethod method = TeamMethod.RoundRobin, params FieldCondition[] when) =>
        new(name, when, AssignTo.Team, TeamId: team, Method: method);

    public static AssignmentRule ToPool(string name, params FieldCondition[] when) => new(name, when, AssignTo.Pool);
}
