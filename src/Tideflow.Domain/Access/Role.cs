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
    /// <summary>Edit scoring and assignment rules, reps' capacity; re-score leads.</summary>
    ManageRules,
    /// <summary>Assign and reassign leads and customers by hand, with a reason (R3.4).</summary>
    AssignOwners,
    /// <summary>Figures about other people's work, such as the pool flow per pool and rep: managers and admins.</summary>
    ViewTeamFigures,
}

public static class RolePermissions
{
    public static bool Has(Role role, Permission permission) => permission switch
    {
        Permission.ManageUsers or Permission.ManageTeams or Permission.ViewAuditLog or Permission.ManageChannels or Permission.ManageRules => role == Role.Admin,
        Permission.ReviewLeads or Permission.AssignOwners or Permission.ViewTeamFigures => role is Role.Admin or Role.Manager,
        Permission.WorkCustomers => role is Role.Rep or Role.Manager or Role.Admin,
        Permission.ManageOwnApiTokens => true,
        _ => false,
    };
}
