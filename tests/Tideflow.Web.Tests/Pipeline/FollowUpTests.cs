using System.Net;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Pipeline;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Tests.Infrastructure;
using static Tideflow.Web.Tests.Infrastructure.Leadflow;

namespace Tideflow.Web.Tests.Pipeline;

public abstract class FollowUpTests<TApp>(TApp app) where TApp : TideflowApp
{
    private object Record(string content, DateTimeOffset? next, string? plan = "周二上门演示", Guid? correctsId = null) =>
        new { channel = "Phone", content, goal = "约到试用", goalReached = true, nextPlan = plan, nextContactAt = next, correctsId };

    private async Task<Guid> OwnedCustomerAsync(TestOrg org, TideflowApp? on = null)
    {
        var node = on ?? app;
        await node.SaveRulesAsync(org, ToRep("全部给 A", org.RepA.Id));
        var lead = await node.CaptureAsync(org, [("name", "跟进测试"), .. Hot]);
        return (await (await node.As(org.RepA).PostAsync($"/api/leads/{lead}/qualify", null)).ReadAsync<QualifyResult>()).CustomerId;
    }

    // PostgreSQL keeps microseconds, .NET ticks are a tenth of that.
    private static DateTimeOffset Micro(DateTimeOffset d) => new(d.Ticks - d.Ticks % 10, d.Offset);

    // The contact tasks; the grade's plan steps have their own tests (FollowUpPlanTests).
    private Task<List<FollowUpTask>> TasksOfAsync(Guid customer) =>
        app.InDbAsync(db => db.FollowUpTasks.IgnoreQueryFilters().Where(t => t.CustomerId == customer && t.Kind != TaskKinds.PlanStep)
            .OrderBy(t => t.CreatedAt).ThenBy(t => t.Kind).ToListAsync());

    [Fact]
    public async Task Logging_a_follow_up_closes_the_contact_task_and_plans_the_next_contact()
    {
        app.SkipIfUnavailable();
        // Its own app instance: moving this clock must not disturb tests running beside it.
        await using var node = app.SecondNode();
        var org = await TestOrg.CreateAsync(node.Services);
        var customer = await OwnedCustomerAsync(org, node);
        var rep = node.As(org.RepA);
        var first = Assert.Single(await TasksOfAsync(customer));
        Assert.Equal((TaskKinds.FirstContact, (DateTimeOffset?)null), (first.Kind, first.ClosedAt));

        var next = node.Clock.GetUtcNow().AddDays(3);
        var response = await rep.PostJson($"/api/customers/{customer}/follow-ups", Record(" 客户确认下周看演示 ", next));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var logged = await response.ReadAsync<FollowUpRow>();
        Assert.Equal((FollowUpChannel.Phone, "客户确认下周看演示", "约到试用", true, "周二上门演示", org.RepA.Id),
            (logged.Channel, logged.Content, logged.Goal, logged.GoalReached, logged.NextPlan, logged.AuthorId));

        var tasks = await TasksOfAsync(customer);
        Assert.Equal("followed-up", tasks[0].ClosedReason);
        Assert.Equal((TaskKinds.NextContact, Micro(next), org.RepA.Id, (DateTimeOffset?)null), (tasks[1].Kind, Micro(tasks[1].DueAt), tasks[1].OwnerId, tasks[1].ClosedAt));
        var stored = await app.InDbAsync(db => db.Customers.IgnoreQueryFilters().SingleAsync(c => c.Id == customer));
        Assert.Equal((Micro(node.Clock.GetUtcNow()), Micro(next)), (Micro(stored.LastFollowUpAt!.Value), Micro(stored.NextContactAt!.Value)));

        // Three days on, the rep calls again: the reminder that brought them back is done, the next one is planned.
        node.Clock.Advance(TimeSpan.FromDays(3));
        await rep.PostJson($"/api/customers/{customer}/follow-ups", Record("演示完成，客户要报价", node.Clock.GetUtcNow().AddDays(7), "发报价单"));
        tasks = await TasksOfAsync(customer);
        Assert.Equal(3, tasks.Count);
        Assert.Equal([true, true, false], tasks.Select(t => t.ClosedAt is not null));
        Assert.Equal(2, (await (await rep.GetAsync($"/api/customers/{customer}/follow-ups")).ReadAsync<List<FollowUpRow>>()).Count);
    }

