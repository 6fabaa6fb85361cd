using System.IO.Compression;
using System.Text;
using Tideflow.Domain.Attachments;

namespace Tideflow.Domain.Tests.Attachments;

/// <summary>Minimal real files of each kind, built here byte by byte, so nothing depends on fixtures on disk.</summary>
public static class Files
{
    public static byte[] Pdf => Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    public static byte[] Png => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0];
    public static byte[] Jpeg => [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9];
    public static byte[] Gif => [.. "GIF89a"u8, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 4, 1, 0, 0, 0, 0, 0x3B];
    public static byte[] WebP => [.. "RIFF"u8, 26, 0, 0, 0, .. "WEBPVP8L"u8, 13, 0, 0, 0, 0x2F, 0, 0, 0, 0x10, 7, 0x10, 0x11, 0x11, 0x88, 0x88, 0xFE, 0x07, 0];
    public static byte[] Exe => [.. "MZ"u8, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xFF, 0xFF, 0, 0, .. "This program cannot be run in DOS mode."u8];
    public static byte[] Elf => [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    public static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A ZIP holding these entries (each with a little XML), as Office and every ZIP tool writes them.</summary>
    public static byte[] Zip(params string[] entries)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var name in entries)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write("<?xml version=\"1.0\" encoding=\"UTF-8\"?><x/>");
            }
        }
        return buffer.ToArray();
    }

    public static byte[] Docx => Zip("[Content_Types].xml", "_rels/.rels", "word/document.xml");
    public static byte[] Xlsx => Zip("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml");
    public static byte[] Pptx => Zip("[Content_Types].xml", "_rels/.rels", "ppt/presentation.xml");
}

