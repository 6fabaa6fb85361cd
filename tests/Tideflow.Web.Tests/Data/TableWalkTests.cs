using Microsoft.EntityFrameworkCore;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Leads;
using Tideflow.Web.Tests.Infrastructure;

namespace Tideflow.Web.Tests.Data;

public abstract class TableWalkTests<TApp>(TApp app) where TApp : TideflowApp
{
    [Fact]
    public async Task Slices_of_two_cover_every_lead_of_the_organisation_once_and_no_other_organisations()
    {
        var org = await app.NewOrgAsync();
        var other = await app.NewOrgAsync();
        var now = app.Clock.GetUtcNow();
        // Interleaved with another organisation's rows, so the slices have gaps to step over.
        await app.InDbAsync(async db =>
        {
            for (var i = 0; i < 7; i++)
            {
                foreach (var o in new[] { org.Id, other.Id })
                {
                    db.Leads.Add(new Lead { Id = Guid.CreateVersion7(), OrganizationId = o, Name = $"切片 {i}", Status = LeadStatus.New, ArrivedAt = now, UpdatedAt = now });
                }
            }
            return await db.SaveChangesAsync();
        });
        var (expected, seen, slices) = await app.InDbAsync(async db =>
        {
            var seen = new List<Guid>();
            var slices = 0;
            await foreach (var slice in TableWalk.SlicesAsync(db, db.Leads, org.Id, 2, default))
            {
                slices++;
                seen.AddRange(await slice.Rows.Where(l => l.OrganizationId == org.Id).Select(l => l.Id).ToListAsync());
            }
            return (await db.Leads.Where(l => l.OrganizationId == org.Id).Select(l => l.Id).ToListAsync(), seen, slices);
        });
        Assert.Equal(expected.Order(), seen.Order());
        // SQLite slices rows; PostgreSQL slices whole blocks, and these few rows share one.
        if (app.Provider == "Sqlite")
        {
            Assert.True(slices > 1, $"{expected.Count} leads in {slices} slice(s) of about two");
        }
    }

    [Fact]
    public async Task An_organisation_without_rows_has_no_slices()
    {
        await app.NewOrgAsync();
        var slices = await app.InDbAsync(async db =>
        {
            var n = 0;
            await foreach (var _ in TableWalk.SlicesAsync(db, db.Leads, Guid.NewGuid(), 2, default))
            {
                n++;
            }
            return n;
        });
        Assert.Equal(0, slices);
    }
}

public sealed class TableWalkTests_Sqlite(SqliteApp app) : TableWalkTests<SqliteApp>(app);
public sealed class TableWalkTests_Postgres(PostgresApp app) : TableWalkTests<PostgresApp>(app);
