/**
 * Values in and out, exactly like `@libsql/client`: what a caller may bind, how integers come
 * back under each `intMode`, and the `Row`/`ResultSet` shapes.
 */
import { TenantliteError } from "../errors.js";

/** A value that may be bound to a statement parameter. */
export type InValue = null | string | number | bigint | boolean | Uint8Array | ArrayBuffer | Date;
/** Positional (`?`, `?NNN`) or named (`:a`, `@a`, `$a`) arguments. */
export type InArgs = InValue[] | Record<string, InValue>;
/** A statement: SQL text, or SQL with arguments. */
export type InStatement = string | { sql: string; args?: InArgs };
/** A value read from a row. Integers follow `intMode`; blobs are `ArrayBuffer`s. */
export type Value = null | string | number | bigint | ArrayBuffer;
/** How SQLite integers are returned: `number` (default; unsafe integers throw a RangeError), `bigint` or `string`. */
export type IntMode = "number" | "bigint" | "string";

/** A result row: values by column index and by column name (the first column of a name wins). */
export interface Row {
  readonly length: number;
  [index: number]: Value;
  [name: string]: Value;
}

/** The result of one statement, shaped like `@libsql/client`'s `ResultSet`. */
export interface ResultSet {
  /** Column names. */
  columns: string[];
  /** Declared column types (`""` when a column has none, e.g. an expression). */
  columnTypes: string[];
  rows: Row[];
  /** Rows changed by an INSERT, UPDATE or DELETE; 0 for every other statement. */
  rowsAffected: number;
  /** The rowid of the last inserted row, after an INSERT only. */
  lastInsertRowid: bigint | undefined;
  /** A JSON-friendly copy: integers as strings, blobs as base64. */
  toJSON(): unknown;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** How one argument is bound. */
export type BoundValue =
  /** bound by sql.js as is (text, blob, null, int32) */
  | { readonly kind: "plain"; readonly value: string | number | Uint8Array | null }
  /** a JS number bound as REAL, as libSQL does, even when it is integral */
  | { readonly kind: "real"; readonly value: number }
  /** a 64-bit integer outside int32, bound exactly through `CAST(<text> AS INTEGER)` */
  | { readonly kind: "int64"; readonly value: string };

/** Converts one caller value to its binding, raising the errors `@libsql/client` raises. */
export function toBound(v: unknown, intMode: IntMode = "number"): BoundValue {
  switch (typeof v) {
    case "string":
      return { kind: "plain", value: v };
    case "number":
      return { kind: "real", value: finite(v) };
    case "bigint":
      if (v < INT64_MIN || v > INT64_MAX) {
        throw new RangeError(
          "bigint is too large to be represented as a 64-bit integer and passed as argument",
        );
      }
      if (v >= INT32_MIN && v <= INT32_MAX) return { kind: "plain", value: Number(v) };
      return { kind: "int64", value: v.toString() };
    case "boolean":
      // @libsql/client turns a boolean into 1/0 in the client's intMode: a REAL for "number",
      // an INTEGER for "bigint", TEXT for "string".
      if (intMode === "bigint") return { kind: "plain", value: v ? 1 : 0 };
      if (intMode === "string") return { kind: "plain", value: v ? "1" : "0" };
      return { kind: "real", value: v ? 1 : 0 };
    case "object":
      if (v === null) return { kind: "plain", value: null };
      if (v instanceof Uint8Array) return { kind: "plain", value: v };
      if (v instanceof ArrayBuffer) return { kind: "plain", value: new Uint8Array(v) };
      if (v instanceof Date) return { kind: "real", value: finite(v.valueOf()) };
      break;
  }
  throw new TenantliteError(
    "ARGS_INVALID",
    `Unsupported argument type ${describeType(v)}: use null, string, number, bigint, boolean, Uint8Array, ArrayBuffer or Date`,
  );
}

/**
 * A number SQLite can store: NaN and ±Infinity would be bound as NULL (an invalid Date too). Refused
 * with @libsql/client's RangeError, as both its clients do.
 */
function finite(n: number): number {
  if (Number.isFinite(n)) return n;
  throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
}

function describeType(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "object" && v !== null) return v.constructor?.name ?? "object";
  return typeof v;
}

/**
 * An INTEGER read exactly (beyond 2^53, through its text) in the caller's `intMode`; a RangeError
 * in "number" mode when it is not a safe integer, as libSQL's client throws.
 */
export function integerOf(v: bigint, intMode: IntMode): Value {
  if (intMode === "bigint") return v;
  if (intMode === "string") return v.toString();
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(
      "Received integer which cannot be safely represented as a JavaScript number",
    );
  }
  return Number(v);
}

/** Row factories by column list (see `RowFactory.for`). */
const factories = new Map<string, RowFactory>();
const MAX_FACTORIES = 256;

/**
 * Builds rows that behave like libSQL's: own enumerable properties per column name (first of a
 * name wins), index access and `length` that are not enumerable (so `Object.keys`, spreading and
 * `JSON.stringify` see names only).
 */
