/**
 * Tenants on threads (issue 17, points 1 and 2), as a busy team's shared server meets them: the
 * real `@libsql/client` over http and ws, a server on a data directory with two tenant threads
 * and a short query time limit. A runaway statement on one tenant never stalls a tenant on the
 * other thread; past the limit it is stopped with QUERY_TIMEOUT and its transaction rolled back;
 * the tenants that shared its thread come back from storage with every acknowledged commit; a
 * client that goes away stops its statement; ATTACH, schema parents, encryption and read-only
 * tokens keep working across threads; and a restart finds everything that was acknowledged.
 */
import { type Client, createClient } from "@libsql/client";
import { createClient as createApiClient } from "@tursodatabase/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";

const API_TOKEN = "threads-test-token";
const LIMIT_MS = 1500;
/** Runs for hours unless stopped. */
const RUNAWAY =
  "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n<1e12) SELECT count(*) FROM c";

const tempDir = useTempDirs("tenantlite-threads-", { scope: "file" });
let dir: string;
let server: RunningServer;
let token: string;
const clients: Client[] = [];

function start(): Promise<RunningServer> {
  return startServer({
    port: 0,
    dataDir: dir,
    auth: true,
    apiToken: API_TOKEN,
    consoleDir: false,
    workers: 2,
    maxQueryMs: LIMIT_MS,
  });
}

