using System.Linq.Expressions;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Attachments;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Attachments;

public sealed record AttachmentRow(Guid Id, Guid CustomerId, Guid? FollowUpRecordId, string Purpose, string FileName, string ContentType,
    long Size, string Sha256, Guid UploadedById, string? UploadedByName, DateTimeOffset UploadedAt)
{
    public string DownloadUrl => $"/api/attachments/{Id}";
}

/// <summary>
/// Upload, list and download a customer's files. Every read goes through the DbContext's scope filter on attachments
/// (which asks the customers' filter), so a file of a customer the caller cannot see does not exist for them (404).
/// The rules — purpose, size, kind by content, name — are <see cref="AttachmentRules"/>.
/// </summary>
public sealed class Attachments(TideflowDbContext db, CurrentUser me, TimeProvider clock, IConfiguration config)
{
    public long MaxBytes => MaxBytesOf(config);

    public static long MaxBytesOf(IConfiguration config) => config.GetValue("Attachments:MaxBytes", AttachmentRules.DefaultMaxBytes);

    /// <param name="open">Opens the file's content, given how many bytes are wanted at most; null when no file was sent.</param>
    public async Task<AttachmentRow> UploadAsync(Guid customerId, string? purpose, string? fileName, long size, Func<long, Stream>? open,
        CancellationToken ct = default)
    {
        me.Require(Permission.WorkCustomers);
        var customer = await db.Customers.AsNoTracking().Where(c => c.Id == customerId)
            .Select(c => new { c.OrganizationId, c.OwnerId }).SingleOrDefaultAsync(ct) ?? throw Problem.NotFound("Customer");
        if (customer.OwnerId is null)
        {
            throw Problem.Conflict("This customer is in the pool; claim it before working on it.");
        }
        if (AttachmentRules.PurposeProblem(purpose) is { } badPurpose)
        {
            throw Refuse(badPurpose);
        }
        if (open is null)
        {
            throw Refuse(new(RefusalKind.Invalid, "file", "Send the file in the form field 'file'."));
        }
        // The declared size is checked before a byte is read; the bytes received are checked again, declared or not.
        if (AttachmentRules.SizeProblem(size, MaxBytes) is { } tooLarge)
        {
            throw Refuse(tooLarge);
        }
        var content = await ReadAtMostAsync(open(MaxBytes + 1), MaxBytes + 1, ct);
        var (sniffed, refusal) = AttachmentRules.Check(content, MaxBytes);
        if (refusal is not null)
        {
            throw Refuse(refusal);
        }

        var attachment = new Attachment
        {
            Id = Guid.CreateVersion7(), OrganizationId = customer.OrganizationId, CustomerId = customerId, Purpose = purpose!.Trim(),
            FileName = AttachmentRules.SafeFileName(fileName, sniffed!.Kind!.Value), ContentType = sniffed.ContentType!, Size = content.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), UploadedById = me.Id, UploadedAt = clock.GetUtcNow(),
        };
        db.Attachments.Add(attachment);
        db.AttachmentContents.Add(new AttachmentContent { AttachmentId = attachment.Id, OrganizationId = attachment.OrganizationId, Content = content });
        await db.SaveChangesAsync(ct);
        return await Rows(db, a => a.Id == attachment.Id).SingleAsync(ct);
    }

    /// <summary>The customer's files, newest first.</summary>
    public async Task<List<AttachmentRow>> ListAsync(Guid customerId, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        if (!await db.Customers.AnyAsync(c => c.Id == customerId, ct))
        {
            throw Problem.NotFound("Customer");
        }
        return await Rows(db, a => a.CustomerId == customerId).Take(500).ToListAsync(ct);
    }

    /// <summary>A file and its bytes. Taking a customer's documents out of the system is an export: it is audited.</summary>
    public async Task<(AttachmentRow Row, byte[] Content)> DownloadAsync(Guid id, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var row = await Rows(db, a => a.Id == id).SingleOrDefaultAsync(ct) ?? throw Problem.NotFound("Attachment");
        var content = await db.AttachmentContents.AsNoTracking().Where(c => c.AttachmentId == id).Select(c => c.Content).SingleAsync(ct);
        db.Audit("export", nameof(Attachment), id.ToString(), new { what = "attachment", customerId = row.CustomerId, fileName = row.FileName, size = row.Size, sha256 = row.Sha256 });
        await db.SaveChangesAsync(ct);
        return (row, content);
    }

    /// <summary>
    /// The attachments a follow-up names, tracked so that setting <see cref="Attachment.FollowUpRecordId"/> links them in the
    /// follow-up's own save; or why they cannot be linked (field attachmentIds).
    /// </summary>
    public static async Task<(List<Attachment> Linkable, string? Problem)> ForFollowUpAsync(TideflowDbContext db, Guid customerId,
        IReadOnlyList<Guid>? ids, CancellationToken ct)
    {
        if (ids is null || ids.Count == 0)
        {
            return ([], null);
        }
        var requested = ids.Distinct().ToList();
        var linkable = requested.Count > AttachmentRules.MaxPerFollowUp ? []
            : await db.Attachments.Where(a => requested.Contains(a.Id) && a.CustomerId == customerId && a.FollowUpRecordId == null).ToListAsync(ct);
        return (linkable, AttachmentRules.LinkProblem(requested, linkable.Select(a => a.Id).ToList()));
    }

    /// <summary>The files linked to the customer's follow-up records, by record.</summary>
    public static async Task<Dictionary<Guid, List<AttachmentRow>>> ByFollowUpAsync(TideflowDbContext db, Guid customerId, CancellationToken ct)
    {
        var rows = await Rows(db, a => a.CustomerId == customerId && a.FollowUpRecordId != null).ToListAsync(ct);
        // In the order they were uploaded, as the rep chose them.
        return rows.GroupBy(a => a.FollowUpRecordId!.Value).ToDictionary(g => g.Key, g => g.OrderBy(a => a.UploadedAt).ThenBy(a => a.Id).ToList());
    }

    // Newest first. Filtered and ordered before the projection, which EF cannot look into.
    private static IQueryable<AttachmentRow> Rows(TideflowDbContext db, Expression<Func<Attachment, bool>> which) =>
        from a in db.Attachments.AsNoTracking().Where(which)
        join u in db.Users on a.UploadedById equals u.Id into us
        from u in us.DefaultIfEmpty()
        orderby a.UploadedAt descending, a.Id descending
        select new AttachmentRow(a.Id, a.CustomerId, a.FollowUpRecordId, a.Purpose, a.FileName, a.ContentType, a.Size, a.Sha256,
            a.UploadedById, u == null ? null : u.DisplayName, a.UploadedAt);

    // A stream that says nothing of its length (a chunked body) is cut just past the limit, so it cannot fill memory.
    private static async Task<byte[]> ReadAtMostAsync(Stream stream, long limit, CancellationToken ct)
    {
        await using (stream)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while (buffer.Length <= limit && (read = await stream.ReadAsync(chunk, ct)) > 0)
            {
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }

    /// <summary>Over the limit is 413, a kind not allowed 415, anything else 400; each names the field and why.</summary>
    private static Problem Refuse(AttachmentRefusal refusal)
    {
        var (status, title) = refusal.Kind switch
        {
            RefusalKind.TooLarge => (StatusCodes.Status413PayloadTooLarge, "File too large"),
            RefusalKind.NotAllowed => (StatusCodes.Status415UnsupportedMediaType, "File type not allowed"),
            _ => (StatusCodes.Status400BadRequest, "Invalid input"),
        };
        return new Problem(status, title, $"{refusal.Field}: {refusal.Reason}", new Dictionary<string, string[]> { [refusal.Field] = [refusal.Reason] });
    }

    /// <summary>A body whose declared length alone is over the limit, refused before it is read.</summary>
    public Problem? RefuseBody(long? contentLength) =>
        contentLength > MaxBytes + AttachmentEndpoints.FormOverhead ? Refuse(AttachmentRules.SizeProblem(contentLength.Value, MaxBytes)!) : null;
}

