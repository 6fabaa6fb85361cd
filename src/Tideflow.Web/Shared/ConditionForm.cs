using Tideflow.Domain.Leads;

namespace Tideflow.Web.Shared;

/// <summary>A condition as a rule page edits it; <see cref="ToCondition"/> is what the handlers take.</summary>
public sealed class ConditionForm
{
    public string Field { get; set; } = "";
    public FieldOperator Operator { get; set; } = FieldOperator.Equals;
    public string? Value { get; set; }

    public FieldCondition ToCondition() => new(Field, Operator, Value);

    public static ConditionForm From(FieldCondition c) => new() { Field = c.Field, Operator = c.Operator, Value = c.Value };
}
