using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

/// <summary>
/// Base of the browser tests: fresh browser contexts per test, closed afterwards, and a test fails when the
/// server logged an error or a page threw while it ran (a broken Blazor circuit otherwise shows up only as a timeout).
/// </summary>
public abstract class BrowserTest(BrowserApp app) : IAsyncLifetime
{
    private readonly List<IBrowserContext> contexts = [];

    protected BrowserApp App => app;

    public ValueTask InitializeAsync()
    {
        app.TakeErrors();
        return ValueTask.CompletedTask;
    }

    protected async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await app.NewContextAsync(width, height);
        contexts.Add(context);
        return await context.NewPageAsync();
    }

    /// <summary>
    /// Two admins open the same settings page; the second saves, and the first's save is refused with
    /// <paramref name="refusal"/> until it reloads. Both save the settings as they are, so what other tests use stays.
    /// </summary>
    /// <param name="loaded">An element that shows only once the page's settings have loaded.</param>
    protected async Task AssertStaleSaveRefusedAsync(string path, string saveButton, string loaded, string refusal)
    {
        var saved = "已保存";
        var first = await NewPageAsync();
        await Ui.LoginAsync(first, "admin");
        await Ui.OpenAsync(first, path);
        await Expect(first.Locator($"[data-testid={loaded}]").First).ToBeVisibleAsync();
        var second = await NewPageAsync();
        await Ui.LoginAsync(second, "admin");
        await Ui.OpenAsync(second, path);
        await Expect(second.Locator($"[data-testid={loaded}]").First).ToBeVisibleAsync();

        await second.ClickAsync($"[data-testid={saveButton}]");
        await Expect(second.Locator(".mud-snackbar", new() { HasTextString = saved })).ToHaveCountAsync(1);
        await first.ClickAsync($"[data-testid={saveButton}]");
        await Expect(first.Locator("[data-testid=form-error]")).ToContainTextAsync(refusal);
        await Expect(first.Locator(".mud-snackbar", new() { HasTextString = saved })).ToHaveCountAsync(0);

        // After a reload the page holds the newer version, and its save goes through.
        await Ui.OpenAsync(first, path);
        await Expect(first.Locator($"[data-testid={loaded}]").First).ToBeVisibleAsync();
        await first.ClickAsync($"[data-testid={saveButton}]");
        await Expect(first.Locator(".mud-snackbar", new() { HasTextString = saved })).ToHaveCountAsync(1);
        await Expect(first.Locator("[data-testid=form-error]")).ToHaveCountAsync(0);
        AssertNoErrors();
    }

    protected void AssertNoErrors()
    {
        var errors = app.TakeErrors();
        Assert.True(errors.Count == 0, "Errors while the test ran:\n" + string.Join("\n", errors));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var context in contexts)
        {
            await context.CloseAsync();
        }
        var errors = app.TakeErrors();
        if (errors.Count > 0)
        {
            TestContext.Current.TestOutputHelper?.WriteLine("Errors while the test ran:\n" + string.Join("\n", errors));
        }
        GC.SuppressFinalize(this);
    }
}
