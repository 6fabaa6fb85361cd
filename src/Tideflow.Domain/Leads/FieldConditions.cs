using System.Globalization;

namespace Tideflow.Domain.Leads;

public enum FieldOperator
{
    Equals,
    NotEquals,
    Contains,
    GreaterOrEqual,
    LessOrEqual,
    /// <summary>The field is present and non-blank; the condition's value is ignored.</summary>
    IsSet,
    /// <summary>The field contains any of the listed values (separated by commas, 、 or ，), ignoring case: "上海, 江苏, 浙江".</summary>
    ContainsAny,
}

/// <summary>One test on one lead field; see <see cref="FieldConditions.Holds"/> for how each operator reads it.</summary>
public sealed record FieldCondition(string Field, FieldOperator Operator, string? Value);

/// <summary>
/// How a condition on one lead field reads. Tagging rules, scoring bands and assignment rules all test
/// lead fields the same way, so an admin learns one rule language.
/// </summary>
public static class FieldConditions
{
    // Smallest first: a unit may only be followed by a larger one, so 千万 and 百亿 read as products
    // while 万万 or 亿万 (typos, not amounts) are refused rather than guessed.
    private static readonly (char Unit, decimal Factor)[] Units =
    [
        ('百', 100m), ('千', 1_000m), ('万', 10_000m), ('亿', 100_000_000m),
    ];

    /// <summary>Field name to value, keys trimmed and compared ignoring case; a value with content wins over a blank twin.</summary>
    public static Dictionary<string, string?> Lookup(IReadOnlyDictionary<string, string?> fields)
    {
        // Already a lookup (a lead's facts are built as one): scoring a million leads need not copy each.
        if (fields is Dictionary<string, string?> ready && ready.Comparer == StringComparer.OrdinalIgnoreCase && ready.Keys.All(IsTrimmed))
        {
            return ready;
        }
        // Channels send keys in whatever case their form used; the caller's dictionary may be case-sensitive.
        var lookup = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in fields)
        {
            var name = key.Trim();
            if (!lookup.TryGetValue(name, out var existing) || string.IsNullOrWhiteSpace(existing))
            {
                lookup[name] = value;
            }
        }
        return lookup;
    }

    private static bool IsTrimmed(string key) => key.Length == 0 || (!char.IsWhiteSpace(key[0]) && !char.IsWhiteSpace(key[^1]));

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

    /// <summary>Why a condition cannot be evaluated, or null; phrased to follow "Condition n (...): ".</summary>
    public static string? Problem(FieldCondition? condition)
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
            case FieldOperator.GreaterOrEqual or FieldOperator.LessOrEqual:
                if (string.IsNullOrEmpty(value))
                {
                    return "a number or a date is needed.";
                }
                return ParseAmount(value) is null && CustomFields.ParseDate(value) is null ? $"'{value}' is not a number or a date." : null;
            case FieldOperator.Equals or FieldOperator.NotEquals or FieldOperator.Contains:
                if (string.IsNullOrEmpty(value))
                {
                    return "a value is needed.";
                }
                // A lone dash, dot or @ sits inside nearly every email, phone or company name.
                if (condition.Operator == FieldOperator.Contains && value.Length == 1
                    && (char.IsPunctuation(value[0]) || char.IsSymbol(value[0]) || char.IsSeparator(value[0])))
                {
                    return $"'{value}' alone would match almost every lead.";
                }
                return null;
            case FieldOperator.IsSet:
                return null;
            case FieldOperator.ContainsAny:
                var items = Items(value);
                if (items.Count == 0)
                {
                    return "at least one value is needed.";
                }
                return items.FirstOrDefault(i => i.Length == 1 && (char.IsPunctuation(i[0]) || char.IsSymbol(i[0]))) is { } slip
                    ? $"'{slip}' alone would match almost every lead."
                    : null;
            default:
                return "the operator is unknown.";
        }
    }

    /// <summary>Whether the condition holds on a <see cref="Lookup"/> of the lead fields.</summary>
    public static bool Holds(FieldCondition condition, Dictionary<string, string?> fields)
    {
        fields.TryGetValue(condition.Field.Trim(), out var raw);
        var actual = raw?.Trim();
        var present = !string.IsNullOrEmpty(actual);
        var expected = condition.Value?.Trim() ?? "";
        return condition.Operator switch
        {
            FieldOperator.Equals => present && string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase),
            FieldOperator.NotEquals => !present || !string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase),
            FieldOperator.Contains => present && actual!.Contains(expected, StringComparison.OrdinalIgnoreCase),
            FieldOperator.GreaterOrEqual => Compare(actual, expected) is >= 0,
            FieldOperator.LessOrEqual => Compare(actual, expected) is <= 0,
            FieldOperator.IsSet => present,
            FieldOperator.ContainsAny => present && Items(expected).Any(i => actual!.Contains(i, StringComparison.OrdinalIgnoreCase)),
            _ => false,
        };
    }

    private static List<string> Items(string? list) =>
        (list ?? "").Split([',', '、', '，'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    // Amounts, else days (a date custom field: "contract ends ≤ 2026-12-31"); null when the two sides are not both
    // one or the other, so the ordering operators fail closed.
    private static int? Compare(string? actual, string expected) =>
        ParseAmount(actual) is { } a && ParseAmount(expected) is { } e ? a.CompareTo(e)
        : CustomFields.ParseDate(actual) is { } da && CustomFields.ParseDate(expected) is { } de ? da.CompareTo(de)
        : null;

    public static string Describe(FieldCondition condition)
    {
        var field = condition.Field?.Trim() ?? "";
        var value = condition.Value?.Trim();
        var text = condition.Operator switch
        {
            FieldOperator.Equals => $"{field} = {value}",
            FieldOperator.NotEquals => $"{field} ≠ {value}",
            FieldOperator.Contains => $"{field} contains {value}",
            FieldOperator.GreaterOrEqual => $"{field} ≥ {value}",
            FieldOperator.LessOrEqual => $"{field} ≤ {value}",
            FieldOperator.IsSet => $"{field} is set",
            FieldOperator.ContainsAny => $"{field} contains any of {string.Join(", ", Items(value))}",
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
