/**
 * libSQL's vector distances (cosine and L2, for every vector type), as its C code computes them:
 * float32 distances accumulate in single precision (each step rounded with `Math.fround`), and
 * every distance is returned rounded to a float, also for float64 vectors.
 */
import { dimsOf, elementAt, type Vector, VectorError, VectorType } from "./vector-format.js";

const f = Math.fround;

/**
 * Cosine distance `1 - a·b / √(|a|²|b|²)` as libSQL computes it (float32 sums for float32
 * vectors), rounded to a float. NaN (a zero vector) becomes NULL in SQL.
 */
export function distanceCos(a: Vector, b: Vector): number {
  switch (a.type) {
    case VectorType.F32:
      return cosF32(a.data, b.data as Float32Array);
    case VectorType.F64:
      return cosF64(a.data, b.data as Float64Array);
    case VectorType.F8:
      return cosF8(a, b as typeof a);
    case VectorType.F1BIT:
      // libSQL's cosine distance of float1bit vectors is their Hamming distance.
      return hamming(a.data, (b as typeof a).data);
    default:
      return cosF32(floats(a), floats(b));
  }
}

/** libSQL's error for an l2 distance of float1bit vectors. */
export function l2OfFloat1bit(): VectorError {
  return new VectorError("vector_distance: l2 distance is not supported for float1bit vectors");
}

/** Euclidean distance as libSQL computes it, rounded to a float (not for float1bit). */
export function distanceL2(a: Vector, b: Vector): number {
  switch (a.type) {
    case VectorType.F32:
      return l2F32(a.data, b.data as Float32Array);
    case VectorType.F64:
      return l2F64(a.data, b.data as Float64Array);
    case VectorType.F8:
      return l2F8(a, b as typeof a);
    case VectorType.F1BIT:
      throw l2OfFloat1bit();
    default:
      return l2F32(floats(a), floats(b));
  }
}

/** A float16 or bfloat16 vector's elements as floats (what libSQL's distances compute with). */
function floats(v: Vector): Float32Array {
  return Float32Array.from({ length: dimsOf(v) }, (_, i) => elementAt(v, i));
}

type F8Vector = Extract<Vector, { type: typeof VectorType.F8 }>;

/** libSQL's float8 cosine distance: integer sums of the bytes, then float32 algebra. */
function cosF8(a: F8Vector, b: F8Vector): number {
  let sum1 = 0;
  let sum2 = 0;
  let sumsq1 = 0;
  let sumsq2 = 0;
  let doti = 0;
  const n = a.data.length;
  for (let i = 0; i < n; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    sum1 += x;
    sum2 += y;
    sumsq1 += x * x;
    sumsq2 += y * y;
    doti += x * y;
  }
  const [a1, s1, a2, s2] = [a.alpha, a.shift, b.alpha, b.shift];
  // Left to right, each step a float operation, as the C expressions are.
  const dot = f(
    f(f(f(f(a1 * a2) * f(doti)) + f(f(a1 * s2) * f(sum1))) + f(f(a2 * s1) * f(sum2))) +
      f(f(s1 * s2) * n),
  );
  const norm1 = f(
    f(f(f(a1 * a1) * f(sumsq1)) + f(f(f(2 * a1) * s1) * f(sum1))) + f(f(s1 * s1) * n),
  );
  const norm2 = f(
    f(f(f(a2 * a2) * f(sumsq2)) + f(f(f(2 * a2) * s2) * f(sum2))) + f(f(s2 * s2) * n),
  );
  return f(1 - dot / Math.sqrt(f(norm1 * norm2)));
}

function l2F8(a: F8Vector, b: F8Vector): number {
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = f(f(f(a.alpha * a.data[i]!) + a.shift) - f(f(b.alpha * b.data[i]!) + b.shift));
    sum = f(sum + f(d * d));
  }
  return f(Math.sqrt(sum));
}

/** Bits that differ between two packed bit vectors. */
function hamming(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    let x = a[i]! ^ b[i]!;
    while (x !== 0) {
      x &= x - 1;
      n++;
    }
  }
  return n;
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
