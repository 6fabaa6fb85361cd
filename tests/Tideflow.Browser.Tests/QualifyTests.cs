using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class QualifyTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_rep_ticks_bant_and_qualifies_a_lead_into_a_customer_and_disqualifies_another_only_with_a_reason()
    {
        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep5");

        await Ui.NewLeadAsync(rep, "转化测试 钱程", "188 0000 5151", budget: "30万", urgency: "本月内", authority: "决策人");
        await Expect(rep.Locator("[data-testid=lead-status]")).ToHaveTextAsync("新线索");
        string[] bant = ["bant-budget", "bant-authority", "bant-need", "bant-timeline"];
        foreach (var box in bant)
        {
            await rep.Locator($"[data-testid={box}]").ClickAsync();
            await Expect(rep.Locator($"[data-testid={box}]")).ToBeCheckedAsync();
        }
        await rep.ClickAsync("[data-testid=qualify]");
        await Expect(rep.Locator("[data-testid=lead-status]")).ToHaveTextAsync("已转客户");
        await Expect(rep.Locator("[data-testid=qualified]")).ToBeVisibleAsync();
        await Expect(rep.Locator("[data-testid=qualify]")).ToHaveCountAsync(0);
        // The checklist was saved with the decision, and a decided lead's checklist is read-only.
        await rep.ReloadAsync();
        await Ui.WaitForInteractiveAsync(rep);
        foreach (var box in bant)
        {
            await Expect(rep.Locator($"[data-testid={box}]")).ToBeCheckedAsync();
            await Expect(rep.Locator($"[data-testid={box}]")).ToBeDisabledAsync();
        }

        await Ui.OpenAsync(rep, "/customers");
        await rep.FillAsync(Ui.Field("customer-search"), "转化测试");
        await rep.Keyboard.PressAsync("Enter");
        var customer = rep.Locator("tr", new() { Has = rep.Locator("[data-testid=customer-row-name]", new() { HasTextString = "转化测试 钱程" }) });
        await Expect(customer.Locator("[data-testid=customer-row-owner]")).ToHaveTextAsync("孙丽");

        await Ui.NewLeadAsync(rep, "培育测试 孔亮", "188 0000 5252", budget: "5万");
        await rep.ClickAsync("[data-testid=disqualify]");
        await Expect(rep.Locator("[data-testid=form-error]")).ToBeVisibleAsync();
        await Expect(rep.Locator("[data-testid=lead-status]")).ToHaveTextAsync("新线索");
        await rep.FillAsync(Ui.Field("disqualify-reason"), "预算不足，明年再联系");
        await rep.ClickAsync("[data-testid=disqualify]");
        await Expect(rep.Locator("[data-testid=lead-status]")).ToHaveTextAsync("培育中");
        await Expect(rep.Locator("[data-testid=nurture]")).ToContainTextAsync("预算不足，明年再联系");
        await Expect(rep.Locator("[data-testid=form-error]")).ToHaveCountAsync(0);
        AssertNoErrors();
    }
}
