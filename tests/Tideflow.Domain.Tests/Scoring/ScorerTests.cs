using Tideflow.Domain.Leads;
using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Tests.Scoring;

public class ScorerTests
{
    private static readonly ScoreCard Card = ScoreCard.Default;

    private static ScoreResult Score(string? budget, string? urgency, string? authority, double behaviour = 0) =>
        Scorer.Score(Card, BantLead(budget, urgency, authority), behaviour);

    private static Dictionary<string, string?> BantLead(string? budget, string? urgency, string? authority) =>
        Fields.Of((LeadFields.Budget, budget), (LeadFields.Urgency, urgency), (LeadFields.Authority, authority));

    /// <summary>A card of equal-shaped criteria: each reads its own field and gives <paramref name="percent"/> when the field is set.</summary>
    private static ScoreCard EvenCard(int percent, params int[] weights) => Card with
    {
        Criteria = [.. weights.Select((w, i) => new Criterion($"c{i + 1}", $"f{i + 1}", w, [new PointsBand(FieldOperator.IsSet, null, percent)]))],
    };

    private static ScoreCard WithGrades(params GradeBand[] grades) => Card with { Grades = grades };

    private static readonly ScoreCard RenamedGrades = WithGrades(new("Cold", 0), new("Hot", 80), new("Warm", 50));

    [Theory]
    [InlineData("50万", "立即", "决策人", 40, 30, 30, 100, "A")]
    [InlineData("500,000", "本季度", "影响者", 40, 15, 15, 70, "A")]
    [InlineData("12万", "本季度", "决策人", 24, 15, 30, 69, "B")]
    [InlineData("¥100,000", "next quarter", "Decision maker", 24, 15, 30, 69, "B")]
    [InlineData("500000", "本月内", null, 40, 24, 0, 64, "B")]
    [InlineData("12万", "立即", null, 24, 30, 0, 54, "B")]
    [InlineData("5万", "this month", "Influencer", 12, 24, 15, 51, "B")]
    [InlineData("99,999", "Immediately", "CEO", 12, 30, 6, 48, "B")]
    [InlineData(null, "立即", "影响者", 0, 30, 15, 45, "B")]
    [InlineData("50万", null, null, 40, 0, 0, 40, "B")]
    [InlineData("12万", null, "影响者", 24, 0, 15, 39, "C")]
    [InlineData("1万", "不急", "采购", 12, 6, 6, 24, "C")]
    [InlineData("9999", "明年", "采购", 4, 6, 6, 16, "C")]
    [InlineData("面议", "  ", "", 4, 0, 0, 4, "C")]
    [InlineData(null, null, null, 0, 0, 0, 0, "C")]
    public void The_default_card_scores_budget_urgency_and_authority(
        string? budget, string? urgency, string? authority, int budgetPoints, int urgencyPoints, int authorityPoints, int total, string grade)
    {
        var result = Score(budget, urgency, authority);

        Assert.Equal(total, result.Total);
        Assert.Equal(grade, result.Grade);
        Assert.Equal(0, result.BehaviourPoints);
        Assert.Equal([budgetPoints, urgencyPoints, authorityPoints, 0, 0], result.Breakdown.Select(c => c.Points));
        Assert.Equal(result.Total, result.Breakdown.Sum(c => c.Points));
    }

    [Fact]
    public void The_breakdown_names_each_criterion_its_weight_and_the_band_that_matched()
    {
        var lead = BantLead("12万", "本季度", null);
        lead[LeadFields.ChannelKind] = "Referral";
        lead[LeadFields.ContactCompleteness] = "75";

        var result = Scorer.Score(Card, lead, 0);

        Assert.Equal(
        [
            new CriterionScore("预算 Budget", 24, 40, "budget ≥ 100000"),
            new CriterionScore("紧迫度 Urgency", 15, 30, "urgency contains 季度"),
            new CriterionScore("决策权 Authority", 0, 30, null),
            new CriterionScore("渠道质量 Channel quality", 0, 0, "channelKind = Referral"),
            new CriterionScore("联系信息完整度 Contact completeness", 0, 0, "contactCompleteness ≥ 75"),
        ], result.Breakdown);
    }

    [Fact]
    public void Explain_lists_the_weighted_criteria_then_total_and_grade() =>
        Assert.Equal(
            "预算 Budget 40/40, 紧迫度 Urgency 15/30, 决策权 Authority 15/30 → 70, grade A",
            Score("50万", "本季度", "影响者").Explain());

    [Fact]
    public void Explain_adds_behaviour_points_when_there_are_any() =>
        Assert.Equal(
            "预算 Budget 24/40, 紧迫度 Urgency 30/30, 决策权 Authority 0/30, behaviour +5 → 59, grade B",
            Score("12万", "立即", null, behaviour: 4.6).Explain());

    [Fact]
    public void Explain_leaves_out_criteria_weighing_zero_even_when_their_band_matched()
    {
        var lead = BantLead(null, null, "决策人");
        lead[LeadFields.ChannelKind] = "TradeShow";
        lead[LeadFields.ContactCompleteness] = "100";

        Assert.Equal("预算 Budget 0/40, 紧迫度 Urgency 0/30, 决策权 Authority 30/30 → 30, grade C",
            Scorer.Score(Card, lead, 0).Explain());
    }

