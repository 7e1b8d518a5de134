/**
 * Memory per open tenant (issue 20, point 3: goal ≤ 200 KB). N tiny tenants are opened and kept
 * open (a table, one row inserted, one query), and the memory they add is measured after gc,
 * against better-sqlite3 12 `:memory:` databases given the same work, in the same run. Each
 * figure comes from a process of its own: RSS in one that does not probe, sql.js's WASM heap in
 * use in another (the probe makes the heap's free pages resident).
 *
 * Run: `npm run bench open-tenants` (`BENCH_OPEN_TENANTS=N`, default 800: the most one platform
 * keeps open, `maxOpenTenants`).
 */
import { spawnSync } from "node:child_process";
import { printTable, ratio } from "../lib/measure.js";
import { loadBetterSqlite3 } from "../lib/native.js";
import { type WasmAllocator, wasmHeapInUse, watchWasmMemory } from "../lib/wasm-heap.js";

const N = Number(process.env.BENCH_OPEN_TENANTS ?? 800);
const [role = "", kind = ""] = process.argv.slice(2);

async function settle(): Promise<void> {
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
    const platform = await createPlatform({ maxOpenTenants: N });
    for (let i = 0; i < N; i++) await platform.createDatabase(`t${i}`);
    await settle();
    const before = what === "rss" ? process.memoryUsage().rss : probe!();
    for (let i = 0; i < N; i++) {
      const c = platform.client(`t${i}`);
      await c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
      await c.execute({ sql: "INSERT INTO t (name) VALUES (?)", args: [`tenant ${i}`] });
      const rs = await c.execute("SELECT name FROM t WHERE id = 1");
      if (rs.rows[0]?.name !== `tenant ${i}`) throw new Error("wrong row");
    }
    await settle();
    if (platform.openTenantCount !== N) throw new Error(`${platform.openTenantCount} open`);
    const after = what === "rss" ? process.memoryUsage().rss : probe!();
    console.log(JSON.stringify({ per: (after - before) / N }));
    await platform.close();
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
    db.prepare("INSERT INTO t (name) VALUES (?)").run(`tenant ${i}`);
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
    `open tenants: ${N} tiny tenants kept open (a table, a row, a query), KB per tenant after gc`,
  );
  printTable([
    ["", "tenantlite RSS", "its WASM heap", "better-sqlite3 :memory: RSS", "ratio", "goal"],
    ...rows,
  ]);
}
