using Tideflow.Bench.Generation;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Workbench;

namespace Tideflow.Bench.Tests.Generation;

/// <summary>Follow-ups, stage moves and open tasks: pure generation, checked against the app's own pipeline and workbench rules.</summary>
public sealed class PursuitGeneratorTests
{
    private static readonly Scale Tiny = new("tiny", 5_003, 20, 200, BenchRepCustomers: 700);
    private static readonly SalesPipeline Pipeline = SalesPipeline.Default;
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly string[] ContactKinds = ["first-contact", "next-contact", "plan-step"];

    [Fact]
    public void The_same_seed_and_now_give_the_same_histories_and_another_seed_other_ones()
    {
        var a = new Generator(Tiny, 42);
        var b = new Generator(Tiny, 42);
        var first = a.Histories(a.Organisation()).Take(300).ToList();
        var again = b.Histories(b.Organisation()).Take(300).ToList();
        Assert.Equal(first.Select(h => h.Customer), again.Select(h => h.Customer));
        Assert.Equal(first.SelectMany(h => h.Records), again.SelectMany(h => h.Records));
        Assert.Equal(first.SelectMany(h => h.Moves), again.SelectMany(h => h.Moves));
        Assert.Equal(first.SelectMany(h => h.Tasks), again.SelectMany(h => h.Tasks));
        Assert.Equal(first.SelectMany(h => h.Ownership), again.SelectMany(h => h.Ownership));

        var c = new Generator(Tiny, 43);
        Assert.NotEqual(first.SelectMany(h => h.Records).Select(r => r.At).Take(200),
            c.Histories(c.Organisation()).Take(300).SelectMany(h => h.Records).Select(r => r.At).Take(200));
    }

    [Fact]
    public void Customers_are_the_histories_customers_row_for_row()
    {
        var g = new Generator(Tiny, 8);
        var org = g.Organisation();
        Assert.Equal(g.Customers(org), g.Histories(org).Select(h => h.Customer));
    }

    [Fact]
    public void Small_scale_has_about_ten_follow_ups_per_customer_and_the_bench_rep_exactly_2000_customers()
    {
        var g = new Generator(Scale.Small, 42);
        var org = g.Organisation();
        var histories = g.Histories(org).ToList();
        Assert.Equal(10_000, histories.Count);
        Assert.Equal(2_000, histories.Count(h => h.Customer.OwnerId == org.BenchRep.Id));
        var perCustomer = histories.Sum(h => h.Records.Count) / (double)histories.Count;
        Assert.InRange(perCustomer, 9, 12);
        // Each rep follows up their own, so the bench rep's customers carry about the same share.
        var bench = histories.Where(h => h.Customer.OwnerId == org.BenchRep.Id).Sum(h => h.Records.Count) / 2_000.0;
        Assert.InRange(bench, 9, 12);
    }

    [Fact]
    public void Follow_ups_lie_in_the_two_years_before_now_and_every_open_customers_record_plans_the_next_contact()
    {
        var now = new DateTimeOffset(2026, 11, 23, 2, 30, 0, TimeSpan.Zero);
        var g = new Generator(Tiny, 3, now);
        var org = g.Organisation();
        var reps = org.Reps.Select(r => r.Id).ToHashSet();
        var channels = new HashSet<string>();
        foreach (var h in g.Histories(org))
        {
            var closedAt = h.Moves.FirstOrDefault(m => Pipeline.IsClosed(m.To))?.At;
            foreach (var f in h.Records)
            {
                Assert.InRange(f.At, now - Generator.FollowUpWindow, now);
                Assert.Equal(h.Customer.Id, f.CustomerId);
                Assert.Equal(org.Organization.Id, f.OrganizationId);
                Assert.Contains(f.AuthorId, reps);
                Assert.True(Enum.TryParse<FollowUpChannel>(f.Channel, out var channel) && channel != FollowUpChannel.Other);
                channels.Add(f.Channel);
                Assert.Matches(@"^\p{IsCJKUnifiedIdeographs}", f.Content);
                Assert.InRange(f.Content.Length, 10, FollowUpRules.MaxContent);
                Assert.True(f.Goal is not null || !f.GoalReached);
                // What FollowUpRules asks of a record logged while the customer was open: a plan and a date ahead, within a year.
                var open = closedAt is null || f.At < closedAt;
                var problems = FollowUpRules.Problems(new FollowUpInput(Enum.Parse<FollowUpChannel>(f.Channel), f.Content, f.Goal, f.GoalReached,
                    f.NextPlan, f.NextContactAt), customerClosed: !open, f.At);
                Assert.Empty(problems);
            }
            Assert.Equal(h.Records.OrderBy(f => f.At).Select(f => f.At), h.Records.Select(f => f.At));
        }
        Assert.Equal(5, channels.Count);
    }

