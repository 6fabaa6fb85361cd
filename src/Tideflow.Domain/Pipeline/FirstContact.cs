using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Pipeline;

/// <summary>
/// The first follow-up task an assigned rep gets (R3.5) until follow-up plans per grade exist (R5.4):
/// first contact within 24 h for the best grade, 72 h for the second, 7 days for the rest.
/// Grades are ranked by threshold, so renaming A/B/C keeps the promise.
/// </summary>
public static class FirstContact
{
    public static TimeSpan DueAfter(ScoreCard card, string? grade)
    {
        var rank = card.Grades.OrderByDescending(g => g.MinScore).ToList()
            .FindIndex(g => string.Equals(g.Name, grade, StringComparison.OrdinalIgnoreCase));
        return rank switch
        {
            0 => TimeSpan.FromHours(24),
            1 => TimeSpan.FromHours(72),
            _ => TimeSpan.FromDays(7),
        };
    }
}
