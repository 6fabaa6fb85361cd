using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Leads;

public abstract class ImportTests<TApp>(TApp app) where TApp : TideflowApp
{
    static ImportTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private static MultipartFormDataContent File(string name, byte[] content)
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(content), "file", name);
        return form;
    }

    private async Task<ImportJobView> RunAsync(HttpClient client, ImportPreview preview, bool dryRun = false)
    {
        var started = await client.PostJson($"/api/imports/{preview.JobId}/start", new { mapping = preview.Mapping, dryRun });
        var job = await started.ReadAsync<ImportJobView>();
        // A bound, not a speed check (speed is the benchmark's): a busy CI machine may take minutes for 10,000 rows.
        for (var i = 0; i < 1800 && job.Status == ImportStatus.Running; i++)
        {
            await Task.Delay(100);
            job = await (await client.GetAsync($"/api/imports/{preview.JobId}")).ReadAsync<ImportJobView>();
        }
        Assert.Equal(ImportStatus.Completed, job.Status);
        return job;
    }

    private static string Mobile(int i) => $"+86139{i:D8}";

    [Fact]
    public async Task A_gbk_csv_from_chinese_excel_is_detected_mapped_by_its_headers_and_imported()
    {
        var org = await app.NewOrgAsync();
        var csv = "姓名,公司名称,手机号码,邮箱,备注\r\n王小明,深圳恒信商贸有限公司,139 0000 1111,,老客户介绍\r\n李雷,杭州博远软件,无,li@example.cn,\r\n";
        var client = app.As(org.ManagerA);
        var preview = await (await client.PostAsync("/api/imports", File("客户名单.csv", Encoding.GetEncoding("GBK").GetBytes(csv)))).ReadAsync<ImportPreview>();
        Assert.Equal("gb18030", preview.Encoding);
        Assert.Equal(["姓名", "公司名称", "手机号码", "邮箱", "备注"], preview.Headers);
        Assert.Equal("mobile", preview.Mapping["手机号码"]);
        Assert.Equal("", preview.Mapping["备注"]);
        Assert.Equal("王小明", preview.Sample[0][0]);

        var job = await RunAsync(client, preview);
        Assert.Equal((2, 2, 2, 0), (job.Total, job.Processed, job.Created, job.Duplicates));
        var lead = await app.InDbAsync(db => db.Leads.SingleAsync(l => l.OrganizationId == org.Id && l.Mobile == "+8613900001111"));
        Assert.Equal("深圳恒信商贸有限公司", lead.Company);
        Assert.Equal("导入", lead.SourceTag);
        // The row as it came, readable in the timeline: Chinese as text, not \u escapes.
        Assert.Contains("\"name\":\"王小明\"", lead.RawPayload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_contact_written_by_another_node_while_a_batch_is_judged_makes_the_batch_start_again_and_touch_it()
    {
        var org = await app.NewOrgAsync();
        // The batch has looked for its contacts and found none; before it writes, a web form on another node brings
        // the first row's mobile, so the batch's contact key meets a unique violation.
        TideflowApp? node = null;
        var twin = new AfterContactKeyRead(async () =>
        {
            await using var scope = node!.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<CaptureLead>().CaptureAsync(org.Channel,
                [new(new Dictionary<string, string> { ["name"] = "表单来的", ["mobile"] = Mobile(1) }, null, null, null, null, false, "{}")]);
        });
        await using var started = node = app.SecondNode(interceptor: twin);
        var client = node.As(org.Admin);
        var csv = $"name,mobile\n导入的甲,{Mobile(1)}\n导入的乙,{Mobile(2)}\n导入的丙,{Mobile(3)}\n";
        var preview = await (await client.PostAsync("/api/imports", File("名单.csv", Encoding.UTF8.GetBytes(csv)))).ReadAsync<ImportPreview>();

        twin.Arm();
        var job = await RunAsync(client, preview);

        Assert.True(twin.Fired);
        Assert.Equal((3, 2, 1, 0), (job.Processed, job.Created, job.Duplicates, job.Invalid));
        var first = await app.InDbAsync(db => db.Leads.SingleAsync(l => l.OrganizationId == org.Id && l.Mobile == Mobile(1)));
        Assert.Equal("表单来的", first.Name);
        Assert.Equal(["arrival", "import"], await app.InDbAsync(db => db.LeadTouches.Where(t => t.LeadId == first.Id).OrderBy(t => t.At).ThenBy(t => t.Id).Select(t => t.Kind).ToListAsync()));
        Assert.Equal(2, await app.InDbAsync(db => db.Leads.CountAsync(l => l.OrganizationId == org.Id && l.SourceTag == "导入")));
    }

    [Fact]
    public async Task Ten_thousand_rows_import_in_the_background_and_importing_the_same_file_again_adds_nothing()
    {
        var org = await app.NewOrgAsync();
        var rows = new StringBuilder("name,company,mobile,email\n");
        for (var i = 0; i < 10_000; i++)
        {
            var mobile = i % 500 == 7 ? "12345" : Mobile(i % 9_990); // ten rows repeat an earlier mobile, twenty are impossible
            rows.Append(CultureInvariant($"客户{i},公司{i % 300},{mobile},\n"));
        }
        var client = app.As(org.Admin);
        var bytes = Encoding.UTF8.GetBytes(rows.ToString());
        var first = await RunAsync(client, await (await client.PostAsync("/api/imports", File("big.csv", bytes))).ReadAsync<ImportPreview>());
        Assert.Equal(10_000, first.Processed);
        Assert.Equal(20, first.Invalid);
        Assert.Equal(10_000 - 20 - first.Created, first.Duplicates);
        var leads = await app.InDbAsync(db => db.Leads.CountAsync(l => l.OrganizationId == org.Id && l.SourceTag == "导入"));
        Assert.Equal(first.Created + first.Invalid, leads);

        var again = await RunAsync(client, await (await client.PostAsync("/api/imports", File("big.csv", bytes))).ReadAsync<ImportPreview>());
        Assert.Equal(10_000, again.Repeated);
        Assert.Equal(0, again.Created);
        Assert.Equal(leads, await app.InDbAsync(db => db.Leads.CountAsync(l => l.OrganizationId == org.Id && l.SourceTag == "导入")));
    }

    [Fact]
    public async Task Each_rep_hears_once_about_the_leads_an_import_routed_to_them_and_each_lead_still_gets_its_history_and_task()
    {
        var org = await app.NewOrgAsync();
        await app.SaveRulesAsync(org,
            Leadflow.ToRep("制造业给 B", org.RepB.Id, Leadflow.When("industry", Tideflow.Domain.Leads.FieldOperator.Equals, "制造业")),
            Leadflow.ToRep("其余给 A", org.RepA.Id));
        var csv = "姓名,公司名称,手机号码,行业\n赵一,一号公司,13700000001,零售\n钱二,二号公司,13700000002,零售\n孙三,三号公司,13700000003,零售\n李四,四号公司,13700000004,制造业\n";
        var client = app.As(org.Admin);
        var job = await RunAsync(client, await (await client.PostAsync("/api/imports", File("名单.csv", Encoding.UTF8.GetBytes(csv)))).ReadAsync<ImportPreview>());
        Assert.Equal(4, job.Created);

        string[] assignedKinds = [Tideflow.Web.Features.Notifications.NotificationKinds.LeadAssigned, Tideflow.Web.Features.Notifications.NotificationKinds.LeadsAssigned];
        var told = await app.InDbAsync(db => db.Notifications.IgnoreQueryFilters()
            .Where(n => n.OrganizationId == org.Id && assignedKinds.Contains(n.Kind)).ToListAsync());
        var toA = Assert.Single(told, n => n.RecipientId == org.RepA.Id);
        Assert.Equal(Tideflow.Web.Features.Notifications.NotificationKinds.LeadsAssigned, toA.Kind);
        var digest = Tideflow.Web.Features.Notifications.NotificationText.Parse(toA.Parameters);
        Assert.Equal(("3", "名单.csv"), (digest["count"], digest["file"]));
        Assert.Equal("赵一、钱二、孙三", digest["names"]);
        var toB = Assert.Single(told, n => n.RecipientId == org.RepB.Id);
        Assert.Equal(Tideflow.Web.Features.Notifications.NotificationKinds.LeadAssigned, toB.Kind);
        Assert.Equal("李四", Tideflow.Web.Features.Notifications.NotificationText.Parse(toB.Parameters)["name"]);

        // The digest replaces only the messages: every routed lead keeps its ownership history and first-contact task.
        var (history, tasks) = await app.InDbAsync(async db => (
            await db.OwnershipChanges.CountAsync(o => db.Leads.Any(l => l.Id == o.LeadId && l.OrganizationId == org.Id && l.SourceTag == "导入")),
            await db.FollowUpTasks.CountAsync(t => db.Leads.Any(l => l.Id == t.LeadId && l.OrganizationId == org.Id && l.SourceTag == "导入"))));
        Assert.Equal((4, 4), (history, tasks));
    }

    [Fact]
    public async Task A_dry_run_reports_without_writing_and_the_report_lists_every_row_not_cleanly_imported()
    {
        var org = await app.NewOrgAsync();
        var client = app.As(org.Admin);
        var csv = $"name,mobile\n甲,{Mobile(1)}\n乙,{Mobile(1)}\n丙,=cmd|' /C calc'!A0\n";
        var preview = await (await client.PostAsync("/api/imports", File("x.csv", Encoding.UTF8.GetBytes(csv)))).ReadAsync<ImportPreview>();
        var dry = await RunAsync(client, preview, dryRun: true);
        Assert.Equal((1, 1, 1), (dry.Created, dry.Duplicates, dry.Invalid));
        Assert.Equal(0, await app.InDbAsync(db => db.Leads.CountAsync(l => l.OrganizationId == org.Id && l.SourceTag == "导入")));

        var report = await client.GetAsync($"/api/imports/{preview.JobId}/report");
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        var text = Encoding.UTF8.GetString(await report.Content.ReadAsByteArrayAsync());
        Assert.Contains("duplicate", text, StringComparison.Ordinal);
        Assert.Contains("invalid", text, StringComparison.Ordinal);
        Assert.Contains("'=cmd", text, StringComparison.Ordinal);
        Assert.DoesNotContain(",=cmd", text, StringComparison.Ordinal);
        Assert.True(await app.InDbAsync(db => db.AuditEntries.AnyAsync(a => a.OrganizationId == org.Id && a.Action == "export")));
    }

    [Fact]
    public async Task An_xlsx_file_imports_and_a_mapping_without_contact_columns_is_refused()
    {
        var org = await app.NewOrgAsync();
        using var xlsx = new MemoryStream();
        MiniExcelLibs.MiniExcel.SaveAs(xlsx, new[]
        {
            new Dictionary<string, object> { ["联系人"] = "赵敏", ["手机"] = "13600000001" },
            new Dictionary<string, object> { ["联系人"] = "孙丽", ["手机"] = "13600000002" },
        }, excelType: MiniExcelLibs.ExcelType.XLSX);
        var client = app.As(org.Admin);
        var preview = await (await client.PostAsync("/api/imports", File("list.xlsx", xlsx.ToArray()))).ReadAsync<ImportPreview>();
        Assert.Equal(["联系人", "手机"], preview.Headers);
        var refused = await client.PostJson($"/api/imports/{preview.JobId}/start", new { mapping = new Dictionary<string, string> { ["联系人"] = "name", ["手机"] = "" } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(2, (await RunAsync(client, preview)).Created);
    }

    private static string CultureInvariant(FormattableString s) => FormattableString.Invariant(s);
}

public sealed class ImportTests_Sqlite(SqliteApp app) : ImportTests<SqliteApp>(app);
public sealed class ImportTests_Postgres(PostgresApp app) : ImportTests<PostgresApp>(app);
