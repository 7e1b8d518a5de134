/**
 * The engine's route to several SQLite connections on one sql.js file (issue 15; see
 * `TenantDb.connect` and tenant-file.ts). sql.js's public API opens every `Database` on a file of
 * its own, so a second connection is opened by answering the one `Math.random()` call that names
 * the file. These tests fail loudly if a sql.js upgrade changes that, or how files are shared.
 */
import { describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { TenantDb } from "../../src/engine/tenant-db.js";
import { POOL_SIZE, TenantFile } from "../../src/engine/tenant-file.js";

const sql = await loadSqlJs();
const run = (db: TenantDb, text: string) => db.execute(text, undefined, "number");
const count = (db: TenantDb, table = "t") =>
  Number(run(db, `SELECT count(*) AS n FROM ${table}`).rows[0]!.n);

describe("several connections on one sql.js file", () => {
  it("opens a second connection on the same file (the sql.js naming this relies on)", () => {
    const owner = new TenantDb(sql, undefined, { journalMode: "wal-shared" });
    run(owner, "CREATE TABLE t (x)");
    run(owner, "INSERT INTO t VALUES (1)");
    expect(owner.filename).toMatch(/^dbfile_\d+$/);
    const other = TenantDb.connect(sql, owner.filename);
    expect(other.filename).toBe(owner.filename);
    expect(count(other)).toBe(1);
    // Closing the second connection leaves the file to its owner.
    other.close();
    const third = TenantDb.connect(sql, owner.filename);
    expect(count(third)).toBe(1);
    third.close();
    owner.close();
  });

  it("refuses a file name sql.js would not give, loudly", () => {
    expect(() => TenantDb.connect(sql, "not-a-sqljs-file")).toThrow(/Unsupported sql.js build/);
  });

  it("keeps TEMP objects, pragmas and last_insert_rowid private; readers see the last commit", () => {
    const file = TenantFile.open(sql, "t", undefined);
    const a = file.lease({});
    const b = file.lease({});
    run(a, "CREATE TABLE t (x)");
    run(a, "CREATE TEMP TABLE mine (y)");
    expect(() => run(b, "SELECT * FROM mine")).toThrow(/no such table/);
    run(a, "PRAGMA query_only = 1");
    run(b, "INSERT INTO t VALUES (1)");
    expect(Number(run(b, "SELECT last_insert_rowid() AS r").rows[0]!.r)).toBe(1);
    expect(Number(run(a, "SELECT last_insert_rowid() AS r").rows[0]!.r)).toBe(0);
    expect(run(a, "PRAGMA foreign_keys").rows[0]![0]).toBe(1);
    expect(run(b, "PRAGMA query_only").rows[0]![0]).toBe(0);
    // b writes in a transaction: a reads the last committed state without waiting.
    run(b, "BEGIN IMMEDIATE");
    run(b, "INSERT INTO t VALUES (2)");
    a.endImplicitRead();
    expect(count(a)).toBe(1);
    run(b, "COMMIT");
    a.endImplicitRead();
    expect(count(a)).toBe(2);
    // The export is the committed state, whatever another connection has open.
    run(b, "BEGIN IMMEDIATE");
    run(b, "INSERT INTO t VALUES (3)");
    const image = file.export();
    run(b, "ROLLBACK");
    const copy = new TenantDb(sql, image);
    expect(count(copy)).toBe(2);
    copy.close();
    file.close();
    expect(a.isClosed && b.isClosed).toBe(true);
  });

  it("replaces a file's contents in place: connections keep their TEMP objects and see the new data", () => {
    const file = TenantFile.open(sql, "t", undefined);
    const a = file.lease({});
    run(a, "CREATE TABLE t (x)");
    run(a, "CREATE TEMP TABLE mine (y)");
    const other = new TenantDb(sql, undefined);
    run(other, "CREATE TABLE t (x)");
    run(other, "INSERT INTO t VALUES (1), (2), (3)");
    const image = other.export();
    other.close();
    file.replace(image);
    a.endImplicitRead();
    expect(count(a)).toBe(3);
    expect(count(a, "mine")).toBe(0);
    file.close();
  });

  it("washes a connection whose only state is TEMP objects, and lends it to the next user clean", () => {
    const file = TenantFile.open(sql, "washed", undefined);
    const first = {};
    const a = file.lease(first);
    run(a, "CREATE TABLE t (x)");
    run(a, "INSERT INTO t VALUES (1)");
    file.giveBack(a, first); // it wrote: last_insert_rowid() is 1 on it, so it is not lent on
    const user = {};
    const b = file.lease(user);
    expect(b).not.toBe(a);
    run(b, "CREATE TEMP TABLE mine (y INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE)");
    run(b, "CREATE TEMP VIEW v AS SELECT * FROM t");
    run(b, "CREATE TEMP TABLE shadow (x)"); // shadows main.t's neighbour names only
    run(b, "CREATE TEMP TABLE t (z, w)"); // shadows main.t itself
    run(b, "CREATE TEMP TRIGGER gone AFTER INSERT ON main.t BEGIN DELETE FROM main.t; END");
    run(b, "DROP TABLE temp.mine"); // its sqlite_sequence row goes, the table stays
    expect(b.stateful).toBe(true);
    file.giveBack(b, user);
    // TEMP sqlite_sequence: cannot be dropped, so that connection was closed, not washed.
    expect(b.isClosed).toBe(true);

    const c = file.lease(user);
    run(c, "CREATE TEMP TABLE t (z, w)");
    run(c, "CREATE TEMP VIEW v AS SELECT * FROM t");
    run(c, "CREATE TEMP TRIGGER gone AFTER INSERT ON main.t BEGIN DELETE FROM main.t; END");
    expect(Object.keys(run(c, "SELECT * FROM t").columns)).toHaveLength(2);
    file.giveBack(c, user);
    expect(c.isClosed).toBe(false);
    expect(c.stateful).toBe(false);
    expect(c.pristine).toBe(true); // it changed no rows: anybody may have it

    const d = file.lease({});
    expect(d).toBe(c);
    expect(run(d, "SELECT count(*) AS n FROM temp.sqlite_schema").rows[0]!.n).toBe(0);
    // Its statements were compiled against the TEMP table: `t` is main's again, one column.
    expect(run(d, "SELECT * FROM t").columns).toEqual(["x"]);
    expect(() => run(d, "SELECT * FROM v")).toThrow(/no such table/);
    run(d, "INSERT INTO t VALUES (2)"); // the TEMP trigger is gone with the rest
    expect(count(d)).toBe(2);
    expect(run(d, "PRAGMA temp_store").rows[0]![0]).toBe(2);
    expect(run(d, "PRAGMA foreign_keys").rows[0]![0]).toBe(1);
    file.close();
  });

  it("washes TEMP objects however they were made: renamed, dropped unqualified, rolled back, odd names", () => {
    const file = TenantFile.open(sql, "washed-kinds", undefined);
    const owner = file.lease({});
    run(owner, "CREATE TABLE t (x)");
    file.giveBack(owner, {});
    const cases: string[][] = [
      // The wash knows these from the statements (no look at temp.sqlite_schema)…
      ['CREATE TEMP TABLE "Odd Name ä" (y)', 'CREATE INDEX temp.i ON "Odd Name ä" (y)'],
      ["CREATE TEMP TABLE a (y)", "CREATE TEMP VIEW va AS SELECT * FROM a", "DROP VIEW temp.va"],
      ["CREATE TEMP TABLE IF NOT EXISTS a (y)", "CREATE TEMP TABLE IF NOT EXISTS a (y)"],
      // …and reads the schema where a statement made the names unsure.
      ["CREATE TEMP TABLE a (y)", "ALTER TABLE temp.a RENAME TO b"],
      ["CREATE TEMP TABLE a (y)", "ALTER TABLE a RENAME TO c"],
      ["CREATE TEMP TABLE a (y)", "DROP TABLE a", "CREATE TEMP TABLE d (y)"],
      ["BEGIN", "CREATE TEMP TABLE a (y)", "ROLLBACK", "CREATE TEMP TABLE e (y)"],
      [
        "CREATE TEMP TABLE a (y)",
        "CREATE TEMP TRIGGER tr AFTER INSERT ON main.t BEGIN SELECT 1; END",
      ],
    ];
    for (const statements of cases) {
      const user = {};
      const db = file.lease(user);
      for (const sqlText of statements) run(db, sqlText);
      file.giveBack(db, user);
      expect(db.isClosed, statements.join("; ")).toBe(false);
      expect(db.pristine, statements.join("; ")).toBe(true);
      const next = file.lease({});
      expect(next).toBe(db);
      expect(run(next, "SELECT count(*) AS n FROM temp.sqlite_schema").rows[0]!.n).toBe(0);
      run(next, "INSERT INTO t VALUES (1)");
      expect(count(next)).toBe(1);
      run(next, "DELETE FROM t");
      file.giveBack(next, {});
    }
    file.close();
  });

  it("washes no connection that holds more than TEMP objects, or that changed rows", () => {
    const file = TenantFile.open(sql, "unwashed", undefined);
    const owner = file.lease({});
    run(owner, "CREATE TABLE t (x)");
    file.giveBack(owner, {});
    for (const [state, lent] of [
      ["PRAGMA cache_size = 10", false],
      ["PRAGMA foreign_keys = OFF", false],
      ["PRAGMA recursive_triggers", false], // reading a pragma may set one
      ["INSERT INTO temp.mine VALUES (1)", "same user only"],
    ] as const) {
      const user = {};
      const db = file.lease(user);
      run(db, "CREATE TEMP TABLE mine (y)");
      run(db, state);
      file.giveBack(db, user);
      if (lent === false) {
        expect(db.isClosed, state).toBe(true);
      } else {
        // Washed of its TEMP table, but its last_insert_rowid() is 1: only its own user gets it.
        expect(db.isClosed, state).toBe(false);
        expect(db.pristine, state).toBe(false);
        expect(file.lease({}), state).not.toBe(db);
        expect(file.lease(user), state).toBe(db);
      }
    }
    file.close();
  });

  it("lends a connection that changed rows on as new once its user is done: its counters read 0", () => {
    const file = TenantFile.open(sql, "counters", undefined);
    const counters = (db: TenantDb) =>
      Object.values(
        run(db, "SELECT last_insert_rowid() AS r, changes() AS c, total_changes() AS t").rows[0]!,
      ).map(Number);
    const writer = {};
    const a = file.lease(writer);
    run(a, "CREATE TABLE t (x)");
    run(a, "INSERT INTO t (rowid, x) VALUES (77, 1), (78, 2), (79, 3)");
    run(a, "UPDATE t SET x = x + 1");
    expect(counters(a)).toEqual([79, 3, 6]);
    file.giveBack(a, writer); // between statements: it stays the writer's, counters and all
    expect(a.pristine).toBe(false);
    const other = file.lease({});
    expect(other).not.toBe(a);
    expect(file.lease(writer)).toBe(a);
    expect(counters(a)).toEqual([79, 3, 6]);
    file.giveBack(a, writer);

    file.done(writer); // the writer's logical connection closed
    expect(a.pristine).toBe(true);
    const next = file.lease({});
    expect(next).toBe(a); // no new SQLite connection
    expect(counters(next)).toEqual([0, 0, 0]);
    run(next, "INSERT INTO t (rowid, x) VALUES (500, 9)");
    expect(counters(next)).toEqual([500, 1, 1]);
    expect(count(next)).toBe(4);

    // In a transaction, then given back for good (a closed transaction's connection).
    const tx = {};
    const b = file.lease(tx);
    run(b, "BEGIN");
    run(b, "DELETE FROM t");
    run(b, "COMMIT");
    file.giveBack(b, tx, true);
    expect(b.pristine).toBe(true);
    const after = file.lease({});
    expect(after).toBe(b);
    expect(counters(after)).toEqual([0, 0, 0]);
    expect(count(after)).toBe(0);

    // One holding state of its own is never reset: it is closed as before.
    const stateful = {};
    const c = file.lease(stateful);
    run(c, "PRAGMA cache_size = 10");
    run(c, "INSERT INTO t VALUES (1)");
    file.giveBack(c, stateful, true);
    expect(c.isClosed).toBe(true);
    file.close();
  });

  it("folds an idle tenant's WAL into its database and truncates it; a reader in the way delays it", async () => {
    const file = TenantFile.open(sql, "wal-trim", undefined);
    // Frames in the WAL (a passive checkpoint, which copies them but never empties the WAL).
    const walFrames = (db: TenantDb) =>
      Number(db.raw.exec("PRAGMA wal_checkpoint(PASSIVE)")[0]!.values[0]![1]);
    const writer = {};
    const w = file.lease(writer);
    run(w, "CREATE TABLE t (x)");
    for (let i = 0; i < 100; i++) run(w, `INSERT INTO t VALUES (${i})`);
    file.writeEnded(); // (the platform's connections tell the file when a write ends)
    // A reader holding an older snapshot keeps the WAL: the trim waits for it.
    const reader = {};
    const r = file.lease(reader);
    run(r, "BEGIN");
    expect(count(r)).toBe(100);
    run(w, "INSERT INTO t VALUES (100)");
    file.writeEnded();
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(walFrames(w)).toBeGreaterThan(100); // SQLite alone checkpoints at 128 frames (see sqljs-open.ts)
    run(r, "COMMIT");
    file.giveBack(r, reader, true);
    // Idle for a whole second (the timer that sees the use above waits one more).
    await new Promise((resolve) => setTimeout(resolve, 2300));
    expect(walFrames(w)).toBe(0);
    expect(count(w)).toBe(101);
    file.giveBack(w, writer, true);
    // Closing the file stops its timer: nothing runs on a closed file.
    const again = file.lease({});
    run(again, "INSERT INTO t VALUES (101)");
    file.writeEnded();
    file.close();
    await new Promise((resolve) => setTimeout(resolve, 1300));
  }, 15_000);

  it("leaves a closed connection's pending declared types to the file's owner, right across DML, DDL and the file's close", () => {
    const file = TenantFile.open(sql, "types", undefined);
    const a = file.lease({});
    run(a, "CREATE TABLE t (x INTEGER, y TEXT)");
    const b = file.lease({});
    // First runs on this schema: their declared types are computed when read, not now.
    const all = run(b, "SELECT * FROM t");
    const one = run(b, "SELECT y FROM t");
    b.close(); // computes nothing: the owner answers later
    run(a, "INSERT INTO t VALUES (1, 'a')"); // DML cannot change a schema: still nothing computed
    expect(all.columnTypes).toEqual(["INTEGER", "TEXT"]);
    // DDL: what is still pending is computed first, on the schema the result came from (the
    // file learns of the change as a logical connection tells it, after each statement).
    for (const ddl of ["DROP TABLE t", "CREATE TABLE t (y BLOB)"]) {
      run(a, ddl);
      a.schemaTouched = false;
      file.schemaChanged();
    }
    expect(one.columnTypes).toEqual(["TEXT"]);
    // What is still pending when the file closes is computed from a copy of its tables and
    // views, if read: a view, a join, an expression, a vector function, a bad body.
    run(a, "CREATE VIEW v AS SELECT y AS z FROM t");
    run(a, "CREATE TABLE u (k INTEGER PRIMARY KEY, e F32_BLOB(2))");
    a.schemaTouched = false;
    file.schemaChanged();
    const c = file.lease({});
    const last = run(c, "SELECT * FROM t");
    const view = run(c, "SELECT z, k, e, vector_extract(e) AS x FROM v, u");
    c.close();
    const d = file.lease({});
    const open = run(d, "SELECT k + 1 AS n, e FROM u"); // on a connection still open at close
    file.close();
    expect(d.isClosed).toBe(true);
    expect(last.columnTypes).toEqual(["BLOB"]);
    expect(view.columnTypes).toEqual(["BLOB", "INTEGER", "F32_BLOB(2)", ""]);
    expect(open.columnTypes).toEqual(["", "F32_BLOB(2)"]);
  });

  it("recycles a closed tenant's file for the next one, emptied and with none of its connections", () => {
    const first = TenantFile.open(sql, "first", undefined);
    const c = first.lease({});
    run(c, "CREATE TABLE secret (x)");
    run(c, "INSERT INTO secret VALUES ('first tenant')");
    const name = first.filename;
    first.close();
    expect(c.isClosed).toBe(true);
    const second = TenantFile.open(sql, "second", undefined);
    // The spare file (and its wal-index, which sql.js never frees) is reused…
    expect(second.filename).toBe(name);
    const d = second.lease({});
    // …and holds nothing of the tenant before.
    expect(run(d, "SELECT count(*) AS n FROM sqlite_schema").rows[0]!.n).toBe(0);
    second.close();
  });

  it("parks connections between statements; one its user went on with is never taken back", async () => {
    const file = TenantFile.open(sql, "parked", undefined);
    const users = Array.from({ length: POOL_SIZE + 2 }, () => ({}));
    const dbs = users.map((u) => file.lease(u));
    for (const db of dbs.slice(0, POOL_SIZE)) {
      run(db, "SELECT 1");
      file.park(db);
    }
    // The first user goes on with its connection (only marked busy), while others park theirs:
    // more parked than the pool holds gives back the longest parked that is not busy.
    file.unpark(dbs[0]!);
    file.park(dbs[POOL_SIZE]!);
    file.park(dbs[POOL_SIZE + 1]!);
    expect(dbs[0]!.lessee).toBe(users[0]);
    expect(dbs[1]!.lessee).toBeUndefined();
    expect(dbs.slice(2).map((db) => db.lessee)).toEqual(users.slice(2));
    expect(run(dbs[0]!, "SELECT 2 AS n").rows[0]!.n).toBe(2);
    file.park(dbs[0]!); // parked again, after the others: the pool is full, the oldest goes
    expect(dbs[2]!.lessee).toBeUndefined();
    file.unpark(dbs[3]!); // busy at the next turn of the event loop: stays with its user
    await new Promise((r) => setTimeout(r, 0));
    expect(dbs[3]!.lessee).toBe(users[3]);
    expect([0, 4, POOL_SIZE + 1].map((i) => dbs[i]!.lessee)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(dbs[3]!.isClosed).toBe(false);
    // Parked again later, it goes back at the following turn.
    file.park(dbs[3]!);
    await new Promise((r) => setTimeout(r, 0));
    expect(dbs[3]!.lessee).toBeUndefined();
    file.close();
  });

  it("refuses engine-wide pragmas before SQLite compiles them (it runs them then)", async () => {
    const file = TenantFile.open(sql, "t", undefined);
    const a = file.lease({});
    for (const text of [
      "PRAGMA hard_heap_limit = 300000",
      "PRAGMA soft_heap_limit = 1",
      "EXPLAIN PRAGMA hard_heap_limit = 300000",
      "PRAGMA threads = 8",
      "PRAGMA journal_mode = DELETE",
    ]) {
      await expect(Promise.resolve().then(() => run(a, text))).rejects.toBeTenantliteError(
        "PRAGMA_FORBIDDEN",
      );
    }
    // The engine still has all its memory: a 4 MB blob is fine.
    run(a, "CREATE TABLE b (x)");
    run(a, "INSERT INTO b VALUES (zeroblob(4000000))");
    expect(count(a, "b")).toBe(1);
    file.close();
  });
});
