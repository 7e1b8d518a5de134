/**
 * Making a used SQLite connection look new: `last_insert_rowid()`, `changes()` and
 * `total_changes()` back to 0, what a connection opened just now answers.
 *
 * A connection that changed rows could not be lent to another user before: these three would
 * tell (DESIGN.md, decision 1), so every transaction and every HTTP request that wrote paid a new
 * SQLite connection (~120–185 µs with its pragmas and schema read). sql.js exports neither
 * `sqlite3_set_last_insert_rowid` nor any way to reset `total_changes`, so the three counters are
 * reset where SQLite keeps them: three 64-bit fields of the connection object (`struct sqlite3`:
 * `lastRowid`, `nChange`, `nTotalChange`), which the C API only reads.
 *
 * Their offsets are found once per sql.js instance on a scratch connection, not assumed: the
 * counters are set to known values by statements, twice, and each must be at exactly one place
 * in the object both times; then they are written to 0 and read back through SQL, and a further
 * insert must count from there. A build where any of that does not hold gets no reset, and the
 * engine opens new connections as before.
 */
import type { SqlJsModule } from "./sqljs-types.js";
import { heapOf } from "./wasm-heap.js";

/** Bytes of the connection object searched (the counters sit in its first ~100 in SQLite 3.4x). */
const SEARCHED = 512;

/** Sets a connection's three counters to 0; `db` is its `sqlite3*`. */
export type CounterReset = (db: number) => void;

/** What the probe found: the reset, and a read of `last_insert_rowid()` from the same object. */
interface Counters {
  readonly reset: CounterReset;
  /** `sqlite3_last_insert_rowid(db)`, which sql.js does not export, read where SQLite keeps it. */
  readonly lastRowid: (db: number) => bigint;
}

const found = new WeakMap<SqlJsModule, Counters | null>();

function countersOf(sql: SqlJsModule): Counters | undefined {
  let counters = found.get(sql);
  if (counters === undefined) {
    counters = probe(sql) ?? null;
    found.set(sql, counters);
  }
  return counters ?? undefined;
}

/** The counter reset of sql.js instance `sql`, or `undefined` when its build does not allow one. */
export function counterReset(sql: SqlJsModule): CounterReset | undefined {
  return countersOf(sql)?.reset;
}

/**
 * A read of a connection's `last_insert_rowid()` from its connection object (a statement that
 * asks SQLite costs ~0.1 µs, a statement of its own), or `undefined` when the probe found no
 * counters in this build.
 */
export function lastRowidReader(sql: SqlJsModule): ((db: number) => bigint) | undefined {
  return countersOf(sql)?.lastRowid;
}

/** Two states of the counters the probe sets, each with the statements that set it. */
const STATES = [
  {
    sql: "INSERT INTO t(rowid, x) VALUES (4886718345, 0); UPDATE t SET x = x + 1 WHERE rowid <= 77",
    values: [4886718345, 77, 178],
  },
  {
    sql: "INSERT INTO t(rowid, x) VALUES (7301234567, 0); UPDATE t SET x = x + 1 WHERE rowid <= 55",
    values: [7301234567, 55, 234],
  },
] as const;

const READ = "SELECT last_insert_rowid(), changes(), total_changes()";

function probe(sql: SqlJsModule): Counters | undefined {
  let db: InstanceType<SqlJsModule["Database"]> | undefined;
  try {
    db = new sql.Database();
    const read = (): number[] => (db!.exec(READ)[0]?.values[0] ?? []).map(Number);
    db.exec(
      "CREATE TABLE t(x); WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100) INSERT INTO t(x) SELECT n FROM c",
    );
    const heap = heapOf(sql);
    const handle = db.db;
    /** The offsets in the object where each counter's value is, in every state so far. */
    let candidates: number[][] | undefined;
    for (const state of STATES) {
      db.exec(state.sql);
      if (!same(read(), state.values)) return undefined;
      const at = state.values.map((v) => offsetsOf(heap.u8(), handle, v));
      candidates = candidates?.map((c, i) => c.filter((o) => at[i]!.includes(o))) ?? at;
    }
    if (candidates === undefined || candidates.some((c) => c.length !== 1)) return undefined;
    const offsets = candidates.map((c) => c[0]!);
    const reset: CounterReset = (ptr) => {
      const u8 = heap.u8();
      for (const o of offsets) u8.fill(0, ptr + o, ptr + o + 8);
    };
    reset(handle);
    if (!same(read(), [0, 0, 0])) return undefined;
    db.exec("INSERT INTO t(rowid, x) VALUES (5000, 0)");
    if (!same(read(), [5000, 1, 1])) return undefined;
    const at = offsets[0]! >> 2;
    const lastRowid = (ptr: number): bigint => {
      const lo = heap.word(ptr, at) >>> 0;
      const hi = heap.word(ptr, at + 1);
      const v = hi * 2 ** 32 + lo;
      return Number.isSafeInteger(v) ? BigInt(v) : (BigInt(hi) << 32n) | BigInt(lo);
    };
    // Read back as SQL reads it, negative and past 2^53 too.
    for (const rowid of ["-5", "9007199254740993", "-9223372036854775808"]) {
      db.exec(`INSERT INTO t(rowid, x) VALUES (${rowid}, 0)`);
      if (lastRowid(handle) !== BigInt(rowid)) return undefined;
    }
    return { reset, lastRowid };
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/** Offsets (8-aligned) in the object at `ptr` whose little-endian 64-bit integer is `value`. */
function offsetsOf(u8: Uint8Array, ptr: number, value: number): number[] {
  const lo = value % 2 ** 32;
  const hi = Math.floor(value / 2 ** 32);
  const view = new DataView(u8.buffer, ptr, SEARCHED);
  const out: number[] = [];
  for (let o = 0; o + 8 <= SEARCHED; o += 8) {
    if (view.getUint32(o, true) === lo && view.getUint32(o + 4, true) === hi) out.push(o);
  }
  return out;
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
