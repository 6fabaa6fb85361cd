using Microsoft.Extensions.Time.Testing;
using Tideflow.Domain.Leads;
using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Tests.Scoring;

public class DecayTests
{
    private const double HalfLife = 14;
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 9, 30, 0, TimeSpan.FromHours(8));

    private readonly FakeTimeProvider clock = new(Start);

    private DateTimeOffset Now => clock.GetUtcNow();

    private DateTimeOffset After(double days)
    {
        clock.Advance(TimeSpan.FromDays(days));
        return Now;
    }

    [Theory]
    [InlineData(0, 16)]
    [InlineData(0.5, 11.3137085)]
    [InlineData(1, 8)]
    [InlineData(2, 4)]
    [InlineData(3, 2)]
    [InlineData(10, 0.015625)]
    public void Points_halve_every_half_life(double halfLives, double expected) =>
        Assert.Equal(expected, Decay.Remaining(16, Start, After(halfLives * HalfLife), HalfLife), 6);

    [Fact]
    public void The_same_week_fades_more_under_a_shorter_half_life()
    {
        var now = After(7);

        Assert.Equal(5, Decay.Remaining(10, Start, now, 7), 9);
        Assert.Equal(7.0710678, Decay.Remaining(10, Start, now, 14), 6);
    }

    [Fact]
    public void A_clock_behind_the_stored_time_leaves_the_points_unchanged()
    {
        var asOf = Start.AddHours(3);

        Assert.Equal(12.5, Decay.Remaining(12.5, asOf, Now, HalfLife));
        Assert.Equal(12.5, Decay.Remaining(12.5, asOf, asOf, HalfLife));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public void Nothing_fades_without_a_positive_half_life(double halfLife) =>
        Assert.Equal(10, Decay.Remaining(10, Start, After(30), halfLife));

    [Fact]
    public void Zero_stays_zero() =>
        Assert.Equal(0, Decay.Remaining(0, Start, After(1), HalfLife));

    [Fact]
    public void Negative_points_fade_like_positive_ones_so_an_unsubscribe_weighs_less_with_time() =>
        Assert.Equal(-4, Decay.Remaining(-8, Start, After(HalfLife), HalfLife), 9);

    [Fact]
    public void Add_decays_the_balance_then_adds_the_new_points()
    {
        var balance = Decay.Add(0, Start, Now, HalfLife, 8);
        var asOf = Now;
        Assert.Equal(8, balance);

        balance = Decay.Add(balance, asOf, After(HalfLife), HalfLife, 5);
        asOf = Now;
        Assert.Equal(4 + 5, balance, 9);

        balance = Decay.Add(balance, asOf, After(2 * HalfLife), HalfLife, 1);
        Assert.Equal(9 / 4.0 + 1, balance, 9);
    }

    [Fact]
    public void Events_on_the_same_instant_simply_add_up() =>
        Assert.Equal(6, Decay.Add(Decay.Add(1, Start, Start, HalfLife, 5), Start, Start, HalfLife, 0));

    [Fact]
    public void Fading_behaviour_points_lower_the_grade_60_days_later()
    {
        var card = ScoreCard.Default;
        var lead = Fields.Of((LeadFields.Budget, "12万"), (LeadFields.Urgency, "明年"), (LeadFields.Authority, "采购经理"));
        var points = Decay.Add(0, Start, Now, card.HalfLifeDays, Scorer.PointsFor(card, BehaviourEvents.ContentDownloaded)!.Value);
        var asOf = Now;
        points = Decay.Add(points, asOf, After(7), card.HalfLifeDays, Scorer.PointsFor(card, BehaviourEvents.SupportContacted)!.Value);
        asOf = Now;

        var before = Scorer.Score(card, lead, Decay.Remaining(points, asOf, Now, card.HalfLifeDays));
        var after = Scorer.Score(card, lead, Decay.Remaining(points, asOf, After(60), card.HalfLifeDays));

        Assert.Equal(5 / Math.Sqrt(2) + 8, points, 9);
        Assert.Equal((48, 12, "B"), (before.Total, before.BehaviourPoints, before.Grade));
        Assert.Equal((37, 1, "C"), (after.Total, after.BehaviourPoints, after.Grade));
    }
}
