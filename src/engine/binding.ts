/**
 * Values into and out of one prepared statement: arguments checked against the statement's
 * parameters and bound as libSQL binds them (numbers as REAL, 64-bit integers through a CAST), and
 * rows read back exactly.
 */
import { TenantliteError } from "../errors.js";
import { type ScanResult, scanSql } from "./sql-scan.js";
import type { RawDatabase, RawStatement, SqlJsFunctionApi, SqlJsModule } from "./sqljs-types.js";
import { tooManyArgs } from "./statement-info.js";
import {
  type BoundValue,
  type InArgs,
  type IntMode,
  integerOf,
  type Row,
  type RowFactory,
  toBound,
  type Value,
} from "./values.js";
import { heapOf, type WasmHeap } from "./wasm-heap.js";

const SQLITE_ROW = 100;
const INT64_MARK = " AS  INTEGER)";

export interface BoundArguments {
  readonly values: BoundValue[];
  /** How many positional arguments were given. */
  readonly count: number;
  /** The positional arguments themselves, when each is a string, a number or null. */
  readonly simple?: readonly (string | number | null)[];
  readonly named: boolean;
  /** SQL with 64-bit parameters wrapped in `CAST(… AS INTEGER)`, when any. */
  readonly rewritten: string | undefined;
}

const NO_VALUES: BoundValue[] = [];

export function bindArguments(
  sql: string,
  args: InArgs | undefined,
  intMode: IntMode,
): BoundArguments {
  if (args === undefined || args === null)
    return { values: NO_VALUES, count: 0, named: false, rewritten: undefined };
  if (Array.isArray(args)) {
    let simple = true;
    for (let i = 0; i < args.length && simple; i++) {
      const v: unknown = args[i];
      // Not NaN or ±Infinity: toBound refuses them.
      simple = typeof v === "string" || Number.isFinite(v) || v === null;
    }
    if (simple) {
      return {
        values: NO_VALUES,
        count: args.length,
        simple: args as readonly (string | number | null)[],
        named: false,
        rewritten: undefined,
      };
    }
    const values = args.map((v) => toBound(v, intMode));
    const wide = values.some((v) => v.kind === "int64");
    return {
      values,
      count: values.length,
      named: false,
      rewritten: wide ? rewriteInt64(sql, values, undefined) : undefined,
    };
  }
  if (typeof args !== "object") {
    throw new TenantliteError(
      "ARGS_INVALID",
      "Arguments must be an array or an object of named values",
    );
  }
  const record = args as Record<string, unknown>;
  let wide = false;
  for (const k in record) {
    if (typeof record[k] === "bigint") {
      const b = toBound(record[k]);
      if (b.kind === "int64") wide = true;
    }
  }
  return {
    values: NO_VALUES,
    count: 0,
    named: true,
    rewritten: wide ? rewriteInt64(sql, undefined, record) : undefined,
  };
}

/**
 * sql.js binds a BigInt as TEXT and cannot bind a 64-bit integer; wrapping such a parameter in
 * `CAST(? AS INTEGER)` (bound as its decimal text) yields exactly the integer. The marker spacing
 * lets result column names be mapped back to what the caller wrote.
 */
function rewriteInt64(
  sql: string,
  positional: readonly BoundValue[] | undefined,
  named: Record<string, unknown> | undefined,
): string {
  const scan = scanSql(sql);
  let out = "";
  let last = 0;
  for (const p of scan.params) {
    let wide = false;
    if (positional !== undefined) wide = positional[p.index - 1]?.kind === "int64";
    else if (named !== undefined) {
      const v = Object.hasOwn(named, p.text) ? named[p.text] : named[p.text.slice(1)];
      wide = typeof v === "bigint" && toBound(v).kind === "int64";
    }
    if (!wide) continue;
    out += `${sql.slice(last, p.start)}CAST(${p.text}${INT64_MARK}`;
    last = p.end;
  }
  return out + sql.slice(last);
}

