using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pipeline;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pipeline;

/// <summary>An organisation's feedback-tag rule as stored; an organisation without any uses <see cref="FeedbackTags.Default"/>.</summary>
public sealed class StoredFeedbackRule : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Tag { get; set; }
    /// <summary>JSON array of keywords.</summary>
    public required string Keywords { get; set; }
    public int Position { get; set; }
}

/// <summary>Admin keeps the keyword rules (R5.5); every follow-up is tagged by them when logged.</summary>
public sealed class FeedbackRules(TideflowDbContext db, CurrentUser me)
{
    public async Task<List<FeedbackRule>> ListAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        return await LoadAsync(db, ct);
    }

    /// <summary>Replaces the whole rule set, or refuses it naming every rule at fault.</summary>
    public async Task<List<FeedbackRule>> SaveAsync(List<FeedbackRule>? rules, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        if (rules is null)
        {
            throw Problem.Invalid("rules", "Send the list of rules.");
        }
        var problems = FeedbackTags.Problems(rules);
        if (problems.Count > 0)
        {
            throw Problem.Invalid("rules", string.Join(" ", problems));
        }
        db.RemoveRange(await db.Set<StoredFeedbackRule>().ToListAsync(ct));
        foreach (var (rule, i) in rules.Select((r, i) => (r, i)))
        {
            db.Add(new StoredFeedbackRule
            {
                Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Tag = rule.Tag.Trim(), Position = i,
                Keywords = JsonSerializer.Serialize(rule.Keywords.Select(k => k.Trim()).Where(k => k.Length > 0).ToList()),
            });
        }
        await db.SaveChangesAsync(ct);
        return await LoadAsync(db, ct);
    }

    public static async Task<List<FeedbackRule>> LoadAsync(TideflowDbContext db, CancellationToken ct)
    {
        var stored = await db.Set<StoredFeedbackRule>().AsNoTracking().OrderBy(r => r.Position).ToListAsync(ct);
        return stored.Count == 0
            ? [.. FeedbackTags.Default]
            : stored.Select(r => new FeedbackRule(r.Tag, JsonSerializer.Deserialize<List<string>>(r.Keywords) ?? [])).ToList();
    }
}

public static class FeedbackRuleEndpoints
{
    public static void MapFeedbackRules(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/feedback-rules").WithTags("Pipeline");
        g.MapGet("/", (FeedbackRules h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPut("/", (List<FeedbackRule> r, FeedbackRules h, CancellationToken ct) => h.SaveAsync(r, ct));
    }
}
