using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

public sealed record LeadRow(Guid Id, string? Name, string? Company, string? Mobile, string? Email, Guid? ChannelId,
    string? ChannelName, string? SourceTag, string? Tags, string? Campaign, LeadStatus Status, string? Problems, Guid? OwnerId,
    DateTimeOffset ArrivedAt, int? Score = null, string? Grade = null, string? OwnerName = null, Guid? PoolId = null);

/// <summary>What qualifying a lead works with: its score and why, the fields rules read, the BANT checklist, the decision.</summary>
public sealed record LeadQualification(Scoring.StoredScore? Score, IReadOnlyDictionary<string, string> Fields, double BehaviourPoints,
    bool BantBudget, bool BantAuthority, bool BantNeed, bool BantTimeline, string? BantNotes, string? DisqualifyReason, Guid? CustomerId);

public sealed record TouchRow(Guid Id, string Kind, Guid? ChannelId, string? ChannelName, DateTimeOffset At,
    string? PageUrl, string? Ip, string? RawPayload);

public sealed record LeadView(LeadRow Lead, string? ConsentText, string? PageUrl, string? UtmSource, string? UtmMedium,
    string? RawPayload, IReadOnlyList<TouchRow> Timeline, LeadQualification? Qualification = null);

public sealed record LeadQuery(string? Search = null, LeadStatus? Status = null, Guid? ChannelId = null, string? Tag = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null, int Page = 1, int PageSize = 25, string? Grade = null,
    Guid? OwnerId = null, bool Unassigned = false, string? Field = null, string? FieldValue = null, string? FieldFrom = null, string? FieldTo = null);

/// <summary>Contact details typed by a person: manual entry, or fixing an invalid lead in review.</summary>
public sealed record SaveLeadRequest(
    [property: StringLength(100)] string? Name,
    [property: StringLength(200)] string? Company,
    [property: StringLength(32)] string? Mobile,
    [property: StringLength(254)] string? Email,
    Dictionary<string, string>? Fields = null);

/// <summary>Leads as the caller may see them (the DbContext's scope filter decides), and the review queue's actions.</summary>
public sealed class Leads(TideflowDbContext db, CurrentUser me, TimeProvider clock, Assignment.LeadRouter router)
{
    public async Task<Page<LeadRow>> ListAsync(LeadQuery q, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var size = Math.Clamp(q.PageSize, 1, 200);
        var page = Math.Max(q.Page, 1);
        var query = db.Leads.AsNoTracking();
        // Pool members see pooled leads in the 线索池 (masked); here only those who hand leads out list unassigned ones.
        if (!SeesUnassigned)
        {
            query = query.Where(l => l.OwnerId != null);
        }
        if (!string.IsNullOrWhiteSpace(q.Search))
        {
            var s = q.Search.Trim();
            query = query.Where(l => (l.Name != null && l.Name.Contains(s)) || (l.Company != null && l.Company.Contains(s)) ||
                                     (l.Mobile != null && l.Mobile.Contains(s)) || (l.Email != null && l.Email.Contains(s)));
        }
        if (q.Status is { } status) query = query.Where(l => l.Status == status);
        if (q.ChannelId is { } channel) query = query.Where(l => l.ChannelId == channel);
        if (!string.IsNullOrWhiteSpace(q.Tag))
        {
            var tag = q.Tag.Trim();
            query = query.Where(l => l.SourceTag == tag || (l.Tags != null && ("," + l.Tags + ",").Contains("," + tag + ",")));
        }
        if (!string.IsNullOrWhiteSpace(q.Grade)) query = query.Where(l => l.Grade == q.Grade.Trim());
        if (q.OwnerId is { } ownerId) query = query.Where(l => l.OwnerId == ownerId);
        if (q.Unassigned) query = query.Where(l => l.OwnerId == null);
        if (q.From is { } from) query = query.Where(l => l.ArrivedAt >= from);
        if (q.To is { } to) query = query.Where(l => l.ArrivedAt < to);
        query = await CustomFieldFilter.ApplyAsync(query, db, CustomFieldTarget.Lead, q.Field, q.FieldValue, q.FieldFrom, q.FieldTo, ct);
        var total = await query.CountAsync(ct);
        var items = await Rows(query.OrderByDescending(l => l.ArrivedAt).ThenByDescending(l => l.Id).Skip((page - 1) * size).Take(size))
            .ToListAsync(ct);
        return new Page<LeadRow>(items, total, page, size);
    }

