namespace Tideflow.Domain.Pipeline;

/// <summary>How a contact happened (跟进方式).</summary>
public enum FollowUpChannel
{
    Phone,
    WeChat,
    Visit,
    Email,
    Meeting,
    Other,
}

/// <summary>One contact as a rep records it (R5.3), before any judgement.</summary>
public sealed record FollowUpInput(
    FollowUpChannel? Channel,
    string? Content,
    string? Goal,
    bool GoalReached,
    string? NextPlan,
    DateTimeOffset? NextContactAt);

/// <summary>
/// What makes a follow-up record complete (R5.3): a channel, what was said, and — unless the customer is closed — the
/// next plan with a date in the future, which becomes the next-contact reminder. A goal is optional; when given, the
/// record says whether it was reached (约到试用: yes / no).
/// </summary>
public static class FollowUpRules
{
    public const int MaxContent = 4000;
    public const int MaxGoal = 200;
    public const int MaxNextPlan = 500;
    /// <summary>A next contact further out than this is almost always a typo in the year.</summary>
    public static readonly TimeSpan MaxAhead = TimeSpan.FromDays(366);

    /// <summary>Per field (as the API names it), why the record cannot be saved; empty when it can.</summary>
    public static Dictionary<string, string> Problems(FollowUpInput input, bool customerClosed, DateTimeOffset now)
    {
        var problems = new Dictionary<string, string>();
        if (input.Channel is not { } channel || !Enum.IsDefined(channel))
        {
            problems["channel"] = "Say how the contact happened (phone, WeChat, visit, email, meeting or other).";
        }
        var content = input.Content?.Trim() ?? "";
        if (content.Length == 0)
        {
            problems["content"] = "Say what was discussed.";
        }
        else if (content.Length > MaxContent)
        {
            problems["content"] = $"At most {MaxContent} characters.";
        }
        if ((input.Goal?.Trim().Length ?? 0) > MaxGoal)
        {
            problems["goal"] = $"At most {MaxGoal} characters.";
        }
        var plan = input.NextPlan?.Trim() ?? "";
        if (plan.Length > MaxNextPlan)
        {
            problems["nextPlan"] = $"At most {MaxNextPlan} characters.";
        }
        if (!customerClosed)
        {
            if (plan.Length == 0)
            {
                problems["nextPlan"] = "Say what happens next; only a closed customer has no next step.";
            }
            if (input.NextContactAt is not { } next)
            {
                problems["nextContactAt"] = "Give the date of the next contact.";
            }
            else if (next <= now)
            {
                problems["nextContactAt"] = "The next contact must be in the future.";
            }
            else if (next - now > MaxAhead)
            {
                problems["nextContactAt"] = "The next contact is more than a year away; check the year.";
            }
        }
        else if (input.NextContactAt is { } next && next <= now)
        {
            problems["nextContactAt"] = "The next contact must be in the future.";
        }
        return problems;
    }
}
