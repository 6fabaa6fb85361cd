using Tideflow.Domain.Pipeline;

namespace Tideflow.Domain.Pool;

/// <summary>What makes an owned customer go back to the pool (回收条件).</summary>
public enum ReclaimWhen
{
    /// <summary>No follow-up record of a counted channel for N, measured from the later of the last one and the assignment.</summary>
    NoFollowUp,
    /// <summary>No stage move for N, measured from the later of the last move and the assignment.</summary>
    NoStageProgress,
    /// <summary>Not at or beyond a stage N after assignment: "not converted to an opportunity", "not won".</summary>
    NotReachedStage,
    /// <summary>Claimed from the pool N ago and no follow-up logged since (首次跟进超时, default 48 h).</summary>
    FirstContactMissed,
    /// <summary>
    /// The customer's contract ended N ago and no later end date was entered (合同到期未续约), measured from the later of
    /// the first instant after its last day and the assignment. It applies to won customers too: a contract's end is
    /// when a won customer comes back.
    /// </summary>
    ContractEnded,
}

public enum PeriodUnit
{
    Days,
    Hours,
}

public enum Combine
{
    /// <summary>Any rule that comes due reclaims (OR).</summary>
    Any,
    /// <summary>Only when every rule is due (AND).</summary>
    All,
}

/// <summary>One reclaim condition; <see cref="ByGrade"/> overrides <see cref="Amount"/> for a grade (A 15 days, B 7, C 3).</summary>
public sealed record ReclaimRule(ReclaimWhen When, int Amount, PeriodUnit Unit = PeriodUnit.Days,
    IReadOnlyDictionary<string, int>? ByGrade = null, string? Stage = null)
{
    public TimeSpan PeriodFor(string? grade)
    {
        var amount = grade is not null && ByGrade is not null && ByGrade.TryGetValue(grade, out var n) ? n : Amount;
        return Unit == PeriodUnit.Hours ? TimeSpan.FromHours(amount) : TimeSpan.FromDays(amount);
    }

    /// <summary>An anchor at or before this instant makes the rule due now; the sweep puts it in its WHERE, <see cref="PoolRules.Evaluate"/> compares with it.</summary>
    public DateTimeOffset Cutoff(string? grade, DateTimeOffset now) => now - PeriodFor(grade);
}

/// <summary>A pool's rules (R4.1–R4.6): when customers come back, who is spared, how often they are warned, and the limits on claiming.</summary>
public sealed record PoolSettings(
    IReadOnlyList<ReclaimRule> Rules,
    Combine Combine = Combine.Any,
    IReadOnlyList<string>? CountedChannels = null,
    string? ExemptFromStage = null,
    bool ExemptWon = true,
    int MaxProtectDays = 30,
    int MaxProtectedPerRep = 10,
    IReadOnlyList<int>? WarnHoursBefore = null,
    int DailyClaimLimit = 3,
    int? MaxHeld = null,
    int CooldownHours = 30 * 24,
    int EmbargoHours = 0,
    IReadOnlyList<string>? ReleaseReasons = null)
{
    public static PoolSettings Default { get; } = new(
        [new ReclaimRule(ReclaimWhen.NoFollowUp, 7), new ReclaimRule(ReclaimWhen.FirstContactMissed, 48, PeriodUnit.Hours)],
        WarnHoursBefore: [24],
        ReleaseReasons: ["客户暂无需求", "多次联系不上", "预算不足", "已选择竞品", "其他"]);

    public IReadOnlyList<int> Warnings => WarnHoursBefore ?? [];

    public IReadOnlyList<string> Reasons => ReleaseReasons ?? [];

    /// <summary>Every follow-up channel counts when the admin named none.</summary>
    public bool CountsEveryChannel => CountedChannels is null || CountedChannels.Count == 0;

    /// <summary>Whether a follow-up of this channel counts for the pool's rules.</summary>
    public bool Counts(FollowUpChannel channel) =>
        CountsEveryChannel || CountedChannels!.Contains(channel.ToString(), StringComparer.OrdinalIgnoreCase);

    /// <summary>How long after a claim the first contact is due (首次联系时限): the "first contact missed" rule's period for the grade, else 48 h.</summary>
    public TimeSpan FirstContactWithin(string? grade) =>
        Rules.FirstOrDefault(r => r.When == ReclaimWhen.FirstContactMissed)?.PeriodFor(grade) ?? TimeSpan.FromHours(48);
}

