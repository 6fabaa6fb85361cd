using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Tests.Leads;

public class FieldConditionsTests
{
    private static Dictionary<string, string?> Lookup(params (string Field, string? Value)[] fields) =>
        FieldConditions.Lookup(Fields.Of(fields));

    [Fact]
    public void Keys_are_trimmed_and_found_ignoring_case()
    {
        var lookup = Lookup((" Region ", "华东"), ("sourceTag", "春季展"));

        Assert.Equal(["Region", "sourceTag"], lookup.Keys);
        Assert.Equal("华东", lookup["REGION"]);
        Assert.Equal("春季展", lookup["sourcetag"]);
    }

    [Theory]
    [InlineData("", "80万", "80万")]
    [InlineData("80万", "", "80万")]
    [InlineData(null, "80万", "80万")]
    [InlineData("80万", null, "80万")]
    [InlineData("  ", "80万", "80万")]
    [InlineData("80万", "90万", "80万")]
    [InlineData("", null, null)]
    [InlineData(null, "", "")]
    public void A_value_with_content_wins_over_a_blank_twin_and_the_first_content_wins(string? first, string? second, string? expected)
    {
        var lookup = Lookup(("Budget", first), (" budget", second));

        Assert.Equal(expected, Assert.Single(lookup).Value);
    }

    [Fact]
    public void A_lookup_already_keyed_that_way_is_used_as_it_is_and_any_other_is_copied()
    {
        var ready = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["region"] = "华东", ["budget"] = "80万" };
        Assert.Same(ready, FieldConditions.Lookup(ready));

        var untrimmed = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { [" region "] = "华东" };
        var copied = FieldConditions.Lookup(untrimmed);
        Assert.NotSame(untrimmed, copied);
        Assert.Equal("华东", copied["REGION"]);

        var caseSensitive = new Dictionary<string, string?> { ["Region"] = "华东" };
        Assert.Equal("华东", FieldConditions.Lookup(caseSensitive)["region"]);
    }

    [Fact]
    public void Values_are_kept_as_sent() =>
        Assert.Equal(" 华东 ", Lookup(("region", " 华东 "))["region"]);

    [Theory]
    [InlineData("张三", "恒信商贸", "13800138000", "zs@example.com", 100)]
    [InlineData("张三", "恒信商贸", null, " ", 50)]
    [InlineData(null, null, null, "zs@example.com", 25)]
    [InlineData("", "\t", null, null, 0)]
    public void Contact_completeness_is_25_points_a_present_field(string? name, string? company, string? mobile, string? email, int expected) =>
        Assert.Equal(expected, LeadFields.Completeness(name, company, mobile, email));

    [Fact]
    public void The_grade_is_a_field_for_assignment_but_not_for_scoring()
    {
        Assert.False(LeadFields.IsKnown(" Grade ", LeadFields.ForScoring, []));
        Assert.True(LeadFields.IsKnown(" Grade ", LeadFields.ForAssignment, []));
        Assert.True(LeadFields.IsKnown("fleet size", LeadFields.ForScoring, ["Fleet Size"]));
    }

    [Theory]
    [InlineData("2026-12-31", FieldOperator.LessOrEqual, "2026-12-31", true)]
    [InlineData("2027-01-01", FieldOperator.LessOrEqual, "2026-12-31", false)]
    [InlineData("2027/1/1", FieldOperator.GreaterOrEqual, "2026年12月31日", true)]
    [InlineData("next year", FieldOperator.GreaterOrEqual, "2026-12-31", false)]
    [InlineData("2026-12-31", FieldOperator.GreaterOrEqual, "500", false)]
    public void Ordering_operators_compare_days_when_both_sides_are_dates(string actual, FieldOperator op, string expected, bool holds)
    {
        Assert.Null(FieldConditions.Problem(new FieldCondition("contract_end", op, expected)));
        Assert.Equal(holds, FieldConditions.Holds(new FieldCondition("contract_end", op, expected), Lookup(("contract_end", actual))));
    }
}
