using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Assignment;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Scoring;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Assignment;

/// <summary>Draft rules to try; whichever is null means "the saved ones".</summary>
public sealed record SimulateRequest(ScoreCard? Card, List<AssignmentRuleDto>? Rules, int Sample = 20);

public sealed record SimulatedLead(Guid LeadId, string? Name, string? Company, int? CurrentScore, string? CurrentGrade, string? CurrentOwner,
    int Score, string Grade, string Explanation, string? Assignee, string Reason);

public sealed record Simulation(IReadOnlyList<SimulatedLead> Leads, IReadOnlyList<string> Warnings);

/// <summary>
/// "What would the draft rules do?" for a sample of recent leads, before anything is saved. Uses the same scoring
/// and routing code as arrivals, on copies: nothing is written and no rotation turn is taken.
/// </summary>
public sealed class Simulator(TideflowDbContext db, CurrentUser me, TimeProvider clock, LeadRouter router, RoutingRules rulesStore)
{
    public async Task<Simulation> SimulateAsync(SimulateRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        if (request.Card is not null)
        {
            ScoreCards.Validate(request.Card, await ScoreCards.RuleFieldsAsync(db, ct));
        }
        var draftRules = request.Rules is null ? null : await rulesStore.ValidateAsync(request.Rules, ct);
        var loaded = await router.LoadAsync(ct, draftRules, withTurns: true);
        var book = new RoutingBook
        {
            Version = loaded.Version, Card = request.Card ?? loaded.Card, Rules = loaded.Rules,
            Reps = loaded.Reps, TeamMembers = loaded.TeamMembers, Turns = loaded.Turns, CustomFields = loaded.CustomFields,
            Plans = loaded.Plans,
        };

        var sample = Math.Clamp(request.Sample, 1, 200);
        var leads = await db.Leads.AsNoTracking()
            .Where(l => l.Status != LeadStatus.Invalid && l.Status != LeadStatus.Merged && l.Status != LeadStatus.Discarded)
            .OrderByDescending(l => l.ArrivedAt).Take(sample).ToListAsync(ct);
        var channelIds = leads.Where(l => l.ChannelId != null).Select(l => l.ChannelId!.Value).Distinct().ToList();
        var channels = await db.Channels.AsNoTracking().Where(c => channelIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, ct);
        var names = await db.Users.AsNoTracking().ToDictionaryAsync(u => u.Id, u => u.DisplayName, ct);

        var now = clock.GetUtcNow();
        var rows = new List<SimulatedLead>();
        var decisions = new List<RouteDecision>();
        foreach (var lead in leads)
        {
            var channel = lead.ChannelId is { } c ? channels.GetValueOrDefault(c) : null;
            var (currentScore, currentGrade, currentOwner) = (lead.Score, lead.Grade, lead.OwnerId);
            // The copy is untracked: scoring it changes nothing stored.
            lead.Grade = null;
            var result = LeadScoring.Apply(lead, channel, book.Card, book.Version, now);
            lead.OwnerId = null;
            var sticky = await router.StickyOwnerAsync(lead, ct);
            var decision = await router.DecideAsync(book, lead, channel, sticky, claimTurn: false, ct);
            decisions.Add(decision);
            if (decision.RepId is { } rep)
            {
                book.Placed(rep);
            }
            rows.Add(new SimulatedLead(lead.Id, lead.Name, lead.Company, currentScore, currentGrade,
                currentOwner is { } o ? names.GetValueOrDefault(o) : null, result.Total, result.Grade, result.Explain(),
                decision.RepId is { } r ? names.GetValueOrDefault(r) : null, decision.Reason));
        }
        return new Simulation(rows, AssignmentRules.Warnings(book.Rules, decisions));
    }
}
