using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Tideflow.Web.Features.Access;

/// <summary>
/// Puts the role into the principal so pages can declare [Authorize(Roles = …)]. It is rebuilt on every
/// request (security stamp validation interval is zero); handlers still check the role from the database.
/// </summary>
public sealed class RoleClaims(UserManager<AppUser> users, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<AppUser>(users, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(AppUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(Options.ClaimsIdentity.RoleClaimType, user.Role.ToString()));
        return identity;
    }
}
