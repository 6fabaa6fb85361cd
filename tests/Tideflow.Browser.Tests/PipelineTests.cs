using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class PipelineTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_rep_drags_a_customer_across_the_board_is_refused_with_what_is_missing_logs_a_follow_up_and_moves_it_on()
    {
        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep3");
        await Ui.OpenAsync(rep, "/pipeline");
        var card = rep.Locator("[data-testid=column-new] [data-testid=card]").First;
        var name = (await card.Locator("[data-testid=card-name]").TextContentAsync())!.Trim();
        var ours = rep.Locator("[data-testid=card]", new() { Has = rep.Locator("[data-testid=card-name]", new() { HasTextString = name }) });

        await ours.DragToAsync(rep.Locator("[data-testid=column-contacted] .mud-drop-zone"));
        await Expect(rep.Locator("[data-testid=column-contacted]").Locator("[data-testid=card-name]", new() { HasTextString = name })).ToBeVisibleAsync();

        // Leaving 已联系 needs a follow-up with a next plan: refused, the card stays, the missing item is named.
        await ours.DragToAsync(rep.Locator("[data-testid=column-needs] .mud-drop-zone"));
        await Expect(rep.Locator("[data-testid=stage-refused] [data-testid=stage-missing-item]")).ToHaveTextAsync("一条写明跟进方式和下一步计划的跟进记录");
        await Expect(rep.Locator("[data-testid=column-contacted]").Locator("[data-testid=card-name]", new() { HasTextString = name })).ToBeVisibleAsync();

        await ours.Locator("a").ClickAsync();
        await rep.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/customers/", StringComparison.Ordinal));
        await Ui.WaitForInteractiveAsync(rep);
        await Expect(rep.Locator("[data-testid=customer-stage]")).ToHaveTextAsync("已联系");
        await Ui.SelectAsync(rep.Locator("[data-testid=fu-channel]"), "拜访");
        await rep.FillAsync("textarea[data-testid=fu-content], [data-testid=fu-content] textarea", "上门确认需求，客户要 20 个账号");
        await rep.FillAsync(Ui.Field("fu-next-plan"), "出方案");
        await rep.FillAsync(Ui.Field("fu-next-day"), TimeProvider.System.GetLocalNow().AddDays(3).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await rep.Keyboard.PressAsync("Enter");
        await rep.ClickAsync("[data-testid=fu-save]");
        // The demo's earlier call had no next plan; this one does.
        await Expect(rep.Locator("[data-testid=follow-up]")).ToHaveCountAsync(2);

        await Ui.SelectAsync(rep.Locator("[data-testid=stage-target]"), "需求确认");
        await rep.ClickAsync("[data-testid=stage-move]");
        await Expect(rep.Locator("[data-testid=customer-stage]")).ToHaveTextAsync("需求确认");
        await Expect(rep.Locator("[data-testid=stage-history-row]")).ToHaveCountAsync(2);

        // The stage entered brought its task to the workbench.
        await Ui.OpenAsync(rep, "/");
        await Expect(rep.Locator("[data-testid=task-row]", new() { HasTextString = name }).Filter(new() { HasTextString = "准备方案与报价" })).ToHaveCountAsync(1);
        AssertNoErrors();
    }
}
