using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Access;

public sealed record ApiTokenRow(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

public sealed record CreateApiTokenRequest(
    [property: Required, StringLength(100, MinimumLength = 1)] string Name,
    [property: Range(1, 3650)] int? ExpiresInDays);

/// <summary>The secret is in this response only; afterwards only its hash exists.</summary>
public sealed record CreatedApiToken(ApiTokenRow Token, string Secret);

public sealed class ApiTokens(TideflowDbContext db, CurrentUser me, TimeProvider clock)
{
    public const string SecretPrefix = "tf_";

    public async Task<List<ApiTokenRow>> ListAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageOwnApiTokens);
        var rows = await db.ApiTokens.AsNoTracking()
            .Select(t => new ApiTokenRow(t.Id, t.Name, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt))
            .ToListAsync(ct);
        return rows.OrderByDescending(t => t.CreatedAt).ToList();
    }

    public async Task<CreatedApiToken> CreateAsync(CreateApiTokenRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageOwnApiTokens);
        Problem.ThrowIfInvalid(request);
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var now = clock.GetUtcNow();
        var token = new ApiToken
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = me.OrganizationId,
            UserId = me.Id,
            Name = request.Name.Trim(),
            Prefix = secret[..10],
            Hash = HashOf(secret),
            CreatedAt = now,
            ExpiresAt = request.ExpiresInDays is { } days ? now.AddDays(days) : null,
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return new CreatedApiToken(new ApiTokenRow(token.Id, token.Name, token.Prefix, token.CreatedAt, token.ExpiresAt, null, null), secret);
    }

    public async Task RevokeAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ManageOwnApiTokens);
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == id, ct) ?? throw Problem.NotFound("API token");
        token.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
    }

    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

public static class ApiTokenEndpoints
{
    public static void MapApiTokens(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/tokens").WithTags("API tokens");
        g.MapGet("/", (ApiTokens h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPost("/", async (CreateApiTokenRequest r, ApiTokens h, CancellationToken ct) =>
        {
            var created = await h.CreateAsync(r, ct);
            return Results.Created($"/api/tokens/{created.Token.Id}", created);
        });
        g.MapDelete("/{id:guid}", async (Guid id, ApiTokens h, CancellationToken ct) =>
        {
            await h.RevokeAsync(id, ct);
            return Results.NoContent();
        });
    }
}

/// <summary>`Authorization: Bearer tf_…`. Checked against the database on every call, so revocation and deactivation count at once.</summary>
public sealed class ApiTokenAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, TideflowDbContext db, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }
        var secret = header["Bearer ".Length..].Trim();
        var hash = ApiTokens.HashOf(secret);
        var now = clock.GetUtcNow();
        // Token, user and data scope in one round trip: every API call pays for this lookup.
        var found = await db.ApiTokens.IgnoreQueryFilters().AsNoTracking().Where(t => t.Hash == hash)
            .Join(db.Users.IgnoreQueryFilters().AsNoTracking().ScopeUsers(db), t => t.UserId, u => u.Id,
                (t, u) => new { t.Id, t.RevokedAt, t.ExpiresAt, t.LastUsedAt, User = u })
            .SingleOrDefaultAsync(Context.RequestAborted);
        if (found is null || found.RevokedAt is not null || (found.ExpiresAt is { } exp && exp <= now))
        {
            return AuthenticateResult.Fail("The API token is unknown, revoked or expired.");
        }
        if (found.User is not { IsActive: true } user)
        {
            return AuthenticateResult.Fail("The token's user is deactivated.");
        }
        // Read with the token, so the scope middleware does not read it again.
        Context.Items[typeof(DataScope)] = await DataScopeLoader.ScopeOfAsync(db, user, Context.RequestAborted);
        // Recording use at most once a minute keeps API calls from writing on every request.
        if (found.LastUsedAt is null || now - found.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.ApiTokens.IgnoreQueryFilters().Where(t => t.Id == found.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }
        // The claims a request needs — who and which role (the data scope is loaded after, from the database) — without
        // Identity's factory, which reads the user's stored claims on every call (this app stores none).
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
            new Claim(ClaimTypes.Name, user.UserName ?? ""),
            new Claim(ClaimTypes.Role, user.Role.ToString()),
        ], SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