    [Fact]
    public async Task An_incomplete_record_or_a_plan_in_the_past_is_refused_naming_each_field_and_nothing_changes()
    {
        var org = await app.NewOrgAsync();
        var customer = await OwnedCustomerAsync(org);
        var rep = app.As(org.RepA);

        var (_, errors) = await (await rep.PostJson($"/api/customers/{customer}/follow-ups", new { content = "" })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["channel", "content", "nextContactAt", "nextPlan"], errors.Keys.Order());
        (_, errors) = await (await rep.PostJson($"/api/customers/{customer}/follow-ups", Record("打过电话", app.Clock.GetUtcNow().AddHours(-2))))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("The next contact must be in the future.", errors["nextContactAt"][0]);
        // Not a channel at all: the body does not bind.
        await (await rep.PostJson($"/api/customers/{customer}/follow-ups", new { channel = "Fax", content = "x" })).ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Empty(await (await rep.GetAsync($"/api/customers/{customer}/follow-ups")).ReadAsync<List<FollowUpRow>>());
        Assert.Null(Assert.Single(await TasksOfAsync(customer)).ClosedAt);
    }

    [Fact]
    public async Task Records_are_append_only_and_a_correction_is_a_new_record_naming_the_old_one()
    {
        var org = await app.NewOrgAsync();
        var customer = await OwnedCustomerAsync(org);
        var other = org.CustomersOf[org.RepA.Id][0];
        var rep = app.As(org.RepA);
        var wrong = await (await rep.PostJson($"/api/customers/{customer}/follow-ups", Record("客户要 50 套", app.Clock.GetUtcNow().AddDays(2)))).ReadAsync<FollowUpRow>();
        var elsewhere = await (await rep.PostJson($"/api/customers/{other}/follow-ups", Record("别的客户", app.Clock.GetUtcNow().AddDays(2)))).ReadAsync<FollowUpRow>();

        var (_, errors) = await (await rep.PostJson($"/api/customers/{customer}/follow-ups",
            Record("更正", app.Clock.GetUtcNow().AddDays(2), correctsId: elsewhere.Id))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["correctsId"], errors.Keys);
        var correction = await (await rep.PostJson($"/api/customers/{customer}/follow-ups",
            Record("更正：客户要 5 套，不是 50 套", app.Clock.GetUtcNow().AddDays(2), correctsId: wrong.Id))).ReadAsync<FollowUpRow>();

        var list = await (await rep.GetAsync($"/api/customers/{customer}/follow-ups")).ReadAsync<List<FollowUpRow>>();
        Assert.Equal([correction.Id, wrong.Id], list.Select(f => f.Id));
        // Correcting the latest record replaces its reminder.
        Assert.Single(await app.InDbAsync(db => db.FollowUpTasks.IgnoreQueryFilters()
            .Where(t => t.CustomerId == customer && t.ClosedAt == null && t.Kind != TaskKinds.PlanStep).ToListAsync()));
        // … and is no new contact: the plan's open step stays open.
        Assert.Equal(1, Assert.Single(await app.InDbAsync(db => db.FollowUpTasks.IgnoreQueryFilters()
            .Where(t => t.CustomerId == customer && t.ClosedAt == null && t.Kind == TaskKinds.PlanStep).ToListAsync())).PlanStep);
        Assert.Equal((wrong.Id, (Guid?)correction.Id), (list[0].CorrectsId!.Value, list[1].CorrectedById));
        Assert.Equal("客户要 50 套", list[1].Content);

        // Nothing in the application can change or remove a record, whatever the path.
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            var record = await db.FollowUpRecords.IgnoreQueryFilters().SingleAsync(f => f.Id == wrong.Id);
            record.Content = "改写历史";
            return await db.SaveChangesAsync();
        }));
        Assert.Contains("append-only", thrown.Message);
    }

    [Fact]
    public async Task Follow_ups_are_seen_and_written_only_within_the_callers_scope()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        await app.As(org.RepA).PostJson($"/api/customers/{customer}/follow-ups", Record("只有 A 组能看", app.Clock.GetUtcNow().AddDays(1)));

        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).GetAsync($"/api/customers/{customer}/follow-ups")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).PostJson($"/api/customers/{customer}/follow-ups", Record("越权", app.Clock.GetUtcNow().AddDays(1)))).StatusCode);
        Assert.Single(await (await app.As(org.ManagerA).GetAsync($"/api/customers/{customer}/follow-ups")).ReadAsync<List<FollowUpRow>>());
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.Finance).PostJson($"/api/customers/{customer}/follow-ups", Record("财务", app.Clock.GetUtcNow().AddDays(1)))).StatusCode);
    }
}

public sealed class FollowUpTests_Sqlite(SqliteApp app) : FollowUpTests<SqliteApp>(app);
public sealed class FollowUpTests_Postgres(PostgresApp app) : FollowUpTests<PostgresApp>(app);
