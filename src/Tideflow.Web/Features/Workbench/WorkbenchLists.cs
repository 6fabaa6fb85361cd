using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Workbench;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Notifications;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Features.Pool;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Features.Workbench;

/// <summary>One customer on a list; <see cref="At"/> is what put it there: the contact owed, stalled since, or handed over.</summary>
public sealed record WorkbenchRow(Guid CustomerId, string Name, string? Company, string? Grade, string Stage, Guid? OwnerId, string? OwnerName, DateTimeOffset? At);

/// <summary>A list by its key (<c>overdue</c>…): how many, and the most urgent few. The rest is <c>/customers?view={key}</c>.</summary>
public sealed record WorkbenchList(string View, int Count, IReadOnlyList<WorkbenchRow> Top);

/// <summary>
/// The workbench (R5.7): the lists with the grade and periods that define them, the caller's own customers due to be
/// reclaimed soon (null for a role that holds none), and their latest notifications.
/// </summary>
public sealed record WorkbenchSummary(IReadOnlyList<WorkbenchList> Lists, string? HighIntentGrade, WorkbenchSettings Settings,
    IReadOnlyList<DueSoonRow>? DueSoon, int UnreadNotifications, IReadOnlyList<NotificationRow> Notifications);

/// <summary>What every list of one request compares against: the caller's day and cutoffs, and which grade is high intent.</summary>
public sealed record ListContext(WorkbenchWindow Window, string? HighIntentGrade, SalesPipeline Pipeline)
{
    /// <summary>Won and lost stages of every pipeline: their customers are owed no contact.</summary>
    public List<string> ClosedStages { get; } = Pipeline.Stages.Where(s => s.Outcome != StageOutcome.Open).Select(s => s.Key).ToList();
}

/// <summary>
/// The workbench lists as queries: <see cref="WorkbenchRules.IsIn"/> written out as WHERE clauses over the customers the
/// DbContext's data-scope filter lets the caller see — a rep their own, a manager their teams', with no scope logic here.
/// The customer list (<c>/customers?view=…</c>) pages through the same <see cref="Filter"/>, so a card's count and its full
/// list cannot disagree; a test holds the SQL to the pure rule.
/// </summary>
public sealed class WorkbenchLists(TideflowDbContext db, CurrentUser me, TimeProvider clock, PoolCustomers pool, Inboxes inboxes)
{
    public const int TopRows = 5;

    /// <summary>
    /// Lists this short are read together, in one more pass over the caller's customers, and sorted out here by
    /// <see cref="WorkbenchRules.IsIn"/>; a longer list's first rows are read by a query of their own. (A rep's lists hold
    /// tens to a few hundred customers; a manager's or an admin's can hold many thousands.)
    /// </summary>
    internal const int ReadTogetherUpTo = 500;

    public async Task<WorkbenchSummary> SummaryAsync(CancellationToken ct = default)
    {
        if (!me.IsAuthenticated)
        {
            throw Problem.Unauthorized();
        }
        var context = await ContextAsync(db, me, clock, ct);
        // Only held customers are on a list; naming their owners keeps the pool's customers out of the reads.
        var customers = Customers.Customers.Held(db.Customers.AsNoTracking(), me.Scope);
        // Every count in one pass over the caller's customers.
        var counts = await CountsAsync(customers, db, context, ct);
        var shown = WorkbenchRules.Keys.Keys.Where(v => counts[v] > 0).ToList();
        var together = shown.Where(v => counts[v] <= ReadTogetherUpTo).ToList();
        var listed = new Dictionary<WorkbenchView, IEnumerable<StoredCustomer>>();
        if (together.Count > 0)
        {
            var rows = await DatedRowsAsync(db, Dated(customers, db).Where(together.Select(v => Rule(v, context)).Aggregate(Pool.ReclaimRulesSql.Or)), ct);
            foreach (var view in together)
            {
                listed[view] = rows.Where(r => WorkbenchRules.IsIn(view, r.Facts, context.Window, context.Pipeline, context.HighIntentGrade));
            }
        }
        foreach (var view in shown.Except(together))
        {
            listed[view] = await DatedRowsAsync(db, UrgentFirst(Listed(customers, db, view, context), view).Take(TopRows), ct);
        }
        var lists = WorkbenchRules.Keys.Select(k => new WorkbenchList(k.Value, counts[k.Key],
            listed.TryGetValue(k.Key, out var rows) ? Top(rows, k.Key) : [])).ToList();
        var dueSoon = RolePermissions.Has(me.Role, Permission.WorkCustomers) ? await pool.DueSoonAsync(3, ct) : null;
        var inbox = await inboxes.GetAsync(ct);
        return new WorkbenchSummary(lists, context.HighIntentGrade, context.Pipeline.Periods, dueSoon, inbox.Unread, inbox.Items.Take(TopRows).ToList());
    }

