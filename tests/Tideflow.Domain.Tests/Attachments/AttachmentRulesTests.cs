using Tideflow.Domain.Attachments;

namespace Tideflow.Domain.Tests.Attachments;

public class AttachmentRulesTests
{
    private const long Limit = AttachmentRules.DefaultMaxBytes;

    [Fact]
    public void A_file_over_the_limit_is_refused_naming_the_field_and_the_limit()
    {
        Assert.Equal(new AttachmentRefusal(RefusalKind.TooLarge, "file", "The file is 12.5 MB; attachments may be at most 10 MB."),
            AttachmentRules.SizeProblem(Limit * 5 / 4, Limit));
        Assert.Contains("at most 512 KB", AttachmentRules.SizeProblem(600 * 1024, 512 * 1024)!.Reason);
        Assert.Null(AttachmentRules.SizeProblem(Limit, Limit));
        var (sniffed, refusal) = AttachmentRules.Check(new byte[2048], 1024);
        Assert.Null(sniffed);
        Assert.Equal((RefusalKind.TooLarge, "file"), (refusal!.Kind, refusal.Field));
    }

    [Fact]
    public void The_content_decides_an_exe_named_report_pdf_is_refused_and_a_pdf_named_scan_bin_is_accepted()
    {
        var (_, refusal) = AttachmentRules.Check(Files.Exe, Limit);
        Assert.Equal(RefusalKind.NotAllowed, refusal!.Kind);
        Assert.Equal("file", refusal.Field);
        Assert.StartsWith("The file's content is a Windows program (EXE/DLL), which cannot be attached. Allowed: PDF, PNG", refusal.Reason);

        var (sniffed, none) = AttachmentRules.Check(Files.Pdf, Limit);
        Assert.Null(none);
        Assert.Equal("application/pdf", sniffed!.ContentType);
        // The name keeps what the rep called it and gains the real kind's extension.
        Assert.Equal("scan.bin.pdf", AttachmentRules.SafeFileName("scan.bin", sniffed.Kind!.Value));
    }

    [Fact]
    public void An_empty_file_is_refused_as_invalid()
    {
        Assert.Equal(new AttachmentRefusal(RefusalKind.Invalid, "file", "The file is empty."), AttachmentRules.Check([], Limit).Refusal);
    }

    [Theory]
    [InlineData("follow-up", true)]
    [InlineData("contract", true)]
    [InlineData(" contract ", true)]
    [InlineData("Contract", false)]
    [InlineData("invoice", false)]
    [InlineData(null, false)]
    public void Purpose_is_follow_up_or_contract(string? purpose, bool ok)
    {
        var problem = AttachmentRules.PurposeProblem(purpose);
        Assert.Equal(ok, problem is null);
        if (!ok)
        {
            Assert.Equal(new AttachmentRefusal(RefusalKind.Invalid, "purpose", "Say what the file is for: follow-up or contract."), problem);
        }
    }

    [Theory]
    [InlineData(@"C:\Users\rep\Desktop\合同.pdf", FileKind.Pdf, "合同.pdf")]
    [InlineData("../../etc/passwd", FileKind.Text, "passwd.txt")]
    [InlineData("报价单.PDF", FileKind.Pdf, "报价单.PDF")]
    [InlineData("photo.jpeg", FileKind.Jpeg, "photo.jpeg")]
    [InlineData("photo.png", FileKind.Jpeg, "photo.png.jpg")]
    [InlineData("run.bat", FileKind.Text, "run.bat.txt")]
    [InlineData("invoice\u202Efdp.exe", FileKind.Pdf, "invoicefdp.exe.pdf")]
    [InlineData("a\r\nb\t\0c.docx", FileKind.Docx, "abc.docx")]
    [InlineData("   ", FileKind.Xlsx, "attachment.xlsx")]
    [InlineData(null, FileKind.Png, "attachment.png")]
    [InlineData(".pdf", FileKind.Pdf, "pdf.pdf")]
    [InlineData("what?<is>|this*:\".csv", FileKind.Csv, "whatisthis.csv")]
    public void File_names_lose_folders_and_control_characters_and_end_in_the_real_kind(string? name, FileKind kind, string expected)
    {
        Assert.Equal(expected, AttachmentRules.SafeFileName(name, kind));
    }

    [Fact]
    public void Long_file_names_are_cut_keeping_the_extension_and_whole_characters()
    {
        var name = AttachmentRules.SafeFileName(new string('合', 300) + ".pdf", FileKind.Pdf);
        Assert.Equal(AttachmentRules.MaxFileName, name.Length);
        Assert.EndsWith("合.pdf", name);
        // 😀 is two UTF-16 units: a cut through it drops the whole emoji.
        var emoji = AttachmentRules.SafeFileName(new string('a', 195) + "😀😀.pdf", FileKind.Pdf);
        Assert.Equal(new string('a', 195) + ".pdf", emoji);
    }

    [Fact]
    public void Linking_names_every_id_that_is_not_a_waiting_file_of_the_customer()
    {
        var (mine, foreign, unknown) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        Assert.Null(AttachmentRules.LinkProblem([mine], [mine]));
        Assert.Null(AttachmentRules.LinkProblem([], []));
        var problem = AttachmentRules.LinkProblem([mine, foreign, unknown], [mine]);
        Assert.Contains(foreign.ToString(), problem);
        Assert.Contains(unknown.ToString(), problem);
        Assert.DoesNotContain(mine.ToString(), problem);
        Assert.Equal("At most 20 attachments per follow-up.",
            AttachmentRules.LinkProblem(Enumerable.Range(0, 21).Select(_ => Guid.NewGuid()).ToList(), []));
    }

    [Theory]
    [InlineData(300, "300 bytes")]
    [InlineData(1536, "1.5 KB")]
    [InlineData(10 * 1024 * 1024, "10 MB")]
    public void Sizes_read_like_a_person_writes_them(long bytes, string text) => Assert.Equal(text, AttachmentRules.Describe(bytes));
}