/// <summary>What the rules look at for one owned customer. <see cref="LastContactAt"/> is the last follow-up of a counted channel;
/// <see cref="ContractEndsAt"/> is the first instant after the last day of the customer's contract, if one was entered.</summary>
public sealed record CustomerFacts(string? Grade, string Stage, DateTimeOffset AssignedAt, DateTimeOffset? LastContactAt,
    DateTimeOffset? StageChangedAt, DateTimeOffset? ClaimedAt, DateTimeOffset? ProtectedUntil, DateTimeOffset? ContractEndsAt = null);

public enum ReclaimStatus
{
    /// <summary>Owned and not yet due; <see cref="ReclaimDecision.DueAt"/> says when it would be.</summary>
    Safe,
    /// <summary>Spared: protected, won, or far enough along.</summary>
    Exempt,
    /// <summary>The sweep reclaims it.</summary>
    Due,
}

/// <summary>The answer for one customer. <see cref="Rule"/> is the condition that decides (the first due, or under AND the last).</summary>
public sealed record ReclaimDecision(ReclaimStatus Status, DateTimeOffset? DueAt, ReclaimRule? Rule, string Reason);

/// <summary>
/// Given a customer's facts, a pool's rules and now: is it due, exempt, or safe until when (R4.2)? The sweep's WHERE
/// clauses are built from the same <see cref="ReclaimRule.Cutoff"/> and <see cref="Anchor"/> definitions.
/// </summary>
public static class PoolRules
{
    public static ReclaimDecision Evaluate(CustomerFacts c, PoolSettings s, SalesPipeline pipeline, DateTimeOffset now)
    {
        if (Protection(c, now) is { } protectedWhy)
        {
            return new ReclaimDecision(ReclaimStatus.Exempt, null, null, protectedWhy);
        }
        // A won or far-along customer is spared the rules that measure the pursuit, not the end of its contract.
        var rules = s.Rules;
        var spared = StageExemption(c, s, pipeline);
        if (spared is not null)
        {
            rules = s.Rules.Where(r => !r.When.SparedByStage()).ToList();
            if (rules.Count == 0 || (s.Combine == Combine.All && rules.Count < s.Rules.Count))
            {
                return new ReclaimDecision(ReclaimStatus.Exempt, null, null, spared);
            }
        }
        var dues = rules.Select(r => (Rule: r, Due: DueAt(r, c, pipeline))).ToList();
        (ReclaimRule Rule, DateTimeOffset? Due)? decisive = s.Combine == Combine.Any
            ? dues.Where(d => d.Due is not null).OrderBy(d => d.Due).Cast<(ReclaimRule, DateTimeOffset?)?>().FirstOrDefault()
            : dues.Count > 0 && dues.All(d => d.Due is not null) ? dues.OrderByDescending(d => d.Due).First() : null;
        if (decisive is not { } d)
        {
            // Won without a contract end entered: the exemption is the answer, not "no rule applies".
            return spared is not null ? new ReclaimDecision(ReclaimStatus.Exempt, null, null, spared)
                : new ReclaimDecision(ReclaimStatus.Safe, null, null, "no reclaim rule applies");
        }
        return new ReclaimDecision(d.Due <= now ? ReclaimStatus.Due : ReclaimStatus.Safe, d.Due, d.Rule, Describe(d.Rule, c.Grade));
    }

    /// <summary>
    /// The warning to send now, as hours before the due time, or null: the closest warning whose window has opened
    /// (a late sweep sends only the most urgent one, not all that were missed).
    /// </summary>
    public static int? WarningNow(ReclaimDecision decision, PoolSettings s, DateTimeOffset now)
    {
        if (decision.Status != ReclaimStatus.Safe || decision.DueAt is not { } due || due <= now)
        {
            return null;
        }
        var left = due - now;
        return s.Warnings.Where(h => left <= TimeSpan.FromHours(h)).OrderBy(h => h).Cast<int?>().FirstOrDefault();
    }

    /// <summary>When the rule would come due for this customer, or null if it cannot (already at the stage; never claimed).</summary>
    public static DateTimeOffset? DueAt(ReclaimRule r, CustomerFacts c, SalesPipeline pipeline) =>
        Anchor(r, c, pipeline) is { } anchor ? anchor + r.PeriodFor(c.Grade) : null;