    /// <summary>A list's key from a URL; anything else is a 400 that names the keys there are.</summary>
    public static WorkbenchView Parse(string key) => WorkbenchRules.TryParse(key, out var view) ? view
        : throw Problem.Invalid("view", $"'{key.Trim()}' is not a workbench list; use one of {string.Join(", ", WorkbenchRules.Keys.Values)}.");

    /// <summary>The caller's local day (their profile's time zone), the periods the admin set, and the best grade of the score card in force.</summary>
    public static async Task<ListContext> ContextAsync(TideflowDbContext db, CurrentUser me, TimeProvider clock, CancellationToken ct)
    {
        var (_, card) = await Scoring.ScoreCards.CurrentAsync(db, ct);
        var pipeline = await PipelineSettings.LoadAsync(db, me.OrganizationId, ct);
        var window = WorkbenchWindow.At(clock.GetUtcNow(), UserTime.Zone(me.Scope.TimeZone), pipeline.Periods);
        return new ListContext(window, WorkbenchRules.HighIntentGrade(card), pipeline);
    }

    /// <summary>The customers of <paramref name="query"/> on one list, by <see cref="WorkbenchRules.IsIn"/>.</summary>
    public static IQueryable<Customer> Filter(IQueryable<Customer> query, TideflowDbContext db, WorkbenchView view, ListContext context) =>
        Listed(query, db, view, context).Select(x => x.Customer);

    /// <summary>The list's customers with the contact they are owed, so ordering them needs no second join.</summary>
    private static IQueryable<DatedCustomer> Listed(IQueryable<Customer> query, TideflowDbContext db, WorkbenchView view, ListContext context) =>
        DatedFor(query, db, view).Where(Rule(view, context));

    /// <summary>Only today and overdue look at the contact owed; the other lists need no tasks.</summary>
    private static IQueryable<DatedCustomer> DatedFor(IQueryable<Customer> query, TideflowDbContext db, WorkbenchView view) =>
        view is WorkbenchView.Today or WorkbenchView.Overdue ? Dated(query, db) : query.Select(c => new DatedCustomer { Customer = c });

    /// <summary><see cref="WorkbenchRules.IsIn"/> as a WHERE clause over a customer and the contact it is owed.</summary>
    private static Expression<Func<DatedCustomer, bool>> Rule(WorkbenchView view, ListContext context)
    {
        var w = context.Window;
        var (now, end, stalled, assigned) = (w.Now, w.TodayEnd, w.StalledAtOrBefore, w.AssignedAfter);
        var closed = context.ClosedStages;
        var grade = context.HighIntentGrade;
        return view switch
        {
            WorkbenchView.Today => x => x.Customer.OwnerId != null && !closed.Contains(x.Customer.Stage)
                                        && x.ContactDue >= now && x.ContactDue < end,
            WorkbenchView.Overdue => x => x.Customer.OwnerId != null && !closed.Contains(x.Customer.Stage) && x.ContactDue < now,
            WorkbenchView.Stalled when grade is null => x => false,
            WorkbenchView.Stalled => x => x.Customer.OwnerId != null && !closed.Contains(x.Customer.Stage) && x.Customer.Grade == grade
                                          && (x.Customer.AssignedAt ?? x.Customer.CreatedAt) <= stalled
                                          && (x.Customer.StageChangedAt == null || x.Customer.StageChangedAt <= stalled),
            // WorkbenchRules.EnteredByOwner, negated.
            WorkbenchView.NewAssignments => x => x.Customer.OwnerId != null && (x.Customer.AssignedAt ?? x.Customer.CreatedAt) > assigned
                && !(x.Customer.CreatedById != null && x.Customer.CreatedById == x.Customer.OwnerId
                     && (x.Customer.AssignedAt ?? x.Customer.CreatedAt) == x.Customer.CreatedAt),
            _ => throw new ArgumentOutOfRangeException(nameof(view)),
        };
    }

    private sealed class ListCounts
    {
        public int Today { get; init; }
        public int Overdue { get; init; }
        public int Stalled { get; init; }
        public int NewAssignments { get; init; }
    }

