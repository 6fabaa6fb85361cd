using Microsoft.Extensions.Time.Testing;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Tests.Pipeline;

public class FollowUpPlansTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 11, 20, 1, 0, 0, TimeSpan.Zero));
    private static readonly IReadOnlyList<GradePlan> Defaults = FollowUpPlans.Defaults(ScoreCard.Default);

    [Fact]
    public void The_defaults_are_the_issues_call_in_24_h_then_proposal_then_weekly_for_A()
    {
        var a = FollowUpPlans.For(Defaults, ScoreCard.Default, "A");
        Assert.Equal([("电话联系", 24), ("发送方案", 72), ("每周同步", 168)], a.Steps.Select(s => (s.Title, s.DueInHours)));
        Assert.Equal(FollowUpChannel.Phone, a.Steps[0].Channel);
        Assert.Equal([72, 336], FollowUpPlans.For(Defaults, ScoreCard.Default, "B").Steps.Select(s => s.DueInHours));
        Assert.Equal([168, 720], FollowUpPlans.For(Defaults, ScoreCard.Default, "C").Steps.Select(s => s.DueInHours));
        Assert.All(Defaults, p => Assert.True(p.RepeatLast));
        Assert.Null(FollowUpPlans.Problem(Defaults));
    }

    [Fact]
    public void A_grade_without_a_plan_of_its_name_takes_the_plan_at_its_rank_and_an_unknown_one_the_gentlest()
    {
        var renamed = ScoreCard.Default with { Grades = [new("甲", 70), new("乙", 40), new("丙", 0)] };
        Assert.Equal("A", FollowUpPlans.For(Defaults, renamed, "甲").Grade);
        Assert.Equal("B", FollowUpPlans.For(Defaults, renamed, "乙").Grade);
        Assert.Equal("C", FollowUpPlans.For(Defaults, ScoreCard.Default, null).Grade);
        Assert.Equal("C", FollowUpPlans.For(Defaults, ScoreCard.Default, "Z").Grade);
    }

    [Fact]
    public void Each_done_step_brings_the_next_due_from_the_contact_and_the_last_recurs()
    {
        var a = FollowUpPlans.For(Defaults, ScoreCard.Default, "A");
        var clock = new FakeTimeProvider(Clock.GetUtcNow());
        var first = FollowUpPlans.Next(a, -1, clock.GetUtcNow())!;
        Assert.Equal((0, "电话联系", clock.GetUtcNow().AddHours(24)), (first.Step, first.Title, first.DueAt));
        clock.Advance(TimeSpan.FromHours(5));
        var second = FollowUpPlans.Next(a, first.Step, clock.GetUtcNow())!;
        Assert.Equal((1, "发送方案", clock.GetUtcNow().AddDays(3)), (second.Step, second.Title, second.DueAt));
        clock.Advance(TimeSpan.FromDays(2));
        var third = FollowUpPlans.Next(a, second.Step, clock.GetUtcNow())!;
        Assert.Equal((2, "每周同步", clock.GetUtcNow().AddDays(7)), (third.Step, third.Title, third.DueAt));
        clock.Advance(TimeSpan.FromDays(7));
        var again = FollowUpPlans.Next(a, third.Step, clock.GetUtcNow())!;
        Assert.Equal((2, clock.GetUtcNow().AddDays(7)), (again.Step, again.DueAt));
        Assert.Null(FollowUpPlans.Next(a with { RepeatLast = false }, 2, clock.GetUtcNow()));
    }

    [Fact]
    public void A_new_grade_takes_over_at_the_same_point_of_its_plan()
    {
        var now = Clock.GetUtcNow();
        var c = FollowUpPlans.For(Defaults, ScoreCard.Default, "C");
        var a = FollowUpPlans.For(Defaults, ScoreCard.Default, "A");
        // Nothing done yet: C's first contact within 7 days becomes A's call within 24 h.
        Assert.Equal((0, "电话联系", now.AddHours(24)), (FollowUpPlans.Replan(a, 0, now).Step, FollowUpPlans.Replan(a, 0, now).Title, FollowUpPlans.Replan(a, 0, now).DueAt));
        // Further along than the new plan goes: its last step.
        Assert.Equal(1, FollowUpPlans.Replan(c, 2, now).Step);
    }

    [Fact]
    public void A_step_naming_a_channel_is_done_only_by_a_follow_up_on_it()
    {
        Assert.True(FollowUpPlans.Done(null, FollowUpChannel.WeChat));
        Assert.True(FollowUpPlans.Done(FollowUpChannel.Phone, FollowUpChannel.Phone));
        Assert.False(FollowUpPlans.Done(FollowUpChannel.Phone, FollowUpChannel.WeChat));
    }

    [Theory]
    [InlineData("", "every plan names its grade")]
    [InlineData("dup", "grade a has two plans")]
    [InlineData("nosteps", "plan A: 1 to 10 steps")]
    [InlineData("title", "plan A, step 2: a title")]
    [InlineData("hours", "plan A, step 1 (电话联系): due in 1 hour")]
    public void Plans_that_cannot_work_are_refused_naming_the_plan_and_step(string fault, string message)
    {
        var a = new GradePlan("A", [new("电话联系", 24), new("发送方案", 72)]);
        IReadOnlyList<GradePlan> plans = fault switch
        {
            "" => [a with { Grade = " " }],
            "dup" => [a, a with { Grade = "a" }],
            "nosteps" => [a with { Steps = [] }],
            "title" => [a with { Steps = [new("电话联系", 24), new(" ", 72)] }],
            _ => [a with { Steps = [new("电话联系", 0)] }],
        };
        Assert.StartsWith(message, FollowUpPlans.Problem(plans));
        Assert.Equal("at least one plan is needed", FollowUpPlans.Problem([]));
    }
}
