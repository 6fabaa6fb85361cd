using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Domain.Workbench;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Workbench;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Customers;

public sealed record CustomerRow(Guid Id, string Name, string? Company, string? Mobile, string? Email,
    string? Region, string? Industry, Guid? OwnerId, string? OwnerName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string? Grade = null, IReadOnlyDictionary<string, string>? Fields = null, string Stage = Domain.Pipeline.SalesPipeline.First,
    string? FeedbackTags = null, DateOnly? ContractEndsOn = null);

public sealed record CustomerQuery(string? Search = null, Guid? OwnerId = null, int Page = 1, int PageSize = 25,
    string? Sort = null, bool Descending = false, string? Field = null, string? FieldValue = null, string? FieldFrom = null, string? FieldTo = null,
    string? FeedbackTag = null, string? View = null);

/// <summary>
/// What a rep may type about a customer. Owner, organisation and audit fields are not here on purpose.
/// <see cref="Fields"/> are custom field values by key; null on an update keeps the stored ones.
/// <see cref="ContractEndsOn"/> is the last day of the current contract (合同到期日); a renewal enters the new contract's.
/// Null on an update keeps the stored day (a client written before the field existed must not erase it);
/// <see cref="ClearContractEndsOn"/> removes it.
/// </summary>
public sealed record SaveCustomerRequest(
    [property: Required, StringLength(100, MinimumLength = 1)] string Name,
    [property: StringLength(200)] string? Company,
    [property: StringLength(32)] string? Mobile,
    [property: StringLength(254), EmailAddress] string? Email,
    [property: StringLength(50)] string? Region,
    [property: StringLength(50)] string? Industry,
    Dictionary<string, string?>? Fields = null,
    DateOnly? ContractEndsOn = null,
    bool ClearContractEndsOn = false);

