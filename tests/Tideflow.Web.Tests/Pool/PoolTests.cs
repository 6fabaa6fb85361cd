using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Features.Pool;
using Tideflow.Web.Shared;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Pool;

public abstract class PoolTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static readonly Dictionary<string, string> NoScheduler = new() { ["Scheduler:Enabled"] = "false" };

    /// <summary>Customers put straight into the default pool, entered a day before now.</summary>
    private static async Task<List<Guid>> PooledAsync(TideflowApp node, TestOrg org, int count, Guid? previousOwner = null)
    {
        var now = node.Clock.GetUtcNow();
        return await node.InDbAsync(async db =>
        {
            var ids = new List<Guid>();
            for (var i = 0; i < count; i++)
            {
                var c = new Customer
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"公海客户 {i}", Mobile = $"+86138{Random.Shared.Next(10_000_000, 99_999_999)}",
                    PoolId = org.DefaultPool, PooledAt = now.AddDays(-1), PreviousOwnerId = previousOwner, Grade = "B",
                    CreatedAt = now.AddDays(-30), UpdatedAt = now.AddDays(-1),
                };
                db.Customers.Add(c);
                ids.Add(c.Id);
            }
            await db.SaveChangesAsync();
            return ids;
        });
    }

    private static Task<List<OwnershipRow>> HistoryAsync(TideflowApp node, Persona who, Guid customer) =>
        node.As(who).GetAsync($"/api/customers/{customer}/ownership").ContinueWith(t => t.Result.ReadAsync<List<OwnershipRow>>()).Unwrap();

    [Fact]
    public async Task A_rep_releases_with_a_reason_another_claims_from_the_pool_and_the_history_shows_both()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var repA = app.As(org.RepA);
        await repA.PutJson($"/api/customers/{customer}", new { name = org.CustomerNames[customer], mobile = "138 0013 8000" });

        var noReason = await repA.PostJson($"/api/customers/{customer}/release", new { note = "打了三次没人接" });
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("多次联系不上", (await noReason.JsonAsync()).GetProperty("errors").GetProperty("reason")[0].GetString());
        var unknownReason = await repA.PostJson($"/api/customers/{customer}/release", new { reason = "不想跟了" });
        Assert.Equal(HttpStatusCode.BadRequest, unknownReason.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await repA.PostJson($"/api/customers/{customer}/release", new { reason = "多次联系不上", note = "打了三次没人接" })).StatusCode);

        // Released: repA no longer works it (not even a follow-up), and it no longer counts among repA's customers.
        var followUp = await repA.PostJson($"/api/customers/{customer}/follow-ups", new { channel = "Phone", content = "再试一次", nextPlan = "明天", nextContactAt = app.Clock.GetUtcNow().AddDays(1) });
        Assert.Equal(HttpStatusCode.Conflict, followUp.StatusCode);
        Assert.DoesNotContain((await (await repA.GetAsync("/api/customers")).ReadAsync<Page<CustomerRow>>()).Items, c => c.Id == customer);

        var repB = app.As(org.RepB);
        var pools = await (await repB.GetAsync("/api/pools")).ReadAsync<List<PoolView>>();
        var pool = Assert.Single(pools);
        Assert.Equal((org.DefaultPool, true, 1), (pool.Id, pool.IsDefault, pool.Customers));
        var listed = Assert.Single((await (await repB.GetAsync($"/api/pools/{pool.Id}/customers?previousOwnerId={org.RepA.Id}")).ReadAsync<Page<PoolCustomerRow>>()).Items);
        Assert.Equal((customer, "+86138****8000", "多次联系不上: 打了三次没人接", org.RepA.Id), (listed.Id, listed.Mobile, listed.Reason, listed.PreviousOwnerId));
        Assert.Equal("+86138****8000", (await (await repB.GetAsync($"/api/customers/{customer}")).ReadAsync<CustomerRow>()).Mobile);

        var claimed = await (await repB.PostAsync($"/api/customers/{customer}/claim", null)).ReadAsync<ClaimResult>();
        Assert.Equal((1, 3), (claimed.ClaimedToday, claimed.DailyLimit));
        var mine = await (await repB.GetAsync($"/api/customers/{customer}")).ReadAsync<CustomerRow>();
        Assert.Equal((org.RepB.Id, "+8613800138000"), (mine.OwnerId, mine.Mobile));
        Assert.Equal((1, 3), await (await repB.GetAsync("/api/pools/my-claims")).ReadAsync<ClaimStatus>() is var s ? (s.ClaimedToday, s.DailyLimit) : default);

        var history = await HistoryAsync(app, org.RepB, customer);
        Assert.Equal((OwnershipEvent.Claimed, null, Pools.DefaultName), (history[0].Event, history[0].From, history[0].Pool));
        Assert.StartsWith("repB", history[0].To);
        Assert.Equal((OwnershipEvent.Released, "多次联系不上: 打了三次没人接", Pools.DefaultName), (history[1].Event, history[1].Reason, history[1].Pool));
        Assert.StartsWith("repA", history[1].From);
        Assert.StartsWith("repA", history[1].By);
        // The claim is one audit entry, the same on both databases (PostgreSQL writes it in the claim's one statement);
        // the history row and the first-contact task are its parts, not entries of their own.
        var (audit, task) = await app.InDbAsync(async db => (
            await db.AuditEntries.IgnoreQueryFilters().Where(a => a.ActorId == org.RepB.Id).ToListAsync(),
            await db.FollowUpTasks.IgnoreQueryFilters().SingleAsync(t => t.CustomerId == customer && t.OwnerId == org.RepB.Id)));
        Assert.DoesNotContain(audit, a => a.EntityType is nameof(OwnershipChange) or nameof(FollowUpTask));
        var claimEntry = Assert.Single(audit, a => a.EntityType != nameof(ClaimCount));
        Assert.Equal((AuditActions.Claim, "Customer", customer.ToString(), org.Id), (claimEntry.Action, claimEntry.EntityType, claimEntry.EntityId, claimEntry.OrganizationId));
        var changes = JsonDocument.Parse(claimEntry.Changes!).RootElement;
        Assert.Equal(org.RepB.Id, changes.GetProperty("OwnerId")[1].GetGuid());
        Assert.Equal(org.DefaultPool, changes.GetProperty("PoolId")[0].GetGuid());
        Assert.Equal(claimed.FirstContactDue, changes.GetProperty("FirstContactDue")[1].GetDateTimeOffset());
        Assert.Equal(TaskKinds.FirstContact, task.Kind);
        // PostgreSQL keeps microseconds.
        Assert.Equal(claimed.FirstContactDue, task.DueAt, TimeSpan.FromMicroseconds(1));

        // A manager returns repB's customer: the manager is the actor, repB the previous owner, and repB is told.
        Assert.Equal(HttpStatusCode.NoContent, (await app.As(org.ManagerB).PostJson($"/api/customers/{customer}/release", new { reason = "客户暂无需求" })).StatusCode);
        history = await HistoryAsync(app, org.Admin, customer);
        Assert.Equal(OwnershipEvent.Released, history[0].Event);
        Assert.StartsWith("repB", history[0].From);
        Assert.StartsWith("managerB", history[0].By);
        var inbox = await (await repB.GetAsync("/api/notifications")).ReadAsync<Tideflow.Web.Features.Notifications.Inbox>();
        Assert.Contains(inbox.Items, n => n.Kind == "customer-released");

        // repA let it go, so the cool-down keeps repA from taking it straight back.
        var again = await repA.PostAsync($"/api/customers/{customer}/claim", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("之后才能再次领取", (await again.JsonAsync()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Of_ten_reps_claiming_the_same_customer_at_once_exactly_one_wins_and_the_others_are_told_it_was_just_taken()
    {
        var org = await app.NewOrgAsync();
        var reps = await TestOrg.AddRepsAsync(app.Services, org.Id, org.TeamB, 10);
        var customer = (await PooledAsync(app, org, 1))[0];
        using var start = new SemaphoreSlim(0);
        var claims = reps.Select(async r =>
        {
            var client = app.As(r);
            await start.WaitAsync();
            var response = await client.PostAsync($"/api/customers/{customer}/claim", null);
            return (response.StatusCode, Body: await response.JsonAsync());
        }).ToList();
        start.Release(reps.Count);
        var results = await Task.WhenAll(claims);
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        var losers = results.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        Assert.All(losers, l => Assert.Equal(HttpStatusCode.Conflict, l.StatusCode));
        Assert.All(losers, l => Assert.Contains("刚刚领取了该客户", l.Body.GetProperty("detail").GetString()));
        var (owner, events) = await app.InDbAsync(async db => (
            await db.Customers.Where(c => c.Id == customer).Select(c => c.OwnerId).SingleAsync(),
            await db.OwnershipChanges.CountAsync(o => o.CustomerId == customer && o.Event == OwnershipEvent.Claimed)));
        Assert.Contains(owner!.Value, reps.Select(r => r.Id));
        Assert.Equal(1, events);
    }

    [Fact]
    public async Task A_rep_firing_ten_claims_at_once_with_a_limit_of_three_gets_exactly_three()
    {
        var org = await app.NewOrgAsync();
        var rep = (await TestOrg.AddRepsAsync(app.Services, org.Id, org.TeamB, 1))[0];
        var customers = await PooledAsync(app, org, 10);
        var client = app.As(rep);
        using var start = new SemaphoreSlim(0);
        var claims = customers.Select(async c =>
        {
            await start.WaitAsync();
            var response = await client.PostAsync($"/api/customers/{c}/claim", null);
            return (response.StatusCode, Body: await response.JsonAsync());
        }).ToList();
        start.Release(customers.Count);
        var results = await Task.WhenAll(claims);
        Assert.Equal(3, results.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Contains("今日已领取 3/3", r.Body.GetProperty("detail").GetString());
        });
        Assert.Equal(3, await app.InDbAsync(db => db.Customers.CountAsync(c => c.OwnerId == rep.Id)));
    }

    [Fact]
    public async Task A_rep_at_the_held_cap_is_refused_with_the_cap_and_the_refusal_does_not_count_against_the_day()
    {
        var org = await app.NewOrgAsync();
        var reps = await TestOrg.AddRepsAsync(app.Services, org.Id, org.TeamB, 2);
        var customers = await PooledAsync(app, org, 5);
        // The pool caps holdings at 2; the second rep's own capacity is 1, and the smaller cap applies.
        await app.InDbAsync(async db =>
        {
            var pool = await db.Pools.IgnoreQueryFilters().SingleAsync(p => p.Id == org.DefaultPool);
            pool.Settings = PoolSettingsJson.Write(PoolSettingsJson.Read(pool.Settings) with { MaxHeld = 2, DailyClaimLimit = 10 });
            (await db.Users.IgnoreQueryFilters().SingleAsync(u => u.Id == reps[1].Id)).Capacity = 1;
            return await db.SaveChangesAsync();
        });

        var first = app.As(reps[0]);
        Assert.Equal(HttpStatusCode.OK, (await first.PostAsync($"/api/customers/{customers[0]}/claim", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await first.PostAsync($"/api/customers/{customers[1]}/claim", null)).StatusCode);
        var refused = await first.PostAsync($"/api/customers/{customers[2]}/claim", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("你已持有 2 个客户，达到上限 2", (await refused.JsonAsync()).GetProperty("detail").GetString());
        var status = await (await first.GetAsync("/api/pools/my-claims")).ReadAsync<ClaimStatus>();
        Assert.Equal((2, 2, 2), (status.ClaimedToday, status.Held, status.HeldCap));

        var second = app.As(reps[1]);
        Assert.Equal(HttpStatusCode.OK, (await second.PostAsync($"/api/customers/{customers[3]}/claim", null)).StatusCode);
        var capped = await second.PostAsync($"/api/customers/{customers[4]}/claim", null);
        Assert.Equal(HttpStatusCode.Conflict, capped.StatusCode);
        Assert.Contains("你已持有 1 个客户，达到上限 1", (await capped.JsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(1, (await (await second.GetAsync("/api/pools/my-claims")).ReadAsync<ClaimStatus>()).ClaimedToday);
        // Both refused customers are still in the pool, unowned.
        Assert.Equal(2, await app.InDbAsync(db => db.Customers.IgnoreQueryFilters()
            .CountAsync(c => (c.Id == customers[2] || c.Id == customers[4]) && c.OwnerId == null && c.PoolId == org.DefaultPool)));
    }

    [Fact]
    public async Task A_rep_one_below_the_held_cap_firing_ten_claims_at_once_gets_exactly_one()
    {
        var org = await app.NewOrgAsync();
        var rep = (await TestOrg.AddRepsAsync(app.Services, org.Id, org.TeamB, 1))[0];
        var customers = await PooledAsync(app, org, 11);
        await app.InDbAsync(async db =>
        {
            (await db.Users.IgnoreQueryFilters().SingleAsync(u => u.Id == rep.Id)).Capacity = 2;
            return await db.SaveChangesAsync();
        });
        var client = app.As(rep);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/api/customers/{customers[0]}/claim", null)).StatusCode);

        // Each claim's count of holdings must see the others' takes: with a stale count several would pass. On
        // PostgreSQL the rep's counter is held locked until all ten wait for it, so every one of them has begun when the
        // first goes ahead (SQLite runs one writer at a time, so there a claim always counts after the last one's take).
        await using var holder = app.Provider == "Sqlite" ? null : new Npgsql.NpgsqlConnection(app.ConnectionString);
        await using var held = holder is null ? null : await LockCounterAsync(holder, rep.Id);
        using var start = new SemaphoreSlim(0);
        var claims = customers.Skip(1).Select(async c =>
        {
            await start.WaitAsync();
            var response = await client.PostAsync($"/api/customers/{c}/claim", null);
            return (response.StatusCode, Body: await response.JsonAsync());
        }).ToList();
        start.Release(claims.Count);
        if (holder is not null)
        {
            await WaitForLockWaitersAsync(app.ConnectionString, holder.ProcessID, claims.Count);
            await held!.CommitAsync();
        }
        var results = await Task.WhenAll(claims);
        Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Contains("你已持有 2 个客户，达到上限 2", r.Body.GetProperty("detail").GetString());
        });
        Assert.Equal((2, 2), await app.InDbAsync(async db => (
            await db.Customers.IgnoreQueryFilters().CountAsync(c => c.OwnerId == rep.Id),
            await db.ClaimCounts.IgnoreQueryFilters().Where(c => c.UserId == rep.Id).SumAsync(c => c.Count))));
    }

    private static async Task<Npgsql.NpgsqlTransaction> LockCounterAsync(Npgsql.NpgsqlConnection connection, Guid rep)
    {
        await connection.OpenAsync();
        var tx = await connection.BeginTransactionAsync();
        await using var command = new Npgsql.NpgsqlCommand("""SELECT 1 FROM "ClaimCounts" WHERE "UserId" = $1 FOR UPDATE""", connection, tx);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = rep });
        Assert.Equal(1, await command.ExecuteScalarAsync());
        return tx;
    }

    /// <summary>
    /// Until this many sessions wait, directly or queued behind each other, on the holder's lock. From a connection of its
    /// own (inside a transaction PostgreSQL keeps showing its first view of pg_stat_activity); only the holder's waiters
    /// count, as other test classes share the database.
    /// </summary>
    private static async Task WaitForLockWaitersAsync(string connectionString, int holder, int count)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        await using var command = new Npgsql.NpgsqlCommand("""
            WITH RECURSIVE waiting(pid) AS (
                SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))
                UNION
                SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY (pg_blocking_pids(a.pid))
            )
            SELECT count(*) FROM waiting
            """, connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = holder });
        while ((long)(await command.ExecuteScalarAsync())! < count)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"fewer than {count} claims came to wait for the rep's counter");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_pool_saved_by_another_admin_since_the_editor_opened_it_is_not_overwritten()
    {
        var org = await app.NewOrgAsync();
        var admin = app.As(org.Admin);
        var opened = (await (await admin.GetAsync("/api/pools")).ReadAsync<List<PoolView>>()).Single(p => p.Id == org.DefaultPool);

        var first = await admin.PutJson($"/api/pools/{org.DefaultPool}", new
        {
            name = opened.Name, teamIds = opened.TeamIds, settings = opened.Settings with { DailyClaimLimit = 5 }, version = opened.Version,
        });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var saved = await first.ReadAsync<PoolView>();
        Assert.Equal(opened.Version + 1, saved.Version);

        // The second editor still holds the version it opened: refused, and the first save stands.
        var stale = await admin.PutJson($"/api/pools/{org.DefaultPool}", new
        {
            name = opened.Name, teamIds = opened.TeamIds, settings = opened.Settings with { CooldownHours = 1 }, version = opened.Version,
        });
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Contains("Someone else saved this pool", (await stale.JsonAsync()).GetProperty("detail").GetString());
        var now = (await (await admin.GetAsync("/api/pools")).ReadAsync<List<PoolView>>()).Single(p => p.Id == org.DefaultPool);
        Assert.Equal((5, opened.Settings.CooldownHours, saved.Version), (now.Settings.DailyClaimLimit, now.Settings.CooldownHours, now.Version));

        // From the newer version it goes through; without a version the save applies to what is stored.
        Assert.Equal(HttpStatusCode.OK, (await admin.PutJson($"/api/pools/{org.DefaultPool}", new
        {
            name = now.Name, teamIds = now.TeamIds, settings = now.Settings with { CooldownHours = 1 }, version = now.Version,
        })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutJson($"/api/pools/{org.DefaultPool}", new
        {
            name = now.Name, teamIds = now.TeamIds, settings = now.Settings with { CooldownHours = 2 },
        })).StatusCode);
        var last = (await (await admin.GetAsync("/api/pools")).ReadAsync<List<PoolView>>()).Single(p => p.Id == org.DefaultPool);
        Assert.Equal((2, now.Version + 2), (last.Settings.CooldownHours, last.Version));
    }

    [Fact]
    public async Task Pool_saves_without_a_version_at_the_same_instant_all_land_one_after_another()
    {
        var org = await app.NewOrgAsync();
        var admin = app.As(org.Admin);
        var opened = (await (await admin.GetAsync("/api/pools")).ReadAsync<List<PoolView>>()).Single(p => p.Id == org.DefaultPool);
        using var start = new SemaphoreSlim(0);
        var saves = Enumerable.Range(1, 4).Select(async i =>
        {
            await start.WaitAsync();
            return (await admin.PutJson($"/api/pools/{org.DefaultPool}", new
            {
                name = opened.Name, teamIds = opened.TeamIds, settings = opened.Settings with { CooldownHours = i },
            })).StatusCode;
        }).ToList();
        start.Release(saves.Count);
        Assert.All(await Task.WhenAll(saves), c => Assert.Equal(HttpStatusCode.OK, c));
        var last = (await (await admin.GetAsync("/api/pools")).ReadAsync<List<PoolView>>()).Single(p => p.Id == org.DefaultPool);
        Assert.Equal(opened.Version + 4, last.Version);
    }

    [Fact]
    public async Task Pools_have_member_teams_and_a_rep_cannot_claim_from_a_pool_they_are_not_in()
    {
        var org = await app.NewOrgAsync();
        var admin = app.As(org.Admin);
        var noTeams = await admin.PostJson("/api/pools", new { name = "空公海", teamIds = Array.Empty<Guid>() });
        Assert.Equal(HttpStatusCode.BadRequest, noTeams.StatusCode);
        Assert.True((await noTeams.JsonAsync()).GetProperty("errors").TryGetProperty("teamIds", out _));
        var badRules = await admin.PostJson("/api/pools", new
        {
            name = "华南公海", teamIds = new[] { org.TeamB },
            settings = new { rules = new[] { new { when = "NoFollowUp", amount = 0 } }, releaseReasons = new[] { "其他" } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, badRules.StatusCode);
        Assert.Contains("at least 1", (await badRules.JsonAsync()).GetProperty("errors").GetProperty("settings.rules[0].amount")[0].GetString());

        var south = await (await admin.PostJson("/api/pools", new
        {
            name = "华南公海", teamIds = new[] { org.TeamB },
            settings = PoolSettings.Default with { DailyClaimLimit = 5, Rules = [new ReclaimRule(ReclaimWhen.NoFollowUp, 7, ByGrade: new Dictionary<string, int> { ["A"] = 15, ["C"] = 3 })] },
        })).ReadAsync<PoolView>();
        Assert.Equal((5, 3), (south.Settings.DailyClaimLimit, south.Settings.Rules[0].ByGrade!["C"]));
        var taken = await admin.PostJson("/api/pools", new { name = "另一个", teamIds = new[] { org.TeamB } });
        Assert.Contains("already in 华南公海", (await taken.JsonAsync()).GetProperty("errors").GetProperty("teamIds")[0].GetString());

        // repB's customer goes back to repB's team's pool; repA (team A1, default pool) may not claim it there.
        var customer = org.CustomersOf[org.RepB.Id][0];
        Assert.Equal(HttpStatusCode.NoContent, (await app.As(org.RepB).PostJson($"/api/customers/{customer}/release", new { reason = "预算不足" })).StatusCode);
        Assert.Equal(south.Id, await app.InDbAsync(db => db.Customers.Where(c => c.Id == customer).Select(c => c.PoolId).SingleAsync()));
        var forbidden = await app.As(org.RepA).PostAsync($"/api/customers/{customer}/claim", null);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Contains("华南公海", (await forbidden.JsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.RepA).GetAsync($"/api/pools/{south.Id}/customers")).StatusCode);
        Assert.DoesNotContain(await (await app.As(org.RepA).GetAsync("/api/pools")).ReadAsync<List<PoolView>>(), p => p.Id == south.Id);

        // A customer someone owns is not claimable: 409 naming the owner.
        var owned = await app.As(org.ManagerB).PostAsync($"/api/customers/{org.CustomersOf[org.RepB.Id][1]}/claim", null);
        Assert.Equal(HttpStatusCode.Conflict, owned.StatusCode);
        Assert.Contains("repB", (await owned.JsonAsync()).GetProperty("detail").GetString());

        // A manager assigns straight from the pool, past the limits; the history says it came from the pool.
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.ManagerB).PostJson("/api/customers/assign", new { ids = new[] { customer }, ownerId = org.RepB.Id, reason = "重点客户回捞" })).StatusCode);
        var history = await HistoryAsync(app, org.RepB, customer);
        Assert.Equal((OwnershipEvent.AssignedFromPool, "华南公海"), (history[0].Event, history[0].Pool));
    }

    [Fact]
    public async Task The_scheduled_sweep_warns_the_day_before_then_reclaims_and_a_follow_up_keeps_a_customer()
    {
        app.SkipIfUnavailable();
        // Its own database: a week ahead, its sweep would reclaim other tests' customers under their feet.
        await using var node = app.IsolatedNode(new Dictionary<string, string>
            {
                ["Scheduler:Enabled"] = "true", ["Scheduler:TickSeconds"] = "60", ["Pool:SweepMinutes"] = "60",
                // A node can leave a job to the others (Scheduler:Skip); this one leaves the reminders, checked below.
                ["Scheduler:Skip:0"] = TaskReminderJob.Name,
            });
        var org = await TestOrg.CreateAsync(node.Services);
        var (neglected, kept) = (org.CustomersOf[org.RepA.Id][0], org.CustomersOf[org.RepA.Id][1]);

        async Task SweptAsync(Func<TideflowDbContext, Task<bool>> done)
        {
            // The scheduler's ticks run in the background: give them time.
            for (var i = 0; i < 600 && !await node.InDbAsync(done); i++)
            {
                await Task.Delay(100);
            }
            Assert.True(await node.InDbAsync(done), "the scheduler did not sweep");
        }

        node.Clock.Advance(TimeSpan.FromDays(5));
        Assert.Equal(HttpStatusCode.Created, (await node.As(org.RepA).PostJson($"/api/customers/{kept}/follow-ups",
            new { channel = "Phone", content = "电话沟通", nextPlan = "下周回访", nextContactAt = node.Clock.GetUtcNow().AddDays(7) })).StatusCode);
        node.Clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
        // Owners hear of a pool's warnings and reclaims once its sweep is through: wait for the message, not the row.
        await SweptAsync(db => db.Notifications.AnyAsync(n => n.RecipientId == org.RepA.Id && n.Kind == "reclaim-warning"));
        Assert.True(await node.InDbAsync(db => db.PoolWarnings.AnyAsync(w => w.CustomerId == neglected)));
        Assert.False(await node.InDbAsync(db => db.ScheduledJobs.AnyAsync(j => j.Name == TaskReminderJob.Name && j.LastStartedAt != null)), "the node skips reminders");
        var warning = await node.InDbAsync(db => db.Notifications.SingleAsync(n => n.RecipientId == org.RepA.Id && n.Kind == "reclaim-warning"));
        // The fake clock fires the scheduler's ticks as it passes them: the warning goes out once the window opens, 24 h before.
        Assert.Matches("\"left\":\"2[34]h\"", warning.Parameters);
        // The workbench's 即将回收: the neglected one, not the one called yesterday.
        var soon = await (await node.As(org.RepA).GetAsync("/api/pools/due-soon")).ReadAsync<List<DueSoonRow>>();
        Assert.Equal("no follow-up for 7 days", Assert.Single(soon, d => d.CustomerId == neglected).Reason);
        Assert.DoesNotContain(soon, d => d.CustomerId == kept);

        node.Clock.Advance(TimeSpan.FromDays(1));
        await SweptAsync(db => db.Notifications.AnyAsync(n => n.RecipientId == org.RepA.Id && n.Kind == "customer-reclaimed"));
        var (reclaimed, keptOwner) = await node.InDbAsync(async db => (
            await db.Customers.SingleAsync(c => c.Id == neglected), await db.Customers.Where(c => c.Id == kept).Select(c => c.OwnerId).SingleAsync()));
        Assert.Equal((org.DefaultPool, org.RepA.Id, "no follow-up for 7 days"), (reclaimed.PoolId, reclaimed.PreviousOwnerId, reclaimed.PoolReason));
        Assert.Equal(org.RepA.Id, keptOwner);
        var history = await HistoryAsync(node, org.Admin, neglected);
        Assert.Equal((OwnershipEvent.Reclaimed, "NoFollowUp", null), (history[0].Event, history[0].Rule, history[0].By));
        Assert.StartsWith("repA", history[0].From);
        Assert.Equal(1, await node.InDbAsync(db => db.Notifications.CountAsync(n => n.RecipientId == org.RepA.Id && n.Kind == "customer-reclaimed")));
        var jobs = await (await node.As(org.Admin).GetAsync("/api/jobs")).ReadAsync<List<Tideflow.Web.Shared.JobRow>>();
        var sweep = Assert.Single(jobs, j => j.Name == ReclaimJob.Name);
        Assert.False(sweep.LastFailed);
        Assert.StartsWith("reclaimed", sweep.LastResult);
    }

    [Fact]
    public async Task Two_nodes_sweeping_the_same_database_at_once_reclaim_each_customer_once_and_warn_once()
    {
        app.SkipIfUnavailable();
        await using var one = app.SecondNode(NoScheduler);
        await using var two = app.SecondNode(NoScheduler);
        one.Clock.SetUtcNow(two.Clock.GetUtcNow());
        var org = await TestOrg.CreateAsync(one.Services);
        var due = await one.InDbAsync(async db =>
        {
            var customers = await db.Customers.Where(c => c.OrganizationId == org.Id).ToListAsync();
            foreach (var c in customers)
            {
                c.AssignedAt = one.Clock.GetUtcNow().AddDays(-30);
            }
            // One is a day from its due time: it gets a warning.
            customers[0].AssignedAt = one.Clock.GetUtcNow().AddDays(-6.5);
            await db.SaveChangesAsync();
            return customers.Count - 1;
        });

        async Task<string> SweepAsync(TideflowApp node)
        {
            await using var scope = node.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
            return await scope.ServiceProvider.GetRequiredService<ReclaimJob>().RunAsync(node.Clock.GetUtcNow(), null, default);
        }
        await Task.WhenAll(SweepAsync(one), SweepAsync(two));

        var (events, reclaimNotes, warnings, warningNotes, pooled) = await one.InDbAsync(async db => (
            await db.OwnershipChanges.CountAsync(o => o.OrganizationId == org.Id && o.Event == OwnershipEvent.Reclaimed),
            // Each previous owner hears once per sweep chunk: one message per customer, or one digest naming how many.
            (await db.Notifications.Where(n => n.OrganizationId == org.Id && (n.Kind == "customer-reclaimed" || n.Kind == "customers-reclaimed"))
                .Select(n => n.Parameters).ToListAsync())
                .Sum(CustomersNamed),
            await db.PoolWarnings.CountAsync(w => w.OrganizationId == org.Id),
            await db.Notifications.CountAsync(n => n.OrganizationId == org.Id && n.Kind == "reclaim-warning"),
            await db.Customers.CountAsync(c => c.OrganizationId == org.Id && c.OwnerId == null)));
        Assert.Equal((due, due, 1, 1, due), (events, reclaimNotes, warnings, warningNotes, pooled));
    }

    /// <summary>How many customers a reclaim message tells of: one, or the count its digest names.</summary>
    private static int CustomersNamed(string? parameters) =>
        System.Text.Json.JsonDocument.Parse(parameters!).RootElement.TryGetProperty("count", out var n)
            ? int.Parse(n.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            : 1;

    /// <summary>Customers of one owner with the given assignment ages, added in one go.</summary>
    internal static Task<List<Guid>> OwnedAsync(TideflowApp node, TestOrg org, Guid owner, params double[] assignedDaysAgo)
    {
        var now = node.Clock.GetUtcNow();
        return node.InDbAsync(async db =>
        {
            var ids = new List<Guid>();
            foreach (var days in assignedDaysAgo)
            {
                var c = new Customer
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"扫描客户 {ids.Count} {days}", OwnerId = owner, Grade = "B",
                    AssignedAt = now.AddDays(-days), CreatedAt = now.AddDays(-days), UpdatedAt = now,
                };
                db.Customers.Add(c);
                ids.Add(c.Id);
            }
            await db.SaveChangesAsync();
            return ids;
        });
    }

    /// <summary>A pool for team B with these rules and the default pool's other settings, made by the admin.</summary>
    private static async Task<PoolView> TeamBPoolAsync(TideflowApp node, TestOrg org, string name, params ReclaimRule[] rules) =>
        await (await node.As(org.Admin).PostJson("/api/pools", new
        {
            name, teamIds = new[] { org.TeamB }, settings = PoolSettings.Default with { Rules = rules },
        })).ReadAsync<PoolView>();

    internal static async Task<string> SweepAsync(IServiceProvider services, DateTimeOffset now, Guid org)
    {
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        return await scope.ServiceProvider.GetRequiredService<ReclaimJob>().RunAsync(now, org, default);
    }

    [Fact]
    public async Task A_sweep_in_slices_and_batches_of_two_takes_every_due_customer_once_per_pool_and_each_owner_hears_once()
    {
        app.SkipIfUnavailable();
        await using var node = app.SecondNode(new Dictionary<string, string> { ["Scheduler:Enabled"] = "false", ["Pool:SweepSlice"] = "2", ["Pool:SweepBatch"] = "2" });
        var org = await TestOrg.CreateAsync(node.Services);
        var south = await TeamBPoolAsync(node, org, "华南公海", new ReclaimRule(ReclaimWhen.NoFollowUp, 3));
        // Default pool (repA): 7 days, warned a day before. 华南公海 (repB): 3 days, warned a day before.
        var a = await OwnedAsync(node, org, org.RepA.Id, 30, 8, 20, 6.5, 1, 9, 10, 2, 40);
        var b = await OwnedAsync(node, org, org.RepB.Id, 4, 2.5, 1, 5, 3.5);
        var (dueA, warnA, dueB, warnB) = (new[] { a[0], a[1], a[2], a[5], a[6], a[8] }, a[3], new[] { b[0], b[3], b[4] }, b[1]);
        var now = node.Clock.GetUtcNow();
        // A reclaim closes the customer's open tasks; a task already done, and one of a customer kept, stay as they were.
        var (open, done, kept) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        await node.InDbAsync(db =>
        {
            FollowUpTask NewTask(Guid id, Guid customer, DateTimeOffset? closedAt, string? reason) => new()
            {
                Id = id, OrganizationId = org.Id, OwnerId = org.RepA.Id, CustomerId = customer, Kind = TaskKinds.FirstContact,
                DueAt = now.AddDays(-5), CreatedAt = now.AddDays(-6), ClosedAt = closedAt, ClosedReason = reason,
            };
            db.FollowUpTasks.AddRange(NewTask(open, a[0], null, null), NewTask(done, a[1], Database.AsStored(now).AddDays(-3), "followed-up"), NewTask(kept, a[4], null, null));
            return db.SaveChangesAsync();
        });

        Assert.Equal("reclaimed 9, warned 2", await SweepAsync(node.Services, now, org.Id));
        // The same instant again (a second node, a retried run): nothing more.
        Assert.Equal("reclaimed 0, warned 0", await SweepAsync(node.Services, now, org.Id));

        var (pooled, history, warnings, notes, tasks) = await node.InDbAsync(async db => (
            await db.Customers.Where(c => c.OrganizationId == org.Id && c.OwnerId == null && c.PooledAt != null).Select(c => new { c.Id, c.PoolId, c.PreviousOwnerId }).ToListAsync(),
            await db.OwnershipChanges.Where(o => o.OrganizationId == org.Id && o.Event == OwnershipEvent.Reclaimed)
                .Select(o => new { o.CustomerId, o.PoolId, o.FromId, o.ToId, o.At, o.Rule }).ToListAsync(),
            await db.PoolWarnings.Where(w => w.OrganizationId == org.Id).Select(w => w.CustomerId).ToListAsync(),
            await db.Notifications.Where(n => n.OrganizationId == org.Id && n.Kind != "contact-returned").Select(n => new { n.RecipientId, n.Kind, n.Parameters }).ToListAsync(),
            await db.FollowUpTasks.Where(t => t.OrganizationId == org.Id && (t.Id == open || t.Id == done || t.Id == kept)).ToDictionaryAsync(t => t.Id)));
        Assert.Equal(dueA.Select(id => (id, org.DefaultPool, org.RepA.Id)).Concat(dueB.Select(id => (id, south.Id, org.RepB.Id))).Order(),
            pooled.Select(p => (p.Id, p.PoolId!.Value, p.PreviousOwnerId!.Value)).Order());
        Assert.Equal(pooled.Select(p => (p.Id, p.PoolId, p.PreviousOwnerId)).Order(), history.Select(h => (h.CustomerId!.Value, h.PoolId, h.FromId)).Order());
        var stamped = Database.AsStored(now);
        Assert.All(history, h => Assert.Equal((stamped, "NoFollowUp", (Guid?)null), (h.At, h.Rule, h.ToId)));
        Assert.Equal((stamped, "reclaimed"), (tasks[open].ClosedAt, tasks[open].ClosedReason));
        Assert.Equal((stamped.AddDays(-3), "followed-up"), (tasks[done].ClosedAt, tasks[done].ClosedReason));
        Assert.Equal((null, null), (tasks[kept].ClosedAt, tasks[kept].ClosedReason));
        Assert.Equal(new[] { warnA, warnB }.Order(), warnings.Order());
        // One digest per owner for the reclaims, one message for the warning — not one per slice.
        Assert.Equal(4, notes.Count);
        Assert.Contains("\"count\":\"6\"", Assert.Single(notes, n => n.RecipientId == org.RepA.Id && n.Kind == "customers-reclaimed").Parameters);
        Assert.Contains("\"count\":\"3\"", Assert.Single(notes, n => n.RecipientId == org.RepB.Id && n.Kind == "customers-reclaimed").Parameters);
        Assert.Single(notes, n => n.RecipientId == org.RepA.Id && n.Kind == "reclaim-warning");
        Assert.Single(notes, n => n.RecipientId == org.RepB.Id && n.Kind == "reclaim-warning");
    }

    /// <summary>
    /// A batch whose write fails stops the sweep: the job reports the failure, the batches already written stay written
    /// and their owner hears of them, the failed batch leaves nothing half done, and the next sweep takes the rest.
    /// Slices and batches of two over six due customers: on PostgreSQL three writers at once. A failed read (here the
    /// first slice's, before any batch) stops it too, with nothing written.
    /// </summary>
    [Theory]
    [InlineData("write")]
    [InlineData("read")]
    public async Task A_sweep_stopped_by_a_failure_keeps_what_it_wrote_tells_the_owner_and_the_next_sweep_takes_the_rest(string failing)
    {
        app.SkipIfUnavailable();
        // The second reclaim statement, or the first slice's read (on PostgreSQL six customers fit in one slice of pages).
        var failure = failing == "write"
            ? new FailOnce(IsReclaim, 2)
            : new FailOnce(c => c.CommandText.Contains("rowid >= @", StringComparison.Ordinal) || c.CommandText.Contains("ctid >= @", StringComparison.Ordinal), 1);
        await using var node = app.SecondNode(new Dictionary<string, string> { ["Scheduler:Enabled"] = "false", ["Pool:SweepSlice"] = "2", ["Pool:SweepBatch"] = "2" },
            failure);
        var org = await TestOrg.CreateAsync(node.Services);
        var due = await OwnedAsync(node, org, org.RepA.Id, 30, 20, 10, 9, 12, 15);
        var now = node.Clock.GetUtcNow();

        var stopped = await Assert.ThrowsAsync<InvalidOperationException>(() => SweepAsync(node.Services, now, org.Id));

        Assert.Contains(FailOnce.Message, stopped.Message);
        Task<(int Pooled, int History, int Told)> StateAsync() => node.InDbAsync(async db => (
            await db.Customers.CountAsync(c => due.Contains(c.Id) && c.OwnerId == null && c.PoolId != null),
            await db.OwnershipChanges.CountAsync(o => o.OrganizationId == org.Id && o.Event == OwnershipEvent.Reclaimed),
            // One message per owner and sweep: one customer's, or a digest naming how many.
            (await db.Notifications.Where(n => n.RecipientId == org.RepA.Id && (n.Kind == "customer-reclaimed" || n.Kind == "customers-reclaimed"))
                .Select(n => n.Parameters).ToListAsync())
                .Sum(CustomersNamed)));
        var (pooled, history, told) = await StateAsync();
        // The first reclaim statement committed; the failed one wrote nothing, and a failed read, nothing at all.
        Assert.InRange(pooled, failing == "write" ? 1 : 0, failing == "write" ? 5 : 0);
        Assert.Equal((pooled, pooled), (history, told));

        Assert.Equal($"reclaimed {6 - pooled}, warned 0", await SweepAsync(node.Services, now, org.Id));
        Assert.Equal((6, 6, 6), await StateAsync());
        Assert.Equal(6, await node.InDbAsync(db => db.OwnershipChanges.Where(o => o.OrganizationId == org.Id).Select(o => o.CustomerId).Distinct().CountAsync()));
    }

    /// <summary>Throws on the <paramref name="nth"/> reader command that matches, once; every other command runs.</summary>
    private sealed class FailOnce(Func<System.Data.Common.DbCommand, bool> matches, int nth) : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        public const string Message = "the test's failure";
        private int seen;

        public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default) =>
            matches(command) && Interlocked.Increment(ref seen) == nth ? throw new InvalidOperationException(Message) : ValueTask.FromResult(result);
    }

    [Fact]
    public async Task Customers_due_under_different_rules_in_one_batch_each_carry_their_own_rule_and_reason()
    {
        app.SkipIfUnavailable();
        await using var node = app.SecondNode(NoScheduler);
        var org = await TestOrg.CreateAsync(node.Services);
        var south = await TeamBPoolAsync(node, org, "华南公海",
            new ReclaimRule(ReclaimWhen.NoFollowUp, 3), new ReclaimRule(ReclaimWhen.FirstContactMissed, 48, PeriodUnit.Hours));
        // Assigned 10 days ago and never followed up; claimed 3 days ago (assigned a day ago) and never contacted.
        var (silent, unreached) = await OwnedAsync(node, org, org.RepB.Id, 10, 1) is var ids ? (ids[0], ids[1]) : default;
        var now = node.Clock.GetUtcNow();
        await node.InDbAsync(db => db.Customers.Where(c => c.Id == unreached).ExecuteUpdateAsync(c => c.SetProperty(x => x.ClaimedAt, now.AddDays(-3))));

        Assert.Equal("reclaimed 2, warned 0", await SweepAsync(node.Services, now, org.Id));

        var (customers, history) = await node.InDbAsync(async db => (
            await db.Customers.Where(c => c.Id == silent || c.Id == unreached).ToDictionaryAsync(c => c.Id, c => (c.PoolId, c.PoolReason)),
            await db.OwnershipChanges.Where(o => o.CustomerId == silent || o.CustomerId == unreached).ToDictionaryAsync(o => o.CustomerId!.Value, o => (o.Rule, o.Reason))));
        Assert.Equal(("NoFollowUp", customers[silent].PoolReason), history[silent]);
        Assert.Equal(("FirstContactMissed", customers[unreached].PoolReason), history[unreached]);
        Assert.NotEqual(customers[silent].PoolReason, customers[unreached].PoolReason);
        Assert.All(customers.Values, c => Assert.Equal(south.Id, c.PoolId));
    }

    [Fact]
    public async Task A_won_customer_whose_contract_ended_unrenewed_comes_back_and_a_renewed_one_stays()
    {
        app.SkipIfUnavailable();
        await using var node = app.SecondNode(NoScheduler);
        var org = await TestOrg.CreateAsync(node.Services);
        var south = await TeamBPoolAsync(node, org, "续约公海", new ReclaimRule(ReclaimWhen.ContractEnded, 30));
        var now = node.Clock.GetUtcNow();
        var (lapsed, renewed, open) = await OwnedAsync(node, org, org.RepB.Id, 400, 400, 400) is var ids ? (ids[0], ids[1], ids[2]) : default;
        await node.InDbAsync(db => db.Customers.Where(c => c.Id == lapsed || c.Id == renewed).ExecuteUpdateAsync(c => c.SetProperty(x => x.Stage, "won")));
        // The rep enters the last day of each contract, in their own day (Asia/Shanghai).
        var today = DateOnly.FromDateTime(UserTime.Local(now, "Asia/Shanghai"));
        var rep = node.As(org.RepB);
        var saved = await (await rep.PutJson($"/api/customers/{lapsed}", new { name = "合同到期客户", contractEndsOn = today.AddDays(-30) })).ReadAsync<CustomerRow>();
        Assert.Equal(today.AddDays(-30), saved.ContractEndsOn);
        foreach (var ends in new[] { today.AddDays(-30), today.AddDays(335) })
        {
            Assert.Equal(HttpStatusCode.OK, (await rep.PutJson($"/api/customers/{renewed}", new { name = "已续约客户", contractEndsOn = ends })).StatusCode);
        }
        foreach (var far in new[] { "1899-12-31", today.AddYears(11).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) })
        {
            var bad = await rep.PutJson($"/api/customers/{open}", new { name = "未签约", contractEndsOn = far });
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("contractEndsOn", await bad.Content.ReadAsStringAsync());
        }
        // A save that does not send the day keeps it (clients written before it existed); clearing is explicit.
        Assert.Equal(HttpStatusCode.OK, (await rep.PutJson($"/api/customers/{open}", new { name = "未签约", contractEndsOn = today })).StatusCode);
        Assert.Equal(today, (await (await rep.PutJson($"/api/customers/{open}", new { name = "未签约 改名" })).ReadAsync<CustomerRow>()).ContractEndsOn);
        Assert.Null((await (await rep.PutJson($"/api/customers/{open}", new { name = "未签约", clearContractEndsOn = true })).ReadAsync<CustomerRow>()).ContractEndsOn);
        Assert.Null(await node.InDbAsync(db => db.Customers.Where(c => c.Id == open).Select(c => c.ContractEndsAt).SingleAsync()));
        // Over when its last day is over where the rep works: the next midnight in Shanghai, 16:00 UTC.
        var endsAt = await node.InDbAsync(db => db.Customers.Where(c => c.Id == lapsed).Select(c => c.ContractEndsAt).SingleAsync());
        Assert.Equal(UserTime.StartOfDay(today.AddDays(-29).ToDateTime(TimeOnly.MinValue), "Asia/Shanghai"), endsAt);
        Assert.Equal(16, endsAt!.Value.UtcDateTime.Hour);

        // Due 30 days after that midnight, warned the day before (the pool's 24 h warning).
        var due = endsAt.Value.AddDays(30);
        Assert.Equal("reclaimed 0, warned 0", await SweepAsync(node.Services, due.AddHours(-25), org.Id));
        Assert.Equal("reclaimed 0, warned 1", await SweepAsync(node.Services, due.AddHours(-12), org.Id));
        Assert.Equal("reclaimed 1, warned 0", await SweepAsync(node.Services, due, org.Id));
        var (taken, kept) = await node.InDbAsync(async db => (
            await db.Customers.SingleAsync(c => c.Id == lapsed), await db.Customers.Where(c => c.Id == renewed || c.Id == open).Select(c => c.OwnerId).ToListAsync()));
        Assert.Equal((south.Id, org.RepB.Id, "contract ended 30 days ago, not renewed"), (taken.PoolId!.Value, taken.PreviousOwnerId!.Value, taken.PoolReason));
        Assert.All(kept, owner => Assert.Equal(org.RepB.Id, owner));
        var history = await HistoryAsync(node, org.Admin, lapsed);
        Assert.Equal((OwnershipEvent.Reclaimed, "ContractEnded"), (history[0].Event, history[0].Rule));
    }

    [Fact]
    public async Task A_customer_followed_up_between_the_pick_and_the_reclaim_stays_with_its_rep()
    {
        app.SkipIfUnavailable();
        var org = await app.NewOrgAsync();
        var due = await OwnedAsync(app, org, org.RepA.Id, 30, 20, 10);
        var called = (await OwnedAsync(app, org, org.RepA.Id, 1))[0];
        var now = app.Clock.GetUtcNow();
        await app.InDbAsync(db => db.Customers.Where(c => c.Id == called).ExecuteUpdateAsync(c => c.SetProperty(x => x.LastFollowUpAt, now.AddHours(-1))));
        // The rep's follow-up lands after the sweep picked the customer and before its UPDATE: on the sweep's own
        // connection, just ahead of the UPDATE, as the database would order a commit that came first.
        var lateCall = new FollowUpBeforeReclaim(due[1], called);
        await using var factory = app.WithWebHostBuilder(b => b.ConfigureServices(s =>
        {
            s.ConfigureDbContext<SqliteTideflowDbContext>(o => o.AddInterceptors(lateCall));
            s.ConfigureDbContext<PostgresTideflowDbContext>(o => o.AddInterceptors(lateCall));
        }));

        Assert.Equal("reclaimed 2, warned 0", await SweepAsync(factory.Services, now, org.Id));

        Assert.True(lateCall.Fired);
        var (owners, history, notes) = await app.InDbAsync(async db => (
            await db.Customers.Where(c => due.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.OwnerId),
            await db.OwnershipChanges.Where(o => o.OrganizationId == org.Id && o.Event == OwnershipEvent.Reclaimed).Select(o => o.CustomerId).ToListAsync(),
            await db.Notifications.Where(n => n.RecipientId == org.RepA.Id && n.Kind == "customers-reclaimed").Select(n => n.Parameters).ToListAsync()));
        Assert.Equal((null, org.RepA.Id, null), (owners[due[0]], owners[due[1]], owners[due[2]]));
        Assert.Equal(new[] { due[0], due[2] }.Order(), history.Select(h => h!.Value).Order());
        Assert.Contains("\"count\":\"2\"", Assert.Single(notes));
    }

    /// <summary>The sweep's reclaim statement (on PostgreSQL inside a WITH), as the interceptors below see it.</summary>
    internal static bool IsReclaim(System.Data.Common.DbCommand command) =>
        command.CommandText.Contains("UPDATE \"Customers\" ", StringComparison.Ordinal) && command.CommandText.Contains("\"PoolReason\" = @sweep_reason", StringComparison.Ordinal);

    /// <summary>Before the sweep's first reclaim UPDATE, gives one customer the last follow-up of another (a fresh one).</summary>
    private sealed class FollowUpBeforeReclaim(Guid customer, Guid freshlyCalled) : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        public bool Fired { get; private set; }

        // The reclaim UPDATE returns the ids it pooled: a reader command (on PostgreSQL inside a WITH).
        public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (!Fired && IsReclaim(command))
            {
                Fired = true;
                await using var call = command.Connection!.CreateCommand();
                call.Transaction = command.Transaction;
                // Guids as SQLite stores them (upper-case text); PostgreSQL reads the same literal as a uuid.
                call.CommandText = $"""
                    UPDATE "Customers" SET "LastFollowUpAt" = (SELECT "LastFollowUpAt" FROM "Customers" WHERE "Id" = '{freshlyCalled.ToString().ToUpperInvariant()}')
                    WHERE "Id" = '{customer.ToString().ToUpperInvariant()}'
                    """;
                Assert.Equal(1, await call.ExecuteNonQueryAsync(cancellationToken));
            }
            return result;
        }
    }

    [Fact]
    public async Task The_preview_picks_exactly_the_customers_the_pure_rules_call_due_for_every_combination_of_facts()
    {
        app.SkipIfUnavailable();
        await using var node = app.SecondNode(NoScheduler);
        var org = await TestOrg.CreateAsync(node.Services);
        var now = node.Clock.GetUtcNow();
        var settings = new PoolSettings(
            [
                new ReclaimRule(ReclaimWhen.NoFollowUp, 7, ByGrade: new Dictionary<string, int> { ["A"] = 15, ["C"] = 3 }),
                new ReclaimRule(ReclaimWhen.NotReachedStage, 20, Stage: "quoted"),
                new ReclaimRule(ReclaimWhen.FirstContactMissed, 48, PeriodUnit.Hours),
                new ReclaimRule(ReclaimWhen.ContractEnded, 30, ByGrade: new Dictionary<string, int> { ["B"] = 10 }),
            ], ExemptFromStage: "negotiation", ReleaseReasons: ["其他"]);
        // Under AND a won or far-along customer is exempt unless every rule is the contract's end.
        var allOf = settings with { Rules = [settings.Rules[0], settings.Rules[3]], Combine = Combine.All };
        var contractOnly = settings with { Rules = [settings.Rules[3]], Combine = Combine.All };
        var facts = new List<CustomerFacts>();
        var random = new Random(7);
        string[] grades = ["A", "B", "C"];
        string[] stages = ["new", "contacted", "needs", "quoted", "negotiation", "won", "lost"];
        for (var i = 0; i < 120; i++)
        {
            var assigned = now.AddHours(-random.Next(0, 40 * 24));
            DateTimeOffset? contact = random.Next(3) == 0 ? null : assigned.AddHours(random.Next(-200, 30 * 24));
            DateTimeOffset? claimed = random.Next(3) == 0 ? assigned : null;
            DateTimeOffset? protectedUntil = random.Next(10) == 0 ? now.AddDays(random.Next(-2, 3)) : null;
            DateTimeOffset? contractEnds = random.Next(2) == 0 ? now.AddHours(random.Next(-80 * 24, 20 * 24)) : null;
            facts.Add(new CustomerFacts(random.Next(8) == 0 ? null : grades[random.Next(3)], stages[random.Next(stages.Length)], assigned,
                contact > now ? now : contact, null, claimed, protectedUntil, contractEnds));
        }
        var ids = await node.InDbAsync(async db =>
        {
            var list = new List<Guid>();
            foreach (var f in facts)
            {
                var c = new Customer
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"组合 {list.Count}", OwnerId = org.RepA.Id, Grade = f.Grade,
                    AssignedAt = f.AssignedAt, LastFollowUpAt = f.LastContactAt, ClaimedAt = f.ClaimedAt, ProtectedUntil = f.ProtectedUntil,
                    ContractEndsAt = f.ContractEndsAt, CreatedAt = f.AssignedAt, UpdatedAt = now,
                };
                db.Customers.Add(c);
                list.Add(c.Id);
            }
            await db.SaveChangesAsync();
            // A stage changes only through a move; set them the way data arrives from an import of history.
            for (var i = 0; i < facts.Count; i++)
            {
                var (id, stage) = (list[i], facts[i].Stage);
                await db.Customers.Where(c => c.Id == id).ExecuteUpdateAsync(c => c.SetProperty(x => x.Stage, stage));
            }
            return list;
        });
        // Stored instants lose sub-microsecond ticks on PostgreSQL; evaluate what is stored.
        var stored = await node.InDbAsync(db => db.Customers.Where(c => ids.Contains(c.Id))
            .Select(c => new
            {
                c.Id, Facts = new CustomerFacts(c.Grade, c.Stage, c.AssignedAt!.Value, c.LastFollowUpAt, c.StageChangedAt, c.ClaimedAt, c.ProtectedUntil, c.ContractEndsAt),
            })
            .ToListAsync());
        foreach (var (rules, least) in new[] { (settings, 20), (allOf, 3), (contractOnly, 10) })
        {
            var expected = stored.Where(s => PoolRules.Evaluate(s.Facts, rules, SalesPipeline.Default, now).Status == ReclaimStatus.Due).Select(s => s.Id).Order().ToList();
            Assert.InRange(expected.Count, least, 100);
            var response = await node.As(org.Admin).PostJson($"/api/pools/{org.DefaultPool}/preview", rules);
            var preview = await response.ReadAsync<PoolPreview>();
            Assert.Equal(expected.Count, preview.Total);
            Assert.Equal(expected, preview.Sample.Select(r => r.CustomerId).Order().ToList());
            Assert.All(preview.Sample, r => Assert.StartsWith("repA", r.Owner));
        }
        // Won customers with a lapsed contract are among those the contract's end alone brings back.
        Assert.Contains(stored, s => s.Facts.Stage == "won"
            && PoolRules.Evaluate(s.Facts, contractOnly, SalesPipeline.Default, now) is { Status: ReclaimStatus.Due });
    }
}

