/**
 * Server benchmark (issue 20, point 4). Every server under test runs in a child process of its
 * own (bench/server/child.ts), so its CPU time is measured apart from the clients' (this process).
 *
 * 1. `@libsql/client` `execute()` of a point select over HTTP, 8 callers: requests/s and the
 *    server's CPU per request for tenantlite (`--memory`), the native anchor (node:http +
 *    better-sqlite3, `:memory:`) and the floor (node:http + sql.js). Targets: CPU per read
 *    ≤ 1.5× the native anchor's; requests/s ≥ 0.8× the floor's.
 * 2. 50 clients inserting one row per request (autocommit) on disk, over 5 tenants and over 50:
 *    inserts/s and the server's CPU per insert, tenantlite (data directory) against the native
 *    anchor (a file per tenant, WAL, synchronous=FULL: every answered commit is durable in both).
 *    Target ≥ 0.8× the anchor's throughput. Row counts are checked against acknowledged inserts.
 *    The same load runs `BENCH_WARM_UP_SECONDS` (default 3) first, unmeasured, for each server:
 *    from a cold start tenantlite's first seconds cost ~2× the CPU of its steady state (sql.js's
 *    WebAssembly and the server's JavaScript being optimized), which the native anchor lacks.
 * 3. 50 clients × 5 tenants doing interactive increment transactions on tenantlite (memory):
 *    transactions/s, p50/p99 latency, and the final counts checked exactly.
 * 4. Tenant threads (issue 17, point 7): 50 clients over 50 tenants (memory), each reading its
 *    own tenant — point selects, a query that scans 1,000 rows, and a ~3 ms recursive CTE — with
 *    `--workers 2` against `--workers 1`, alternated over two rounds. Target ≥ 1.6× on 2 cores.
 *
 * Run: node scripts/run-ts.mjs bench/server/index.ts [seconds-per-phase]
 * (`BENCH_ONLY=reads,inserts,increments` picks parts; `BENCH_DIR` sets where temp data goes.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { printTable, ratio } from "../lib/measure.js";
import { type ServerProcess, startServerProcess } from "../lib/server-process.js";

const SECONDS = Number(process.argv[2] ?? 3);
/** Part 2's warm-up before its measured seconds (`BENCH_WARM_UP_SECONDS`). */
const WARM_UP_SECONDS = Number(process.env.BENCH_WARM_UP_SECONDS ?? 3);
const ROWS = 1000;
const CONCURRENCY = 8;
const BASE = process.env.BENCH_DIR ?? tmpdir();
const ONLY = new Set((process.env.BENCH_ONLY ?? "reads,inserts,increments,workers").split(","));

/** Creates database `name` on a tenantlite server through the Platform API (auth is off). */
async function createDatabase(server: ServerProcess, kind: string, name: string): Promise<void> {
  if (kind !== "tenantlite") return; // the anchor opens a database on first use
  const res = await fetch(`${server.url}/v1/organizations/local/databases`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, group: "default" }),
  });
  if (!res.ok) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
}

async function seed(url: string): Promise<void> {
  const c = createClient({ url });
  await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  await c.execute(
    `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ${ROWS}) INSERT INTO t SELECT i, 'name-' || i FROM c`,
  );
  c.close();
}

/** Point selects from `CONCURRENCY` callers for `SECONDS`: requests/s and server CPU µs each. */
async function pointSelects(server: ServerProcess, url: string) {
  const client = createClient({ url });
  let i = 0;
  const run = async (deadline: number) => {
    let n = 0;
    while (performance.now() < deadline) {
      const id = (i++ % ROWS) + 1;
      const rs = await client.execute({ sql: "SELECT id, name FROM t WHERE id = ?", args: [id] });
      if (rs.rows[0]?.name !== `name-${id}`) throw new Error("wrong row");
      n++;
    }
    return n;
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, () => run(performance.now() + 300)));
  const cpu0 = await server.cpu();
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => run(start + SECONDS * 1000)),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = (await server.cpu()) - cpu0;
  client.close();
  const n = counts.reduce((a, b) => a + b, 0);
  return { rate: n / elapsed, cpuPer: cpu / n };
}