function client(db: string, scheme: "http" | "ws" = "http", authToken = token): Client {
  const base = scheme === "http" ? server.url : server.wsUrl;
  const c = createClient({ url: `${base}/dev/${db}/`, authToken });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  dir = tempDir();
  server = await start();
  const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server.url}/v1/` });
  // Group tokens: one token for every database of the group.
  await api.groups.create("team", "local" as never);
  for (const name of ["alpha", "bravo", "charlie", "delta"]) {
    await api.databases.create(name, { group: "team" });
  }
  token = (await api.groups.createToken("team")).jwt;
  // Placed in first-use order on the least busy thread: alpha and charlie share one thread,
  // bravo and delta the other.
  for (const name of ["alpha", "bravo", "charlie", "delta"]) {
    await client(name).execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  }
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

/** Rows acknowledged to writers, checked after the restart. */
const acknowledged: { db: string; v: string }[] = [];

async function insert(c: Client | { execute: Client["execute"] }, db: string, v: string) {
  await c.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [v] });
  acknowledged.push({ db, v });
}

describe("one tenant's statement never stalls a tenant on another thread", () => {
  it("point reads on bravo are answered while alpha runs a runaway query", async () => {
    await insert(client("bravo"), "bravo", "b1");
    let alphaDone = false;
    const runaway = client("alpha")
      .execute(RUNAWAY)
      .then(
        () => "finished",
        (e: { code?: string }) => e.code,
      )
      .finally(() => {
        alphaDone = true;
      });
    await new Promise((r) => setTimeout(r, 200));
    const reader = client("bravo");
    for (let i = 0; i < 20; i++) {
      const rs = await reader.execute("SELECT v FROM t WHERE id = 1");
      expect(rs.rows[0]!.v).toBe("b1");
    }
    // All twenty reads were answered before the runaway statement was stopped.
    expect(alphaDone).toBe(false);
    expect(await runaway).toBe("QUERY_TIMEOUT");
  }, 20_000);
});

describe("the query time limit", () => {
  it("stops the statement with QUERY_TIMEOUT and rolls its transaction back, over http and ws", async () => {
    for (const scheme of ["http", "ws"] as const) {
      const c = client("alpha", scheme);
      const tx = await c.transaction("write");
      await tx.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [`rolled back ${scheme}`] });
      const e = await tx.execute(RUNAWAY).catch((err: unknown) => err);
      expect(e).toMatchObject({ code: "QUERY_TIMEOUT" });
      expect(String((e as Error).message)).toMatch(/query time limit \(1500 ms\).*--max-query-ms/);
      tx.close();
      const rs = await client("alpha", scheme).execute({
        sql: "SELECT count(*) AS n FROM t WHERE v = ?",
        args: [`rolled back ${scheme}`],
      });
      expect(rs.rows[0]!.n).toBe(0);
    }
  }, 30_000);

  it("a batch runs on its thread as one request: a step past the limit fails the batch, over http and ws", async () => {
    for (const scheme of ["http", "ws"] as const) {
      const c = client("alpha", scheme);
      // @libsql/client's write batch: each step runs only if the one before succeeded, inside
      // BEGIN IMMEDIATE … COMMIT; the thread evaluates the conditions, all in one request.
      const e = await c
        .batch(
          [
            { sql: "INSERT INTO t (v) VALUES (?)", args: [`batch ${scheme}`] },
            RUNAWAY,
            { sql: "INSERT INTO t (v) VALUES (?)", args: [`batch ${scheme} after`] },
          ],
          "write",
        )
        .catch((err: unknown) => err);
      expect(e).toMatchObject({ code: "QUERY_TIMEOUT" });
      const rs = await client("alpha", scheme).execute({
        sql: "SELECT count(*) AS n FROM t WHERE v LIKE ?",
        args: [`batch ${scheme}%`],
      });
      expect(rs.rows[0]!.n).toBe(0);
      // The stream goes on.
      const ok = await c.batch([{ sql: "SELECT ? AS v", args: [scheme] }], "read");
      expect(ok[0]!.rows[0]!.v).toBe(scheme);
    }
    // A batch that begins no transaction runs step by step: each step's outcome is told, and the
    // steps after the stopped one run on the restarted thread.
    const res = await fetch(`${server.url}/dev/alpha/v2/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({
        requests: [
          {
            type: "batch",
            batch: {
              steps: [
                { stmt: { sql: "INSERT INTO t (v) VALUES ('steps before')" } },
                { stmt: { sql: RUNAWAY } },
                { stmt: { sql: "INSERT INTO t (v) VALUES ('steps after')" } },
              ],
            },
          },
        ],
      }),
    });
    const body = (await res.json()) as {
      results: { response: { result: { step_results: unknown[]; step_errors: unknown[] } } }[];
    };
    const { step_results, step_errors } = body.results[0]!.response.result;
    expect(step_results.map((r) => r !== null)).toEqual([true, false, true]);
    expect(step_errors[1]).toMatchObject({ code: "QUERY_TIMEOUT" });
    const rows = await client("alpha").execute(
      "SELECT v FROM t WHERE v LIKE 'steps %' ORDER BY rowid",
    );
    expect(rows.rows.map((r) => r.v)).toEqual(["steps before", "steps after"]);
  }, 30_000);

  it("a batch longer than one request to its thread keeps its conditions across requests", async () => {
    // 200 steps: the thread gets them 64 at a time; conditions name steps of earlier requests.
    const steps: { stmt: { sql: string }; condition?: unknown }[] = [];
    for (let i = 0; i < 200; i++) steps.push({ stmt: { sql: `SELECT ${i} AS i` } });
    steps[0] = { stmt: { sql: "BEGIN" } };
    steps[2] = { stmt: { sql: "INSERT INTO t (v) VALUES ('long batch')" } };
    steps[70] = { stmt: { sql: "SELECT * FROM no_such_table" } };
    steps[100] = {
      stmt: { sql: "SELECT 'saw the error'" },
      condition: { type: "error", step: 70 },
    };
    steps[101] = { stmt: { sql: "SELECT 'never'" }, condition: { type: "ok", step: 70 } };
    steps[150] = {
      stmt: { sql: "SELECT 'both'" },
      condition: {
        type: "and",
        conds: [
          { type: "ok", step: 2 },
          { type: "error", step: 70 },
          { type: "not", cond: { type: "is_autocommit" } },
        ],
      },
    };
    steps[199] = { stmt: { sql: "ROLLBACK" }, condition: { type: "ok", step: 150 } };
    const res = await fetch(`${server.url}/dev/alpha/v2/pipeline`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ requests: [{ type: "batch", batch: { steps } }] }),
    });
    const body = (await res.json()) as {
      results: { response: { result: { step_results: unknown[]; step_errors: unknown[] } } }[];
    };
    const { step_results, step_errors } = body.results[0]!.response.result;
    const status = step_results.map((r, i) =>
      r !== null ? "ok" : step_errors[i] !== null ? "error" : "skipped",
    );
    const expected = steps.map((_, i) => (i === 70 ? "error" : i === 101 ? "skipped" : "ok"));
    expect(status).toEqual(expected);
    // The ROLLBACK ran: the insert of step 2 is gone.
    const rows = await client("alpha").execute(
      "SELECT count(*) AS n FROM t WHERE v = 'long batch'",
    );
    expect(rows.rows[0]!.n).toBe(0);
  }, 30_000);

  it("brings back the thread's other tenants with every acknowledged commit; state on it is reset", async () => {
    // charlie shares alpha's thread: an ATTACH from alpha brings it there (a stalled thread's
    // idle tenants move on to another, as charlie did during the previous test).
    const near = client("alpha", "ws", await attachGrant("alpha", "charlie"));
    await near.batch(['ATTACH "charlie" AS c', "SELECT count(*) FROM c.t"], "read");
    const writer = client("charlie", "ws");
    await insert(writer, "charlie", "c1");
    const open = await client("charlie", "ws").transaction("write");
    await open.execute("INSERT INTO t (v) VALUES ('never committed')");
    const runaway = client("alpha")
      .execute(RUNAWAY)
      .catch((e: { code?: string }) => e.code);
    await new Promise((r) => setTimeout(r, 300));
    // Sent while the thread is held: it runs once the thread is back.
    const queued = client("charlie").execute("INSERT INTO t (v) VALUES ('c2')");
    expect(await runaway).toBe("QUERY_TIMEOUT");
    await queued;
    acknowledged.push({ db: "charlie", v: "c2" });
    // The open transaction lived on the stopped thread: its connection says so, once.
    const lost = await open.execute("SELECT 1").catch((e: unknown) => e);
    expect(lost).toMatchObject({ code: "TRANSACTION_CLOSED" });
    expect(String((lost as Error).message)).toMatch(/reset/);
    open.close();
    const rows = await client("charlie").execute("SELECT v FROM t ORDER BY id");
    expect(rows.rows.map((r) => r.v)).toEqual(["c1", "c2"]);
    // The writer's connection had no state of its own: it simply goes on.
    await insert(writer, "charlie", "c3");
  }, 30_000);

  it("on --memory too, a stopped thread's tenants keep every acknowledged commit, however recent", async () => {
    // With memory storage the thread's copy is the only one until it is saved: commits made just
    // before a runaway (which keeps the thread from any timer) were lost with the thread.
    const mem = await startServer({
      port: 0,
      memory: true,
      consoleDir: false,
      workers: 1,
      maxQueryMs: 1000,
    });
    try {
      await mem.platform.createDatabase("own");
      await mem.platform.createDatabase("neighbour");
      const c = (db: string) => createClient({ url: `${mem.url}/dev/${db}/` });
      const own = c("own");
      const neighbour = c("neighbour");
      await own.execute("CREATE TABLE t (v TEXT)");
      await own.execute("INSERT INTO t VALUES ('kept')");
      await neighbour.execute("CREATE TABLE t (v TEXT)");
      await neighbour.execute("INSERT INTO t VALUES ('kept too')");
      const runaway = await own.execute(RUNAWAY).catch((e: { code?: string }) => e.code);
      expect(runaway).toBe("QUERY_TIMEOUT");
      expect((await own.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual(["kept"]);
      expect((await neighbour.execute("SELECT v FROM t")).rows.map((r) => r.v)).toEqual([
        "kept too",
      ]);
      own.close();
      neighbour.close();
    } finally {
      await mem.close();
    }
  }, 20_000);

  it("a client that goes away stops its running statement", async () => {
    const server2 = await startServer({
      port: 0,
      memory: true,
      consoleDir: false,
      workers: 1,
      maxQueryMs: 0, // no limit: only the client's leaving can stop it
    });
    try {
      await server2.platform.createDatabase("solo");
      const gone = createClient({ url: `${server2.wsUrl}/dev/solo/` });
      const running = gone.execute(RUNAWAY).catch(() => "stopped");
      await new Promise((r) => setTimeout(r, 500));
      gone.close();
      await running;
      // The one thread is free again: without the stop this would wait for hours.
      const next = createClient({ url: `${server2.url}/dev/solo/` });
      expect((await next.execute("SELECT 42 AS x")).rows[0]!.x).toBe(42);
      // Over HTTP: the request is aborted (the socket closes) while its statement runs.
      const abort = new AbortController();
      const request = fetch(`${server2.url}/dev/solo/v2/pipeline`, {
        method: "POST",
        body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql: RUNAWAY } }] }),
        signal: abort.signal,
      }).catch(() => "aborted");
      await new Promise((r) => setTimeout(r, 500));
      abort.abort();
      expect(await request).toBe("aborted");
      expect((await next.execute("SELECT 43 AS x")).rows[0]!.x).toBe(43);
      next.close();
    } finally {
      await server2.close();
    }
  }, 20_000);

  it("closing the server with requests waiting on a busy tenant logs no INTERNAL_ERROR", async () => {
    const logged: string[] = [];
    const server3 = await startServer({
      port: 0,
      memory: true,
      auth: true,
      apiToken: API_TOKEN,
      consoleDir: false,
      workers: 1,
      maxQueryMs: 0,
      warn: (line) => logged.push(line),
    });
    const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server3.url}/v1/` });
    await api.databases.create("busy", { group: "default" });
    const jwt = (await api.databases.createToken("busy")).jwt;
    const post = (path: string, body: unknown) =>
      fetch(`${server3.url}/dev/busy/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${jwt}` },
        body: JSON.stringify(body),
      })
        .then((res) => res.text())
        .catch(() => "connection closed");
    // The runaway holds the tenant's thread; a pipeline and a cursor wait for it until the
    // server closes.
    const runaway = post("v2/pipeline", {
      requests: [{ type: "execute", stmt: { sql: RUNAWAY } }],
    });
    await new Promise((r) => setTimeout(r, 300));
    const waiting = [
      post("v2/pipeline", { requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }] }),
      post("v3/cursor", { baton: null, batch: { steps: [{ stmt: { sql: "SELECT 2" } }] } }),
    ];
    await new Promise((r) => setTimeout(r, 300));
    await server3.close();
    const outcomes = await Promise.all([runaway, ...waiting]);
    // Each is refused as the platform closes (or its connection closed): never an internal
    // error, which a request still in flight used to meet in the closed catalog, logged as
    // sql.js's "out of memory".
    for (const o of outcomes) expect(o).not.toContain("INTERNAL_ERROR");
    expect(logged.filter((l) => l.includes("INTERNAL_ERROR"))).toEqual([]);
  }, 20_000);
});

describe("the platform taking tenants back from their threads", () => {
  it("never waits on a transaction that waits on it: migrations and exports under write load", async () => {
    // Each migration takes the children back from their threads, which waits for their write
    // transactions to end; a transaction's next statement must not wait for the migration.
    await server.platform.createDatabase("fam", { type: "schema", group: "team" });
    const kids = ["fam-a", "fam-b", "fam-c", "fam-d"];
    for (const k of kids) await server.platform.createDatabase(k, { schema: "fam", group: "team" });
    await client("fam").execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)");
    for (const k of kids) await client(k).execute("INSERT INTO c VALUES (1, 0)");
    const acked = new Map(kids.map((k) => [k, 0]));
    const failures = new Map<string, number>();
    const deadline = Date.now() + 3000;
    const writers = kids.flatMap((k) =>
      (["http", "ws"] as const).map(async (scheme) => {
        const c = client(k, scheme);
        while (Date.now() < deadline) {
          const tx = await c.transaction("write");
          try {
            await tx.execute("UPDATE c SET n = n + 1 WHERE id = 1");
            await tx.commit();
            acked.set(k, acked.get(k)! + 1);
          } catch (e) {
            const code = (e as { code?: string }).code ?? "?";
            failures.set(code, (failures.get(code) ?? 0) + 1);
            tx.close();
          }
        }
      }),
    );
    const changes = (async () => {
      for (let m = 0; Date.now() < deadline; m++) {
        await new Promise((r) => setTimeout(r, 300));
        await client("fam").execute(`ALTER TABLE c ADD COLUMN x${m} TEXT`);
        await server.platform.exportDatabase(kids[m % kids.length]!);
      }
    })();
    await Promise.all([...writers, changes]);
    // Writes refused while a migration runs are BLOCKED (as on Turso); nothing timed out.
    expect([...failures.keys()].filter((code) => code !== "BLOCKED")).toEqual([]);
    for (const k of kids) {
      const rs = await client(k).execute("SELECT n FROM c WHERE id = 1");
      expect(Number(rs.rows[0]!.n)).toBe(acked.get(k));
      expect(acked.get(k)).toBeGreaterThan(0);
    }
  }, 30_000);
});

describe("under a hostile mix", () => {
  it("transactions, migrations, exports and runaway queries together: no hang, nothing acknowledged lost", async () => {
    await server.platform.createDatabase("mix", { type: "schema", group: "team" });
    const kids = ["mix-a", "mix-b", "mix-c", "mix-d", "mix-e", "mix-f"];
    for (const k of kids) await server.platform.createDatabase(k, { schema: "mix", group: "team" });
    await client("mix").execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)");
    for (const k of kids) await client(k).execute("INSERT INTO c VALUES (1, 0)");
    const acked = new Map(kids.map((k) => [k, 0]));
    const deadline = Date.now() + 5000;
    const writers = kids.flatMap((k, i) =>
      (["write", "deferred"] as const).map(async (mode, j) => {
        const c = client(k, (i + j) % 2 === 0 ? "http" : "ws");
        while (Date.now() < deadline) {
          const tx = await c.transaction(mode).catch(() => undefined);
          if (tx === undefined) continue;
          try {
            await tx.execute("SELECT n FROM c WHERE id = 1");
            await tx.execute("UPDATE c SET n = n + 1 WHERE id = 1");
            await tx.commit();
            acked.set(k, acked.get(k)! + 1);
          } catch {
            tx.close();
          }
        }
      }),
    );
    const chaos = (async () => {
      for (let m = 0; Date.now() < deadline; m++) {
        await new Promise((r) => setTimeout(r, 400));
        await client(kids[m % kids.length]!)
          .execute(RUNAWAY)
          .catch(() => undefined);
        await client("mix")
          .execute(`ALTER TABLE c ADD COLUMN x${m} TEXT`)
          .catch(() => undefined);
        await server.platform.exportDatabase(kids[(m + 1) % kids.length]!);
      }
    })();
    await Promise.all([...writers, chaos]);
    for (const k of kids) {
      const rs = await client(k).execute("SELECT n FROM c WHERE id = 1");
      // At least every acknowledged commit; a COMMIT cut off by a thread restart may be there too.
      expect(Number(rs.rows[0]!.n)).toBeGreaterThanOrEqual(acked.get(k)!);
    }
  }, 60_000);
});

describe("--workers 0", () => {
  it("serves every tenant on the server's own thread, with no query time limit", async () => {
    const refused = await startServer({
      port: 0,
      memory: true,
      workers: 0,
      maxQueryMs: 1000,
    }).catch((e: unknown) => e);
    expect(refused).toBeTenantliteError("ARGS_INVALID", /needs tenant threads/);
    const single = await startServer({ port: 0, memory: true, consoleDir: false, workers: 0 });
    try {
      await single.platform.createDatabase("one");
      const c = createClient({ url: `${single.url}/dev/one/` });
      await c.execute("CREATE TABLE t (x)");
      await c.execute("INSERT INTO t VALUES (1)");
      expect((await c.execute("SELECT x FROM t")).rows[0]!.x).toBe(1);
      c.close();
    } finally {
      await single.close();
    }
  });
});

/** Lets `target` be attached, and mints a token for `db` that may attach it. */
async function attachGrant(db: string, target: string): Promise<string> {
  const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server.url}/v1/` });
  await server.platform.updateConfig(target, { allow_attach: true });
  const minted = await api.databases.createToken(db, {
    permissions: { read_attach: { databases: [target] } },
  });
  return minted.jwt;
}

