/**
 * Connections benchmark (engine issue, point 10: "Cost"). Every logical connection gets a sql.js
 * connection of its own on its tenant's shared-WAL file while it is in a transaction or holds
 * private state; this measures what that costs, as ratios against anchors measured in this run:
 *
 * 1. memory per idle logical connection that holds its SQLite connection (an open read
 *    transaction; a TEMP table), against raw sql.js connections on the same kind of file left the
 *    same way, and per one that only ran autocommit SELECTs — each case in processes of its own,
 *    since freed WASM pages stay resident and would hide the next case;
 * 2. time to open a logical connection, run its first statement and close it, against raw sql.js
 *    opening a database from the tenant's image (and opening another connection on a shared-WAL
 *    file, as the engine does) and running the same statement;
 * 3. a point read while another connection of the tenant holds an uncommitted write transaction,
 *    against the same read with no other transaction open; and the same read right after another
 *    connection's statement, when that statement is a TEMP table's CREATE or DROP vs a SELECT.
 *
 * No timed assertions: only sanity checks of what was measured (a transaction really open, the
 * uncommitted row really invisible).
 */
import { spawnSync } from "node:child_process";
import initSqlJs from "sql.js";
import type { Connection, Platform } from "../../src/index.js";
import { createPlatform } from "../../src/index.js";
import { printTable, ratio, timeAsync, timeSync } from "../lib/measure.js";
import {
  type WasmAllocator,
  wasmHeapInUse,
  wasmHeapSize,
  watchWasmMemory,
} from "../lib/wasm-heap.js";

/** Rows in `users` (and twice as many posts): a few pages. */
const USERS = 100;
const OPENS = Number(process.env.BENCH_OPENS ?? 2_000);
const READS = Number(process.env.BENCH_READS ?? 100_000);
// Environment: BENCH_OPENS, BENCH_READS, BENCH_PARTS (e.g. "2,3": only those parts).
const POINT = "SELECT name FROM users WHERE id = ?";

watchWasmMemory(); // before sql.js loads (the platform reuses this bench's sql.js instance)
const SQL = await initSqlJs();
const alloc = SQL as unknown as WasmAllocator;

/** A platform with one tenant "t": two tables, an index, a few rows. */
async function tenant() {
  const platform = await createPlatform();
  await platform.createDatabase("t");
  const db = platform.client("t");
  await db.batch(
    [
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
      "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title TEXT)",
      "CREATE INDEX posts_user ON posts (user_id)",
      ...Array.from({ length: USERS }, (_, i) => ({
        sql: "INSERT INTO users (id, name) VALUES (?, ?)",
        args: [i + 1, `user-${i + 1}`],
      })),
      ...Array.from({ length: 2 * USERS }, (_, i) => ({
        sql: "INSERT INTO posts (user_id, title) VALUES (?, ?)",
        args: [(i % USERS) + 1, `post ${i}`],
      })),
    ],
    "write",
  );
  db.close();
  return platform;
}

// ── 1. memory per idle connection ─────────────────────────────────────────────────────────────

/** How the N idle connections were left; `raw-…`: raw sql.js connections on the same file. */
type Subject = "txn" | "temp" | "autocommit" | "raw-txn" | "raw-temp";
const SUBJECTS: Record<Subject, string> = {
  txn: "BEGIN + point SELECT (read transaction left open)",
  "raw-txn": "  raw sql.js connection, the same",
  temp: "CREATE TEMP TABLE x(y) (private state)",
  "raw-temp": "  raw sql.js connection, the same",
  autocommit: "autocommit point SELECT + count(*) only",
};
/** What a memory process measures: RSS, or the WASM heap (whose probe makes pages resident). */
type Probe = "rss" | "wasm";

interface Sample {
  rss: number;
  js: number;
  wasm: number | undefined;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error("run with --expose-gc (node scripts/bench.mjs connections)");
  g();
  g();
}

/**
 * Memory after gc. For RSS, also waits (at most 3 s) until it holds still: V8 gives memory back
 * in the background for a while after work (WASM tier-up, code, heap pages), ~15 MB at start.
 */
async function sample(probe: Probe): Promise<Sample> {
  gc();
  let rss = process.memoryUsage.rss();
  if (probe === "rss") {
    for (let i = 0, still = 0; i < 30 && still < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      gc();
      const now = process.memoryUsage.rss();
      still = Math.abs(now - rss) < 256 * 1024 ? still + 1 : 0;
      rss = now;
    }
  }
  const js = process.memoryUsage().heapUsed;
  return { rss, js, wasm: probe === "wasm" ? wasmHeapInUse(alloc) : undefined };
}

