using Tideflow.Domain.Assignment;
using Tideflow.Domain.Leads;
using static Tideflow.Domain.Tests.Assignment.Org;

namespace Tideflow.Domain.Tests.Assignment;

public class RoutingPolicyTests
{
    private readonly Org org = new();

    private static Dictionary<string, string?> GradeA => Fields.Of((LeadFields.Grade, "A"));

    private static void AssertEven(IEnumerable<string> got, params string[] reps)
    {
        var counts = reps.Select(r => got.Count(g => g == r)).ToList();
        Assert.True(counts.Max() - counts.Min() <= 1, $"uneven: {string.Join(", ", reps.Zip(counts))}");
    }

    /// <summary>Who, by which rule, through which team's rotation, and why.</summary>
    private static (Guid? Rep, string? Rule, Guid? Team, string Reason) Parts(RouteDecision d) => (d.RepId, d.RuleName, d.TeamId, d.Reason);

    private static Dictionary<string, int> CountByRep(IEnumerable<string> got) =>
        got.GroupBy(g => g).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void A_rep_rule_assigns_the_named_rep()
    {
        var wang = org.Rep("王芳");

        var decision = org.Route([ToRep("VIP", wang, Is(LeadFields.Grade, "A"))], GradeA);

        Assert.Equal((wang.Id, "VIP", null, "rule 'VIP' → 王芳"), Parts(decision));
        Assert.Empty(decision.Skipped);
        Assert.False(decision.ToPool);
    }

    [Fact]
    public void A_team_rule_names_the_team_so_its_rotation_can_move_on()
    {
        var zhang = org.Rep("张伟");
        var east = org.Team(org.Rep("李雷"), zhang);
        org.Turns[east] = 1;

        var decision = org.Route([ToTeam("East", east)]);

        Assert.Equal((zhang.Id, "East", east, "rule 'East' → 张伟 (round-robin)"),
            Parts(decision));
    }

    [Fact]
    public void A_least_loaded_team_rule_says_so()
    {
        var east = org.Team(org.Rep("李雷", open: 4), org.Rep("张伟", open: 1));

        var decision = org.Route([ToTeam("East", east, TeamMethod.LeastLoaded)]);

        Assert.Equal(("张伟", "rule 'East' → 张伟 (least-loaded)"), (org.NameOf(decision.RepId), decision.Reason));
    }

    [Fact]
    public void A_pool_rule_leaves_the_lead_in_the_pool()
    {
        org.Rep("王芳");

        var decision = org.Route([ToPool("Cold", Is(LeadFields.Grade, "C"))], Fields.Of((LeadFields.Grade, "C")));

        Assert.True(decision.ToPool);
        Assert.Equal((null, "Cold", null, "rule 'Cold' → lead pool"), Parts(decision));
        Assert.Empty(decision.Skipped);
    }

    [Fact]
    public void The_first_matching_rule_wins()
    {
        var wang = org.Rep("王芳");
        var li = org.Rep("李雷");
        AssignmentRule[] rules =
        [
            ToRep("Retail", li, Is(LeadFields.Industry, "零售")),
            ToRep("VIP", wang, Is(LeadFields.Grade, "A")),
            ToRep("East", li, Is(LeadFields.Region, "华东")),
        ];

        var decision = org.Route(rules, Fields.Of((LeadFields.Grade, "A"), (LeadFields.Region, "华东")));

        Assert.Equal(("VIP", "王芳"), (decision.RuleName, org.NameOf(decision.RepId)));
    }

    [Fact]
    public void A_rule_without_conditions_catches_every_lead()
    {
        var li = org.Rep("李雷");
        AssignmentRule[] rules = [ToRep("VIP", org.Rep("王芳"), Is(LeadFields.Grade, "A")), ToRep("Everyone else", li)];

        Assert.Equal("Everyone else", org.Route(rules, Fields.Of((LeadFields.Grade, "B"))).RuleName);
        Assert.Equal("Everyone else", org.Route(rules).RuleName);
    }

