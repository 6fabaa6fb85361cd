using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

/// <summary>A field a column can be mapped to: a built-in one (no label; the UI names it) or a custom field.</summary>
public sealed record ImportTarget(string Key, string? Label, bool Required);

public sealed record ImportPreview(Guid JobId, string FileName, string Encoding, IReadOnlyList<string> Headers,
    IReadOnlyList<string[]> Sample, IReadOnlyDictionary<string, string> Mapping, int Rows, IReadOnlyList<ImportTarget> Targets);

public sealed record ImportJobView(Guid Id, string FileName, ImportStatus Status, bool DryRun, int Total, int Processed,
    int Created, int Duplicates, int Invalid, int Repeated, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt, int Rejected = 0);

/// <summary>Header → lead field (<see cref="ImportLeads.Fields"/> or a custom field key; "" ignores the column).</summary>
public sealed record StartImportRequest([property: Required] Dictionary<string, string> Mapping, Guid? ChannelId, bool DryRun, string? Encoding);

/// <summary>Upload, preview with a remembered column mapping, then a background run with progress and a report.</summary>
public sealed class ImportLeads(TideflowDbContext db, CurrentUser me, TimeProvider clock, JobQueue<ImportRunner> queue)
{
    public const int MaxFileBytes = 50 * 1024 * 1024;
    public static readonly string[] Fields = ["name", "company", "mobile", "email", "utm_source", "utm_medium", "utm_campaign",
        "budget", "urgency", "authority", "need", "industry", "region", "product"];