    /// <summary>The grade names of the scoring rules in force, best first, for filters.</summary>
    public async Task<List<string>> GradeNamesAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var (_, card) = await Scoring.ScoreCards.CurrentAsync(db, ct);
        return card.Grades.OrderByDescending(g => g.MinScore).Select(g => g.Name).ToList();
    }

    public async Task<LeadView> GetAsync(Guid id, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var lead = await db.Leads.AsNoTracking().SingleOrDefaultAsync(l => l.Id == id, ct) ?? throw Problem.NotFound("Lead");
        var row = await Rows(db.Leads.AsNoTracking().Where(l => l.Id == id)).SingleAsync(ct);
        // Newest first. Touches written in one batch share their instant; the arrival is the oldest of them.
        static IEnumerable<TouchRow> Newest(List<TouchRow> touches) =>
            touches.OrderByDescending(t => t.At).ThenBy(t => t.Kind == "arrival").ThenByDescending(t => t.Id);
        // The lead was found through the scope filter above; its touches are read only for it.
        var timeline = await (from t in db.LeadTouches.AsNoTracking()
                              where t.LeadId == id
                              join c in db.Channels on t.ChannelId equals c.Id into ch
                              from c in ch.DefaultIfEmpty()
                              select new TouchRow(t.Id, t.Kind, t.ChannelId, c == null ? null : c.Name, t.At, t.PageUrl, t.Ip, t.RawPayload))
            .ToListAsync(ct);
        var now = clock.GetUtcNow();
        var (_, card) = await Scoring.ScoreCards.CurrentAsync(db, ct);
        var scoredBy = lead.ScoreVersion is { } v ? await Scoring.ScoreCards.VersionAsync(db, v, ct) : card;
        var qualification = new LeadQualification(Scoring.LeadScoring.Breakdown(lead, scoredBy), Scoring.LeadScoring.StoredFields(lead.Fields),
            lead.BehaviourAsOf is { } asOf ? Math.Round(Domain.Scoring.Decay.Remaining(lead.BehaviourPoints, asOf, now, card.HalfLifeDays), 1) : 0,
            lead.BantBudget, lead.BantAuthority, lead.BantNeed, lead.BantTimeline, lead.BantNotes, lead.DisqualifyReason, lead.CustomerId);
        // Seen only as a member of its pool: who it is stays masked until claimed (R9.6), and so do the payloads that carry it.
        if (lead.OwnerId is null && !SeesUnassigned)
        {
            return new LeadView(row with { Mobile = Pool.ContactMask.Phone(row.Mobile), Email = Pool.ContactMask.Email(row.Email) },
                lead.ConsentText, null, null, null, null,
                Newest(timeline).Select(t => t with { PageUrl = null, Ip = null, RawPayload = null }).ToList(),
                qualification);
        }
        return new LeadView(row, lead.ConsentText, lead.PageUrl, lead.UtmSource, lead.UtmMedium, lead.RawPayload,
            Newest(timeline).ToList(), qualification);
    }

    /// <summary>Managers hand unassigned leads out and review them, so they see them whole; those who see all, too.</summary>
    private bool SeesUnassigned => me.Scope.VisibleOwnerIds is null || me.Role == Role.Manager;

    /// <summary>Manual entry: the same normalization and duplicate check as every channel; the author owns it.</summary>
    public async Task<LeadView> CreateAsync(SaveLeadRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        Problem.ThrowIfInvalid(request);
        var book = await router.LoadAsync(ct);
        var fields = CheckedFields(request.Fields ?? [], book.CustomFields);
        var contact = await NormalizeOrRefuseAsync(request, null, ct);
        var now = clock.GetUtcNow();
        var lead = new Lead
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Name = contact.Name, Company = contact.Company,
            CompanyKey = contact.CompanyKey, Mobile = contact.Mobile, Email = contact.Email, SourceTag = "手动录入",
            Tags = TagRules.Stamp(await TagRules.LoadAsync(db, ct), TagRules.FieldsFor(null, new Dictionary<string, string>(
                Scoring.LeadScoring.StoredFields(fields), StringComparer.OrdinalIgnoreCase)
            {
                ["channelKind"] = nameof(ChannelKind.Manual), ["sourceTag"] = "手动录入", ["name"] = contact.Name ?? "", ["company"] = contact.Company ?? "",
            })),
            Status = LeadStatus.New, ArrivedAt = now, UpdatedAt = now, Fields = fields,
        };
        db.Leads.Add(lead);
        // Whoever types a lead in works it: scored like any arrival, owned by its author, with a first-contact task.
        Scoring.LeadScoring.Apply(lead, null, book.Card, book.Version, now);
        router.Assign(book, lead, me.Id, "entered by hand", rule: null, byId: me.Id, now);
        db.LeadTouches.Add(new LeadTouch { Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, LeadId = lead.Id, Kind = "manual", At = now, Ip = me.Ip });
        AddKeys(lead.Id, contact);
        await SaveOrConflictAsync(ct);
        return await GetAsync(lead.Id, ct);
    }

    /// <summary>Review queue: correct an invalid or queued lead's contact details; valid again means New.</summary>
    /// <returns>The lead as it is now, or null when routing just gave it to someone outside the reviewer's scope.</returns>
    public async Task<LeadView?> FixAsync(Guid id, SaveLeadRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        Problem.ThrowIfInvalid(request);
        var lead = await db.Leads.SingleOrDefaultAsync(l => l.Id == id, ct) ?? throw Problem.NotFound("Lead");
        if (lead.Status is not (LeadStatus.New or LeadStatus.Invalid or LeadStatus.Queued))
        {
            throw Problem.Conflict($"The lead is {lead.Status}; only new, invalid or queued leads are corrected here.");
        }
        var contact = await NormalizeOrRefuseAsync(request, id, ct);
        lead.Name = contact.Name;
        lead.Company = contact.Company;
        lead.CompanyKey = contact.CompanyKey;
        lead.Mobile = contact.Mobile;
        lead.Email = contact.Email;
        lead.Problems = null;
        lead.Status = LeadStatus.New;
        lead.UpdatedAt = clock.GetUtcNow();
        db.ContactKeys.RemoveRange(await db.ContactKeys.Where(k => k.LeadId == id).ToListAsync(ct));
        AddKeys(id, contact);
        // Valid now: it gets the score and the owner an arrival would have got.
        var channel = lead.ChannelId is { } cid ? await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == cid, ct) : null;
        await router.ScoreAndRouteAsync(await router.LoadAsync(ct), lead, channel, ct);
        await SaveOrConflictAsync(ct);
        return await db.Leads.AnyAsync(l => l.Id == id, ct) ? await GetAsync(id, ct) : null;
    }

    public async Task<LeadView> DiscardAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ReviewLeads);
        var lead = await db.Leads.SingleOrDefaultAsync(l => l.Id == id, ct) ?? throw Problem.NotFound("Lead");
        if (lead.Status is LeadStatus.Qualified or LeadStatus.Merged)
        {
            throw Problem.Conflict($"The lead is {lead.Status} and cannot be discarded.");
        }
        var now = clock.GetUtcNow();
        lead.Status = LeadStatus.Discarded;
        lead.UpdatedAt = now;
        foreach (var task in await db.FollowUpTasks.Where(t => t.LeadId == id && t.ClosedAt == null).ToListAsync(ct))
        {
            (task.ClosedAt, task.ClosedReason) = (now, "discarded");
        }
        await SaveOrConflictAsync(ct);
        return await GetAsync(id, ct);
    }

    /// <summary>
    /// A rep corrects what rules read about a lead (budget, urgency, custom fields …): the set given replaces the
    /// stored one, required custom fields must be filled, and the lead is re-scored at once.
    /// </summary>
    /// <returns>The lead as it is now, or null when a new grade routed it to someone outside the editor's scope.</returns>
    public async Task<LeadView?> SaveFieldsAsync(Guid id, Dictionary<string, string> request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var lead = await db.Leads.SingleOrDefaultAsync(l => l.Id == id, ct) ?? throw Problem.NotFound("Lead");
        if (lead.Status is not (LeadStatus.New or LeadStatus.Queued or LeadStatus.Nurture or LeadStatus.Invalid))
        {
            throw Problem.Conflict($"The lead is {lead.Status}; its fields are no longer edited here.");
        }
        var book = await router.LoadAsync(ct);
        var storedFields = Scoring.LeadScoring.StoredFields(lead.Fields);
        var checkedFields = Scoring.LeadScoring.StoredFields(CheckedFields(request, book.CustomFields, storedFields));
        // Values of archived fields are kept: no form shows them any more, so none can mean to clear or change them.
        var archived = (await ManageCustomFields.AllAsync(db, ct)).Where(f => f.IsArchived).Select(f => f.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var key in archived)
        {
            checkedFields.Remove(key);
            if (storedFields.TryGetValue(key, out var kept))
            {
                checkedFields[key] = kept;
            }
        }
        lead.Fields = Scoring.LeadScoring.ToJson(checkedFields);
        var now = clock.GetUtcNow();
        lead.UpdatedAt = now;
        if (lead.Status != LeadStatus.Invalid)
        {
            var channel = lead.ChannelId is { } cid ? await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == cid, ct) : null;
            var before = lead.Grade;
            var result = Scoring.LeadScoring.Apply(lead, channel, book.Card, book.Version, now);
            // The same as a behaviour event crossing a grade boundary: timeline, owner told, re-routed if a rule says so.
            if (before is not null && !string.Equals(before, result.Grade, StringComparison.Ordinal))
            {
                await router.RegradedAsync(lead, channel, before, result, now, ct);
            }
        }
        await SaveOrConflictAsync(ct);
        // Re-routing may have handed it to someone outside the editor's scope.
        return await db.Leads.AnyAsync(l => l.Id == id, ct) ? await GetAsync(id, ct) : null;
    }

    /// <summary>The fields rules read, checked as a person's form input: one 400 naming every bad or missing field.</summary>
    private static string? CheckedFields(Dictionary<string, string> submitted, IReadOnlyList<CustomField> custom,
        IReadOnlyDictionary<string, string>? stored = null)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (key, value) in submitted)
        {
            if (key.Trim().Length is 0 or > Scoring.LeadScoring.MaxFieldName || (value?.Length ?? 0) > Scoring.LeadScoring.MaxFieldValue)
            {
                errors[$"fields.{key}"] = [$"Names are 1–{Scoring.LeadScoring.MaxFieldName} characters, values at most {Scoring.LeadScoring.MaxFieldValue}."];
            }
        }
        if (submitted.Count > Scoring.LeadScoring.MaxFields + CustomFields.MaxPerOrganization)
        {
            errors["fields"] = [$"At most {Scoring.LeadScoring.MaxFields} fields besides custom fields."];
        }
        var (json, problems) = Scoring.LeadScoring.CheckFields(submitted, custom, requireAll: true, stored);
        foreach (var (key, problem) in problems)
        {
            errors[$"fields.{key}"] = [problem];
        }
        return errors.Count > 0 ? throw Problem.Invalid(errors) : json;
    }

    private async Task<NormalizedContact> NormalizeOrRefuseAsync(SaveLeadRequest r, Guid? self, CancellationToken ct)
    {
        var contact = ContactRules.Normalize(new ContactInput(r.Name, r.Company, r.Mobile, r.Email), (await router.CurrentAsync(ct)).Blocklist);
        if (!contact.IsValid)
        {
            throw Problem.Invalid(contact.Problems.ToDictionary(
                p => p switch { ContactProblem.InvalidMobile => "mobile", ContactProblem.InvalidEmail => "email", _ => "" },
                p => new[] { Describe(p) }).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.SelectMany(e => e.Value).ToArray()));
        }
        var keys = DuplicateRules.Keys(contact).ToList();
        if (await db.ContactKeys.IgnoreQueryFilters().AnyAsync(k => k.OrganizationId == me.OrganizationId && keys.Contains(k.Key) && k.LeadId != self, ct))
        {
            throw Problem.Conflict("This mobile or email already belongs to a lead or customer of your organisation.");
        }
        return contact;
    }

    internal static string Describe(ContactProblem p) => p switch
    {
        ContactProblem.InvalidMobile => "Not a valid phone number.",
        ContactProblem.InvalidEmail => "Not a valid email address.",
        ContactProblem.NoContact => "Give a valid mobile number or email address.",
        ContactProblem.Blocklisted => "This contact is on the blocklist.",
        _ => p.ToString(),
    };

    private void AddKeys(Guid leadId, NormalizedContact contact)
    {
        foreach (var key in DuplicateRules.Keys(contact))
        {
            db.ContactKeys.Add(new ContactKey { OrganizationId = me.OrganizationId, Key = key, LeadId = leadId });
        }
    }

    private async Task SaveOrConflictAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (CaptureLead.IsUniqueViolation(e))
        {
            throw Problem.Conflict("This mobile or email was just used by another lead or customer.");
        }
        catch (DbUpdateConcurrencyException)
        {
            throw Problem.Conflict("Someone else changed this lead at the same moment; reload it.");
        }
    }

    private IQueryable<LeadRow> Rows(IQueryable<Lead> leads) => Project(db, leads);

    /// <summary>The one list shape of a lead, with its channel's name.</summary>
    internal static IQueryable<LeadRow> Project(TideflowDbContext db, IQueryable<Lead> leads) =>
        from l in leads
        join c in db.Channels on l.ChannelId equals c.Id into ch
        from c in ch.DefaultIfEmpty()
        join u in db.Users on l.OwnerId equals u.Id into us
        from u in us.DefaultIfEmpty()
        select new LeadRow(l.Id, l.Name, l.Company, l.Mobile, l.Email, l.ChannelId, c == null ? null : c.Name, l.SourceTag,
            l.Tags, l.Campaign, l.Status, l.Problems, l.OwnerId, l.ArrivedAt, l.Score, l.Grade, u == null ? null : u.DisplayName, l.PoolId);
}