    [Fact]
    public void No_matching_rule_leaves_the_lead_in_the_pool()
    {
        var decision = org.Route([ToRep("VIP", org.Rep("王芳"), Is(LeadFields.Grade, "A"))], Fields.Of((LeadFields.Grade, "B")));

        Assert.Equal((null, null, null, "no rule matched → lead pool"), Parts(decision));
        Assert.Empty(decision.Skipped);
    }

    [Theory]
    [InlineData(LeadFields.Grade, FieldOperator.Equals, "A", "A", true)]
    [InlineData(LeadFields.Grade, FieldOperator.Equals, "A", "a", true)]
    [InlineData(LeadFields.Grade, FieldOperator.Equals, "A", "B", false)]
    [InlineData(LeadFields.Grade, FieldOperator.NotEquals, "C", null, true)]
    [InlineData(LeadFields.Region, FieldOperator.Equals, "华东", " 华东 ", true)]
    [InlineData(LeadFields.Region, FieldOperator.Equals, "华东", "华南", false)]
    [InlineData(LeadFields.Industry, FieldOperator.Contains, "制造", "精密制造", true)]
    [InlineData(LeadFields.Industry, FieldOperator.Contains, "制造", "零售", false)]
    [InlineData(LeadFields.Channel, FieldOperator.Equals, "展会", "展会", true)]
    [InlineData(LeadFields.Channel, FieldOperator.Equals, "展会", "官网", false)]
    [InlineData(LeadFields.Budget, FieldOperator.GreaterOrEqual, "50万", "800,000", true)]
    [InlineData(LeadFields.Budget, FieldOperator.GreaterOrEqual, "50万", "面议", false)]
    [InlineData("客户等级", FieldOperator.Equals, "VIP", "vip", true)]
    [InlineData("客户等级", FieldOperator.IsSet, null, "普通", true)]
    [InlineData("客户等级", FieldOperator.IsSet, null, null, false)]
    public void Rules_test_lead_fields_like_tagging_rules_do(string field, FieldOperator op, string? value, string? leadValue, bool routed)
    {
        var wang = org.Rep("王芳");

        var decision = org.Route([ToRep("r", wang, When(field, op, value))], Fields.Of((field, leadValue)));

        Assert.Equal(routed ? wang.Id : null, decision.RepId);
    }

    [Theory]
    [InlineData("A", "华东", true)]
    [InlineData("A", "华南", false)]
    [InlineData("B", "华东", false)]
    public void Every_condition_of_a_rule_must_hold(string grade, string region, bool routed)
    {
        var wang = org.Rep("王芳");
        AssignmentRule rule = ToRep("East VIP", wang, Is(LeadFields.Grade, "A"), Is(LeadFields.Region, "华东"));

        var decision = org.Route([rule], Fields.Of((LeadFields.Grade, grade), (LeadFields.Region, region)));

        Assert.Equal(routed ? wang.Id : null, decision.RepId);
    }

    [Theory]
    [InlineData(null, 500, null)]
    [InlineData(10, 9, null)]
    [InlineData(10, 10, "full")]
    [InlineData(10, 11, "full")]
    [InlineData(0, 0, "full")]
    public void A_rep_at_capacity_is_full(int? capacity, int open, string? why) =>
        Assert.Equal(why, org.Rep("王芳", capacity: capacity, open: open).Unavailable(org.Now));

    [Theory]
    [InlineData(-1, null)]
    [InlineData(0, "away")]
    [InlineData(60 * 24 * 3 - 1, "away")]
    [InlineData(60 * 24 * 3, null)]
    [InlineData(60 * 24 * 3 + 1, null)]
    public void A_rep_is_away_from_the_start_of_an_absence_until_its_end(int minutesAfterStart, string? why)
    {
        var from = Org.Monday;
        var rep = org.Rep("王芳", absences: [new Absence(Org.Monday.AddDays(-10), Org.Monday.AddDays(-9)), new Absence(from, from.AddDays(3))]);

        Assert.Equal(why, rep.Unavailable(from.AddMinutes(minutesAfterStart)));
    }

