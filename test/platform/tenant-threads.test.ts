/**
 * The library with tenant threads (`createPlatform({ tenantThreads })`, issue 17 point 1): the
 * in-process client works as on the caller's thread, and everything the platform does to a
 * tenant itself — export, a size limit, a migration, delete — finds the tenant as the threads
 * left it, and the threads find it as the platform left it. On FsStorage, across a reopen.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPlatform } from "../../src/node/create-platform.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { tenantThreads } from "../../src/node/tenant-threads.js";
import type { Platform } from "../../src/platform/platform.js";
import { runTs, useTempDirs } from "../helpers.js";

const tempDir = useTempDirs("tenantlite-lib-threads-");
const opened: { platform: Platform; storage: FsStorage }[] = [];

async function open(
  dir: string,
  threads: Parameters<typeof tenantThreads>[0] = { threads: 2, maxQueryMs: 2000 },
) {
  const storage = await FsStorage.open(dir);
  const platform = await createPlatform({ storage, tenantThreads: tenantThreads(threads) });
  const it = { platform, storage };
  opened.push(it);
  return it;
}

/** Runs for hours unless stopped. */
const RUNAWAY =
  "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n<1e12) SELECT count(*) FROM c";

/**
 * A platform with one thread and a 500 ms query limit, and tenants `slow` and `quick` on it,
 * each opened there by `first` when given (else not open yet).
 */
async function slowAndQuick(first?: string): Promise<Platform> {
  const { platform } = await open(tempDir(), { threads: 1, maxQueryMs: 500 });
  for (const name of ["slow", "quick"]) {
    await platform.createDatabase(name);
    if (first !== undefined) await platform.client(name).execute(first);
  }
  return platform;
}

async function close(it: { platform: Platform; storage: FsStorage }) {
  opened.splice(opened.indexOf(it), 1);
  await it.platform.close();
  await it.storage.close();
}

afterEach(async () => {
  for (const it of opened.splice(0)) {
    await it.platform.close();
    await it.storage.close();
  }
});

