using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Scoring;

/// <summary>The first band whose condition holds on the criterion's field gives <see cref="Percent"/> of its weight.</summary>
public sealed record PointsBand(FieldOperator Operator, string? Value, int Percent);

/// <summary>One weighted criterion: at most <see cref="Weight"/> points, read from one lead field.</summary>
public sealed record Criterion(string Name, string Field, int Weight, IReadOnlyList<PointsBand> Bands);

/// <summary>A grade and the lowest total that earns it.</summary>
public sealed record GradeBand(string Name, int MinScore);

/// <summary>A behaviour event type and the points one such event adds before decay.</summary>
public sealed record EventPoints(string Type, int Points);

/// <summary>
/// An organisation's scoring rules (R2.1–R2.3). Weights sum to 100, so the criteria alone score 0–100;
/// behaviour points are added on top, at most <see cref="MaxBehaviourPoints"/>, and the total is capped at 100.
/// Grades are listed best first.
/// </summary>
public sealed record ScoreCard(
    IReadOnlyList<Criterion> Criteria,
    IReadOnlyList<GradeBand> Grades,
    IReadOnlyList<EventPoints> Events,
    double HalfLifeDays,
    int MaxBehaviourPoints)
{
    /// <summary>
    /// Budget 40, urgency 30, decision authority 30; channel quality and contact completeness are in the card
    /// with weight 0, ready for an admin to give them a share. Values read as zh-CN and English forms send them.
    /// </summary>
    public static ScoreCard Default { get; } = new(
        [
            new Criterion("预算 Budget", LeadFields.Budget, 40,
            [
                new(FieldOperator.GreaterOrEqual, "500000", 100),
                new(FieldOperator.GreaterOrEqual, "100000", 60),
                new(FieldOperator.GreaterOrEqual, "10000", 30),
                new(FieldOperator.IsSet, null, 10),
            ]),
            new Criterion("紧迫度 Urgency", LeadFields.Urgency, 30,
            [
                new(FieldOperator.Contains, "立即", 100),
                new(FieldOperator.Contains, "immediate", 100),
                new(FieldOperator.Contains, "本月", 80),
                new(FieldOperator.Contains, "month", 80),
                new(FieldOperator.Contains, "季度", 50),
                new(FieldOperator.Contains, "quarter", 50),
                new(FieldOperator.IsSet, null, 20),
            ]),
            new Criterion("决策权 Authority", LeadFields.Authority, 30,
            [
                new(FieldOperator.Contains, "决策", 100),
                new(FieldOperator.Contains, "decision", 100),
                new(FieldOperator.Contains, "影响", 50),
                new(FieldOperator.Contains, "influenc", 50),
                new(FieldOperator.IsSet, null, 20),
            ]),
            new Criterion("渠道质量 Channel quality", LeadFields.ChannelKind, 0,
            [
                new(FieldOperator.Equals, "Referral", 100),
                new(FieldOperator.Equals, "TradeShow", 80),
                new(FieldOperator.Equals, "WebForm", 60),
                new(FieldOperator.Equals, "WeChatOfficialAccount", 60),
                new(FieldOperator.Equals, "MiniProgram", 60),
                new(FieldOperator.Equals, "AdCampaign", 40),
                new(FieldOperator.IsSet, null, 30),
            ]),
            new Criterion("联系信息完整度 Contact completeness", LeadFields.ContactCompleteness, 0,
            [
                new(FieldOperator.GreaterOrEqual, "100", 100),
                new(FieldOperator.GreaterOrEqual, "75", 75),
                new(FieldOperator.GreaterOrEqual, "50", 50),
                new(FieldOperator.GreaterOrEqual, "25", 25),
            ]),
        ],
        [new GradeBand("A", 70), new GradeBand("B", 40), new GradeBand("C", 0)],
        [
            new EventPoints(BehaviourEvents.PageViewed, 1),
            new EventPoints(BehaviourEvents.ContentDownloaded, 5),
            new EventPoints(BehaviourEvents.SupportContacted, 8),
            new EventPoints(BehaviourEvents.EmailOpened, 1),
        ],
        HalfLifeDays: 14,
        MaxBehaviourPoints: 30);
}

public static class BehaviourEvents
{
    public const string PageViewed = "page_viewed";
    public const string ContentDownloaded = "content_downloaded";
    public const string SupportContacted = "support_contacted";
    public const string EmailOpened = "email_opened";
}
