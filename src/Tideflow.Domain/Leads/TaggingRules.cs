using System.Globalization;

namespace Tideflow.Domain.Leads;

public enum TagOperator
{
    Equals,
    NotEquals,
    Contains,
    GreaterOrEqual,
    LessOrEqual,
    /// <summary>The field is present and non-blank; the condition's value is ignored.</summary>
    IsSet,
}

/// <summary>One test on one lead field; see <see cref="TaggingRules.Apply"/> for how each operator reads it.</summary>
public sealed record TagCondition(string Field, TagOperator Operator, string? Value);

/// <summary>
/// All conditions must hold (AND). Field names are case-insensitive lead field names: channel, sourceTag,
/// campaign, name, company, industry, region, budget, or any custom field name.
/// </summary>
public sealed record TagRule(string Name, IReadOnlyList<TagCondition> Conditions, string Tag);

/// <summary>Tags stamped on a lead when it arrives, from admin-defined rules (R1.6).</summary>
public static class TaggingRules
{
    public const int MaxTagLength = 30;

    // Smallest first: a unit may only be followed by a larger one, so 千万 and 百亿 read as products
    // while 万万 or 亿万 (typos, not amounts) are refused rather than guessed.
    private static readonly (char Unit, decimal Factor)[] Units =
    [
        ('百', 100m), ('千', 1_000m), ('万', 10_000m), ('亿', 100_000_000m),
    ];

    /// <summary>
    /// Tags whose rules match the lead's fields (field name → value as text, keys compared ignoring case),
    /// trimmed, distinct ignoring case, in rule order.
    /// Equals/NotEquals/Contains compare trimmed text ignoring case; GreaterOrEqual/LessOrEqual compare both
    /// sides as amounts (<see cref="ParseAmount"/>), and a missing or non-numeric value never matches them.
    /// IsSet: present and non-blank. A missing field never matches Equals/Contains; it does match NotEquals.
    /// A rule that <see cref="Problem"/> would refuse never tags: a rule with no conditions would otherwise
    /// tag every lead, and one with a blank Contains value every lead that has the field.
    /// </summary>
    public static IReadOnlyList<string> Apply(IEnumerable<TagRule> rules, IReadOnlyDictionary<string, string?> fields)
    {
        // Channels send keys in whatever case their form used; the caller's dictionary may be case-sensitive.
        var lookup = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in fields)
        {
            var name = key.Trim();
            // If "Budget" and "budget" both arrive, the one with content wins over a blank one.
            if (!lookup.TryGetValue(name, out var existing) || string.IsNullOrWhiteSpace(existing))
            {
                lookup[name] = value;
            }
        }