    /// <summary>
    /// How many customers of <paramref name="query"/> each list holds, in one statement and one pass: a conditional count per
    /// list over the customers with their contact owed, each condition the list's own <see cref="Rule"/>.
    /// </summary>
    private static async Task<Dictionary<WorkbenchView, int>> CountsAsync(IQueryable<Customer> query, TideflowDbContext db, ListContext context,
        CancellationToken ct)
    {
        // g => new ListCounts { Today = g.Count(<today's rule>), … }, built from the rules so the counts cannot drift from the lists.
        var g = Expression.Parameter(typeof(IGrouping<int, DatedCustomer>), "g");
        var bindings = WorkbenchRules.Keys.Keys.Select(view => Expression.Bind(typeof(ListCounts).GetProperty(view.ToString())!,
            Expression.Call(typeof(Enumerable), nameof(Enumerable.Count), [typeof(DatedCustomer)], g, Rule(view, context))));
        var select = Expression.Lambda<Func<IGrouping<int, DatedCustomer>, ListCounts>>(
            Expression.MemberInit(Expression.New(typeof(ListCounts)), bindings), g);
        var counts = await Dated(query, db).GroupBy(x => 1).Select(select).SingleOrDefaultAsync(ct) ?? new ListCounts();
        return WorkbenchRules.Keys.Keys.ToDictionary(v => v, v => (int)typeof(ListCounts).GetProperty(v.ToString())!.GetValue(counts)!);
    }

    /// <summary>Most urgent first: the longest overdue, the soonest today, the longest stalled, the newest hand-over.</summary>
    public static IQueryable<Customer> MostUrgentFirst(IQueryable<Customer> query, TideflowDbContext db, WorkbenchView view) =>
        UrgentFirst(DatedFor(query, db, view), view).Select(x => x.Customer);

    private static IQueryable<DatedCustomer> UrgentFirst(IQueryable<DatedCustomer> query, WorkbenchView view) => view switch
    {
        WorkbenchView.Today or WorkbenchView.Overdue => query.OrderBy(x => x.ContactDue).ThenBy(x => x.Customer.Id),
        WorkbenchView.Stalled => query.OrderBy(x => x.Customer.StageChangedAt != null
                                                    && x.Customer.StageChangedAt > (x.Customer.AssignedAt ?? x.Customer.CreatedAt)
                ? x.Customer.StageChangedAt : (x.Customer.AssignedAt ?? x.Customer.CreatedAt))
            .ThenBy(x => x.Customer.Id),
        _ => query.OrderByDescending(x => x.Customer.AssignedAt ?? x.Customer.CreatedAt).ThenBy(x => x.Customer.Id),
    };

    private sealed class DatedCustomer
    {
        public required Customer Customer { get; init; }
        public DateTimeOffset? ContactDue { get; init; }
    }

    private sealed class TaskDue
    {
        public Guid? CustomerId { get; init; }
        public DateTimeOffset? Due { get; init; }
    }

    /// <summary>
    /// Each customer with <see cref="WorkbenchRules.ContactDue"/>: the earlier of its planned next contact and its open
    /// contact tasks (those a follow-up closes; a stage task is closed by moving the stage, so it is no contact owed).
    /// The tasks are grouped once and joined, not a subquery per customer: EF writes a subquery out again wherever its
    /// value is used (four times per customer in "due today"), which made PostgreSQL's estimate cross its JIT threshold
    /// and compile every execution (measured at 1M customers: 24 ms of a 67 ms count).
    /// </summary>
    private static IQueryable<DatedCustomer> Dated(IQueryable<Customer> query, TideflowDbContext db) =>
        from c in query
        join t in from t in db.FollowUpTasks
                  where t.CustomerId != null && t.ClosedAt == null
                        && (t.Kind == TaskKinds.FirstContact || t.Kind == TaskKinds.NextContact || t.Kind == TaskKinds.PlanStep)
                  group t by t.CustomerId into g
                  select new TaskDue { CustomerId = g.Key, Due = g.Min(t => (DateTimeOffset?)t.DueAt) }
            on (Guid?)c.Id equals t.CustomerId into tasks
        from t in tasks.DefaultIfEmpty()
        select new DatedCustomer { Customer = c, ContactDue = c.NextContactAt == null || t!.Due < c.NextContactAt ? t!.Due : c.NextContactAt };

