using System.Diagnostics;
using System.Net.Http.Json;
using Tideflow.Bench.Generation;

namespace Tideflow.Bench.Running;

/// <summary>
/// Scenario 7, reminder dispatch (issue 5: 10,000 due reminders delivered to a local webhook receiver within 60 s of
/// their due time).
/// <para>
/// Set-up (not timed): the bench rep chooses a WeCom robot through the API (the app stores the address encrypted), then
/// 10,000 notifications with one WeCom delivery each are written by SQL, all due a few seconds ahead. The app's own
/// dispatcher (every node polls every 2 s by default) finds, leases, renders, sends and books them; the time is from
/// the due time to the last message's arrival at <see cref="WebhookReceiver"/>. The <b>floor</b> does the same by hand
/// with no poll: read the due rows, POST each (16 at a time, like the app), mark them sent in batches of 200.
/// </para>
/// </summary>
public static class ReminderScenario
{
    public const int Count = 10_000;
    private const string Kind = "task-due";

    public static async Task<IReadOnlyList<ResultRow>> RunAsync(AppProcess app, Organisation org, WebhookReceiver robot, string connectionString,
        bool isPostgres, TextWriter log, CancellationToken ct)
    {
        var rep = org.BenchRep.Id;
        var repToken = org.Tokens.Single(t => t.UserId == rep).Secret;
        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        await using var db = new BenchDb(isPostgres, connectionString);
        await CleanAsync(db, rep, ct);
        var appKey = $"app-{Guid.NewGuid():N}";
        using (var saved = await Api.SendAsync(http, HttpMethod.Put, "api/me/reminders", repToken,
                   new { email = false, dingTalk = false, weCom = true, weComWebhook = robot.Url(appKey) }, ct))
        {
            if (!saved.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"PUT /api/me/reminders answered {(int)saved.StatusCode}: {await saved.Content.ReadAsStringAsync(ct)}");
            }
        }

        // The app: written due an hour ahead (the dispatcher sees none of them while they go in, one by one), then all made due
        // 2 s from now by one statement. A fixed 15 s ahead had the run wait 12–13 s for nothing.
        var setup = Stopwatch.StartNew();
        await InsertAsync(db, org.Organization.Id, rep, TimeProvider.System.GetUtcNow().AddHours(1), "Pending", ct);
        var due = TimeProvider.System.GetUtcNow().AddSeconds(2);
        await db.ExecAsync("""UPDATE "NotificationDeliveries" SET "NextAttemptAt" = @due WHERE "RecipientId" = @rep AND "State" = 'Pending'""", ct,
            ("@due", due), ("@rep", rep));
        var lead = due - TimeProvider.System.GetUtcNow();
        log.WriteLine($"reminders: {Count:N0} deliveries written in {setup.Elapsed.TotalSeconds:F1} s, due in {lead.TotalSeconds:F1} s");
        if (lead > TimeSpan.Zero)
        {
            await Task.Delay(lead, ct);
        }
        var dueOnReceiver = robot.Now;
        var appDone = await WaitAsync(robot, appKey, TimeSpan.FromMinutes(5), ct);
        var appSeconds = (robot.Arrivals(appKey).Last - dueOnReceiver).TotalSeconds;
        // Booking the last batch follows its sending by a moment: wait for it (not timed).
        long sent = 0;
        for (var i = 0; i < 300 && (sent = await db.ScalarAsync("""SELECT COUNT(*) FROM "NotificationDeliveries" WHERE "RecipientId" = @rep AND "State" = 'Sent'""",
                 ct, ("@rep", rep))) < Count; i++)
        {
            await Task.Delay(100, ct);
        }
        var firstSeconds = (robot.Arrivals(appKey).First - dueOnReceiver).TotalSeconds;
        log.WriteLine($"reminders app: {robot.Arrivals(appKey).Count:N0} arrived, {sent:N0} booked sent, first {firstSeconds:F1} s and last {appSeconds:F1} s after due " +
                      $"(the wait for the dispatcher's next poll, then sending) (all arrived: {appDone})");
        await CleanAsync(db, rep, ct);

        // The floor: the same rows (in a state the app does not read), sent by hand as soon as they are due.
        var floorKey = $"floor-{Guid.NewGuid():N}";
        await InsertAsync(db, org.Organization.Id, rep, TimeProvider.System.GetUtcNow(), "FloorPending", ct);
        var floorStart = robot.Now;
        var floorBooked = await FloorAsync(db, rep, robot.Url(floorKey), ct);
        var floorSeconds = (robot.Arrivals(floorKey).Last - floorStart).TotalSeconds;
        log.WriteLine($"reminders floor: {robot.Arrivals(floorKey).Count:N0} arrived, {floorBooked:N0} booked, in {floorSeconds:F1} s");
        await CleanAsync(db, rep, ct);

