using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Leads;

public enum LeadStatus
{
    /// <summary>Arrived valid; waiting to be qualified and assigned.</summary>
    New,
    /// <summary>Kept but never assigned: impossible number, malformed email, no contact, blocklisted, honeypot.</summary>
    Invalid,
    /// <summary>Over the channel's daily cap: held for review, not dropped.</summary>
    Queued,
    /// <summary>A reviewer decided it is junk; kept for the record.</summary>
    Discarded,
    /// <summary>Merged into another lead, which now holds its touches; an admin can undo the merge.</summary>
    Merged,
    /// <summary>A rep qualified it: it became a customer with an owner (R2.4).</summary>
    Qualified,
    /// <summary>Disqualified with a reason; kept for nurture campaigns, never deleted (R2.4).</summary>
    Nurture,
}

public enum ChannelKind
{
    WebForm,
    TradeShow,
    WeChatOfficialAccount,
    MiniProgram,
    AdCampaign,
    Referral,
    Import,
    Api,
    Manual,
}

/// <summary>Where leads come from. Its key identifies it on the public capture endpoint.</summary>
public sealed class Channel : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public ChannelKind Kind { get; set; }
    public required string SourceTag { get; set; }
    public required string Key { get; set; }
    /// <summary>Hosts a form may send the visitor back to after submitting (comma-separated).</summary>
    public string? AllowedDomains { get; set; }
    public int? DailyCap { get; set; }
    /// <summary>The time zone whose calendar day the daily cap counts: a team in Beijing expects it to start again at
    /// midnight there, not at 08:00 (midnight UTC).</summary>
    public string CapTimeZone { get; set; } = DefaultCapTimeZone;
    public bool IsActive { get; set; } = true;

    public const string DefaultCapTimeZone = "Asia/Shanghai";
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// How many leads a channel's endpoint created on one day (in its <see cref="Channel.CapTimeZone"/>): what its daily cap
/// is held against. A capture batch's write locks its channel's row and checks it against the count the batch was judged
/// with, so two batches, on one node or two, never both take the last places.
/// </summary>
public sealed class ChannelDay : IOrganizationOwned
{
    public Guid ChannelId { get; set; }
    /// <summary>
    /// yyyy-MM-dd@time zone: the zone is part of the key, so a node that still counts in a channel's previous zone (it read
    /// the channel before an admin changed it) keeps a row of its own instead of misreading another zone's count.
    /// </summary>
    public required string Day { get; set; }
    public Guid OrganizationId { get; set; }
    public int Count { get; set; }
}

public sealed class Lead : IOrganizationOwned, IHasCustomFields, Pool.IPooled
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public string? Name { get; set; }
    public string? Company { get; set; }
    public string? CompanyKey { get; set; }
    public string? Mobile { get; set; }
    public string? Email { get; set; }
    public Guid? ChannelId { get; set; }
    public string? SourceTag { get; set; }
    /// <summary>Stamped by the admin's tagging rules on arrival, comma-separated.</summary>
    public string? Tags { get; set; }
    public string? Campaign { get; set; }
    public string? UtmSource { get; set; }
    public string? UtmMedium { get; set; }
    public LeadStatus Status { get; set; }
    /// <summary>Why the lead is invalid or queued, comma-separated problem names.</summary>
    public string? Problems { get; set; }
    public string? ConsentText { get; set; }
    public string? PageUrl { get; set; }
    /// <summary>What arrived, as received (JSON); unknown fields live here.</summary>
    public string? RawPayload { get; set; }
    public Guid? OwnerId { get; set; }
    public DateTimeOffset? AssignedAt { get; set; }
    /// <summary>The pool (线索池) an open, unowned lead waits in; set only while <see cref="OwnerId"/> is null.</summary>
    public Guid? PoolId { get; set; }
    public DateTimeOffset? PooledAt { get; set; }
    /// <summary>Why it is in the pool: the routing outcome or the rep's release reason.</summary>
    public string? PoolReason { get; set; }
    /// <summary>Who held it last; the pool view filters by it, and the cool-down reads the history for it.</summary>
    public Guid? PreviousOwnerId { get; set; }
    public Guid? MergedIntoId { get; set; }
    public DateTimeOffset ArrivedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>JSON object of the submitted fields (budget, urgency, industry, custom fields …) that rules read.</summary>
    public string? Fields { get; set; }
    public int? Score { get; set; }
    public string? Grade { get; set; }
    /// <summary>The score-card version that scored it.</summary>
    public int? ScoreVersion { get; set; }
    /// <summary>JSON of the per-criterion breakdown, so "why is this lead A?" is answered without re-scoring.</summary>
    public string? ScoreBreakdown { get; set; }
    public DateTimeOffset? ScoredAt { get; set; }
    /// <summary>Behaviour points as of <see cref="BehaviourAsOf"/>; their value now is decayed on read.</summary>
    public double BehaviourPoints { get; set; }
    public DateTimeOffset? BehaviourAsOf { get; set; }
    /// <summary>Events counted so far; a concurrency token, so two events at once never lose one's points.</summary>
    public int BehaviourCount { get; set; }

    public bool BantBudget { get; set; }
    public bool BantAuthority { get; set; }
    public bool BantNeed { get; set; }
    public bool BantTimeline { get; set; }
    public string? BantNotes { get; set; }
    public Guid? CustomerId { get; set; }
    public string? DisqualifyReason { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
}

/// <summary>One contact with a lead: its first arrival, a duplicate submission, a manual entry.</summary>
public sealed class LeadTouch : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    /// <summary>The lead touched, or null when the arrival matched an existing customer.</summary>
    public Guid? LeadId { get; set; }
    public Guid? CustomerId { get; set; }
    public Guid? ChannelId { get; set; }
    public required string Kind { get; set; }
    public DateTimeOffset At { get; set; }
    public string? PageUrl { get; set; }
    public string? Ip { get; set; }
    public string? RawPayload { get; set; }
}

/// <summary>
/// A normalized mobile or email that already belongs to a lead or customer. The unique index on
/// (organisation, key) is what makes two identical submissions at the same instant create one lead.
/// </summary>
public sealed class ContactKey : IOrganizationOwned
{
    public long Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Key { get; set; }
    public Guid? LeadId { get; set; }
    public Guid? CustomerId { get; set; }
}

/// <summary>Remembers a submission's idempotency key or payload fingerprint, so a retry finds the same lead.</summary>
public sealed class CaptureReceipt : IOrganizationOwned
{
    public long Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Key { get; set; }
    public Guid LeadId { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>Values an admin blocks: a mobile, an email, or an email domain.</summary>
public sealed class BlockedValue : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Value { get; set; }
}

/// <summary>One merge, with exactly what moved, so an admin can put everything back.</summary>
public sealed class LeadMerge : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid SurvivorId { get; set; }
    public Guid MergedId { get; set; }
    public LeadStatus MergedStatusBefore { get; set; }
    /// <summary>JSON: touch ids and contact-key ids that moved, and the survivor's fields that were empty and got filled.</summary>
    public required string Moved { get; set; }
    public Guid ById { get; set; }
    public DateTimeOffset At { get; set; }
    public DateTimeOffset? UndoneAt { get; set; }
}
