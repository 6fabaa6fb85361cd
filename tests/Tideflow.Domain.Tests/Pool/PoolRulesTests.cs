using Microsoft.Extensions.Time.Testing;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Pool;

namespace Tideflow.Domain.Tests.Pool;

public class PoolRulesTests
{
    private static readonly SalesPipeline Pipeline = SalesPipeline.Default;
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 1, 0, 0, TimeSpan.Zero);

    private static CustomerFacts Assigned(DateTimeOffset at, string grade = "B") => new(grade, SalesPipeline.First, at, null, null, null, null);

    private static ReclaimDecision Evaluate(CustomerFacts c, PoolSettings s, FakeTimeProvider clock) =>
        PoolRules.Evaluate(c, s, Pipeline, clock.GetUtcNow());

    [Fact]
    public void With_the_default_rules_a_customer_nobody_follows_up_comes_back_after_seven_days_not_a_minute_earlier()
    {
        var clock = new FakeTimeProvider(Start);
        var customer = Assigned(clock.GetUtcNow());
        clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        var before = Evaluate(customer, PoolSettings.Default, clock);
        Assert.Equal(ReclaimStatus.Safe, before.Status);
        Assert.Equal(Start.AddDays(7), before.DueAt);
        clock.Advance(TimeSpan.FromMinutes(1));
        var due = Evaluate(customer, PoolSettings.Default, clock);
        Assert.Equal(ReclaimStatus.Due, due.Status);
        Assert.Equal(ReclaimWhen.NoFollowUp, due.Rule!.When);
        Assert.Equal("no follow-up for 7 days", due.Reason);
    }

    [Fact]
    public void A_follow_up_restarts_the_count_and_an_old_one_from_before_the_assignment_does_not_count()
    {
        var clock = new FakeTimeProvider(Start);
        // The previous owner's follow-up ten days before this rep got the customer: the rep still has seven days.
        var customer = Assigned(clock.GetUtcNow()) with { LastContactAt = Start.AddDays(-10) };
        clock.Advance(TimeSpan.FromDays(5));
        customer = customer with { LastContactAt = clock.GetUtcNow() };
        clock.Advance(TimeSpan.FromDays(6));
        Assert.Equal(ReclaimStatus.Safe, Evaluate(customer, PoolSettings.Default, clock).Status);
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(ReclaimStatus.Due, Evaluate(customer, PoolSettings.Default, clock).Status);
    }

    [Fact]
    public void Each_grade_may_have_its_own_period()
    {
        var rules = new PoolSettings([new ReclaimRule(ReclaimWhen.NoFollowUp, 7, ByGrade: new Dictionary<string, int> { ["A"] = 15, ["C"] = 3 })]);
        var clock = new FakeTimeProvider(Start);
        var a = Assigned(Start, "A");
        var b = Assigned(Start, "B");
        var c = Assigned(Start, "C");
        var ungraded = Assigned(Start) with { Grade = null };
        clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal([ReclaimStatus.Safe, ReclaimStatus.Safe, ReclaimStatus.Due, ReclaimStatus.Safe],
            new[] { a, b, c, ungraded }.Select(x => Evaluate(x, rules, clock).Status));
        clock.Advance(TimeSpan.FromDays(4));
        Assert.Equal([ReclaimStatus.Safe, ReclaimStatus.Due, ReclaimStatus.Due, ReclaimStatus.Due],
            new[] { a, b, c, ungraded }.Select(x => Evaluate(x, rules, clock).Status));
        clock.Advance(TimeSpan.FromDays(8));
        Assert.Equal(ReclaimStatus.Due, Evaluate(a, rules, clock).Status);
        Assert.Equal("no follow-up for 15 days", Evaluate(a, rules, clock).Reason);
    }

    [Fact]
    public void First_contact_after_a_claim_is_due_within_48_hours_and_any_follow_up_since_the_claim_meets_it()
    {
        var clock = new FakeTimeProvider(Start);
        var claimed = Assigned(Start) with { ClaimedAt = Start, LastContactAt = Start.AddDays(-20) };
        clock.Advance(TimeSpan.FromHours(47));
        Assert.Equal(ReclaimStatus.Safe, Evaluate(claimed, PoolSettings.Default, clock).Status);
        Assert.Equal(Start.AddHours(48), Evaluate(claimed, PoolSettings.Default, clock).DueAt);
        clock.Advance(TimeSpan.FromHours(1));
        var due = Evaluate(claimed, PoolSettings.Default, clock);
        Assert.Equal(ReclaimWhen.FirstContactMissed, due.Rule!.When);
        Assert.Equal("no first contact within 48 h of claiming", due.Reason);

        var contacted = claimed with { LastContactAt = Start.AddHours(30) };
        Assert.Equal(ReclaimStatus.Safe, Evaluate(contacted, PoolSettings.Default, clock).Status);
        // Now only the seven days without follow-up count, from that contact.
        Assert.Equal(Start.AddHours(30).AddDays(7), Evaluate(contacted, PoolSettings.Default, clock).DueAt);
        // A customer assigned by hand was never claimed: no first-contact deadline.
        Assert.Null(PoolRules.DueAt(PoolSettings.Default.Rules[1], Assigned(Start), Pipeline));
    }

    [Fact]
    public void Stage_rules_count_progress_and_reaching_a_stage()
    {
        var settings = new PoolSettings([new ReclaimRule(ReclaimWhen.NoStageProgress, 14), new ReclaimRule(ReclaimWhen.NotReachedStage, 30, Stage: "quoted")]);
        var clock = new FakeTimeProvider(Start);
        var customer = Assigned(Start);
        clock.Advance(TimeSpan.FromDays(10));
        customer = customer with { Stage = "contacted", StageChangedAt = clock.GetUtcNow() };
        clock.Advance(TimeSpan.FromDays(13));
        Assert.Equal(ReclaimStatus.Safe, Evaluate(customer, settings, clock).Status);
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(ReclaimWhen.NoStageProgress, Evaluate(customer, settings, clock).Rule!.When);

        customer = customer with { Stage = "needs", StageChangedAt = Start.AddDays(20) };
        clock.SetUtcNow(Start.AddDays(30));
        var notQuoted = Evaluate(customer, settings, clock);
        Assert.Equal(ReclaimWhen.NotReachedStage, notQuoted.Rule!.When);
        Assert.Equal("not at quoted 30 days after assignment", notQuoted.Reason);
        // Reaching the stage (or beyond it, won included) takes that rule away; lost does not count as reached.
        Assert.Null(PoolRules.DueAt(settings.Rules[1], customer with { Stage = "negotiation" }, Pipeline));
        Assert.Null(PoolRules.DueAt(settings.Rules[1], customer with { Stage = "won" }, Pipeline));
        Assert.NotNull(PoolRules.DueAt(settings.Rules[1], customer with { Stage = "lost" }, Pipeline));
    }

    [Fact]
    public void Under_AND_every_rule_must_be_due_and_the_last_one_decides()
    {
        var settings = new PoolSettings([new ReclaimRule(ReclaimWhen.NoFollowUp, 7), new ReclaimRule(ReclaimWhen.NoStageProgress, 20)], Combine.All);
        var clock = new FakeTimeProvider(Start);
        var customer = Assigned(Start);
        clock.Advance(TimeSpan.FromDays(10));
        var decision = Evaluate(customer, settings, clock);
        Assert.Equal(ReclaimStatus.Safe, decision.Status);
        Assert.Equal(Start.AddDays(20), decision.DueAt);
        clock.Advance(TimeSpan.FromDays(10));
        Assert.Equal(ReclaimWhen.NoStageProgress, Evaluate(customer, settings, clock).Rule!.When);
        // Under AND a rule that cannot come due (never claimed) keeps the customer for good.
        var withFirstContact = settings with { Rules = [.. settings.Rules, PoolSettings.Default.Rules[1]] };
        Assert.Equal(ReclaimStatus.Safe, Evaluate(customer, withFirstContact, clock).Status);
        Assert.Null(Evaluate(customer, withFirstContact, clock).DueAt);
    }

    [Fact]
    public void Protected_won_and_far_along_customers_are_exempt_while_the_exemption_lasts()
    {
        var settings = PoolSettings.Default with { ExemptFromStage = "quoted" };
        var clock = new FakeTimeProvider(Start.AddDays(30));
        var old = Assigned(Start);
        Assert.Equal(ReclaimStatus.Due, Evaluate(old, settings, clock).Status);
        Assert.Equal("won", Evaluate(old with { Stage = "won" }, settings, clock).Reason);
        Assert.Equal(ReclaimStatus.Due, Evaluate(old with { Stage = "won" }, settings with { ExemptWon = false }, clock).Status);
        Assert.Equal("at or beyond 已报价", Evaluate(old with { Stage = "negotiation" }, settings, clock).Reason);
        Assert.Equal(ReclaimStatus.Due, Evaluate(old with { Stage = "needs" }, settings, clock).Status);
        Assert.Equal(ReclaimStatus.Due, Evaluate(old with { Stage = "lost" }, settings, clock).Status);

        var protectedOne = old with { ProtectedUntil = clock.GetUtcNow().AddDays(2) };
        Assert.Equal(ReclaimStatus.Exempt, Evaluate(protectedOne, settings, clock).Status);
        clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(ReclaimStatus.Due, Evaluate(protectedOne, settings, clock).Status);
    }

    [Fact]
    public void A_won_customer_whose_contract_ended_and_was_not_renewed_comes_back_after_the_period_and_a_renewal_keeps_it()
    {
        // 30 days after the contract's end; the won switch and a protection still apply as set.
        var settings = PoolSettings.Default with
        {
            Rules = [.. PoolSettings.Default.Rules, new ReclaimRule(ReclaimWhen.ContractEnded, 30, ByGrade: new Dictionary<string, int> { ["A"] = 60 })],
        };
        var ends = Start.AddDays(100);
        var won = Assigned(Start) with { Stage = "won", ContractEndsAt = ends };
        var clock = new FakeTimeProvider(ends.AddDays(30) - TimeSpan.FromMinutes(1));
        var before = Evaluate(won, settings, clock);
        // Won spares it from "no follow-up", not from the contract's end: safe, with the contract deciding when.
        Assert.Equal(ReclaimStatus.Safe, before.Status);
        Assert.Equal(ends.AddDays(30), before.DueAt);
        clock.Advance(TimeSpan.FromMinutes(1));
        var due = Evaluate(won, settings, clock);
        Assert.Equal(ReclaimStatus.Due, due.Status);
        Assert.Equal(ReclaimWhen.ContractEnded, due.Rule!.When);
        Assert.Equal("contract ended 30 days ago, not renewed", due.Reason);
        // Grade A has 60 days; a renewal (a later end date) starts the count again from the new end.
        Assert.Equal(ReclaimStatus.Safe, Evaluate(won with { Grade = "A" }, settings, clock).Status);
        Assert.Equal(ReclaimStatus.Safe, Evaluate(won with { ContractEndsAt = ends.AddDays(365) }, settings, clock).Status);
        // No contract entered: the rule cannot come due, and won keeps it exempt from the rest.
        Assert.Equal(ReclaimStatus.Exempt, Evaluate(won with { ContractEndsAt = null }, settings, clock).Status);
        // A protection spares it from every rule, the contract's end included.
        Assert.Equal(ReclaimStatus.Exempt, Evaluate(won with { ProtectedUntil = clock.GetUtcNow().AddDays(1) }, settings, clock).Status);
        // Claimed long after the contract lapsed: the new owner gets the full period from the claim to renew it.
        var claimed = won with { AssignedAt = clock.GetUtcNow(), ClaimedAt = clock.GetUtcNow(), LastContactAt = clock.GetUtcNow() };
        Assert.Equal(clock.GetUtcNow().AddDays(30), PoolRules.DueAt(settings.Rules[2], claimed, Pipeline));
        clock.Advance(TimeSpan.FromDays(29));
        Assert.Equal(ReclaimStatus.Safe, Evaluate(claimed, settings, clock).Status);
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(ReclaimWhen.ContractEnded, Evaluate(claimed, settings, clock).Rule!.When);
    }

    [Fact]
    public void Under_AND_a_won_customer_stays_exempt_unless_every_rule_is_about_the_contract()
    {
        var contract = new ReclaimRule(ReclaimWhen.ContractEnded, 30);
        var clock = new FakeTimeProvider(Start.AddDays(200));
        var won = Assigned(Start) with { Stage = "won", ContractEndsAt = Start.AddDays(100) };
        var both = new PoolSettings([new ReclaimRule(ReclaimWhen.NoFollowUp, 7), contract], Combine.All);
        Assert.Equal(ReclaimStatus.Exempt, Evaluate(won, both, clock).Status);
        Assert.Equal(ReclaimStatus.Due, Evaluate(won, both with { ExemptWon = false }, clock).Status);
        Assert.Equal(ReclaimStatus.Due, Evaluate(won, new PoolSettings([contract], Combine.All), clock).Status);
        // The rule takes no stage.
        Assert.Contains("rules[0].stage", PoolRules.Problems(new PoolSettings([contract with { Stage = "won" }]), Pipeline, ["A", "B", "C"]).Keys);
    }

    [Fact]
    public void Warnings_open_before_the_due_time_and_a_late_sweep_sends_only_the_closest()
    {
        var settings = PoolSettings.Default with { WarnHoursBefore = [72, 24] };
        var clock = new FakeTimeProvider(Start);
        var customer = Assigned(Start);
        int? Warning() => PoolRules.WarningNow(Evaluate(customer, settings, clock), settings, clock.GetUtcNow());
        clock.Advance(TimeSpan.FromDays(4) - TimeSpan.FromMinutes(1));
        Assert.Null(Warning());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(72, Warning());
        clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(24, Warning());
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Null(Warning()); // due now: reclaimed, not warned
    }

    [Fact]
    public void Bad_settings_are_refused_naming_the_field()
    {
        var grades = new[] { "A", "B", "C" };
        Assert.Empty(PoolRules.Problems(PoolSettings.Default, Pipeline, grades));
        var bad = PoolSettings.Default with
        {
            Rules =
            [
                new ReclaimRule(ReclaimWhen.NoFollowUp, 0),
                new ReclaimRule(ReclaimWhen.NotReachedStage, 10, Stage: "lost"),
                new ReclaimRule(ReclaimWhen.NoFollowUp, 5, ByGrade: new Dictionary<string, int> { ["S"] = 3 }),
            ],
            WarnHoursBefore = [24, 24],
            DailyClaimLimit = 0,
            MaxHeld = 0,
            ExemptFromStage = "nowhere",
            ReleaseReasons = [],
        };
        var problems = PoolRules.Problems(bad, Pipeline, grades);
        Assert.Equal(["dailyClaimLimit", "exemptFromStage", "maxHeld", "releaseReasons", "rules[0].amount", "rules[1].stage", "rules[2].byGrade.S", "rules[2].when", "warnHoursBefore"],
            problems.Keys.Order());
        Assert.Contains("at least one reclaim rule", PoolRules.Problems(PoolSettings.Default with { Rules = [] }, Pipeline, grades)["rules"]);
        // What JSON can carry: no list, huge numbers, undefined enum values, a grade in the wrong case.
        Assert.Contains("list of rules", PoolRules.Problems(PoolSettings.Default with { Rules = null! }, Pipeline, grades)["rules"]);
        var extreme = PoolSettings.Default with
        {
            Rules = [new ReclaimRule(ReclaimWhen.NoFollowUp, int.MaxValue), new ReclaimRule((ReclaimWhen)7, 3), new ReclaimRule(ReclaimWhen.NoStageProgress, 3, ByGrade: new Dictionary<string, int> { ["a"] = 5 })],
            EmbargoHours = int.MaxValue, MaxProtectDays = int.MaxValue, Combine = (Combine)5, ExemptFromStage = "won",
        };
        Assert.Equal(["combine", "embargoHours", "exemptFromStage", "maxProtectDays", "rules[0].amount", "rules[1].when", "rules[2].byGrade.a"],
            PoolRules.Problems(extreme, Pipeline, grades).Keys.Order());
    }
}

