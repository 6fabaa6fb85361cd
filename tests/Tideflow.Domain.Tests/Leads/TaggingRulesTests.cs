using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Tests.Leads;

public class TaggingRulesTests
{
    private static TagRule Rule(string tag, params FieldCondition[] conditions) => new("rule " + tag, conditions, tag);

    private static FieldCondition When(string field, FieldOperator op, string? value = null) => new(field, op, value);

    private static Dictionary<string, string?> Lead(params (string Field, string? Value)[] fields) =>
        fields.ToDictionary(f => f.Field, f => f.Value);

    private static bool Matches(FieldCondition condition, Dictionary<string, string?> lead) =>
        TaggingRules.Apply([Rule("t", condition)], lead).Count == 1;

    [Theory]
    [InlineData("展会", true)]
    [InlineData(" 展会 ", true)]
    [InlineData("官网", false)]
    [InlineData(null, false)]
    public void A_lead_from_the_trade_show_channel_is_tagged_as_a_trade_show_customer(string? channel, bool tagged)
    {
        var rule = Rule("展会客户", When("channel", FieldOperator.Equals, "展会"));

        var tags = TaggingRules.Apply([rule], Lead(("channel", channel)));

        Assert.Equal(tagged ? ["展会客户"] : Array.Empty<string>(), tags);
    }

    [Theory]
    [InlineData("制造业", "500000", true)]
    [InlineData("制造业", "50万", true)]
    [InlineData("制造业", "600,000", true)]
    [InlineData("制造业", "499999", false)]
    [InlineData("制造业", "49万", false)]
    [InlineData("零售", "100万", false)]
    [InlineData("制造业", null, false)]
    [InlineData("制造业", "面议", false)]
    [InlineData(null, "100万", false)]
    public void Manufacturers_with_a_budget_of_at_least_500000_are_high_potential(string? industry, string? budget, bool tagged)
    {
        var rule = Rule("高潜力",
            When("industry", FieldOperator.Equals, "制造业"),
            When("budget", FieldOperator.GreaterOrEqual, "500000"));

        var tags = TaggingRules.Apply([rule], Lead(("industry", industry), ("budget", budget)));

        Assert.Equal(tagged ? ["高潜力"] : Array.Empty<string>(), tags);
    }

    [Theory]
    [InlineData("Trade Show", "trade show", true)]
    [InlineData("  TRADE SHOW\u3000", "trade show", true)]
    [InlineData("Trade Show 2025", "trade show", false)]
    [InlineData("", "trade show", false)]
    public void Equals_compares_trimmed_text_ignoring_case(string? actual, string expected, bool matches) =>
        Assert.Equal(matches, Matches(When("channel", FieldOperator.Equals, expected), Lead(("channel", actual))));

    [Theory]
    [InlineData("Web", "展会", true)]
    [InlineData(" 展会 ", "展会", false)]
    [InlineData("EXPO", "expo", false)]
    [InlineData("", "展会", true)]
    [InlineData(null, "展会", true)]
    public void NotEquals_holds_for_other_values_and_for_missing_ones(string? actual, string expected, bool matches) =>
        Assert.Equal(matches, Matches(When("channel", FieldOperator.NotEquals, expected), Lead(("channel", actual))));

    [Theory]
    [InlineData("深圳精密制造有限公司", "制造", true)]
    [InlineData("Acme Manufacturing Ltd", "manufactur", true)]
    [InlineData("Acme Manufacturing Ltd", " LTD ", true)]
    [InlineData("恒信商贸", "制造", false)]
    [InlineData("", "制造", false)]
    [InlineData(null, "制造", false)]
    public void Contains_finds_the_value_inside_the_field_ignoring_case(string? actual, string expected, bool matches) =>
        Assert.Equal(matches, Matches(When("company", FieldOperator.Contains, expected), Lead(("company", actual))));

