/**
 * Size regime (issue 20, point 5): how the cost of one tenant grows with its size, on FsStorage
 * with strict durability, and the largest tenant that works. Prints figures; asserts nothing.
 *
 * For each size (default 1, 16, 64, 256, 1024, 1536, 2048 MB; `BENCH_SIZES=1,16` picks others),
 * in processes of their own so that one size's memory does not hide the next's:
 *
 * - make: a fresh data directory, one tenant filled with 4 KB random blobs up to the size;
 * - use: a new process opens the directory (sql.js warmed up on a tiny tenant first); the big
 *   tenant's first query's time (it is read from disk and opened), then one-row insert commits (median), and the process's RSS: before the tenant
 *   opened, after, and its peak during the commits (garbage collected between commits, so that
 *   the peak is what one commit holds at once), as multiples of the tenant's size.
 *   `BENCH_SIZE_STORAGE` gives FsStorage options as JSON (`{"pageLogCacheBytes":0}`: whole files).
 *
 * A size fails when a step throws (its error code and message are printed) or its process dies or
 * runs past `BENCH_SIZE_TIMEOUT_S` (default 300 s). The anchor of the commit cost is the raw
 * cost of writing the same bytes: a temp file written, fsync'd and renamed (measured in the same
 * process right after the commits).
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlatform, FsStorage } from "../../src/node/index.js";
import { printTable } from "../lib/measure.js";

const MB = 1024 * 1024;
const BLOB = 4000;

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1] as "make" | "use", args[2]!, Number(args[3]));
else await parent();

interface UseResult {
  bytes: number;
  firstQueryMs: number;
  commitMs: number;
  rawWriteMs: number;
  rssBefore: number;
  rssOpen: number;
  rssPeakCommit: number;
}

async function parent(): Promise<void> {
  const sizes = (process.env.BENCH_SIZES ?? "1,16,64,256,1024,1536,2048")
    .split(",")
    .map(Number)
    .filter((n) => n > 0);
  const timeout = Number(process.env.BENCH_SIZE_TIMEOUT_S ?? 300) * 1000;
  console.log(
    "size regime: one tenant on FsStorage (strict), each size in processes of its own; RSS as × the tenant's size",
  );
  const rows: string[][] = [
    [
      "tenant",
      "file",
      "first query (open)",
      "per MB",
      "1-row commit",
      "per MB",
      "raw write+fsync",
      "commit/raw",
      "RSS open − before",
      "RSS peak in commits − before",
    ],
  ];
  let largest = 0;
  for (const size of sizes) {
    const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), "tenantlite-bench-size-"));
    try {
      const run = (phase: string) =>
        spawnSync(
          process.execPath,
          [
            "--expose-gc",
            "--max-old-space-size=16384",
            "scripts/run-ts.mjs",
            "bench/size/index.ts",
            "--child",
            phase,
            dir,
            String(size),
          ],
          { encoding: "utf8", timeout, maxBuffer: 16 * MB },
        );
      let failed: string | undefined;
      let result: UseResult | undefined;
      const make = run("make");
      if (make.status !== 0) failed = `make: ${why(make)}`;
      else {
        const use = run("use");
        if (use.status !== 0) failed = `use: ${why(use)}`;
        else result = JSON.parse(use.stdout.trim().split("\n").pop()!) as UseResult;
      }
      if (result === undefined) {
        rows.push([`${size} MB`, "—", `fails (${failed})`, "", "", "", "", "", "", ""]);
        console.log(`${size} MB: fails — ${failed}`);
        continue;
      }
      largest = size;
      const r = result;
      const mbs = r.bytes / MB;
      const times = (x: number) => `${(x / r.bytes).toFixed(2)}×`;
      rows.push([
        `${size} MB`,
        `${mbs.toFixed(0)} MB`,
        `${r.firstQueryMs.toFixed(0)} ms`,
        `${(r.firstQueryMs / mbs).toFixed(2)} ms`,
        `${r.commitMs.toFixed(1)} ms`,
        `${(r.commitMs / mbs).toFixed(2)} ms`,
        `${r.rawWriteMs.toFixed(1)} ms`,
        `${(r.commitMs / r.rawWriteMs).toFixed(2)}×`,
        times(r.rssOpen - r.rssBefore),
        times(r.rssPeakCommit - r.rssBefore),
      ]);
      console.log(`${size} MB: done`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  printTable(rows);
  console.log(`largest tenant that worked: ${largest > 0 ? `${largest} MB` : "none"}`);
}

function why(r: ReturnType<typeof spawnSync>): string {
  if (r.error !== undefined) return String(r.error.message).slice(0, 160);
  const err = String(r.stderr ?? "")
    .split("\n")
    .filter((l) => /Error|error|code/.test(l))
    .slice(0, 2)
    .join(" | ");
  return `${r.signal ?? `exit ${r.status}`}${err ? `: ${err.slice(0, 200)}` : ""}`;
}

async function child(phase: "make" | "use", dir: string, sizeMb: number): Promise<void> {
  // BENCH_SIZE_STORAGE: FsStorage options as JSON, e.g. {"pageLogCacheBytes":0} for whole files.
  const storage = await FsStorage.open(dir, JSON.parse(process.env.BENCH_SIZE_STORAGE ?? "{}"));
  if (phase === "make") {
    const platform = await createPlatform({ storage });
    await platform.createDatabase("big");
    const db = platform.client("big");
    await db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)");
    await db.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, n INTEGER)");
    // In steps of 64 MB, each its own commit: a tenant grows the way an app grows it.
    const rows = Math.round((sizeMb * MB) / (BLOB + 200));
    const step = Math.round((64 * MB) / (BLOB + 200));
    for (let done = 0; done < rows; done += step) {
      const n = Math.min(step, rows - done);
      await db.execute(
        `INSERT INTO blobs (b) SELECT randomblob(${BLOB}) FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s)`,
      );
    }
    db.close();
    await platform.close();
    await storage.close();
    return;
  }
  const rss = () => process.memoryUsage.rss();
  const platform = await createPlatform({ storage });
  // sql.js compiled and the platform warm, on a tiny tenant, before the big one is touched.
  await platform.createDatabase("warm");
  const warm = platform.client("warm");
  await warm.execute("CREATE TABLE w (x)");
  await warm.execute("SELECT count(*) FROM w");
  warm.close();
  const rssBefore = await settledRss();
  const db = platform.client("big");
  const t0 = performance.now();
  await db.execute("SELECT count(*) FROM v");
  const firstQueryMs = performance.now() - t0;
  const rssOpen = await settledRss();
  let peak = rssOpen;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 1);
  const n = sizeMb >= 1024 ? 3 : sizeMb >= 256 ? 5 : 15;
  const commits: number[] = [];
  for (let i = 0; i < n; i++) {
    // The last commit's dead buffers go first (V8 frees them on a background thread), so that
    // the peak is what one commit holds at once, not garbage waiting for a collection.
    if (i > 0) await settledRss();
    const t = performance.now();
    await db.execute({ sql: "INSERT INTO v (n) VALUES (?)", args: [i] });
    commits.push(performance.now() - t);
    peak = Math.max(peak, rss());
  }
  clearInterval(sampler);
  const image = await platform.exportDatabase("big");
  const bytes = image.length;
  db.close();
  await platform.close();
  await storage.close();
  // The raw anchor: the same bytes written to a temp file, fsync'd and renamed.
  const raws: number[] = [];
  for (let i = 0; i < Math.min(n, 5); i++) {
    const t = performance.now();
    const temp = join(dir, `raw-${i}.tmp`);
    const fd = openSync(temp, "w");
    writeSync(fd, image);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, join(dir, "raw.db"));
    raws.push(performance.now() - t);
  }
  statSync(join(dir, "raw.db"));
  const result: UseResult = {
    bytes,
    firstQueryMs,
    commitMs: median(commits),
    rawWriteMs: median(raws),
    rssBefore,
    rssOpen,
    rssPeakCommit: peak,
  };
  console.log(JSON.stringify(result));
}

/**
 * RSS once garbage is collected and its memory given back: V8 frees a dead ArrayBuffer's memory
 * on a background thread after the collection, so RSS read right after `gc()` still counts it.
 */
async function settledRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage.rss();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
