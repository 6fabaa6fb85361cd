using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class MergeTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task An_admin_merges_a_suspected_duplicate_and_undoes_it_each_with_a_code_from_their_authenticator()
    {
        var demoAdmin = await NewPageAsync();
        await Ui.LoginAsync(demoAdmin, "admin");
        var action = await Ui.CaptureUrlAsync(demoAdmin, "2026 上海工业博览会");
        foreach (var (name, contact, value) in new[] { ("周杰", "mobile", "13511112222"), ("周洁", "email", "zhoujie@example.cn") })
        {
            await Ui.SubmitCaptureAsync(demoAdmin, action, ("name", name), ("company", "无锡合并测试机械有限公司"), (contact, value));
        }
        // A merge needs a second factor (R9.4): an admin of their own, so the demo admin (used by other tests) keeps signing in with a password.
        await Ui.NewUserAsync(demoAdmin, "admin.merge", "merge12345", "合并管理员", "管理员");
        var enrolling = await NewPageAsync();
        await Ui.LoginAsync(enrolling, "admin.merge", "merge12345");
        var totp = await Ui.EnableTwoFactorAsync(enrolling);
        var admin = await NewPageAsync();
        await Ui.LoginWithCodeAsync(admin, "admin.merge", "merge12345", totp.ComputeTotp());
        // Turning two-factor on renewed the security stamp: the enrolling page is sent to the login page (waited for here, so
        // the navigation does not land on a closed browser in a later test).
        await Expect(enrolling).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/account/login"), new() { Timeout = 30_000 });

        await Ui.OpenAsync(admin, "/leads/duplicates");
        var pair = admin.Locator("[data-testid=duplicate-pair]", new() { HasTextString = "无锡合并测试" });
        await Expect(pair).ToContainTextAsync("周杰");
        await Expect(pair).ToContainTextAsync("周洁");
        // Without the code the merge is refused and the pair stays.
        await pair.Locator("[data-testid=keep-this]").First.ClickAsync();
        await Expect(admin.Locator(".mud-alert", new() { HasTextString = "totpCode" })).ToBeVisibleAsync();
        await Expect(pair).ToHaveCountAsync(1);
        await admin.FillAsync(Ui.Field("merge-totp"), totp.ComputeTotp());
        await pair.Locator("[data-testid=keep-this]").First.ClickAsync();
        await Expect(admin.Locator("[data-testid=duplicate-pair]", new() { HasTextString = "无锡合并测试" })).ToHaveCountAsync(0);

        await Ui.OpenAsync(admin, "/leads");
        await admin.FillAsync(Ui.Field("lead-search"), "无锡合并测试");
        await admin.Keyboard.PressAsync("Enter");
        var merged = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=lead-row-status]", new() { HasTextString = "已合并" }) });
        await merged.ClickAsync();
        await admin.FillAsync(Ui.Field("undo-totp"), totp.ComputeTotp());
        await admin.Locator("[data-testid=undo-merge]").ClickAsync();
        await Expect(admin.Locator("[data-testid=lead-status]")).ToHaveTextAsync("新线索");
        AssertNoErrors();
    }
}
