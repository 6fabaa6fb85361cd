using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Assignment;

public sealed record CapacityRequest([property: Range(1, 100_000)] int? Capacity);

public sealed record AbsenceRequest(DateTimeOffset From, DateTimeOffset Until, [property: StringLength(200)] string? Reason);

public sealed record AbsenceRow(Guid Id, DateTimeOffset From, DateTimeOffset Until, string? Reason);

public sealed record RepAvailability(Guid Id, string Name, string? Team, bool IsActive, int? Capacity, int OpenCount,
    bool AwayNow, IReadOnlyList<AbsenceRow> Absences);

/// <summary>
/// Reps' capacity and absences, which routing respects (R3.2). Admins manage everyone, managers their team;
/// a rep records their own absences. Active/inactive is the user's account flag (Users page).
/// </summary>
public sealed class Availability(TideflowDbContext db, CurrentUser me, TimeProvider clock, LeadRouter router)
{
    public async Task<List<RepAvailability>> ListAsync(CancellationToken ct = default)
    {
        RequireManager();
        var now = clock.GetUtcNow();
        var visible = me.Scope.VisibleOwnerIds;
        var users = await db.Users.AsNoTracking()
            .Where(u => u.Role == Role.Rep || u.Role == Role.Manager)
            .Where(u => visible == null || visible.Contains(u.Id))
            .OrderBy(u => u.DisplayName)
            .Select(u => new { u.Id, u.DisplayName, u.TeamId, u.IsActive, u.Capacity }).ToListAsync(ct);
        var ids = users.Select(u => u.Id).ToList();
        var teams = await db.Teams.AsNoTracking().ToDictionaryAsync(t => t.Id, t => t.Name, ct);
        var absences = (await db.RepAbsences.AsNoTracking().Where(a => ids.Contains(a.UserId) && a.Until > now).ToListAsync(ct))
            .OrderBy(a => a.From).ToLookup(a => a.UserId);
        var counts = await router.OpenCountsAsync(ct);
        return users.Select(u => new RepAvailability(u.Id, u.DisplayName, u.TeamId is { } t ? teams.GetValueOrDefault(t) : null,
            u.IsActive, u.Capacity, counts.GetValueOrDefault(u.Id),
            absences[u.Id].Any(a => a.From <= now && now < a.Until),
            absences[u.Id].Select(a => new AbsenceRow(a.Id, a.From, a.Until, a.Reason)).ToList())).ToList();
    }

    public async Task<RepAvailability> SetCapacityAsync(Guid userId, CapacityRequest request, CancellationToken ct = default)
    {
        RequireManager();
        Problem.ThrowIfInvalid(request);
        var user = await RepAsync(userId, ct);
        user.Capacity = request.Capacity;
        await db.SaveChangesAsync(ct);
        return (await ListAsync(ct)).Single(r => r.Id == userId);
    }

    public async Task<AbsenceRow> AddAbsenceAsync(Guid userId, AbsenceRequest request, CancellationToken ct = default)
    {
        RequireSelfOrManager(userId);
        Problem.ThrowIfInvalid(request);
        if (request.Until <= request.From)
        {
            throw Problem.Invalid("until", "The absence must end after it starts.");
        }
        if (request.Until - request.From > TimeSpan.FromDays(366))
        {
            throw Problem.Invalid("until", "An absence lasts at most a year; deactivate the user instead.");
        }
        if (request.Until <= clock.GetUtcNow())
        {
            throw Problem.Invalid("until", "The absence is already over.");
        }
        await RepAsync(userId, ct);
        var absence = new RepAbsence
        {
            Id = Guid.CreateVersion7(), OrganizationId = me.OrganizationId, UserId = userId,
            From = request.From.ToUniversalTime(), Until = request.Until.ToUniversalTime(), Reason = request.Reason?.Trim(),
        };
        db.RepAbsences.Add(absence);
        await db.SaveChangesAsync(ct);
        return new AbsenceRow(absence.Id, absence.From, absence.Until, absence.Reason);
    }

    public async Task RemoveAbsenceAsync(Guid userId, Guid absenceId, CancellationToken ct = default)
    {
        RequireSelfOrManager(userId);
        await RepAsync(userId, ct);
        var absence = await db.RepAbsences.SingleOrDefaultAsync(a => a.Id == absenceId && a.UserId == userId, ct)
            ?? throw Problem.NotFound("Absence");
        db.RepAbsences.Remove(absence);
        await db.SaveChangesAsync(ct);
    }

    private void RequireManager()
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        if (!RolePermissions.Has(me.Role, Permission.ManageRules) && !RolePermissions.Has(me.Role, Permission.AssignOwners))
        {
            throw Problem.Forbidden($"Your role ({me.Role}) does not allow managing reps' availability.");
        }
    }

    private void RequireSelfOrManager(Guid userId)
    {
        if (me.IsAuthenticated && userId == me.Id && RolePermissions.Has(me.Role, Permission.WorkCustomers))
        {
            return;
        }
        RequireManager();
    }

    // A manager reaches only the reps of their team subtree; everyone else is "not found", as elsewhere.
    private async Task<AppUser> RepAsync(Guid userId, CancellationToken ct)
    {
        var visible = me.Scope.VisibleOwnerIds;
        return await db.Users.SingleOrDefaultAsync(u => u.Id == userId && (u.Role == Role.Rep || u.Role == Role.Manager)
                   && (visible == null || visible.Contains(u.Id)), ct)
               ?? throw Problem.NotFound("Rep");
    }
}
