using System.Text;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class AttachmentTests(BrowserApp app) : BrowserTest(app)
{
    private static byte[] Pdf(string text) => Encoding.UTF8.GetBytes($"%PDF-1.7\n% {text}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

    /// <summary>Waits until Blazor has wired the upload's hidden file input, then hands it a file as a person picking one would.</summary>
    private static async Task ChooseFileAsync(IPage page, string testId, string name, string mimeType, byte[] content)
    {
        // MudFileUpload puts the data-testid on its hidden input.
        var input = $"input[type=file][data-testid={testId}]";
        await page.WaitForFunctionAsync("s => { const i = document.querySelector(s); return !!i && i._blazorInputFileNextFileId !== undefined; }", input);
        await page.SetInputFilesAsync(input, new FilePayload { Name = name, MimeType = mimeType, Buffer = content });
    }

    [Fact]
    public async Task A_rep_attaches_a_file_to_a_follow_up_sees_it_listed_and_wins_the_customer_with_a_contract()
    {
        // A rep of this test's own: the demo's reps belong to other tests.
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.NewUserAsync(admin, "rep.attach", "attach123", "卫青");

        var rep = await NewPageAsync();
        await Ui.LoginAsync(rep, "rep.attach", "attach123");
        await Ui.OpenAsync(rep, "/customers");
        await rep.ClickAsync("[data-testid=new-customer]");
        await rep.FillAsync(Ui.Field("customer-name"), "附件测试 霍光");
        await rep.ClickAsync("[data-testid=save-customer]");
        await rep.Locator("[data-testid=customer-row-name]", new() { HasTextString = "附件测试 霍光" }).ClickAsync();
        await rep.WaitForURLAsync(u => new Uri(u).AbsolutePath.StartsWith("/customers/", StringComparison.Ordinal));
        await Ui.WaitForInteractiveAsync(rep);

        // A program calling itself a PDF is refused, naming what it really is; nothing is listed.
        await ChooseFileAsync(rep, "fu-attach", "报价单.pdf", "application/pdf", [.. "MZ"u8, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
        await Expect(rep.Locator("[data-testid=fu-attach-error]")).ToContainTextAsync("a Windows program (EXE/DLL)");
        await Expect(rep.Locator("[data-testid=fu-attachments] [data-testid=attachment]")).ToHaveCountAsync(0);

        var quote = Pdf("报价单 50 套");
        await ChooseFileAsync(rep, "fu-attach", "报价单.pdf", "application/pdf", quote);
        await Expect(rep.Locator("[data-testid=fu-attachments] [data-testid=attachment]")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("报价单.pdf"));
        await Expect(rep.Locator("[data-testid=fu-attach-error]")).ToHaveCountAsync(0);

        await Ui.SelectAsync(rep.Locator("[data-testid=fu-channel]"), "拜访");
        await rep.FillAsync("textarea[data-testid=fu-content], [data-testid=fu-content] textarea", "上门送报价单，客户同意签约");
        await rep.FillAsync(Ui.Field("fu-next-plan"), "寄送合同");
        var day = TimeProvider.System.GetLocalNow().AddDays(2).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        await rep.FillAsync(Ui.Field("fu-next-day"), day);
        await rep.Keyboard.PressAsync("Enter");
        await rep.ClickAsync("[data-testid=fu-save]");

        var record = rep.Locator("[data-testid=follow-up]");
        await Expect(record).ToHaveCountAsync(1);
        var link = record.Locator("[data-testid=follow-up-attachments] [data-testid=attachment-link]");
        await Expect(link).ToHaveTextAsync("报价单.pdf");
        // The form is empty again, and the customer's file list has it.
        await Expect(rep.Locator("[data-testid=fu-attachments] [data-testid=attachment]")).ToHaveCountAsync(0);
        await Expect(rep.Locator("[data-testid=customer-attachments] [data-testid=customer-attachment]")).ToHaveCountAsync(1);
        await Expect(rep.Locator("[data-testid=customer-attachments]")).ToContainTextAsync("报价单.pdf");

        // The link downloads exactly what was uploaded, as a download.
        var href = await link.GetAttributeAsync("href");
        var download = await rep.APIRequest.GetAsync(href!);
        Assert.Equal(200, download.Status);
        Assert.Equal(quote, await download.BodyAsync());
        Assert.StartsWith("attachment", download.Headers["content-disposition"], StringComparison.Ordinal);

        // 赢单 asks for the contract right in the stage form; with it and the invoice details the move goes through.
        await Ui.SelectAsync(rep.Locator("[data-testid=stage-target]"), "赢单");
        await rep.FillAsync(Ui.Field("stage-invoice-title"), "霍氏贸易有限公司");
        await rep.FillAsync(Ui.Field("stage-tax-number"), "91330200MA2XXXXXXX");
        await rep.ClickAsync("[data-testid=stage-move]");
        await Expect(rep.Locator("[data-testid=stage-missing-item]")).ToHaveTextAsync("合同附件");
        await ChooseFileAsync(rep, "stage-contract", "合同.pdf", "application/pdf", Pdf("合同"));
        await Expect(rep.Locator("[data-testid=stage-contracts] [data-testid=attachment-link]")).ToHaveTextAsync("合同.pdf");
        await rep.ClickAsync("[data-testid=stage-move]");
        await Expect(rep.Locator("[data-testid=customer-stage]")).ToHaveTextAsync("赢单");
        await Expect(rep.Locator("[data-testid=customer-attachments] [data-testid=customer-attachment]")).ToHaveCountAsync(2);
        AssertNoErrors();
    }
}
