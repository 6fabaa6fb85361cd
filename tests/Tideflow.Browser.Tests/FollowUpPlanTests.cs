using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class FollowUpPlanTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public Task A_save_over_plans_another_admin_saved_since_the_page_opened_is_refused_until_reloaded() =>
        AssertStaleSaveRefusedAsync("/admin/plans", "save-plans", "plan", "其他人已保存了跟进计划");

    [Fact]
    public async Task An_admin_edits_a_grades_plan_is_refused_a_step_without_a_title_and_the_change_is_kept()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/plans");
        var plans = admin.Locator("[data-testid=plan]");
        await Expect(plans).ToHaveCountAsync(3);
        var a = plans.First;
        await Expect(a.Locator("[data-testid=plan-step]")).ToHaveCountAsync(3);

        // A step without a title cannot work: refused, naming the plan and the step.
        await a.Locator("[data-testid=add-plan-step]").ClickAsync();
        var added = a.Locator("[data-testid=plan-step]").Nth(3);
        await added.Locator(Ui.Field("plan-step-hours")).FillAsync("2160");
        await admin.ClickAsync("[data-testid=save-plans]");
        await Expect(admin.Locator("[data-testid=form-error]")).ToContainTextAsync("plan A, step 4: a title");

        await added.Locator(Ui.Field("plan-step-title")).FillAsync("季度回顾");
        await admin.ClickAsync("[data-testid=save-plans]");
        await Expect(admin.Locator("[data-testid=form-error]")).ToHaveCountAsync(0);
        await Ui.OpenAsync(admin, "/admin/plans");
        await Expect(plans.First.Locator("[data-testid=plan-step]")).ToHaveCountAsync(4);
        await Expect(plans.First.Locator(Ui.Field("plan-step-title")).Nth(3)).ToHaveValueAsync("季度回顾");

        // Put the demo's plan back for the tests after this one.
        await plans.First.Locator("[data-testid=plan-step]").Nth(3).Locator("[data-testid=remove-plan-step]").ClickAsync();
        await admin.ClickAsync("[data-testid=save-plans]");
        // Saved before leaving the page: a reload while the save is on its way would find the old plan.
        await Expect(admin.Locator(".mud-snackbar", new() { HasTextString = "已保存" })).ToHaveCountAsync(1);
        await Ui.OpenAsync(admin, "/admin/plans");
        await Expect(plans.First.Locator("[data-testid=plan-step]")).ToHaveCountAsync(3);
        AssertNoErrors();
    }
}
