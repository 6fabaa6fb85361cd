using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Tests.Pipeline;

public class FirstContactTests
{
    private static ScoreCard WithGrades(params GradeBand[] grades) => ScoreCard.Default with { Grades = grades };

    [Theory]
    [InlineData("A", 24)]
    [InlineData("a", 24)]
    [InlineData("B", 72)]
    [InlineData("C", 7 * 24)]
    [InlineData("D", 7 * 24)]
    [InlineData("", 7 * 24)]
    [InlineData(null, 7 * 24)]
    public void The_default_grades_get_24_hours_72_hours_or_7_days(string? grade, int hours) =>
        Assert.Equal(TimeSpan.FromHours(hours), FirstContact.DueAfter(ScoreCard.Default, grade));

    [Theory]
    [InlineData("Hot", 24)]
    [InlineData("Warm", 72)]
    [InlineData("Cool", 7 * 24)]
    [InlineData("Cold", 7 * 24)]
    [InlineData("A", 7 * 24)]
    public void Renamed_grades_are_ranked_by_threshold_not_by_listing_order(string grade, int hours) =>
        Assert.Equal(TimeSpan.FromHours(hours),
            FirstContact.DueAfter(WithGrades(new("Cold", 0), new("Warm", 50), new("Cool", 20), new("Hot", 80)), grade));

    [Fact]
    public void The_grade_a_lead_scores_gets_its_promise() =>
        Assert.Equal(TimeSpan.FromDays(3), FirstContact.DueAfter(ScoreCard.Default, Scorer.GradeFor(ScoreCard.Default, 55)));
}
