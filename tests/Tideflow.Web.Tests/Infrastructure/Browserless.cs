using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Tideflow.Web.Tests.Infrastructure;

/// <summary>Logs in through the real HTML form (antiforgery token and cookie), as a browser would.</summary>
public static partial class Browserless
{
    public static HttpClient CookieClient(this TideflowApp app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public static async Task<HttpResponseMessage> LoginAsync(this HttpClient client, string userName, string password)
    {
        var page = await client.GetStringAsync("/account/login");
        var token = AntiforgeryField().Match(page).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(token), "login page without antiforgery token");
        return await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["userName"] = userName, ["password"] = password, ["returnUrl"] = "/customers",
        }));
    }

    public static async Task<HttpResponseMessage> SecondStepAsync(this HttpClient client, string code)
    {
        var page = await client.GetStringAsync("/account/login-2fa?returnUrl=%2Fcustomers");
        var token = AntiforgeryField().Match(page).Groups[1].Value;
        return await client.PostAsync("/account/login-2fa", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["code"] = code, ["returnUrl"] = "/customers",
        }));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
