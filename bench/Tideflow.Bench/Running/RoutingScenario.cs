using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Bench.Generation;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Leads;

namespace Tideflow.Bench.Running;

/// <summary>
/// Scoring and assignment of one arriving lead (issue 4): the admin's routing rules are set through the API (the bench
/// rep's team, round-robin), then the app's own <see cref="LeadRouter"/> runs in this process against the same
/// database — load the score card, rules and reps, score, route, claim the team's turn — and each arrival's time is
/// what scoring and assignment add to ingestion. The rows it adds (ownership change, notification, task) ride in the
/// arrival's own save and are not in this number; the ingestion scenario that follows carries all of it end to end.
/// Then 32 concurrent captures over HTTP check that round-robin shares them evenly (max − min ≤ 1).
/// </summary>
public static class RoutingScenario
{
    public static async Task<IReadOnlyList<ResultRow>> RunAsync(AppProcess app, Organisation org,
        string connectionString, bool isPostgres, TextWriter log, CancellationToken ct)
    {
        var adminToken = org.Tokens.Single(t => t.UserId == org.Admin.Id).Secret;
        var team = org.BenchRep.TeamId!.Value;
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using (var put = new HttpRequestMessage(HttpMethod.Put, "api/assignment/rules"))
        {
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
            put.Content = new StringContent(JsonSerializer.Serialize(new[]
            {
                new { name = "bench team", conditions = Array.Empty<object>(), target = "Team", teamId = team, method = "RoundRobin" },
            }), Encoding.UTF8, "application/json");
            using var response = await http.SendAsync(put, ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"PUT /api/assignment/rules answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            }
        }
        var teamReps = org.Reps.Where(r => r.TeamId == team).Select(r => r.Id).ToHashSet();

        // In-process: the router as capture calls it, one arrival at a time.
        var current = new CurrentUser();
        current.Set(DataScope.ForChannel(org.Organization.Id, "bench"));
        await using TideflowDbContext db = isPostgres
            ? new PostgresTideflowDbContext(Options<PostgresTideflowDbContext>(o => Database.ConfigurePostgres(o, connectionString)), current, TimeProvider.System)
            : new SqliteTideflowDbContext(Options<SqliteTideflowDbContext>(o => Database.ConfigureSqlite(o, connectionString)), current, TimeProvider.System);
        var router = new LeadRouter(db, TimeProvider.System);
        var channel = await db.Channels.AsNoTracking().SingleAsync(c => c.Key == Generator.ChannelKey, ct);
        var times = new List<double>();
        const int Warm = 200, Measured = 2000;
        for (var i = 0; i < Warm + Measured; i++)
        {
            var lead = new Lead
            {
                Id = Guid.CreateVersion7(), OrganizationId = org.Organization.Id, Name = "基准", Company = $"基准公司{i}",
                CompanyKey = $"基准公司{i}", Mobile = "+8613800000000", ChannelId = channel.Id, SourceTag = channel.SourceTag,
                Status = LeadStatus.New, ArrivedAt = TimeProvider.System.GetUtcNow(), UpdatedAt = TimeProvider.System.GetUtcNow(),
                Fields = """{"budget":"50万","urgency":"本月","authority":"决策人","region":"上海"}""",
            };
            var watch = Stopwatch.StartNew();
            var book = await router.LoadAsync(ct);
            var decision = await router.ScoreAndRouteAsync(book, lead, channel, ct);
            watch.Stop();
            db.ChangeTracker.Clear();
            if (decision?.RepId is not { } rep || !teamReps.Contains(rep))
            {
                throw new InvalidOperationException($"The router did not place the lead in the bench team: {decision?.Reason}");
            }
            if (i >= Warm)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        times.Sort();
        var median = times[times.Count / 2];
        var p99 = times[(int)Math.Ceiling(times.Count * 0.99) - 1];
        log.WriteLine($"routing: {Measured} arrivals scored and routed in-process, median {median:F3} ms, p99 {p99:F3} ms");

        // Fairness: 32 arrivals at once over HTTP, each a new contact.
        var before = await OwnersAsync(isPostgres, connectionString, teamReps, ct);
        // Contacts from a range no lead, submission or import file uses, offset by the team's turns so a rerun on the
        // same database sends new ones.
        var turns = await CaptureScenario.ScalarAsync(isPostgres, connectionString,
            $"""SELECT "Turn" FROM "TeamTurns" WHERE "TeamId" = {Literal(isPostgres, team)}""", ct);
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async k =>
        {
            using var content = new StringContent(JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["name"] = "轮询测试", ["mobile"] = Generator.ContactMobile(20_000_000 + (int)turns + k), ["utm_campaign"] = $"rr-{turns}-{k}",
            }), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri($"capture/{Generator.ChannelKey}", UriKind.Relative), content, ct);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"capture answered {(int)response.StatusCode}");
            }
        }));
        var after = await OwnersAsync(isPostgres, connectionString, teamReps, ct);
        var gained = teamReps.Select(r => after.GetValueOrDefault(r) - before.GetValueOrDefault(r)).ToList();
        log.WriteLine($"round-robin: 32 concurrent arrivals over {teamReps.Count} reps: {string.Join(",", gained)}");

        return
        [
            new("scoring + assignment per arriving lead, median (in-process, 2,000 arrivals)", $"{median:F3} ms", "—", "—", "< 1 ms",
                median < 1 ? "pass" : "fail"),
            new("scoring + assignment per arriving lead, p99", $"{p99:F3} ms", "—", "—", "—", "info"),
            new($"round-robin, 32 concurrent arrivals over {teamReps.Count} reps: total, max − min", $"{gained.Sum()}, {gained.Max() - gained.Min()}",
                "—", "—", "32, ≤ 1", gained.Sum() == 32 && gained.Max() - gained.Min() <= 1 ? "pass" : "fail"),
        ];
    }

    // EF Core stores Guids on SQLite as uppercase text.
    private static string Literal(bool isPostgres, Guid id) => isPostgres ? $"'{id}'" : $"'{id.ToString().ToUpperInvariant()}'";

    private static DbContextOptions<T> Options<T>(Action<DbContextOptionsBuilder> configure) where T : DbContext
    {
        var builder = new DbContextOptionsBuilder<T>();
        configure(builder);
        return builder.Options;
    }

    private static async Task<Dictionary<Guid, long>> OwnersAsync(bool isPostgres, string connectionString, IReadOnlySet<Guid> reps, CancellationToken ct)
    {
        var counts = new Dictionary<Guid, long>();
        foreach (var rep in reps)
        {
            counts[rep] = await CaptureScenario.ScalarAsync(isPostgres, connectionString,
                $"""SELECT COUNT(*) FROM "Leads" WHERE "OwnerId" = {Literal(isPostgres, rep)}""", ct);
        }
        return counts;
    }
}
