/**
 * Server benchmark.
 * 1. `@libsql/client` `execute()` of a point select over HTTP: tenantlite's server against a
 *    minimal `node:http` server answering the same Hrana JSON with the same sql.js query (the
 *    floor: no routing, auth, streams or safety). Target ≥ 0.8× the floor.
 * 2. 50 concurrent clients over 5 tenants doing interactive increment transactions for a bounded
 *    time: requests/s, p50/p99 transaction latency, and the final counts checked exactly.
 *
 * Run: node scripts/run-ts.mjs bench/server/index.ts [seconds-per-phase]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@libsql/client";
import initSqlJs from "sql.js";
import { startServer } from "../../src/node/server.js";
import { printTable, ratio } from "../lib/measure.js";

const SECONDS = Number(process.argv[2] ?? 3);
const ROWS = 1000;
const CONCURRENCY = 8;

async function floorServer(): Promise<{ url: string; close(): Promise<void> }> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  db.exec("BEGIN");
  const ins = db.prepare("INSERT INTO t VALUES (?, ?)");
  for (let i = 1; i <= ROWS; i++) ins.run([i, `name-${i}`]);
  ins.free();
  db.exec("COMMIT");
  const stmt = db.prepare("SELECT id, name FROM t WHERE id = ?");
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString());
      const exec = body.requests[0];
      const id = Number(exec.stmt.args[0].value);
      stmt.bind([id]);
      const rows: unknown[] = [];
      while (stmt.step()) {
        const [rid, name] = stmt.get();
        rows.push([
          { type: "integer", value: String(rid) },
          { type: "text", value: name },
        ]);
      }
      stmt.reset();
      const result = {
        cols: [
          { name: "id", decltype: "INTEGER" },
          { name: "name", decltype: "TEXT" },
        ],
        rows,
        affected_row_count: 0,
        last_insert_rowid: null,
      };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          baton: null,
          base_url: null,
          results: [
            { type: "ok", response: { type: "execute", result } },
            { type: "ok", response: { type: "close" } },
          ],
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Point selects from `CONCURRENCY` callers for `SECONDS`; returns requests/s. */
async function pointSelects(url: string): Promise<number> {
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
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => run(start + SECONDS * 1000)),
  );
  const elapsed = (performance.now() - start) / 1000;
  client.close();
  return counts.reduce((a, b) => a + b, 0) / elapsed;
}

async function main(): Promise<void> {
  console.log(
    `server bench: ${SECONDS}s per phase, ${CONCURRENCY} concurrent callers, Node ${process.version}`,
  );
  const floor = await floorServer();
  const server = await startServer({ port: 0, memory: true });
  await server.platform.createDatabase("bench");
  const setup = createClient({ url: `${server.url}/dev/bench/` });
  await setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  const values = Array.from({ length: ROWS }, (_, k) => ({
    sql: "INSERT INTO t VALUES (?, ?)",
    args: [k + 1, `name-${k + 1}`],
  }));
  await setup.batch(values, "write");
  setup.close();

  // Alternate to even out machine noise.
  const floorRates: number[] = [];
  const ourRates: number[] = [];
  for (let round = 0; round < 2; round++) {
    floorRates.push(await pointSelects(floor.url));
    ourRates.push(await pointSelects(`${server.url}/dev/bench/`));
  }
  const floorRate = Math.max(...floorRates);
  const ourRate = Math.max(...ourRates);
  console.log("\n1. @libsql/client execute() point select over HTTP (best of 2 rounds)");
  printTable([
    ["server", "requests/s", "vs floor"],
    ["minimal node:http + sql.js (floor)", floorRate.toFixed(0), "1.00×"],
    ["tenantlite", ourRate.toFixed(0), ratio(ourRate, floorRate)],
  ]);
  await floor.close();

  // 2. Interactive increment transactions.
  const TENANTS = 5;
  const CLIENTS = 50;
  for (let t = 0; t < TENANTS; t++) {
    await server.platform.createDatabase(`counter-${t}`);
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
  console.log(
    `\n2. ${CLIENTS} clients × ${TENANTS} tenants, interactive increment transactions (BEGIN IMMEDIATE; SELECT; UPDATE; COMMIT) for ${SECONDS}s`,
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
  await server.close();
  if (!exact) process.exit(1);
}

await main();
