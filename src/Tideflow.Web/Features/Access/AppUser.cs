using Microsoft.AspNetCore.Identity;
using Tideflow.Domain.Access;

namespace Tideflow.Web.Features.Access;

public sealed class AppUser : IdentityUser<Guid>, IOrganizationOwned
{
    public Guid OrganizationId { get; set; }
    public required string DisplayName { get; set; }
    public Role Role { get; set; }
    public Guid? TeamId { get; set; }
    public Guid? ManagerId { get; set; }
    public bool IsActive { get; set; } = true;
    /// <summary>Most open leads and customers routing gives this rep; null: no limit (R3.2).</summary>
    public int? Capacity { get; set; }
    public string Culture { get; set; } = "zh-CN";
    public string TimeZone { get; set; } = "Asia/Shanghai";
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Authenticator codes accepted in the last minutes, "code@unixtime,…": each is accepted once (at most 6).</summary>
    public string? UsedAuthenticatorCodes { get; set; }
}