describe("createPlatform with tenant threads", () => {
  it("serves the client: execute, batch, transactions, scripts; errors keep their codes", async () => {
    const dir = tempDir();
    const it1 = await open(dir);
    const { platform } = it1;
    await platform.createDatabase("acme");
    const db = platform.client("acme");
    await db.executeMultiple(
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE TABLE pets (owner INTEGER REFERENCES users(id))",
    );
    const [, rs] = await db.batch(
      [{ sql: "INSERT INTO users (name) VALUES (?)", args: ["ada"] }, "SELECT name FROM users"],
      "write",
    );
    expect(rs!.rows[0]!.name).toBe("ada");
    expect(rs!.rows[0]![0]).toBe("ada"); // rows keep their index access across threads
    const tx = await db.transaction("write");
    await tx.execute({ sql: "INSERT INTO users (name) VALUES (?)", args: ["bob"] });
    await tx.rollback();
    expect((await db.execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(1);
    // Foreign keys are on, as in libSQL, on the thread too.
    await expect(db.execute("INSERT INTO pets VALUES (42)")).rejects.toBeTenantliteError(
      "SQLITE_CONSTRAINT",
    );
    const e = await db
      .batch(["SELECT 1", "SELECT * FROM nowhere"], "read")
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ code: "SQLITE_ERROR", statementIndex: 1 });
    const script = await db
      .executeMultiple("SELECT 1; SELECT * FROM nowhere")
      .catch((err: unknown) => err);
    expect(script).toMatchObject({ statementIndex: 1 });
    await expect(platform.client("nowhere").execute("SELECT 1")).rejects.toBeTenantliteError(
      "DATABASE_NOT_FOUND",
    );
    db.close();
    await close(it1);
    const it2 = await open(dir);
    expect(
      (await it2.platform.client("acme").execute("SELECT name FROM users")).rows.map((r) => r.name),
    ).toEqual(["ada"]);
  }, 30_000);

  it("export, size limits, migrations and delete find the tenant as its thread left it", async () => {
    const { platform } = await open(tempDir());
    await platform.createDatabase("app", { type: "schema" });
    await platform.createDatabase("t1", { schema: "app" });
    await platform.createDatabase("t2", { schema: "app" });
    const app = platform.client("app");
    await app.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    const t1 = platform.client("t1");
    await t1.execute("INSERT INTO notes (body) VALUES ('on a thread')");
    // Export reads what the thread committed.
    const image = await platform.exportDatabase("t1");
    expect(new TextDecoder().decode(image)).toContain("on a thread");
    // A migration brings the children back from their threads, and they go on after it.
    await app.execute("ALTER TABLE notes ADD COLUMN tag TEXT");
    await t1.execute("UPDATE notes SET tag = 'migrated'");
    expect((await t1.execute("SELECT tag FROM notes")).rows[0]!.tag).toBe("migrated");
    await expect(t1.execute("CREATE TABLE mine (x)")).rejects.toBeTenantliteError("DDL_FORBIDDEN");
    // A size limit reaches the thread's copy.
    await platform.createDatabase("small");
    const small = platform.client("small");
    await small.execute("CREATE TABLE blobs (b BLOB)");
    await platform.setSizeLimit("small", 64 * 1024);
    await expect(
      small.execute("INSERT INTO blobs VALUES (zeroblob(200000))"),
    ).rejects.toBeTenantliteError("SQLITE_FULL");
    // Delete: the thread lets it go; the next statement finds no database.
    await platform.deleteDatabase("small");
    await expect(small.execute("SELECT 1")).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
  }, 30_000);

  it("twelve tenants through one thread with a budget of two open: each keeps its commits", async () => {
    const storage = await FsStorage.open(tempDir());
    const platform = await createPlatform({
      storage,
      maxOpenTenants: 2,
      maxOpenBytes: 600 * 1024,
      tenantThreads: tenantThreads({ threads: 1 }),
    });
    opened.push({ platform, storage });
    const names = Array.from({ length: 12 }, (_, i) => `t${i}`);
    for (const name of names) {
      await platform.createDatabase(name);
      const c = platform.client(name);
      await c.execute("CREATE TABLE t (v TEXT)");
      await c.execute({ sql: "INSERT INTO t VALUES (?)", args: [name] });
      c.close();
    }
    for (const name of names) {
      const rs = await platform.client(name).execute("SELECT v FROM t");
      expect(rs.rows.map((r) => r.v)).toEqual([name]);
    }
  }, 30_000);

  it("a transaction that times out on its thread is seen as ended (Hrana's is_autocommit)", async () => {
    const storage = await FsStorage.open(tempDir());
    const platform = await createPlatform({
      storage,
      transactionTimeoutMs: 300,
      tenantThreads: tenantThreads({ threads: 1 }),
    });
    opened.push({ platform, storage });
    await platform.createDatabase("idle");
    const conn = platform.connect("idle");
    await conn.execute("BEGIN IMMEDIATE", undefined);
    expect(conn.inTransaction).toBe(true);
    await new Promise((r) => setTimeout(r, 900));
    expect(conn.inTransaction).toBe(false);
    await expect(conn.execute("SELECT 1", undefined)).rejects.toBeTenantliteError(
      "TRANSACTION_TIMEOUT",
    );
    conn.close();
  }, 30_000);

  it("a connection closed while its BEGIN runs gives the write lock back before another writer's next statement", async () => {
    // A close outside a transaction waits for the next message to its thread (or 10 ms), so
    // that an HTTP request's stream close does not wake the thread on its own. Closed while its
    // BEGIN IMMEDIATE is on the thread, the platform still thinks it is outside a transaction:
    // its close must reach the thread before anything else that could meet the lock it took.
    const { platform } = await open(tempDir());
    await platform.createDatabase("lock");
    const writer = platform.connect("lock");
    await writer.execute("CREATE TABLE t (x)", undefined);
    for (let round = 0; round < 24; round++) {
      const a = platform.connect("lock");
      await a.execute("SELECT 1", undefined); // seated on the tenant's thread
      const begun = a.execute("BEGIN IMMEDIATE", undefined).catch((e: unknown) => e);
      // Closed at different points: before the BEGIN is sent, while it runs, after its answer.
      for (let k = 0; k < round % 8; k++) await new Promise((r) => setImmediate(r));
      a.close();
      await begun;
      // Straight away, with nothing else in between (no timer), and after the delay.
      if (round % 3 === 1) await new Promise((r) => setTimeout(r, 30));
      await writer.execute("INSERT INTO t VALUES (?)", [round]);
    }
    const rs = await writer.execute("SELECT count(*) AS n FROM t", undefined);
    expect(rs.rows[0]!.n).toBe(24);
    writer.close();
  }, 20_000);

  it("a script that never closes its platform still exits: idle threads keep no process alive", async () => {
    const dir = tempDir();
    const script = join(dir, "no-close.ts");
    const src = (f: string) => JSON.stringify(join(process.cwd(), "src", "node", f));
    writeFileSync(
      script,
      `import { createPlatform } from ${src("create-platform.ts")};
import { tenantThreads } from ${src("tenant-threads.ts")};
const p = await createPlatform({ tenantThreads: tenantThreads({ threads: 2 }) });
await p.createDatabase("a");
console.log(String((await p.client("a").execute("SELECT 41 + 1 AS x")).rows[0].x));
`,
    );
    const r = await runTs(script);
    expect(r.out.trim()).toBe("42");
    expect(r.code).toBe(0);
  }, 30_000);

  it("a thread whose heap one query grew is started afresh once nothing of it is in use", async () => {
    // sql.js never gives its heap back: without this the process kept the 150 MB for good.
    const { platform } = await open(tempDir(), { threads: 1, maxThreadHeapBytes: 96 * 2 ** 20 });
    await platform.createDatabase("a");
    await platform.createDatabase("b");
    const a = platform.client("a");
    await a.execute("CREATE TABLE t (x)");
    await a.execute("INSERT INTO t VALUES (1)");
    // A connection with private state on the same thread: the thread is not taken from it.
    const holder = platform.connect("b");
    await holder.execute("CREATE TEMP TABLE tt AS SELECT 42 AS v", undefined);
    const before = process.memoryUsage().rss;
    await a.execute("SELECT length(randomblob(150000000))");
    const grown = process.memoryUsage().rss;
    expect(grown - before).toBeGreaterThan(100 * 2 ** 20);
    await a.execute("SELECT 1");
    expect((await holder.execute("SELECT v FROM tt", undefined)).rows[0]!.v).toBe(42);
    expect(process.memoryUsage().rss).toBeGreaterThan(grown - 50 * 2 ** 20);
    // Once it lets go, the next answer finds the thread idle: it is started afresh.
    holder.close();
    await a.execute("SELECT 1");
    const deadline = Date.now() + 10_000;
    while (process.memoryUsage().rss > grown - 100 * 2 ** 20 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(process.memoryUsage().rss).toBeLessThan(grown - 100 * 2 ** 20);
    // Its tenants come back from storage, its connections go on where they are now.
    expect((await a.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
    await a.execute("INSERT INTO t VALUES (2)");
    const fresh = platform.connect("b");
    await fresh.execute("CREATE TEMP TABLE tt AS SELECT 7 AS v", undefined);
    expect((await fresh.execute("SELECT v FROM tt", undefined)).rows[0]!.v).toBe(7);
    fresh.close();
  }, 60_000);

  it("connections on two threads that each need one tenant take turns with it, not take it from each other for good", async () => {
    // Connections with TEMP objects or a transaction stay on their thread, so when two threads
    // each hold one on a tenant (here: its own, and others' ATTACHes of it), each statement
    // moves the tenant to the other. Each thread's load used to be taken back before the thread
    // had opened the image, and asked for again: the two loaded it back and forth at full CPU
    // for good, every request on it waiting (and the platform's own, with no client left).
    const dir = tempDir();
    const script = join(dir, "turns.ts");
    const src = (f: string) => JSON.stringify(join(process.cwd(), "src", "node", f));
    writeFileSync(
      script,
      `import { createPlatform } from ${src("create-platform.ts")};
import { FsStorage } from ${src("fs-storage.ts")};
import { tenantThreads } from ${src("tenant-threads.ts")};
const storage = await FsStorage.open(${JSON.stringify(join(dir, "data"))});
const p = await createPlatform({ storage, tenantThreads: tenantThreads({ threads: 2 }) });
for (const n of ["a", "b", "c"]) {
  await p.createDatabase(n, { config: { allow_attach: true } });
  const c = p.client(n);
  await c.execute("CREATE TABLE t (x)");
  c.close();
}
const outcomes = {};
const inserted = { a: 0, b: 0, c: 0 };
const note = (k) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
async function worker(db, other, k) {
  for (let i = 0; i < 30; i++) {
    const c = p.connect(db, {});
    try {
      if (other !== null && i % 2 === k) {
        await c.execute("BEGIN");
        await c.execute(\`ATTACH "\${other}" AS o\`);
        await c.execute("SELECT count(*) FROM o.t");
        await c.execute("COMMIT");
        note("attached");
      } else {
        await c.execute("CREATE TEMP TABLE IF NOT EXISTS tt (x)");
        await c.execute("INSERT INTO t VALUES (1)");
        inserted[db]++;
        note("inserted");
      }
    } catch (e) {
      note(e.code);
    } finally {
      c.close();
    }
  }
}
await Promise.all([worker("a", "b", 0), worker("b", null, 0), worker("c", "a", 1), worker("a", "c", 1), worker("b", "c", 0), worker("c", null, 0)]);
const counts = {};
for (const n of ["a", "b", "c"]) counts[n] = Number((await p.client(n).execute("SELECT count(*) AS n FROM t")).rows[0].n);
console.log(JSON.stringify({ outcomes, inserted, counts }));
await p.close();
await storage.close();
`,
    );
    const r = await runTs(script, 30_000);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const { outcomes, inserted, counts } = JSON.parse(r.out.trim()) as {
      outcomes: Record<string, number>;
      inserted: Record<string, number>;
      counts: Record<string, number>;
    };
    // A connection whose tenant moved away loses its TEMP objects and transaction, with a
    // coded error (README, "Tenant threads"); nothing else fails.
    expect(Object.keys(outcomes).sort()).toEqual(expect.arrayContaining(["attached", "inserted"]));
    for (const code of Object.keys(outcomes)) {
      expect(["attached", "inserted", "TRANSACTION_CLOSED"]).toContain(code);
    }
    expect(outcomes.inserted! + outcomes.attached!).toBeGreaterThan(90);
    // Every acknowledged insert is there: the tenant was never open on both threads at once.
    expect(counts).toEqual(inserted);
  }, 40_000);

  it("a long statement holds its own tenant only: the others on its thread move on to another, and what they write there is kept", async () => {
    const { platform } = await open(tempDir(), { threads: 2, maxQueryMs: 20_000 });
    // Placed in first-use order on the thread with the fewest tenants: x and z share one.
    for (const name of ["x", "y", "z"]) {
      await platform.createDatabase(name);
      await platform.client(name).execute("CREATE TABLE t (v TEXT)");
    }
    const z = platform.client("z");
    await z.execute("INSERT INTO t VALUES ('before')");
    let longDone = false;
    // ~1–4 s on this machine: long enough for the platform to see it hold its thread.
    const long = platform
      .client("x")
      .execute(
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n<1e7) SELECT count(*) AS n FROM c",
      )
      .finally(() => {
        longDone = true;
      });
    await new Promise((r) => setTimeout(r, 50));
    // z waited for x's statement to end (up to the query time limit); now it is served
    // elsewhere meanwhile — writes included.
    await z.execute("INSERT INTO t VALUES ('during')");
    const during = await z.execute("SELECT v FROM t ORDER BY rowid");
    expect(longDone).toBe(false);
    expect(during.rows.map((r) => r.v)).toEqual(["before", "during"]);
    expect((await long).rows[0]!.n).toBe(10_000_000);
    // The old thread dropped its copy of z (it would have served the rows before 'during').
    await platform.client("x").execute("SELECT 1");
    await z.execute("INSERT INTO t VALUES ('after')");
    const after = await platform.client("z").execute("SELECT v FROM t ORDER BY rowid");
    expect(after.rows.map((r) => r.v)).toEqual(["before", "during", "after"]);
  }, 60_000);

  it("a tenant whose statement was stopped goes to a thread of its own: its next runaways no longer reset other tenants' transactions", async () => {
    const { platform } = await open(tempDir(), { threads: 2, maxQueryMs: 300 });
    // Placed in first-use order on the thread with the fewest tenants: bad and good share one.
    for (const name of ["bad", "other", "good"]) {
      await platform.createDatabase(name);
      await platform.client(name).execute("CREATE TABLE t (v TEXT)");
    }
    const bad = platform.client("bad");
    const runaway = () => bad.execute(RUNAWAY).catch((e: unknown) => e);
    // The first stop ends the thread that bad shares with good (good had nothing open there).
    expect(await runaway()).toMatchObject({ code: "QUERY_TIMEOUT" });
    const tx = await platform.client("good").transaction("write");
    await tx.execute("INSERT INTO t VALUES ('kept')");
    // Each stop ended the thread good's transaction lives on, which reset it: bad came back
    // to the least busy thread, good's.
    for (let i = 0; i < 2; i++) expect(await runaway()).toMatchObject({ code: "QUERY_TIMEOUT" });
    await tx.execute("INSERT INTO t VALUES ('kept too')");
    await tx.commit();
    const rows = await platform.client("good").execute("SELECT v FROM t ORDER BY rowid");
    expect(rows.rows.map((r) => r.v)).toEqual(["kept", "kept too"]);
    // bad goes on too, on its own thread.
    expect((await bad.execute("SELECT 7 AS x")).rows[0]!.x).toBe(7);
  }, 60_000);

  it("a request its thread had received but not started when a runaway held the thread runs again, not reset", async () => {
    // One thread: the runaway's tenant and the reader's share it, and neither is open there yet,
    // so both requests wait for their tenant to load; the runaway's runs first and holds the
    // thread, the reader's never starts.
    const platform = await slowAndQuick();
    const slow = platform.client("slow");
    const quick = platform.client("quick");
    const stopped = slow.execute(RUNAWAY).catch((e: unknown) => e);
    const read = quick.execute("SELECT 42 AS answer").catch((e: unknown) => e);
    expect(await stopped).toMatchObject({ code: "QUERY_TIMEOUT" });
    // It did nothing on the thread that ended: sent again, it is answered (no TRANSACTION_CLOSED).
    expect(await read).toMatchObject({ rows: [{ answer: 42 }] });
  }, 30_000);

  it("a request answered just before a runaway of the same batch held the thread gets its answer", async () => {
    const platform = await slowAndQuick("SELECT 1");
    // Both tenants are open on the thread and both requests leave in one message: the read runs
    // at once, then the runaway holds the thread.
    let stoppedYet = false;
    const read = platform
      .client("quick")
      .execute("SELECT 42 AS answer")
      .then((rs) => ({ rs, stoppedYet }));
    const stopped = platform
      .client("slow")
      .execute(RUNAWAY)
      .catch((e: unknown) => e)
      .finally(() => {
        stoppedYet = true;
      });
    // Its answer left the thread before the runaway started: not held with it, nor reset.
    const { rs, stoppedYet: waited } = await read;
    expect(rs.rows[0]!.answer).toBe(42);
    expect(waited).toBe(false);
    expect(await stopped).toMatchObject({ code: "QUERY_TIMEOUT" });
  }, 30_000);

  it("a write its thread had run when a runaway held the thread is not sent again", async () => {
    const platform = await slowAndQuick("CREATE TABLE IF NOT EXISTS t (v)");
    // Both tenants are open on the thread: the insert runs at once, then the runaway holds the
    // thread before the insert's answer (and its save) could leave it.
    const insert = platform
      .client("quick")
      .execute("INSERT INTO t VALUES (1)")
      .catch((e: unknown) => e);
    const stopped = platform
      .client("slow")
      .execute(RUNAWAY)
      .catch((e: unknown) => e);
    expect(await stopped).toMatchObject({ code: "QUERY_TIMEOUT" });
    const outcome = await insert;
    const rows = await platform.client("quick").execute("SELECT count(*) AS n FROM t");
    if (outcome instanceof Error) {
      // Reset while it ran (its commit never reached storage): never run a second time.
      expect(outcome).toMatchObject({ code: "TRANSACTION_CLOSED" });
      expect(rows.rows[0]!.n).toBe(0);
    } else expect(rows.rows[0]!.n).toBe(1);
  }, 30_000);

  it("stops a statement past the limit; the caller's other tenants go on", async () => {
    const { platform } = await open(tempDir());
    await platform.createDatabase("slow");
    await platform.createDatabase("fast");
    const fast = platform.client("fast");
    await fast.execute("CREATE TABLE t (x)");
    await fast.execute("INSERT INTO t VALUES (1)");
    const slow = platform.client("slow");
    const stopped = slow.execute(RUNAWAY).catch((e: unknown) => e);
    expect((await fast.execute("SELECT x FROM t")).rows[0]!.x).toBe(1);
    expect(await stopped).toMatchObject({ code: "QUERY_TIMEOUT" });
    expect((await slow.execute("SELECT 7 AS x")).rows[0]!.x).toBe(7);
  }, 30_000);
});
