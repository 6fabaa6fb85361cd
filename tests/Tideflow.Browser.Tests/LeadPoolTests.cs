using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class LeadPoolTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_rep_releases_a_lead_to_the_lead_pool_and_another_claims_it_from_the_lead_pool_tab()
    {
        // Two reps of this test's own (in no team, so members of the default pool): the demo's reps belong to other tests.
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.NewUserAsync(admin, "rep.leadpool.a", "leadpool123", "钱进");
        await Ui.NewUserAsync(admin, "rep.leadpool.b", "leadpool123", "孔明");

        var releaser = await NewPageAsync();
        await Ui.LoginAsync(releaser, "rep.leadpool.a", "leadpool123");
        await Ui.OpenAsync(releaser, "/leads");
        await releaser.ClickAsync("[data-testid=new-lead]");
        await releaser.FillAsync(Ui.Field("lead-form-name"), "线索池释放测试");
        await releaser.FillAsync(Ui.Field("lead-form-mobile"), "186 0000 5151");
        await releaser.ClickAsync("[data-testid=save-lead]");
        await Expect(releaser.Locator("[data-testid=lead-owner]")).ToContainTextAsync("钱进");

        var panel = releaser.Locator("[data-testid=lead-pool-panel]");
        await panel.Locator("[data-testid=release]").ClickAsync();
        await Expect(panel.Locator("[data-testid=pool-error]")).ToContainTextAsync("多次联系不上");
        await Ui.SelectAsync(panel.Locator("[data-testid=release-reason]"), "多次联系不上");
        await panel.Locator(Ui.Field("release-note")).FillAsync("电话空号");
        await panel.Locator("[data-testid=release]").ClickAsync();
        await Expect(releaser.Locator("[data-testid=lead-in-pool]")).ToBeVisibleAsync();
        await Expect(releaser.Locator("[data-testid=lead-owner]")).ToContainTextAsync("线索池");

        var claimer = await NewPageAsync();
        await Ui.LoginAsync(claimer, "rep.leadpool.b", "leadpool123");
        await Ui.OpenAsync(claimer, "/pool");
        await claimer.Locator("[data-testid=pool-kind] .mud-tab", new() { HasTextString = "线索池" }).ClickAsync();
        await claimer.FillAsync(Ui.Field("lead-pool-search"), "线索池释放测试");
        await claimer.Keyboard.PressAsync("Enter");
        var row = claimer.Locator("tr", new() { Has = claimer.Locator("[data-testid=pool-lead-name]", new() { HasTextString = "线索池释放测试" }) });
        await Expect(row).ToContainTextAsync("多次联系不上: 电话空号");
        await Expect(row).ToContainTextAsync("钱进");
        // Contact details stay masked until claimed.
        await Expect(row).ToContainTextAsync("****");
        await row.Locator("[data-testid=claim-lead]").ClickAsync();
        await claimer.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/leads/", StringComparison.Ordinal));
        await Ui.WaitForInteractiveAsync(claimer);
        await Expect(claimer.Locator("[data-testid=lead-owner]")).ToContainTextAsync("孔明");
        await Expect(claimer.Locator("[data-testid=ownership-event]").Nth(0)).ToHaveTextAsync("领取");
        await Expect(claimer.Locator("[data-testid=ownership-event]").Nth(1)).ToHaveTextAsync("释放");
        await Expect(claimer.Locator("[data-testid=ownership-row]").Nth(1)).ToContainTextAsync("多次联系不上: 电话空号");
        // Claimed: the number shows in full, and the lead is worked here now.
        await Expect(claimer.Locator("[data-testid=lead-pool-panel] [data-testid=release]")).ToBeVisibleAsync();
        AssertNoErrors();
    }
}
