using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class ManualLeadTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_rep_enters_a_lead_by_hand_and_hears_through_the_bell_when_that_person_comes_back()
    {
        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep3");
        await Ui.OpenAsync(rep, "/leads");
        await rep.ClickAsync("[data-testid=new-lead]");
        await rep.FillAsync(Ui.Field("lead-form-name"), "手动录入测试");
        await rep.FillAsync(Ui.Field("lead-form-mobile"), "12345");
        await rep.ClickAsync("[data-testid=save-lead]");
        await Expect(rep.Locator("[data-testid=form-error]")).ToBeVisibleAsync();
        await rep.FillAsync(Ui.Field("lead-form-mobile"), "186 0000 7777");
        await rep.ClickAsync("[data-testid=save-lead]");
        await Expect(rep.Locator("[data-testid=lead-name]")).ToHaveTextAsync("手动录入测试");
        var leadPath = Ui.PathOf(rep);

        // The same person fills in the website form.
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        var action = await Ui.CaptureUrlAsync(admin, "官网咨询表单");
        await Ui.SubmitCaptureAsync(admin, action, ("name", "手动录入测试"), ("mobile", "+86 18600007777"));

        await Ui.OpenAsync(rep, "/");
        // The count also holds the demo's due-task reminders, which the reminder job sends on its own schedule.
        await Expect(rep.Locator("[data-testid=bell-count] .mud-badge")).ToBeVisibleAsync();
        await rep.ClickAsync("[data-testid=bell-button]");
        await rep.Locator("[data-testid=notification]", new() { HasTextString = "手动录入测试" }).ClickAsync();
        await Expect(rep).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(System.Text.RegularExpressions.Regex.Escape(leadPath) + "$"));
        await Expect(rep.Locator("[data-testid=lead-timeline]")).ToContainTextAsync("重复提交");
        AssertNoErrors();
    }
}
