using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

/// <summary>A custom field as stored (R1.5). Values live in the record's Fields JSON under <see cref="Key"/>.</summary>
public sealed class StoredCustomField : IOrganizationOwned
{
    public Guid Id { get; set; }
    public Guid OrganizationId { get; set; }
    public required string Key { get; set; }
    public required string Label { get; set; }
    public CustomFieldType Type { get; set; }
    /// <summary>JSON array of the options, in the admin's order; "[]" for fields that are not selects.</summary>
    public required string Options { get; set; }
    public bool Required { get; set; }
    public CustomFieldTarget AppliesTo { get; set; }
    public int Position { get; set; }
    /// <summary>Retired: no longer offered in forms or rules; values already stored are kept.</summary>
    public bool IsArchived { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public sealed record CustomFieldRow(Guid Id, string Key, string Label, CustomFieldType Type, IReadOnlyList<string> Options,
    bool Required, CustomFieldTarget AppliesTo, int Position, bool IsArchived)
{
    public CustomField ToDomain() => new(Key, Label, Type, Options, Required, AppliesTo);
}

public sealed record SaveCustomFieldRequest(
    [property: Required] string Key,
    [property: Required] string Label,
    CustomFieldType Type,
    List<string>? Options,
    bool Required,
    CustomFieldTarget AppliesTo = CustomFieldTarget.Both,
    bool IsArchived = false);

/// <summary>Admin defines the fields; every form, filter, import and rule asks <see cref="ActiveAsync"/> which exist.</summary>
public sealed class ManageCustomFields(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    /// <summary>Names a custom field may not take: the built-in lead fields, import columns and form aliases.</summary>
    public static readonly IReadOnlyList<string> Taken =
    [
        .. LeadFields.ForAssignment, .. ImportLeads.Fields, "fields", "region", "industry", "owner", "score", "status",
        "预算", "紧迫度", "购买时间", "决策权", "角色", "需求", "行业", "地区", "省份", "产品", "意向产品",
        "姓名", "联系人", "公司", "公司名称", "单位", "手机", "手机号", "电话", "邮箱",
    ];

    /// <summary>Every field, archived ones last, for the admin page and for reading stored values.</summary>
    public async Task<List<CustomFieldRow>> ListAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        return await AllAsync(db, ct);
    }

    /// <summary>The fields in force on leads or on customers: what forms show and rules may name.</summary>
    public async Task<List<CustomField>> ForAsync(CustomFieldTarget target, CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        return await ActiveAsync(db, target, ct);
    }

    public async Task<CustomFieldRow> CreateAsync(SaveCustomFieldRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var all = await db.CustomFields.ToListAsync(ct);
        if (all.Count(f => !f.IsArchived) >= CustomFields.MaxPerOrganization && !request.IsArchived)
        {
            throw Problem.Invalid("key", $"At most {CustomFields.MaxPerOrganization} custom fields; archive one first.");
        }
        var field = Check(request, all, self: null);
        var stored = new StoredCustomField
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Key = field.Key, Label = field.Label, Type = field.Type,
            Options = JsonSerializer.Serialize(field.Options), Required = field.Required, AppliesTo = field.AppliesTo,
            Position = all.Count == 0 ? 0 : all.Max(f => f.Position) + 1, IsArchived = request.IsArchived, CreatedAt = clock.GetUtcNow(),
        };
        db.CustomFields.Add(stored);
        await SaveAsync(ct);
        return Row(stored);
    }

