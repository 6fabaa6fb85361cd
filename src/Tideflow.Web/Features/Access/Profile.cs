using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Access;

public sealed record MeView(Guid Id, string UserName, string DisplayName, string? Email, string Role,
    Guid OrganizationId, string OrganizationName, Guid? TeamId, string Culture, string TimeZone, bool TwoFactorEnabled);

public sealed record PreferencesRequest(
    [property: Required] string Culture,
    [property: Required] string TimeZone);

public sealed class Profile(TideflowDbContext db, CurrentUser me)
{
    public static readonly string[] Cultures = ["zh-CN", "en"];

    public async Task<MeView> GetAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        return await (from u in db.Users.AsNoTracking()
                      join o in db.Organizations on u.OrganizationId equals o.Id
                      where u.Id == me.Id
                      select new MeView(u.Id, u.UserName!, u.DisplayName, u.Email, u.Role.ToString(), o.Id, o.Name,
                          u.TeamId, u.Culture, u.TimeZone, u.TwoFactorEnabled)).SingleAsync(ct);
    }

    public async Task<MeView> SetPreferencesAsync(PreferencesRequest request, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        Problem.ThrowIfInvalid(request);
        if (!Cultures.Contains(request.Culture))
        {
            throw Problem.Invalid("culture", $"Supported: {string.Join(", ", Cultures)}.");
        }
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(request.TimeZone, out _))
        {
            throw Problem.Invalid("timeZone", "Unknown IANA time zone, e.g. Asia/Shanghai.");
        }
        var user = await db.Users.SingleAsync(u => u.Id == me.Id, ct);
        user.Culture = request.Culture;
        user.TimeZone = request.TimeZone;
        await db.SaveChangesAsync(ct);
        return await GetAsync(ct);
    }
}

public static class ProfileEndpoints
{
    public static void MapProfile(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/me").WithTags("Profile");
        g.MapGet("/", (Profile h, CancellationToken ct) => h.GetAsync(ct));
        g.MapPut("/preferences", (PreferencesRequest r, Profile h, CancellationToken ct) => h.SetPreferencesAsync(r, ct));
        g.MapGet("/two-factor", (SecondFactor h, CancellationToken ct) => h.GetSetupAsync(ct));
        g.MapPost("/two-factor/enable", async (TotpCodeRequest r, SecondFactor h, CancellationToken ct) =>
        {
            await h.EnableAsync(r, ct);
            return Results.NoContent();
        });
        g.MapPost("/two-factor/disable", async (TotpCodeRequest r, SecondFactor h, CancellationToken ct) =>
        {
            await h.DisableAsync(r, ct);
            return Results.NoContent();
        });
    }
}
