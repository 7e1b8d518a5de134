/**
 * libSQL's vector values, byte for byte: the blob layouts, the text form `'[1,2,3]'`, the text
 * `vector_extract` prints, as libSQL (the `libsql-sqlite3/src/vector*.c` files
 * of tursodatabase/libsql) defines them. Pure functions over bytes and strings; the SQL functions
 * that use them live in vector.ts, the distances in vector-distance.ts.
 *
 * Blobs: a float32 vector is its floats, little-endian, with no type byte (any even-length blob
 * reads as float32); a float64 vector is its doubles followed by the type byte 2; float16,
 * bfloat16, float8 and float1bit vectors end with their type byte too (see {@link encodeBlob}).
 *
 * Arithmetic follows libSQL's C code: float32 distances accumulate in single precision (each
 * step rounded with `Math.fround`, which gives the same result as the C `float` operation), and
 * every distance is returned rounded to a float, also for float64 vectors.
 */
import { bf16FromFloat, bf16ToFloat, f16FromFloat, f16ToFloat } from "./vector-float16.js";

/** Vector types, numbered as libSQL numbers them (the trailing type byte of a blob). */
export const VectorType = {
  F32: 1,
  F64: 2,
  F1BIT: 3,
  F8: 4,
  F16: 5,
  FB16: 6,
} as const;
export type VectorTypeId = (typeof VectorType)[keyof typeof VectorType];

/** The types this engine computes with. */
export type ComputedType = typeof VectorType.F32 | typeof VectorType.F64;

/** Most dimensions of one vector (libSQL's `MAX_VECTOR_SZ`). */
export const MAX_VECTOR_DIMS = 65536;
/** Longest text of one number in `'[…]'` (libSQL's `MAX_FLOAT_CHAR_SZ`). */
const MAX_FLOAT_CHARS = 1024;

/**
 * Each type's word in libSQL's names, in libSQL's order: `float<w>` in messages, the `vector<w>()`
 * constructors, and the `FLOAT<W>` and `F<W>_BLOB` column types.
 */
export const TYPE_WORDS = [
  ["32", VectorType.F32],
  ["64", VectorType.F64],
  ["1bit", VectorType.F1BIT],
  ["8", VectorType.F8],
  ["16", VectorType.F16],
  ["b16", VectorType.FB16],
] as const;

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  TYPE_WORDS.map(([word, type]) => [type, `float${word}`]),
);

/**
 * A vector of one of libSQL's types. float16 and bfloat16 keep their 16-bit patterns; float8
 * keeps its bytes with the `alpha` and `shift` that map a byte `b` to `alpha·b + shift`; float1bit
 * keeps its packed bits (bit `i % 8` of byte `i / 8`: set for positive).
 */
export type Vector =
  | { readonly type: typeof VectorType.F32; readonly data: Float32Array }
  | { readonly type: typeof VectorType.F64; readonly data: Float64Array }
  | { readonly type: typeof VectorType.F16 | typeof VectorType.FB16; readonly data: Uint16Array }
  | {
      readonly type: typeof VectorType.F8;
      readonly data: Uint8Array;
      readonly alpha: number;
      readonly shift: number;
    }
  | { readonly type: typeof VectorType.F1BIT; readonly dims: number; readonly data: Uint8Array };

/** A vector's dimensions. */
export function dimsOf(v: Vector): number {
  return v.type === VectorType.F1BIT ? v.dims : v.data.length;
}

/** A bad vector value or argument; the SQL functions report its message as SQLite errors. */
export class VectorError extends Error {
  override readonly name = "VectorError";
}

