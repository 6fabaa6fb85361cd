using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;

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
/// Turns one submission into exactly one lead, or a touch on the lead or customer it already is.
/// Races are settled by unique keys in the database (ContactKey, CaptureReceipt), not by locks.
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

    /// <summary>The channel behind a key, active or not; the caller decides what an inactive one means.</summary>
    public Task<Channel?> FindChannelAsync(string key, CancellationToken ct) =>
        db.Channels.IgnoreQueryFilters().AsNoTracking().SingleOrDefaultAsync(c => c.Key == key, ct);

    public async Task<CaptureResult> CaptureAsync(Channel channel, Submission submission, CancellationToken ct = default)
    {
        current.Set(DataScope.ForChannel(channel.OrganizationId, channel.Name));
        current.Ip ??= submission.Ip;
        // A concurrent twin can win the unique key between our read and our write; then we are its touch.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await CaptureOnceAsync(channel, submission, ct);
            }
            // Or a behaviour event / status change saved the touched lead between our read and our write.
            catch (DbUpdateException e) when (attempt < 4 && (IsUniqueViolation(e) || e is DbUpdateConcurrencyException))
            {
                db.ChangeTracker.Clear();
            }
        }
    }

    private async Task<CaptureResult> CaptureOnceAsync(Channel channel, Submission s, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var fields = Canonical(s.Fields);
        var idemKey = string.IsNullOrWhiteSpace(s.IdempotencyKey) ? null : $"idem:{channel.Id}:{Clip(s.IdempotencyKey.Trim(), 200)}";
        var payloadKey = $"payload:{channel.Id}:{Fingerprint(fields)}";

        var receipts = await db.CaptureReceipts.Where(r => r.Key == idemKey || r.Key == payloadKey).ToListAsync(ct);
        var repeat = receipts.FirstOrDefault(r => r.Key == idemKey)
                     ?? receipts.FirstOrDefault(r => r.Key == payloadKey && now - r.At < RepeatWindow);
        if (repeat is not null)
        {
            return new CaptureResult(CaptureOutcome.Repeated, repeat.LeadId, null);
        }

        var blocklist = (await db.BlockedValues.Select(b => b.Value).ToListAsync(ct)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var contact = ContactRules.Normalize(
            new ContactInput(Get(fields, "name"), Get(fields, "company"), Get(fields, "mobile"), Get(fields, "email")), blocklist);
        var keys = DuplicateRules.Keys(contact).ToList();
        var match = keys.Count == 0 || s.HoneypotFilled ? null
            : await db.ContactKeys.Where(k => keys.Contains(k.Key)).OrderBy(k => k.Id).FirstOrDefaultAsync(ct);

        var touch = new LeadTouch
        {
            Id = Guid.CreateVersion7(), OrganizationId = channel.OrganizationId, ChannelId = channel.Id, At = now,
            PageUrl = Clip(s.PageUrl, 2000), Ip = s.Ip, RawPayload = s.RawPayload, Kind = "arrival",
        };
        Guid leadId;
        CaptureResult result;
        if (match is not null)
        {
            touch.Kind = "duplicate";
            touch.LeadId = match.LeadId;
            touch.CustomerId = match.CustomerId;
            db.LeadTouches.Add(touch);
            // In the same save as the touch: both happen, or neither.
            if (match.LeadId is { } existing && await db.Leads.SingleOrDefaultAsync(l => l.Id == existing, ct) is { } touched)
            {
                touched.UpdatedAt = now;
            }
            await NotifyOwnerAsync(match, channel, now, ct);
            leadId = match.LeadId ?? Guid.Empty;
            result = new CaptureResult(CaptureOutcome.Touched, match.LeadId, match.CustomerId);
        }
        else
        {
            var book = await router.LoadAsync(ct);
            var lead = await NewLeadAsync(channel, s, contact, fields, now, book.CustomFields, ct);
            db.Leads.Add(lead);
            // Scored and routed in the same save as its arrival: a lead is never stored unassigned by accident (R3).
            await router.ScoreAndRouteAsync(book, lead, channel, ct);
            touch.LeadId = lead.Id;
            db.LeadTouches.Add(touch);
            if (lead.Status != LeadStatus.Invalid)
            {
                foreach (var key in keys)
                {
                    db.ContactKeys.Add(new ContactKey { OrganizationId = channel.OrganizationId, Key = key, LeadId = lead.Id });
                }
            }
            leadId = lead.Id;
            result = new CaptureResult(CaptureOutcome.Created, lead.Id, null);
        }

        if (leadId != Guid.Empty)
        {
            Remember(receipts, payloadKey, leadId, now, channel.OrganizationId);
            if (idemKey is not null)
            {
                Remember(receipts, idemKey, leadId, now, channel.OrganizationId);
            }
        }
        await db.SaveChangesAsync(ct);
        return result;
    }

    private async Task<Lead> NewLeadAsync(Channel channel, Submission s, NormalizedContact contact,
        SortedDictionary<string, string> fields, DateTimeOffset now, IReadOnlyList<CustomField> custom, CancellationToken ct)
    {
        var problems = contact.Problems.Select(p => p.ToString()).ToList();
        if (s.HoneypotFilled)
        {
            problems.Add("Honeypot");
        }
        var status = problems.Count > 0 ? LeadStatus.Invalid : LeadStatus.New;
        if (status == LeadStatus.New && channel.DailyCap is { } cap)
        {
            var dayStart = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
            var today = await db.Leads.CountAsync(l => l.ChannelId == channel.Id && l.ArrivedAt >= dayStart, ct);
            if (today >= cap)
            {
                status = LeadStatus.Queued;
                problems.Add("OverDailyCap");
            }
        }
        var ruleFields = Scoring.LeadScoring.FieldsJson(s.Fields, custom);
        // Tagging rules name custom fields by key, whatever label the form used.
        var tagFields = TagRules.FieldsFor(channel, s.Fields.Concat(fields).Concat(Scoring.LeadScoring.StoredFields(ruleFields)));
        return new Lead
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = channel.OrganizationId,
            Tags = status == LeadStatus.Invalid ? null : TagRules.Stamp(await TagRules.LoadAsync(db, ct), tagFields),
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
    }

    /// <summary>The owner hears at once that someone they work came back, and through which channel (R1.3).</summary>
    private async Task NotifyOwnerAsync(ContactKey match, Channel channel, DateTimeOffset now, CancellationToken ct)
    {
        var owner = match.LeadId is { } leadId
            ? await db.Leads.Where(l => l.Id == leadId).Select(l => new { l.OwnerId, l.Name }).SingleOrDefaultAsync(ct)
            : await db.Customers.Where(c => c.Id == match.CustomerId).Select(c => new { c.OwnerId, Name = (string?)c.Name }).SingleOrDefaultAsync(ct);
        if (owner?.OwnerId is { } recipient)
        {
            Notifications.Inboxes.Add(db, channel.OrganizationId, recipient, Notifications.NotificationKinds.ContactReturned,
                new { name = owner.Name ?? "", channel = channel.Name },
                match.LeadId is { } l ? $"/leads/{l}" : "/customers", now);
        }
    }

    private void Remember(List<CaptureReceipt> existing, string key, Guid leadId, DateTimeOffset now, Guid organizationId)
    {
        if (existing.FirstOrDefault(r => r.Key == key) is { } old)
        {
            old.LeadId = leadId;
            old.At = now;
            return;
        }
        db.CaptureReceipts.Add(new CaptureReceipt { OrganizationId = organizationId, Key = key, LeadId = leadId, At = now });
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