/** A raw sql.js connection and how to drop it without deleting the file it shares. */
interface RawConnection {
  db: InstanceType<typeof SQL.Database>;
  close(): void;
}

/**
 * Another raw sql.js connection on an existing file (`dbfile_<n>`). sql.js opens an existing file
 * when given no bytes and names it from one `Math.random()` call; that call is answered with the
 * file's number (the engine's TenantDb.connect does the same).
 */
function connectRaw(filename: string): RawConnection {
  const n = Number(/^dbfile_(\d+)$/.exec(filename)?.[1]);
  const random = Math.random;
  Math.random = () => (n + 0.5) / 0xffffffff;
  let db: InstanceType<typeof SQL.Database>;
  try {
    db = new SQL.Database(null);
  } finally {
    Math.random = random;
  }
  const handle = db as unknown as { filename: string; db: number };
  const close = () => {
    // sql.js's close() would delete the shared file: free the statements, close the handle only.
    for (const st of statements.get(db) ?? []) st.free();
    (SQL as unknown as { _sqlite3_close_v2(db: number): number })._sqlite3_close_v2(handle.db);
  };
  if (handle.filename !== filename) {
    close();
    throw new Error("this sql.js names its files otherwise: no raw anchor");
  }
  return { db, close };
}
const statements = new WeakMap<object, { free(): boolean }[]>();

/**
 * A raw sql.js database on a shared-WAL file of `image`, for raw connections to share. It reads
 * once after switching to WAL: that opens its WAL and wal-index, which it then keeps. Otherwise
 * every raw connection that closes is the wal-index's last user, and sql.js unmaps it without
 * freeing it (~130 KB a close: sql.js runs out of memory after ~16,000).
 */
function rawOwner(image: Uint8Array): InstanceType<typeof SQL.Database> {
  const owner = new SQL.Database(image);
  owner.exec("PRAGMA journal_mode=WAL");
  owner.exec("SELECT count(*) FROM sqlite_schema");
  return owner;
}

/** Leaves `n` connections on "t" idle as `subject` says. */
async function openIdle(
  platform: Platform,
  subject: Subject,
  n: number,
  file: string,
): Promise<{ close(): void }[]> {
  const conns: { close(): void }[] = [];
  for (let i = 0; i < n; i++) {
    const id = (i % USERS) + 1;
    if (subject === "raw-txn" || subject === "raw-temp") {
      const raw = connectRaw(file);
      raw.db.exec("PRAGMA foreign_keys=ON");
      if (subject === "raw-txn") {
        raw.db.exec("BEGIN");
        const st = raw.db.prepare(POINT); // kept prepared, as the engine's statement cache does
        st.bind([id]);
        st.step();
        st.get();
        st.reset();
        statements.set(raw.db, [st]);
      } else raw.db.exec("CREATE TEMP TABLE x(y)");
      conns.push(raw);
      continue;
    }
    const c = platform.connect("t", { transactionTimeoutMs: 3_600_000 });
    if (subject === "txn") {
      await c.execute("BEGIN", undefined);
      await c.execute(POINT, [id]);
      if (!c.inTransaction) throw new Error("the read transaction is not open");
    } else if (subject === "temp") {
      await c.execute("CREATE TEMP TABLE x(y)", undefined);
    } else {
      await c.execute(POINT, [id]);
      await c.execute("SELECT count(*) FROM posts", undefined);
    }
    conns.push(c);
  }
  if (subject === "temp") {
    // Each TEMP table is its connection's own, and still there.
    const first = conns[0] as Connection;
    await (conns[n - 1] as Connection).execute("INSERT INTO x VALUES (1)", undefined);
    const rs = await first.execute("SELECT count(*) AS n FROM x", undefined);
    if (rs.rows[0]?.n !== 0) throw new Error("TEMP tables are shared between connections");
  }
  return conns;
}

