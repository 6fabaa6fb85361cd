using System.Net.Http.Headers;
using System.Text;

namespace Tideflow.Web.Tests.Infrastructure;

/// <summary>Attaching files to customers through the real multipart endpoint.</summary>
public static class Uploads
{
    /// <summary>A small PDF, different on every call (its SHA-256 and bytes can be told apart).</summary>
    public static byte[] Pdf(string text = "合同") =>
        Encoding.UTF8.GetBytes($"%PDF-1.7\n% {text} {Guid.NewGuid()}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, Guid customer, byte[] content, string fileName,
        string purpose = "follow-up", string? declaredType = "application/octet-stream")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        if (declaredType is not null)
        {
            file.Headers.ContentType = new MediaTypeHeaderValue(declaredType);
        }
        form.Add(file, "file", fileName);
        form.Add(new StringContent(purpose), "purpose");
        return client.PostAsync($"/api/customers/{customer}/attachments", form);
    }

    /// <summary>The signed contract that moving to 赢单 needs; returns its id.</summary>
    public static async Task<Guid> UploadContractAsync(this HttpClient client, Guid customer)
    {
        var response = await client.UploadAsync(customer, Pdf(), "合同.pdf", "contract");
        return (await response.ReadAsync<Tideflow.Web.Features.Attachments.AttachmentRow>()).Id;
    }
}
