using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Leads;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Leads;

public sealed record ChannelRow(Guid Id, string Name, ChannelKind Kind, string SourceTag, string Key, string? AllowedDomains,
    int? DailyCap, bool IsActive, DateTimeOffset CreatedAt, string CapTimeZone);

public sealed record SaveChannelRequest(
    [property: Required, StringLength(100, MinimumLength = 1)] string Name,
    ChannelKind Kind,
    [property: Required, StringLength(50, MinimumLength = 1)] string SourceTag,
    [property: StringLength(1000)] string? AllowedDomains,
    [property: Range(1, 1_000_000)] int? DailyCap,
    bool IsActive = true,
    /// <summary>An IANA time zone such as Asia/Shanghai; left out, a new channel takes Asia/Shanghai and a saved one keeps its own.</summary>
    [property: StringLength(64)] string? CapTimeZone = null);

public sealed record BlockRequest([property: Required, StringLength(254, MinimumLength = 3)] string Value);

/// <summary>Admin: the channels leads arrive on, and the values nobody may arrive with.</summary>
public sealed class Channels(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public async Task<List<ChannelRow>> ListAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        var rows = await db.Channels.AsNoTracking()
            .Select(c => new ChannelRow(c.Id, c.Name, c.Kind, c.SourceTag, c.Key, c.AllowedDomains, c.DailyCap, c.IsActive, c.CreatedAt, c.CapTimeZone))
            .ToListAsync(ct);
        return rows.OrderBy(c => c.Name, StringComparer.CurrentCulture).ToList();
    }

    public async Task<ChannelRow> CreateAsync(SaveChannelRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        var channel = new Channel
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Name = "", SourceTag = "",
            Key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), CreatedAt = clock.GetUtcNow(),
        };
        await ApplyAsync(channel, request, ct);
        db.Channels.Add(channel);
        await db.SaveChangesAsync(ct);
        return Row(channel);
    }

    public async Task<ChannelRow> UpdateAsync(Guid id, SaveChannelRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        var channel = await db.Channels.SingleOrDefaultAsync(c => c.Id == id, ct) ?? throw Problem.NotFound("Channel");
        await ApplyAsync(channel, request, ct);
        await db.SaveChangesAsync(ct);
        return Row(channel);
    }

    public async Task<List<string>> BlocklistAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        return (await db.BlockedValues.AsNoTracking().Select(b => b.Value).ToListAsync(ct)).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>A mobile (any format), an email, or an email domain such as mailinator.com; stored normalized.</summary>
    public async Task<List<string>> BlockAsync(BlockRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        Problem.ThrowIfInvalid(request);
        var raw = request.Value.Trim();
        var value = raw.Contains('@', StringComparison.Ordinal)
            ? ContactRules.NormalizeEmail(raw, out var badEmail) is { } email && !badEmail ? email : throw Problem.Invalid("value", "Not a valid email address.")
            : raw.Any(char.IsLetter) ? raw.ToLowerInvariant()
            : ContactRules.NormalizePhone(raw, "CN", out var badPhone) is { } phone && !badPhone ? phone : throw Problem.Invalid("value", "Not a valid phone number.");
        if (!await db.BlockedValues.AnyAsync(b => b.Value == value, ct))
        {
            db.BlockedValues.Add(new BlockedValue { Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, Value = value });
            await db.SaveChangesAsync(ct);
        }
        return await BlocklistAsync(ct);
    }

    public async Task<List<string>> UnblockAsync(string value, CancellationToken ct = default)
    {
        me.Require(Permission.ManageChannels);
        var entry = await db.BlockedValues.SingleOrDefaultAsync(b => b.Value == value, ct) ?? throw Problem.NotFound("Blocked value");
        db.BlockedValues.Remove(entry);
        await db.SaveChangesAsync(ct);
        return await BlocklistAsync(ct);
    }

    private async Task ApplyAsync(Channel channel, SaveChannelRequest r, CancellationToken ct)
    {
        Problem.ThrowIfInvalid(r);
        if (!Enum.IsDefined(r.Kind))
        {
            throw Problem.Invalid("kind", "Unknown channel kind.");
        }
        var name = r.Name.Trim();
        if (await db.Channels.AnyAsync(c => c.Name == name && c.Id != channel.Id, ct))
        {
            throw Problem.Invalid("name", "Another channel already has this name.");
        }
        var domains = (r.AllowedDomains ?? "").Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => d.ToLowerInvariant()).ToList();
        if (domains.FirstOrDefault(d => Uri.CheckHostName(d) != UriHostNameType.Dns) is { } bad)
        {
            throw Problem.Invalid("allowedDomains", $"'{bad}' is not a host name such as example.cn.");
        }
        var zone = string.IsNullOrWhiteSpace(r.CapTimeZone) ? channel.CapTimeZone : r.CapTimeZone.Trim();
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var found))
        {
            throw Problem.Invalid("capTimeZone", $"'{zone}' is not a time zone; use an IANA name such as Asia/Shanghai.");
        }
        // Stored as an IANA name every node knows: "China Standard Time" is found here too, but names a zone on Windows only.
        if (!found.HasIanaId && TimeZoneInfo.TryConvertWindowsIdToIanaId(zone, out var iana))
        {
            zone = iana;
        }
        channel.Name = name;
        channel.Kind = r.Kind;
        channel.SourceTag = r.SourceTag.Trim();
        channel.AllowedDomains = domains.Count == 0 ? null : string.Join(",", domains);
        // Uncapped, the endpoint kept no count: the next capture starts it afresh from the leads of the day. (A count is of
        // one zone's day, so a new zone starts its own.)
        if (channel.DailyCap is null && r.DailyCap is not null)
        {
            await db.ChannelDays.Where(d => d.ChannelId == channel.Id).ExecuteDeleteAsync(ct);
        }
        channel.CapTimeZone = zone;
        channel.DailyCap = r.DailyCap;
        channel.IsActive = r.IsActive;
    }

    private static ChannelRow Row(Channel c) =>
        new(c.Id, c.Name, c.Kind, c.SourceTag, c.Key, c.AllowedDomains, c.DailyCap, c.IsActive, c.CreatedAt, c.CapTimeZone);
}

public static class ChannelEndpoints
{
    public static void MapChannels(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/channels").WithTags("Channels");
        g.MapGet("/", (Channels h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPost("/", async (SaveChannelRequest r, Channels h, CancellationToken ct) =>
        {
            var row = await h.CreateAsync(r, ct);
            return Results.Created($"/api/channels/{row.Id}", row);
        });
        g.MapPut("/{id:guid}", (Guid id, SaveChannelRequest r, Channels h, CancellationToken ct) => h.UpdateAsync(id, r, ct));
        var b = api.MapGroup("/blocklist").WithTags("Channels");
        b.MapGet("/", (Channels h, CancellationToken ct) => h.BlocklistAsync(ct));
        b.MapPost("/", (BlockRequest r, Channels h, CancellationToken ct) => h.BlockAsync(r, ct));
        b.MapDelete("/{value}", (string value, Channels h, CancellationToken ct) => h.UnblockAsync(value, ct));
    }
}
