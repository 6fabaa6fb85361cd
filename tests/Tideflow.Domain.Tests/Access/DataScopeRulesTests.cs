using Tideflow.Domain.Access;

namespace Tideflow.Domain.Tests.Access;

public class DataScopeRulesTests
{
    private static readonly Guid Root = Guid.NewGuid(), East = Guid.NewGuid(), South = Guid.NewGuid(), EastA = Guid.NewGuid();
    private static readonly TeamNode[] Tree =
    [
        new(Root, null), new(East, Root), new(South, Root), new(EastA, East),
    ];

    [Theory]
    [InlineData(Role.Rep, ScopeLevel.Own)]
    [InlineData(Role.Manager, ScopeLevel.Team)]
    [InlineData(Role.Finance, ScopeLevel.All)]
    [InlineData(Role.Admin, ScopeLevel.All)]
    public void Each_role_has_its_scope_level(Role role, ScopeLevel expected) =>
        Assert.Equal(expected, DataScopeRules.LevelFor(role));

    [Fact]
    public void Subtree_includes_the_team_and_every_team_below_it_but_not_siblings()
    {
        Assert.Equal(new HashSet<Guid> { East, EastA }, DataScopeRules.Subtree(East, Tree));
        Assert.Equal(new HashSet<Guid> { Root, East, South, EastA }, DataScopeRules.Subtree(Root, Tree));
        Assert.Equal(new HashSet<Guid> { South }, DataScopeRules.Subtree(South, Tree));
    }

    [Fact]
    public void Subtree_survives_a_cycle_in_bad_data()
    {
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        Assert.Equal(new HashSet<Guid> { a, b }, DataScopeRules.Subtree(a, [new(a, b), new(b, a)]));
    }

    [Fact]
    public void A_manager_sees_owners_in_their_team_recursively_and_themselves()
    {
        var manager = Guid.NewGuid();
        var repEast = Guid.NewGuid();
        var repEastA = Guid.NewGuid();
        var repSouth = Guid.NewGuid();
        Member[] members = [new(manager, East), new(repEast, East), new(repEastA, EastA), new(repSouth, South)];

        var visible = DataScopeRules.VisibleOwners(manager, Role.Manager, East, Tree, members);

        Assert.Equal(new HashSet<Guid> { manager, repEast, repEastA }, visible);
    }

    [Fact]
    public void A_rep_sees_only_themselves_and_admin_and_finance_see_all()
    {
        var rep = Guid.NewGuid();
        Assert.Equal(new HashSet<Guid> { rep }, DataScopeRules.VisibleOwners(rep, Role.Rep, East, Tree, []));
        Assert.Null(DataScopeRules.VisibleOwners(rep, Role.Admin, null, Tree, []));
        Assert.Null(DataScopeRules.VisibleOwners(rep, Role.Finance, null, Tree, []));
    }

    [Fact]
    public void A_manager_without_a_team_sees_only_their_own()
    {
        var manager = Guid.NewGuid();
        Assert.Equal(new HashSet<Guid> { manager }, DataScopeRules.VisibleOwners(manager, Role.Manager, null, Tree, []));
    }

    [Fact]
    public void A_team_cannot_move_under_itself_or_its_descendants()
    {
        Assert.NotNull(DataScopeRules.ParentProblem(East, East, Tree));
        Assert.NotNull(DataScopeRules.ParentProblem(East, EastA, Tree));
        Assert.NotNull(DataScopeRules.ParentProblem(East, Guid.NewGuid(), Tree));
        Assert.Null(DataScopeRules.ParentProblem(EastA, South, Tree));
        Assert.Null(DataScopeRules.ParentProblem(East, null, Tree));
    }

    [Fact]
    public void Only_admins_manage_users_teams_and_read_the_audit_log()
    {
        foreach (var role in Enum.GetValues<Role>())
        {
            var admin = role == Role.Admin;
            Assert.Equal(admin, RolePermissions.Has(role, Permission.ManageUsers));
            Assert.Equal(admin, RolePermissions.Has(role, Permission.ManageTeams));
            Assert.Equal(admin, RolePermissions.Has(role, Permission.ViewAuditLog));
            Assert.True(RolePermissions.Has(role, Permission.ManageOwnApiTokens));
        }
        Assert.False(RolePermissions.Has(Role.Finance, Permission.WorkCustomers));
    }

    [Fact]
    public void Managers_and_admins_see_figures_about_their_reps_work_reps_and_finance_do_not()
    {
        Assert.Equal([Role.Manager, Role.Admin], Enum.GetValues<Role>().Where(r => RolePermissions.Has(r, Permission.ViewTeamFigures)));
    }
}
