/**
 * Storage benchmark (issue 4, point 8). Prints figures; asserts nothing.
 *
 * 1. Commit latency of a one-row insert into tenants of 64 KB, 1 MB and 16 MB (strict and
 *    relaxed, FsStorage), against the raw cost of the same bytes measured in the same run:
 *    sql.js `db.export()` + write a temp file + fsync + rename (+ fsync of the directory).
 * 2. Creating 100,000 tiny tenants (empty, and copies of a one-table template), in memory and
 *    on FsStorage, 64 creations in flight: tenants/s and peak RSS.
 * 3. One query round-robin over 100,000 tenants with `maxOpenTenants: 800`: queries/s and peak
 *    RSS at 10k, 50k and 100k tenants.
 *
 * `BENCH_SCALE=0.1` scales the counts down for a quick run; `BENCH_ONLY=commit,create,rr` picks
 * parts; `BENCH_RR_STORAGE=memory,fs` the storages of part 3; `BENCH_DIR` sets where temp data
 * goes (default: the OS temp dir).
 */
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import initSqlJs from "sql.js";
import { createPlatform, FsStorage, type Platform } from "../../src/node/index.js";
import { printTable } from "../lib/measure.js";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ONLY = new Set((process.env.BENCH_ONLY ?? "commit,create,rr").split(","));
const BASE = process.env.BENCH_DIR ?? tmpdir();
const MB = 1024 * 1024;

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
sampler.unref();
function resetPeak(): void {
  globalThis.gc?.();
  peakRss = process.memoryUsage.rss();
}
function peak(): number {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return peakRss;
}
const mb = (bytes: number): string => `${(bytes / MB).toFixed(0)} MB`;
const ms = (x: number): string => `${x.toFixed(2)} ms`;
function tempDir(tag: string): string {
  return mkdtempSync(join(BASE, `tenantlite-bench-${tag}-`));
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

/** Runs `f(i)` for i < n with at most `limit` in flight. */
async function pool(n: number, limit: number, f: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await f(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

// ── 1. commit latency ───────────────────────────────────────────────────────

const SIZES: [string, number][] =
  process.env.BENCH_SIZES === "16"
    ? [["16 MB", 16 * 1024 * 1024]]
    : [
        ["64 KB", 64 * 1024],
        ["1 MB", MB],
        ["16 MB", 16 * MB],
      ];

/** Fills table `blobs` with ~`bytes` of random blobs (4 KB each). */
const FILL = (bytes: number) =>
  `CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB);
   CREATE TABLE v (id INTEGER PRIMARY KEY, n INTEGER);
   WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${Math.max(1, Math.round(bytes / 4200))})
   INSERT INTO blobs (b) SELECT randomblob(4000) FROM s;`;

/** The raw anchor: sql.js insert + `export()` + temp file write + fsync + rename + dir fsync. */
async function rawCommitter(bytes: number): Promise<Committer> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.exec(FILL(bytes));
  const dir = tempDir("raw");
  const target = join(dir, "t.db");
  let size = 0;
  let i = 0;
  return {
    commit: async () => {
      db.run("INSERT INTO v (n) VALUES (?)", [i]);
      const image = db.export();
      size = image.length;
      const temp = join(dir, `.t-${i++}.tmp`);
      const fd = openSync(temp, "w");
      writeSync(fd, image);
      fsyncSync(fd);
      closeSync(fd);
      renameSync(temp, target);
      const dfd = openSync(dir, "r");
      fsyncSync(dfd);
      closeSync(dfd);
    },
    size: () => size,
    close: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A one-row insert through the platform on FsStorage. */
async function platformCommitter(
  bytes: number,
  durability: "strict" | "relaxed",
): Promise<Committer> {
  const dir = tempDir(durability);
  const p = await createPlatform({ storage: await FsStorage.open(dir), durability });
  await p.createDatabase("bench");
  const db = p.client("bench");
  await db.executeMultiple(FILL(bytes));
  let i = 0;
  return {
    commit: async () => {
      await db.execute({ sql: "INSERT INTO v (n) VALUES (?)", args: [i++] });
    },
    size: () => 0,
    close: async () => {
      db.close();
      await p.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Committer {
  commit(): Promise<void>;
  size(): number;
  close(): Promise<void>;
}

async function benchCommit(): Promise<void> {
  console.log("\n1. one-row insert commit latency (FsStorage; median / p99)");
  console.log("   raw and strict commits alternate (ABBA), so disk drift hits both alike");
  const rows: (string | number)[][] = [
    ["tenant", "image", "raw export+write+fsync+rename", "strict", "strict/raw", "relaxed"],
  ];
  for (const [label, bytes] of SIZES) {
    const n = Math.max(
      5,
      Math.round((bytes >= 16 * MB ? 30 : bytes >= MB ? 150 : 400) * Math.min(1, SCALE * 3)),
    );
    // Raw and strict alternate; relaxed runs after them, since its background saves would land
    // in the middle of the others' commits.
    const pair = [await rawCommitter(bytes), await platformCommitter(bytes, "strict")];
    const times: number[][] = [[], [], []];
    for (let i = 0; i < n; i++) {
      // The commit that follows another pays for some of its deferred disk work (freed blocks
      // of the replaced file are discarded at the next journal commit): swap the order each time.
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const t0 = performance.now();
        await pair[k]!.commit();
        times[k]!.push(performance.now() - t0);
      }
    }
    const size = pair[0]!.size();
    for (const k of pair) await k.close();
    const relaxedCommitter = await platformCommitter(bytes, "relaxed");
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await relaxedCommitter.commit();
      times[2]!.push(performance.now() - t0);
    }
    await relaxedCommitter.close();
    const [raw, strict, relaxed] = times as [number[], number[], number[]];
    rows.push([
      label,
      size < MB ? `${(size / 1024).toFixed(0)} KB` : mb(size),
      `${ms(median(raw))} / ${ms(p99(raw))}`,
      `${ms(median(strict))} / ${ms(p99(strict))}`,
      `${(median(strict) / median(raw)).toFixed(2)}×`,
      `${ms(median(relaxed))} / ${ms(p99(relaxed))}`,
    ]);
  }
  printTable(rows);
  console.log("  target: strict/raw ≤ 1.5×");
}

// ── 2. creating many tiny tenants ─────────────────────────────────────────

async function benchCreate(): Promise<void> {
  const n = Math.round(100_000 * SCALE);
  console.log(`\n2. creating ${n} tiny tenants (64 in flight)`);
  const rows: (string | number)[][] = [["storage", "from", "tenants/s", "peak RSS"]];
  for (const kind of ["memory", "fs"] as const) {
    for (const from of ["empty", "template"] as const) {
      resetPeak();
      const dir = kind === "fs" ? tempDir("create") : undefined;
      const p = await createPlatform(
        dir === undefined ? {} : { storage: await FsStorage.open(dir) },
      );
      if (from === "template") {
        await p.createDatabase("template");
        await p
          .client("template")
          .executeMultiple(
            "CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT); INSERT INTO settings VALUES ('plan', 'free');",
          );
      }
      const opts = from === "template" ? { fromDatabase: "template" } : {};
      const t0 = performance.now();
      await pool(n, 64, (i) => p.createDatabase(`t${i}`, opts));
      const seconds = (performance.now() - t0) / 1000;
      rows.push([kind, from, Math.round(n / seconds), mb(peak())]);
      await p.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  }
  printTable(rows);
  console.log("  target: ≥ 2,000 tenants/s");
}

// ── 3. round-robin over many tenants with an open budget ────────────────────

async function benchRoundRobin(): Promise<void> {
  const marks = [10_000, 50_000, 100_000].map((x) => Math.round(x * SCALE));
  console.log(`\n3. one query round-robin over ${marks.join(" / ")} tenants, maxOpenTenants 800`);
  const rows: (string | number)[][] = [
    ["storage", "tenants", "queries/s", "open", "peak RSS", "errors"],
  ];
  const kinds = (process.env.BENCH_RR_STORAGE ?? "memory,fs").split(",") as ("memory" | "fs")[];
  for (const kind of kinds) {
    resetPeak();
    const dir = kind === "fs" ? tempDir("rr") : undefined;
    const p: Platform = await createPlatform({
      ...(dir === undefined ? {} : { storage: await FsStorage.open(dir) }),
      maxOpenTenants: 800,
    });
    await p.createDatabase("template");
    await p
      .client("template")
      .executeMultiple(
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT); INSERT INTO kv VALUES ('a', 'b');",
      );
    let have = 0;
    for (const total of marks) {
      await pool(total - have, 64, (i) =>
        p.createDatabase(`t${have + i}`, { fromDatabase: "template" }),
      );
      have = total;
      resetPeak();
      const queries = Math.max(total, 20_000);
      let errors = 0;
      let firstError: string | undefined;
      const clients = new Map<number, ReturnType<Platform["client"]>>();
      const t0 = performance.now();
      await pool(queries, 64, async (q) => {
        const i = q % total;
        let c = clients.get(i);
        if (c === undefined) {
          c = p.client(`t${i}`);
          if (clients.size < 5000) clients.set(i, c);
        }
        try {
          await c.execute("SELECT v FROM kv WHERE k = 'a'");
        } catch (e) {
          // A failed query is counted and reported, not allowed to end the benchmark.
          errors++;
          firstError ??= `query ${q} on t${i} (${p.openTenantCount} open): ${(e as Error).message}`;
        }
      });
      const seconds = (performance.now() - t0) / 1000;
      rows.push([
        kind,
        total,
        Math.round(queries / seconds),
        p.openTenantCount,
        mb(peak()),
        errors,
      ]);
      if (firstError !== undefined)
        console.log(`  ${kind}/${total}: ${errors} failed, first: ${firstError}`);
    }
    await p.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
  printTable(rows);
  console.log("  target: RSS ≤ 1.5 GB and flat as tenants grow");
}

console.log(`bench/storage (BENCH_SCALE=${SCALE}, Node ${process.version})`);
if (ONLY.has("commit")) await benchCommit();
if (ONLY.has("create")) await benchCreate();
if (ONLY.has("rr")) await benchRoundRobin();