    [Fact]
    public void Inactive_outranks_away_and_away_outranks_full()
    {
        var away = new Absence(org.Now.AddDays(-1), org.Now.AddDays(1));

        Assert.Equal("inactive", org.Rep("a", active: false, capacity: 1, open: 1, absences: away).Unavailable(org.Now));
        Assert.Equal("away", org.Rep("b", capacity: 1, open: 1, absences: away).Unavailable(org.Now));
    }

    [Theory]
    [InlineData(false, null, 0, "rule 'VIP': 王芳 inactive")]
    [InlineData(true, 20, 20, "rule 'VIP': 王芳 full")]
    public void A_rep_who_cannot_take_the_lead_passes_it_to_the_next_rule(bool active, int? capacity, int open, string skipped)
    {
        var wang = org.Rep("王芳", active, capacity, open);
        var zhang = org.Rep("张伟");
        var east = org.Team(org.Rep("李雷", active: false), zhang);

        var decision = org.Route([ToRep("VIP", wang), ToTeam("East", east)]);

        Assert.Equal((zhang.Id, "East", east, "rule 'East' → 张伟 (round-robin)"),
            Parts(decision));
        Assert.Equal([skipped], decision.Skipped);
    }

    [Fact]
    public void A_rep_back_from_absence_gets_leads_again()
    {
        var wang = org.Rep("王芳", absences: new Absence(Org.Monday.AddDays(-7), Org.Monday));
        AssignmentRule[] rules = [ToRep("VIP", wang)];

        Assert.Equal(wang.Id, org.Route(rules).RepId);

        org.Now = Org.Monday.AddTicks(-1);
        Assert.Equal(["rule 'VIP': 王芳 away"], org.Route(rules).Skipped);
    }

    [Fact]
    public void When_nobody_can_take_the_lead_it_waits_in_the_pool_with_every_reason()
    {
        var wang = org.AwayRep("王芳");
        var li = org.Rep("李雷", capacity: 5, open: 5);
        var east = org.Team(org.Rep("张伟", active: false), org.AwayRep("赵敏"));
        AssignmentRule[] rules =
        [
            ToRep("VIP", wang),
            ToRep("Backup", li),
            ToTeam("East", east, TeamMethod.LeastLoaded),
            ToTeam("Nobody's team", Guid.NewGuid()),
            new("Ghost", [], AssignTo.Rep, RepId: Guid.NewGuid()),
            new("Broken", [], AssignTo.Rep),
            new("Broken team", [], AssignTo.Team),
        ];

        var decision = org.Route(rules);

        Assert.Equal((null, null, null, "nobody could take it → lead pool"), Parts(decision));
        Assert.Equal(
        [
            "rule 'VIP': 王芳 away",
            "rule 'Backup': 李雷 full",
            "rule 'East': nobody in the team can take a lead",
            "rule 'Nobody's team': nobody in the team can take a lead",
            "rule 'Ghost': rep unknown",
            "rule 'Broken': no target",
            "rule 'Broken team': no target",
        ], decision.Skipped);
    }

    [Fact]
    public void A_pool_rule_after_skipped_rules_keeps_their_reasons()
    {
        var decision = org.Route([ToRep("VIP", org.AwayRep("王芳")), ToPool("Rest")]);

        Assert.Equal(("Rest", "rule 'Rest' → lead pool"), (decision.RuleName, decision.Reason));
        Assert.Equal(["rule 'VIP': 王芳 away"], decision.Skipped);
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData(5, 5)]
    [InlineData(0, 12)]
    public void A_sticky_owner_keeps_their_contact_even_when_full(int? capacity, int open)
    {
        var wang = org.Rep("王芳", capacity: capacity, open: open);

        var decision = org.Route([ToRep("VIP", org.Rep("李雷"))], GradeA, stickyOwner: wang.Id);

        Assert.Equal((wang.Id, null, null, "sticky: already works with 王芳"), Parts(decision));
        Assert.Empty(decision.Skipped);
    }

