using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Leads;

public enum ImportStatus
{
    /// <summary>Uploaded and previewed; waiting for a mapping and a start.</summary>
    Uploaded,
    Running,
    Completed,
    Failed,
}

/// <summary>
/// One uploaded file and its progress. The file itself is stored here, so whichever node runs the job can
/// read it and the progress survives a page reload.
/// </summary>
public sealed class ImportJob : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid CreatedById { get; set; }
    public required string FileName { get; set; }
    public required string FileHash { get; set; }
    public required byte[] Content { get; set; }
    public required string Encoding { get; set; }
    public Guid? ChannelId { get; set; }
    public string? Mapping { get; set; }
    public bool DryRun { get; set; }
    public ImportStatus Status { get; set; }
    public int Total { get; set; }
    public int Processed { get; set; }
    public int Created { get; set; }
    public int Duplicates { get; set; }
    public int Invalid { get; set; }
    public int Repeated { get; set; }
    /// <summary>Rows not imported because a custom field value was missing or did not fit; fix the file and import again.</summary>
    public int Rejected { get; set; }
    /// <summary>CSV of every row that was not imported as a clean new lead, with the reason.</summary>
    public string? Report { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>A column mapping remembered for files with the same header row.</summary>
public sealed class ImportTemplate : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string HeaderKey { get; set; }
    public required string Mapping { get; set; }
}
