using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Tideflow.Bench.Generation;
using Tideflow.Bench.Loading;
using Tideflow.Domain.Leads;

namespace Tideflow.Bench.Running;

/// <summary>
/// Scenario 2, import: a generated CSV (about 5 % repeats of existing leads, 1 % impossible numbers) uploaded through
/// <c>POST /api/imports</c>, started with the preview's mapping, polled until Completed; the time is from the start
/// request to Completed. The floor parses and normalizes the same kind of file in-process (the app's own
/// ContactRules), looks up existing contact keys, and writes leads, keys and touches with prepared INSERTs (SQLite) or
/// binary COPY (PostgreSQL) in 10,000-row transactions. App and floor import different files (disjoint contacts), so
/// neither finds the other's rows. With --import-floor leads the floor writes the lead rows only (no contact keys, no
/// touches): what any design that stores a lead as one row would still cost, to tell a slow design from a slow machine.
/// </summary>
public static class ImportScenario
{
    private const int FloorBatch = 10_000;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    public static async Task<IReadOnlyList<ResultRow>> RunAsync(AppProcess app, RunOptions o, Generator generator, Organisation org,
        string connectionString, bool isPostgres, TextWriter log, CancellationToken ct)
    {
        var rowsWanted = o.ImportRows;
        // Three files a run: the warm-up's 3m, the app's 3m + 1, the floor's 3m + 2, m one past the files the app has
        // imported before (named in ImportJobs), so a run stopped half-way never makes the next one reuse a file.
        await using var db = new BenchDb(isPostgres, connectionString);
        var imported = (await db.TextsAsync("""SELECT "FileName" FROM "ImportJobs" WHERE "FileName" LIKE 'bench-leads-%' """, ct))
            .Select(n => int.TryParse(n["bench-leads-".Length..^".csv".Length], out var k) ? k : -1).DefaultIfEmpty(-1).Max();
        var m = (imported + 1) / 3 + 1;
        if (3 * m + 2 >= Generator.ImportFiles)
        {
            throw new InvalidOperationException($"This data set has had {imported + 1} bench import files; the generator makes " +
                                                $"{Generator.ImportFiles}. Load it again (run without --reuse).");
        }
        var (warmFile, appFile, floorFile) = (3 * m, 3 * m + 1, 3 * m + 2);
        var appRows = generator.ImportRows(appFile, rowsWanted).ToList();
        var floorRows = generator.ImportRows(floorFile, rowsWanted).ToList();
        var adminToken = org.Tokens.Single(t => t.UserId == org.Admin.Id).Secret;

        using var http = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);

        string? warmUp = null;
        if (o.ImportWarmUpRows > 0)
        {
            var warmRows = generator.ImportRows(warmFile, o.ImportWarmUpRows).ToList();
            var (time, done, _) = await ImportAsync(http, warmRows, $"bench-leads-{warmFile}.csv", log, ct);
            if (!done)
            {
                // The measured import would queue behind it and count its rest.
                throw new InvalidOperationException($"The warm-up import did not complete in {Limit.TotalSeconds:F0} s.");
            }
            warmUp = $"{time.TotalSeconds:F1} s for {warmRows.Count:N0} rows";
            log.WriteLine($"import warm-up: {warmRows.Count:N0} rows completed in {time.TotalSeconds:F1} s");
        }
        var (appTime, completed, status) = await ImportAsync(http, appRows, $"bench-leads-{appFile}.csv", log, ct);
        int Count(string name) => status.ValueKind == JsonValueKind.Object ? status.GetProperty(name).GetInt32() : -1;
        var expected = (New: appRows.Count(r => r.Kind == ImportRowKind.New), Repeat: appRows.Count(r => r.Kind == ImportRowKind.Repeat),
            Invalid: appRows.Count(r => r.Kind == ImportRowKind.Invalid));
        var countsMatch = Count("created") == expected.New && Count("duplicates") == expected.Repeat && Count("invalid") == expected.Invalid;

