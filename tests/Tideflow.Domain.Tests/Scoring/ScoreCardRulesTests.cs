using Tideflow.Domain.Leads;
using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Tests.Scoring;

public class ScoreCardRulesTests
{
    private static readonly ScoreCard Default = ScoreCard.Default;

    private static IReadOnlyList<string> Problems(ScoreCard card, params string[] customFields) =>
        ScoreCardRules.Problems(card, customFields);

    /// <summary>The default card with its first criterion (预算 Budget, weight 40) changed.</summary>
    private static ScoreCard WithBudget(Func<Criterion, Criterion> change) =>
        Default with { Criteria = [change(Default.Criteria[0]), .. Default.Criteria.Skip(1)] };

    private static ScoreCard WithBudgetBand(FieldOperator op, string? value, int percent) =>
        WithBudget(c => c with { Bands = [new PointsBand(op, value, percent), .. c.Bands.Skip(1)] });

    private static ScoreCard WithGrades(params GradeBand[] grades) => Default with { Grades = grades };

    private static ScoreCard WithEvents(params EventPoints[] events) => Default with { Events = events };

    [Fact]
    public void The_default_card_can_be_saved() => Assert.Empty(Problems(Default));

    [Fact]
    public void The_default_card_sums_its_weights_to_100() => Assert.Equal(100, Default.Criteria.Sum(c => c.Weight));

    [Theory]
    [InlineData(50, "The weights add up to 110%, not 100%.")]
    [InlineData(39, "The weights add up to 99%, not 100%.")]
    [InlineData(0, "The weights add up to 60%, not 100%.")]
    public void Weights_must_add_up_to_100(int budgetWeight, string expected) =>
        Assert.Equal([expected], Problems(WithBudget(c => c with { Weight = budgetWeight })));

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void A_weight_outside_0_to_100_is_named(int weight) =>
        Assert.Equal(
            ["Criterion '预算 Budget': the weight must be between 0 and 100.", $"The weights add up to {weight + 60}%, not 100%."],
            Problems(WithBudget(c => c with { Weight = weight })));

    [Fact]
    public void Absurd_weights_are_reported_not_thrown()
    {
        var card = Default with
        {
            Criteria = [.. Default.Criteria.Take(2).Select(c => c with { Weight = int.MaxValue }), .. Default.Criteria.Skip(2)],
        };

        Assert.Equal(
        [
            "Criterion '预算 Budget': the weight must be between 0 and 100.",
            "Criterion '紧迫度 Urgency': the weight must be between 0 and 100.",
            "The weights add up to 4294967324%, not 100%.",
        ], Problems(card));
    }

    [Fact]
    public void An_unknown_field_is_named_with_its_criterion() =>
        Assert.Equal(["Criterion '预算 Budget': the field '预算金额' is unknown."],
            Problems(WithBudget(c => c with { Field = " 预算金额 " })));

    [Fact]
    public void The_grade_is_computed_after_scoring_so_a_criterion_cannot_read_it() =>
        Assert.Equal(["Criterion '预算 Budget': the field 'grade' is unknown."],
            Problems(WithBudget(c => c with { Field = LeadFields.Grade })));

    [Theory]
    [InlineData("预算金额", "预算金额")]
    [InlineData("Fleet Size", "fleet size")]
    [InlineData(" fleet size ", "Fleet Size")]
    public void A_custom_field_the_admin_defined_is_known(string field, string customField) =>
        Assert.Empty(Problems(WithBudget(c => c with { Field = field }), customField));

    [Theory]
    [InlineData("BUDGET")]
    [InlineData(" budget ")]
    public void Built_in_fields_are_known_ignoring_case_and_spaces(string field) =>
        Assert.Empty(Problems(WithBudget(c => c with { Field = field })));

    [Fact]
    public void A_criterion_needs_a_field() =>
        Assert.Equal(["Criterion '预算 Budget' needs a field."], Problems(WithBudget(c => c with { Field = " " })));

    [Fact]
    public void A_criterion_needs_a_name_and_is_then_named_by_position() =>
        Assert.Equal(["Criterion 1 needs a name."], Problems(WithBudget(c => c with { Name = "" })));

    [Fact]
    public void A_criterion_needs_a_band() =>
        Assert.Equal(["Criterion '预算 Budget' needs at least one band of points."], Problems(WithBudget(c => c with { Bands = [] })));

    [Fact]
    public void Two_criteria_with_the_same_name_are_refused()
    {
        var card = Default with
        {
            Criteria = [.. Default.Criteria.Select(c => c.Field == LeadFields.Urgency ? c with { Name = " 预算 budget " } : c)],
        };

        Assert.Equal(["Criterion '预算 budget' appears twice."], Problems(card));
    }

    [Fact]
    public void A_card_without_criteria_is_refused() =>
        Assert.Equal(["The card needs at least one criterion."], Problems(Default with { Criteria = [] }));

    [Theory]
    [InlineData(101)]
    [InlineData(-1)]
    public void A_band_share_outside_0_to_100_percent_is_named(int percent) =>
        Assert.Equal(["Criterion '预算 Budget', band 1: the share must be between 0 and 100%."],
            Problems(WithBudgetBand(FieldOperator.GreaterOrEqual, "500000", percent)));

