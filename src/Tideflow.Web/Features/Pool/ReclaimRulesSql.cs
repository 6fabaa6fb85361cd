using System.Linq.Expressions;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Pool;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Customers;

namespace Tideflow.Web.Features.Pool;

/// <summary>
/// <see cref="PoolRules"/> as a WHERE clause, so the sweep and its preview pick due customers in the database instead of
/// loading every customer. Each rule's cutoff is <see cref="ReclaimRule.Cutoff"/> and its anchor the one of
/// <see cref="PoolRules.Anchor"/> (the later of the assignment and the last contact …), written out as comparisons;
/// the sweep then asks <see cref="PoolRules.Evaluate"/> about each picked customer, and a test holds the two to agreement.
/// </summary>
public static class ReclaimRulesSql
{
    /// <summary>Customers the rules make due at <paramref name="now"/> (not exempt). Pass a later now to find those due soon.</summary>
    public static Expression<Func<Customer, bool>> Due(PoolSettings s, SalesPipeline pipeline, TideflowDbContext db, DateTimeOffset now)
    {
        // As PoolRules.Evaluate: protection spares from every rule, a stage exemption from all but the contract's end.
        var notStageExempt = NotStageExempt(s, pipeline);
        var rules = s.Rules.Select(r => (Rule: r, Due: RuleDue(r, s, pipeline, db, now)))
            .Select(x => x.Rule.When.SparedByStage() ? And(notStageExempt, x.Due) : x.Due).ToList();
        var due = rules.Count == 0 ? (c => false)
            : rules.Aggregate((a, b) => s.Combine == Domain.Pool.Combine.Any ? Or(a, b) : And(a, b));
        return And(c => c.ProtectedUntil == null || c.ProtectedUntil <= now, due);
    }

    private static Expression<Func<Customer, bool>> NotStageExempt(PoolSettings s, SalesPipeline pipeline)
    {
        var exemptStages = new List<string>();
        if (s.ExemptWon)
        {
            exemptStages.AddRange(pipeline.Stages.Where(x => x.Outcome == StageOutcome.Won).Select(x => x.Key));
        }
        if (s.ExemptFromStage is { } from)
        {
            exemptStages.AddRange(PoolRules.StagesReached(pipeline, from).Where(k => pipeline.Find(k)?.Outcome == StageOutcome.Open));
        }
        return c => !exemptStages.Contains(c.Stage);
    }

    private static Expression<Func<Customer, bool>> RuleDue(ReclaimRule r, PoolSettings s, SalesPipeline pipeline, TideflowDbContext db, DateTimeOffset now)
    {
        var graded = r.ByGrade?.Keys.ToList() ?? [];
        var byGrade = graded.Select(g => And(c => c.Grade == g, AnchorAtOrBefore(r, s, pipeline, db, r.Cutoff(g, now))));
        var rest = And(c => c.Grade == null || !graded.Contains(c.Grade), AnchorAtOrBefore(r, s, pipeline, db, r.Cutoff(null, now)));
        return byGrade.Aggregate(rest, Or);
    }

    private static Expression<Func<Customer, bool>> AnchorAtOrBefore(ReclaimRule r, PoolSettings s, SalesPipeline pipeline, TideflowDbContext db, DateTimeOffset cut)
    {
        var channels = s.CountedChannels?.Select(ch => Enum.Parse<FollowUpChannel>(ch, ignoreCase: true)).ToList() ?? [];
        var every = s.CountsEveryChannel;
        var records = db.FollowUpRecords;
        switch (r.When)
        {
            case ReclaimWhen.NoFollowUp:
                return every
                    ? c => (c.AssignedAt ?? c.CreatedAt) <= cut && (c.LastFollowUpAt == null || c.LastFollowUpAt <= cut)
                    : c => (c.AssignedAt ?? c.CreatedAt) <= cut && !records.Any(f => f.CustomerId == c.Id && channels.Contains(f.Channel) && f.At > cut);
            case ReclaimWhen.NoStageProgress:
                return c => (c.AssignedAt ?? c.CreatedAt) <= cut && (c.StageChangedAt == null || c.StageChangedAt <= cut);
            case ReclaimWhen.NotReachedStage:
                var reached = PoolRules.StagesReached(pipeline, r.Stage).ToList();
                var measured = PoolRules.StagesOfPipeline(pipeline, r.Stage).ToList();
                return c => (c.AssignedAt ?? c.CreatedAt) <= cut && measured.Contains(c.Stage) && !reached.Contains(c.Stage);
            case ReclaimWhen.FirstContactMissed:
                return every
                    ? c => c.ClaimedAt != null && c.ClaimedAt <= cut && (c.LastFollowUpAt == null || c.LastFollowUpAt < c.ClaimedAt)
                    : c => c.ClaimedAt != null && c.ClaimedAt <= cut && !records.Any(f => f.CustomerId == c.Id && channels.Contains(f.Channel) && f.At >= c.ClaimedAt);
            case ReclaimWhen.ContractEnded:
                return c => (c.AssignedAt ?? c.CreatedAt) <= cut && c.ContractEndsAt != null && c.ContractEndsAt <= cut;
            default:
                return c => false;
        }
    }

    public static Expression<Func<T, bool>> And<T>(Expression<Func<T, bool>> a, Expression<Func<T, bool>> b) =>
        Combine(a, b, Expression.AndAlso);

    public static Expression<Func<T, bool>> Or<T>(Expression<Func<T, bool>> a, Expression<Func<T, bool>> b) =>
        Combine(a, b, Expression.OrElse);

    private static Expression<Func<T, bool>> Combine<T>(Expression<Func<T, bool>> a, Expression<Func<T, bool>> b, Func<Expression, Expression, BinaryExpression> op)
    {
        var p = a.Parameters[0];
        return Expression.Lambda<Func<T, bool>>(op(a.Body, new Rebind(b.Parameters[0], p).Visit(b.Body)), p);
    }

    private sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
    }
}
