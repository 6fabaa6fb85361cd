using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Attachments;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Tests.Infrastructure;
using static Tideflow.Web.Tests.Infrastructure.Leadflow;

namespace Tideflow.Web.Tests.Pipeline;

public abstract class AttachmentTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static readonly byte[] Exe = [.. "MZ"u8, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xFF, 0xFF, 0, 0, .. "This program cannot be run in DOS mode."u8];

    private object FollowUp(params Guid[] attachmentIds) => new
    {
        channel = "Visit", content = "上门演示，客户签了意向书", nextPlan = "发正式合同", nextContactAt = app.Clock.GetUtcNow().AddDays(2), attachmentIds,
    };

    [Fact]
    public async Task An_upload_is_stored_as_what_its_content_is_and_downloads_byte_for_byte_as_an_audited_attachment()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var pdf = Uploads.Pdf("报价单");

        // A PDF called scan.bin, declared as octet-stream: the content decides, the name gains the real extension.
        var response = await app.As(org.RepA).UploadAsync(customer, pdf, "scan.bin");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var row = await response.ReadAsync<AttachmentRow>();
        Assert.Equal(("scan.bin.pdf", "application/pdf", (long)pdf.Length, "follow-up", customer, org.RepA.Id, (Guid?)null),
            (row.FileName, row.ContentType, row.Size, row.Purpose, row.CustomerId, row.UploadedById, row.FollowUpRecordId));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(pdf)), row.Sha256);
        Assert.Equal($"/api/attachments/{row.Id}", response.Headers.Location?.OriginalString);

        // Their manager sees it with the customer.
        var listed = await (await app.As(org.ManagerA).GetAsync($"/api/customers/{customer}/attachments")).ReadAsync<List<AttachmentRow>>();
        Assert.Equal([row.Id], listed.Select(a => a.Id));

        var download = await app.As(org.ManagerA).GetAsync(row.DownloadUrl);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(pdf, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/pdf", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("scan.bin.pdf", download.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Equal("nosniff", download.Headers.GetValues("X-Content-Type-Options").Single());

        // Text is a download too, never shown inline where a script in it could run as the app.
        var html = Encoding.UTF8.GetBytes("<html><script>alert(document.cookie)</script></html>");
        var text = await (await app.As(org.RepA).UploadAsync(customer, html, "notes.html", declaredType: "text/html")).ReadAsync<AttachmentRow>();
        Assert.Equal(("notes.html.txt", "text/plain; charset=utf-8"), (text.FileName, text.ContentType));
        var textDownload = await app.As(org.RepA).GetAsync(text.DownloadUrl);
        Assert.Equal("text/plain", textDownload.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", textDownload.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("nosniff", textDownload.Headers.GetValues("X-Content-Type-Options").Single());

        // The upload is in the audit log with its size and hash, the download as an export; the bytes are in neither.
        var audit = await app.InDbAsync(db => db.AuditEntries.Where(a => a.OrganizationId == org.Id
            && (a.EntityId == row.Id.ToString() || a.EntityType == nameof(AttachmentContent))).ToListAsync());
        var created = Assert.Single(audit, a => a.Action == AuditActions.Create);
        Assert.Equal(nameof(Attachment), created.EntityType);
        Assert.Contains(row.Sha256, created.Changes);
        var export = Assert.Single(audit, a => a.Action == "export");
        Assert.Equal(org.ManagerA.Id, export.ActorId);
        Assert.DoesNotContain(audit, a => a.EntityType == nameof(AttachmentContent));
        var everything = string.Join("\n", await app.InDbAsync(db => db.AuditEntries.Where(a => a.OrganizationId == org.Id).Select(a => a.Changes).ToListAsync()));
        Assert.DoesNotContain(Convert.ToBase64String(pdf)[..40], everything, StringComparison.Ordinal);
        Assert.DoesNotContain("%PDF-1.7", everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_over_the_limit_is_refused_with_the_field_and_the_limit_and_nothing_is_stored()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        byte[] oneTooMany = [.. "%PDF-1.7\n"u8, .. new byte[10 * 1024 * 1024 - 8]];

        var (detail, errors) = await (await app.As(org.RepA).UploadAsync(customer, oneTooMany, "big.pdf")).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(["file"], errors.Keys);
        Assert.Contains("at most 10 MB", errors["file"][0]);
        Assert.StartsWith("file: ", detail);
        // Far over: refused on the declared length, before the body is read.
        var (_, farOver) = await (await app.As(org.RepA).UploadAsync(customer, new byte[12 * 1024 * 1024], "bigger.pdf")).ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("at most 10 MB", farOver["file"][0]);
        Assert.False(await app.InDbAsync(db => db.Attachments.AnyAsync(a => a.CustomerId == customer)));
    }

    [Fact]
    public async Task A_disallowed_kind_is_refused_naming_what_was_detected_whatever_the_name_says()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var rep = app.As(org.RepA);

        var (_, errors) = await (await rep.UploadAsync(customer, Exe, "report.pdf", declaredType: "application/pdf")).ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Equal(["file"], errors.Keys);
        Assert.Contains("a Windows program (EXE/DLL)", errors["file"][0]);
        Assert.Contains("Allowed: PDF, PNG, JPEG", errors["file"][0]);

        (_, errors) = await (await rep.UploadAsync(customer, ZipOf("setup.exe"), "合同.docx"))
            .ProblemAsync(HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("a ZIP archive", errors["file"][0]);
        (_, errors) = await (await rep.UploadAsync(customer, [], "empty.pdf")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("The file is empty.", errors["file"][0]);
        (_, errors) = await (await rep.UploadAsync(customer, Uploads.Pdf(), "a.pdf", purpose: "invoice")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["purpose"], errors.Keys);
        var json = await rep.PostJson($"/api/customers/{customer}/attachments", new { file = "JVBERi0=" });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.False(await app.InDbAsync(db => db.Attachments.AnyAsync(a => a.CustomerId == customer)));
    }

    private static byte[] ZipOf(params string[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(buffer, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var name in entries)
            {
                using var stream = zip.CreateEntry(name).Open();
                stream.Write(Exe);
            }
        }
        return buffer.ToArray();
    }

    [Fact]
    public async Task A_rep_cannot_upload_to_list_or_download_from_a_customer_they_cannot_see()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var row = await (await app.As(org.RepA).UploadAsync(customer, Uploads.Pdf(), "合同.pdf", "contract")).ReadAsync<AttachmentRow>();

        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).UploadAsync(customer, Uploads.Pdf(), "x.pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).GetAsync(row.DownloadUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.ManagerB).GetAsync(row.DownloadUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).GetAsync($"/api/customers/{customer}/attachments")).StatusCode);
        // Finance reads every customer's papers but attaches none.
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.Finance).GetAsync(row.DownloadUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.Finance).UploadAsync(customer, Uploads.Pdf(), "x.pdf")).StatusCode);
        Assert.Equal(1, await app.InDbAsync(db => db.Attachments.CountAsync(a => a.CustomerId == customer)));

        // In the pool its contact details are masked to the pool's members, and so are its files, until one claims it.
        await app.InDbAsync(async db =>
        {
            var c = await db.Customers.SingleAsync(x => x.Id == customer);
            (c.OwnerId, c.PoolId, c.PooledAt, c.PreviousOwnerId) = (null, org.DefaultPool, app.Clock.GetUtcNow(), org.RepA.Id);
            return await db.SaveChangesAsync();
        });
        Assert.Empty(await (await app.As(org.RepB).GetAsync($"/api/customers/{customer}/attachments")).ReadAsync<List<AttachmentRow>>());
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).GetAsync(row.DownloadUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await app.As(org.RepB).UploadAsync(customer, Uploads.Pdf(), "x.pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.Admin).GetAsync(row.DownloadUrl)).StatusCode);
    }

    [Fact]
    public async Task A_follow_up_links_the_files_uploaded_for_it_and_refuses_ids_that_are_not_waiting_on_this_customer()
    {
        var org = await app.NewOrgAsync();
        var (customer, other) = (org.CustomersOf[org.RepA.Id][0], org.CustomersOf[org.RepA.Id][1]);
        var rep = app.As(org.RepA);
        var photo = await (await rep.UploadAsync(customer, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13], "现场.png")).ReadAsync<AttachmentRow>();
        // Anyone who sees the customer may have uploaded it: here the rep's manager.
        var minutes = await (await app.As(org.ManagerA).UploadAsync(customer, Encoding.UTF8.GetBytes("会议纪要：客户确认 50 套"), "纪要.txt")).ReadAsync<AttachmentRow>();
        var elsewhere = await (await rep.UploadAsync(other, Uploads.Pdf(), "别的客户.pdf")).ReadAsync<AttachmentRow>();
        var repBs = await (await app.As(org.RepB).UploadAsync(org.CustomersOf[org.RepB.Id][0], Uploads.Pdf(), "b.pdf")).ReadAsync<AttachmentRow>();
        var unknown = Guid.NewGuid();

        var (_, errors) = await (await rep.PostJson($"/api/customers/{customer}/follow-ups", FollowUp(photo.Id, elsewhere.Id, repBs.Id, unknown)))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["attachmentIds"], errors.Keys);
        Assert.All(new[] { elsewhere.Id, repBs.Id, unknown }, id => Assert.Contains(id.ToString(), errors["attachmentIds"][0]));
        Assert.DoesNotContain(photo.Id.ToString(), errors["attachmentIds"][0]);
        Assert.Equal(0, await app.InDbAsync(db => db.FollowUpRecords.CountAsync(f => f.CustomerId == customer)));

        var logged = await (await rep.PostJson($"/api/customers/{customer}/follow-ups", FollowUp(photo.Id, minutes.Id))).ReadAsync<FollowUpRow>();
        Assert.Equal(new[] { photo.Id, minutes.Id }.Order(), logged.Attachments!.Select(a => a.Id).Order());
        var history = await (await app.As(org.ManagerA).GetAsync($"/api/customers/{customer}/follow-ups")).ReadAsync<List<FollowUpRow>>();
        Assert.Equal(["现场.png", "纪要.txt"], Assert.Single(history).Attachments!.Select(a => a.FileName).Order(StringComparer.Ordinal));
        Assert.All(history[0].Attachments!, a => Assert.Equal($"/api/attachments/{a.Id}", a.DownloadUrl));
        var linked = await app.InDbAsync(db => db.Attachments.Where(a => a.CustomerId == customer).Select(a => a.FollowUpRecordId).ToListAsync());
        Assert.All(linked, id => Assert.Equal(logged.Id, id));

        // Already on a record: a later follow-up cannot take it over.
        (_, errors) = await (await rep.PostJson($"/api/customers/{customer}/follow-ups", FollowUp(photo.Id))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(photo.Id.ToString(), errors["attachmentIds"][0]);
        // The link is the one change an attachment takes; nothing can rewrite one afterwards.
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            (await db.Attachments.SingleAsync(a => a.Id == photo.Id)).FileName = "改名.png";
            return await db.SaveChangesAsync();
        }));
        Assert.Contains("kept as uploaded", thrown.Message);
    }

    [Fact]
    public async Task Won_needs_a_contract_attachment_a_follow_up_file_is_not_one()
    {
        var org = await app.NewOrgAsync();
        var customer = org.CustomersOf[org.RepA.Id][0];
        var rep = app.As(org.RepA);
        await rep.PostJson($"/api/customers/{customer}/follow-ups", FollowUp());
        var won = new { to = "won", invoiceTitle = "宁波电子有限公司", taxNumber = "91330200MA2XXXXXXX" };

        var refused = await rep.PostJson($"/api/customers/{customer}/stage", won);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var body = await refused.JsonAsync();
        Assert.Equal(["ContractAttachment"], body.GetProperty("missing").EnumerateArray().Select(m => m.GetProperty("check").GetString()));
        Assert.Contains("a contract attachment", body.GetProperty("detail").GetString());

        await rep.UploadAsync(customer, Uploads.Pdf(), "报价单.pdf");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await rep.PostJson($"/api/customers/{customer}/stage", won)).StatusCode);

        await rep.UploadContractAsync(customer);
        var moved = await (await rep.PostJson($"/api/customers/{customer}/stage", won)).ReadAsync<StageMoveRow>();
        Assert.Equal(("new", "won"), (moved.From, moved.To));
    }
}

public sealed class AttachmentTests_Sqlite(SqliteApp app) : AttachmentTests<SqliteApp>(app);
public sealed class AttachmentTests_Postgres(PostgresApp app) : AttachmentTests<PostgresApp>(app);
