using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class CaptureTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task The_embed_code_on_a_static_page_delivers_a_lead_that_appears_in_the_list()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/channels");
        await admin.FillAsync(Ui.Field("rule-name"), "官网来的");
        await admin.FillAsync(Ui.Field("rule-tag"), "官网线索");
        await admin.FillAsync(Ui.Field("rule-field"), "channel");
        await admin.FillAsync(Ui.Field("rule-value"), "官网咨询表单");
        await admin.ClickAsync("[data-testid=add-rule]");
        await Expect(admin.Locator("[data-testid=tag-rules]")).ToContainTextAsync("官网线索");

        var row = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=channel-row-name]", new() { HasTextString = "官网咨询表单" }) });
        await row.Locator("[data-testid=show-snippet]").ClickAsync();
        var snippet = await admin.Locator("[data-testid=snippet]").InnerTextAsync();
        Assert.Contains("/capture/", snippet, StringComparison.Ordinal);

        // A visitor on someone's website: a static page holding nothing but the pasted snippet, no script.
        var visitor = await NewPageAsync();
        await visitor.SetContentAsync($"<!DOCTYPE html><html><body><h1>联系我们</h1>{snippet}</body></html>");
        await visitor.FillAsync("input[name=name]", "网页访客");
        await visitor.FillAsync("input[name=company]", "杭州测试科技有限公司");
        await visitor.FillAsync("input[name=mobile]", "139 1234 5678");
        await visitor.CheckAsync("input[type=checkbox]");
        await visitor.ClickAsync("button[type=submit]");
        await Expect(visitor.Locator("h1")).ToHaveTextAsync("提交成功");

        await Ui.OpenAsync(admin, "/leads");
        await admin.FillAsync(Ui.Field("lead-search"), "网页访客");
        await admin.Keyboard.PressAsync("Enter");
        var lead = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=lead-row-name]", new() { HasTextString = "网页访客" }) });
        await Expect(lead).ToContainTextAsync("+8613912345678");
        await lead.ClickAsync();
        await Expect(admin.Locator("[data-testid=lead-name]")).ToHaveTextAsync("网页访客");
        await Expect(admin.Locator("[data-testid=lead-timeline]")).ToContainTextAsync("官网咨询表单");
        await Expect(admin.Locator("[data-testid=lead-tags]")).ToHaveTextAsync("官网线索");
        AssertNoErrors();
    }

    [Fact]
    public async Task An_admin_caps_a_channel_per_day_in_the_time_zone_they_pick()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/channels");
        await admin.ClickAsync("[data-testid=new-channel]");
        await admin.FillAsync(Ui.Field("channel-name"), "东京展会");
        await admin.FillAsync(Ui.Field("channel-tag"), "东京");
        await admin.FillAsync(Ui.Field("channel-cap"), "200");
        // A new channel counts the day in Beijing time until the admin says otherwise.
        await Expect(admin.Locator("[data-testid=channel-cap-zone]")).ToContainTextAsync("Asia/Shanghai");
        await Ui.SelectAsync(admin.Locator("[data-testid=channel-cap-zone]"), "Asia/Tokyo");
        await admin.ClickAsync("[data-testid=save-channel]");
        var row = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=channel-row-name]", new() { HasTextString = "东京展会" }) });
        await Expect(row).ToContainTextAsync("200 (Asia/Tokyo)");

        // Opened again, the form shows what was saved.
        await row.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "编辑" }).ClickAsync();
        await Expect(admin.Locator("[data-testid=channel-cap-zone]")).ToContainTextAsync("Asia/Tokyo");
        AssertNoErrors();
    }
}
