using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Leads;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Tests.Infrastructure;
using static Tideflow.Web.Tests.Infrastructure.Leadflow;

namespace Tideflow.Web.Tests.Leads;

public abstract class CustomFieldTests<TApp>(TApp app) where TApp : TideflowApp
{
    private static object Field(string key, string label, CustomFieldType type, bool required = false, string[]? options = null,
        CustomFieldTarget appliesTo = CustomFieldTarget.Both, bool isArchived = false) =>
        new { key, label, type, options = options ?? [], required, appliesTo, isArchived };

    private async Task<CustomFieldRow> DefineAsync(TestOrg org, object field)
    {
        var response = await app.As(org.Admin).PostJson("/api/custom-fields", field);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.ReadAsync<CustomFieldRow>();
    }

    [Fact]
    public async Task An_admin_defines_fields_with_clear_refusals_and_key_and_type_never_change()
    {
        var org = await app.NewOrgAsync();
        var admin = app.As(org.Admin);
        var erp = await DefineAsync(org, Field("erp", "现用ERP", CustomFieldType.SingleSelect, options: [" SAP ", "用友"]));
        Assert.Equal(["SAP", "用友"], erp.Options);

        var (detail, errors) = await (await admin.PostJson("/api/custom-fields", Field("ERP", "别的", CustomFieldType.Text))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["key"], errors.Keys);
        Assert.Contains("another field already uses the name 'ERP'", detail);
        (_, errors) = await (await admin.PostJson("/api/custom-fields", Field("budget2", "预算", CustomFieldType.Number))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["label"], errors.Keys);
        (_, errors) = await (await admin.PostJson("/api/custom-fields", Field("modules", "模块", CustomFieldType.MultiSelect))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["options"], errors.Keys);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As(org.RepA).PostJson("/api/custom-fields", Field("x", "X", CustomFieldType.Text))).StatusCode);

        (_, errors) = await (await admin.PutJson($"/api/custom-fields/{erp.Id}", Field("erp", "现用ERP", CustomFieldType.Text))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("Field 'erp': the type cannot change once values are stored. Add a new field instead.", errors["type"][0]);
        (_, errors) = await (await admin.PutJson($"/api/custom-fields/{erp.Id}", Field("erp2", "现用ERP", CustomFieldType.SingleSelect, options: ["SAP"]))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["key"], errors.Keys);
        var renamed = await (await admin.PutJson($"/api/custom-fields/{erp.Id}", Field("erp", "ERP 系统", CustomFieldType.SingleSelect, true, ["SAP", "用友", "金蝶"]))).ReadAsync<CustomFieldRow>();
        Assert.Equal(("ERP 系统", true, 3), (renamed.Label, renamed.Required, renamed.Options.Count));

        // A rep reads the definitions (forms need them); archiving keeps the key taken.
        Assert.Equal(["segment", "erp"], (await (await app.As(org.RepA).GetAsync("/api/custom-fields")).ReadAsync<List<CustomFieldRow>>()).Select(f => f.Key));
        Assert.True((await (await admin.DeleteAsync($"/api/custom-fields/{erp.Id}")).ReadAsync<CustomFieldRow>()).IsArchived);
        (_, errors) = await (await admin.PostJson("/api/custom-fields", Field("erp", "ERP", CustomFieldType.Text))).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["key"], errors.Keys);
        Assert.Equal(2, await app.InDbAsync(db => db.AuditEntries.CountAsync(a => a.OrganizationId == org.Id && a.EntityType == nameof(StoredCustomField) && a.Action == "update")));
    }

    [Fact]
    public async Task A_form_may_send_a_custom_field_by_its_label_and_scoring_and_routing_rules_read_it()
    {
        var org = await app.NewOrgAsync();
        var admin = app.As(org.Admin);
        // A rule on a field nobody defined is refused; once defined, it saves.
        var card = ScoreCard.Default with
        {
            Criteria =
            [
                ScoreCard.Default.Criteria[0] with { Weight = 50 },
                new Criterion("车队规模", "fleet_size", 50, [new(FieldOperator.GreaterOrEqual, "100", 100), new(FieldOperator.GreaterOrEqual, "10", 40)]),
            ],
        };
        var (detail, _) = await (await admin.PutJson("/api/scoring/card", card)).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("fleet_size", detail);
        await DefineAsync(org, Field("fleet_size", "车队规模", CustomFieldType.Number));
        await DefineAsync(org, Field("erp", "现用ERP", CustomFieldType.SingleSelect, options: ["SAP", "用友"], appliesTo: CustomFieldTarget.Lead));
        Assert.Equal(HttpStatusCode.OK, (await admin.PutJson("/api/scoring/card", card)).StatusCode);
        await app.SaveRulesAsync(org, ToRep("用友客户给 B", org.RepB.Id, When("erp", FieldOperator.Equals, "用友")), ToRep("其余给 A", org.RepA.Id));

        var lead = await app.CaptureAsync(org, ("name", "钱进"), ("车队规模", "1,200"), ("现用erp", " 用友 "), ("budget", "60万"));
        var stored = await app.StoredLeadAsync(lead);
        var fields = Features.Scoring.LeadScoring.StoredFields(stored.Fields);
        Assert.Equal(("1200", "用友"), (fields["fleet_size"], fields["erp"]));
        Assert.False(fields.ContainsKey("车队规模"));
        Assert.Equal((100, "A", (Guid?)org.RepB.Id), (stored.Score, stored.Grade, stored.OwnerId));

        // A value that does not fit its type is not stored for rules, and the lead is not lost: it stays in the raw payload.
        var odd = await app.CaptureAsync(org, ("name", "孙悦"), ("车队规模", "很多"), ("budget", "60万"));
        var oddLead = await app.StoredLeadAsync(odd);
        Assert.False(Features.Scoring.LeadScoring.StoredFields(oddLead.Fields).ContainsKey("fleet_size"));
        Assert.Contains("很多", System.Text.RegularExpressions.Regex.Unescape(oddLead.RawPayload!));
        Assert.Equal((50, "B", (Guid?)org.RepA.Id), (oddLead.Score, oddLead.Grade, oddLead.OwnerId));
    }

    [Fact]
    public async Task People_filling_in_forms_must_fill_required_fields_and_every_bad_value_is_named()
    {
        var org = await app.NewOrgAsync();
        await DefineAsync(org, Field("fleet_size", "车队规模", CustomFieldType.Number, required: true));
        await DefineAsync(org, Field("modules", "模块", CustomFieldType.MultiSelect, options: ["CRM", "ERP", "MES"]));
        await DefineAsync(org, Field("renewal", "续约日", CustomFieldType.Date, appliesTo: CustomFieldTarget.Customer));
        var rep = app.As(org.RepA);

        // A customer-only field is refused on a lead, not kept there unchecked (qualifying would carry it over).
        var (_, errors) = await (await rep.PostJson("/api/leads", new { name = "吴敏", mobile = UniqueMobile(), fields = new Dictionary<string, string> { ["modules"] = "CRM, WMS", ["续约日"] = "明年" } }))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fields.fleet_size", "fields.modules", "fields.renewal"], errors.Keys.Order());
        Assert.Equal("车队规模: a value is required.", errors["fields.fleet_size"][0]);
        Assert.Equal("模块: 'WMS' is not one of CRM, ERP, MES.", errors["fields.modules"][0]);
        Assert.Equal("'renewal' is not a custom field of leads.", errors["fields.renewal"][0]);

        var created = await (await rep.PostJson("/api/leads", new { name = "吴敏", mobile = UniqueMobile(), fields = new Dictionary<string, string> { ["车队规模"] = "30", ["modules"] = "mes、crm", ["budget"] = "20万" } }))
            .ReadAsync<LeadView>();
        Assert.Equal(new Dictionary<string, string> { ["budget"] = "20万", ["fleet_size"] = "30", ["modules"] = "CRM,MES" }, created.Qualification!.Fields);

        (_, errors) = await (await rep.PostJson("/api/customers", new { name = "吴敏", fields = new Dictionary<string, string?> { ["renewal"] = "明年" } })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fields.fleet_size", "fields.renewal"], errors.Keys.Order());
        var customer = await (await rep.PostJson("/api/customers", new { name = "吴敏", fields = new Dictionary<string, string?> { ["fleet_size"] = "5万", ["renewal"] = "2027/3/1" } }))
            .ReadAsync<CustomerRow>();
        Assert.Equal(new Dictionary<string, string> { ["fleet_size"] = "50000", ["renewal"] = "2027-03-01" }, customer.Fields);
        // An update without fields keeps them; with fields it replaces them.
        var updated = await (await rep.PutJson($"/api/customers/{customer.Id}", new { name = "吴敏 (杭州)" })).ReadAsync<CustomerRow>();
        Assert.Equal(customer.Fields, updated.Fields);
        updated = await (await rep.PutJson($"/api/customers/{customer.Id}", new { name = "吴敏", fields = new Dictionary<string, string?> { ["fleet_size"] = "8", ["modules"] = "ERP" } })).ReadAsync<CustomerRow>();
        Assert.Equal(new Dictionary<string, string> { ["fleet_size"] = "8", ["modules"] = "ERP" }, updated.Fields);

        // The admin drops the ERP option: the customer keeps its value and can still be edited without touching it.
        var modules = (await (await app.As(org.Admin).GetAsync("/api/custom-fields")).ReadAsync<List<CustomFieldRow>>()).Single(f => f.Key == "modules");
        Assert.Equal(HttpStatusCode.OK, (await app.As(org.Admin).PutJson($"/api/custom-fields/{modules.Id}", Field("modules", "模块", CustomFieldType.MultiSelect, options: ["CRM", "MES"]))).StatusCode);
        updated = await (await rep.PutJson($"/api/customers/{customer.Id}", new { name = "吴敏（改名）", fields = updated.Fields })).ReadAsync<CustomerRow>();
        Assert.Equal(("吴敏（改名）", "ERP"), (updated.Name, updated.Fields!["modules"]));
        (_, errors) = await (await rep.PutJson($"/api/customers/{customer.Id}", new { name = "吴敏", fields = new Dictionary<string, string?> { ["fleet_size"] = "8", ["modules"] = "ERP, CRM" } }))
            .ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fields.modules"], errors.Keys);
    }

    [Fact]
    public async Task Lists_filter_on_a_custom_field_by_value_option_or_range()
    {
        var org = await app.NewOrgAsync();
        await DefineAsync(org, Field("fleet_size", "车队规模", CustomFieldType.Number));
        await DefineAsync(org, Field("modules", "模块", CustomFieldType.MultiSelect, options: ["ERP", "ERP2", "MES"]));
        await DefineAsync(org, Field("renewal", "续约日", CustomFieldType.Date));
        await DefineAsync(org, Field("notes", "备注", CustomFieldType.Text));
        var rep = app.As(org.RepA);
        var tag = Guid.NewGuid().ToString("N")[..6];
        async Task Customer(string name, string fleet, string modules, string renewal, string notes) =>
            Assert.Equal(HttpStatusCode.Created, (await rep.PostJson("/api/customers", new
            {
                name = $"{tag}{name}", fields = new Dictionary<string, string?> { ["fleet_size"] = fleet, ["modules"] = modules, ["renewal"] = renewal, ["notes"] = notes },
            })).StatusCode);
        await Customer("甲", "9", "ERP2", "2026-12-01", "老客户 VIP");
        await Customer("乙", "80", "ERP, MES", "2027-02-01", "");
        await Customer("丙", "1200", "MES", "2027-06-30", "vip 转介绍");

        async Task<string[]> Names(string query) =>
            (await (await rep.GetAsync($"/api/customers?search={tag}&sort=name&{query}")).ReadAsync<Page<CustomerRow>>()).Items.Select(c => c.Name[tag.Length..]).Order().ToArray();
        // 9 < 80 < 1200 as numbers, though "9" > "80" > "1200" as text.
        Assert.Equal(["丙", "乙"], await Names("field=fleet_size&fieldFrom=10"));
        Assert.Equal(["乙", "甲"], await Names("field=车队规模&fieldTo=100"));
        Assert.Equal(["乙"], await Names("field=fleet_size&fieldValue=80"));
        // ERP is an option of its own, not a part of ERP2.
        Assert.Equal(["乙"], await Names("field=modules&fieldValue=erp"));
        Assert.Equal(["丙", "乙"], await Names("field=modules&fieldValue=MES"));
        Assert.Equal(["丙", "乙"], await Names("field=renewal&fieldFrom=2027-01-01"));
        Assert.Equal(["乙", "甲"], await Names("field=renewal&fieldFrom=2026/12/1&fieldTo=2027年2月1日"));
        Assert.Equal(["甲"], await Names("field=notes&fieldValue=VIP"));
        Assert.Equal(["丙", "甲"], await Names("field=notes"));

        var (_, errors) = await (await rep.GetAsync("/api/customers?field=colour&fieldValue=red")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["field"], errors.Keys);
        (_, errors) = await (await rep.GetAsync("/api/customers?field=fleet_size&fieldFrom=lots")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fieldFrom"], errors.Keys);
        (_, errors) = await (await rep.GetAsync("/api/customers?field=notes&fieldFrom=1")).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fieldFrom"], errors.Keys);

        // Leads filter the same way, inside the caller's scope.
        var lead = await app.CaptureAsync(org, ("name", $"{tag}丁"), ("车队规模", "300"));
        var page = await (await app.As(org.Admin).GetAsync($"/api/leads?field=fleet_size&fieldFrom=200&fieldTo=400")).ReadAsync<Page<LeadRow>>();
        Assert.Equal([lead], page.Items.Select(l => l.Id));
    }

    [Fact]
    public async Task Qualifying_carries_the_values_of_fields_customers_have_too()
    {
        var org = await app.NewOrgAsync();
        await DefineAsync(org, Field("fleet_size", "车队规模", CustomFieldType.Number));
        await DefineAsync(org, Field("erp", "现用ERP", CustomFieldType.SingleSelect, options: ["SAP"], appliesTo: CustomFieldTarget.Lead));
        await app.SaveRulesAsync(org, ToRep("全部给 A", org.RepA.Id));
        var lead = await app.CaptureAsync(org, ("name", "冯涛"), ("fleet_size", "40"), ("erp", "sap"));

        var qualified = await (await app.As(org.RepA).PostAsync($"/api/leads/{lead}/qualify", null)).ReadAsync<QualifyResult>();
        var customer = await (await app.As(org.RepA).GetAsync($"/api/customers/{qualified.CustomerId}")).ReadAsync<CustomerRow>();
        Assert.Equal(new Dictionary<string, string> { ["fleet_size"] = "40" }, customer.Fields);
    }

    [Fact]
    public async Task A_rep_edits_a_leads_fields_and_it_is_re_scored_at_once()
    {
        var org = await app.NewOrgAsync();
        await DefineAsync(org, Field("fleet_size", "车队规模", CustomFieldType.Number, required: true));
        var legacy = await DefineAsync(org, Field("legacy_code", "旧编号", CustomFieldType.Text));
        await app.SaveRulesAsync(org, ToRep("全部给 A", org.RepA.Id));
        var lead = await app.CaptureAsync(org, [("name", "韩梅"), ("旧编号", "K-17"), .. Warm]);
        await app.As(org.Admin).DeleteAsync($"/api/custom-fields/{legacy.Id}");
        Assert.Equal("B", (await app.StoredLeadAsync(lead)).Grade);
        var rep = app.As(org.RepA);

        var (_, errors) = await (await rep.PutJson($"/api/leads/{lead}/fields", new Dictionary<string, string> { ["budget"] = "80万" })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["fields.fleet_size"], errors.Keys);

        var view = await (await rep.PutJson($"/api/leads/{lead}/fields", new Dictionary<string, string>
        {
            ["budget"] = "80万", ["urgency"] = "立即", ["authority"] = "影响者", ["车队规模"] = "12",
        })).ReadAsync<LeadView>();
        Assert.Equal((85, "A"), (view.Lead.Score, view.Lead.Grade));
        Assert.Equal("12", view.Qualification!.Fields["fleet_size"]);
        // The archived field's value was not in the form, and it is still there.
        Assert.Equal("K-17", view.Qualification.Fields["legacy_code"]);
        Assert.Contains(view.Timeline, t => t.Kind == "regraded");
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepB).PutJson($"/api/leads/{lead}/fields", new Dictionary<string, string> { ["fleet_size"] = "1" })).StatusCode);
    }

    [Fact]
    public async Task Imports_map_columns_to_custom_fields_and_reject_rows_whose_values_do_not_fit()
    {
        var org = await app.NewOrgAsync();
        var fleet = await DefineAsync(org, Field("fleet_size", "车队规模", CustomFieldType.Number, required: true));
        var client = app.As(org.ManagerA);
        var monday = UniqueMobile();
        // Row 5 is row 2's person again with a value that does not fit: a duplicate touch, not a rejection (it stores no fields).
        // Rows 4 and 6 lack the value, one between rows written and one after the last.
        var csv = $"姓名,手机号码,车队规模\n周一,{monday},25\n周二,{UniqueMobile()},很多\n周三,{UniqueMobile()},\n周一,{monday},很多\n周四,{UniqueMobile()},\n";
        using var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "车队.csv" } };
        var preview = await (await client.PostAsync("/api/imports", form)).ReadAsync<ImportPreview>();
        Assert.Equal("fleet_size", preview.Mapping["车队规模"]);
        Assert.Contains(new ImportTarget("fleet_size", "车队规模", true), preview.Targets);

        var withoutIt = new Dictionary<string, string>(preview.Mapping) { ["车队规模"] = "" };
        var (_, errors) = await (await client.PostJson($"/api/imports/{preview.JobId}/start", new { mapping = withoutIt })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal("'车队规模' (fleet_size) is a required field: map a column to it.", errors["mapping"][0]);

        async Task<ImportJobView> RunAsync(ImportPreview preview)
        {
            var job = await (await client.PostJson($"/api/imports/{preview.JobId}/start", new { mapping = preview.Mapping })).ReadAsync<ImportJobView>();
            for (var i = 0; i < 600 && job.Status == ImportStatus.Running; i++)
            {
                await Task.Delay(100);
                job = await (await client.GetAsync($"/api/imports/{preview.JobId}")).ReadAsync<ImportJobView>();
            }
            return job;
        }
        var job = await RunAsync(preview);
        Assert.Equal((ImportStatus.Completed, 1, 3, 1), (job.Status, job.Created, job.Rejected, job.Duplicates));
        var report = await (await client.GetAsync($"/api/imports/{preview.JobId}/report")).Content.ReadAsStringAsync();
        Assert.Contains("3,rejected,车队规模: '很多' is not a number.", report);
        Assert.Contains("4,rejected,车队规模: a value is required.", report);
        Assert.Contains("6,rejected,车队规模: a value is required.", report);
        var lead = await app.InDbAsync(db => db.Leads.SingleAsync(l => l.OrganizationId == org.Id && l.Name == "周一"));
        Assert.Equal("25", Features.Scoring.LeadScoring.StoredFields(lead.Fields)["fleet_size"]);

        // The same file once the field is no longer required: the rows that lacked it come in, the row whose value still
        // does not fit is rejected again, and the rows the first import wrote are skipped.
        (await app.As(org.Admin).PutJson($"/api/custom-fields/{fleet.Id}", Field("fleet_size", "车队规模", CustomFieldType.Number))).EnsureSuccessStatusCode();
        using var sameFile = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(csv)), "file", "车队.csv" } };
        var again = await RunAsync(await (await client.PostAsync("/api/imports", sameFile)).ReadAsync<ImportPreview>());
        Assert.Equal((ImportStatus.Completed, 2, 1, 2, 0), (again.Status, again.Created, again.Rejected, again.Repeated, again.Duplicates));
        Assert.Equal(["周三", "周四"], await app.InDbAsync(db => db.Leads.Where(l => l.OrganizationId == org.Id && (l.Name == "周三" || l.Name == "周四"))
            .OrderBy(l => l.Name).Select(l => l.Name!).ToListAsync()));
    }
}

public sealed class CustomFieldTests_Sqlite(SqliteApp app) : CustomFieldTests<SqliteApp>(app);
public sealed class CustomFieldTests_Postgres(PostgresApp app) : CustomFieldTests<PostgresApp>(app);
