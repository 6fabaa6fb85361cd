using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Scoring;

/// <summary>What makes a score card impossible to evaluate; checked before a new version is saved.</summary>
public static class ScoreCardRules
{
    public const int MaxCriteria = 20;
    public const int MaxBands = 20;
    public const int MaxGrades = 10;
    public const int MaxEventTypes = 50;

    /// <summary>Every problem, each naming the criterion, band, grade or event type it is about; empty when the card can be saved.</summary>
    public static IReadOnlyList<string> Problems(ScoreCard card, IEnumerable<string> customFields)
    {
        var problems = new List<string>();
        var custom = customFields.ToList();
        if (card.Criteria is null || card.Criteria.Count == 0)
        {
            problems.Add("The card needs at least one criterion.");
        }
        else
        {
            if (card.Criteria.Count > MaxCriteria)
            {
                problems.Add($"At most {MaxCriteria} criteria.");
            }
            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < card.Criteria.Count; i++)
            {
                CriterionProblems(card.Criteria[i], i, names, custom, problems);
            }
            // Summed as long: weights are not range-checked yet, and two near int.MaxValue would overflow.
            var weights = card.Criteria.Where(c => c is not null).Sum(c => (long)c.Weight);
            if (weights != 100)
            {
                problems.Add($"The weights add up to {weights}%, not 100%.");
            }
        }
        GradeProblems(card.Grades, problems);
        EventProblems(card.Events, problems);
        if (!(card.HalfLifeDays is > 0 and <= 3650))
        {
            problems.Add("The half-life must be between 0 and 3650 days.");
        }
        if (card.MaxBehaviourPoints is < 0 or > 100)
        {
            problems.Add("Behaviour points are capped between 0 and 100.");
        }
        return problems;
    }

    private static void CriterionProblems(Criterion? c, int index, HashSet<string> names, List<string> custom, List<string> problems)
    {
        if (c is null)
        {
            problems.Add($"Criterion {index + 1} is empty.");
            return;
        }
        var label = string.IsNullOrWhiteSpace(c.Name) ? $"Criterion {index + 1}" : $"Criterion '{c.Name.Trim()}'";
        if (string.IsNullOrWhiteSpace(c.Name))
        {
            problems.Add($"{label} needs a name.");
        }
        else if (!names.Add(c.Name.Trim()))
        {
            problems.Add($"{label} appears twice.");
        }
        if (string.IsNullOrWhiteSpace(c.Field))
        {
            problems.Add($"{label} needs a field.");
        }
        else if (!LeadFields.IsKnown(c.Field, LeadFields.ForScoring, custom))
        {
            problems.Add($"{label}: the field '{c.Field.Trim()}' is unknown.");
        }
        if (c.Weight is < 0 or > 100)
        {
            problems.Add($"{label}: the weight must be between 0 and 100.");
        }
        if (c.Bands is null || c.Bands.Count == 0)
        {
            problems.Add($"{label} needs at least one band of points.");
            return;
        }
        if (c.Bands.Count > MaxBands)
        {
            problems.Add($"{label}: at most {MaxBands} bands.");
        }
        for (var b = 0; b < c.Bands.Count; b++)
        {
            var band = c.Bands[b];
            if (band is null)
            {
                problems.Add($"{label}, band {b + 1} is empty.");
                continue;
            }
            if (band.Percent is < 0 or > 100)
            {
                problems.Add($"{label}, band {b + 1}: the share must be between 0 and 100%.");
            }
            var condition = new FieldCondition(c.Field ?? "", band.Operator, band.Value);
            if (!string.IsNullOrWhiteSpace(c.Field) && FieldConditions.Problem(condition) is { } p)
            {
                problems.Add($"{label}, band {b + 1} ({FieldConditions.Describe(condition)}): {p}");
            }
        }
    }

    private static void GradeProblems(IReadOnlyList<GradeBand>? grades, List<string> problems)
    {
        if (grades is null || grades.Count < 2)
        {
            problems.Add("At least two grades are needed.");
            return;
        }
        if (grades.Count > MaxGrades)
        {
            problems.Add($"At most {MaxGrades} grades.");
        }
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var thresholds = new Dictionary<int, string>();
        foreach (var g in grades)
        {
            if (g is null || string.IsNullOrWhiteSpace(g.Name))
            {
                problems.Add("Every grade needs a name.");
                continue;
            }
            var name = g.Name.Trim();
            if (name.Length > 20)
            {
                problems.Add($"Grade '{name}': the name is longer than 20 characters.");
            }
            if (!names.Add(name))
            {
                problems.Add($"Grade '{name}' appears twice.");
            }
            if (g.MinScore is < 0 or > 100)
            {
                problems.Add($"Grade '{name}': the threshold must be between 0 and 100.");
            }
            else if (thresholds.TryGetValue(g.MinScore, out var other))
            {
                problems.Add($"Grades '{other}' and '{name}' overlap: both start at {g.MinScore}.");
            }
            else
            {
                thresholds[g.MinScore] = name;
            }
        }
        if (!thresholds.ContainsKey(0))
        {
            problems.Add("The lowest grade must start at 0, so every lead gets a grade.");
        }
    }

    private static void EventProblems(IReadOnlyList<EventPoints>? events, List<string> problems)
    {
        if (events is null)
        {
            return;
        }
        if (events.Count > MaxEventTypes)
        {
            problems.Add($"At most {MaxEventTypes} event types.");
        }
        var types = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in events)
        {
            if (e is null || string.IsNullOrWhiteSpace(e.Type))
            {
                problems.Add("Every event type needs a name.");
                continue;
            }
            var type = e.Type.Trim();
            if (type.Length > 50 || !type.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.'))
            {
                problems.Add($"Event type '{type}': use up to 50 letters, digits, '_', '-' or '.'.");
            }
            if (!types.Add(type))
            {
                problems.Add($"Event type '{type}' appears twice.");
            }
            if (e.Points is < -100 or > 100)
            {
                problems.Add($"Event type '{type}': points must be between -100 and 100.");
            }
        }
    }
}
