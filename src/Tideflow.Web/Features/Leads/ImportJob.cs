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

/// <summary>
/// Rows of a file that an import has written, as spreadsheet row numbers from the first to the last row a batch wrote:
/// importing the same file again skips them, so it creates nothing twice. One per batch: a receipt per row was 100,000
/// more rows and index entries for a 100,000-row file (receipts from imports before this one were converted, one per
/// row). Rows the batch rejected (a custom value missing or not fitting) inside that range are named; those before or
/// after it are outside anyway. Either way a later import of the same file, after the field's rules changed, tries them
/// again.
/// </summary>
public sealed class ImportReceipt : IOrganizationOwned
{
    public long Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string FileHash { get; set; }
    public int FirstRow { get; set; }
    public int LastRow { get; set; }
    /// <summary>Comma-separated row numbers in the range that were not written.</summary>
    public string? RejectedRows { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>Pure: the rows from <paramref name="first"/> to <paramref name="last"/> that one of <paramref name="receipts"/> has written.</summary>
    public static HashSet<int> Written(IEnumerable<ImportReceipt> receipts, int first, int last)
    {
        // Walks each receipt's overlap with the rows asked about, not rows × receipts: a file imported before receipts
        // went per batch has one receipt per row.
        var written = new HashSet<int>();
        foreach (var receipt in receipts)
        {
            var rejected = (receipt.RejectedRows ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(n => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
            for (var row = Math.Max(first, receipt.FirstRow); row <= Math.Min(last, receipt.LastRow); row++)
            {
                if (!rejected.Contains(row))
                {
                    written.Add(row);
                }
            }
        }
        return written;
    }
}