    [Fact]
    public void Giving_a_zero_weight_criterion_a_share_brings_it_into_the_score_and_the_explanation()
    {
        var card = Card with
        {
            Criteria = [.. Card.Criteria.Select(c => c.Field switch
            {
                LeadFields.Budget => c with { Weight = 30 },
                LeadFields.ChannelKind => c with { Weight = 10 },
                _ => c,
            })],
        };
        var lead = BantLead("50万", null, null);
        lead[LeadFields.ChannelKind] = "WebForm";

        Assert.Equal("预算 Budget 30/30, 紧迫度 Urgency 0/30, 决策权 Authority 0/30, 渠道质量 Channel quality 6/10 → 36, grade C",
            Scorer.Score(card, lead, 0).Explain());
    }

    [Theory]
    [InlineData(50, new[] { 25, 25, 25, 25 }, new[] { 13, 13, 13, 13 })]
    [InlineData(50, new[] { 33, 33, 34 }, new[] { 17, 17, 17 })]
    [InlineData(30, new[] { 33, 33, 34 }, new[] { 10, 10, 10 })]
    [InlineData(15, new[] { 10, 30, 60 }, new[] { 2, 5, 9 })]
    [InlineData(1, new[] { 50, 50 }, new[] { 1, 1 })]
    public void Each_criterion_is_rounded_half_away_from_zero_and_the_breakdown_adds_up_to_the_total(
        int percent, int[] weights, int[] expected)
    {
        var card = EvenCard(percent, weights);
        var lead = Fields.Of([.. weights.Select((_, i) => ($"f{i + 1}", (string?)"x"))]);

        var result = Scorer.Score(card, lead, 0);

        Assert.Equal(expected, result.Breakdown.Select(c => c.Points));
        Assert.Equal(expected.Sum(), result.Total);
    }

    [Theory]
    [InlineData(0, 0, 39, "C")]
    [InlineData(-5, 0, 39, "C")]
    [InlineData(0.49, 0, 39, "C")]
    [InlineData(0.5, 1, 40, "B")]
    [InlineData(2.5, 3, 42, "B")]
    [InlineData(29.6, 30, 69, "B")]
    [InlineData(30, 30, 69, "B")]
    [InlineData(31, 30, 69, "B")]
    [InlineData(1000, 30, 69, "B")]
    public void Behaviour_points_are_rounded_and_clamped_to_the_cards_maximum(double behaviour, int counted, int total, string grade)
    {
        var result = Score("12万", null, "影响者", behaviour);

        Assert.Equal(counted, result.BehaviourPoints);
        Assert.Equal(total, result.Total);
        Assert.Equal(grade, result.Grade);
    }

    [Fact]
    public void A_lower_behaviour_maximum_is_respected()
    {
        var result = Scorer.Score(Card with { MaxBehaviourPoints = 10 }, BantLead("12万", null, "影响者"), 25);

        Assert.Equal((10, 49), (result.BehaviourPoints, result.Total));
    }

    [Fact]
    public void The_total_is_capped_at_100()
    {
        var result = Score("50万", "立即", "决策人", behaviour: 30);

        Assert.Equal((100, "A", 30), (result.Total, result.Grade, result.BehaviourPoints));
        Assert.Equal("预算 Budget 40/40, 紧迫度 Urgency 30/30, 决策权 Authority 30/30, behaviour +30 → 100, grade A", result.Explain());
    }

    /// <summary>Default thresholds (A 70, B 40, C 0) and renamed ones listed out of order (Hot 80, Warm 50, Cold 0).</summary>
    [Theory]
    [InlineData(100, "A", "Hot")]
    [InlineData(80, "A", "Hot")]
    [InlineData(79, "A", "Warm")]
    [InlineData(70, "A", "Warm")]
    [InlineData(69, "B", "Warm")]
    [InlineData(50, "B", "Warm")]
    [InlineData(49, "B", "Cold")]
    [InlineData(40, "B", "Cold")]
    [InlineData(39, "C", "Cold")]
    [InlineData(0, "C", "Cold")]
    public void The_best_grade_whose_threshold_the_total_reaches_is_given(int total, string grade, string renamedGrade)
    {
        Assert.Equal(grade, Scorer.GradeFor(Card, total));
        Assert.Equal(renamedGrade, Scorer.GradeFor(RenamedGrades, total));
    }

    [Fact]
    public void Scoring_uses_the_cards_own_grade_names()
    {
        var hot = Scorer.Score(RenamedGrades, BantLead("50万", "立即", "影响者"), 0);
        var warm = Scorer.Score(RenamedGrades, BantLead("12万", "立即", null), 0);

        Assert.Equal(("Hot", 85), (hot.Grade, hot.Total));
        Assert.Equal(("Warm", 54), (warm.Grade, warm.Total));
    }

    [Fact]
    public void A_total_below_every_threshold_gets_the_lowest_grade() =>
        Assert.Equal("Warm", Scorer.GradeFor(WithGrades(new("Hot", 80), new("Warm", 50)), 10));

    [Theory]
    [InlineData(BehaviourEvents.PageViewed, 1)]
    [InlineData(BehaviourEvents.ContentDownloaded, 5)]
    [InlineData(BehaviourEvents.SupportContacted, 8)]
    [InlineData(BehaviourEvents.EmailOpened, 1)]
    [InlineData(" SUPPORT_CONTACTED ", 8)]
    [InlineData("form_submitted", null)]
    public void Each_event_type_adds_the_points_the_card_gives_it(string type, int? points) =>
        Assert.Equal(points, Scorer.PointsFor(Card, type));

    [Fact]
    public void A_card_without_event_types_gives_no_points() =>
        Assert.Null(Scorer.PointsFor(Card with { Events = null! }, BehaviourEvents.PageViewed));
}
