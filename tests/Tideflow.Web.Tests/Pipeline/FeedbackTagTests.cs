using System.Net;
using Tideflow.Domain.Pipeline;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Pipeline;

public abstract class FeedbackTagTests<TApp>(TApp app) where TApp : TideflowApp
{
    private object Note(string content) =>
        new { channel = "Phone", content, nextPlan = "再联系", nextContactAt = app.Clock.GetUtcNow().AddDays(2) };

    [Fact]
    public async Task Follow_ups_are_tagged_by_keyword_rules_and_customers_are_filtered_by_their_tags()
    {
        var org = await app.NewOrgAsync();
        var rep = app.As(org.RepA);
        var (first, second) = (org.CustomersOf[org.RepA.Id][0], org.CustomersOf[org.RepA.Id][1]);

        // The defaults work before an admin touches anything.
        var logged = await (await rep.PostJson($"/api/customers/{first}/follow-ups", Note("客户嫌价格高，还在和竞品对比"))).ReadAsync<FollowUpRow>();
        Assert.Equal(["价格敏感", "考虑竞品"], logged.Tags!);

        var admin = app.As(org.Admin);
        var (detail, _) = await (await admin.PutJson("/api/feedback-rules", new[] { new { tag = "全部", keywords = new[] { "的" } } })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Rule '全部': keyword '的'", detail);
        Assert.Equal(HttpStatusCode.Forbidden, (await rep.PutJson("/api/feedback-rules", Array.Empty<object>())).StatusCode);
        var saved = await (await admin.PutJson("/api/feedback-rules", new[]
        {
            new { tag = "交付顾虑", keywords = new[] { "交付周期", "delivery time" } },
            new { tag = "价格敏感", keywords = new[] { "太贵" } },
        })).ReadAsync<List<FeedbackRule>>();
        Assert.Equal(["交付顾虑", "价格敏感"], saved.Select(r => r.Tag));

        logged = await (await rep.PostJson($"/api/customers/{second}/follow-ups", Note("Worried about DELIVERY TIME, and 太贵"))).ReadAsync<FollowUpRow>();
        Assert.Equal(["交付顾虑", "价格敏感"], logged.Tags!);

        async Task<Guid[]> Tagged(string tag) =>
            (await (await rep.GetAsync($"/api/customers?feedbackTag={Uri.EscapeDataString(tag)}")).ReadAsync<Page<CustomerRow>>()).Items.Select(c => c.Id).Order().ToArray();
        Assert.Equal(new[] { first, second }.Order().ToArray(), await Tagged("价格敏感"));
        Assert.Equal([first], await Tagged("考虑竞品"));
        Assert.Equal([second], await Tagged("交付顾虑"));
        Assert.Empty(await Tagged("功能缺口"));
        // Other reps do not see these customers, tagged or not.
        Assert.Empty((await (await app.As(org.RepB).GetAsync("/api/customers?feedbackTag=价格敏感")).ReadAsync<Page<CustomerRow>>()).Items);
    }
}

public sealed class FeedbackTagTests_Sqlite(SqliteApp app) : FeedbackTagTests<SqliteApp>(app);
public sealed class FeedbackTagTests_Postgres(PostgresApp app) : FeedbackTagTests<PostgresApp>(app);
