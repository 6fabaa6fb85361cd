using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Leads;

public abstract class CaptureTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static FormUrlEncodedContent Form(params (string, string)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2)));

    private static string UniqueMobile() => $"13{Random.Shared.Next(5, 10)}{Random.Shared.Next(10_000_000, 99_999_999)}";

    private Task<List<Lead>> LeadsOf(TestOrg org) =>
        app.InDbAsync(db => db.Leads.Where(l => l.OrganizationId == org.Id && l.ChannelId == org.Channel.Id && l.OwnerId == null && !l.Name!.Contains("unassigned")).ToListAsync());

    private Task<List<LeadTouch>> TouchesOf(Guid leadId) =>
        app.InDbAsync(db => db.LeadTouches.Where(t => t.LeadId == leadId).OrderBy(t => t.At).ThenBy(t => t.Id).ToListAsync());

    [Fact]
    public async Task A_json_submission_becomes_a_normalized_lead_with_channel_page_consent_and_raw_payload()
    {
        var org = await app.NewOrgAsync();
        var mobile = UniqueMobile();
        var response = await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Json($$"""
            {"fields":[{"name":"姓名","value":" 王  小明 "},{"name":"mobile","value":"+86 {{mobile[..3]}}-{{mobile[3..7]}}-{{mobile[7..]}}"},
                       {"name":"email","value":" Wang.XM@Example.CN "},{"name":"utm_campaign","value":"双十一"},{"name":"favourite_colour","value":"blue"} ],
             "context":{"pageUri":"https://www.example.cn/landing","ipAddress":"203.0.113.9"},
             "legalConsentOptions":{"consent":{"consentToProcess":true,"text":"我同意隐私政策"} } }
            """));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("{\"accepted\":true}", await response.Content.ReadAsStringAsync());

        var lead = Assert.Single(await LeadsOf(org));
        Assert.Equal("王 小明", lead.Name);
        Assert.Equal("+86" + mobile, lead.Mobile);
        Assert.Equal("wang.xm@example.cn", lead.Email);
        Assert.Equal(LeadStatus.New, lead.Status);
        Assert.Equal("官网", lead.SourceTag);
        Assert.Equal("双十一", lead.Campaign);
        Assert.Equal("https://www.example.cn/landing", lead.PageUrl);
        Assert.Equal("我同意隐私政策", lead.ConsentText);
        Assert.Contains("favourite_colour", lead.RawPayload, StringComparison.Ordinal);
        Assert.Equal("203.0.113.9", Assert.Single(await TouchesOf(lead.Id)).Ip);

        var view = await (await app.As(org.Admin).GetAsync($"/api/leads/{lead.Id}")).ReadAsync<LeadView>();
        Assert.Equal("arrival", Assert.Single(view.Timeline).Kind);
    }

    [Fact]
    public async Task A_form_post_redirects_only_to_allowed_domains_and_is_kept_either_way()
    {
        var org = await app.NewOrgAsync();
        var allowed = await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}",
            Form(("name", "李雷"), ("phone", UniqueMobile()), ("_return", "https://www.example.cn/thanks")));
        Assert.Equal(HttpStatusCode.SeeOther, allowed.StatusCode);
        Assert.Equal("https://www.example.cn/thanks", allowed.Headers.Location?.OriginalString);

        var elsewhere = await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}",
            Form(("name", "韩梅梅"), ("phone", UniqueMobile()), ("_return", "https://evil.example.com/phish")));
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.Contains("提交成功", await elsewhere.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var leads = await LeadsOf(org);
        Assert.Equal(2, leads.Count);
        // The form as posted, readable in the timeline: Chinese as text, not \u escapes.
        Assert.Contains(leads, l => l.RawPayload!.Contains("\"name\":\"韩梅梅\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_same_person_again_in_another_format_is_a_touch_on_the_existing_lead_not_a_new_one()
    {
        var org = await app.NewOrgAsync();
        var mobile = UniqueMobile();
        await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", "张三"), ("mobile", mobile)));
        var again = await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Json($$"""{"name":"张三","mobile":"0086 {{mobile}}"}"""));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);

        var lead = Assert.Single(await LeadsOf(org));
        Assert.Equal(["arrival", "duplicate"], (await TouchesOf(lead.Id)).Select(t => t.Kind));
    }

    [Fact]
    public async Task A_submission_matching_a_customer_is_a_touch_on_that_customer()
    {
        var org = await app.NewOrgAsync();
        var mobile = UniqueMobile();
        var customer = await (await app.As(org.RepA).PostJson("/api/customers", new { name = "老客户", mobile })).ReadAsync<Tideflow.Web.Features.Customers.CustomerRow>();
        await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", "老客户"), ("mobile", "+86 " + mobile)));
        Assert.Empty(await LeadsOf(org));
        var touch = Assert.Single(await app.InDbAsync(db => db.LeadTouches.Where(t => t.CustomerId == customer.Id).ToListAsync()));
        Assert.Equal("duplicate", touch.Kind);

        // The owner hears of it; nobody else does.
        var inbox = await (await app.As(org.RepA).GetAsync("/api/notifications")).ReadAsync<Tideflow.Web.Features.Notifications.Inbox>();
        Assert.Equal(2, inbox.Unread);
        Assert.Contains(inbox.Items, n => n.Kind == "contact-returned" && n.Parameters["name"] == "老客户" && n.Parameters["channel"] == "官网表单");
        var other = await (await app.As(org.RepB).GetAsync("/api/notifications")).ReadAsync<Tideflow.Web.Features.Notifications.Inbox>();
        Assert.Equal(0, other.Unread);
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_or_an_identical_payload_creates_one_lead()
    {
        var org = await app.NewOrgAsync();
        var client = app.Anonymous();
        var body = $$"""{"name":"重试","mobile":"{{UniqueMobile()}}"}""";
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/capture/{org.Channel.Key}") { Content = Json(body) };
            request.Headers.Add("Idempotency-Key", "order-42");
            Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(request)).StatusCode);
        }
        var other = $$"""{"name":"无键重试","email":"{{Guid.NewGuid():N}}@example.cn"}""";
        await client.PostAsync($"/capture/{org.Channel.Key}", Json(other));
        await client.PostAsync($"/capture/{org.Channel.Key}", Json(other));

        var leads = await LeadsOf(org);
        Assert.Equal(2, leads.Count);
        Assert.All(leads, l => Assert.Single(TouchesOf(l.Id).Result));
    }

    [Fact]
    public async Task Identical_submissions_at_the_same_instant_create_exactly_one_lead()
    {
        var org = await app.NewOrgAsync();
        var mobile = UniqueMobile();
        var client = app.Anonymous();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            client.PostAsync($"/capture/{org.Channel.Key}", Json($$"""{"name":"并发{{i}}","mobile":"{{mobile}}"}"""))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var lead = Assert.Single(await LeadsOf(org));
        Assert.Equal(10, (await TouchesOf(lead.Id)).Count);
    }

    [Fact]
    public async Task Submissions_written_together_are_judged_in_arrival_order_as_if_each_came_alone()
    {
        app.SkipIfUnavailable();
        // Its own node: this test moves the clock.
        await using var node = app.SecondNode();
        var org = await TestOrg.CreateAsync(node.Services);
        var known = UniqueMobile();
        await node.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", "老线索"), ("mobile", known)));
        var existing = Assert.Single(await LeadsOf(org));
        var (first, second) = (UniqueMobile(), UniqueMobile());
        static Submission Sent(string name, string mobile, string? key = null, string ip = "203.0.113.9") =>
            new(new Dictionary<string, string> { ["name"] = name, ["mobile"] = mobile }, null, ip, null, key, false, $$"""{"name":"{{name}}"}""");

        node.Clock.Advance(TimeSpan.FromMinutes(1));
        IReadOnlyList<CaptureResult> results;
        await using (var scope = node.Services.CreateAsyncScope())
        {
            // What the group commit hands over when these arrive within one write.
            results = await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(org.Channel,
            [
                Sent("新客", first, key: "order-1", ip: "203.0.113.1"),
                Sent("新客", "+86 " + first, ip: "203.0.113.2"),
                Sent("别人", second, key: "order-1"),
                Sent("老线索", "0086" + known),
                Sent("新客", first),
                Sent("号码不对", "12345"),
            ]);
        }

        Assert.Equal([CaptureOutcome.Created, CaptureOutcome.Touched, CaptureOutcome.Repeated, CaptureOutcome.Touched, CaptureOutcome.Repeated,
            CaptureOutcome.Created], results.Select(r => r.Outcome));
        var created = results[0].LeadId!.Value;
        Assert.Equal([created, created, created, existing.Id, created], results.Take(5).Select(r => r.LeadId!.Value));
        // A batch's touches share its instant; the lead's timeline still shows its arrival as the oldest.
        Assert.Equal(["arrival", "duplicate"], (await TouchesOf(created)).Select(t => t.Kind).Order());
        var shown = await (await node.As(org.ManagerA).GetAsync($"/api/leads/{created}")).ReadAsync<LeadView>();
        Assert.Equal(["duplicate", "arrival"], shown.Timeline.Select(t => t.Kind));
        Assert.Equal(["arrival", "duplicate"], (await TouchesOf(existing.Id)).Select(t => t.Kind));
        var leads = await LeadsOf(org);
        Assert.Equal(3, leads.Count);
        Assert.Equal(LeadStatus.Invalid, leads.Single(l => l.Id == results[5].LeadId).Status);
        Assert.Equal(existing.UpdatedAt + TimeSpan.FromMinutes(1), leads.Single(l => l.Id == existing.Id).UpdatedAt);
        // One audit entry per submission that wrote something (the first lead's included), with its sender's address.
        var audit = await app.InDbAsync(db => db.AuditEntries.Where(a => a.OrganizationId == org.Id && a.Action == "capture")
            .Select(a => new { a.EntityId, a.Ip }).ToListAsync());
        Assert.Equal(5, audit.Count);
        Assert.Contains(audit, a => a.EntityId == created.ToString() && a.Ip == "203.0.113.1");
        Assert.Contains(audit, a => a.EntityId == created.ToString() && a.Ip == "203.0.113.2");
    }

    [Fact]
    public async Task Invalid_contacts_are_kept_marked_with_the_reason_and_listed_for_review()
    {
        var org = await app.NewOrgAsync();
        var client = app.Anonymous();
        await client.PostAsync($"/capture/{org.Channel.Key}", Form(("name", "假号码"), ("mobile", "12345")));
        await client.PostAsync($"/capture/{org.Channel.Key}", Form(("name", "无联系方式")));
        await client.PostAsync($"/capture/{org.Channel.Key}", Form(("name", "黑名单"), ("email", "x@mailinator.com")));
        await client.PostAsync($"/capture/{org.Channel.Key}", Form(("name", "机器人"), ("mobile", UniqueMobile()), ("_hp", "http://spam")));

        var leads = (await LeadsOf(org)).ToDictionary(l => l.Name!);
        Assert.All(leads.Values, l => Assert.Equal(LeadStatus.Invalid, l.Status));
        Assert.Equal("NoContact,InvalidMobile", leads["假号码"].Problems);
        Assert.Equal("12345", leads["假号码"].Mobile);
        Assert.Equal("NoContact", leads["无联系方式"].Problems);
        Assert.Contains("Blocklisted", leads["黑名单"].Problems, StringComparison.Ordinal);
        Assert.Contains("Honeypot", leads["机器人"].Problems, StringComparison.Ordinal);

        var queue = await (await app.As(org.ManagerA).GetAsync("/api/leads?status=Invalid")).ReadAsync<Page<LeadRow>>();
        Assert.Equal(4, queue.Total);

        var fixedLead = await (await app.As(org.ManagerA).PutJson($"/api/leads/{leads["假号码"].Id}", new { name = "假号码", mobile = UniqueMobile() })).ReadAsync<LeadView>();
        Assert.Equal(LeadStatus.New, fixedLead.Lead.Status);
        Assert.Null(fixedLead.Lead.Problems);
    }

    [Fact]
    public async Task Over_the_daily_cap_a_lead_is_queued_for_review_not_dropped()
    {
        var org = await app.NewOrgAsync();
        // The organisation already has 3 leads on this channel today: 2 more fit under a cap of 5.
        await (await app.As(org.Admin).PutJson($"/api/channels/{org.Channel.Id}", new { name = "官网表单", kind = "WebForm", sourceTag = "官网", allowedDomains = "example.cn", dailyCap = 5 })).ReadAsync<ChannelRow>();
        for (var i = 0; i < 3; i++)
        {
            await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", $"客{i}"), ("mobile", UniqueMobile())));
        }
        var statuses = (await LeadsOf(org)).OrderBy(l => l.Name).Select(l => l.Status).ToList();
        Assert.Equal([LeadStatus.New, LeadStatus.New, LeadStatus.Queued], statuses);
    }

    [Fact]
    public async Task The_daily_cap_starts_again_at_midnight_in_the_channels_time_zone_not_in_UTC()
    {
        var org = await app.NewOrgAsync();
        await using var node = app.SecondNode();
        // 15:50 UTC is 23:50 in Shanghai: ten minutes before the cap's day ends there, eight hours before UTC's does. A day
        // later than the next such evening, so the leads a new organisation starts with arrived on an earlier day in both.
        var now = node.Clock.GetUtcNow();
        var evening = new DateTimeOffset(now.UtcDateTime.Date.AddHours(15).AddMinutes(50), TimeSpan.Zero);
        node.Clock.SetUtcNow((evening > now ? evening : evening.AddDays(1)).AddDays(1));
        var channel = await (await node.As(org.Admin).PutJson($"/api/channels/{org.Channel.Id}",
            new { name = "官网表单", kind = "WebForm", sourceTag = "官网", allowedDomains = "example.cn", dailyCap = 2 })).ReadAsync<ChannelRow>();
        Assert.Equal("Asia/Shanghai", channel.CapTimeZone);
        async Task<List<LeadStatus>> SendAsync(string day)
        {
            for (var i = 0; i < 3; i++)
            {
                (await node.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", $"{day}{i}"), ("mobile", UniqueMobile())))).EnsureSuccessStatusCode();
            }
            return (await LeadsOf(org)).Where(l => l.Name!.StartsWith(day, StringComparison.Ordinal)).OrderBy(l => l.Name).Select(l => l.Status).ToList();
        }
        Assert.Equal([LeadStatus.New, LeadStatus.New, LeadStatus.Queued], await SendAsync("昨天"));

        // 00:10 in Shanghai: a new day there, still the same day in UTC.
        node.Clock.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal([LeadStatus.New, LeadStatus.New, LeadStatus.Queued], await SendAsync("今天"));
        string Day(DateTimeOffset at) =>
            Tideflow.Web.Shared.UserTime.Local(at, "Asia/Shanghai").ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + "@Asia/Shanghai";
        // Each day its own count (a queued lead counts too: it came in that day).
        Assert.Equal([(Day(node.Clock.GetUtcNow().AddDays(-1)), 3), (Day(node.Clock.GetUtcNow()), 3)], await ChannelDaysAsync());

        // Counted in UTC instead, the same channel has taken six leads today: the next one waits for review.
        channel = await (await node.As(org.Admin).PutJson($"/api/channels/{org.Channel.Id}",
            new { name = "官网表单", kind = "WebForm", sourceTag = "官网", allowedDomains = "example.cn", dailyCap = 6, capTimeZone = "UTC" })).ReadAsync<ChannelRow>();
        Assert.Equal("UTC", channel.CapTimeZone);
        Assert.Equal([LeadStatus.Queued, LeadStatus.Queued, LeadStatus.Queued], await SendAsync("协调世界时"));

        // The UTC day's first batch dropped the Shanghai days' counts; a day's first batch keeps the day before's (a node
        // whose clock is a moment behind at midnight still counts it) and drops older ones.
        var utcDay = node.Clock.GetUtcNow().UtcDateTime.Date;
        Assert.Equal([($"{utcDay:yyyy-MM-dd}@UTC", 9)], await ChannelDaysAsync());
        node.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal([LeadStatus.New, LeadStatus.New, LeadStatus.New], await SendAsync("明天"));
        Assert.Equal([($"{utcDay:yyyy-MM-dd}@UTC", 9), ($"{utcDay.AddDays(1):yyyy-MM-dd}@UTC", 3)], await ChannelDaysAsync());
        node.Clock.Advance(TimeSpan.FromDays(1));
        await SendAsync("后天");
        Assert.Equal([($"{utcDay.AddDays(1):yyyy-MM-dd}@UTC", 3), ($"{utcDay.AddDays(2):yyyy-MM-dd}@UTC", 3)], await ChannelDaysAsync());

        // A Windows name is taken and kept as the IANA name every node knows.
        channel = await (await node.As(org.Admin).PutJson($"/api/channels/{org.Channel.Id}",
            new { name = "官网表单", kind = "WebForm", sourceTag = "官网", dailyCap = 6, capTimeZone = "China Standard Time" })).ReadAsync<ChannelRow>();
        Assert.Equal("Asia/Shanghai", channel.CapTimeZone);
        var refused = await node.As(org.Admin).PutJson($"/api/channels/{org.Channel.Id}",
            new { name = "官网表单", kind = "WebForm", sourceTag = "官网", dailyCap = 6, capTimeZone = "Mars/Olympus" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("capTimeZone", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Task<List<(string, int)>> ChannelDaysAsync() => app.InDbAsync(async db =>
            (await db.ChannelDays.Where(d => d.ChannelId == org.Channel.Id).ToListAsync()).Select(d => (d.Day, d.Count)).OrderBy(d => d.Day).ToList());
    }

    [Fact]
    public async Task A_twin_written_by_another_writer_between_a_batch_reading_and_writing_makes_the_batch_start_again_and_touch_it()
    {
        var org = await app.NewOrgAsync();
        var (twinMobile, otherMobile) = (UniqueMobile(), UniqueMobile());
        static Submission Sent(string name, string mobile) =>
            new(new Dictionary<string, string> { ["name"] = name, ["mobile"] = mobile }, null, "203.0.113.8", null, null, false, $$"""{"name":"{{name}}","m":"{{mobile}}"}""");
        // The batch has looked for its contacts and found none; before it writes, the same mobile arrives on the other
        // writer and is written first, so the batch's contact key meets a unique violation.
        TideflowApp? node = null;
        var twin = new AfterContactKeyRead(async () =>
        {
            await using var scope = node!.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(org.Channel, [Sent("另一个写入者收到的", twinMobile)]);
        });
        await using var started = node = app.SecondNode(interceptor: twin);

        IReadOnlyList<CaptureResult> results;
        await using (var scope = node.Services.CreateAsyncScope())
        {
            twin.Arm();
            results = await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(org.Channel,
                [Sent("本批收到的", twinMobile), Sent("别的客户", otherMobile)]);
        }

        Assert.True(twin.Fired);
        Assert.Equal([CaptureOutcome.Touched, CaptureOutcome.Created], results.Select(r => r.Outcome));
        var leads = await LeadsOf(org);
        var written = Assert.Single(leads, l => l.Mobile == "+86" + twinMobile);
        Assert.Equal("另一个写入者收到的", written.Name);
        Assert.Equal(written.Id, results[0].LeadId);
        Assert.Equal(["arrival", "duplicate"], (await TouchesOf(written.Id)).Select(t => t.Kind));
        Assert.Single(leads, l => l.Mobile == "+86" + otherMobile);
        Assert.Equal(2, leads.Count);
    }

    [Fact]
    public async Task Batches_written_at_the_same_moment_on_a_capped_channel_take_exactly_the_places_left()
    {
        var org = await app.NewOrgAsync();
        // The organisation's 3 leads of today leave 5 places under a cap of 8.
        var channel = await (await app.As(org.Admin).PutJson($"/api/channels/{org.Channel.Id}", new { name = "官网表单", kind = "WebForm", sourceTag = "官网", allowedDomains = "example.cn", dailyCap = 8 })).ReadAsync<ChannelRow>();
        var stored = await app.InDbAsync(db => db.Channels.IgnoreQueryFilters().AsNoTracking().SingleAsync(c => c.Id == channel.Id));
        static Submission Sent(string name) =>
            new(new Dictionary<string, string> { ["name"] = name, ["mobile"] = UniqueMobile() }, null, "203.0.113.7", null, null, false, $$"""{"name":"{{name}}"}""");

        // Six batches of three at once, as two writers on each of three nodes would hand them over.
        using var start = new SemaphoreSlim(0);
        var batches = Enumerable.Range(0, 6).Select(async b =>
        {
            await start.WaitAsync();
            await using var scope = app.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(stored, [Sent($"批{b}-1"), Sent($"批{b}-2"), Sent($"批{b}-3")]);
        }).ToList();
        start.Release(batches.Count);
        Assert.All((await Task.WhenAll(batches)).SelectMany(r => r), r => Assert.Equal(CaptureOutcome.Created, r.Outcome));

        var statuses = (await LeadsOf(org)).Select(l => l.Status).ToList();
        Assert.Equal(18, statuses.Count);
        Assert.Equal(5, statuses.Count(s => s == LeadStatus.New));
        Assert.Equal(13, statuses.Count(s => s == LeadStatus.Queued));
        Assert.Equal(21, await app.InDbAsync(db => db.ChannelDays.IgnoreQueryFilters().Where(d => d.ChannelId == channel.Id).SumAsync(d => d.Count)));
    }

    [Fact]
    public async Task The_last_place_taken_on_another_node_while_a_capped_batch_is_judged_makes_the_batch_judge_again_and_queue()
    {
        var org = await app.NewOrgAsync();
        // The organisation's 3 leads of today leave one place under a cap of 4.
        var channel = await (await app.As(org.Admin).PutJson($"/api/channels/{org.Channel.Id}", new { name = "官网表单", kind = "WebForm", sourceTag = "官网", allowedDomains = "example.cn", dailyCap = 4 })).ReadAsync<ChannelRow>();
        var stored = await app.InDbAsync(db => db.Channels.IgnoreQueryFilters().AsNoTracking().SingleAsync(c => c.Id == channel.Id));
        static Submission Sent(string name) =>
            new(new Dictionary<string, string> { ["name"] = name, ["mobile"] = UniqueMobile() }, null, "203.0.113.6", null, null, false, $$"""{"name":"{{name}}"}""");
        TideflowApp? node = null;
        var other = new AfterContactKeyRead(async () =>
        {
            await using var scope = node!.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(stored, [Sent("另一台先到的")]);
        });
        await using var started = node = app.SecondNode(interceptor: other);

        await using (var scope = node.Services.CreateAsyncScope())
        {
            other.Arm();
            await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(stored, [Sent("本批的")]);
        }

        Assert.True(other.Fired);
        var leads = (await LeadsOf(org)).ToDictionary(l => l.Name!, l => l.Status);
        Assert.Equal(LeadStatus.New, leads["另一台先到的"]);
        Assert.Equal(LeadStatus.Queued, leads["本批的"]);
    }

    [Fact]
    public async Task A_wrong_key_is_401_and_audited_a_huge_body_413_and_broken_json_400_with_the_position()
    {
        var org = await app.NewOrgAsync();
        var client = app.Anonymous();
        var wrong = await client.PostAsync("/capture/not-a-key", Form(("name", "x"), ("mobile", UniqueMobile())));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.True(await app.InDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "capture-rejected")));

        var huge = await client.PostAsync($"/capture/{org.Channel.Key}", Json($$"""{"name":"{{new string('x', CaptureEndpoint.MaxBodyBytes)}}"}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);

        var broken = await client.PostAsync($"/capture/{org.Channel.Key}", Json("{\"name\": \"x\",, }"));
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Contains("line 1", (await broken.JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await LeadsOf(org));
    }

    [Fact]
    public async Task Tagging_rules_stamp_tags_on_arrival_and_the_list_filters_by_them()
    {
        var org = await app.NewOrgAsync();
        var rule = await app.As(org.Admin).PostJson("/api/tag-rules", new
        {
            name = "展会来的", tag = "展会客户", conditions = new[] { new { field = "sourceTag", @operator = "Equals", value = "官网" } },
        });
        Assert.Equal(HttpStatusCode.Created, rule.StatusCode);
        var refused = await app.As(org.Admin).PostJson("/api/tag-rules", new
        {
            name = "坏规则", tag = "x", conditions = new[] { new { field = "budget", @operator = "GreaterOrEqual", value = "很多" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("坏规则", (await refused.JsonAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", "大客户"), ("mobile", UniqueMobile()), ("industry", "制造业"), ("budget", "80万")));
        await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", "小客户"), ("mobile", UniqueMobile()), ("industry", "制造业"), ("budget", "5万")));
        var leads = (await LeadsOf(org)).ToDictionary(l => l.Name!);
        Assert.Equal("高潜力,展会客户", leads["大客户"].Tags);
        Assert.Equal("展会客户", leads["小客户"].Tags);

        var filtered = await (await app.As(org.Admin).GetAsync($"/api/leads?tag={Uri.EscapeDataString("高潜力")}")).ReadAsync<Page<LeadRow>>();
        Assert.Equal(["大客户"], filtered.Items.Select(l => l.Name));
    }

    [Fact]
    public async Task Overlong_public_input_is_kept_clipped_not_refused_by_the_database()
    {
        var org = await app.NewOrgAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/capture/{org.Channel.Key}")
        {
            Content = Form(("name", new string('名', 500)), ("company", new string('司', 900)), ("mobile", UniqueMobile())),
        };
        request.Headers.Add("Idempotency-Key", new string('k', 1000));
        Assert.Equal(HttpStatusCode.OK, (await app.Anonymous().SendAsync(request)).StatusCode);
        var lead = Assert.Single(await LeadsOf(org));
        Assert.Equal(100, lead.Name!.Length);
        Assert.Equal(200, lead.Company!.Length);
    }

    [Fact]
    public async Task Markup_in_a_field_is_stored_as_text()
    {
        var org = await app.NewOrgAsync();
        await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", "<script>alert(1)</script>"), ("mobile", UniqueMobile())));
        Assert.Equal("<script>alert(1)</script>", Assert.Single(await LeadsOf(org)).Name);
    }

    [Fact]
    public async Task Too_many_submissions_from_one_address_get_429_with_retry_after()
    {
        app.SkipIfUnavailable();
        await using var node = app.SecondNode(new Dictionary<string, string> { ["Capture:PerIpPerMinute"] = "3" });
        var org = await TestOrg.CreateAsync(node.Services);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 5; i++)
        {
            last = await node.Anonymous().PostAsync($"/capture/{org.Channel.Key}", Form(("name", $"限流{i}"), ("mobile", UniqueMobile())));
            statuses.Add(last.StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        Assert.True(int.Parse(last!.Headers.RetryAfter!.ToString(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }
}

public sealed class CaptureTests_Sqlite(SqliteApp app) : CaptureTests<SqliteApp>(app);
public sealed class CaptureTests_Postgres(PostgresApp app) : CaptureTests<PostgresApp>(app);
