/**
 * The console's JSON export (web/src/export.ts) of a result with a blob bigger than a function's
 * arguments may be: `String.fromCharCode(...bytes)` threw RangeError past ~120 KB.
 */
import { expect, it } from "vitest";
import { toJson } from "../web/src/export.js";

it("exports a 300 KB blob as base64 that decodes to the same bytes", () => {
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
  const json = toJson({
    columns: ["id", "b"],
    columnTypes: ["INTEGER", "BLOB"],
    rows: [[1n, bytes.buffer]],
    rowsAffected: 0,
  });
  const [row] = JSON.parse(json) as { id: number; b: { base64: string } }[];
  expect(row!.id).toBe(1);
  expect(Buffer.compare(Buffer.from(row!.b.base64, "base64"), Buffer.from(bytes))).toBe(0);
});