public class FileSnifferTests
{
    public static TheoryData<string, FileKind, string> Allowed => new()
    {
        { "pdf", FileKind.Pdf, "application/pdf" },
        { "png", FileKind.Png, "image/png" },
        { "jpeg", FileKind.Jpeg, "image/jpeg" },
        { "gif", FileKind.Gif, "image/gif" },
        { "webp", FileKind.WebP, "image/webp" },
        { "docx", FileKind.Docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
        { "xlsx", FileKind.Xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
        { "pptx", FileKind.Pptx, "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
        { "text", FileKind.Text, "text/plain; charset=utf-8" },
        { "csv", FileKind.Csv, "text/csv; charset=utf-8" },
    };

    private static byte[] Sample(string name) => name switch
    {
        "pdf" => Files.Pdf,
        "png" => Files.Png,
        "jpeg" => Files.Jpeg,
        "gif" => Files.Gif,
        "webp" => Files.WebP,
        "docx" => Files.Docx,
        "xlsx" => Files.Xlsx,
        "pptx" => Files.Pptx,
        "text" => Files.Text("会议纪要：客户要 50 套，周三前发报价。\nMeeting notes."),
        "csv" => Files.Text("产品,数量,单价\n车载终端,50,1200\n\"平台, 年费\",1,30000\n"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Each_allowed_kind_is_recognised_by_its_content_with_its_real_mime_type(string sample, FileKind kind, string contentType)
    {
        var sniffed = FileSniffer.Sniff(Sample(sample));
        Assert.Equal(kind, sniffed.Kind);
        Assert.True(sniffed.Allowed);
        Assert.Equal(contentType, sniffed.ContentType);
    }

    [Fact]
    public void Every_kind_on_the_allowlist_has_a_content_type_and_an_extension()
    {
        Assert.All(FileSniffer.AllowedKinds, k => Assert.NotEqual("application/octet-stream", FileSniffer.ContentTypeOf(k)));
        Assert.All(FileSniffer.AllowedKinds, k => Assert.NotEmpty(FileSniffer.ExtensionsOf(k)));
    }

    [Fact]
    public void Programs_are_refused_and_named_whatever_they_are_called()
    {
        Assert.Equal(new Sniffed(null, "a Windows program (EXE/DLL)"), FileSniffer.Sniff(Files.Exe));
        Assert.Equal("a Linux program (ELF)", FileSniffer.Sniff(Files.Elf).Detected);
        Assert.Equal("a macOS program or Java class file", FileSniffer.Sniff([0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52]).Detected);
        Assert.False(FileSniffer.Sniff(Files.Exe).Allowed);
        Assert.Null(FileSniffer.Sniff(Files.Exe).ContentType);
    }

    [Fact]
    public void A_signature_counts_only_at_the_start_so_a_program_carrying_a_pdf_header_is_still_a_program()
    {
        Assert.False(FileSniffer.Sniff([.. Files.Exe, .. Files.Pdf]).Allowed);
        // Text that merely mentions %PDF- is text.
        Assert.Equal(FileKind.Text, FileSniffer.Sniff(Files.Text("see attached: %PDF-1.7 header")).Kind);
    }

    [Fact]
    public void A_zip_that_is_not_a_word_excel_or_powerpoint_file_is_refused()
    {
        Assert.Equal("a ZIP archive", FileSniffer.Sniff(Files.Zip("readme.txt", "setup.exe")).Detected);
        // Office-looking folders without [Content_Types].xml are just a ZIP.
        Assert.Equal("a ZIP archive", FileSniffer.Sniff(Files.Zip("word/document.xml")).Detected);
        Assert.Equal("an Office Open XML package that is not a Word, Excel or PowerPoint file",
            FileSniffer.Sniff(Files.Zip("[Content_Types].xml", "visio/document.xml")).Detected);
        Assert.Equal("a damaged ZIP archive", FileSniffer.Sniff([.. "PK\u0003\u0004"u8, 1, 2, 3, 4, 5]).Detected);
    }

    [Fact]
    public void Macro_enabled_office_documents_are_refused()
    {
        var docm = Files.Zip("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin");
        Assert.Equal(new Sniffed(null, "a macro-enabled Office document"), FileSniffer.Sniff(docm));
    }

    [Fact]
    public void Empty_files_archives_and_legacy_office_files_are_refused_with_what_they_are()
    {
        Assert.Equal("an empty file", FileSniffer.Sniff([]).Detected);
        Assert.Equal("a RAR archive", FileSniffer.Sniff([.. "Rar!"u8, 0x1A, 7, 0]).Detected);
        Assert.Equal("a 7-Zip archive", FileSniffer.Sniff([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C, 0, 4]).Detected);
        Assert.Equal("a gzip archive", FileSniffer.Sniff([0x1F, 0x8B, 8, 0]).Detected);
        Assert.StartsWith("an old-format Office document", FileSniffer.Sniff([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]).Detected);
    }

    [Fact]
    public void Text_must_be_utf8_without_nul_bytes()
    {
        Assert.Equal(new Sniffed(null, "binary data (it contains NUL bytes)"), FileSniffer.Sniff(Files.Text("abc\0def")));
        // 报价 in GBK, as Chinese Windows Notepad used to save it: not UTF-8.
        Assert.Equal("binary data or text not in UTF-8", FileSniffer.Sniff([0xB1, 0xA8, 0xBC, 0xDB]).Detected);
        Assert.Equal(FileKind.Text, FileSniffer.Sniff([0xEF, 0xBB, 0xBF, .. Files.Text("带 BOM 的文本")]).Kind);
    }

    [Fact]
    public void Csv_needs_two_lines_with_the_same_number_of_separators_else_it_is_plain_text()
    {
        Assert.Equal(FileKind.Csv, FileSniffer.Sniff(Files.Text("a,b\r\n1,2\r\n")).Kind);
        Assert.Equal(FileKind.Text, FileSniffer.Sniff(Files.Text("a,b\n1,2,3\n")).Kind);
        Assert.Equal(FileKind.Text, FileSniffer.Sniff(Files.Text("just, one line")).Kind);
        Assert.Equal(FileKind.Text, FileSniffer.Sniff(Files.Text("no separators\nat all\n")).Kind);
    }
}
