using Microsoft.Extensions.Time.Testing;
using Tideflow.Domain.Notifications;

namespace Tideflow.Domain.Tests.Notifications;

public class ReminderRulesTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 11, 20, 1, 0, 0, TimeSpan.Zero));

    [Fact]
    public void DingTalk_signature_matches_one_computed_independently()
    {
        // Computed with Python's hmac module: base64(hmac_sha256(secret, f"{ts}\n{secret}")).
        Assert.Equal("f7qQ1A8KagEZ45y1gasTtKsEq5ERTeDXP9T+WkIqzDk=", DingTalkSigning.Sign("SEC1234567890abcdef", 1577262236757));
    }

    [Fact]
    public void The_signed_url_carries_the_timestamp_and_the_url_encoded_signature()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1577262236757);
        Assert.Equal("https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1577262236757&sign=f7qQ1A8KagEZ45y1gasTtKsEq5ERTeDXP9T%2BWkIqzDk%3D",
            DingTalkSigning.SignedUrl("https://oapi.dingtalk.com/robot/send?access_token=abc", "SEC1234567890abcdef", at));
    }

    [Fact]
    public void DingTalk_refuses_a_signature_older_than_an_hour_or_made_with_another_secret()
    {
        var clock = new FakeTimeProvider(Clock.GetUtcNow());
        var ts = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var sign = DingTalkSigning.Sign("SECright", ts);
        Assert.True(DingTalkSigning.Verify("SECright", ts, sign, clock.GetUtcNow()));
        Assert.False(DingTalkSigning.Verify("SECwrong", ts, sign, clock.GetUtcNow()));
        clock.Advance(TimeSpan.FromHours(1));
        Assert.True(DingTalkSigning.Verify("SECright", ts, sign, clock.GetUtcNow()));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(DingTalkSigning.Verify("SECright", ts, sign, clock.GetUtcNow()));
    }

    [Fact]
    public void Retries_wait_longer_each_time_then_give_up()
    {
        var now = Clock.GetUtcNow();
        Assert.Null(DeliveryRetry.NextAttempt(0, now));
        var waits = Enumerable.Range(1, DeliveryRetry.MaxAttempts - 1).Select(a => DeliveryRetry.NextAttempt(a, now)!.Value - now).ToList();
        Assert.Equal(TimeSpan.FromSeconds(30), waits[0]);
        Assert.True(waits.Zip(waits.Skip(1)).All(w => w.Second > w.First));
        Assert.Null(DeliveryRetry.NextAttempt(DeliveryRetry.MaxAttempts, now));
    }

    [Theory]
    [InlineData(ReminderChannel.DingTalk, "https://oapi.dingtalk.com/robot/send?access_token=abc", null)]
    [InlineData(ReminderChannel.WeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", null)]
    [InlineData(ReminderChannel.DingTalk, "http://oapi.dingtalk.com/robot/send?access_token=abc", "not an allowed robot address")]
    [InlineData(ReminderChannel.DingTalk, "https://169.254.169.254/latest/meta-data?access_token=abc", "not an allowed robot address")]
    [InlineData(ReminderChannel.DingTalk, "https://oapi.dingtalk.com.evil.example/robot/send?access_token=abc", "not an allowed robot address")]
    [InlineData(ReminderChannel.DingTalk, "https://oapi.dingtalk.com/robot/send", "access_token")]
    [InlineData(ReminderChannel.WeCom, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "key=")]
    [InlineData(ReminderChannel.WeCom, "qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc", "full https://")]
    public void Robot_addresses_are_limited_to_the_allowed_origins(ReminderChannel channel, string url, string? problem)
    {
        var found = WebhookAddress.Problem(channel, url, WebhookAddress.DefaultOrigins);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found);
        }
    }

    [Fact]
    public void An_admin_allowed_origin_includes_its_port()
    {
        Assert.Null(WebhookAddress.Problem(ReminderChannel.WeCom, "http://127.0.0.1:8080/cgi-bin/webhook/send?key=k", ["http://127.0.0.1:8080"]));
        Assert.NotNull(WebhookAddress.Problem(ReminderChannel.WeCom, "http://127.0.0.1:9090/cgi-bin/webhook/send?key=k", ["http://127.0.0.1:8080"]));
    }

    [Fact]
    public void The_escalation_cutoff_is_the_configured_hours_before_now_and_zero_has_none()
    {
        var now = Clock.GetUtcNow();
        Assert.Equal(now.AddHours(-24), TaskReminders.EscalateDueBefore(24, now));
        Assert.Equal(now.AddHours(-1), TaskReminders.EscalateDueBefore(1, now));
        Assert.Null(TaskReminders.EscalateDueBefore(0, now));
    }

    [Fact]
    public void Escalation_waits_the_configured_hours_past_due_and_zero_turns_it_off()
    {
        var clock = new FakeTimeProvider(Clock.GetUtcNow());
        var due = clock.GetUtcNow();
        clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        Assert.False(TaskReminders.EscalationDue(due, open: true, escalated: false, 24, clock.GetUtcNow()));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(TaskReminders.EscalationDue(due, open: true, escalated: false, 24, clock.GetUtcNow()));
        Assert.False(TaskReminders.EscalationDue(due, open: true, escalated: true, 24, clock.GetUtcNow()));
        Assert.False(TaskReminders.EscalationDue(due, open: false, escalated: false, 24, clock.GetUtcNow()));
        Assert.False(TaskReminders.EscalationDue(due, open: true, escalated: false, 0, clock.GetUtcNow()));
        Assert.True(TaskReminders.EscalationDue(due, open: true, escalated: false, 1, clock.GetUtcNow()));
    }

    [Fact]
    public void Escalation_goes_to_the_owners_manager_else_to_the_nearest_team_above_with_managers_never_to_the_owner()
    {
        Guid rep = Guid.NewGuid(), own = Guid.NewGuid(), east = Guid.NewGuid(), eastOne = Guid.NewGuid(), root = Guid.NewGuid();
        Guid eastManager = Guid.NewGuid(), secondEastManager = Guid.NewGuid(), director = Guid.NewGuid();
        var parents = new Dictionary<Guid, Guid?> { [eastOne] = east, [east] = root, [root] = null };
        var managers = new[] { (east, eastManager), (east, secondEastManager), (root, director) }.ToLookup(m => m.Item1, m => m.Item2);

        Assert.Equal([own], TaskReminders.EscalateTo(rep, own, eastOne, parents, managers));
        Assert.Equal([eastManager, secondEastManager], TaskReminders.EscalateTo(rep, null, eastOne, parents, managers));
        // A manager's own overdue task goes up past their own team.
        Assert.Equal([secondEastManager], TaskReminders.EscalateTo(eastManager, null, east, parents, managers));
        // Nobody above the director: their overdue task stays with them rather than going back to them.
        Assert.Empty(TaskReminders.EscalateTo(director, null, root, parents, managers));
        // A manager set on the user who is the user themself does not count.
        Assert.Equal([eastManager, secondEastManager], TaskReminders.EscalateTo(rep, rep, eastOne, parents, managers));
        Assert.Empty(TaskReminders.EscalateTo(rep, null, null, parents, managers));
        // A loop in the team tree ends the walk rather than hanging it.
        var loop = new Dictionary<Guid, Guid?> { [eastOne] = east, [east] = eastOne };
        Assert.Empty(TaskReminders.EscalateTo(rep, null, eastOne, loop, Array.Empty<(Guid, Guid)>().ToLookup(m => m.Item1, m => m.Item2)));
    }

    [Theory]
    [InlineData("+8613800138000", "13800138000")]
    [InlineData("+85291234567", "+85291234567")]
    [InlineData(null, null)]
    [InlineData("", null)]
    public void Robots_mention_chinese_mobiles_in_national_form(string? e164, string? mention) =>
        Assert.Equal(mention, RobotMention.Of(e164));
}