    [Theory]
    [InlineData("500000", FieldOperator.GreaterOrEqual, "500000", true)]
    [InlineData("499999.99", FieldOperator.GreaterOrEqual, "500000", false)]
    [InlineData("1.2亿", FieldOperator.GreaterOrEqual, "1亿", true)]
    [InlineData("500000", FieldOperator.LessOrEqual, "50万", true)]
    [InlineData("500001", FieldOperator.LessOrEqual, "50万", false)]
    [InlineData("-5", FieldOperator.LessOrEqual, "0", true)]
    [InlineData("１００万", FieldOperator.GreaterOrEqual, "1,000,000", true)]
    [InlineData("about 1M", FieldOperator.GreaterOrEqual, "0", false)]
    [InlineData("about 1M", FieldOperator.LessOrEqual, "1亿", false)]
    [InlineData("", FieldOperator.LessOrEqual, "1亿", false)]
    [InlineData(null, FieldOperator.LessOrEqual, "1亿", false)]
    public void Numeric_operators_compare_amounts_and_never_match_a_missing_or_non_numeric_value(
        string? actual, FieldOperator op, string expected, bool matches) =>
        Assert.Equal(matches, Matches(When("budget", op, expected), Lead(("budget", actual))));

    [Theory]
    [InlineData("华东", true)]
    [InlineData("x", true)]
    [InlineData("   ", false)]
    [InlineData("\u3000", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsSet_needs_the_field_present_and_not_blank(string? actual, bool matches) =>
        Assert.Equal(matches, Matches(When("region", FieldOperator.IsSet), Lead(("region", actual))));

    [Fact]
    public void A_field_absent_from_the_lead_only_matches_NotEquals()
    {
        var lead = Lead(("channel", "Web"));

        Assert.False(Matches(When("industry", FieldOperator.Equals, "制造业"), lead));
        Assert.False(Matches(When("industry", FieldOperator.Contains, "制造"), lead));
        Assert.False(Matches(When("industry", FieldOperator.GreaterOrEqual, "0"), lead));
        Assert.False(Matches(When("industry", FieldOperator.LessOrEqual, "0"), lead));
        Assert.False(Matches(When("industry", FieldOperator.IsSet), lead));
        Assert.True(Matches(When("industry", FieldOperator.NotEquals, "制造业"), lead));
    }

    [Theory]
    [InlineData("Channel", "channel")]
    [InlineData("channel", "CHANNEL")]
    [InlineData("sourceTag", "SourceTag")]
    [InlineData(" 客户等级 ", "客户等级")]
    public void Field_names_are_matched_ignoring_case_even_in_a_case_sensitive_dictionary(string ruleField, string leadField)
    {
        var lead = new Dictionary<string, string?>(StringComparer.Ordinal) { [leadField] = "展会" };

        Assert.True(Matches(When(ruleField, FieldOperator.Equals, "展会"), lead));
    }

    [Fact]
    public void A_blank_duplicate_key_does_not_hide_the_value_of_its_other_spelling()
    {
        var lead = new Dictionary<string, string?>(StringComparer.Ordinal) { ["Budget"] = "80万", ["budget"] = "" };

        Assert.True(Matches(When("budget", FieldOperator.GreaterOrEqual, "50万"), lead));
    }

    [Theory]
    [InlineData("制造业", "华东", "100", true)]
    [InlineData("制造业", "华东", "", false)]
    [InlineData("制造业", "华南", "100", false)]
    [InlineData("零售", "华东", "100", false)]
    public void Every_condition_of_a_rule_must_hold(string industry, string region, string budget, bool tagged)
    {
        var rule = Rule("华东制造",
            When("industry", FieldOperator.Equals, "制造业"),
            When("region", FieldOperator.Equals, "华东"),
            When("budget", FieldOperator.IsSet));

        var tags = TaggingRules.Apply([rule], Lead(("industry", industry), ("region", region), ("budget", budget)));

        Assert.Equal(tagged, tags.Count == 1);
    }

    [Fact]
    public void Tags_come_back_once_each_in_rule_order()
    {
        var lead = Lead(("channel", "展会"), ("industry", "制造业"), ("budget", "80万"), ("campaign", "春季"));
        TagRule[] rules =
        [
            Rule("高潜力", When("budget", FieldOperator.GreaterOrEqual, "50万")),
            Rule("零售", When("industry", FieldOperator.Equals, "零售")),
            Rule("展会客户", When("channel", FieldOperator.Equals, "展会")),
            Rule(" 高潜力 ", When("industry", FieldOperator.Equals, "制造业")),
            Rule("VIP", When("campaign", FieldOperator.IsSet)),
            Rule("vip", When("channel", FieldOperator.IsSet)),
        ];

        Assert.Equal(["高潜力", "展会客户", "VIP"], TaggingRules.Apply(rules, lead));
    }

    [Fact]
    public void A_rule_that_could_not_be_saved_never_tags()
    {
        var lead = Lead(("company", "a-b"), ("channel", "Web"));
        TagRule[] rules =
        [
            new("no conditions", [], "全部"),
            Rule("横线", When("company", FieldOperator.Contains, "-")),
            Rule("空白", When("company", FieldOperator.Contains, " ")),
            Rule("ok", When("channel", FieldOperator.Equals, "web")),
        ];

        Assert.Equal(["ok"], TaggingRules.Apply(rules, lead));
    }

    [Theory]
    [InlineData("500000", 500000)]
    [InlineData("500,000", 500000)]
    [InlineData(" 1,234,567.89 ", 1234567.89)]
    [InlineData("50万", 500000)]
    [InlineData("50 万", 500000)]
    [InlineData("1.5亿", 150000000)]
    [InlineData("1.2亿", 120000000)]
    [InlineData("3千万", 30000000)]
    [InlineData("5百万", 5000000)]
    [InlineData("2万亿", 2000000000000)]
    [InlineData("8千", 8000)]
    [InlineData("１２３", 123)]
    [InlineData("５０万", 500000)]
    [InlineData("１，０００．５", 1000.5)]
    [InlineData("¥500,000", 500000)]
    [InlineData("￥50万元", 500000)]
    [InlineData("50万元", 500000)]
    [InlineData("-3", -3)]
    [InlineData("0", 0)]
    [InlineData(".5", 0.5)]
    public void Amounts_parse_with_commas_units_and_full_width_digits(string text, double expected) =>
        Assert.Equal((decimal)expected, FieldConditions.ParseAmount(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("abc")]
    [InlineData("万")]
    [InlineData("元")]
    [InlineData("面议")]
    [InlineData("50万万")]
    [InlineData("5亿万")]
    [InlineData("万50")]
    [InlineData("1e5")]
    [InlineData("5-")]
    [InlineData("5.")]
    [InlineData("1.2.3")]
    [InlineData("50w")]
    [InlineData("99999999999999999999999999999亿")]
    public void Text_that_is_not_an_amount_parses_to_null(string? text) =>
        Assert.Null(FieldConditions.ParseAmount(text));

    [Fact]
    public void The_requirement_examples_can_be_saved()
    {
        Assert.Null(TaggingRules.Problem(Rule("展会客户", When("channel", FieldOperator.Equals, "展会"))));
        Assert.Null(TaggingRules.Problem(Rule("高潜力",
            When("industry", FieldOperator.Equals, "制造业"),
            When("budget", FieldOperator.GreaterOrEqual, "50万"))));
    }

    [Theory]
    [InlineData(FieldOperator.NotEquals, "展会")]
    [InlineData(FieldOperator.IsSet, null)]
    [InlineData(FieldOperator.IsSet, "ignored")]
    [InlineData(FieldOperator.Contains, "a")]
    [InlineData(FieldOperator.Contains, "厂")]
    [InlineData(FieldOperator.Contains, "7")]
    [InlineData(FieldOperator.Contains, " -1 ")]
    public void Broad_but_deliberate_conditions_can_be_saved(FieldOperator op, string? value) =>
        Assert.Null(TaggingRules.Problem(Rule("broad", When("channel", op, value))));

    [Fact]
    public void A_tag_of_exactly_30_characters_can_be_saved() =>
        Assert.Null(TaggingRules.Problem(Rule(new string('标', 30), When("channel", FieldOperator.IsSet))));

    [Theory]
    [InlineData("", "展会客户", "The rule needs a name.")]
    [InlineData("   ", "展会客户", "The rule needs a name.")]
    [InlineData("展会", "", "The rule needs a tag.")]
    [InlineData("展会", " \u3000 ", "The rule needs a tag.")]
    [InlineData("展会", "1234567890123456789012345678901", "The tag '1234567890123456789012345678901' is longer than 30 characters.")]
    public void A_rule_needs_a_name_and_a_short_tag(string name, string tag, string expected) =>
        Assert.Equal(expected, TaggingRules.Problem(new TagRule(name, [When("channel", FieldOperator.IsSet)], tag)));

    [Fact]
    public void A_rule_needs_at_least_one_condition() =>
        Assert.Equal("The rule needs at least one condition.", TaggingRules.Problem(new TagRule("r", [], "t")));

    [Theory]
    [InlineData("", FieldOperator.Equals, "x", "Condition 2 (= x): the field is blank.")]
    [InlineData("  ", FieldOperator.IsSet, null, "Condition 2 (is set): the field is blank.")]
    [InlineData("budget", FieldOperator.GreaterOrEqual, "abc", "Condition 2 (budget ≥ abc): 'abc' is not a number or a date.")]
    [InlineData("budget", FieldOperator.LessOrEqual, "50万万", "Condition 2 (budget ≤ 50万万): '50万万' is not a number or a date.")]
    [InlineData("budget", FieldOperator.GreaterOrEqual, null, "Condition 2 (budget ≥): a number or a date is needed.")]
    [InlineData("budget", FieldOperator.LessOrEqual, "  ", "Condition 2 (budget ≤): a number or a date is needed.")]
    [InlineData("industry", FieldOperator.Equals, null, "Condition 2 (industry =): a value is needed.")]
    [InlineData("industry", FieldOperator.NotEquals, "", "Condition 2 (industry ≠): a value is needed.")]
    [InlineData("company", FieldOperator.Contains, null, "Condition 2 (company contains): a value is needed.")]
    [InlineData("company", FieldOperator.Contains, "   ", "Condition 2 (company contains): a value is needed.")]
    [InlineData("company", FieldOperator.Contains, "-", "Condition 2 (company contains -): '-' alone would match almost every lead.")]
    [InlineData("email", FieldOperator.Contains, " @ ", "Condition 2 (email contains @): '@' alone would match almost every lead.")]
    [InlineData("company", FieldOperator.Contains, "（", "Condition 2 (company contains （): '（' alone would match almost every lead.")]
    [InlineData("budget", FieldOperator.Contains, "+", "Condition 2 (budget contains +): '+' alone would match almost every lead.")]
    [InlineData("budget", (FieldOperator)99, "1", "Condition 2 (budget ? 1): the operator is unknown.")]
    public void Each_bad_condition_is_refused_by_its_position_and_wording(string field, FieldOperator op, string? value, string expected)
    {
        var rule = Rule("t", When("channel", FieldOperator.IsSet), When(field, op, value), When("", FieldOperator.IsSet));

        Assert.Equal(expected, TaggingRules.Problem(rule));
    }

    [Fact]
    public void A_missing_condition_is_refused()
    {
        var rule = new TagRule("r", [When("channel", FieldOperator.IsSet), null!], "t");

        Assert.Equal("Condition 2: the condition is empty.", TaggingRules.Problem(rule));
    }
}