/** One memory case, in this (child) process: prints one JSON line. */
async function memoryCase(subject: Subject, n: number, probe: Probe): Promise<void> {
  const platform = await tenant();
  // The raw connections share a file of the same image (shared WAL, like the tenant's).
  const owner = rawOwner(await platform.exportDatabase("t"));
  const file = (owner as unknown as { filename: string }).filename;
  const cycle = async () => {
    const conns = await openIdle(platform, subject, n, file);
    const open = await sample(probe);
    for (const c of conns) c.close();
    return { open, closed: await sample(probe) };
  };
  for (const c of await openIdle(platform, subject, 10, file)) c.close(); // warm-up
  const base = await sample(probe);
  const first = await cycle();
  const second = await cycle();
  owner.close();
  await platform.close();
  console.log(`MEMORY ${JSON.stringify({ base, first, second })}`);
}

interface MemoryResult {
  base: Sample;
  first: { open: Sample; closed: Sample };
  second: { open: Sample; closed: Sample };
}

function runMemoryCase(subject: Subject, n: number, probe: Probe): MemoryResult {
  const r = spawnSync(
    process.execPath,
    [
      "--expose-gc",
      "scripts/run-ts.mjs",
      "bench/connections/index.ts",
      "--memory",
      subject,
      String(n),
      probe,
    ],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith("MEMORY "));
  if (r.status !== 0 || line === undefined) {
    throw new Error(`memory case ${subject} ${n} ${probe} failed:\n${r.stdout}\n${r.stderr}`);
  }
  return JSON.parse(line.slice("MEMORY ".length)) as MemoryResult;
}

/** The goal of a subject (KB per connection: ≤ 200 when it holds its connection, ~0 otherwise). */
function goal(subject: Subject, kbPerConnection: number | undefined): string {
  if (subject.startsWith("raw")) return "";
  const [text, most] = subject === "autocommit" ? ["~0", 1] : ["≤ 200", 200];
  if (kbPerConnection === undefined) return text;
  return `${text} — ${kbPerConnection <= most ? "met" : "NOT met"}`;
}

/** Kilobytes per connection. */
const kb = (bytes: number | undefined, n: number) =>
  bytes === undefined ? "n/a" : (bytes / n / 1024).toFixed(1);
const minus = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

function memory(): void {
  console.log(
    "\n1. memory per idle logical connection on one tenant (KB per connection, after gc; each case in processes of its own: one for RSS, one for the WASM heap)",
  );
  const sizes = [200, 500];
  const runs = new Map<string, { rss: MemoryResult; wasm: MemoryResult }>();
  for (const subject of Object.keys(SUBJECTS) as Subject[]) {
    for (const n of sizes) {
      runs.set(`${subject} ${n}`, {
        rss: runMemoryCase(subject, n, "rss"),
        wasm: runMemoryCase(subject, n, "wasm"),
      });
    }
  }
  const get = (subject: Subject, n: number) => runs.get(`${subject} ${n}`)!;
  const wasmOpen = (subject: Subject, n: number) => {
    const w = get(subject, n).wasm;
    return minus(w.first.open.wasm, w.base.wasm);
  };
  const rows: (string | number)[][] = [];
  for (const subject of Object.keys(SUBJECTS) as Subject[]) {
    for (const n of sizes) {
      const { rss: r, wasm: w } = get(subject, n);
      const anchor =
        subject === "txn" || subject === "temp" ? wasmOpen(`raw-${subject}`, n) : undefined;
      const wasm = wasmOpen(subject, n);
      rows.push([
        SUBJECTS[subject],
        n,
        kb(r.first.open.rss - r.base.rss, n),
        kb(wasm, n),
        anchor === undefined || wasm === undefined ? "" : ratio(wasm, anchor),
        kb(w.first.open.js - w.base.js, n),
        goal(subject, wasm === undefined ? undefined : wasm / n / 1024),
      ]);
    }
  }
  printTable([["idle connection", "N", "RSS", "WASM heap", "vs raw", "JS heap", "goal"], ...rows]);
  console.log(
    "\n   then closing them all, opening N again and closing them again (KB per connection, vs before the first opening)",
  );
  const settle: (string | number)[][] = [];
  for (const subject of ["txn", "temp", "autocommit"] as const) {
    for (const n of sizes) {
      const { rss: r, wasm: w } = get(subject, n);
      settle.push([
        SUBJECTS[subject],
        n,
        kb(minus(w.first.closed.wasm, w.base.wasm), n),
        kb(w.first.closed.js - w.base.js, n),
        kb(minus(w.second.open.wasm, w.base.wasm), n),
        // Of nothing, RSS measures only V8's own ups and downs (tens of MB either way).
        subject === "autocommit" ? "—" : kb(r.second.open.rss - r.first.open.rss, n),
        kb(minus(w.second.closed.wasm, w.base.wasm), n),
        kb(w.second.closed.js - w.base.js, n),
      ]);
    }
  }
  printTable([
    [
      "idle connection",
      "N",
      "closed: WASM",
      "JS",
      "reopened: WASM",
      "RSS vs 1st",
      "closed again: WASM",
      "JS",
    ],
    ...settle,
  ]);
}

