import { afterEach, describe, expect, it, vi } from "vitest";
import { createPlatform, type Platform } from "../../src/index.js";

let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

describe("many logical connections on one tenant", () => {
  it("50 connections doing read-modify-write increments in transactions end with an exact count", async () => {
    platform = await createPlatform({ busyTimeoutMs: 20_000 });
    await platform.createDatabase("counter");
    const setup = platform.client("counter");
    await setup.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    await setup.execute("INSERT INTO c VALUES (1, 0)");
    const clients = Array.from({ length: 50 }, () => platform!.client("counter"));
    const perClient = 10;
    const errors: unknown[] = [];
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < perClient; i++) {
          try {
            const tx = await c.transaction("write");
            const rs = await tx.execute("SELECT n FROM c WHERE id = 1");
            // Yield between read and write so other connections really contend.
            await new Promise((r) => setTimeout(r, 0));
            await tx.execute({
              sql: "UPDATE c SET n = ? WHERE id = 1",
              args: [Number(rs.rows[0]!.n) + 1],
            });
            await tx.commit();
          } catch (e) {
            errors.push(e);
          }
        }
      }),
    );
    expect(errors).toEqual([]);
    const rs = await setup.execute("SELECT n FROM c WHERE id = 1");
    expect(rs.rows[0]!.n).toBe(50 * perClient);
  });

  it("a writer gives up after the busy timeout with SQLITE_BUSY; readers never wait; the holder is unaffected", async () => {
    platform = await createPlatform({ busyTimeoutMs: 100, transactionTimeoutMs: 10_000 });
    await platform.createDatabase("busy");
    const a = platform.client("busy");
    const b = platform.client("busy");
    await a.execute("CREATE TABLE t (x)");
    const tx = await a.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    // A read on another connection sees the last committed state at once.
    const read = Date.now();
    expect((await b.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
    expect(Date.now() - read).toBeLessThan(1000);
    const started = Date.now();
    await expect(b.execute("INSERT INTO t VALUES (9)")).rejects.toBeTenantliteError(
      "SQLITE_BUSY",
      /another connection holds a transaction/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await tx.execute("INSERT INTO t VALUES (2)");
    await tx.commit();
    expect((await b.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(2);
  });

  it("rolls back a transaction idle past its timeout; its later use gets TRANSACTION_TIMEOUT", async () => {
    platform = await createPlatform({ transactionTimeoutMs: 100 });
    await platform.createDatabase("idle");
    const a = platform.client("idle");
    await a.execute("CREATE TABLE t (x)");
    const tx = await a.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    await new Promise((r) => setTimeout(r, 250));
    // The tenant is free again: another connection writes without waiting.
    await a.execute("INSERT INTO t VALUES (2)");
    await expect(tx.execute("INSERT INTO t VALUES (3)")).rejects.toBeTenantliteError(
      "TRANSACTION_TIMEOUT",
    );
    await expect(tx.commit()).rejects.toBeTenantliteError("TRANSACTION_TIMEOUT");
    const rs = await a.execute("SELECT x FROM t ORDER BY x");
    expect(rs.rows.map((r) => r.x)).toEqual([2]);
  });

  it("times a transaction out counting from its last statement, however long it has run", async () => {
    platform = await createPlatform({ transactionTimeoutMs: 100 });
    await platform.createDatabase("busy");
    const a = platform.client("busy");
    await a.execute("CREATE TABLE t (x)");
    // The idle timer is armed once and moved on when it fires (not reset by each statement):
    // fake clocks make the boundaries exact.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
    try {
      const tx = await a.transaction("write");
      for (let i = 0; i < 10; i++) {
        await tx.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
        await vi.advanceTimersByTimeAsync(60); // 600 ms in all, never 100 ms idle
      }
      await vi.advanceTimersByTimeAsync(30); // idle 90 ms
      await tx.execute("INSERT INTO t VALUES (10)");
      await vi.advanceTimersByTimeAsync(99);
      await tx.commit();
      expect((await a.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(11);
      const late = await a.transaction("write");
      await late.execute("INSERT INTO t VALUES (11)");
      await vi.advanceTimersByTimeAsync(60);
      await late.execute("INSERT INTO t VALUES (12)");
      await vi.advanceTimersByTimeAsync(101); // 101 ms after its last statement
      await expect(late.execute("INSERT INTO t VALUES (13)")).rejects.toBeTenantliteError(
        "TRANSACTION_TIMEOUT",
      );
      expect((await a.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(11);
    } finally {
      vi.useRealTimers();
    }
  });

  it("queues autocommit writes behind a transaction and runs them after it commits; reads go on", async () => {
    platform = await createPlatform();
    await platform.createDatabase("queue");
    const a = platform.client("queue");
    const b = platform.client("queue");
    await a.execute("CREATE TABLE t (x)");
    const tx = await a.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    let done = false;
    const pending = b.execute("INSERT INTO t VALUES (3)").then((rs) => {
      done = true;
      return rs;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    expect((await b.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
    await tx.execute("INSERT INTO t VALUES (2)");
    await tx.commit();
    expect((await pending).rowsAffected).toBe(1);
    expect((await b.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(3);
  });

  it("statements of one connection running at once keep its SQLite connection to themselves", async () => {
    platform = await createPlatform({ busyTimeoutMs: 5_000 });
    await platform.createDatabase("share");
    const holder = platform.client("share");
    await holder.execute("CREATE TABLE t (x TEXT)");
    const tx = await holder.transaction("write");
    await tx.execute("INSERT INTO t VALUES ('holder')");
    const c = platform.client("share");
    // The insert waits for the writer; the read beside it finishes at once.
    const insert = c.execute("INSERT INTO t VALUES ('c')");
    await c.execute("SELECT 1");
    // Another client's read transaction must not be handed the connection the insert waits on.
    const other = await platform.client("share").transaction("read");
    await other.execute("SELECT count(*) FROM t");
    await tx.commit();
    expect((await insert).rowsAffected).toBe(1);
    await other.rollback();
    const rs = await holder.execute("SELECT x FROM t ORDER BY x");
    expect(rs.rows.map((r) => r.x)).toEqual(["c", "holder"]);
  });

  it("a schema change reaches other connections' cached statements when it commits, not before", async () => {
    platform = await createPlatform();
    await platform.createDatabase("ddl");
    const a = platform.connect("ddl");
    const b = platform.connect("ddl");
    await a.execute("CREATE TABLE t (x INTEGER)", undefined);
    await a.execute("INSERT INTO t VALUES (1)", undefined);
    await b.execute("CREATE TEMP TABLE keep (y)", undefined); // b keeps its connection and cache
    const cols = async (c: typeof a) => {
      const rs = await c.execute("SELECT * FROM t", undefined);
      return { columns: rs.columns, types: rs.columnTypes, row: rs.rows[0]!.length };
    };
    expect(await cols(b)).toEqual({ columns: ["x"], types: ["INTEGER"], row: 1 });
    await a.execute("BEGIN", undefined);
    await a.execute("ALTER TABLE t ADD COLUMN z TEXT", undefined);
    expect(await cols(b)).toEqual({ columns: ["x"], types: ["INTEGER"], row: 1 });
    expect(await cols(a)).toEqual({ columns: ["x", "z"], types: ["INTEGER", "TEXT"], row: 2 });
    await a.execute("COMMIT", undefined);
    expect(await cols(b)).toEqual({ columns: ["x", "z"], types: ["INTEGER", "TEXT"], row: 2 });
    // Autocommit DDL, and a rolled-back one, the same way; the connection itself follows too.
    await a.execute("ALTER TABLE t ADD COLUMN w REAL", undefined);
    expect((await cols(b)).columns).toEqual(["x", "z", "w"]);
    await a.execute("BEGIN", undefined);
    await a.execute("ALTER TABLE t ADD COLUMN never BLOB", undefined);
    expect((await cols(a)).columns).toEqual(["x", "z", "w", "never"]);
    await a.execute("ROLLBACK", undefined);
    expect((await cols(a)).columns).toEqual(["x", "z", "w"]);
    expect((await cols(b)).columns).toEqual(["x", "z", "w"]);
    a.close();
    b.close();
  });

  it("gives a connection with TEMP objects the declared types of what its names mean to it", async () => {
    platform = await createPlatform();
    await platform.createDatabase("shadow");
    const a = platform.connect("shadow");
    const b = platform.connect("shadow");
    await a.execute("CREATE TABLE t (x INTEGER, y TEXT)", undefined);
    await a.execute("CREATE TABLE u (k BLOB)", undefined);
    await a.execute("INSERT INTO t VALUES (1, 'a')", undefined);
    const types = async (c: typeof a, sql: string) => (await c.execute(sql, undefined)).columnTypes;
    // b's TEMP table has a name of its own: queries of the file's tables get the file's types,
    // queries of its TEMP table get the TEMP table's.
    await b.execute("CREATE TEMP TABLE mine (m REAL)", undefined);
    expect(await types(b, "SELECT * FROM t")).toEqual(["INTEGER", "TEXT"]);
    expect(await types(b, "SELECT * FROM mine")).toEqual(["REAL"]);
    expect(await types(b, "SELECT t.x, mine.m FROM t, mine")).toEqual(["INTEGER", "REAL"]);
    // A TEMP object named like a table of the file shadows it for b alone.
    await b.execute("CREATE TEMP VIEW U AS SELECT x AS k FROM t", undefined);
    expect(await types(b, "SELECT * FROM u")).toEqual(["INTEGER"]);
    expect(await types(a, "SELECT * FROM u")).toEqual(["BLOB"]);
    await b.execute("CREATE TEMP TABLE t (x DATE, y INT)", undefined);
    expect(await types(b, "SELECT * FROM t")).toEqual(["DATE", "INT"]);
    expect(await types(b, "SELECT * FROM main.t")).toEqual(["INTEGER", "TEXT"]);
    expect(await types(a, "SELECT * FROM t")).toEqual(["INTEGER", "TEXT"]);
    // Read lazily and after the connection closed, the types are still the right ones.
    const c = platform.connect("shadow");
    await c.execute("CREATE TEMP TABLE t (q NUMERIC, r TEXT)", undefined);
    const lazy = await c.execute("SELECT * FROM t", undefined);
    const other = await c.execute("SELECT * FROM u", undefined);
    c.close();
    expect(lazy.columnTypes).toEqual(["NUMERIC", "TEXT"]);
    expect(other.columnTypes).toEqual(["BLOB"]);
    a.close();
    b.close();
  });

  it("keeps an interactive transaction's reads isolated from nothing else: a rolled-back write is never seen", async () => {
    platform = await createPlatform();
    await platform.createDatabase("iso");
    const a = platform.client("iso");
    await a.execute("CREATE TABLE t (x)");
    const tx = await a.transaction("write");
    await tx.execute("INSERT INTO t VALUES (1)");
    await tx.rollback();
    expect((await a.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
  });
});

describe("the process's limit on open files", () => {
  it("keeps the most tenants a platform may hold open, each used by connections of its own, within it", async () => {
    platform = await createPlatform({ maxOpenTenants: 800 });
    for (let i = 0; i < 1000; i++) await platform.createDatabase(`t${i}`);
    // A loop that only awaits promises: connections parked between statements pile up unless
    // the instance's budget for idle ones holds them down.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 1000; i++) {
        const c = platform.client(`t${i}`);
        await c.execute("CREATE TABLE IF NOT EXISTS t (x)");
        await c.execute("SELECT count(*) FROM t");
      }
    }
    expect(platform.openTenantCount).toBeLessThanOrEqual(800);
  });

  it("refuses a connection beyond it with TOO_MANY_CONNECTIONS, and recovers when connections close", async () => {
    platform = await createPlatform();
    const names = Array.from({ length: 12 }, (_, i) => `many${i}`);
    for (const name of names) {
      await platform.createDatabase(name);
      await platform.client(name).execute("CREATE TABLE t (x)");
    }
    const held = [];
    let refused: unknown;
    // Each connection holding TEMP objects keeps a SQLite connection (two files) open: 12
    // databases of at most 256 each are more than the process's ~4,094 files.
    for (let i = 0; i < 12 * 256 && refused === undefined; i++) {
      const c = platform.connect(names[i % names.length]!);
      held.push(c);
      await c.execute("CREATE TEMP TABLE mine (y)", undefined).catch((e: unknown) => {
        refused = e;
      });
    }
    expect((refused as { code?: string } | undefined)?.code, `after ${held.length}`).toBe(
      "TOO_MANY_CONNECTIONS",
    );
    expect((refused as Error).message).toMatch(/too many are open in this process/);
    expect((refused as Error).message).not.toMatch(/dbfile_|tenants\//);
    for (const c of held) c.close();
    const c = platform.client("many0");
    await c.execute("INSERT INTO t VALUES (1)");
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
  });

  it("lets one database hold at most 256 connections, so that it cannot take every other database's", async () => {
    // Before, one client's connections with state (a WebSocket's streams, each with a TEMP table)
    // took all the process's, and every other database failed TOO_MANY_CONNECTIONS.
    platform = await createPlatform();
    await platform.createDatabase("hog");
    await platform.createDatabase("other");
    const held = [];
    const refusals: unknown[] = [];
    for (let i = 0; i < 300; i++) {
      const c = platform.connect("hog");
      held.push(c);
      // Half hold a transaction, half TEMP objects: both keep a connection.
      const statement = i % 2 === 0 ? "BEGIN" : "CREATE TEMP TABLE mine (y)";
      await c.execute(statement, undefined).catch((e: unknown) => refusals.push(e));
    }
    expect(refusals).toHaveLength(300 - 256);
    for (const e of refusals) {
      expect(e).toBeTenantliteError("TOO_MANY_CONNECTIONS", /this database has 256 open, its most/);
    }
    // The database is full (its own statements fail too, until connections close), and other
    // databases open theirs as before.
    await expect(platform.client("hog").execute("SELECT 1")).rejects.toBeTenantliteError(
      "TOO_MANY_CONNECTIONS",
    );
    const others = [];
    for (let i = 0; i < 100; i++) {
      const c = platform.connect("other");
      others.push(c);
      await c.execute("CREATE TEMP TABLE mine (y)", undefined);
    }
    // Closing gives the room back.
    for (const c of held.splice(0, 10)) c.close();
    const again = platform.connect("hog");
    await again.execute("BEGIN", undefined);
    for (const c of [...held, ...others, again]) c.close();
  });
});
