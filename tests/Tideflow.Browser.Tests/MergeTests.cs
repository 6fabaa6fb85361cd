using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed partial class MergeTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task An_admin_merges_a_suspected_duplicate_and_undoes_it()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/channels");
        var row = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=channel-row-name]", new() { HasTextString = "2026 上海工业博览会" }) });
        await row.Locator("[data-testid=show-snippet]").ClickAsync();
        var action = CaptureUrl().Match(await admin.Locator("[data-testid=snippet]").InnerTextAsync()).Value;

        foreach (var (name, contact, value) in new[] { ("周杰", "mobile", "13511112222"), ("周洁", "email", "zhoujie@example.cn") })
        {
            var sent = await admin.APIRequest.PostAsync(action, new() { Form = admin.APIRequest.CreateFormData()
                .Set("name", name).Set("company", "无锡合并测试机械有限公司").Set(contact, value) });
            Assert.True(sent.Ok, $"capture answered {sent.Status}");
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

    [GeneratedRegex(@"http://[^""]+/capture/[0-9a-f]+")]
    private static partial Regex CaptureUrl();
}
