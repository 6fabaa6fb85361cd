using Microsoft.Extensions.Time.Testing;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Scoring;
using Tideflow.Domain.Workbench;

namespace Tideflow.Domain.Tests.Workbench;

public class WorkbenchRulesTests
{
    private static readonly SalesPipeline Pipeline = SalesPipeline.Default;
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    // Monday 2026-11-02, 09:00 in Shanghai: a rep starting the day.
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 1, 0, 0, TimeSpan.Zero);
    private static readonly Guid Rep = Guid.NewGuid();
    private static readonly Guid Manager = Guid.NewGuid();

    /// <summary>A rep's open customer handed to them by a manager at <paramref name="assigned"/>, nothing planned yet.</summary>
    private static WorkbenchFacts Customer(DateTimeOffset assigned, string? grade = "B") =>
        new(SalesPipeline.First, grade, Rep, Manager, assigned, assigned, null, null, []);

    private static WorkbenchWindow Window(FakeTimeProvider clock, TimeZoneInfo? zone = null) =>
        WorkbenchWindow.At(clock.GetUtcNow(), zone ?? Shanghai, WorkbenchSettings.Default);

    private static WorkbenchView[] ListsOf(WorkbenchFacts f, FakeTimeProvider clock) =>
        Enum.GetValues<WorkbenchView>().Where(v => WorkbenchRules.IsIn(v, f, Window(clock), Pipeline, "A")).ToArray();

    [Fact]
    public void Today_is_the_reps_calendar_day_in_their_time_zone_not_the_servers_utc_day()
    {
        // 23:59 on Monday in Shanghai.
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 11, 2, 15, 59, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 16, 0, 0, TimeSpan.Zero), WorkbenchRules.LocalDay(clock.GetUtcNow(), Shanghai).Start);
        // 01:30 on Tuesday in Shanghai is still Monday in UTC.
        clock.Advance(TimeSpan.FromMinutes(91));
        Assert.Equal((new DateTimeOffset(2026, 11, 2, 16, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 3, 16, 0, 0, TimeSpan.Zero)),
            WorkbenchRules.LocalDay(clock.GetUtcNow(), Shanghai));
    }

    [Fact]
    public void A_day_where_clocks_jump_at_midnight_starts_when_they_land_and_a_day_with_a_repeated_midnight_has_25_hours()
    {
        var havana = TimeZoneInfo.FindSystemTimeZoneById("America/Havana");
        // 2026-03-08: 00:00 (UTC−5) jumps to 01:00 (UTC−4).
        var (start, end) = WorkbenchRules.LocalDay(new DateTimeOffset(2026, 3, 8, 12, 0, 0, TimeSpan.Zero), havana);
        Assert.Equal((new DateTimeOffset(2026, 3, 8, 5, 0, 0, TimeSpan.Zero), TimeSpan.FromHours(23)), (start, end - start));
        // 2026-11-01: 01:00 (UTC−4) falls back to 00:00 (UTC−5); the day begins at the first midnight.
        (start, end) = WorkbenchRules.LocalDay(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero), havana);
        Assert.Equal((new DateTimeOffset(2026, 11, 1, 4, 0, 0, TimeSpan.Zero), TimeSpan.FromHours(25)), (start, end - start));
        var (before, beforeEnd) = WorkbenchRules.LocalDay(new DateTimeOffset(2026, 10, 31, 12, 0, 0, TimeSpan.Zero), havana);
        Assert.Equal((TimeSpan.FromHours(24), start), (beforeEnd - before, beforeEnd));
    }

    [Fact]
    public void A_contact_planned_for_later_today_is_on_today_and_moves_to_overdue_the_minute_it_passes()
    {
        var clock = new FakeTimeProvider(Start);
        // Planned for 15:00 local.
        var customer = Customer(Start.AddDays(-10)) with { NextContactAt = Start.AddHours(6) };
        Assert.Equal([WorkbenchView.Today], ListsOf(customer, clock));
        clock.Advance(TimeSpan.FromHours(6));
        Assert.Equal([WorkbenchView.Today], ListsOf(customer, clock));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal([WorkbenchView.Overdue], ListsOf(customer, clock));
    }

    [Fact]
    public void A_contact_tomorrow_is_not_today_even_when_it_is_still_today_in_utc()
    {
        var clock = new FakeTimeProvider(Start);
        // Tuesday 07:00 in Shanghai is Monday 23:00 UTC.
        var customer = Customer(Start.AddDays(-10)) with { NextContactAt = new DateTimeOffset(2026, 11, 2, 23, 0, 0, TimeSpan.Zero) };
        Assert.Empty(ListsOf(customer, clock));
        // Just before the local midnight it is today.
        customer = customer with { NextContactAt = new DateTimeOffset(2026, 11, 2, 15, 59, 0, TimeSpan.Zero) };
        Assert.Equal([WorkbenchView.Today], ListsOf(customer, clock));
    }

    [Fact]
    public void A_missed_first_contact_task_is_overdue_even_with_a_later_plan_and_a_follow_up_takes_it_off()
    {
        var clock = new FakeTimeProvider(Start);
        var customer = Customer(Start.AddDays(-10)) with { OpenContactTasksDue = [Start.AddDays(-1)], NextContactAt = Start.AddDays(3) };
        Assert.Equal(Start.AddDays(-1), WorkbenchRules.ContactDue(customer));
        Assert.Equal([WorkbenchView.Overdue], ListsOf(customer, clock));

        // Logging a follow-up closes the contact tasks and plans the next one in the future.
        var followedUp = customer with { OpenContactTasksDue = [Start.AddDays(2)], NextContactAt = Start.AddDays(2) };
        Assert.Empty(ListsOf(followedUp, clock));
        Assert.Null(WorkbenchRules.ContactDue(customer with { OpenContactTasksDue = [], NextContactAt = null }));
    }

    [Fact]
    public void Won_lost_and_pooled_customers_are_on_no_list_of_work()
    {
        var clock = new FakeTimeProvider(Start);
        var owed = Customer(Start.AddDays(-30), "A") with { NextContactAt = Start.AddHours(-1) };
        Assert.Equal([WorkbenchView.Overdue, WorkbenchView.Stalled], ListsOf(owed, clock));
        Assert.Empty(ListsOf(owed with { Stage = "won" }, clock));
        Assert.Empty(ListsOf(owed with { Stage = "lost" }, clock));
        Assert.Empty(ListsOf(owed with { OwnerId = null }, clock));
        // A closed customer just handed over is still news to its new owner.
        Assert.Equal([WorkbenchView.NewAssignments], ListsOf(owed with { Stage = "won", AssignedAt = Start.AddHours(-1) }, clock));
    }

    [Fact]
    public void A_grade_A_customer_with_no_stage_move_for_seven_days_is_stalled_not_a_minute_earlier_and_a_move_restarts_the_count()
    {
        var clock = new FakeTimeProvider(Start);
        var customer = Customer(clock.GetUtcNow(), "A");
        clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        Assert.DoesNotContain(WorkbenchView.Stalled, ListsOf(customer, clock));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Contains(WorkbenchView.Stalled, ListsOf(customer, clock));

        customer = customer with { Stage = "contacted", StageChangedAt = clock.GetUtcNow() };
        clock.Advance(TimeSpan.FromDays(6));
        Assert.DoesNotContain(WorkbenchView.Stalled, ListsOf(customer, clock));
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Contains(WorkbenchView.Stalled, ListsOf(customer, clock));
        Assert.DoesNotContain(WorkbenchView.Stalled, ListsOf(customer with { Grade = "B" }, clock));
        Assert.DoesNotContain(WorkbenchView.Stalled, ListsOf(customer with { Grade = null }, clock));
    }

    [Fact]
    public void A_customer_handed_over_gives_its_new_owner_the_full_period_before_it_counts_as_stalled()
    {
        var clock = new FakeTimeProvider(Start);
        // Last moved 20 days ago by its previous owner, handed to this rep yesterday.
        var customer = Customer(Start.AddDays(-1), "A") with { Stage = "needs", StageChangedAt = Start.AddDays(-20), CreatedAt = Start.AddDays(-30) };
        Assert.Equal(Start.AddDays(-1), WorkbenchRules.StalledSince(customer));
        Assert.Equal([WorkbenchView.NewAssignments], ListsOf(customer, clock));
        clock.Advance(TimeSpan.FromDays(6));
        Assert.Equal([WorkbenchView.Stalled], ListsOf(customer, clock));
    }

    [Fact]
    public void High_intent_is_the_best_band_of_the_score_card_whatever_it_is_called()
    {
        Assert.Equal("A", WorkbenchRules.HighIntentGrade(ScoreCard.Default));
        var renamed = ScoreCard.Default with { Grades = [new("Cold", 0), new("Hot", 80), new("Warm", 50)] };
        Assert.Equal("Hot", WorkbenchRules.HighIntentGrade(renamed));
        var clock = new FakeTimeProvider(Start);
        var hot = Customer(Start.AddDays(-8), "Hot");
        Assert.True(WorkbenchRules.IsIn(WorkbenchView.Stalled, hot, Window(clock), Pipeline, WorkbenchRules.HighIntentGrade(renamed)));
        Assert.False(WorkbenchRules.IsIn(WorkbenchView.Stalled, hot, Window(clock), Pipeline, null));
    }

    [Fact]
    public void A_customer_is_new_for_three_days_after_it_is_handed_over_but_one_a_rep_typed_in_is_never_news()
    {
        var clock = new FakeTimeProvider(Start);
        var handed = Customer(clock.GetUtcNow());
        var typedIn = handed with { CreatedById = Rep };
        // Qualified from a lead the router gave the rep two hours earlier: the rep made the customer, but did not choose the lead.
        var qualified = typedIn with { CreatedAt = Start.AddHours(2) };
        Assert.Equal([true, false, true], new[] { handed, typedIn, qualified }.Select(f => WorkbenchRules.IsIn(WorkbenchView.NewAssignments, f, Window(clock), Pipeline, "A")));
        clock.Advance(TimeSpan.FromDays(3) - TimeSpan.FromMinutes(1));
        Assert.Contains(WorkbenchView.NewAssignments, ListsOf(handed, clock));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.DoesNotContain(WorkbenchView.NewAssignments, ListsOf(handed, clock));
        // Settings change the period.
        var week = WorkbenchWindow.At(clock.GetUtcNow(), Shanghai, new WorkbenchSettings(NewAssignmentDays: 7));
        Assert.True(WorkbenchRules.IsIn(WorkbenchView.NewAssignments, handed, week, Pipeline, "A"));
    }

    [Theory]
    [InlineData("today", WorkbenchView.Today)]
    [InlineData("Overdue", WorkbenchView.Overdue)]
    [InlineData(" stalled ", WorkbenchView.Stalled)]
    [InlineData("new-assignments", WorkbenchView.NewAssignments)]
    public void Lists_are_named_in_urls_by_their_keys(string key, WorkbenchView expected)
    {
        Assert.True(WorkbenchRules.TryParse(key, out var view));
        Assert.Equal(expected, view);
        Assert.Equal(key.Trim().ToLowerInvariant(), WorkbenchRules.Keys[view]);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("due-soon")]
    [InlineData("1")]
    public void Anything_else_is_not_a_list(string? key) => Assert.False(WorkbenchRules.TryParse(key, out _));
}