public sealed class PoolTests_Sqlite(SqliteApp app) : PoolTests<SqliteApp>(app);
public sealed class PoolTests_Postgres(PostgresApp app) : PoolTests<PostgresApp>(app);

/// <summary>
/// On PostgreSQL other writers run beside the sweep; SQLite has one writer, so there a follow-up waits for the sweep's
/// transaction and these cases cannot arise.
/// </summary>
public sealed class PoolSweepConcurrencyTests_Postgres(PostgresApp app)
{
    /// <summary>
    /// A rep's follow-up that another transaction commits after the sweep picked the customer, while the reclaim waits
    /// for the row, keeps the customer: the reclaim judges the row again as it is once it gets it.
    /// </summary>
    [Fact]
    public async Task A_follow_up_another_transaction_commits_while_the_reclaim_waits_for_the_row_keeps_the_customer()
    {
        app.SkipIfUnavailable();
        var org = await app.NewOrgAsync();
        var now = app.Clock.GetUtcNow();
        await KeptWhenCommittedWhileReclaimWaitsAsync(org, """UPDATE "Customers" SET "LastFollowUpAt" = @at WHERE "Id" = @customer""",
            ("at", now.AddHours(-1)));
    }

    /// <summary>
    /// The same for a pool that counts only visits, with the visit stamped before the sweep's instant (the rep's request
    /// began first and committed later): the rule's sub-select over the records still sees the sweep's snapshot, so the
    /// reclaim must also find the customer's last follow-up as the sweep read it.
    /// </summary>
    [Fact]
    public async Task A_counted_visit_stamped_before_the_sweep_and_committed_while_the_reclaim_waits_keeps_the_customer()
    {
        app.SkipIfUnavailable();
        var org = await app.NewOrgAsync();
        await app.InDbAsync(async db =>
        {
            var pool = await db.Pools.IgnoreQueryFilters().SingleAsync(p => p.Id == org.DefaultPool);
            pool.Settings = PoolSettingsJson.Write(PoolSettingsJson.Read(pool.Settings) with { CountedChannels = ["Visit"] });
            return await db.SaveChangesAsync();
        });
        var now = app.Clock.GetUtcNow();
        await KeptWhenCommittedWhileReclaimWaitsAsync(org, """
            UPDATE "Customers" SET "LastFollowUpAt" = @at WHERE "Id" = @customer;
            INSERT INTO "FollowUpRecords" ("Id", "OrganizationId", "CustomerId", "AuthorId", "Channel", "Content", "GoalReached", "At")
            VALUES (@id, @org, @customer, @author, 'Visit', '上门拜访', false, @at);
            """, ("at", now.AddSeconds(-1)), ("id", Guid.CreateVersion7()), ("org", org.Id), ("author", org.RepA.Id));
    }

