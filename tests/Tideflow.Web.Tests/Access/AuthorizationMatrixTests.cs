using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Access;

/// <summary>
/// Every API endpoint × every persona: expected status and body. The case list is checked against the
/// app's own endpoint list, so a new endpoint without an entry here fails the build of trust.
/// </summary>
public abstract class AuthorizationMatrixTests<TApp>(TApp app) where TApp : TideflowApp
{
    private sealed record Expect(HttpStatusCode Status, Func<TestOrg, Persona, JsonElement, string?>? Body = null);

    private sealed record Case(string Method, string Route, Func<TestOrg, string> Url, Func<TestOrg, object?> Body,
        Func<TestOrg, Persona, Expect> Expected);

    private static bool SignedIn(Persona p) => p.Name is not ("anonymous" or "deactivated");

    private static Expect Unauthorized => new(HttpStatusCode.Unauthorized, NoData);

    private static Expect ForSignedIn(Persona p, Expect ok) => SignedIn(p) ? ok : Unauthorized;

    private static Expect AdminOnly(Persona p, Expect ok) =>
        !SignedIn(p) ? Unauthorized : p.Name == "admin" ? ok : new Expect(HttpStatusCode.Forbidden, Reason);

    private static Expect CustomerOfRepA(TestOrg org, Persona p, Expect ok, bool write) =>
        !SignedIn(p) ? Unauthorized
        : write && p.Name == "finance" ? new Expect(HttpStatusCode.Forbidden, Reason)
        : org.VisibleOwners(p).Contains(org.RepA.Id) ? ok
        : new Expect(HttpStatusCode.NotFound, (o, _, body) => NotLeaking(body, o.CustomerNames[o.CustomersOf[o.RepA.Id][0]]));

    private static Expect LeadOfRepA(TestOrg org, Persona p, Expect ok, bool review) =>
        !SignedIn(p) ? Unauthorized
        : review && p.Name is not ("admin" or "managerA" or "managerB") ? new Expect(HttpStatusCode.Forbidden, Reason)
        : org.VisibleLeads(p).Contains(org.RepALead) ? ok
        : new Expect(HttpStatusCode.NotFound, (o, _, body) => NotLeaking(body, "repA lead"));

    // Working a lead (events, BANT, qualify) needs WorkCustomers: finance may read leads but not work them.
    private static Expect WorkLeadOfRepA(TestOrg org, Persona p, Expect ok) =>
        SignedIn(p) && p.Name == "finance" ? new Expect(HttpStatusCode.Forbidden, Reason) : LeadOfRepA(org, p, ok, review: false);

    private static Expect Reviewers(Persona p, Expect ok) =>
        !SignedIn(p) ? Unauthorized : p.Name is "admin" or "managerA" or "managerB" ? ok : new Expect(HttpStatusCode.Forbidden, Reason);

    private static Expect ImportOfManagerA(Persona p, Expect ok) =>
        Reviewers(p, p.Name == "managerB" ? new(HttpStatusCode.NotFound) : ok);

