using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Leads;

namespace Tideflow.Web.Data;

public abstract partial class TideflowDbContext
{
    /// <summary>
    /// SaveChanges for a save made only of new rows (an import batch): the same guards, audit and delivery planning, but
    /// each table's rows go through one statement prepared once (SQLite) or one binary COPY (PostgreSQL), in one
    /// transaction. SaveChanges prepares and sends every row's INSERT on its own, which made an import 10× its floor.
    /// The change tracker is cleared afterwards: rows with database-generated keys are not read back.
    /// </summary>
    /// <param name="untracked">
    /// More new rows, never tracked: tracking an import's own rows cost it more than writing them. They are written as
    /// they are, so only rows no save guard looks at are taken (leads, touches, contact keys, capture and import receipts,
    /// ownership history, follow-up tasks), in the
    /// caller's organisation, and only with entity auditing off (an import audits itself once).
    /// </param>
    /// <exception cref="DbUpdateException">A row was refused (e.g. a unique key); nothing of the save was written.</exception>
    public async Task<int> SaveNewRowsAsync(IReadOnlyCollection<object>? untracked = null, CancellationToken ct = default)
    {
        untracked ??= [];
        foreach (var row in untracked)
        {
            if (row is not (Lead or LeadTouch or ContactKey or CaptureReceipt or ImportReceipt or Features.Assignment.OwnershipChange or Features.Pipeline.FollowUpTask))
            {
                throw new InvalidOperationException($"A {row.GetType().Name} is saved tracked, where its guards and audit see it.");
            }
            if (AuditEntityChanges)
            {
                throw new InvalidOperationException("Untracked rows are saved only with entity auditing off.");
            }
            // The same defence in depth as GuardAndAudit: nobody writes into another organisation.
            if (!currentUser.Scope.IsSystem && ((IOrganizationOwned)row).OrganizationId != currentUser.OrganizationId)
            {
                throw new InvalidOperationException("Write outside the caller's organisation refused.");
            }
        }
        // Change detection over thousands of new rows was a third of an import's time, and a new row has nothing to
        // detect: only the rows read earlier are looked at, so a change to one of them is still found and refused.
        var detect = ChangeTracker.AutoDetectChangesEnabled;
        ChangeTracker.AutoDetectChangesEnabled = false;
        List<EntityEntry> entries;
        HashSet<Guid> stale;
        try
        {
            foreach (var entry in ChangeTracker.Entries().Where(e => e.State == EntityState.Unchanged))
            {
                entry.DetectChanges();
            }
            entries = ChangeTracker.Entries().Where(e => e.State != EntityState.Unchanged).ToList();
            if (entries.FirstOrDefault(e => e.State != EntityState.Added) is { } changed)
            {
                throw new InvalidOperationException($"Only new rows are saved in bulk; a {changed.Metadata.ClrType.Name} is {changed.State}.");
            }
            await PlanDeliveriesAsync(ct);
            stale = GuardAndAudit();
            entries = ChangeTracker.Entries().Where(e => e.State != EntityState.Unchanged).ToList();
        }
        finally
        {
            ChangeTracker.AutoDetectChangesEnabled = detect;
        }
        var all = entries.Select(e => (e.Metadata, Row: (object)e))
            .Concat(untracked.Select(r => (Model.FindEntityType(r.GetType())!, Row: r)));
        // Every table is checked before anything is written.
        var sql = this.GetService<ISqlGenerationHelper>();
        var tables = InDependencyOrder(all.GroupBy(r => r.Item1).ToDictionary(g => g.Key, g => g.Select(r => r.Row).ToList()))
            .Select(t => new BulkTable(t.Type, t.Rows, sql)).ToList();
        if (Database.CurrentTransaction is { } ambient)
        {
            await WriteAsync(tables, ambient.GetDbTransaction(), ct);
        }
        else
        {
            // As SaveChanges: PostgreSQL's connection retries (EnableRetryOnFailure) run the whole transaction again.
            await Database.CreateExecutionStrategy().ExecuteAsync(() => WriteAsync(tables, null, ct));
        }
        ChangeTracker.Clear();
        DropRoutingSnapshots(stale);
        return entries.Count + untracked.Count;
    }