public static class AttachmentEndpoints
{
    /// <summary>Room in a request for the multipart boundaries, headers and the purpose field around the file.</summary>
    public const long FormOverhead = 64 * 1024;

    public static void MapAttachments(this RouteGroupBuilder api)
    {
        var bodyLimit = Attachments.MaxBytesOf(((IEndpointRouteBuilder)api).ServiceProvider.GetRequiredService<IConfiguration>()) + FormOverhead;
        api.MapGet("/customers/{id:guid}/attachments", (Guid id, Attachments h, CancellationToken ct) => h.ListAsync(id, ct))
            .WithTags("Attachments");
        // multipart/form-data: file, purpose ("follow-up" or "contract"). The form is read by hand, after the declared length
        // is checked, so a file far over the limit is refused with the field and the limit before it is received.
        api.MapPost("/customers/{id:guid}/attachments", async (Guid id, HttpRequest request, Attachments h, CancellationToken ct) =>
            {
                if (h.RefuseBody(request.ContentLength) is { } tooLarge)
                {
                    throw tooLarge;
                }
                if (!request.HasFormContentType)
                {
                    throw new Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                        "Send multipart/form-data with the file in the field 'file' and its purpose in 'purpose'.");
                }
                var form = await request.ReadFormAsync(ct);
                var file = form.Files.GetFile("file");
                var row = await h.UploadAsync(id, form["purpose"].ToString(), file?.FileName, file?.Length ?? 0,
                    file is null ? null : _ => file.OpenReadStream(), ct);
                return Results.Created(row.DownloadUrl, row);
            })
            .DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(bodyLimit))
            .Accepts<IFormFile>("multipart/form-data")
            .WithTags("Attachments");
        api.MapGet("/attachments/{id:guid}", async (Guid id, HttpResponse response, Attachments h, CancellationToken ct) =>
            {
                var (row, content) = await h.DownloadAsync(id, ct);
                // Always a download, never shown in the page: an uploaded text or image cannot run as the app's own content.
                response.Headers.XContentTypeOptions = "nosniff";
                response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
                response.Headers.CacheControl = "private, no-store";
                return Results.File(content, row.ContentType, row.FileName);
            })
            .WithTags("Attachments");
    }
}