/** What a blob's length and trailing byte say about the vector it holds. */
export interface BlobShape {
  readonly type: VectorTypeId;
  readonly dims: number;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const f = Math.fround;

/** libSQL's error for a blob whose length fits no vector of its type byte. */
function badLength(type: string, rule: string, m: number, optional = ""): VectorError {
  return new VectorError(
    `vector: ${type} vector blob length must be divisible by ${rule} (excluding ${optional}'type'-byte): length=${m}`,
  );
}

/**
 * The type and dimensions of a vector blob, from its length and trailing type byte (libSQL's
 * rules: an even length is float32; otherwise the last byte names the type). Throws for blobs no
 * vector has, including those whose data part has the wrong size for their dimensions (libSQL
 * reads uninitialized memory for some of those in `vector_extract` and the distances).
 */
export function blobShape(blob: Uint8Array): BlobShape {
  const n = blob.length;
  let type: VectorTypeId;
  let dims: number;
  let dataSize: number;
  if (n % 2 === 0) {
    type = VectorType.F32;
    dims = Math.floor(n / 4);
    dataSize = n;
  } else {
    const byte = blob[n - 1]!;
    const m = n - 1;
    switch (byte) {
      case VectorType.F32:
        if (m % 4 !== 0) {
          throw badLength("float32", "4", m, "optional ");
        }
        [type, dims, dataSize] = [VectorType.F32, m / 4, m];
        break;
      case VectorType.F64:
        if (m % 8 !== 0) {
          throw badLength("float64", "8", m);
        }
        [type, dims, dataSize] = [VectorType.F64, m / 8, m];
        break;
      case VectorType.F1BIT:
        if (m === 0 || m % 2 !== 0) {
          throw badLength("float1bit", "2 and not be empty", m);
        }
        type = VectorType.F1BIT;
        dims = m * 8 - blob[m - 1]!;
        dataSize = Math.ceil(dims / 8);
        break;
      case VectorType.F8:
        if (m < 2 || m % 2 !== 0) {
          throw badLength("float8", "2 and has at least 2 bytes", m);
        }
        type = VectorType.F8;
        dims = m - 2 - 8 - blob[m - 1]!;
        dataSize = m - 2;
        break;
      case VectorType.F16:
      case VectorType.FB16:
        if (m % 2 !== 0) {
          throw badLength(TYPE_NAMES[byte]!, "2", m);
        }
        [type, dims, dataSize] = [byte, m / 2, m];
        break;
      default:
        throw new VectorError(`vector: unexpected binary type: ${byte}`);
    }
  }
  if (dims > MAX_VECTOR_DIMS) {
    throw new VectorError(`vector: max size exceeded: ${dims} > ${MAX_VECTOR_DIMS}`);
  }
  const expected = dims < 0 ? -1 : dataSizeOf(type, dims);
  if (dataSize !== expected) {
    throw new VectorError(
      `vector: unexpected data part size: type=${type}, dims=${dims}, ${dataSize} != ${Math.max(expected, 0)}`,
    );
  }
  return { type, dims };
}

/** Bytes of a vector's data part (libSQL's `vectorDataSize`). */
export function dataSizeOf(type: VectorTypeId, dims: number): number {
  switch (type) {
    case VectorType.F32:
      return dims * 4;
    case VectorType.F64:
      return dims * 8;
    case VectorType.F1BIT:
      return Math.ceil(dims / 8);
    case VectorType.F8:
      return Math.ceil(dims / 4) * 4 + 8;
    default:
      return dims * 2;
  }
}

/** Reads a vector blob into a new vector (its bytes are copied). */
export function decodeBlob(blob: Uint8Array, shape: BlobShape = blobShape(blob)): Vector {
  const { type, dims } = shape;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  switch (type) {
    case VectorType.F32: {
      const data = new Float32Array(dims);
      copyBytes(blob, data);
      return { type, data };
    }
    case VectorType.F64: {
      const data = new Float64Array(dims);
      copyBytes(blob, data);
      return { type, data };
    }
    case VectorType.F16:
    case VectorType.FB16: {
      const data = new Uint16Array(dims);
      for (let i = 0; i < dims; i++) data[i] = view.getUint16(i * 2, true);
      return { type, data };
    }
    case VectorType.F8: {
      const at = align4(dims);
      const alpha = view.getFloat32(at, true);
      const shift = view.getFloat32(at + 4, true);
      return { type, data: blob.slice(0, dims), alpha, shift };
    }
    default:
      return { type: VectorType.F1BIT, dims, data: blob.slice(0, Math.ceil(dims / 8)) };
  }
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Copies the leading bytes of `blob` into `into` (little-endian floats). */
export function copyBytes(blob: Uint8Array, into: Float32Array | Float64Array): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  bytes.set(blob.subarray(0, bytes.length));
  if (!LITTLE_ENDIAN) swapBytes(bytes, into.BYTES_PER_ELEMENT);
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/**
 * The blob libSQL writes for a vector: the data, then (but for float32) what libSQL appends —
 * float64, float16, bfloat16: the type byte; float8: zeros up to a multiple of 4, alpha, shift,
 * a zero byte, the number of padding bytes, the type byte (libSQL leaves the padding as it finds
 * it in memory; here it is zero); float1bit: a zero byte when the data has an even length, the
 * number of unused bits, the type byte.
 */
export function encodeBlob(v: Vector): Uint8Array {
  switch (v.type) {
    case VectorType.F32:
    case VectorType.F64: {
      const size = v.data.byteLength;
      const out = new Uint8Array(v.type === VectorType.F32 ? size : size + 1);
      out.set(new Uint8Array(v.data.buffer, v.data.byteOffset, size));
      if (!LITTLE_ENDIAN) swapBytes(out.subarray(0, size), v.data.BYTES_PER_ELEMENT);
      if (v.type === VectorType.F64) out[size] = VectorType.F64;
      return out;
    }
    case VectorType.F16:
    case VectorType.FB16: {
      const out = new Uint8Array(v.data.length * 2 + 1);
      const view = new DataView(out.buffer);
      for (let i = 0; i < v.data.length; i++) view.setUint16(i * 2, v.data[i]!, true);
      out[out.length - 1] = v.type;
      return out;
    }
    case VectorType.F8: {
      const dims = v.data.length;
      const at = align4(dims);
      const out = new Uint8Array(at + 8 + 3);
      const view = new DataView(out.buffer);
      out.set(v.data);
      view.setFloat32(at, v.alpha, true);
      view.setFloat32(at + 4, v.shift, true);
      out[out.length - 2] = at - dims;
      out[out.length - 1] = VectorType.F8;
      return out;
    }
    default: {
      const size = v.data.length;
      const out = new Uint8Array(size + (size % 2 === 0 ? 1 : 0) + 2);
      out.set(v.data);
      out[out.length - 2] = 8 * (out.length - 1) - v.dims;
      out[out.length - 1] = VectorType.F1BIT;
      return out;
    }
  }
}

/**
 * Element `i` of `v` as libSQL hands it on when converting: a float (float32 arithmetic for
 * float8's `alpha·b + shift`, ±1 for float1bit), or the double itself for float64.
 */
export function elementAt(v: Vector, i: number): number {
  switch (v.type) {
    case VectorType.F32:
    case VectorType.F64:
      return v.data[i]!;
    case VectorType.F16:
      return f16ToFloat(v.data[i]!);
    case VectorType.FB16:
      return bf16ToFloat(v.data[i]!);
    case VectorType.F8:
      return f(f(v.alpha * v.data[i]!) + v.shift);
    default:
      return (v.data[i >> 3]! >> (i & 7)) & 1 ? 1 : -1;
  }
}

/** `v` as a vector of `type`, converted element by element as libSQL's `vectorConvert` does. */
export function convert(v: Vector, type: VectorTypeId): Vector {
  if (v.type === type) return v;
  const n = dimsOf(v);
  switch (type) {
    case VectorType.F32:
      return { type, data: Float32Array.from({ length: n }, (_, i) => elementAt(v, i)) };
    case VectorType.F64:
      return { type, data: Float64Array.from({ length: n }, (_, i) => elementAt(v, i)) };
    case VectorType.F16:
      return {
        type,
        data: Uint16Array.from({ length: n }, (_, i) => f16FromFloat(elementAt(v, i))),
      };
    case VectorType.FB16:
      return {
        type,
        data: Uint16Array.from({ length: n }, (_, i) => bf16FromFloat(elementAt(v, i))),
      };
    case VectorType.F8:
      return toF8(v, n);
    default: {
      const data = new Uint8Array(Math.ceil(n / 8));
      for (let i = 0; i < n; i++) if (elementAt(v, i) > 0) data[i >> 3]! |= 1 << (i & 7);
      return { type: VectorType.F1BIT, dims: n, data };
    }
  }
}

/**
 * Quantizes to float8 as libSQL does: `shift` the smallest element, `alpha` the range over 255
 * (both floats), each byte `(x - shift) / alpha` rounded half up and clipped to 0..255 (float32
 * arithmetic, double for a float64 source, whose quotient is then rounded to a float).
 */
function toF8(v: Vector, n: number): Vector {
  let min = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const x = elementAt(v, i);
    if (i === 0) {
      min = f(x);
      max = f(x);
    } else {
      // C's MIN/MAX macros, which treat NaN and signed zeros unlike Math.min/max.
      // biome-ignore lint/complexity/useMathMinMax: the C comparison, on purpose
      min = f(min < x ? min : x);
      // biome-ignore lint/complexity/useMathMinMax: the C comparison, on purpose
      max = f(max > x ? max : x);
    }
  }
  const shift = min;
  const alpha = f(f(max - min) / 255);
  const wide = v.type === VectorType.F64;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = elementAt(v, i);
    const q = wide ? f((x - shift) / alpha) : f(f(x - shift) / alpha);
    // C's (int) of NaN (all elements equal: 0/0) is INT_MIN on x86-64, whose low byte is 0.
    data[i] = q < 0 ? 0 : q > 255 ? 255 : Number.isNaN(q) ? 0 : Math.trunc(q + 0.5);
  }
  return { type: VectorType.F8, data, alpha, shift };
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** A number as libSQL's text parser accepts it (SQLite's `sqlite3AtoF` on the whole text). */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses libSQL's text form (`'[1, 2.5, -3e-2]'`) into a vector of `type`. Spaces are skipped
 * anywhere, as libSQL does (so `'[1 2]'` is `[12]`); each number must be a whole SQL number
 * (no `inf`, `nan` or hex). Messages name the position, never the text.
 *
 * Each number becomes the double nearest to it (`Number()`). libSQL's SQLite converts with
 * extended precision (80-bit `long double` on x86-64 in 3.45, double-double arithmetic from 3.47),
 * which lands 1 ulp away for about 1 number in 5,000 (measured against libSQL 3.45): a float64
 * vector may differ in its last bit there; a float32 vector, rounded further, does not.
 */
