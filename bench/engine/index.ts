/**
 * Engine benchmark (foundation issue, point 8): point select by primary key and single-row insert,
 * 100k each, through the platform's client vs raw sql.js (prepared, autocommit) vs better-sqlite3,
 * in the same process. Figures are printed as ratios against the anchors measured in this run.
 */
import initSqlJs from "sql.js";
import { createPlatform } from "../../src/index.js";
import { printTable, ratio, timeAsync, timeSync } from "../lib/measure.js";
import { loadBetterSqlite3 } from "../lib/native.js";

const N = Number(process.env.BENCH_N ?? 100_000);
const ROWS = 10_000;

const SQL = await initSqlJs();
const Native = loadBetterSqlite3();

function rawSqlJs(journal: "DELETE" | "WAL") {
  const db = new SQL.Database();
  db.exec(`PRAGMA journal_mode=${journal}`);
  db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  const ins = db.prepare("INSERT INTO users (name) VALUES (?)");
  const insert = timeSync(N, (i) => {
    ins.bind([`user-${i}`]);
    ins.step();
    ins.reset();
  });
  const sel = db.prepare("SELECT id, name FROM users WHERE id = ?");
  const select = timeSync(N, (i) => {
    sel.bind([(i % ROWS) + 1]);
    sel.step();
    sel.get();
    sel.reset();
  });
  db.close();
  return { insert, select };
}

function native(file: string) {
  if (Native === undefined) return undefined;
  const db = new Native(file);
  if (file !== ":memory:") db.pragma("journal_mode = WAL");
  db.exec(
    "DROP TABLE IF EXISTS users; CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
  );
  const ins = db.prepare("INSERT INTO users (name) VALUES (?)");
  const insert = timeSync(N, (i) => ins.run(`user-${i}`));
  const sel = db.prepare("SELECT id, name FROM users WHERE id = ?");
  const select = timeSync(N, (i) => sel.get((i % ROWS) + 1));
  db.close();
  return { insert, select };
}

async function platform() {
  const p = await createPlatform();
  await p.createDatabase("bench");
  const db = p.client("bench");
  await db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)");
  const insert = await timeAsync(N, (i) =>
    db.execute({ sql: "INSERT INTO users (name) VALUES (?)", args: [`user-${i}`] }),
  );
  const select = await timeAsync(N, (i) =>
    db.execute({ sql: "SELECT id, name FROM users WHERE id = ?", args: [(i % ROWS) + 1] }),
  );
  await p.close();
  return { insert, select };
}

console.log(`engine: ${N} single-row inserts, then ${N} point selects by primary key (µs per op)`);
console.log(
  "(each contender runs twice, alternating; the better round counts, so heap growth and JIT warm-up hit everyone alike)",
);
const { tmpdir } = await import("node:os");
const { join } = await import("node:path");
type Figures = { insert: number; select: number } | undefined;
const best = (a: Figures, b: Figures): Figures =>
  a === undefined || b === undefined
    ? (a ?? b)
    : { insert: Math.min(a.insert, b.insert), select: Math.min(a.select, b.select) };
let ours: Figures;
let rawDelete: Figures;
let rawWal: Figures;
let nativeMem: Figures;
let nativeFile: Figures;
for (let round = 0; round < 2; round++) {
  ours = best(ours, await platform());
  rawDelete = best(rawDelete, rawSqlJs("DELETE"));
  rawWal = best(rawWal, rawSqlJs("WAL"));
  nativeMem = best(nativeMem, native(":memory:"));
  nativeFile = best(nativeFile, native(join(tmpdir(), `tenantlite-bench-${process.pid}.db`)));
}
if (ours === undefined || rawDelete === undefined || rawWal === undefined)
  throw new Error("unreachable");

const f = (v: number | undefined) => (v === undefined ? "n/a" : v.toFixed(2));
printTable([
  ["", "insert µs", "select µs"],
  ["tenantlite platform client (memory storage)", f(ours.insert), f(ours.select)],
  ["raw sql.js, prepared, autocommit (default journal)", f(rawDelete.insert), f(rawDelete.select)],
  ["raw sql.js, prepared, autocommit, WAL", f(rawWal.insert), f(rawWal.select)],
  ["better-sqlite3 12, :memory:", f(nativeMem?.insert), f(nativeMem?.select)],
  ["better-sqlite3 12, file, WAL", f(nativeFile?.insert), f(nativeFile?.select)],
]);
console.log("\nratios (platform / anchor; lower is better):");
printTable([
  ["anchor", "insert", "select", "targets"],
  [
    "raw sql.js autocommit",
    ratio(ours.insert, rawDelete.insert),
    ratio(ours.select, rawDelete.select),
    "select ≤ 1.0×",
  ],
  [
    "raw sql.js autocommit, WAL",
    ratio(ours.insert, rawWal.insert),
    ratio(ours.select, rawWal.select),
    "",
  ],
  [
    "better-sqlite3 :memory:",
    ratio(ours.insert, nativeMem?.insert),
    ratio(ours.select, nativeMem?.select),
    "select ≤ 1.5×, insert ≤ 2×",
  ],
  [
    "better-sqlite3 file WAL",
    ratio(ours.insert, nativeFile?.insert),
    ratio(ours.select, nativeFile?.select),
    "",
  ],
]);
