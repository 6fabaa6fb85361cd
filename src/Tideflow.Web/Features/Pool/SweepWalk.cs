using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Customers;

namespace Tideflow.Web.Features.Pool;

/// <summary>
/// An organisation's customers in slices of the table's physical order — SQLite <c>rowid</c> ranges, PostgreSQL block
/// ranges of <c>ctid</c> (a TID range scan) — each about <c>size</c> of its customers. Measured at 1M customers: reading
/// due customers owner by owner, or in Id order, is one random row read per customer (Ids are not in insert order),
/// while a slice reads neighbouring rows, and the sweep's UPDATE by Id then finds them in pages it just read.
/// A SQLite row keeps its rowid, so every row is in exactly one slice. A PostgreSQL row updated during the walk gets a
/// new version elsewhere and may be seen twice (the sweep's conditional UPDATE and its record of warnings sent make the
/// second look a no-op) or not at all: the sweep ends with <see cref="LastLook"/> for those.
/// </summary>
public static class SweepWalk
{
    /// <summary>
    /// After the slices, on PostgreSQL, the whole table in one statement — one snapshot, so every row once — for rows an
    /// update moved behind the walk; whatever the slices already handled no longer matches the sweep's WHERE, or is
    /// skipped as already warned. SQLite rows never move: nothing to look at again.
    /// </summary>
    public static IQueryable<Customer>? LastLook(TideflowDbContext db) => db.Database.IsNpgsql() ? db.Customers : null;

    public static async IAsyncEnumerable<IQueryable<Customer>> SlicesAsync(TideflowDbContext db, Guid organizationId, int size,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var postgres = db.Database.IsNpgsql();
        var (first, last, count) = await BoundsAsync(db, organizationId, postgres, ct);
        if (count == 0)
        {
            yield break;
        }
        // Rows or blocks per slice, from how densely the organisation's customers fill its stretch of the table.
        var span = Math.Max(1, (long)Math.Ceiling((double)size * (last - first + 1) / count));
        for (var from = first; from <= last; from += span)
        {
            var to = from + span;
            yield return postgres
                ? db.Customers.FromSql($"""SELECT * FROM "Customers" WHERE ctid >= {Tid(from)}::tid AND ctid < {Tid(to)}::tid""")
                : db.Customers.FromSql($"""SELECT * FROM "Customers" WHERE rowid >= {from} AND rowid < {to}""");
        }
    }

    private static string Tid(long block) => string.Create(CultureInfo.InvariantCulture, $"({block},0)");

    /// <summary>First and last row (SQLite) or block (PostgreSQL) holding the organisation's customers, and how many there are.</summary>
    private static async Task<(long First, long Last, long Count)> BoundsAsync(TideflowDbContext db, Guid organizationId, bool postgres, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = postgres
                ? """SELECT min(ctid)::text, max(ctid)::text, count(*) FROM "Customers" WHERE "OrganizationId" = @org"""
                : """SELECT min(rowid), max(rowid), count(*) FROM "Customers" WHERE "OrganizationId" = @org""";
            // The model's own mapping, so SQLite compares the Guid in the form EF Core stores it.
            command.Parameters.Add(db.Model.FindEntityType(typeof(Customer))!.FindProperty(nameof(Customer.OrganizationId))!
                .GetRelationalTypeMapping().CreateParameter(command, "@org", organizationId));
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var count = reader.GetInt64(2);
            if (count == 0)
            {
                return (0, -1, 0);
            }
            return postgres ? (Block(reader.GetString(0)), Block(reader.GetString(1)), count) : (reader.GetInt64(0), reader.GetInt64(1), count);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The block of a ctid such as "(1234,5)".</summary>
    private static long Block(string tid) => long.Parse(tid.AsSpan(1, tid.IndexOf(',', StringComparison.Ordinal) - 1), CultureInfo.InvariantCulture);
}
