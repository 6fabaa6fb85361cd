using Tideflow.Domain.Pipeline;

namespace Tideflow.Domain.Tests.Pipeline;

public class PipelineRulesTests
{
    private static readonly SalesPipeline Default = SalesPipeline.Default;

    private static SalesPipeline With(Func<List<Stage>, List<Stage>> change) => new(change([.. Default.Stages]));

    private static Stage Open(string key, string name, params StageAction[] actions) => new(key, name, StageOutcome.Open, [], [], actions);

    [Fact]
    public void An_admin_may_rename_insert_and_reorder_open_stages_and_the_moves_follow()
    {
        var pipeline = With(s =>
        {
            s[3] = s[3] with { Name = "方案报价" };
            s.Insert(3, Open("trial", "试用中", StageAction.TaskFor("跟进试用反馈", 48), StageAction.Notify(StageRole.Manager)));
            return s;
        });
        Assert.Empty(PipelineRules.Problems(pipeline));
        Assert.Equal("方案报价", pipeline.NameOf("quoted"));
        Assert.Empty(StageRules.Missing(pipeline, "needs", "trial", new MoveFacts(0, null, null, null)));
        // Old history may name a stage that is gone: it reads as its key rather than failing.
        Assert.Equal("demo", pipeline.NameOf("demo"));
    }

    [Fact]
    public void The_first_stage_keeps_its_key_and_a_pipeline_can_always_end()
    {
        Assert.Contains("stages[0].key", PipelineRules.Problems(With(s => { s[0] = s[0] with { Key = "inbox" }; return s; })).Keys);
        Assert.Contains("stages[0].key", PipelineRules.Problems(With(s => { s[0] = s[0] with { Outcome = StageOutcome.Won }; return s; })).Keys);
        Assert.Equal("A pipeline needs a won stage and a lost stage: a pursuit has to be able to end.",
            PipelineRules.Problems(With(s => s.Where(x => x.Outcome != StageOutcome.Won).ToList()))["stages"]);
        Assert.Equal("Open stages come first, won and lost stages last: a forward move must never pass through an ending.",
            PipelineRules.Problems(With(s => { s.Add(Open("after", "售后")); return s; }))["stages"]);
    }

    [Fact]
    public void Keys_and_names_must_be_well_formed_and_distinct()
    {
        var problems = PipelineRules.Problems(With(s =>
        {
            s[1] = s[1] with { Key = "Contacted!" };
            s[2] = s[2] with { Name = " 已联系 " };
            s[3] = s[3] with { Key = "needs" };
            s[4] = s[4] with { Name = "" };
            return s;
        }));
        Assert.Equal("A key is 1 to 30 lower-case letters, digits or '-', starting with a letter.", problems["stages[1].key"]);
        Assert.Equal("Two stages are called '已联系'; reps could not tell them apart.", problems["stages[2].name"]);
        Assert.Equal("The key 'needs' is used twice.", problems["stages[3].key"]);
        Assert.Equal("A stage needs a name of 1 to 30 characters.", problems["stages[4].name"]);
    }

    [Fact]
    public void Checks_must_fit_the_stage_they_are_on()
    {
        var problems = PipelineRules.Problems(With(s =>
        {
            s[0] = s[0] with { ToEnter = [StageCheck.QuoteDetails] };
            s[2] = s[2] with { ToEnter = [StageCheck.LostReason] };
            s[3] = s[3] with { ToLeave = [StageCheck.FollowUpWithNextPlan, StageCheck.FollowUpWithNextPlan] };
            s[5] = s[5] with { ToLeave = [StageCheck.InvoiceDetails] };
            s[6] = s[6] with { ToEnter = [] };
            return s;
        }));
        Assert.StartsWith("Nothing enters the first stage", problems["stages[0].toEnter"]);
        Assert.Equal("A lost stage, and only a lost stage, asks why the customer was lost (to enter).", problems["stages[2].toEnter"]);
        Assert.Equal("A check is listed twice.", problems["stages[3].toEnter"]);
        Assert.Equal("A won or lost stage ends the pursuit; give it checks to enter, not to leave.", problems["stages[5].toLeave"]);
        Assert.Equal("A lost stage, and only a lost stage, asks why the customer was lost (to enter).", problems["stages[6].toEnter"]);
    }

    [Fact]
    public void Actions_are_tasks_for_one_person_on_open_stages_or_notifications_to_a_role()
    {
        var problems = PipelineRules.Problems(With(s =>
        {
            s[1] = s[1] with { OnEnter = [StageAction.TaskFor("", 24)] };
            s[2] = s[2] with { OnEnter = [StageAction.TaskFor("准备方案", 0)] };
            s[3] = s[3] with { OnEnter = [StageAction.TaskFor("开票", 24, StageRole.Finance)] };
            s[5] = s[5] with { OnEnter = [StageAction.TaskFor("回访", 24)] };
            s[6] = s[6] with { OnEnter = [.. Enumerable.Repeat(StageAction.Notify(StageRole.Admin), 6)] };
            return s;
        }));
        Assert.Equal("A task needs a title of 1 to 100 characters.", problems["stages[1].onEnter[0]"]);
        Assert.Equal("A task is due 1 to 8760 hours after entering the stage.", problems["stages[2].onEnter[0]"]);
        Assert.Equal("A task is for the owner or the owner's manager: a task needs one person to do it.", problems["stages[3].onEnter[0]"]);
        Assert.Equal("A won or lost customer needs no more pursuit tasks; notify a role instead.", problems["stages[5].onEnter[0]"]);
        Assert.Equal("At most 5 actions per stage.", problems["stages[6].onEnter"]);
    }

    [Fact]
    public void A_pipeline_sent_with_missing_lists_is_refused_not_crashed_on()
    {
        Assert.Equal("stages", Assert.Single(PipelineRules.Problems(new SalesPipeline(null!)).Keys));
        Assert.Equal("stages", Assert.Single(PipelineRules.Problems(With(s => { s[2] = s[2] with { OnEnter = null! }; return s; })).Keys));
        Assert.Equal("stages", Assert.Single(PipelineRules.Problems(With(s => { s[2] = null!; return s; })).Keys));
    }

    [Fact]
    public void Stages_removed_or_changing_outcome_must_be_empty_and_tidy_trims_what_the_board_shows()
    {
        var after = With(s =>
        {
            s[3] = s[3] with { Name = "报价" };
            s[4] = s[4] with { Outcome = StageOutcome.Won };
            return s.Where(x => x.Key != "needs").ToList();
        });
        Assert.Equal(["needs", "negotiation"], PipelineRules.MustBeEmpty(Default, after));
        var tidy = PipelineRules.Tidy(With(s =>
        {
            s[1] = s[1] with { Name = " 已联系 ", OnEnter = [StageAction.TaskFor(" 确认需求 ", 24), new StageAction(StageActionKind.Notify, StageRole.Admin, "ignored", 5)] };
            return s;
        }));
        Assert.Equal("已联系", tidy.Stages[1].Name);
        Assert.Equal([StageAction.TaskFor("确认需求", 24), StageAction.Notify(StageRole.Admin)], tidy.Stages[1].OnEnter);
    }
}
