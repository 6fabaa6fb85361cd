using System.IO.Compression;
using System.Text;

namespace Tideflow.Domain.Attachments;

/// <summary>The kinds of file a rep may attach (合同、报价单、截图、会议纪要).</summary>
public enum FileKind
{
    Pdf,
    Png,
    Jpeg,
    Gif,
    WebP,
    Docx,
    Xlsx,
    Pptx,
    Text,
    Csv,
}

/// <summary>What the bytes turned out to be: an allowed <see cref="Kind"/>, or null and what was found instead.</summary>
public sealed record Sniffed(FileKind? Kind, string Detected)
{
    public bool Allowed => Kind is not null;

    /// <summary>The real MIME type of an allowed kind, as a download is served with it.</summary>
    public string? ContentType => Kind is { } kind ? FileSniffer.ContentTypeOf(kind) : null;
}

/// <summary>
/// Tells what a file is from its first bytes, never from its name: an .exe renamed report.pdf is an executable, a PDF
/// named scan.bin is a PDF. A small hand-written signature table, because no maintained sniffing package is available
/// to this build (the NuGet mirror has Mime-Detective only as a 2017 beta; FileSignatures, HeyRed.Mime and
/// FileTypeChecker are absent) and an allowlist of ten kinds needs only their well-known magic numbers. Kinds that are
/// refused but common (executables, archives, legacy Office) are named too, so the refusal can say what was found.
/// </summary>
public static class FileSniffer
{
    public static IReadOnlyList<FileKind> AllowedKinds { get; } = Enum.GetValues<FileKind>();

    /// <summary>The allowlist as a person reads it, for refusals and the upload hint.</summary>
    public static string AllowedList => "PDF, PNG, JPEG, GIF, WebP, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), plain UTF-8 text or CSV";

    public static string ContentTypeOf(FileKind kind) => kind switch
    {
        FileKind.Pdf => "application/pdf",
        FileKind.Png => "image/png",
        FileKind.Jpeg => "image/jpeg",
        FileKind.Gif => "image/gif",
        FileKind.WebP => "image/webp",
        FileKind.Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        FileKind.Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        FileKind.Pptx => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        FileKind.Text => "text/plain; charset=utf-8",
        FileKind.Csv => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    };

    /// <summary>The extensions a file of this kind may carry; the first is given to a name that has none of them.</summary>
    public static IReadOnlyList<string> ExtensionsOf(FileKind kind) => kind switch
    {
        FileKind.Pdf => [".pdf"],
        FileKind.Png => [".png"],
        FileKind.Jpeg => [".jpg", ".jpeg"],
        FileKind.Gif => [".gif"],
        FileKind.WebP => [".webp"],
        FileKind.Docx => [".docx"],
        FileKind.Xlsx => [".xlsx"],
        FileKind.Pptx => [".pptx"],
        FileKind.Text => [".txt", ".md", ".log"],
        FileKind.Csv => [".csv"],
        _ => [],
    };

    public static Sniffed Sniff(byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var b = content.AsSpan();
        if (b.IsEmpty)
        {
            return Refused("an empty file");
        }
        // Offset 0 only: a signature further in (PDF readers tolerate junk before %PDF-) is how polyglot files hide.
        if (b.StartsWith("%PDF-"u8))
        {
            return new(FileKind.Pdf, "PDF");
        }
        if (Starts(b, 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A))
        {
            return new(FileKind.Png, "PNG image");
        }
        if (Starts(b, 0xFF, 0xD8, 0xFF))
        {
            return new(FileKind.Jpeg, "JPEG image");
        }
        if (b.StartsWith("GIF87a"u8) || b.StartsWith("GIF89a"u8))
        {
            return new(FileKind.Gif, "GIF image");
        }
        if (b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8))
        {
            return new(FileKind.WebP, "WebP image");
        }
        if (b.StartsWith("PK\u0003\u0004"u8))
        {
            return Zip(content);
        }
        if (Known(b) is { } refused)
        {
            return Refused(refused);
        }
        return Text(b);
    }

    // Signatures of common files that are not allowed, so the refusal names what it found.
    private static string? Known(ReadOnlySpan<byte> b) =>
        b.StartsWith("MZ"u8) ? "a Windows program (EXE/DLL)"
        : Starts(b, 0x7F, 0x45, 0x4C, 0x46) ? "a Linux program (ELF)"
        : Starts(b, 0xCF, 0xFA, 0xED, 0xFE) || Starts(b, 0xCE, 0xFA, 0xED, 0xFE) || Starts(b, 0xCA, 0xFE, 0xBA, 0xBE)
            ? "a macOS program or Java class file"
        : Starts(b, 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1) ? "an old-format Office document (.doc/.xls/.ppt; save it as .docx/.xlsx/.pptx)"
        : b.StartsWith("Rar!"u8) ? "a RAR archive"
        : Starts(b, 0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C) ? "a 7-Zip archive"
        : Starts(b, 0x1F, 0x8B) ? "a gzip archive"
        : null;

    // Office Open XML is a ZIP with [Content_Types].xml; its main folder says which application made it. Only the
    // central directory is read (no entry is inflated), so a ZIP bomb costs nothing here.
    private static Sniffed Zip(byte[] content)
    {
        List<string> names;
        try
        {
            using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
            names = zip.Entries.Select(e => e.FullName.Replace('\\', '/')).ToList();
        }
        catch (InvalidDataException)
        {
            return Refused("a damaged ZIP archive");
        }
        if (!names.Contains("[Content_Types].xml", StringComparer.OrdinalIgnoreCase))
        {
            return Refused("a ZIP archive");
        }
        // Macros run code when the document is opened; 启用宏 is the classic way such files spread.
        if (names.Any(n => n.EndsWith("vbaProject.bin", StringComparison.OrdinalIgnoreCase)))
        {
            return Refused("a macro-enabled Office document");
        }
        bool Under(string folder) => names.Any(n => n.StartsWith(folder, StringComparison.OrdinalIgnoreCase));
        return Under("word/") ? new(FileKind.Docx, "Word document")
            : Under("xl/") ? new(FileKind.Xlsx, "Excel workbook")
            : Under("ppt/") ? new(FileKind.Pptx, "PowerPoint presentation")
            : Refused("an Office Open XML package that is not a Word, Excel or PowerPoint file");
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static Sniffed Text(ReadOnlySpan<byte> b)
    {
        if (b.Contains((byte)0))
        {
            return Refused("binary data (it contains NUL bytes)");
        }
        string text;
        try
        {
            text = StrictUtf8.GetString(Starts(b, 0xEF, 0xBB, 0xBF) ? b[3..] : b);
        }
        catch (DecoderFallbackException)
        {
            return Refused("binary data or text not in UTF-8");
        }
        return LooksLikeCsv(text) ? new(FileKind.Csv, "CSV") : new(FileKind.Text, "plain text");
    }

    // Comma-separated when at least two lines and every line has the same number (one or more) of commas outside quotes.
    private static bool LooksLikeCsv(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Take(50).ToList();
        if (lines.Count < 2)
        {
            return false;
        }
        var commas = lines.Select(Separators).Distinct().ToList();
        return commas.Count == 1 && commas[0] > 0;
    }

    private static int Separators(string line)
    {
        var (count, quoted) = (0, false);
        foreach (var c in line)
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == ',' && !quoted)
            {
                count++;
            }
        }
        return count;
    }

    private static Sniffed Refused(string detected) => new(null, detected);

    private static bool Starts(ReadOnlySpan<byte> content, params ReadOnlySpan<byte> signature) => content.StartsWith(signature);
}
