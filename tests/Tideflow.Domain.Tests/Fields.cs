namespace Tideflow.Domain.Tests;

/// <summary>Lead fields as forms send them: name → value, in the order given.</summary>
internal static class Fields
{
    public static Dictionary<string, string?> Of(params (string Field, string? Value)[] fields) =>
        fields.ToDictionary(f => f.Field, f => f.Value, StringComparer.Ordinal);
}
