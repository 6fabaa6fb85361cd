using System.Net;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Access;

public abstract class SessionTests<TApp>(TApp app) where TApp : TideflowApp
{
    [Fact]
    public async Task A_user_logs_in_with_the_form_and_the_cookie_opens_the_api_and_the_login_is_audited()
    {
        var org = await app.NewOrgAsync();
        var browser = app.CookieClient();
        var login = await browser.LoginAsync(org.RepA.UserName, TestOrg.Password);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/customers", login.Headers.Location?.OriginalString);
        var me = await (await browser.GetAsync("/api/me")).ReadAsync<MeView>();
        Assert.Equal(org.RepA.Id, me.Id);
        var audit = await (await app.As(org.Admin).GetAsync($"/api/audit?action=login&actorId={org.RepA.Id}")).ReadAsync<Page<AuditRow>>();
        Assert.Single(audit.Items);
        Assert.Equal("127.0.0.1", audit.Items[0].Ip);
    }

    [Fact]
    public async Task A_user_with_two_factor_needs_the_authenticator_code_after_the_password()
    {
        var org = await app.NewOrgAsync();
        var browser = app.CookieClient();
        var first = await browser.LoginAsync(org.Admin.UserName, TestOrg.Password);
        Assert.StartsWith("/account/login-2fa", first.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/me")).StatusCode);

        var wrong = await browser.SecondStepAsync(org.AdminTotpCode() == "000000" ? "111111" : "000000");
        Assert.Contains("error=invalid", wrong.Headers.Location?.OriginalString, StringComparison.Ordinal);
        var right = await browser.SecondStepAsync(org.AdminTotpCode());
        Assert.Equal("/customers", right.Headers.Location?.OriginalString);
        Assert.Equal(org.Admin.Id, (await (await browser.GetAsync("/api/me")).ReadAsync<MeView>()).Id);
        var audit = await (await app.As(org.Admin).GetAsync($"/api/audit?actorId={org.Admin.Id}&action=login")).ReadAsync<Page<AuditRow>>();
        Assert.Contains("totp", Assert.Single(audit.Items).Changes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_authenticator_code_is_accepted_once_at_sign_in_and_for_a_sensitive_action_and_a_used_one_is_refused()
    {
        var org = await app.NewOrgAsync();
        await using var node = app.SecondNode(new Dictionary<string, string> { ["Security:AuthenticatorCodesOnce"] = "true" });
        var code = org.AdminTotpCode();
        var browser = node.CookieClient();
        await browser.LoginAsync(org.Admin.UserName, TestOrg.Password);
        Assert.Equal("/customers", (await browser.SecondStepAsync(code)).Headers.Location?.OriginalString);

        // Whoever saw the code as it was typed cannot use it again, for a second sign-in or to change a role.
        var replayed = node.CookieClient();
        await replayed.LoginAsync(org.Admin.UserName, TestOrg.Password);
        Assert.Contains("error=invalid", (await replayed.SecondStepAsync(code)).Headers.Location?.OriginalString, StringComparison.Ordinal);
        var (_, errors) = await (await node.As(org.Admin).PutJson($"/api/users/{org.RepA.Id}/role", new { role = "Manager", totpCode = code }))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("The code is not valid.", errors["totpCode"]);

        // Nor written another way that reads as the same number.
        Assert.Contains("error=invalid", (await replayed.SecondStepAsync("0" + code)).Headers.Location?.OriginalString, StringComparison.Ordinal);

        // The authenticator's next code works once, even when two requests bring it at the same instant.
        var next = new OtpNet.Totp(OtpNet.Base32Encoding.ToBytes(org.AdminTotpKey)).ComputeTotp(TimeProvider.System.GetUtcNow().UtcDateTime.AddSeconds(30));
        using var start = new SemaphoreSlim(0);
        var changes = new[] { "Manager", "Admin" }.Select(async role =>
        {
            await start.WaitAsync();
            return (await node.As(org.Admin).PutJson($"/api/users/{org.RepA.Id}/role", new { role, totpCode = next })).StatusCode;
        }).ToList();
        start.Release(changes.Count);
        var codes = await Task.WhenAll(changes);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.BadRequest], codes.Order());
    }

    [Fact]
    public async Task A_wrong_password_gets_a_generic_message_is_audited_and_five_lock_the_account()
    {
        var org = await app.NewOrgAsync();
        var browser = app.CookieClient();
        for (var i = 0; i < 5; i++)
        {
            var wrong = await browser.LoginAsync(org.RepA.UserName, "wrong-password");
            Assert.Contains(i < 4 ? "error=invalid" : "error=locked", wrong.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }
        var right = await browser.LoginAsync(org.RepA.UserName, TestOrg.Password);
        Assert.Contains("error=locked", right.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/me")).StatusCode);

        var unknown = await browser.LoginAsync("nobody-" + Guid.NewGuid(), "whatever1");
        Assert.Contains("error=invalid", unknown.Headers.Location?.OriginalString, StringComparison.Ordinal);

        var audit = await (await app.As(org.Admin).GetAsync($"/api/audit?action=login-failed&actorId={org.RepA.Id}")).ReadAsync<Page<AuditRow>>();
        Assert.Equal(6, audit.Total);
        Assert.Contains(audit.Items, a => a.Changes!.Contains("locked-out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deactivating_a_user_ends_their_cookie_session_and_tokens_on_the_next_request()
    {
        var org = await app.NewOrgAsync();
        var browser = app.CookieClient();
        await browser.LoginAsync(org.RepA.UserName, TestOrg.Password);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/customers")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.RepA).GetAsync("/api/customers")).StatusCode);

        var off = await app.As(org.Admin).PostAsync($"/api/users/{org.RepA.Id}/deactivate", null);
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/customers")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.As(org.RepA).GetAsync("/api/customers")).StatusCode);
        var again = await app.CookieClient().LoginAsync(org.RepA.UserName, TestOrg.Password);
        Assert.Contains("error=invalid", again.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_change_counts_on_the_very_next_request_and_needs_a_fresh_authenticator_code()
    {
        var org = await app.NewOrgAsync();
        var browser = app.CookieClient();
        await browser.LoginAsync(org.RepA.UserName, TestOrg.Password);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync("/api/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.RepA).GetAsync("/api/users")).StatusCode);

        var noCode = await app.As(org.Admin).PutJson($"/api/users/{org.RepA.Id}/role", new { role = "Admin" });
        Assert.Equal(HttpStatusCode.BadRequest, noCode.StatusCode);
        Assert.True((await noCode.JsonAsync()).GetProperty("errors").TryGetProperty("totpCode", out _));
        var badCode = await app.As(org.Admin).PutJson($"/api/users/{org.RepA.Id}/role", new { role = "Admin", totpCode = "123456" == org.AdminTotpCode() ? "654321" : "123456" });
        Assert.Equal(HttpStatusCode.BadRequest, badCode.StatusCode);

        var ok = await app.As(org.Admin).PutJson($"/api/users/{org.RepA.Id}/role", new { role = "Admin", totpCode = org.AdminTotpCode() });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/users")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.RepA).GetAsync("/api/users")).StatusCode);
        var audit = await (await app.As(org.Admin).GetAsync($"/api/audit?action=role-change&entityId={org.RepA.Id}")).ReadAsync<Page<AuditRow>>();
        Assert.Contains("Admin", Assert.Single(audit.Items).Changes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_admin_without_two_factor_cannot_change_roles_and_is_told_why()
    {
        var org = await app.NewOrgAsync();
        await app.InDbAsync(async db =>
        {
            var admin = await db.Users.SingleAsync(u => u.Id == org.Admin.Id);
            admin.TwoFactorEnabled = false;
            return await db.SaveChangesAsync();
        });
        var response = await app.As(org.Admin).PutJson($"/api/users/{org.RepA.Id}/role", new { role = "Manager", totpCode = "123456" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("two-factor", (await response.JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_token_is_refused_at_once()
    {
        var org = await app.NewOrgAsync();
        var created = await (await app.As(org.RepA).PostJson("/api/tokens", new { name = "script" })).ReadAsync<CreatedApiToken>();
        Assert.Equal(HttpStatusCode.OK, (await app.WithToken(created.Secret).GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await app.As(org.RepA).DeleteAsync($"/api/tokens/{created.Token.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithToken(created.Secret).GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.WithToken("tf_made-up").GetAsync("/api/me")).StatusCode);
        var stored = await app.InDbAsync(db => db.ApiTokens.SingleAsync(t => t.Id == created.Token.Id));
        Assert.NotEqual(created.Secret, stored.Hash);
        Assert.DoesNotContain(created.Secret, stored.Hash, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_app_nodes_on_one_database_share_logins()
    {
        var org = await app.NewOrgAsync();
        await using var second = app.SecondNode();
        var browser = app.CookieClient();
        await browser.LoginAsync(org.RepA.UserName, TestOrg.Password);
        var cookie = string.Join("; ", browser.DefaultRequestHeaders.TryGetValues("Cookie", out var v) ? v : []);
        var cookies = await CookiesOf(browser);

        var other = second.Anonymous();
        other.DefaultRequestHeaders.Add("Cookie", cookies);
        var me = await (await other.GetAsync("/api/me")).ReadAsync<MeView>();
        Assert.Equal(org.RepA.Id, me.Id);
        Assert.Empty(cookie);
    }

    private static async Task<string> CookiesOf(HttpClient browser)
    {
        // The test client keeps cookies in its handler; a request echoes them back to us.
        var response = await browser.GetAsync("/api/me");
        var sent = response.RequestMessage!.Headers.TryGetValues("Cookie", out var values) ? values : [];
        var header = string.Join("; ", sent);
        Assert.Contains("tideflow.auth", header, StringComparison.Ordinal);
        return header;
    }
}

public sealed class SessionTests_Sqlite(SqliteApp app) : SessionTests<SqliteApp>(app);
public sealed class SessionTests_Postgres(PostgresApp app) : SessionTests<PostgresApp>(app);
