/**
 * libSQL's vector values, byte for byte: the blob layouts, the text form `'[1,2,3]'`, the text
 * `vector_extract` prints and the distances, as libSQL (the `libsql-sqlite3/src/vector*.c` files
 * of tursodatabase/libsql) defines them. Pure functions over bytes and strings; the SQL functions
 * that use them live in vector.ts.
 *
 * Blobs: a float32 vector is its floats, little-endian, with no type byte (any even-length blob
 * reads as float32); a float64 vector is its doubles followed by the type byte 2. Other types
 * (float16, bfloat16, float8, float1bit) end with their type byte too: they are recognized, and
 * refused with a clear error, as this engine computes with float32 and float64 only.
 *
 * Arithmetic follows libSQL's C code: float32 distances accumulate in single precision (each
 * step rounded with `Math.fround`, which gives the same result as the C `float` operation), and
 * every distance is returned rounded to a float, also for float64 vectors.
 */

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

const TYPE_NAMES: Record<number, string> = {
  1: "float32",
  2: "float64",
  3: "float1bit",
  4: "float8",
  5: "float16",
  6: "floatb16",
};

/** A float32 or float64 vector. */
export type Vector =
  | { readonly type: typeof VectorType.F32; readonly data: Float32Array }
  | { readonly type: typeof VectorType.F64; readonly data: Float64Array };

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
          throw new VectorError(
            `vector: float32 vector blob length must be divisible by 4 (excluding optional 'type'-byte): length=${m}`,
          );
        }
        [type, dims, dataSize] = [VectorType.F32, m / 4, m];
        break;
      case VectorType.F64:
        if (m % 8 !== 0) {
          throw new VectorError(
            `vector: float64 vector blob length must be divisible by 8 (excluding 'type'-byte): length=${m}`,
          );
        }
        [type, dims, dataSize] = [VectorType.F64, m / 8, m];
        break;
      case VectorType.F1BIT:
        if (m === 0 || m % 2 !== 0) {
          throw new VectorError(
            `vector: float1bit vector blob length must be divisible by 2 and not be empty (excluding 'type'-byte): length=${m}`,
          );
        }
        type = VectorType.F1BIT;
        dims = m * 8 - blob[m - 1]!;
        dataSize = Math.ceil(dims / 8);
        break;
      case VectorType.F8:
        if (m < 2 || m % 2 !== 0) {
          throw new VectorError(
            `vector: float8 vector blob length must be divisible by 2 and has at least 2 bytes (excluding 'type'-byte): length=${m}`,
          );
        }
        type = VectorType.F8;
        dims = m - 2 - 8 - blob[m - 1]!;
        dataSize = m - 2;
        break;
      case VectorType.F16:
      case VectorType.FB16:
        if (m % 2 !== 0) {
          throw new VectorError(
            `vector: ${TYPE_NAMES[byte]} vector blob length must be divisible by 2 (excluding 'type'-byte): length=${m}`,
          );
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

/** The refusal for types this engine recognizes but does not compute with. */
export function unsupportedType(type: number): VectorError {
  return new VectorError(
    `vector: ${TYPE_NAMES[type] ?? `type ${type}`} vectors are not supported by tenantlite (only float32 and float64 are)`,
  );
}

/** The name of a vector type (`float32`…), for messages. */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/** Reads a float32 or float64 vector blob into a new vector; other types are refused. */
export function decodeBlob(blob: Uint8Array, shape: BlobShape = blobShape(blob)): Vector {
  if (shape.type === VectorType.F32) {
    const data = new Float32Array(shape.dims);
    copyBytes(blob, data);
    return { type: VectorType.F32, data };
  }
  if (shape.type === VectorType.F64) {
    const data = new Float64Array(shape.dims);
    copyBytes(blob, data);
    return { type: VectorType.F64, data };
  }
  throw unsupportedType(shape.type);
}

/** Copies the leading bytes of `blob` into `into` (little-endian floats). */
export function copyBytes(blob: Uint8Array, into: Float32Array | Float64Array): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  bytes.set(blob.subarray(0, bytes.length));
  if (!LITTLE_ENDIAN) swapBytes(bytes, into.BYTES_PER_ELEMENT);
}

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

/** The blob libSQL writes for a vector: the data, then the type byte unless float32. */
export function encodeBlob(v: Vector): Uint8Array {
  const size = v.data.byteLength;
  const out = new Uint8Array(v.type === VectorType.F32 ? size : size + 1);
  out.set(new Uint8Array(v.data.buffer, v.data.byteOffset, size));
  if (!LITTLE_ENDIAN) swapBytes(out.subarray(0, size), v.data.BYTES_PER_ELEMENT);
  if (v.type === VectorType.F64) out[size] = VectorType.F64;
  return out;
}

/** `v` as a vector of `type` (doubles round to the nearest float, as a C cast does). */
export function convert(v: Vector, type: ComputedType): Vector {
  if (v.type === type) return v;
  if (type === VectorType.F32) return { type, data: Float32Array.from(v.data) };
  return { type, data: Float64Array.from(v.data) };
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

/** `vector_extract`'s text: `[e1,e2,…]`, each element as {@link formatG} writes it. */
export function formatText(v: Vector): string {
  let out = "[";
  const d = v.data;
  for (let i = 0; i < d.length; i++) {
    if (i > 0) out += ",";
    out += formatG(d[i]!);
  }
  return `${out}]`;
}

const f = Math.fround;

/**
 * Cosine distance `1 - a·b / √(|a|²|b|²)` as libSQL computes it (float32 sums for float32
 * vectors), rounded to a float. NaN (a zero vector) becomes NULL in SQL.
 */
export function distanceCos(a: Vector, b: Vector): number {
  if (a.type === VectorType.F32) return cosF32(a.data, b.data as Float32Array);
  return cosF64(a.data, b.data as Float64Array);
}

/** Euclidean distance as libSQL computes it, rounded to a float. */
export function distanceL2(a: Vector, b: Vector): number {
  if (a.type === VectorType.F32) return l2F32(a.data, b.data as Float32Array);
  return l2F64(a.data, b.data as Float64Array);
}

/** Cosine distance of two float32 arrays of the same length (libSQL's float32 arithmetic). */
export function cosF32(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot = f(dot + f(x * y));
    n1 = f(n1 + f(x * x));
    n2 = f(n2 + f(y * y));
  }
  // C: float product, double sqrt and division, float result.
  return f(1 - dot / Math.sqrt(f(n1 * n2)));
}

/** Euclidean distance of two float32 arrays of the same length. */
export function l2F32(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = f(a[i]! - b[i]!);
    sum = f(sum + f(d * d));
  }
  return f(Math.sqrt(sum));
}

function cosF64(a: Float64Array, b: Float64Array): number {
  let dot = 0;
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    n1 += x * x;
    n2 += y * y;
  }
  return f(1 - dot / Math.sqrt(n1 * n2));
}

function l2F64(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sum += d * d;
  }
  return f(Math.sqrt(sum));
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
