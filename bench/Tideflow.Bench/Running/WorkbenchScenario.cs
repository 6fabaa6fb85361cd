using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Tideflow.Bench.Generation;
using Tideflow.Domain.Workbench;

namespace Tideflow.Bench.Running;

/// <summary>
/// Scenario 5, the rep's workbench (issue 5: a rep with 2,000 customers in a database of 1M customers and 10M follow-ups,
/// p99 &lt; 100 ms on PostgreSQL). The bench rep loads the workbench page's data the way the page does, one request after
/// another with the rep's API token: <c>GET /api/me</c>, the customer list's first 8 (<c>/api/customers?pageSize=8</c>), the
/// rep's own count (<c>?ownerId=…&amp;pageSize=1</c>), the open tasks (<c>/api/tasks</c>) and the lists
/// (<c>/api/workbench</c>: 今日待联系, 逾期未跟进, 高意向未推进, 新分配 with counts and first rows, 即将回收, notifications).
/// <see cref="Warmup"/> loads, then the measured ones, one at a time. <b>Floor</b>: a minimal ADO.NET program reading
/// the same things with hand-written SQL on one pooled connection per load — the profile, the customer page and counts,
/// the tasks, the score card's best grade, each list's count and first five with <c>COUNT(*) OVER ()</c>, the reclaim
/// candidates of the default pool's rules, the notifications — same repetitions, same percentiles. Before measuring,
/// the app's list counts, reclaim-soon count and task count must equal the floor's.
/// </summary>
public static class WorkbenchScenario
{
    public const int Warmup = 100;