/** Result column names as the caller wrote them, without the CAST of a 64-bit parameter. */
export function unrewriteName(name: string): string {
  if (!name.includes(INT64_MARK)) return name;
  return name.replace(/CAST\(([?:@$][^\s()]*) AS {2}INTEGER\)/g, "$1");
}

/**
 * The values to bind for a statement with parameters `scan`: checks that `args` give no more
 * positional values than it has parameters, and a value for every parameter.
 */
export function checkArguments(
  scan: ScanResult,
  bound: BoundArguments,
  args: InArgs | undefined,
  intMode: IntMode,
): BoundValue[] {
  if (bound.count > scan.paramCount && Array.isArray(args)) {
    throw tooManyArgs(scan.paramCount, bound.count);
  }
  const values = bound.named
    ? namedValues(scan, args as Record<string, unknown>, intMode)
    : bound.values;
  if (!bound.named) checkPositional(scan, bound.count);
  return values;
}

/** `ARGS_INVALID`: parameter `name` got no value. */
function noValueFor(name: string, hint = ""): TenantliteError {
  return new TenantliteError(
    "ARGS_INVALID",
    `Arguments do not match SQL parameters: value for parameter ${name} not found${hint}`,
  );
}

/** Refuses positional arguments that leave a parameter without a value. */
function checkPositional(scan: ScanResult, given: number): void {
  if (given < scan.paramCount) {
    const missing = scan.params.find((p) => p.index > given);
    throw noValueFor(missing?.text ?? `?${given + 1}`);
  }
}

/** Named arguments in the statement's parameter order; refuses a parameter without a value. */
function namedValues(
  scan: ScanResult,
  args: Record<string, unknown>,
  intMode: IntMode,
): BoundValue[] {
  const out: BoundValue[] = new Array(scan.paramCount);
  for (const p of scan.params) {
    if (out[p.index - 1] !== undefined) continue;
    const name = p.text;
    let value: unknown;
    if (name.length > 1 && name[0] !== "?") {
      if (Object.hasOwn(args, name)) value = args[name];
      else if (Object.hasOwn(args, name.slice(1))) value = args[name.slice(1)];
      else {
        throw noValueFor(name);
      }
    } else {
      throw noValueFor(name, " (positional parameters need an array of arguments)");
    }
    out[p.index - 1] = toBound(value, intMode);
  }
  return out;
}

/** The `sqlite3_stmt*` of a sql.js Statement, found once per connection by asking SQLite. */
export class StatementHandles {
  /** The key under which sql.js keeps a Statement's handle, once found. */
  #key: string | undefined;

  readonly #sql: SqlJsModule;
  readonly #raw: RawDatabase;

  constructor(sql: SqlJsModule, raw: RawDatabase) {
    this.#sql = sql;
    this.#raw = raw;
  }

  /** The `sqlite3_stmt*` of `stmt`. */
  of(stmt: RawStatement): number {
    const bag = stmt as unknown as Record<string, unknown>;
    if (this.#key !== undefined) return bag[this.#key] as number;
    const probeSql = "SELECT 'tenantlite-handle-probe'";
    const probe = this.#raw.prepare(probeSql) as unknown as Record<string, unknown>;
    try {
      for (const key of Object.keys(probe)) {
        const v = probe[key];
        if (typeof v === "number" && v > 4096 && Number.isInteger(v)) {
          if (this.#sql.UTF8ToString(this.#sql._sqlite3_sql(v)) === probeSql) {
            this.#key = key;
            return bag[key] as number;
          }
        }
      }
    } finally {
      (probe as unknown as RawStatement).free();
    }
    throw new TenantliteError(
      "INTERNAL_ERROR",
      "Unsupported sql.js build: statement handle not found",
    );
  }
}

/**
 * Binds positional arguments that are all strings, numbers or null (see `bindArguments`), as
 * `bindAll` would, without building a `BoundValue` for each: numbers as REAL (libSQL's way),
 * straight through SQLite's C API when they are all numbers.
 */
export function bindSimple(
  sql: SqlJsModule,
  handles: StatementHandles,
  stmt: RawStatement,
  args: readonly (string | number | null)[],
): void {
  // No reset first, as sql.js's bind does: every run ends with one (tenant-db.ts), which also
  // cleared the previous bindings.
  const handle = handles.of(stmt);
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    // Numbers as REAL, as libSQL binds them; null stays as the reset left it.
    const rc =
      typeof v === "number"
        ? sql._sqlite3_bind_double(handle, i + 1, v)
        : typeof v === "string"
          ? bindText(sql as SqlJsModule & SqlJsFunctionApi, handle, i + 1, v)
          : 0;
    if (rc !== 0) {
      // Out of range, too big…: sql.js's own bind says what, as a coded error upstream.
      stmt.bind(args as unknown[]);
      return;
    }
  }
}

