/**
 * libSQL's vector SQL functions on every sql.js connection: `vector()`/`vector32()`,
 * `vector64()`, `vector_extract()`, `vector_distance_cos()`, `vector_distance_l2()`, the index
 * marker `libsql_vector_idx()`, and two helpers that `vector_top_k` rewrites call
 * (table-functions.ts). Values are libSQL's, byte for byte (vector-format.ts, vector-distance.ts).
 * And `regexp()`, which `x REGEXP p` calls, and sqld's functions from sqlean (sqlean.ts):
 * registered the same way, beside them.
 *
 * sql.js's own `create_function` registers functions that SQLite may not use in an index
 * expression (it passes no SQLITE_DETERMINISTIC flag), reads integers as doubles, and adds a
 * function-table entry per connection. So the functions are registered through SQLite's C API:
 * one WASM function per SQL function and sql.js instance, created once, and on each connection
 * one `sqlite3_create_function_v2` call per function (innocuous, and deterministic but for the
 * generators of random values, as libSQL's built-ins are). Arguments and results go through the
 * WASM heap, which sql.js does not export: {@link WasmHeap} finds it once, and checks what it
 * found.
 */
import { TenantliteError } from "../errors.js";
import { SQLEAN } from "./sqlean.js";
import type { SqlJsFunctionApi, SqlJsModule } from "./sqljs-types.js";
import { cosF32, distanceCos, distanceL2, l2F32, l2OfFloat1bit } from "./vector-distance.js";
import {
  blobShape,
  type ComputedType,
  convert,
  copyBytes,
  decodeBlob,
  dimsOf,
  encodeBlob,
  formatText,
  parseText,
  TYPE_WORDS,
  textDims,
  type Vector,
  VectorError,
  VectorType,
  type VectorTypeId,
} from "./vector-format.js";
import { heapOf, type WasmHeap } from "./wasm-heap.js";

/** The helper `vector_top_k` rewrites call to read the query vector once (table-functions.ts). */
export const TOP_K_QUERY_FUNCTION = "tenantlite_vector_top_k_query";
/** The helper `vector_top_k` rewrites call for `k`, after checking the query (table-functions.ts). */
export const TOP_K_LIMIT_FUNCTION = "tenantlite_vector_top_k_limit";

const SQLITE_UTF8 = 1;
const SQLITE_DETERMINISTIC = 0x800;
const SQLITE_INNOCUOUS = 0x200000;
const FLAGS = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
/** `SQLITE_TRANSIENT`: SQLite copies the result before the call returns. */
const TRANSIENT = -1;

const SQLITE_INTEGER = 1;
const SQLITE_FLOAT = 2;
const SQLITE_TEXT = 3;
const SQLITE_BLOB = 4;
const TYPE_NAMES = ["", "INTEGER", "FLOAT", "TEXT", "BLOB", "NULL"];

type Api = SqlJsModule & SqlJsFunctionApi;

/** A vector argument as libSQL's type detection sees it, before it is parsed. */
interface Detected {
  readonly value: number;
  readonly type: VectorTypeId;
  readonly dims: number;
  /** The text, for TEXT values; undefined for blobs. */
  readonly text: string | undefined;
  /** For blobs: where the bytes are in the heap (the pointer stays valid if the heap grows). */
  readonly ptr: number;
}

const decoder = new TextDecoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const encoder = new TextEncoder();

/** The functions of one sql.js instance: their WASM entries and the buffers they reuse. */
export class VectorRuntime {
  readonly heap: WasmHeap;
  /** Registered functions: name (in the heap), argument count, WASM function. */
  readonly functions: { name: number; nArg: number; ptr: number; flags: number }[] = [];
  #out = 0;
  #outSize = 0;
  readonly #outOfMemory: number;
  /** Reused float32 buffers for the two arguments of a distance. */
  readonly #scratch: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)];

  constructor(readonly sql: Api) {
    this.heap = heapOf(sql);
    this.#outOfMemory = sql.stringToNewUTF8("vector: out of memory");
    for (const spec of [...SPECS, ...SQLEAN]) this.#add(spec);
  }