    private static MultipartFormDataContent CsvUpload()
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes($"姓名,手机\n上传,139{Random.Shared.Next(10_000_000, 99_999_999)}\n")), "file", "upload.csv");
        return form;
    }

    private static MultipartFormDataContent PdfUpload()
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Uploads.Pdf()), "file", "合同.pdf");
        form.Add(new StringContent("follow-up"), "purpose");
        return form;
    }

    private static string? NoData(TestOrg org, Persona p, JsonElement body) =>
        body.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined || !body.TryGetProperty("items", out _) ? null : "401 carried data";

    private static string? Reason(TestOrg org, Persona p, JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("detail", out var d) && d.GetString()?.Length > 0
            ? null : "403 without a reason";

    private static string? NotLeaking(JsonElement body, string secret) =>
        body.ToString().Contains(secret, StringComparison.Ordinal) ? $"404 body leaks '{secret}'" : null;

    private static string? Check(bool ok, string what) => ok ? null : what;

    private static readonly Case[] Cases =
    [
        new("GET", "/api/me", _ => "/api/me", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, pp, b) => Check(b.GetProperty("userName").GetString() == pp.UserName, "not me")))),
        new("PUT", "/api/me/preferences", _ => "/api/me/preferences", _ => new { culture = "en", timeZone = "Asia/Shanghai" },
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("culture").GetString() == "en", "culture not saved")))),
        new("GET", "/api/me/two-factor", _ => "/api/me/two-factor", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("sharedKey").GetString()?.Length > 10, "no key")))),
        new("POST", "/api/me/two-factor/enable", _ => "/api/me/two-factor/enable", _ => new { code = "000000" },
            (o, p) => ForSignedIn(p, new(HttpStatusCode.BadRequest))),
        new("POST", "/api/me/two-factor/disable", _ => "/api/me/two-factor/disable", _ => new { code = "000000" },
            (o, p) => ForSignedIn(p, new(p.Name is "admin" or "managerA" or "managerB" ? HttpStatusCode.BadRequest : HttpStatusCode.NoContent))),

        new("GET", "/api/users", _ => "/api/users", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetArrayLength() == 7, "not the org's 7 users")))),
        new("GET", "/api/users/{id:guid}", o => $"/api/users/{o.RepA.Id}", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("id").GetGuid() == org.RepA.Id, "wrong user")))),
        new("POST", "/api/users", _ => "/api/users", o => new { userName = $"new.{Guid.NewGuid():N}", displayName = "新人", password = "Passw0rd-new", role = "Rep", teamId = o.TeamA },
            (o, p) => AdminOnly(p, new(HttpStatusCode.Created))),
        new("PUT", "/api/users/{id:guid}", o => $"/api/users/{o.RepA.Id}", o => new { displayName = "改名", teamId = o.TeamA1 },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("displayName").GetString() == "改名", "not renamed")))),
        new("PUT", "/api/users/{id:guid}/role", o => $"/api/users/{o.RepA.Id}/role", o => new { role = "Manager", totpCode = o.AdminTotpCode() },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("role").GetString() == "Manager", "role unchanged")))),
        new("POST", "/api/users/{id:guid}/deactivate", o => $"/api/users/{o.RepA.Id}/deactivate", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(!b.GetProperty("isActive").GetBoolean(), "still active")))),
        new("POST", "/api/users/{id:guid}/activate", o => $"/api/users/{o.DeactivatedRep.Id}/activate", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("isActive").GetBoolean(), "still inactive")))),

        new("GET", "/api/teams", _ => "/api/teams", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 4, "not the org's 4 teams")))),
        new("POST", "/api/teams", _ => "/api/teams", o => new { name = "新团队", parentTeamId = o.RootTeam },
            (o, p) => AdminOnly(p, new(HttpStatusCode.Created))),
        new("PUT", "/api/teams/{id:guid}", o => $"/api/teams/{o.TeamB}", o => new { name = "Team B2", parentTeamId = o.RootTeam },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("name").GetString() == "Team B2", "not renamed")))),

        new("GET", "/api/tokens", _ => "/api/tokens", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 1, "sees tokens that are not theirs")))),
        new("POST", "/api/tokens", _ => "/api/tokens", _ => new { name = "ci", expiresInDays = 30 },
            (o, p) => ForSignedIn(p, new(HttpStatusCode.Created, (_, _, b) => Check(b.GetProperty("secret").GetString()!.StartsWith("tf_", StringComparison.Ordinal), "no secret")))),
        new("DELETE", "/api/tokens/{id:guid}", o => $"/api/tokens/{o.RepATokenId}", _ => null,
            (o, p) => ForSignedIn(p, p.Name == "repA" ? new(HttpStatusCode.NoContent) : new(HttpStatusCode.NotFound))),

        new("GET", "/api/audit", _ => "/api/audit", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("total").GetInt32() > 0, "empty audit log")))),

        new("GET", "/api/customers", _ => "/api/customers?pageSize=200", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (org, pp, b) =>
            {
                var owners = b.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("ownerId").GetGuid()).ToList();
                var visible = org.VisibleOwners(pp);
                var expected = visible.Sum(v => org.CustomersOf[v].Length);
                return Check(owners.All(visible.Contains) && owners.Count == expected, $"saw {owners.Count} customers, expected {expected} in scope");
            }))),
        new("GET", "/api/customers/{id:guid}", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("id").GetGuid() == org.CustomersOf[org.RepA.Id][0], "wrong customer")), write: false)),
        new("POST", "/api/customers", _ => "/api/customers", _ => new { name = "新客户", mobile = "13800138000" },
            (o, p) => !SignedIn(p) ? Unauthorized : p.Name == "finance" ? new(HttpStatusCode.Forbidden, Reason)
                : new(HttpStatusCode.Created, (_, pp, b) => Check(b.GetProperty("ownerId").GetGuid() == pp.Id, "owner is not the creator"))),
        new("PUT", "/api/customers/{id:guid}", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}", _ => new { name = "改过的客户" },
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("name").GetString() == "改过的客户", "not saved")), write: true)),

        new("GET", "/api/leads", _ => "/api/leads?pageSize=200", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (org, pp, b) =>
            {
                var ids = b.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("id").GetGuid()).ToHashSet();
                return Check(ids.SetEquals(org.VisibleLeads(pp)), $"saw {ids.Count} leads, expected {org.VisibleLeads(pp).Count}");
            }))),
        new("GET", "/api/leads/{id:guid}", o => $"/api/leads/{o.RepALead}", _ => null,
            (o, p) => LeadOfRepA(o, p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("lead").GetProperty("id").GetGuid() == org.RepALead, "wrong lead")), review: false)),
        new("POST", "/api/leads", _ => "/api/leads", _ => new { name = "手动线索", mobile = $"139{Random.Shared.Next(10_000_000, 99_999_999)}" },
            (o, p) => !SignedIn(p) ? Unauthorized : p.Name == "finance" ? new(HttpStatusCode.Forbidden, Reason)
                : new(HttpStatusCode.Created, (_, pp, b) => Check(b.GetProperty("lead").GetProperty("ownerId").GetGuid() == pp.Id, "owner is not the author"))),
        new("PUT", "/api/leads/{id:guid}", o => $"/api/leads/{o.RepALead}", _ => new { name = "改正", email = $"fix{Guid.NewGuid():N}@example.cn" },
            (o, p) => LeadOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("lead").GetProperty("name").GetString() == "改正", "not saved")), review: true)),
        new("POST", "/api/leads/{id:guid}/discard", o => $"/api/leads/{o.RepALead}/discard", _ => null,
            (o, p) => LeadOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("lead").GetProperty("status").GetString() == "Discarded", "not discarded")), review: true)),

        new("GET", "/api/channels", _ => "/api/channels", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetArrayLength() == 1 && b[0].GetProperty("key").GetString() == org.Channel.Key, "not the org's channel")))),
        new("POST", "/api/channels", _ => "/api/channels", _ => new { name = "展会 2026", kind = "TradeShow", sourceTag = "展会" },
            (o, p) => AdminOnly(p, new(HttpStatusCode.Created))),
        new("PUT", "/api/channels/{id:guid}", o => $"/api/channels/{o.Channel.Id}", _ => new { name = "官网表单二", kind = "WebForm", sourceTag = "官网", dailyCap = 100 },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("dailyCap").GetInt32() == 100, "not saved")))),
        new("GET", "/api/blocklist", _ => "/api/blocklist", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 1, "not the org's blocklist")))),
        new("POST", "/api/blocklist", _ => "/api/blocklist", _ => new { value = "138 0013 8000" },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.EnumerateArray().Any(v => v.GetString() == "+8613800138000"), "not normalized")))),
        new("DELETE", "/api/blocklist/{value}", _ => "/api/blocklist/mailinator.com", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 0, "not removed")))),

        new("GET", "/api/imports", _ => "/api/imports", _ => null,
            (o, p) => Reviewers(p, new(HttpStatusCode.OK, (org, pp, b) =>
            {
                var sees = b.EnumerateArray().Any(j => j.GetProperty("id").GetGuid() == org.ImportJob);
                return Check(sees == (pp.Name is "admin" or "managerA"), sees ? "sees another team's upload" : "misses its own upload");
            }))),
        new("POST", "/api/imports", _ => "/api/imports", _ => CsvUpload(),
            (o, p) => Reviewers(p, new(HttpStatusCode.Created, (_, _, b) => Check(b.GetProperty("mapping").GetProperty("手机").GetString() == "mobile", "mapping not guessed")))),
        new("GET", "/api/imports/{id:guid}", o => $"/api/imports/{o.ImportJob}", _ => null,
            (o, p) => ImportOfManagerA(p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("id").GetGuid() == org.ImportJob, "wrong job")))),
        new("POST", "/api/imports/{id:guid}/start", o => $"/api/imports/{o.ImportJob}/start", _ => new { mapping = new Dictionary<string, string> { ["name"] = "name", ["mobile"] = "mobile" }, dryRun = true },
            (o, p) => ImportOfManagerA(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("status").GetString() == "Running", "not started")))),
        new("GET", "/api/imports/{id:guid}/report", o => $"/api/imports/{o.ImportJob}/report", _ => null,
            (o, p) => ImportOfManagerA(p, new(HttpStatusCode.Conflict, Reason))),

        new("GET", "/api/tag-rules", _ => "/api/tag-rules", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 1, "not the org's rule")))),
        new("POST", "/api/tag-rules", _ => "/api/tag-rules", _ => new { name = "展会", tag = "展会客户", conditions = new[] { new { field = "channelKind", @operator = "Equals", value = "TradeShow" } } },
            (o, p) => AdminOnly(p, new(HttpStatusCode.Created))),
        new("PUT", "/api/tag-rules/{id:guid}", o => $"/api/tag-rules/{o.TagRule}", _ => new { name = "高潜力", tag = "高潜力", conditions = new[] { new { field = "budget", @operator = "GreaterOrEqual", value = "600000" } } },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("conditions")[0].GetProperty("value").GetString() == "600000", "not saved")))),
        new("DELETE", "/api/tag-rules/{id:guid}", o => $"/api/tag-rules/{o.TagRule}", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.NoContent))),

        new("GET", "/api/custom-fields", _ => "/api/custom-fields", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 1 && b[0].GetProperty("key").GetString() == "segment", "not the org's field")))),
        new("POST", "/api/custom-fields", _ => "/api/custom-fields", _ => new { key = "fleet_size", label = "车队规模", type = "Number", required = false, appliesTo = "Both" },
            (o, p) => AdminOnly(p, new(HttpStatusCode.Created))),
        new("PUT", "/api/custom-fields/{id:guid}", o => $"/api/custom-fields/{o.CustomField}", _ => new { key = "segment", label = "分层", type = "Text", required = true, appliesTo = "Both" },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("label").GetString() == "分层", "not saved")))),
        new("DELETE", "/api/custom-fields/{id:guid}", o => $"/api/custom-fields/{o.CustomField}", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("isArchived").GetBoolean(), "not archived")))),
        new("PUT", "/api/leads/{id:guid}/fields", o => $"/api/leads/{o.RepALead}/fields", _ => new { budget = "50万", segment = "KA" },
            (o, p) => WorkLeadOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("qualification").GetProperty("fields").GetProperty("segment").GetString() == "KA", "not saved")))),

        new("GET", "/api/leads/suspected-duplicates", _ => "/api/leads/suspected-duplicates", _ => null,
            (o, p) => Reviewers(p, new(HttpStatusCode.OK))),
        new("POST", "/api/leads/{id:guid}/merge", o => $"/api/leads/{o.RepALead}/merge", o => new { intoId = o.UnassignedLead, totpCode = o.AdminTotpCode() },
            (o, p) => LeadOfRepA(o, p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("survivorId").GetGuid() == org.UnassignedLead, "wrong survivor")), review: true)),
        new("GET", "/api/leads/{id:guid}/merges", o => $"/api/leads/{o.RepALead}/merges", _ => null,
            (o, p) => LeadOfRepA(o, p, new(HttpStatusCode.OK), review: false)),
        new("POST", "/api/merges/{id:guid}/undo", _ => $"/api/merges/{Guid.NewGuid()}/undo", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.NotFound, Reason))),

        new("GET", "/api/scoring/card", _ => "/api/scoring/card", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("version").GetInt32() == 1, "not the default version")))),
        new("PUT", "/api/scoring/card", _ => "/api/scoring/card", _ => Tideflow.Domain.Scoring.ScoreCard.Default,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("version").GetInt32() == 2, "no new version")))),
        new("GET", "/api/scoring/versions", _ => "/api/scoring/versions", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 0, "versions of another organisation")))),
        new("POST", "/api/scoring/simulate", _ => "/api/scoring/simulate", _ => new { sample = 50 },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("leads").GetArrayLength() == 3, "not the org's 3 leads")))),
        new("POST", "/api/scoring/rescore", _ => "/api/scoring/rescore", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.Accepted, (_, _, b) => Check(b.GetProperty("total").GetInt32() == 3, "not the org's 3 open leads")))),
        new("GET", "/api/scoring/rescore/{id:guid}", _ => $"/api/scoring/rescore/{Guid.NewGuid()}", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.NotFound, Reason))),
        new("POST", "/api/events", _ => "/api/events", o => new { leadId = o.RepALead, type = "content_downloaded" },
            (o, p) => WorkLeadOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("points").GetInt32() == 5, "points not from the card")))),

        new("GET", "/api/assignment/rules", _ => "/api/assignment/rules", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("teams").GetArrayLength() == 4, "not the org's teams")))),
        new("PUT", "/api/assignment/rules", _ => "/api/assignment/rules", o => new[] { new { name = "A 组", conditions = Array.Empty<object>(), target = "Team", teamId = o.TeamA } },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("rules").GetArrayLength() == 1, "not saved")))),
        new("GET", "/api/assignment/reps", _ => "/api/assignment/reps", _ => null,
            (o, p) => Reviewers(p, new(HttpStatusCode.OK, (org, pp, b) =>
                Check(b.GetArrayLength() == pp.Name switch { "admin" => 5, "managerA" => 3, _ => 2 }, "reps outside the caller's scope")))),
        new("PUT", "/api/assignment/reps/{id:guid}/capacity", o => $"/api/assignment/reps/{o.RepA.Id}/capacity", _ => new { capacity = 30 },
            (o, p) => Reviewers(p, p.Name == "managerB" ? new(HttpStatusCode.NotFound)
                : new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("capacity").GetInt32() == 30, "not saved")))),
        new("POST", "/api/assignment/reps/{id:guid}/absences", o => $"/api/assignment/reps/{o.RepA.Id}/absences",
            _ => new { from = "2099-01-01T00:00:00Z", until = "2099-01-05T00:00:00Z", reason = "年假" },
            (o, p) => p.Name == "repA" ? new(HttpStatusCode.Created) : Reviewers(p, p.Name == "managerB" ? new(HttpStatusCode.NotFound) : new(HttpStatusCode.Created))),
        new("DELETE", "/api/assignment/reps/{id:guid}/absences/{absenceId:guid}", o => $"/api/assignment/reps/{o.RepA.Id}/absences/{Guid.NewGuid()}", _ => null,
            (o, p) => p.Name == "repA" ? new(HttpStatusCode.NotFound) : Reviewers(p, new(HttpStatusCode.NotFound))),
        new("POST", "/api/leads/assign", _ => "/api/leads/assign", o => new { ids = new[] { o.RepALead }, ownerId = o.ManagerA.Id, reason = "客户要求更换" },
            (o, p) => Reviewers(p, p.Name == "managerB" ? new(HttpStatusCode.BadRequest)
                : new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("assigned").GetInt32() == 1, "not assigned")))),
        new("POST", "/api/customers/assign", _ => "/api/customers/assign", o => new { ids = new[] { o.CustomersOf[o.RepA.Id][0] }, ownerId = o.ManagerA.Id, reason = "客户要求更换" },
            (o, p) => Reviewers(p, p.Name == "managerB" ? new(HttpStatusCode.BadRequest)
                : new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("assigned").GetInt32() == 1, "not assigned")))),
        new("GET", "/api/leads/{id:guid}/ownership", o => $"/api/leads/{o.RepALead}/ownership", _ => null,
            (o, p) => LeadOfRepA(o, p, new(HttpStatusCode.OK), review: false)),
        new("GET", "/api/customers/{id:guid}/ownership", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/ownership", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK), write: false)),

        new("PUT", "/api/leads/{id:guid}/bant", o => $"/api/leads/{o.RepALead}/bant", _ => new { budget = true, authority = true, need = false, timeline = false },
            (o, p) => WorkLeadOfRepA(o, p, new(HttpStatusCode.NoContent))),
        new("POST", "/api/leads/{id:guid}/qualify", o => $"/api/leads/{o.RepALead}/qualify", _ => null,
            (o, p) => WorkLeadOfRepA(o, p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("ownerId").GetGuid() == org.RepA.Id, "owner changed on qualify")))),
        new("POST", "/api/leads/{id:guid}/disqualify", o => $"/api/leads/{o.RepALead}/disqualify", _ => new { reason = "预算不足" },
            (o, p) => WorkLeadOfRepA(o, p, new(HttpStatusCode.NoContent))),

        new("GET", "/api/customers/{id:guid}/follow-ups", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/follow-ups", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 0, "records of another customer")), write: false)),
        new("POST", "/api/customers/{id:guid}/follow-ups", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/follow-ups",
            _ => new { channel = "WeChat", content = "微信沟通需求", nextPlan = "发方案", nextContactAt = TimeProvider.System.GetUtcNow().AddDays(200) },
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.Created, (_, pp, b) => Check(b.GetProperty("authorId").GetGuid() == pp.Id, "author is not the caller")), write: true)),

        new("GET", "/api/customers/{id:guid}/attachments", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][1]}/attachments", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetArrayLength() == 1 && b[0].GetProperty("id").GetGuid() == org.RepAAttachment, "not the customer's one file")), write: false)),
        new("POST", "/api/customers/{id:guid}/attachments", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/attachments", _ => PdfUpload(),
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.Created, (_, pp, b) => Check(b.GetProperty("contentType").GetString() == "application/pdf"
                && b.GetProperty("uploadedById").GetGuid() == pp.Id, "not stored as the caller's PDF")), write: true)),
        new("GET", "/api/attachments/{id:guid}", o => $"/api/attachments/{o.RepAAttachment}", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("minutes").GetString() == "客户确认 50 套", "not the file's content")), write: false)),

        new("POST", "/api/customers/{id:guid}/stage", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/stage", _ => new { to = "contacted" },
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("to").GetString() == "contacted", "not moved")), write: true)),
        new("GET", "/api/customers/{id:guid}/stage-history", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/stage-history", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 0, "moves of another customer")), write: false)),
        new("GET", "/api/pipeline/board", _ => "/api/pipeline/board", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (org, pp, b) =>
            {
                var visible = org.VisibleOwners(pp).Sum(v => org.CustomersOf[v].Length);
                var counted = b.EnumerateArray().Sum(c => c.GetProperty("count").GetInt32());
                return Check(counted == visible, $"counted {counted} customers, expected {visible} in scope");
            }))),

        new("GET", "/api/feedback-rules", _ => "/api/feedback-rules", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 3, "not the 3 default rules")))),
        new("PUT", "/api/feedback-rules", _ => "/api/feedback-rules", _ => new[] { new { tag = "交付顾虑", keywords = new[] { "交付周期" } } },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 1, "not saved")))),

        new("GET", "/api/follow-up-plans", _ => "/api/follow-up-plans", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 3, "not the 3 default plans")))),
        new("PUT", "/api/follow-up-plans", _ => "/api/follow-up-plans", _ => new[] { new { grade = "A", steps = new[] { new { title = "电话联系", dueInHours = 24 } } } },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 1, "not saved")))),

        new("GET", "/api/pipeline", _ => "/api/pipeline", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("stages").GetArrayLength() == 7, "not the 7 default stages")))),
        new("PUT", "/api/pipeline", _ => "/api/pipeline", _ => new { stages = Tideflow.Domain.Pipeline.SalesPipeline.Default.Stages.Select(s => s with { Name = s.Name + "阶段" }) },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("stages")[1].GetProperty("name").GetString() == "已联系阶段", "not saved")))),

        new("GET", "/api/tasks", _ => "/api/tasks", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, pp, b) => Check(b.GetArrayLength() == (pp.Name == "repA" ? 1 : 0), "sees tasks that are not theirs")))),
        new("POST", "/api/tasks/{id:guid}/not-done", o => $"/api/tasks/{o.RepATask}/not-done", _ => new { reason = "客户出差" },
            (o, p) => !SignedIn(p) ? Unauthorized
                : !o.VisibleOwners(p).Contains(o.RepA.Id) ? new(HttpStatusCode.NotFound)
                : p.Name == "repA" ? new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("notDoneReason").GetString() == "客户出差", "reason not saved"))
                : new Expect(HttpStatusCode.Forbidden, Reason)),

        new("GET", "/api/workbench", _ => "/api/workbench", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (org, pp, b) =>
            {
                // The organisation's customers were all just handed to their owners: each caller's new assignments are
                // exactly the customers in their scope, and nothing is owed or stalled yet.
                var lists = b.GetProperty("lists").EnumerateArray().ToDictionary(l => l.GetProperty("view").GetString()!, l => l.GetProperty("count").GetInt32());
                var visible = org.VisibleOwners(pp).Sum(v => org.CustomersOf[v].Length);
                var unread = b.GetProperty("unreadNotifications").GetInt32();
                var dueSoon = b.GetProperty("dueSoon").ValueKind;
                return Check(lists["new-assignments"] == visible && lists["overdue"] + lists["today"] + lists["stalled"] == 0
                    && unread == (pp.Name == "repA" ? 1 : 0) && (dueSoon == JsonValueKind.Null) == (pp.Name == "finance"),
                    $"new assignments {lists["new-assignments"]}, expected {visible} in scope; unread {unread}; due soon {dueSoon}");
            }))),

        new("GET", "/api/pools", _ => "/api/pools", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetArrayLength() == 1 && b[0].GetProperty("id").GetGuid() == org.DefaultPool, "not the default pool")))),
        new("POST", "/api/pools", _ => "/api/pools", o => new { name = "华南公海", teamIds = new[] { o.TeamB } },
            (o, p) => AdminOnly(p, new(HttpStatusCode.Created, (org, _, b) => Check(b.GetProperty("teamIds")[0].GetGuid() == org.TeamB, "teams not saved")))),
        new("PUT", "/api/pools/{id:guid}", o => $"/api/pools/{o.DefaultPool}", _ => new { name = "总公海" },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("name").GetString() == "总公海", "not renamed")))),
        new("POST", "/api/pools/{id:guid}/preview", o => $"/api/pools/{o.DefaultPool}/preview", _ => new { rules = new[] { new { when = "NoFollowUp", amount = 7 } }, releaseReasons = new[] { "其他" } },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("total").GetInt32() == 0, "new customers are not due")))),
        new("GET", "/api/pools/{id:guid}/customers", o => $"/api/pools/{o.DefaultPool}/customers", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("total").GetInt32() == 0, "owned customers listed in the pool")))),
        new("GET", "/api/pools/my-claims", _ => "/api/pools/my-claims", _ => null,
            (o, p) => !SignedIn(p) ? Unauthorized : p.Name == "finance" ? new Expect(HttpStatusCode.Forbidden, Reason)
                : new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("claimedToday").GetInt32() == 0 && b.GetProperty("dailyLimit").GetInt32() == 3, "wrong claim status"))),
        new("GET", "/api/pools/due-soon", _ => "/api/pools/due-soon", _ => null,
            (o, p) => !SignedIn(p) ? Unauthorized : p.Name == "finance" ? new Expect(HttpStatusCode.Forbidden, Reason)
                : new(HttpStatusCode.OK, (_, _, b) => Check(b.GetArrayLength() == 0, "new customers are not due soon"))),
        new("GET", "/api/pools/flow", _ => "/api/pools/flow", _ => null,
            (o, p) => Reviewers(p, new(HttpStatusCode.OK, (org, pp, b) =>
            {
                var reps = b.GetProperty("reps").EnumerateArray().Select(r => r.GetProperty("userId").GetGuid()).ToHashSet();
                // Active reps in the caller's scope: repA and repB for the admin, each manager's own rep.
                var expected = new[] { org.RepA.Id, org.RepB.Id }.Where(org.VisibleOwners(pp).Contains).ToHashSet();
                return Check(reps.SetEquals(expected) && b.GetProperty("pools").GetArrayLength() == 1
                    && b.GetProperty("pools")[0].GetProperty("poolId").GetGuid() == org.DefaultPool, $"saw reps {reps.Count}, expected {expected.Count}, and the default pool");
            }))),
        new("POST", "/api/customers/{id:guid}/claim", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/claim", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.Conflict), write: true)),
        new("POST", "/api/customers/{id:guid}/release", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/release", _ => new { reason = "多次联系不上" },
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.NoContent), write: true)),
        new("GET", "/api/customers/{id:guid}/pool-outlook", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/pool-outlook", _ => null,
            (o, p) => CustomerOfRepA(o, p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("poolId").GetGuid() == org.DefaultPool && b.GetProperty("status").GetString() == "Safe", "wrong outlook")), write: false)),
        new("POST", "/api/customers/{id:guid}/protect", o => $"/api/customers/{o.CustomersOf[o.RepA.Id][0]}/protect", _ => new { days = 10, reason = "年底签约" },
            (o, p) => !SignedIn(p) ? Unauthorized : p.Name is not ("admin" or "managerA" or "managerB") ? new Expect(HttpStatusCode.Forbidden, Reason)
                : p.Name == "managerB" ? new(HttpStatusCode.NotFound) : new(HttpStatusCode.OK)),
        // The lead pool (线索池): repA's lead is owned, so a claim is refused (409) by those who see it and 404 for the rest.
        new("POST", "/api/leads/{id:guid}/claim", o => $"/api/leads/{o.RepALead}/claim", _ => null,
            (o, p) => WorkLeadOfRepA(o, p, new(HttpStatusCode.Conflict))),
        new("POST", "/api/leads/{id:guid}/release", o => $"/api/leads/{o.RepALead}/release", _ => new { reason = "多次联系不上" },
            (o, p) => WorkLeadOfRepA(o, p, new(HttpStatusCode.NoContent))),
        new("GET", "/api/leads/{id:guid}/pool-outlook", o => $"/api/leads/{o.RepALead}/pool-outlook", _ => null,
            (o, p) => LeadOfRepA(o, p, new(HttpStatusCode.OK, (org, _, b) => Check(b.GetProperty("poolId").GetGuid() == org.DefaultPool, "wrong pool")), review: false)),
        // Every persona of the test organisation is a member of the default pool; its one unassigned lead predates pools.
        new("GET", "/api/pools/{id:guid}/leads", o => $"/api/pools/{o.DefaultPool}/leads", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("items").GetArrayLength() == 0, "leads that are not in the pool")))),
        new("GET", "/api/jobs", _ => "/api/jobs", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.EnumerateArray().Any(j => j.GetProperty("name").GetString() == "pool-sweep"), "no sweep job")))),
        new("POST", "/api/jobs/{name}/run", _ => "/api/jobs/pool-sweep/run", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("lastResult").GetString()?.StartsWith("reclaimed", StringComparison.Ordinal) == true, "did not run")))),

        new("GET", "/api/notifications", _ => "/api/notifications", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, pp, b) => Check(b.GetProperty("unread").GetInt32() == (pp.Name == "repA" ? 1 : 0), "sees notifications that are not theirs")))),
        new("POST", "/api/notifications/{id:guid}/read", o => $"/api/notifications/{o.RepANotification}/read", _ => null,
            (o, p) => ForSignedIn(p, p.Name == "repA" ? new(HttpStatusCode.OK) : new(HttpStatusCode.NotFound))),
        new("POST", "/api/notifications/read-all", _ => "/api/notifications/read-all", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("unread").GetInt32() == 0, "still unread")))),

        new("GET", "/api/me/reminders", _ => "/api/me/reminders", _ => null,
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(!b.GetProperty("dingTalk").GetBoolean(), "channels on by default")))),
        new("PUT", "/api/me/reminders", _ => "/api/me/reminders", _ => new { email = false, dingTalk = false, weCom = false },
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK))),
        new("POST", "/api/me/reminders/test", _ => "/api/me/reminders/test", _ => new { channel = "DingTalk" },
            (o, p) => ForSignedIn(p, new(HttpStatusCode.OK, (_, _, b) => Check(!b.GetProperty("delivered").GetBoolean()
                && b.GetProperty("error").GetString()!.Contains("No DingTalk robot", StringComparison.Ordinal), "claims a robot that is not set up")))),
        new("GET", "/api/reminders/settings", _ => "/api/reminders/settings", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("escalateAfterHours").GetInt32() == 24, "not the default 24 h")))),
        new("PUT", "/api/reminders/settings", _ => "/api/reminders/settings", _ => new { escalateAfterHours = 12, smtpPort = 587, smtpSecurity = "StartTls" },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("escalateAfterHours").GetInt32() == 12, "not saved")))),
        new("POST", "/api/reminders/settings/test-email", _ => "/api/reminders/settings/test-email", _ => new { to = "admin@example.com" },
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(!b.GetProperty("delivered").GetBoolean()
                && b.GetProperty("error").GetString()!.Contains("No mail server", StringComparison.Ordinal), "claims a mail server that is not set up")))),
        new("GET", "/api/reminders/deliveries", _ => "/api/reminders/deliveries", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.OK, (_, _, b) => Check(b.GetProperty("items").GetArrayLength() == 0, "deliveries of another organisation")))),
        new("POST", "/api/reminders/deliveries/{id:guid}/retry", _ => $"/api/reminders/deliveries/{Guid.Empty}/retry", _ => null,
            (o, p) => AdminOnly(p, new(HttpStatusCode.NotFound))),
    ];

    public static TheoryData<string> CaseNames => new(Cases.Select(c => $"{c.Method} {c.Route}"));

    [Fact]
    public void Every_api_endpoint_has_a_matrix_entry_and_every_entry_an_endpoint()
    {
        app.SkipIfUnavailable();
        var actual = ApiEndpoints(app.Services).Order().ToList();
        var covered = Cases.Select(c => $"{c.Method} {c.Route}").Order().ToList();
        Assert.Equal(covered, actual);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Endpoint_answers_every_persona_as_expected(string name)
    {
        var c = Cases.Single(x => $"{x.Method} {x.Route}" == name);
        var failures = new List<string>();
        foreach (var persona in (await app.NewOrgAsync()).Personas.Select(p => p.Name))
        {
            // A fresh organisation per persona: one persona's write cannot change what the next one sees.
            var org = await app.NewOrgAsync();
            var p = org.Personas.Single(x => x.Name == persona);
            var expected = c.Expected(org, p);
            using var request = new HttpRequestMessage(new HttpMethod(c.Method), c.Url(org));
            request.Content = c.Body(org) switch
            {
                null => null,
                HttpContent content => content,
                var body => new StringContent(JsonSerializer.Serialize(body, Http.Json), Encoding.UTF8, "application/json"),
            };
            var response = await app.As(p).SendAsync(request);
            var json = await response.JsonAsync();
            if (response.StatusCode != expected.Status)
            {
                failures.Add($"{persona}: {(int)response.StatusCode} instead of {(int)expected.Status} — {json}");
            }
            else if (expected.Body?.Invoke(org, p, json) is { } problem)
            {
                failures.Add($"{persona}: {problem} — {json}");
            }
        }
        Assert.True(failures.Count == 0, $"{name}\n" + string.Join("\n", failures));
    }

    internal static IEnumerable<string> ApiEndpoints(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => $"{m} {e.RoutePattern.RawText!.TrimEnd('/')}"));
}

public sealed class AuthorizationMatrixTests_Sqlite(SqliteApp app) : AuthorizationMatrixTests<SqliteApp>(app);
public sealed class AuthorizationMatrixTests_Postgres(PostgresApp app) : AuthorizationMatrixTests<PostgresApp>(app);
