using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Assignment;
using Tideflow.Domain.Leads;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;

namespace Tideflow.Web.Tests.Infrastructure;

/// <summary>
/// Arranging and reading leads through the real API for the scoring, routing and qualification tests:
/// captures on the organisation's web-form channel, routing rules, a lead's page, its ownership history.
/// </summary>
public static class Leadflow
{
    /// <summary>Budget 40/40, urgency 30/30, authority 30/30 on the default card: 100, grade A.</summary>
    public static readonly (string, string)[] Hot = [("budget", "80万"), ("urgency", "立即"), ("authority", "决策人")];

    /// <summary>Budget 24/40, urgency 24/30, authority 15/30 on the default card: 63, grade B (8 points short of A).</summary>
    public static readonly (string, string)[] Warm = [("budget", "20万"), ("urgency", "本月"), ("authority", "影响者")];

    private static int nextMobile = Random.Shared.Next(0, 50_000_000);

    /// <summary>A valid mainland mobile, different on every call (contact keys are unique per organisation).</summary>
    public static string UniqueMobile() => $"137{Interlocked.Increment(ref nextMobile):D8}";

    public static FieldCondition When(string field, FieldOperator op, string? value) => new(field, op, value);

    public static AssignmentRuleDto ToTeam(string name, Guid teamId, params FieldCondition[] conditions) =>
        new(name, [.. conditions], AssignTo.Team, null, teamId);

    public static AssignmentRuleDto ToRep(string name, Guid repId, params FieldCondition[] conditions) =>
        new(name, [.. conditions], AssignTo.Rep, repId, null);

    public static AssignmentRuleDto ToPool(string name, params FieldCondition[] conditions) =>
        new(name, [.. conditions], AssignTo.Pool, null, null);

    public static async Task SaveRulesAsync(this TideflowApp app, TestOrg org, params AssignmentRuleDto[] rules)
    {
        var saved = await (await app.As(org.Admin).PutJson("/api/assignment/rules", rules)).ReadAsync<RoutingRulesView>();
        Assert.Equal(rules.Select(r => r.Name), saved.Rules.Select(r => r.Name));
    }

    /// <summary>Submits a JSON form (<c>fields[]</c>) with a fresh mobile to the org's channel; returns the new lead's id.</summary>
    public static Task<Guid> CaptureAsync(this TideflowApp app, TestOrg org, params (string Name, string Value)[] fields) =>
        app.CaptureAsync(org, UniqueMobile(), fields);

    public static async Task<Guid> CaptureAsync(this TideflowApp app, TestOrg org, string mobile, params (string Name, string Value)[] fields)
    {
        var body = new
        {
            fields = fields.Append(("mobile", mobile)).Select(f => new { name = f.Item1, value = f.Item2 }).ToArray(),
        };
        using var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        var response = await app.Anonymous().PostAsync($"/capture/{org.Channel.Key}", content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await app.InDbAsync(db => db.Leads.Where(l => l.OrganizationId == org.Id && l.Mobile == "+86" + mobile).Select(l => l.Id).SingleAsync());
    }

    public static async Task<LeadView> LeadAsync(this TideflowApp app, TestOrg org, Guid leadId) =>
        await (await app.As(org.Admin).GetAsync($"/api/leads/{leadId}")).ReadAsync<LeadView>();

    public static async Task<List<OwnershipRow>> OwnershipAsync(this TideflowApp app, TestOrg org, string kind, Guid id) =>
        await (await app.As(org.Admin).GetAsync($"/api/{kind}/{id}/ownership")).ReadAsync<List<OwnershipRow>>();

    public static async Task<Inbox> InboxAsync(this TideflowApp app, Persona persona) =>
        await (await app.As(persona).GetAsync("/api/notifications")).ReadAsync<Inbox>();

    public static Task<string> DisplayNameAsync(this TideflowApp app, Persona persona) =>
        app.InDbAsync(db => db.Users.Where(u => u.Id == persona.Id).Select(u => u.DisplayName).SingleAsync());

    public static Task<List<FollowUpTask>> TasksAsync(this TideflowApp app, Guid leadId) =>
        app.InDbAsync(db => db.FollowUpTasks.Where(t => t.LeadId == leadId).OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).ToListAsync());

    public static Task<Lead> StoredLeadAsync(this TideflowApp app, Guid leadId) =>
        app.InDbAsync(db => db.Leads.SingleAsync(l => l.Id == leadId));

    /// <summary>What scoring and routing stamped on the stored lead.</summary>
    public static async Task<(int? Score, string? Grade, int? Version, Guid? Owner)> PlacedAsync(this TideflowApp app, Guid leadId)
    {
        var lead = await app.StoredLeadAsync(leadId);
        return (lead.Score, lead.Grade, lead.ScoreVersion, lead.OwnerId);
    }

    /// <summary>Asserts the status and returns the problem details' <c>detail</c> and <c>errors</c> (empty when absent).</summary>
    public static async Task<(string Detail, Dictionary<string, string[]> Errors)> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var json = JsonDocument.Parse(body).RootElement;
        var detail = json.TryGetProperty("detail", out var d) ? d.GetString() ?? "" : "";
        var errors = json.TryGetProperty("errors", out var e) ? e.Deserialize<Dictionary<string, string[]>>(Http.Json)! : [];
        return (detail, errors);
    }
}
