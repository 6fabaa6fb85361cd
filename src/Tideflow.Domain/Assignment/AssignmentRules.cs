using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Assignment;

/// <summary>What makes a rule set impossible to follow; checked before it is saved.</summary>
public static class AssignmentRules
{
    public const int MaxRules = 200;

    /// <summary>
    /// Every problem, each naming its rule: unknown field, a condition that cannot be evaluated, a rep who is
    /// unknown or inactive, an unknown team, a target without its rep or team.
    /// </summary>
    /// <param name="activeReps">Rep id → whether the rep is active; reps of the organisation who can own customers.</param>
    public static IReadOnlyList<string> Problems(IReadOnlyList<AssignmentRule> rules, IEnumerable<string> customFields,
        IReadOnlyDictionary<Guid, bool> activeReps, IReadOnlySet<Guid> teams)
    {
        var problems = new List<string>();
        if (rules.Count > MaxRules)
        {
            problems.Add($"At most {MaxRules} rules.");
        }
        var custom = customFields.ToList();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            if (rule is null)
            {
                problems.Add($"Rule {i + 1} is empty.");
                continue;
            }
            var label = string.IsNullOrWhiteSpace(rule.Name) ? $"Rule {i + 1}" : $"Rule '{rule.Name.Trim()}'";
            if (string.IsNullOrWhiteSpace(rule.Name))
            {
                problems.Add($"{label} needs a name.");
            }
            else if (!names.Add(rule.Name.Trim()))
            {
                problems.Add($"{label} appears twice.");
            }
            var conditions = rule.Conditions ?? [];
            for (var c = 0; c < conditions.Count; c++)
            {
                var condition = conditions[c];
                if (condition is not null && !string.IsNullOrWhiteSpace(condition.Field)
                    && !LeadFields.IsKnown(condition.Field, LeadFields.ForAssignment, custom))
                {
                    problems.Add($"{label}, condition {c + 1}: the field '{condition.Field.Trim()}' is unknown.");
                }
                else if (FieldConditions.Problem(condition) is { } p)
                {
                    problems.Add(condition is null
                        ? $"{label}, condition {c + 1}: {p}"
                        : $"{label}, condition {c + 1} ({FieldConditions.Describe(condition)}): {p}");
                }
            }
            switch (rule.Target)
            {
                case AssignTo.Rep when rule.RepId is not { } rep:
                    problems.Add($"{label} needs a rep.");
                    break;
                case AssignTo.Rep when !activeReps.TryGetValue(rule.RepId!.Value, out var active):
                    problems.Add($"{label}: the rep is unknown.");
                    break;
                case AssignTo.Rep when !activeReps[rule.RepId!.Value]:
                    problems.Add($"{label}: the rep is inactive.");
                    break;
                case AssignTo.Team when rule.TeamId is not { } team:
                    problems.Add($"{label} needs a team.");
                    break;
                case AssignTo.Team when !teams.Contains(rule.TeamId!.Value):
                    problems.Add($"{label}: the team is unknown.");
                    break;
                case AssignTo.Rep or AssignTo.Team or AssignTo.Pool:
                    break;
                default:
                    problems.Add($"{label}: the target is unknown.");
                    break;
            }
        }
        return problems;
    }

    /// <summary>
    /// Warnings for the simulator: rules that are allowed but probably not meant. A rule set that sends every
    /// lead nowhere is the one the issue names; a catch-all that hides later rules is the common slip.
    /// </summary>
    public static IReadOnlyList<string> Warnings(IReadOnlyList<AssignmentRule> rules, IReadOnlyList<RouteDecision> sample)
    {
        var warnings = new List<string>();
        if (rules.Count == 0 || rules.All(r => r.Target == AssignTo.Pool))
        {
            warnings.Add("No rule sends a lead to a rep: every lead will wait in the lead pool.");
        }
        else if (sample.Count > 0 && sample.All(d => d.ToPool))
        {
            warnings.Add($"All {sample.Count} sample leads would go to the lead pool: nobody would be assigned.");
        }
        for (var i = 0; i < rules.Count - 1; i++)
        {
            if ((rules[i].Conditions ?? []).Count == 0 && rules[i].Target == AssignTo.Pool)
            {
                warnings.Add($"Rule '{rules[i].Name}' matches every lead and sends it to the pool; the rules after it never run.");
            }
        }
        return warnings;
    }
}
