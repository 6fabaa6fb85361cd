using Tideflow.Web.Features.Access;

namespace Tideflow.Web.Features.Attachments;

/// <summary>
/// A file a rep attached to a customer: evidence of a follow-up or the signed contract (R5.3, the 赢单 check). Seen with
/// the customer it belongs to, through the customers' scope filter. Never edited except to link it, once, to the
/// follow-up record it was uploaded for (records stay append-only: the link lives here, not on the record).
/// </summary>
public sealed class Attachment : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public Guid CustomerId { get; set; }
    /// <summary>Null until a follow-up names it in its attachmentIds. A concurrency token: of two follow-ups linking it at
    /// the same moment, the second fails instead of moving it.</summary>
    public Guid? FollowUpRecordId { get; set; }
    /// <summary><see cref="Domain.Attachments.AttachmentPurposes"/>: "follow-up" or "contract".</summary>
    public required string Purpose { get; set; }
    /// <summary>Sanitised, and ending in an extension of the sniffed kind.</summary>
    public required string FileName { get; set; }
    /// <summary>The sniffed kind's MIME type; what the client declared is never stored.</summary>
    public required string ContentType { get; set; }
    public long Size { get; set; }
    /// <summary>Lower-case hex SHA-256 of the content, for integrity checks and spotting the same file twice.</summary>
    public required string Sha256 { get; set; }
    public Guid UploadedById { get; set; }
    public DateTimeOffset UploadedAt { get; set; }
}

/// <summary>
/// The bytes of an <see cref="Attachment"/>, in the database so every app node serves them. A table of their own, so
/// that listing, linking and counting attachments never reads megabytes of content.
/// </summary>
public sealed class AttachmentContent : IOrganizationOwned
{
    public Guid AttachmentId { get; set; }
    public Guid OrganizationId { get; set; }
    public required byte[] Content { get; set; }
}
