using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Domain.Leads;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Features.Scoring;
using Tideflow.Web.Tests.Infrastructure;
using static Tideflow.Web.Tests.Infrastructure.Leadflow;

namespace Tideflow.Web.Tests.Assignment;

public abstract class AssignmentTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static readonly FieldCondition EastChina = When("region", FieldOperator.ContainsAny, "上海, 江苏");

    [Fact]
    public async Task A_captured_lead_is_scored_routed_by_rule_to_an_active_rep_of_the_team_told_and_given_a_first_contact_task()
    {
        var org = await app.NewOrgAsync();
        await app.SaveRulesAsync(org, ToTeam("华东", org.TeamA, EastChina), ToPool("其余"));
        var repA = await app.DisplayNameAsync(org.RepA);

        var hot = await app.CaptureAsync(org, [("name", "张伟"), .. Hot, ("region", "上海 浦东")]);
        var view = await app.LeadAsync(org, hot);
        Assert.Equal((100, "A", org.RepA.Id, repA), (view.Lead.Score, view.Lead.Grade, view.Lead.OwnerId, view.Lead.OwnerName));
        var score = view.Qualification!.Score!;
        Assert.Equal(1, score.Version);
        Assert.Equal(
            [("预算 Budget", 40, 40, "budget ≥ 500000"), ("紧迫度 Urgency", 30, 30, "urgency contains 立即"), ("决策权 Authority", 30, 30, "authority contains 决策"),
             ("渠道质量 Channel quality", 0, 0, "channelKind = WebForm"), ("联系信息完整度 Contact completeness", 0, 0, "contactCompleteness ≥ 50")],
            score.Breakdown.Select(c => (c.Name, c.Points, c.Weight, c.Matched)));
        Assert.Equal("预算 Budget 40/40, 紧迫度 Urgency 30/30, 决策权 Authority 30/30 → 100, grade A", score.Explanation);
        Assert.Equal("上海 浦东", view.Qualification.Fields["region"]);

        var history = Assert.Single(await app.OwnershipAsync(org, "leads", hot));
        Assert.Equal((null, repA, "华东", null), (history.From, history.To, history.Rule, history.By));
        Assert.Equal($"rule '华东' → {repA} (round-robin)", history.Reason);

        var note = Assert.Single((await app.InboxAsync(org.RepA)).Items, n => n.Kind == NotificationKinds.LeadAssigned);
        Assert.Equal(("张伟", "A", $"/leads/{hot}"), (note.Parameters["name"], note.Parameters["grade"], note.Link));

        var task = Assert.Single(await app.TasksAsync(hot));
        var arrived = (await app.StoredLeadAsync(hot)).ArrivedAt;
        Assert.Equal((TaskKinds.FirstContact, org.RepA.Id, arrived + TimeSpan.FromHours(24), (DateTimeOffset?)null),
            (task.Kind, task.OwnerId, task.DueAt, task.ClosedAt));

        // Grade B in 江苏: same team, three days for first contact. Outside the region: the pool, no task, nobody told.
        var warm = await app.CaptureAsync(org, [.. Warm, ("region", "江苏南京")]);
        Assert.Equal((63, "B", 1, org.RepA.Id), await app.PlacedAsync(warm));
        Assert.Equal(TimeSpan.FromHours(72), Assert.Single(await app.TasksAsync(warm)).DueAt - (await app.StoredLeadAsync(warm)).ArrivedAt);
        var elsewhere = await app.CaptureAsync(org, [.. Hot, ("region", "广东深圳")]);
        Assert.Null((await app.StoredLeadAsync(elsewhere)).OwnerId);
        Assert.Empty(await app.TasksAsync(elsewhere));
        Assert.Empty(await app.OwnershipAsync(org, "leads", elsewhere));

        // Team A's subtree holds rep A and a deactivated rep: the rotation never lands on the deactivated one.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(org.RepA.Id, (await app.StoredLeadAsync(await app.CaptureAsync(org, [("region", "上海")]))).OwnerId);
        }
        Assert.Equal(5, await app.InDbAsync(db => db.TeamTurns.Where(t => t.TeamId == org.TeamA).Select(t => t.Turn).SingleAsync()));
        Assert.False(await app.InDbAsync(db => db.Leads.AnyAsync(l => l.OwnerId == org.DeactivatedRep.Id)));
        Assert.Equal(5, (await app.InboxAsync(org.RepA)).Items.Count(n => n.Kind == NotificationKinds.LeadAssigned));
    }

    [Fact]
    public async Task A_lead_from_a_company_someone_already_works_goes_to_them_whatever_the_rules_say()
    {
        var org = await app.NewOrgAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        await app.SaveRulesAsync(org, ToRep("全部给 A", org.RepA.Id));
        var first = await app.CaptureAsync(org, ("name", "王芳"), ("company", $"杭州博远{tag}软件有限公司"));
        Assert.Equal(org.RepA.Id, (await app.StoredLeadAsync(first)).OwnerId);

        // The rules now send everything to rep B; a colleague from the same company (other mobile, other spelling) stays with rep A.
        await app.SaveRulesAsync(org, ToRep("全部给 B", org.RepB.Id));
        var second = await app.CaptureAsync(org, ("name", "李强"), ("company", $"杭州博远{tag}软件(有限公司)"));
        Assert.Equal(org.RepA.Id, (await app.StoredLeadAsync(second)).OwnerId);
        var history = Assert.Single(await app.OwnershipAsync(org, "leads", second));
        Assert.Equal("sticky", history.Rule);
        Assert.Equal($"sticky: already works with {await app.DisplayNameAsync(org.RepA)}", history.Reason);

        // A customer typed in by manager B makes their company theirs too.
        var customer = await (await app.As(org.ManagerB).PostJson("/api/customers", new { name = "赵总", company = $"苏州恒信{tag}商贸有限公司" })).ReadAsync<CustomerRow>();
        var third = await app.CaptureAsync(org, ("name", "钱经理"), ("company", $"苏州恒信{tag}商贸有限公司"));
        Assert.Equal(org.ManagerB.Id, (await app.StoredLeadAsync(third)).OwnerId);
        Assert.Equal("sticky", Assert.Single(await app.OwnershipAsync(org, "leads", third)).Rule);
        Assert.Equal(org.ManagerB.Id, customer.OwnerId);

        // Another company follows the rules.
        var fourth = await app.CaptureAsync(org, ("name", "孙丽"), ("company", $"无锡{tag}机械有限公司"));
        Assert.Equal(org.RepB.Id, (await app.StoredLeadAsync(fourth)).OwnerId);
    }

    [Fact]
    public async Task Who_works_a_company_is_its_oldest_owned_customers_owner_else_its_oldest_open_owned_leads_owner()
    {
        var (org, other) = (await app.NewOrgAsync(), await app.NewOrgAsync());
        var t0 = app.Clock.GetUtcNow().AddDays(-30);
        string Key(string name) => $"{name}{org.Id:N}";
        var pooled = Guid.CreateVersion7();
        var owned = Guid.CreateVersion7();
        await app.InDbAsync(async db =>
        {
            void Customer(string company, Guid? owner, int day, Guid? id = null, Guid? organization = null) => db.Customers.Add(new Customer
            {
                Id = id ?? Guid.CreateVersion7(), OrganizationId = organization ?? org.Id, Name = "客户", Company = company, CompanyKey = Key(company),
                OwnerId = owner, CreatedAt = t0.AddDays(day), UpdatedAt = t0.AddDays(day),
            });
            void Lead(string company, Guid? owner, int day, LeadStatus status, Guid? customer = null, Guid? organization = null) => db.Leads.Add(new Lead
            {
                Id = Guid.CreateVersion7(), OrganizationId = organization ?? org.Id, Name = "线索", Company = company, CompanyKey = Key(company), OwnerId = owner,
                Status = status, CustomerId = customer, ArrivedAt = t0.AddDays(day), UpdatedAt = t0.AddDays(day),
            });
            // 甲: a customer beats an older lead; the oldest owned customer wins, a pooled (unowned) older one does not count.
            Lead("甲", org.RepB.Id, 0, LeadStatus.New);
            Customer("甲", null, 1);
            Customer("甲", org.ManagerA.Id, 3);
            Customer("甲", org.RepA.Id, 2);
            // 乙: no customer; unowned, discarded, merged, queued and invalid leads do not count; the oldest owned new or nurtured one does.
            Lead("乙", null, 0, LeadStatus.New);
            Lead("乙", org.ManagerB.Id, 1, LeadStatus.Discarded);
            Lead("乙", org.ManagerA.Id, 2, LeadStatus.Merged);
            Lead("乙", org.ManagerB.Id, 1, LeadStatus.Queued);
            Lead("乙", org.ManagerA.Id, 2, LeadStatus.Invalid);
            Lead("乙", org.RepB.Id, 4, LeadStatus.New);
            Lead("乙", org.RepA.Id, 3, LeadStatus.Nurture);
            // 丙: a qualified lead counts while its customer is owned, not once that customer went back to the pool.
            Customer("丙", null, 0, pooled);
            Lead("丙", org.RepA.Id, 1, LeadStatus.Qualified, pooled);
            Lead("丙", org.RepB.Id, 2, LeadStatus.Qualified);
            // 己: a qualified lead whose customer (under another company name) is owned still counts.
            Customer("庚", org.ManagerA.Id, 5, owned);
            Lead("己", org.ManagerB.Id, 1, LeadStatus.Qualified, owned);
            // 丁 and 戊: nobody here; another organisation's owners of the same company keys do not count.
            Lead("丁", null, 0, LeadStatus.New);
            Lead("丁", other.RepA.Id, 0, LeadStatus.New, organization: other.Id);
            Customer("戊", other.RepA.Id, 0, organization: other.Id);
            await db.SaveChangesAsync();
            return 0;
        });

        // Over a thousand companies: asked about in more than one query.
        string?[] asked = [.. Enumerable.Range(0, 1100).Select(i => Key($"空{i}")), Key("甲"), Key("乙"), Key("丙"), Key("丁"), Key("戊"), Key("己"), Key("庚"), null, ""];
        var owners = await RouterAsync(org, (router, keys) => router.StickyOwnersAsync(keys, default), asked);
        Assert.Equal(new Dictionary<string, Guid>
        {
            [Key("甲")] = org.RepA.Id, [Key("乙")] = org.RepA.Id, [Key("丙")] = org.RepB.Id, [Key("己")] = org.ManagerB.Id, [Key("庚")] = org.ManagerA.Id,
        }, owners);
        // The lead being routed does not make its own company sticky: without 乙's Nurture lead, the next open one.
        var b = Key("乙");
        var nurture = await app.InDbAsync(db => db.Leads.Where(l => l.CompanyKey == b && l.Status == LeadStatus.Nurture).Select(l => l.Id).SingleAsync());
        var without = await RouterAsync(org, (router, keys) => router.StickyOwnersAsync(keys, default, except: nurture), Key("乙"));
        Assert.Equal(org.RepB.Id, without[Key("乙")]);
    }

    private async Task<Dictionary<string, Guid>> RouterAsync(TestOrg org, Func<LeadRouter, string?[], Task<Dictionary<string, Guid>>> ask, params string?[] keys)
    {
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.ForChannel(org.Id, "test"));
        return await ask(scope.ServiceProvider.GetRequiredService<LeadRouter>(), keys);
    }

    [Fact]
    public async Task A_manager_fixing_a_lead_in_review_routes_it_to_whoever_works_the_company_even_outside_their_team()
    {
        var org = await app.NewOrgAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var company = $"宁波东方{tag}物流有限公司";
        await (await app.As(org.RepB).PostJson("/api/customers", new { name = "周总", company })).ReadAsync<CustomerRow>();
        var body = new { fields = new[] { new { name = "name", value = "吴敏" }, new { name = "company", value = company }, new { name = "mobile", value = "12345" } } };
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Accepted, (await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", content)).StatusCode);
        var leadId = await app.InDbAsync(db => db.Leads.Where(l => l.OrganizationId == org.Id && l.Company == company).Select(l => l.Id).SingleAsync());
        Assert.Equal((LeadStatus.Invalid, (Guid?)null), await app.InDbAsync(db => db.Leads.Where(l => l.Id == leadId).Select(l => new ValueTuple<LeadStatus, Guid?>(l.Status, l.OwnerId)).SingleAsync()));

        // Manager A cannot see rep B's customer, yet routing decides for the whole organisation.
        var fixedLead = await app.As(org.ManagerA).PutJson($"/api/leads/{leadId}", new { name = "吴敏", company, mobile = Leadflow.UniqueMobile() });
        // Fixed, and now rep B's: not manager A's to see any more, so no body.
        Assert.Equal(HttpStatusCode.NoContent, fixedLead.StatusCode);
        Assert.Equal(org.RepB.Id, (await app.StoredLeadAsync(leadId)).OwnerId);
        Assert.Equal("sticky", Assert.Single(await app.OwnershipAsync(org, "leads", leadId)).Rule);
    }

    [Fact]
    public async Task Thirty_two_concurrent_arrivals_are_dealt_round_robin_one_owner_each_and_evenly()
    {
        var org = await app.NewOrgAsync();
        var admin = app.As(org.Admin);
        var team = await (await admin.PostJson("/api/teams", new { name = $"轮转组 {Guid.NewGuid():N}"[..12], parentTeamId = org.RootTeam })).ReadAsync<TeamRow>();
        var reps = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var user = await (await admin.PostJson("/api/users", new
            {
                userName = $"rr{i}.{Guid.NewGuid():N}", displayName = $"轮转 {i}", password = TestOrg.Password, role = "Rep", teamId = team.Id,
            })).ReadAsync<UserRow>();
            reps.Add(user.Id);
        }
        await app.SaveRulesAsync(org, ToTeam("轮转", team.Id));

        var leads = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => app.CaptureAsync(org, ("name", $"并发{i}"))));

        var owners = await app.InDbAsync(db => db.Leads.Where(l => leads.Contains(l.Id)).Select(l => l.OwnerId).ToListAsync());
        Assert.Equal(32, owners.Count);
        Assert.All(owners, o => Assert.Contains(o!.Value, reps));
        Assert.Equal([8, 8, 8, 8], reps.Select(r => owners.Count(o => o == r)));
        var changes = await app.InDbAsync(db => db.OwnershipChanges.Where(o => o.LeadId != null && leads.Contains(o.LeadId.Value)).ToListAsync());
        Assert.Equal(leads.Order(), changes.Select(c => c.LeadId!.Value).Order());
        Assert.All(changes, c => Assert.Equal("轮转", c.Rule));
        Assert.Equal(32, await app.InDbAsync(db => db.TeamTurns.Where(t => t.TeamId == team.Id).Select(t => t.Turn).SingleAsync()));
        Assert.Equal(32, await app.InDbAsync(db => db.FollowUpTasks.CountAsync(t => t.LeadId != null && leads.Contains(t.LeadId.Value))));
    }

    [Fact]
    public async Task A_rep_at_capacity_away_or_inactive_is_passed_over_and_when_nobody_can_take_it_the_lead_waits_in_the_pool()
    {
        var org = await app.NewOrgAsync();
        await app.SaveRulesAsync(org, ToRep("先给 A", org.RepA.Id), ToTeam("再给 B 组", org.TeamB));
        Assert.Equal(org.RepA.Id, (await app.StoredLeadAsync(await app.CaptureAsync(org))).OwnerId);

        // Rep A now owns 2 customers and 2 open leads; a capacity of 4 makes them full. Manager B cannot reach rep A.
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.ManagerB).PutJson($"/api/assignment/reps/{org.RepA.Id}/capacity", new { capacity = 4 })).StatusCode);
        var full = await (await app.As(org.ManagerA).PutJson($"/api/assignment/reps/{org.RepA.Id}/capacity", new { capacity = 4 })).ReadAsync<RepAvailability>();
        Assert.Equal((4, 4, false), (full.Capacity, full.OpenCount, full.AwayNow));
        Assert.Equal(org.RepB.Id, (await app.StoredLeadAsync(await app.CaptureAsync(org))).OwnerId);

        // Rep B is away from an hour ago until tomorrow: nobody can take it.
        var now = app.Clock.GetUtcNow();
        var absence = await app.As(org.ManagerB).PostJson($"/api/assignment/reps/{org.RepB.Id}/absences",
            new { from = now.AddHours(-1), until = now.AddDays(1), reason = "年假" });
        Assert.Equal(HttpStatusCode.Created, absence.StatusCode);
        var waiting = await app.CaptureAsync(org, Hot);
        Assert.Equal((100, "A", 1, null), await app.PlacedAsync(waiting));
        Assert.Empty(await app.OwnershipAsync(org, "leads", waiting));
        Assert.Empty(await app.TasksAsync(waiting));
        var pool = await (await app.As(org.ManagerA).GetAsync("/api/leads?unassigned=true")).ReadAsync<Page<Tideflow.Web.Features.Leads.LeadRow>>();
        Assert.Contains(waiting, pool.Items.Select(l => l.Id));

        // Capacity lifted, but rep A deactivated: still nobody.
        await (await app.As(org.ManagerA).PutJson($"/api/assignment/reps/{org.RepA.Id}/capacity", new { capacity = (int?)null })).ReadAsync<RepAvailability>();
        await (await app.As(org.Admin).PostAsync($"/api/users/{org.RepA.Id}/deactivate", null)).ReadAsync<UserRow>();
        Assert.Null((await app.StoredLeadAsync(await app.CaptureAsync(org))).OwnerId);

        // Back from leave: rep B is dealt leads again.
        var row = await (await app.As(org.Admin).GetAsync("/api/assignment/reps")).ReadAsync<List<RepAvailability>>();
        var leave = Assert.Single(row.Single(r => r.Id == org.RepB.Id).Absences);
        Assert.Equal(HttpStatusCode.NoContent, (await app.As(org.RepB).DeleteAsync($"/api/assignment/reps/{org.RepB.Id}/absences/{leave.Id}")).StatusCode);
        Assert.Equal(org.RepB.Id, (await app.StoredLeadAsync(await app.CaptureAsync(org))).OwnerId);
    }

    [Fact]
    public async Task Routing_rules_that_cannot_be_followed_are_refused_each_problem_naming_its_rule()
    {
        var org = await app.NewOrgAsync();
        await app.SaveRulesAsync(org, ToPool("原有规则"));
        var response = await app.As(org.Admin).PutJson("/api/assignment/rules", new[]
        {
            ToRep("离职的人", org.DeactivatedRep.Id),
            ToTeam("不存在的组", Guid.NewGuid()),
            ToRep("鞋码", org.RepA.Id, When("shoe_size", FieldOperator.Equals, "42")),
            ToRep("财务", org.Finance.Id),
        });
        var (_, errors) = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(
            ["Rule '离职的人': the rep is inactive.", "Rule '不存在的组': the team is unknown.",
             "Rule '鞋码', condition 1: the field 'shoe_size' is unknown.", "Rule '财务': the rep is unknown."],
            errors["rules"]);
        var kept = await (await app.As(org.Admin).GetAsync("/api/assignment/rules")).ReadAsync<RoutingRulesView>();
        Assert.Equal(["原有规则"], kept.Rules.Select(r => r.Name));
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.ManagerA).PutJson("/api/assignment/rules", new[] { ToPool("x") })).StatusCode);
    }

    [Fact]
    public async Task A_lead_that_becomes_grade_A_moves_to_the_rep_of_a_rule_that_reroutes_on_regrade()
    {
        var org = await app.NewOrgAsync();
        await app.SaveRulesAsync(org,
            ToRep("A 级专人", org.RepB.Id, When("grade", FieldOperator.Equals, "A")) with { RerouteOnRegrade = true },
            ToRep("其余", org.RepA.Id));
        var lead = await app.CaptureAsync(org, [("name", "周杰"), .. Warm]);
        Assert.Equal((63, "B", 1, org.RepA.Id), await app.PlacedAsync(lead));

        var result = await (await app.As(org.RepA).PostJson("/api/events", new { leadId = lead, type = "support_contacted" })).ReadAsync<BehaviourEventResult>();
        Assert.Equal((71, "A", "B", true, (Guid?)org.RepB.Id), (result.Score, result.Grade, result.PreviousGrade, result.Regraded, result.OwnerId));

        var (repA, repB) = (await app.DisplayNameAsync(org.RepA), await app.DisplayNameAsync(org.RepB));
        var history = await app.OwnershipAsync(org, "leads", lead);
        Assert.Equal([(repA, repB, "A 级专人"), (null, repA, "其余")], history.Select(h => (h.From, h.To, h.Rule)));
        Assert.Equal($"grade B → A: rule 'A 级专人' → {repB}", history[0].Reason);

        var tasks = await app.TasksAsync(lead);
        Assert.Equal([(org.RepA.Id, "reassigned"), (org.RepB.Id, null)], tasks.Select(t => (t.OwnerId, t.ClosedReason)));
        Assert.Equal(TimeSpan.FromHours(24), tasks[1].DueAt - tasks[1].CreatedAt);
        Assert.Contains((await app.InboxAsync(org.RepA)).Items, n => n.Kind == NotificationKinds.LeadRegraded && n.Parameters["from"] == "B" && n.Parameters["to"] == "A");
        Assert.Equal("A", Assert.Single((await app.InboxAsync(org.RepB)).Items, n => n.Kind == NotificationKinds.LeadAssigned).Parameters["grade"]);

        // A manager takes a B lead over by hand; when it turns A, the manager's decision stands.
        var handed = await app.CaptureAsync(org, [("name", "冯刚"), .. Warm]);
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.ManagerA).PostJson("/api/leads/assign",
            new { ids = new[] { handed }, ownerId = org.ManagerA.Id, reason = "老客户介绍" })).StatusCode);
        var regraded = await (await app.As(org.ManagerA).PostJson("/api/events", new { leadId = handed, type = "support_contacted" })).ReadAsync<BehaviourEventResult>();
        Assert.Equal(("A", true, (Guid?)org.ManagerA.Id), (regraded.Grade, regraded.Regraded, regraded.OwnerId));
    }

    [Fact]
    public async Task A_manager_reassigns_leads_in_scope_with_a_reason_and_a_batch_with_one_bad_record_changes_nothing()
    {
        var org = await app.NewOrgAsync();
        var manager = app.As(org.ManagerA);

        var outside = await manager.PostJson("/api/leads/assign", new { ids = new[] { org.UnassignedLead, org.RepBLead }, ownerId = org.RepA.Id, reason = "集中跟进" });
        var (detail, errors) = await outside.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("1 record(s) cannot be assigned; nothing was changed.", detail);
        Assert.Equal([org.RepBLead.ToString()], errors.Keys);
        Assert.Equal(["does not exist or is not visible to you"], errors[org.RepBLead.ToString()]);
        Assert.Null((await app.StoredLeadAsync(org.UnassignedLead)).OwnerId);
        Assert.Empty(await app.OwnershipAsync(org, "leads", org.UnassignedLead));

        var inactive = await manager.PostJson("/api/leads/assign", new { ids = new[] { org.UnassignedLead }, ownerId = org.DeactivatedRep.Id, reason = "集中跟进" });
        Assert.Equal($"ownerId: {await app.DisplayNameAsync(org.DeactivatedRep)} is inactive.", (await inactive.ProblemAsync(HttpStatusCode.BadRequest)).Detail);
        var noReason = await manager.PostJson("/api/leads/assign", new { ids = new[] { org.UnassignedLead }, ownerId = org.RepA.Id, reason = "" });
        Assert.Contains("reason", (await noReason.ProblemAsync(HttpStatusCode.BadRequest)).Errors.Keys);

        var done = await (await manager.PostJson("/api/leads/assign", new { ids = new[] { org.UnassignedLead, org.RepALead }, ownerId = org.RepA.Id, reason = "集中跟进" }))
            .ReadAsync<AssignResult>();
        Assert.Equal(new AssignResult(1, 1), done);
        var row = Assert.Single(await app.OwnershipAsync(org, "leads", org.UnassignedLead));
        Assert.Equal((null, await app.DisplayNameAsync(org.RepA), "集中跟进", null, await app.DisplayNameAsync(org.ManagerA)),
            (row.From, row.To, row.Reason, row.Rule, row.By));
        Assert.Equal(org.RepA.Id, (await app.StoredLeadAsync(org.UnassignedLead)).OwnerId);
        // An ungraded lead gets the slowest first-contact promise: a week.
        var task = Assert.Single(await app.TasksAsync(org.UnassignedLead));
        Assert.Equal((org.RepA.Id, TimeSpan.FromDays(7)), (task.OwnerId, task.DueAt - task.CreatedAt));
        Assert.Single((await app.InboxAsync(org.RepA)).Items, n => n.Kind == NotificationKinds.LeadAssigned);
    }

    [Fact]
    public async Task A_manager_reassigns_customers_in_scope_and_the_history_says_who_and_why()
    {
        var org = await app.NewOrgAsync();
        var manager = app.As(org.ManagerA);
        var mine = org.CustomersOf[org.ManagerA.Id][0];
        var repBs = org.CustomersOf[org.RepB.Id][0];

        var refused = await manager.PostJson("/api/customers/assign", new { ids = new[] { mine, repBs }, ownerId = org.RepA.Id, reason = "交接" });
        Assert.Equal([repBs.ToString()], (await refused.ProblemAsync(HttpStatusCode.BadRequest)).Errors.Keys);
        Assert.Empty(await app.OwnershipAsync(org, "customers", mine));
        var inactive = await manager.PostJson("/api/customers/assign", new { ids = new[] { mine }, ownerId = org.DeactivatedRep.Id, reason = "交接" });
        await inactive.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.BadRequest, (await manager.PostJson("/api/customers/assign", new { ids = new[] { mine }, ownerId = org.RepB.Id, reason = "交接" })).StatusCode);

        Assert.Equal(new AssignResult(1, 0), await (await manager.PostJson("/api/customers/assign", new { ids = new[] { mine }, ownerId = org.RepA.Id, reason = "交接" })).ReadAsync<AssignResult>());
        var row = Assert.Single(await app.OwnershipAsync(org, "customers", mine));
        var (managerA, repA) = (await app.DisplayNameAsync(org.ManagerA), await app.DisplayNameAsync(org.RepA));
        Assert.Equal((managerA, repA, "交接", managerA), (row.From, row.To, row.Reason, row.By));
        Assert.Equal(org.RepA.Id, await app.InDbAsync(db => db.Customers.Where(c => c.Id == mine).Select(c => c.OwnerId).SingleAsync()));
        var note = Assert.Single((await app.InboxAsync(org.RepA)).Items, n => n.Kind == NotificationKinds.CustomerAssigned);
        Assert.Equal((org.CustomerNames[mine], org.ManagerA.UserName), (note.Parameters["name"], note.Parameters["by"]));
        // Rep B cannot read the history of a customer they cannot see.
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).GetAsync($"/api/customers/{mine}/ownership")).StatusCode);
    }
}

public sealed class AssignmentTests_Sqlite(SqliteApp app) : AssignmentTests<SqliteApp>(app);
public sealed class AssignmentTests_Postgres(PostgresApp app) : AssignmentTests<PostgresApp>(app);