    private static readonly Dictionary<string, string> Guesses = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "name", ["姓名"] = "name", ["联系人"] = "name", ["客户姓名"] = "name",
        ["budget"] = "budget", ["预算"] = "budget", ["urgency"] = "urgency", ["紧迫度"] = "urgency", ["购买时间"] = "urgency",
        ["authority"] = "authority", ["决策权"] = "authority", ["角色"] = "authority", ["need"] = "need", ["需求"] = "need",
        ["industry"] = "industry", ["行业"] = "industry", ["region"] = "region", ["地区"] = "region", ["省份"] = "region",
        ["product"] = "product", ["产品"] = "product", ["意向产品"] = "product",
        ["company"] = "company", ["公司"] = "company", ["公司名称"] = "company", ["单位"] = "company", ["企业名称"] = "company",
        ["mobile"] = "mobile", ["phone"] = "mobile", ["手机"] = "mobile", ["手机号"] = "mobile", ["手机号码"] = "mobile", ["电话"] = "mobile", ["联系电话"] = "mobile",
        ["email"] = "email", ["邮箱"] = "email", ["电子邮箱"] = "email", ["e-mail"] = "email",
        ["utm_source"] = "utm_source", ["utm_medium"] = "utm_medium", ["utm_campaign"] = "utm_campaign", ["活动"] = "utm_campaign",
    };

    public async Task<ImportPreview> PreviewAsync(string fileName, byte[] content, string? encoding, CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        if (content.Length == 0)
        {
            throw Problem.Invalid("file", "The file is empty.");
        }
        if (content.Length > MaxFileBytes)
        {
            throw Problem.Invalid("file", $"The file is larger than {MaxFileBytes / 1024 / 1024} MB.");
        }
        var chosen = encoding is null or "" ? ImportFile.DetectEncoding(content) : encoding.ToLowerInvariant();
        if (chosen is not ("utf-8" or "gb18030" or "gbk"))
        {
            throw Problem.Invalid("encoding", "Use utf-8 or gbk.");
        }
        List<string[]> rows;
        try
        {
            rows = ImportFile.Rows(fileName, content, chosen).Take(11).ToList();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or CsvHelper.CsvHelperException or InvalidOperationException)
        {
            throw Problem.Invalid("file", $"The file cannot be read as CSV or .xlsx: {e.Message}");
        }
        if (rows.Count == 0 || rows[0].All(string.IsNullOrWhiteSpace))
        {
            throw Problem.Invalid("file", "The first row must hold the column names.");
        }
        var headers = rows[0].Select(h => h.Trim()).ToList();
        var custom = await ManageCustomFields.ActiveAsync(db, CustomFieldTarget.Lead, ct);
        var template = await db.ImportTemplates.AsNoTracking().SingleOrDefaultAsync(t => t.HeaderKey == HeaderKey(headers), ct);
        var mapping = template is not null
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(template.Mapping)!
            : headers.ToDictionary(h => h, h => Guesses.GetValueOrDefault(h) ?? CustomFields.Named(custom, h)?.Key ?? "");
        var job = new ImportJob
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, CreatedById = me.Id, FileName = Path.GetFileName(fileName),
            FileHash = Convert.ToHexStringLower(SHA256.HashData(content)), Content = content, Encoding = chosen,
            Status = ImportStatus.Uploaded, CreatedAt = clock.GetUtcNow(),
        };
        db.ImportJobs.Add(job);
        await db.SaveChangesAsync(ct);
        var total = ImportFile.Rows(fileName, content, chosen).Skip(1).Count(r => !r.All(string.IsNullOrWhiteSpace));
        var targets = Fields.Select(f => new ImportTarget(f, null, false)).Concat(custom.Select(f => new ImportTarget(f.Key, f.Label, f.Required))).ToList();
        return new ImportPreview(job.Id, job.FileName, chosen, headers, rows.Skip(1).ToList(), mapping, total, targets);
    }

    public async Task<ImportJobView> StartAsync(Guid id, StartImportRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        Problem.ThrowIfInvalid(request);
        var job = await db.ImportJobs.SingleOrDefaultAsync(j => j.Id == id, ct) ?? throw Problem.NotFound("Import");
        if (job.Status == ImportStatus.Running)
        {
            throw Problem.Conflict("This import is already running.");
        }
        var custom = await ManageCustomFields.ActiveAsync(db, CustomFieldTarget.Lead, ct);
        if (request.Mapping.Values.FirstOrDefault(v => v != "" && !Fields.Contains(v) && !custom.Any(f => f.Key == v)) is { } bad)
        {
            throw Problem.Invalid("mapping", $"'{bad}' is not a lead field; use one of {string.Join(", ", Fields.Concat(custom.Select(f => f.Key)))}.");
        }
        // Without the column every row would be rejected; say so before the run, not 100,000 times after it.
        if (custom.FirstOrDefault(f => f.Required && !request.Mapping.ContainsValue(f.Key)) is { } missing)
        {
            throw Problem.Invalid("mapping", $"'{missing.Label}' ({missing.Key}) is a required field: map a column to it.");
        }
        if (!request.Mapping.Values.Any(v => v is "mobile" or "email"))
        {
            throw Problem.Invalid("mapping", "Map at least one column to mobile or email.");
        }
        if (request.ChannelId is { } channel && !await db.Channels.AnyAsync(c => c.Id == channel, ct))
        {
            throw Problem.Invalid("channelId", "No such channel.");
        }
        var mapping = JsonSerializer.Serialize(request.Mapping);
        var headers = request.Mapping.Keys.ToList();
        var key = HeaderKey(headers);
        var template = await db.ImportTemplates.SingleOrDefaultAsync(t => t.HeaderKey == key, ct);
        if (template is null)
        {
            db.ImportTemplates.Add(new ImportTemplate { Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, HeaderKey = key, Mapping = mapping });
        }
        else
        {
            template.Mapping = mapping;
        }
        job.Mapping = mapping;
        job.ChannelId = request.ChannelId;
        job.DryRun = request.DryRun;
        job.Encoding = string.IsNullOrWhiteSpace(request.Encoding) ? job.Encoding : request.Encoding.ToLowerInvariant();
        job.Status = ImportStatus.Running;
        job.Processed = job.Created = job.Duplicates = job.Invalid = job.Repeated = job.Rejected = 0;
        job.Report = null;
        job.Error = null;
        await db.SaveChangesAsync(ct);
        await queue.EnqueueAsync(job.Id, ct);
        return View(job);
    }

    public async Task<ImportJobView> GetAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        // Projected: a poll every few hundred milliseconds must not read the uploaded file (megabytes) and the report each time.
        return await Views(db.ImportJobs.Where(j => j.Id == id)).SingleOrDefaultAsync(ct) ?? throw Problem.NotFound("Import");
    }

    public async Task<List<ImportJobView>> ListAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        return await Views(db.ImportJobs.OrderByDescending(j => j.CreatedAt).Take(20)).ToListAsync(ct);
    }

    private static readonly System.Linq.Expressions.Expression<Func<ImportJob, ImportJobView>> AsView = j => new ImportJobView(j.Id,
        j.FileName, j.Status, j.DryRun, j.Total, j.Processed, j.Created, j.Duplicates, j.Invalid, j.Repeated, j.Error, j.CreatedAt,
        j.FinishedAt, j.Rejected);
    private static readonly Func<ImportJob, ImportJobView> View = AsView.Compile();

    private static IQueryable<ImportJobView> Views(IQueryable<ImportJob> jobs) => jobs.AsNoTracking().Select(AsView);

    /// <summary>The row-by-row report, a CSV download; downloading it is an export and is audited.</summary>
    public async Task<(string FileName, string Csv)> ReportAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        var job = await db.ImportJobs.AsNoTracking().Where(j => j.Id == id)
            .Select(j => new { j.FileName, j.Report, j.Status }).SingleOrDefaultAsync(ct) ?? throw Problem.NotFound("Import");
        if (job.Status != ImportStatus.Completed || job.Report is null)
        {
            throw Problem.Conflict("The report exists once the import has completed.");
        }
        db.Audit("export", nameof(ImportJob), id.ToString(), new { what = "import-report" });
        await db.SaveChangesAsync(ct);
        return ($"{Path.GetFileNameWithoutExtension(job.FileName)}-report.csv", job.Report);
    }

    private static string HeaderKey(IEnumerable<string> headers) =>
        Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\u001f", headers.Select(h => h.Trim().ToLowerInvariant())))));
}

