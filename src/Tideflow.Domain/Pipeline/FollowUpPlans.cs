using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Pipeline;

/// <summary>One step of a plan: what to do, how long after the step before (or the assignment) it is due, and which
/// follow-up channel counts as doing it (none: any follow-up does).</summary>
public sealed record PlanStep(string Title, int DueInHours, FollowUpChannel? Channel = null);

/// <summary>A grade's follow-up plan (R5.4): steps in order; the last one recurs when <see cref="RepeatLast"/>.</summary>
public sealed record GradePlan(string Grade, IReadOnlyList<PlanStep> Steps, bool RepeatLast = true);

/// <summary>The next task a plan asks for.</summary>
public sealed record PlannedTask(int Step, string Title, DateTimeOffset DueAt, FollowUpChannel? Channel);

/// <summary>
/// Follow-up plans per grade (R5.4): the first step's task is created on assignment, each matching follow-up closes the
/// open step and creates the next, and a changed grade re-plans the open step under the new grade's plan.
/// </summary>
public static class FollowUpPlans
{
    public const int MaxSteps = 10;
    public const int MaxTitle = 100;

    /// <summary>The defaults the issue names, for the grades of <paramref name="card"/> by rank (best first).</summary>
    public static IReadOnlyList<GradePlan> Defaults(ScoreCard card)
    {
        var grades = card.Grades.OrderByDescending(g => g.MinScore).Select(g => g.Name).ToList();
        return grades.Select((g, rank) => rank switch
        {
            0 => new GradePlan(g, [new("电话联系", 24, FollowUpChannel.Phone), new("发送方案", 72), new("每周同步", 168)]),
            1 => new GradePlan(g, [new("首次联系", 72), new("双周跟进", 336)]),
            _ => new GradePlan(g, [new("首次联系", 168), new("月度培育", 720)]),
        }).ToList();
    }

    /// <summary>
    /// The plan for <paramref name="grade"/>: the one named so; else the plan at the grade's rank; else the last plan
    /// (the gentlest). A grade renamed in the score card keeps its place's plan.
    /// </summary>
    public static GradePlan For(IReadOnlyList<GradePlan> plans, ScoreCard card, string? grade)
    {
        var named = plans.FirstOrDefault(p => string.Equals(p.Grade, grade, StringComparison.OrdinalIgnoreCase));
        if (named is not null)
        {
            return named;
        }
        var rank = card.Grades.OrderByDescending(g => g.MinScore).ToList().FindIndex(g => string.Equals(g.Name, grade, StringComparison.OrdinalIgnoreCase));
        return rank >= 0 && rank < plans.Count ? plans[rank] : plans[^1];
    }

    /// <summary>The task after step <paramref name="done"/> (-1: none done yet, the plan starts), due from <paramref name="from"/>; null when the plan is over.</summary>
    public static PlannedTask? Next(GradePlan plan, int done, DateTimeOffset from)
    {
        var step = done + 1 < plan.Steps.Count ? done + 1 : plan.RepeatLast && plan.Steps.Count > 0 ? plan.Steps.Count - 1 : -1;
        return step < 0 ? null : At(plan, step, from);
    }

    /// <summary>
    /// A grade changed while step <paramref name="open"/> was open: the new plan takes over at the same point — its
    /// first step if nothing was done yet, else the same step (or its last, if shorter) — due from now.
    /// </summary>
    public static PlannedTask Replan(GradePlan plan, int open, DateTimeOffset now) =>
        At(plan, Math.Clamp(open, 0, plan.Steps.Count - 1), now);

    /// <summary>Whether a follow-up on <paramref name="channel"/> does the step.</summary>
    public static bool Done(FollowUpChannel? stepChannel, FollowUpChannel channel) => stepChannel is null || stepChannel == channel;

    /// <summary>Why the plans cannot be saved, naming the plan and step; null when they can.</summary>
    public static string? Problem(IReadOnlyList<GradePlan> plans)
    {
        if (plans.Count == 0)
        {
            return "at least one plan is needed";
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var plan in plans)
        {
            if (string.IsNullOrWhiteSpace(plan.Grade))
            {
                return "every plan names its grade";
            }
            if (!seen.Add(plan.Grade.Trim()))
            {
                return $"grade {plan.Grade} has two plans";
            }
            if (plan.Steps.Count is 0 or > MaxSteps)
            {
                return $"plan {plan.Grade}: 1 to {MaxSteps} steps";
            }
            for (var i = 0; i < plan.Steps.Count; i++)
            {
                var s = plan.Steps[i];
                if (string.IsNullOrWhiteSpace(s.Title) || s.Title.Trim().Length > MaxTitle)
                {
                    return $"plan {plan.Grade}, step {i + 1}: a title of 1 to {MaxTitle} characters";
                }
                if (s.DueInHours is < 1 or > 24 * 366)
                {
                    return $"plan {plan.Grade}, step {i + 1} ({s.Title}): due in 1 hour to 366 days";
                }
            }
        }
        return null;
    }

    private static PlannedTask At(GradePlan plan, int step, DateTimeOffset from) =>
        new(step, plan.Steps[step].Title, from + TimeSpan.FromHours(plan.Steps[step].DueInHours), plan.Steps[step].Channel);
}
