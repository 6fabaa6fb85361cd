using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Pipeline;

/// <summary>
/// Something a rep must do for a lead or customer by a time: the first contact after assignment (R3.5) and the next
/// contact a follow-up record plans (R5.3); follow-up plans per grade (R5.4) will generate more kinds.
/// </summary>
public sealed class FollowUpTask : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid OwnerId { get; set; }
    public Guid? LeadId { get; set; }
    public Guid? CustomerId { get; set; }
    public required string Kind { get; set; }
    /// <summary>What to do, for tasks a stage's entry action creates ("跟进报价反馈").</summary>
    public string? Title { get; set; }
    public DateTimeOffset DueAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    /// <summary>Why it closed: done, or reassigned (the new owner got their own task).</summary>
    public string? ClosedReason { get; set; }
    /// <summary>When the owner was told it is due (R5.5); set once, by the reminder job.</summary>
    public DateTimeOffset? RemindedAt { get; set; }
    /// <summary>When the owner's manager was told it is overdue.</summary>
    public DateTimeOffset? EscalatedAt { get; set; }
    /// <summary>The owner's account of why it is not done yet (客户出差, 需补充方案 …); the manager sees it.</summary>
    public string? NotDoneReason { get; set; }
    public DateTimeOffset? NotDoneAt { get; set; }
    /// <summary>Which step of the grade's follow-up plan this task is (R5.4); null for tasks no plan made.</summary>
    public int? PlanStep { get; set; }

    /// <summary>Where a message about the task takes its reader: the record it is about.</summary>
    public static string LinkFor(Guid? customerId, Guid? leadId) =>
        customerId is { } c ? $"/customers/{c}" : leadId is { } l ? $"/leads/{l}" : "/";
}

public static class TaskKinds
{
    public const string FirstContact = "first-contact";
    /// <summary>The next plan of the last follow-up record, due on its date.</summary>
    public const string NextContact = "next-contact";
    /// <summary>Created by entering a pipeline stage; its title says what to do.</summary>
    public const string StageTask = "stage-task";
    /// <summary>A later step of the grade's follow-up plan ("发送方案", "每周同步"); its title says what to do.</summary>
    public const string PlanStep = "plan-step";
}
