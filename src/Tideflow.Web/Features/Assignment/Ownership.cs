using Tideflow.Domain.Assignment;
using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Assignment;

/// <summary>An admin's routing rule as stored, in priority order; the matching itself is <see cref="RoutingPolicy"/>.</summary>
public sealed class StoredAssignmentRule : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public int Position { get; set; }
    public required string Name { get; set; }
    /// <summary>JSON array of field conditions; all must hold, none means every lead.</summary>
    public required string Conditions { get; set; }
    public AssignTo Target { get; set; }
    public Guid? RepId { get; set; }
    public Guid? TeamId { get; set; }
    public TeamMethod Method { get; set; }
    public bool RerouteOnRegrade { get; set; }
}

/// <summary>How many leads a team's rotation has placed; claimed one at a time with an atomic UPDATE … RETURNING.</summary>
public sealed class TeamTurn
{
    public Guid TeamId { get; set; }
    public Guid OrganizationId { get; set; }
    public long Turn { get; set; }
}

/// <summary>A rep's vacation or leave: routing passes them over from <see cref="From"/> until <see cref="Until"/>.</summary>
public sealed class RepAbsence : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid UserId { get; set; }
    public DateTimeOffset From { get; set; }
    public DateTimeOffset Until { get; set; }
    public string? Reason { get; set; }
}

/// <summary>
/// One change of owner of a lead or customer, kept forever (R3.4): from whom, to whom, why, by rule or by hand.
/// Never updated or deleted by the application.
/// </summary>
public sealed class OwnershipChange : IOrganizationOwned
{
    public long Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid? LeadId { get; set; }
    public Guid? CustomerId { get; set; }
    public Guid? FromId { get; set; }
    public Guid? ToId { get; set; }
    public required string Reason { get; set; }
    /// <summary>The routing rule that decided, "sticky", or null when a person assigned by hand.</summary>
    public string? Rule { get; set; }
    public Guid? ById { get; set; }
    public DateTimeOffset At { get; set; }
    /// <summary>What happened, for pool flows (claimed, released, reclaimed); null for routing and hand assignment.</summary>
    public OwnershipEvent? Event { get; set; }
    /// <summary>The pool the customer left or entered.</summary>
    public Guid? PoolId { get; set; }
}

public enum OwnershipEvent
{
    /// <summary>A rep took it from a pool.</summary>
    Claimed,
    /// <summary>A rep (or their manager) returned it to a pool, with a reason.</summary>
    Released,
    /// <summary>The sweep took it back by a pool rule.</summary>
    Reclaimed,
    /// <summary>A manager gave it from a pool to a rep, bypassing claim limits.</summary>
    AssignedFromPool,
}

/// <summary>One line of a record's history; <see cref="Pool"/> names the pool a pool event went to or came from.</summary>
public sealed record OwnershipRow(DateTimeOffset At, string? From, string? To, string Reason, string? Rule, string? By,
    OwnershipEvent? Event = null, string? Pool = null);
