using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class PoolTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public Task An_admin_saving_pool_rules_another_admin_saved_since_the_page_opened_is_told_to_reload() =>
        AssertStaleSaveRefusedAsync("/admin/pools", "save-pool", "pool-form", "其他人已保存了这个公海的规则");

    [Fact]
    public async Task A_rep_enters_when_a_contract_ended_and_the_admins_draft_contract_rule_would_bring_the_customer_back()
    {
        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep4");
        await Ui.OpenAsync(rep, "/customers");
        var firstRow = rep.Locator("[data-testid=customer-table] tbody tr").First;
        var first = firstRow.Locator("[data-testid=customer-row-name]");
        var customer = (await first.TextContentAsync())!.Trim();
        // A click on the row (not the name's link) opens the edit form.
        await firstRow.Locator("td[data-label='行业']").ClickAsync();
        var ended = TimeProvider.System.GetLocalNow().AddDays(-60).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await rep.FillAsync(Ui.Field("customer-contract-ends"), ended);
        await rep.Keyboard.PressAsync("Enter");
        await rep.ClickAsync("[data-testid=save-customer]");
        await Expect(rep.Locator("[data-testid=customer-form]")).ToHaveCountAsync(0);
        await first.ClickAsync();
        await rep.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/customers/", StringComparison.Ordinal));
        await Expect(rep.Locator("body")).ToContainTextAsync($"合同到期日 {ended}");

        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/pools");
        // A draft of the default pool with only the new rule, previewed and not saved.
        var rules = admin.Locator("[data-testid=reclaim-rule]");
        while (await rules.CountAsync() > 0)
        {
            var count = await rules.CountAsync();
            await rules.First.Locator("button[aria-label='删除']").ClickAsync();
            await Expect(rules).ToHaveCountAsync(count - 1);
        }
        await admin.ClickAsync("button:has-text('添加规则')");
        await Ui.SelectAsync(admin.Locator("[data-testid=rule-when]"), "合同到期 N 后未续约");
        await admin.FillAsync(Ui.Field("rule-amount"), "2");
        await admin.ClickAsync("[data-testid=pool-preview]");
        var row = admin.Locator("[data-testid=preview-row]", new() { HasTextString = customer });
        await Expect(row).ToContainTextAsync("contract ended 2 days ago, not renewed");
        AssertNoErrors();
    }

    [Fact]
    public async Task A_rep_releases_a_customer_another_claims_it_from_the_pool_view_and_the_history_shows_both()
    {
        var releaser = await NewPageAsync();
        await Ui.LoginAsync(releaser, "rep6");
        await Ui.OpenAsync(releaser, "/customers");
        await releaser.Locator("[data-testid=customer-row-name]").First.ClickAsync();
        await releaser.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/customers/", StringComparison.Ordinal));
        await Ui.WaitForInteractiveAsync(releaser);
        var customer = (await releaser.Locator("[data-testid=customer-name]").TextContentAsync())!.Trim();
        // The demo called every customer in the last days: the countdown says when it would come back by itself.
        await Expect(releaser.Locator("[data-testid=reclaim-countdown]")).ToContainTextAsync("天后回收");

        // No reason: refused, and the customer stays.
        await releaser.ClickAsync("[data-testid=release]");
        await Expect(releaser.Locator("[data-testid=pool-error]")).ToContainTextAsync("预算不足");
        await Ui.SelectAsync(releaser.Locator("[data-testid=release-reason]"), "预算不足");
        await releaser.FillAsync(Ui.Field("release-note"), "明年再谈");
        await releaser.ClickAsync("[data-testid=release]");
        await Expect(releaser.Locator("[data-testid=in-pool]")).ToBeVisibleAsync();
        // Released: no longer worked here.
        await Expect(releaser.Locator("[data-testid=follow-up-form]")).ToHaveCountAsync(0);

        var claimer = await NewPageAsync();
        await Ui.LoginAsync(claimer, "rep5");
        await Ui.OpenAsync(claimer, "/pool");
        await claimer.FillAsync(Ui.Field("pool-search"), customer);
        await claimer.Keyboard.PressAsync("Enter");
        var row = claimer.Locator("tr", new() { Has = claimer.Locator("[data-testid=pool-row-name]", new() { HasTextString = customer }) });
        await Expect(row).ToContainTextAsync("预算不足: 明年再谈");
        // Contact details stay masked until claimed.
        await Expect(row).ToContainTextAsync("****");
        await row.Locator("[data-testid=claim]").ClickAsync();
        await claimer.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/customers/", StringComparison.Ordinal));
        await Ui.WaitForInteractiveAsync(claimer);
        await Expect(claimer.Locator("[data-testid=customer-owner]")).ToContainTextAsync("孙丽");
        await Expect(claimer.Locator("[data-testid=ownership-event]").Nth(0)).ToHaveTextAsync("领取");
        await Expect(claimer.Locator("[data-testid=ownership-event]").Nth(1)).ToHaveTextAsync("释放");
        await Expect(claimer.Locator("[data-testid=ownership-row]").Nth(1)).ToContainTextAsync("预算不足: 明年再谈");
        await Expect(claimer.Locator("[data-testid=follow-up-form]")).ToBeVisibleAsync();
        AssertNoErrors();
    }

    [Fact]
    public async Task A_manager_opens_the_pool_flow_from_the_pool_view_and_reads_the_figures_of_the_pool_and_of_their_own_reps()
    {
        var page = await NewPageAsync();
        await Ui.LoginAsync(page, "manager.east");
        await Ui.OpenAsync(page, "/pool");
        await page.ClickAsync("[data-testid=open-pool-flow]");
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/pool/flow");
        await Ui.WaitForInteractiveAsync(page);

        // The demo's pooled customers were released in the last ten days: the default pool counts them.
        var pool = page.Locator("[data-testid=pool-flow-table] tr", new() { Has = page.Locator("[data-testid=pool-flow-name]", new() { HasTextString = "公海" }) });
        await Expect(pool.Locator("[data-testid=flow-in-by-release]")).ToHaveTextAsync(new Regex(@"^[1-9][0-9]*$"));
        await Expect(pool.Locator("[data-testid=flow-contacted]")).ToHaveTextAsync(new Regex(@"^[0-9]+( \([0-9.]+%\))?$"));
        // Reps of the manager's own team only.
        var reps = page.Locator("[data-testid=rep-flow-table]");
        await Expect(reps.Locator("[data-testid=rep-flow-name]").First).ToBeVisibleAsync();
        await Expect(reps).ToContainTextAsync("华东销售组");
        await Expect(reps).Not.ToContainTextAsync("华南销售组");
        AssertNoErrors();
    }
}
