using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class MergeTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task An_admin_merges_a_suspected_duplicate_and_undoes_it()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        var action = await Ui.CaptureUrlAsync(admin, "2026 上海工业博览会");
        foreach (var (name, contact, value) in new[] { ("周杰", "mobile", "13511112222"), ("周洁", "email", "zhoujie@example.cn") })
        {
            await Ui.SubmitCaptureAsync(admin, action, ("name", name), ("company", "无锡合并测试机械有限公司"), (contact, value));
        }

        await Ui.OpenAsync(admin, "/leads/duplicates");
        var pair = admin.Locator("[data-testid=duplicate-pair]", new() { HasTextString = "无锡合并测试" });
        await Expect(pair).ToContainTextAsync("周杰");
        await Expect(pair).ToContainTextAsync("周洁");
        await pair.Locator("[data-testid=keep-this]").First.ClickAsync();
        await Expect(admin.Locator("[data-testid=duplicate-pair]", new() { HasTextString = "无锡合并测试" })).ToHaveCountAsync(0);

        await Ui.OpenAsync(admin, "/leads");
        await admin.FillAsync(Ui.Field("lead-search"), "无锡合并测试");
        await admin.Keyboard.PressAsync("Enter");
        var merged = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=lead-row-status]", new() { HasTextString = "已合并" }) });
        await merged.ClickAsync();
        await admin.Locator("[data-testid=undo-merge]").ClickAsync();
        await Expect(admin.Locator("[data-testid=lead-status]")).ToHaveTextAsync("新线索");
        AssertNoErrors();
    }
}