    [Fact]
    public void A_sticky_owner_keeps_their_contact_even_when_away()
    {
        var wang = org.AwayRep("王芳");

        Assert.Equal(wang.Id, org.Route([ToPool("Everything")], stickyOwner: wang.Id).RepId);
    }

    [Fact]
    public void An_inactive_sticky_owner_hands_the_lead_to_the_rules()
    {
        var li = org.Rep("李雷");
        var wang = org.Rep("王芳", active: false);

        var decision = org.Route([ToRep("VIP", li)], stickyOwner: wang.Id);

        Assert.Equal(("VIP", li.Id, "rule 'VIP' → 李雷"), (decision.RuleName, decision.RepId, decision.Reason));
        Assert.Equal(["sticky owner inactive or gone"], decision.Skipped);
    }

    [Fact]
    public void A_sticky_owner_who_left_the_organisation_is_passed_over()
    {
        var decision = org.Route([ToRep("VIP", org.Rep("李雷"), Is(LeadFields.Grade, "A"))], stickyOwner: Guid.NewGuid());

        Assert.Equal((null, "no rule matched → lead pool"), (decision.RepId, decision.Reason));
        Assert.Equal(["sticky owner inactive or gone"], decision.Skipped);
    }

    [Theory]
    [InlineData(null, "甲")]
    [InlineData(1L, "乙")]
    [InlineData(2L, "丙")]
    [InlineData(3L, "甲")]
    [InlineData(301L, "乙")]
    public void Round_robin_gives_turn_n_to_rep_n_and_wraps_around(long? turn, string expected)
    {
        var team = org.Team(org.Rep("甲"), org.Rep("乙"), org.Rep("丙"));
        if (turn is { } t)
        {
            org.Turns[team] = t;
        }

        Assert.Equal(expected, RoutingPolicy.PickInTeam(TeamMethod.RoundRobin, team, org.State)?.Name);
    }

    [Fact]
    public void Round_robin_skips_reps_who_cannot_take_a_lead()
    {
        var first = org.Rep("甲");
        var team = org.Team(first, org.AwayRep("乙"), org.Rep("丙", capacity: 3, open: 3), org.Rep("丁", active: false), org.Rep("戊"));
        org.Teams[team] = [.. org.Teams[team].Append(Guid.NewGuid())];
        // Available: 甲 and 戊, so the second turn is 戊's.
        org.Turns[team] = 1;

        Assert.Equal("戊", RoutingPolicy.PickInTeam(TeamMethod.RoundRobin, team, org.State)?.Name);
    }

    [Fact]
    public void An_unknown_or_empty_team_has_nobody()
    {
        var empty = org.Team();

        Assert.Null(RoutingPolicy.PickInTeam(TeamMethod.RoundRobin, empty, org.State));
        Assert.Null(RoutingPolicy.PickInTeam(TeamMethod.LeastLoaded, Guid.NewGuid(), org.State));
    }

    [Theory]
    [InlineData(32, 8)]
    [InlineData(100, 25)]
    public void Round_robin_shares_leads_evenly(int arrivals, int each)
    {
        AssignmentRule[] rules = [ToTeam("East", org.Team(org.Rep("甲"), org.Rep("乙"), org.Rep("丙"), org.Rep("丁")))];

        var got = org.Simulate(rules, arrivals);

        Assert.Equal(new Dictionary<string, int> { ["甲"] = each, ["乙"] = each, ["丙"] = each, ["丁"] = each }, CountByRep(got));
        Assert.Equal(["甲", "乙", "丙", "丁", "甲"], got.Take(5));
    }