  #add(spec: FunctionSpec): void {
    const run = spec.run;
    const ptr = this.sql.addFunction((cx: number, argc: number, argv: number) => {
      try {
        run(this, cx, argc, argv);
      } catch (e) {
        this.error(cx, e instanceof VectorError ? e.message : `${spec.name}: internal error`);
      }
    }, "viii");
    this.functions.push({
      name: this.sql.stringToNewUTF8(spec.name),
      nArg: spec.nArg,
      ptr,
      flags: spec.deterministic === false ? FLAGS & ~SQLITE_DETERMINISTIC : FLAGS,
    });
  }

  /** The `i`-th argument (`sqlite3_value*`). */
  arg(argv: number, i: number): number {
    return this.heap.word(argv, i);
  }

  /** Detects a vector argument's type and size as libSQL does (text: `hint`'s type). */
  detect(value: number, hint: ComputedType): Detected {
    const sql = this.sql;
    const t = sql._sqlite3_value_type(value);
    if (t === SQLITE_BLOB) {
      const ptr = sql._sqlite3_value_blob(value);
      const n = sql._sqlite3_value_bytes(value);
      const shape = blobShape(this.heap.u8().subarray(ptr, ptr + n));
      return { value, type: shape.type, dims: shape.dims, text: undefined, ptr };
    }
    if (t === SQLITE_TEXT) {
      const text = this.text(value);
      return { value, type: hint, dims: textDims(text), text, ptr: 0 };
    }
    throw new VectorError(
      `vector: unexpected value type: got ${TYPE_NAMES[t] ?? "UNKNOWN"}, expected TEXT or BLOB`,
    );
  }

  /** Parses a detected argument. */
  parse(d: Detected): Vector {
    if (d.text !== undefined) return parseText(d.text, d.type as ComputedType);
    return decodeBlob(this.blob(d.value), d);
  }

  /**
   * A float32 blob argument (the hot path of distances): a view of the heap when aligned, else
   * a copy in a reused buffer. Valid until the next call into WASM.
   */
  f32(d: Detected, slot: 0 | 1): Float32Array {
    const heap = this.heap.u8();
    if (LITTLE_ENDIAN && (d.ptr & 3) === 0) return new Float32Array(heap.buffer, d.ptr, d.dims);
    let buf = this.#scratch[slot];
    if (buf.length < d.dims) {
      buf = new Float32Array(Math.max(d.dims, buf.length * 2));
      this.#scratch[slot] = buf;
    }
    const data = buf.subarray(0, d.dims);
    copyBytes(heap.subarray(d.ptr, d.ptr + d.dims * 4), data);
    return data;
  }

  /** A BLOB argument's bytes: a view of the heap, valid until the next allocation. */
  blob(value: number): Uint8Array {
    const ptr = this.sql._sqlite3_value_blob(value);
    const n = this.sql._sqlite3_value_bytes(value);
    return this.heap.u8().subarray(ptr, ptr + n);
  }

  /** A TEXT argument as a string. */
  text(value: number): string {
    const ptr = this.sql._sqlite3_value_text(value);
    const n = this.sql._sqlite3_value_bytes(value);
    return decoder.decode(this.heap.u8().subarray(ptr, ptr + n));
  }

  resultBlob(cx: number, bytes: Uint8Array): void {
    const ptr = this.#reserve(bytes.length);
    if (ptr === 0) {
      this.#nomem(cx);
      return;
    }
    this.heap.u8().set(bytes, ptr);
    this.sql._sqlite3_result_blob(cx, ptr, bytes.length, TRANSIENT);
  }

  resultText(cx: number, text: string): void {
    const bytes = encoder.encode(text);
    const ptr = this.#reserve(bytes.length);
    if (ptr === 0) {
      this.#nomem(cx);
      return;
    }
    this.heap.u8().set(bytes, ptr);
    this.sql._sqlite3_result_text(cx, ptr, bytes.length, TRANSIENT);
  }

  error(cx: number, message: string): void {
    try {
      const bytes = encoder.encode(message);
      const ptr = this.#reserve(bytes.length);
      if (ptr === 0) {
        this.#nomem(cx);
        return;
      }
      this.heap.u8().set(bytes, ptr);
      this.sql._sqlite3_result_error(cx, ptr, bytes.length);
    } catch {
      this.#nomem(cx);
    }
  }

  #nomem(cx: number): void {
    this.sql._sqlite3_result_error(cx, this.#outOfMemory, -1);
  }

  /** A heap buffer of at least `n` bytes for a result (SQLite copies it: it is reused). */
  #reserve(n: number): number {
    if (n <= this.#outSize && this.#out !== 0) return this.#out;
    if (this.#out !== 0) this.sql._free(this.#out);
    const size = Math.max(n, this.#outSize * 2, 256);
    this.#out = this.sql._malloc(size);
    this.#outSize = this.#out === 0 ? 0 : size;
    return this.#out;
  }
}

export interface FunctionSpec {
  readonly name: string;
  /** Argument count; -1 for any. */
  readonly nArg: number;
  /** False for a function whose answer varies between calls (SQLite never folds them). */
  readonly deterministic?: false;
  run(rt: VectorRuntime, cx: number, argc: number, argv: number): void;
}

/** `vector32`, `vector64`, `vector16`…: parse (text as float32, float64 for vector64), convert. */
function makeVector(rt: VectorRuntime, cx: number, argv: number, target: VectorTypeId): void {
  const hint = target === VectorType.F64 ? VectorType.F64 : VectorType.F32;
  const v = rt.parse(rt.detect(rt.arg(argv, 0), hint));
  rt.resultBlob(cx, encodeBlob(convert(v, target)));
}

function distance(rt: VectorRuntime, cx: number, argv: number, metric: "cos" | "l2"): void {
  const a = rt.detect(rt.arg(argv, 0), VectorType.F32);
  const b = rt.detect(rt.arg(argv, 1), VectorType.F32);
  if (a.type !== b.type) {
    throw new VectorError(
      `vector_distance: vectors must have the same type: ${a.type} != ${b.type}`,
    );
  }
  if (a.dims !== b.dims) {
    throw new VectorError(
      `vector_distance: vectors must have the same length: ${a.dims} != ${b.dims}`,
    );
  }
  if (metric === "l2" && a.type === VectorType.F1BIT) {
    throw l2OfFloat1bit();
  }
  if (a.type === VectorType.F32 && a.text === undefined && b.text === undefined) {
    const x = rt.f32(a, 0);
    const y = rt.f32(b, 1);
    rt.sql._sqlite3_result_double(cx, metric === "cos" ? cosF32(x, y) : l2F32(x, y));
    return;
  }
  const x = rt.parse(a);
  const y = rt.parse(b);
  rt.sql._sqlite3_result_double(cx, metric === "cos" ? distanceCos(x, y) : distanceL2(x, y));
}

/** libSQL's error for vector_top_k's k (`what`: "an", "a non-negative"; `got`: what was given). */
function badK(what: string, got: string): VectorError {
  return new VectorError(
    `vector index(search): third parameter (k) must be ${what} integer, but ${got} value were provided`,
  );
}

/** `k` of `vector_top_k`, checked as libSQL checks it (a 32-bit integer, or a whole float). */
function topK(rt: VectorRuntime, value: number): number {
  const t = rt.sql._sqlite3_value_type(value);
  let k: number;
  if (t === SQLITE_INTEGER) {
    k = rt.sql._sqlite3_value_int(value);
  } else if (t === SQLITE_FLOAT) {
    const d = rt.sql._sqlite3_value_double(value);
    const truncated = Math.trunc(d);
    // C's (int) of a double out of range gives INT_MIN on x86-64.
    k = truncated >= -2147483648 && truncated <= 2147483647 ? truncated : -2147483648;
    if (k !== d) {
      throw badK("an", "float");
    }
  } else {
    throw badK("an", "unexpected type of");
  }
  if (k < 0) {
    throw badK("a non-negative", "negative");
  }
  return k;
}

/** Compiled REGEXP patterns by text (a statement calls `regexp` once per row). */
const patterns = new Map<string, RegExp>();

/** A REGEXP pattern, compiled as JavaScript reads it; `.` matches any character, `\n` too. */
function pattern(text: string): RegExp {
  let re = patterns.get(text);
  if (re === undefined) {
    try {
      re = new RegExp(text, "su");
    } catch (e) {
      // Its message quotes the pattern: only the reason is given back.
      throw new VectorError(`invalid regexp pattern: ${String(e).split(": ").pop()}`);
    }
    if (patterns.size > 99) patterns.clear();
    patterns.set(text, re);
  }
  return re;
}

const SPECS: readonly FunctionSpec[] = [
  {
    // `x REGEXP p` calls regexp(p, x): libSQL's builds have one (SQLite's ext/misc/regexp.c in
    // the embedded client, PCRE2 in sqld), sql.js's has none.
    name: "regexp",
    nArg: 2,
    run: (rt, cx, _n, argv) => {
      const p = rt.arg(argv, 0);
      const x = rt.arg(argv, 1);
      if (rt.sql._sqlite3_value_type(p) === 5 || rt.sql._sqlite3_value_type(x) === 5) {
        rt.sql._sqlite3_result_null(cx);
      } else rt.sql._sqlite3_result_int(cx, +pattern(rt.text(p)).test(rt.text(x)));
    },
  },
  // The constructors: vector() and vector32() make float32 vectors.
  ...[["", VectorType.F32] as const, ...TYPE_WORDS].map(
    ([word, type]): FunctionSpec => ({
      name: `vector${word}`,
      nArg: 1,
      run: (rt, cx, _n, argv) => makeVector(rt, cx, argv, type),
    }),
  ),
  {
    name: "vector_extract",
    nArg: 1,
    run: (rt, cx, _n, argv) =>
      rt.resultText(cx, formatText(rt.parse(rt.detect(rt.arg(argv, 0), VectorType.F32)))),
  },
  ...(["cos", "l2"] as const).map(
    (metric): FunctionSpec => ({
      name: `vector_distance_${metric}`,
      nArg: 2,
      run: (rt, cx, _n, argv) => distance(rt, cx, argv, metric),
    }),
  ),
  {
    // The index marker. libSQL's returns its argument and keeps the vectors in an index of its
    // own; ours checks the value as libSQL's index insert does (NULL, or a readable vector) and
    // returns NULL, so the SQLite index it marks stays small (vector_top_k scans the table).
    name: "libsql_vector_idx",
    nArg: -1,
    run: (rt, cx, argc, argv) => {
      if (argc > 0) {
        const value = rt.arg(argv, 0);
        if (rt.sql._sqlite3_value_type(value) !== 5 /* NULL */) {
          const d = rt.detect(value, VectorType.F32);
          if (d.text !== undefined) rt.parse(d);
        }
      }
      rt.sql._sqlite3_result_null(cx);
    },
  },
  {
    // vector_top_k's query vector, read once per statement (SQLite factors constant calls out).
    name: TOP_K_QUERY_FUNCTION,
    nArg: 1,
    run: (rt, cx, _n, argv) => {
      const v = rt.parse(rt.detect(rt.arg(argv, 0), VectorType.F32));
      rt.resultBlob(cx, encodeBlob(v));
    },
  },
  {
    // vector_top_k's LIMIT: (query, k, index type, index dimensions), checked in libSQL's order;
    // (query, k, 0, message) when the index named cannot be used.
    name: TOP_K_LIMIT_FUNCTION,
    nArg: 4,
    run: (rt, cx, _n, argv) => {
      const query = rt.parse(rt.detect(rt.arg(argv, 0), VectorType.F32));
      const k = topK(rt, rt.arg(argv, 1));
      const type = rt.sql._sqlite3_value_int(rt.arg(argv, 2));
      // Type 0: no usable index; the fourth argument is libSQL's message for that.
      if (type === 0) throw new VectorError(rt.text(rt.arg(argv, 3)));
      const dims = rt.sql._sqlite3_value_int(rt.arg(argv, 3));
      if (dimsOf(query) !== dims) {
        throw new VectorError(
          `vector index(search): dimensions are different: ${dimsOf(query)} != ${dims}`,
        );
      }
      if (query.type !== type) {
        throw new VectorError(
          `vector index(search): vector type differs from column type: ${query.type} != ${type}`,
        );
      }
      rt.sql._sqlite3_result_int(cx, k);
    },
  },
];

const runtimes = new WeakMap<SqlJsModule, VectorRuntime>();

/**
 * Registers the vector functions on one connection (`db`: its `sqlite3*`). The first call for a
 * sql.js instance creates the WASM functions; later calls only register them (a few C calls).
 */
export function registerVectorFunctions(sql: SqlJsModule, db: number): void {
  let rt = runtimes.get(sql);
  if (rt === undefined) {
    rt = new VectorRuntime(sql as Api);
    runtimes.set(sql, rt);
  }
  const api = sql as Api;
  for (const f of rt.functions) {
    const rc = api._sqlite3_create_function_v2(db, f.name, f.nArg, f.flags, 0, f.ptr, 0, 0, 0);
    if (rc !== 0) {
      throw new TenantliteError(
        "INTERNAL_ERROR",
        `The vector functions could not be registered on a connection (SQLite code ${rc})`,
      );
    }
  }
}
