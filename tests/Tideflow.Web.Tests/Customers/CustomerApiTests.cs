using System.Net;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Customers;

public abstract class CustomerApiTests<TApp>(TApp app) where TApp : TideflowApp
{
    [Fact]
    public async Task Each_persona_lists_exactly_the_customers_in_their_scope()
    {
        var org = await app.NewOrgAsync();
        foreach (var p in new[] { org.RepA, org.RepB, org.ManagerA, org.ManagerB, org.Finance, org.Admin })
        {
            var page = await (await app.As(p).GetAsync("/api/customers?pageSize=200")).ReadAsync<Page<CustomerRow>>();
            var expected = org.VisibleOwners(p).SelectMany(o => org.CustomersOf[o]).ToHashSet();
            Assert.Equal(expected, page.Items.Select(c => c.Id).ToHashSet());
            Assert.Equal(expected.Count, page.Total);
        }
    }

    [Fact]
    public async Task A_customer_out_of_scope_is_not_found_and_never_shown()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var response = await app.As(org.RepB).GetAsync($"/api/customers/{customer}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain(org.CustomerNames[customer], await response.Content.ReadAsStringAsync());
        var update = await app.As(org.ManagerB).PutJson($"/api/customers/{customer}", new { name = "stolen" });
        Assert.Equal(HttpStatusCode.NotFound, update.StatusCode);
    }

    [Fact]
    public async Task Another_organisation_sees_nothing_of_this_one()
    {
        var org = await app.NewOrgAsync();
        var other = await app.NewOrgAsync();
        var page = await (await app.As(other.Admin).GetAsync("/api/customers?pageSize=200")).ReadAsync<Page<CustomerRow>>();
        Assert.DoesNotContain(page.Items, c => org.CustomerNames.ContainsKey(c.Id));
        Assert.Equal(other.CustomerNames.Count, page.Total);
        var customer = org.CustomersOf[org.RepA.Id][0];
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(other.Admin).GetAsync($"/api/customers/{customer}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(other.Admin).GetAsync($"/api/users/{org.RepA.Id}")).StatusCode);
        var users = await (await app.As(other.Admin).GetAsync("/api/users")).ReadAsync<List<UserRow>>();
        Assert.DoesNotContain(users, u => u.Id == org.RepA.Id);
        var audit = await (await app.As(other.Admin).GetAsync("/api/audit?pageSize=200")).ReadAsync<Page<AuditRow>>();
        Assert.DoesNotContain(audit.Items, a => a.EntityId == customer.ToString());
    }

    [Fact]
    public async Task Owner_and_audit_fields_cannot_be_set_from_the_request_body()
    {
        var org = await app.NewOrgAsync();
        var response = await app.As(org.RepA).PostJson("/api/customers", new
        {
            name = "杭州新客户",
            mobile = "138 0013 8000",
            ownerId = org.RepB.Id,
            organizationId = Guid.NewGuid(),
            createdById = org.Admin.Id,
            createdAt = "2001-01-01T00:00:00Z",
            id = Guid.Empty,
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadAsync<CustomerRow>();
        Assert.Equal(org.RepA.Id, created.OwnerId);
        Assert.NotEqual(Guid.Empty, created.Id);
        Assert.True(created.CreatedAt.Year > 2001);
        var stored = await app.InDbAsync(db => db.Customers.FindAsync(created.Id).AsTask());
        Assert.Equal(org.Id, stored!.OrganizationId);
        Assert.Equal(org.RepA.Id, stored.CreatedById);

        var edit = await app.As(org.Admin).PutJson($"/api/users/{org.RepA.Id}", new { displayName = "renamed", role = "Admin", organizationId = Guid.NewGuid(), isActive = false });
        Assert.Equal(HttpStatusCode.OK, edit.StatusCode);
        var user = await app.InDbAsync(db => db.Users.FindAsync(org.RepA.Id).AsTask());
        Assert.Equal(Tideflow.Domain.Access.Role.Rep, user!.Role);
        Assert.True(user.IsActive);
        Assert.Equal(org.Id, user.OrganizationId);
    }

    [Fact]
    public async Task Invalid_input_is_a_problem_naming_each_field()
    {
        var org = await app.NewOrgAsync();
        var response = await app.As(org.RepA).PostJson("/api/customers", new { name = "", email = "not-an-email", mobile = "abc" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("mobile", out _));
    }

    [Fact]
    public async Task Malformed_json_is_a_400_problem_that_says_where()
    {
        var org = await app.NewOrgAsync();
        var content = new StringContent("{\"name\": \"x\",, }", System.Text.Encoding.UTF8, "application/json");
        var response = await app.As(org.RepA).PostAsync("/api/customers", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.JsonAsync()).GetProperty("detail").GetString();
        Assert.Contains("Position", detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Every_write_is_in_the_audit_log_with_before_and_after()
    {
        var org = await app.NewOrgAsync();
        var created = await (await app.As(org.RepA).PostJson("/api/customers", new { name = "审计客户" })).ReadAsync<CustomerRow>();
        await (await app.As(org.RepA).PutJson($"/api/customers/{created.Id}", new { name = "审计客户二" })).ReadAsync<CustomerRow>();

        var audit = await (await app.As(org.Admin).GetAsync($"/api/audit?entityType=Customer&entityId={created.Id}")).ReadAsync<Page<AuditRow>>();
        Assert.Equal(["update", "create"], audit.Items.Select(a => a.Action));
        Assert.All(audit.Items, a => Assert.Equal(org.RepA.Id, a.ActorId));
        Assert.Contains("\"Name\":[\"审计客户\",\"审计客户二\"]", System.Text.RegularExpressions.Regex.Unescape(audit.Items[0].Changes!));
        Assert.DoesNotContain("UpdatedAt\":[null", audit.Items[0].Changes!);
    }
}

public sealed class CustomerApiTests_Sqlite(SqliteApp app) : CustomerApiTests<SqliteApp>(app);
public sealed class CustomerApiTests_Postgres(PostgresApp app) : CustomerApiTests<PostgresApp>(app);
