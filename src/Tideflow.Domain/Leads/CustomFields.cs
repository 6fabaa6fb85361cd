using System.Globalization;
using System.Text.RegularExpressions;

namespace Tideflow.Domain.Leads;

public enum CustomFieldType
{
    Text,
    Number,
    Date,
    SingleSelect,
    MultiSelect,
}

/// <summary>Which records a custom field belongs to. A field on both is carried from lead to customer on qualify.</summary>
[Flags]
public enum CustomFieldTarget
{
    Lead = 1,
    Customer = 2,
    Both = Lead | Customer,
}

/// <summary>
/// A field an admin added (R1.5). <see cref="Key"/> is how the API, imports and rules name it and never changes;
/// <see cref="Label"/> is what people see, and a web form may send the value under either.
/// </summary>
public sealed record CustomField(string Key, string Label, CustomFieldType Type, IReadOnlyList<string> Options, bool Required,
    CustomFieldTarget AppliesTo);

/// <summary>
/// What a custom field accepts and how its values are stored: numbers as plain invariant decimals ("500000"),
/// dates as yyyy-MM-dd, selects as the option's own spelling, multi-selects as options joined by ",".
/// One canonical form, so rules, filters and imports compare like with like.
/// </summary>
public static partial class CustomFields
{
    public const int MaxPerOrganization = 50;
    public const int MaxKey = 40;
    public const int MaxLabel = 50;
    public const int MaxOptions = 100;
    public const int MaxOption = 50;
    public const int MaxText = 500;

    /// <summary>Separators people put between several choices: comma (ASCII and full-width), 、 and semicolons.</summary>
    private static readonly char[] ListSeparators = [',', '，', '、', ';', '；'];

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*$")]
    private static partial Regex KeyShape();