/** `clients` clients inserting over `tenants` tenants for `SECONDS`. */
async function inserts(server: ServerProcess, kind: string, tenants: number, clients: number) {
  const urls: string[] = [];
  for (let t = 0; t < tenants; t++) {
    const name = `ins-${tenants}-${t}`;
    await createDatabase(server, kind, name);
    const url = `${server.url}/dev/${name}/`;
    const c = createClient({ url });
    await c.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, client INTEGER, n INTEGER)");
    c.close();
    urls.push(url);
  }
  const acked = new Array<number>(tenants).fill(0);
  let failures = 0;
  /** Every client inserts until `deadline`; answers how many inserts were acknowledged. */
  const load = async (deadline: number): Promise<number> => {
    let done = 0;
    await Promise.all(
      Array.from({ length: clients }, async (_, k) => {
        const tenant = k % tenants;
        const client = createClient({ url: urls[tenant]! });
        for (let n = 0; performance.now() < deadline; n++) {
          try {
            await client.execute({
              sql: "INSERT INTO log (client, n) VALUES (?, ?)",
              args: [k, n],
            });
            acked[tenant]!++;
            done++;
          } catch {
            failures++;
          }
        }
        client.close();
      }),
    );
    return done;
  };
  // The same load first, not measured: both servers at their steady state (sql.js's WebAssembly
  // and the server's JavaScript optimized; the anchor has nothing to warm up).
  await load(performance.now() + WARM_UP_SECONDS * 1000);
  const cpu0 = await server.cpu();
  const start = performance.now();
  const total = await load(start + SECONDS * 1000);
  const elapsed = (performance.now() - start) / 1000;
  const cpu = (await server.cpu()) - cpu0;
  let exact = true;
  for (let t = 0; t < tenants; t++) {
    const c = createClient({ url: urls[t]! });
    const n = Number((await c.execute("SELECT count(*) AS n FROM log")).rows[0]!.n);
    if (n !== acked[t]) exact = false;
    c.close();
  }
  return { rate: total / elapsed, cpuPer: cpu / total, failures, exact };
}

async function main(): Promise<void> {
  console.log(
    `server bench: ${SECONDS}s per phase, servers in child processes, Node ${process.version}`,
  );

  if (ONLY.has("reads")) await reads();
  const insertsExact = ONLY.has("inserts") ? await diskInserts() : true;
  const incrementsExact = ONLY.has("increments") ? await increments() : true;
  if (ONLY.has("workers")) await workers();
  if (!insertsExact || !incrementsExact) process.exit(1);
}