public class ClaimPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 2, 0, 0, TimeSpan.Zero);
    private static readonly ClaimFacts Fresh = new(0, 0, null, null, Now.AddDays(-1));

    [Fact]
    public void The_daily_limit_counts_claims_today()
    {
        Assert.Null(ClaimPolicy.Check(PoolSettings.Default, Fresh with { ClaimedToday = 2 }, Now));
        var denied = ClaimPolicy.Check(PoolSettings.Default, Fresh with { ClaimedToday = 3 }, Now);
        Assert.Equal(ClaimRefusal.DailyLimit, denied!.Reason);
        Assert.Equal("Daily claim limit reached: 3/3 claimed today.", denied.Message);
    }

    [Fact]
    public void The_smallest_cap_on_customers_held_applies()
    {
        var settings = PoolSettings.Default with { MaxHeld = 50 };
        Assert.Null(ClaimPolicy.Check(settings, Fresh with { Held = 49 }, Now));
        Assert.Equal((ClaimRefusal.HeldLimit, 50), Denied(settings, Fresh with { Held = 50 }));
        Assert.Equal((ClaimRefusal.HeldLimit, 20), Denied(settings, Fresh with { Held = 20, Capacity = 20 }));
        Assert.Null(ClaimPolicy.Check(PoolSettings.Default, Fresh with { Held = 10_000 }, Now));
    }

    [Fact]
    public void A_rep_waits_out_the_cool_down_before_reclaiming_what_they_let_go_and_nobody_claims_during_the_embargo()
    {
        var clock = new FakeTimeProvider(Now);
        var facts = Fresh with { LetGoAt = Now };
        clock.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1));
        var denied = ClaimPolicy.Check(PoolSettings.Default, facts, clock.GetUtcNow());
        Assert.Equal(ClaimRefusal.Cooldown, denied!.Reason);
        Assert.Equal(Now.AddDays(30), denied.PossibleFrom);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(ClaimPolicy.Check(PoolSettings.Default, facts, clock.GetUtcNow()));

        var embargoed = PoolSettings.Default with { EmbargoHours = 12 };
        Assert.Equal(ClaimRefusal.Embargo, ClaimPolicy.Check(embargoed, Fresh with { PooledAt = Now.AddHours(-11) }, Now)!.Reason);
        Assert.Null(ClaimPolicy.Check(embargoed, Fresh with { PooledAt = Now.AddHours(-12) }, Now));
    }

    private static (ClaimRefusal, int) Denied(PoolSettings s, ClaimFacts f) => ClaimPolicy.Check(s, f, Now) is { } d ? (d.Reason, d.Limit) : default;
}
