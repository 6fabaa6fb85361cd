using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Access;

/// <summary>
/// Every route the app serves, called without credentials: 401 (API) or a redirect to the login page (UI),
/// unless it is on this explicit list of public routes.
/// </summary>
public sealed partial class EndpointInventoryTests(SqliteApp app)
{
    private static readonly Dictionary<string, string> PublicRoutes = new()
    {
        ["/account/login"] = "the login page and its form post",
        ["/account/login-2fa"] = "the second step of login",
        ["/account/logout"] = "logging out needs no session",
        ["/account/denied"] = "tells a signed-in user their role does not allow a page",
        ["/culture/{culture}"] = "switching the login page's language",
        ["/capture/{channelKey}"] = "public lead capture: web forms and third parties post here with a channel key (401 without a valid one)",
        ["/health/live"] = "load balancer probe",
        ["/health/ready"] = "load balancer probe (checks the database)",
        ["/openapi/{documentName}.json"] = "the API description is public; every operation in it needs a token",
        ["/scalar/{documentName?}"] = "the interactive API reference page (static)",
        ["/_blazor"] = "the SignalR hub; components authorize each page, and events re-check the data scope",
        ["/_blazor/negotiate"] = "SignalR negotiation",
        ["/_blazor/initializers"] = "Blazor boot metadata",
        ["/_blazor/disconnect"] = "Blazor circuit teardown",
        ["/_framework/blazor.server.js"] = "framework script",
        ["/_framework/blazor.web.js"] = "framework script",
        ["/_framework/opaque-redirect"] = "framework redirect helper",
        ["/{**path:file}"] = "static files (CSS, scripts, fonts) by path",
    };

    private static IEnumerable<(string Method, string Route)> Routes(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => !e.Metadata.Any(m => m.GetType().Name.Contains("StaticAsset", StringComparison.Ordinal)))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(m => (m, "/" + e.RoutePattern.RawText!.Trim('/'))))
            .Where(r => r.m != "OPTIONS")
            .Distinct();

    [Fact]
    public async Task Every_non_public_route_refuses_an_anonymous_caller()
    {
        var client = app.Anonymous();
        var failures = new List<string>();
        var checkedRoutes = 0;
        foreach (var (method, route) in Routes(app.Services))
        {
            if (PublicRoutes.ContainsKey(route) || route.StartsWith("/scalar", StringComparison.Ordinal) ||
                route.StartsWith("/_blazor", StringComparison.Ordinal) || route.StartsWith("/_framework", StringComparison.Ordinal))
            {
                continue;
            }
            var url = Parameter().Replace(route, m => m.Value.Contains(":guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString() : "x");
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method is "POST" or "PUT")
            {
                request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            }
            var response = await client.SendAsync(request);
            checkedRoutes++;
            // 415: a file upload route turns away a JSON body before anything, credentials included, is looked at.
            var refused = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.UnsupportedMediaType ||
                          (response.StatusCode == HttpStatusCode.Redirect &&
                           response.Headers.Location?.OriginalString.Contains("/account/login", StringComparison.Ordinal) == true);
            if (!refused)
            {
                failures.Add($"{method} {route} → {(int)response.StatusCode}");
            }
        }
        Assert.True(checkedRoutes > 20, $"only {checkedRoutes} routes checked: is the endpoint list read right?");
        Assert.True(failures.Count == 0, "Not refused anonymously (add auth, or list it as public with a reason):\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task Ui_pages_send_an_anonymous_visitor_to_the_login_page()
    {
        foreach (var page in new[] { "/", "/customers", "/leads", $"/leads/{Guid.NewGuid()}", "/leads/import", "/leads/duplicates", "/admin/users", "/admin/teams", "/admin/channels", "/admin/audit", "/admin/scoring", "/assignment", "/pool/flow", "/profile" })
        {
            var response = await app.Anonymous().GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("http://localhost/account/login", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_rep_opening_an_admin_page_is_told_it_is_not_allowed()
    {
        var org = await app.NewOrgAsync();
        var browser = app.CookieClient();
        await browser.LoginAsync(org.RepA.UserName, TestOrg.Password);
        var response = await browser.GetAsync("/admin/users");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/account/denied", response.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Contains("data-testid=\"not-allowed\"", await browser.GetStringAsync(response.Headers.Location), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/customers")).StatusCode);
        foreach (var page in new[] { "/admin/scoring", "/assignment", "/pool/flow" })
        {
            var denied = await browser.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
            Assert.StartsWith("http://localhost/account/denied", denied.Headers.Location!.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Public_routes_answer_without_credentials()
    {
        var client = app.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
        var openApi = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/customers\"", openApi, StringComparison.Ordinal);
        Assert.Contains("\"scheme\": \"bearer\"", openApi, StringComparison.Ordinal);
        Assert.Contains("\"title\": \"Tideflow API\"", openApi, StringComparison.Ordinal);
        var scalar = await app.CreateClient().GetAsync("/scalar");
        Assert.Equal(HttpStatusCode.OK, scalar.StatusCode);
        Assert.Contains("openapi/v1.json", await scalar.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_login_form_only_redirects_to_local_paths()
    {
        var org = await app.NewOrgAsync();
        var browser = app.CookieClient();
        var page = await browser.GetStringAsync("/account/login");
        var token = Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["userName"] = org.RepA.UserName, ["password"] = TestOrg.Password,
            ["returnUrl"] = "https://evil.example/phish",
        }));
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("/%09/evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("//evil.example")]
    [InlineData("https://evil.example")]
    public async Task Language_switch_redirects_only_to_local_paths(string returnUrl)
    {
        var response = await app.Anonymous().GetAsync($"/culture/en?returnUrl={returnUrl}");
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_login_post_without_the_antiforgery_token_is_refused()
    {
        var response = await app.Anonymous().PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["userName"] = "admin", ["password"] = "x",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
