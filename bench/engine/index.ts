/**
 * Engine benchmark (foundation issue, point 8; issue 20, point 2): single-row inserts in
 * autocommit, point selects by primary key, and single-row inserts inside a transaction, through
 * the platform's client vs raw sql.js (prepared; default journal and WAL) vs better-sqlite3, in
 * the same process.
 *
 * The contenders run interleaved: each phase is cut into blocks, and every block runs each
 * contender once, in an order that reverses from one block to the next (A B C, C B A, A B C…), so
 * the drift of a shared machine (other processes, heap growth, JIT) hits every contender alike.
 * Figures are µs per operation over all blocks, and ratios against the anchors of this run.
 */
import initSqlJs from "sql.js";
import { createPlatform } from "../../src/index.js";
import { printTable } from "../lib/measure.js";
import { loadBetterSqlite3 } from "../lib/native.js";

const N = Number(process.env.BENCH_N ?? 100_000);
/** Operations per block (a transaction of the transaction phase holds one block). */
const BLOCK = Number(process.env.BENCH_BLOCK ?? 1_000);
const ROWS = 10_000;

const SQL = await initSqlJs();
const Native = loadBetterSqlite3();
const { tmpdir } = await import("node:os");
const { join } = await import("node:path");
const { rmSync } = await import("node:fs");

type Op = (i: number) => unknown;
/** One contender: what it runs per operation of each phase, and around a transaction's block. */
interface Contender {
  readonly name: string;
  readonly insert: Op;
  readonly select: Op;
  /** Starts a transaction for a block of `txInsert`s; `commit` ends it. */
  readonly begin: () => unknown;
  readonly txInsert: Op;
  readonly commit: () => unknown;
  readonly close: () => unknown;
}

const INSERT = "INSERT INTO users (name) VALUES (?)";
const SELECT = "SELECT id, name FROM users WHERE id = ?";
const CREATE = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";

/**
 * Raw prepared sql.js; `awaited`: each operation answers a resolved promise, awaited as a client's
 * is: the floor of any promise-returning API over the same statements.
 */
function rawSqlJs(journal: "DELETE" | "WAL", awaited = false): Contender {
  const db = new SQL.Database();
  db.exec(`PRAGMA journal_mode=${journal}`);
  db.exec(CREATE);
  const ins = db.prepare(INSERT);
  const sel = db.prepare(SELECT);
  const insert = (i: number) => {
    ins.bind([`user-${i}`]);
    ins.step();
    ins.reset();
  };
  const select = (i: number) => {
    sel.bind([(i % ROWS) + 1]);
    sel.step();
    sel.get();
    sel.reset();
  };
  const wrap = (op: Op): Op => (awaited ? (i) => Promise.resolve(op(i)) : op);
  return {
    name: awaited
      ? "raw sql.js, prepared, WAL, one await per op"
      : journal === "WAL"
        ? "raw sql.js, prepared, WAL"
        : "raw sql.js, prepared, default journal",
    insert: wrap(insert),
    select: wrap(select),
    begin: () => db.exec("BEGIN"),
    txInsert: wrap(insert),
    commit: () => db.exec("COMMIT"),
    close: () => {
      ins.free();
      sel.free();
      db.close();
    },
  };
}

function native(file: string): Contender | undefined {
  if (Native === undefined) return undefined;
  const db = new Native(file);
  if (file !== ":memory:") db.pragma("journal_mode = WAL");
  db.exec(`DROP TABLE IF EXISTS users; ${CREATE}`);
  const ins = db.prepare(INSERT);
  const sel = db.prepare(SELECT);
  const insert = (i: number) => ins.run(`user-${i}`);
  return {
    name: file === ":memory:" ? "better-sqlite3 12, :memory:" : "better-sqlite3 12, file, WAL",
    insert,
    select: (i) => sel.get((i % ROWS) + 1),
    begin: () => db.exec("BEGIN"),
    txInsert: insert,
    commit: () => db.exec("COMMIT"),
    close: () => {
      db.close();
      if (file !== ":memory:") {
        for (const suffix of ["", "-wal", "-shm"]) rmSync(`${file}${suffix}`, { force: true });
      }
    },
  };
}

async function platform(): Promise<Contender> {
  const p = await createPlatform();
  await p.createDatabase("bench");
  const db = p.client("bench");
  await db.execute(CREATE);
  let tx: Awaited<ReturnType<typeof db.transaction>> | undefined;
  return {
    name: "tenantlite platform client (memory storage)",
    insert: (i) => db.execute({ sql: INSERT, args: [`user-${i}`] }),
    select: (i) => db.execute({ sql: SELECT, args: [(i % ROWS) + 1] }),
    begin: async () => {
      tx = await db.transaction("write");
    },
    txInsert: (i) => tx!.execute({ sql: INSERT, args: [`user-${i}`] }),
    commit: () => tx!.commit(),
    close: () => p.close(),
  };
}

type Phase = "insert" | "select" | "txInsert";

