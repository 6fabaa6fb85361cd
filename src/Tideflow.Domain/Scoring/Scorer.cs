using System.Globalization;
using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Scoring;

/// <summary>What one criterion gave: <see cref="Points"/> of <see cref="Weight"/>, and the band that matched (null: none).</summary>
public sealed record CriterionScore(string Name, int Points, int Weight, string? Matched);

/// <summary>A lead's score with the reasons a rep can read ("why is this lead A?").</summary>
public sealed record ScoreResult(int Total, string Grade, IReadOnlyList<CriterionScore> Breakdown, int BehaviourPoints)
{
    /// <summary>"budget 40/40, urgency 15/30, authority 0/30, behaviour +5 → 60, grade B"; criteria weighing 0 are left out.</summary>
    public string Explain()
    {
        var parts = Breakdown.Where(c => c.Weight > 0)
            .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {c.Points}/{c.Weight}")).ToList();
        if (BehaviourPoints > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"behaviour +{BehaviourPoints}"));
        }
        return string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", parts)} → {Total}, grade {Grade}");
    }
}

/// <summary>Scores a lead from its fields and its decayed behaviour points (R2.1–R2.3).</summary>
public static class Scorer
{
    public static ScoreResult Score(ScoreCard card, IReadOnlyDictionary<string, string?> fields, double behaviourPoints)
    {
        var lookup = FieldConditions.Lookup(fields);
        var breakdown = new List<CriterionScore>(card.Criteria.Count);
        var sum = 0;
        foreach (var criterion in card.Criteria)
        {
            var band = criterion.Bands.FirstOrDefault(b =>
                FieldConditions.Holds(new FieldCondition(criterion.Field, b.Operator, b.Value), lookup));
            // Rounded per criterion so the breakdown a rep reads adds up to the total exactly.
            var points = band is null ? 0 : (int)Math.Round(criterion.Weight * band.Percent / 100.0, MidpointRounding.AwayFromZero);
            sum += points;
            breakdown.Add(new CriterionScore(criterion.Name, points, criterion.Weight,
                band is null ? null : FieldConditions.Describe(new FieldCondition(criterion.Field, band.Operator, band.Value))));
        }
        var behaviour = (int)Math.Round(Math.Clamp(behaviourPoints, 0, card.MaxBehaviourPoints), MidpointRounding.AwayFromZero);
        var total = Math.Clamp(sum + behaviour, 0, 100);
        return new ScoreResult(total, GradeFor(card, total), breakdown, behaviour);
    }

    /// <summary>The best grade whose threshold the total reaches; the lowest grade when none does.</summary>
    public static string GradeFor(ScoreCard card, int total)
    {
        var ordered = card.Grades.OrderByDescending(g => g.MinScore).ToList();
        return (ordered.FirstOrDefault(g => total >= g.MinScore) ?? ordered[^1]).Name;
    }

    /// <summary>Points an event type adds, or null when the card does not know the type.</summary>
    public static int? PointsFor(ScoreCard card, string eventType) => EventType(card, eventType)?.Points;

    /// <summary>The card's event type of that name, ignoring case and spaces around it; null when the card does not know it.</summary>
    public static EventPoints? EventType(ScoreCard card, string eventType) =>
        card.Events?.FirstOrDefault(e => string.Equals(e.Type, eventType.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Behaviour points halve every half-life. A lead stores (points, as of); the value now is computed, never
/// stored per tick, so no job has to wake up to make points fade.
/// </summary>
public static class Decay
{
    /// <summary>What <paramref name="points"/> given at <paramref name="asOf"/> are worth now; negative points fade the same way.</summary>
    public static double Remaining(double points, DateTimeOffset asOf, DateTimeOffset now, double halfLifeDays)
    {
        if (now <= asOf || halfLifeDays <= 0)
        {
            return points;
        }
        return points * Math.Pow(0.5, (now - asOf).TotalDays / halfLifeDays);
    }

    /// <summary>The decayed balance plus a new event's points, as of <paramref name="now"/>.</summary>
    public static double Add(double points, DateTimeOffset asOf, DateTimeOffset now, double halfLifeDays, int added) =>
        Remaining(points, asOf, now, halfLifeDays) + added;
}