    [Fact]
    public void Pool_history_says_how_every_pooled_customer_got_there_and_how_handed_over_ones_were_claimed()
    {
        var g = new Generator(Tiny, 5);
        var org = g.Organisation();
        var pool = g.DefaultPool(org).Id;
        var reps = org.Reps.Select(r => r.Id).ToHashSet();
        var histories = g.Histories(org).ToList();
        foreach (var h in histories)
        {
            var c = h.Customer;
            Assert.All(h.Ownership, o => Assert.Equal((c.OrganizationId, c.Id, pool), (o.OrganizationId, o.CustomerId, o.PoolId)));
            Assert.Equal(h.Ownership.OrderBy(o => o.At).ThenBy(o => o.Event == "Claimed"), h.Ownership);
            if (c.OwnerId is null)
            {
                // It went to the pool from the rep before, when and why the customer row says, and nothing happened since.
                var into = h.Ownership[^1];
                Assert.Contains(into.Event, (string[])["Released", "Reclaimed"]);
                Assert.Equal((c.PooledAt!.Value, c.PoolReason!, (Guid?)null), (into.At, into.Reason, into.ToId));
                Assert.Contains(into.FromId!.Value, reps);
                // A rep releases by hand and names no rule; the sweep has no actor and names its rule.
                Assert.Equal(into.Event == "Released" ? (into.FromId, (string?)null) : (null, "NoFollowUp"), (into.ById, into.Rule));
            }
            foreach (var claim in h.Ownership.Where(o => o.Event == "Claimed"))
            {
                // Claimed by the rep who holds it now, from the pool the rule had put it in; never in the days a rep's
                // daily claim count could still see.
                Assert.Equal((c.OwnerId, c.OwnerId, (Guid?)null, c.AssignedAt), (claim.ToId, claim.ById, claim.FromId, (DateTimeOffset?)claim.At));
                Assert.True(claim.At < g.Now - Generator.QuietBeforeNow);
                var before = h.Ownership[h.Ownership.ToList().IndexOf(claim) - 1];
                Assert.Equal(("Reclaimed", (Guid?)null), (before.Event, before.ToId));
                Assert.NotEqual(c.OwnerId, before.FromId);
                Assert.True(c.CreatedAt <= before.At && before.At <= claim.At);
            }
        }
        Assert.All(histories.Where(h => h.Customer.OwnerId is null), h => Assert.NotEmpty(h.Ownership));
        // About 5 % of customers are in the pool and a few per cent of the others were claimed from it once.
        var claimed = histories.Count(h => h.Ownership.Any(o => o.Event == "Claimed"));
        Assert.InRange(claimed, histories.Count / 50, histories.Count / 10);
        Assert.Contains(histories, h => h.Ownership.Any(o => o.Event == "Released"));
        Assert.Contains(histories, h => h.Customer.OwnerId is null && h.Ownership[^1].Event == "Reclaimed");
    }

    [Fact]
    public void Each_customer_row_agrees_with_its_follow_ups_stage_moves_and_tasks()
    {
        var g = new Generator(Tiny, 11);
        var org = g.Organisation();
        foreach (var h in g.Histories(org))
        {
            var c = h.Customer;
            Assert.Equal(h.Records.Count == 0 ? null : h.Records.Max(f => f.At), c.LastFollowUpAt);
            // Stage history: 1, 2, 3 … each move from where the last one left, ending where the customer stands.
            Assert.Equal(Enumerable.Range(1, h.Moves.Count), h.Moves.Select(m => m.Sequence));
            var stage = SalesPipeline.First;
            foreach (var m in h.Moves)
            {
                Assert.Equal(stage, m.From);
                Assert.NotNull(Pipeline.Find(m.To));
                Assert.Equal(m.To == "lost", m.LostReason is not null);
                Assert.Equal(m.To == "won", m.Details is not null);
                stage = m.To;
            }
            Assert.Equal(stage, c.Stage);
            Assert.Equal(h.Moves.Count == 0 ? null : h.Moves[^1].At, c.StageChangedAt);
            Assert.True(c.CreatedAt <= c.AssignedAt && c.AssignedAt <= g.Now && c.UpdatedAt <= g.Now);
            Assert.Contains(c.Grade, (string[])["A", "B", "C"]);

            // The next contact is the last record's plan while the customer is held and not lost; a lost or pooled one owes none.
            var last = h.Records.Count == 0 ? null : h.Records[^1];
            if (c.OwnerId is null || c.Stage == "lost" || last is null)
            {
                Assert.Null(c.NextContactAt);
            }
            else if (c.Stage != "won" || h.Moves[^1].At < last.At)
            {
                Assert.Equal(last.NextContactAt, c.NextContactAt);
            }
            // A pool exactly while there is no owner, as the app keeps it.
            Assert.Equal(c.OwnerId is null ? g.DefaultPool(org).Id : null, c.PoolId);
            Assert.Equal(c.OwnerId is null, c.PooledAt is not null && c.PoolReason is not null);
            Assert.True(c.PooledAt is null || (c.PooledAt <= g.Now && c.PooledAt <= c.UpdatedAt && h.Records.All(f => f.At <= c.PooledAt)));
            // Tasks: only a held customer has open ones, its owner's; contact tasks say when the next contact is owed.
            Assert.True(c.OwnerId is not null || h.Tasks.Count == 0);
            Assert.All(h.Tasks, t =>
            {
                Assert.Equal(c.OwnerId, t.OwnerId);
                Assert.Equal(c.Id, t.CustomerId);
                Assert.True(t.RemindedAt is null == t.DueAt > g.Now);
            });
            Assert.True(h.Tasks.Count(t => ContactKinds.Contains(t.Kind)) <= 1);
            if (h.Tasks.SingleOrDefault(t => t.Kind == "next-contact") is { } next)
            {
                Assert.Equal(c.NextContactAt, next.DueAt);
            }
            if (h.Tasks.SingleOrDefault(t => t.Kind == "first-contact") is { } first)
            {
                // Nobody has followed it up since it was handed to its owner.
                Assert.DoesNotContain(h.Records, f => f.AuthorId == c.OwnerId && f.At >= c.AssignedAt);
                Assert.Equal(c.AssignedAt!.Value.AddHours(48), first.DueAt);
            }
            Assert.All(h.Tasks.Where(t => t.Kind == "stage-task"), t => Assert.Equal(Pipeline.Find(c.Stage)!.OnEnter.First(a => a.Kind == StageActionKind.Task).Title, t.Title));
            // Follow-ups after the hand-over are the owner's.
            Assert.All(h.Records.Where(f => c.OwnerId is not null && f.At >= c.AssignedAt), f => Assert.Equal(c.OwnerId, f.AuthorId));
        }
    }

