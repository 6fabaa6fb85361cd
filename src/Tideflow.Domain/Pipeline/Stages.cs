namespace Tideflow.Domain.Pipeline;

public enum StageOutcome
{
    Open,
    Won,
    Lost,
}

/// <summary>Something that must be true to leave or to enter a stage (完成条件).</summary>
public enum StageCheck
{
    /// <summary>At least one follow-up record with a channel and a next plan.</summary>
    FollowUpWithNextPlan,
    /// <summary>Why the customer was lost.</summary>
    LostReason,
    /// <summary>Invoice title and taxpayer id (发票抬头, 税号).</summary>
    InvoiceDetails,
    /// <summary>The signed contract, uploaded as an attachment of purpose "contract" (合同附件).</summary>
    ContractAttachment,
}

/// <summary>The task entering a stage creates for the owner (阶段动作), due so many hours later.</summary>
public sealed record StageTask(string Title, int DueInHours);

public sealed record Stage(string Key, string Name, StageOutcome Outcome, IReadOnlyList<StageCheck> ToLeave, IReadOnlyList<StageCheck> ToEnter,
    StageTask? OnEnter);

/// <summary>What is known about a customer and the move requested, for <see cref="StageRules.Missing"/>.</summary>
public sealed record MoveFacts(int FollowUpsWithNextPlan, string? LostReason, string? InvoiceTitle, string? TaxNumber, int ContractAttachments = 0);

/// <summary>
/// The stages a customer moves through (R5.1) and what a move needs (R5.2). Every path that changes a customer's stage
/// asks <see cref="Missing"/>; a move is allowed only when nothing is missing (or an admin overrides it with a reason).
/// </summary>
public sealed record SalesPipeline(IReadOnlyList<Stage> Stages)
{
    public const string First = "new";

    public static SalesPipeline Default { get; } = new(
    [
        new("new", "新线索", StageOutcome.Open, [], [], null),
        new("contacted", "已联系", StageOutcome.Open, [StageCheck.FollowUpWithNextPlan], [], new StageTask("确认客户需求", 72)),
        new("needs", "需求确认", StageOutcome.Open, [], [], new StageTask("准备方案与报价", 72)),
        new("quoted", "已报价", StageOutcome.Open, [], [], new StageTask("跟进报价反馈", 48)),
        new("negotiation", "商务谈判", StageOutcome.Open, [], [], new StageTask("推进合同条款", 168)),
        new("won", "赢单", StageOutcome.Won, [], [StageCheck.InvoiceDetails, StageCheck.ContractAttachment], null),
        new("lost", "输单", StageOutcome.Lost, [], [StageCheck.LostReason], null),
    ]);

    public Stage? Find(string? key) => Stages.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.Ordinal));

    /// <summary>Won or lost: the pursuit is over, so no next contact is owed.</summary>
    public bool IsClosed(string? key) => Find(key)?.Outcome is StageOutcome.Won or StageOutcome.Lost;
}

public static class StageRules
{
    /// <summary>
    /// What the move from <paramref name="from"/> to <paramref name="to"/> still needs: the leaving stage's checks, those
    /// of every stage a forward move skips, then the entered stage's. Empty: the move may go ahead. An unknown target or a move to the same stage is refused by
    /// <see cref="Problem"/> before this is asked.
    /// </summary>
    public static IReadOnlyList<StageCheck> Missing(SalesPipeline pipeline, string from, string to, MoveFacts facts)
    {
        var stages = pipeline.Stages.ToList();
        var start = stages.FindIndex(s => s.Key == from);
        var end = stages.FindIndex(s => s.Key == to);
        // A forward move passes through the stages between: skipping 已联系 must not skip what leaving it needs.
        // A move to a lost stage is a way out from anywhere, not a pass through the rest.
        var passed = start >= 0 && end > start && stages[end].Outcome != StageOutcome.Lost
            ? stages.Skip(start + 1).Take(end - start - 1).Where(s => s.Outcome == StageOutcome.Open).SelectMany(s => s.ToLeave)
            : [];
        var checks = (pipeline.Find(from)?.ToLeave ?? []).Concat(passed).Concat(pipeline.Find(to)?.ToEnter ?? []).Distinct();
        return checks.Where(c => !Met(c, facts)).ToList();
    }

    /// <summary>Why the move cannot even be considered, or null.</summary>
    public static string? Problem(SalesPipeline pipeline, string from, string? to)
    {
        if (pipeline.Find(to) is null)
        {
            return $"'{to}' is not a stage; stages are {string.Join(", ", pipeline.Stages.Select(s => s.Key))}.";
        }
        return string.Equals(from, to, StringComparison.Ordinal) ? $"The customer is already in '{to}'." : null;
    }

    /// <summary>How a missing check reads in an API answer.</summary>
    public static string Describe(StageCheck check) => check switch
    {
        StageCheck.FollowUpWithNextPlan => "a follow-up record with a channel and a next plan",
        StageCheck.LostReason => "the reason the customer was lost",
        StageCheck.InvoiceDetails => "invoice details: invoice title and taxpayer id",
        StageCheck.ContractAttachment => "a contract attachment",
        _ => check.ToString(),
    };

    private static bool Met(StageCheck check, MoveFacts facts) => check switch
    {
        StageCheck.FollowUpWithNextPlan => facts.FollowUpsWithNextPlan > 0,
        StageCheck.LostReason => (facts.LostReason?.Trim().Length ?? 0) >= 2,
        StageCheck.InvoiceDetails => !string.IsNullOrWhiteSpace(facts.InvoiceTitle) && !string.IsNullOrWhiteSpace(facts.TaxNumber),
        StageCheck.ContractAttachment => facts.ContractAttachments > 0,
        _ => false,
    };
}
