using System.Globalization;
using System.Text;

namespace Tideflow.Domain.Attachments;

/// <summary>What an attachment is for: evidence of a contact (跟进附件) or the signed contract that 赢单 needs.</summary>
public static class AttachmentPurposes
{
    public const string FollowUp = "follow-up";
    public const string Contract = "contract";

    public static IReadOnlyList<string> All { get; } = [FollowUp, Contract];
}

public enum RefusalKind
{
    /// <summary>Malformed request: no file, an empty one, an unknown purpose (400).</summary>
    Invalid,
    /// <summary>Over the size limit (413).</summary>
    TooLarge,
    /// <summary>Content of a kind not on the allowlist (415).</summary>
    NotAllowed,
}

/// <summary>Why an upload is refused: the field as the API names it, and a sentence for the person who sent it.</summary>
public sealed record AttachmentRefusal(RefusalKind Kind, string Field, string Reason);

/// <summary>
/// The rules an uploaded file meets before it is stored (R5.3 attachments, the 赢单 contract): a known purpose, within
/// the size limit, of an allowed kind by its content, under a name that is safe to hand back in a download.
/// </summary>
public static class AttachmentRules
{
    public const long DefaultMaxBytes = 10 * 1024 * 1024;
    public const int MaxFileName = 200;
    /// <summary>Files one follow-up record may carry.</summary>
    public const int MaxPerFollowUp = 20;

    /// <summary>Checked on the declared size before the body is read, and again on the bytes actually received.</summary>
    public static AttachmentRefusal? SizeProblem(long size, long maxBytes) =>
        size > maxBytes
            ? new(RefusalKind.TooLarge, "file", $"The file is {Describe(size)}; attachments may be at most {Describe(maxBytes)}.")
            : null;

    public static AttachmentRefusal? PurposeProblem(string? purpose) =>
        AttachmentPurposes.All.Contains(purpose?.Trim() ?? "", StringComparer.Ordinal)
            ? null
            : new(RefusalKind.Invalid, "purpose", $"Say what the file is for: {string.Join(" or ", AttachmentPurposes.All)}.");

    /// <summary>The kind the content really is, or why it is refused (then Sniffed is null); the file name plays no part.</summary>
    public static (Sniffed? Sniffed, AttachmentRefusal? Refusal) Check(byte[] content, long maxBytes)
    {
        if (content.Length == 0)
        {
            return (null, new(RefusalKind.Invalid, "file", "The file is empty."));
        }
        if (SizeProblem(content.Length, maxBytes) is { } tooLarge)
        {
            return (null, tooLarge);
        }
        var sniffed = FileSniffer.Sniff(content);
        return sniffed.Allowed
            ? (sniffed, null)
            : (null, new(RefusalKind.NotAllowed, "file", $"The file's content is {sniffed.Detected}, which cannot be attached. Allowed: {FileSniffer.AllowedList}."));
    }

    /// <summary>
    /// A name safe to store, list and offer in a download: no folders, no control or direction-override characters
    /// (which make "txt.exe" read as "exe.txt"), at most <see cref="MaxFileName"/> characters, and ending in an extension
    /// of the sniffed kind — a script accepted as plain text is saved as run.bat.txt, not run.bat.
    /// </summary>
    public static string SafeFileName(string? fileName, FileKind kind)
    {
        var name = fileName ?? "";
        name = name[(name.LastIndexOfAny(['/', '\\']) + 1)..];
        var kept = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            // A lone surrogate enumerates as the replacement character; Windows refuses the punctuation in a file name.
            if (rune == Rune.ReplacementChar || rune.Value is '"' or ':' or '*' or '?' or '<' or '>' or '|'
                || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
                    or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                continue;
            }
            kept.Append(rune.ToString());
        }
        name = kept.ToString().Trim().Trim('.').Trim();
        var extensions = FileSniffer.ExtensionsOf(kind);
        var extension = Path.GetExtension(name);
        var stem = name;
        if (extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
        {
            stem = name[..^extension.Length].TrimEnd();
        }
        else
        {
            extension = extensions[0];
        }
        stem = stem.Length == 0 ? "attachment" : stem;
        stem = stem.Length + extension.Length > MaxFileName ? stem[..(MaxFileName - extension.Length)] : stem;
        // Never cut a surrogate pair (an emoji) in half.
        if (stem.Length > 0 && char.IsHighSurrogate(stem[^1]))
        {
            stem = stem[..^1];
        }
        return stem.TrimEnd() + extension;
    }

    /// <summary>
    /// Why the attachments named for a follow-up cannot be linked: ids that are not this customer's files waiting to be
    /// linked (unknown, another customer's, or already on a record). Null when all can be.
    /// </summary>
    public static string? LinkProblem(IReadOnlyCollection<Guid> requested, IReadOnlyCollection<Guid> linkable)
    {
        if (requested.Count > MaxPerFollowUp)
        {
            return $"At most {MaxPerFollowUp} attachments per follow-up.";
        }
        var unknown = requested.Where(id => !linkable.Contains(id)).Distinct().ToList();
        return unknown.Count == 0
            ? null
            : $"No attachment of this customer waiting to be linked has the id {string.Join(", ", unknown)}; upload it to this customer first.";
    }

    /// <summary>10 MB, 512 KB, 300 bytes.</summary>
    public static string Describe(long bytes) =>
        bytes >= 1024 * 1024 ? $"{(bytes / (1024d * 1024)).ToString("0.#", CultureInfo.InvariantCulture)} MB"
        : bytes >= 1024 ? $"{(bytes / 1024d).ToString("0.#", CultureInfo.InvariantCulture)} KB"
        : $"{bytes} bytes";
}
