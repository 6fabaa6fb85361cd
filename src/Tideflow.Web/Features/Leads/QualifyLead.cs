using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Scoring;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

public sealed record BantRequest(bool Budget, bool Authority, bool Need, bool Timeline, [property: StringLength(1000)] string? Notes);

public sealed record DisqualifyRequest([property: Required, StringLength(500, MinimumLength = 2)] string Reason);

public sealed record QualifyResult(Guid LeadId, Guid CustomerId, Guid OwnerId);

/// <summary>
/// The rep's explicit decision on a lead (R2.4): the BANT checklist, then Qualify (it becomes a customer with an
/// owner) or Disqualify (a reason is required; the lead goes to nurture and is never deleted).
/// </summary>
public sealed class QualifyLead(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public async Task SaveBantAsync(Guid id, BantRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        Problem.ThrowIfInvalid(request);
        var lead = await OpenLeadAsync(id, ct);
        lead.BantBudget = request.Budget;
        lead.BantAuthority = request.Authority;
        lead.BantNeed = request.Need;
        lead.BantTimeline = request.Timeline;
        lead.BantNotes = string.IsNullOrWhiteSpace(request.Notes) ? null : request.Notes.Trim();
        lead.UpdatedAt = clock.GetUtcNow();
        await SaveAsync(ct);
    }

    public async Task<QualifyResult> QualifyAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var lead = await OpenLeadAsync(id, ct);
        if (lead.Status == LeadStatus.Queued)
        {
            throw Problem.Conflict("The lead is queued for review (over the channel's daily cap); a reviewer releases it first.");
        }
        var now = clock.GetUtcNow();
        var owner = lead.OwnerId ?? me.Id;
        var fields = LeadScoring.StoredFields(lead.Fields);
        var customer = new Customer
        {
            Id = Guid.CreateVersion7(), OrganizationId = lead.OrganizationId,
            Name = Clip(lead.Name ?? lead.Company ?? lead.Mobile ?? lead.Email ?? "?", 100)!,
            Company = lead.Company, CompanyKey = lead.CompanyKey, Mobile = lead.Mobile, Email = lead.Email,
            Region = Clip(fields.GetValueOrDefault(LeadFields.Region), 50), Industry = Clip(fields.GetValueOrDefault(LeadFields.Industry), 50),
            OwnerId = owner, AssignedAt = lead.AssignedAt ?? now, LeadId = lead.Id, Score = lead.Score, Grade = lead.Grade,
            CreatedById = me.Id, CreatedAt = now, UpdatedAt = now,
        };
        // Custom values travel with the lead, for the fields customers have too.
        // Checked as customer values: a value that does not fit the customer's field is left behind on the lead.
        var custom = await ManageCustomFields.ActiveAsync(db, ct);
        var forCustomers = custom.Where(f => f.AppliesTo.HasFlag(CustomFieldTarget.Customer)).Select(f => f.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var (carried, _) = CustomFields.Check(custom, CustomFieldTarget.Customer,
            fields.Where(f => forCustomers.Contains(f.Key)).Select(f => new KeyValuePair<string, string?>(f.Key, f.Value)), requireAll: false);
        customer.Fields = LeadScoring.ToJson(carried);
        db.Customers.Add(customer);
        db.OwnershipChanges.Add(new OwnershipChange
        {
            OrganizationId = lead.OrganizationId, CustomerId = customer.Id, FromId = null, ToId = owner,
            Reason = "qualified from lead", ById = me.Id, At = now,
        });
        // From now on a returning contact touches the customer, and its tasks follow it.
        foreach (var key in await db.ContactKeys.Where(k => k.LeadId == lead.Id).ToListAsync(ct))
        {
            key.CustomerId = customer.Id;
        }
        foreach (var task in await db.FollowUpTasks.Where(t => t.LeadId == lead.Id && t.ClosedAt == null).ToListAsync(ct))
        {
            task.CustomerId = customer.Id;
        }
        lead.OwnerId = owner;
        lead.Status = LeadStatus.Qualified;
        lead.CustomerId = customer.Id;
        lead.DecidedAt = now;
        lead.UpdatedAt = now;
        await SaveAsync(ct);
        return new QualifyResult(lead.Id, customer.Id, owner);
    }

    public async Task DisqualifyAsync(Guid id, DisqualifyRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        Problem.ThrowIfInvalid(request);
        if (request.Reason.Trim().Length < 2)
        {
            throw Problem.Invalid("reason", "Say why, in at least 2 characters.");
        }
        var lead = await OpenLeadAsync(id, ct);
        if (lead.Status == LeadStatus.Nurture)
        {
            throw Problem.Conflict("The lead is already in nurture.");
        }
        var now = clock.GetUtcNow();
        lead.Status = LeadStatus.Nurture;
        lead.DisqualifyReason = request.Reason.Trim();
        lead.DecidedAt = now;
        lead.UpdatedAt = now;
        foreach (var task in await db.FollowUpTasks.Where(t => t.LeadId == lead.Id && t.ClosedAt == null).ToListAsync(ct))
        {
            task.ClosedAt = now;
            task.ClosedReason = "disqualified";
        }
        await SaveAsync(ct);
    }

    private async Task<Lead> OpenLeadAsync(Guid id, CancellationToken ct)
    {
        var lead = await db.Leads.SingleOrDefaultAsync(l => l.Id == id, ct) ?? throw Problem.NotFound("Lead");
        return lead.Status is LeadStatus.New or LeadStatus.Queued or LeadStatus.Nurture
            ? lead
            : throw Problem.Conflict($"The lead is {lead.Status}; only open leads can be qualified or disqualified.");
    }

    private async Task SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw Problem.Conflict("Someone else changed this lead at the same moment; reload it.");
        }
    }

    private static string? Clip(string? s, int max) => s is null ? null : s.Length <= max ? s : s[..max];
}

public static class QualifyEndpoints
{
    public static void MapQualify(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/leads").WithTags("Leads");
        g.MapPut("/{id:guid}/bant", async (Guid id, BantRequest r, QualifyLead h, CancellationToken ct) =>
        {
            await h.SaveBantAsync(id, r, ct);
            return Results.NoContent();
        });
        g.MapPost("/{id:guid}/qualify", (Guid id, QualifyLead h, CancellationToken ct) => h.QualifyAsync(id, ct));
        g.MapPost("/{id:guid}/disqualify", async (Guid id, DisqualifyRequest r, QualifyLead h, CancellationToken ct) =>
        {
            await h.DisqualifyAsync(id, r, ct);
            return Results.NoContent();
        });
    }
}
