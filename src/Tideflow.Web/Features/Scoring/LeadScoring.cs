using System.Text.Json;
using Tideflow.Domain.Leads;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Features.Leads;

namespace Tideflow.Web.Features.Scoring;

/// <summary>The breakdown as stored on a lead and shown on its page.</summary>
public sealed record StoredScore(int Total, string Grade, int Version, IReadOnlyList<CriterionScore> Breakdown, int BehaviourPoints, string Explanation);

/// <summary>Reads a lead as rules see it, and stamps a score on it. Every path that scores a lead comes through here.</summary>
public static class LeadScoring
{
    public const int MaxFields = 60;
    public const int MaxFieldName = 50;
    public const int MaxFieldValue = 500;

    internal static readonly JsonSerializerOptions Json = Shared.StoredJson.Options;

    // Forms name their fields in the visitor's language; rules use one name per field.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["预算"] = LeadFields.Budget, ["紧迫度"] = LeadFields.Urgency, ["购买时间"] = LeadFields.Urgency,
        ["决策权"] = LeadFields.Authority, ["角色"] = LeadFields.Authority, ["需求"] = LeadFields.Need,
        ["行业"] = LeadFields.Industry, ["地区"] = LeadFields.Region, ["省份"] = LeadFields.Region,
        ["产品"] = LeadFields.Product, ["意向产品"] = LeadFields.Product,
    };

    // Contact fields live in their own columns; the rest are computed from the lead and its channel, never typed in.
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        LeadFields.Name, LeadFields.Company, LeadFields.Mobile, LeadFields.Email, LeadFields.Channel, LeadFields.ChannelKind,
        LeadFields.SourceTag, LeadFields.Campaign, LeadFields.Tags, LeadFields.ContactCompleteness, LeadFields.Grade,
    };

    /// <summary>
    /// The submitted fields worth keeping for rules, as JSON: names and values trimmed and clipped, blanks dropped,
    /// at most <see cref="MaxFields"/> besides custom fields. Contact fields live in their own columns and are not
    /// repeated. A custom field may arrive under its key or its label and is stored under its key in canonical form
    /// (<see cref="CustomFields.Normalize"/>); a value that does not fit is left out and stays in the raw payload.
    /// </summary>
    public static string? FieldsJson(IEnumerable<KeyValuePair<string, string>> submitted, IReadOnlyList<CustomField> custom) =>
        CheckFields(submitted, custom, requireAll: false).Json;

    /// <summary>
    /// <see cref="FieldsJson"/> and, per custom key, why its value was left out. With <paramref name="requireAll"/> a
    /// required custom field without a value is a problem too (a person filling in a form, a row of an import).
    /// </summary>
    /// <param name="stored">The lead's values as stored (an edit): a custom value given back unchanged is kept as it is.</param>
    public static (string? Json, Dictionary<string, string> Problems) CheckFields(IEnumerable<KeyValuePair<string, string>> submitted,
        IReadOnlyList<CustomField> custom, bool requireAll, IReadOnlyDictionary<string, string>? stored = null)
    {
        var forLeads = custom.Where(f => f.AppliesTo.HasFlag(CustomFieldTarget.Lead)).ToList();
        var kept = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var customValues = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (rawName, rawValue) in submitted)
        {
            var name = rawName?.Trim() ?? "";
            // A customer-only field's name is checked too, so it is refused (or, arriving, left out), never kept unchecked.
            if (name.Length > 0 && (CustomFields.Named(forLeads, name) ?? CustomFields.Named(custom, name)) is { } field)
            {
                if (string.IsNullOrWhiteSpace(customValues.GetValueOrDefault(field.Key)))
                {
                    customValues[field.Key] = rawValue;
                }
                continue;
            }
            name = Aliases.GetValueOrDefault(name, name);
            var value = rawValue?.Trim() ?? "";
            if (name.Length is 0 or > MaxFieldName || value.Length == 0 || kept.ContainsKey(name) || kept.Count >= MaxFields
                || Reserved.Contains(name))
            {
                continue;
            }
            kept[name] = value.Length <= MaxFieldValue ? value : value[..MaxFieldValue];
        }
        var (values, problems) = CustomFields.Check(forLeads, CustomFieldTarget.Lead, customValues, requireAll, stored);
        foreach (var (key, value) in values)
        {
            kept[key] = value;
        }
        return (ToJson(kept), problems);
    }

    /// <summary>Field values as a record stores them: a JSON object sorted by name, or null when there are none.</summary>
    public static string? ToJson(IReadOnlyDictionary<string, string> values) =>
        values.Count == 0 ? null : JsonSerializer.Serialize(new SortedDictionary<string, string>(values.ToDictionary(), StringComparer.OrdinalIgnoreCase), Json);

    public static Dictionary<string, string> StoredFields(string? json) => new(Parsed(json), StringComparer.OrdinalIgnoreCase);

    private static Dictionary<string, string> Parsed(string? json) =>
        string.IsNullOrEmpty(json) ? [] : JsonSerializer.Deserialize<Dictionary<string, string>>(json, Json) ?? [];

    /// <summary>Everything a scoring or routing rule may test on this lead: stored fields, contact, channel, tags, completeness.</summary>
    public static Dictionary<string, string?> Facts(Lead lead, Channel? channel)
    {
        var facts = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        // Parsed straight into the facts, not copied into a lookup first: a re-score builds a million of these.
        foreach (var (k, v) in Parsed(lead.Fields))
        {
            facts[k] = v;
        }
        facts[LeadFields.Name] = lead.Name;
        facts[LeadFields.Company] = lead.Company;
        facts[LeadFields.Mobile] = lead.Mobile;
        facts[LeadFields.Email] = lead.Email;
        facts[LeadFields.Tags] = lead.Tags;
        facts[LeadFields.SourceTag] = lead.SourceTag;
        facts[LeadFields.Campaign] = lead.Campaign;
        facts[LeadFields.ContactCompleteness] = LeadFields.Completeness(lead.Name, lead.Company, lead.Mobile, lead.Email)
            .ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (channel is not null)
        {
            facts[LeadFields.Channel] = channel.Name;
            facts[LeadFields.ChannelKind] = channel.Kind.ToString();
        }
        else
        {
            // Only a lead typed in by a person has no channel.
            facts[LeadFields.ChannelKind] = nameof(ChannelKind.Manual);
        }
        if (lead.Grade is not null)
        {
            facts[LeadFields.Grade] = lead.Grade;
        }
        return facts;
    }

    /// <summary>Scores the lead now and stamps score, grade, version and breakdown on it.</summary>
    public static ScoreResult Apply(Lead lead, Channel? channel, ScoreCard card, int version, DateTimeOffset now)
    {
        var behaviour = lead.BehaviourAsOf is { } asOf ? Decay.Remaining(lead.BehaviourPoints, asOf, now, card.HalfLifeDays) : 0;
        var result = Scorer.Score(card, Facts(lead, channel), behaviour);
        lead.Score = result.Total;
        lead.Grade = result.Grade;
        lead.ScoreVersion = version;
        lead.ScoredAt = now;
        lead.ScoreBreakdown = Compact(card, result);
        return result;
    }

    /// <summary>
    /// The breakdown as stored: per criterion its points and the index of the band that matched (−1: none), then the
    /// behaviour points — "40:0,15:4,0:-1|5". Names, weights and band texts come from the card version on read; a
    /// re-score of a million leads then writes a few bytes a lead, not a JSON document.
    /// </summary>
    public static string Compact(ScoreCard card, ScoreResult result)
    {
        var described = BandTexts.GetValue(card, Describe);
        var parts = result.Breakdown.Select((c, i) =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Points}:{(c.Matched is null ? -1 : Array.IndexOf(described[i], c.Matched))}"));
        return string.Join(",", parts) + "|" + result.BehaviourPoints.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    // A card's band texts, described once per card instead of once per band and lead (a re-score compacts a million).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ScoreCard, string[][]> BandTexts = new();

    private static string[][] Describe(ScoreCard card) => card.Criteria
        .Select(c => c.Bands.Select(b => FieldConditions.Describe(new FieldCondition(c.Field, b.Operator, b.Value))).ToArray()).ToArray();

    /// <summary>"Why is this lead A?" rebuilt from the stored points and the card version that scored it; null if they disagree.</summary>
    public static StoredScore? Breakdown(Lead lead, ScoreCard card)
    {
        if (string.IsNullOrEmpty(lead.ScoreBreakdown) || lead.Score is not { } total || lead.Grade is not { } grade || lead.ScoreVersion is not { } version)
        {
            return null;
        }
        var halves = lead.ScoreBreakdown.Split('|');
        var criteria = halves[0].Length == 0 ? [] : halves[0].Split(',');
        if (halves.Length != 2 || criteria.Length != card.Criteria.Count || !int.TryParse(halves[1], System.Globalization.CultureInfo.InvariantCulture, out var behaviour))
        {
            return null;
        }
        var breakdown = new List<CriterionScore>(criteria.Length);
        for (var i = 0; i < criteria.Length; i++)
        {
            var pair = criteria[i].Split(':');
            if (pair.Length != 2 || !int.TryParse(pair[0], System.Globalization.CultureInfo.InvariantCulture, out var points)
                || !int.TryParse(pair[1], System.Globalization.CultureInfo.InvariantCulture, out var band) || band >= card.Criteria[i].Bands.Count)
            {
                return null;
            }
            var criterion = card.Criteria[i];
            var matched = band < 0 ? null
                : FieldConditions.Describe(new FieldCondition(criterion.Field, criterion.Bands[band].Operator, criterion.Bands[band].Value));
            breakdown.Add(new CriterionScore(criterion.Name, points, criterion.Weight, matched));
        }
        var explanation = new ScoreResult(total, grade, breakdown, behaviour).Explain();
        return new StoredScore(total, grade, version, breakdown, behaviour, explanation);
    }
}
