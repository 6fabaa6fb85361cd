using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;

namespace Tideflow.Web.Features.Access;

public sealed record AuditRow(long Id, DateTimeOffset At, Guid? ActorId, string? ActorName, string? Ip,
    string Action, string? EntityType, string? EntityId, string? Changes);

public sealed record AuditQuery(Guid? ActorId = null, string? EntityType = null, string? EntityId = null,
    string? Action = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int Page = 1, int PageSize = 50);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int PageNumber, int PageSize);

/// <summary>Read-only by construction: there is no update or delete path, and SaveChanges refuses one.</summary>
public sealed class AuditLog(TideflowDbContext db, CurrentUser me)
{
    public async Task<Page<AuditRow>> SearchAsync(AuditQuery q, CancellationToken ct = default)
    {
        me.Require(Permission.ViewAuditLog);
        var size = Math.Clamp(q.PageSize, 1, 200);
        var page = Math.Max(q.Page, 1);
        var query = db.AuditEntries.AsNoTracking();
        if (q.ActorId is { } actor) query = query.Where(a => a.ActorId == actor);
        if (!string.IsNullOrWhiteSpace(q.EntityType)) query = query.Where(a => a.EntityType == q.EntityType);
        if (!string.IsNullOrWhiteSpace(q.EntityId)) query = query.Where(a => a.EntityId == q.EntityId);
        if (!string.IsNullOrWhiteSpace(q.Action)) query = query.Where(a => a.Action == q.Action);
        if (q.From is { } from) query = query.Where(a => a.At >= from);
        if (q.To is { } to) query = query.Where(a => a.At < to);
        var total = await query.CountAsync(ct);
        var items = await query.OrderByDescending(a => a.Id).Skip((page - 1) * size).Take(size)
            .Select(a => new AuditRow(a.Id, a.At, a.ActorId, a.ActorName, a.Ip, a.Action, a.EntityType, a.EntityId, a.Changes))
            .ToListAsync(ct);
        return new Page<AuditRow>(items, total, page, size);
    }
}

/// <summary>Turns the stored JSON into lines a person reads: "Name: 孙丽 → 孙丽华".</summary>
public static class AuditChanges
{
    public static IEnumerable<string> Describe(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            yield break;
        }
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            yield return json;
            yield break;
        }
        foreach (var field in doc.RootElement.EnumerateObject())
        {
            var v = field.Value;
            if (v.ValueKind == System.Text.Json.JsonValueKind.Array && v.GetArrayLength() == 2)
            {
                var before = Text(v[0]);
                var after = Text(v[1]);
                yield return before is null ? $"{field.Name}: {after}"
                    : after is null ? $"{field.Name}: {before} → ∅"
                    : $"{field.Name}: {before} → {after}";
            }
            else
            {
                yield return $"{field.Name}: {Text(v)}";
            }
        }
    }

    private static string? Text(System.Text.Json.JsonElement e) => e.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Null => null,
        System.Text.Json.JsonValueKind.String => e.GetString(),
        _ => e.GetRawText(),
    };
}

public static class AuditEndpoints
{
    public static void MapAuditLog(this RouteGroupBuilder api) =>
        api.MapGet("/audit", ([AsParameters] AuditQuery q, AuditLog h, CancellationToken ct) => h.SearchAsync(q, ct))
            .WithTags("Audit log");
}
