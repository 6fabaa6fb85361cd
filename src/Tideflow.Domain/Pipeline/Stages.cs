using System.Text.RegularExpressions;
using Tideflow.Domain.Workbench;

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
    /// <summary>The quote form: the amount quoted (报价金额) and how long it is valid.</summary>
    QuoteDetails,
    /// <summary>The signed contract, uploaded as an attachment of purpose "contract" (合同附件).</summary>
    ContractAttachment,
}

/// <summary>Who a stage action is for: the customer's owner, the owner's manager, or everyone holding a role.</summary>
public enum StageRole
{
    Owner,
    Manager,
    Finance,
    Admin,
}

public enum StageActionKind
{
    /// <summary>A task due so many hours after entering, for the owner or the owner's manager.</summary>
    Task,
    /// <summary>A notification ("客户进入赢单") to everyone of a role.</summary>
    Notify,
}

/// <summary>What entering a stage does by itself (阶段动作).</summary>
public sealed record StageAction(StageActionKind Kind, StageRole For, string? Title = null, int DueInHours = 0)
{
    public static StageAction TaskFor(string title, int dueInHours, StageRole role = StageRole.Owner) => new(StageActionKind.Task, role, title, dueInHours);

    public static StageAction Notify(StageRole role) => new(StageActionKind.Notify, role);
}

/// <param name="Pipeline">The key of the pipeline the stage belongs to (<see cref="PipelineName"/>).</param>
public sealed record Stage(string Key, string Name, StageOutcome Outcome, IReadOnlyList<StageCheck> ToLeave, IReadOnlyList<StageCheck> ToEnter,
    IReadOnlyList<StageAction> OnEnter, string Pipeline = SalesPipeline.MainKey);

/// <summary>One pipeline of the organisation (新客户销售, 续约 …): its stages are those tagged with its key.</summary>
public sealed record PipelineName(string Key, string Name);

/// <summary>What is known about a customer and the move requested, for <see cref="StageRules.Missing"/>.</summary>
public sealed record MoveFacts(int FollowUpsWithNextPlan, string? LostReason, string? InvoiceTitle, string? TaxNumber, decimal? QuoteAmount = null,
    DateOnly? QuoteValidUntil = null, DateOnly? Today = null, int ContractAttachments = 0);

/// <summary>
/// The organisation's pipelines (R5.1): every stage of every pipeline, each tagged with its pipeline, one pipeline after
/// the other. A stage key is unique across them all, so a customer's stage alone says which pipeline it is in; a
/// customer enters another pipeline by a move to one of its stages. What a move needs (R5.2): every path that changes a
/// customer's stage asks <see cref="StageRules.Missing"/>; a move is allowed only when nothing is missing (or an admin
/// overrides it with a reason). An organisation keeps its own (admin-edited, <see cref="PipelineRules"/>); without one it
/// runs <see cref="Default"/>.
/// </summary>
/// <param name="Pipelines">The pipelines in order; null: the one main pipeline.</param>
/// <param name="Workbench">
/// How far back the workbench looks for a high-intent customer not advanced and for new assignments (R5.7: "N days",
/// set by the admin with the stages they are about); null: <see cref="WorkbenchSettings.Default"/>.
/// </param>
public sealed record SalesPipeline(IReadOnlyList<Stage> Stages, IReadOnlyList<PipelineName>? Pipelines = null, WorkbenchSettings? Workbench = null)
{
    /// <summary>The workbench's periods in force.</summary>
    public WorkbenchSettings Periods => Workbench ?? WorkbenchSettings.Default;

    /// <summary>Every customer starts here, so the first stage's key never changes (its name may).</summary>
    public const string First = "new";

    /// <summary>The pipeline every customer starts in: the first.</summary>
    public const string MainKey = "sales";

    public IReadOnlyList<PipelineName> Named => Pipelines is { Count: > 0 } named ? named : [new PipelineName(MainKey, "销售管道")];

    /// <summary>The stages of one pipeline, in order.</summary>
    public IReadOnlyList<Stage> StagesOf(string? pipeline) => Stages.Where(s => s.Pipeline == (pipeline ?? Named[0].Key)).ToList();

    /// <summary>The name of the pipeline a stage belongs to.</summary>
    public string PipelineOf(string? stage) => Named.FirstOrDefault(p => p.Key == Find(stage)?.Pipeline)?.Name ?? "";