    [Theory]
    [InlineData(FieldOperator.GreaterOrEqual, "abc", "Criterion '预算 Budget', band 1 (budget ≥ abc): 'abc' is not a number or a date.")]
    [InlineData(FieldOperator.LessOrEqual, null, "Criterion '预算 Budget', band 1 (budget ≤): a number or a date is needed.")]
    [InlineData(FieldOperator.Equals, " ", "Criterion '预算 Budget', band 1 (budget =): a value is needed.")]
    [InlineData(FieldOperator.Contains, "-", "Criterion '预算 Budget', band 1 (budget contains -): '-' alone would match almost every lead.")]
    public void A_band_whose_condition_cannot_be_evaluated_is_named(FieldOperator op, string? value, string expected) =>
        Assert.Equal([expected], Problems(WithBudgetBand(op, value, 100)));

    [Fact]
    public void Grades_starting_at_the_same_score_overlap() =>
        Assert.Equal(["Grades 'B' and 'B+' overlap: both start at 40."],
            Problems(WithGrades(new("A", 70), new("B", 40), new("B+", 40), new("C", 0))));

    [Fact]
    public void The_lowest_grade_must_start_at_0() =>
        Assert.Equal(["The lowest grade must start at 0, so every lead gets a grade."],
            Problems(WithGrades(new("A", 70), new("B", 40), new("C", 10))));

    [Fact]
    public void Grade_names_are_unique_ignoring_case() =>
        Assert.Equal(["Grade 'a' appears twice."], Problems(WithGrades(new("A", 70), new(" a ", 40), new("C", 0))));

    [Theory]
    [InlineData(101)]
    [InlineData(-1)]
    public void A_grade_threshold_outside_0_to_100_is_named(int threshold) =>
        Assert.Equal(["Grade 'S': the threshold must be between 0 and 100."],
            Problems(WithGrades(new("S", threshold), new("A", 70), new("C", 0))));

    [Fact]
    public void One_grade_is_not_a_grading() =>
        Assert.Equal(["At least two grades are needed."], Problems(WithGrades(new GradeBand("All", 0))));

    [Fact]
    public void Grades_need_short_names() =>
        Assert.Equal(["Every grade needs a name.", "Grade '123456789012345678901': the name is longer than 20 characters."],
            Problems(WithGrades(new("A", 70), new(" ", 40), new("123456789012345678901", 0))));

    [Fact]
    public void Renamed_grades_in_any_order_can_be_saved() =>
        Assert.Empty(Problems(WithGrades(new("Cold", 0), new("Hot", 80), new("Warm", 50))));

    [Theory]
    [InlineData(0)]
    [InlineData(-14)]
    [InlineData(3651)]
    [InlineData(double.NaN)]
    public void The_half_life_must_be_positive_and_at_most_ten_years(double days) =>
        Assert.Equal(["The half-life must be between 0 and 3650 days."], Problems(Default with { HalfLifeDays = days }));

    [Theory]
    [InlineData(0.5)]
    [InlineData(3650)]
    public void A_half_life_within_range_is_accepted(double days) => Assert.Empty(Problems(Default with { HalfLifeDays = days }));

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void The_behaviour_cap_must_be_between_0_and_100(int cap) =>
        Assert.Equal(["Behaviour points are capped between 0 and 100."], Problems(Default with { MaxBehaviourPoints = cap }));

    [Fact]
    public void An_event_type_listed_twice_is_named() =>
        Assert.Equal(["Event type 'PAGE_VIEWED' appears twice."],
            Problems(WithEvents(new(BehaviourEvents.PageViewed, 1), new(" PAGE_VIEWED ", 2))));

    [Theory]
    [InlineData("page viewed")]
    [InlineData("页面浏览")]
    [InlineData("download!")]
    public void An_event_type_with_other_characters_is_named(string type) =>
        Assert.Equal([$"Event type '{type}': use up to 50 letters, digits, '_', '-' or '.'."], Problems(WithEvents(new EventPoints(type, 1))));

    [Fact]
    public void An_event_type_needs_a_name() =>
        Assert.Equal(["Every event type needs a name."], Problems(WithEvents(new EventPoints(" ", 1))));

    [Theory]
    [InlineData(101, false)]
    [InlineData(-101, false)]
    [InlineData(100, true)]
    [InlineData(-100, true)]
    public void Event_points_are_between_minus_100_and_100(int points, bool accepted) =>
        Assert.Equal(accepted ? [] : ["Event type 'web.demo-booked_2': points must be between -100 and 100."],
            Problems(WithEvents(new EventPoints("web.demo-booked_2", points))));

    [Fact]
    public void Every_problem_is_reported_at_once() =>
        Assert.Equal(
        [
            "Criterion '预算 Budget': the field 'x' is unknown.",
            "Criterion '预算 Budget', band 1 (x ≥ abc): 'abc' is not a number or a date.",
            "The lowest grade must start at 0, so every lead gets a grade.",
            "The half-life must be between 0 and 3650 days.",
        ],
        Problems(WithBudget(c => c with { Field = "x", Bands = [new PointsBand(FieldOperator.GreaterOrEqual, "abc", 100)] })
            with { Grades = [new("A", 70), new("B", 40)], HalfLifeDays = 0 }));
}
