using Microsoft.Playwright;

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
