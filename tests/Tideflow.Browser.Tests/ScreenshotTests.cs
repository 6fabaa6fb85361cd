using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

/// <summary>
/// Renders the main pages and photographs them. With TIDEFLOW_UPDATE_SCREENSHOTS=1 the pictures replace
/// docs/screenshots; otherwise they go to a temporary folder so a test run leaves the work tree clean.
/// </summary>
public sealed class ScreenshotTests(BrowserApp app) : BrowserTest(app)
{
    private static readonly string Folder = Environment.GetEnvironmentVariable("TIDEFLOW_UPDATE_SCREENSHOTS") == "1"
        ? Path.Combine(RepoRoot(), "docs", "screenshots")
        : Path.Combine(Path.GetTempPath(), "tideflow-screenshots");

    [Fact]
    public async Task Screenshots_of_the_main_pages()
    {
        App.SkipIfUnavailable();
        Directory.CreateDirectory(Folder);
        var written = new List<string>();

        var admin = await NewPageAsync();
        await admin.GotoAsync("/account/login");
        await admin.Locator("[data-testid=login-form]").WaitForAsync();
        written.Add(await ShootAsync(admin, "login.png"));

        await Ui.LoginAsync(admin, "admin");
        await Ui.WaitForInteractiveAsync(admin);
        written.Add(await ShootAsync(admin, "workbench.png"));

        await Ui.OpenAsync(admin, "/admin/users");
        await admin.Locator(".mud-table-body tr").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "users.png"));

        await Ui.OpenAsync(admin, "/admin/audit");
        await admin.Locator("[data-testid=audit-table] .mud-table-body tr").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "audit-log.png"));

        await Ui.OpenAsync(admin, "/leads");
        await admin.Locator("[data-testid=lead-row-name]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "leads.png"));

        await Ui.OpenAsync(admin, "/admin/channels");
        await admin.Locator("[data-testid=show-snippet]").First.ClickAsync();
        await admin.Locator("[data-testid=snippet]").WaitForAsync();
        written.Add(await ShootAsync(admin, "channels.png"));

        await Ui.OpenAsync(admin, "/admin/scoring");
        await admin.Locator("[data-testid=criterion]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "scoring.png"));

        await Ui.OpenAsync(admin, "/admin/fields");
        await admin.Locator("[data-testid=field-row-label]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "custom-fields.png"));

        await Ui.OpenAsync(admin, "/assignment");
        await admin.Locator("[data-testid=routing-rule]").First.WaitForAsync();
        await admin.Locator("[data-testid=availability-row]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "assignment.png"));

        // An open grade-A demo lead a rule gave to a rep: score breakdown, BANT checklist, assignment and history.
        await Ui.OpenAsync(admin, "/leads?status=New");
        var grades = admin.Locator("[data-testid=lead-row-grade]");
        await grades.First.WaitForAsync();
        await Ui.SelectAsync(admin.Locator("[data-testid=lead-grade-filter]"), "A");
        // (Playwright 1.64 for .NET ignores HasNot on Page.Locator's options; Filter applies it.)
        await Expect(grades.Filter(new() { HasNotTextString = "A" })).ToHaveCountAsync(0);
        await grades.First.WaitForAsync();
        var owned = admin.Locator("tr").Filter(new() { Has = grades, HasNot = admin.Locator("[data-testid=lead-row-owner]", new() { HasTextString = "线索池" }) });
        await owned.First.Locator("[data-testid=lead-row-name]").ClickAsync();
        await admin.Locator("[data-testid=score-explanation]").WaitForAsync();
        await admin.Locator("[data-testid=ownership-row]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "lead.png", fullPage: true));

        await Ui.OpenAsync(admin, "/admin/pools");
        await admin.Locator("[data-testid=reclaim-rule]").First.WaitForAsync();
        await admin.ClickAsync("[data-testid=pool-preview]");
        await admin.Locator("[data-testid=preview-total]").WaitForAsync();
        written.Add(await ShootAsync(admin, "pool-rules.png", fullPage: true));

        await Ui.OpenAsync(admin, "/pool/flow");
        await admin.Locator("[data-testid=flow-claimed]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "pool-flow.png", fullPage: true));

        await Ui.OpenAsync(admin, "/admin/plans");
        await admin.Locator("[data-testid=plan-step]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "follow-up-plans.png", fullPage: true));

        await Ui.OpenAsync(admin, "/admin/pipeline");
        await admin.Locator("[data-testid=pipeline-stage]").First.WaitForAsync();
        written.Add(await ShootAsync(admin, "pipeline-stages.png", fullPage: true));

        await Ui.OpenAsync(admin, "/admin/reminders");
        await admin.Locator("[data-testid=reminder-settings]").WaitForAsync();
        written.Add(await ShootAsync(admin, "reminders.png", fullPage: true));

        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep1");
        await Ui.OpenAsync(rep, "/pool");
        await rep.Locator("[data-testid=pool-row-name]").First.WaitForAsync();
        written.Add(await ShootAsync(rep, "pool.png"));
        await rep.Locator("[data-testid=pool-kind] .mud-tab", new() { HasTextString = "线索池" }).ClickAsync();
        await rep.Locator("[data-testid=pool-lead-name]").First.WaitForAsync();
        written.Add(await ShootAsync(rep, "lead-pool.png"));

        await Ui.OpenAsync(rep, "/customers");
        await rep.Locator("[data-testid=customer-row-name]").First.WaitForAsync();
        written.Add(await ShootAsync(rep, "customers.png"));

        await Ui.OpenAsync(rep, "/pipeline");
        await rep.Locator("[data-testid=card]").First.WaitForAsync();
        written.Add(await ShootAsync(rep, "pipeline.png"));

        await rep.Locator("[data-testid=card] a").First.ClickAsync();
        await rep.Locator("[data-testid=follow-up-form]").WaitForAsync();
        written.Add(await ShootAsync(rep, "customer.png", fullPage: true));

        await Ui.OpenAsync(rep, "/profile");
        written.Add(await ShootAsync(rep, "profile.png"));

        var phone = await NewPageAsync(390, 844);
        await Ui.LoginAsync(phone, "rep1");
        await Ui.OpenAsync(phone, "/customers");
        await phone.Locator("[data-testid=customer-row-name]").First.WaitForAsync();
        written.Add(await ShootAsync(phone, "customers-mobile.png"));

        AssertNoErrors();
        Assert.All(written, f => Assert.True(new FileInfo(f) is { Exists: true, Length: > 0 }, $"{f} is missing or empty"));
    }

    private static async Task<string> ShootAsync(IPage page, string name, bool fullPage = false)
    {
        var path = Path.Combine(Folder, name);
        File.Delete(path);
        await page.EvaluateAsync("() => document.fonts.ready");
        await page.ScreenshotAsync(new() { Path = path, Animations = ScreenshotAnimations.Disabled, Caret = ScreenshotCaret.Hide, FullPage = fullPage });
        return path;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tideflow.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Tideflow.slnx above {AppContext.BaseDirectory}.");
    }
}