    /// <summary>The instant the rule's period runs from.</summary>
    public static DateTimeOffset? Anchor(ReclaimRule r, CustomerFacts c, SalesPipeline pipeline) => r.When switch
    {
        ReclaimWhen.NoFollowUp => Later(c.AssignedAt, c.LastContactAt),
        ReclaimWhen.NoStageProgress => Later(c.AssignedAt, c.StageChangedAt),
        // A stage names a pursuit: customers in another pipeline (续约 …) are not measured against it.
        ReclaimWhen.NotReachedStage => !StagesOfPipeline(pipeline, r.Stage).Contains(c.Stage) || Reached(pipeline, c.Stage, r.Stage) ? null : c.AssignedAt,
        ReclaimWhen.FirstContactMissed => c.ClaimedAt is { } claimed && (c.LastContactAt is null || c.LastContactAt < claimed) ? claimed : null,
        // From the assignment if later: a rep who claims a customer whose contract lapsed long ago gets the period to renew it.
        ReclaimWhen.ContractEnded => c.ContractEndsAt is { } ended ? Later(c.AssignedAt, ended) : null,
        _ => null,
    };

    /// <summary>Why every rule spares the customer (a manager protected it), or null.</summary>
    public static string? Protection(CustomerFacts c, DateTimeOffset now) =>
        c.ProtectedUntil is { } until && until > now ? $"protected until {until:yyyy-MM-dd HH:mm} UTC" : null;

    /// <summary>Why the rules that measure the pursuit spare the customer (won, or far enough along), or null.</summary>
    public static string? StageExemption(CustomerFacts c, PoolSettings s, SalesPipeline pipeline)
    {
        var stage = pipeline.Find(c.Stage);
        if (s.ExemptWon && stage?.Outcome == StageOutcome.Won)
        {
            return "won";
        }
        if (s.ExemptFromStage is { } from && stage?.Outcome == StageOutcome.Open && Reached(pipeline, c.Stage, from))
        {
            return $"at or beyond {pipeline.Find(from)?.Name ?? from}";
        }
        return null;
    }

    /// <summary>The open stages at or beyond <paramref name="target"/>, plus won when the target is open; lost never counts as reached.</summary>
    public static IReadOnlyList<string> StagesReached(SalesPipeline pipeline, string? target)
    {
        var stages = pipeline.Stages.ToList();
        var index = stages.FindIndex(s => s.Key == target);
        // Reached within the target's own pipeline: a customer in another pipeline has not reached it.
        return index < 0 ? [] : stages.Skip(index).Where(s => s.Outcome != StageOutcome.Lost && s.Pipeline == stages[index].Pipeline).Select(s => s.Key).ToList();
    }

    /// <summary>Every stage of the pipeline <paramref name="target"/> belongs to: the customers a stage-bound rule measures.</summary>
    public static IReadOnlyList<string> StagesOfPipeline(SalesPipeline pipeline, string? target) =>
        pipeline.Find(target) is { } stage ? pipeline.StagesOf(stage.Pipeline).Select(s => s.Key).ToList() : [];

    public static string Describe(ReclaimRule r, string? grade)
    {
        var p = r.PeriodFor(grade);
        var period = r.Unit == PeriodUnit.Hours ? $"{p.TotalHours:0} h" : $"{p.TotalDays:0} days";
        return r.When switch
        {
            ReclaimWhen.NoFollowUp => $"no follow-up for {period}",
            ReclaimWhen.NoStageProgress => $"no stage progress for {period}",
            ReclaimWhen.NotReachedStage => $"not at {r.Stage} {period} after assignment",
            ReclaimWhen.FirstContactMissed => $"no first contact within {period} of claiming",
            ReclaimWhen.ContractEnded => $"contract ended {period} ago, not renewed",
            _ => r.When.ToString(),
        };
    }

