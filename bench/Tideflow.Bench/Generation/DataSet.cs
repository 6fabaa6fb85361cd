namespace Tideflow.Bench.Generation;

/// <summary>
/// How big the generated sales organisation is. One designated rep ("bench.rep") always owns exactly
/// <see cref="BenchRepCustomers"/> customers so the list scenario measures the same page at every scale.
/// </summary>
public sealed record Scale(string Name, int Customers, int Teams, int Reps, int BenchRepCustomers = 2_000)
{
    /// <summary>Existing leads (each with its contact keys) that capture submissions are deduplicated against.</summary>
    public int Leads => Customers;

    /// <summary>Bounded number of capture submissions the ingestion scenario sends (per side: app and floor).</summary>
    public int CaptureRequests => Customers >= 1_000_000 ? 20_000 : 5_000;

    /// <summary>
    /// Most submissions sent per side before the measured ones. At <c>large</c>, where the ingestion targets are judged,
    /// enough for the app's tier-up to be over; <c>small</c> sends a third of that so a run of every scenario stays a
    /// quick try (issue 7: under two minutes), and measures the app with some of its tier-up still going.
    /// </summary>
    public int CaptureWarmUp => Customers >= 1_000_000 ? 30_000 : 10_000;

    /// <summary>
    /// Warm-up rounds of the claim scenario, each a day's claims of 32 reps. At <c>large</c>, where the claim target is
    /// judged, eight: the app's CPU per claim stopped falling after six to eight in session 17 (the JIT's tier-up of the
    /// ~6,000 methods a request touches takes ~25 s of full load on 2 cores). <c>small</c> runs one, for the same reason
    /// as <see cref="CaptureWarmUp"/>: it measures a server that has just started.
    /// </summary>
    public int ClaimWarmUpRounds => Customers >= 1_000_000 ? 8 : 1;

    public static readonly Scale Small = new("small", 10_000, 20, 200);
    public static readonly Scale Large = new("large", 1_000_000, 20, 200);

    public static Scale Parse(string name) => name.ToLowerInvariant() switch
    {
        "small" => Small,
        "large" => Large,
        _ => throw new ArgumentException($"Unknown scale '{name}'; use small or large."),
    };
}

// Plain rows, one per table the data set fills. Instants are UTC; each loader maps them to its provider's storage.
public sealed record OrganizationRow(Guid Id, string Name, DateTimeOffset CreatedAt);

public sealed record TeamRow(Guid Id, Guid OrganizationId, string Name, Guid? ParentTeamId);

public sealed record UserRow(Guid Id, Guid OrganizationId, string UserName, string DisplayName, string Role,
    Guid? TeamId, Guid? ManagerId, string Email, string SecurityStamp, string ConcurrencyStamp, DateTimeOffset CreatedAt);

/// <summary>
/// A customer with where its pursuit stands, as the app keeps it on the row: stage and last stage move, grade, when it
/// was handed to its owner, its last follow-up and the next contact that follow-up planned (see <see cref="CustomerHistory"/>).
/// <see cref="CreatedById"/> is the owner who typed it in, or null when routing or a manager handed it over. A customer
/// without an owner sits in the default pool (<see cref="PoolId"/>, since <see cref="PooledAt"/>, for <see cref="PoolReason"/>),
/// as the app keeps them: a pool exactly while there is no owner.
/// </summary>
public sealed record CustomerRow(Guid Id, Guid OrganizationId, string Name, string Company, string Mobile, string? Email,
    string Region, string Industry, Guid? OwnerId, Guid? CreatedById, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string Stage = "new", DateTimeOffset? StageChangedAt = null, string? Grade = null, int? Score = null, DateTimeOffset? AssignedAt = null,
    DateTimeOffset? LastFollowUpAt = null, DateTimeOffset? NextContactAt = null, Guid? PoolId = null, DateTimeOffset? PooledAt = null,
    string? PoolReason = null);

/// <summary>The organisation's default public pool (公海), as the app creates it; the loader writes its default settings.</summary>
public sealed record PoolRow(Guid Id, Guid OrganizationId, string Name, DateTimeOffset CreatedAt);

/// <summary>One follow-up record (跟进记录) as <c>LogFollowUp</c> stores it; <see cref="Channel"/> is the enum's name ("Phone").</summary>
public sealed record FollowUpRecordRow(Guid Id, Guid OrganizationId, Guid CustomerId, Guid AuthorId, string Channel, string Content,
    string? Goal, bool GoalReached, string? NextPlan, DateTimeOffset? NextContactAt, DateTimeOffset At);