export class RowFactory {
  /**
   * The factory of a column list, shared by every statement and result with those columns:
   * building one (a prototype V8 then optimizes as one) costs more than a point select's whole
   * result, and statements are compiled anew on every new connection and after schema changes.
   */
  static for(columns: readonly string[]): RowFactory {
    const key = columns.join("\u0000");
    let f = factories.get(key);
    if (f === undefined) {
      if (factories.size >= MAX_FACTORIES) factories.clear();
      f = new RowFactory(columns);
      factories.set(key, f);
    }
    return f;
  }

  readonly #proto: object | undefined;
  readonly #columns: readonly string[];
  private constructor(columns: readonly string[]) {
    this.#columns = columns;
    // Names that look like array indexes ("1") collide with index access: those rows are built
    // the slow way, exactly as libSQL does (index first, the name only when not taken).
    const unique =
      new Set(columns).size === columns.length && !columns.some((c) => /^(0|[1-9]\d*)$/.test(c));
    if (unique) {
      const descriptors: PropertyDescriptorMap = {
        length: { value: columns.length, enumerable: false },
      };
      columns.forEach((name, i) => {
        descriptors[i] = {
          enumerable: false,
          get(this: Record<string, Value>) {
            return this[name];
          },
        };
      });
      this.#proto = Object.create(Object.prototype, descriptors);
    }
  }

  make(values: readonly Value[]): Row {
    const columns = this.#columns;
    if (this.#proto !== undefined) {
      const row = Object.create(this.#proto) as Record<string, Value>;
      for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i]!;
      return row as unknown as Row;
    }
    // libSQL's own order: `length`, then per column its index and, unless taken, its name.
    const row: Record<string, Value> = {};
    Object.defineProperty(row, "length", { value: columns.length });
    for (let i = 0; i < columns.length; i++) {
      Object.defineProperty(row, i, { value: values[i] });
      const name = columns[i]!;
      if (!Object.hasOwn(row, name)) {
        Object.defineProperty(row, name, {
          value: values[i],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return row as unknown as Row;
  }
}

/**
 * The `ResultSet` implementation. `columnTypes` may be given as a function, called the first time
 * they are read (declared types cost a probe of the schema; most callers never read them): they
 * are then an own enumerable accessor, which spreading, cloning and JSON see like a value.
 */
export class ResultSetImpl implements ResultSet {
  declare columns: string[];
  declare columnTypes: string[];
  declare rows: Row[];
  declare rowsAffected: number;
  declare lastInsertRowid: bigint | undefined;

  constructor(
    columns: string[],
    columnTypes: string[] | (() => string[]),
    rows: Row[],
    rowsAffected: number,
    lastInsertRowid: bigint | undefined,
  ) {
    this.columns = columns;
    if (typeof columnTypes !== "function") this.columnTypes = columnTypes;
    else {
      let types: string[] | undefined;
      Object.defineProperty(this, "columnTypes", {
        enumerable: true,
        configurable: true,
        get: () => {
          types ??= columnTypes();
          return types;
        },
        set: (v: string[]) => {
          types = v;
        },
      });
    }
    this.rows = rows;
    this.rowsAffected = rowsAffected;
    this.lastInsertRowid = lastInsertRowid;
  }

  toJSON(): unknown {
    return {
      columns: this.columns,
      columnTypes: this.columnTypes,
      rows: this.rows.map((row) =>
        Array.from({ length: row.length }, (_, i) => valueToJson(row[i]!)),
      ),
      rowsAffected: this.rowsAffected,
      lastInsertRowid: this.lastInsertRowid === undefined ? null : this.lastInsertRowid.toString(),
    };
  }
}

function valueToJson(v: Value): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof ArrayBuffer) return bytesToBase64(new Uint8Array(v));
  return v;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Standard, padded base64, in plain code (no platform base64 helper is common to Node and browsers). */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`;
  }
  return out;
}

const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  t["-".charCodeAt(0)] = 62;
  t["_".charCodeAt(0)] = 63;
  return t;
})();

/** Decodes standard or URL-safe base64, padded or not; `undefined` for malformed input. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  let s = text;
  while (s.endsWith("=")) s = s.slice(0, -1);
  if (s.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64_INDEX[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}

/**
 * Roughly the bytes `v` takes in a Hrana JSON result: what a result's size limit counts
 * (`ConnectionOptions.maxResultBytes`, the server's response limit).
 */
export function valueSize(v: Value): number {
  return (
    32 +
    (typeof v === "string"
      ? v.length
      : v instanceof ArrayBuffer
        ? Math.ceil((v.byteLength * 4) / 3)
        : 0)
  );
}

/**
 * `RESPONSE_TOO_LARGE`, as sqld says it: a result past its size limit; `crowded`: past the bound
 * of results held at once (`ConnectionOptions.resultPool`), which a later try may find room in.
 */
export function resultTooLarge(crowded = false): TenantliteError {
  return new TenantliteError(
    "RESPONSE_TOO_LARGE",
    crowded
      ? "Response is too large: the results being read and sent at once are past the server's bound; retry, or read fewer rows at once"
      : "Response is too large",
  );
}

/** The result of a statement that returns nothing. */
export function emptyResult(): ResultSet {
  const json = () => ({ columns: [], columnTypes: [], rows: [], rowsAffected: 0 });
  return {
    ...json(),
    lastInsertRowid: undefined,
    toJSON: () => ({ ...json(), lastInsertRowid: null }),
  };
}