    private async Task WriteAsync(List<BulkTable> tables, DbTransaction? ambient, CancellationToken ct)
    {
        await Database.OpenConnectionAsync(ct);
        try
        {
            var connection = Database.GetDbConnection();
            await using var own = ambient is null ? await connection.BeginTransactionAsync(ct) : null;
            try
            {
                foreach (var table in tables)
                {
                    if (connection is Npgsql.NpgsqlConnection npgsql)
                    {
                        await table.CopyAsync(npgsql, ct);
                    }
                    else
                    {
                        await table.InsertAsync(connection, ambient ?? own!, ct);
                    }
                }
                if (own is not null)
                {
                    await own.CommitAsync(ct);
                }
            }
            catch (DbException e)
            {
                throw new DbUpdateException($"A bulk save was refused: {e.Message}", e);
            }
        }
        finally
        {
            await Database.CloseConnectionAsync();
        }
    }

    /// <summary>Principal tables before the tables whose foreign keys point at them.</summary>
    private static List<(IEntityType Type, List<object> Rows)> InDependencyOrder(Dictionary<IEntityType, List<object>> byType)
    {
        var ordered = new List<(IEntityType, List<object>)>();
        var placed = new HashSet<IEntityType>();
        while (placed.Count < byType.Count)
        {
            var ready = byType.Keys.Where(t => !placed.Contains(t) && t.GetForeignKeys()
                .All(fk => fk.PrincipalEntityType == t || placed.Contains(fk.PrincipalEntityType) || !byType.ContainsKey(fk.PrincipalEntityType))).ToList();
            if (ready.Count == 0)
            {
                throw new InvalidOperationException("New rows whose tables refer to each other in a cycle cannot be saved in bulk.");
            }
            foreach (var t in ready)
            {
                placed.Add(t);
                ordered.Add((t, byType[t]));
            }
        }
        return ordered;
    }

    /// <summary>
    /// One table's new rows (tracked entries, or entities never tracked) and the columns they fill, converted as the
    /// model stores them.
    /// </summary>
    private sealed class BulkTable
    {
        private readonly string name;
        private readonly ISqlGenerationHelper sql;
        private readonly List<object> rows;
        private readonly List<Column> columns = [];

        private sealed record Column(IProperty Property, IClrPropertyGetter Getter, RelationalTypeMapping Mapping, string Name,
            bool HasDefault, object? Default, object? Unset);

        public BulkTable(IEntityType type, List<object> rows, ISqlGenerationHelper sql)
        {
            this.rows = rows;
            this.sql = sql;
            var table = StoreObjectIdentifier.Table(type.GetTableName() ?? throw new InvalidOperationException($"{type.ClrType.Name} has no table."), type.GetSchema());
            name = sql.DelimitIdentifier(table.Name, table.Schema);
            foreach (var property in type.GetProperties())
            {
                if (property.GetComputedColumnSql() is not null)
                {
                    continue;
                }
                var unset = property.Sentinel;
                // A key the database numbers (identity) is left to it; then it must be so for every row. Other keys (Guids)
                // are the caller's to set: SaveChanges would make one up, this does not.
                var numbered = property.IsKey() && property.ValueGenerated != ValueGenerated.Never
                    && (Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType) is var t && (t == typeof(long) || t == typeof(int) || t == typeof(short));
                var generated = !property.IsKey() && !property.IsForeignKey() ? 0
                    : rows.Count(r => r is EntityEntry e ? e.Property(property).IsTemporary : property.IsKey() && Equals(Get(r, property), unset));
                if (numbered && generated == rows.Count && generated > 0)
                {
                    continue;
                }
                if (generated > 0)
                {
                    throw new InvalidOperationException(property.IsKey()
                        ? $"{type.ClrType.Name}.{property.Name} is not set on every new row; set it."
                        : $"{type.ClrType.Name}.{property.Name} refers to a row the database has not numbered yet; save that row first.");
                }
                if (property.GetDefaultValueSql() is not null && rows.Any(r => Equals(Get(r, property), unset)))
                {
                    throw new InvalidOperationException($"{type.ClrType.Name}.{property.Name} is left to a database default, which a bulk save does not write; set it.");
                }
                var hasDefault = property.TryGetDefaultValue(out var fallback);
                // A column no row fills and the table has no default for is NULL anyway: left out, it costs nothing per row
                // (most of a new lead's forty-odd columns are empty).
                if (!hasDefault && property.GetDefaultValueSql() is null && rows.All(r => Get(r, property) is null))
                {
                    continue;
                }
                columns.Add(new Column(property, property.GetGetter(), (RelationalTypeMapping)property.GetTypeMapping(), property.GetColumnName(table)!,
                    hasDefault, fallback, unset));
            }
        }

