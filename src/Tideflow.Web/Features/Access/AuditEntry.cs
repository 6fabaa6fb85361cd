namespace Tideflow.Web.Features.Access;

/// <summary>Append-only: SaveChanges refuses to modify or delete one, and no endpoint offers it.</summary>
public sealed class AuditEntry : IOrganizationOwned
{
    public long Id { get; set; }
    public Guid OrganizationId { get; set; }
    public DateTimeOffset At { get; set; }
    public Guid? ActorId { get; set; }
    public string? ActorName { get; set; }
    public string? Ip { get; set; }
    public required string Action { get; set; }
    public string? EntityType { get; set; }
    public string? EntityId { get; set; }
    /// <summary>JSON object: field → [before, after].</summary>
    public string? Changes { get; set; }
}

public static class AuditActions
{
    public const string Create = "create";
    public const string Update = "update";
    public const string Delete = "delete";
    public const string Login = "login";
    public const string LoginFailed = "login-failed";
    public const string Logout = "logout";
    public const string RoleChange = "role-change";
    public const string ApiTokenRejected = "api-token-rejected";
    /// <summary>A rep took a customer or lead from a pool: one entry for the take, its history row and its first-contact task.</summary>
    public const string Claim = "claim";
}