export function parseText(text: string, type: ComputedType): Vector {
  const n = text.length;
  let i = 0;
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== 91 /* [ */) throw new VectorError("vector: must start with '['");
  i++;
  const values: number[] = [];
  let token = "";
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) break;
    if (isSpace(c)) continue;
    if (c !== 44 /* , */ && c !== 93 /* ] */) {
      if (token.length > MAX_FLOAT_CHARS) {
        throw new VectorError(
          `vector: float string length exceeded ${MAX_FLOAT_CHARS} characters at position ${values.length}`,
        );
      }
      token += text[i];
      continue;
    }
    if (c === 93 && values.length === 0 && token === "") break;
    if (!NUMBER.test(token)) {
      throw new VectorError(`vector: invalid float at position ${values.length}`);
    }
    if (values.length >= MAX_VECTOR_DIMS) {
      throw new VectorError(`vector: max size exceeded ${MAX_VECTOR_DIMS}`);
    }
    values.push(Number(token));
    token = "";
    if (c === 93) break;
  }
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  if (i >= n || text.charCodeAt(i) !== 93) throw new VectorError("vector: must end with ']'");
  i++;
  while (i < n && isSpace(text.charCodeAt(i))) i++;
  if (i < n && text.charCodeAt(i) !== 0) {
    throw new VectorError("vector: non-space symbols after closing ']' are forbidden");
  }
  return type === VectorType.F32
    ? { type, data: Float32Array.from(values) }
    : { type, data: Float64Array.from(values) };
}