/** Where strings are encoded for `bindText`, per sql.js instance: a buffer in its heap. */
const scratch = new WeakMap<SqlJsModule, { ptr: number; size: number }>();
const encoder = new TextEncoder();
const SQLITE_TRANSIENT = -1;

/**
 * Binds `text` to parameter `index` as UTF-8, encoded into a scratch buffer in the WASM heap that
 * SQLite copies from (SQLITE_TRANSIENT): sql.js's own bind builds a JavaScript array of the bytes
 * and allocates a buffer per string. Lone surrogates become U+FFFD, as Node's native SQLite
 * drivers encode them. Returns SQLite's result code.
 */
function bindText(
  sql: SqlJsModule & SqlJsFunctionApi,
  handle: number,
  index: number,
  text: string,
): number {
  const most = text.length * 3; // UTF-8 bytes of one UTF-16 unit: at most 3
  let buf = scratch.get(sql);
  if (buf === undefined || buf.size < most) {
    if (buf !== undefined) sql._free(buf.ptr);
    const size = Math.max(256, most);
    const ptr = sql._malloc(size);
    if (ptr === 0) return 7; // SQLITE_NOMEM
    buf = { ptr, size };
    scratch.set(sql, buf);
  }
  const u8 = heapOf(sql).u8(); // after the allocation above, which may grow the heap
  const { ptr } = buf;
  let n = 0;
  for (; n < text.length; n++) {
    const c = text.charCodeAt(n);
    if (c >= 0x80) break;
    u8[ptr + n] = c;
  }
  if (n < text.length) {
    n += encoder.encodeInto(text.slice(n), u8.subarray(ptr + n, ptr + most)).written;
  }
  return sql._sqlite3_bind_text(handle, index, ptr, n, SQLITE_TRANSIENT);
}

/** Binds checked arguments, numbers as REAL as libSQL does. */
export function bindAll(
  sql: SqlJsModule,
  handles: StatementHandles,
  stmt: RawStatement,
  values: readonly BoundValue[],
): void {
  if (values.length === 0) {
    stmt.bind([]);
    return;
  }
  const plain: unknown[] = new Array(values.length);
  let reals: number[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined) plain[i] = null;
    else {
      plain[i] = v.value;
      if (v.kind === "real" && Number.isInteger(v.value) && (v.value | 0) === v.value) {
        reals ??= [];
        reals.push(i);
      }
    }
  }
  stmt.bind(plain);
  if (reals !== undefined) {
    // libSQL binds every JS number as REAL; sql.js would bind int32 values as INTEGER.
    const handle = handles.of(stmt);
    for (const i of reals) {
      sql._sqlite3_bind_double(handle, i + 1, (values[i] as { value: number }).value);
    }
  }
}

/** Reads the current row of `stmt`, integers exactly (with `exact`, or beyond 2^53). */
const SQLITE_INTEGER = 1;
const SQLITE_FLOAT = 2;
const SQLITE_TEXT = 3;
const SQLITE_BLOB = 4;
const decoder = new TextDecoder();

