using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

/// <summary>A record that carries custom field values in a Fields JSON column: leads and customers.</summary>
public interface IHasCustomFields
{
    string? Fields { get; }
}

/// <summary>
/// "Only those whose 现用系统 is 用友", "员工人数 from 100 to 500": one custom field filter on a list (R1.5).
/// Text fields match a part of the text; selects the option; multi-selects any record holding the option;
/// numbers and dates an exact value or a range (from / to, both inclusive).
/// </summary>
public static class CustomFieldFilter
{
    public static async Task<IQueryable<T>> ApplyAsync<T>(IQueryable<T> query, TideflowDbContext db, CustomFieldTarget target,
        string? key, string? value, string? from, string? to, CancellationToken ct) where T : class, IHasCustomFields
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return string.IsNullOrWhiteSpace(value) && string.IsNullOrWhiteSpace(from) && string.IsNullOrWhiteSpace(to)
                ? query
                : throw Problem.Invalid("field", "Name the custom field to filter on.");
        }
        var fields = (await ManageCustomFields.AllAsync(db, ct)).Where(f => f.AppliesTo.HasFlag(target)).Select(f => f.ToDomain()).ToList();
        var field = CustomFields.Named(fields, key)
            ?? throw Problem.Invalid("field", $"'{key.Trim()}' is not a custom field of {(target == CustomFieldTarget.Lead ? "leads" : "customers")}.");
        var k = field.Key;
        var exact = Canonical(field, value, "fieldValue");
        var ranged = field.Type is CustomFieldType.Number or CustomFieldType.Date;
        if (!ranged && (!string.IsNullOrWhiteSpace(from) || !string.IsNullOrWhiteSpace(to)))
        {
            throw Problem.Invalid("fieldFrom", $"'{field.Label}' is not a number or date field; filter it by value.");
        }
        var low = Canonical(field, from, "fieldFrom");
        var high = Canonical(field, to, "fieldTo");
        if (exact is null && low is null && high is null)
        {
            return query.Where(r => CustomFieldValue.Text(r.Fields, k) != null);
        }
        switch (field.Type)
        {
            case CustomFieldType.Text:
                return query.Where(r => CustomFieldValue.Text(r.Fields, k)!.Contains(exact!));
            case CustomFieldType.SingleSelect:
                return query.Where(r => CustomFieldValue.Text(r.Fields, k) == exact);
            case CustomFieldType.MultiSelect:
                // Stored "CRM,MES": look for ",CRM," inside ",CRM,MES,", so ERP never matches ERP2.
                var options = exact!.Split(',');
                foreach (var option in options)
                {
                    var wrapped = "," + option + ",";
                    query = query.Where(r => ("," + CustomFieldValue.Text(r.Fields, k) + ",").Contains(wrapped));
                }
                return query;
            case CustomFieldType.Number:
                var number = exact is null ? (double?)null : double.Parse(exact, System.Globalization.CultureInfo.InvariantCulture);
                var min = low is null ? (double?)null : double.Parse(low, System.Globalization.CultureInfo.InvariantCulture);
                var max = high is null ? (double?)null : double.Parse(high, System.Globalization.CultureInfo.InvariantCulture);
                if (number is { } n) query = query.Where(r => CustomFieldValue.Number(r.Fields, k) == n);
                if (min is { } lo) query = query.Where(r => CustomFieldValue.Number(r.Fields, k) >= lo);
                if (max is { } hi) query = query.Where(r => CustomFieldValue.Number(r.Fields, k) <= hi);
                return query;
            default:
                // Dates are stored yyyy-MM-dd: as text they sort as days do.
                if (exact is not null) query = query.Where(r => CustomFieldValue.Text(r.Fields, k) == exact);
                if (low is not null) query = query.Where(r => string.Compare(CustomFieldValue.Text(r.Fields, k), low) >= 0);
                if (high is not null) query = query.Where(r => string.Compare(CustomFieldValue.Text(r.Fields, k), high) <= 0);
                return query;
        }
    }

    private static string? Canonical(CustomField field, string? raw, string parameter)
    {
        var (value, problem) = CustomFields.Normalize(field, raw);
        return problem is null ? value : throw Problem.Invalid(parameter, $"{field.Label}: {problem}");
    }
}
