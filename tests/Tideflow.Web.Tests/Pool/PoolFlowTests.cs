using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Pool;
using Tideflow.Web.Features.Pool;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Pool;

public abstract class PoolFlowTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static readonly Dictionary<string, string> NoScheduler = new() { ["Scheduler:Enabled"] = "false" };

    private static async Task<PoolFlowView> FlowAsync(TideflowApp node, Persona who, string query = "") =>
        await (await node.As(who).GetAsync($"/api/pools/flow{query}")).ReadAsync<PoolFlowView>();

    private static string Iso(DateTimeOffset instant) => Uri.EscapeDataString(instant.ToString("O", CultureInfo.InvariantCulture));

    /// <summary>
    /// Four customers released, three claimed and one handed out by a manager; a call in time, a call too late, a win,
    /// a claim nobody calls that the sweep takes back; then the won customer is reassigned out of repA's manager's scope.
    /// The pool gives ten days for the first contact (and 30 without follow-up): another test's node, whose clock runs up
    /// to a week ahead, sweeps every organisation of the shared database and must find nothing due here meanwhile.
    /// </summary>
    [Fact]
    public async Task The_figures_count_what_happened_in_the_pool_per_pool_and_per_rep_as_each_caller_may_see_it()
    {
        app.SkipIfUnavailable();
        // Its own clock: the scenario needs two days to pass, and the shared fixture's clock is never moved.
        await using var node = app.SecondNode(NoScheduler);
        var org = await TestOrg.CreateAsync(node.Services);
        var (a0, a1) = (org.CustomersOf[org.RepA.Id][0], org.CustomersOf[org.RepA.Id][1]);
        var (b0, b1) = (org.CustomersOf[org.RepB.Id][0], org.CustomersOf[org.RepB.Id][1]);
        var (repA, repB) = (node.As(org.RepA), node.As(org.RepB));
        var start = node.Clock.GetUtcNow();

        async Task OkAsync(Task<HttpResponseMessage> call)
        {
            var response = await call;
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        Task CallAsync(HttpClient rep, Guid customer) => OkAsync(rep.PostJson($"/api/customers/{customer}/follow-ups",
            new { channel = "Phone", content = "电话沟通", nextPlan = "发方案", nextContactAt = node.Clock.GetUtcNow().AddDays(3) }));

        var settings = PoolSettings.Default with { Rules = [new ReclaimRule(ReclaimWhen.NoFollowUp, 30), new ReclaimRule(ReclaimWhen.FirstContactMissed, 240, PeriodUnit.Hours)] };
        await OkAsync(node.As(org.Admin).PutJson($"/api/pools/{org.DefaultPool}", new { name = Pools.DefaultName, settings }));

        await OkAsync(repA.PostJson($"/api/customers/{a0}/release", new { reason = "多次联系不上" }));
        await OkAsync(repA.PostJson($"/api/customers/{a1}/release", new { reason = "预算不足" }));
        await OkAsync(repB.PostJson($"/api/customers/{b0}/release", new { reason = "客户暂无需求" }));
        await OkAsync(repB.PostJson($"/api/customers/{b1}/release", new { reason = "其他" }));
        node.Clock.Advance(TimeSpan.FromMinutes(1));
        await OkAsync(repB.PostAsync($"/api/customers/{a0}/claim", null));
        await OkAsync(node.As(org.ManagerB).PostJson("/api/customers/assign", new { ids = new[] { a1 }, ownerId = org.RepB.Id, reason = "重点客户回捞" }));
        await OkAsync(repA.PostAsync($"/api/customers/{b0}/claim", null));
        await OkAsync(repA.PostAsync($"/api/customers/{b1}/claim", null));

        node.Clock.Advance(TimeSpan.FromHours(1));
        await CallAsync(repB, a0);
        await CallAsync(repA, b0);
        await repA.UploadContractAsync(b0);
        await OkAsync(repA.PostJson($"/api/customers/{b0}/stage", new { to = "won", invoiceTitle = "宁波电子有限公司", taxNumber = "91330200MA2XXXXXXX" }));
        // 241 h after the hand-out: one hour past the pool's 240 h first-contact deadline.
        node.Clock.Advance(TimeSpan.FromHours(240));
        await CallAsync(repB, a1);
        // repA never called b1: the sweep takes it back (first contact missed), and nothing else is due yet.
        node.Clock.Advance(TimeSpan.FromHours(1));
        var beforeSweep = node.Clock.GetUtcNow();
        await OkAsync(node.As(org.Admin).PostAsync($"/api/jobs/{ReclaimJob.Name}/run", null));
        Assert.Null(await node.InDbAsync(db => db.Customers.Where(c => c.Id == b1).Select(c => c.OwnerId).SingleAsync()));
        node.Clock.Advance(TimeSpan.FromMinutes(1));
        // The won customer moves to repB by hand: out of managerA's scope now, still repA's work in the period.
        await OkAsync(node.As(org.Admin).PostJson("/api/customers/assign", new { ids = new[] { b0 }, ownerId = org.RepB.Id, reason = "客户要求更换" }));

        var admin = await FlowAsync(node, org.Admin);
        Assert.Equal((node.Clock.GetUtcNow(), node.Clock.GetUtcNow().AddDays(-30)), (admin.To, admin.From));
        var pool = Assert.Single(admin.Pools);
        Assert.Equal((org.DefaultPool, Pools.DefaultName), (pool.PoolId, pool.Name));
        // In: 4 released, 1 by rule. Out: 3 claims and 1 hand-out; contacted in time a0 and b0, won b0, back in the pool b1.
        Assert.Equal(new FlowFigures(EnteredByRule: 1, EnteredByRelease: 4, Claimed: 3, Assigned: 1, ContactedInTime: 2, Converted: 1, RePooled: 1), pool.Figures);
        Assert.Equal((50.0, 25.0, 25.0), (pool.Figures.ContactedPercent, pool.Figures.ConvertedPercent, pool.Figures.RePooledPercent));
        var expectedA = new FlowFigures(EnteredByRule: 1, EnteredByRelease: 2, Claimed: 2, Assigned: 0, ContactedInTime: 1, Converted: 1, RePooled: 1);
        var expectedB = new FlowFigures(EnteredByRule: 0, EnteredByRelease: 2, Claimed: 1, Assigned: 1, ContactedInTime: 1, Converted: 0, RePooled: 0);
        Assert.Equal([(org.RepA.Id, expectedA), (org.RepB.Id, expectedB)],
            admin.Reps.OrderBy(r => r.Name, StringComparer.Ordinal).Select(r => (r.UserId, r.Figures)));
        Assert.Equal("Team A1", admin.Reps.Single(r => r.UserId == org.RepA.Id).Team);

        // A manager sees the pool their teams use and the reps of their own team only.
        var managerA = await FlowAsync(node, org.ManagerA);
        Assert.Equal(pool, Assert.Single(managerA.Pools));
        Assert.Equal((org.RepA.Id, expectedA), Assert.Single(managerA.Reps) is var a ? (a.UserId, a.Figures) : default);
        var managerB = await FlowAsync(node, org.ManagerB);
        Assert.Equal((org.RepB.Id, expectedB), Assert.Single(managerB.Reps) is var b ? (b.UserId, b.Figures) : default);

        // The period's edges: up to just before the sweep nothing came back by a rule; from after the claims nothing was taken.
        // (A second's margin: PostgreSQL keeps microseconds, and the sweep stamps its instant to the microsecond.)
        var untilSweep = await FlowAsync(node, org.Admin, $"?from={Iso(start.AddSeconds(-1))}&to={Iso(beforeSweep.AddSeconds(-1))}");
        Assert.Equal((0, 4, 4, 0), untilSweep.Pools[0].Figures is var u ? (u.EnteredByRule, u.EnteredByRelease, u.Taken, u.RePooled) : default);
        var afterClaims = await FlowAsync(node, org.Admin, $"?from={Iso(start.AddHours(1))}");
        Assert.Equal((1, 0, 0), afterClaims.Pools[0].Figures is var c ? (c.EnteredByRule, c.EnteredByRelease, c.Taken) : default);
    }

    [Fact]
    public async Task Reps_and_finance_are_refused_and_a_bad_period_is_a_400_naming_the_field()
    {
        var org = await app.NewOrgAsync();
        foreach (var who in new[] { org.RepA, org.Finance })
        {
            var refused = await app.As(who).GetAsync("/api/pools/flow");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }
        var manager = app.As(org.ManagerA);

        var (_, backwards) = await (await manager.GetAsync("/api/pools/flow?from=2026-11-05&to=2026-11-01")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["to"], backwards.Keys);
        var (_, tooLong) = await (await manager.GetAsync("/api/pools/flow?from=2025-01-01&to=2026-06-30")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("366", Assert.Single(tooLong["from"]));
        var (_, notADay) = await (await manager.GetAsync("/api/pools/flow?from=11/05/2026")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("2026-11-01", Assert.Single(notADay["from"]));
        // A time without an offset could mean any of 24 moments: refused rather than guessed.
        var (_, noOffset) = await (await manager.GetAsync("/api/pools/flow?to=2026-11-05T08:00:00")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["to"], noOffset.Keys);

        // Days are the caller's days (Asia/Shanghai), the last one included; a year of 366 days is allowed.
        var days = await FlowAsync(app, org.ManagerA, "?from=2026-11-01&to=2026-11-30");
        Assert.Equal((new DateTimeOffset(2026, 10, 31, 16, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 30, 16, 0, 0, TimeSpan.Zero)), (days.From, days.To));
        var leapYear = await FlowAsync(app, org.ManagerA, "?from=2028-01-01&to=2028-12-31");
        Assert.Equal(TimeSpan.FromDays(366), leapYear.To - leapYear.From);
        var instants = await FlowAsync(app, org.ManagerA, $"?from={Uri.EscapeDataString("2026-11-01T08:00:00+08:00")}&to=2026-11-02T00:00:00Z");
        Assert.Equal((new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero)), (instants.From, instants.To));
        Assert.Equal(FlowFigures.None, Assert.Single(instants.Pools).Figures);
    }
}

public sealed class PoolFlowTests_Sqlite(SqliteApp app) : PoolFlowTests<SqliteApp>(app);
public sealed class PoolFlowTests_Postgres(PostgresApp app) : PoolFlowTests<PostgresApp>(app);
