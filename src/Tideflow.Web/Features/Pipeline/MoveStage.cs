using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pipeline;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pipeline;

/// <summary>One stage change of a customer, kept forever: the timeline of its pursuit.</summary>
public sealed class StageMove : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid CustomerId { get; set; }
    /// <summary>1, 2, 3 … per customer, unique: of two moves made at the same moment from the same state, one fails to insert.</summary>
    public int Sequence { get; set; }
    public required string From { get; set; }
    public required string To { get; set; }
    public Guid ById { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>Why lost, for a move to a lost stage.</summary>
    public string? LostReason { get; set; }
    /// <summary>Set when an admin moved past missing requirements: why, in their words.</summary>
    public string? OverrideReason { get; set; }
    /// <summary>JSON: what the move brought (invoice details) and, for an override, what was missing.</summary>
    public string? Details { get; set; }
}

public sealed record MoveStageRequest(
    [property: Required] string To,
    [property: StringLength(500)] string? LostReason = null,
    [property: StringLength(200)] string? InvoiceTitle = null,
    [property: StringLength(50)] string? TaxNumber = null,
    [property: StringLength(500)] string? OverrideReason = null,
    [property: Range(typeof(decimal), "0", "999999999999")] decimal? QuoteAmount = null,
    DateOnly? QuoteValidUntil = null);

public sealed record MissingItem(StageCheck Check, string Description);

public sealed record StageMoveRow(Guid Id, string From, string To, string? ByName, DateTimeOffset At, string? LostReason, string? OverrideReason);

public sealed record BoardCard(Guid Id, string Name, string? Company, string? Grade, string? OwnerName, DateTimeOffset? NextContactAt);

public sealed record BoardColumn(string Key, string Name, StageOutcome Outcome, int Count, IReadOnlyList<BoardCard> Cards);