    [Theory]
    [InlineData(32, 11, 11, 10)]
    [InlineData(100, 34, 33, 33)]
    public void A_rep_who_is_away_gets_none_and_the_rest_stay_even(int arrivals, int jia, int bing, int ding)
    {
        AssignmentRule[] rules = [ToTeam("East", org.Team(org.Rep("甲"), org.AwayRep("乙"), org.Rep("丙"), org.Rep("丁")))];

        var got = org.Simulate(rules, arrivals);

        Assert.Equal(new Dictionary<string, int> { ["甲"] = jia, ["丙"] = bing, ["丁"] = ding }, CountByRep(got));
        AssertEven(got, "甲", "丙", "丁");
    }

    [Fact]
    public void A_rep_who_fills_up_drops_out_of_the_rotation_and_the_rest_stay_even()
    {
        AssignmentRule[] rules = [ToTeam("East", org.Team(org.Rep("甲"), org.Rep("丙", capacity: 5), org.Rep("丁")))];

        var got = org.Simulate(rules, 30);

        Assert.Equal(new Dictionary<string, int> { ["甲"] = 13, ["丙"] = 5, ["丁"] = 12 }, CountByRep(got));
        AssertEven(got, "甲", "丁");
    }

    [Fact]
    public void Once_the_whole_team_is_full_leads_fall_through_to_the_next_rule()
    {
        AssignmentRule[] rules = [ToTeam("East", org.Team(org.Rep("甲", capacity: 2), org.Rep("乙", capacity: 1))), ToPool("Overflow")];

        Assert.Equal(["甲", "乙", "甲", "pool", "pool"], org.Simulate(rules, 5));
    }

    [Theory]
    [InlineData(null, "乙")]
    [InlineData(2L, "丙")]
    [InlineData(3L, "乙")]
    public void Least_loaded_picks_the_fewest_open_leads_and_ties_rotate(long? turn, string expected)
    {
        var team = org.Team(org.Rep("甲", open: 5), org.Rep("乙", open: 2), org.Rep("丙", open: 2));
        if (turn is { } t)
        {
            org.Turns[team] = t;
        }

        Assert.Equal(expected, RoutingPolicy.PickInTeam(TeamMethod.LeastLoaded, team, org.State)?.Name);
    }

    [Fact]
    public void Least_loaded_ignores_a_less_loaded_rep_who_is_away()
    {
        var team = org.Team(org.Rep("甲", open: 5), org.Rep("乙", open: 2, absences: new Absence(org.Now, org.Now.AddDays(1))), org.Rep("丙", open: 3));

        Assert.Equal("丙", RoutingPolicy.PickInTeam(TeamMethod.LeastLoaded, team, org.State)?.Name);
    }

    [Fact]
    public void Least_loaded_evens_out_open_leads()
    {
        AssignmentRule[] rules = [ToTeam("East", org.Team(org.Rep("甲", open: 3), org.Rep("乙"), org.Rep("丙", open: 1)), TeamMethod.LeastLoaded)];

        var got = org.Simulate(rules, 8);

        Assert.Equal(["乙", "乙", "丙", "乙", "丙", "丙", "甲", "乙"], got);
        Assert.All(org.Reps.Values, r => Assert.Equal(4, r.OpenCount));
    }

    [Fact]
    public void A_lead_nobody_in_the_meant_team_can_take_waits_in_that_teams_pool_even_when_a_later_rule_parks_it()
    {
        var east = org.Team(org.AwayRep("李雷"));
        var south = org.Team(org.AwayRep("张伟"));

        var decision = org.Route([ToTeam("East", east), ToTeam("South", south), ToPool("Rest")]);

        Assert.True(decision.ToPool);
        Assert.Equal((null, east), (decision.TeamId, decision.PoolTeamId));
    }

    [Fact]
    public void A_lead_no_team_rule_meant_waits_in_the_default_pool()
    {
        var wang = org.AwayRep("王芳");

        Assert.Null(org.Route([ToRep("VIP", wang), ToPool("Rest")]).PoolTeamId);
        Assert.Null(org.Route([]).PoolTeamId);
        // Placed: no pool at all.
        Assert.Null(org.Route([ToTeam("East", org.Team(org.Rep("李雷")))]).PoolTeamId);
    }
}
