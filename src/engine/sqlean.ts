/**
 * SQL functions sqld has from sqlean (libsql-server's `sqlean-extensions`) that sql.js's build
 * lacks, as sqlean answers them; registered beside the vector functions (vector.ts).
 *
 * - uuid: `uuid4()` (and `gen_random_uuid()`), `uuid7()`, `uuid_str(x)`, `uuid_blob(x)`,
 *   `uuid7_timestamp_ms(x)`. A UUID argument is a 16-byte blob or text of 32 hex digits, with
 *   optional `-` before any byte and optional braces around; anything else gives NULL.
 */
import type { FunctionSpec, VectorRuntime } from "./vector.js";

const SQLITE_TEXT = 3;
const SQLITE_BLOB = 4;

/** Sixteen random bytes with the version and variant (RFC 9562) of `version`. */
function randomUuid(version: number): Uint8Array {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | (version << 4);
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

/** The canonical text of a UUID: lower-case hex, dashes after bytes 4, 6, 8 and 10. */
function uuidText(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 16; i++) {
    if ((0x550 >> i) & 1) s += "-"; // before bytes 4, 6, 8 and 10
    s += b[i]!.toString(16).padStart(2, "0");
  }
  return s;
}

/** A UUID argument's 16 bytes; undefined when it is no UUID (see the module comment). */
function uuidArg(rt: VectorRuntime, argv: number): Uint8Array | undefined {
  const v = rt.arg(argv, 0);
  const type = rt.sql._sqlite3_value_type(v);
  if (type === SQLITE_BLOB) {
    const b = rt.blob(v);
    return b.length === 16 ? b.slice() : undefined;
  }
  if (type !== SQLITE_TEXT) return undefined;
  const m = /^\{?((?:-?[0-9a-f]{2}){16})\}?$/i.exec(rt.text(v));
  if (m === null) return undefined;
  const hex = m[1]!.replace(/-/g, "");
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return b;
}

export const SQLEAN: readonly FunctionSpec[] = [
  ...["uuid4", "gen_random_uuid"].map(
    (name): FunctionSpec => ({
      name,
      nArg: 0,
      deterministic: false,
      run: (rt, cx) => rt.resultText(cx, uuidText(randomUuid(4))),
    }),
  ),
  {
    name: "uuid7",
    nArg: 0,
    deterministic: false,
    run: (rt, cx) => {
      const b = randomUuid(7);
      // The first 48 bits: Unix time in milliseconds, big-endian.
      const ms = Date.now();
      const view = new DataView(b.buffer);
      view.setUint16(0, ms / 2 ** 32);
      view.setUint32(2, ms);
      rt.resultText(cx, uuidText(b));
    },
  },
  ...[true, false].map(
    (text): FunctionSpec => ({
      name: text ? "uuid_str" : "uuid_blob",
      nArg: 1,
      run: (rt, cx, _n, argv) => {
        const b = uuidArg(rt, argv);
        if (b === undefined) rt.sql._sqlite3_result_null(cx);
        else if (text) rt.resultText(cx, uuidText(b));
        else rt.resultBlob(cx, b);
      },
    }),
  ),
  {
    name: "uuid7_timestamp_ms",
    nArg: 1,
    run: (rt, cx, _n, argv) => {
      const b = uuidArg(rt, argv);
      if (b === undefined || b[6]! >> 4 !== 7) {
        rt.sql._sqlite3_result_null(cx);
        return;
      }
      const view = new DataView(b.buffer);
      rt.sql._sqlite3_result_int64(cx, BigInt(view.getUint16(0) * 2 ** 32 + view.getUint32(2)));
    },
  },
];
