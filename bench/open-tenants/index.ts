/**
 * Memory per open tenant (issue 20, point 3: goal ≤ 200 KB). N tiny tenants are opened and kept
 * open (a table, one row inserted, one query), and the memory they add is measured after gc,
 * against better-sqlite3 12 `:memory:` databases given the same work, in the same run. Each
 * figure comes from a process of its own: RSS in one that does not probe, sql.js's WASM heap in
 * use in another (the probe makes the heap's free pages resident).
 *
 * Run: `npm run bench open-tenants` (`BENCH_OPEN_TENANTS=N`, default 800: the most one platform
 * keeps open, `maxOpenTenants`; `BENCH_OPEN_TENANTS_ROWS=R`, default 1: rows each tenant inserts,
 * one commit each, so that its WAL has grown as a tenant in use grows it). Tenants are measured
 * once idle: after the engine folds an idle tenant's WAL into its database and releases its page caches (1–2 s).
 */
import { spawnSync } from "node:child_process";
import { printTable, ratio } from "../lib/measure.js";
import { loadBetterSqlite3 } from "../lib/native.js";
import { type WasmAllocator, wasmHeapInUse, watchWasmMemory } from "../lib/wasm-heap.js";

const N = Number(process.env.BENCH_OPEN_TENANTS ?? 800);
const ROWS = Number(process.env.BENCH_OPEN_TENANTS_ROWS ?? 1);
/** `BENCH_OPEN_TENANTS_BLOBS=B`: B rows of a 4,000-byte blob more per tenant, in one commit. */
const BLOB_ROWS = Number(process.env.BENCH_OPEN_TENANTS_BLOBS ?? 0);
const [role = "", kind = ""] = process.argv.slice(2);

async function settle(idleMs = 0): Promise<void> {
  await new Promise((r) => setTimeout(r, idleMs));
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Opens N tenants; prints `{ rss, wasm }`: bytes added per tenant (wasm only when asked). */
async function measure(what: "rss" | "wasm"): Promise<void> {
  let probe: (() => number) | undefined;
  if (kind === "tenantlite") {
    if (what === "wasm") watchWasmMemory();
    const { default: initSqlJs } = await import("sql.js");
    const SQL = await initSqlJs();
    if (what === "wasm") probe = () => wasmHeapInUse(SQL as unknown as WasmAllocator) ?? Number.NaN;
    const { createPlatform } = await import("../../src/index.js");
    // BENCH_OPEN_TENANTS_FS=1: on FsStorage in a temp dir, so that every commit exports the image.
    const { FsStorage } = await import("../../src/node/index.js");
    const { mkdtempSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const storage =
      process.env.BENCH_OPEN_TENANTS_FS === "1"
        ? await FsStorage.open(mkdtempSync(join(tmpdir(), "tl-open-tenants-")))
        : undefined;
    const platform = await createPlatform({
      maxOpenTenants: N,
      ...(storage === undefined ? {} : { storage }),
    });
    for (let i = 0; i < N; i++) await platform.createDatabase(`t${i}`);
    await settle();
    const before = what === "rss" ? process.memoryUsage().rss : probe!();
    for (let i = 0; i < N; i++) {
      const c = platform.client(`t${i}`);
      await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
      for (let r = 0; r < ROWS; r++) {
        await c.execute({ sql: "INSERT INTO t (name) VALUES (?)", args: [`tenant ${i}`] });
      }
      if (BLOB_ROWS > 0) {
        await c.execute("CREATE TABLE b (x BLOB)");
        await c.execute(
          `INSERT INTO b SELECT randomblob(4000) FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${BLOB_ROWS}) SELECT i FROM s)`,
        );
        await c.execute("SELECT count(*), sum(length(x)) FROM b");
      }
      const rs = await c.execute("SELECT name FROM t WHERE id = 1");
      if (rs.rows[0]?.name !== `tenant ${i}`) throw new Error("wrong row");
    }
    await settle(2200); // idle: WALs folded and page caches released (see tenant-file.ts)
    if (platform.openTenantCount !== N) throw new Error(`${platform.openTenantCount} open`);
    const after = what === "rss" ? process.memoryUsage().rss : probe!();
    console.log(JSON.stringify({ per: (after - before) / N }));
    await platform.close();
    await storage?.close();
    return;
  }
  const Native = loadBetterSqlite3();
  if (Native === undefined) {
    console.log(JSON.stringify({ per: Number.NaN }));
    return;
  }
  await settle();
  const before = process.memoryUsage().rss;
  const dbs = [];
  for (let i = 0; i < N; i++) {
    const db = new Native(":memory:");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
    const insert = db.prepare("INSERT INTO t (name) VALUES (?)");
    for (let r = 0; r < ROWS; r++) insert.run(`tenant ${i}`);
    if (BLOB_ROWS > 0) {
      db.exec("CREATE TABLE b (x BLOB)");
      db.exec(
        `INSERT INTO b SELECT randomblob(4000) FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${BLOB_ROWS}) SELECT i FROM s)`,
      );
      db.prepare("SELECT count(*), sum(length(x)) FROM b").get();
    }
    db.prepare("SELECT name FROM t WHERE id = 1").get();
    dbs.push(db);
  }
  await settle();
  console.log(JSON.stringify({ per: (process.memoryUsage().rss - before) / N }));
  for (const db of dbs) db.close();
}

function child(what: string, k: string): number {
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "scripts/run-ts.mjs", "bench/open-tenants/index.ts", what, k],
    { encoding: "utf8" },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) throw new Error(`${what} ${k}: ${r.stderr}`);
  return (JSON.parse(line) as { per: number }).per;
}

if (role === "rss" || role === "wasm") {
  await measure(role);
} else {
  const kb = (b: number) => (Number.isNaN(b) ? "—" : (b / 1024).toFixed(1));
  const rows: string[][] = [];
  for (let round = 0; round < 2; round++) {
    const rss = child("rss", "tenantlite");
    const wasm = child("wasm", "tenantlite");
    const native = child("rss", "native");
    rows.push([
      `round ${round + 1}`,
      kb(rss),
      kb(wasm),
      kb(native),
      Number.isNaN(native) ? "—" : ratio(rss, native),
      rss <= 200 * 1024 ? "≤ 200 KB — met" : "≤ 200 KB — NOT met",
    ]);
  }
  console.log(
    `open tenants: ${N} tenants kept open (a table, ${ROWS} row${ROWS === 1 ? "" : "s"} inserted one commit each${BLOB_ROWS > 0 ? `, ${BLOB_ROWS} blobs of 4,000 bytes` : ""}, a query${process.env.BENCH_OPEN_TENANTS_FS === "1" ? "; FsStorage" : ""}), KB per tenant once idle, after gc`,
  );
  printTable([
    ["", "tenantlite RSS", "its WASM heap", "better-sqlite3 :memory: RSS", "ratio", "goal"],
    ...rows,
  ]);
}
