using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Scoring;

namespace Tideflow.Domain.Workbench;

/// <summary>The lists a rep starts the day with (工作台, R5.7); 即将回收 is the pool's own rule (<c>PoolRules</c>).</summary>
public enum WorkbenchView
{
    /// <summary>今日待联系: the next contact falls later today, in the viewer's time zone.</summary>
    Today,
    /// <summary>逾期未跟进: the next contact is already past and nobody has followed up since.</summary>
    Overdue,
    /// <summary>高意向未推进: best grade, still open, and no stage move for N days.</summary>
    Stalled,
    /// <summary>新分配: handed to its owner in the last N days.</summary>
    NewAssignments,
}

/// <summary>How far back "not advanced" and "new" look (R5.7: "not advanced in N days").</summary>
public sealed record WorkbenchSettings(int StalledDays = 7, int NewAssignmentDays = 3)
{
    public static WorkbenchSettings Default { get; } = new();
}

/// <summary>What the lists need to know about one customer, as stored.</summary>
/// <param name="OpenContactTasksDue">Due times of its open first-contact and next-contact tasks — the ones a follow-up closes.</param>
public sealed record WorkbenchFacts(
    string Stage,
    string? Grade,
    Guid? OwnerId,
    Guid? CreatedById,
    DateTimeOffset CreatedAt,
    DateTimeOffset? AssignedAt,
    DateTimeOffset? StageChangedAt,
    DateTimeOffset? NextContactAt,
    IReadOnlyList<DateTimeOffset> OpenContactTasksDue);

/// <summary>
/// The instants every list compares against, worked out once from <c>now</c>: the queries put them in their WHERE,
/// <see cref="WorkbenchRules.IsIn"/> compares facts with them, and a test holds the two to agreement.
/// </summary>
/// <param name="TodayEnd">Where the viewer's local day ends, as a UTC instant.</param>
/// <param name="StalledAtOrBefore">A customer last moved (or handed over) at or before this is not advancing.</param>
/// <param name="AssignedAfter">Handed over after this is new.</param>
public sealed record WorkbenchWindow(DateTimeOffset Now, DateTimeOffset TodayStart, DateTimeOffset TodayEnd,
    DateTimeOffset StalledAtOrBefore, DateTimeOffset AssignedAfter)
{
    public static WorkbenchWindow At(DateTimeOffset now, TimeZoneInfo zone, WorkbenchSettings settings)
    {
        var (start, end) = WorkbenchRules.LocalDay(now, zone);
        return new(now, start, end, now - TimeSpan.FromDays(settings.StalledDays), now - TimeSpan.FromDays(settings.NewAssignmentDays));
    }
}

public static class WorkbenchRules
{
    /// <summary>How each list is named in a URL (<c>/customers?view=overdue</c>) and in the API.</summary>
    public static readonly IReadOnlyDictionary<WorkbenchView, string> Keys = new Dictionary<WorkbenchView, string>
    {
        [WorkbenchView.Today] = "today",
        [WorkbenchView.Overdue] = "overdue",
        [WorkbenchView.Stalled] = "stalled",
        [WorkbenchView.NewAssignments] = "new-assignments",
    };

    public static bool TryParse(string? key, out WorkbenchView view)
    {
        foreach (var (v, k) in Keys)
        {
            if (string.Equals(k, key?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                view = v;
                return true;
            }
        }
        view = default;
        return false;
    }

    /// <summary>
    /// The viewer's calendar day containing <paramref name="now"/>, as UTC instants [start, end). A day is not always
    /// 24 hours: where clocks jump at midnight it starts when they land, and a day with a fall-back hour has 25.
    /// </summary>
    public static (DateTimeOffset Start, DateTimeOffset End) LocalDay(DateTimeOffset now, TimeZoneInfo zone)
    {
        var date = TimeZoneInfo.ConvertTime(now, zone).Date;
        return (StartOf(date, zone), StartOf(date.AddDays(1), zone));
    }

    private static DateTimeOffset StartOf(DateTime date, TimeZoneInfo zone)
    {
        var midnight = DateTime.SpecifyKind(date, DateTimeKind.Unspecified);
        // A midnight that happens twice counts from its first time, so the day before does not get an extra hour of ours.
        var offset = zone.IsAmbiguousTime(midnight) ? zone.GetAmbiguousTimeOffsets(midnight).Max()
            // A midnight skipped by a forward jump: the old offset gives the instant of the jump, where the day begins.
            : zone.IsInvalidTime(midnight) ? zone.GetUtcOffset(midnight.AddHours(-1))
            : zone.GetUtcOffset(midnight);
        return new DateTimeOffset(midnight, offset).ToUniversalTime();
    }

    /// <summary>
    /// When the customer is next owed a contact: the earliest of its open contact tasks and the next contact its last
    /// follow-up planned. Null when nothing is owed. A follow-up closes those tasks and replaces the plan, so a time in
    /// the past means nobody has followed up since.
    /// </summary>
    public static DateTimeOffset? ContactDue(WorkbenchFacts f)
    {
        DateTimeOffset? due = f.NextContactAt;
        foreach (var task in f.OpenContactTasksDue)
        {
            if (due is null || task < due)
            {
                due = task;
            }
        }
        return due;
    }

    /// <summary>
    /// The grade that means high intent: the best band of the score card by threshold, so a renamed "A" still counts
    /// (as <see cref="FirstContact"/> ranks them).
    /// </summary>
    public static string? HighIntentGrade(ScoreCard card) => card.Grades.MaxBy(g => g.MinScore)?.Name;

    /// <summary>
    /// Since when a customer has not advanced: its last stage move, or its hand-over to the current owner when that is
    /// later — the pool's "no stage progress" rule measures the same way, so a customer just handed over gives its new
    /// owner the full N days (it shows under new assignments meanwhile).
    /// </summary>
    public static DateTimeOffset StalledSince(WorkbenchFacts f)
    {
        var assigned = f.AssignedAt ?? f.CreatedAt;
        return f.StageChangedAt is { } moved && moved > assigned ? moved : assigned;
    }

    /// <summary>A customer its owner typed in themselves was never handed to them: no news on their workbench.</summary>
    public static bool EnteredByOwner(WorkbenchFacts f) =>
        f.CreatedById is not null && f.CreatedById == f.OwnerId && (f.AssignedAt ?? f.CreatedAt) == f.CreatedAt;

    /// <summary>
    /// Whether a customer belongs on a list. Only owned customers are on any list (a pooled one is nobody's work yet);
    /// won or lost ones are owed no contact and cannot advance, so they are only ever news.
    /// </summary>
    public static bool IsIn(WorkbenchView view, WorkbenchFacts f, WorkbenchWindow w, SalesPipeline pipeline, string? highIntentGrade)
    {
        if (f.OwnerId is null)
        {
            return false;
        }
        var open = !pipeline.IsClosed(f.Stage);
        return view switch
        {
            // Today holds what is still to do today; once its time passes a contact moves to overdue, so the two lists
            // never count one customer twice.
            WorkbenchView.Today => open && ContactDue(f) is { } due && due >= w.Now && due < w.TodayEnd,
            WorkbenchView.Overdue => open && ContactDue(f) is { } late && late < w.Now,
            WorkbenchView.Stalled => open && highIntentGrade is not null && string.Equals(f.Grade, highIntentGrade, StringComparison.Ordinal)
                                     && StalledSince(f) <= w.StalledAtOrBefore,
            WorkbenchView.NewAssignments => (f.AssignedAt ?? f.CreatedAt) > w.AssignedAfter && !EnteredByOwner(f),
            _ => false,
        };
    }
}