/** Runs one block of `phase` on `c` and returns the time it took, in µs. */
async function block(c: Contender, phase: Phase, from: number, n: number): Promise<number> {
  const op = c[phase];
  const start = process.hrtime.bigint();
  if (phase === "txInsert") await c.begin();
  for (let i = from; i < from + n; i++) {
    const r = op(i);
    if (r instanceof Promise) await r;
  }
  if (phase === "txInsert") await c.commit();
  return Number(process.hrtime.bigint() - start) / 1000;
}

const ours = await platform();
/** Ours, raw sql.js (default journal, WAL), better-sqlite3 (:memory:, file) when installed. */
const contenders: Contender[] = [
  ours,
  rawSqlJs("DELETE"),
  rawSqlJs("WAL"),
  rawSqlJs("WAL", true),
  ...[native(":memory:"), native(join(tmpdir(), `tenantlite-bench-${process.pid}.db`))].filter(
    (c): c is Contender => c !== undefined,
  ),
];
// BENCH_QUICK=1: ours and raw WAL sql.js (plain and awaited) only (while working on the hot path).
if (process.env.BENCH_QUICK === "1") {
  for (const c of contenders.splice(4)) await c.close();
  contenders.splice(1, 1)[0]!.close();
}
const phases: Phase[] = ["insert", "select", "txInsert"];
/** µs per operation of every block, per contender and phase (blocks in the order they ran). */
const times = new Map<Contender, Record<Phase, number[]>>(
  contenders.map((c) => [c, { insert: [], select: [], txInsert: [] }]),
);

console.log(
  `engine: ${N} single-row inserts (autocommit), ${N} point selects by primary key, ${N} single-row inserts inside transactions of ${BLOCK} (µs per op)`,
);
console.log(
  `(contenders interleaved in blocks of ${BLOCK}, order reversed every block — A B C, C B A… — so drift hits all alike; one block each to warm up first)`,
);
for (const phase of phases) {
  // Warm-up: one block each, not counted (the insert phase also fills the table selects read).
  for (const c of contenders) await block(c, phase, N, BLOCK);
  const blocks = Math.ceil(N / BLOCK);
  for (let b = 0; b < blocks; b++) {
    const order = b % 2 === 0 ? contenders : [...contenders].reverse();
    const n = Math.min(BLOCK, N - b * BLOCK);
    for (const c of order) times.get(c)![phase].push((await block(c, phase, b * BLOCK, n)) / n);
  }
}
for (const c of contenders) await c.close();

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** Mean µs per operation over all blocks. */
const per = (c: Contender | undefined, phase: Phase): number | undefined => {
  const xs = c === undefined ? undefined : times.get(c)![phase];
  return xs === undefined ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length;
};
/**
 * Ours against an anchor: the median over blocks of the ratio of the two adjacent runs of a block
 * (a burst of load on the machine skews one block, not the figure).
 */
const blockRatio = (anchor: Contender | undefined, phase: Phase, of: Contender = ours): string => {
  if (anchor === undefined) return "n/a";
  const a = times.get(anchor)![phase];
  return `${median(times.get(of)![phase].map((t, i) => t / a[i]!)).toFixed(2)}×`;
};
const f = (v: number | undefined) => (v === undefined ? "n/a" : v.toFixed(2));
printTable([
  ["", "insert µs", "select µs", "insert in tx µs"],
  ...contenders.map((c) => [
    c.name,
    f(per(c, "insert")),
    f(per(c, "select")),
    f(per(c, "txInsert")),
  ]),
]);

const named = (prefix: string) => contenders.find((c) => c.name.startsWith(prefix));
const rawDelete = named("raw sql.js, prepared, default");
const rawWal = contenders.find((c) => c.name === "raw sql.js, prepared, WAL");
const rawAwaited = named("raw sql.js, prepared, WAL, one await");
const nativeMem = named("better-sqlite3 12, :memory:");
const nativeFile = named("better-sqlite3 12, file");
const row = (label: string, anchor: Contender | undefined, targets: string) => [
  label,
  blockRatio(anchor, "insert"),
  blockRatio(anchor, "select"),
  blockRatio(anchor, "txInsert"),
  targets,
];
console.log(
  "\nratios (platform / anchor, median over blocks of the ratio within a block; lower is better):",
);
printTable([
  ["anchor", "insert", "select", "insert in tx", "targets"],
  row("raw sql.js, default journal", rawDelete, "select ≤ 1.0×"),
  row("raw sql.js, WAL", rawWal, "insert ≤ 1.2×, select ≤ 1.2×, insert in tx ≤ 1.5×"),
  row("raw sql.js, WAL, one await per op", rawAwaited, ""),
  row("better-sqlite3 :memory:", nativeMem, "select ≤ 1.5×, insert ≤ 2×"),
  row("better-sqlite3 file WAL", nativeFile, ""),
]);
if (rawAwaited !== undefined && rawWal !== undefined) {
  const floor = (phase: Phase) => blockRatio(rawWal, phase, rawAwaited);
  console.log(
    `\nthe floor of a promise-returning API (raw WAL sql.js with one await per op / raw WAL sql.js): insert ${floor("insert")}, select ${floor("select")}, insert in tx ${floor("txInsert")}`,
  );
}