    /// <summary>A list's first rows, most urgent first as <see cref="UrgentFirst"/> orders them in the database.</summary>
    private static List<WorkbenchRow> Top(IEnumerable<StoredCustomer> rows, WorkbenchView view)
    {
        var shown = rows.Select(f => new WorkbenchRow(f.Id, f.Name, f.Company, f.Facts.Grade, f.Facts.Stage, f.Facts.OwnerId, f.OwnerName, view switch
        {
            WorkbenchView.Today or WorkbenchView.Overdue => WorkbenchRules.ContactDue(f.Facts),
            WorkbenchView.Stalled => WorkbenchRules.StalledSince(f.Facts),
            _ => f.Facts.AssignedAt ?? f.Facts.CreatedAt,
        }));
        // The newest hand-over first; on the other lists the earliest time first.
        var ordered = view == WorkbenchView.NewAssignments ? shown.OrderByDescending(r => r.At) : shown.OrderBy(r => r.At);
        return ordered.ThenBy(r => r.CustomerId).Take(TopRows).ToList();
    }

    public sealed record StoredCustomer(Guid Id, string Name, string? Company, string? OwnerName, WorkbenchFacts Facts);

    /// <summary>
    /// The customers of <paramref name="query"/> with what the lists need. The contact they are owed is already the earliest
    /// of their plan and open contact tasks, so it stands in for the tasks (<see cref="WorkbenchRules.ContactDue"/> gives the same).
    /// </summary>
    private static async Task<List<StoredCustomer>> DatedRowsAsync(TideflowDbContext db, IQueryable<DatedCustomer> query, CancellationToken ct) =>
        (await (from x in query
                join u in db.Users on x.Customer.OwnerId equals u.Id into us
                from u in us.DefaultIfEmpty()
                select new
                {
                    x.Customer.Id, x.Customer.Name, x.Customer.Company, OwnerName = u == null ? null : u.DisplayName, x.Customer.Stage,
                    x.Customer.Grade, x.Customer.OwnerId, x.Customer.CreatedById, x.Customer.CreatedAt, x.Customer.AssignedAt,
                    x.Customer.StageChangedAt, x.Customer.NextContactAt, x.ContactDue,
                }).ToListAsync(ct))
        .Select(r => new StoredCustomer(r.Id, r.Name, r.Company, r.OwnerName, new WorkbenchFacts(r.Stage, r.Grade, r.OwnerId, r.CreatedById,
            r.CreatedAt, r.AssignedAt, r.StageChangedAt, r.NextContactAt, r.ContactDue is { } due ? [due] : []))).ToList();

    /// <summary>The facts of the customers of <paramref name="query"/> in its order, with their open contact tasks.</summary>
    public static async Task<List<StoredCustomer>> LoadFactsAsync(TideflowDbContext db, IQueryable<Customer> query, CancellationToken ct)
    {
        var rows = await (from c in query
                          join u in db.Users on c.OwnerId equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          select new
                          {
                              c.Id, c.Name, c.Company, OwnerName = u == null ? null : u.DisplayName, c.Stage, c.Grade, c.OwnerId, c.CreatedById,
                              c.CreatedAt, c.AssignedAt, c.StageChangedAt, c.NextContactAt,
                          }).ToListAsync(ct);
        var ids = rows.Select(r => r.Id).ToList();
        var tasks = await db.FollowUpTasks.AsNoTracking()
            .Where(t => t.CustomerId != null && ids.Contains(t.CustomerId.Value) && t.ClosedAt == null
                        && (t.Kind == TaskKinds.FirstContact || t.Kind == TaskKinds.NextContact || t.Kind == TaskKinds.PlanStep))
            .Select(t => new { CustomerId = t.CustomerId!.Value, t.DueAt }).ToListAsync(ct);
        var due = tasks.ToLookup(t => t.CustomerId, t => t.DueAt);
        return rows.Select(r => new StoredCustomer(r.Id, r.Name, r.Company, r.OwnerName,
            new WorkbenchFacts(r.Stage, r.Grade, r.OwnerId, r.CreatedById, r.CreatedAt, r.AssignedAt, r.StageChangedAt, r.NextContactAt, due[r.Id].ToList()))).ToList();
    }
}

public static class WorkbenchEndpoints
{
    public static void MapWorkbench(this RouteGroupBuilder api) =>
        api.MapGet("/workbench", (WorkbenchLists h, CancellationToken ct) => h.SummaryAsync(ct)).WithTags("Workbench");
}
