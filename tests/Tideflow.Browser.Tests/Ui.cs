using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

/// <summary>Steps the tests share. Waits are on the page's state, never on the clock.</summary>
public static partial class Ui
{
    public const string Password = "demo1234";

    /// <summary>
    /// True once the interactive circuit has rendered into the page. The prerendered HTML has no element
    /// references; Blazor adds a <c>_bl_…</c> attribute for each when it applies its first interactive render
    /// (the app bar's language button has one on every page). Clicks on interactive buttons only work after that.
    /// </summary>
    private const string InteractiveScript = """
        () => {
          const button = document.querySelector('[data-testid=switch-language]');
          return !!button && [...button.attributes].some(a => a.name.startsWith('_bl_'));
        }
        """;

    /// <summary>The input of a MudTextField with that data-testid (MudBlazor puts the attribute on the input).</summary>
    public static string Field(string testId) => $"input[data-testid={testId}], [data-testid={testId}] input";

    public static string PathOf(IPage page) => new Uri(page.Url).AbsolutePath;

    public static async Task LoginAsync(IPage page, string userName, string password = Password)
    {
        await page.GotoAsync("/account/login");
        await page.FillAsync("#userName", userName);
        await page.FillAsync("#password", password);
        await page.ClickAsync("[data-testid=login-form] button[type=submit]");
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/");
        await page.Locator("[data-testid=customers-in-scope]").WaitForAsync();
    }

    /// <summary>Signs in a user who has two-factor on: password, then the authenticator's code.</summary>
    public static async Task LoginWithCodeAsync(IPage page, string userName, string password, string code)
    {
        await page.GotoAsync("/account/login");
        await page.FillAsync("#userName", userName);
        await page.FillAsync("#password", password);
        await page.ClickAsync("[data-testid=login-form] button[type=submit]");
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/account/login-2fa");
        await page.FillAsync("#code", code);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/");
        await page.Locator("[data-testid=customers-in-scope]").WaitForAsync();
    }