    /// <summary>
    /// A manager's protection committed while the reclaim waits keeps the customer too: not a follow-up, so only the
    /// rule's WHERE judged again on the row's new version sees it (the reclaim's UPDATE carries that WHERE itself).
    /// </summary>
    [Fact]
    public async Task A_protection_committed_while_the_reclaim_waits_keeps_the_customer()
    {
        app.SkipIfUnavailable();
        var org = await app.NewOrgAsync();
        var now = app.Clock.GetUtcNow();
        await KeptWhenCommittedWhileReclaimWaitsAsync(org, """UPDATE "Customers" SET "ProtectedUntil" = @until WHERE "Id" = @customer""",
            ("until", now.AddDays(30)));
    }

    /// <summary>
    /// Three of rep A's customers due (the first with a follow-up 25 days ago, the others with none); just before the
    /// sweep's reclaim statement another connection runs <paramref name="sql"/> on the second one (@customer) and holds
    /// it until the reclaim is seen waiting for it. The sweep takes the other two, and the second stays with rep A with
    /// no history row.
    /// </summary>
    private async Task KeptWhenCommittedWhileReclaimWaitsAsync(TestOrg org, string sql, params (string Name, object Value)[] values)
    {
        var due = await PoolTests<PostgresApp>.OwnedAsync(app, org, org.RepA.Id, 30, 20, 10);
        // A last follow-up as the sweep read it still matches the row's, so the customer is taken.
        await app.InDbAsync(async db =>
        {
            (await db.Customers.IgnoreQueryFilters().SingleAsync(c => c.Id == due[0])).LastFollowUpAt = app.Clock.GetUtcNow().AddDays(-25);
            return await db.SaveChangesAsync();
        });
        var call = new CommittedWhileReclaimWaits(app.ConnectionString, sql, [("customer", due[1]), .. values]);
        await using var factory = app.WithWebHostBuilder(b => b.ConfigureServices(s =>
            s.ConfigureDbContext<PostgresTideflowDbContext>(o => o.AddInterceptors(call))));

        Assert.Equal("reclaimed 2, warned 0", await PoolTests<PostgresApp>.SweepAsync(factory.Services, app.Clock.GetUtcNow(), org.Id));

        await Assert.IsAssignableFrom<Task>(call.Committed);
        Assert.True(call.SweepWaited);
        var owners = await app.InDbAsync(db => db.Customers.Where(c => due.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.OwnerId));
        Assert.Equal((null, org.RepA.Id, null), (owners[due[0]], owners[due[1]], owners[due[2]]));
        Assert.Equal(0, await app.InDbAsync(db => db.OwnershipChanges.CountAsync(o => o.CustomerId == due[1])));
    }

