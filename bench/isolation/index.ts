/**
 * Isolation benchmark (issue 17): how much one client's work holds up another tenant's requests,
 * and what idle WebSocket streams cost. The server runs in a child process (`tenantlite dev
 * --memory`), the heavy client in a worker thread, and a reader here sends a point read on
 * another tenant every 10 ms; latency counts from when each read was due, so a stalled server
 * shows as the stall (no coordinated omission).
 *
 * 1. p50/p99/max of the reads alone (the anchor), then during: a 200,000-statement script
 *    (`executeMultiple`), a 9,990-step batch, a 12 MB batch of long IN-lists, and one long statement (a recursive CTE of about
 *    LONG_MS; issue 17's goal is p99 ≤ 50 ms during a 20 s query — run with
 *    `BENCH_LONG_MS=20000` for that figure).
 * 2. The server's resident memory with 1,000 idle Hrana WebSocket streams (10 sockets × 100
 *    streams, each having run one statement), per stream.
 *
 * Run: npm run bench isolation
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { createClient } from "@libsql/client";
import WebSocket from "ws";
import { printTable, ratio } from "../lib/measure.js";

const LONG_MS = Number(process.env.BENCH_LONG_MS ?? 3000);

async function startServerProcess(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ["scripts/run-ts.mjs", "src/node/main.ts", "dev", "--memory", "--port", "0"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let banner = "";
    const timer = setTimeout(() => reject(new Error("the server did not start in 30 s")), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      banner += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(banner);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** The child's resident set in bytes (Linux). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

interface Latencies {
  p50: number;
  p99: number;
  max: number;
  n: number;
  loadMs: number;
}

/** Reads tenant `b` every 10 ms while `load` (code run in a worker against tenant `a`) runs. */
async function readsDuring(url: string, load: string | undefined, idleMs = 2000) {
  const b = createClient({ url: `${url}/dev/b/` });
  const lat: number[] = [];
  let done = false;
  const reader = (async () => {
    let next = performance.now();
    while (!done) {
      const due = next;
      await b.execute("SELECT v FROM k WHERE id = 1");
      const now = performance.now();
      lat.push(now - due);
      next = Math.max(due + 10, now);
      while (performance.now() < next) await new Promise((r) => setTimeout(r, 1));
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  const started = performance.now();
  if (load === undefined) await new Promise((r) => setTimeout(r, idleMs));
  else {
    const w = new Worker(
      `import { createClient } from "@libsql/client"; const a = createClient({ url: ${JSON.stringify(`${url}/dev/a/`)} }); ${load} a.close();`,
      { eval: true },
    );
    await new Promise((resolve, reject) => {
      w.on("exit", resolve);
      w.on("error", reject);
    });
  }
  const loadMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 100));
  done = true;
  await reader;
  b.close();
  lat.sort((x, y) => x - y);
  const at = (q: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * q))]!;
  return { p50: at(0.5), p99: at(0.99), max: lat[lat.length - 1]!, n: lat.length, loadMs };
}

/** Opens `sockets` × `perSocket` Hrana streams that each ran one statement; resolves the sockets. */
async function openIdleStreams(url: string, sockets: number, perSocket: number) {
  const open: WebSocket[] = [];
  for (let s = 0; s < sockets; s++) {
    const ws = new WebSocket(`${url.replace("http", "ws")}/dev/b/`, ["hrana2"]);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    let pending = perSocket * 2;
    const answered = new Promise<void>((resolve, reject) => {
      ws.on("message", (data) => {
        const msg = JSON.parse(String(data));
        if (msg.type === "response_error") reject(new Error(JSON.stringify(msg.error)));
        else if (msg.type === "response_ok" && --pending === 0) resolve();
      });
    });
    ws.send(JSON.stringify({ type: "hello", jwt: null }));
    for (let i = 0; i < perSocket; i++) {
      ws.send(
        JSON.stringify({
          type: "request",
          request_id: 2 * i,
          request: { type: "open_stream", stream_id: i },
        }),
      );
      ws.send(
        JSON.stringify({
          type: "request",
          request_id: 2 * i + 1,
          request: {
            type: "execute",
            stream_id: i,
            stmt: { sql: "SELECT v FROM k", want_rows: true },
          },
        }),
      );
    }
    await answered;
    open.push(ws);
  }
  return open;
}

