namespace Tideflow.Web.Features.Access;

/// <summary>A tenant. Every business row carries its id, and the data-scope filter isolates tenants.</summary>
public sealed class Organization
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Rows that belong to one organisation; the DbContext stamps and checks the id.</summary>
public interface IOrganizationOwned
{
    Guid OrganizationId { get; set; }
}

public sealed class Team : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Name { get; set; }
    public Guid? ParentTeamId { get; set; }
}