/**
 * The current row of statement `handle`, read straight through SQLite's C API (sql.js's `get`
 * costs more per column), with values as libSQL's client gives them: an INTEGER as `intMode`
 * says (exactly, through its text, beyond 2^53), a REAL as a number, TEXT up to a NUL,
 * a BLOB as an ArrayBuffer of its own, NULL as null.
 */
export function readRow(
  sql: SqlJsModule,
  heap: WasmHeap,
  handle: number,
  rows: RowFactory,
  intMode: IntMode,
): Row {
  const n = sql._sqlite3_data_count(handle);
  const values: Value[] = new Array(n);
  for (let i = 0; i < n; i++) {
    switch (sql._sqlite3_column_type(handle, i)) {
      case SQLITE_INTEGER: {
        const d = sql._sqlite3_column_double(handle, i);
        if (Number.isSafeInteger(d)) {
          values[i] = intMode === "number" ? d : intMode === "bigint" ? BigInt(d) : String(d);
        } else {
          values[i] = integerOf(BigInt(text(sql, heap, handle, i)), intMode);
        }
        break;
      }
      case SQLITE_FLOAT:
        values[i] = sql._sqlite3_column_double(handle, i);
        break;
      case SQLITE_TEXT:
        values[i] = text(sql, heap, handle, i);
        break;
      case SQLITE_BLOB: {
        const ptr = sql._sqlite3_column_blob(handle, i);
        const size = sql._sqlite3_column_bytes(handle, i);
        values[i] = size === 0 ? new ArrayBuffer(0) : heap.u8().slice(ptr, ptr + size).buffer;
        break;
      }
      default:
        values[i] = null;
    }
  }
  return rows.make(values);
}

/**
 * Column `i` of the current row as text, up to its first NUL as libSQL's client reads it (short
 * ASCII decoded here, the rest by TextDecoder).
 */
function text(sql: SqlJsModule, heap: WasmHeap, handle: number, i: number): string {
  const ptr = sql._sqlite3_column_text(handle, i);
  let end = ptr + sql._sqlite3_column_bytes(handle, i);
  const u8 = heap.u8(); // after the calls above, which may allocate (and grow the heap)
  if (end - ptr <= 32) {
    let s = "";
    for (let j = ptr; j < end; j++) {
      const b = u8[j]!;
      if (b === 0) return s;
      if (b >= 0x80) return decoder.decode(u8.subarray(ptr, nulAt(u8, j, end)));
      s += String.fromCharCode(b);
    }
    return s;
  }
  end = nulAt(u8, ptr, end);
  return decoder.decode(u8.subarray(ptr, end));
}

/** The first NUL in `u8` from `from` before `end`, or `end`. */
function nulAt(u8: Uint8Array, from: number, end: number): number {
  const at = u8.indexOf(0, from);
  return at < 0 || at > end ? end : at;
}

/** `last_insert_rowid()`, read through `st` (a prepared `SELECT last_insert_rowid()`). */
export function lastInsertRowid(
  sql: SqlJsModule,
  handles: StatementHandles,
  st: RawStatement,
): bigint {
  // Straight through SQLite's C API (sql.js's step/get/reset cost ~0.3 µs more): the value as a
  // double is exact when it is a safe integer, else it is read as text.
  const handle = handles.of(st);
  if (sql._sqlite3_step(handle) === SQLITE_ROW) {
    const d = sql._sqlite3_column_double(handle, 0);
    const v = Number.isSafeInteger(d)
      ? BigInt(d)
      : BigInt(sql.UTF8ToString(sql._sqlite3_column_text(handle, 0)));
    sql._sqlite3_reset(handle);
    return v;
  }
  sql._sqlite3_reset(handle);
  st.step(); // reports what went wrong
  const v = st.get(null, { useBigInt: true })[0];
  st.reset();
  return typeof v === "bigint" ? v : BigInt(v as number);
}
