using Tideflow.Domain.Assignment;
using Tideflow.Domain.Leads;
using static Tideflow.Domain.Tests.Assignment.Org;

namespace Tideflow.Domain.Tests.Assignment;

public class AssignmentRulesTests
{
    private const string NoRepWarning = "No rule sends a lead to a rep: every lead will wait in the lead pool.";

    private readonly Org org = new();
    private readonly RepLoad wang;
    private readonly Guid east;

    public AssignmentRulesTests()
    {
        wang = org.Rep("王芳");
        east = org.Team(org.Rep("李雷"));
    }

    private IReadOnlyList<string> Problems(params AssignmentRule[] rules) => ProblemsWith(["客户等级"], rules);

    private IReadOnlyList<string> ProblemsWith(string[] customFields, params AssignmentRule[] rules) =>
        AssignmentRules.Problems(rules, customFields, org.Reps.Values.ToDictionary(r => r.Id, r => r.IsActive), new HashSet<Guid>(org.Teams.Keys));

    private static RouteDecision ToPoolDecision() => new(null, "r", null, "rule 'r' → lead pool", []);

    private RouteDecision ToWang() => new(wang.Id, "VIP", null, "rule 'VIP' → 王芳", []);

    [Fact]
    public void A_sensible_rule_set_has_no_problems() =>
        Assert.Empty(Problems(
            ToRep("VIP", wang, Is(LeadFields.Grade, "A")),
            ToTeam("East", east, TeamMethod.LeastLoaded, Is(LeadFields.Region, "华东"), Is("客户等级", "VIP")),
            ToPool("Rest")));

    [Fact]
    public void An_empty_rule_set_has_no_problems() => Assert.Empty(Problems());

    [Theory]
    [InlineData("budgett", "Rule 'VIP', condition 2: the field 'budgett' is unknown.")]
    [InlineData(" 预算 ", "Rule 'VIP', condition 2: the field '预算' is unknown.")]
    [InlineData("客户等级", null)]
    [InlineData("GRADE", null)]
    [InlineData(LeadFields.ContactCompleteness, null)]
    public void A_condition_on_an_unknown_field_is_named(string field, string? expected) =>
        Assert.Equal(expected is null ? [] : [expected],
            Problems(ToRep("VIP", wang, Is(LeadFields.Grade, "A"), When(field, FieldOperator.IsSet, null))));

    [Fact]
    public void A_custom_field_is_only_known_when_the_admin_defined_it() =>
        Assert.Equal(["Rule 'VIP', condition 1: the field '客户等级' is unknown."],
            ProblemsWith([], ToRep("VIP", wang, Is("客户等级", "VIP"))));

    [Theory]
    [InlineData(LeadFields.Budget, FieldOperator.GreaterOrEqual, "abc", "Rule 'VIP', condition 1 (budget ≥ abc): 'abc' is not a number or a date.")]
    [InlineData(LeadFields.Grade, FieldOperator.Equals, " ", "Rule 'VIP', condition 1 (grade =): a value is needed.")]
    [InlineData(LeadFields.Email, FieldOperator.Contains, "@", "Rule 'VIP', condition 1 (email contains @): '@' alone would match almost every lead.")]
    [InlineData(" ", FieldOperator.Equals, "A", "Rule 'VIP', condition 1 (= A): the field is blank.")]
    public void A_condition_that_cannot_be_evaluated_is_named(string field, FieldOperator op, string? value, string expected) =>
        Assert.Equal([expected], Problems(ToRep("VIP", wang, When(field, op, value))));

    [Fact]
    public void A_missing_condition_is_named() =>
        Assert.Equal(["Rule 'VIP', condition 2: the condition is empty."],
            Problems(new AssignmentRule("VIP", [Is(LeadFields.Grade, "A"), null!], AssignTo.Rep, RepId: wang.Id)));

    [Fact]
    public void An_inactive_rep_is_refused()
    {
        var gone = org.Rep("赵敏", active: false);

        Assert.Equal(["Rule 'VIP': the rep is inactive."], Problems(ToRep("VIP", gone)));
    }

    [Fact]
    public void A_rep_from_elsewhere_is_unknown() =>
        Assert.Equal(["Rule 'VIP': the rep is unknown."], Problems(new AssignmentRule("VIP", [], AssignTo.Rep, RepId: Guid.NewGuid())));

    [Fact]
    public void A_team_from_elsewhere_is_unknown() =>
        Assert.Equal(["Rule 'East': the team is unknown."], Problems(ToTeam("East", Guid.NewGuid())));

