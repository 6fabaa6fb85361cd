using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

/// <summary>An admin's tagging rule as stored; the matching itself is <see cref="TaggingRules"/>.</summary>
public sealed class StoredTagRule : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Tag { get; set; }
    /// <summary>JSON array of <see cref="FieldCondition"/>; all must hold.</summary>
    public required string Conditions { get; set; }
    public int Position { get; set; }
}

public sealed record TagRuleRow(Guid Id, string Name, string Tag, IReadOnlyList<FieldCondition> Conditions, int Position);

public sealed record SaveTagRuleRequest(
    [property: Required, StringLength(100, MinimumLength = 1)] string Name,
    [property: Required, StringLength(TaggingRules.MaxTagLength, MinimumLength = 1)] string Tag,
    [property: Required] List<FieldCondition> Conditions);

/// <summary>Admin edits the rules; every arrival path (channel, import, manual) asks <see cref="Stamp"/>.</summary>
public sealed class TagRules(TideflowDbContext db, CurrentUser me)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public async Task<List<TagRuleRow>> ListAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        return (await db.Set<StoredTagRule>().AsNoTracking().OrderBy(r => r.Position).ToListAsync(ct)).Select(Row).ToList();
    }

    public async Task<TagRuleRow> CreateAsync(SaveTagRuleRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        var rule = new StoredTagRule
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Name = "", Tag = "", Conditions = "[]",
            Position = await db.Set<StoredTagRule>().CountAsync(ct),
        };
        Apply(rule, request);
        db.Add(rule);
        await db.SaveChangesAsync(ct);
        return Row(rule);
    }

    public async Task<TagRuleRow> UpdateAsync(Guid id, SaveTagRuleRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        var rule = await db.Set<StoredTagRule>().SingleOrDefaultAsync(r => r.Id == id, ct) ?? throw Problem.NotFound("Tag rule");
        Apply(rule, request);
        await db.SaveChangesAsync(ct);
        return Row(rule);
    }

    public async Task DeleteAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        var rule = await db.Set<StoredTagRule>().SingleOrDefaultAsync(r => r.Id == id, ct) ?? throw Problem.NotFound("Tag rule");
        db.Remove(rule);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The organisation's rules in order, as the domain engine takes them.</summary>
    public static async Task<List<TagRule>> LoadAsync(TideflowDbContext db, CancellationToken ct) =>
        (await db.Set<StoredTagRule>().AsNoTracking().OrderBy(r => r.Position).ToListAsync(ct)).Select(Domain).ToList();

    /// <summary>What a rule can test on an arriving lead: its channel, then the submitted fields (canonical names win).</summary>
    public static Dictionary<string, string?> FieldsFor(Channel? channel, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var result = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (channel is not null)
        {
            result["channel"] = channel.Name;
            result["channelKind"] = channel.Kind.ToString();
            result["sourceTag"] = channel.SourceTag;
        }
        foreach (var (k, v) in fields)
        {
            result[k] = v;
        }
        return result;
    }

    /// <summary>Comma-separated tags, or null when no rule matches.</summary>
    public static string? Stamp(IReadOnlyList<TagRule> rules, IReadOnlyDictionary<string, string?> fields)
    {
        var tags = rules.Count == 0 ? [] : TaggingRules.Apply(rules, fields);
        return tags.Count == 0 ? null : string.Join(",", tags);
    }

    private static void Apply(StoredTagRule rule, SaveTagRuleRequest request)
    {
        Problem.ThrowIfInvalid(request);
        var domain = new TagRule(request.Name.Trim(), request.Conditions, request.Tag.Trim());
        if (TaggingRules.Problem(domain) is { } problem)
        {
            throw Problem.Invalid("conditions", $"Rule '{domain.Name}': {problem}");
        }
        rule.Name = domain.Name;
        rule.Tag = domain.Tag;
        rule.Conditions = JsonSerializer.Serialize(request.Conditions, Json);
    }

    private static TagRule Domain(StoredTagRule r) =>
        new(r.Name, JsonSerializer.Deserialize<List<FieldCondition>>(r.Conditions, Json) ?? [], r.Tag);

    private static TagRuleRow Row(StoredTagRule r) => new(r.Id, r.Name, r.Tag, Domain(r).Conditions, r.Position);
}

public static class TagRuleEndpoints
{
    public static void MapTagRules(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/tag-rules").WithTags("Channels");
        g.MapGet("/", (TagRules h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPost("/", async (SaveTagRuleRequest r, TagRules h, CancellationToken ct) =>
        {
            var row = await h.CreateAsync(r, ct);
            return Results.Created($"/api/tag-rules/{row.Id}", row);
        });
        g.MapPut("/{id:guid}", (Guid id, SaveTagRuleRequest r, TagRules h, CancellationToken ct) => h.UpdateAsync(id, r, ct));
        g.MapDelete("/{id:guid}", async (Guid id, TagRules h, CancellationToken ct) =>
        {
            await h.DeleteAsync(id, ct);
            return Results.NoContent();
        });
    }
}
