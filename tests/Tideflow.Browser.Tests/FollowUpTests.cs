using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class FollowUpTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_rep_logs_a_follow_up_is_refused_without_a_next_step_then_corrects_it_and_sees_the_reminder_on_the_workbench()
    {
        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep4");
        await Ui.OpenAsync(rep, "/customers");
        await rep.Locator("[data-testid=customer-row-name]").First.ClickAsync();
        await rep.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/customers/", StringComparison.Ordinal));
        await Ui.WaitForInteractiveAsync(rep);
        var customer = (await rep.Locator("[data-testid=customer-name]").TextContentAsync())!.Trim();

        await Ui.SelectAsync(rep.Locator("[data-testid=fu-channel]"), "电话");
        await rep.FillAsync("textarea[data-testid=fu-content], [data-testid=fu-content] textarea", "客户要 50 套报价");
        await rep.ClickAsync("[data-testid=fu-save]");
        // No next step: refused, with the reason under each missing field, and nothing logged.
        await Expect(rep.Locator("[data-testid=follow-up-form]")).ToContainTextAsync("Say what happens next");
        // The demo's one earlier call is all there is.
        await Expect(rep.Locator("[data-testid=follow-up]")).ToHaveCountAsync(1);

        await rep.FillAsync(Ui.Field("fu-next-plan"), "周三发报价单");
        var day = TimeProvider.System.GetLocalNow().AddDays(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await rep.FillAsync(Ui.Field("fu-next-day"), day);
        await rep.Keyboard.PressAsync("Enter");
        await rep.ClickAsync("[data-testid=fu-save]");
        await Expect(rep.Locator("[data-testid=follow-up]")).ToHaveCountAsync(2);
        await Expect(rep.Locator("[data-testid=follow-up-next]")).ToContainTextAsync(day);

        await rep.ClickAsync("[data-testid=fu-correct]");
        // The form starts from the record being corrected.
        await Expect(rep.Locator("[data-testid=follow-up-form]")).ToContainTextAsync("更正跟进");
        await Expect(rep.Locator("textarea[data-testid=fu-content], [data-testid=fu-content] textarea")).ToHaveValueAsync("客户要 50 套报价");
        await rep.FillAsync("textarea[data-testid=fu-content], [data-testid=fu-content] textarea", "更正：客户要 5 套报价，觉得太贵");
        await rep.FillAsync(Ui.Field("fu-next-plan"), "周三发报价单");
        await rep.FillAsync(Ui.Field("fu-next-day"), day);
        await rep.Keyboard.PressAsync("Enter");
        await rep.ClickAsync("[data-testid=fu-save]");
        await Expect(rep.Locator("[data-testid=follow-up]")).ToHaveCountAsync(3);
        await Expect(rep.Locator("[data-testid=follow-up-content]").First).ToHaveTextAsync("更正：客户要 5 套报价，觉得太贵");
        // The original stays, marked as corrected.
        await Expect(rep.Locator("[data-testid=follow-up]").Nth(1).Locator("[data-testid=corrected]")).ToBeVisibleAsync();
        // "太贵" is a keyword of the default feedback rules: the follow-up and the customer carry 价格敏感, and its chip filters the list.
        await Expect(rep.Locator("[data-testid=follow-up]").First.Locator("[data-testid=follow-up-tag]")).ToHaveTextAsync("价格敏感");
        await rep.Locator("[data-testid=customer-feedback-tags]").GetByText("价格敏感").ClickAsync();
        await rep.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/customers");
        await Expect(rep.Locator("[data-testid=customer-row-name]", new() { HasTextString = customer })).ToBeVisibleAsync();
        await Expect(rep.Locator("[data-testid=customer-row-name]")).ToHaveCountAsync(1);

        await Ui.OpenAsync(rep, "/");
        await Expect(rep.Locator("[data-testid=task-row]", new() { HasTextString = customer }).First).ToContainTextAsync("下次联系");
        AssertNoErrors();
    }
}