    /// <summary>Why the settings cannot be saved, by field, or empty.</summary>
    public static IReadOnlyDictionary<string, string> Problems(PoolSettings s, SalesPipeline pipeline, IReadOnlyCollection<string> grades)
    {
        var problems = new Dictionary<string, string>();
        // Settings arrive as JSON: a missing list or a null entry is refused here rather than crashing below.
        if (s.Rules is null || s.Rules.Any(r => r is null))
        {
            problems["rules"] = "Send the reclaim rules as a list of rules.";
            return problems;
        }
        if (s.Rules.Count == 0)
        {
            problems["rules"] = "A pool needs at least one reclaim rule; without one nothing ever comes back.";
        }
        if (s.Rules.Count > 10)
        {
            problems["rules"] = "At most 10 reclaim rules.";
        }
        for (var i = 0; i < s.Rules.Count; i++)
        {
            var r = s.Rules[i];
            if (!Enum.IsDefined(r.When) || !Enum.IsDefined(r.Unit))
            {
                problems[$"rules[{i}].when"] = "Unknown condition or unit.";
                continue;
            }
            var amounts = new[] { r.Amount }.Concat(r.ByGrade?.Values ?? []).ToList();
            var longest = r.Unit == PeriodUnit.Hours ? 24 * 3650 : 3650;
            if (amounts.Any(v => v <= 0))
            {
                problems[$"rules[{i}].amount"] = "Every period must be at least 1.";
            }
            else if (amounts.Any(v => v > longest))
            {
                problems[$"rules[{i}].amount"] = "A period longer than 10 years is not a rule.";
            }
            if (r.When == ReclaimWhen.NotReachedStage && (pipeline.Find(r.Stage) is not { } target || target.Outcome == StageOutcome.Lost || r.Stage == SalesPipeline.First))
            {
                problems[$"rules[{i}].stage"] = "Name the stage the customer must reach (not the first stage, not lost).";
            }
            if (r.When != ReclaimWhen.NotReachedStage && r.Stage is not null)
            {
                problems[$"rules[{i}].stage"] = "Only \"not reached stage\" takes a stage.";
            }
            if (s.Rules.Take(i).Any(o => o.When == r.When && o.Stage == r.Stage))
            {
                problems[$"rules[{i}].when"] = "The same condition twice contradicts itself (under OR the shorter period always wins, under AND the longer): keep one.";
            }
            // Grades match exactly as the score card names them: "a" would apply to nobody.
            foreach (var g in (r.ByGrade?.Keys ?? []).Where(g => !grades.Contains(g, StringComparer.Ordinal)))
            {
                problems[$"rules[{i}].byGrade.{g}"] = $"There is no grade {g} (grades: {string.Join(", ", grades)}).";
            }
        }
        if (!Enum.IsDefined(s.Combine))
        {
            problems["combine"] = "Combine rules with Any (OR) or All (AND).";
        }
        if (s.ExemptFromStage is { } from && (pipeline.Find(from) is not { } stage || stage.Outcome != StageOutcome.Open || from == SalesPipeline.First))
        {
            problems["exemptFromStage"] = "Name an open stage after the first (won customers have their own switch), or leave it empty.";
        }
        if (s.Warnings.Any(h => h <= 0 || h > 24 * 90))
        {
            problems["warnHoursBefore"] = "Warnings are 1 hour to 90 days before the reclaim.";
        }
        if (s.Warnings.Count != s.Warnings.Distinct().Count() || s.Warnings.Count > 5)
        {
            problems["warnHoursBefore"] = "At most 5 warnings, each at a different time.";
        }
        if (s.DailyClaimLimit <= 0 || s.DailyClaimLimit > 1000)
        {
            problems["dailyClaimLimit"] = "A rep may claim 1 to 1000 customers a day.";
        }
        if (s.MaxHeld is <= 0)
        {
            problems["maxHeld"] = "The most customers a rep may hold is at least 1, or empty for no cap.";
        }
        if (s.MaxHeld > 1_000_000)
        {
            problems["maxHeld"] = "At most 1,000,000.";
        }
        foreach (var (name, hours) in new[] { ("cooldownHours", s.CooldownHours), ("embargoHours", s.EmbargoHours) })
        {
            if (hours < 0 || hours > 24 * 3650)
            {
                problems[name] = "0 hours to 10 years.";
            }
        }
        if (s.MaxProtectDays <= 0 || s.MaxProtectDays > 3650)
        {
            problems["maxProtectDays"] = "Protection lasts 1 day to 10 years.";
        }
        if (s.MaxProtectedPerRep < 0 || s.MaxProtectedPerRep > 100_000)
        {
            problems["maxProtectedPerRep"] = "0 to 100,000 protected customers per rep.";
        }
        if (s.Reasons.Count == 0 || s.Reasons.Count > 20 || s.Reasons.Any(r => string.IsNullOrWhiteSpace(r) || r.Trim().Length > 50)
            || s.Reasons.Distinct(StringComparer.OrdinalIgnoreCase).Count() != s.Reasons.Count)
        {
            problems["releaseReasons"] = "List 1 to 20 release reasons, each different, not blank and at most 50 characters.";
        }
        return problems;
    }

    /// <summary>Whether the won / exempt-from-stage switches spare a customer from this condition: all but the contract's end.</summary>
    public static bool SparedByStage(this ReclaimWhen when) => when != ReclaimWhen.ContractEnded;

    private static bool Reached(SalesPipeline pipeline, string stage, string? target) => StagesReached(pipeline, target).Contains(stage);

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset? b) => b is { } x && x > a ? x : a;
}
