using Tideflow.Domain.Pipeline;

namespace Tideflow.Domain.Tests.Pipeline;

public class FollowUpRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 9, 0, 0, TimeSpan.FromHours(8));

    private static FollowUpInput Complete => new(FollowUpChannel.Phone, "客户确认下周看演示", "约到试用", true, "周二上门演示", Now.AddDays(3));

    [Fact]
    public void A_complete_record_has_no_problems()
    {
        Assert.Empty(FollowUpRules.Problems(Complete, customerClosed: false, Now));
        Assert.Empty(FollowUpRules.Problems(Complete with { Goal = null, GoalReached = false }, customerClosed: false, Now));
    }

    [Fact]
    public void Channel_content_next_plan_and_its_date_are_each_named_when_missing()
    {
        var problems = FollowUpRules.Problems(new FollowUpInput(null, "  ", null, false, " ", null), customerClosed: false, Now);
        Assert.Equal(["channel", "content", "nextContactAt", "nextPlan"], problems.Keys.Order());
        Assert.Equal("Say what happens next; only a closed customer has no next step.", problems["nextPlan"]);
    }

    [Fact]
    public void The_next_contact_must_lie_in_the_future_and_within_a_year()
    {
        Assert.Equal("The next contact must be in the future.",
            FollowUpRules.Problems(Complete with { NextContactAt = Now }, false, Now)["nextContactAt"]);
        Assert.Equal("The next contact must be in the future.",
            FollowUpRules.Problems(Complete with { NextContactAt = Now.AddMinutes(-1) }, false, Now)["nextContactAt"]);
        Assert.Empty(FollowUpRules.Problems(Complete with { NextContactAt = Now.AddMinutes(1) }, false, Now));
        Assert.Empty(FollowUpRules.Problems(Complete with { NextContactAt = Now.AddDays(366) }, false, Now));
        Assert.Equal("The next contact is more than a year away; check the year.",
            FollowUpRules.Problems(Complete with { NextContactAt = Now.AddYears(10) }, false, Now)["nextContactAt"]);
    }

    [Fact]
    public void A_closed_customer_needs_no_next_step_but_a_given_date_still_may_not_be_past()
    {
        var closing = Complete with { NextPlan = null, NextContactAt = null };
        Assert.Empty(FollowUpRules.Problems(closing, customerClosed: true, Now));
        Assert.Equal(["nextContactAt", "nextPlan"], FollowUpRules.Problems(closing, customerClosed: false, Now).Keys.Order());
        Assert.Equal(["nextContactAt"], FollowUpRules.Problems(closing with { NextContactAt = Now.AddDays(-1) }, customerClosed: true, Now).Keys);
    }

    [Fact]
    public void Overlong_texts_and_unknown_channels_are_refused()
    {
        var problems = FollowUpRules.Problems(Complete with
        {
            Channel = (FollowUpChannel)42, Content = new string('x', 4001), Goal = new string('g', 201), NextPlan = new string('p', 501),
        }, false, Now);
        Assert.Equal(["channel", "content", "goal", "nextPlan"], problems.Keys.Order());
    }
}
