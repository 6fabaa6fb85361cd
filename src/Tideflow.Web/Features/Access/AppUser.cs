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
    public string Culture { get; set; } = "zh-CN";
    public string TimeZone { get; set; } = "Asia/Shanghai";
    public DateTimeOffset CreatedAt { get; set; }
}