    public static SalesPipeline Default { get; } = new(
    [
        new("new", "新线索", StageOutcome.Open, [], [], []),
        new("contacted", "已联系", StageOutcome.Open, [StageCheck.FollowUpWithNextPlan], [], [StageAction.TaskFor("确认客户需求", 72)]),
        new("needs", "需求确认", StageOutcome.Open, [], [], [StageAction.TaskFor("准备方案与报价", 72)]),
        new("quoted", "已报价", StageOutcome.Open, [], [StageCheck.QuoteDetails], [StageAction.TaskFor("跟进报价反馈", 48)]),
        new("negotiation", "商务谈判", StageOutcome.Open, [], [], [StageAction.TaskFor("推进合同条款", 168)]),
        // Until contracts and receivables exist, winning tells finance (who will invoice) and the manager.
        new("won", "赢单", StageOutcome.Won, [], [StageCheck.InvoiceDetails, StageCheck.ContractAttachment], [StageAction.Notify(StageRole.Finance), StageAction.Notify(StageRole.Manager)]),
        new("lost", "输单", StageOutcome.Lost, [], [StageCheck.LostReason], []),
    ]);

    public Stage? Find(string? key) => Stages.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.Ordinal));

    /// <summary>The stage's name, or the key of a stage that is no longer in the pipeline (old history).</summary>
    public string NameOf(string? key) => Find(key)?.Name ?? key ?? "";

    /// <summary>Won or lost: the pursuit is over, so no next contact is owed.</summary>
    public bool IsClosed(string? key) => Find(key)?.Outcome is StageOutcome.Won or StageOutcome.Lost;

    public IReadOnlyList<string> KeysOf(StageOutcome outcome) => Stages.Where(s => s.Outcome == outcome).Select(s => s.Key).ToList();
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
        // A move to a lost stage is a way out from anywhere, not a pass through the rest. A move into another pipeline
        // enters it at its first stage and passes its open stages up to the target.
        var passed = end < 0 || stages[end].Outcome == StageOutcome.Lost ? []
            : start >= 0 && stages[start].Pipeline == stages[end].Pipeline
                ? end > start ? stages.Skip(start + 1).Take(end - start - 1) : []
                : stages.Take(end).Where(s => s.Pipeline == stages[end].Pipeline);
        passed = passed.Where(s => s.Outcome == StageOutcome.Open).ToList();
        var checks = (pipeline.Find(from)?.ToLeave ?? []).Concat(passed.SelectMany(s => s.ToLeave)).Concat(pipeline.Find(to)?.ToEnter ?? []).Distinct();
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
        StageCheck.QuoteDetails => "the quote: an amount above 0 and a valid-until date not in the past",
        StageCheck.ContractAttachment => "a contract attachment",
        _ => check.ToString(),
    };

    private static bool Met(StageCheck check, MoveFacts facts) => check switch
    {
        StageCheck.FollowUpWithNextPlan => facts.FollowUpsWithNextPlan > 0,
        StageCheck.LostReason => (facts.LostReason?.Trim().Length ?? 0) >= 2,
        StageCheck.InvoiceDetails => !string.IsNullOrWhiteSpace(facts.InvoiceTitle) && !string.IsNullOrWhiteSpace(facts.TaxNumber),
        StageCheck.QuoteDetails => facts.QuoteAmount > 0 && facts.QuoteValidUntil is { } until && (facts.Today is not { } today || until >= today),
        StageCheck.ContractAttachment => facts.ContractAttachments > 0,
        _ => false,
    };
}

/// <summary>What an admin may make of the pipeline (R5.1): checked before it is saved, so a move never meets a broken one.</summary>
public static partial class PipelineRules
{
    public const int MaxStages = 20;
    public const int MaxName = 30;
    public const int MaxKey = 30;
    public const int MaxActions = 5;
    public const int MaxTaskTitle = 100;
    public const int MaxDueHours = 24 * 365;

    [GeneratedRegex("^[a-z][a-z0-9-]*$")]
    private static partial Regex KeyPattern();

    public const int MaxPipelines = 10;
    public const int MaxStalledDays = 365;
    public const int MaxNewAssignmentDays = 90;

