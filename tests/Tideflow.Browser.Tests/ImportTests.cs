using System.Text;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class ImportTests(BrowserApp app) : BrowserTest(app)
{
    static ImportTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    [Fact]
    public async Task A_manager_imports_a_gbk_csv_watches_it_finish_and_finds_the_leads()
    {
        var rows = new StringBuilder("姓名,公司名称,手机号码,备注\r\n");
        for (var i = 0; i < 1500; i++)
        {
            rows.Append(FormattableString.Invariant($"导入客户{i},苏州测试{i % 50}有限公司,137{i:D8},展会名片\r\n"));
        }
        rows.Append("无效行,某公司,12345,\r\n");

        var page = await NewPageAsync();
        await Ui.LoginAsync(page, "manager.south");
        await Ui.OpenAsync(page, "/leads");
        await page.ClickAsync("[data-testid=open-import]");
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/leads/import");
        // InputFile attaches its change listener in a JS call after its first interactive render; a file set
        // before that is never seen. Its init stamps the element (Blazor's InputFile.ts), which is what we wait for.
        await page.WaitForFunctionAsync("""() => { const i = document.querySelector('[data-testid=import-file]'); return !!i && i._blazorInputFileNextFileId !== undefined; }""");
        await page.SetInputFilesAsync("[data-testid=import-file]", new Microsoft.Playwright.FilePayload
        {
            Name = "展会名片.csv", MimeType = "text/csv", Buffer = Encoding.GetEncoding("GBK").GetBytes(rows.ToString()),
        });
        await Expect(page.Locator("[data-testid=import-preview]")).ToContainTextAsync("导入客户0");
        await Expect(page.Locator("[data-testid=import-preview]")).ToContainTextAsync("1501");
        await page.ClickAsync("[data-testid=start-import]");

        var latest = page.Locator("[data-testid=import-jobs] tbody tr").First;
        await Expect(latest.Locator("[data-testid=import-status]")).ToHaveTextAsync("已完成", new() { Timeout = 60_000 });
        await Expect(latest.Locator("[data-testid=import-progress]")).ToHaveTextAsync("1501 / 1501");
        await Expect(latest.Locator("[data-testid=import-result]")).ToContainTextAsync("新增 1500");
        await Expect(latest.Locator("[data-testid=import-result]")).ToContainTextAsync("无效 1");
        await Expect(latest.Locator("[data-testid=import-report]")).ToBeVisibleAsync();

        // The progress lives on the server: a reload shows the same finished job.
        await page.ReloadAsync();
        await Expect(page.Locator("[data-testid=import-jobs] tbody tr").First.Locator("[data-testid=import-status]")).ToHaveTextAsync("已完成");

        await Ui.OpenAsync(page, "/leads");
        await page.FillAsync(Ui.Field("lead-search"), "导入客户1499");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("[data-testid=lead-row-name]", new() { HasTextString = "导入客户1499" })).ToBeVisibleAsync();
        AssertNoErrors();
    }
}
