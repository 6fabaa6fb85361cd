using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class ReminderTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_user_adds_a_wecom_robot_and_the_test_reminder_arrives_and_the_admin_sees_what_is_missing_for_email()
    {
        var page = await NewPageAsync();
        await Ui.LoginAsync(page, "finance");
        await Ui.OpenAsync(page, "/profile");
        var card = page.Locator("[data-testid=reminder-channels]");
        await page.Locator(Ui.Field("remind-wecom")).CheckAsync();
        // A robot elsewhere than the allowed origins is refused with the reason.
        await page.FillAsync(Ui.Field("wecom-webhook"), "https://example.com/cgi-bin/webhook/send?key=x");
        await page.ClickAsync("[data-testid=save-reminders]");
        await Expect(page.Locator("[data-testid=reminder-error]")).ToContainTextAsync("not an allowed robot address");

        await page.FillAsync(Ui.Field("wecom-webhook"), App.Robots.WeComWebhook);
        await page.ClickAsync("[data-testid=save-reminders]");
        await Expect(page.Locator("[data-testid=reminder-error]")).ToHaveCountAsync(0);
        // Saved: the address is not shown back, only that one is stored.
        await Expect(card).ToContainTextAsync("已保存；留空则保持不变");
        await page.ClickAsync("[data-testid=test-wecom]");
        await Expect(page.Locator("[data-testid=test-result]")).ToContainTextAsync("测试提醒已送达");
        Assert.Contains(App.Robots.Received, m => m.Robot == "wecom" && m.Content.Contains("测试提醒", StringComparison.Ordinal));

        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/reminders");
        await admin.FillAsync(Ui.Field("test-email-to"), "admin@example.com");
        await admin.ClickAsync("[data-testid=send-test-email]");
        await Expect(admin.Locator("[data-testid=test-result]")).ToContainTextAsync("No mail server is set up");
        await admin.FillAsync(Ui.Field("smtp-host"), "smtp.example.com");
        await admin.ClickAsync("[data-testid=save-reminder-settings]");
        await Expect(admin.Locator("[data-testid=form-error]")).ToContainTextAsync("fromAddress");
        await Expect(admin.Locator("[data-testid=deliveries]")).ToBeVisibleAsync();
    }
}