// ── 2. opening a connection ───────────────────────────────────────────────────────────────────

interface OpenFigures {
  select1: number;
  point: number;
  temp: number;
  tempPoint: number;
}

async function opens(platform: Platform): Promise<OpenFigures> {
  const one = (first: (c: Connection, i: number) => Promise<unknown>) =>
    timeAsync(OPENS, async (i) => {
      const c = platform.connect("t");
      await first(c, i);
      c.close();
    });
  return {
    select1: await one((c) => c.execute("SELECT 1", undefined)),
    point: await one((c, i) => c.execute(POINT, [(i % USERS) + 1])),
    temp: await one((c) => c.execute("CREATE TEMP TABLE x(y)", undefined)),
    tempPoint: await one(async (c, i) => {
      await c.execute("CREATE TEMP TABLE x(y)", undefined);
      await c.execute(POINT, [(i % USERS) + 1]);
    }),
  };
}

/** Raw sql.js: opens a connection (`open`), runs the same first statement, closes it. */
function rawOpens(open: () => RawConnection): OpenFigures {
  const one = (first: (db: InstanceType<typeof SQL.Database>, i: number) => void) =>
    timeSync(OPENS, (i) => {
      const c = open();
      first(c.db, i);
      c.close();
    });
  const point = (db: InstanceType<typeof SQL.Database>, i: number) => {
    const st = db.prepare(POINT);
    st.bind([(i % USERS) + 1]);
    st.step();
    st.get();
    st.free();
  };
  return {
    select1: one((db) => db.exec("SELECT 1")),
    point: one(point),
    temp: one((db) => db.exec("CREATE TEMP TABLE x(y)")),
    tempPoint: one((db, i) => {
      db.exec("CREATE TEMP TABLE x(y)");
      point(db, i);
    }),
  };
}

const bestOf = <T extends object>(a: T | undefined, b: T): T =>
  a === undefined
    ? b
    : (Object.fromEntries(
        Object.entries(b).map(([k, v]) => [k, Math.min(v as number, a[k as keyof T] as number)]),
      ) as T);

async function opening(): Promise<void> {
  const platform = await tenant();
  const wal = await platform.exportDatabase("t");
  // Anchor 1 opens the tenant's image as a new database, in rollback-journal mode: a WAL image
  // would have sql.js map a wal-index per open that it never frees (src/engine/tenant-file.ts).
  const scratch = new SQL.Database(wal);
  scratch.exec("PRAGMA journal_mode=DELETE");
  const image = scratch.export();
  scratch.close();
  const fromImage = (): RawConnection => {
    const db = new SQL.Database(image);
    return { db, close: () => db.close() };
  };
  // Anchor 2 opens another connection on a shared-WAL file of the image, as the engine does.
  const owner = rawOwner(wal);
  const file = (owner as unknown as { filename: string }).filename;
  let ours: OpenFigures | undefined;
  let raw: OpenFigures | undefined;
  let second: OpenFigures | undefined;
  for (let round = 0; round < 2; round++) {
    ours = bestOf(ours, await opens(platform));
    raw = bestOf(raw, rawOpens(fromImage));
    second = bestOf(
      second,
      rawOpens(() => connectRaw(file)),
    );
  }
  owner.close();
  await platform.close();
  if (ours === undefined || raw === undefined || second === undefined) {
    throw new Error("unreachable");
  }
  console.log(
    `\n2. opening a connection, its first statement, closing it (µs, ${OPENS} one after another, better of two rounds)`,
  );
  console.log(
    '   platform: connect("t"); raw: sql.js new SQL.Database(image); raw 2nd: another sql.js connection on a shared-WAL file',
  );
  const row = (what: string, key: keyof OpenFigures) => [
    what,
    ours[key].toFixed(1),
    raw[key].toFixed(1),
    ratio(ours[key], raw[key]),
    second[key].toFixed(1),
    ratio(ours[key], second[key]),
    ours[key] <= 100 ? "≤ 100 µs — met" : "≤ 100 µs — NOT met",
  ];
  printTable([
    ["first statement", "platform", "raw", "ratio", "raw 2nd", "ratio", "goal"],
    row("SELECT 1 (pooled SQLite connection)", "select1"),
    row("point SELECT by primary key (pooled)", "point"),
    row("CREATE TEMP TABLE x(y) (private state, washed at close)", "temp"),
    row("CREATE TEMP TABLE + point SELECT (washed)", "tempPoint"),
  ]);
}

