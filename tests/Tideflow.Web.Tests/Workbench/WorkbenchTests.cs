using System.Net;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Workbench;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Features.Workbench;
using Tideflow.Web.Tests.Infrastructure;
using static Tideflow.Web.Tests.Infrastructure.Leadflow;

namespace Tideflow.Web.Tests.Workbench;

public abstract class WorkbenchTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static async Task<WorkbenchSummary> WorkbenchAsync(TideflowApp node, Persona persona) =>
        await (await node.As(persona).GetAsync("/api/workbench")).ReadAsync<WorkbenchSummary>();

    private static async Task<List<Guid>> ViewAsync(TideflowApp node, Persona persona, string view, int page = 1, int size = 200) =>
        (await (await node.As(persona).GetAsync($"/api/customers?view={view}&page={page}&pageSize={size}")).ReadAsync<Page<CustomerRow>>())
        .Items.Select(c => c.Id).ToList();

    private static WorkbenchList List(WorkbenchSummary s, string view) => s.Lists.Single(l => l.View == view);

    /// <summary>One of the rep's customers, its stored facts set as the test needs (the API cannot make them old).</summary>
    private async Task<Guid> CustomerAsync(TestOrg org, Persona owner, string name, Action<Customer> arrange, params DateTimeOffset[] openContactTasks)
    {
        return await app.InDbAsync(async db =>
        {
            var now = app.Clock.GetUtcNow();
            var c = new Customer
            {
                Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"{name} {org.Id:N}"[..30], OwnerId = owner.Id,
                CreatedById = org.ManagerA.Id, CreatedAt = now.AddDays(-30), AssignedAt = now.AddDays(-30), UpdatedAt = now,
            };
            arrange(c);
            db.Customers.Add(c);
            if (c.Stage != Domain.Pipeline.SalesPipeline.First)
            {
                db.StageMoves.Add(new StageMove
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, CustomerId = c.Id, Sequence = 1, From = Domain.Pipeline.SalesPipeline.First,
                    To = c.Stage, ById = owner.Id, At = c.StageChangedAt ?? now,
                });
            }
            foreach (var due in openContactTasks)
            {
                db.FollowUpTasks.Add(new FollowUpTask
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, OwnerId = owner.Id, CustomerId = c.Id,
                    Kind = TaskKinds.FirstContact, DueAt = due, CreatedAt = now.AddDays(-30),
                });
            }
            await db.SaveChangesAsync();
            return c.Id;
        });
    }

    [Fact]
    public async Task Each_list_holds_what_its_rule_says_in_the_callers_scope_and_the_query_agrees_with_the_pure_rule()
    {
        var org = await app.NewOrgAsync();
        var now = app.Clock.GetUtcNow();
        var (_, todayEnd) = WorkbenchRules.LocalDay(now, Shanghai);
        var laterToday = now + (todayEnd - now) / 2;
        var rep = org.RepA;

        var late3Days = await CustomerAsync(org, rep, "三天前该联系", c => c.NextContactAt = now.AddDays(-3));
        var lateHour = await CustomerAsync(org, rep, "一小时前该联系", c => c.NextContactAt = now.AddHours(-1));
        // The first contact was missed yesterday, though a later plan exists.
        var missedFirst = await CustomerAsync(org, rep, "首次联系超时", c => c.NextContactAt = now.AddDays(2), now.AddDays(-1));
        var today = await CustomerAsync(org, rep, "今天下午联系", c => c.NextContactAt = laterToday);
        var tomorrow = await CustomerAsync(org, rep, "明天联系", c => c.NextContactAt = todayEnd.AddHours(1));
        var stalled = await CustomerAsync(org, rep, "A级停滞", c => (c.Grade, c.Stage, c.StageChangedAt) = ("A", "needs", now.AddDays(-8)));
        var moving = await CustomerAsync(org, rep, "A级刚推进", c => (c.Grade, c.Stage, c.StageChangedAt) = ("A", "quoted", now.AddDays(-2)));
        var handed = await CustomerAsync(org, rep, "A级刚交接", c => (c.Grade, c.AssignedAt) = ("A", now.AddDays(-1)));
        var typedIn = await CustomerAsync(org, rep, "自己录入", c => (c.CreatedById, c.CreatedAt, c.AssignedAt) = (rep.Id, now.AddHours(-2), now.AddHours(-2)));
        var won = await CustomerAsync(org, rep, "已赢单", c => (c.Grade, c.Stage, c.NextContactAt) = ("A", "won", now.AddDays(-3)));
        var otherTeam = await CustomerAsync(org, org.RepB, "B组逾期", c => c.NextContactAt = now.AddDays(-1));

        var summary = await WorkbenchAsync(app, rep);
        // TestOrg's own customers were created just now by nobody in particular: new to their owners.
        var seeded = org.CustomersOf[rep.Id];
        Assert.Equal([late3Days, missedFirst, lateHour], List(summary, "overdue").Top.Select(r => r.CustomerId));
        Assert.Equal(now.AddDays(-1).UtcTicks / 10, List(summary, "overdue").Top[1].At!.Value.UtcTicks / 10);
        Assert.Equal([today], List(summary, "today").Top.Select(r => r.CustomerId));
        Assert.Equal([stalled], List(summary, "stalled").Top.Select(r => r.CustomerId));
        // Newest hand-over first; the rep's own entry is no news.
        var news = List(summary, "new-assignments").Top.Select(r => r.CustomerId).ToList();
        Assert.Equal(seeded.Order(), news.Take(2).Order());
        Assert.Equal(handed, news[2]);
        Assert.Equal((3, 1, 1, 3), (List(summary, "overdue").Count, List(summary, "today").Count, List(summary, "stalled").Count, List(summary, "new-assignments").Count));
        Assert.Equal(("A", 7, 3), (summary.HighIntentGrade, summary.Settings.StalledDays, summary.Settings.NewAssignmentDays));
        Assert.DoesNotContain(tomorrow, summary.Lists.SelectMany(l => l.Top).Select(r => r.CustomerId));
        Assert.DoesNotContain(moving, summary.Lists.SelectMany(l => l.Top).Select(r => r.CustomerId));
        Assert.DoesNotContain(typedIn, summary.Lists.SelectMany(l => l.Top).Select(r => r.CustomerId));
        Assert.DoesNotContain(won, summary.Lists.SelectMany(l => l.Top).Select(r => r.CustomerId));

        // The full list pages in the card's order.
        Assert.Equal([late3Days, missedFirst], await ViewAsync(app, rep, "overdue", page: 1, size: 2));
        Assert.Equal([lateHour], await ViewAsync(app, rep, "overdue", page: 2, size: 2));

        // A manager sees the lists over their teams; another team's rep sees none of it.
        var manager = await WorkbenchAsync(app, org.ManagerA);
        Assert.Equal([late3Days, missedFirst, lateHour], List(manager, "overdue").Top.Select(r => r.CustomerId));
        Assert.Equal([otherTeam], List(await WorkbenchAsync(app, org.RepB), "overdue").Top.Select(r => r.CustomerId));
        Assert.Equal(4, List(await WorkbenchAsync(app, org.Admin), "overdue").Count);

        // Every list agrees with WorkbenchRules.IsIn over the stored facts, for everyone in the organisation.
        var facts = await app.InDbAsync(db => WorkbenchLists.LoadFactsAsync(db, db.Customers.Where(c => c.OrganizationId == org.Id), default));
        var window = WorkbenchWindow.At(now, Shanghai, WorkbenchSettings.Default);
        foreach (var (view, key) in WorkbenchRules.Keys)
        {
            var expected = facts.Where(f => WorkbenchRules.IsIn(view, f.Facts, window, Tideflow.Domain.Pipeline.SalesPipeline.Default, "A")).Select(f => f.Id).Order().ToList();
            Assert.Equal(expected, (await ViewAsync(app, org.Admin, key)).Order().ToList());
        }
    }

    [Fact]
    public async Task The_admin_sets_how_many_days_make_a_high_intent_customer_stalled_and_an_assignment_new()
    {
        var org = await app.NewOrgAsync();
        var now = app.Clock.GetUtcNow();
        var rep = org.RepA;
        var tenDays = await CustomerAsync(org, rep, "A级十天未推进", c => (c.Grade, c.Stage, c.StageChangedAt) = ("A", "needs", now.AddDays(-10)));
        var fiveDaysAgo = await CustomerAsync(org, rep, "五天前交接", c => (c.Grade, c.AssignedAt) = ("C", now.AddDays(-5)));
        var before = await WorkbenchAsync(app, rep);
        Assert.Contains(tenDays, List(before, "stalled").Top.Select(r => r.CustomerId));
        Assert.DoesNotContain(fiveDaysAgo, List(before, "new-assignments").Top.Select(r => r.CustomerId));

        var pipeline = await (await app.As(org.Admin).GetAsync("/api/pipeline")).ReadAsync<Domain.Pipeline.SalesPipeline>();
        var saved = await (await app.As(org.Admin).PutJson("/api/pipeline", pipeline with { Workbench = new WorkbenchSettings(14, 7) }))
            .ReadAsync<Domain.Pipeline.SalesPipeline>();
        Assert.Equal(new WorkbenchSettings(14, 7), saved.Workbench);

        var after = await WorkbenchAsync(app, rep);
        Assert.Equal((14, 7), (after.Settings.StalledDays, after.Settings.NewAssignmentDays));
        Assert.DoesNotContain(tenDays, List(after, "stalled").Top.Select(r => r.CustomerId));
        Assert.Contains(fiveDaysAgo, List(after, "new-assignments").Top.Select(r => r.CustomerId));
        // The full list behind the card agrees with it.
        Assert.DoesNotContain(tenDays, await ViewAsync(app, rep, "stalled"));
        Assert.Contains(fiveDaysAgo, await ViewAsync(app, rep, "new-assignments"));

        // A save of the stages alone (a script that knows nothing of the periods) keeps them.
        var stagesOnly = await (await app.As(org.Admin).PutJson("/api/pipeline", new { stages = pipeline.Stages, pipelines = pipeline.Pipelines }))
            .ReadAsync<Domain.Pipeline.SalesPipeline>();
        Assert.Equal(new WorkbenchSettings(14, 7), stagesOnly.Workbench);
        // Narrowed again, the lists follow.
        await app.As(org.Admin).PutJson("/api/pipeline", pipeline with { Workbench = new WorkbenchSettings(9, 3) });
        var narrowed = await WorkbenchAsync(app, rep);
        Assert.Contains(tenDays, List(narrowed, "stalled").Top.Select(r => r.CustomerId));
        Assert.DoesNotContain(fiveDaysAgo, List(narrowed, "new-assignments").Top.Select(r => r.CustomerId));

        var refused = await app.As(org.Admin).PutJson("/api/pipeline", pipeline with { Workbench = new WorkbenchSettings(0, 7) });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("workbench.stalledDays", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_list_too_long_to_read_with_the_others_shows_the_same_first_rows_as_its_full_list()
    {
        var org = await app.NewOrgAsync();
        var now = app.Clock.GetUtcNow();
        var rep = org.RepA;
        // One more overdue customer than the summary reads together with the other lists; many late by the same minute.
        await app.InDbAsync(async db =>
        {
            for (var i = 0; i <= WorkbenchLists.ReadTogetherUpTo; i++)
            {
                db.Customers.Add(new Customer
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"逾期 {i}", OwnerId = rep.Id, CreatedById = org.ManagerA.Id,
                    CreatedAt = now.AddDays(-30), AssignedAt = now.AddDays(-30), UpdatedAt = now, NextContactAt = now.AddMinutes(-1 - i % 7),
                });
            }
            return await db.SaveChangesAsync();
        });

        var summary = await WorkbenchAsync(app, rep);
        var overdue = List(summary, "overdue");
        Assert.Equal(WorkbenchLists.ReadTogetherUpTo + 1, overdue.Count);
        // Read by its own query, ties broken by id as the full list breaks them; the short list beside it read with the others.
        Assert.Equal(await ViewAsync(app, rep, "overdue", size: WorkbenchLists.TopRows), overdue.Top.Select(r => r.CustomerId));
        Assert.Equal(await ViewAsync(app, rep, "new-assignments", size: WorkbenchLists.TopRows), List(summary, "new-assignments").Top.Select(r => r.CustomerId));
    }

    [Fact]
    public async Task Customers_due_at_the_same_moment_are_shown_in_the_full_lists_order()
    {
        var org = await app.NewOrgAsync();
        var now = app.Clock.GetUtcNow();
        var due = now.AddHours(-2);
        for (var i = 0; i < 8; i++)
        {
            await CustomerAsync(org, org.RepA, $"同时逾期{i}", c => c.NextContactAt = due);
        }
        var summary = await WorkbenchAsync(app, org.RepA);
        Assert.Equal(await ViewAsync(app, org.RepA, "overdue", size: WorkbenchLists.TopRows), List(summary, "overdue").Top.Select(r => r.CustomerId));
    }

    [Fact]
    public async Task An_unknown_list_is_refused_naming_the_lists_there_are()
    {
        var org = await app.NewOrgAsync();
        var (detail, errors) = await (await app.As(org.RepA).GetAsync("/api/customers?view=urgent")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["view"], errors.Keys);
        Assert.Contains("today, overdue, stalled, new-assignments", detail);
        // No view is every customer, as before.
        Assert.Equal(2, (await (await app.As(org.RepA).GetAsync("/api/customers?view=")).ReadAsync<Page<CustomerRow>>()).Total);
    }

    [Fact]
    public async Task A_missed_first_contact_puts_the_customer_on_overdue_and_logging_the_follow_up_takes_it_off_until_the_next_plan_passes()
    {
        app.SkipIfUnavailable();
        // Its own app instance: moving this clock must not disturb tests running beside it.
        await using var node = app.SecondNode();
        var org = await TestOrg.CreateAsync(node.Services);
        await node.SaveRulesAsync(org, ToRep("全部给 A", org.RepA.Id));
        var lead = await node.CaptureAsync(org, [("name", "工作台客户"), .. Hot]);
        node.Clock.Advance(TimeSpan.FromHours(1));
        var customer = (await (await node.As(org.RepA).PostAsync($"/api/leads/{lead}/qualify", null)).ReadAsync<QualifyResult>()).CustomerId;

        // Routed to the rep an hour before they qualified it: new to them, its first contact (grade A: 24 h) not yet late.
        var fresh = await WorkbenchAsync(node, org.RepA);
        Assert.Contains(customer, List(fresh, "new-assignments").Top.Select(r => r.CustomerId));
        Assert.Empty(List(fresh, "overdue").Top);

        node.Clock.Advance(TimeSpan.FromHours(24));
        Assert.Equal([customer], List(await WorkbenchAsync(node, org.RepA), "overdue").Top.Select(r => r.CustomerId));
        Assert.Equal([customer], await ViewAsync(node, org.ManagerA, "overdue"));
        Assert.Empty(await ViewAsync(node, org.RepB, "overdue"));

        var next = node.Clock.GetUtcNow().AddDays(2);
        Assert.Equal(HttpStatusCode.Created, (await node.As(org.RepA).PostJson($"/api/customers/{customer}/follow-ups",
            new { channel = "Phone", content = "电话沟通，客户要方案", nextPlan = "发方案", nextContactAt = next })).StatusCode);
        var after = await WorkbenchAsync(node, org.RepA);
        Assert.Equal((0, 0), (List(after, "overdue").Count, List(after, "today").Count));

        node.Clock.Advance(TimeSpan.FromDays(2) + TimeSpan.FromMinutes(1));
        var late = Assert.Single(List(await WorkbenchAsync(node, org.RepA), "overdue").Top);
        Assert.Equal((customer, next.UtcTicks / 10), (late.CustomerId, late.At!.Value.UtcTicks / 10));
    }
}

public sealed class WorkbenchTests_Sqlite(SqliteApp app) : WorkbenchTests<SqliteApp>(app);
public sealed class WorkbenchTests_Postgres(PostgresApp app) : WorkbenchTests<PostgresApp>(app);