    /// <summary>
    /// Why the field cannot be saved (the request field at fault, and the reason), or null.
    /// <paramref name="others"/> are the organisation's other fields; <paramref name="taken"/> are names built-in
    /// fields already use (lead fields, form aliases).
    /// </summary>
    public static (string Field, string Message)? Problem(CustomField field, IEnumerable<CustomField> others, IEnumerable<string> taken)
    {
        var key = field.Key?.Trim() ?? "";
        var label = field.Label?.Trim() ?? "";
        if (key.Length == 0)
        {
            return ("key", "The field needs a key.");
        }
        if (key.Length > MaxKey || !KeyShape().IsMatch(key))
        {
            return ("key", $"Key '{key}': use a letter then letters, digits or _ (at most {MaxKey}), e.g. fleet_size.");
        }
        if (label.Length is 0 or > MaxLabel)
        {
            return ("label", $"Field '{key}': the label must be 1–{MaxLabel} characters.");
        }
        if (!Enum.IsDefined(field.Type))
        {
            return ("type", $"Field '{key}': the type is unknown.");
        }
        if (field.AppliesTo is not (CustomFieldTarget.Lead or CustomFieldTarget.Customer or CustomFieldTarget.Both))
        {
            return ("appliesTo", $"Field '{key}': choose leads, customers or both.");
        }
        var builtIn = taken.ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (builtIn.Contains(key) || builtIn.Contains(label))
        {
            return builtIn.Contains(key)
                ? ("key", $"Field '{key}': '{key}' is already a built-in field.")
                : ("label", $"Field '{key}': '{label}' is already a built-in field.");
        }
        foreach (var other in others)
        {
            if (string.Equals(other.Key, key, StringComparison.OrdinalIgnoreCase) || string.Equals(other.Label, key, StringComparison.OrdinalIgnoreCase))
            {
                return ("key", $"Field '{key}': another field already uses the name '{key}'.");
            }
            if (string.Equals(other.Label, label, StringComparison.OrdinalIgnoreCase) || string.Equals(other.Key, label, StringComparison.OrdinalIgnoreCase))
            {
                return ("label", $"Field '{key}': another field already uses the label '{label}'.");
            }
        }
        var selects = field.Type is CustomFieldType.SingleSelect or CustomFieldType.MultiSelect;
        var options = field.Options ?? [];
        if (!selects)
        {
            return options.Count > 0 ? ("options", $"Field '{key}': only select fields have options.") : null;
        }
        if (options.Count == 0)
        {
            return ("options", $"Field '{key}': a select field needs at least one option.");
        }
        if (options.Count > MaxOptions)
        {
            return ("options", $"Field '{key}': at most {MaxOptions} options.");
        }
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var raw in options)
        {
            var option = raw?.Trim() ?? "";
            if (option.Length is 0 or > MaxOption)
            {
                return ("options", $"Field '{key}': each option must be 1–{MaxOption} characters.");
            }
            // Multi-select values are stored joined by commas; an option holding one could not be told apart.
            if (option.IndexOfAny(ListSeparators) >= 0)
            {
                return ("options", $"Field '{key}': option '{option}' must not contain , ， 、 or ;.");
            }
            if (!seen.Add(option))
            {
                return ("options", $"Field '{key}': option '{option}' is listed twice.");
            }
        }
        return null;
    }

    /// <summary>
    /// The value in its stored form, or a reason it does not fit. Blank input is (null, null): "no value".
    /// Numbers read as people type amounts (50万, 1,200); dates as 2026-11-22, 2026/11/22 or 2026年11月22日;
    /// select options match ignoring case and surrounding spaces.
    /// </summary>
    public static (string? Value, string? Problem) Normalize(CustomField field, string? raw)
    {
        var text = raw?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return (null, null);
        }
        switch (field.Type)
        {
            case CustomFieldType.Text:
                return text.Length <= MaxText ? (text, null) : (null, $"at most {MaxText} characters.");
            case CustomFieldType.Number:
                return FieldConditions.ParseAmount(text) is { } number
                    ? (number.ToString("0.############################", CultureInfo.InvariantCulture), null)
                    : (null, $"'{Clip(text)}' is not a number.");
            case CustomFieldType.Date:
                return ParseDate(text) is { } date
                    ? (date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), null)
                    : (null, $"'{Clip(text)}' is not a date (use 2026-11-22).");
            case CustomFieldType.SingleSelect:
                return Option(field, text) is { } option ? (option, null) : (null, NotAnOption(field, text));
            case CustomFieldType.MultiSelect:
                var chosen = new List<string>();
                foreach (var item in text.Split(ListSeparators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (Option(field, item) is not { } match)
                    {
                        return (null, NotAnOption(field, item));
                    }
                    if (!chosen.Contains(match))
                    {
                        chosen.Add(match);
                    }
                }
                // In the admin's order, so the same choices always read the same.
                return chosen.Count == 0 ? (null, null)
                    : (string.Join(",", field.Options.Select(o => o.Trim()).Where(chosen.Contains)), null);
            default:
                return (null, "the field's type is unknown.");
        }
    }

    /// <summary>
    /// Checks and normalizes the custom values given for one record. <paramref name="values"/> holds custom keys only;
    /// a key no field of <paramref name="target"/> has is refused. With <paramref name="requireAll"/>, required
    /// fields must have a value (a person filling in a form); without it they may be missing (an arriving lead).
    /// </summary>
    /// <returns>The stored values (blank ones dropped) and, per key, why a value was refused.</returns>
    /// <param name="stored">
    /// The record's values as stored. A value given back unchanged is kept as it is, even if it no longer fits (an
    /// option the admin has since removed): editing a customer's name must not fail over a value nobody touched.
    /// </param>
    public static (Dictionary<string, string> Values, Dictionary<string, string> Problems) Check(IReadOnlyList<CustomField> fields,
        CustomFieldTarget target, IEnumerable<KeyValuePair<string, string?>> values, bool requireAll,
        IReadOnlyDictionary<string, string>? stored = null)
    {
        // Keys are unique ignoring case; should two ever slip in (a race between two admins), the first wins rather than every form failing.
        var byKey = fields.Where(f => f.AppliesTo.HasFlag(target)).GroupBy(f => f.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var problems = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (rawKey, raw) in values)
        {
            var key = rawKey?.Trim() ?? "";
            if (!byKey.TryGetValue(key, out var field))
            {
                problems[key] = $"'{Clip(key)}' is not a custom field of {(target == CustomFieldTarget.Lead ? "leads" : "customers")}.";
                continue;
            }
            if (stored is not null && stored.TryGetValue(field.Key, out var before) && string.Equals(before, raw?.Trim(), StringComparison.Ordinal))
            {
                kept[field.Key] = before;
                continue;
            }
            var (value, problem) = Normalize(field, raw);
            if (problem is not null)
            {
                problems[field.Key] = $"{field.Label}: {problem}";
            }
            else if (value is not null)
            {
                kept[field.Key] = value;
            }
        }
        if (requireAll)
        {
            foreach (var field in byKey.Values.Where(f => f.Required && !kept.ContainsKey(f.Key) && !problems.ContainsKey(f.Key)))
            {
                problems[field.Key] = $"{field.Label}: a value is required.";
            }
        }
        return (kept, problems);
    }

    /// <summary>The field a submitted name means, by key or label, ignoring case; null when none does.</summary>
    public static CustomField? Named(IEnumerable<CustomField> fields, string name)
    {
        var n = name.Trim();
        return fields.FirstOrDefault(f => string.Equals(f.Key, n, StringComparison.OrdinalIgnoreCase))
               ?? fields.FirstOrDefault(f => string.Equals(f.Label.Trim(), n, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A stored value as people read it: multi-select options separated by "、".</summary>
    public static string Display(CustomField field, string value) =>
        field.Type == CustomFieldType.MultiSelect ? string.Join("、", value.Split(',')) : value;

    public static DateOnly? ParseDate(string? text)
    {
        var s = text?.Trim();
        if (string.IsNullOrEmpty(s))
        {
            return null;
        }
        // 2026年11月22日 reads as 2026-11-22.
        s = s.Replace('年', '-').Replace('月', '-').TrimEnd('日').Replace('/', '-').Replace('.', '-');
        return DateOnly.TryParseExact(s, ["yyyy-M-d", "yyyy-MM-dd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date : null;
    }

    private static string? Option(CustomField field, string text) =>
        field.Options.Select(o => o.Trim()).FirstOrDefault(o => string.Equals(o, text.Trim(), StringComparison.OrdinalIgnoreCase));

    private static string NotAnOption(CustomField field, string text) =>
        $"'{Clip(text)}' is not one of {string.Join(", ", field.Options.Select(o => o.Trim()))}.";

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
