using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;

namespace Tideflow.Web.Features.Access;

/// <summary>
/// Password and TOTP sign-in as classic form posts (cookies cannot be set from an interactive circuit).
/// Every attempt is audited; failures say nothing about which part was wrong.
/// </summary>
public static class SignInEndpoints
{
    public static void MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/login", LoginAsync).ExcludeFromDescription();
        app.MapPost("/account/login-2fa", LoginTwoFactorAsync).ExcludeFromDescription();
        app.MapPost("/account/logout", LogoutAsync).ExcludeFromDescription()
            .WithMetadata(new Microsoft.AspNetCore.Antiforgery.RequireAntiforgeryTokenAttribute(true));
        app.MapGet("/culture/{culture}", SetCultureAsync).ExcludeFromDescription();
    }

    private static async Task<IResult> LoginAsync([FromForm] string? userName, [FromForm] string? password,
        [FromForm] string? returnUrl, SignInManager<AppUser> signIn, TideflowDbContext db, HttpContext http)
    {
        var back = LocalOnly(returnUrl);
        if (string.IsNullOrWhiteSpace(userName) || string.IsNullOrEmpty(password))
        {
            return Results.Redirect($"/account/login?error=missing&returnUrl={Uri.EscapeDataString(back)}");
        }
        var user = await signIn.UserManager.FindByNameAsync(userName.Trim());
        var result = user is { IsActive: true }
            ? await signIn.PasswordSignInAsync(user, password, isPersistent: true, lockoutOnFailure: true)
            : Microsoft.AspNetCore.Identity.SignInResult.Failed;
        if (result.Succeeded)
        {
            await AuditSignIn(db, user!, AuditActions.Login, null);
            SetCultureCookie(http, user!.Culture);
            return Results.Redirect(back);
        }
        if (result.RequiresTwoFactor)
        {
            return Results.Redirect($"/account/login-2fa?returnUrl={Uri.EscapeDataString(back)}");
        }
        var reason = result.IsLockedOut ? "locked-out" : user is { IsActive: false } ? "inactive" : "bad-credentials";
        if (user is not null)
        {
            await AuditSignIn(db, user, AuditActions.LoginFailed, reason);
        }
        else
        {
            db.Audit(AuditActions.LoginFailed, nameof(AppUser), null, new { userName = userName.Trim(), reason = "unknown-user" });
            await db.SaveChangesAsync();
        }
        var error = result.IsLockedOut ? "locked" : "invalid";
        return Results.Redirect($"/account/login?error={error}&returnUrl={Uri.EscapeDataString(back)}");
    }

    private static async Task<IResult> LoginTwoFactorAsync([FromForm] string? code, [FromForm] string? returnUrl,
        SignInManager<AppUser> signIn, TideflowDbContext db, HttpContext http)
    {
        var back = LocalOnly(returnUrl);
        var user = await signIn.GetTwoFactorAuthenticationUserAsync();
        if (user is null)
        {
            return Results.Redirect("/account/login");
        }
        var cleaned = (code ?? "").Replace(" ", "", StringComparison.Ordinal).Trim();
        var result = await signIn.TwoFactorAuthenticatorSignInAsync(cleaned, isPersistent: true, rememberClient: false);
        if (result.Succeeded)
        {
            await AuditSignIn(db, user, AuditActions.Login, "totp");
            SetCultureCookie(http, user.Culture);
            return Results.Redirect(back);
        }
        await AuditSignIn(db, user, AuditActions.LoginFailed, result.IsLockedOut ? "locked-out" : "bad-totp");
        return Results.Redirect($"/account/login-2fa?error={(result.IsLockedOut ? "locked" : "invalid")}&returnUrl={Uri.EscapeDataString(back)}");
    }

    private static async Task<IResult> LogoutAsync(SignInManager<AppUser> signIn, TideflowDbContext db, CurrentUser me)
    {
        if (me.IsAuthenticated)
        {
            db.Audit(AuditActions.Logout, nameof(AppUser), me.Id.ToString());
            await db.SaveChangesAsync();
        }
        await signIn.SignOutAsync();
        return Results.Redirect("/account/login");
    }

    /// <summary>Switches the UI language; remembered on the user so it follows them to any browser.</summary>
    private static async Task<IResult> SetCultureAsync(string culture, string? returnUrl, HttpContext http,
        TideflowDbContext db, CurrentUser me)
    {
        if (!Profile.Cultures.Contains(culture))
        {
            return Results.Problem(statusCode: 400, title: "Invalid input",
                detail: $"culture: supported are {string.Join(", ", Profile.Cultures)}.");
        }
        SetCultureCookie(http, culture);
        if (me.IsAuthenticated)
        {
            var user = await db.Users.SingleAsync(u => u.Id == me.Id);
            user.Culture = culture;
            await db.SaveChangesAsync();
        }
        return Results.Redirect(LocalOnly(returnUrl));
    }

    private static async Task AuditSignIn(TideflowDbContext db, AppUser user, string action, string? reason)
    {
        db.Audit(action, nameof(AppUser), user.Id.ToString(), reason is null ? null : new { reason },
            organizationId: user.OrganizationId, actorId: user.Id, actorName: user.UserName);
        await db.SaveChangesAsync();
    }

    public static void SetCultureCookie(HttpContext http, string culture) =>
        http.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
            CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(culture)),
            new CookieOptions { MaxAge = TimeSpan.FromDays(365), HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true });

    /// <summary>Open-redirect guard: only paths on this site.</summary>
    public static string LocalOnly(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) &&
        !url.Contains('\\', StringComparison.Ordinal) && !url.Any(char.IsControl)
            ? url
            : "/";
}
