using Microsoft.Playwright;
using System.Text.RegularExpressions;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class AdminTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task An_admin_adds_a_team_and_a_user_then_deactivates_the_user_who_can_no_longer_log_in()
    {
        var page = await NewPageAsync();
        await Ui.LoginAsync(page, "admin");

        await Ui.OpenAsync(page, "/admin/teams");
        await page.FillAsync(Ui.Field("team-name"), "华北销售组");
        await page.ClickAsync("[data-testid=save-team]");
        await Expect(page.Locator("[data-testid=team-node]", new() { HasText = "华北销售组" })).ToBeVisibleAsync();

        var row = await Ui.NewUserAsync(page, "rep7", "newrep123", "吴军");

        var newcomer = await NewPageAsync();
        await Ui.LoginAsync(newcomer, "rep7", "newrep123");
        await Expect(newcomer.Locator("[data-testid=customers-in-scope]")).ToHaveTextAsync("0");

        await Ui.WaitForInteractiveAsync(newcomer);

        await row.Locator("[data-testid=deactivate-user]").ClickAsync();
        await Expect(row.Locator("[data-testid=user-inactive]")).ToBeVisibleAsync();

        // The session ends: the next page load with the same cookie goes to the login page, and logging in again
        // fails. A new tab, because the open one's circuit may itself be sent to the login page at any moment.
        var again = await newcomer.Context.NewPageAsync();
        await again.GotoAsync("/customers");
        await again.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/account/login");
        await again.FillAsync("#userName", "rep7");
        await again.FillAsync("#password", "newrep123");
        await again.ClickAsync("[data-testid=login-form] button[type=submit]");
        await Expect(again.Locator("[data-testid=login-error]")).ToBeVisibleAsync();
        // The open tab's circuit is signed out within its revalidation interval (10 s).
        await Expect(newcomer).ToHaveURLAsync(new Regex("/account/login"), new() { Timeout = 30_000 });
        AssertNoErrors();
    }

    [Fact]
    public async Task A_user_deactivated_while_a_page_loads_is_sent_to_the_login_page_when_its_circuit_starts()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        var row = await Ui.NewUserAsync(admin, "rep8", "newrep123", "郑丽");

        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep8", "newrep123");
        // The page is served and its circuit's connection is open (signed in), but the circuit's first messages are
        // held while the user is deactivated: the race a page load can lose against an admin's click.
        var held = new List<IWebSocketFrame>();
        var released = false;
        IWebSocketRoute? server = null;
        // Forwarded as bytes: after the text handshake the frames are binary (blazorpack), Playwright hands a text frame's
        // UTF-8 bytes as Binary too, and SignalR's server reads text and binary frames alike into one stream.
        void Forward(IWebSocketFrame frame) => server!.Send(frame.Binary!);
        // The click waits until the connection is open and its first message held: then the server has signed the
        // connection in, and only the circuit's start waits.
        var firstHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await rep.RouteWebSocketAsync(new Regex("/_blazor"), ws =>
        {
            server = ws.ConnectToServer();
            ws.OnMessage(frame =>
            {
                lock (held)
                {
                    if (!released)
                    {
                        held.Add(frame);
                        firstHeld.TrySetResult();
                        return;
                    }
                }
                Forward(frame);
            });
        });
        await rep.GotoAsync("/customers");
        await firstHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await row.Locator("[data-testid=deactivate-user]").ClickAsync();
        await Expect(row.Locator("[data-testid=user-inactive]")).ToBeVisibleAsync();

        lock (held)
        {
            released = true;
            held.ForEach(Forward);
        }
        await rep.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/account/login");
        AssertNoErrors();
    }

    [Fact]
    public async Task A_rep_turns_on_two_factor_in_the_profile_and_then_logs_in_with_a_code()
    {
        var page = await NewPageAsync();
        await Ui.LoginAsync(page, "rep2");
        var totp = await Ui.EnableTwoFactorAsync(page);

        var again = await NewPageAsync();
        await Ui.LoginWithCodeAsync(again, "rep2", Ui.Password, totp.ComputeTotp());
        await Expect(again.Locator("[data-testid=current-user]")).ToHaveTextAsync("rep2");
        // Turning it on renewed the security stamp: the first page's circuit notices within its 10-s revalidation and
        // sends it to the login page. Waited for here, while the page is open, so the navigation does not land on a
        // closed browser in some later test.
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"), new() { Timeout = 30_000 });
        AssertNoErrors();
    }
}
