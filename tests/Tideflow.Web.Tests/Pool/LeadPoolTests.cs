using System.Net;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Pool;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Pool;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Tests.Infrastructure;
using static Tideflow.Web.Tests.Infrastructure.Leadflow;

namespace Tideflow.Web.Tests.Pool;

/// <summary>The lead pool (线索池): leads routed to nobody or released wait in a pool and are claimed with the customer pool's machinery.</summary>
public abstract class LeadPoolTests<TApp>(TApp app) where TApp : TideflowApp
{
    /// <summary>Open leads put straight into a pool, entered a day before now.</summary>
    private static async Task<List<Guid>> PooledLeadsAsync(TideflowApp node, TestOrg org, int count, Guid? pool = null)
    {
        var now = node.Clock.GetUtcNow();
        return await node.InDbAsync(async db =>
        {
            var ids = new List<Guid>();
            for (var i = 0; i < count; i++)
            {
                var lead = new Lead
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"池中线索 {i}", Company = "成都某厂", Mobile = $"+86{UniqueMobile()}",
                    Email = $"pool{Guid.NewGuid():N}@example.cn", Status = LeadStatus.New, Grade = "B", Score = 60, SourceTag = "官网",
                    PoolId = pool ?? org.DefaultPool, PooledAt = now.AddDays(-1), PoolReason = "no rule matched → lead pool",
                    RawPayload = "{\"mobile\":\"secret\"}", ArrivedAt = now.AddDays(-1), UpdatedAt = now.AddDays(-1),
                };
                db.Leads.Add(lead);
                ids.Add(lead.Id);
            }
            await db.SaveChangesAsync();
            return ids;
        });
    }

    private static async Task<Guid?> OwnerAsync(TideflowApp node, Guid lead) =>
        await node.InDbAsync(db => db.Leads.Where(l => l.Id == lead).Select(l => l.OwnerId).SingleAsync());

    [Fact]
    public async Task A_rep_releases_a_lead_with_a_reason_another_claims_it_masked_until_then_and_the_history_shows_both()
    {
        var org = await app.NewOrgAsync();
        var (repA, repB) = (app.As(org.RepA), app.As(org.RepB));
        await app.InDbAsync(db => db.Leads.Where(l => l.Id == org.RepALead)
            .ExecuteUpdateAsync(l => l.SetProperty(x => x.Mobile, "+8613800138000").SetProperty(x => x.Email, "zhao@example.cn")));

        var noReason = await repA.PostJson($"/api/leads/{org.RepALead}/release", new { note = "打了三次没人接" });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("多次联系不上", (await noReason.JsonAsync()).GetProperty("errors").GetProperty("reason")[0].GetString());
        // Another rep's lead is not theirs to release: not even found.
        Assert.Equal(HttpStatusCode.NotFound, (await repB.PostJson($"/api/leads/{org.RepALead}/release", new { reason = "多次联系不上" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await repA.PostJson($"/api/leads/{org.RepALead}/release", new { reason = "多次联系不上", note = "打了三次没人接" })).StatusCode);

        var stored = await app.InDbAsync(db => db.Leads.SingleAsync(l => l.Id == org.RepALead));
        Assert.Equal((null, org.DefaultPool, org.RepA.Id, "多次联系不上: 打了三次没人接"), (stored.OwnerId, stored.PoolId, stored.PreviousOwnerId, stored.PoolReason));
        // Its open first-contact task closed with the release.
        Assert.Equal("released", await app.InDbAsync(db => db.FollowUpTasks.Where(t => t.Id == org.RepATask).Select(t => t.ClosedReason).SingleAsync()));

        // repB, a member of the default pool, finds it in the 线索池 — masked — but not among their own leads.
        var pools = await (await repB.GetAsync("/api/pools")).ReadAsync<List<PoolView>>();
        Assert.Equal(1, Assert.Single(pools).Leads);
        var listed = Assert.Single((await (await repB.GetAsync($"/api/pools/{org.DefaultPool}/leads?previousOwnerId={org.RepA.Id}")).ReadAsync<Page<PoolLeadRow>>()).Items);
        Assert.Equal((org.RepALead, "+86138****8000", "z***@example.cn", "多次联系不上: 打了三次没人接"), (listed.Id, listed.Mobile, listed.Email, listed.Reason));
        Assert.StartsWith("repA", listed.PreviousOwner);
        Assert.DoesNotContain((await (await repB.GetAsync("/api/leads")).ReadAsync<Page<LeadRow>>()).Items, l => l.Id == org.RepALead);
        var seen = await (await repB.GetAsync($"/api/leads/{org.RepALead}")).ReadAsync<LeadView>();
        Assert.Equal(("+86138****8000", "z***@example.cn", null), (seen.Lead.Mobile, seen.Lead.Email, seen.RawPayload));
        // Seen, not worked: a pooled lead is claimed first.
        Assert.Equal(HttpStatusCode.Conflict, (await repB.PutJson($"/api/leads/{org.RepALead}/bant", new { budget = true, authority = false, need = false, timeline = false })).StatusCode);
        // Managers hand unassigned leads out, so they still see them whole.
        Assert.Equal("+8613800138000", (await (await app.As(org.ManagerA).GetAsync($"/api/leads/{org.RepALead}")).ReadAsync<LeadView>()).Lead.Mobile);

        var claimed = await (await repB.PostAsync($"/api/leads/{org.RepALead}/claim", null)).ReadAsync<ClaimResult>();
        Assert.Equal((org.RepALead, 1, 3), (claimed.Id, claimed.ClaimedToday, claimed.DailyLimit));
        var mine = await (await repB.GetAsync($"/api/leads/{org.RepALead}")).ReadAsync<LeadView>();
        Assert.Equal((org.RepB.Id, "+8613800138000"), (mine.Lead.OwnerId, mine.Lead.Mobile));
        Assert.Null(await app.InDbAsync(db => db.Leads.Where(l => l.Id == org.RepALead).Select(l => l.PoolId).SingleAsync()));
        var task = await app.InDbAsync(db => db.FollowUpTasks.SingleAsync(t => t.LeadId == org.RepALead && t.ClosedAt == null));
        Assert.Equal((org.RepB.Id, "first-contact"), (task.OwnerId, task.Kind));
        Assert.Equal(claimed.FirstContactDue, task.DueAt, TimeSpan.FromMilliseconds(1));
        // One audit entry for the claim, its history row and task being its parts (as for a customer's claim).
        var audit = await app.InDbAsync(db => db.AuditEntries.IgnoreQueryFilters().Where(a => a.ActorId == org.RepB.Id && a.EntityType != "ClaimCount").ToListAsync());
        var claimEntry = Assert.Single(audit);
        Assert.Equal((AuditActions.Claim, "Lead", org.RepALead.ToString()), (claimEntry.Action, claimEntry.EntityType, claimEntry.EntityId));
        Assert.Contains(org.RepB.Id.ToString(), claimEntry.Changes);

        var history = await app.OwnershipAsync(org, "leads", org.RepALead);
        Assert.Equal((OwnershipEvent.Claimed, null, Pools.DefaultName), (history[0].Event, history[0].From, history[0].Pool));
        Assert.StartsWith("repB", history[0].To);
        Assert.Equal((OwnershipEvent.Released, "多次联系不上: 打了三次没人接"), (history[1].Event, history[1].Reason));
        Assert.StartsWith("repA", history[1].From);

        // A manager returns repB's lead: the manager acts, repB is the previous owner and is told.
        Assert.Equal(HttpStatusCode.NoContent, (await app.As(org.ManagerB).PostJson($"/api/leads/{org.RepALead}/release", new { reason = "客户暂无需求" })).StatusCode);
        history = await app.OwnershipAsync(org, "leads", org.RepALead);
        Assert.StartsWith("managerB", history[0].By);
        Assert.StartsWith("repB", history[0].From);
        Assert.Contains((await app.InboxAsync(org.RepB)).Items, n => n.Kind == "lead-released");

        // repA let it go, so the pool's cool-down keeps repA from taking it straight back.
        var again = await repA.PostAsync($"/api/leads/{org.RepALead}/claim", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("之后才能再次领取", (await again.JsonAsync()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Lead_and_customer_claims_share_the_reps_daily_limit()
    {
        var org = await app.NewOrgAsync();
        var rep = (await TestOrg.AddRepsAsync(app.Services, org.Id, org.TeamB, 1))[0];
        var client = app.As(rep);
        var leads = await PooledLeadsAsync(app, org, 3);
        var customer = org.CustomersOf[org.RepB.Id][0];
        Assert.Equal(HttpStatusCode.NoContent, (await app.As(org.RepB).PostJson($"/api/customers/{customer}/release", new { reason = "预算不足" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/leads/{leads[0]}/claim", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/customers/{customer}/claim", null)).StatusCode);
        Assert.Equal(3, (await (await client.PostAsync($"/api/leads/{leads[1]}/claim", null)).ReadAsync<ClaimResult>()).ClaimedToday);
        var refused = await client.PostAsync($"/api/leads/{leads[2]}/claim", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("今日已领取 3/3", (await refused.JsonAsync()).GetProperty("detail").GetString());
        Assert.Null(await OwnerAsync(app, leads[2]));
        Assert.Equal((3, 3), await (await client.GetAsync("/api/pools/my-claims")).ReadAsync<ClaimStatus>() is var s ? (s.ClaimedToday, s.DailyLimit) : default);
    }

    [Fact]
    public async Task Of_ten_reps_claiming_the_same_lead_at_once_exactly_one_wins_and_the_others_are_told_it_was_just_taken()
    {
        var org = await app.NewOrgAsync();
        var reps = await TestOrg.AddRepsAsync(app.Services, org.Id, org.TeamB, 10);
        var lead = (await PooledLeadsAsync(app, org, 1))[0];
        using var start = new SemaphoreSlim(0);
        var claims = reps.Select(async r =>
        {
            var client = app.As(r);
            await start.WaitAsync();
            var response = await client.PostAsync($"/api/leads/{lead}/claim", null);
            return (response.StatusCode, Body: await response.JsonAsync());
        }).ToList();
        start.Release(reps.Count);
        var results = await Task.WhenAll(claims);
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), l =>
        {
            Assert.Equal(HttpStatusCode.Conflict, l.StatusCode);
            Assert.Contains("刚刚领取了该线索", l.Body.GetProperty("detail").GetString());
        });
        var (owner, claimed, tasks) = await app.InDbAsync(async db => (
            await db.Leads.Where(l => l.Id == lead).Select(l => l.OwnerId).SingleAsync(),
            await db.OwnershipChanges.CountAsync(o => o.LeadId == lead && o.Event == OwnershipEvent.Claimed),
            await db.FollowUpTasks.CountAsync(t => t.LeadId == lead)));
        Assert.Contains(owner!.Value, reps.Select(r => r.Id));
        Assert.Equal((1, 1), (claimed, tasks));
    }

    [Fact]
    public async Task A_rep_outside_the_pool_neither_sees_nor_claims_its_leads()
    {
        var org = await app.NewOrgAsync();
        var south = await (await app.As(org.Admin).PostJson("/api/pools", new { name = "华南公海", teamIds = new[] { org.TeamB } })).ReadAsync<PoolView>();
        // repB's lead goes back to repB's team's pool.
        Assert.Equal(HttpStatusCode.NoContent, (await app.As(org.RepB).PostJson($"/api/leads/{org.RepBLead}/release", new { reason = "预算不足" })).StatusCode);
        Assert.Equal(south.Id, await app.InDbAsync(db => db.Leads.Where(l => l.Id == org.RepBLead).Select(l => l.PoolId).SingleAsync()));

        var repA = app.As(org.RepA);
        Assert.Equal(HttpStatusCode.NotFound, (await repA.GetAsync($"/api/leads/{org.RepBLead}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await repA.GetAsync($"/api/pools/{south.Id}/leads")).StatusCode);
        var claim = await repA.PostAsync($"/api/leads/{org.RepBLead}/claim", null);
        Assert.Equal(HttpStatusCode.Forbidden, claim.StatusCode);
        Assert.Contains("华南公海", (await claim.JsonAsync()).GetProperty("detail").GetString());
        Assert.Null(await OwnerAsync(app, org.RepBLead));

        // A manager hands it out straight from the pool, past the limits; the history says which pool.
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.ManagerB).PostJson("/api/leads/assign", new { ids = new[] { org.RepBLead }, ownerId = org.RepB.Id, reason = "重点线索回捞" })).StatusCode);
        var history = await app.OwnershipAsync(org, "leads", org.RepBLead);
        Assert.Equal((OwnershipEvent.AssignedFromPool, "华南公海"), (history[0].Event, history[0].Pool));
        Assert.Null(await app.InDbAsync(db => db.Leads.Where(l => l.Id == org.RepBLead).Select(l => l.PoolId).SingleAsync()));
    }

    [Fact]
    public async Task A_lead_nobody_can_take_waits_in_the_pool_of_the_team_a_rule_meant_it_for_else_in_the_default_pool()
    {
        var org = await app.NewOrgAsync();
        var south = await (await app.As(org.Admin).PostJson("/api/pools", new { name = "华南公海", teamIds = new[] { org.TeamB } })).ReadAsync<PoolView>();
        await app.SaveRulesAsync(org, ToTeam("华南", org.TeamB, When("region", Domain.Leads.FieldOperator.ContainsAny, "广东")));

        var nobodys = await app.CaptureAsync(org, ("region", "四川 成都"));
        var stored = await app.InDbAsync(db => db.Leads.SingleAsync(l => l.Id == nobodys));
        Assert.Equal((null, org.DefaultPool, "no rule matched → lead pool"), (stored.OwnerId, stored.PoolId, stored.PoolReason));
        Assert.Equal(app.Clock.GetUtcNow(), stored.PooledAt!.Value, TimeSpan.FromSeconds(1));

        // repB, team B's only rep, is away: the lead waits where team B's reps claim.
        var now = app.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.Created, (await app.As(org.ManagerB).PostJson($"/api/assignment/reps/{org.RepB.Id}/absences",
            new { from = now.AddHours(-1), until = now.AddDays(1), reason = "年假" })).StatusCode);
        var meant = await app.CaptureAsync(org, ("region", "广东 深圳"));
        Assert.Equal((null, south.Id), await app.InDbAsync(db => db.Leads.Where(l => l.Id == meant).Select(l => new { l.OwnerId, l.PoolId })
            .SingleAsync()) is var m ? (m.OwnerId, m.PoolId) : default);
        Assert.Contains((await (await app.As(org.RepB).GetAsync($"/api/pools/{south.Id}/leads")).ReadAsync<Page<PoolLeadRow>>()).Items, r => r.Id == meant);
    }
}

public sealed class LeadPoolTests_Sqlite(SqliteApp app) : LeadPoolTests<SqliteApp>(app);
public sealed class LeadPoolTests_Postgres(PostgresApp app) : LeadPoolTests<PostgresApp>(app);