public static class LeadEndpoints
{
    public static void MapLeads(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/leads").WithTags("Leads");
        g.MapGet("/", ([AsParameters] LeadQuery q, Leads h, CancellationToken ct) => h.ListAsync(q, ct));
        g.MapGet("/{id:guid}", (Guid id, Leads h, CancellationToken ct) => h.GetAsync(id, ct));
        g.MapPost("/", async (SaveLeadRequest r, Leads h, CancellationToken ct) =>
        {
            var view = await h.CreateAsync(r, ct);
            return Results.Created($"/api/leads/{view.Lead.Id}", view);
        });
        // 204: fixed, and routed to an owner the reviewer does not see (say, the rep who already works that company).
        g.MapPut("/{id:guid}", async (Guid id, SaveLeadRequest r, Leads h, CancellationToken ct) =>
            await h.FixAsync(id, r, ct) is { } view ? Results.Ok(view) : Results.NoContent());
        g.MapPost("/{id:guid}/discard", (Guid id, Leads h, CancellationToken ct) => h.DiscardAsync(id, ct));
        g.MapPut("/{id:guid}/fields", async (Guid id, Dictionary<string, string> r, Leads h, CancellationToken ct) =>
            await h.SaveFieldsAsync(id, r, ct) is { } view ? Results.Ok(view) : Results.NoContent());
    }
}