/**
 * One number as SQLite's `printf("%g")` writes it (6 significant digits, trailing zeros dropped,
 * exponent with at least two digits; `Inf`, `-Inf`, `NaN`; negative zero prints as `0`), which is
 * what libSQL's `vector_extract` prints for each element.
 */
export function formatG(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "Inf";
  if (x === Number.NEGATIVE_INFINITY) return "-Inf";
  if (x === 0) return "0";
  const sign = x < 0 ? "-" : "";
  const [mantissa, e] = Math.abs(x).toExponential(5).split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const exp = Number(e);
  if (exp < -4 || exp > 5) {
    const frac = digits.slice(1).replace(/0+$/, "");
    const abs = exp < 0 ? -exp : exp;
    return `${sign}${digits[0]}${frac === "" ? "" : `.${frac}`}e${exp < 0 ? "-" : "+"}${abs < 10 ? "0" : ""}${abs}`;
  }
  let int: string;
  let frac: string;
  if (exp >= 0) {
    int = digits.slice(0, exp + 1);
    frac = digits.slice(exp + 1);
  } else {
    int = "0";
    frac = "0".repeat(-exp - 1) + digits;
  }
  frac = frac.replace(/0+$/, "");
  return `${sign}${int}${frac === "" ? "" : `.${frac}`}`;
}

/**
 * `vector_extract`'s text: `[e1,e2,…]`, each element as {@link formatG} writes it (float16,
 * bfloat16, float8 and float1bit vectors are converted to float32 first, as libSQL does).
 */
export function formatText(v: Vector): string {
  const w = v.type === VectorType.F32 || v.type === VectorType.F64 ? v : convert(v, VectorType.F32);
  let out = "[";
  const d = w.data;
  for (let i = 0; i < d.length; i++) {
    if (i > 0) out += ",";
    out += formatG(d[i]!);
  }
  return `${out}]`;
}

/**
 * The dimensions libSQL assumes for a text vector before parsing it (its commas, plus one when
 * it holds a digit): what the distance functions compare before they parse their arguments.
 */
export function textDims(text: string): number {
  let commas = 0;
  let digit = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 44) commas++;
    else if (c >= 48 && c <= 57) digit = true;
  }
  return commas + (digit ? 1 : 0);
}
