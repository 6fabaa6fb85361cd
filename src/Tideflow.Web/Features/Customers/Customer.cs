namespace Tideflow.Web.Features.Customers;

public sealed class Customer : Access.IOrganizationOwned, Leads.IHasCustomFields, Pool.IPooled
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public string? Company { get; set; }
    public string? Mobile { get; set; }
    public string? Email { get; set; }
    public string? Region { get; set; }
    public string? Industry { get; set; }
    /// <summary>Null while the customer sits in a pool. A concurrency token: a save that finds the owner changed under it
    /// (reclaimed, claimed, reassigned) fails instead of writing to a customer its user no longer holds.</summary>
    public Guid? OwnerId { get; set; }
    /// <summary>The pool the customer sits in (公海, R4); set exactly while <see cref="OwnerId"/> is null.</summary>
    public Guid? PoolId { get; set; }
    public DateTimeOffset? PooledAt { get; set; }
    /// <summary>Why it is in the pool: the reclaim rule or the release reason.</summary>
    public string? PoolReason { get; set; }
    /// <summary>Who held it last; the pool view filters by it.</summary>
    public Guid? PreviousOwnerId { get; set; }
    /// <summary>When the current owner claimed it from the pool; the first-contact deadline runs from here.</summary>
    public DateTimeOffset? ClaimedAt { get; set; }
    /// <summary>A manager spared it from reclaim until then (R4.2).</summary>
    public DateTimeOffset? ProtectedUntil { get; set; }
    public Guid? CreatedById { get; set; }
    /// <summary>For sticky ownership: a new lead from the same company goes to this owner (R3.3).</summary>
    public string? CompanyKey { get; set; }
    public Guid? LeadId { get; set; }
    public int? Score { get; set; }
    public string? Grade { get; set; }
    public DateTimeOffset? AssignedAt { get; set; }
    /// <summary>JSON object of custom field values by key (R1.5), as <see cref="Domain.Leads.CustomFields"/> stores them.</summary>
    public string? Fields { get; set; }
    /// <summary>Feedback tags its follow-ups were stamped with (价格敏感, 考虑竞品 …), comma-separated, each once.</summary>
    public string? FeedbackTags { get; set; }
    /// <summary>Where the customer is in the pipeline (a stage key); changed only by MoveStage.</summary>
    public string Stage { get; set; } = Domain.Pipeline.SalesPipeline.First;
    public DateTimeOffset? StageChangedAt { get; set; }
    /// <summary>When the last follow-up record was logged; what "no follow-up for N days" is measured from.</summary>
    public DateTimeOffset? LastFollowUpAt { get; set; }
    /// <summary>The last day of the customer's current contract (合同到期日), as entered; a renewal enters a later one.</summary>
    public DateOnly? ContractEndsOn { get; set; }
    /// <summary>
    /// The first instant after <see cref="ContractEndsOn"/>: its next midnight in the time zone of whoever entered it.
    /// What the "contract ended" reclaim rule measures from, so the sweep compares instants.
    /// </summary>
    public DateTimeOffset? ContractEndsAt { get; set; }
    /// <summary>The next contact the last follow-up record planned.</summary>
    public DateTimeOffset? NextContactAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
