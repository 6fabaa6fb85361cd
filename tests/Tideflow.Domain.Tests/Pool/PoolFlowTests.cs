using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Pool;

namespace Tideflow.Domain.Tests.Pool;

public class PoolFlowTests
{
    private static readonly DateTimeOffset From = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddDays(30);
    private static readonly Guid East = Guid.NewGuid(), South = Guid.NewGuid();
    private static readonly Guid RepA = Guid.NewGuid(), RepB = Guid.NewGuid(), Manager = Guid.NewGuid();

    private static PoolEvent Claim(Guid customer, Guid rep, DateTimeOffset at, Guid? pool = null) => new(customer, pool ?? East, PoolEventKind.Claimed, null, rep, at);
    private static PoolEvent Assign(Guid customer, Guid rep, DateTimeOffset at) => new(customer, East, PoolEventKind.AssignedFromPool, null, rep, at);
    private static PoolEvent Release(Guid customer, Guid rep, DateTimeOffset at, Guid? pool = null) => new(customer, pool ?? East, PoolEventKind.Released, rep, null, at);
    private static PoolEvent Reclaim(Guid customer, Guid rep, DateTimeOffset at) => new(customer, East, PoolEventKind.Reclaimed, rep, null, at);
    private static FlowContact Call(Guid customer, DateTimeOffset at, FollowUpChannel channel = FollowUpChannel.Phone) => new(customer, at, channel);

    private static FlowReport Compute(IEnumerable<PoolEvent> events, IEnumerable<FlowContact>? contacts = null, IEnumerable<FlowWin>? wins = null,
        Dictionary<Guid, PoolSettings>? pools = null, Dictionary<Guid, string?>? grades = null, DateTimeOffset? from = null, DateTimeOffset? to = null) =>
        PoolFlow.Compute(new FlowFacts(events.ToList(), (contacts ?? []).ToList(), (wins ?? []).ToList(), pools ?? [], grades ?? []), from ?? From, to ?? To);

    [Fact]
    public void Each_way_in_and_out_of_the_pool_is_counted_on_its_own()
    {
        var (x, y, z, w) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var day = From.AddDays(3);
        var report = Compute([Reclaim(x, RepA, day), Release(y, RepB, day), Claim(z, RepA, day), Assign(w, RepB, day)]);
        Assert.Equal(new FlowFigures(EnteredByRule: 1, EnteredByRelease: 1, Claimed: 1, Assigned: 1, 0, 0, 0), report.ByPool[East]);
        Assert.Equal(2, report.ByPool[East].Taken);
        Assert.Equal(0.0, report.ByPool[East].ContactedPercent);
        Assert.False(report.ByPool.ContainsKey(South));
    }

    [Fact]
    public void The_period_includes_its_first_instant_and_excludes_its_last()
    {
        var c = Guid.NewGuid();
        var report = Compute([
            Release(c, RepA, From.AddTicks(-1)), Claim(c, RepB, From), Release(c, RepB, To.AddTicks(-1)), Claim(c, RepA, To),
        ]);
        Assert.Equal(new FlowFigures(0, 1, 1, 0, 0, 0, RePooled: 1), report.ByPool[East]);
        // RepA's release before the period and claim at its end are outside it: repA has no figures at all.
        Assert.False(report.ByRep.ContainsKey(RepA));
    }

    [Fact]
    public void A_contact_exactly_at_the_deadline_counts_and_a_moment_later_does_not()
    {
        var (onTime, late, before) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var claimed = From.AddDays(1);
        var report = Compute(
            [Claim(onTime, RepA, claimed), Claim(late, RepA, claimed), Claim(before, RepA, claimed)],
            [Call(onTime, claimed.AddHours(48)), Call(late, claimed.AddHours(48).AddTicks(1)), Call(before, claimed.AddTicks(-1))]);
        Assert.Equal(1, report.ByRep[RepA].ContactedInTime);
        Assert.Equal(33.3, report.ByRep[RepA].ContactedPercent);
    }

    [Fact]
    public void The_deadline_is_the_pools_first_contact_rule_for_the_grade_and_only_the_channels_the_pool_counts()
    {
        var strict = new PoolSettings([new ReclaimRule(ReclaimWhen.FirstContactMissed, 72, PeriodUnit.Hours, new Dictionary<string, int> { ["A"] = 24 })],
            CountedChannels: ["Phone", "Visit"]);
        var noFirstContactRule = new PoolSettings([new ReclaimRule(ReclaimWhen.NoFollowUp, 7)]);
        var (gradeA, gradeC, byMail, south) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var claimed = From.AddDays(1);
        var report = Compute(
            [Claim(gradeA, RepA, claimed), Claim(gradeC, RepA, claimed), Claim(byMail, RepA, claimed), Claim(south, RepB, claimed, South)],
            [Call(gradeA, claimed.AddHours(30)), Call(gradeC, claimed.AddHours(30)), Call(byMail, claimed.AddHours(1), FollowUpChannel.Email),
             Call(south, claimed.AddHours(48))],
            pools: new() { [East] = strict, [South] = noFirstContactRule },
            grades: new() { [gradeA] = "A", [gradeC] = "C", [byMail] = "C" });
        // A: 24 h, so 30 h is late; C: 72 h; an email does not count where only calls and visits do; no rule: 48 h.
        Assert.Equal(1, report.ByPool[East].ContactedInTime);
        Assert.Equal(1, report.ByPool[South].ContactedInTime);
        Assert.Equal(TimeSpan.FromHours(72), PoolFlow.LongestDeadline([strict, noFirstContactRule]));
        Assert.Equal(TimeSpan.FromHours(48), PoolFlow.LongestDeadline([]));
    }