/// <summary>
/// The one place a customer's stage changes (R5.1, R5.2). The DbContext refuses any save that changes a stage without
/// the <see cref="StageMove"/> this writes, so no path — UI, API, import, bulk edit, automation — can skip the checks.
/// </summary>
public sealed class MoveStage(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public const int CardsPerColumn = 50;

    public async Task<StageMoveRow> MoveAsync(Guid customerId, MoveStageRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        Problem.ThrowIfInvalid(request);
        // The move count is read before the customer: a move committed in between makes this one's sequence collide (409)
        // instead of this one acting on a stage that is no longer the customer's.
        var sequence = (await db.StageMoves.Where(m => m.CustomerId == customerId).MaxAsync(m => (int?)m.Sequence, ct) ?? 0) + 1;
        var customer = await db.Customers.SingleOrDefaultAsync(c => c.Id == customerId, ct) ?? throw Problem.NotFound("Customer");
        var pipeline = await PipelineSettings.LoadAsync(db, customer.OrganizationId, ct);
        var to = request.To.Trim();
        if (StageRules.Problem(pipeline, customer.Stage, to) is { } problem)
        {
            throw Problem.Invalid("to", problem);
        }
        var overriding = !string.IsNullOrWhiteSpace(request.OverrideReason);
        if (overriding && me.Role != Role.Admin)
        {
            throw Problem.Forbidden("Only an admin may move a customer past missing requirements.");
        }
        var facts = new MoveFacts(
            await db.FollowUpRecords.CountAsync(f => f.CustomerId == customerId && f.NextPlan != null, ct),
            request.LostReason, request.InvoiceTitle, request.TaxNumber, request.QuoteAmount, request.QuoteValidUntil,
            DateOnly.FromDateTime(UserTime.Local(clock.GetUtcNow(), me.Scope.TimeZone)),
            await db.Attachments.CountAsync(a => a.CustomerId == customerId && a.Purpose == Domain.Attachments.AttachmentPurposes.Contract, ct));
        var missing = StageRules.Missing(pipeline, customer.Stage, to, facts);
        if (missing.Count > 0 && !overriding)
        {
            throw Problem.Unprocessable($"Moving to '{pipeline.Find(to)!.Name}' needs: {string.Join("; ", missing.Select(StageRules.Describe))}.",
                missing.Select(m => new MissingItem(m, StageRules.Describe(m))).ToList());
        }

        var now = clock.GetUtcNow();
        var entered = pipeline.Find(to)!;
        var move = new StageMove
        {
            Id = Guid.CreateVersion7(), OrganizationId = customer.OrganizationId, CustomerId = customerId, Sequence = sequence, From = customer.Stage, To = to,
            ById = me.Id, At = now, LostReason = entered.Outcome == StageOutcome.Lost ? request.LostReason?.Trim() : null,
            // Only a move that needed it counts as overridden.
            OverrideReason = overriding && missing.Count > 0 ? request.OverrideReason!.Trim() : null,
            Details = FormsOrMissing(entered, request, overriding ? missing : []),
        };
        db.StageMoves.Add(move);
        customer.Stage = to;
        customer.StageChangedAt = now;
        customer.UpdatedAt = now;
        // Tasks of the stage left are moot; the stage entered brings its own. A won or lost customer needs no more contact.
        var stillOpen = !pipeline.IsClosed(to);
        foreach (var task in await db.FollowUpTasks.Where(t => t.CustomerId == customerId && t.ClosedAt == null
                     && (t.Kind == TaskKinds.StageTask || (!stillOpen && (t.Kind == TaskKinds.FirstContact || t.Kind == TaskKinds.NextContact || t.Kind == TaskKinds.PlanStep)))).ToListAsync(ct))
        {
            (task.ClosedAt, task.ClosedReason) = (now, stillOpen ? "stage-changed" : "closed");
        }
        if (!stillOpen)
        {
            customer.NextContactAt = null;
        }
        await StageActions.RunAsync(db, customer, entered, me, now, ct);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (Leads.CaptureLead.IsUniqueViolation(e))
        {
            throw Problem.Conflict("Someone moved this customer at the same moment; reload and try again.");
        }
        return new StageMoveRow(move.Id, move.From, move.To, me.Scope.UserName, move.At, move.LostReason, move.OverrideReason);
    }

    public async Task<List<StageMoveRow>> HistoryAsync(Guid customerId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct))
        {
            throw Problem.NotFound("Customer");
        }
        return await (from m in db.StageMoves.AsNoTracking()
                      where m.CustomerId == customerId
                      join u in db.Users on m.ById equals u.Id into us
                      from u in us.DefaultIfEmpty()
                      orderby m.At descending, m.Id descending
                      select new StageMoveRow(m.Id, m.From, m.To, u == null ? null : u.DisplayName, m.At, m.LostReason, m.OverrideReason))
            .ToListAsync(ct);
    }

    /// <summary>
    /// The kanban of one pipeline (the first unless named): each stage with its count and the customers in it the caller
    /// may see, most recently moved first.
    /// </summary>
    public async Task<List<BoardColumn>> BoardAsync(Guid? ownerId = null, string? pipeline = null, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var pipelines = await PipelineSettings.LoadAsync(db, me.OrganizationId, ct);
        if (pipeline is not null && pipelines.Named.All(p => p.Key != pipeline))
        {
            throw Problem.Invalid("pipeline", $"'{pipeline}' is not a pipeline; pipelines are {string.Join(", ", pipelines.Named.Select(p => p.Key))}.");
        }
        var stages = pipelines.StagesOf(pipeline);
        var keys = stages.Select(s => s.Key).ToList();
        // The board is work in progress: customers sitting in a pool are on the pool view, not here.
        var customers = db.Customers.AsNoTracking().Where(c => c.OwnerId != null);
        if (ownerId is { } owner)
        {
            customers = customers.Where(c => c.OwnerId == owner);
        }
        var counts = await customers.Where(c => keys.Contains(c.Stage)).GroupBy(c => c.Stage).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, ct);
        var columns = new List<BoardColumn>();
        foreach (var stage in stages)
        {
            var key = stage.Key;
            var cards = await (from c in customers
                               where c.Stage == key
                               join u in db.Users on c.OwnerId equals u.Id into us
                               from u in us.DefaultIfEmpty()
                               orderby (c.StageChangedAt ?? c.CreatedAt) descending, c.Id
                               select new BoardCard(c.Id, c.Name, c.Company, c.Grade, u == null ? null : u.DisplayName, c.NextContactAt))
                .Take(CardsPerColumn).ToListAsync(ct);
            columns.Add(new BoardColumn(key, stage.Name, stage.Outcome, counts.GetValueOrDefault(key), cards));
        }
        return columns;
    }

    /// <summary>What the move's forms brought (invoice, quote) and, for an override, what was missing; null when neither.</summary>
    private static string? FormsOrMissing(Stage entered, MoveStageRequest r, IReadOnlyList<StageCheck> overridden)
    {
        var invoice = entered.ToEnter.Contains(StageCheck.InvoiceDetails) && !string.IsNullOrWhiteSpace(r.InvoiceTitle)
            ? new { title = r.InvoiceTitle!.Trim(), taxNumber = r.TaxNumber?.Trim() } : null;
        var quote = entered.ToEnter.Contains(StageCheck.QuoteDetails) && r.QuoteAmount is { } amount
            ? new { amount, validUntil = r.QuoteValidUntil } : null;
        return invoice is null && quote is null && overridden.Count == 0 ? null
            : JsonSerializer.Serialize(new { invoice, quote, overridden = overridden.Select(m => m.ToString()) }, Scoring.LeadScoring.Json);
    }
}

public static class StageEndpoints
{
    public static void MapStages(this RouteGroupBuilder api)
    {
        api.MapPost("/customers/{id:guid}/stage", (Guid id, MoveStageRequest r, MoveStage h, CancellationToken ct) => h.MoveAsync(id, r, ct))
            .WithTags("Pipeline");
        api.MapGet("/customers/{id:guid}/stage-history", (Guid id, MoveStage h, CancellationToken ct) => h.HistoryAsync(id, ct))
            .WithTags("Pipeline");
        api.MapGet("/pipeline/board", (Guid? ownerId, string? pipeline, MoveStage h, CancellationToken ct) => h.BoardAsync(ownerId, pipeline, ct))
            .WithTags("Pipeline");
    }
}
