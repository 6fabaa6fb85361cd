"""The reclaim sweep's required writes, hand-written, on a `large` PostgreSQL bench database: no app, no load.

As bench/raw/sweep_writes_sqlite.py, through `psql` (one connection, each chunk one statement in its own transaction),
and everything is put back afterwards (docs/benchmarks.md, "Session 23"):

    python3 bench/raw/sweep_writes_postgres.py "host=127.0.0.1 port=55432 user=postgres dbname=tideflow_bench_large" 150 full

MODE bare: the owner UPDATE only; full: plus a history row per customer and its open tasks closed, in one statement.
"""
import subprocess, sys, time

conninfo, size, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def psql(sql, quiet=False):
    return subprocess.run(["psql", conninfo, "-v", "ON_ERROR_STOP=1", "-qAt"] + (["-o", "/dev/null"] if quiet else []),
                          input=sql, text=True, check=True, capture_output=True).stdout


# The set-up made most owned customers' last follow-up one day before it; the due ones are 10 days before it.
due = """
    WITH recent AS (SELECT "LastFollowUpAt" AS at FROM "Customers" WHERE "OwnerId" IS NOT NULL GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1)
    SELECT c."Id" FROM "Customers" c, recent WHERE c."OwnerId" IS NOT NULL AND c."LastFollowUpAt" <= recent.at - interval '6 days'
        AND c."Stage" <> 'won' ORDER BY c.ctid"""
ids = psql(due + ";").split()
pool = psql('SELECT "Id" FROM "Pools" WHERE "IsDefault";').strip()
size = size or len(ids)
statements = []
for k in range(0, len(ids), size):
    chunk = "{" + ",".join(ids[k:k + size]) + "}"
    update = f"""UPDATE "Customers" c SET "PreviousOwnerId" = c."OwnerId", "OwnerId" = NULL, "PoolId" = '{pool}', "PooledAt" = now(),
        "PoolReason" = 'raw', "ClaimedAt" = NULL, "UpdatedAt" = now() WHERE c."Id" = ANY('{chunk}'::uuid[]) AND c."OwnerId" IS NOT NULL"""
    statements.append(update + ";" if mode == "bare" else f"""
        WITH moved AS ({update} RETURNING c."Id", c."OrganizationId", c."PreviousOwnerId", c."PooledAt", c."PoolId"),
        history AS (INSERT INTO "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "Rule", "ById", "At", "Event", "PoolId")
            SELECT m."OrganizationId", m."Id", m."PreviousOwnerId", NULL, 'raw', 'NoFollowUp', NULL, m."PooledAt", 'Reclaimed', m."PoolId" FROM moved m),
        tasks AS (UPDATE "FollowUpTasks" SET "ClosedAt" = now(), "ClosedReason" = 'reclaimed'
            WHERE "CustomerId" IN (SELECT "Id" FROM moved) AND "ClosedAt" IS NULL)
        SELECT COUNT(*) FROM moved;""")
script = "\n".join(statements)
# The app's sweep closes the taken customers' open tasks, and the bench gave the customers back but, before session 23,
# not their tasks: opened again, the tasks closed here are the ones the data set was loaded with.
reopen = """UPDATE "FollowUpTasks" SET "ClosedAt" = NULL, "ClosedReason" = NULL WHERE "ClosedReason" = 'reclaimed';
    VACUUM ANALYZE "FollowUpTasks";"""
psql(reopen)
try:
    started = time.perf_counter()
    psql(script, quiet=True)
    total = time.perf_counter() - started
    taken = psql("""SELECT COUNT(*) FROM "Customers" WHERE "PoolReason" = 'raw';""").strip()
    closed = psql("""SELECT COUNT(*) FROM "FollowUpTasks" WHERE "ClosedReason" = 'reclaimed';""").strip()
    print(f"{mode}, {size} a statement: {taken} of {len(ids)} due taken, {closed} open tasks closed, in {total:.2f} s ({len(statements)} statements)")
finally:
    psql("""UPDATE "Customers" SET "OwnerId" = "PreviousOwnerId", "PoolId" = NULL, "PooledAt" = NULL, "PoolReason" = NULL, "PreviousOwnerId" = NULL
            WHERE "PoolReason" = 'raw';
        DELETE FROM "OwnershipChanges" WHERE "Reason" = 'raw';
        VACUUM ANALYZE "Customers";""" + reopen)
