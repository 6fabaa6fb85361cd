using System.Globalization;
using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Pool;

public sealed record PoolFlowRow(Guid PoolId, string Name, bool IsDefault, FlowFigures Figures);

public sealed record RepFlowRow(Guid UserId, string Name, string? Team, bool IsActive, FlowFigures Figures);

/// <summary>The pool flow of the period [<see cref="From"/>, <see cref="To"/>) as resolved from the request.</summary>
public sealed record PoolFlowView(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<PoolFlowRow> Pools, IReadOnlyList<RepFlowRow> Reps);

/// <summary>
/// Pool-flow figures (公海流转) per pool and per rep — the anti-hoarding view. Managers see the pools their teams
/// belong to and the reps in their data scope, admins everything; both come from the caller's <see cref="DataScope"/>
/// (<see cref="DataScope.PoolIds"/>, <see cref="DataScope.VisibleOwnerIds"/>), the same lists the query filters use.
/// The counting is <see cref="PoolFlow.Compute"/>.
/// </summary>
public sealed class PoolFlowFigures(TideflowDbContext db, CurrentUser me, TimeProvider clock, IStringLocalizer<Strings> L)
{
    public const int DefaultDays = 30;
    public const int MaxDays = 366;

    /// <param name="from">A day in the caller's time zone (2026-11-01: from its start) or an instant with its offset; default 30 days before <paramref name="to"/>.</param>
    /// <param name="to">A day (2026-11-30: up to its end, inclusive) or an instant (exclusive); default now.</param>
    public async Task<PoolFlowView> GetAsync(string? from, string? to, CancellationToken ct = default)
    {
        me.Require(Permission.ViewTeamFigures);
        var (start, end) = Period(from, to);
        var org = me.OrganizationId;
        var (myPools, owners) = (me.Scope.PoolIds, me.Scope.VisibleOwnerIds);

        var pools = await db.Pools.AsNoTracking().Select(p => new { p.Id, p.Name, p.IsDefault, p.Settings }).ToListAsync(ct);
        var settings = pools.ToDictionary(p => p.Id, p => PoolSettingsJson.Read(p.Settings));
        // A contact may count until the longest first-contact deadline after the period's end.
        var horizon = end + PoolFlow.LongestDeadline(settings.Values);

        var poolEvents = db.OwnershipChanges.Where(o => o.OrganizationId == org && o.Event != null && o.CustomerId != null && o.PoolId != null);
        var taken = poolEvents.Where(o => o.At >= start && o.At < end).Where(Visible(myPools, owners))
            .Where(o => o.Event == OwnershipEvent.Claimed || o.Event == OwnershipEvent.AssignedFromPool)
            .Select(o => o.CustomerId!.Value);
        // What became of a visible take may have been recorded out of the caller's scope (released by the rep the customer
        // was reassigned to, into another pool), or after the period (the release that ends a take, up to the horizon):
        // those events are read too; they only bound the takes, and rows they alone make are not shown.
        var events = await poolEvents.Where(o => o.At >= start && o.At < horizon)
            .Where(ReclaimRulesSql.Or(Visible(myPools, owners), o => taken.Contains(o.CustomerId!.Value)))
            .OrderBy(o => o.At).ThenBy(o => o.Id)
            .Select(o => new { CustomerId = o.CustomerId!.Value, PoolId = o.PoolId!.Value, Event = o.Event!.Value, o.FromId, o.ToId, o.At })
            .ToListAsync(ct);

        // The outcomes of a take are facts about the customer, whoever holds it now. The query filters follow the current
        // owner: through them a manager's figures for their own rep would shrink as soon as a customer moved on to another
        // team. The figures are about the work of the reps and pools chosen above, so these facts are read for exactly the
        // customers taken there, in the caller's organisation; only counts leave this method.
        var contacts = await db.FollowUpRecords.IgnoreQueryFilters()
            .Where(f => f.OrganizationId == org && f.At >= start && f.At <= horizon && taken.Contains(f.CustomerId))
            .Select(f => new FlowContact(f.CustomerId, f.At, f.Channel)).ToListAsync(ct);
        var won = (await Pipeline.PipelineSettings.LoadAsync(db, org, ct)).KeysOf(StageOutcome.Won);
        var wins = await db.StageMoves.IgnoreQueryFilters()
            .Where(m => m.OrganizationId == org && won.Contains(m.To) && m.At >= start && m.At < end && taken.Contains(m.CustomerId))
            .Select(m => new FlowWin(m.CustomerId, m.At)).ToListAsync(ct);
        var grades = await db.Customers.IgnoreQueryFilters().Where(c => c.OrganizationId == org && taken.Contains(c.Id))
            .Select(c => new { c.Id, c.Grade }).ToDictionaryAsync(c => c.Id, c => c.Grade, ct);

        var report = PoolFlow.Compute(new FlowFacts(
            events.Select(e => new PoolEvent(e.CustomerId, e.PoolId, Kind(e.Event), e.FromId, e.ToId, e.At)).ToList(),
            contacts, wins, settings, grades), start, end);

        var poolRows = pools.Where(p => myPools == null || myPools.Contains(p.Id))
            .OrderByDescending(p => p.IsDefault).ThenBy(p => p.Name, StringComparer.CurrentCulture)
            .Select(p => new PoolFlowRow(p.Id, p.Name, p.IsDefault, report.ByPool.GetValueOrDefault(p.Id) ?? FlowFigures.None)).ToList();
        // Every active rep in scope (one who took nothing shows as such), and anyone in scope with figures.
        var withFigures = report.ByRep.Keys.ToList();
        var reps = await db.Users.AsNoTracking()
            .Where(u => owners == null || owners.Contains(u.Id))
            .Where(u => (u.IsActive && u.Role == Role.Rep) || withFigures.Contains(u.Id))
            .Select(u => new { u.Id, u.DisplayName, u.IsActive, Team = db.Teams.Where(t => t.Id == u.TeamId).Select(t => t.Name).FirstOrDefault() })
            .ToListAsync(ct);
        // In the reader's collation: pinyin order for 刘洋, 王芳, 张伟.
        var repRows = reps.OrderBy(u => u.DisplayName, StringComparer.CurrentCulture)
            .Select(u => new RepFlowRow(u.Id, u.DisplayName, u.Team, u.IsActive, report.ByRep.GetValueOrDefault(u.Id) ?? FlowFigures.None)).ToList();
        return new PoolFlowView(start, end, poolRows, repRows);
    }

