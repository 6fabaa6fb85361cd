using System.Text.RegularExpressions;
using Tideflow.Bench.Generation;

namespace Tideflow.Bench.Tests.Generation;

/// <summary>Pure generation only: no database, so these run in milliseconds.</summary>
public sealed partial class GeneratorTests
{
    private static readonly Scale Tiny = new("tiny", 5_003, 20, 200, BenchRepCustomers: 700);

    [GeneratedRegex(@"^\+861[3-9][0-9]{9}$")]
    private static partial Regex ChineseMobile();

    [Fact]
    public void Small_scale_has_the_promised_counts()
    {
        var g = new Generator(Scale.Small, 42);
        var org = g.Organisation();
        var customers = g.Customers(org).ToList();
        Assert.Equal(10_000, customers.Count);
        Assert.Equal(20, org.Teams.Count);
        Assert.Equal(200, org.Reps.Count);
        Assert.Equal(200, org.Users.Count(u => u.Role == "Rep"));
        Assert.Equal(2_000, customers.Count(c => c.OwnerId == org.BenchRep.Id));
        Assert.Equal(3, org.Tokens.Count);
    }

    [Fact]
    public void Large_scale_is_a_million_customers_in_the_same_organisation_shape()
    {
        Assert.Equal(1_000_000, Scale.Large.Customers);
        Assert.Equal(Scale.Small.Teams, Scale.Large.Teams);
        Assert.Equal(Scale.Small.Reps, Scale.Large.Reps);
        Assert.Equal(2_000, Scale.Large.BenchRepCustomers);
    }

    [Fact]
    public void The_bench_rep_owns_exactly_the_requested_number_even_when_it_does_not_divide_the_total()
    {
        var g = new Generator(Tiny, 7);
        var org = g.Organisation();
        Assert.Equal(700, g.Customers(org).Count(c => c.OwnerId == org.BenchRep.Id));
    }

    [Fact]
    public void Every_mobile_is_a_valid_mainland_number_in_E164()
    {
        var g = new Generator(Tiny, 1);
        foreach (var c in g.Customers(g.Organisation()))
        {
            Assert.Matches(ChineseMobile(), c.Mobile);
            Assert.Contains(c.Mobile[3..6], Generator.MobilePrefixes);
        }
        Assert.All(Generator.MobilePrefixes, p => Assert.InRange(p[1], '3', '9'));
    }

    [Fact]
    public void Customers_have_chinese_names_regions_industries_and_some_emails()
    {
        var g = new Generator(Tiny, 3);
        var customers = g.Customers(g.Organisation()).ToList();
        Assert.All(customers, c =>
        {
            Assert.Matches(@"^\p{IsCJKUnifiedIdeographs}{2,4}$", c.Name);
            Assert.Matches(@"^\p{IsCJKUnifiedIdeographs}+ \p{IsCJKUnifiedIdeographs}+$", c.Region);
            Assert.EndsWith("公司", c.Company, StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(c.Industry));
            Assert.True(c.Email is null || Regex.IsMatch(c.Email, @"^[a-z]+[0-9]+@[a-z0-9.]+$"));
        });
        var withEmail = customers.Count(c => c.Email is not null) / (double)customers.Count;
        Assert.InRange(withEmail, 0.2, 0.4);
        Assert.True(customers.Select(c => c.Region).Distinct().Count() > 20);
    }

