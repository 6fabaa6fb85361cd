using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Tideflow.Web.Data;

/// <summary>
/// One organisation's rows of a table in slices of the table's physical order — SQLite <c>rowid</c> ranges, PostgreSQL
/// block ranges of <c>ctid</c> (a TID range scan) — each about <c>size</c> of its rows: how the jobs that touch every
/// customer or lead (the pool sweep, a re-score) read them. Measured at 1M rows: reading in Id order, or owner by owner,
/// is one random page read per row (Ids are not in insert order), while a slice reads neighbouring rows, and an UPDATE
/// by Id then finds them in pages just read.
/// A SQLite row keeps its rowid, so every row is in exactly one slice. A PostgreSQL row updated during the walk gets a
/// new version, possibly in a block already walked, so it may be seen twice or not at all: a job that must see every
/// row ends with one more look.
/// </summary>
public static class TableWalk
{
    /// <summary>One slice: its rows, and how many of them the walker used, so the next slice can be sized from it.</summary>
    public sealed class Slice<T>(IQueryable<T> rows)
    {
        public IQueryable<T> Rows { get; } = rows;
        internal int? Used { get; private set; }

        /// <summary>How many of the organisation's rows this slice held: the next one is sized to hold about the wanted number.</summary>
        public void Found(int count) => Used = count;
    }

    public static async IAsyncEnumerable<Slice<T>> SlicesAsync<T>(TideflowDbContext db, DbSet<T> rows, Guid organizationId, int size,
        [EnumeratorCancellation] CancellationToken ct) where T : class
    {
        var postgres = db.Database.IsNpgsql();
        var entity = db.Model.FindEntityType(typeof(T))!;
        var table = entity.GetTableName()!;
        var (first, last, count) = await BoundsAsync(db, entity, table, organizationId, postgres, ct);
        if (count == 0)
        {
            yield break;
        }
        // Only the model's table name goes into the text; the bounds are parameters.
        var text = postgres
            ? $$"""SELECT * FROM "{{table}}" WHERE ctid >= {0}::tid AND ctid < {1}::tid"""
            : $$"""SELECT * FROM "{{table}}" WHERE rowid >= {0} AND rowid < {1}""";
        // Rows or blocks per slice: first from how densely the organisation's rows fill its stretch of the table, then
        // from what the last slice held — other organisations' rows and deleted ones are rarely spread evenly — at most
        // four times larger or smaller at each step.
        var span = Math.Max(1, (long)Math.Ceiling((double)size * (last - first + 1) / count));
        for (var from = first; from <= last;)
        {
            var to = from + span;
            var slice = new Slice<T>(postgres ? rows.FromSqlRaw(text, Tid(from), Tid(to)) : rows.FromSqlRaw(text, from, to));
            yield return slice;
            from = to;
            if (slice.Used is { } used)
            {
                span = used == 0 ? span * 4 : Math.Clamp((long)Math.Round((double)span * size / used), Math.Max(1, span / 4), span * 4);
            }
        }
    }

    private static string Tid(long block) => string.Create(CultureInfo.InvariantCulture, $"({block},0)");

    /// <summary>First and last row (SQLite) or block (PostgreSQL) holding the organisation's rows, and how many there are.</summary>
    private static async Task<(long First, long Last, long Count)> BoundsAsync(TideflowDbContext db,
        Microsoft.EntityFrameworkCore.Metadata.IEntityType entity, string table, Guid organizationId, bool postgres, CancellationToken ct)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = postgres
                ? $"""SELECT min(ctid)::text, max(ctid)::text, count(*) FROM "{table}" WHERE "OrganizationId" = @org"""
                : $"""SELECT min(rowid), max(rowid), count(*) FROM "{table}" WHERE "OrganizationId" = @org""";
            // The model's own mapping, so SQLite compares the Guid in the form EF Core stores it.
            command.Parameters.Add(entity.FindProperty("OrganizationId")!.GetRelationalTypeMapping().CreateParameter(command, "@org", organizationId));
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
