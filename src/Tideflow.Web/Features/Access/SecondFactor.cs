using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Access;

public sealed record TwoFactorSetup(bool Enabled, string SharedKey, string AuthenticatorUri);

public sealed record TotpCodeRequest([property: Required, RegularExpression(@"^\s*\d{3}\s?\d{3}\s*$", ErrorMessage = "Enter the 6-digit code from your authenticator app.")] string Code);

/// <summary>TOTP (RFC 6238) through ASP.NET Identity's authenticator provider: setup on the profile, step-up for sensitive actions.</summary>
public sealed class SecondFactor(TideflowDbContext db, UserManager<AppUser> users, CurrentUser me, IConfiguration config)
{
    private bool Required => config.GetValue("Security:SensitiveActionsNeedSecondFactor", true);

    public async Task<TwoFactorSetup> GetSetupAsync(CancellationToken ct = default)
    {
        var user = await Me(ct);
        var key = await users.GetAuthenticatorKeyAsync(user);
        if (string.IsNullOrEmpty(key))
        {
            await users.ResetAuthenticatorKeyAsync(user);
            key = await users.GetAuthenticatorKeyAsync(user);
        }
        var label = Uri.EscapeDataString($"Tideflow:{user.UserName}");
        return new TwoFactorSetup(user.TwoFactorEnabled, key!, $"otpauth://totp/{label}?secret={key}&issuer=Tideflow&digits=6");
    }

    public async Task EnableAsync(TotpCodeRequest request, CancellationToken ct = default)
    {
        Problem.ThrowIfInvalid(request);
        var user = await Me(ct);
        if (!await Verify(user, request.Code))
        {
            throw Problem.Invalid("code", "The code is not valid; check the time on your phone and try the next code.");
        }
        ManageUsers.ThrowOnIdentityErrors(await users.SetTwoFactorEnabledAsync(user, true));
    }

    public async Task DisableAsync(TotpCodeRequest request, CancellationToken ct = default)
    {
        Problem.ThrowIfInvalid(request);
        var user = await Me(ct);
        if (!user.TwoFactorEnabled)
        {
            return;
        }
        if (!await Verify(user, request.Code))
        {
            throw Problem.Invalid("code", "The code is not valid.");
        }
        ManageUsers.ThrowOnIdentityErrors(await users.SetTwoFactorEnabledAsync(user, false));
        ManageUsers.ThrowOnIdentityErrors(await users.ResetAuthenticatorKeyAsync(user));
    }

    /// <summary>A sensitive action carries a current authenticator code: proof of a second factor seconds ago.</summary>
    public async Task RequireFreshCodeAsync(string? code, CancellationToken ct = default)
    {
        if (!Required)
        {
            return;
        }
        var user = await Me(ct);
        if (!user.TwoFactorEnabled)
        {
            throw Problem.Forbidden("This action needs two-factor authentication. Set up an authenticator app in your profile first.");
        }
        if (string.IsNullOrWhiteSpace(code))
        {
            throw Problem.Invalid("totpCode", "Enter the current code from your authenticator app.");
        }
        if (!await Verify(user, code))
        {
            throw Problem.Invalid("totpCode", "The code is not valid.");
        }
    }

    /// <summary>Wrong codes count toward the same lockout as wrong passwords, so codes cannot be guessed at leisure.</summary>
    private async Task<bool> Verify(AppUser user, string code)
    {
        if (await users.IsLockedOutAsync(user))
        {
            throw Problem.Forbidden("Too many wrong codes or passwords; try again later.");
        }
        var ok = await users.VerifyTwoFactorTokenAsync(user, users.Options.Tokens.AuthenticatorTokenProvider,
            code.Replace(" ", "", StringComparison.Ordinal).Trim());
        if (ok)
        {
            await users.ResetAccessFailedCountAsync(user);
        }
        else
        {
            await users.AccessFailedAsync(user);
        }
        return ok;
    }

    private async Task<AppUser> Me(CancellationToken ct)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        return await db.Users.SingleAsync(u => u.Id == me.Id, ct);
    }
}

/// <summary>
/// Identity's authenticator codes, each accepted once (RFC 6238 §5.2): a code already used is refused for as long as it
/// could still be valid, so one read over a shoulder, from a screen share or a log cannot be used again — at sign-in
/// or for a sensitive action. Two requests with the same code at the same instant: the user row's concurrency stamp
/// lets one through.
/// </summary>
public sealed class OnceAuthenticatorTokenProvider(TimeProvider clock, IConfiguration config) : AuthenticatorTokenProvider<AppUser>
{
    /// <summary>Identity accepts the code of the step before and after the current 30 s one: at most 90 s, with margin.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(2);

    public override async Task<bool> ValidateAsync(string purpose, string token, UserManager<AppUser> manager, AppUser user)
    {
        if (!await base.ValidateAsync(purpose, token, manager, user))
        {
            return false;
        }
        if (!config.GetValue("Security:AuthenticatorCodesOnce", true))
        {
            return true;
        }
        var now = clock.GetUtcNow();
        var used = Used(user.UsedAuthenticatorCodes).Where(u => now - u.At < Lifetime).ToList();
        if (used.Any(u => u.Code == token))
        {
            return false;
        }
        used.Add((token, now));
        user.UsedAuthenticatorCodes = string.Join(",", used.Select(u => $"{u.Code}@{u.At.ToUnixTimeSeconds()}"));
        return (await manager.UpdateAsync(user)).Succeeded;
    }

    private static IEnumerable<(string Code, DateTimeOffset At)> Used(string? stored) =>
        (stored ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split('@'))
            .Where(p => p.Length == 2 && long.TryParse(p[1], out _))
            .Select(p => (p[0], DateTimeOffset.FromUnixTimeSeconds(long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))));
}