        var tags = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in rules)
        {
            if (rule is null || Problem(rule) is not null)
            {
                continue;
            }
            var tag = rule.Tag.Trim();
            if (!seen.Contains(tag) && rule.Conditions.All(c => Holds(c, lookup)))
            {
                seen.Add(tag);
                tags.Add(tag);
            }
        }
        return tags;
    }

    /// <summary>
    /// Why a rule cannot be saved, or null if it can. Messages are in English and name the condition by its
    /// 1-based position and how it reads, e.g. "Condition 2 (budget ≥ abc): 'abc' is not a number."
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
            var problem = ConditionProblem(rule.Conditions[i]);
            if (problem is not null)
            {
                var condition = rule.Conditions[i];
                return condition is null
                    ? $"Condition {i + 1}: {problem}"
                    : $"Condition {i + 1} ({Describe(condition)}): {problem}";
            }
        }
        return null;
    }

    /// <summary>
    /// An amount as people type it into a lead form: "500,000", "50万", "1.5亿", "3千万", full-width
    /// digits "１２３", an optional leading ¥/￥ and trailing 元. Null when blank or not a number.
    /// </summary>
    public static decimal? ParseAmount(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var s = FoldWidth(text).Trim();
        if (s.Length > 0 && s[0] == '¥')
        {
            s = s[1..].TrimStart();
        }
        if (s.EndsWith('元'))
        {
            s = s[..^1].TrimEnd();
        }

        // Units are read from the end: each one to the left must be smaller than the one after it.
        var factor = 1m;
        var previous = decimal.MaxValue;
        while (s.Length > 0)
        {
            var unit = Array.FindIndex(Units, u => u.Unit == s[^1]);
            if (unit < 0)
            {
                break;
            }
            if (Units[unit].Factor >= previous)
            {
                return null;
            }
            previous = Units[unit].Factor;
            factor *= Units[unit].Factor;
            s = s[..^1].TrimEnd();
        }

        // No exponent, currency or trailing sign: "1e5" or "5-" in a budget field are typos, not amounts.
        const NumberStyles Styles = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowThousands;
        if (s.Length == 0 || !char.IsAsciiDigit(s[^1]) || !decimal.TryParse(s, Styles, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }
        try
        {
            return number * factor;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static string? ConditionProblem(TagCondition? condition)
    {
        if (condition is null)
        {
            return "the condition is empty.";
        }
        if (string.IsNullOrWhiteSpace(condition.Field))
        {
            return "the field is blank.";
        }
        var value = condition.Value?.Trim();
        switch (condition.Operator)
        {
            case TagOperator.GreaterOrEqual or TagOperator.LessOrEqual:
                if (string.IsNullOrEmpty(value))
                {
                    return "a number is needed.";
                }
                return ParseAmount(value) is null ? $"'{value}' is not a number." : null;
            case TagOperator.Equals or TagOperator.NotEquals or TagOperator.Contains:
                if (string.IsNullOrEmpty(value))
                {
                    return "a value is needed.";
                }
                // A lone dash, dot or @ sits inside nearly every email, phone or company name.
                if (condition.Operator == TagOperator.Contains && value.Length == 1
                    && (char.IsPunctuation(value[0]) || char.IsSymbol(value[0]) || char.IsSeparator(value[0])))
                {
                    return $"'{value}' alone would match almost every lead.";
                }
                return null;
            case TagOperator.IsSet:
                return null;
            default:
                return "the operator is unknown.";
        }
    }

    private static bool Holds(TagCondition condition, Dictionary<string, string?> fields)
    {
        fields.TryGetValue(condition.Field.Trim(), out var raw);
        var actual = raw?.Trim();
        var present = !string.IsNullOrEmpty(actual);
        var expected = condition.Value?.Trim() ?? "";
        return condition.Operator switch
        {
            TagOperator.Equals => present && string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase),
            TagOperator.NotEquals => !present || !string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase),
            TagOperator.Contains => present && actual!.Contains(expected, StringComparison.OrdinalIgnoreCase),
            TagOperator.GreaterOrEqual => Compare(actual, expected) is >= 0,
            TagOperator.LessOrEqual => Compare(actual, expected) is <= 0,
            TagOperator.IsSet => present,
            _ => false,
        };
    }

    // Null when either side is not a number, so the numeric operators fail closed.
    private static int? Compare(string? actual, string expected) =>
        ParseAmount(actual) is { } a && ParseAmount(expected) is { } e ? a.CompareTo(e) : null;

    private static string Describe(TagCondition condition)
    {
        var field = condition.Field?.Trim() ?? "";
        var value = condition.Value?.Trim();
        var text = condition.Operator switch
        {
            TagOperator.Equals => $"{field} = {value}",
            TagOperator.NotEquals => $"{field} ≠ {value}",
            TagOperator.Contains => $"{field} contains {value}",
            TagOperator.GreaterOrEqual => $"{field} ≥ {value}",
            TagOperator.LessOrEqual => $"{field} ≤ {value}",
            TagOperator.IsSet => $"{field} is set",
            _ => $"{field} ? {value}",
        };
        return text.Trim();
    }

    // Full-width forms U+FF01–U+FF5E sit exactly 0xFEE0 above their ASCII twins; ￥ (U+FFE5) is the yen/yuan sign.
    private static string FoldWidth(string raw)
    {
        var chars = raw.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = chars[i] switch
            {
                >= '\uFF01' and <= '\uFF5E' => (char)(chars[i] - 0xFEE0),
                '\uFFE5' => '¥',
                '\u3000' => ' ',
                _ => chars[i],
            };
        }
        return new string(chars);
    }
}