    /// <summary>An admin adds a user on /admin/users (a rep, in no team) and returns its row in the user table.</summary>
    /// <param name="role">The role as the zh-CN form names it (管理员, 销售经理 …); the form's default when null.</param>
    public static async Task<ILocator> NewUserAsync(IPage admin, string userName, string password, string displayName, string? role = null)
    {
        await OpenAsync(admin, "/admin/users");
        await admin.ClickAsync("[data-testid=new-user]");
        if (role is not null)
        {
            await SelectAsync(admin.Locator("[data-testid=user-role]"), role);
        }
        await admin.FillAsync(Field("user-username"), userName);
        await admin.FillAsync(Field("user-password"), password);
        await admin.FillAsync(Field("user-displayname"), displayName);
        await admin.ClickAsync("[data-testid=save-user]");
        var row = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=user-row-username]", new() { HasTextString = userName }) });
        await Expect(row.Locator("[data-testid=user-active]")).ToBeVisibleAsync();
        return row;
    }

    /// <summary>Turns on two-factor on the signed-in user's profile; returns the authenticator that makes their codes.</summary>
    public static async Task<OtpNet.Totp> EnableTwoFactorAsync(IPage page)
    {
        await OpenAsync(page, "/profile");
        await page.ClickAsync("[data-testid=start-2fa]");
        var key = (await page.Locator("[data-testid=totp-key]").InnerTextAsync()).Trim();
        var totp = new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(key));
        await page.FillAsync(Field("totp-code"), totp.ComputeTotp());
        await page.ClickAsync("[data-testid=verify-2fa]");
        await Expect(page.Locator("[data-testid=two-factor-on]")).ToBeVisibleAsync();
        return totp;
    }

    /// <summary>Opens a page of the app and waits until it is interactive.</summary>
    public static async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await WaitForInteractiveAsync(page);
    }

    public static async Task WaitForInteractiveAsync(IPage page) =>
        await page.WaitForFunctionAsync(InteractiveScript);

    /// <summary>Picks an option of a MudSelect: opens its list, clicks the item with that text and waits until the select shows it.</summary>
    public static async Task SelectAsync(ILocator select, string option)
    {
        await select.ClickAsync();
        await select.Page.Locator(".mud-popover-open .mud-list-item", new() { HasTextString = option }).ClickAsync();
        await Expect(select).ToContainTextAsync(option);
    }

    /// <summary>
    /// Enters a lead by hand on /leads (owned by whoever is logged in) and returns the path of its page.
    /// The form's qualification fields are found by their zh-CN labels.
    /// </summary>
    public static async Task<string> NewLeadAsync(IPage page, string name, string mobile,
        string? budget = null, string? urgency = null, string? authority = null)
    {
        await OpenAsync(page, "/leads");
        await page.ClickAsync("[data-testid=new-lead]");
        await page.FillAsync(Field("lead-form-name"), name);
        await page.FillAsync(Field("lead-form-mobile"), mobile);
        var form = page.Locator("[data-testid=lead-form]");
        foreach (var (label, value) in new[] { ("预算", budget), ("紧迫度", urgency), ("决策权", authority) })
        {
            if (value is not null)
            {
                await form.GetByLabel(label, new() { Exact = true }).FillAsync(value);
            }
        }
        await page.ClickAsync("[data-testid=save-lead]");
        await Expect(page.Locator("[data-testid=lead-name]")).ToHaveTextAsync(name);
        return PathOf(page);
    }

    /// <summary>The address a channel's embed code posts to, read from its snippet on /admin/channels (an admin's page).</summary>
    public static async Task<string> CaptureUrlAsync(IPage admin, string channel)
    {
        await OpenAsync(admin, "/admin/channels");
        var row = admin.Locator("tr", new() { Has = admin.Locator("[data-testid=channel-row-name]", new() { HasTextString = channel }) });
        await row.Locator("[data-testid=show-snippet]").ClickAsync();
        return CaptureUrl().Match(await admin.Locator("[data-testid=snippet]").InnerTextAsync()).Value;
    }

    /// <summary>Posts a form to a capture address as a visitor's browser would.</summary>
    public static async Task SubmitCaptureAsync(IPage page, string action, params (string Name, string Value)[] fields)
    {
        var form = page.APIRequest.CreateFormData();
        foreach (var (name, value) in fields)
        {
            form.Set(name, value);
        }
        var sent = await page.APIRequest.PostAsync(action, new() { Form = form });
        Assert.True(sent.Ok, $"capture answered {sent.Status}");
    }

    [GeneratedRegex(@"http://[^""]+/capture/[0-9a-f]+")]
    private static partial Regex CaptureUrl();

    public static async Task<int> CustomersInScopeAsync(IPage page) =>
        int.Parse(await page.Locator("[data-testid=customers-in-scope]").InnerTextAsync());

    /// <summary>
    /// The customer table's page once it is consistent, read in one go: the pager says which rows it shows
    /// ("26-50 of 151", whatever the words around the numbers) and exactly that many rows are there. The table
    /// renders its rows and its pager in separate steps, so either can be ahead of the other for a moment.
    /// Given the previous page's pager text and first row, waits until both the pager and the rows have moved on from it.
    /// </summary>
    private const string TablePageScript = """
        previous => {
          const table = document.querySelector('[data-testid=customer-table]');
          const info = table?.querySelector('.mud-table-page-number-information')?.textContent.trim() ?? '';
          const n = (info.match(/\d+/g) || []).map(Number);
          if (n.length !== 3 || n[0] < 1) return null;
          const rows = [...table.querySelectorAll('tr:has([data-testid=customer-row-owner])')];
          if (rows.length !== n[1] - n[0] + 1) return null;
          const firstRow = rows[0].innerText;
          if (previous && (info === previous[0] || firstRow === previous[1])) return null;
          const owners = rows.map(r => r.querySelector('[data-testid=customer-row-owner]').textContent.trim());
          return JSON.stringify({ Info: info, Last: n[1], Total: n[2], FirstRow: firstRow, Owners: owners });
        }
        """;

    public sealed record TablePage(string Info, int Last, int Total, string FirstRow, List<string> Owners);

    /// <summary>The owner column over every page of the customer table, and the table's total.</summary>
    public static async Task<(List<string> Owners, int Total)> AllCustomerOwnersAsync(IPage page)
    {
        var owners = new List<string>();
        string[]? previous = null;
        while (true)
        {
            var handle = await page.WaitForFunctionAsync(TablePageScript, previous);
            var current = JsonSerializer.Deserialize<TablePage>(await handle.JsonValueAsync<string>())!;
            owners.AddRange(current.Owners);
            if (current.Last >= current.Total)
            {
                return (owners, current.Total);
            }
            await page.ClickAsync("[data-testid=customer-table] .mud-table-pagination-next-button");
            previous = [current.Info, current.FirstRow];
        }
    }
}
