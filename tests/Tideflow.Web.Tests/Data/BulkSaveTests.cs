using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Data;

/// <summary>The import's bulk save must store rows exactly as SaveChanges does, and all or nothing.</summary>
public abstract class BulkSaveTests<TApp>(TApp app) where TApp : TideflowApp
{
    // Dependents tracked before their lead: the bulk save orders tables by their foreign keys.
    private static List<object> Rows(Guid org, string mobile, DateTimeOffset at) => Rows(org, Guid.CreateVersion7(), mobile, at);

    private static List<object> Rows(Guid org, Guid leadId, string mobile, DateTimeOffset at) =>
    [
        new ContactKey { OrganizationId = org, Key = $"m:{mobile}", LeadId = leadId },
        new CaptureReceipt { OrganizationId = org, Key = $"bulk:{mobile}", LeadId = leadId, At = at },
        new LeadTouch { Id = Guid.CreateVersion7(), OrganizationId = org, LeadId = leadId, Kind = "import", At = at, RawPayload = "{\"姓名\":\"张三\"}" },
        new Lead
        {
            Id = leadId, OrganizationId = org, Name = "张三", Mobile = mobile, Status = LeadStatus.Queued, Problems = null,
            Score = 55, Grade = "B", BehaviourPoints = 1.5, BantBudget = true, ArrivedAt = at, UpdatedAt = at.AddTicks(7), ScoredAt = at,
        },
    ];

    [Fact]
    public async Task Rows_saved_in_bulk_read_back_exactly_as_the_same_rows_saved_by_SaveChanges()
    {
        var org = await app.NewOrgAsync();
        // Ticks PostgreSQL cannot keep are dropped by both paths alike.
        var at = app.Clock.GetUtcNow().AddTicks(3);
        var one = Rows(org.Id, "+8613800000001", at);
        var bulk = Rows(org.Id, "+8613800000002", at);
        await app.InDbAsync(async db =>
        {
            db.AddRange(one);
            return await db.SaveChangesAsync();
        });
        var saved = await app.InDbAsync(async db =>
        {
            db.AddRange(bulk);
            return await db.SaveNewRowsAsync();
        });
        // Four rows and, as with SaveChanges, an audit entry for each.
        Assert.Equal(8, saved);
        Assert.Equal(1, await app.InDbAsync(db => db.AuditEntries.CountAsync(e => e.EntityType == nameof(Lead) && e.EntityId == ((Lead)bulk[3]).Id.ToString())));
        // The import's way: its own rows never tracked, entity auditing off. Two of each, so the values they share are
        // written as literals of the statement.
        var untracked = Rows(org.Id, "+8613800000007", at).Concat(Rows(org.Id, "+8613800000008", at)).ToList();
        Assert.Equal(8, await app.InDbAsync(async db =>
        {
            db.AuditEntityChanges = false;
            return await db.SaveNewRowsAsync(untracked);
        }));

        var (leads, keys, receipts, touches) = await app.InDbAsync(async db => (
            await db.Leads.AsNoTracking().Where(l => l.OrganizationId == org.Id && l.Mobile!.StartsWith("+86138000000")).OrderBy(l => l.Mobile).ToListAsync(),
            await db.ContactKeys.AsNoTracking().Where(k => k.OrganizationId == org.Id).OrderBy(k => k.Key).ToListAsync(),
            await db.CaptureReceipts.AsNoTracking().Where(r => r.OrganizationId == org.Id).OrderBy(r => r.Key).ToListAsync(),
            await db.LeadTouches.AsNoTracking().Where(t => t.OrganizationId == org.Id).ToListAsync()));

        Assert.Equal(4, leads.Count);
        var a = leads[0];
        foreach (var b in leads.Skip(1))
        {
            Assert.Equal((a.Name, a.Status, a.Score, a.Grade, a.BehaviourPoints, a.BantBudget, a.ArrivedAt, a.UpdatedAt, a.ScoredAt, a.Problems, a.OwnerId),
                (b.Name, b.Status, b.Score, b.Grade, b.BehaviourPoints, b.BantBudget, b.ArrivedAt, b.UpdatedAt, b.ScoredAt, b.Problems, b.OwnerId));
            // Found by key: the Guid is stored in the form the model's queries compare with.
            Assert.Equal("张三", await app.InDbAsync(db => db.Leads.Where(l => l.Id == b.Id).Select(l => l.Name).SingleAsync()));
        }
        Assert.Equal(LeadStatus.Queued, leads[2].Status);
        Assert.Equal([((Lead)one[3]).Id, ((Lead)bulk[3]).Id, ((Lead)untracked[3]).Id, ((Lead)untracked[7]).Id], leads.Select(l => l.Id));
        // The database numbered the identity rows of every path, and the links point at the right lead.
        Assert.Equal(leads.Select(l => l.Id), keys.Select(k => k.LeadId!.Value));
        Assert.Equal(4, keys.Select(k => k.Id).Where(id => id > 0).Distinct().Count());
        Assert.Equal(leads.Select(l => l.Id), receipts.Select(r => r.LeadId));
        Assert.All(receipts, r => Assert.Equal(receipts[0].At, r.At));
        Assert.Equal(4, touches.Count);
        Assert.All(touches, t => Assert.Equal(("import", "{\"姓名\":\"张三\"}"), (t.Kind, t.RawPayload)));
    }