/// <summary>
/// The import itself: the same normalization and duplicate rules as every channel, applied in batches of
/// 5,000 rows, each batch one transaction written in bulk with its <see cref="ImportReceipt"/>. Re-importing a file finds
/// the receipts and skips the rows they name.
/// On SQLite a batch holds the one write lock for about half a second, so a submission arriving meanwhile waits that
/// long; 1,000-row batches made the import 20 % slower (then, before SqliteCheckpointer, each commit checkpointed the WAL).
/// </summary>
public sealed class ImportRunner(TideflowDbContext db, CurrentUser current, TimeProvider clock, Assignment.LeadRouter router) : IJobRunner
{
    private const int BatchSize = 5000;
    private const int KeysPerLookup = 1000;
    private IReadOnlyList<TagRule> rules = [];
    private IReadOnlyList<CustomField> custom = [];
    private HashSet<string> customKeys = [];
    // Who owns a company, as far as this import knows: looked up once per company, then kept up to date by the import's
    // own routing. Companies recur all through a file, and asking again per batch made the lookups grow with the import
    // (each answer carried every lead the import had already given that company's rep). The price: an owner someone
    // else gives a company while the import runs (seconds to a minute) is not seen by the import's later batches.
    private Dictionary<string, Guid> companyOwners = [];
    private readonly HashSet<string> companiesLookedUp = [];

    public async Task RunAsync(Guid id, CancellationToken ct)
    {
        current.Set(DataScope.System);
        var job = await db.ImportJobs.SingleAsync(j => j.Id == id, ct);
        var author = await db.Users.Where(u => u.Id == job.CreatedById).Select(u => u.UserName).SingleOrDefaultAsync(ct);
        current.Set(DataScope.ForChannel(job.OrganizationId, "import"));
        db.AuditEntityChanges = false;

        var mapping = JsonSerializer.Deserialize<Dictionary<string, string>>(job.Mapping!)!;
        var rows = ImportFile.Rows(job.FileName, job.Content, job.Encoding).ToList();
        var headers = rows[0].Select(h => h.Trim()).ToList();
        var columns = headers.Select(h => mapping.GetValueOrDefault(h, "")).ToArray();
        var data = rows.Skip(1).Select((r, i) => (Row: i + 2, Cells: r)).Where(r => !r.Cells.All(string.IsNullOrWhiteSpace)).ToList();
        var channel = job.ChannelId is { } cid ? await db.Channels.SingleAsync(c => c.Id == cid, ct) : await ImportChannelAsync(job.OrganizationId, ct);
        // The blocklist, tagging rules and custom fields as capture sees them: the organisation's routing snapshot.
        var snapshot = await router.CurrentAsync(ct);
        var blocklist = snapshot.Blocklist;
        rules = snapshot.TagRules;
        custom = snapshot.CustomFields;
        customKeys = custom.Select(f => f.Key).ToHashSet();
        var report = new List<string[]>();
        report.Add(["row", "result", "reason", .. headers]);
        var seen = new Dictionary<string, Guid>();
        job.Total = data.Count;
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();

        var counts = new Counts();
        await using (await db.BulkWritingAsync(ct))
        {
            await ImportBatchesAsync(job, channel, columns, data, blocklist, seen, report, counts, ct);
        }

        var done = await db.ImportJobs.SingleAsync(j => j.Id == id, ct);
        done.Status = ImportStatus.Completed;
        done.FinishedAt = clock.GetUtcNow();
        done.Report = ImportFile.ToCsv(report);
        db.Audit(job.DryRun ? "import-dry-run" : "import", nameof(ImportJob), id.ToString(),
            new { file = job.FileName, counts.Processed, counts.Created, counts.Duplicates, counts.Invalid, counts.Repeated, counts.Rejected },
            organizationId: job.OrganizationId, actorId: job.CreatedById, actorName: author);
        await db.SaveChangesAsync(ct);
    }

