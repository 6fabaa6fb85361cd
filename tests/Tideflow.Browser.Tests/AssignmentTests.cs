using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class AssignmentTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public Task A_save_over_routing_rules_another_admin_saved_since_the_page_opened_is_refused_until_reloaded() =>
        AssertStaleSaveRefusedAsync("/assignment", "save-rules", "routing-rule", "其他人已保存了分配规则");

    [Fact]
    public async Task A_manager_assigns_a_lead_from_the_pool_to_a_rep_with_a_reason_and_the_history_records_it()
    {
        // A lead from a province no demo routing rule covers waits in the lead pool.
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        var action = await Ui.CaptureUrlAsync(admin, "官网咨询表单");
        await Ui.SubmitCaptureAsync(admin, action, ("name", "线索池测试 马骏"), ("mobile", "13900006161"), ("地区", "四川 成都"));

        var manager = await NewPageAsync();
        await Ui.LoginAsync(manager, "manager.east");
        await Ui.OpenAsync(manager, "/leads");
        await manager.FillAsync(Ui.Field("lead-search"), "线索池测试");
        await manager.Keyboard.PressAsync("Enter");
        var row = manager.Locator("tr", new() { Has = manager.Locator("[data-testid=lead-row-name]", new() { HasTextString = "线索池测试 马骏" }) });
        await Expect(row.Locator("[data-testid=lead-row-owner]")).ToHaveTextAsync("线索池");
        await row.Locator("[data-testid=lead-row-name]").ClickAsync();
        await Expect(manager.Locator("[data-testid=lead-owner]")).ToHaveTextAsync("负责人: 线索池");

        var panel = manager.Locator("[data-testid=assign-panel]");
        await Ui.SelectAsync(panel.Locator("[data-testid=assign-owner]"), "王芳");
        await panel.Locator(Ui.Field("assign-reason")).FillAsync("客户在成都的工厂归华东管");
        await panel.Locator("[data-testid=assign]").ClickAsync();

        await Expect(manager.Locator("[data-testid=lead-owner]")).ToHaveTextAsync("负责人: 王芳");
        var change = manager.Locator("[data-testid=ownership-row]").First;
        await Expect(change).ToContainTextAsync("客户在成都的工厂归华东管");
        await Expect(change).ToContainTextAsync("张伟 (华东经理)");
        await Expect(change.Locator("td").Nth(1)).ToHaveTextAsync("线索池");
        await Expect(change.Locator("td").Nth(2)).ToHaveTextAsync("王芳");
        AssertNoErrors();
    }

    [Fact]
    public async Task An_admin_simulates_a_catch_all_rule_to_the_pool_and_is_warned_without_anything_being_saved()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/assignment");
        var rules = admin.Locator("[data-testid=routing-rule]");
        await Expect(rules.First).ToBeVisibleAsync();
        var saved = await rules.CountAsync();
        Assert.True(saved > 0, "the demo organisation routes by region");
        await Expect(admin.Locator("[data-testid=availability-row]").First).ToBeVisibleAsync();

        await admin.ClickAsync("[data-testid=add-rule]");
        await Expect(rules).ToHaveCountAsync(saved + 1);
        var added = rules.Last;
        await added.Locator(Ui.Field("rule-name")).FillAsync("全部进线索池");
        await Ui.SelectAsync(added.Locator("[data-testid=rule-target]"), "线索池");
        await Expect(added.Locator("[data-testid=rule-team]")).ToHaveCountAsync(0);
        // First in line, with no condition, it catches every lead before the regional rules see it.
        for (var at = saved; at > 0; at--)
        {
            await rules.Nth(at).GetByLabel("上移").ClickAsync();
            await Expect(rules.Nth(at - 1).Locator(Ui.Field("rule-name"))).ToHaveValueAsync("全部进线索池");
        }

        await admin.ClickAsync("[data-testid=simulate-rules]");
        await Expect(admin.Locator("[data-testid=sim-warning]", new() { HasTextString = "全部进线索池" })).ToBeVisibleAsync();
        await Expect(admin.Locator("[data-testid=sim-warning]", new() { HasTextString = "lead pool" })).ToBeVisibleAsync();
        var assignees = admin.Locator("[data-testid=sim-assignee]");
        await Expect(assignees.First).ToBeVisibleAsync();
        Assert.All(await assignees.AllInnerTextsAsync(), a => Assert.Equal("线索池", a.Trim()));

        // Nothing was saved: a fresh load shows the rules as they were.
        await Ui.OpenAsync(admin, "/assignment");
        await Expect(rules).ToHaveCountAsync(saved);
        await Expect(admin.Locator("[data-testid=simulation]")).ToHaveCountAsync(0);
        AssertNoErrors();
    }

    [Fact]
    public async Task A_manager_sees_the_reps_availability_but_not_the_routing_rules()
    {
        var manager = await NewPageAsync();
        await Ui.LoginAsync(manager, "manager.south");
        await Ui.OpenAsync(manager, "/assignment");
        await Expect(manager.Locator("[data-testid=availability-row]", new() { HasTextString = "赵敏" })).ToBeVisibleAsync();
        await Expect(manager.Locator("[data-testid=availability-row]", new() { HasTextString = "王芳" })).ToHaveCountAsync(0);
        await Expect(manager.Locator("[data-testid=routing-rule]")).ToHaveCountAsync(0);
        await Expect(manager.Locator("[data-testid=add-rule]")).ToHaveCountAsync(0);
        AssertNoErrors();
    }
}