// ── 3. a read beside an open write transaction ────────────────────────────────────────────────

async function readBesideWriter(): Promise<void> {
  const platform = await tenant();
  const reader = platform.connect("t");
  const writer = platform.connect("t", { transactionTimeoutMs: 3_600_000 });
  const read = () => timeAsync(READS, (i) => reader.execute(POINT, [(i % USERS) + 1]));
  const count = async () =>
    (await reader.execute("SELECT count(*) AS n FROM users", undefined)).rows[0]?.n;
  const before = await count();
  let alone = Number.POSITIVE_INFINITY;
  let beside = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 2; round++) {
    alone = Math.min(alone, await read());
    await writer.execute("BEGIN IMMEDIATE", undefined);
    await writer.execute("INSERT INTO users (name) VALUES ('pending')", undefined);
    if ((await count()) !== before) throw new Error("the reader sees an uncommitted row");
    beside = Math.min(beside, await read());
    if (!writer.inTransaction) throw new Error("the write transaction ended early");
    await writer.execute("ROLLBACK", undefined);
  }

  // The same read, each one after a statement of another connection: the reader's time only.
  const other = platform.connect("t");
  const interleaved = async (statement: (i: number) => string) => {
    const n = Math.max(1, Math.round(READS / 10));
    let spent = 0n;
    for (let i = -Math.round(n / 10); i < n; i++) {
      await other.execute(statement(i), undefined);
      const start = process.hrtime.bigint();
      await reader.execute(POINT, [(Math.abs(i) % USERS) + 1]);
      if (i >= 0) spent += process.hrtime.bigint() - start;
    }
    return Number(spent) / 1000 / n;
  };
  let afterSelect = Number.POSITIVE_INFINITY;
  let afterTemp = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 2; round++) {
    afterSelect = Math.min(afterSelect, await interleaved(() => "SELECT 1"));
    afterTemp = Math.min(
      afterTemp,
      await interleaved((i) => (i % 2 === 0 ? "CREATE TEMP TABLE x(y)" : "DROP TABLE temp.x")),
    );
  }
  other.close();
  reader.close();
  writer.close();
  await platform.close();
  console.log(
    `\n3. point read (prepared-cache hit, conn.execute) by one connection, ${READS} per round, better of two alternating rounds (µs per read)`,
  );
  printTable([
    ["", "µs", "ratio", "goal"],
    ["no other transaction open", alone.toFixed(2), "1.00×", ""],
    [
      "another connection holds BEGIN IMMEDIATE + an uncommitted INSERT",
      beside.toFixed(2),
      ratio(beside, alone),
      beside <= 2 * alone ? "≤ 2× — met" : "≤ 2× — NOT met",
    ],
  ]);
  console.log(
    `\n   the same read, each one right after another connection's statement (${Math.round(READS / 10)} per round, the reader's time only)`,
  );
  printTable([
    ["the other connection runs", "µs", "ratio"],
    ["SELECT 1", afterSelect.toFixed(2), "1.00×"],
    [
      "CREATE TEMP TABLE x(y) / DROP TABLE temp.x, in turn",
      afterTemp.toFixed(2),
      ratio(afterTemp, afterSelect),
    ],
  ]);
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────

const args = process.argv.slice(2);
if (args[0] === "--memory") {
  await memoryCase(args[1] as Subject, Number(args[2]), args[3] as Probe);
} else {
  console.log(
    "connections: the cost of a SQLite connection per logical connection (ratios against anchors of this run)",
  );
  if (wasmHeapSize() === undefined)
    console.log("(sql.js's WASM heap not reachable: no WASM figures)");
  const parts = (process.env.BENCH_PARTS ?? "1,2,3").split(",");
  if (parts.includes("1")) memory();
  if (parts.includes("2")) await opening();
  if (parts.includes("3")) await readBesideWriter();
}
