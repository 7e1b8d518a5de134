/** Results as CSV and JSON files, and a download of either. */
import type { Value } from "tenantlite/browser";
import { h } from "./dom.js";
import type { Rows } from "./place.js";

function hex(v: ArrayBuffer): string {
  return Array.from(new Uint8Array(v), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** One value as CSV text: NULL is empty, a blob is `x'…'` hex, text is quoted when it must be. */
function csvField(v: Value): string {
  if (v === null) return "";
  const s = v instanceof ArrayBuffer ? `x'${hex(v)}'` : String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** RFC 4180 CSV: a header row, then every row; CRLF line ends. */
export function toCsv(rs: Rows): string {
  const lines = [rs.columns.map((c) => csvField(c)).join(",")];
  for (const r of Array.from(rs.rows)) {
    lines.push(rs.columns.map((_, i) => csvField(r[i] ?? null)).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/**
 * A JSON array with an object per row (column → value). Integers beyond ±2^53 stay exact as
 * strings; blobs are `{"base64": …}`.
 */
export function toJson(rs: Rows): string {
  const out = Array.from(rs.rows, (r) => {
    const o: Record<string, unknown> = {};
    rs.columns.forEach((c, i) => {
      const v = r[i] ?? null;
      o[c] =
        typeof v === "bigint"
          ? Number.isSafeInteger(Number(v))
            ? Number(v)
            : String(v)
          : v instanceof ArrayBuffer
            ? { base64: base64Of(new Uint8Array(v)) }
            : v;
    });
    return o;
  });
  return `${JSON.stringify(out, null, 2)}\n`;
}

/**
 * Standard base64 of `bytes`, a chunk at a time: `String.fromCharCode(...bytes)` overflowed the
 * stack for a blob over ~120 KB.
 */
export function base64Of(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Offers `data` as a file download named `name`. */
export function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