    [Fact]
    public void A_customer_claimed_released_and_claimed_again_counts_each_claim_with_what_happened_while_that_rep_held_it()
    {
        var c = Guid.NewGuid();
        var t = From.AddDays(2);
        var report = Compute(
            [Claim(c, RepA, t), Release(c, RepA, t.AddDays(2)), Claim(c, RepB, t.AddDays(3))],
            [Call(c, t.AddHours(1)), Call(c, t.AddDays(3).AddHours(60))],
            [new FlowWin(c, t.AddDays(5))]);
        // RepA called in time and let it go; repB's call came after 60 h (late), but repB won it.
        Assert.Equal(new FlowFigures(0, EnteredByRelease: 1, Claimed: 1, 0, ContactedInTime: 1, Converted: 0, RePooled: 1), report.ByRep[RepA]);
        Assert.Equal(new FlowFigures(0, 0, Claimed: 1, 0, ContactedInTime: 0, Converted: 1, RePooled: 0), report.ByRep[RepB]);
        Assert.Equal(new FlowFigures(0, 1, 2, 0, 1, 1, 1), report.ByPool[East]);
        Assert.Equal((50.0, 50.0, 50.0), (report.ByPool[East].ContactedPercent!.Value, report.ByPool[East].ConvertedPercent!.Value, report.ByPool[East].RePooledPercent!.Value));
    }

    [Fact]
    public void Claims_and_hand_outs_count_for_the_rep_who_got_the_customer_releases_and_reclaims_for_the_rep_who_had_it()
    {
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var t = From.AddDays(1);
        var report = Compute([
            Assign(a, RepA, t), Reclaim(a, RepA, t.AddDays(3)),
            Claim(b, RepB, t), Reclaim(b, RepB, t.AddDays(8)),
            Release(c, RepB, t),
        ]);
        Assert.Equal(new FlowFigures(EnteredByRule: 1, 0, 0, Assigned: 1, 0, 0, RePooled: 1), report.ByRep[RepA]);
        Assert.Equal(new FlowFigures(EnteredByRule: 1, EnteredByRelease: 1, Claimed: 1, 0, 0, 0, RePooled: 1), report.ByRep[RepB]);
        // The manager who handed it out is nobody's rep here.
        Assert.False(report.ByRep.ContainsKey(Manager));
    }

    [Fact]
    public void Wins_and_returns_to_the_pool_count_up_to_the_end_of_the_period_a_contact_within_the_deadline_even_after_it()
    {
        var (won, back, contacted, handedOn) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var late = To.AddHours(-1);
        var report = Compute(
            [Claim(won, RepA, late), Claim(back, RepA, late), Release(back, RepA, To), Claim(contacted, RepA, late),
             Claim(handedOn, RepA, late), Release(handedOn, RepA, To.AddHours(1)), Claim(handedOn, RepB, To.AddHours(2))],
            [Call(contacted, To.AddHours(10)), Call(handedOn, To.AddHours(3))],
            [new FlowWin(won, To)]);
        // The call on handedOn came after repA had let it go: it is repB's, after the period.
        Assert.Equal(new FlowFigures(0, 0, Claimed: 4, 0, ContactedInTime: 1, Converted: 0, RePooled: 0), report.ByRep[RepA]);
        Assert.False(report.ByRep.ContainsKey(RepB));

        var wonBefore = Compute([Claim(won, RepA, From.AddDays(1))], wins: [new FlowWin(won, From)]);
        Assert.Equal(0, wonBefore.ByRep[RepA].Converted);
    }

    [Fact]
    public void Rates_are_left_out_when_nothing_was_taken()
    {
        var report = Compute([Release(Guid.NewGuid(), RepA, From.AddDays(1))]);
        Assert.Equal((0, (double?)null, (double?)null, (double?)null),
            (report.ByRep[RepA].Taken, report.ByRep[RepA].ContactedPercent, report.ByRep[RepA].ConvertedPercent, report.ByRep[RepA].RePooledPercent));
        Assert.Null(FlowFigures.None.ContactedPercent);
    }

    [Fact]
    public void Events_arrive_in_any_order_and_are_read_in_time_order()
    {
        var c = Guid.NewGuid();
        var t = From.AddDays(1);
        var ordered = Compute([Claim(c, RepA, t), Reclaim(c, RepA, t.AddDays(2))], [Call(c, t.AddDays(3))]);
        var shuffled = Compute([Reclaim(c, RepA, t.AddDays(2)), Claim(c, RepA, t)], [Call(c, t.AddDays(3))]);
        Assert.Equal(ordered.ByRep[RepA], shuffled.ByRep[RepA]);
        Assert.Equal(new FlowFigures(1, 0, 1, 0, 0, 0, 1), shuffled.ByRep[RepA]);
    }
}
