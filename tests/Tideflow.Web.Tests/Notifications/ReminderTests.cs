using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Domain.Notifications;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Notifications;

/// <summary>
/// Reminders end to end (R5.5): a task falls due → the owner hears in the app, by email (a local SMTP receiver) and on
/// DingTalk (signature checked) and WeCom robots (a local HTTP receiver); overdue → the manager hears; failures retry.
/// Each test runs its own node, so it can move that node's clock.
/// </summary>
public abstract class ReminderTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static readonly string RepMobile = "+8613800138000";

    private async Task<(TideflowApp Node, TestOrg Org)> NodeAsync(RobotReceiver robots, SmtpReceiver? smtp = null)
    {
        app.SkipIfUnavailable();
        var node = app.SecondNode(new Dictionary<string, string> { ["Reminders:WebhookOrigins:0"] = robots.Origin });
        robots.Clock = node.Clock;
        var org = await TestOrg.CreateAsync(node.Services);
        await node.InDbAsync(async db =>
        {
            await db.Users.Where(u => u.Id == org.RepA.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.Email, "repa@example.com").SetProperty(x => x.PhoneNumber, RepMobile));
            return 0;
        });
        if (smtp is not null)
        {
            Assert.Equal(HttpStatusCode.OK, (await node.As(org.Admin).PutJson("/api/reminders/settings", new
            {
                escalateAfterHours = 24, appUrl = "https://crm.example.com/", smtpHost = "127.0.0.1", smtpPort = smtp.Port,
                smtpSecurity = "None", fromAddress = "crm@example.com", fromName = "Tideflow",
            })).StatusCode);
        }
        return (node, org);
    }

    private static async Task<Guid> TaskDueTomorrowAsync(TideflowApp node, TestOrg org)
    {
        var customer = org.CustomersOf[org.RepA.Id][0];
        Assert.Equal(HttpStatusCode.Created, (await node.As(org.RepA).PostJson($"/api/customers/{customer}/follow-ups", new
        {
            channel = "Phone", content = "客户说明天再聊", nextPlan = "明天电话确认需求", nextContactAt = node.Clock.GetUtcNow().AddDays(1),
        })).StatusCode);
        return await node.InDbAsync(db => db.FollowUpTasks.Where(t => t.CustomerId == customer && t.ClosedAt == null && t.Kind == TaskKinds.NextContact)
            .Select(t => t.Id).SingleAsync());
    }

    private static async Task<string> RunRemindersAsync(TideflowApp node, TestOrg org)
    {
        await using var scope = node.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        return await scope.ServiceProvider.GetRequiredService<TaskReminderJob>().RunAsync(node.Clock.GetUtcNow(), org.Id, default);
    }

    private static async Task<DeliveryRound> DeliverAsync(TideflowApp node)
    {
        await using var scope = node.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        return await scope.ServiceProvider.GetRequiredService<DeliverNotifications>().DeliverDueAsync(default);
    }

    private static Task<List<NotificationDelivery>> DeliveriesOfAsync(TideflowApp node, Guid user) =>
        node.InDbAsync(db => db.NotificationDeliveries.Where(d => d.RecipientId == user).OrderBy(d => d.Channel).ToListAsync());

    private static Task<List<Notification>> NotificationsOfAsync(TideflowApp node, Guid user) =>
        node.InDbAsync(db => db.Notifications.Where(n => n.RecipientId == user).OrderBy(n => n.CreatedAt).ToListAsync());

    private static object AllChannels(RobotReceiver robots) => new
    {
        email = true, dingTalk = true, weCom = true,
        dingTalkWebhook = robots.DingTalkWebhook, dingTalkSecret = robots.DingTalkSecret, weComWebhook = robots.WeComWebhook,
    };

    [Fact]
    public async Task A_due_task_reaches_its_owner_in_the_app_by_email_and_on_both_robots_once()
    {
        await using var robots = await RobotReceiver.StartAsync();
        await using var smtp = SmtpReceiver.Start();
        var (node, org) = await NodeAsync(robots, smtp);
        await using var _ = node;
        var saved = await node.As(org.RepA).PutJson("/api/me/reminders", AllChannels(robots));
        var body = await saved.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        // The addresses are credentials: never sent back, stored encrypted.
        Assert.DoesNotContain("test-token", body);
        Assert.DoesNotContain(robots.DingTalkSecret, body);
        var stored = await node.InDbAsync(db => db.ReminderPreferences.SingleAsync(p => p.UserId == org.RepA.Id));
        Assert.DoesNotContain("test-token", stored.DingTalkWebhook);
        Assert.DoesNotContain(robots.DingTalkSecret, stored.DingTalkSecret);

        await TaskDueTomorrowAsync(node, org);
        Assert.Equal("reminded 0, escalated 0", await RunRemindersAsync(node, org));
        node.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal("reminded 1, escalated 0", await RunRemindersAsync(node, org));
        var due = Assert.Single(await NotificationsOfAsync(node, org.RepA.Id), n => n.Kind == NotificationKinds.TaskDue);
        var customer = org.CustomersOf[org.RepA.Id][0];
        Assert.Equal($"/customers/{customer}", due.Link);
        Assert.Equal(3, (await DeliveriesOfAsync(node, org.RepA.Id)).Count(d => d.State == DeliveryState.Pending));

        Assert.Equal(new DeliveryRound(3, 0, 0), await DeliverAsync(node));
        var name = org.CustomerNames[customer];
        var ding = Assert.Single(robots.Received, m => m.Robot == "dingtalk");
        Assert.Contains($"任务到期：{name}", ding.Content);
        Assert.Contains($"https://crm.example.com/customers/{customer}", ding.Content);
        // Robots @-mention by the number the user has in DingTalk/WeCom: national form for +86.
        Assert.Equal(["13800138000"], ding.Mentions);
        Assert.Contains("@13800138000", ding.Content);
        var wecom = Assert.Single(robots.Received, m => m.Robot == "wecom");
        Assert.Contains(name, wecom.Content);
        Assert.Equal(["13800138000"], wecom.Mentions);
        var mail = Assert.Single(smtp.Received);
        Assert.Equal("repa@example.com", mail.To.Mailboxes.Single().Address);
        Assert.Equal("crm@example.com", mail.From.Mailboxes.Single().Address);
        Assert.Contains("任务到期", mail.Subject);
        Assert.Contains($"https://crm.example.com/customers/{customer}", mail.TextBody);
        Assert.All(await DeliveriesOfAsync(node, org.RepA.Id), d => Assert.Equal((DeliveryState.Sent, 1), (d.State, d.Attempts)));

        // Once: the next rounds find nothing new to remind or send.
        node.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("reminded 0, escalated 0", await RunRemindersAsync(node, org));
        Assert.Equal(new DeliveryRound(0, 0, 0), await DeliverAsync(node));
        Assert.Equal(2, robots.Received.Count);
        Assert.Single(smtp.Received);
        Assert.Empty(robots.Refused);

        var list = await (await node.As(org.Admin).GetAsync("/api/reminders/deliveries")).ReadAsync<DeliveryList>();
        Assert.Equal((0, 0), (list.Pending, list.Failed));
        Assert.Equal(3, list.Items.Count(d => d.State == DeliveryState.Sent && d.Kind == NotificationKinds.TaskDue));
    }

    [Fact]
    public async Task An_overdue_task_goes_to_the_reps_manager_after_the_threshold_with_the_reps_reason()
    {
        await using var robots = await RobotReceiver.StartAsync();
        var (node, org) = await NodeAsync(robots);
        await using var _ = node;
        var task = await TaskDueTomorrowAsync(node, org);
        node.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal("reminded 1, escalated 0", await RunRemindersAsync(node, org));

        // Only the owner explains; a manager who can see the task cannot, one who cannot gets 404.
        Assert.Equal(HttpStatusCode.Forbidden, (await node.As(org.ManagerA).PostJson($"/api/tasks/{task}/not-done", new { reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await node.As(org.RepB).PostJson($"/api/tasks/{task}/not-done", new { reason = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await node.As(org.RepA).PostJson($"/api/tasks/{task}/not-done", new { reason = "  " })).StatusCode);
        var explained = await (await node.As(org.RepA).PostJson($"/api/tasks/{task}/not-done", new { reason = "客户出差" })).ReadAsync<TaskRow>();
        Assert.Equal("客户出差", explained.NotDoneReason);

        node.Clock.Advance(TimeSpan.FromHours(23) + TimeSpan.FromMinutes(59));
        Assert.Equal("reminded 0, escalated 0", await RunRemindersAsync(node, org));
        node.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("reminded 0, escalated 1", await RunRemindersAsync(node, org));
        // RepA's own manager field is empty; their team (A1) has no manager; team A above it has managerA.
        var escalation = Assert.Single(await NotificationsOfAsync(node, org.ManagerA.Id));
        Assert.Equal(NotificationKinds.TaskOverdueExplained, escalation.Kind);
        var parameters = JsonSerializer.Deserialize<Dictionary<string, string>>(escalation.Parameters!)!;
        Assert.Equal(("24", "客户出差", org.CustomerNames[org.CustomersOf[org.RepA.Id][0]]), (parameters["hours"], parameters["reason"], parameters["subject"]));
        Assert.Empty(await NotificationsOfAsync(node, org.ManagerB.Id));
        Assert.Empty(await NotificationsOfAsync(node, org.Admin.Id));
        Assert.Equal("reminded 0, escalated 0", await RunRemindersAsync(node, org));

        // A reason given after the escalation reaches the manager who heard of it.
        await node.As(org.RepA).PostJson($"/api/tasks/{task}/not-done", new { reason = "需补充方案" });
        var followUp = Assert.Single(await NotificationsOfAsync(node, org.ManagerA.Id), n => n.Kind == NotificationKinds.TaskExplained);
        Assert.Equal("需补充方案", JsonSerializer.Deserialize<Dictionary<string, string>>(followUp.Parameters!)!["reason"]);

        // Closed by the follow-up it asked for: nothing more to explain.
        await node.As(org.RepA).PostJson($"/api/customers/{org.CustomersOf[org.RepA.Id][0]}/follow-ups", new
        {
            channel = "Phone", content = "已电话确认", nextPlan = "下周报价", nextContactAt = node.Clock.GetUtcNow().AddDays(7),
        });
        Assert.Equal(HttpStatusCode.Conflict, (await node.As(org.RepA).PostJson($"/api/tasks/{task}/not-done", new { reason = "晚了" })).StatusCode);
    }

    [Fact]
    public async Task A_failing_robot_is_retried_with_backoff_then_marked_failed_and_an_admin_can_send_it_again()
    {
        await using var robots = await RobotReceiver.StartAsync();
        var (node, org) = await NodeAsync(robots);
        await using var _ = node;
        Assert.Equal(HttpStatusCode.OK, (await node.As(org.RepA).PutJson("/api/me/reminders", new
        {
            email = false, dingTalk = true, weCom = false, dingTalkWebhook = robots.DingTalkWebhook, dingTalkSecret = robots.DingTalkSecret,
        })).StatusCode);
        await TaskDueTomorrowAsync(node, org);
        node.Clock.Advance(TimeSpan.FromDays(1));
        await RunRemindersAsync(node, org);

        robots.FailNext = 1000;
        Assert.Equal(new DeliveryRound(0, 1, 0), await DeliverAsync(node));
        var waits = new List<TimeSpan>();
        for (var attempt = 2; attempt <= DeliveryRetry.MaxAttempts; attempt++)
        {
            var d = Assert.Single(await DeliveriesOfAsync(node, org.RepA.Id));
            Assert.Equal((DeliveryState.Pending, attempt - 1), (d.State, d.Attempts));
            Assert.Contains("HTTP 500", d.LastError);
            // Not before its time.
            Assert.Equal(new DeliveryRound(0, 0, 0), await DeliverAsync(node));
            waits.Add(d.NextAttemptAt - node.Clock.GetUtcNow());
            node.Clock.SetUtcNow(d.NextAttemptAt);
            var round = await DeliverAsync(node);
            Assert.Equal(attempt == DeliveryRetry.MaxAttempts ? new DeliveryRound(0, 0, 1) : new DeliveryRound(0, 1, 0), round);
        }
        // Backoff grows: each wait longer than the one before.
        Assert.True(waits.Zip(waits.Skip(1)).All(w => w.Second > w.First), string.Join(", ", waits));
        var failed = Assert.Single(await DeliveriesOfAsync(node, org.RepA.Id));
        Assert.Equal((DeliveryState.Failed, DeliveryRetry.MaxAttempts), (failed.State, failed.Attempts));
        Assert.Empty(robots.Received);
        var admin = node.As(org.Admin);
        var list = await (await admin.GetAsync("/api/reminders/deliveries?state=Failed")).ReadAsync<DeliveryList>();
        Assert.Equal(1, list.Failed);
        Assert.Contains("HTTP 500", Assert.Single(list.Items).LastError);

        robots.FailNext = 0;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/reminders/deliveries/{failed.Id}/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync($"/api/reminders/deliveries/{failed.Id}/retry", null)).StatusCode);
        Assert.Equal(new DeliveryRound(1, 0, 0), await DeliverAsync(node));
        Assert.Single(robots.Received);
        Assert.Contains(await node.InDbAsync(db => db.AuditEntries.Where(a => a.OrganizationId == org.Id).Select(a => a.Action).ToListAsync()), a => a == "reminders.retry");
    }

    [Fact]
    public async Task A_wrong_dingtalk_secret_fails_at_once_and_the_test_button_says_why()
    {
        await using var robots = await RobotReceiver.StartAsync();
        var (node, org) = await NodeAsync(robots);
        await using var _ = node;
        var rep = node.As(org.RepA);
        Assert.Equal(HttpStatusCode.OK, (await rep.PutJson("/api/me/reminders", new
        {
            email = false, dingTalk = true, weCom = true, dingTalkWebhook = robots.DingTalkWebhook, dingTalkSecret = "SECwrong", weComWebhook = robots.WeComWebhook,
        })).StatusCode);
        var dingTalk = await (await rep.PostJson("/api/me/reminders/test", new { channel = "DingTalk" })).ReadAsync<TestReminderResult>();
        Assert.False(dingTalk.Delivered);
        Assert.Contains("310000", dingTalk.Error);
        var weCom = await (await rep.PostJson("/api/me/reminders/test", new { channel = "WeCom" })).ReadAsync<TestReminderResult>();
        Assert.True(weCom.Delivered, weCom.Error);
        Assert.Contains("测试提醒", Assert.Single(robots.Received).Content);

        // A refusal that retrying cannot fix is not retried for hours.
        await TaskDueTomorrowAsync(node, org);
        node.Clock.Advance(TimeSpan.FromDays(1));
        await RunRemindersAsync(node, org);
        Assert.Equal(new DeliveryRound(1, 0, 1), await DeliverAsync(node));
        var failed = Assert.Single(await DeliveriesOfAsync(node, org.RepA.Id), d => d.Channel == ReminderChannel.DingTalk);
        Assert.Equal((DeliveryState.Failed, 1), (failed.State, failed.Attempts));
        Assert.Contains("sign not match", failed.LastError);

        // Keeping the stored address (null) but fixing the secret makes the test pass.
        Assert.Equal(HttpStatusCode.OK, (await rep.PutJson("/api/me/reminders", new { email = false, dingTalk = true, weCom = true, dingTalkSecret = robots.DingTalkSecret })).StatusCode);
        Assert.True((await (await rep.PostJson("/api/me/reminders/test", new { channel = "DingTalk" })).ReadAsync<TestReminderResult>()).Delivered);
    }

    [Fact]
    public async Task Bad_reminder_set_ups_are_refused_naming_the_field()
    {
        await using var robots = await RobotReceiver.StartAsync();
        var (node, org) = await NodeAsync(robots);
        await using var _ = node;
        async Task<string> RefusedAsync(HttpClient client, string url, object body)
        {
            var response = await client.PutJson(url, body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return string.Join(",", (await response.JsonAsync()).GetProperty("errors").EnumerateObject().Select(p => p.Name));
        }

        var rep = node.As(org.RepB);
        Assert.Equal("email", await RefusedAsync(rep, "/api/me/reminders", new { email = true, dingTalk = false, weCom = false }));
        Assert.Equal("dingTalkWebhook", await RefusedAsync(rep, "/api/me/reminders", new { email = false, dingTalk = true, weCom = false }));
        // The app only calls robots where the admin allows: not an arbitrary host on the server's network.
        Assert.Equal("dingTalkWebhook", await RefusedAsync(rep, "/api/me/reminders",
            new { email = false, dingTalk = true, weCom = false, dingTalkWebhook = "http://10.0.0.5/robot/send?access_token=x" }));
        Assert.Equal("weComWebhook", await RefusedAsync(rep, "/api/me/reminders",
            new { email = false, dingTalk = false, weCom = true, weComWebhook = robots.Origin + "/cgi-bin/webhook/send" }));
        Assert.Equal("mobile", await RefusedAsync(rep, "/api/me/reminders", new { email = false, dingTalk = false, weCom = false, mobile = "12345" }));
        Assert.Null(await node.InDbAsync(db => db.ReminderPreferences.SingleOrDefaultAsync(p => p.UserId == org.RepB.Id)));
        // A mobile typed as people type it is stored in E.164 and shown back.
        var saved = await (await rep.PutJson("/api/me/reminders", new { email = false, dingTalk = false, weCom = false, mobile = "139 0013 9000" })).ReadAsync<ReminderChoiceView>();
        Assert.Equal("+8613900139000", saved.Mobile);

        var admin = node.As(org.Admin);
        Assert.Equal("fromAddress", await RefusedAsync(admin, "/api/reminders/settings", new { escalateAfterHours = 24, smtpHost = "smtp.example.com", smtpPort = 587, smtpSecurity = "StartTls" }));
        Assert.Equal("escalateAfterHours", await RefusedAsync(admin, "/api/reminders/settings", new { escalateAfterHours = -1, smtpPort = 587, smtpSecurity = "StartTls" }));
        Assert.Equal("appUrl", await RefusedAsync(admin, "/api/reminders/settings", new { escalateAfterHours = 24, appUrl = "crm", smtpPort = 587, smtpSecurity = "StartTls" }));
    }

    [Fact]
    public async Task Pool_warnings_and_reclaims_reach_the_owner_on_the_robot_they_chose()
    {
        await using var robots = await RobotReceiver.StartAsync();
        var (node, org) = await NodeAsync(robots);
        await using var _ = node;
        Assert.Equal(HttpStatusCode.OK, (await node.As(org.RepA).PutJson("/api/me/reminders", new
        {
            email = false, dingTalk = false, weCom = true, weComWebhook = robots.WeComWebhook,
        })).StatusCode);
        var (warned, reclaimed) = (org.CustomersOf[org.RepA.Id][0], org.CustomersOf[org.RepA.Id][1]);
        await node.InDbAsync(async db =>
        {
            // Under the default "no follow-up for 7 days": one a day from its due time, one past it.
            await db.Customers.Where(c => c.Id == warned).ExecuteUpdateAsync(c => c.SetProperty(x => x.AssignedAt, node.Clock.GetUtcNow().AddDays(-6.5)));
            return await db.Customers.Where(c => c.Id == reclaimed).ExecuteUpdateAsync(c => c.SetProperty(x => x.AssignedAt, node.Clock.GetUtcNow().AddDays(-30)));
        });
        await using (var scope = node.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
            await scope.ServiceProvider.GetRequiredService<Tideflow.Web.Features.Pool.ReclaimJob>().RunAsync(node.Clock.GetUtcNow(), org.Id, default);
        }
        Assert.Equal(new DeliveryRound(2, 0, 0), await DeliverAsync(node));
        var texts = robots.Received.Select(m => m.Content).ToList();
        Assert.Contains(texts, t => t.Contains(org.CustomerNames[warned], StringComparison.Ordinal) && t.Contains("回收", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains(org.CustomerNames[reclaimed], StringComparison.Ordinal) && t.Contains("公海", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_nodes_delivering_at_once_send_each_reminder_once()
    {
        await using var robots = await RobotReceiver.StartAsync();
        var (one, org) = await NodeAsync(robots);
        await using var _ = one;
        await using var two = app.SecondNode(new Dictionary<string, string> { ["Reminders:WebhookOrigins:0"] = robots.Origin });
        var now = new[] { one.Clock.GetUtcNow(), two.Clock.GetUtcNow() }.Max();
        one.Clock.SetUtcNow(now);
        two.Clock.SetUtcNow(now);
        Assert.Equal(HttpStatusCode.OK, (await one.As(org.RepA).PutJson("/api/me/reminders", new
        {
            email = false, dingTalk = true, weCom = true, dingTalkWebhook = robots.DingTalkWebhook, dingTalkSecret = robots.DingTalkSecret, weComWebhook = robots.WeComWebhook,
        })).StatusCode);
        const int count = 300;
        await one.InDbAsync(async db =>
        {
            for (var i = 0; i < count; i++)
            {
                Inboxes.Add(db, org.Id, org.RepA.Id, NotificationKinds.TaskDue, new { subject = $"客户 {i:D3}", task = "首次联系" }, "/", one.Clock.GetUtcNow());
            }
            return await db.SaveChangesAsync();
        });
        Assert.Equal(2 * count, (await DeliveriesOfAsync(one, org.RepA.Id)).Count);

        var rounds = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() => DeliverAsync(i % 2 == 0 ? one : two))));
        Assert.Equal(2 * count, rounds.Sum(r => r.Sent));
        Assert.Equal(2 * count, robots.Received.Count);
        Assert.Equal(2 * count, robots.Received.Select(m => (m.Robot, m.Content)).Distinct().Count());
        Assert.All(await DeliveriesOfAsync(one, org.RepA.Id), d => Assert.Equal((DeliveryState.Sent, 1), (d.State, d.Attempts)));
    }
}

public sealed class ReminderTests_Sqlite(SqliteApp app) : ReminderTests<SqliteApp>(app);
public sealed class ReminderTests_Postgres(PostgresApp app) : ReminderTests<PostgresApp>(app);
