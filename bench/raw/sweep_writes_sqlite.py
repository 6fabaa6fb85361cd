"""The reclaim sweep's required writes, hand-written, on a `large` SQLite bench file: no app, no load, no gaps.

After a `run --scale large --provider sqlite --only sweep` the customers the bench made due are still due (their last
follow-up 10 days before the set-up, the others 1 and 6.5 days). This takes them back to the pool in transactions of
SIZE customers and puts everything back afterwards (docs/benchmarks.md, "Session 23"):

    python3 bench/raw/sweep_writes_sqlite.py /tmp/tideflow-bench-large.db 150 full

MODE bare: the owner UPDATE only; full: plus a history row per customer and its open tasks closed; app: full, with the
default pool's rule WHERE as EF Core writes it for the sweep. SIZE 0: all in one transaction.
"""
import sqlite3, statistics, sys, threading, time

db, size, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db, isolation_level=None)
# As the app's sweep writer: 64 MB page cache, foreign keys checked, the log copied back by a thread of its own
# (checkpoints() below, as SqliteCheckpointer), the commits' own checkpoint only a fallback.
for pragma in ["wal_autocheckpoint=10000", "foreign_keys=ON", "cache_size=-65536", "synchronous=NORMAL", "busy_timeout=30000"]:
    c.execute("PRAGMA " + pragma)
day = 864_000_000_000  # ticks: the app stores instants as .NET ticks on SQLite
# The set-up made most owned customers' last follow-up one day before it: the sweep's instant is that plus a day.
recent = c.execute('SELECT "LastFollowUpAt" FROM "Customers" WHERE "OwnerId" IS NOT NULL GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1').fetchone()[0]
cutoff = recent - 6 * day
now = cutoff + 7 * day
org, pool = c.execute('SELECT "OrganizationId", "Id" FROM "Pools" WHERE "IsDefault"').fetchone()
owners = [r[0] for r in c.execute('SELECT DISTINCT "OwnerId" FROM "Customers" WHERE "OwnerId" IS NOT NULL')]
ids = [r[0] for r in c.execute(
    'SELECT "Id" FROM "Customers" WHERE "OwnerId" IS NOT NULL AND "LastFollowUpAt" <= ? AND "Stage" <> \'won\' ORDER BY rowid', (cutoff,))]
size = size or len(ids)


def where(n):
    # Named parameters for the app's shape (as EF Core's), plain ? otherwise: SQLite looks a name (or a ?NNN) up by a
    # linear search, which over 95,000 of them in one statement took 16-62 s instead of 3-6.
    if mode != "app":
        return f'"Id" IN ({",".join("?" * n)}) AND "OwnerId" IS NOT NULL'
    ids_in = ",".join(f":i{i}" for i in range(n))
    owners_in = ",".join(f":o{i}" for i in range(len(owners)))
    return f'''"Id" IN (SELECT "c"."Id" FROM "Customers" AS "c" WHERE "c"."OrganizationId" = :org AND "c"."OwnerId" IS NOT NULL
        AND "c"."OwnerId" IN ({owners_in}) AND ("c"."ProtectedUntil" IS NULL OR "c"."ProtectedUntil" <= :now)
        AND (("c"."Stage" <> 'won' AND COALESCE("c"."AssignedAt", "c"."CreatedAt") <= :cut AND ("c"."LastFollowUpAt" IS NULL OR "c"."LastFollowUpAt" <= :cut))
          OR ("c"."Stage" <> 'won' AND "c"."ClaimedAt" IS NOT NULL AND "c"."ClaimedAt" <= :cut2 AND ("c"."LastFollowUpAt" IS NULL OR "c"."LastFollowUpAt" < "c"."ClaimedAt")))
        AND "c"."Id" IN ({ids_in}) AND ("c"."LastFollowUpAt" IS NULL OR "c"."LastFollowUpAt" <= :now))'''


def p(name):
    return f":{name}" if mode == "app" else "?"


def reopen_tasks():
    # The app's sweep closes the taken customers' open tasks, and the bench gave the customers back but, before session
    # 23, not their tasks: opened again, the tasks closed here are the ones the data set was loaded with.
    c.execute('UPDATE "FollowUpTasks" SET "ClosedAt" = NULL, "ClosedReason" = NULL WHERE "ClosedReason" = \'reclaimed\'')
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def checkpoints(stop):
    other = sqlite3.connect(db, isolation_level=None)
    while not stop.wait(0.1):
        other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    other.close()


values = {"org": org, "pool": pool, "now": now, "cut": cutoff, "cut2": now - 2 * day}
values.update({f"o{i}": o for i, o in enumerate(owners)})
reopen_tasks()
batches, closed = [], 0
stop = threading.Event()
checkpointer = threading.Thread(target=checkpoints, args=(stop,))
checkpointer.start()
try:
    started = time.perf_counter()
    for k in range(0, len(ids), size):
        chunk = ids[k:k + size]
        v = dict(values, **{f"i{i}": x for i, x in enumerate(chunk)}) if mode == "app" else [pool, now, now, *chunk]
        t0 = time.perf_counter()
        c.execute("BEGIN IMMEDIATE")
        taken = [r[0] for r in c.execute(
            f'''UPDATE "Customers" SET "PreviousOwnerId" = "OwnerId", "OwnerId" = NULL, "PoolId" = {p("pool")}, "PooledAt" = {p("now")},
                "PoolReason" = 'raw', "ClaimedAt" = NULL, "UpdatedAt" = {p("now")} WHERE {where(len(chunk))} RETURNING "Id"''', v)]
        if mode != "bare" and taken:
            listed = ",".join("?" * len(taken))
            c.execute(f'''INSERT INTO "OwnershipChanges" ("OrganizationId", "CustomerId", "FromId", "ToId", "Reason", "Rule", "ById", "At", "Event", "PoolId")
                SELECT m."OrganizationId", m."Id", m."PreviousOwnerId", NULL, 'raw', 'NoFollowUp', NULL, m."PooledAt", 'Reclaimed', m."PoolId"
                FROM "Customers" AS m WHERE m."Id" IN ({listed})''', taken)
            closed += c.execute(f'''UPDATE "FollowUpTasks" SET "ClosedAt" = ?, "ClosedReason" = 'reclaimed'
                WHERE "CustomerId" IN ({listed}) AND "ClosedAt" IS NULL''', [now, *taken]).rowcount
        c.execute("COMMIT")
        batches.append((time.perf_counter() - t0, len(taken)))
    total = time.perf_counter() - started
    print(f"{mode}, {size} a transaction: {sum(n for _, n in batches)} of {len(ids)} due taken, {closed} open tasks closed, in {total:.2f} s "
          f"({len(batches)} transactions, median {statistics.median(t for t, _ in batches) * 1000:.1f} ms, longest {max(t for t, _ in batches) * 1000:.1f} ms)")
finally:
    stop.set()
    checkpointer.join()
    if c.in_transaction:
        c.execute("ROLLBACK")
    # Back as they were: the customers with their owners, none of this program's history rows, the tasks open.
    c.execute('UPDATE "Customers" SET "OwnerId" = "PreviousOwnerId", "PoolId" = NULL, "PooledAt" = NULL, "PoolReason" = NULL, "PreviousOwnerId" = NULL WHERE "PoolReason" = \'raw\'')
    c.execute('DELETE FROM "OwnershipChanges" WHERE "Reason" = \'raw\'')
    reopen_tasks()
