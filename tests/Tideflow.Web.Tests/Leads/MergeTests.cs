using System.Net;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Leads;

public abstract class MergeTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static FormUrlEncodedContent Form(params (string, string)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));

    [Fact]
    public async Task Same_company_and_a_similar_name_is_suspected_and_a_merge_moves_everything_and_an_admin_can_undo_it()
    {
        var org = await app.NewOrgAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var client = app.Anonymous();
        await client.PostAsync($"/capture/{org.Channel.Key}", Form(("name", "王芳"), ("company", $"深圳市恒信{tag}商贸有限公司"), ("mobile", $"138{Random.Shared.Next(10_000_000, 99_999_999)}")));
        await client.PostAsync($"/capture/{org.Channel.Key}", Form(("name", "王方"), ("company", $"深圳市恒信{tag}商贸(有限公司)"), ("email", $"{tag}@example.cn")));

        var suspected = await (await app.As(org.ManagerA).GetAsync("/api/leads/suspected-duplicates")).ReadAsync<List<SuspectedDuplicate>>();
        var pair = Assert.Single(suspected, p => p.A.Company!.Contains(tag, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.RepA).GetAsync("/api/leads/suspected-duplicates")).StatusCode);

        // Merge the lead that only has an email into the one that only has a mobile.
        var (keep, drop) = pair.A.Mobile is not null ? (pair.A, pair.B) : (pair.B, pair.A);
        pair = new SuspectedDuplicate(keep, drop);
        // A merge is sensitive (R9.4): without the merger's current authenticator code, or with a wrong one, nothing happens.
        var (_, errors) = await (await app.As(org.ManagerA).PostJson($"/api/leads/{pair.B.Id}/merge", new { intoId = pair.A.Id })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["totpCode"], errors.Keys);
        var wrong = org.AdminTotpCode() == "000000" ? "111111" : "000000";
        Assert.Equal(HttpStatusCode.BadRequest, (await app.As(org.ManagerA).PostJson($"/api/leads/{pair.B.Id}/merge", new { intoId = pair.A.Id, totpCode = wrong })).StatusCode);
        Assert.Equal(LeadStatus.New, (await (await app.As(org.Admin).GetAsync($"/api/leads/{pair.B.Id}")).ReadAsync<LeadView>()).Lead.Status);
        var merge = await (await app.As(org.ManagerA).PostJson($"/api/leads/{pair.B.Id}/merge", new { intoId = pair.A.Id, totpCode = org.AdminTotpCode() })).ReadAsync<MergeView>();
        var survivor = await (await app.As(org.Admin).GetAsync($"/api/leads/{pair.A.Id}")).ReadAsync<LeadView>();
        Assert.Equal($"{tag}@example.cn", survivor.Lead.Email);
        Assert.Equal(["arrival", "arrival", "merge"], survivor.Timeline.Select(t => t.Kind).Order());
        var gone = await (await app.As(org.Admin).GetAsync($"/api/leads/{pair.B.Id}")).ReadAsync<LeadView>();
        Assert.Equal(LeadStatus.Merged, gone.Lead.Status);
        Assert.Empty(gone.Timeline);
        Assert.True(await app.InDbAsync(db => db.AuditEntries.AnyAsync(a => a.EntityType == nameof(LeadMerge) && a.EntityId == merge.Id.ToString())));

        // A later submission with the merged lead's email lands on the survivor.
        await client.PostAsync($"/capture/{org.Channel.Key}", Form(("name", "王方"), ("email", $"{tag}@example.cn")));
        Assert.Equal(4, (await (await app.As(org.Admin).GetAsync($"/api/leads/{pair.A.Id}")).ReadAsync<LeadView>()).Timeline.Count);

        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.ManagerA).PostAsync($"/api/merges/{merge.Id}/undo", null)).StatusCode);
        (_, errors) = await (await app.As(org.Admin).PostAsync($"/api/merges/{merge.Id}/undo", null)).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["totpCode"], errors.Keys);
        var undone = await (await app.As(org.Admin).PostJson($"/api/merges/{merge.Id}/undo", new { totpCode = org.AdminTotpCode() })).ReadAsync<MergeView>();
        Assert.NotNull(undone.UndoneAt);
        var back = await (await app.As(org.Admin).GetAsync($"/api/leads/{pair.B.Id}")).ReadAsync<LeadView>();
        Assert.Equal(LeadStatus.New, back.Lead.Status);
        Assert.Equal("arrival", Assert.Single(back.Timeline).Kind);
        var survivorAfter = await (await app.As(org.Admin).GetAsync($"/api/leads/{pair.A.Id}")).ReadAsync<LeadView>();
        Assert.Null(survivorAfter.Lead.Email);
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(org.Admin).PostJson($"/api/merges/{merge.Id}/undo", new { totpCode = org.AdminTotpCode() })).StatusCode);
    }
}

public sealed class MergeTests_Sqlite(SqliteApp app) : MergeTests<SqliteApp>(app);
public sealed class MergeTests_Postgres(PostgresApp app) : MergeTests<PostgresApp>(app);
