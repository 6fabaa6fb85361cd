using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Scoring;

/// <summary>Something a lead did (viewed a page, downloaded a white paper …), with the points it was worth then.</summary>
public sealed class BehaviourEvent : IOrganizationOwned
{
    public long Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid LeadId { get; set; }
    public required string Type { get; set; }
    public int Points { get; set; }
    public DateTimeOffset At { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>A behaviour event from a marketing system or website. The lead is named by id, or by its mobile or email.</summary>
public sealed record BehaviourEventRequest(
    Guid? LeadId,
    [property: StringLength(32)] string? Mobile,
    [property: StringLength(254)] string? Email,
    [property: Required, StringLength(50, MinimumLength = 1)] string Type,
    DateTimeOffset? At);

public sealed record BehaviourEventResult(Guid LeadId, string Type, int Points, int Score, string Grade, string? PreviousGrade,
    bool Regraded, Guid? OwnerId);

/// <summary>
/// Adds an event's points to a lead (R2.3): the balance decays with the card's half-life, the lead is re-scored,
/// and crossing a grade boundary writes the timeline, tells the owner and may re-route the lead by rule.
/// </summary>
public sealed class RecordBehaviour(TideflowDbContext db, CurrentUser me, TimeProvider clock, LeadRouter router)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(365);
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);
    /// <summary>Each failed attempt means another event for the lead was saved meanwhile, so a burst of n needs n attempts.</summary>
    public const int MaxAttempts = 20;

    public async Task<BehaviourEventResult> RecordAsync(BehaviourEventRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        Problem.ThrowIfInvalid(request);
        var now = clock.GetUtcNow();
        var at = request.At ?? now;
        if (at > now + MaxClockSkew)
        {
            throw Problem.Invalid("at", "The event is in the future.");
        }
        if (at < now - MaxAge)
        {
            throw Problem.Invalid("at", "The event is more than a year old.");
        }
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RecordOnceAsync(request, at, now, ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < MaxAttempts)
            {
                // Two events for one lead at once: the later save re-reads the balance instead of overwriting it.
                // A short random pause keeps a burst of events for one lead from retrying in lockstep.
                db.ChangeTracker.Clear();
                await Task.Delay(Random.Shared.Next(1, 10 * attempt), ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                throw Problem.Conflict("Too many events for this lead at the same moment; send this one again.");
            }
        }
    }

    private async Task<BehaviourEventResult> RecordOnceAsync(BehaviourEventRequest request, DateTimeOffset at, DateTimeOffset now, CancellationToken ct)
    {
        var (version, card) = await ScoreCards.CurrentAsync(db, ct);
        var asSent = request.Type.Trim();
        // Stored as the card spells it, so "Page_Viewed" and "page_viewed" count as one type.
        var known = Scorer.EventType(card, asSent)
            ?? throw Problem.Invalid("type", $"'{asSent}' is not an event type of the scoring rules; known: {string.Join(", ", card.Events.Select(e => e.Type))}.");
        var (type, points) = (known.Type, known.Points);
        var lead = await FindLeadAsync(request, ct);
        if (lead.Status is LeadStatus.Invalid or LeadStatus.Discarded or LeadStatus.Merged)
        {
            throw Problem.Conflict($"The lead is {lead.Status}; events count only on open leads.");
        }
        var channel = lead.ChannelId is { } cid ? await db.Channels.AsNoTracking().SingleOrDefaultAsync(c => c.Id == cid, ct) : null;

        var balance = lead.BehaviourAsOf is { } asOf ? Decay.Remaining(lead.BehaviourPoints, asOf, now, card.HalfLifeDays) : 0;
        // Never below 0 (an unsubscribe cannot bank negative credit) nor above the cap (a burst cannot buy months of A).
        lead.BehaviourPoints = Math.Clamp(balance + Decay.Remaining(points, at, now, card.HalfLifeDays), 0, card.MaxBehaviourPoints);
        lead.BehaviourAsOf = now;
        lead.BehaviourCount++;
        lead.UpdatedAt = now;
        var before = lead.Grade;
        var result = LeadScoring.Apply(lead, channel, card, version, now);
        db.BehaviourEvents.Add(new BehaviourEvent
        {
            OrganizationId = lead.OrganizationId, LeadId = lead.Id, Type = type, Points = points, At = at, ReceivedAt = now,
        });
        var regraded = before is not null && !string.Equals(before, result.Grade, StringComparison.Ordinal);
        if (regraded)
        {
            await router.RegradedAsync(lead, channel, before!, result, now, ct);
        }
        await db.SaveChangesAsync(ct);
        return new BehaviourEventResult(lead.Id, type, points, result.Total, result.Grade, before, regraded, lead.OwnerId);
    }

    private async Task<Lead> FindLeadAsync(BehaviourEventRequest request, CancellationToken ct)
    {
        Lead? lead;
        if (request.LeadId is { } id)
        {
            lead = await db.Leads.SingleOrDefaultAsync(l => l.Id == id, ct);
        }
        else
        {
            var contact = ContactRules.Normalize(new ContactInput(null, null, request.Mobile, request.Email), new HashSet<string>());
            var keys = DuplicateRules.Keys(contact).ToList();
            if (keys.Count == 0)
            {
                throw Problem.Invalid("leadId", "Name the lead by its id, or by a valid mobile or email.");
            }
            var leadId = await db.ContactKeys.Where(k => keys.Contains(k.Key) && k.LeadId != null).Select(k => k.LeadId).FirstOrDefaultAsync(ct);
            lead = leadId is null ? null : await db.Leads.SingleOrDefaultAsync(l => l.Id == leadId, ct);
        }
        // A merged lead's events belong to the lead that survived.
        if (lead is { Status: LeadStatus.Merged, MergedIntoId: { } survivor })
        {
            lead = await db.Leads.SingleOrDefaultAsync(l => l.Id == survivor, ct);
        }
        return lead ?? throw Problem.NotFound("Lead");
    }
}

public static class Timeline
{
    /// <summary>A grade change as a timeline entry of the lead; its payload names both grades and the score.</summary>
    public static LeadTouch Regraded(Lead lead, string from, ScoreResult result, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(), OrganizationId = lead.OrganizationId, LeadId = lead.Id, Kind = "regraded", At = now,
        RawPayload = JsonSerializer.Serialize(new { from, to = result.Grade, score = result.Total }, LeadScoring.Json),
    };
}