/** Part 1: point selects. */
async function reads(): Promise<void> {
  // tenantlite twice: on its tenant threads (the default), and all on the server's own thread.
  const kinds = ["floor", "native", "tenantlite", "tenantlite-inline"] as const;
  const servers = new Map<string, { server: ServerProcess; url: string }>();
  for (const kind of kinds) {
    const server =
      kind === "tenantlite-inline"
        ? await startServerProcess("tenantlite", "", 0)
        : await startServerProcess(kind);
    const url = `${server.url}/dev/bench/`;
    if (kind !== "floor") {
      await createDatabase(server, kind === "native" ? kind : "tenantlite", "bench");
      await seed(url);
    }
    servers.set(kind, { server, url });
  }
  const best = new Map<string, { rate: number; cpuPer: number }>();
  for (let round = 0; round < 2; round++) {
    for (const kind of kinds) {
      const { server, url } = servers.get(kind)!;
      const r = await pointSelects(server, url);
      const b = best.get(kind);
      best.set(kind, {
        rate: Math.max(b?.rate ?? 0, r.rate),
        cpuPer: Math.min(b?.cpuPer ?? Number.POSITIVE_INFINITY, r.cpuPer),
      });
    }
  }
  for (const { server } of servers.values()) await server.close();
  const floor = best.get("floor")!;
  const native = best.get("native")!;
  const ours = best.get("tenantlite")!;
  const inline = best.get("tenantlite-inline")!;
  console.log(
    `\n1. @libsql/client execute() point select over HTTP, ${CONCURRENCY} callers (best of 2 rounds)`,
  );
  printTable([
    ["server", "requests/s", "vs floor", "server CPU µs/request", "CPU vs native"],
    [
      "node:http + sql.js (floor)",
      floor.rate.toFixed(0),
      "1.00×",
      floor.cpuPer.toFixed(0),
      ratio(floor.cpuPer, native.cpuPer),
    ],
    [
      "node:http + better-sqlite3 (native)",
      native.rate.toFixed(0),
      ratio(native.rate, floor.rate),
      native.cpuPer.toFixed(0),
      "1.00×",
    ],
    [
      "tenantlite dev --memory (tenant threads)",
      ours.rate.toFixed(0),
      ratio(ours.rate, floor.rate),
      ours.cpuPer.toFixed(0),
      ratio(ours.cpuPer, native.cpuPer),
    ],
    [
      "tenantlite dev --memory --workers 0",
      inline.rate.toFixed(0),
      ratio(inline.rate, floor.rate),
      inline.cpuPer.toFixed(0),
      ratio(inline.cpuPer, native.cpuPer),
    ],
  ]);
}

/** Part 2: inserts on disk; whether every count was exact. */
async function diskInserts(): Promise<boolean> {
  console.log(
    `\n2. 50 clients inserting one row per request on disk, ${SECONDS}s each after ${WARM_UP_SECONDS}s of the same load`,
  );
  const rows: (string | number)[][] = [
    [
      "tenants",
      "server",
      "inserts/s",
      "vs native",
      "server CPU µs/insert",
      "CPU vs native",
      "failed",
      "counts exact",
    ],
  ];
  for (const tenants of [5, 50]) {
    const results = new Map<string, Awaited<ReturnType<typeof inserts>>>();
    for (const kind of ["native", "tenantlite"]) {
      const dir = mkdtempSync(join(BASE, `tl-bench-server-${kind}-`));
      const server = await startServerProcess(kind, dir);
      results.set(kind, await inserts(server, kind, tenants, 50));
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const n = results.get("native")!;
    for (const [kind, r] of results) {
      rows.push([
        tenants,
        kind === "native" ? "better-sqlite3 (WAL, synchronous=FULL)" : "tenantlite dev --data-dir",
        r.rate.toFixed(0),
        ratio(r.rate, n.rate),
        r.cpuPer.toFixed(0),
        ratio(r.cpuPer, n.cpuPer),
        r.failures,
        r.exact ? "yes" : "NO",
      ]);
    }
  }
  printTable(rows);
  return !rows.some((r) => r[7] === "NO");
}

/** Part 3: interactive increment transactions; whether the final counts were exact. */
async function increments(): Promise<boolean> {
  const TENANTS = 5;
  const CLIENTS = 50;
  const server = await startServerProcess("tenantlite");
  for (let t = 0; t < TENANTS; t++) {
    await createDatabase(server, "tenantlite", `counter-${t}`);
    const c = createClient({ url: `${server.url}/dev/counter-${t}/` });
    await c.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
    await c.execute("INSERT INTO counter VALUES (1, 0)");
    c.close();
  }
  const committed = new Array<number>(TENANTS).fill(0);
  const latencies: number[] = [];
  let failures = 0;
  let requests = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, k) => {
      const tenant = k % TENANTS;
      const client = createClient({ url: `${server.url}/dev/counter-${tenant}/` });
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const tx = await client.transaction("write");
        try {
          const rs = await tx.execute("SELECT n FROM counter WHERE id = 1");
          const n = Number(rs.rows[0]!.n);
          await tx.execute({ sql: "UPDATE counter SET n = ? WHERE id = 1", args: [n + 1] });
          await tx.commit();
          requests += 3;
          committed[tenant]!++;
          latencies.push(performance.now() - t0);
        } catch {
          failures++;
          tx.close();
        }
      }
      client.close();
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  let exact = true;
  for (let t = 0; t < TENANTS; t++) {
    const c = createClient({ url: `${server.url}/dev/counter-${t}/` });
    const n = Number((await c.execute("SELECT n FROM counter WHERE id = 1")).rows[0]!.n);
    if (n !== committed[t]) exact = false;
    c.close();
  }
  await server.close();
  console.log(
    `\n3. ${CLIENTS} clients × ${TENANTS} tenants, interactive increment transactions (BEGIN IMMEDIATE; SELECT; UPDATE; COMMIT) for ${SECONDS}s`,
  );
  printTable([
    ["transactions/s", "HTTP requests/s", "p50 ms", "p99 ms", "failed", "final counts exact"],
    [
      (latencies.length / elapsed).toFixed(0),
      (requests / elapsed).toFixed(0),
      pct(0.5).toFixed(1),
      pct(0.99).toFixed(1),
      failures,
      exact ? `yes (${committed.join(", ")})` : `NO (${committed.join(", ")})`,
    ],
  ]);
  return exact;
}