    /// <summary>
    /// Just before the sweep's reclaim statement: another connection runs <paramref name="sql"/> (which changes one
    /// customer's row) and holds the row, committing once the reclaim is seen waiting for it.
    /// </summary>
    private sealed class CommittedWhileReclaimWaits(string connectionString, string sql, (string Name, object Value)[] values)
        : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        public Task? Committed { get; private set; }

        /// <summary>Whether the sweep's statement was seen waiting for the other transaction before it committed.</summary>
        public bool SweepWaited { get; private set; }

        public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (Committed == null && PoolTests<PostgresApp>.IsReclaim(command))
            {
                var other = new Npgsql.NpgsqlConnection(connectionString);
                await other.OpenAsync(cancellationToken);
                var tx = await other.BeginTransactionAsync(cancellationToken);
                await using (var change = new Npgsql.NpgsqlCommand(sql, other, tx))
                {
                    foreach (var (name, value) in values)
                    {
                        change.Parameters.AddWithValue(name, value);
                    }
                    Assert.True(await change.ExecuteNonQueryAsync(cancellationToken) >= 1);
                }
                Committed = Task.Run(async () =>
                {
                    // Commits once the sweep's statement waits for this transaction (or after 30 s, and the test fails).
                    await using (var watch = new Npgsql.NpgsqlConnection(connectionString))
                    {
                        await watch.OpenAsync();
                        var waiting = System.Diagnostics.Stopwatch.StartNew();
                        while (!SweepWaited && waiting.Elapsed < TimeSpan.FromSeconds(30))
                        {
                            await using var blocked = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE @other = ANY(pg_blocking_pids(pid))", watch);
                            blocked.Parameters.AddWithValue("other", other.ProcessID);
                            SweepWaited = (long)(await blocked.ExecuteScalarAsync())! > 0;
                            await Task.Delay(10);
                        }
                    }
                    await tx.CommitAsync(CancellationToken.None);
                    await other.DisposeAsync();
                }, CancellationToken.None);
            }
            return result;
        }
    }
}
