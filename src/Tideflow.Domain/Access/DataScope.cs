namespace Tideflow.Domain.Access;

public enum ScopeLevel
{
    /// <summary>Records the user owns.</summary>
    Own,
    /// <summary>Records owned by anyone in the user's team and every team below it.</summary>
    Team,
    /// <summary>Every record of the organisation.</summary>
    All,
}

public sealed record TeamNode(Guid Id, Guid? ParentId);

public sealed record Member(Guid UserId, Guid? TeamId);

public static class DataScopeRules
{
    public static ScopeLevel LevelFor(Role role) => role switch
    {
        Role.Admin or Role.Finance => ScopeLevel.All,
        Role.Manager => ScopeLevel.Team,
        _ => ScopeLevel.Own,
    };

    /// <summary>The team and all teams below it; a cycle in bad data cannot loop forever.</summary>
    public static IReadOnlySet<Guid> Subtree(Guid root, IEnumerable<TeamNode> teams)
    {
        var children = teams.Where(t => t.ParentId is not null)
            .ToLookup(t => t.ParentId!.Value, t => t.Id);
        var seen = new HashSet<Guid> { root };
        var queue = new Queue<Guid>([root]);
        while (queue.TryDequeue(out var id))
        {
            foreach (var child in children[id])
            {
                if (seen.Add(child))
                {
                    queue.Enqueue(child);
                }
            }
        }
        return seen;
    }

    /// <summary>Whose records a user may see. Null means all of the organisation.</summary>
    public static IReadOnlySet<Guid>? VisibleOwners(Guid userId, Role role, Guid? teamId,
        IEnumerable<TeamNode> teams, IEnumerable<Member> members)
    {
        switch (LevelFor(role))
        {
            case ScopeLevel.All:
                return null;
            case ScopeLevel.Team when teamId is not null:
                var subtree = Subtree(teamId.Value, teams);
                var owners = members.Where(m => m.TeamId is not null && subtree.Contains(m.TeamId.Value))
                    .Select(m => m.UserId).ToHashSet();
                owners.Add(userId);
                return owners;
            default:
                return new HashSet<Guid> { userId };
        }
    }

    /// <summary>Why a team may not be placed under a parent, or null if it may.</summary>
    public static string? ParentProblem(Guid teamId, Guid? newParentId, IEnumerable<TeamNode> teams)
    {
        if (newParentId is null)
        {
            return null;
        }
        if (newParentId == teamId)
        {
            return "A team cannot be its own parent.";
        }
        var list = teams.ToList();
        if (list.All(t => t.Id != newParentId))
        {
            return "The parent team does not exist.";
        }
        return Subtree(teamId, list).Contains(newParentId.Value)
            ? "The parent team is below this team; that would make a cycle."
            : null;
    }
}
