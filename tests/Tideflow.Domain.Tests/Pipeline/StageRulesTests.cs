using Tideflow.Domain.Pipeline;

namespace Tideflow.Domain.Tests.Pipeline;

public class StageRulesTests
{
    private static readonly SalesPipeline Pipeline = SalesPipeline.Default;
    private static readonly MoveFacts Nothing = new(0, null, null, null);

    [Fact]
    public void The_default_pipeline_runs_from_new_lead_to_won_or_lost()
    {
        Assert.Equal(["新线索", "已联系", "需求确认", "已报价", "商务谈判", "赢单", "输单"], Pipeline.Stages.Select(s => s.Name));
        Assert.Equal(SalesPipeline.First, Pipeline.Stages[0].Key);
        Assert.Equal([StageOutcome.Won, StageOutcome.Lost], Pipeline.Stages.Where(s => s.Outcome != StageOutcome.Open).Select(s => s.Outcome));
        Assert.Equal(["won", "lost"], Pipeline.Stages.Where(s => Pipeline.IsClosed(s.Key)).Select(s => s.Key));
    }

    [Fact]
    public void Leaving_contacted_needs_a_follow_up_with_a_next_plan_whichever_way_the_move_goes()
    {
        Assert.Equal([StageCheck.FollowUpWithNextPlan], StageRules.Missing(Pipeline, "contacted", "needs", Nothing));
        Assert.Equal([StageCheck.FollowUpWithNextPlan], StageRules.Missing(Pipeline, "contacted", "new", Nothing));
        Assert.Empty(StageRules.Missing(Pipeline, "contacted", "needs", Nothing with { FollowUpsWithNextPlan = 1 }));
        // Entering contacted needs nothing: the requirement is met before leaving it.
        Assert.Empty(StageRules.Missing(Pipeline, "new", "contacted", Nothing));
    }

    [Fact]
    public void Skipping_a_stage_does_not_skip_what_leaving_it_needs_but_losing_is_possible_from_anywhere()
    {
        Assert.Equal([StageCheck.FollowUpWithNextPlan], StageRules.Missing(Pipeline, "new", "needs", Nothing));
        Assert.Equal([StageCheck.FollowUpWithNextPlan, StageCheck.InvoiceDetails, StageCheck.ContractAttachment], StageRules.Missing(Pipeline, "new", "won", Nothing));
        Assert.Equal([StageCheck.QuoteDetails], StageRules.Missing(Pipeline, "new", "quoted", Nothing with { FollowUpsWithNextPlan = 2 }));
        // Passing 已报价 on the way to 商务谈判 does not ask for the quote: entering asks, passing only asks what leaving needs.
        Assert.Empty(StageRules.Missing(Pipeline, "new", "negotiation", Nothing with { FollowUpsWithNextPlan = 2 }));
        Assert.Equal([StageCheck.LostReason], StageRules.Missing(Pipeline, "new", "lost", Nothing));
        // Backwards passes nothing: only the stage left is checked.
        Assert.Empty(StageRules.Missing(Pipeline, "negotiation", "needs", Nothing));
    }

    [Fact]
    public void Both_the_leaving_and_the_entering_stage_are_checked_and_every_missing_item_is_listed()
    {
        Assert.Equal([StageCheck.FollowUpWithNextPlan, StageCheck.LostReason], StageRules.Missing(Pipeline, "contacted", "lost", Nothing));
        Assert.Equal([StageCheck.InvoiceDetails], StageRules.Missing(Pipeline, "negotiation", "won", Nothing with { InvoiceTitle = "杭州博远软件有限公司", ContractAttachments = 1 }));
        Assert.Equal([StageCheck.ContractAttachment], StageRules.Missing(Pipeline, "negotiation", "won", Nothing with { InvoiceTitle = "杭州博远软件有限公司", TaxNumber = "91330100MA2XXXXX0X" }));
        Assert.Empty(StageRules.Missing(Pipeline, "negotiation", "won", Nothing with { InvoiceTitle = "杭州博远软件有限公司", TaxNumber = "91330100MA2XXXXX0X", ContractAttachments = 1 }));
        Assert.Equal([StageCheck.LostReason], StageRules.Missing(Pipeline, "quoted", "lost", Nothing with { LostReason = " 贵" }));
        Assert.Empty(StageRules.Missing(Pipeline, "quoted", "lost", Nothing with { LostReason = "价格太高" }));
    }

    [Fact]
    public void Entering_quoted_needs_the_quote_form_an_amount_and_a_validity_that_has_not_passed()
    {
        var today = new DateOnly(2026, 11, 23);
        var quote = Nothing with { Today = today };
        Assert.Equal([StageCheck.QuoteDetails], StageRules.Missing(Pipeline, "needs", "quoted", quote));
        Assert.Equal([StageCheck.QuoteDetails], StageRules.Missing(Pipeline, "needs", "quoted", quote with { QuoteAmount = 128_000m }));
        Assert.Equal([StageCheck.QuoteDetails], StageRules.Missing(Pipeline, "needs", "quoted", quote with { QuoteAmount = 0m, QuoteValidUntil = today }));
        Assert.Equal([StageCheck.QuoteDetails], StageRules.Missing(Pipeline, "needs", "quoted", quote with { QuoteAmount = 128_000m, QuoteValidUntil = today.AddDays(-1) }));
        Assert.Empty(StageRules.Missing(Pipeline, "needs", "quoted", quote with { QuoteAmount = 128_000m, QuoteValidUntil = today }));
    }

    [Fact]
    public void The_default_pipeline_tells_finance_and_the_manager_of_a_win_and_gives_open_stages_a_task()
    {
        var won = Pipeline.Find("won")!;
        Assert.Equal([StageAction.Notify(StageRole.Finance), StageAction.Notify(StageRole.Manager)], won.OnEnter);
        Assert.All(Pipeline.Stages.Skip(1).Where(s => s.Outcome == StageOutcome.Open), s => Assert.Equal(StageActionKind.Task, Assert.Single(s.OnEnter).Kind));
        Assert.Empty(PipelineRules.Problems(Pipeline));
    }

    [Fact]
    public void An_unknown_stage_or_a_move_to_the_same_stage_is_refused_before_any_check()
    {
        Assert.Equal("'closing' is not a stage; stages are new, contacted, needs, quoted, negotiation, won, lost.", StageRules.Problem(Pipeline, "new", "closing"));
        Assert.Equal("The customer is already in 'quoted'.", StageRules.Problem(Pipeline, "quoted", "quoted"));
        Assert.Null(StageRules.Problem(Pipeline, "quoted", "negotiation"));
    }
}
