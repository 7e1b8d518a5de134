/**
 * Hrana's JSON value encoding (reference §1.4): integers as decimal strings, floats as JSON
 * numbers, blobs as base64 (accepted padded or not, sent without padding), text, null.
 */
import { base64ToBytes, bytesToBase64, type InValue, type Value } from "../../engine/values.js";
import { ProtoError } from "./proto-error.js";

/** A Hrana value as it travels in JSON. */
export type HranaValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

const INT64 = /^-?\d{1,19}$/;
const MIN = -(2n ** 63n);
const MAX = 2n ** 63n - 1n;

/** Decodes one argument value; a malformed one is a protocol error. */
export function decodeValue(v: unknown): InValue {
  if (v === null || typeof v !== "object") throw new ProtoError("a value must be an object");
  const o = v as Record<string, unknown>;
  switch (o.type) {
    case "null":
      return null;
    case "integer": {
      const raw = o.value;
      const text = typeof raw === "number" && Number.isSafeInteger(raw) ? String(raw) : raw;
      if (typeof text !== "string" || !INT64.test(text)) {
        throw new ProtoError("an integer value must be a decimal string");
      }
      const n = BigInt(text);
      if (n < MIN || n > MAX) throw new ProtoError("an integer value must fit in 64 bits");
      return n;
    }
    case "float": {
      if (typeof o.value !== "number") throw new ProtoError("a float value must be a number");
      return o.value;
    }
    case "text":
      if (typeof o.value !== "string") throw new ProtoError("a text value must be a string");
      return o.value;
    case "blob": {
      if (typeof o.base64 !== "string") throw new ProtoError("a blob value needs a base64 string");
      const bytes = base64ToBytes(o.base64);
      if (bytes === undefined) throw new ProtoError("a blob value has malformed base64");
      return bytes;
    }
    default:
      throw new ProtoError('a value type must be "null", "integer", "float", "text" or "blob"');
  }
}

/** Encodes one value read in intMode `"bigint"` (bigint = INTEGER, number = REAL). */
export function encodeValue(v: Value): HranaValue {
  if (v === null) return { type: "null" };
  switch (typeof v) {
    case "bigint":
      return { type: "integer", value: v.toString() };
    case "number":
      // JSON has no NaN or Infinity.
      return Number.isFinite(v) ? { type: "float", value: v } : { type: "null" };
    case "string":
      return { type: "text", value: v };
    default:
      return { type: "blob", base64: stripPadding(bytesToBase64(new Uint8Array(v))) };
  }
}

function stripPadding(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 61) end--;
  return s.slice(0, end);
}
