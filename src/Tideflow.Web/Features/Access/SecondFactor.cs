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
        var counted = ok ? await users.ResetAccessFailedCountAsync(user) : await users.AccessFailedAsync(user);
        if (!counted.Succeeded)
        {
            // Another request changed the user meanwhile (e.g. the same code at the same instant): Identity leaves our copy
            // marked changed, and the action's own save would then fail on it.
            await db.Entry(user).ReloadAsync();
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
/// or for a sensitive action.
/// </summary>
public sealed class OnceAuthenticatorTokenProvider(TideflowDbContext db, TimeProvider clock, IConfiguration config) : AuthenticatorTokenProvider<AppUser>
{
    /// <summary>
    /// Identity accepts the codes of two 30 s steps either side of the current one, so a code is good for 150 s of the
    /// server's time: it is remembered a little longer.
    /// </summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(3);

    public override async Task<bool> ValidateAsync(string purpose, string token, UserManager<AppUser> manager, AppUser user)
    {
        // Identity reads the code as a number: "0123456" or "+123456" would pass as 123456 and slip past the list.
        if (token.Length != 6 || !token.All(char.IsAsciiDigit) || !await base.ValidateAsync(purpose, token, manager, user))
        {
            return false;
        }
        if (!config.GetValue("Security:AuthenticatorCodesOnce", true))
        {
            return true;
        }
        var now = clock.GetUtcNow();
        var stored = await db.Users.AsNoTracking().Where(u => u.Id == user.Id).Select(u => u.UsedAuthenticatorCodes).SingleAsync();
        var used = Used(stored).Where(u => now - u.At < Lifetime).ToList();
        if (used.Any(u => u.Code == token))
        {
            return false;
        }
        var next = string.Join(",", used.Append((Code: token, At: now)).Select(u => $"{u.Code}@{u.At.ToUnixTimeSeconds()}"));
        // Written only over the list just read: of two requests with one code at the same instant, one changes it and
        // the other finds it changed. The new concurrency stamp makes any other save of this user meanwhile a conflict.
        var stamp = Guid.NewGuid().ToString();
        if (await db.Users.Where(u => u.Id == user.Id && u.UsedAuthenticatorCodes == stored)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.UsedAuthenticatorCodes, next).SetProperty(x => x.ConcurrencyStamp, stamp)) != 1)
        {
            return false;
        }
        // Identity writes the whole user row when it saves it later in this request (the failed-attempt count): it must
        // write the list as it is now, and check its concurrency against the stamp just written.
        var entry = db.Entry(user);
        foreach (var (name, value) in new[] { (nameof(AppUser.UsedAuthenticatorCodes), next), (nameof(AppUser.ConcurrencyStamp), stamp) })
        {
            var property = entry.Property(name);
            property.CurrentValue = value;
            property.OriginalValue = value;
            property.IsModified = false;
        }
        return true;
    }

    private static IEnumerable<(string Code, DateTimeOffset At)> Used(string? stored)
    {
        foreach (var entry in (stored ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split('@');
            if (parts.Length == 2 && long.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var seconds))
            {
                yield return (parts[0], DateTimeOffset.FromUnixTimeSeconds(seconds));
            }
        }
    }
}