    [Fact]
    public void Each_target_needs_its_rep_or_team() =>
        Assert.Equal(["Rule 'VIP' needs a rep.", "Rule 'East' needs a team."],
            Problems(new AssignmentRule("VIP", [], AssignTo.Rep, TeamId: east), new AssignmentRule("East", [], AssignTo.Team, RepId: wang.Id)));

    [Fact]
    public void An_unknown_target_is_refused() =>
        Assert.Equal(["Rule 'x': the target is unknown."], Problems(new AssignmentRule("x", [], (AssignTo)7)));

    [Fact]
    public void Rule_names_are_unique_ignoring_case_and_spaces() =>
        Assert.Equal(["Rule 'vip' appears twice."], Problems(ToRep("VIP", wang), ToPool(" vip ")));

    [Fact]
    public void A_rule_without_a_name_is_named_by_position() =>
        Assert.Equal(["Rule 2 needs a name.", "Rule 3 is empty."], Problems(ToPool("Rest"), ToRep(" ", wang), null!));

    [Fact]
    public void Every_problem_of_a_rule_is_listed() =>
        Assert.Equal(
            ["Rule 'VIP', condition 1: the field 'vip' is unknown.", "Rule 'VIP', condition 2 (budget ≥): a number or a date is needed.", "Rule 'VIP' needs a rep."],
            Problems(new AssignmentRule("VIP", [Is("vip", "yes"), When(LeadFields.Budget, FieldOperator.GreaterOrEqual, null)], AssignTo.Rep)));

    [Fact]
    public void Too_many_rules_are_refused()
    {
        var rules = Enumerable.Range(1, AssignmentRules.MaxRules + 1).Select(i => ToPool($"r{i}")).ToArray();

        Assert.Equal(["At most 200 rules."], Problems(rules));
    }

    [Fact]
    public void A_rule_saved_without_a_condition_list_is_a_catch_all()
    {
        var rule = new AssignmentRule("VIP", null!, AssignTo.Rep, RepId: wang.Id);

        Assert.Empty(Problems(rule));
        Assert.Equal(wang.Id, org.Route([rule]).RepId);
        Assert.Empty(AssignmentRules.Warnings([rule], [ToWang()]));
    }

    [Fact]
    public void A_working_rule_set_has_no_warnings() =>
        Assert.Empty(AssignmentRules.Warnings(
            [ToRep("VIP", wang, Is(LeadFields.Grade, "A")), ToPool("Rest")],
            [ToWang(), ToPoolDecision()]));

    [Fact]
    public void An_empty_rule_set_warns_that_every_lead_waits_in_the_pool() =>
        Assert.Equal([NoRepWarning], AssignmentRules.Warnings([], []));

    [Fact]
    public void Rules_that_only_send_to_the_pool_warn_that_every_lead_waits_there() =>
        Assert.Equal([NoRepWarning],
            AssignmentRules.Warnings([ToPool("Cold", Is(LeadFields.Grade, "C")), ToPool("Rest")], [ToPoolDecision()]));

    [Fact]
    public void A_sample_where_nobody_is_assigned_is_warned_about()
    {
        AssignmentRule[] rules = [ToRep("VIP", wang, Is(LeadFields.Grade, "A"))];
        RouteDecision[] sample = [.. Enumerable.Range(0, 3).Select(_ => org.Route(rules))];

        Assert.Equal(["All 3 sample leads would go to the lead pool: nobody would be assigned."], AssignmentRules.Warnings(rules, sample));
    }

    [Fact]
    public void One_assigned_sample_lead_is_enough_to_not_warn() =>
        Assert.Empty(AssignmentRules.Warnings([ToRep("VIP", wang)], [ToPoolDecision(), ToWang(), ToPoolDecision()]));

    [Fact]
    public void A_catch_all_pool_rule_before_other_rules_is_warned_about() =>
        Assert.Equal(
        [
            "Rule 'Park everything' matches every lead and sends it to the pool; the rules after it never run.",
        ],
        AssignmentRules.Warnings(
            [ToPool("Cold", Is(LeadFields.Grade, "C")), ToPool("Park everything"), ToRep("VIP", wang), ToPool("Rest")],
            [ToWang()]));

    [Fact]
    public void A_catch_all_pool_rule_with_only_pool_rules_after_it_gets_both_warnings() =>
        Assert.Equal(
        [
            NoRepWarning,
            "Rule 'Rest' matches every lead and sends it to the pool; the rules after it never run.",
        ],
        AssignmentRules.Warnings([ToPool("Rest"), ToPool("Cold", Is(LeadFields.Grade, "C"))], []));

    [Fact]
    public void A_catch_all_rep_rule_first_is_not_warned_about_because_it_falls_through_when_the_rep_is_away() =>
        Assert.Empty(AssignmentRules.Warnings([ToRep("Default", wang), ToPool("Rest")], [ToWang()]));
}