    /// <summary>
    /// An event the caller may count: in one of their pools, or the work of a rep in their scope (the taker of a claim
    /// or hand-out, the previous owner of a release or reclaim). A new expression each call: EF cannot take one lambda
    /// parameter in both a query and a subquery of it.
    /// </summary>
    private static Expression<Func<OwnershipChange, bool>> Visible(IReadOnlyList<Guid>? pools, IReadOnlyList<Guid>? owners) =>
        o => pools == null || pools.Contains(o.PoolId!.Value) || owners == null
            || ((o.Event == OwnershipEvent.Claimed || o.Event == OwnershipEvent.AssignedFromPool) && o.ToId != null && owners.Contains(o.ToId.Value))
            || ((o.Event == OwnershipEvent.Released || o.Event == OwnershipEvent.Reclaimed) && o.FromId != null && owners.Contains(o.FromId.Value));

    private static PoolEventKind Kind(OwnershipEvent e) => e switch
    {
        OwnershipEvent.Claimed => PoolEventKind.Claimed,
        OwnershipEvent.AssignedFromPool => PoolEventKind.AssignedFromPool,
        OwnershipEvent.Released => PoolEventKind.Released,
        _ => PoolEventKind.Reclaimed,
    };

    /// <summary>The period asked for, as instants: [from, to).</summary>
    private (DateTimeOffset From, DateTimeOffset To) Period(string? from, string? to)
    {
        var end = Instant(to, "to", endOfDay: true);
        var start = Instant(from, "from", endOfDay: false);
        var resolvedEnd = end ?? clock.GetUtcNow();
        var resolvedStart = start ?? resolvedEnd - TimeSpan.FromDays(DefaultDays);
        if (resolvedStart >= resolvedEnd)
        {
            throw Problem.Invalid(end is null ? "from" : "to", L["PoolFlow_Backwards"]);
        }
        if (resolvedEnd - resolvedStart > TimeSpan.FromDays(MaxDays))
        {
            throw Problem.Invalid("from", string.Format(L["PoolFlow_TooLong"], MaxDays));
        }
        return (resolvedStart, resolvedEnd);
    }

    /// <summary>A day is the caller's day (to: including it); an instant must carry its offset, so it means one moment.</summary>
    private DateTimeOffset? Instant(string? value, string field, bool endOfDay)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var text = value.Trim();
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return UserTime.StartOfDay((endOfDay ? day.AddDays(1) : day).ToDateTime(TimeOnly.MinValue), me.Scope.TimeZone);
        }
        // RoundtripKind leaves a time without offset Unspecified: which moment it means would be a guess.
        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) && parsed.Kind != DateTimeKind.Unspecified
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant))
        {
            return instant.ToUniversalTime();
        }
        throw Problem.Invalid(field, string.Format(L["PoolFlow_BadDate"], text));
    }
}
