/**
 * The 16-bit floats of libSQL's float16 and bfloat16 vectors, converted bit for bit as libSQL
 * converts them (its own rounding for float16, plain truncation for bfloat16), so that vectors
 * made here hold the bytes libSQL would write.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bits of `x` rounded to a float32. */
function bitsOf(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

function fromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/**
 * A float32 value as an IEEE half (libSQL's `vectorF16FromFloat`): round to nearest, ties to even
 * on the bits kept; values below the smallest half subnormal become zero, above the largest half
 * infinity; NaN stays a quiet NaN.
 */
export function f16FromFloat(x: number): number {
  const bits = bitsOf(x);
  const sign = (bits >>> 16) & 0x8000;
  let exp = ((bits >>> 23) & 0xff) - 127;
  let mantissa = bits & 0x7fffff;
  if (exp === 128) {
    mantissa = mantissa !== 0 ? 1 << 22 : 0;
    exp = 16;
  } else if (exp > 15) {
    exp = 16;
    mantissa = 0;
  } else if (exp < -14 && exp >= -25) {
    // A half subnormal: the implicit bit joins the mantissa, shifted into place.
    mantissa = (mantissa | 0x800000) >>> (-exp - 14);
    exp = -15;
  } else if (exp < -24) {
    exp = -15;
    mantissa = 0;
  }
  if ((mantissa & 0x1fff) > 0x1000 - ((mantissa >>> 13) & 1)) mantissa += 0x2000;
  const kept = mantissa >>> 13;
  // A rounding carry out of the mantissa moves the exponent up by one.
  return (sign | ((exp + 15 + (kept >>> 10)) << 10) | (kept & 0x3ff)) & 0xffff;
}

/** An IEEE half as a float32 value (libSQL's `vectorF16ToFloat`; a NaN loses its payload). */
export function f16ToFloat(h: number): number {
  const sign = (h & 0x8000) << 16;
  let exp = ((h >>> 10) & 0x1f) - 15;
  let mantissa = h & 0x3ff;
  if (exp === 16) {
    exp = 128;
    mantissa = mantissa !== 0 ? 1 << 22 : 0;
  } else if (exp === -15 && mantissa === 0) {
    exp = -127;
  } else if (exp === -15) {
    // A subnormal half is a normal float32: shift until the leading bit is implicit.
    exp++;
    while ((mantissa & 0x400) === 0) {
      mantissa <<= 1;
      exp--;
    }
    mantissa = (mantissa & 0x3ff) << 13;
  } else {
    mantissa <<= 13;
  }
  return fromBits(sign | ((exp + 127) << 23) | mantissa);
}

/** A float32 value as a bfloat16: its top 16 bits (libSQL truncates, it does not round). */
export function bf16FromFloat(x: number): number {
  return bitsOf(x) >>> 16;
}

/** A bfloat16 as a float32 value. */
export function bf16ToFloat(h: number): number {
  return fromBits(h << 16);
}
