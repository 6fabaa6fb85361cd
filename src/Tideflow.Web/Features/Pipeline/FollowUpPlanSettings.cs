using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pipeline;

/// <summary>An organisation's follow-up plans per grade (R5.4), as the admin saved them; none stored: the defaults.</summary>
public sealed class StoredFollowUpPlans : IOrganizationOwned
{
    public Guid OrganizationId { get; set; }
    public required string Plans { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Read by everyone signed in (reps see what their plan asks); saved by admins (R5.4).</summary>
public sealed class FollowUpPlanSettings(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public async Task<IReadOnlyList<GradePlan>> ListAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        return await LoadAsync(db, me.OrganizationId, (await Scoring.ScoreCards.CurrentAsync(db, ct)).Card, ct);
    }

    public async Task<IReadOnlyList<GradePlan>> SaveAsync(List<GradePlan>? plans, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        if (plans is null || plans.Any(p => p is null || p.Steps is null || p.Steps.Any(s => s is null)))
        {
            throw Problem.Invalid("plans", "Send the list of plans, each with its steps.");
        }
        if (FollowUpPlans.Problem(plans) is { } problem)
        {
            throw Problem.Invalid("plans", problem);
        }
        var trimmed = plans.Select(p => p with { Grade = p.Grade.Trim(), Steps = p.Steps.Select(s => s with { Title = s.Title.Trim() }).ToList() }).ToList();
        var stored = await db.Set<StoredFollowUpPlans>().SingleOrDefaultAsync(p => p.OrganizationId == me.OrganizationId, ct);
        if (stored is null)
        {
            db.Add(new StoredFollowUpPlans { OrganizationId = me.OrganizationId, Plans = JsonSerializer.Serialize(trimmed, Json), UpdatedAt = clock.GetUtcNow() });
        }
        else
        {
            stored.Plans = JsonSerializer.Serialize(trimmed, Json);
            stored.UpdatedAt = clock.GetUtcNow();
        }
        await db.SaveChangesAsync(ct);
        return await ListAsync(ct);
    }

    /// <summary>By organisation, not by the query filter alone: background work reads it in the system scope, which sees every organisation.</summary>
    public static async Task<IReadOnlyList<GradePlan>> LoadAsync(TideflowDbContext db, Guid organizationId, ScoreCard card, CancellationToken ct)
    {
        var stored = await db.Set<StoredFollowUpPlans>().AsNoTracking().Where(p => p.OrganizationId == organizationId).Select(p => p.Plans).FirstOrDefaultAsync(ct);
        return stored is null ? FollowUpPlans.Defaults(card) : JsonSerializer.Deserialize<List<GradePlan>>(stored, Json)!;
    }
}

public static class FollowUpPlanEndpoints
{
    public static void MapFollowUpPlans(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/follow-up-plans").WithTags("Pipeline");
        g.MapGet("/", (FollowUpPlanSettings h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPut("/", (List<GradePlan>? plans, FollowUpPlanSettings h, CancellationToken ct) => h.SaveAsync(plans, ct));
    }
}
