using Tideflow.Domain.Leads;

namespace Tideflow.Web.Shared;

/// <summary>How a condition's operator reads on every rule page (tagging, scoring bands, routing).</summary>
public static class FieldOps
{
    public static string Symbol(FieldOperator op) => op switch
    {
        FieldOperator.Equals => "=", FieldOperator.NotEquals => "≠", FieldOperator.Contains => "∋",
        FieldOperator.GreaterOrEqual => "≥", FieldOperator.LessOrEqual => "≤", FieldOperator.ContainsAny => "∋ any",
        _ => "✓",
    };

    public static string Describe(FieldCondition c) => c.Operator == FieldOperator.IsSet
        ? $"{c.Field} ✓"
        : $"{c.Field} {Symbol(c.Operator)} {c.Value}";
}