async function main(): Promise<void> {
  const { child, url } = await startServerProcess();
  try {
    for (const name of ["a", "b"]) {
      await fetch(`${url}/v1/organizations/local/databases`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, group: "default" }),
      });
    }
    const a = createClient({ url: `${url}/dev/a/` });
    await a.execute("CREATE TABLE t (x, y)");
    a.close();
    const b = createClient({ url: `${url}/dev/b/` });
    await b.execute("CREATE TABLE k (id INTEGER PRIMARY KEY, v)");
    await b.execute("INSERT INTO k VALUES (1, 'x')");
    b.close();

    console.log(
      "1. point reads on tenant b (every 10 ms, latency from when due) while a client works on tenant a",
    );
    const anchor = await readsDuring(url, undefined);
    // A recursive CTE's rate on this machine, to size the long statement to about LONG_MS.
    const probe = createClient({ url: `${url}/dev/a/` });
    const t0 = performance.now();
    await probe.execute(
      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n<200000) SELECT count(*) FROM c",
    );
    const perRow = (performance.now() - t0) / 200_000;
    probe.close();
    const longRows = Math.round(LONG_MS / perRow);
    const loads: [string, string][] = [
      [
        "script of 200,000 statements",
        `await a.executeMultiple(Array.from({ length: 200000 }, (_, i) => "INSERT INTO t VALUES (" + i + ", 'y');").join("\\n"));`,
      ],
      [
        "batch of 9,990 steps",
        `await a.batch(Array.from({ length: 9990 }, (_, i) => ({ sql: "INSERT INTO t VALUES (?, ?)", args: [i, "x"] })), "write");`,
      ],
      [
        "a batch of 100 IN-lists of 20,000 numbers (12 MB)",
        `const list = Array.from({ length: 20000 }, (_, i) => i * 7).join(","); await a.batch(Array.from({ length: 100 }, () => "SELECT count(*) FROM t WHERE x IN (" + list + ")"), "read");`,
      ],
      [
        `one statement of ~${(LONG_MS / 1000).toFixed(0)} s`,
        `await a.execute("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n<${longRows}) SELECT count(*) FROM c");`,
      ],
    ];
    const rows: (string | number)[][] = [
      ["during", "load ms", "reads", "p50 ms", "p99 ms", "max ms", "p99 ÷ alone"],
    ];
    const show = (label: string, r: Latencies) =>
      rows.push([
        label,
        r.loadMs.toFixed(0),
        r.n,
        r.p50.toFixed(1),
        r.p99.toFixed(1),
        r.max.toFixed(1),
        ratio(r.p99, anchor.p99),
      ]);
    show("nothing (alone)", anchor);
    for (const [label, code] of loads) show(label, await readsDuring(url, code));
    printTable(rows);

    console.log("\n2. server memory with 1,000 idle WebSocket streams (10 sockets × 100)");
    const pid = child.pid!;
    const before = rssOf(pid);
    const sockets = await openIdleStreams(url, 10, 100);
    await new Promise((r) => setTimeout(r, 500));
    const after = rssOf(pid);
    for (const ws of sockets) ws.close();
    await new Promise((r) => setTimeout(r, 1000));
    const closed = rssOf(pid);
    printTable([
      ["server RSS", "MB"],
      ["before", (before / 1e6).toFixed(1)],
      ["with 1,000 idle streams", (after / 1e6).toFixed(1)],
      ["after the sockets closed", (closed / 1e6).toFixed(1)],
      ["per stream (KB)", ((after - before) / 1000 / 1000).toFixed(1)],
    ]);
  } finally {
    child.kill();
  }
}

await main();
