using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Pipeline;

public abstract class StageTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static async Task<string[]> MissingAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = await response.JsonAsync();
        return body.GetProperty("missing").EnumerateArray().Select(m => m.GetProperty("check").GetString()!).ToArray();
    }

    [Fact]
    public async Task A_blocked_move_lists_what_is_missing_and_goes_through_once_it_is_there()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var rep = app.As(org.RepA);

        Assert.Equal(HttpStatusCode.OK, (await rep.PostJson($"/api/customers/{customer}/stage", new { to = "contacted" })).StatusCode);
        var stageTask = await app.InDbAsync(db => db.FollowUpTasks.IgnoreQueryFilters().SingleAsync(t => t.CustomerId == customer && t.Kind == TaskKinds.StageTask));
        Assert.Equal(("确认客户需求", org.RepA.Id), (stageTask.Title, stageTask.OwnerId));

        var refused = await rep.PostJson($"/api/customers/{customer}/stage", new { to = "needs" });
        Assert.Equal(["FollowUpWithNextPlan"], await MissingAsync(refused));
        Assert.Equal("contacted", (await app.InDbAsync(db => db.Customers.IgnoreQueryFilters().SingleAsync(c => c.Id == customer))).Stage);

        await rep.PostJson($"/api/customers/{customer}/follow-ups",
            new { channel = "Phone", content = "确认了采购数量", nextPlan = "发方案", nextContactAt = app.Clock.GetUtcNow().AddDays(2) });
        Assert.Equal(HttpStatusCode.OK, (await rep.PostJson($"/api/customers/{customer}/stage", new { to = "needs" })).StatusCode);
        // The stage left takes its task with it; the stage entered brings its own.
        var tasks = await app.InDbAsync(db => db.FollowUpTasks.IgnoreQueryFilters().Where(t => t.CustomerId == customer && t.Kind == TaskKinds.StageTask).ToListAsync());
        Assert.Equal([("准备方案与报价", null), ("确认客户需求", "stage-changed")], tasks.Select(t => (t.Title, t.ClosedReason)).OrderBy(t => t.Title, StringComparer.Ordinal));

        var lost = await rep.PostJson($"/api/customers/{customer}/stage", new { to = "lost" });
        Assert.Equal(["LostReason"], await MissingAsync(lost));
        Assert.Contains("the reason the customer was lost", (await lost.JsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await rep.PostJson($"/api/customers/{customer}/stage", new { to = "lost", lostReason = "选了竞品" })).StatusCode);

        var history = await (await rep.GetAsync($"/api/customers/{customer}/stage-history")).ReadAsync<List<StageMoveRow>>();
        Assert.Equal([("needs", "lost", "选了竞品"), ("contacted", "needs", null), ("new", "contacted", null)], history.Select(h => (h.From, h.To, h.LostReason)));

        // A lost customer needs no next step in a follow-up.
        Assert.Equal(HttpStatusCode.Created, (await rep.PostJson($"/api/customers/{customer}/follow-ups", new { channel = "WeChat", content = "客户说明年再看" })).StatusCode);
    }

    [Fact]
    public async Task Won_needs_invoice_details_and_only_an_admin_may_override_with_a_recorded_reason()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];

        // Straight from 新线索 to 赢单: the follow-up that leaving 已联系 needs, the invoice details (a title alone is not enough)
        // and the contract.
        Assert.Equal(["FollowUpWithNextPlan", "InvoiceDetails", "ContractAttachment"],
            await MissingAsync(await app.As(org.RepA).PostJson($"/api/customers/{customer}/stage", new { to = "won", invoiceTitle = "宁波电子" })));
        await app.As(org.RepA).PostJson($"/api/customers/{customer}/follow-ups",
            new { channel = "Meeting", content = "谈妥条款", nextPlan = "签合同", nextContactAt = app.Clock.GetUtcNow().AddDays(1) });
        Assert.Equal(["InvoiceDetails", "ContractAttachment"], await MissingAsync(await app.As(org.RepA).PostJson($"/api/customers/{customer}/stage", new { to = "won", invoiceTitle = "宁波电子" })));
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.ManagerA).PostJson($"/api/customers/{customer}/stage", new { to = "won", overrideReason = "老板批准" })).StatusCode);

        var overridden = await (await app.As(org.Admin).PostJson($"/api/customers/{customer}/stage", new { to = "won", overrideReason = "合同线下已签，发票信息待补" })).ReadAsync<StageMoveRow>();
        Assert.Equal("合同线下已签，发票信息待补", overridden.OverrideReason);
        var move = await app.InDbAsync(db => db.StageMoves.IgnoreQueryFilters().SingleAsync(m => m.Id == overridden.Id));
        Assert.Contains("InvoiceDetails", move.Details);
        Assert.Contains("ContractAttachment", move.Details);
        Assert.True(await app.InDbAsync(db => db.AuditEntries.AnyAsync(a => a.EntityType == nameof(StageMove) && a.EntityId == overridden.Id.ToString())));

        var (_, errors) = await (await app.As(org.RepA).PostJson($"/api/customers/{customer}/stage", new { to = "closing" })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["to"], errors.Keys);
    }

    [Fact]
    public async Task Of_simultaneous_moves_of_one_customer_exactly_one_is_made_and_skipping_a_stage_skips_no_check()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][1];
        var rep = app.As(org.RepA);

        // Jumping past 已联系 still needs what leaving it needs.
        Assert.Equal(["FollowUpWithNextPlan", "QuoteDetails"], await MissingAsync(await rep.PostJson($"/api/customers/{customer}/stage", new { to = "quoted" })));

        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => app.As(org.RepA).PostJson($"/api/customers/{customer}/stage", new { to = "contacted" })));
        Assert.Single(attempts, r => r.StatusCode == HttpStatusCode.OK);
        // The others lost the race (409) or came after it and found the customer already there (400).
        Assert.All(attempts.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Conflict, HttpStatusCode.BadRequest }));
        var moves = await app.InDbAsync(db => db.StageMoves.IgnoreQueryFilters().Where(m => m.CustomerId == customer).ToListAsync());
        Assert.Equal([("new", "contacted", 1)], moves.Select(m => (m.From, m.To, m.Sequence)));
        Assert.Equal(1, await app.InDbAsync(db => db.FollowUpTasks.IgnoreQueryFilters().CountAsync(t => t.CustomerId == customer && t.Kind == TaskKinds.StageTask)));
    }

    [Fact]
    public async Task A_won_or_lost_customer_keeps_no_open_contact_reminder()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var rep = app.As(org.RepA);
        await rep.PostJson($"/api/customers/{customer}/follow-ups",
            new { channel = "Phone", content = "报价已发", nextPlan = "周五回访", nextContactAt = app.Clock.GetUtcNow().AddDays(3) });
        Assert.Equal(HttpStatusCode.OK, (await rep.PostJson($"/api/customers/{customer}/stage", new { to = "lost", lostReason = "预算取消" })).StatusCode);

        Assert.Empty(await app.InDbAsync(db => db.FollowUpTasks.IgnoreQueryFilters().Where(t => t.CustomerId == customer && t.ClosedAt == null).ToListAsync()));
        Assert.Null((await app.InDbAsync(db => db.Customers.IgnoreQueryFilters().SingleAsync(c => c.Id == customer))).NextContactAt);
    }

    [Fact]
    public async Task No_path_can_change_a_stage_without_the_checks_and_the_board_shows_only_the_callers_customers()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            var c = await db.Customers.IgnoreQueryFilters().SingleAsync(x => x.Id == customer);
            c.Stage = "won";
            return await db.SaveChangesAsync();
        }));
        Assert.Contains("only through MoveStage", thrown.Message);
        // Nor can a customer be created straight into a later stage.
        thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            db.Customers.Add(new Tideflow.Web.Features.Customers.Customer
            {
                Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = "直接赢单", Stage = "won", OwnerId = org.RepA.Id,
            });
            return await db.SaveChangesAsync();
        }));
        Assert.Contains("only through MoveStage", thrown.Message);

        await app.As(org.RepA).PostJson($"/api/customers/{customer}/stage", new { to = "contacted" });
        var board = await (await app.As(org.RepA).GetAsync("/api/pipeline/board")).ReadAsync<List<BoardColumn>>();
        Assert.Equal(7, board.Count);
        Assert.Equal([customer], board.Single(c => c.Key == "contacted").Cards.Select(c => c.Id));
        Assert.Equal(org.CustomersOf[org.RepA.Id].Length, board.Sum(c => c.Count));
        var other = await (await app.As(org.RepB).GetAsync("/api/pipeline/board")).ReadAsync<List<BoardColumn>>();
        Assert.DoesNotContain(other.SelectMany(c => c.Cards), c => c.Id == customer);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).PostJson($"/api/customers/{customer}/stage", new { to = "needs" })).StatusCode);
    }
}

public sealed class StageTests_Sqlite(SqliteApp app) : StageTests<SqliteApp>(app);
public sealed class StageTests_Postgres(PostgresApp app) : StageTests<PostgresApp>(app);
