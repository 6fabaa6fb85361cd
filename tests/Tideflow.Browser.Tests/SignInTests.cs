using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class SignInTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_rep_sees_only_own_customers_switches_language_and_logs_out()
    {
        var page = await NewPageAsync();
        var html = page.Locator("html");

        await Ui.LoginAsync(page, "rep1");
        await Expect(page.Locator("[data-testid=current-user]")).ToHaveTextAsync("rep1");
        var inScope = await Ui.CustomersInScopeAsync(page);

        await Ui.OpenAsync(page, "/customers");
        var (owners, total) = await Ui.AllCustomerOwnersAsync(page);
        Assert.NotEmpty(owners);
        Assert.All(owners, o => Assert.Equal("王芳", o));
        Assert.Equal(total, owners.Count);
        Assert.Equal(inScope, total);

        await Expect(html).ToHaveAttributeAsync("lang", "zh-CN");
        await page.ClickAsync("[data-testid=switch-language]");
        await Expect(html).ToHaveAttributeAsync("lang", "en");
        Assert.Equal("/customers", Ui.PathOf(page));
        await Expect(page.Locator("h4")).ToHaveTextAsync("Customers");

        await Ui.WaitForInteractiveAsync(page);
        await page.ClickAsync("[data-testid=switch-language]");
        await Expect(html).ToHaveAttributeAsync("lang", "zh-CN");
        await Expect(page.Locator("h4")).ToHaveTextAsync("客户");

        await Ui.WaitForInteractiveAsync(page);
        await page.ClickAsync("[data-testid=logout]");
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/account/login");
        await Expect(page.Locator("[data-testid=login-form]")).ToBeVisibleAsync();

        await page.GotoAsync("/customers");
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/account/login");
        await Expect(page.Locator("[data-testid=login-form]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=customer-table]")).ToHaveCountAsync(0);
        AssertNoErrors();
    }

    [Fact]
    public async Task A_wrong_password_shows_the_generic_error_and_stays_on_the_login_page()
    {
        var page = await NewPageAsync();

        var wrongPassword = await FailedLoginMessageAsync(page, "finance", "not-the-password");
        Assert.Equal("/account/login", Ui.PathOf(page));
        await Expect(page.Locator("[data-testid=login-form]")).ToBeVisibleAsync();
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "tideflow.auth");

        // Generic: an unknown user gets the very same words, so the message tells nothing about which part was wrong.
        var unknownUser = await FailedLoginMessageAsync(page, "nobody.here", "not-the-password");
        Assert.Equal(wrongPassword, unknownUser);
        AssertNoErrors();
    }

    private static async Task<string> FailedLoginMessageAsync(IPage page, string userName, string password)
    {
        await page.GotoAsync("/account/login");
        await page.FillAsync("#userName", userName);
        await page.FillAsync("#password", password);
        await page.ClickAsync("[data-testid=login-form] button[type=submit]");
        var error = page.Locator("[data-testid=login-error]");
        await Expect(error).ToBeVisibleAsync();
        var text = await error.InnerTextAsync();
        Assert.False(string.IsNullOrWhiteSpace(text));
        return text;
    }
}
