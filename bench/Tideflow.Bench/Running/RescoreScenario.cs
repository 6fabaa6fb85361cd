using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Tideflow.Bench.Generation;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Scoring;

namespace Tideflow.Bench.Running;

/// <summary>
/// Re-scoring every open lead after a rule change (issue 4: 1M open leads &lt; 60 s on PostgreSQL, with the app still
/// serving). The admin saves a new score-card version and starts the job through the API; while it runs, the rep's
/// customer list is asked for 80 times a second (<see cref="Api.UnderListLoadAsync"/>, --list-rate), and its p99 is
/// reported. The time is the job's own (created → finished).
/// The floor runs under the same list load.
/// <b>Floor</b>: the same leads read with one query, scored by the same <see cref="LeadScoring.Apply"/> in-process,
/// and the same five columns written back (SQLite: prepared UPDATEs in 10,000-row transactions; PostgreSQL: binary
/// COPY into a temporary table and one UPDATE … FROM per 100,000 leads).
/// </summary>
public static class RescoreScenario
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(600);

    public static async Task<IReadOnlyList<ResultRow>> RunAsync(AppProcess app, RunOptions o, Organisation org, string connectionString,
        bool isPostgres, TextWriter log, CancellationToken ct)
    {
        var adminToken = org.Tokens.Single(t => t.UserId == org.Admin.Id).Secret;
        var repToken = org.Tokens.Single(t => t.UserId == org.BenchRep.Id).Secret;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16 };
        using var http = new HttpClient(handler) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

        // A rule change: contact completeness gets a share, so most leads' scores move.
        var card = ScoreCard.Default with
        {
            Criteria = ScoreCard.Default.Criteria.Select(c => c.Name.Contains("Budget", StringComparison.Ordinal) ? c with { Weight = 30 }
                : c.Name.Contains("Contact", StringComparison.Ordinal) ? c with { Weight = 10 } : c).ToList(),
        };
        using (var saved = await Api.SendAsync(http, HttpMethod.Put, "api/scoring/card", adminToken, card, ct))
        {
            saved.EnsureSuccessStatusCode();
        }
        JsonElement job;
        using (var started = await Api.SendAsync(http, HttpMethod.Post, "api/scoring/rescore", adminToken, null, ct))
        {
            started.EnsureSuccessStatusCode();
            job = JsonDocument.Parse(await started.Content.ReadAsStringAsync(ct)).RootElement.Clone();
        }
        var id = job.GetProperty("id").GetGuid();
        var total = job.GetProperty("total").GetInt32();
        log.WriteLine($"rescore: job {id} over {total:N0} open leads");

        // Keep the app busy with the list while the job runs, and watch its latency.
        var deadline = Stopwatch.StartNew();
        var (latencies, errors) = await Api.UnderListLoadAsync(http, repToken, o.ListRate, async () =>
        {
            while (job.GetProperty("status").GetString() == "Running" && deadline.Elapsed < Limit)
            {
                await Task.Delay(200, ct);
                using var poll = await Api.SendAsync(http, HttpMethod.Get, $"api/scoring/rescore/{id}", adminToken, null, ct);
                job = JsonDocument.Parse(await poll.Content.ReadAsStringAsync(ct)).RootElement.Clone();
            }
        }, ct);
        var status = job.GetProperty("status").GetString();
        var seconds = status == "Completed"
            ? (job.GetProperty("finishedAt").GetDateTimeOffset() - job.GetProperty("createdAt").GetDateTimeOffset()).TotalSeconds
            : double.NaN;
        var p99 = Api.P99(latencies);
        log.WriteLine($"rescore app: {status} in {seconds:F1} s, {job.GetProperty("done").GetInt32():N0} done, " +
                      $"{job.GetProperty("regraded").GetInt32():N0} regraded; list during it: {latencies.Count} ok, {errors} errors, p50 {Api.Percentile(latencies, 0.5):F1}, p90 {Api.Percentile(latencies, 0.9):F1}, p99 {p99:F1} ms");

        // The floor runs under the same list load, so both share the cores with the same serving work.
        var floorWatch = Stopwatch.StartNew();
        var floorCount = 0;
        await Api.UnderListLoadAsync(http, repToken, o.ListRate, async () => floorCount = isPostgres
            ? await PostgresFloorAsync(connectionString, card, ct)
            : await SqliteFloorAsync(connectionString, card, ct), ct);
        var floorSeconds = floorWatch.Elapsed.TotalSeconds;
        log.WriteLine($"rescore floor: {floorCount:N0} leads in {floorSeconds:F1} s");

        var name = $"re-score {total:N0} open leads";
        var ratio = seconds / floorSeconds;
        return
        [
            new(name + " (job time)", $"{seconds:F1} s", $"{floorSeconds:F1} s", $"{ratio:F1}×",
                isPostgres ? "< 60 s per 1M and ≤ 2× floor" : "≤ 2× floor",
                status == "Completed" && ratio <= 2 && (!isPostgres || seconds < 60.0 * total / 1_000_000) ? "pass" : "fail"),
            new($"customer list p99 while re-scoring ({Api.ListLoad(o.ListRate)})", $"{p99:F1} ms", "—", "—", "serving, no errors",
                errors == 0 && latencies.Count > 0 ? "pass" : "fail"),
        ];
    }

    private const string Select = """
        SELECT l."Id", l."Name", l."Company", l."Mobile", l."Email", l."Tags", l."SourceTag", l."Campaign", l."Fields",
               l."BehaviourPoints", l."BehaviourAsOf", c."Name", c."Kind"
        FROM "Leads" l LEFT JOIN "Channels" c ON c."Id" = l."ChannelId"
        WHERE l."Status" IN ('New', 'Queued', 'Nurture')
        """;

    private static IEnumerable<Lead> Read(DbDataReader r, Func<DbDataReader, int, DateTimeOffset?> instant, ScoreCard card)
    {
        while (r.Read())
        {
            var lead = new Lead
            {
                Id = r.GetGuid(0), Name = Str(r, 1), Company = Str(r, 2), Mobile = Str(r, 3), Email = Str(r, 4), Tags = Str(r, 5),
                SourceTag = Str(r, 6), Campaign = Str(r, 7), Fields = Str(r, 8), BehaviourPoints = r.GetDouble(9), BehaviourAsOf = instant(r, 10),
            };
            var channel = r.IsDBNull(11) ? null : new Channel
            {
                Name = r.GetString(11), Kind = Enum.Parse<ChannelKind>(r.GetString(12)), SourceTag = "", Key = "",
            };
            LeadScoring.Apply(lead, channel, card, 0, TimeProvider.System.GetUtcNow());
            yield return lead;
        }
    }

    private static string? Str(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static async Task<int> SqliteFloorAsync(string connectionString, ScoreCard card, CancellationToken ct)
    {
        await using var read = new SqliteConnection(connectionString);
        await read.OpenAsync(ct);
        await using var write = new SqliteConnection(connectionString);
        await write.OpenAsync(ct);
        await using var select = read.CreateCommand();
        select.CommandText = Select;
        await using var reader = await select.ExecuteReaderAsync(ct);
        var count = 0;
        var tx = write.BeginTransaction();
        await using var update = write.CreateCommand();
        update.Transaction = tx;
        update.CommandText = """UPDATE "Leads" SET "Score" = $s, "Grade" = $g, "ScoreVersion" = $v, "ScoredAt" = $t, "ScoreBreakdown" = $b WHERE "Id" = $id""";
        var ps = new[] { "$s", "$g", "$v", "$t", "$b", "$id" }.Select(n => update.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
        update.Prepare();
        foreach (var lead in Read(reader, (r, i) => r.IsDBNull(i) ? null : new DateTimeOffset(r.GetInt64(i), TimeSpan.Zero), card))
        {
            ps[0].Value = lead.Score;
            ps[1].Value = lead.Grade;
            ps[2].Value = lead.ScoreVersion;
            ps[3].Value = lead.ScoredAt!.Value.UtcTicks;
            ps[4].Value = lead.ScoreBreakdown;
            ps[5].Value = lead.Id.ToString().ToUpperInvariant();
            await update.ExecuteNonQueryAsync(ct);
            if (++count % 10_000 == 0)
            {
                await tx.CommitAsync(ct);
                tx = write.BeginTransaction();
                update.Transaction = tx;
            }
        }
        await tx.CommitAsync(ct);
        return count;
    }

    private static async Task<int> PostgresFloorAsync(string connectionString, ScoreCard card, CancellationToken ct)
    {
        await using var read = new NpgsqlConnection(connectionString);
        await read.OpenAsync(ct);
        await using var write = new NpgsqlConnection(connectionString);
        await write.OpenAsync(ct);
        await using var select = new NpgsqlCommand(Select, read);
        await using var reader = await select.ExecuteReaderAsync(ct);
        var count = 0;
        using var leads = Read(reader, (r, i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i), card).GetEnumerator();
        while (true)
        {
            await using (var create = new NpgsqlCommand("""
                CREATE TEMP TABLE IF NOT EXISTS rescored ("Id" uuid, "Score" int, "Grade" text, "ScoreVersion" int, "ScoredAt" timestamptz, "ScoreBreakdown" text);
                TRUNCATE rescored;
                """, write))
            {
                await create.ExecuteNonQueryAsync(ct);
            }
            var batch = 0;
            await using (var copy = await write.BeginBinaryImportAsync("""COPY rescored ("Id", "Score", "Grade", "ScoreVersion", "ScoredAt", "ScoreBreakdown") FROM STDIN (FORMAT BINARY)""", ct))
            {
                while (batch < 100_000 && leads.MoveNext())
                {
                    var l = leads.Current;
                    await copy.StartRowAsync(ct);
                    await copy.WriteAsync(l.Id, NpgsqlDbType.Uuid, ct);
                    await copy.WriteAsync(l.Score!.Value, NpgsqlDbType.Integer, ct);
                    await copy.WriteAsync(l.Grade!, NpgsqlDbType.Text, ct);
                    await copy.WriteAsync(l.ScoreVersion!.Value, NpgsqlDbType.Integer, ct);
                    await copy.WriteAsync(l.ScoredAt!.Value, NpgsqlDbType.TimestampTz, ct);
                    await copy.WriteAsync(l.ScoreBreakdown!, NpgsqlDbType.Text, ct);
                    batch++;
                }
                await copy.CompleteAsync(ct);
            }
            if (batch == 0)
            {
                return count;
            }
            await using (var update = new NpgsqlCommand("""
                UPDATE "Leads" l SET "Score" = r."Score", "Grade" = r."Grade", "ScoreVersion" = r."ScoreVersion",
                    "ScoredAt" = r."ScoredAt", "ScoreBreakdown" = r."ScoreBreakdown"
                FROM rescored r WHERE l."Id" = r."Id"
                """, write))
            {
                await update.ExecuteNonQueryAsync(ct);
            }
            count += batch;
        }
    }
}