/// <summary>One stage change as <c>MoveStage</c> stores it (sequence 1, 2, 3 … per customer).</summary>
public sealed record StageChangeRow(Guid Id, Guid OrganizationId, Guid CustomerId, int Sequence, string From, string To, Guid ById,
    DateTimeOffset At, string? LostReason, string? Details);

/// <summary>An open task of a customer's owner: the next contact, the first contact after a hand-over, or a recent stage's action.</summary>
public sealed record FollowUpTaskRow(Guid Id, Guid OrganizationId, Guid OwnerId, Guid CustomerId, string Kind, string? Title,
    DateTimeOffset DueAt, DateTimeOffset CreatedAt, DateTimeOffset? RemindedAt, DateTimeOffset? EscalatedAt);

/// <summary>
/// One line of a customer's ownership history from its stays in the pool, as the app writes it: released by a rep or
/// reclaimed by the pool's rule (<see cref="FromId"/> the owner it left), claimed by a rep (<see cref="ToId"/>).
/// <see cref="Event"/> is the enum's name ("Reclaimed"); the database numbers the row.
/// </summary>
public sealed record OwnershipChangeRow(Guid OrganizationId, Guid CustomerId, Guid? FromId, Guid? ToId, string Reason, string? Rule,
    Guid? ById, DateTimeOffset At, string Event, Guid PoolId);

/// <summary>A customer with everything its pursuit left behind: follow-ups in time order, stage moves, open tasks, pool history.</summary>
public sealed record CustomerHistory(CustomerRow Customer, IReadOnlyList<FollowUpRecordRow> Records, IReadOnlyList<StageChangeRow> Moves,
    IReadOnlyList<FollowUpTaskRow> Tasks, IReadOnlyList<OwnershipChangeRow> Ownership);

/// <summary>A personal API token; the secret is known to the runner, only its hash is stored.</summary>
public sealed record ApiTokenRow(Guid Id, Guid OrganizationId, Guid UserId, string Name, string Prefix, string Hash,
    string Secret, DateTimeOffset CreatedAt);

/// <summary>Everything except customers, which are streamed (a million rows do not fit comfortably in a list).</summary>
public sealed record Organisation(
    OrganizationRow Organization,
    IReadOnlyList<TeamRow> Teams,
    IReadOnlyList<UserRow> Users,
    IReadOnlyList<ApiTokenRow> Tokens,
    UserRow Admin,
    UserRow BenchRep,
    UserRow BenchManager,
    IReadOnlyList<UserRow> Reps);

/// <summary>The capture channel the ingestion scenario posts to (key known to the runner).</summary>
public sealed record ChannelRow(Guid Id, Guid OrganizationId, string Name, string Kind, string SourceTag, string Key, DateTimeOffset CreatedAt);

/// <summary>An existing lead; <see cref="Keys"/> are its contact keys as the app writes them ("m:+86…", "e:…").</summary>
public sealed record LeadRow(Guid Id, Guid OrganizationId, string Name, string Company, string Mobile, string? Email,
    Guid ChannelId, string SourceTag, DateTimeOffset ArrivedAt, IReadOnlyList<string> Keys);

/// <summary>One capture submission: a new contact, or (<see cref="IsRepeat"/>) an existing lead's mobile again.</summary>
public sealed record SubmissionRow(string Name, string Mobile, string? Email, string Campaign, bool IsRepeat)
{
    /// <summary>The contact keys the submission normalizes to (mobile first, as DuplicateRules orders them).</summary>
    public IReadOnlyList<string> Keys => Email is null ? ["m:" + Mobile] : ["m:" + Mobile, "e:" + Email];
}

public enum ImportRowKind
{
    /// <summary>A contact nobody has yet: becomes a lead.</summary>
    New,
    /// <summary>An existing lead's mobile again: becomes a touch.</summary>
    Repeat,
    /// <summary>An impossible number: kept as an invalid lead.</summary>
    Invalid,
}

/// <summary>One row of the generated import file, the mobile as a person typed it (spaces, +86 or neither).</summary>
public sealed record ImportRow(string Name, string Company, string Mobile, string? Email, ImportRowKind Kind, string NormalizedMobile);