        var floorText = Generator.ImportCsv(floorRows);
        var floorClock = Stopwatch.StartNew();
        var floorCounts = isPostgres
            ? await FloorPostgresAsync(connectionString, org.Organization.Id, floorText, o.ImportFloorLeadsOnly, ct)
            : FloorSqlite(connectionString, org.Organization.Id, floorText, o.ImportFloorLeadsOnly);
        var floorTime = floorClock.Elapsed;
        log.WriteLine($"import floor{(o.ImportFloorLeadsOnly ? " (lead rows only)" : "")}: {floorTime.TotalSeconds:F1} s ({floorCounts.Normalizing.TotalSeconds:F1} s parsing and normalizing); created {floorCounts.Created}, duplicates {floorCounts.Duplicates}, invalid {floorCounts.Invalid}");

        var absolute = isPostgres ? 4 : 8;
        // A floor of the lead rows only writes less than the app must: the ratio to it is shown, not judged.
        var leadsOnly = o.ImportFloorLeadsOnly;
        var name = $"import, {rowsWanted:N0}-row CSV, start → Completed" + (warmUp is null ? " (the app's first)" : $" (after a warm-up import: {warmUp})");
        var rows = new List<ResultRow>
        {
            new(name, completed ? $"{appTime.TotalSeconds:F1} s" : $"not completed in {Limit.TotalSeconds:F0} s",
                $"{floorTime.TotalSeconds:F2} s" + (leadsOnly ? " (lead rows only)" : ""),
                $"{appTime.TotalSeconds / floorTime.TotalSeconds:F1}×" + (leadsOnly ? " (not judged)" : ""),
                $"< {absolute} s (< 15 s)" + (leadsOnly ? "" : " and ≤ 2× floor"),
                completed && appTime.TotalSeconds < absolute && (leadsOnly || appTime <= 2 * floorTime) ? "pass" : "fail"),
        };
        if (!countsMatch)
        {
            rows.Add(new ResultRow("import counts (created / duplicates / invalid)", $"{Count("created")} / {Count("duplicates")} / {Count("invalid")}",
                $"{floorCounts.Created} / {floorCounts.Duplicates} / {floorCounts.Invalid}", "", $"{expected.New} / {expected.Repeat} / {expected.Invalid}", "fail"));
        }
        return rows;
    }

    /// <summary>Uploads a file, starts it with the preview's mapping and polls until it ends; the time runs from the start request.</summary>
    private static async Task<(TimeSpan Time, bool Completed, JsonElement Status)> ImportAsync(HttpClient http, List<ImportRow> rows, string fileName,
        TextWriter log, CancellationToken ct)
    {
        var csv = Encoding.UTF8.GetBytes(Generator.ImportCsv(rows));
        var upload = Stopwatch.StartNew();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(csv);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", fileName);
        using var previewResponse = await http.PostAsync(new Uri("api/imports", UriKind.Relative), form, ct);
        var previewText = await previewResponse.Content.ReadAsStringAsync(ct);
        if (!previewResponse.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"upload answered {(int)previewResponse.StatusCode}: {previewText}");
        }
        using var preview = JsonDocument.Parse(previewText);
        var jobId = preview.RootElement.GetProperty("jobId").GetGuid();
        var mapping = preview.RootElement.GetProperty("mapping").Deserialize<Dictionary<string, string>>()!;
        var previewRows = preview.RootElement.GetProperty("rows").GetInt32();
        upload.Stop();
        if (previewRows != rows.Count || mapping.GetValueOrDefault("手机号码") != "mobile")
        {
            throw new InvalidOperationException($"preview: {previewRows} rows, mapping {JsonSerializer.Serialize(mapping)}");
        }

        var clock = Stopwatch.StartNew();
        using (var start = await http.PostAsJsonAsync(new Uri($"api/imports/{jobId}/start", UriKind.Relative),
                   new { mapping, dryRun = false }, ct))
        {
            if (!start.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"start answered {(int)start.StatusCode}: {await start.Content.ReadAsStringAsync(ct)}");
            }
        }
        JsonElement status = default;
        var completed = false;
        while (clock.Elapsed < Limit)
        {
            using var poll = await http.GetAsync(new Uri($"api/imports/{jobId}", UriKind.Relative), ct);
            using var json = JsonDocument.Parse(await poll.Content.ReadAsStringAsync(ct));
            status = json.RootElement.Clone();
            var state = status.GetProperty("status").ToString();
            if (state is "Completed" or "Failed" or "2" or "3")
            {
                completed = state is "Completed";
                break;
            }
            await Task.Delay(100, ct);
        }
        var time = clock.Elapsed;
        log.WriteLine($"import app ({fileName}): upload + preview {upload.Elapsed.TotalSeconds:F1} s; start → {(completed ? "Completed" : "not completed")} " +
                      $"{time.TotalSeconds:F1} s; {status}");
        return (time, completed, status);
    }

    private sealed record Parsed(Guid LeadId, string? Name, string? Company, string? CompanyKey, string? Mobile, string? Email,
        string Status, string? Problems, IReadOnlyList<string> Keys, string Raw);

    /// <param name="Normalizing">Of the floor's time, parsing and normalizing the rows (one thread): what no storage design saves.</param>
    public sealed record FloorCounts(int Created, int Duplicates, int Invalid, TimeSpan Normalizing);

    /// <summary>Parse and normalize one line as the app does (same domain rules); keys are what dedup looks up.</summary>
    private static Parsed Normalize(string line)
    {
        var cells = line.Split(',');
        string? Cell(int i) => i < cells.Length && !string.IsNullOrWhiteSpace(cells[i]) ? cells[i].Trim() : null;
        var contact = ContactRules.Normalize(new ContactInput(Cell(0), Cell(1), Cell(2), Cell(3)), EmptyBlocklist);
        var raw = JsonSerializer.Serialize(new { name = Cell(0), company = Cell(1), mobile = Cell(2), email = Cell(3) });
        return new Parsed(Guid.CreateVersion7(), contact.Name, contact.Company, contact.CompanyKey, contact.Mobile ?? Cell(2),
            contact.Email ?? Cell(3), contact.IsValid ? "New" : "Invalid", contact.IsValid ? null : string.Join(",", contact.Problems),
            contact.IsValid ? DuplicateRules.Keys(contact) : [], raw);
    }

    private static readonly HashSet<string> EmptyBlocklist = new(StringComparer.OrdinalIgnoreCase);

    private static FloorCounts FloorSqlite(string connectionString, Guid org, string csv, bool leadsOnly)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = BenchDb.SqlitePragmas;
            pragma.ExecuteNonQuery();
        }
        var orgId = SqliteLoader.Id(org)!;
        using var lookup = Prepare(connection, """SELECT "LeadId" FROM "ContactKeys" WHERE "OrganizationId" = @p1 AND "Key" = @p2""", 2);
        using var lead = Prepare(connection,
            """
            INSERT INTO "Leads" ("Id", "OrganizationId", "Name", "Company", "CompanyKey", "Mobile", "Email", "SourceTag", "Status",
                "Problems", "RawPayload", "ArrivedAt", "UpdatedAt", "BantBudget", "BantAuthority", "BantNeed", "BantTimeline", "BehaviourCount", "BehaviourPoints")
            VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, '导入', @p8, @p9, @p10, @p11, @p11, FALSE, FALSE, FALSE, FALSE, 0, 0)
            """, 11);
        using var key = Prepare(connection, """INSERT INTO "ContactKeys" ("OrganizationId", "Key", "LeadId") VALUES (@p1, @p2, @p3)""", 3);
        using var touch = Prepare(connection,
            """INSERT INTO "LeadTouches" ("Id", "OrganizationId", "LeadId", "Kind", "At", "RawPayload") VALUES (@p1, @p2, @p3, 'import', @p4, @p5)""", 5);
        int created = 0, duplicates = 0, invalid = 0;
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var now = SqliteLoader.Ticks(TimeProvider.System.GetUtcNow());
        var normalizing = TimeSpan.Zero;
        foreach (var batch in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Chunk(FloorBatch))
        {
            using var tx = connection.BeginTransaction();
            lookup.Transaction = lead.Transaction = key.Transaction = touch.Transaction = tx;
            foreach (var line in batch)
            {
                var started = Stopwatch.GetTimestamp();
                var p = Normalize(line);
                normalizing += Stopwatch.GetElapsedTime(started);
                string? match = null;
                foreach (var k in p.Keys)
                {
                    if (seen.TryGetValue(k, out var s))
                    {
                        match = s;
                        break;
                    }
                    if (Run(lookup, orgId, k) is string found)
                    {
                        match = found;
                        break;
                    }
                }
                string leadId;
                if (match is not null)
                {
                    leadId = match;
                    duplicates++;
                }
                else
                {
                    leadId = SqliteLoader.Id(p.LeadId)!;
                    Exec(lead, leadId, orgId, p.Name, p.Company, p.CompanyKey, p.Mobile, p.Email, p.Status, p.Problems, p.Raw, now);
                    foreach (var k in p.Keys)
                    {
                        if (!leadsOnly)
                        {
                            Exec(key, orgId, k, leadId);
                        }
                        seen[k] = leadId;
                    }
                    if (p.Status == "New")
                    {
                        created++;
                    }
                    else
                    {
                        invalid++;
                    }
                }
                if (!leadsOnly)
                {
                    Exec(touch, SqliteLoader.Id(Guid.CreateVersion7()), orgId, leadId, now, p.Raw);
                }
            }
            tx.Commit();
        }
        return new FloorCounts(created, duplicates, invalid, normalizing);
    }

    private static async Task<FloorCounts> FloorPostgresAsync(string connectionString, Guid org, string csv, bool leadsOnly, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        int created = 0, duplicates = 0, invalid = 0;
        var seen = new Dictionary<string, Guid>(StringComparer.Ordinal);
        var now = TimeProvider.System.GetUtcNow();
        var normalizing = TimeSpan.Zero;
        foreach (var batch in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Chunk(FloorBatch))
        {
            var started = Stopwatch.GetTimestamp();
            var parsed = batch.Select(Normalize).ToList();
            normalizing += Stopwatch.GetElapsedTime(started);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var existing = new Dictionary<string, Guid>(StringComparer.Ordinal);
            // A thousand keys a query, as the app: a whole batch's keys in one `= ANY` are planned as a scan of the table.
            foreach (var keys in parsed.SelectMany(p => p.Keys).Distinct().Chunk(1000))
            {
                await using var lookup = new NpgsqlCommand(
                    """SELECT "Key", "LeadId" FROM "ContactKeys" WHERE "OrganizationId" = @org AND "Key" = ANY(@keys)""", connection, tx);
                lookup.Parameters.AddWithValue("org", org);
                lookup.Parameters.AddWithValue("keys", keys);
                await using var reader = await lookup.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    existing.TryAdd(reader.GetString(0), reader.GetGuid(1));
                }
            }
            var newLeads = new List<Parsed>();
            var touches = new List<(Guid Lead, string Raw)>();
            foreach (var p in parsed)
            {
                Guid? match = null;
                foreach (var k in p.Keys)
                {
                    if (seen.TryGetValue(k, out var s) || existing.TryGetValue(k, out s))
                    {
                        match = s;
                        break;
                    }
                }
                if (match is { } m)
                {
                    duplicates++;
                    touches.Add((m, p.Raw));
                    continue;
                }
                newLeads.Add(p);
                foreach (var k in p.Keys)
                {
                    seen[k] = p.LeadId;
                }
                touches.Add((p.LeadId, p.Raw));
                if (p.Status == "New")
                {
                    created++;
                }
                else
                {
                    invalid++;
                }
            }
            await using (var w = await connection.BeginBinaryImportAsync(
                             """
                             COPY "Leads" ("Id", "OrganizationId", "Name", "Company", "CompanyKey", "Mobile", "Email", "SourceTag", "Status",
                                 "Problems", "RawPayload", "ArrivedAt", "UpdatedAt") FROM STDIN (FORMAT BINARY)
                             """, ct))
            {
                foreach (var p in newLeads)
                {
                    await w.StartRowAsync(ct);
                    await w.WriteAsync(p.LeadId, NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync(org, NpgsqlDbType.Uuid, ct);
                    await Text(w, p.Name, ct);
                    await Text(w, p.Company, ct);
                    await Text(w, p.CompanyKey, ct);
                    await Text(w, p.Mobile, ct);
                    await Text(w, p.Email, ct);
                    await w.WriteAsync("导入", NpgsqlDbType.Varchar, ct);
                    await w.WriteAsync(p.Status, NpgsqlDbType.Varchar, ct);
                    await Text(w, p.Problems, ct);
                    await w.WriteAsync(p.Raw, NpgsqlDbType.Varchar, ct);
                    await w.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                    await w.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                }
                await w.CompleteAsync(ct);
            }
            if (leadsOnly)
            {
                await tx.CommitAsync(ct);
                continue;
            }
            await using (var w = await connection.BeginBinaryImportAsync(
                             """COPY "ContactKeys" ("OrganizationId", "Key", "LeadId") FROM STDIN (FORMAT BINARY)""", ct))
            {
                foreach (var p in newLeads)
                {
                    foreach (var k in p.Keys)
                    {
                        await w.StartRowAsync(ct);
                        await w.WriteAsync(org, NpgsqlDbType.Uuid, ct);
                        await w.WriteAsync(k, NpgsqlDbType.Varchar, ct);
                        await w.WriteAsync(p.LeadId, NpgsqlDbType.Uuid, ct);
                    }
                }
                await w.CompleteAsync(ct);
            }
            await using (var w = await connection.BeginBinaryImportAsync(
                             """COPY "LeadTouches" ("Id", "OrganizationId", "LeadId", "Kind", "At", "RawPayload") FROM STDIN (FORMAT BINARY)""", ct))
            {
                foreach (var (leadId, raw) in touches)
                {
                    await w.StartRowAsync(ct);
                    await w.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync(org, NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync(leadId, NpgsqlDbType.Uuid, ct);
                    await w.WriteAsync("import", NpgsqlDbType.Varchar, ct);
                    await w.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                    await w.WriteAsync(raw, NpgsqlDbType.Varchar, ct);
                }
                await w.CompleteAsync(ct);
            }
            await tx.CommitAsync(ct);
        }
        return new FloorCounts(created, duplicates, invalid, normalizing);
    }

    private static async Task Text(NpgsqlBinaryImporter w, string? value, CancellationToken ct)
    {
        if (value is null)
        {
            await w.WriteNullAsync(ct);
        }
        else
        {
            await w.WriteAsync(value, NpgsqlDbType.Varchar, ct);
        }
    }

    private static SqliteCommand Prepare(SqliteConnection connection, string sql, int parameters)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        for (var i = 1; i <= parameters; i++)
        {
            cmd.Parameters.Add(new SqliteParameter("@p" + i, null));
        }
        return cmd;
    }

    private static object? Run(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        var result = cmd.ExecuteScalar();
        return result is DBNull ? null : result;
    }

    private static void Exec(SqliteCommand cmd, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
        cmd.ExecuteNonQuery();
    }
}