/** Part 4: throughput of 50 clients over 50 tenants with one tenant thread and with two. */
async function workers(): Promise<void> {
  const TENANTS = 50;
  const queries = {
    "point select": (i: number) => ({ sql: "SELECT id, name FROM t WHERE id = ?", args: [i] }),
    "scan of 1,000 rows": (i: number) => ({
      sql: "SELECT count(*) AS n, sum(length(name)) AS s FROM t WHERE name != ?",
      args: [`x${i}`],
    }),
    // ~3 ms of SQLite per request: where the work is the statement, not HTTP and JSON.
    "recursive CTE of 50,000 steps": (i: number) => ({
      sql: "WITH RECURSIVE c(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM c WHERE n < ? + 50000) SELECT count(*) AS n FROM c",
      args: [i, i],
    }),
  };
  const best = new Map<string, number>();
  for (let round = 0; round < 2; round++) {
    for (const threads of [1, 2]) {
      const server = await startServerProcess("tenantlite", "", threads);
      const urls: string[] = [];
      for (let t = 0; t < TENANTS; t++) {
        await createDatabase(server, "tenantlite", `w-${t}`);
        urls.push(`${server.url}/dev/w-${t}/`);
        await seed(urls[t]!);
      }
      for (const [name, query] of Object.entries(queries)) {
        const clients = urls.map((url) => createClient({ url }));
        const run = async (deadline: number) => {
          let n = 0;
          await Promise.all(
            clients.map(async (c, k) => {
              for (let i = k; performance.now() < deadline; i++) {
                await c.execute(query((i % ROWS) + 1));
                n++;
              }
            }),
          );
          return n;
        };
        await run(performance.now() + 300);
        const start = performance.now();
        const n = await run(start + SECONDS * 1000);
        const rate = n / ((performance.now() - start) / 1000);
        const key = `${name}|${threads}`;
        best.set(key, Math.max(best.get(key) ?? 0, rate));
        for (const c of clients) c.close();
      }
      await server.close();
    }
  }
  console.log(
    `\n4. ${TENANTS} clients over ${TENANTS} tenants (memory), tenant threads: --workers 2 against --workers 1 (best of 2 rounds, ${SECONDS}s each)`,
  );
  const rows: (string | number)[][] = [
    ["query", "--workers 1 req/s", "--workers 2 req/s", "ratio (goal ≥ 1.6×)"],
  ];
  for (const name of Object.keys(queries)) {
    const one = best.get(`${name}|1`)!;
    const two = best.get(`${name}|2`)!;
    rows.push([name, one.toFixed(0), two.toFixed(0), ratio(two, one)]);
  }
  printTable(rows);
}

await main();
