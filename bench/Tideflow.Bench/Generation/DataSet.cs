namespace Tideflow.Bench.Generation;

/// <summary>
/// How big the generated sales organisation is. One designated rep ("bench.rep") always owns exactly
/// <see cref="BenchRepCustomers"/> customers so the list scenario measures the same page at every scale.
/// </summary>
public sealed record Scale(string Name, int Customers, int Teams, int Reps, int BenchRepCustomers = 2_000)
{
    public static readonly Scale Small = new("small", 10_000, 20, 200);
    public static readonly Scale Large = new("large", 1_000_000, 20, 200);

    public static Scale Parse(string name) => name.ToLowerInvariant() switch
    {
        "small" => Small,
        "large" => Large,
        _ => throw new ArgumentException($"Unknown scale '{name}'; use small or large."),
    };
}

// Plain rows, one per table the schema has today. Instants are UTC; each loader maps them to its provider's storage.
public sealed record OrganizationRow(Guid Id, string Name, DateTimeOffset CreatedAt);

public sealed record TeamRow(Guid Id, Guid OrganizationId, string Name, Guid? ParentTeamId);

public sealed record UserRow(Guid Id, Guid OrganizationId, string UserName, string DisplayName, string Role,
    Guid? TeamId, Guid? ManagerId, string Email, string SecurityStamp, string ConcurrencyStamp, DateTimeOffset CreatedAt);

public sealed record CustomerRow(Guid Id, Guid OrganizationId, string Name, string Company, string Mobile, string? Email,
    string Region, string Industry, Guid? OwnerId, Guid? CreatedById, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

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
