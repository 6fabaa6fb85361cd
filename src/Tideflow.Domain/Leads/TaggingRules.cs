namespace Tideflow.Domain.Leads;

/// <summary>
/// All conditions must hold (AND). Field names are case-insensitive lead field names: channel, sourceTag,
/// campaign, name, company, industry, region, budget, or any custom field name.
/// </summary>
public sealed record TagRule(string Name, IReadOnlyList<FieldCondition> Conditions, string Tag);

/// <summary>Tags stamped on a lead when it arrives, from admin-defined rules (R1.6).</summary>
public static class TaggingRules
{
    public const int MaxTagLength = 30;

    /// <summary>
    /// Tags whose rules match the lead's fields (field name → value as text, keys compared ignoring case),
    /// trimmed, distinct ignoring case, in rule order.
    /// Equals/NotEquals/Contains compare trimmed text ignoring case; GreaterOrEqual/LessOrEqual compare both
    /// sides as amounts (<see cref="FieldConditions.ParseAmount"/>), and a missing or non-numeric value never matches them.
    /// IsSet: present and non-blank. A missing field never matches Equals/Contains; it does match NotEquals.
    /// A rule that <see cref="Problem"/> would refuse never tags: a rule with no conditions would otherwise
    /// tag every lead, and one with a blank Contains value every lead that has the field.
    /// </summary>
    public static IReadOnlyList<string> Apply(IEnumerable<TagRule> rules, IReadOnlyDictionary<string, string?> fields)
    {
        var lookup = FieldConditions.Lookup(fields);

        var tags = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in rules)
        {
            if (rule is null || Problem(rule) is not null)
            {
                continue;
            }
            var tag = rule.Tag.Trim();
            if (!seen.Contains(tag) && rule.Conditions.All(c => FieldConditions.Holds(c, lookup)))
            {
                seen.Add(tag);
                tags.Add(tag);
            }
        }
        return tags;
    }

    /// <summary>
    /// Why a rule cannot be saved, or null if it can. Messages are in English and name the condition by its
    /// 1-based position and how it reads, e.g. "Condition 2 (budget ≥ abc): 'abc' is not a number or a date."
    /// Broad rules such as "channel ≠ x" are allowed on purpose: an admin may want to tag nearly everything.
    /// What is refused is a condition that is almost certainly a slip, like Contains "-".
    /// </summary>
    public static string? Problem(TagRule rule)
    {
        if (string.IsNullOrWhiteSpace(rule.Name))
        {
            return "The rule needs a name.";
        }
        if (string.IsNullOrWhiteSpace(rule.Tag))
        {
            return "The rule needs a tag.";
        }
        // UTF-16 length is the strictest count, so a tag accepted here fits any 30-character column.
        var tag = rule.Tag.Trim();
        if (tag.Length > MaxTagLength)
        {
            return $"The tag '{tag}' is longer than {MaxTagLength} characters.";
        }
        if (rule.Conditions is null || rule.Conditions.Count == 0)
        {
            return "The rule needs at least one condition.";
        }
        for (var i = 0; i < rule.Conditions.Count; i++)
        {
            var problem = FieldConditions.Problem(rule.Conditions[i]);
            if (problem is not null)
            {
                var condition = rule.Conditions[i];
                return condition is null
                    ? $"Condition {i + 1}: {problem}"
                    : $"Condition {i + 1} ({FieldConditions.Describe(condition)}): {problem}";
            }
        }
        return null;
    }
}
