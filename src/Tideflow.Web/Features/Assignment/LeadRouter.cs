using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Assignment;
using Tideflow.Domain.Leads;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Features.Pool;
using Tideflow.Web.Features.Scoring;

namespace Tideflow.Web.Features.Assignment;

/// <summary>
/// What scoring and routing read, loaded once per arrival (or per import batch) and kept current in memory while
/// leads are placed: each placement adds to the rep's open count.
/// </summary>
public sealed class RoutingBook
{
    public required int Version { get; init; }
    public required ScoreCard Card { get; init; }
    public required IReadOnlyList<AssignmentRule> Rules { get; init; }
    public required Dictionary<Guid, RepLoad> Reps { get; init; }
    public required Dictionary<Guid, IReadOnlyList<Guid>> TeamMembers { get; init; }
    public required Dictionary<Guid, long> Turns { get; init; }
    /// <summary>The organisation's custom fields in force: arrivals store their values in canonical form.</summary>
    public required IReadOnlyList<Domain.Leads.CustomField> CustomFields { get; init; }
    /// <summary>The follow-up plans per grade: an assigned lead's first task is the first step of its grade's plan.</summary>
    public required IReadOnlyList<GradePlan> Plans { get; init; }

    /// <summary>
    /// Pools already looked up, by the team a rule meant a lead for (Guid.Empty: none): the snapshot's, so they are
    /// looked up again only after a pool changes (or after the snapshot's few seconds, for a change on another node).
    /// </summary>
    public IDictionary<Guid, Guid?> PoolOfTeam { get; init; } = new Dictionary<Guid, Guid?>();

    public RoutingState StateAt(DateTimeOffset now) => new(Reps, TeamMembers, Turns, now);

    public void Placed(Guid repId)
    {
        if (Reps.TryGetValue(repId, out var rep))
        {
            Reps[repId] = rep with { OpenCount = rep.OpenCount + 1 };
        }
    }
}

/// <summary>
/// Scores and routes arriving leads (R2.1, R3.1–R3.5) for every arrival path — channel, import, manual entry —
/// and carries out the decision: owner, ownership history, the rep's notification and first-contact task.
/// </summary>
public sealed class LeadRouter(TideflowDbContext db, TimeProvider clock)
{
    public static readonly JsonSerializerOptions Json = LeadScoring.Json;

    /// <param name="draftRules">Rules to route by instead of the saved ones (the simulator's drafts).</param>
    /// <param name="withTurns">Read the teams' current turns (the simulator); arrivals claim theirs atomically instead.</param>
    public async Task<RoutingBook> LoadAsync(CancellationToken ct, IReadOnlyList<AssignmentRule>? draftRules = null, bool withTurns = false)
    {
        var snapshot = draftRules is null ? await CurrentAsync(ct) : await SnapshotAsync(draftRules, clock.GetUtcNow(), ct);
        var rules = snapshot.Rules;

        // Open counts only matter for capacity and least-loaded; at a million customers they are the costly part.
        var counts = new Dictionary<Guid, int>();
        if (snapshot.People.Any(u => u.Capacity is not null) || rules.Any(r => r.Target == AssignTo.Team && r.Method == TeamMethod.LeastLoaded))
        {
            counts = await OpenCountsAsync(ct);
        }
        var away = snapshot.Absences.ToLookup(a => a.UserId, a => a.Absence);
        var reps = snapshot.People.ToDictionary(u => u.Id,
            u => new RepLoad(u.Id, u.Name, u.IsActive, u.Capacity, counts.GetValueOrDefault(u.Id), away[u.Id].ToList()));
        var turns = new Dictionary<Guid, long>();
        if (withTurns && snapshot.TeamMembers.Count > 0)
        {
            var teamIds = snapshot.TeamMembers.Keys.ToList();
            turns = await db.TeamTurns.AsNoTracking().Where(t => teamIds.Contains(t.TeamId)).ToDictionaryAsync(t => t.TeamId, t => t.Turn, ct);
        }
        return new RoutingBook
        {
            Version = snapshot.Version, Card = snapshot.Card, Rules = rules, Reps = reps,
            TeamMembers = new Dictionary<Guid, IReadOnlyList<Guid>>(snapshot.TeamMembers), Turns = turns, CustomFields = snapshot.CustomFields,
            Plans = snapshot.Plans, PoolOfTeam = snapshot.PoolOfTeam,
        };
    }

