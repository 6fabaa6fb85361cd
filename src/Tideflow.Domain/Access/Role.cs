namespace Tideflow.Domain.Access;

public enum Role
{
    Rep,
    Manager,
    Finance,
    Admin,
}

public enum Permission
{
    ManageUsers,
    ManageTeams,
    ViewAuditLog,
    ManageOwnApiTokens,
    WorkCustomers,
    ManageChannels,
    ReviewLeads,
}

public static class RolePermissions
{
    public static bool Has(Role role, Permission permission) => permission switch
    {
        Permission.ManageUsers or Permission.ManageTeams or Permission.ViewAuditLog or Permission.ManageChannels => role == Role.Admin,
        Permission.ReviewLeads => role is Role.Admin or Role.Manager,
        Permission.WorkCustomers => role is Role.Rep or Role.Manager or Role.Admin,
        Permission.ManageOwnApiTokens => true,
        _ => false,
    };
}