    /// <summary>Label, options, required, where it applies and archived may change; key and type never do (stored values depend on them).</summary>
    public async Task<CustomFieldRow> UpdateAsync(Guid id, SaveCustomFieldRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var all = await db.CustomFields.ToListAsync(ct);
        var stored = all.SingleOrDefault(f => f.Id == id) ?? throw Problem.NotFound("Custom field");
        if (!string.Equals(request.Key?.Trim(), stored.Key, StringComparison.Ordinal))
        {
            throw Problem.Invalid("key", $"The key '{stored.Key}' cannot change: rules, imports and integrations use it. Add a new field instead.");
        }
        if (request.Type != stored.Type)
        {
            throw Problem.Invalid("type", $"Field '{stored.Key}': the type cannot change once values are stored. Add a new field instead.");
        }
        if (stored.IsArchived && !request.IsArchived && all.Count(f => !f.IsArchived) >= CustomFields.MaxPerOrganization)
        {
            throw Problem.Invalid("isArchived", $"At most {CustomFields.MaxPerOrganization} custom fields; archive one first.");
        }
        var field = Check(request, all, self: id);
        stored.Label = field.Label;
        stored.Options = JsonSerializer.Serialize(field.Options);
        stored.Required = field.Required;
        stored.AppliesTo = field.AppliesTo;
        stored.IsArchived = request.IsArchived;
        await SaveAsync(ct);
        return Row(stored);
    }

    /// <summary>Archives the field: values stay on the records that have them, and the key stays taken.</summary>
    public async Task<CustomFieldRow> ArchiveAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ManageRules);
        var stored = await db.CustomFields.SingleOrDefaultAsync(f => f.Id == id, ct) ?? throw Problem.NotFound("Custom field");
        stored.IsArchived = true;
        await SaveAsync(ct);
        return Row(stored);
    }

    /// <summary>The organisation's fields in force, in the admin's order.</summary>
    public static async Task<List<CustomField>> ActiveAsync(TideflowDbContext db, CancellationToken ct) =>
        (await AllAsync(db, ct)).Where(f => !f.IsArchived).Select(f => f.ToDomain()).ToList();

    /// <summary>The fields in force on one kind of record.</summary>
    public static async Task<List<CustomField>> ActiveAsync(TideflowDbContext db, CustomFieldTarget target, CancellationToken ct) =>
        (await ActiveAsync(db, ct)).Where(f => f.AppliesTo.HasFlag(target)).ToList();

    public static async Task<List<CustomFieldRow>> AllAsync(TideflowDbContext db, CancellationToken ct) =>
        (await db.CustomFields.AsNoTracking().ToListAsync(ct))
            .OrderBy(f => f.IsArchived).ThenBy(f => f.Position).Select(Row).ToList();

    private static CustomField Check(SaveCustomFieldRequest r, List<StoredCustomField> all, Guid? self)
    {
        var field = new CustomField(r.Key?.Trim() ?? "", r.Label?.Trim() ?? "", r.Type,
            (r.Options ?? []).Select(o => o?.Trim() ?? "").ToList(), r.Required, r.AppliesTo);
        // Archived fields keep their key and label: their values are still stored under them.
        var others = all.Where(f => f.Id != self).Select(f => Row(f).ToDomain());
        if (CustomFields.Problem(field, others, Taken) is { } problem)
        {
            throw Problem.Invalid(problem.Field, problem.Message);
        }
        return field;
    }

    private async Task SaveAsync(CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (CaptureLead.IsUniqueViolation(e))
        {
            throw Problem.Conflict("Another field with this key was just added.");
        }
    }

    private static CustomFieldRow Row(StoredCustomField f) => new(f.Id, f.Key, f.Label, f.Type,
        JsonSerializer.Deserialize<List<string>>(f.Options) ?? [], f.Required, f.AppliesTo, f.Position, f.IsArchived);
}

public static class CustomFieldEndpoints
{
    public static void MapCustomFields(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/custom-fields").WithTags("Custom fields");
        g.MapGet("/", (ManageCustomFields h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPost("/", async (SaveCustomFieldRequest r, ManageCustomFields h, CancellationToken ct) =>
        {
            var row = await h.CreateAsync(r, ct);
            return Results.Created($"/api/custom-fields/{row.Id}", row);
        });
        g.MapPut("/{id:guid}", (Guid id, SaveCustomFieldRequest r, ManageCustomFields h, CancellationToken ct) => h.UpdateAsync(id, r, ct));
        g.MapDelete("/{id:guid}", (Guid id, ManageCustomFields h, CancellationToken ct) => h.ArchiveAsync(id, ct));
    }
}
