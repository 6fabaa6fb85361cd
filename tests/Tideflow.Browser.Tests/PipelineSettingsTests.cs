using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class PipelineSettingsTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public Task A_save_over_a_pipeline_another_admin_saved_since_the_page_opened_is_refused_until_reloaded() =>
        AssertStaleSaveRefusedAsync("/admin/pipeline", "save-pipeline", "pipeline-stage", "其他人已保存了销售流程");

    [Fact]
    public Task A_save_over_feedback_rules_another_admin_saved_since_the_page_opened_is_refused_until_reloaded() =>
        AssertStaleSaveRefusedAsync("/admin/feedback", "save-feedback-rules", "feedback-rule", "其他人已保存了反馈标签规则");

    [Fact]
    public async Task An_admin_adds_a_stage_and_a_pipeline_that_the_board_shows_at_once_and_entering_quoted_asks_for_the_quote()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/pipeline");
        var stages = admin.Locator("[data-testid=pipeline-stage]");
        await Expect(stages).ToHaveCountAsync(7);

        // A new stage goes before 赢单; without a name it is refused, naming which stage.
        await admin.ClickAsync("[data-testid=add-stage]");
        await Expect(stages).ToHaveCountAsync(8);
        await admin.ClickAsync("[data-testid=save-pipeline]");
        await Expect(admin.Locator("[data-testid=form-error]")).ToContainTextAsync("6.");
        await Expect(admin.Locator("[data-testid=form-error]")).ToContainTextAsync("A stage needs a name");

        await stages.Nth(5).Locator(Ui.Field("stage-name")).FillAsync("试用中");
        await stages.Nth(5).Locator("[data-testid=stage-add-action]").ClickAsync();
        await stages.Nth(5).Locator(Ui.Field("stage-action-title")).FillAsync("跟进试用反馈");
        // A second pipeline comes with won and lost; its first stage needs a name.
        await admin.ClickAsync("[data-testid=add-pipeline]");
        var renewal = admin.Locator("[data-testid=pipeline]").Nth(1);
        await renewal.Locator(Ui.Field("pipeline-name")).FillAsync("续约");
        await renewal.Locator("[data-testid=pipeline-stage]").First.Locator(Ui.Field("stage-name")).FillAsync("待续约");
        await admin.ClickAsync("[data-testid=save-pipeline]");
        await Expect(admin.Locator(".mud-snackbar", new() { HasTextString = "已保存" })).ToHaveCountAsync(1);
        await Expect(admin.Locator("[data-testid=form-error]")).ToHaveCountAsync(0);

        await Ui.OpenAsync(admin, "/pipeline");
        ILocator Column(string name) => admin.Locator("[data-testid^=column-]", new() { HasTextString = name });
        await Expect(Column("试用中")).ToHaveCountAsync(1);
        await admin.Locator("[data-testid^=board-pipeline-]", new() { HasTextString = "续约" }).ClickAsync();
        await Expect(Column("待续约")).ToHaveCountAsync(1);
        await Expect(Column("试用中")).ToHaveCountAsync(0);

        // The quote form: choosing 已报价 on a customer shows its fields, and a move without them names the quote as missing.
        await Ui.OpenAsync(admin, "/customers");
        await admin.Locator("[data-testid=customer-row-name]").First.ClickAsync();
        await admin.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/customers/", StringComparison.Ordinal));
        await Ui.WaitForInteractiveAsync(admin);
        await Ui.SelectAsync(admin.Locator("[data-testid=stage-target]"), "已报价");
        await Expect(admin.Locator(Ui.Field("stage-quote-amount"))).ToBeVisibleAsync();
        await Expect(admin.Locator(Ui.Field("stage-quote-valid-until"))).ToBeVisibleAsync();
        await admin.ClickAsync("[data-testid=stage-move]");
        await Expect(admin.Locator("[data-testid=stage-missing-item]", new() { HasTextString = "报价单：报价金额与有效期" })).ToHaveCountAsync(1);

        // Put the demo's pipeline back for the tests after this one.
        await Ui.OpenAsync(admin, "/admin/pipeline");
        await Expect(stages).ToHaveCountAsync(11);
        await admin.Locator("[data-testid=pipeline-remove]").ClickAsync();
        await stages.Nth(5).Locator("[data-testid=stage-remove]").ClickAsync();
        await admin.ClickAsync("[data-testid=save-pipeline]");
        await Expect(admin.Locator(".mud-snackbar", new() { HasTextString = "已保存" })).ToHaveCountAsync(1);
        await Expect(admin.Locator("[data-testid=form-error]")).ToHaveCountAsync(0);
        await Ui.OpenAsync(admin, "/admin/pipeline");
        await Expect(stages).ToHaveCountAsync(7);
        AssertNoErrors();
    }

    [Fact]
    public async Task An_admin_sets_the_days_after_which_the_workbench_calls_a_high_intent_customer_stalled()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/pipeline");
        await Expect(admin.Locator(Ui.Field("workbench-stalled-days"))).ToHaveValueAsync("7");
        await admin.FillAsync(Ui.Field("workbench-stalled-days"), "10");
        await admin.ClickAsync("[data-testid=save-pipeline]");
        await Expect(admin.Locator(".mud-snackbar", new() { HasTextString = "已保存" })).ToHaveCountAsync(1);

        await Ui.OpenAsync(admin, "/");
        await Expect(admin.Locator("[data-testid=list-stalled]")).ToContainTextAsync("10 天未推进阶段");

        // Back to the default for the tests after this one; the page shows what was saved.
        await Ui.OpenAsync(admin, "/admin/pipeline");
        await Expect(admin.Locator(Ui.Field("workbench-stalled-days"))).ToHaveValueAsync("10");
        await admin.FillAsync(Ui.Field("workbench-stalled-days"), "7");
        await admin.ClickAsync("[data-testid=save-pipeline]");
        await Expect(admin.Locator(".mud-snackbar", new() { HasTextString = "已保存" })).ToHaveCountAsync(1);
        AssertNoErrors();
    }
}
