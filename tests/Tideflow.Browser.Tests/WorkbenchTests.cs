using System.Globalization;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class WorkbenchTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task An_admin_hands_a_stalled_customer_to_a_new_rep_it_leaves_the_stalled_list_and_the_rep_finds_it_under_new_assignments()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        // A rep of this test's own: the demo's reps belong to other tests.
        await Ui.NewUserAsync(admin, "rep.workbench", "workbench123", "吴桐");

        // The demo's grade-A customers nobody has moved for a week.
        await Ui.OpenAsync(admin, "/");
        var stalled = admin.Locator("[data-testid=list-stalled]");
        var before = int.Parse(await stalled.Locator("[data-testid=list-count]").InnerTextAsync(), CultureInfo.InvariantCulture);
        Assert.True(before > 1, $"the demo should have stalled grade-A customers, has {before}");
        await stalled.Locator("[data-testid=list-title]").ClickAsync();
        await admin.WaitForURLAsync(u => new Uri(u).PathAndQuery == "/customers?view=stalled");
        await Ui.WaitForInteractiveAsync(admin);
        await Expect(admin.Locator("[data-testid=active-view]")).ToContainTextAsync("高意向未推进");
        await Expect(admin.Locator("[data-testid=customer-table] .mud-table-page-number-information")).ToContainTextAsync($"{before}");

        var row = admin.Locator("[data-testid=customer-table] tr", new() { Has = admin.Locator("[data-testid=customer-row-name]") }).First;
        var name = (await row.Locator("[data-testid=customer-row-name]").InnerTextAsync()).Trim();
        await row.Locator("input[type=checkbox]").CheckAsync();
        var panel = admin.Locator("[data-testid=bulk-assign]");
        await Ui.SelectAsync(panel.Locator("[data-testid=assign-owner]"), "吴桐");
        await panel.Locator(Ui.Field("assign-reason")).FillAsync("新人接手高意向客户");
        await panel.Locator("[data-testid=assign]").ClickAsync();
        // Handed over, the customer gives its new owner a full week before it counts as stalled again.
        await Expect(admin.Locator("[data-testid=customer-table] .mud-table-page-number-information")).ToContainTextAsync($"{before - 1}");
        await Ui.OpenAsync(admin, "/");
        await Expect(admin.Locator("[data-testid=list-stalled] [data-testid=list-count]")).ToHaveTextAsync($"{before - 1}");

        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep.workbench", "workbench123");
        await Ui.WaitForInteractiveAsync(rep);
        var news = rep.Locator("[data-testid=list-new-assignments]");
        await Expect(news.Locator("[data-testid=list-count]")).ToHaveTextAsync("1");
        await Expect(news.Locator("[data-testid=list-row]")).ToContainTextAsync(name);
        await Expect(rep.Locator("[data-testid=list-stalled] [data-testid=list-count]")).ToHaveTextAsync("0");

        // The card's title opens the full list, which says what it shows and can be cleared.
        await news.Locator("[data-testid=list-title]").ClickAsync();
        await rep.WaitForURLAsync(u => new Uri(u).PathAndQuery == "/customers?view=new-assignments");
        await Ui.WaitForInteractiveAsync(rep);
        await Expect(rep.Locator("[data-testid=active-view]")).ToContainTextAsync("新分配");
        await Expect(rep.Locator("[data-testid=customer-row-name]")).ToHaveTextAsync(name);
        await rep.ClickAsync("[data-testid=clear-view]");
        await Expect(rep.Locator("[data-testid=active-view]")).ToHaveCountAsync(0);
        await rep.WaitForURLAsync(u => new Uri(u).PathAndQuery == "/customers");
        await Expect(rep.Locator("[data-testid=customer-row-name]")).ToHaveTextAsync(name);
        AssertNoErrors();
    }
}

public sealed class ReclaimSoonTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task The_reclaim_soon_card_opens_the_whole_list_with_at_least_the_cards_rows()
    {
        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep1");
        // Counted on the interactive page: while the circuit takes over from the prerendered one, the card is gone until
        // its data loads again, and a count then would read 0.
        await Ui.WaitForInteractiveAsync(rep);
        var card = rep.Locator("[data-testid=due-soon]");
        await card.WaitForAsync();
        var shown = await card.Locator("[data-testid=due-soon-row]").CountAsync();
        await rep.ClickAsync("[data-testid=due-soon-title]");
        await rep.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/workbench/reclaim-soon");
        await Ui.WaitForInteractiveAsync(rep);
        await Expect(rep.Locator("h4")).ToHaveTextAsync("即将回收");
        if (shown == 0)
        {
            await Expect(rep.Locator("[data-testid=nothing-due-soon]")).ToBeVisibleAsync();
        }
        else
        {
            await Expect(rep.Locator("[data-testid=due-soon-table] [data-testid=due-soon-row]").First).ToBeVisibleAsync();
            Assert.True(await rep.Locator("[data-testid=due-soon-table] [data-testid=due-soon-row]").CountAsync() >= shown);
        }
        AssertNoErrors();
    }
}