    private async Task ImportBatchesAsync(ImportJob job, Channel channel, string[] columns, List<(int Row, string[] Cells)> data,
        IReadOnlySet<string> blocklist, Dictionary<string, Guid> seen, List<string[]> report, Counts counts, CancellationToken ct)
    {
        // Reading, normalizing and checking a row needs nothing from the database: the next batch's rows are prepared on
        // the other core while this batch is looked up, routed and written (one core was doing both, and writing is half).
        var batches = data.Chunk(BatchSize).ToList();
        var next = batches.Count > 0 ? Task.Run(() => Prepare(job, channel, columns, batches[0], blocklist), ct) : null;
        for (var b = 0; b < batches.Count; b++)
        {
            var batch = await next!;
            if (b + 1 < batches.Count)
            {
                var following = batches[b + 1];
                next = Task.Run(() => Prepare(job, channel, columns, following, blocklist), ct);
            }
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var batchCounts = await ImportBatchAsync(job, channel, batch, seen, report, ct);
                    counts.Add(batchCounts);
                    break;
                }
                catch (DbUpdateException e) when (attempt < 3 && CaptureLead.IsUniqueViolation(e))
                {
                    // A lead arrived on another channel with the same contact meanwhile: retry, it is a duplicate now.
                    db.ChangeTracker.Clear();
                }
            }
            await db.ImportJobs.Where(j => j.Id == job.Id).ExecuteUpdateAsync(u => u
                .SetProperty(j => j.Processed, counts.Processed).SetProperty(j => j.Created, counts.Created)
                .SetProperty(j => j.Duplicates, counts.Duplicates).SetProperty(j => j.Invalid, counts.Invalid)
                .SetProperty(j => j.Repeated, counts.Repeated).SetProperty(j => j.Rejected, counts.Rejected), ct);
        }
    }

    public async Task FailAsync(Guid id, string error)
    {
        db.ChangeTracker.Clear();
        current.Set(DataScope.System);
        await db.ImportJobs.Where(j => j.Id == id).ExecuteUpdateAsync(u => u
            .SetProperty(j => j.Status, ImportStatus.Failed).SetProperty(j => j.Error, error.Length > 2000 ? error[..2000] : error));
    }

    private sealed class Counts
    {
        public int Processed, Created, Duplicates, Invalid, Repeated, Rejected;

        public void Add(Counts c)
        {
            Processed += c.Processed;
            Created += c.Created;
            Duplicates += c.Duplicates;
            Invalid += c.Invalid;
            Repeated += c.Repeated;
            Rejected += c.Rejected;
        }
    }

    /// <summary>
    /// One row as far as it can be taken without the database: its fields, normalized contact and duplicate keys, the
    /// payload it stores, and (for a new lead) its custom fields checked and its tags.
    /// </summary>
    private sealed record PreparedRow(int Row, string[] Cells, Dictionary<string, string> Fields, NormalizedContact Contact,
        IReadOnlyList<string> Keys, string Raw, string? RuleFields, Dictionary<string, string> Refused, string? Tags);

    /// <summary>Pure: runs beside the batch before it, so it reads only what stays fixed for the whole import.</summary>
    private PreparedRow[] Prepare(ImportJob job, Channel channel, string[] columns, (int Row, string[] Cells)[] batch, IReadOnlySet<string> blocklist) =>
        batch.Select(r =>
        {
            var fields = Fields(columns, r.Cells);
            var contact = ContactRules.Normalize(new ContactInput(fields.GetValueOrDefault("name"), fields.GetValueOrDefault("company"),
                fields.GetValueOrDefault("mobile"), fields.GetValueOrDefault("email")), blocklist);
            // Only a new lead stores its custom fields and tags; a duplicate or invalid row is not held to them.
            var (ruleFields, refused) = contact.IsValid ? Scoring.LeadScoring.CheckFields(fields, custom, requireAll: true) : (null, []);
            var tags = contact.IsValid && refused.Count == 0
                ? TagRules.Stamp(rules, TagRules.FieldsFor(channel, fields.Concat(Scoring.LeadScoring.StoredFields(ruleFields))))
                : null;
            return new PreparedRow(r.Row, r.Cells, fields, contact, DuplicateRules.Keys(contact), JsonSerializer.Serialize(fields, StoredJson.Options),
                ruleFields, refused, tags);
        }).ToArray();

    private async Task<Counts> ImportBatchAsync(ImportJob job, Channel channel, PreparedRow[] batch, Dictionary<string, Guid> seen,
        List<string[]> report, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var counts = new Counts { Processed = batch.Length };
        var pendingReport = new List<string[]>();
        var pendingSeen = new Dictionary<string, Guid>();
        var (first, last) = (batch[0].Row, batch[^1].Row);
        var done = ImportReceipt.Written(await db.ImportReceipts.AsNoTracking()
            .Where(r => r.FileHash == job.FileHash && r.FirstRow <= last && r.LastRow >= first).ToListAsync(ct), first, last);
        var written = new List<int>();
        var rejected = new List<int>();

        var existing = new Dictionary<string, ContactKey>();
        // A thousand keys a query: PostgreSQL plans `= ANY` of a whole batch's 6,400 keys as a scan of the whole table
        // (0.12-0.15 s a batch at 1.3M keys), a thousand as probes of the unique index (about 6 µs a key).
        foreach (var keys in batch.SelectMany(r => r.Keys).Distinct().Chunk(KeysPerLookup))
        {
            foreach (var key in await db.ContactKeys.AsNoTracking().Where(k => EF.Parameter(keys).Contains(k.Key)).ToListAsync(ct))
            {
                existing.TryAdd(key.Key, key);
            }
        }
        Assignment.RoutingBook? book = null;
        Dictionary<string, Guid>? owners = null;
        List<string> newCompanies = [];
        // The batch's rows, routing's history rows and tasks included, are written untracked; only the reps' messages are tracked.
        var rows = new List<object>();
        var assigned = new List<Lead>();

        foreach (var (row, cells, fields, contact, keys, raw, ruleFields, refused, tags) in batch)
        {
            if (done.Contains(row))
            {
                counts.Repeated++;
                continue;
            }
            var match = keys.Select(k => existing.GetValueOrDefault(k)).FirstOrDefault(k => k is not null);
            var sameFile = keys.Select(k => seen.TryGetValue(k, out var l) || pendingSeen.TryGetValue(k, out l) ? l : (Guid?)null).FirstOrDefault(l => l is not null);
            var touch = new LeadTouch { Id = Guid.CreateVersion7(), OrganizationId = job.OrganizationId, ChannelId = channel.Id, Kind = "import", At = now,
                RawPayload = raw };
            Guid? leadId;
            if (!contact.IsValid)
            {
                var lead = NewLead(job, channel, contact, fields, raw, now, LeadStatus.Invalid, string.Join(",", contact.Problems));
                leadId = lead.Id;
                counts.Invalid++;
                pendingReport.Add([row.ToString(System.Globalization.CultureInfo.InvariantCulture), "invalid",
                    string.Join("; ", contact.Problems.Select(Leads.Describe)), .. cells]);
                if (!job.DryRun) rows.Add(lead);
            }
            else if (match is not null || sameFile is not null)
            {
                touch.LeadId = match?.LeadId ?? sameFile;
                touch.CustomerId = match?.CustomerId;
                leadId = touch.LeadId;
                counts.Duplicates++;
                pendingReport.Add([row.ToString(System.Globalization.CultureInfo.InvariantCulture), "duplicate",
                    match?.CustomerId is not null ? "An existing customer has this mobile or email; recorded as a touch." :
                    "An existing lead has this mobile or email; recorded as a touch.", .. cells]);
            }
            else
            {
                // A new lead whose custom value is missing or does not fit is left out, so the fixed file imports it later.
                // (A duplicate row still touches its record, and an invalid one is still kept for review: neither stores fields.)
                if (refused.Count > 0)
                {
                    counts.Rejected++;
                    rejected.Add(row);
                    pendingReport.Add([row.ToString(System.Globalization.CultureInfo.InvariantCulture), "rejected",
                        string.Join("; ", refused.Values), .. cells]);
                    continue;
                }
                var lead = NewLead(job, channel, contact, fields, raw, now, LeadStatus.New, null);
                lead.Tags = tags;
                lead.Fields = ruleFields;
                if (!job.DryRun)
                {
                    book ??= await router.LoadAsync(ct);
                    if (owners is null)
                    {
                        owners = new Dictionary<string, Guid>(companyOwners);
                        newCompanies = batch.Select(r => r.Contact.CompanyKey).Where(k => !string.IsNullOrEmpty(k) && !companiesLookedUp.Contains(k))
                            .Select(k => k!).Distinct().ToList();
                        foreach (var (company, owner) in await router.StickyOwnersAsync(newCompanies, ct))
                        {
                            owners.TryAdd(company, owner);
                        }
                    }
                    await router.ScoreAndRouteAsync(book, lead, channel, ct, owners, tellRep: false, newRows: rows);
                    if (lead.OwnerId is not null)
                    {
                        assigned.Add(lead);
                    }
                }
                leadId = lead.Id;
                counts.Created++;
                foreach (var key in keys)
                {
                    pendingSeen[key] = lead.Id;
                    if (!job.DryRun) rows.Add(new ContactKey { OrganizationId = job.OrganizationId, Key = key, LeadId = lead.Id });
                }
                if (!job.DryRun) rows.Add(lead);
            }
            if (job.DryRun)
            {
                continue;
            }
            if (touch.LeadId is null && touch.CustomerId is null)
            {
                touch.LeadId = leadId;
            }
            rows.Add(touch);
            written.Add(row);
        }
        if (!job.DryRun)
        {
            if (written.Count > 0)
            {
                var inside = rejected.Where(r => r > written[0] && r < written[^1]).Select(r => r.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                rows.Add(new ImportReceipt
                {
                    OrganizationId = job.OrganizationId, FileHash = job.FileHash, FirstRow = written[0], LastRow = written[^1], At = now,
                    RejectedRows = inside.Count == 0 ? null : string.Join(",", inside),
                });
            }
            TellReps(job, assigned, now);
            await db.SaveNewRowsAsync(rows, ct);
            // Only a saved batch's routing is known: a retried one routes again.
            if (owners is not null)
            {
                companyOwners = owners;
                companiesLookedUp.UnionWith(newCompanies);
            }
        }
        report.AddRange(pendingReport);
        foreach (var (k, v) in pendingSeen) seen[k] = v;
        return counts;
    }

    /// <summary>
    /// Each rep hears once per batch about the leads routing gave them, in the batch's transaction: a message per lead
    /// would be thousands for one file, and DingTalk and WeCom robots refuse more than 20 a minute.
    /// </summary>
    private void TellReps(ImportJob job, List<Lead> assigned, DateTimeOffset now)
    {
        foreach (var theirs in assigned.GroupBy(l => l.OwnerId!.Value))
        {
            var first = theirs.First();
            if (theirs.Count() == 1)
            {
                Notifications.Inboxes.Add(db, job.OrganizationId, theirs.Key, Notifications.NotificationKinds.LeadAssigned,
                    new { name = Assignment.LeadRouter.Label(first), grade = first.Grade ?? "" }, $"/leads/{first.Id}", now);
            }
            else
            {
                Notifications.Inboxes.Add(db, job.OrganizationId, theirs.Key, Notifications.NotificationKinds.LeadsAssigned,
                    new { count = theirs.Count().ToString(System.Globalization.CultureInfo.InvariantCulture),
                        names = Notifications.Inboxes.FirstNames(theirs.Select(Assignment.LeadRouter.Label)), file = job.FileName },
                    "/leads", now);
            }
        }
    }

    // What people type into a spreadsheet cell to say "nothing here".
    private static readonly HashSet<string> Nothing = new(StringComparer.OrdinalIgnoreCase) { "无", "暂无", "没有", "-", "—", "--", "/", "n/a", "na", "null", "none" };

    // For built-in columns only: a custom select may well have an option called 无.
    private Dictionary<string, string> Fields(string[] columns, string[] cells)
    {
        var fields = new Dictionary<string, string>();
        for (var i = 0; i < Math.Min(columns.Length, cells.Length); i++)
        {
            if (columns[i] != "" && !string.IsNullOrWhiteSpace(cells[i])
                && (!Nothing.Contains(cells[i].Trim()) || customKeys.Contains(columns[i])))
            {
                fields.TryAdd(columns[i], cells[i].Trim());
            }
        }
        return fields;
    }

    private static Lead NewLead(ImportJob job, Channel channel, NormalizedContact c, Dictionary<string, string> fields, string raw,
        DateTimeOffset now, LeadStatus status, string? problems) => new()
    {
        Id = Guid.CreateVersion7(), OrganizationId = job.OrganizationId, Name = Clip(c.Name, 100), Company = Clip(c.Company, 200), CompanyKey = Clip(c.CompanyKey, 200),
        Mobile = c.Mobile ?? Clip(fields.GetValueOrDefault("mobile"), 32), Email = c.Email ?? Clip(fields.GetValueOrDefault("email"), 254),
        ChannelId = channel.Id, SourceTag = channel.SourceTag,
        Campaign = Clip(fields.GetValueOrDefault("utm_campaign"), 200), UtmSource = Clip(fields.GetValueOrDefault("utm_source"), 200),
        UtmMedium = Clip(fields.GetValueOrDefault("utm_medium"), 200), Status = status, Problems = problems,
        RawPayload = raw, ArrivedAt = now, UpdatedAt = now,
    };

    private static string? Clip(string? s, int max) => s is null ? null : s.Length <= max ? s : s[..max];

    private async Task<Channel> ImportChannelAsync(Guid organizationId, CancellationToken ct)
    {
        var channel = await db.Channels.FirstOrDefaultAsync(c => c.Kind == ChannelKind.Import, ct);
        if (channel is not null)
        {
            return channel;
        }
        channel = new Channel
        {
            Id = Guid.CreateVersion7(), OrganizationId = organizationId, Name = "导入", Kind = ChannelKind.Import, SourceTag = "导入",
            Key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), CreatedAt = clock.GetUtcNow(),
        };
        db.Channels.Add(channel);
        await db.SaveChangesAsync(ct);
        return channel;
    }
}

public static class ImportEndpoints
{
    public static void MapImports(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/imports").WithTags("Import");
        g.MapGet("/", (ImportLeads h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPost("/", async (IFormFile file, string? encoding, ImportLeads h, CancellationToken ct) =>
        {
            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer, ct);
            var preview = await h.PreviewAsync(file.FileName, buffer.ToArray(), encoding, ct);
            return Results.Created($"/api/imports/{preview.JobId}", preview);
        }).DisableAntiforgery();
        g.MapGet("/{id:guid}", (Guid id, ImportLeads h, CancellationToken ct) => h.GetAsync(id, ct));
        g.MapPost("/{id:guid}/start", (Guid id, StartImportRequest r, ImportLeads h, CancellationToken ct) => h.StartAsync(id, r, ct));
        g.MapGet("/{id:guid}/report", async (Guid id, ImportLeads h, CancellationToken ct) =>
        {
            var (name, csv) = await h.ReportAsync(id, ct);
            // BOM so Excel opens the Chinese text as UTF-8.
            return Results.File(System.Text.Encoding.UTF8.GetPreamble().Concat(System.Text.Encoding.UTF8.GetBytes(csv)).ToArray(),
                "text/csv; charset=utf-8", name);
        });
    }
}