    [Fact]
    public void Ids_are_unique_version_7_guids_of_the_rows_instant()
    {
        var g = new Generator(Tiny, 5);
        var histories = g.Histories(g.Organisation()).ToList();
        var records = histories.SelectMany(h => h.Records).ToList();
        var ids = records.Select(f => f.Id).Concat(histories.SelectMany(h => h.Moves).Select(m => m.Id))
            .Concat(histories.SelectMany(h => h.Tasks).Select(t => t.Id)).Concat(histories.Select(h => h.Customer.Id)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(records.Take(1_000), f =>
        {
            Assert.Equal(7, f.Id.Version);
            var bytes = f.Id.ToByteArray(bigEndian: true);
            var ms = bytes.Take(6).Aggregate(0L, (acc, b) => (acc << 8) | b);
            Assert.Equal(f.At.ToUnixTimeMilliseconds(), ms);
        });
    }

    [Fact]
    public void The_bench_reps_workbench_lists_all_have_content_by_the_apps_own_rule()
    {
        // A Monday morning in China, so today has contacts to make.
        var now = new DateTimeOffset(2026, 11, 23, 1, 0, 0, TimeSpan.Zero);
        var g = new Generator(Scale.Small, 42, now);
        var org = g.Organisation();
        var window = WorkbenchWindow.At(now, Shanghai, WorkbenchSettings.Default);
        var counts = new Dictionary<WorkbenchView, int>();
        int future = 0, due = 0;
        foreach (var h in g.Histories(org).Where(h => h.Customer.OwnerId == org.BenchRep.Id))
        {
            var c = h.Customer;
            var facts = new WorkbenchFacts(c.Stage, c.Grade, c.OwnerId, c.CreatedById, c.CreatedAt, c.AssignedAt, c.StageChangedAt, c.NextContactAt,
                h.Tasks.Where(t => ContactKinds.Contains(t.Kind)).Select(t => t.DueAt).ToList());
            foreach (var view in Enum.GetValues<WorkbenchView>())
            {
                if (WorkbenchRules.IsIn(view, facts, window, Pipeline, "A"))
                {
                    counts[view] = counts.GetValueOrDefault(view) + 1;
                }
            }
            foreach (var t in h.Tasks)
            {
                (future, due) = t.DueAt > now ? (future + 1, due) : (future, due + 1);
            }
        }
        // Some due today, some overdue, most in the future; some stalled high-intent customers, a few new ones.
        Assert.InRange(counts.GetValueOrDefault(WorkbenchView.Today), 20, 300);
        Assert.InRange(counts.GetValueOrDefault(WorkbenchView.Overdue), 20, 300);
        Assert.InRange(counts.GetValueOrDefault(WorkbenchView.Stalled), 20, 500);
        Assert.InRange(counts.GetValueOrDefault(WorkbenchView.NewAssignments), 1, 50);
        Assert.True(future > 3 * due, $"{future} tasks ahead, {due} due");
    }

    [Fact]
    public void The_data_sets_now_can_be_read_back_from_the_organisations_founding()
    {
        var now = new DateTimeOffset(2026, 11, 23, 2, 30, 15, TimeSpan.Zero);
        var org = new Generator(Tiny, 1, now).Organisation();
        Assert.Equal(now, Generator.NowOf(org.Organization.CreatedAt));
        Assert.Equal(Generator.Epoch, Generator.NowOf(new Generator(Tiny, 1).Organisation().Organization.CreatedAt));
    }
}
