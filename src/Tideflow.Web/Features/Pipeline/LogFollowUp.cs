using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pipeline;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pipeline;

/// <summary>
/// One contact with a customer (跟进记录, R5.3). Append-only: nothing edits or deletes a record; a correction is a new
/// record whose <see cref="CorrectsId"/> names the one it corrects.
/// </summary>
public sealed class FollowUpRecord : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid CustomerId { get; set; }
    public Guid AuthorId { get; set; }
    public FollowUpChannel Channel { get; set; }
    public required string Content { get; set; }
    public string? Goal { get; set; }
    public bool GoalReached { get; set; }
    public string? NextPlan { get; set; }
    public DateTimeOffset? NextContactAt { get; set; }
    public Guid? CorrectsId { get; set; }
    /// <summary>Feedback tags the keyword rules found in it, comma-separated (R5.5).</summary>
    public string? Tags { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <param name="AttachmentIds">Files uploaded to this customer beforehand (POST /api/customers/{id}/attachments) and not yet on a record.</param>
public sealed record LogFollowUpRequest(FollowUpChannel? Channel, string? Content, string? Goal, bool GoalReached, string? NextPlan,
    DateTimeOffset? NextContactAt, Guid? CorrectsId = null, IReadOnlyList<Guid>? AttachmentIds = null);

public sealed record FollowUpRow(Guid Id, FollowUpChannel Channel, string Content, string? Goal, bool GoalReached, string? NextPlan,
    DateTimeOffset? NextContactAt, Guid? CorrectsId, Guid? CorrectedById, Guid AuthorId, string? AuthorName, DateTimeOffset At,
    IReadOnlyList<string>? Tags = null, IReadOnlyList<Attachments.AttachmentRow>? Attachments = null);

/// <summary>
/// A rep records a contact: the record is checked (<see cref="FollowUpRules"/>), the owner's open contact tasks for the
/// customer are done, and the next plan becomes the next-contact task, so the system — not memory — brings the
/// customer back on the day.
/// </summary>
public sealed class LogFollowUp(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public async Task<FollowUpRow> LogAsync(Guid customerId, LogFollowUpRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        // Through the scope filter: a customer the caller cannot see does not exist for them.
        var customer = await db.Customers.SingleOrDefaultAsync(c => c.Id == customerId, ct) ?? throw Problem.NotFound("Customer");
        var now = clock.GetUtcNow();
        var pipeline = await PipelineSettings.LoadAsync(db, customer.OrganizationId, ct);
        var input = new FollowUpInput(request.Channel, request.Content, request.Goal, request.GoalReached, request.NextPlan, request.NextContactAt);
        // A won or lost customer needs no next step.
        var problems = FollowUpRules.Problems(input, pipeline.IsClosed(customer.Stage), now);
        if (request.CorrectsId is { } corrected
            && !await db.FollowUpRecords.AnyAsync(f => f.Id == corrected && f.CustomerId == customerId, ct))
        {
            problems["correctsId"] = "No follow-up of this customer has that id.";
        }
        var (attachments, unlinkable) = await Attachments.Attachments.ForFollowUpAsync(db, customerId, request.AttachmentIds, ct);
        if (unlinkable is not null)
        {
            problems["attachmentIds"] = unlinkable;
        }
        if (problems.Count > 0)
        {
            throw Problem.Invalid(problems.ToDictionary(p => p.Key, p => new[] { p.Value }));
        }

        var record = new FollowUpRecord
        {
            Id = Guid.CreateVersion7(), OrganizationId = customer.OrganizationId, CustomerId = customerId, AuthorId = me.Id,
            Channel = request.Channel!.Value, Content = request.Content!.Trim(), Goal = Blank(request.Goal), GoalReached = request.GoalReached && Blank(request.Goal) is not null,
            NextPlan = Blank(request.NextPlan), NextContactAt = request.NextContactAt?.ToUniversalTime(), CorrectsId = request.CorrectsId, At = now,
        };
        var tags = FeedbackTags.Tag(await FeedbackRules.LoadAsync(db, ct), $"{record.Content}\n{record.Goal}");
        if (tags.Count > 0)
        {
            record.Tags = string.Join(",", tags);
            customer.FeedbackTags = MergeTags(customer.FeedbackTags, tags);
        }
        db.FollowUpRecords.Add(record);
        // The record stays as logged; the link is written on each attachment.
        attachments.ForEach(a => a.FollowUpRecordId = record.Id);
        customer.LastFollowUpAt = now;
        customer.UpdatedAt = now;
        // Correcting an older record fixes history; only the latest plan is the customer's current one.
        var planning = request.CorrectsId is not { } fixes
            || !await db.FollowUpRecords.AnyAsync(f => f.CustomerId == customerId && f.Id != fixes && f.CorrectsId != fixes
                && f.At > db.FollowUpRecords.Where(o => o.Id == fixes).Select(o => o.At).First(), ct);
        if (planning && customer.OwnerId is { } owner)
        {
            // The contact this record is about is done; a correction changes the plan, so it replaces the reminder too.
            // A later plan step is done only by a follow-up on its channel, when it names one ("电话联系").
            var card = (await Scoring.ScoreCards.CurrentAsync(db, ct)).Card;
            var plan = FollowUpPlans.For(await FollowUpPlanSettings.LoadAsync(db, customer.OrganizationId, card, ct), card, customer.Grade);
            var closed = pipeline.IsClosed(customer.Stage);
            foreach (var task in await db.FollowUpTasks.Where(t => t.CustomerId == customerId && t.OwnerId == owner && t.ClosedAt == null
                         && (t.Kind == TaskKinds.FirstContact || t.Kind == TaskKinds.NextContact || t.Kind == TaskKinds.PlanStep)).ToListAsync(ct))
            {
                // A correction fixes what was recorded; it is no new contact, so it does no plan step.
                if (task.Kind == TaskKinds.PlanStep && (record.CorrectsId is not null
                    || (task.PlanStep is { } step && step < plan.Steps.Count && !FollowUpPlans.Done(plan.Steps[step].Channel, record.Channel))))
                {
                    continue;
                }
                (task.ClosedAt, task.ClosedReason) = (now, "followed-up");
                // The plan moves on: the next step is due from this contact (R5.4); a closed customer has no plan left.
                if (task.PlanStep is { } done && !closed && FollowUpPlans.Next(plan, done, now) is { } next)
                {
                    db.FollowUpTasks.Add(new FollowUpTask
                    {
                        Id = Guid.CreateVersion7(), OrganizationId = customer.OrganizationId, OwnerId = owner, CustomerId = customerId,
                        Kind = TaskKinds.PlanStep, Title = next.Title, DueAt = next.DueAt, PlanStep = next.Step, CreatedAt = now,
                    });
                }
            }
            if (record.NextContactAt is { } due)
            {
                db.FollowUpTasks.Add(new FollowUpTask
                {
                    Id = Guid.CreateVersion7(), OrganizationId = customer.OrganizationId, OwnerId = owner, CustomerId = customerId,
                    Kind = TaskKinds.NextContact, DueAt = due, CreatedAt = now,
                });
            }
        }
        if (planning)
        {
            customer.NextContactAt = record.NextContactAt;
        }
        await db.SaveChangesAsync(ct);
        return (await ListAsync(customerId, ct)).Single(r => r.Id == record.Id);
    }

    /// <summary>The customer's follow-ups, newest first, each saying which record corrects it.</summary>
    public async Task<List<FollowUpRow>> ListAsync(Guid customerId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct))
        {
            throw Problem.NotFound("Customer");
        }
        var rows = await (from f in db.FollowUpRecords.AsNoTracking()
                          where f.CustomerId == customerId
                          join u in db.Users on f.AuthorId equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          orderby f.At descending, f.Id descending
                          select new { f, Author = u == null ? null : u.DisplayName }).Take(500).ToListAsync(ct);
        var files = await Attachments.Attachments.ByFollowUpAsync(db, customerId, ct);
        var correctedBy = rows.Where(r => r.f.CorrectsId is not null).GroupBy(r => r.f.CorrectsId!.Value)
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.f.At).First().f.Id);
        return rows.Select(r => new FollowUpRow(r.f.Id, r.f.Channel, r.f.Content, r.f.Goal, r.f.GoalReached, r.f.NextPlan, r.f.NextContactAt,
            r.f.CorrectsId, correctedBy.TryGetValue(r.f.Id, out var by) ? by : null, r.f.AuthorId, r.Author, r.f.At,
            r.f.Tags?.Split(',') ?? [], files.GetValueOrDefault(r.f.Id) ?? [])).ToList();
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    // The customer keeps every tag its follow-ups ever had, each once, within the column's length.
    private static string MergeTags(string? existing, IEnumerable<string> added)
    {
        var all = (existing ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Concat(added).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        while (string.Join(",", all).Length > 1000) all.RemoveAt(0);
        return string.Join(",", all);
    }
}

public static class FollowUpEndpoints
{
    public static void MapFollowUps(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/customers/{id:guid}/follow-ups").WithTags("Follow-ups");
        g.MapGet("/", (Guid id, LogFollowUp h, CancellationToken ct) => h.ListAsync(id, ct));
        g.MapPost("/", async (Guid id, LogFollowUpRequest r, LogFollowUp h, CancellationToken ct) =>
        {
            var row = await h.LogAsync(id, r, ct);
            return Results.Created($"/api/customers/{id}/follow-ups/{row.Id}", row);
        });
    }
}
