using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class CustomFieldTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task An_admin_adds_a_select_field_a_rep_fills_it_on_a_customer_and_filters_the_list_by_it()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/fields");
        // The demo company's own fields are listed.
        await Expect(admin.Locator("[data-testid=field-row-label]", new() { HasTextString = "现用系统" })).ToBeVisibleAsync();

        await admin.ClickAsync("[data-testid=new-field]");
        await admin.FillAsync(Ui.Field("field-key"), "合作 等级");
        await admin.FillAsync(Ui.Field("field-label"), "合作等级");
        await Ui.SelectAsync(admin.Locator("[data-testid=field-type]"), "单选");
        await admin.FillAsync("textarea[data-testid=field-options], [data-testid=field-options] textarea", "战略\n普通");
        await Ui.SelectAsync(admin.Locator("[data-testid=field-applies-to]"), "仅客户");
        await admin.ClickAsync("[data-testid=save-field]");
        await Expect(admin.Locator("[data-testid=field-form]")).ToContainTextAsync("use a letter then letters, digits or _");
        await admin.FillAsync(Ui.Field("field-key"), "partner_level");
        await admin.ClickAsync("[data-testid=save-field]");
        await Expect(admin.Locator("[data-testid=field-form]")).ToHaveCountAsync(0);
        await Expect(admin.Locator("[data-testid=field-row-label]", new() { HasTextString = "合作等级" })).ToBeVisibleAsync();

        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep1");
        await Ui.OpenAsync(rep, "/customers");
        await rep.ClickAsync("[data-testid=new-customer]");
        await rep.FillAsync(Ui.Field("customer-name"), "字段测试 欧阳");
        await Ui.SelectAsync(rep.Locator("[data-testid=cf-partner_level]"), "战略");
        await rep.FillAsync(Ui.Field("cf-employees"), "很多");
        await rep.ClickAsync("[data-testid=save-customer]");
        // Refused with the reason under the field itself; nothing saved.
        await Expect(rep.Locator("[data-testid=customer-form]")).ToContainTextAsync("'很多' is not a number.");
        await rep.FillAsync(Ui.Field("cf-employees"), "1,200");
        await rep.ClickAsync("[data-testid=save-customer]");
        await Expect(rep.Locator("[data-testid=customer-form]")).ToHaveCountAsync(0);

        var row = rep.Locator("tr", new() { Has = rep.Locator("[data-testid=customer-row-name]", new() { HasTextString = "字段测试 欧阳" }) });
        await Expect(row).ToContainTextAsync("1200");
        await Ui.SelectAsync(rep.Locator("[data-testid=cf-filter-field]"), "合作等级");
        await Ui.SelectAsync(rep.Locator("[data-testid=cf-filter-value]"), "普通");
        await Expect(row).ToHaveCountAsync(0);
        await Ui.SelectAsync(rep.Locator("[data-testid=cf-filter-value]"), "战略");
        await Expect(row).ToBeVisibleAsync();
        await Expect(rep.Locator("[data-testid=customer-row-name]")).ToHaveCountAsync(1);
        AssertNoErrors();
    }

    [Fact]
    public async Task A_rep_corrects_a_leads_fields_and_sees_the_new_score()
    {
        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep6");
        await Ui.NewLeadAsync(rep, "字段测试 司马", "188 0000 6161", budget: "5万");
        // 5万 is a tenth-ish of the budget weight and nothing else is known: grade C, whichever weights the scoring test left.
        await Expect(rep.Locator("[data-testid=lead-grade]")).ToContainTextAsync("C ·");

        await rep.ClickAsync("[data-testid=edit-lead-fields]");
        await rep.FillAsync(Ui.Field("lf-budget"), "80万");
        await rep.FillAsync(Ui.Field("lf-urgency"), "立即采购");
        await rep.FillAsync(Ui.Field("lf-authority"), "决策人");
        await Ui.SelectAsync(rep.Locator("[data-testid=cf-current_system]"), "金蝶");
        await rep.ClickAsync("[data-testid=save-lead-fields]");

        await Expect(rep.Locator("[data-testid=lead-fields]")).ToContainTextAsync("现用系统");
        await Expect(rep.Locator("[data-testid=lead-fields]")).ToContainTextAsync("金蝶");
        await Expect(rep.Locator("[data-testid=lead-grade]")).ToContainTextAsync("A ·");
        AssertNoErrors();
    }
}