    /// <summary>The organisation's snapshot: this node's copy while it is fresh, else read again.</summary>
    public async Task<RoutingSnapshot> CurrentAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var organizationId = db.CurrentUser.OrganizationId;
        if (RoutingCache.Get(organizationId, now) is { } cached)
        {
            return cached;
        }
        var generation = RoutingCache.Generation(organizationId);
        var snapshot = await SnapshotAsync(null, now, ct);
        RoutingCache.Put(organizationId, snapshot, generation);
        return snapshot;
    }

    private async Task<RoutingSnapshot> SnapshotAsync(IReadOnlyList<AssignmentRule>? draftRules, DateTimeOffset now, CancellationToken ct)
    {
        var (version, card) = await ScoreCards.CurrentAsync(db, ct);
        var rules = draftRules ?? (await db.AssignmentRules.AsNoTracking().OrderBy(r => r.Position).ToListAsync(ct)).Select(ToDomain).ToList();
        var users = await db.Users.AsNoTracking()
            .Where(u => u.Role == Role.Rep || u.Role == Role.Manager || u.Role == Role.Admin)
            .Select(u => new { u.Id, u.DisplayName, u.IsActive, u.Capacity, u.TeamId, u.Role })
            .OrderBy(u => u.Id).ToListAsync(ct);
        // Absences that have not ended; whether one has begun is decided at each arrival.
        var absences = (await db.RepAbsences.AsNoTracking().Where(a => a.Until > now).Select(a => new { a.UserId, a.From, a.Until }).ToListAsync(ct))
            .Select(a => (a.UserId, new Absence(a.From, a.Until))).ToList();
        var teamIds = rules.Where(r => r.Target == AssignTo.Team && r.TeamId is not null).Select(r => r.TeamId!.Value).Distinct().ToList();
        var members = new Dictionary<Guid, IReadOnlyList<Guid>>();
        if (teamIds.Count > 0)
        {
            var teams = await db.Teams.AsNoTracking().Select(t => new TeamNode(t.Id, t.ParentTeamId)).ToListAsync(ct);
            foreach (var team in teamIds)
            {
                var subtree = DataScopeRules.Subtree(team, teams);
                // Round-robin is among reps; managers and admins receive leads only when a rule names them.
                members[team] = users.Where(u => u.Role == Role.Rep && u.TeamId is { } t && subtree.Contains(t)).Select(u => u.Id).ToList();
            }
        }
        return new RoutingSnapshot(version, card, rules, users.Select(u => new RoutingSnapshot.Person(u.Id, u.DisplayName, u.IsActive, u.Capacity)).ToList(),
            members, absences, await Leads.ManageCustomFields.ActiveAsync(db, ct), await Pipeline.FollowUpPlanSettings.LoadAsync(db, db.CurrentUser.OrganizationId, card, ct),
            await Leads.TagRules.LoadAsync(db, ct),
            (await db.BlockedValues.AsNoTracking().Select(b => b.Value).ToListAsync(ct)).ToHashSet(StringComparer.OrdinalIgnoreCase), now);
    }

    // Routing decides for the organisation, whoever's request brought the lead in (a rep's manual entry, a manager
    // fixing a lead in review, an event sent with a rep's token): loads and owners are counted across the whole
    // organisation, never only the caller's data scope. Nothing read here is returned to the caller.
    private IQueryable<Lead> AllLeads => db.Leads.IgnoreQueryFilters().Where(l => l.OrganizationId == db.CurrentUser.OrganizationId);
    private IQueryable<Customer> AllCustomers => db.Customers.IgnoreQueryFilters().Where(c => c.OrganizationId == db.CurrentUser.OrganizationId);

    /// <summary>Open leads and customers per owner, across the organisation.</summary>
    public async Task<Dictionary<Guid, int>> OpenCountsAsync(CancellationToken ct)
    {
        var leads = await AllLeads.Where(l => l.OwnerId != null && l.Status == LeadStatus.New)
            .GroupBy(l => l.OwnerId!.Value).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        var customers = await AllCustomers.Where(c => c.OwnerId != null)
            .GroupBy(c => c.OwnerId!.Value).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        return leads.Concat(customers).GroupBy(x => x.Key).ToDictionary(g => g.Key, g => g.Sum(x => x.Count));
    }

    /// <summary>
    /// Scores a lead that just arrived and, when it is valid and unowned, routes it. Invalid leads are neither
    /// scored nor assigned (R1.4); queued ones are scored and wait for review.
    /// </summary>
    /// <param name="knownOwners">
    /// Company key → owner, already looked up for a whole batch (import); a key missing from it means nobody owns that
    /// company yet. Null: look this lead's company up now.
    /// </param>
    /// <param name="tellRep">False when the caller tells each rep once about a whole batch (import).</param>
    public async Task<RouteDecision?> ScoreAndRouteAsync(RoutingBook book, Lead lead, Channel? channel, CancellationToken ct,
        Dictionary<string, Guid>? knownOwners = null, bool tellRep = true, ICollection<object>? newRows = null)
    {
        if (lead.Status is LeadStatus.Invalid or LeadStatus.Discarded or LeadStatus.Merged)
        {
            return null;
        }
        var now = clock.GetUtcNow();
        LeadScoring.Apply(lead, channel, book.Card, book.Version, now);
        if (lead.Status != LeadStatus.New || lead.OwnerId is not null)
        {
            return null;
        }
        var sticky = knownOwners is null ? await StickyOwnerAsync(lead, ct)
            : lead.CompanyKey is { } key && knownOwners.TryGetValue(key, out var owner) ? owner : null;
        var decision = await DecideAsync(book, lead, channel, sticky, claimTurn: true, ct);
        if (decision.RepId is { } rep)
        {
            Assign(book, lead, rep, decision.Reason, decision.RuleName ?? (sticky is not null ? "sticky" : null), byId: null, now, tellRep, newRows);
            // The next lead of the same company in this batch goes to the same rep.
            if (knownOwners is not null && lead.CompanyKey is { } company)
            {
                knownOwners.TryAdd(company, rep);
            }
        }
        else
        {
            await ToPoolAsync(book, lead, decision, now, ct);
        }
        return decision;
    }

    /// <summary>Nobody could take it: the lead waits in the pool (线索池) of the team a rule meant it for, else the default pool.</summary>
    private async Task ToPoolAsync(RoutingBook book, Lead lead, RouteDecision decision, DateTimeOffset now, CancellationToken ct)
    {
        var team = decision.PoolTeamId ?? Guid.Empty;
        if (!book.PoolOfTeam.TryGetValue(team, out var pool))
        {
            pool = await Pools.ForRoutedLeadAsync(db, lead.OrganizationId, decision.PoolTeamId, ct);
            book.PoolOfTeam[team] = pool;
        }
        lead.PoolId = pool;
        lead.PooledAt = pool is null ? null : now;
        lead.PoolReason = pool is null ? null : Clip(decision.Reason, 500);
    }

    /// <summary>
    /// Routes with the book's state. With <paramref name="claimTurn"/>, a team rotation claims its turn in the
    /// database first, so concurrent arrivals on several nodes take consecutive turns (R3.2 fairness).
    /// </summary>
    public async Task<RouteDecision> DecideAsync(RoutingBook book, Lead lead, Channel? channel, Guid? sticky, bool claimTurn, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var facts = LeadScoring.Facts(lead, channel);
        var decision = RoutingPolicy.Route(book.Rules, facts, sticky, book.StateAt(now));
        if (decision.TeamId is { } team)
        {
            var turn = claimTurn ? await ClaimTurnAsync(team, lead.OrganizationId, ct) - 1 : book.Turns.GetValueOrDefault(team);
            book.Turns[team] = turn;
            // The same rule matches again; the claimed turn picks the rep.
            decision = RoutingPolicy.Route(book.Rules, facts, sticky, book.StateAt(now));
            book.Turns[team] = turn + 1;
        }
        return decision;
    }

    /// <summary>The turn number this placement takes (1 for the team's first lead): one atomic upsert on both providers.</summary>
    private async Task<long> ClaimTurnAsync(Guid teamId, Guid organizationId, CancellationToken ct)
    {
        var claimed = await db.Database.SqlQuery<long>($"""
            INSERT INTO "TeamTurns" ("TeamId", "OrganizationId", "Turn") VALUES ({teamId}, {organizationId}, 1)
            ON CONFLICT ("TeamId") DO UPDATE SET "Turn" = "TeamTurns"."Turn" + 1
            RETURNING "Turn" AS "Value"
            """).ToListAsync(ct);
        return claimed.Single();
    }

    /// <summary>
    /// Owners of many companies at once (an import batch): per company the oldest customer's owner, else the oldest
    /// open lead's. One row per company, each found by a top-1 walk of a partial index of owned customers / owned open
    /// leads in date order. Returning every match and ordering them here sent back every owned lead of the companies
    /// (133,576 rows for an import batch's 4,013 companies on the bench data: 0.78 s on PostgreSQL, 0.45 s of it
    /// compiling the query, growing with every lead imported; now 0.03-0.06 s).
    /// </summary>
    public async Task<Dictionary<string, Guid>> StickyOwnersAsync(IEnumerable<string?> companyKeys, CancellationToken ct, Guid? except = null)
    {
        var keys = companyKeys.Where(k => !string.IsNullOrEmpty(k)).Select(k => k!).Distinct().ToList();
        var owners = new Dictionary<string, Guid>();
        if (keys.Count == 0)
        {
            return owners;
        }
        var query = StickyQueries.GetOrAdd(db.Model, _ => CompileStickyOwners());
        // A thousand companies a query: the planner's estimate grows with them (76,000 for 4,013), and past 100,000
        // PostgreSQL first compiles the query (JIT), which took 0.45 s where running it takes a tenth of that.
        foreach (var chunk in keys.Chunk(1000))
        {
            await foreach (var found in query(db, db.CurrentUser.OrganizationId, [.. chunk], except).WithCancellation(ct))
            {
                if (found.Owner is { } owner)
                {
                    owners[found.CompanyKey] = owner;
                }
            }
        }
        return owners;
    }

    public sealed class StickyOwner
    {
        public required string CompanyKey { get; init; }
        public Guid? Owner { get; init; }
    }

    // Compiled: every arrival asks this, and building the query from LINQ each time cost several times what running it
    // does (0.6 of 0.7 ms on SQLite). A compiled query serves one model, so one per provider (tests run both at once).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Microsoft.EntityFrameworkCore.Metadata.IModel,
        Func<TideflowDbContext, Guid, List<string>, Guid?, IAsyncEnumerable<StickyOwner>>> StickyQueries = new();

    // Routing decides for the organisation, so the data scope's filters are off and the organisation is explicit. The
    // lead's conditions repeat its partial index's filter word for word (TideflowDbContext): SQLite uses a partial index
    // only for a query that states its filter. `?? ""` tells EF Core a key is never null, so the comparison is a plain
    // `=` (otherwise `= OR both IS NULL`, which no index walk in date order serves), and `??` between the two lookups
    // is a COALESCE: a company with an owned customer never looks at its leads.
    private static Func<TideflowDbContext, Guid, List<string>, Guid?, IAsyncEnumerable<StickyOwner>> CompileStickyOwners() =>
        EF.CompileAsyncQuery((TideflowDbContext db, Guid organizationId, List<string> keys, Guid? except) =>
            db.Organizations.IgnoreQueryFilters().Where(o => o.Id == organizationId).SelectMany(o => keys.Select(k => k ?? "").Select(key => new StickyOwner
            {
                CompanyKey = key,
                Owner = db.Customers.IgnoreQueryFilters()
                    .Where(c => c.OrganizationId == organizationId && c.CompanyKey == key && c.OwnerId != null)
                    .OrderBy(c => c.CreatedAt).Select(c => c.OwnerId).FirstOrDefault()
                    // A qualified lead whose customer went back to the pool no longer ties the company to the rep who let it go.
                    ?? db.Leads.IgnoreQueryFilters()
                        .Where(l => l.OrganizationId == organizationId && l.CompanyKey == key && l.OwnerId != null
                            && new[] { LeadStatus.New, LeadStatus.Nurture, LeadStatus.Qualified }.Contains(l.Status) && l.Id != except
                            && (l.Status != LeadStatus.Qualified
                                || !db.Customers.IgnoreQueryFilters().Any(c => c.OrganizationId == organizationId && c.Id == l.CustomerId && c.OwnerId == null)))
                        .OrderBy(l => l.ArrivedAt).Select(l => l.OwnerId).FirstOrDefault(),
            })));

    /// <summary>Who already works with this company: a customer's owner first, then an open lead's (R3.3).</summary>
    public async Task<Guid?> StickyOwnerAsync(Lead lead, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(lead.CompanyKey))
        {
            return null;
        }
        var owners = await StickyOwnersAsync([lead.CompanyKey], ct, except: lead.Id);
        return owners.TryGetValue(lead.CompanyKey, out var owner) ? owner : null;
    }

    /// <summary>
    /// Gives the lead to a rep: ownership history, an in-app notification and the first-contact task (R3.5).
    /// The previous owner's open tasks for it close as reassigned.
    /// </summary>
    /// <remarks>From the lead pool a manager hands it out directly, past the claim limits; the history says which pool.</remarks>
    public void Assign(RoutingBook? book, Lead lead, Guid repId, string reason, string? rule, Guid? byId, DateTimeOffset now, bool tellRep = true,
        ICollection<object>? newRows = null)
    {
        var from = lead.OwnerId;
        var pool = from is null ? lead.PoolId : null;
        lead.OwnerId = repId;
        lead.AssignedAt = now;
        lead.UpdatedAt = now;
        (lead.PoolId, lead.PooledAt, lead.PoolReason) = (null, null, null);
        Handed(book?.Card, book?.Plans, lead, new OwnershipChange
        {
            OrganizationId = lead.OrganizationId, LeadId = lead.Id, FromId = from, ToId = repId, Reason = Clip(reason, 500),
            Rule = rule is null ? null : Clip(rule, 100), ById = byId, At = now,
            Event = pool is null ? null : OwnershipEvent.AssignedFromPool, PoolId = pool,
        }, tellRep, newRows);
        book?.Placed(repId);
    }

    /// <summary>What a message calls a lead: its name, else its company or contact.</summary>
    public static string Label(Lead lead) => lead.Name ?? lead.Company ?? lead.Mobile ?? lead.Email ?? "";

    /// <summary>
    /// What follows a lead's new owner however it came to them (routing, a manager, a claim from the pool): ownership
    /// history, the rep told unless they took it themselves (or the caller tells them of a whole batch), and the
    /// first-contact task from the grade's plan (R3.5).
    /// </summary>
    /// <param name="newRows">
    /// Where the history row and the task go when the caller saves its new rows in bulk, untracked (an import): tracking
    /// them cost an import more than writing them. Without it they are added to the context.
    /// </param>
    /// <returns>When the first contact is due.</returns>
    public DateTimeOffset Handed(ScoreCard? card, IReadOnlyList<GradePlan>? plans, Lead lead, OwnershipChange change, bool tellRep = true,
        ICollection<object>? newRows = null)
    {
        var repId = change.ToId!.Value;
        Add(change);
        if (tellRep && change.ById != repId)
        {
            Inboxes.Add(db, lead.OrganizationId, repId, NotificationKinds.LeadAssigned,
                new { name = Label(lead), grade = lead.Grade ?? "" }, $"/leads/{lead.Id}", change.At);
        }
        var plan = FollowUpPlans.For(plans ?? FollowUpPlans.Defaults(card ?? ScoreCard.Default), card ?? ScoreCard.Default, lead.Grade);
        var first = FollowUpPlans.Next(plan, -1, change.At)!;
        var due = first.DueAt;
        Add(new FollowUpTask
        {
            Id = Guid.CreateVersion7(), OrganizationId = lead.OrganizationId, OwnerId = repId, LeadId = lead.Id,
            Kind = TaskKinds.FirstContact, Title = first.Title, DueAt = due, PlanStep = first.Step, CreatedAt = change.At,
        });
        return due;

        void Add(object row)
        {
            if (newRows is null)
            {
                db.Add(row);
            }
            else
            {
                newRows.Add(row);
            }
        }
    }

    /// <summary>
    /// After a behaviour event changed the grade (R2.3): timeline entry, the owner told, and — when the rule that
    /// now matches says so — the lead moves to whoever that rule sends it to.
    /// </summary>
    public async Task RegradedAsync(Lead lead, Channel? channel, string before, ScoreResult result, DateTimeOffset now, CancellationToken ct)
    {
        db.LeadTouches.Add(Timeline.Regraded(lead, before, result, now));
        if (lead.OwnerId is { } owner)
        {
            Inboxes.Add(db, lead.OrganizationId, owner, NotificationKinds.LeadRegraded,
                new { name = lead.Name ?? lead.Company ?? "", from = before, to = result.Grade }, $"/leads/{lead.Id}", now);
        }
        var book = await LoadAsync(ct);
        // Moved to another rep, the lead starts the new grade's plan there; kept, its open step is re-planned.
        if (!await RerouteAsync(lead, channel, before, result, book, now, ct) && lead.OwnerId is not null)
        {
            await ReplanAsync(lead, book, now, ct);
        }
    }

    /// <summary>Moves the lead when the rule that now matches reroutes on regrade; true when it moved.</summary>
    private async Task<bool> RerouteAsync(Lead lead, Channel? channel, string before, ScoreResult result, RoutingBook book, DateTimeOffset now, CancellationToken ct)
    {
        if (lead.Status != LeadStatus.New)
        {
            return false;
        }
        var lookup = FieldConditions.Lookup(LeadScoring.Facts(lead, channel));
        var rule = book.Rules.FirstOrDefault(r => r.Conditions.All(c => FieldConditions.Holds(c, lookup)));
        if (rule is not { RerouteOnRegrade: true })
        {
            return false;
        }
        // A person's decision stands: a lead a manager assigned by hand is not moved by a rule because of an email opened.
        var lastChange = await db.OwnershipChanges.Where(o => o.LeadId == lead.Id).OrderByDescending(o => o.At).ThenByDescending(o => o.Id)
            .Select(o => new { o.ById }).FirstOrDefaultAsync(ct);
        if (lastChange?.ById is not null)
        {
            return false;
        }
        var decision = await DecideAsync(book, lead, channel, sticky: null, claimTurn: true, ct);
        if (decision.RepId is not { } rep || rep == lead.OwnerId)
        {
            return false;
        }
        await CloseOpenTasksAsync(lead.Id, now, ct);
        Assign(book, lead, rep, $"grade {before} → {result.Grade}: {decision.Reason}", decision.RuleName, byId: null, now);
        return true;
    }

    /// <summary>The grade changed: the open plan step gives way to the same point of the new grade's plan (R5.4).</summary>
    private async Task ReplanAsync(Lead lead, RoutingBook book, DateTimeOffset now, CancellationToken ct)
    {
        var plan = FollowUpPlans.For(book.Plans, book.Card, lead.Grade);
        foreach (var task in await db.FollowUpTasks.Where(t => t.LeadId == lead.Id && t.ClosedAt == null && t.PlanStep != null).ToListAsync(ct))
        {
            (task.ClosedAt, task.ClosedReason) = (now, "replanned");
            var next = FollowUpPlans.Replan(plan, task.PlanStep!.Value, now);
            db.FollowUpTasks.Add(new FollowUpTask
            {
                Id = Guid.CreateVersion7(), OrganizationId = lead.OrganizationId, OwnerId = task.OwnerId, LeadId = lead.Id, CustomerId = task.CustomerId,
                Kind = next.Step == 0 ? TaskKinds.FirstContact : TaskKinds.PlanStep, Title = next.Title, DueAt = next.DueAt, PlanStep = next.Step, CreatedAt = now,
            });
        }
    }

    /// <summary>The lead's open tasks close when someone else takes it over.</summary>
    public async Task CloseOpenTasksAsync(Guid leadId, DateTimeOffset now, CancellationToken ct)
    {
        var stored = await db.FollowUpTasks.Where(t => t.LeadId == leadId && t.ClosedAt == null).ToListAsync(ct);
        var added = db.FollowUpTasks.Local.Where(t => t.LeadId == leadId && t.ClosedAt == null);
        foreach (var task in stored.Concat(added).Distinct().ToList())
        {
            task.ClosedAt = now;
            task.ClosedReason = "reassigned";
        }
    }

    public static AssignmentRule ToDomain(StoredAssignmentRule r) =>
        new(r.Name, JsonSerializer.Deserialize<List<FieldCondition>>(r.Conditions, Json) ?? [], r.Target, r.RepId, r.TeamId, r.Method, r.RerouteOnRegrade);

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max];
}