    [Fact]
    public async Task A_refused_row_writes_nothing_of_the_save_and_is_reported_as_a_unique_key_violation()
    {
        var org = await app.NewOrgAsync();
        var at = app.Clock.GetUtcNow();
        await app.InDbAsync(async db =>
        {
            db.AddRange(Rows(org.Id, "+8613800000003", at));
            return await db.SaveNewRowsAsync();
        });
        // The new lead's second contact key is taken: its lead, touch and receipt must not be stored either.
        var fresh = Guid.CreateVersion7();
        var refused = await Assert.ThrowsAsync<DbUpdateException>(() => app.InDbAsync(async db =>
        {
            db.AddRange(Rows(org.Id, fresh, "+8613800000004", at));
            db.Add(new ContactKey { OrganizationId = org.Id, Key = "m:+8613800000003", LeadId = fresh });
            return await db.SaveNewRowsAsync();
        }));
        Assert.True(CaptureLead.IsUniqueViolation(refused));
        Assert.Equal((1, 0, 1), await app.InDbAsync(async db => (
            await db.Leads.CountAsync(l => l.OrganizationId == org.Id && l.Mobile!.StartsWith("+86138000000")),
            await db.LeadTouches.CountAsync(t => t.LeadId == fresh),
            await db.ContactKeys.CountAsync(k => k.OrganizationId == org.Id))));
    }

    [Fact]
    public async Task A_change_to_an_existing_row_is_refused_before_anything_is_written()
    {
        var org = await app.NewOrgAsync();
        var at = app.Clock.GetUtcNow();
        var rows = Rows(org.Id, "+8613800000005", at);
        var lead = (Lead)rows[3];
        await app.InDbAsync(async db =>
        {
            db.AddRange(rows);
            return await db.SaveChangesAsync();
        });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            (await db.Leads.SingleAsync(l => l.Id == lead.Id)).Name = "李四";
            db.AddRange(Rows(org.Id, "+8613800000006", at));
            return await db.SaveNewRowsAsync();
        }));
        Assert.Contains("Lead is Modified", error.Message);
        Assert.Equal((1, "张三"), await app.InDbAsync(async db => (
            await db.Leads.CountAsync(l => l.OrganizationId == org.Id && l.Mobile!.StartsWith("+86138000000")),
            await db.Leads.Where(l => l.Id == lead.Id).Select(l => l.Name).SingleAsync())));
    }

    [Fact]
    public async Task Untracked_rows_are_refused_with_auditing_on_outside_the_callers_organisation_or_without_their_key()
    {
        var org = await app.NewOrgAsync();
        var other = await app.NewOrgAsync();
        var at = app.Clock.GetUtcNow();
        var audited = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(db => db.SaveNewRowsAsync(Rows(org.Id, "+8613800000018", at))));
        Assert.Contains("auditing off", audited.Message);
        var foreign = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            db.CurrentUser.Set(Tideflow.Web.Features.Access.DataScope.ForChannel(org.Id, "import"));
            db.AuditEntityChanges = false;
            return await db.SaveNewRowsAsync(Rows(other.Id, "+8613800000009", at));
        }));
        Assert.Contains("outside the caller's organisation", foreign.Message);
        // A Guid key is the caller's to set: a lead without one is refused, not stored under an empty id.
        var unset = Rows(org.Id, Guid.Empty, "+8613800000019", at);
        var keyless = await Assert.ThrowsAsync<InvalidOperationException>(() => app.InDbAsync(async db =>
        {
            db.AuditEntityChanges = false;
            return await db.SaveNewRowsAsync(unset.Where(r => r is Lead).ToList());
        }));
        Assert.Contains("Lead.Id is not set", keyless.Message);
        Assert.Equal(0, await app.InDbAsync(db => db.Leads.CountAsync(l => l.Mobile == "+8613800000018" || l.Mobile == "+8613800000009")));
    }
}

public sealed class BulkSaveTests_Sqlite(SqliteApp app) : BulkSaveTests<SqliteApp>(app);
public sealed class BulkSaveTests_Postgres(PostgresApp app) : BulkSaveTests<PostgresApp>(app);
