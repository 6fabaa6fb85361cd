using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Access;

public sealed record TeamRow(Guid Id, string Name, Guid? ParentTeamId, int MemberCount);

public sealed record SaveTeamRequest(
    [property: Required, StringLength(100, MinimumLength = 1)] string Name,
    Guid? ParentTeamId);

public sealed class ManageTeams(TideflowDbContext db, CurrentUser me)
{
    /// <summary>Everyone signed in may read the tree (pickers, filters); only admins change it.</summary>
    public async Task<List<TeamRow>> ListAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        return await db.Teams.AsNoTracking()
            .OrderBy(t => t.Name)
            .Select(t => new TeamRow(t.Id, t.Name, t.ParentTeamId, db.Users.Count(u => u.TeamId == t.Id)))
            .ToListAsync(ct);
    }

    public async Task<TeamRow> CreateAsync(SaveTeamRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageTeams);
        Problem.ThrowIfInvalid(request);
        var team = new Team { Id = Guid.CreateVersion7(), Name = request.Name.Trim(), OrganizationId = me.OrganizationId };
        await Place(team, request, ct);
        db.Teams.Add(team);
        await db.SaveChangesAsync(ct);
        return new TeamRow(team.Id, team.Name, team.ParentTeamId, 0);
    }

    public async Task<TeamRow> UpdateAsync(Guid id, SaveTeamRequest request, CancellationToken ct = default)
    {
        me.Require(Permission.ManageTeams);
        Problem.ThrowIfInvalid(request);
        var team = await db.Teams.SingleOrDefaultAsync(t => t.Id == id, ct) ?? throw Problem.NotFound("Team");
        team.Name = request.Name.Trim();
        await Place(team, request, ct);
        await db.SaveChangesAsync(ct);
        return (await ListAsync(ct)).Single(t => t.Id == id);
    }

    private async Task Place(Team team, SaveTeamRequest request, CancellationToken ct)
    {
        if (await db.Teams.AnyAsync(t => t.Name == team.Name && t.Id != team.Id, ct))
        {
            throw Problem.Invalid("name", "Another team already has this name.");
        }
        var nodes = await db.Teams.AsNoTracking().Select(t => new TeamNode(t.Id, t.ParentTeamId)).ToListAsync(ct);
        if (DataScopeRules.ParentProblem(team.Id, request.ParentTeamId, nodes) is { } problem)
        {
            throw Problem.Invalid("parentTeamId", problem);
        }
        team.ParentTeamId = request.ParentTeamId;
    }
}

public static class TeamEndpoints
{
    public static void MapTeams(this RouteGroupBuilder api)
    {
        var g = api.MapGroup("/teams").WithTags("Teams");
        g.MapGet("/", (ManageTeams h, CancellationToken ct) => h.ListAsync(ct));
        g.MapPost("/", async (SaveTeamRequest r, ManageTeams h, CancellationToken ct) =>
        {
            var row = await h.CreateAsync(r, ct);
            return Results.Created($"/api/teams/{row.Id}", row);
        });
        g.MapPut("/{id:guid}", (Guid id, SaveTeamRequest r, ManageTeams h, CancellationToken ct) => h.UpdateAsync(id, r, ct));
    }
}