    public static async Task<IReadOnlyList<ResultRow>> RunAsync(AppProcess app, Organisation org, int repCustomers, string connectionString,
        bool isPostgres, int loads, TextWriter log, CancellationToken ct)
    {
        var repToken = org.Tokens.Single(t => t.UserId == org.BenchRep.Id).Secret;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var http = new HttpClient(handler) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await using var db = new BenchDb(isPostgres, connectionString);
        var floor = new Floor(db, org.Organization.Id, org.BenchRep.Id);
        string[] page =
        [
            "api/me", "api/customers?pageSize=8", $"api/customers?ownerId={org.BenchRep.Id}&pageSize=1", "api/tasks", "api/workbench",
        ];

        // The answers first: the app and the floor must see the same workbench.
        var appFigures = await AppFiguresAsync(http, repToken, ct);
        var floorFigures = (await floor.LoadAsync(ct)).Figures;
        if (appFigures != floorFigures)
        {
            // A contact falling due between the two reads moves a customer from today to overdue: ask once more.
            (appFigures, floorFigures) = (await AppFiguresAsync(http, repToken, ct), (await floor.LoadAsync(ct)).Figures);
        }
        log.WriteLine($"workbench: app {appFigures}; floor {floorFigures}");
        if (appFigures != floorFigures)
        {
            throw new InvalidOperationException($"The app's workbench ({appFigures}) and the floor's ({floorFigures}) disagree.");
        }
        if (appFigures.Customers != repCustomers || appFigures.Today + appFigures.Overdue == 0)
        {
            throw new InvalidOperationException($"The rep's workbench shows {appFigures}; expected {repCustomers:N0} customers and contacts due " +
                                                "(load the data set again: it has no follow-ups, or a scenario changed the rep's customers).");
        }

        var perRequest = page.Select(_ => new List<double>()).ToArray();
        async Task AppLoad(List<double> total, List<double> summary, bool keep)
        {
            var whole = Stopwatch.StartNew();
            for (var i = 0; i < page.Length; i++)
            {
                var one = Stopwatch.StartNew();
                using var response = await Api.SendAsync(http, HttpMethod.Get, page[i], repToken, null, ct);
                await response.Content.ReadAsByteArrayAsync(ct);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"GET /{page[i]} answered {(int)response.StatusCode}.");
                }
                if (keep)
                {
                    perRequest[i].Add(one.Elapsed.TotalMilliseconds);
                }
            }
            if (keep)
            {
                total.Add(whole.Elapsed.TotalMilliseconds);
                summary.Add(perRequest[^1][^1]);
            }
        }
        async Task FloorLoad(List<double> total, List<double> summary, bool keep)
        {
            var whole = Stopwatch.StartNew();
            var (_, summaryMs) = await floor.LoadAsync(ct);
            if (keep)
            {
                total.Add(whole.Elapsed.TotalMilliseconds);
                summary.Add(summaryMs);
            }
        }

        var (appTotal, appSummary, floorTotal, floorSummary) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        for (var i = 0; i < Warmup; i++)
        {
            await AppLoad(appTotal, appSummary, keep: false);
            await FloorLoad(floorTotal, floorSummary, keep: false);
        }
        var appWall = Stopwatch.StartNew();
        var appCpu = app.CpuTime();
        for (var i = 0; i < loads; i++)
        {
            await AppLoad(appTotal, appSummary, keep: true);
        }
        appWall.Stop();
        appCpu = app.CpuTime() - appCpu;
        var floorWall = Stopwatch.StartNew();
        for (var i = 0; i < loads; i++)
        {
            await FloorLoad(floorTotal, floorSummary, keep: true);
        }
        floorWall.Stop();
        log.WriteLine($"workbench: {loads} loads each, app {appWall.Elapsed.TotalSeconds:F1} s (app process CPU {appCpu.TotalMilliseconds / loads:F1} ms per load), " +
                      $"floor {floorWall.Elapsed.TotalSeconds:F1} s; app p50 per request: " +
                      string.Join(", ", page.Select((p, i) => $"{p} {P(perRequest[i], 50):F1} ms")));

        var name = $"workbench page, rep with {appFigures.Customers:N0} customers (5 requests one after another, {loads} loads)";
        var summaryName = $"GET /api/workbench alone ({loads} loads)";
        var target = isPostgres ? 100.0 : (double?)null;
        return
        [
            Row(name + " p50", P(appTotal, 50), P(floorTotal, 50), null),
            Row(name + " p95", P(appTotal, 95), P(floorTotal, 95), null),
            Row(name + " p99", P(appTotal, 99), P(floorTotal, 99), target),
            Row(summaryName + " p50", P(appSummary, 50), P(floorSummary, 50), null),
            Row(summaryName + " p99", P(appSummary, 99), P(floorSummary, 99), target),
            new("workbench lists (today / overdue / stalled / new / reclaim soon / open tasks shown)", appFigures.Lists, floorFigures.Lists, "—",
                "app = floor", "pass"),
        ];
    }

    private static double P(List<double> values, double p) => new Latencies(values, TimeSpan.Zero, 0).Percentile(p);

    private static ResultRow Row(string scenario, double app, double floor, double? absoluteMs)
    {
        var ratio = app / floor;
        var target = absoluteMs is { } ms ? $"< {ms:F0} ms (issue 5); ≤ 2× floor" : "≤ 2× floor";
        var result = absoluteMs is { } limit && app >= limit ? $"fail (≥ {limit:F0} ms)"
            : ratio > 2 ? absoluteMs is null ? "fail" : $"< {absoluteMs:F0} ms: pass; ratio: fail"
            : "pass";
        return new ResultRow(scenario, Format(app), Format(floor), $"{ratio:F1}×", target, result);
    }

    private static string Format(double ms) => ms.ToString(ms < 10 ? "F2" : ms < 100 ? "F1" : "F0", CultureInfo.InvariantCulture) + " ms";

    /// <summary>What the workbench shows, to compare the app with the floor: the count of each list, reclaim soon, tasks shown.</summary>
    public sealed record Figures(int Customers, int Today, int Overdue, int Stalled, int New, int DueSoon, int Tasks)
    {
        public string Lists => $"{Today} / {Overdue} / {Stalled} / {New} / {DueSoon} / {Tasks}";

        public override string ToString() => $"{Customers:N0} customers, lists {Lists}";
    }

    private static async Task<Figures> AppFiguresAsync(HttpClient http, string token, CancellationToken ct)
    {
        var summary = await Api.JsonAsync(http, HttpMethod.Get, "api/workbench", token, null, ct);
        var counts = summary.GetProperty("lists").EnumerateArray().ToDictionary(l => l.GetProperty("view").GetString()!, l => l.GetProperty("count").GetInt32());
        var dueSoon = summary.GetProperty("dueSoon").GetArrayLength();
        var tasks = (await Api.JsonAsync(http, HttpMethod.Get, "api/tasks", token, null, ct)).GetArrayLength();
        var customers = (await Api.JsonAsync(http, HttpMethod.Get, "api/customers?pageSize=1", token, null, ct)).GetProperty("total").GetInt32();
        return new Figures(customers, counts["today"], counts["overdue"], counts["stalled"], counts["new-assignments"], dueSoon, tasks);
    }

    /// <summary>The workbench page's reads, hand-written: one pooled connection per load, the queries one after another.</summary>
    private sealed class Floor(BenchDb db, Guid org, Guid rep)
    {
        private const string ContactKinds = "'first-contact', 'next-contact', 'plan-step'";
        private const string Closed = "'won', 'lost'";

        private const string Anchor = """COALESCE(c."AssignedAt", c."CreatedAt")""";

        // The rep's customers, each with the contact it is owed (the earlier of its planned next contact and its open
        // contact tasks) and the instant each list sorts it by.
        private const string Owned = $"""
            SELECT c."Id", c."Name", c."Company", c."Grade", c."Stage", c."OwnerId", c."CreatedById", c."CreatedAt", c."StageChangedAt",
                   {Anchor} AS "Assigned",
                   CASE WHEN c."StageChangedAt" IS NOT NULL AND c."StageChangedAt" > {Anchor} THEN c."StageChangedAt" ELSE {Anchor} END AS "Since",
                   CASE WHEN c."NextContactAt" IS NULL OR t."Due" < c."NextContactAt" THEN t."Due" ELSE c."NextContactAt" END AS "Due"
            FROM "Customers" c
            LEFT JOIN (SELECT "CustomerId", MIN("DueAt") AS "Due" FROM "FollowUpTasks"
                       WHERE "OrganizationId" = @org AND "OwnerId" = @me AND "ClosedAt" IS NULL AND "Kind" IN ({ContactKinds})
                       GROUP BY "CustomerId") t ON t."CustomerId" = c."Id"
            WHERE c."OrganizationId" = @org AND c."OwnerId" = @me
            """;

        // Each list's condition over a row of Owned, in the order of Figures.
        private static readonly string[] Lists =
        [
            $"""(d."Stage" NOT IN ({Closed}) AND d."Due" >= @now AND d."Due" < @end)""",
            $"""(d."Stage" NOT IN ({Closed}) AND d."Due" < @now)""",
            $"""(d."Stage" NOT IN ({Closed}) AND d."Grade" = @grade AND d."Since" <= @stalled)""",
            """(d."Assigned" > @assigned AND NOT (d."CreatedById" IS NOT NULL AND d."CreatedById" = d."OwnerId" AND d."Assigned" = d."CreatedAt"))""",
        ];

        /// <summary>One load of the page's data; the time the lists (what <c>/api/workbench</c> answers) took on their own.</summary>
        public async Task<(Figures Figures, double SummaryMilliseconds)> LoadAsync(CancellationToken ct)
        {
            var now = TimeProvider.System.GetUtcNow();
            await using var connection = await db.OpenAsync(ct);

            // Profile (GET /api/me).
            string timeZone;
            await using (var cmd = Command(connection, """
                SELECT u."TimeZone", u."Id", u."UserName", u."DisplayName", u."Email", u."Role", o."Id", o."Name", u."TeamId", u."Culture", u."TwoFactorEnabled"
                FROM "AspNetUsers" u JOIN "Organizations" o ON o."Id" = u."OrganizationId" WHERE u."Id" = @me
                """, []))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                timeZone = reader.GetString(0);
            }

            // The customer list's first 8 and the rep's own count (a rep sees exactly their own customers).
            var customers = (int)await Scalar(connection, """SELECT COUNT(*) FROM "Customers" WHERE "OrganizationId" = @org AND "OwnerId" = @me""", ct);
            await Rows(connection, """
                SELECT c."Id", c."Name", c."Company", c."Mobile", c."Email", c."Region", c."Industry", c."OwnerId", u."DisplayName", c."CreatedAt",
                       c."UpdatedAt", c."Grade", c."Fields", c."Stage", c."FeedbackTags"
                FROM "Customers" c LEFT JOIN "AspNetUsers" u ON u."Id" = c."OwnerId"
                WHERE c."OrganizationId" = @org AND c."OwnerId" = @me ORDER BY c."CreatedAt" DESC, c."Id" LIMIT @rows
                """, ct, ("@rows", 8));
            await Scalar(connection, """SELECT COUNT(*) FROM "Customers" WHERE "OrganizationId" = @org AND "OwnerId" = @me""", ct);
            await Rows(connection, """
                SELECT c."Id", c."Name", c."Company", c."Mobile", c."Email", c."Region", c."Industry", c."OwnerId", u."DisplayName", c."CreatedAt",
                       c."UpdatedAt", c."Grade", c."Fields", c."Stage", c."FeedbackTags"
                FROM "Customers" c LEFT JOIN "AspNetUsers" u ON u."Id" = c."OwnerId"
                WHERE c."OrganizationId" = @org AND c."OwnerId" = @me ORDER BY c."CreatedAt" DESC, c."Id" LIMIT @rows
                """, ct, ("@rows", 1));

            // Open tasks, soonest first, with what they are about (GET /api/tasks).
            var tasks = await Rows(connection, """
                SELECT t."Id", t."Kind", t."Title", t."DueAt", t."LeadId", t."CustomerId", COALESCE(c."Name", l."Name", l."Company"), t."NotDoneReason"
                FROM "FollowUpTasks" t
                LEFT JOIN "Leads" l ON l."Id" = t."LeadId"
                LEFT JOIN "Customers" c ON c."Id" = t."CustomerId"
                WHERE t."OrganizationId" = @org AND t."OwnerId" = @me AND t."ClosedAt" IS NULL
                ORDER BY t."DueAt" LIMIT 50
                """, ct);

            // The lists (GET /api/workbench).
            var summary = Stopwatch.StartNew();
            var card = await Text(connection, """
                SELECT "Card" FROM "ScoreCardVersions" WHERE "OrganizationId" = @org ORDER BY "Version" DESC LIMIT 1
                """, ct);
            var grade = BestGrade(card);
            var w = WorkbenchWindow.At(now, TimeZoneInfo.FindSystemTimeZoneById(timeZone), WorkbenchSettings.Default);
            (string, object?)[] window = [("@now", w.Now), ("@end", w.TodayEnd), ("@grade", grade), ("@stalled", w.StalledAtOrBefore), ("@assigned", w.AssignedAfter)];
            // As the app: every count in one pass, then the customers on short lists in one more, sorted out here.
            var counts = new int[Lists.Length];
            await using (var cmd = Command(connection, $"""
                SELECT {string.Join(", ", Lists.Select(l => $"SUM(CASE WHEN {l} THEN 1 ELSE 0 END)"))} FROM ({Owned}) d
                """, window))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                await reader.ReadAsync(ct);
                for (var i = 0; i < counts.Length; i++)
                {
                    counts[i] = reader.IsDBNull(i) ? 0 : Convert.ToInt32(reader.GetValue(i), CultureInfo.InvariantCulture);
                }
            }
            await TopRowsAsync(connection, counts, window, ct);
            var dueSoon = await DueSoonAsync(connection, now, ct);
            await Scalar(connection, """SELECT COUNT(*) FROM "Notifications" WHERE "OrganizationId" = @org AND "RecipientId" = @me AND "ReadAt" IS NULL""", ct);
            await Rows(connection, """
                SELECT "Id", "Kind", "Parameters", "Link", "CreatedAt", "ReadAt" FROM "Notifications"
                WHERE "OrganizationId" = @org AND "RecipientId" = @me ORDER BY "CreatedAt" DESC, "Id" DESC LIMIT 30
                """, ct);
            return (new Figures(customers, counts[0], counts[1], counts[2], counts[3], dueSoon, tasks), summary.Elapsed.TotalMilliseconds);
        }

        /// <summary>
        /// The customers on the lists the app reads together (up to 500 each) in one statement, with their owner's name and
        /// which lists they are on; each list's first five picked here (by due, stalled since, newest hand-over, then id).
        /// A longer list gets its own statement for its first five, as in the app.
        /// </summary>
        private async Task TopRowsAsync(DbConnection connection, int[] counts, (string, object?)[] window, CancellationToken ct)
        {
            var together = Enumerable.Range(0, Lists.Length).Where(i => counts[i] is > 0 and <= 500).ToList();
            var rows = new List<(int Lists, Guid Id, DateTimeOffset? Due, DateTimeOffset Since, DateTimeOffset Assigned)>();
            if (together.Count > 0)
            {
                var flags = string.Join(" + ", together.Select(i => $"CASE WHEN {Lists[i]} THEN {1 << i} ELSE 0 END"));
                await using var cmd = Command(connection, $"""
                    SELECT d."Id", d."Name", d."Company", d."Grade", d."Stage", d."OwnerId", u."DisplayName", d."Due", d."Since", d."Assigned", {flags}
                    FROM ({Owned}) d LEFT JOIN "AspNetUsers" u ON u."Id" = d."OwnerId"
                    WHERE {string.Join(" OR ", together.Select(i => Lists[i]))}
                    """, window);
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    rows.Add((Convert.ToInt32(reader.GetValue(10), CultureInfo.InvariantCulture), db.IsPostgres ? reader.GetGuid(0) : Guid.Parse(reader.GetString(0)),
                        Instant(reader, 7), Instant(reader, 8)!.Value, Instant(reader, 9)!.Value));
                }
            }
            foreach (var i in together)
            {
                var on = rows.Where(r => (r.Lists & (1 << i)) != 0);
                _ = (i switch
                {
                    0 or 1 => on.OrderBy(r => r.Due),
                    2 => on.OrderBy(r => r.Since),
                    _ => on.OrderByDescending(r => r.Assigned),
                }).ThenBy(r => r.Id).Take(5).ToList();
            }
            foreach (var i in Enumerable.Range(0, Lists.Length).Where(i => counts[i] > 500))
            {
                var order = i switch { 0 or 1 => """d."Due", d."Id" """, 2 => """d."Since", d."Id" """, _ => """d."Assigned" DESC, d."Id" """ };
                await Rows(connection, $"""
                    SELECT d.*, u."DisplayName" FROM ({Owned}) d LEFT JOIN "AspNetUsers" u ON u."Id" = d."OwnerId"
                    WHERE {Lists[i]} ORDER BY {order} LIMIT 5
                    """, ct, window);
            }
        }

        /// <summary>
        /// 即将回收 under the default pool's rules (no follow-up for 7 days, first contact within 48 hours of a claim; won
        /// customers and protected ones spared), as due 3 days from now: the pool row, then at most 500 candidates, each
        /// given its due time and sorted here.
        /// </summary>
        private async Task<int> DueSoonAsync(DbConnection connection, DateTimeOffset now, CancellationToken ct)
        {
            await Text(connection, """
                SELECT p."Settings" FROM "Pools" p WHERE p."OrganizationId" = @org AND (p."Id" IN (
                    SELECT pt."PoolId" FROM "PoolTeams" pt JOIN "AspNetUsers" u ON u."TeamId" = pt."TeamId" WHERE u."Id" = @me)
                    OR (p."IsDefault" AND NOT EXISTS (SELECT 1 FROM "PoolTeams" pt JOIN "AspNetUsers" u ON u."TeamId" = pt."TeamId" WHERE u."Id" = @me)))
                """, ct);
            var soon = now + TimeSpan.FromDays(3);
            var (quiet, firstContact) = (TimeSpan.FromDays(7), TimeSpan.FromHours(48));
            var due = new List<DateTimeOffset>();
            await using (var cmd = Command(connection, $"""
                SELECT c."Id", c."Name", c."Company", {Anchor}, c."LastFollowUpAt", c."ClaimedAt"
                FROM "Customers" c
                WHERE c."OrganizationId" = @org AND c."OwnerId" = @me AND (c."ProtectedUntil" IS NULL OR c."ProtectedUntil" <= @soon) AND c."Stage" <> 'won'
                  AND (({Anchor} <= @quiet AND (c."LastFollowUpAt" IS NULL OR c."LastFollowUpAt" <= @quiet))
                    OR (c."ClaimedAt" IS NOT NULL AND c."ClaimedAt" <= @first AND (c."LastFollowUpAt" IS NULL OR c."LastFollowUpAt" < c."ClaimedAt")))
                LIMIT 500
                """, [("@soon", soon), ("@quiet", soon - quiet), ("@first", soon - firstContact)]))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    var assigned = Instant(reader, 3)!.Value;
                    var last = Instant(reader, 4);
                    var claimed = Instant(reader, 5);
                    var quietDue = (last is { } l && l > assigned ? l : assigned) + quiet;
                    var firstDue = claimed is { } c && (last is null || last < c) ? c + firstContact : (DateTimeOffset?)null;
                    due.Add(firstDue is { } f && f < quietDue ? f : quietDue);
                }
            }
            due.Sort();
            return due.Count;
        }

        private DateTimeOffset? Instant(DbDataReader reader, int i) => reader.IsDBNull(i) ? null
            : db.IsPostgres ? reader.GetFieldValue<DateTimeOffset>(i) : new DateTimeOffset(reader.GetInt64(i), TimeSpan.Zero);

        /// <summary>The best grade by threshold of the card in force; the default card's is A.</summary>
        private static string BestGrade(string? card)
        {
            if (card is null)
            {
                return "A";
            }
            using var json = JsonDocument.Parse(card);
            var grades = json.RootElement.EnumerateObject().First(p => p.NameEquals("grades") || p.NameEquals("Grades")).Value;
            return grades.EnumerateArray()
                .Select(g => (Name: Property(g, "name").GetString()!, Min: Property(g, "minScore").GetInt32()))
                .MaxBy(g => g.Min).Name;
        }

        private static JsonElement Property(JsonElement element, string camel) =>
            element.EnumerateObject().First(p => string.Equals(p.Name, camel, StringComparison.OrdinalIgnoreCase)).Value;

        private async Task<int> Rows(DbConnection connection, string sql, CancellationToken ct, params (string Name, object? Value)[] args)
        {
            await using var cmd = Command(connection, sql, args);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            var rows = 0;
            var values = new object[reader.FieldCount];
            while (await reader.ReadAsync(ct))
            {
                reader.GetValues(values);
                rows++;
            }
            return rows;
        }

        private async Task<long> Scalar(DbConnection connection, string sql, CancellationToken ct)
        {
            await using var cmd = Command(connection, sql, []);
            return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
        }

        private async Task<string?> Text(DbConnection connection, string sql, CancellationToken ct)
        {
            await using var cmd = Command(connection, sql, []);
            return await cmd.ExecuteScalarAsync(ct) as string;
        }

        // Only the parameters the statement names: PostgreSQL cannot type one it never sees.
        private DbCommand Command(DbConnection connection, string sql, (string Name, object? Value)[] args) =>
            db.Command(connection, null, sql, [.. new (string Name, object? Value)[] { ("@org", org), ("@me", rep) }.Concat(args)
                .Where(a => Regex.IsMatch(sql, Regex.Escape(a.Name) + @"\b"))]);
    }
}