    [Fact]
    public void References_point_at_rows_that_exist_in_the_same_organisation()
    {
        var g = new Generator(Tiny, 11);
        var org = g.Organisation();
        var orgId = org.Organization.Id;
        var teams = org.Teams.ToDictionary(t => t.Id);
        var users = org.Users.ToDictionary(u => u.Id);

        Assert.Single(org.Teams, t => t.ParentTeamId is null);
        Assert.All(org.Teams, t =>
        {
            Assert.Equal(orgId, t.OrganizationId);
            Assert.True(t.ParentTeamId is null || teams.ContainsKey(t.ParentTeamId.Value));
        });
        // Rows are in insert order: a parent team or a manager always comes before what points at it.
        var seen = new HashSet<Guid>();
        foreach (var t in org.Teams)
        {
            Assert.True(t.ParentTeamId is null || seen.Contains(t.ParentTeamId.Value));
            seen.Add(t.Id);
        }
        seen.Clear();
        foreach (var u in org.Users)
        {
            Assert.Equal(orgId, u.OrganizationId);
            Assert.True(u.TeamId is { } team && teams.ContainsKey(team));
            Assert.True(u.ManagerId is null || seen.Contains(u.ManagerId.Value));
            seen.Add(u.Id);
        }
        Assert.All(org.Tokens, t => Assert.True(users.ContainsKey(t.UserId)));
        Assert.All(g.Customers(org), c =>
        {
            Assert.Equal(orgId, c.OrganizationId);
            Assert.True(c.OwnerId is null || users[c.OwnerId.Value].Role == "Rep");
            // Typed in by a rep (who may have handed it over since), or routed and handed out (no creator).
            Assert.True(c.CreatedById is null || users[c.CreatedById.Value].Role == "Rep");
            Assert.True(c.CreatedAt <= c.UpdatedAt && c.UpdatedAt <= Generator.Epoch);
        });
    }

    [Fact]
    public void Ids_user_names_and_team_names_are_unique()
    {
        var g = new Generator(Tiny, 5);
        var org = g.Organisation();
        var customers = g.Customers(org).ToList();
        var ids = org.Teams.Select(t => t.Id).Concat(org.Users.Select(u => u.Id)).Concat(org.Tokens.Select(t => t.Id))
            .Concat(customers.Select(c => c.Id)).Append(org.Organization.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(org.Users.Count, org.Users.Select(u => u.UserName).Distinct().Count());
        Assert.Equal(org.Teams.Count, org.Teams.Select(t => t.Name).Distinct().Count());
    }

    [Fact]
    public void The_bench_manager_manages_the_bench_reps_team_and_tokens_hash_their_secrets()
    {
        var org = new Generator(Tiny, 9).Organisation();
        Assert.Equal(org.BenchRep.TeamId, org.BenchManager.TeamId);
        Assert.Equal(org.BenchManager.Id, org.BenchRep.ManagerId);
        Assert.Equal(Generator.BenchRepUserName, org.BenchRep.UserName);
        Assert.Equal(Generator.BenchManagerUserName, org.BenchManager.UserName);
        Assert.Equal("Admin", org.Admin.Role);
        Assert.All(org.Tokens, t =>
        {
            Assert.Equal(Generator.HashOf(t.Secret), t.Hash);
            Assert.Matches("^[0-9a-f]{64}$", t.Hash);
            Assert.StartsWith(t.Prefix, t.Secret, StringComparison.Ordinal);
        });
        Assert.Equal(Tideflow.Web.Features.Access.ApiTokens.HashOf("tf_x"), Generator.HashOf("tf_x"));
    }

    [Fact]
    public void The_same_seed_gives_the_same_data_set()
    {
        var a = new Generator(Tiny, 42);
        var b = new Generator(Tiny, 42);
        var orgA = a.Organisation();
        var orgB = b.Organisation();
        Assert.Equal(orgA.Organization, orgB.Organization);
        Assert.Equal(orgA.Teams, orgB.Teams);
        Assert.Equal(orgA.Users, orgB.Users);
        Assert.Equal(orgA.Tokens, orgB.Tokens);
        Assert.Equal(a.Customers(orgA), b.Customers(orgB));
    }

    [Fact]
    public void A_different_seed_gives_a_different_data_set()
    {
        var a = new Generator(Tiny, 42);
        var b = new Generator(Tiny, 43);
        var orgA = a.Organisation();
        var orgB = b.Organisation();
        Assert.NotEqual(orgA.Organization.Id, orgB.Organization.Id);
        Assert.NotEqual(a.Customers(orgA).Select(c => c.Mobile).Take(100), b.Customers(orgB).Select(c => c.Mobile).Take(100));
    }
}
