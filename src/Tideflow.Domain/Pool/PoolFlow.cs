using Tideflow.Domain.Pipeline;

namespace Tideflow.Domain.Pool;

/// <summary>How a customer entered or left a pool (公海流转).</summary>
public enum PoolEventKind
{
    /// <summary>A rep took it from the pool, within the claim limits.</summary>
    Claimed,
    /// <summary>A manager handed it out from the pool, past the limits.</summary>
    AssignedFromPool,
    /// <summary>Its owner (or their manager) gave it back, with a reason.</summary>
    Released,
    /// <summary>The sweep took it back by a pool rule.</summary>
    Reclaimed,
}

/// <summary>
/// One pool event as the ownership history records it. <see cref="FromId"/> is the owner before (the rep who released
/// it or lost it to a rule), <see cref="ToId"/> the owner after (the rep who claimed it or was given it).
/// </summary>
public sealed record PoolEvent(Guid CustomerId, Guid PoolId, PoolEventKind Kind, Guid? FromId, Guid? ToId, DateTimeOffset At)
{
    /// <summary>The customer left the pool for a rep.</summary>
    public bool Takes => Kind is PoolEventKind.Claimed or PoolEventKind.AssignedFromPool;

    /// <summary>Whose work the event is: the taker of a claim or hand-out, the previous owner of a release or reclaim.</summary>
    public Guid? Rep => Takes ? ToId : FromId;
}

/// <summary>A follow-up record: when, and by which channel (a pool may count only some channels).</summary>
public sealed record FlowContact(Guid CustomerId, DateTimeOffset At, FollowUpChannel Channel);

/// <summary>A move of the customer into a won stage.</summary>
public sealed record FlowWin(Guid CustomerId, DateTimeOffset At);

/// <summary>
/// What the figures are computed from. <see cref="Events"/> are the pool events of the period in the order they
/// happened (ties keep their order), plus any later ones of the customers taken in it (they end a take, and count for
/// nothing else); <see cref="Pools"/> the settings of each pool (a pool not listed has the default rules);
/// <see cref="Grades"/> each customer's grade, which picks its first-contact deadline.
/// </summary>
public sealed record FlowFacts(
    IReadOnlyList<PoolEvent> Events,
    IReadOnlyList<FlowContact> Contacts,
    IReadOnlyList<FlowWin> Wins,
    IReadOnlyDictionary<Guid, PoolSettings> Pools,
    IReadOnlyDictionary<Guid, string?> Grades);

/// <summary>
/// The flow of one pool or one rep over a period. For a pool, <see cref="EnteredByRule"/> and
/// <see cref="EnteredByRelease"/> count customers that came in; for a rep, their customers that went to a pool — the
/// reclaims are the hoarding signal. The three outcomes count among <see cref="Taken"/> (claims and hand-outs).
/// </summary>
public sealed record FlowFigures(int EnteredByRule, int EnteredByRelease, int Claimed, int Assigned, int ContactedInTime, int Converted, int RePooled)
{
    public static FlowFigures None { get; } = new(0, 0, 0, 0, 0, 0, 0);

    public int Taken => Claimed + Assigned;

    /// <summary>Percent of <see cref="Taken"/>, one decimal; null when nothing was taken.</summary>
    public double? ContactedPercent => Percent(ContactedInTime);

    public double? ConvertedPercent => Percent(Converted);

    public double? RePooledPercent => Percent(RePooled);

    private double? Percent(int count) => Taken == 0 ? null : Math.Round(100.0 * count / Taken, 1, MidpointRounding.AwayFromZero);
}

/// <summary>The figures of every pool and every rep that had a pool event in the period.</summary>
public sealed record FlowReport(IReadOnlyDictionary<Guid, FlowFigures> ByPool, IReadOnlyDictionary<Guid, FlowFigures> ByRep);