/// <summary>
/// Customers as the current user may see them. Visibility comes from the DbContext's data-scope filter,
/// so nothing here decides who sees what: an id outside the scope simply does not exist (404).
/// </summary>
public sealed class Customers(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public async Task<Page<CustomerRow>> ListAsync(CustomerQuery q, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var size = Math.Clamp(q.PageSize, 1, 200);
        var page = Math.Max(q.Page, 1);
        // Refused before any query: a mistyped link must not quietly show every customer.
        WorkbenchView? view = string.IsNullOrWhiteSpace(q.View) ? null : WorkbenchLists.Parse(q.View);
        var query = db.Customers.AsNoTracking();
        // Pool members see pooled customers in the pool view (masked); here only those who see every customer list them.
        if (me.Scope.VisibleOwnerIds is not null)
        {
            query = Held(query, me.Scope);
        }
        if (!string.IsNullOrWhiteSpace(q.Search))
        {
            var s = q.Search.Trim();
            query = query.Where(c => c.Name.Contains(s) || (c.Company != null && c.Company.Contains(s)) ||
                                     (c.Mobile != null && c.Mobile.Contains(s)) || (c.Email != null && c.Email.Contains(s)));
        }
        if (q.OwnerId is { } owner)
        {
            query = query.Where(c => c.OwnerId == owner);
        }
        query = await CustomFieldFilter.ApplyAsync(query, db, CustomFieldTarget.Customer, q.Field, q.FieldValue, q.FieldFrom, q.FieldTo, ct);
        if (!string.IsNullOrWhiteSpace(q.FeedbackTag))
        {
            var tag = "," + q.FeedbackTag.Trim() + ",";
            query = query.Where(c => c.FeedbackTags != null && ("," + c.FeedbackTags + ",").Contains(tag));
        }
        if (view is { } v)
        {
            query = WorkbenchLists.Filter(query, db, v, await WorkbenchLists.ContextAsync(db, me, clock, ct));
        }
        var total = await query.CountAsync(ct);
        var ordered = (q.Sort?.ToLowerInvariant(), q.Descending) switch
        {
            ("name", false) => query.OrderBy(c => c.Name),
            ("name", true) => query.OrderByDescending(c => c.Name),
            ("company", false) => query.OrderBy(c => c.Company),
            ("company", true) => query.OrderByDescending(c => c.Company),
            ("createdat", false) => query.OrderBy(c => c.CreatedAt),
            _ => query.OrderByDescending(c => c.CreatedAt),
        };
        // A workbench list opens most urgent first, as its card shows it, until the user sorts by a column.
        var sorted = view is { } urgent && string.IsNullOrEmpty(q.Sort) ? WorkbenchLists.MostUrgentFirst(query, db, urgent) : ordered.ThenBy(c => c.Id);
        var items = await Project(sorted.Skip((page - 1) * size).Take(size)).ToListAsync(ct);
        return new Page<CustomerRow>(items.Select(Masked).ToList(), total, page, size);
    }

    /// <summary>
    /// The customers held by an owner the scope shows. The data-scope filter also shows a pool member the pool's customers,
    /// and with only owned customers wanted that "or pooled" branch still made the database look at every customer sitting in
    /// the pool, only to drop it (1M customers, 50,000 pooled, PostgreSQL: a rep's customer count read the pool's 50,000
    /// index entries, 18–21 ms, instead of going straight to the rep's 2,000 rows, 3–4 ms). Naming the owners lets it go
    /// straight to theirs; the filter still applies.
    /// </summary>
    public static IQueryable<Customer> Held(IQueryable<Customer> query, DataScope scope)
    {
        if (scope.VisibleOwnerIds is not { } owners)
        {
            return query.Where(c => c.OwnerId != null);
        }
        var ids = owners.ToList();
        return query.Where(c => c.OwnerId != null && ids.Contains(c.OwnerId.Value));
    }

    public async Task<CustomerRow> GetAsync(Guid id, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var row = await Project(db.Customers.AsNoTracking().Where(c => c.Id == id)).SingleOrDefaultAsync(ct)
               ?? throw Problem.NotFound("Customer");
        return Masked(row);
    }

    /// <summary>A pooled customer's contact details stay masked (R9.6) for everyone but those who see all, until claimed.</summary>
    private CustomerRow Masked(CustomerRow row) => row.OwnerId is null && me.Scope.VisibleOwnerIds is not null
        ? row with { Mobile = Pool.ContactMask.Phone(row.Mobile), Email = Pool.ContactMask.Email(row.Email) }
        : row;

    public async Task<CustomerRow> CreateAsync(SaveCustomerRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var fields = await CheckFieldsAsync(request.Fields ?? [], ct);
        request = Normalize(request, clock.GetUtcNow());
        var now = clock.GetUtcNow();
        var customer = new Customer
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = me.OrganizationId,
            Name = request.Name,
            OwnerId = me.Id,
            CreatedById = me.Id,
            AssignedAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        Apply(customer, request, me.Scope.TimeZone);
        customer.Fields = fields;
        db.Customers.Add(customer);
        await RegisterContactKeysAsync(customer, ct);
        return await GetAsync(customer.Id, ct);
    }

    public async Task<CustomerRow> UpdateAsync(Guid id, SaveCustomerRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var customer = await db.Customers.SingleOrDefaultAsync(c => c.Id == id, ct) ?? throw Problem.NotFound("Customer");
        var fields = request.Fields is null ? null : await CheckFieldsAsync(request.Fields, ct, Scoring.LeadScoring.StoredFields(customer.Fields));
        request = Normalize(request, clock.GetUtcNow());
        Apply(customer, request, me.Scope.TimeZone);
        if (request.Fields is not null)
        {
            // Values of archived fields are kept: no form shows them any more, so none can mean to clear them.
            var active = (await ManageCustomFields.ActiveAsync(db, CustomFieldTarget.Customer, ct)).Select(f => f.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var kept = Scoring.LeadScoring.StoredFields(customer.Fields).Where(f => !active.Contains(f.Key));
            customer.Fields = Scoring.LeadScoring.ToJson(Scoring.LeadScoring.StoredFields(fields).Concat(kept).ToDictionary());
        }
        customer.UpdatedAt = clock.GetUtcNow();
        db.ContactKeys.RemoveRange(await db.ContactKeys.Where(k => k.CustomerId == id).ToListAsync(ct));
        await RegisterContactKeysAsync(customer, ct);
        return await GetAsync(id, ct);
    }

    /// <summary>Custom values as a person's form gives them: every required one filled, each fitting its type; one 400 naming each bad field.</summary>
    private async Task<string?> CheckFieldsAsync(Dictionary<string, string?> given, CancellationToken ct,
        IReadOnlyDictionary<string, string>? stored = null)
    {
        var all = await ManageCustomFields.AllAsync(db, ct);
        // An archived field's value is neither checked nor changed here (see UpdateAsync); any other unknown key is refused.
        var archived = all.Where(f => f.IsArchived).Select(f => f.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var active = all.Where(f => !f.IsArchived).Select(f => f.ToDomain()).ToList();
        var (values, problems) = CustomFields.Check(active, CustomFieldTarget.Customer, given.Where(g => !archived.Contains(g.Key.Trim())), requireAll: true, stored);
        if (problems.Count > 0)
        {
            throw Problem.Invalid(problems.ToDictionary(p => $"fields.{p.Key}", p => new[] { p.Value }));
        }
        return Scoring.LeadScoring.ToJson(values);
    }

    /// <summary>Validates, then mobile to E.164 and email lower-cased; one 400 naming every bad field.</summary>
    private static SaveCustomerRequest Normalize(SaveCustomerRequest r, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>();
        try
        {
            Problem.ThrowIfInvalid(r);
        }
        catch (Problem p) when (p.Errors is not null)
        {
            errors = new Dictionary<string, string[]>(p.Errors);
        }
        var mobile = ContactRules.NormalizePhone(r.Mobile, "CN", out var badMobile);
        var email = ContactRules.NormalizeEmail(r.Email, out var badEmail);
        if (badMobile) errors["mobile"] = [Leads.Leads.Describe(ContactProblem.InvalidMobile)];
        if (badEmail) errors["email"] = [Leads.Leads.Describe(ContactProblem.InvalidEmail)];
        // Ten years ahead at most, as a rule's period: a far-off day would keep a won customer from the pool for good.
        if (r.ContractEndsOn is { } last && (last.Year < 2000 || last > DateOnly.FromDateTime(now.UtcDateTime).AddYears(10)))
        {
            errors["contractEndsOn"] = ["A contract's last day lies between the year 2000 and ten years from today."];
        }
        if (r.ClearContractEndsOn && r.ContractEndsOn is not null)
        {
            errors["clearContractEndsOn"] = ["Send a contract end date or clear it, not both."];
        }
        if (errors.Count > 0) throw Problem.Invalid(errors);
        return r with { Mobile = mobile, Email = email };
    }

    /// <summary>A lead arriving later with this mobile or email becomes a touch on this customer (R1.3).</summary>
    private async Task RegisterContactKeysAsync(Customer customer, CancellationToken ct)
    {
        var contact = new NormalizedContact(customer.Name, customer.Company, ContactRules.CompanyKey(customer.Company),
            customer.Mobile, customer.Email, []);
        foreach (var key in DuplicateRules.Keys(contact))
        {
            db.ContactKeys.Add(new ContactKey { OrganizationId = customer.OrganizationId, Key = key, CustomerId = customer.Id });
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (CaptureLead.IsUniqueViolation(e))
        {
            throw Problem.Conflict("This mobile or email already belongs to another lead or customer of your organisation.");
        }
    }

    private static void Apply(Customer c, SaveCustomerRequest r, string timeZone)
    {
        // Kept as entered; the rule reads the instant the last day is over where the person entering it works.
        if (r.ClearContractEndsOn)
        {
            (c.ContractEndsOn, c.ContractEndsAt) = (null, null);
        }
        else if (r.ContractEndsOn is { } last && c.ContractEndsOn != last)
        {
            c.ContractEndsOn = last;
            c.ContractEndsAt = UserTime.StartOfDay(last.AddDays(1).ToDateTime(TimeOnly.MinValue), timeZone);
        }
        c.Name = r.Name.Trim();
        c.Company = Blank(r.Company);
        // Sticky ownership (R3.3) finds a company's customer by this key: a lead from the same company goes to its owner.
        var key = ContactRules.CompanyKey(c.Company);
        c.CompanyKey = key is { Length: > 200 } ? key[..200] : key;
        c.Mobile = Blank(r.Mobile);
        c.Email = Blank(r.Email)?.ToLowerInvariant();
        c.Region = Blank(r.Region);
        c.Industry = Blank(r.Industry);
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private IQueryable<CustomerRow> Project(IQueryable<Customer> query) =>
        from c in query
        join u in db.Users on c.OwnerId equals u.Id into owner
        from u in owner.DefaultIfEmpty()
        select new CustomerRow(c.Id, c.Name, c.Company, c.Mobile, c.Email, c.Region, c.Industry, c.OwnerId,
            u == null ? null : u.DisplayName, c.CreatedAt, c.UpdatedAt, c.Grade, Scoring.LeadScoring.StoredFields(c.Fields), c.Stage, c.FeedbackTags,
            c.ContractEndsOn);
}

public static class CustomerEndpoints
{
    public static void MapCustomers(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/customers").WithTags("Customers");
        g.MapGet("/", ([AsParameters] CustomerQuery q, Customers h, CancellationToken ct) => h.ListAsync(q, ct));
        g.MapGet("/{id:guid}", (Guid id, Customers h, CancellationToken ct) => h.GetAsync(id, ct));
        g.MapPost("/", async (SaveCustomerRequest r, Customers h, CancellationToken ct) =>
        {
            var row = await h.CreateAsync(r, ct);
            return Results.Created($"/api/customers/{row.Id}", row);
        });
        g.MapPut("/{id:guid}", (Guid id, SaveCustomerRequest r, Customers h, CancellationToken ct) => h.UpdateAsync(id, r, ct));
    }
}