        private static object? Get(object row, IProperty property) =>
            row is EntityEntry e ? e.Property(property).CurrentValue : property.GetGetter().GetClrValueUsingContainingEntity(row);

        /// <summary>What the row stores in the column: a column default stands in for an unset value, as SaveChanges does.</summary>
        private static object? Value(object row, Column column)
        {
            var value = row is EntityEntry e ? e.Property(column.Property).CurrentValue : column.Getter.GetClrValueUsingContainingEntity(row);
            if (column.HasDefault && Equals(value, column.Unset))
            {
                value = column.Default;
            }
            return value is null ? null : column.Mapping.Converter is { } converter ? converter.ConvertToProvider(value) : value;
        }

        public async Task InsertAsync(DbConnection connection, DbTransaction tx, CancellationToken ct)
        {
            // A value every row shares (the organisation, the channel, the batch's time) is written into the statement as a
            // literal: SQLite binds parameters by name on every execution, and binding was a third of the insert's time.
            var shared = columns.Select(c =>
            {
                var first = Value(rows[0], c);
                return rows.Count > 1 && first is not null && rows.All(r => Equals(Value(r, c), first))
                    ? c.Mapping.GenerateProviderValueSqlLiteral(first) : null;
            }).ToArray();
            var bound = columns.Select((c, i) => (Column: c, Index: i)).Where(c => shared[c.Index] is null).ToArray();
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = $"INSERT INTO {name} ({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Name)))}) " +
                                  $"VALUES ({string.Join(", ", columns.Select((_, i) => shared[i] ?? $"$p{i}"))})";
            var parameters = bound.Select(c => c.Column.Mapping.CreateParameter(command, $"$p{c.Index}", null, nullable: true)).ToArray();
            command.Parameters.AddRange(parameters);
            foreach (var row in rows)
            {
                for (var i = 0; i < bound.Length; i++)
                {
                    parameters[i].Value = Value(row, bound[i].Column) ?? DBNull.Value;
                }
                await command.ExecuteNonQueryAsync(ct);
            }
        }

        public async Task CopyAsync(Npgsql.NpgsqlConnection connection, CancellationToken ct)
        {
            await using var writer = await connection.BeginBinaryImportAsync(
                $"COPY {name} ({string.Join(", ", columns.Select(c => sql.DelimitIdentifier(c.Name)))}) FROM STDIN (FORMAT BINARY)", ct);
            foreach (var row in rows)
            {
                await writer.StartRowAsync(ct);
                foreach (var column in columns)
                {
                    if (Value(row, column) is { } value)
                    {
                        await writer.WriteAsync(value, column.Mapping.StoreTypeNameBase, ct);
                    }
                    else
                    {
                        await writer.WriteNullAsync(ct);
                    }
                }
            }
            await writer.CompleteAsync(ct);
        }
    }
}