describe("what spans tenants keeps working across threads", () => {
  it("ATTACH brings the target to the attacher's thread; the alias stays read-only", async () => {
    const attachToken = await attachGrant("alpha", "delta");
    await insert(client("delta"), "delta", "d1");
    // alpha lives on the other thread; delta comes over for the join.
    const c = client("alpha", "ws", attachToken);
    const tx = await c.transaction("read");
    await tx.execute('ATTACH "delta" AS d');
    const rs = await tx.execute("SELECT count(*) AS n FROM d.t");
    expect(rs.rows[0]!.n).toBe(1);
    const write = await tx.execute("INSERT INTO d.t (v) VALUES ('x')").catch((e: unknown) => e);
    expect(write).toMatchObject({ code: "SQLITE_READONLY" });
    tx.close();
    // delta is still served directly, wherever it lives now.
    await insert(client("delta"), "delta", "d2");
  }, 20_000);

  it("an attachment outlives its target's moves: attached again outside a transaction, kept in place during one", async () => {
    const attachToken = await attachGrant("alpha", "delta");
    await insert(client("delta"), "delta", "d3");
    const url = `${server.url}/dev/alpha/v2/pipeline`;
    const headers = { authorization: `Bearer ${attachToken}`, "content-type": "application/json" };
    let baton: string | null = null;
    /** One request on the same Hrana stream (one connection); the statement's result or error. */
    const run = async (sql: string) => {
      const r = await fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ baton, requests: [{ type: "execute", stmt: { sql } }] }),
      });
      const body = (await r.json()) as {
        baton: string | null;
        results: { type: string; response?: { result: { rows: unknown[][] } }; error?: unknown }[];
      };
      baton = body.baton;
      const res = body.results[0]!;
      return res.type === "ok" ? res.response!.result.rows : res.error;
    };
    const count = "SELECT count(*) FROM d.t";
    expect(await run('ATTACH "delta" AS d')).toEqual([]);
    const before = (await run(count)) as unknown[][];
    expect(before).toHaveLength(1);
    // An export takes delta back from alpha's thread (it closes there): the next statement
    // found the alias gone ("no such table: d.t"); now it is attached again.
    await server.platform.exportDatabase("delta");
    expect(await run(count)).toEqual(before);
    // Inside a transaction the attachment keeps delta on alpha's thread until it ends: the
    // export waits for it, and the transaction's statements keep reading it.
    expect(await run("BEGIN")).toEqual([]);
    expect(await run(count)).toEqual(before);
    let exported = false;
    const exporting = server.platform.exportDatabase("delta").then(() => {
      exported = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(exported).toBe(false);
    expect(await run(count)).toEqual(before);
    expect(await run("COMMIT")).toEqual([]);
    await exporting;
    expect(await run(count)).toEqual(before);
    await run("DETACH d");
  }, 20_000);

  it("a transaction that timed out says so at its next use, also after its tenant moved to another thread", async () => {
    const attachToken = await attachGrant("charlie", "bravo");
    const tx = await client("bravo", "ws").transaction("write");
    await tx.execute("INSERT INTO t (v) VALUES ('timed-out')");
    // Past the transaction timeout (5 s): rolled back on bravo's thread.
    await new Promise((r) => setTimeout(r, 5600));
    // charlie lives on the other thread; bravo comes over for the join.
    const c = client("charlie", "ws", attachToken);
    const [, rs] = await c.batch(['ATTACH "bravo" AS b', "SELECT count(*) AS n FROM b.t"], "read");
    expect(rs!.rows[0]!.n).toBeGreaterThanOrEqual(0);
    // The caller still believes it is in a transaction: nothing runs outside it.
    await expect(tx.execute("INSERT INTO t (v) VALUES ('after-timeout')")).rejects.toMatchObject({
      code: "TRANSACTION_TIMEOUT",
    });
    await expect(tx.commit()).rejects.toMatchObject({ code: "TRANSACTION_TIMEOUT" });
    const left = await client("bravo").execute(
      "SELECT count(*) AS n FROM t WHERE v IN ('timed-out', 'after-timeout')",
    );
    expect(left.rows[0]!.n).toBe(0);
  }, 20_000);

  it("an ATTACH whose target is in a write transaction on the other thread waits like a writer, then SQLITE_BUSY; the target's readers and its transaction go on", async () => {
    // A server of its own, so that placement is known: on first use, each on the least busy
    // thread — "near" on one, "far" on the other.
    const own = await startServer({ port: 0, memory: true, consoleDir: false, workers: 2 });
    const mine: Client[] = [];
    const at = (db: string, scheme: "http" | "ws" = "http") => {
      const base = scheme === "http" ? own.url : own.wsUrl;
      const c = createClient({ url: `${base}/dev/${db}/` });
      mine.push(c);
      return c;
    };
    try {
      for (const name of ["near", "far"]) {
        await own.platform.createDatabase(name, { config: { allow_attach: true } });
        await at(name).execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
      }
      const tx = await at("far", "ws").transaction("write");
      let i = 0;
      const keepBusy = setInterval(() => {
        void tx
          .execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [`busy-${i++}`] })
          .catch(() => undefined);
      }, 500);
      try {
        await tx.execute("INSERT INTO t (v) VALUES ('in-transaction')");
        const started = Date.now();
        const attach = at("near", "ws")
          .batch(['ATTACH "far" AS f', "SELECT count(*) AS n FROM f.t"], "read")
          .then(
            () => ({ ok: true, ms: Date.now() - started }),
            (e: unknown) => ({ ok: false, e, ms: Date.now() - started }),
          );
        // Meanwhile far's readers are answered at once, from its thread.
        const reader = at("far");
        for (let k = 0; k < 4; k++) {
          await new Promise((r) => setTimeout(r, 1500));
          const readAt = Date.now();
          await reader.execute("SELECT count(*) FROM t");
          expect(Date.now() - readAt).toBeLessThan(1000);
        }
        const outcome = await attach;
        expect(outcome).toMatchObject({ ok: false, e: { code: "SQLITE_BUSY" } });
        expect(outcome.ms).toBeLessThan(8000);
      } finally {
        clearInterval(keepBusy);
      }
      await tx.commit();
      // Once the transaction is over, the ATTACH goes through.
      const [, rs] = await at("near", "ws").batch(
        ['ATTACH "far" AS f', "SELECT count(*) AS n FROM f.t WHERE v = 'in-transaction'"],
        "read",
      );
      expect(rs!.rows[0]!.n).toBe(1);
    } finally {
      for (const c of mine) c.close();
      await own.close();
    }
  }, 30_000);

  it("a schema parent's change reaches children on both threads; a child's DDL is refused", async () => {
    const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server.url}/v1/` });
    await api.databases.create("parent", { group: "team", is_schema: true });
    await api.databases.create("kid1", { group: "team", schema: "parent" });
    await api.databases.create("kid2", { group: "team", schema: "parent" });
    await client("kid1").execute("SELECT 1");
    await client("kid2").execute("SELECT 1");
    await client("parent", "ws").execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    for (const kid of ["kid1", "kid2"]) {
      await client(kid).execute("INSERT INTO notes (body) VALUES ('hi')");
      const ddl = await client(kid)
        .execute("CREATE TABLE mine (x)")
        .catch((e: unknown) => e);
      expect(ddl).toMatchObject({ code: "DDL_FORBIDDEN" });
    }
  }, 30_000);

  it("a read-only token cannot write, on whichever thread the tenant lives", async () => {
    const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server.url}/v1/` });
    const ro = (await api.databases.createToken("bravo", { authorization: "read-only" })).jwt;
    for (const scheme of ["http", "ws"] as const) {
      const c = client("bravo", scheme, ro);
      expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBeGreaterThan(0);
      const e = await c.execute("INSERT INTO t (v) VALUES ('no')").catch((err: unknown) => err);
      expect(e).toMatchObject({ code: "AUTH_FORBIDDEN" });
    }
  });

  it("an encrypted tenant opens on a thread with its key only", async () => {
    // Turso's remote encryption: the key's base64 in every request (`remoteEncryptionKey`).
    const key = Buffer.alloc(32, 7).toString("base64");
    await server.platform.createDatabase("vault", { group: "team", encryption: { key } });
    const withKey = (k: string | undefined) =>
      createClient({
        url: `${server.url}/dev/vault/`,
        authToken: token,
        ...(k === undefined ? {} : { remoteEncryptionKey: k }),
      });
    const good = withKey(key);
    clients.push(good);
    await good.execute("CREATE TABLE secrets (s TEXT)");
    await good.execute("INSERT INTO secrets VALUES ('s1')");
    for (const k of [Buffer.alloc(32, 8).toString("base64"), undefined]) {
      const bad = withKey(k);
      clients.push(bad);
      const e = await bad.execute("SELECT * FROM secrets").catch((err: unknown) => err);
      expect(e).toMatchObject({
        code: expect.stringMatching(/^ENCRYPTION_KEY_(INVALID|REQUIRED)$/),
      });
    }
    expect((await good.execute("SELECT s FROM secrets")).rows[0]!.s).toBe("s1");
  });
});

describe("after a restart", () => {
  it("every acknowledged row is there and integrity_check is ok", async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
    server = await start();
    const byDb = new Map<string, string[]>();
    for (const { db, v } of acknowledged) byDb.set(db, [...(byDb.get(db) ?? []), v]);
    for (const [db, values] of byDb) {
      const c = client(db);
      const rows = (await c.execute("SELECT v FROM t")).rows.map((r) => r.v);
      for (const v of values) expect(rows).toContain(v);
      expect((await c.execute("PRAGMA integrity_check")).rows[0]![0]).toBe("ok");
    }
  }, 30_000);
});