        // The floor has no poll to wait for: the ratio compares sending (first to last arrival), the target the whole wait.
        var sending = (robot.Arrivals(appKey).Last - robot.Arrivals(appKey).First).TotalSeconds;
        var ratio = sending / floorSeconds;
        return
        [
            new($"{Count:N0} due reminders to a local WeCom robot: due → last delivered", $"{appSeconds:F1} s", "—", "—",
                "< 60 s", appDone && sent == Count && appSeconds < 60 ? "pass" : "fail"),
            new($"… of which sending (first → last arrival)", $"{sending:F1} s", $"{floorSeconds:F1} s", $"{ratio:F1}×",
                "≤ 2× floor", appDone && ratio <= 2 ? "pass" : "fail"),
            new("reminders delivered once and booked sent", $"{robot.Arrivals(appKey).Count:N0} / {sent:N0}", $"{robot.Arrivals(floorKey).Count:N0} / {floorBooked:N0}", "—",
                $"{Count:N0} / {Count:N0}", robot.Arrivals(appKey).Count == Count && sent == Count ? "pass" : "fail"),
        ];
    }

    private static async Task<bool> WaitAsync(WebhookReceiver robot, string key, TimeSpan limit, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        while (robot.Arrivals(key).Count < Count && watch.Elapsed < limit)
        {
            await Task.Delay(100, ct);
        }
        return robot.Arrivals(key).Count >= Count;
    }

    private static async Task InsertAsync(BenchDb db, Guid org, Guid rep, DateTimeOffset due, string state, CancellationToken ct)
    {
        await using var connection = await db.OpenAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using var notification = db.Command(connection, tx, """
            INSERT INTO "Notifications" ("Id", "OrganizationId", "RecipientId", "Kind", "Parameters", "Link", "CreatedAt")
            VALUES (@id, @org, @rep, @kind, @parameters, @link, @at)
            """, ("@id", Guid.Empty), ("@org", org), ("@rep", rep), ("@kind", Kind), ("@parameters", ""), ("@link", "/"), ("@at", due));
        await using var delivery = db.Command(connection, tx, """
            INSERT INTO "NotificationDeliveries" ("Id", "OrganizationId", "NotificationId", "RecipientId", "Channel", "State", "Attempts", "NextAttemptAt", "CreatedAt")
            VALUES (@id, @org, @notification, @rep, 'WeCom', @state, 0, @at, @at)
            """, ("@id", Guid.Empty), ("@org", org), ("@notification", Guid.Empty), ("@rep", rep), ("@state", state), ("@at", due));
        for (var i = 0; i < Count; i++)
        {
            var id = Guid.CreateVersion7();
            notification.Parameters["@id"].Value = db.Convert(id);
            notification.Parameters["@parameters"].Value = $$"""{"subject":"提醒客户 {{i:D5}}","task":"下次联系"}""";
            await notification.ExecuteNonQueryAsync(ct);
            delivery.Parameters["@id"].Value = db.Convert(Guid.CreateVersion7());
            delivery.Parameters["@notification"].Value = db.Convert(id);
            await delivery.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    /// <summary>What the dispatcher does, by hand: due rows, a POST each (16 at a time), booked sent in batches.</summary>
    private static async Task<int> FloorAsync(BenchDb db, Guid rep, string url, CancellationToken ct)
    {
        var rows = await db.IdsAsync("""
            SELECT d."Id" FROM "NotificationDeliveries" d JOIN "Notifications" n ON n."Id" = d."NotificationId"
            WHERE d."RecipientId" = @rep AND d."State" = 'FloorPending' ORDER BY d."NextAttemptAt"
            """, ct, ("@rep", rep));
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16 };
        using var http = new HttpClient(handler);
        var booked = 0;
        foreach (var batch in rows.Chunk(200))
        {
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (id, token) =>
            {
                using var response = await http.PostAsJsonAsync(url, new { msgtype = "text", text = new { content = $"提醒 {id}" } }, token);
                response.EnsureSuccessStatusCode();
            });
            var list = string.Join(",", batch.Select((_, i) => $"@p{i}"));
            var sql = $"""UPDATE "NotificationDeliveries" SET "State" = 'Sent', "Attempts" = 1 WHERE "Id" IN ({list})""";
            await using var connection = await db.OpenAsync(ct);
            await using var cmd = db.Command(connection, null, sql, batch.Select((id, i) => ($"@p{i}", (object?)id)).ToArray());
            booked += await cmd.ExecuteNonQueryAsync(ct);
        }
        return booked;
    }

    private static async Task CleanAsync(BenchDb db, Guid rep, CancellationToken ct)
    {
        await db.ExecAsync("""DELETE FROM "NotificationDeliveries" WHERE "RecipientId" = @rep""", ct, ("@rep", rep));
        await db.ExecAsync("""DELETE FROM "Notifications" WHERE "RecipientId" = @rep AND "Kind" = @kind""", ct, ("@rep", rep), ("@kind", Kind));
    }
}