    /// <summary>Why the pipelines cannot be saved, by field (<c>stages[2].name</c>, <c>pipelines[1].key</c>), or empty.</summary>
    public static IReadOnlyDictionary<string, string> Problems(SalesPipeline pipeline)
    {
        var problems = new Dictionary<string, string>();
        // It arrives as JSON: a missing list or null entries are refused here rather than crashing below.
        if (pipeline.Stages is null || pipeline.Stages.Any(s => s is null || s.ToEnter is null || s.ToLeave is null || s.OnEnter is null || s.OnEnter.Any(a => a is null))
            || pipeline.Pipelines?.Any(p => p is null) == true)
        {
            problems["stages"] = "Send the stages as a list, each with its checks to enter and to leave and its actions (empty lists for none).";
            return problems;
        }
        if (pipeline.Workbench is { } periods)
        {
            if (periods.StalledDays is < 1 or > MaxStalledDays)
            {
                problems["workbench.stalledDays"] = $"Between 1 and {MaxStalledDays} days.";
            }
            if (periods.NewAssignmentDays is < 1 or > MaxNewAssignmentDays)
            {
                problems["workbench.newAssignmentDays"] = $"Between 1 and {MaxNewAssignmentDays} days.";
            }
        }
        var named = pipeline.Named;
        if (named.Count > MaxPipelines)
        {
            problems["pipelines"] = $"At most {MaxPipelines} pipelines.";
        }
        for (var p = 0; p < named.Count; p++)
        {
            var key = named[p].Key ?? "";
            if (key.Length > MaxKey || !KeyPattern().IsMatch(key))
            {
                problems[$"pipelines[{p}].key"] = $"A key is 1 to {MaxKey} lower-case letters, digits or '-', starting with a letter.";
            }
            else if (named.Take(p).Any(o => o.Key == key))
            {
                problems[$"pipelines[{p}].key"] = $"The pipeline key '{key}' is used twice.";
            }
            var name = named[p].Name?.Trim() ?? "";
            if (name.Length == 0 || name.Length > MaxName)
            {
                problems[$"pipelines[{p}].name"] = $"A pipeline needs a name of 1 to {MaxName} characters.";
            }
            else if (named.Take(p).Any(o => string.Equals(o.Name?.Trim(), name, StringComparison.OrdinalIgnoreCase)))
            {
                problems[$"pipelines[{p}].name"] = $"Two pipelines are called '{name}'.";
            }
        }
        // Each pipeline's stages together and in the pipelines' order, so "forward" means the same everywhere.
        var order = pipeline.Stages.Select(s => s.Pipeline).Where((k, i) => i == 0 || pipeline.Stages[i - 1].Pipeline != k).ToList();
        if (!order.SequenceEqual(named.Select(p => p.Key)))
        {
            problems["stages"] = "List each pipeline's stages together, pipeline after pipeline in the order of the pipelines; every pipeline needs stages.";
            return problems;
        }
        var stages = pipeline.Stages;
        if (stages.Count > 0 && (stages[0].Key != SalesPipeline.First || stages[0].Outcome != StageOutcome.Open))
        {
            problems["stages[0].key"] = $"The first stage must keep the key '{SalesPipeline.First}' and be open: every new customer starts there.";
        }
        foreach (var line in named)
        {
            var own = stages.Where(s => s.Pipeline == line.Key).ToList();
            var where = named.Count > 1 ? $"{line.Name?.Trim()}: " : "";
            if (own.Count < 3 || !own.Any(s => s.Outcome == StageOutcome.Won) || !own.Any(s => s.Outcome == StageOutcome.Lost) || own[0].Outcome != StageOutcome.Open)
            {
                problems[PipelineField(named, line)] = $"{where}A pipeline needs an open first stage, a won stage and a lost stage: a pursuit has to be able to start and to end.";
            }
            if (own.Count > MaxStages)
            {
                problems[PipelineField(named, line)] = $"{where}At most {MaxStages} stages per pipeline.";
            }
            var firstClosed = own.FindIndex(s => s.Outcome != StageOutcome.Open);
            if (firstClosed >= 0 && own.Skip(firstClosed).Any(s => s.Outcome == StageOutcome.Open))
            {
                problems[PipelineField(named, line)] = $"{where}Open stages come first, won and lost stages last: a forward move must never pass through an ending.";
            }
        }
        for (var i = 0; i < stages.Count; i++)
        {
            var s = stages[i];
            if (string.IsNullOrWhiteSpace(s.Key) || s.Key.Length > MaxKey || !KeyPattern().IsMatch(s.Key))
            {
                problems[$"stages[{i}].key"] = $"A key is 1 to {MaxKey} lower-case letters, digits or '-', starting with a letter.";
            }
            else if (stages.Take(i).Any(o => o.Key == s.Key))
            {
                problems[$"stages[{i}].key"] = $"The key '{s.Key}' is used twice.";
            }
            var name = s.Name?.Trim() ?? "";
            if (name.Length == 0 || name.Length > MaxName)
            {
                problems[$"stages[{i}].name"] = $"A stage needs a name of 1 to {MaxName} characters.";
            }
            else if (stages.Take(i).Any(o => o.Pipeline == s.Pipeline && string.Equals(o.Name?.Trim(), name, StringComparison.OrdinalIgnoreCase)))
            {
                problems[$"stages[{i}].name"] = $"Two stages are called '{name}'; reps could not tell them apart.";
            }
            if (!Enum.IsDefined(s.Outcome) || s.ToEnter.Concat(s.ToLeave).Any(c => !Enum.IsDefined(c)))
            {
                problems[$"stages[{i}]"] = "Unknown outcome or check.";
                continue;
            }
            if (s.ToLeave.Any(c => c != StageCheck.FollowUpWithNextPlan))
            {
                problems[$"stages[{i}].toLeave"] = "To leave a stage only a follow-up record can be asked for; forms (quote, invoice, contract, lost reason) are asked on entering the next stage, where the move supplies them.";
            }
            if (s.Outcome != StageOutcome.Open && s.ToLeave.Count > 0)
            {
                problems[$"stages[{i}].toLeave"] = "A won or lost stage ends the pursuit; give it checks to enter, not to leave.";
            }
            if (s.ToEnter.Contains(StageCheck.LostReason) != (s.Outcome == StageOutcome.Lost))
            {
                problems[$"stages[{i}].toEnter"] = "A lost stage, and only a lost stage, asks why the customer was lost (to enter).";
            }
            if (s.ToEnter.Count != s.ToEnter.Distinct().Count() || s.ToLeave.Count != s.ToLeave.Distinct().Count())
            {
                problems[$"stages[{i}].toEnter"] = "A check is listed twice.";
            }
            if (i == 0 && s.ToEnter.Count > 0)
            {
                problems[$"stages[{i}].toEnter"] = "Nothing enters the first stage by a move that could supply it: new customers start there. Use checks to leave instead.";
            }
            if (s.OnEnter.Count > MaxActions)
            {
                problems[$"stages[{i}].onEnter"] = $"At most {MaxActions} actions per stage.";
            }
            for (var a = 0; a < s.OnEnter.Count; a++)
            {
                if (ActionProblem(s.OnEnter[a], s) is { } problem)
                {
                    problems[$"stages[{i}].onEnter[{a}]"] = problem;
                }
            }
        }
        return problems;
    }

