using System.Net;
using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Tests.Infrastructure;
using static Tideflow.Web.Tests.Infrastructure.Leadflow;

namespace Tideflow.Web.Tests.Leads;

public abstract class QualifyTests<TApp>(TApp app) where TApp : TideflowApp
{
    [Fact]
    public async Task A_qualified_lead_becomes_a_customer_of_its_owner_and_later_arrivals_touch_that_customer()
    {
        var org = await app.NewOrgAsync();
        await app.SaveRulesAsync(org, ToRep("全部给 A", org.RepA.Id));
        var mobile = UniqueMobile();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var lead = await app.CaptureAsync(org, mobile, [("name", "陈静"), ("company", $"宁波{tag}电子有限公司"), .. Hot, ("region", "浙江"), ("industry", "制造业")]);
        var rep = app.As(org.RepA);

        Assert.Equal(HttpStatusCode.NoContent, (await rep.PutJson($"/api/leads/{lead}/bant", new { budget = true, authority = true, need = true, timeline = false, notes = " 下季度采购 " })).StatusCode);
        var bant = (await app.LeadAsync(org, lead)).Qualification!;
        Assert.Equal((true, true, true, false, "下季度采购"), (bant.BantBudget, bant.BantAuthority, bant.BantNeed, bant.BantTimeline, bant.BantNotes));

        var qualified = await (await rep.PostAsync($"/api/leads/{lead}/qualify", null)).ReadAsync<QualifyResult>();
        Assert.Equal((lead, org.RepA.Id), (qualified.LeadId, qualified.OwnerId));
        var customer = await app.InDbAsync(db => db.Customers.SingleAsync(c => c.Id == qualified.CustomerId));
        Assert.Equal(("陈静", $"宁波{tag}电子有限公司", "+86" + mobile, "浙江", "制造业", (Guid?)org.RepA.Id, (Guid?)lead, (int?)100, "A"),
            (customer.Name, customer.Company, customer.Mobile, customer.Region, customer.Industry, customer.OwnerId, customer.LeadId, customer.Score, customer.Grade));
        var view = await app.LeadAsync(org, lead);
        Assert.Equal((LeadStatus.Qualified, (Guid?)qualified.CustomerId), (view.Lead.Status, view.Qualification!.CustomerId));
        // The first-contact task follows the customer.
        Assert.Equal(qualified.CustomerId, Assert.Single(await app.TasksAsync(lead)).CustomerId);
        var history = await app.OwnershipAsync(org, "customers", qualified.CustomerId);
        Assert.Equal([("qualified from lead", null), ("rule '全部给 A' → " + await app.DisplayNameAsync(org.RepA), "全部给 A")], history.Select(h => (h.Reason, h.Rule)));

        Assert.Equal("The lead is Qualified; only open leads can be qualified or disqualified.",
            (await (await rep.PostAsync($"/api/leads/{lead}/qualify", null)).ProblemAsync(HttpStatusCode.Conflict)).Detail);
        Assert.Equal(1, await app.InDbAsync(db => db.Customers.CountAsync(c => c.LeadId == lead)));
        // A reviewer cannot "fix" a customer's lead back to new (it would unlink its contact keys), nor discard it.
        var manager = app.As(org.ManagerA);
        Assert.Equal("The lead is Qualified; only new, invalid or queued leads are corrected here.",
            (await (await manager.PutJson($"/api/leads/{lead}", new { name = "陈静", mobile })).ProblemAsync(HttpStatusCode.Conflict)).Detail);
        Assert.Equal("The lead is Qualified and cannot be discarded.",
            (await (await manager.PostAsync($"/api/leads/{lead}/discard", null)).ProblemAsync(HttpStatusCode.Conflict)).Detail);

        // The same person again, in another format: a touch on the customer, no new lead.
        var again = await app.Anonymous().PostJson($"/capture/{org.Channel.Key}", new { name = "陈静", mobile = $"+86 {mobile[..3]} {mobile[3..7]} {mobile[7..]}" });
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(1, await app.InDbAsync(db => db.Leads.CountAsync(l => l.OrganizationId == org.Id && l.Mobile == "+86" + mobile)));
        Assert.Equal("duplicate", Assert.Single(await app.InDbAsync(db => db.LeadTouches.Where(t => t.CustomerId == qualified.CustomerId).ToListAsync())).Kind);
    }

    [Fact]
    public async Task Disqualifying_needs_a_reason_and_sends_the_lead_to_nurture_without_deleting_it()
    {
        var org = await app.NewOrgAsync();
        await app.SaveRulesAsync(org, ToRep("全部给 A", org.RepA.Id));
        var lead = await app.CaptureAsync(org, Warm);
        var rep = app.As(org.RepA);

        var (_, errors) = await (await rep.PostJson($"/api/leads/{lead}/disqualify", new { reason = "" })).ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["reason"], errors.Keys);
        Assert.Equal(LeadStatus.New, (await app.StoredLeadAsync(lead)).Status);
        Assert.Null(Assert.Single(await app.TasksAsync(lead)).ClosedAt);

        Assert.Equal(HttpStatusCode.NoContent, (await rep.PostJson($"/api/leads/{lead}/disqualify", new { reason = " 预算不足，明年再联系 " })).StatusCode);
        var view = await app.LeadAsync(org, lead);
        Assert.Equal((LeadStatus.Nurture, "预算不足，明年再联系", (Guid?)org.RepA.Id), (view.Lead.Status, view.Qualification!.DisqualifyReason, view.Lead.OwnerId));
        Assert.Equal("disqualified", Assert.Single(await app.TasksAsync(lead)).ClosedReason);
        Assert.Equal("The lead is already in nurture.",
            (await (await rep.PostJson($"/api/leads/{lead}/disqualify", new { reason = "再次" })).ProblemAsync(HttpStatusCode.Conflict)).Detail);

        // A nurtured lead can still be qualified later.
        var qualified = await (await rep.PostAsync($"/api/leads/{lead}/qualify", null)).ReadAsync<QualifyResult>();
        Assert.Equal(org.RepA.Id, qualified.OwnerId);
    }

    [Fact]
    public async Task An_unowned_lead_qualified_by_a_manager_becomes_the_managers_customer()
    {
        var org = await app.NewOrgAsync();
        var qualified = await (await app.As(org.ManagerA).PostAsync($"/api/leads/{org.UnassignedLead}/qualify", null)).ReadAsync<QualifyResult>();
        Assert.Equal(org.ManagerA.Id, qualified.OwnerId);
        Assert.Equal(org.ManagerA.Id, (await app.StoredLeadAsync(org.UnassignedLead)).OwnerId);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As(org.RepA).PostAsync($"/api/leads/{org.RepBLead}/qualify", null)).StatusCode);
    }
}

public sealed class QualifyTests_Sqlite(SqliteApp app) : QualifyTests<SqliteApp>(app);
public sealed class QualifyTests_Postgres(PostgresApp app) : QualifyTests<PostgresApp>(app);
