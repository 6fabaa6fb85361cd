using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

/// <summary>A submission as it arrived on a channel, before any judgement.</summary>
public sealed record Submission(
    IReadOnlyDictionary<string, string> Fields,
    string? PageUrl,
    string? Ip,
    string? ConsentText,
    string? IdempotencyKey,
    bool HoneypotFilled,
    string RawPayload);

public enum CaptureOutcome
{
    Created,
    /// <summary>Matched an existing lead or customer: a touch was appended instead.</summary>
    Touched,
    /// <summary>The same submission again (idempotency key, or identical payload within the window).</summary>
    Repeated,
}

public sealed record CaptureResult(CaptureOutcome Outcome, Guid? LeadId, Guid? CustomerId);

/// <summary>
/// Turns each submission into exactly one lead, or a touch on the lead or customer it already is, a batch at a time
/// (<see cref="CaptureWriter"/> hands over what arrived together). Races with other batches and nodes are settled by
/// unique keys in the database (ContactKey, CaptureReceipt); a capped channel's count for the day is checked when written.
/// </summary>
public sealed class CaptureLead(TideflowDbContext db, CurrentUser current, TimeProvider clock, Assignment.LeadRouter router)
{
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromMinutes(10);

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "name", ["fullname"] = "name", ["full_name"] = "name", ["contact"] = "name", ["姓名"] = "name", ["联系人"] = "name",
        ["company"] = "company", ["company_name"] = "company", ["公司"] = "company", ["公司名称"] = "company", ["单位"] = "company",
        ["mobile"] = "mobile", ["phone"] = "mobile", ["tel"] = "mobile", ["telephone"] = "mobile", ["mobilephone"] = "mobile",
        ["手机"] = "mobile", ["手机号"] = "mobile", ["电话"] = "mobile",
        ["email"] = "email", ["e-mail"] = "email", ["邮箱"] = "email",
        ["utm_source"] = "utm_source", ["utm_medium"] = "utm_medium", ["utm_campaign"] = "utm_campaign", ["campaign"] = "utm_campaign",
    };

    /// <summary>
    /// Submissions to one channel, in the order they arrived, saved in one transaction: a later one that repeats or
    /// matches an earlier one becomes its repeat or touch, exactly as if it had come a moment later on its own.
    /// </summary>
    public async Task<IReadOnlyList<CaptureResult>> CaptureAsync(Channel channel, IReadOnlyList<Submission> submissions, CancellationToken ct = default)
    {
        current.Set(DataScope.ForChannel(channel.OrganizationId, channel.Name));
        // Each submission is audited once, with its sender's address, instead of once per row it adds (a lead, its
        // touch, keys, receipts, routing's history and task): the rows themselves hold the payload and the decision.
        db.AuditEntityChanges = false;
        // A concurrent twin can win the unique key between our read and our write; then we are its touch.
        var lockFirst = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await db.Database.CreateExecutionStrategy().ExecuteAsync(async token =>
                {
                    db.ChangeTracker.Clear();
                    return await CaptureOnceAsync(channel, submissions, lockFirst, token);
                }, ct);
            }
            catch (DbUpdateException e) when (attempt < 4 && IsUniqueViolation(e))
            {
                db.ChangeTracker.Clear();
            }
            catch (DayCountMoved) when (!lockFirst)
            {
                // Another batch took places on the capped channel while this one was judged: judged again, holding the count.
                db.ChangeTracker.Clear();
                lockFirst = true;
            }
        }
    }

    private sealed class DayCountMoved : Exception;

    private sealed record Arrival(Submission Submission, SortedDictionary<string, string> Fields, string? IdemKey, string PayloadKey,
        NormalizedContact Contact, List<string> Keys);

    /// <param name="lockFirst">
    /// A capped channel's batch is judged against the day's count as read, and the write locks the count and checks it
    /// is unchanged; when another batch moved it, the batch is judged again holding the lock from the start, so the
    /// second try cannot lose (it waits instead). Uncapped batches never touch the count.
    /// </param>
    private async Task<IReadOnlyList<CaptureResult>> CaptureOnceAsync(Channel channel, IReadOnlyList<Submission> submissions, bool lockFirst,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var isCapped = channel.DailyCap is not null;
        await using var held = isCapped && lockFirst ? await db.Database.BeginTransactionAsync(ct) : null;
        var today = !isCapped ? (int?)null : held is not null ? await LockTodayAsync(channel, now, ct) : await ReadTodayAsync(channel, now, ct);
        // The blocklist and tagging rules come with the routing snapshot: on another node's change, within its few seconds.
        var snapshot = await router.CurrentAsync(ct);
        var blocklist = snapshot.Blocklist;
        var arrivals = submissions.Select(s =>
        {
            var fields = Canonical(s.Fields);
            var contact = ContactRules.Normalize(
                new ContactInput(Get(fields, "name"), Get(fields, "company"), Get(fields, "mobile"), Get(fields, "email")), blocklist);
            return new Arrival(s, fields,
                string.IsNullOrWhiteSpace(s.IdempotencyKey) ? null : $"idem:{channel.Id}:{Clip(s.IdempotencyKey.Trim(), 200)}",
                $"payload:{channel.Id}:{Fingerprint(fields)}", contact, DuplicateRules.Keys(contact).ToList());
        }).ToList();

        // What the database already knows, read once for the whole batch; what the batch adds is kept beside it.
        var receiptKeys = arrivals.SelectMany(a => a.IdemKey is null ? [a.PayloadKey] : new[] { a.IdemKey, a.PayloadKey }).Distinct().ToList();
        var receipts = (await db.CaptureReceipts.AsNoTracking().Where(r => EF.Parameter(receiptKeys).Contains(r.Key)).ToListAsync(ct))
            .ToDictionary(r => r.Key, r => (r.LeadId, r.At, Stored: true));
        var contactKeys = arrivals.Where(a => !a.Submission.HoneypotFilled).SelectMany(a => a.Keys).Distinct().ToList();
        var known = contactKeys.Count == 0 ? [] : (await db.ContactKeys.AsNoTracking().Where(k => EF.Parameter(contactKeys).Contains(k.Key)).ToListAsync(ct))
            .GroupBy(k => k.Key).ToDictionary(g => g.Key, g => g.MinBy(k => k.Id)!);
        var created = new Dictionary<string, (Lead Lead, int Order)>();
        var batch = new NewLeads(router, snapshot.TagRules, channel, now, today, arrivals.Select(a => a.Contact.CompanyKey), ct);

        var rows = new List<object>();
        var results = new List<CaptureResult>();
        var touched = new List<(LeadTouch Touch, Lead? Twin)>();
        var staleReceipts = new List<string>();
        foreach (var a in arrivals)
        {
            var s = a.Submission;
            var repeat = a.IdemKey is not null && receipts.TryGetValue(a.IdemKey, out var r1) ? r1
                : receipts.TryGetValue(a.PayloadKey, out var r2) && now - r2.At < RepeatWindow ? r2 : ((Guid LeadId, DateTimeOffset At, bool Stored)?)null;
            if (repeat is { } seen)
            {
                results.Add(new CaptureResult(CaptureOutcome.Repeated, seen.LeadId, null));
                continue;
            }

            var touch = new LeadTouch
            {
                Id = Guid.CreateVersion7(), OrganizationId = channel.OrganizationId, ChannelId = channel.Id, At = now,
                PageUrl = Clip(s.PageUrl, 2000), Ip = s.Ip, RawPayload = s.RawPayload, Kind = "arrival",
            };
            var match = s.HoneypotFilled ? null : a.Keys.Select(k => known.GetValueOrDefault(k)).Where(k => k is not null).MinBy(k => k!.Id);
            // As the database would: the earliest of the leads this batch created that share a key with it.
            var twins = s.HoneypotFilled || match is not null ? [] : a.Keys.Where(created.ContainsKey).Select(k => created[k]).ToList();
            var twin = twins.Count == 0 ? null : twins.MinBy(c => c.Order).Lead;
            Guid leadId;
            if (match is not null || twin is not null)
            {
                touch.Kind = "duplicate";
                touch.LeadId = match is not null ? match.LeadId : twin!.Id;
                touch.CustomerId = match?.CustomerId;
                touched.Add((touch, twin));
                leadId = touch.LeadId ?? Guid.Empty;
                results.Add(new CaptureResult(CaptureOutcome.Touched, touch.LeadId, touch.CustomerId));
                db.Audit("capture", touch.LeadId is null ? nameof(Customers.Customer) : nameof(Lead), (touch.LeadId ?? touch.CustomerId)?.ToString(),
                    new { channel = channel.Name, outcome = "touched" }, ip: s.Ip);
            }
            else
            {
                var lead = await batch.NewLeadAsync(s, a.Contact, a.Fields);
                rows.Add(lead);
                touch.LeadId = lead.Id;
                if (lead.Status != LeadStatus.Invalid)
                {
                    foreach (var key in a.Keys)
                    {
                        rows.Add(new ContactKey { OrganizationId = channel.OrganizationId, Key = key, LeadId = lead.Id });
                        created[key] = (lead, created.Count);
                    }
                }
                leadId = lead.Id;
                results.Add(new CaptureResult(CaptureOutcome.Created, lead.Id, null));
                db.Audit("capture", nameof(Lead), lead.Id.ToString(),
                    new { channel = channel.Name, outcome = "created", status = lead.Status.ToString(), lead.Problems, lead.Grade, lead.OwnerId, lead.PoolId }, ip: s.Ip);
            }
            rows.Add(touch);

            if (leadId != Guid.Empty)
            {
                foreach (var key in a.IdemKey is null ? [a.PayloadKey] : new[] { a.PayloadKey, a.IdemKey })
                {
                    // Only a payload receipt older than the window can be here: a fresh one, or any idempotency key, was a repeat.
                    if (receipts.TryGetValue(key, out var old) && old.Stored)
                    {
                        staleReceipts.Add(key);
                    }
                    else
                    {
                        rows.Add(new CaptureReceipt { OrganizationId = channel.OrganizationId, Key = key, LeadId = leadId, At = now });
                    }
                    receipts[key] = (leadId, now, old.Stored);
                }
            }
        }
        await NotifyOwnersAsync(touched, channel, now, ct);

        // The touches, the leads they touch and the receipts they refresh: all of them, or none.
        await using var tx = held ?? await db.Database.BeginTransactionAsync(ct);
        if (isCapped && held is null && await LockTodayAsync(channel, now, ct) != today)
        {
            throw new DayCountMoved();
        }
        var touchedLeads = touched.Where(t => t.Twin is null && t.Touch.LeadId is not null).Select(t => t.Touch.LeadId!.Value).Distinct().ToList();
        if (touchedLeads.Count > 0)
        {
            await db.Leads.Where(l => EF.Parameter(touchedLeads).Contains(l.Id)).ExecuteUpdateAsync(u => u.SetProperty(l => l.UpdatedAt, now), ct);
        }
        foreach (var key in staleReceipts)
        {
            var leadId = receipts[key].LeadId;
            await db.CaptureReceipts.Where(r => r.Key == key).ExecuteUpdateAsync(u => u.SetProperty(r => r.LeadId, leadId).SetProperty(r => r.At, now), ct);
        }
        await db.SaveNewRowsAsync(rows, ct);
        if (today is { } before && batch.Today > before)
        {
            var day = DayOf(channel, now);
            await db.ChannelDays.Where(d => d.ChannelId == channel.Id && d.Day == day)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.Count, batch.Today), ct);
        }
        await tx.CommitAsync(ct);
        return results;
    }

    /// <summary>The calendar day the channel's cap counts <paramref name="now"/> in, with the zone it is a day of.</summary>
    private static string DayOf(Channel channel, DateTimeOffset now) =>
        UserTime.Local(now, channel.CapTimeZone).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) + "@" + channel.CapTimeZone;

    /// <summary>The leads the channel took today, as <see cref="LockTodayAsync"/> would find them, without a lock.</summary>
    private async Task<int> ReadTodayAsync(Channel channel, DateTimeOffset now, CancellationToken ct)
    {
        var day = DayOf(channel, now);
        return await db.ChannelDays.AsNoTracking().Where(d => d.ChannelId == channel.Id && d.Day == day).Select(d => (int?)d.Count).SingleOrDefaultAsync(ct)
            ?? await LeadsTodayAsync(channel, now, ct);
    }

    private Task<int> LeadsTodayAsync(Channel channel, DateTimeOffset now, CancellationToken ct)
    {
        var date = UserTime.Local(now, channel.CapTimeZone).Date;
        var (dayStart, dayEnd) = (UserTime.StartOfDay(date, channel.CapTimeZone), UserTime.StartOfDay(date.AddDays(1), channel.CapTimeZone));
        return db.Leads.CountAsync(l => l.ChannelId == channel.Id && l.ArrivedAt >= dayStart && l.ArrivedAt < dayEnd, ct);
    }

    /// <summary>
    /// The leads the channel took today, its row locked until the batch commits (an update of the row to itself; on
    /// SQLite the transaction's write lock). The day's first batch starts the count from the leads the channel already
    /// has today, so a cap set during the day counts what came before it.
    /// </summary>
    private async Task<int> LockTodayAsync(Channel channel, DateTimeOffset now, CancellationToken ct)
    {
        var day = DayOf(channel, now);
        for (var attempt = 1; ; attempt++)
        {
            var locked = await db.Database.SqlQuery<int>($"""
                UPDATE "ChannelDays" SET "Count" = "Count" WHERE "ChannelId" = {channel.Id} AND "Day" = {day} RETURNING "Count" AS "Value"
                """).ToListAsync(ct);
            if (locked.Count == 1)
            {
                return locked[0];
            }
            if (attempt == 3)
            {
                // Only an admin capping the channel again, deleting the count each time, could keep it from staying.
                throw new InvalidOperationException($"The day's count of channel {channel.Id} could not be kept.");
            }
            var before = await LeadsTodayAsync(channel, now, ct);
            // Two first batches at once: the second waits for the first's row, then leaves it as it is. The day's first batch
            // also drops the channel's rows of other days, so the table holds a few rows per capped channel, not one per day
            // forever; the day before and after stay, for a node whose clock is a moment behind or ahead at midnight.
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "ChannelDays" ("ChannelId", "Day", "OrganizationId", "Count") VALUES ({channel.Id}, {day}, {channel.OrganizationId}, {before})
                ON CONFLICT ("ChannelId", "Day") DO NOTHING
                """, ct);
            var (yesterday, tomorrow) = (DayOf(channel, now.AddDays(-1)), DayOf(channel, now.AddDays(1)));
            await db.ChannelDays.Where(d => d.ChannelId == channel.Id && d.Day != day && d.Day != yesterday && d.Day != tomorrow).ExecuteDeleteAsync(ct);
        }
    }

    /// <summary>What a batch reads once for all its new leads (the routing book, companies' owners) and the day's count it adds to.</summary>
    private sealed class NewLeads(Assignment.LeadRouter router, IReadOnlyList<TagRule> rules, Channel channel,
        DateTimeOffset now, int? today, IEnumerable<string?> companies, CancellationToken ct)
    {
        /// <summary>The channel's leads today with this batch's: what the day's count becomes (capped channels only).</summary>
        public int? Today => today;
        private Assignment.RoutingBook? book;
        private Dictionary<string, Guid>? owners;

        public async Task<Lead> NewLeadAsync(Submission s, NormalizedContact contact, SortedDictionary<string, string> fields)
        {
            var problems = contact.Problems.Select(p => p.ToString()).ToList();
            if (s.HoneypotFilled)
            {
                problems.Add("Honeypot");
            }
            var status = problems.Count > 0 ? LeadStatus.Invalid : LeadStatus.New;
            if (channel.DailyCap is { } cap && today is not null)
            {
                if (status == LeadStatus.New && today >= cap)
                {
                    status = LeadStatus.Queued;
                    problems.Add("OverDailyCap");
                }
                today++;
            }
            book ??= await router.LoadAsync(ct);
            var ruleFields = Scoring.LeadScoring.FieldsJson(s.Fields, book.CustomFields);
            // Tagging rules name custom fields by key, whatever label the form used.
            var tagFields = TagRules.FieldsFor(channel, s.Fields.Concat(fields).Concat(Scoring.LeadScoring.StoredFields(ruleFields)));
            var lead = new Lead
            {
                Id = Guid.CreateVersion7(),
                OrganizationId = channel.OrganizationId,
                Tags = status == LeadStatus.Invalid ? null : TagRules.Stamp(rules, tagFields),
                // Public input: kept, but never longer than its column (PostgreSQL would refuse the whole row).
                Name = Clip(contact.Name, 100),
                Company = Clip(contact.Company, 200),
                CompanyKey = Clip(contact.CompanyKey, 200),
                // An invalid value is kept as typed, so a reviewer can see and fix it.
                Mobile = contact.Mobile ?? Clip(Get(fields, "mobile"), 32),
                Email = contact.Email ?? Clip(Get(fields, "email"), 254),
                ChannelId = channel.Id,
                SourceTag = channel.SourceTag,
                Campaign = Clip(Get(fields, "utm_campaign"), 200),
                UtmSource = Clip(Get(fields, "utm_source"), 200),
                UtmMedium = Clip(Get(fields, "utm_medium"), 200),
                Status = status,
                Problems = problems.Count == 0 ? null : string.Join(",", problems),
                ConsentText = Clip(s.ConsentText, 4000),
                PageUrl = Clip(s.PageUrl, 2000),
                RawPayload = s.RawPayload,
                Fields = ruleFields,
                ArrivedAt = now,
                UpdatedAt = now,
            };
            // Every company of the batch at once; routing adds the owners it gives, so a second lead of a company
            // new to us follows the first to its rep.
            owners ??= await router.StickyOwnersAsync(companies, ct);
            // Scored and routed in the same save as its arrival: a lead is never stored unassigned by accident (R3).
            await router.ScoreAndRouteAsync(book, lead, channel, ct, owners);
            return lead;
        }
    }

    /// <summary>An owner hears at once that someone they work came back, and through which channel (R1.3).</summary>
    private async Task NotifyOwnersAsync(List<(LeadTouch Touch, Lead? Twin)> touched, Channel channel, DateTimeOffset now, CancellationToken ct)
    {
        if (touched.Count == 0)
        {
            return;
        }
        var leadIds = touched.Where(t => t.Twin is null && t.Touch.LeadId is not null).Select(t => t.Touch.LeadId!.Value).Distinct().ToList();
        var customerIds = touched.Where(t => t.Touch.LeadId is null && t.Touch.CustomerId is not null).Select(t => t.Touch.CustomerId!.Value).Distinct().ToList();
        var owners = new Dictionary<Guid, (Guid? OwnerId, string? Name)>();
        if (leadIds.Count > 0)
        {
            foreach (var l in await db.Leads.Where(l => EF.Parameter(leadIds).Contains(l.Id)).Select(l => new { l.Id, l.OwnerId, l.Name }).ToListAsync(ct))
            {
                owners[l.Id] = (l.OwnerId, l.Name);
            }
        }
        if (customerIds.Count > 0)
        {
            foreach (var c in await db.Customers.Where(c => EF.Parameter(customerIds).Contains(c.Id)).Select(c => new { c.Id, c.OwnerId, c.Name }).ToListAsync(ct))
            {
                owners[c.Id] = (c.OwnerId, c.Name);
            }
        }
        foreach (var (touch, twin) in touched)
        {
            var owner = twin is not null ? (twin.OwnerId, twin.Name) : owners.GetValueOrDefault(touch.LeadId ?? touch.CustomerId ?? Guid.Empty);
            if (owner.OwnerId is { } recipient)
            {
                Notifications.Inboxes.Add(db, channel.OrganizationId, recipient, Notifications.NotificationKinds.ContactReturned,
                    new { name = owner.Name ?? "", channel = channel.Name },
                    touch.LeadId is { } l ? $"/leads/{l}" : "/customers", now);
            }
        }
    }

    /// <summary>Known fields under their canonical names; unknown ones stay only in the raw payload.</summary>
    private static SortedDictionary<string, string> Canonical(IReadOnlyDictionary<string, string> fields)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in fields)
        {
            if (Aliases.TryGetValue(name.Trim(), out var canonical) && !string.IsNullOrWhiteSpace(value) && !result.ContainsKey(canonical))
            {
                result[canonical] = value.Trim();
            }
        }
        return result;
    }

    private static string Fingerprint(SortedDictionary<string, string> fields) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(fields))));

    private static string? Get(SortedDictionary<string, string> fields, string name) => fields.GetValueOrDefault(name);

    private static string? Clip(string? s, int max) => s is null ? null : s.Length <= max ? s : s[..max];

    internal static bool IsUniqueViolation(DbUpdateException e) => e.InnerException switch
    {
        // SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY; a foreign key, NOT NULL or CHECK failure (also code 19) is no duplicate.
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        Npgsql.PostgresException pg => pg.SqlState == "23505",
        _ => false,
    };
}