/// <summary>
/// Pool-flow figures (公海流转): per pool and per rep, over the period [from, to), how many customers entered a pool by a
/// rule or by release, how many were claimed or handed out, and what became of those taken — contacted within the
/// pool's first-contact deadline, won, or back in a pool.
/// </summary>
public static class PoolFlow
{
    /// <summary>
    /// Counts the events at or after <paramref name="from"/> and before <paramref name="to"/>. A take's outcomes look
    /// at what happened while the taker held the customer: from the take to the customer's next pool event.
    /// <list type="bullet">
    /// <item>Contacted in time: a follow-up of a channel the pool counts, at or after the take and at most the pool's
    /// first-contact deadline for the customer's grade later (exactly at the deadline counts). The deadline belongs to
    /// the take, so it may run past <paramref name="to"/>.</item>
    /// <item>Converted: moved into a won stage at or after the take, before <paramref name="to"/>.</item>
    /// <item>Re-pooled: the next pool event after the take is a release or a reclaim, before <paramref name="to"/>.</item>
    /// </list>
    /// </summary>
    public static FlowReport Compute(FlowFacts facts, DateTimeOffset from, DateTimeOffset to)
    {
        var contacts = facts.Contacts.ToLookup(c => c.CustomerId);
        var wins = facts.Wins.ToLookup(w => w.CustomerId);
        var byPool = new Dictionary<Guid, Tally>();
        var byRep = new Dictionary<Guid, Tally>();
        foreach (var history in facts.Events.GroupBy(e => e.CustomerId))
        {
            var events = history.OrderBy(e => e.At).ToList();
            for (var i = 0; i < events.Count; i++)
            {
                var e = events[i];
                if (e.At < from || e.At >= to)
                {
                    continue;
                }
                var outcome = e.Takes ? Outcome(e, i + 1 < events.Count ? events[i + 1] : null, facts, contacts[e.CustomerId], wins[e.CustomerId], to) : default;
                Of(byPool, e.PoolId).Add(e, outcome);
                if (e.Rep is { } rep)
                {
                    Of(byRep, rep).Add(e, outcome);
                }
            }
        }
        return new FlowReport(byPool.ToDictionary(p => p.Key, p => p.Value.Figures), byRep.ToDictionary(r => r.Key, r => r.Value.Figures));
    }

    /// <summary>The longest first-contact deadline any of these pools gives any grade: how far past the period a contact can still count.</summary>
    public static TimeSpan LongestDeadline(IEnumerable<PoolSettings> pools) =>
        pools.SelectMany(s => (s.Rules.FirstOrDefault(r => r.When == ReclaimWhen.FirstContactMissed)?.ByGrade?.Keys ?? [])
                .Select(s.FirstContactWithin).Append(s.FirstContactWithin(null)))
            // A pool without settings has the default deadline.
            .Append(PoolSettings.Default.FirstContactWithin(null))
            .Max();

    private static (bool Contacted, bool Converted, bool RePooled) Outcome(PoolEvent take, PoolEvent? next, FlowFacts facts,
        IEnumerable<FlowContact> contacts, IEnumerable<FlowWin> wins, DateTimeOffset to)
    {
        var settings = facts.Pools.GetValueOrDefault(take.PoolId) ?? PoolSettings.Default;
        var deadline = take.At + settings.FirstContactWithin(facts.Grades.GetValueOrDefault(take.CustomerId));
        // Held until the next pool event: a contact or a win after it belongs to whoever held the customer then.
        bool Held(DateTimeOffset at) => at >= take.At && (next is null || at < next.At);
        return (
            contacts.Any(c => Held(c.At) && c.At <= deadline && settings.Counts(c.Channel)),
            wins.Any(w => Held(w.At) && w.At < to),
            next is { Takes: false } && next.At < to);
    }

    private static Tally Of(Dictionary<Guid, Tally> tallies, Guid key) =>
        tallies.TryGetValue(key, out var t) ? t : tallies[key] = new Tally();

    private sealed class Tally
    {
        private int byRule, byRelease, claimed, assigned, contacted, converted, rePooled;

        public FlowFigures Figures => new(byRule, byRelease, claimed, assigned, contacted, converted, rePooled);

        public void Add(PoolEvent e, (bool Contacted, bool Converted, bool RePooled) outcome)
        {
            switch (e.Kind)
            {
                case PoolEventKind.Reclaimed:
                    byRule++;
                    break;
                case PoolEventKind.Released:
                    byRelease++;
                    break;
                case PoolEventKind.Claimed:
                    claimed++;
                    break;
                case PoolEventKind.AssignedFromPool:
                    assigned++;
                    break;
            }
            contacted += outcome.Contacted ? 1 : 0;
            converted += outcome.Converted ? 1 : 0;
            rePooled += outcome.RePooled ? 1 : 0;
        }
    }
}
