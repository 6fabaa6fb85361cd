namespace Tideflow.Domain.Pool;

public enum ClaimRefusal
{
    /// <summary>今日已领取 n/n.</summary>
    DailyLimit,
    /// <summary>The rep holds as many customers as the smallest cap that applies to them.</summary>
    HeldLimit,
    /// <summary>The rep released it, or lost it to reclaim, too recently.</summary>
    Cooldown,
    /// <summary>It entered the pool too recently to be claimed.</summary>
    Embargo,
}

/// <summary>
/// What is known when a rep claims: how many they claimed today and hold, their own capacity, when they last let this
/// customer go (released, or lost to reclaim) and when it entered the pool.
/// </summary>
public sealed record ClaimFacts(int ClaimedToday, int Held, int? Capacity, DateTimeOffset? LetGoAt, DateTimeOffset PooledAt);

/// <summary>A refused claim: the reason, the numbers a message shows, and from when it would be possible (if ever).</summary>
public sealed record ClaimDenied(ClaimRefusal Reason, int Count, int Limit, DateTimeOffset? PossibleFrom)
{
    public string Message => Reason switch
    {
        ClaimRefusal.DailyLimit => $"Daily claim limit reached: {Count}/{Limit} claimed today.",
        ClaimRefusal.HeldLimit => $"You hold {Count} customers; the cap is {Limit}. Release or close some before claiming more.",
        ClaimRefusal.Cooldown => $"You let this customer go recently; you may claim it again from {PossibleFrom:yyyy-MM-dd HH:mm} UTC.",
        ClaimRefusal.Embargo => $"This customer entered the pool recently; it can be claimed from {PossibleFrom:yyyy-MM-dd HH:mm} UTC.",
        _ => Reason.ToString(),
    };
}

/// <summary>The claim limits of R4.6: per day, held, cool-down, embargo. Assignment by a manager does not ask this (R4.7).</summary>
public static class ClaimPolicy
{
    /// <summary>Where several caps apply, the smallest: the pool's and the rep's own capacity.</summary>
    public static int? HeldCap(PoolSettings s, int? capacity) => (s.MaxHeld, capacity) switch
    {
        (null, null) => null,
        ({ } a, null) => a,
        (null, { } b) => b,
        ({ } a, { } b) => Math.Min(a, b),
    };

    public static ClaimDenied? Check(PoolSettings s, ClaimFacts f, DateTimeOffset now)
    {
        if (f.PooledAt + TimeSpan.FromHours(s.EmbargoHours) is var open && open > now)
        {
            return new ClaimDenied(ClaimRefusal.Embargo, 0, s.EmbargoHours, open);
        }
        if (f.LetGoAt is { } letGo && letGo + TimeSpan.FromHours(s.CooldownHours) is var again && again > now)
        {
            return new ClaimDenied(ClaimRefusal.Cooldown, 0, s.CooldownHours, again);
        }
        if (f.ClaimedToday >= s.DailyClaimLimit)
        {
            return new ClaimDenied(ClaimRefusal.DailyLimit, f.ClaimedToday, s.DailyClaimLimit, null);
        }
        if (HeldCap(s, f.Capacity) is { } cap && f.Held >= cap)
        {
            return new ClaimDenied(ClaimRefusal.HeldLimit, f.Held, cap, null);
        }
        return null;
    }
}