    private static string PipelineField(IReadOnlyList<PipelineName> named, PipelineName line) =>
        named.Count > 1 ? $"pipelines[{named.ToList().IndexOf(line)}]" : "stages";

    /// <summary>
    /// The stages of <paramref name="before"/> that must hold no customers for <paramref name="after"/> to be saved: those
    /// it removes (their customers would be stranded) and those whose outcome it changes (theirs would be won or lost without the checks).
    /// </summary>
    public static IReadOnlyList<string> MustBeEmpty(SalesPipeline before, SalesPipeline after) =>
        before.Stages.Where(s => after.Find(s.Key)?.Outcome != s.Outcome).Select(s => s.Key).ToList();

    /// <summary>Names and task titles trimmed, so what is saved is what the board shows.</summary>
    public static SalesPipeline Tidy(SalesPipeline pipeline) => new(pipeline.Stages.Select(s => s with
    {
        Name = s.Name.Trim(),
        OnEnter = s.OnEnter.Select(a => a.Kind == StageActionKind.Task ? a with { Title = a.Title?.Trim() } : a with { Title = null, DueInHours = 0 }).ToList(),
    }).ToList(), pipeline.Named.Select(p => p with { Name = p.Name.Trim() }).ToList(), pipeline.Workbench);

    private static string? ActionProblem(StageAction action, Stage stage)
    {
        if (!Enum.IsDefined(action.Kind) || !Enum.IsDefined(action.For))
        {
            return "Unknown action or role.";
        }
        if (action.Kind == StageActionKind.Notify)
        {
            return null;
        }
        if (action.For is not (StageRole.Owner or StageRole.Manager))
        {
            return "A task is for the owner or the owner's manager: a task needs one person to do it.";
        }
        if (stage.Outcome != StageOutcome.Open)
        {
            return "A won or lost customer needs no more pursuit tasks; notify a role instead.";
        }
        var title = action.Title?.Trim() ?? "";
        if (title.Length == 0 || title.Length > MaxTaskTitle)
        {
            return $"A task needs a title of 1 to {MaxTaskTitle} characters.";
        }
        return action.DueInHours is < 1 or > MaxDueHours ? $"A task is due 1 to {MaxDueHours} hours after entering the stage." : null;
    }
}
