using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Access;

public sealed record UserRow(Guid Id, string UserName, string DisplayName, string? Email, Role Role,
    Guid? TeamId, string? TeamName, Guid? ManagerId, bool IsActive, bool TwoFactorEnabled);

public sealed record CreateUserRequest(
    [property: Required, StringLength(64, MinimumLength = 2)] string UserName,
    [property: Required, StringLength(100, MinimumLength = 1)] string DisplayName,
    [property: EmailAddress] string? Email,
    [property: Required, StringLength(128, MinimumLength = 8)] string Password,
    Role Role,
    Guid? TeamId,
    Guid? ManagerId);

public sealed record UpdateUserRequest(
    [property: Required, StringLength(100, MinimumLength = 1)] string DisplayName,
    [property: EmailAddress] string? Email,
    Guid? TeamId,
    Guid? ManagerId);

/// <summary>Role changes are sensitive (R9.4): the admin proves a fresh authenticator code with the request.</summary>
public sealed record ChangeRoleRequest(Role Role, string? TotpCode);

public sealed class ManageUsers(TideflowDbContext db, UserManager<AppUser> users, CurrentUser me,
    SecondFactor secondFactor, TimeProvider clock)
{
    public async Task<List<UserRow>> ListAsync(CancellationToken ct = default)
    {
        me.Require(Permission.ManageUsers);
        return (await Rows(db.Users).ToListAsync(ct)).OrderBy(u => u.DisplayName, StringComparer.CurrentCulture).ToList();
    }

    public async Task<UserRow> GetAsync(Guid id, CancellationToken ct = default)
    {
        me.Require(Permission.ManageUsers);
        return await Rows(db.Users.Where(u => u.Id == id)).SingleOrDefaultAsync(ct) ?? throw Problem.NotFound("User");
    }

    public async Task<UserRow> CreateAsync(CreateUserRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageUsers);
        Problem.ThrowIfInvalid(request);
        if (!Enum.IsDefined(request.Role))
        {
            throw Problem.Invalid("role", "Unknown role.");
        }
        await CheckPlacement(request.TeamId, request.ManagerId, null, ct);
        var user = new AppUser
        {
            Id = Guid.CreateVersion7(),
            OrganizationId = me.OrganizationId,
            UserName = request.UserName.Trim(),
            DisplayName = request.DisplayName.Trim(),
            Email = string.IsNullOrWhiteSpace(request.Email) ? null : request.Email.Trim().ToLowerInvariant(),
            Role = request.Role,
            TeamId = request.TeamId,
            ManagerId = request.ManagerId,
            CreatedAt = clock.GetUtcNow(),
            LockoutEnabled = true,
        };
        ThrowOnIdentityErrors(await users.CreateAsync(user, request.Password));
        return await GetAsync(user.Id, ct);
    }

    public async Task<UserRow> UpdateAsync(Guid id, UpdateUserRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageUsers);
        Problem.ThrowIfInvalid(request);
        var user = await Find(id, ct);
        await CheckPlacement(request.TeamId, request.ManagerId, id, ct);
        user.DisplayName = request.DisplayName.Trim();
        user.Email = string.IsNullOrWhiteSpace(request.Email) ? null : request.Email.Trim().ToLowerInvariant();
        user.NormalizedEmail = users.NormalizeEmail(user.Email);
        user.TeamId = request.TeamId;
        user.ManagerId = request.ManagerId;
        await db.SaveChangesAsync(ct);
        return await GetAsync(id, ct);
    }

    public async Task<UserRow> ChangeRoleAsync(Guid id, ChangeRoleRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageUsers);
        if (!Enum.IsDefined(request.Role))
        {
            throw Problem.Invalid("role", "Unknown role.");
        }
        await secondFactor.RequireFreshCodeAsync(request.TotpCode, ct);
        var user = await Find(id, ct);
        if (user.Role == request.Role)
        {
            return await GetAsync(id, ct);
        }
        if (user.Role == Role.Admin && user.IsActive && await ActiveAdminCount(ct) <= 1)
        {
            throw Problem.Conflict("This is the last active admin; make someone else admin first.");
        }
        var before = user.Role;
        user.Role = request.Role;
        db.Audit(AuditActions.RoleChange, nameof(AppUser), id.ToString(), new { from = before.ToString(), to = request.Role.ToString() });
        await db.SaveChangesAsync(ct);
        return await GetAsync(id, ct);
    }

    /// <summary>Deactivation ends every session at once: the security stamp changes and tokens check IsActive.</summary>
    public async Task<UserRow> SetActiveAsync(Guid id, bool active, CancellationToken ct = default)
    {
        me.Require(Permission.ManageUsers);
        var user = await Find(id, ct);
        if (!active && id == me.Id)
        {
            throw Problem.Conflict("You cannot deactivate yourself.");
        }
        if (!active && user.Role == Role.Admin && user.IsActive && await ActiveAdminCount(ct) <= 1)
        {
            throw Problem.Conflict("This is the last active admin.");
        }
        user.IsActive = active;
        ThrowOnIdentityErrors(await users.UpdateSecurityStampAsync(user));
        return await GetAsync(id, ct);
    }

    private IQueryable<UserRow> Rows(IQueryable<AppUser> users) =>
        from u in users.AsNoTracking()
        join t in db.Teams on u.TeamId equals t.Id into team
        from t in team.DefaultIfEmpty()
        select new UserRow(u.Id, u.UserName!, u.DisplayName, u.Email, u.Role, u.TeamId, t == null ? null : t.Name,
            u.ManagerId, u.IsActive, u.TwoFactorEnabled);

    private async Task<AppUser> Find(Guid id, CancellationToken ct) =>
        await db.Users.SingleOrDefaultAsync(u => u.Id == id, ct) ?? throw Problem.NotFound("User");

    private Task<int> ActiveAdminCount(CancellationToken ct) =>
        db.Users.CountAsync(u => u.Role == Role.Admin && u.IsActive, ct);

    private async Task CheckPlacement(Guid? teamId, Guid? managerId, Guid? self, CancellationToken ct)
    {
        if (teamId is not null && !await db.Teams.AnyAsync(t => t.Id == teamId, ct))
        {
            throw Problem.Invalid("teamId", "No such team.");
        }
        if (managerId is null)
        {
            return;
        }
        if (managerId == self)
        {
            throw Problem.Invalid("managerId", "A user cannot be their own manager.");
        }
        if (!await db.Users.AnyAsync(u => u.Id == managerId && u.IsActive, ct))
        {
            throw Problem.Invalid("managerId", "No such active user.");
        }
    }

    internal static void ThrowOnIdentityErrors(IdentityResult result)
    {
        if (result.Succeeded)
        {
            return;
        }
        var errors = result.Errors
            .GroupBy(e => e.Code switch
            {
                var c when c.Contains("Password", StringComparison.Ordinal) => "password",
                var c when c.Contains("UserName", StringComparison.Ordinal) => "userName",
                var c when c.Contains("Email", StringComparison.Ordinal) => "email",
                "ConcurrencyFailure" => "",
                _ => "",
            })
            .ToDictionary(g => g.Key, g => g.Select(e => e.Description).ToArray());
        throw Problem.Invalid(errors);
    }
}

public static class UserEndpoints
{
    public static void MapUsers(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/users").WithTags("Users");
        g.MapGet("/", (ManageUsers h, CancellationToken ct) => h.ListAsync(ct));
        g.MapGet("/{id:guid}", (Guid id, ManageUsers h, CancellationToken ct) => h.GetAsync(id, ct));
        g.MapPost("/", async (CreateUserRequest r, ManageUsers h, CancellationToken ct) =>
        {
            var row = await h.CreateAsync(r, ct);
            return Results.Created($"/api/users/{row.Id}", row);
        });
        g.MapPut("/{id:guid}", (Guid id, UpdateUserRequest r, ManageUsers h, CancellationToken ct) => h.UpdateAsync(id, r, ct));
        g.MapPut("/{id:guid}/role", (Guid id, ChangeRoleRequest r, ManageUsers h, CancellationToken ct) => h.ChangeRoleAsync(id, r, ct));
        g.MapPost("/{id:guid}/deactivate", (Guid id, ManageUsers h, CancellationToken ct) => h.SetActiveAsync(id, false, ct));
        g.MapPost("/{id:guid}/activate", (Guid id, ManageUsers h, CancellationToken ct) => h.SetActiveAsync(id, true, ct));
    }
}
