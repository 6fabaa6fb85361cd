using Tideflow.Domain.Pipeline;

namespace Tideflow.Domain.Tests.Pipeline;

public class PipelineRulesTests
{
    private static readonly SalesPipeline Default = SalesPipeline.Default;

    private static SalesPipeline With(Func<List<Stage>, List<Stage>> change) => new(change([.. Default.Stages]));

    private static Stage Open(string key, string name, params StageAction[] actions) => new(key, name, StageOutcome.Open, [], [], actions);

    [Theory]
    [InlineData(0, 3, "workbench.stalledDays")]
    [InlineData(366, 3, "workbench.stalledDays")]
    [InlineData(7, 0, "workbench.newAssignmentDays")]
    [InlineData(7, 91, "workbench.newAssignmentDays")]
    public void The_workbench_periods_are_refused_outside_their_range_by_field(int stalled, int fresh, string field)
    {
        var pipeline = SalesPipeline.Default with { Workbench = new Tideflow.Domain.Workbench.WorkbenchSettings(stalled, fresh) };
        Assert.Equal([field], PipelineRules.Problems(pipeline).Keys);
    }

    [Fact]
    public void Workbench_periods_are_kept_by_tidying_and_the_defaults_apply_without_them()
    {
        var periods = new Tideflow.Domain.Workbench.WorkbenchSettings(1, 90);
        Assert.Empty(PipelineRules.Problems(SalesPipeline.Default with { Workbench = periods }));
        Assert.Equal(periods, PipelineRules.Tidy(SalesPipeline.Default with { Workbench = periods }).Periods);
        Assert.Equal(Tideflow.Domain.Workbench.WorkbenchSettings.Default, SalesPipeline.Default.Periods);
    }

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
        Assert.Equal("A pipeline needs an open first stage, a won stage and a lost stage: a pursuit has to be able to start and to end.",
            PipelineRules.Problems(With(s => s.Where(x => x.Outcome != StageOutcome.Won).ToList()))["stages"]);
        Assert.Equal("Open stages come first, won and lost stages last: a forward move must never pass through an ending.",
            PipelineRules.Problems(With(s => { s.Add(Open("after", "售后")); return s; }))["stages"]);
    }

    private static readonly PipelineName Renewal = new("renewal", "续约");

    private static List<Stage> RenewalStages() =>
    [
        new("renewal-due", "待续约", StageOutcome.Open, [StageCheck.FollowUpWithNextPlan], [], [StageAction.TaskFor("确认续约意向", 72)], "renewal"),
        new("renewal-quoted", "续约报价", StageOutcome.Open, [], [StageCheck.QuoteDetails], [], "renewal"),
        new("renewed", "已续约", StageOutcome.Won, [], [StageCheck.InvoiceDetails], [StageAction.Notify(StageRole.Finance)], "renewal"),
        new("churned", "流失", StageOutcome.Lost, [], [StageCheck.LostReason], [], "renewal"),
    ];

    [Fact]
    public void A_second_pipeline_has_its_own_stages_and_a_move_into_it_passes_nothing_of_the_first()
    {
        var both = new SalesPipeline([.. Default.Stages, .. RenewalStages()], [new PipelineName(SalesPipeline.MainKey, "新客户"), Renewal]);
        Assert.Empty(PipelineRules.Problems(both));
        Assert.Equal(["renewal-due", "renewal-quoted", "renewed", "churned"], both.StagesOf("renewal").Select(s => s.Key));
        Assert.Equal("续约", both.PipelineOf("renewed"));
        Assert.Equal("新客户", both.PipelineOf("quoted"));
        Assert.Equal(["won", "renewed"], both.KeysOf(StageOutcome.Won));

        var none = new MoveFacts(0, null, null, null);
        // From 赢单 into renewal: only what entering asks (nothing); the stages between in the list are another pipeline's.
        Assert.Empty(StageRules.Missing(both, "won", "renewal-due", none));
        // Within the renewal pipeline, skipping a stage still asks what leaving it needs.
        Assert.Equal([StageCheck.FollowUpWithNextPlan, StageCheck.InvoiceDetails], StageRules.Missing(both, "renewal-due", "renewed", none));
        // Straight into the renewal pipeline's won stage: it is entered at its first stage, so what leaving 待续约 needs counts.
        Assert.Equal([StageCheck.FollowUpWithNextPlan, StageCheck.InvoiceDetails], StageRules.Missing(both, "won", "renewed", none));
        // From 已联系 straight into another pipeline: leaving 已联系 still needs its follow-up.
        Assert.Equal([StageCheck.FollowUpWithNextPlan], StageRules.Missing(both, "contacted", "renewal-due", none));
        // A pool rule's "reached 已报价" means in the pipeline of 已报价: 已续约 comes later in the list but is not beyond it,
        // and a customer in the renewal pipeline is not measured by the rule at all (not reclaimed for "not quoted").
        Assert.Equal(["quoted", "negotiation", "won"], Tideflow.Domain.Pool.PoolRules.StagesReached(both, "quoted"));
        var notQuoted = new Tideflow.Domain.Pool.ReclaimRule(Tideflow.Domain.Pool.ReclaimWhen.NotReachedStage, 30, Stage: "quoted");
        var assigned = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Tideflow.Domain.Pool.CustomerFacts Facts(string stage) => new("B", stage, assigned, null, null, null, null);
        Assert.Null(Tideflow.Domain.Pool.PoolRules.DueAt(notQuoted, Facts("renewal-due"), both));
        Assert.Equal(assigned.AddDays(30), Tideflow.Domain.Pool.PoolRules.DueAt(notQuoted, Facts("needs"), both));
    }

    [Fact]
    public void Pipelines_need_their_stages_together_in_order_and_keys_unique_across_all()
    {
        var named = new List<PipelineName> { new(SalesPipeline.MainKey, "新客户"), Renewal };
        var interleaved = new SalesPipeline([Default.Stages[0], .. RenewalStages(), .. Default.Stages.Skip(1)], named);
        Assert.StartsWith("List each pipeline's stages together", PipelineRules.Problems(interleaved)["stages"]);
        var empty = new SalesPipeline(Default.Stages, named);
        Assert.StartsWith("List each pipeline's stages together", PipelineRules.Problems(empty)["stages"]);

        var renewal = RenewalStages();
        renewal[0] = renewal[0] with { Key = "contacted" };
        renewal[2] = renewal[2] with { Outcome = StageOutcome.Open, ToEnter = [] , OnEnter = [] };
        var problems = PipelineRules.Problems(new SalesPipeline([.. Default.Stages, .. renewal], [named[0], Renewal with { Name = " 新客户 " }]));
        Assert.Equal("The key 'contacted' is used twice.", problems["stages[7].key"]);
        Assert.Equal("Two pipelines are called '新客户'.", problems["pipelines[1].name"]);
        Assert.StartsWith("新客户: A pipeline needs an open first stage, a won stage", problems["pipelines[1]"]);
        Assert.Equal("The pipeline key 'sales' is used twice.",
            PipelineRules.Problems(new SalesPipeline([.. Default.Stages, .. Default.Stages.Select(s => s with { Key = s.Key + "-2" })], [named[0], named[0] with { Name = "二" }]))["pipelines[1].key"]);
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
            s[4] = s[4] with { ToLeave = [StageCheck.QuoteDetails] };
            s[5] = s[5] with { ToLeave = [StageCheck.InvoiceDetails] };
            s[6] = s[6] with { ToEnter = [] };
            return s;
        }));
        Assert.StartsWith("Nothing enters the first stage", problems["stages[0].toEnter"]);
        Assert.Equal("A lost stage, and only a lost stage, asks why the customer was lost (to enter).", problems["stages[2].toEnter"]);
        Assert.Equal("A check is listed twice.", problems["stages[3].toEnter"]);
        Assert.StartsWith("To leave a stage only a follow-up record can be asked for", problems["stages[4].toLeave"]);
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
