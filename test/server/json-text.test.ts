/**
 * The server's yielding JSON decoder (src/server/json-text.ts) against `JSON.parse`: on random
 * texts, valid and broken, with the thresholds lowered so that every container is walked member
 * by member, it accepts exactly what `JSON.parse` accepts and makes the same values of it.
 */
import { describe, expect, it } from "vitest";
import { decodeJsonText } from "../../src/server/json-text.js";
import { rng as prng } from "../parser/corpus/generate.js";

const STRINGS = [
  "",
  "a",
  'quote \\" inside',
  "back\\\\slash",
  "\\\\",
  '\\\\\\"',
  "tab\\t nl\\n",
  "\\u00e9\\u2028\\ud83d\\ude00",
  "ünïcødé ✓",
  "__proto__",
  "constructor",
  "[not, a {container}]",
  "slash \\/ done",
];
const NUMBERS = ["0", "-0", "1", "-1", "12.5", "1e3", "-2.5E-7", "123456789012345678901234567890"];

function value(r: () => number, depth: number): string {
  const ws = () => ["", " ", "\n", "\t ", "\r\n  "][Math.floor(r() * 5)]!;
  const k = r();
  if (depth > 5 || k < 0.35) {
    const s = r();
    if (s < 0.4) return `"${STRINGS[Math.floor(r() * STRINGS.length)]}"`;
    if (s < 0.75) return NUMBERS[Math.floor(r() * NUMBERS.length)]!;
    return ["true", "false", "null"][Math.floor(r() * 3)]!;
  }
  const n = Math.floor(r() * 6);
  if (k < 0.7) {
    const items = Array.from({ length: n }, () => ws() + value(r, depth + 1) + ws());
    return `[${items.join(",")}${n === 0 ? ws() : ""}]`;
  }
  const members = Array.from(
    { length: n },
    () =>
      `${ws()}"${STRINGS[Math.floor(r() * STRINGS.length)]}"${ws()}:${ws()}${value(r, depth + 1)}${ws()}`,
  );
  return `{${members.join(",")}}`;
}

/** Breaks a text in one of the ways a client might. */
function broken(text: string, r: () => number): string {
  const at = Math.floor(r() * (text.length + 1));
  const edits = [
    () => text.slice(0, at),
    () => text.slice(0, at) + text.slice(at + 1),
    () => `${text.slice(0, at)},${text.slice(at)}`,
    () => `${text.slice(0, at)}"${text.slice(at)}`,
    () => `${text.slice(0, at)}]${text.slice(at)}`,
    () => `${text.slice(0, at)}}${text.slice(at)}`,
    () => `${text.slice(0, at)}\\${text.slice(at)}`,
    () => `${text} x`,
    () => `${text.slice(0, at)}\u0001${text.slice(at)}`,
  ];
  return edits[Math.floor(r() * edits.length)]!();
}

/**
 * Where two decoded values differ (prototypes, own keys in order, property attributes, values by
 * `Object.is`), or undefined. (`toStrictEqual` calls two objects of different types when each has
 * its own `constructor` key holding a different array: not a difference between decoders.)
 */
function difference(a: unknown, b: unknown, path = "$"): string | undefined {
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototype`;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.join("\u0000") !== kb.join("\u0000")) return `${path}: keys`;
  for (const k of ka) {
    const da = Object.getOwnPropertyDescriptor(a, k)!;
    const db = Object.getOwnPropertyDescriptor(b, k)!;
    const at = `${path}.${String(k)}`;
    if (da.writable !== db.writable || da.enumerable !== db.enumerable) return `${at}: attributes`;
    if (da.configurable !== db.configurable) return `${at}: attributes`;
    const d = difference(da.value, db.value, at);
    if (d !== undefined) return d;
  }
  return undefined;
}

async function outcome(f: () => unknown): Promise<{ ok: true; value: unknown } | { ok: false }> {
  try {
    return { ok: true, value: await f() };
  } catch {
    return { ok: false };
  }
}

const tiny = { wholeText: 0, wholeContainer: 8 };

describe("decodeJsonText", () => {
  it("decodes 3,000 random texts as JSON.parse does, member by member", async () => {
    const r = prng(20261207);
    for (let i = 0; i < 3000; i++) {
      const text = value(r, 0);
      const expected = JSON.parse(text);
      const got = await decodeJsonText(text, tiny);
      expect(difference(got, expected), text).toBeUndefined();
    }
  });

  it("refuses what JSON.parse refuses, and accepts what it accepts, on 3,000 broken texts", async () => {
    const r = prng(7);
    for (let i = 0; i < 3000; i++) {
      const text = broken(value(r, 0), r);
      const want = await outcome(() => JSON.parse(text));
      const got = await outcome(() => decodeJsonText(text, tiny));
      expect(got.ok, text).toBe(want.ok);
      if (got.ok && want.ok) expect(difference(got.value, want.value), text).toBeUndefined();
    }
  });

  it("keeps -0, a __proto__ key as a property, and the last of duplicate keys", async () => {
    const text = '{"a": [-0, 1], "__proto__": {"x": 1}, "d": 1, "d": 2}';
    const got = (await decodeJsonText(text, tiny)) as Record<string, unknown>;
    expect(Object.is((got.a as number[])[0], -0)).toBe(true);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.keys(got)).toEqual(["a", "__proto__", "d"]);
    expect(got.d).toBe(2);
  });

  it("hands deep nesting to JSON.parse whole (no frame per level)", async () => {
    const deep = `${"[".repeat(2000)}1${"]".repeat(2000)}`;
    const got = await outcome(() => decodeJsonText(deep, tiny));
    expect(got.ok).toBe(true);
    expect(got.ok && JSON.stringify(got.value)).toBe(deep);
    const open = "[".repeat(200_000);
    expect((await outcome(() => decodeJsonText(open, tiny))).ok).toBe(false);
  });

  it("lets other work run while it decodes a long text", async () => {
    const steps = Array.from({ length: 60_000 }, (_, i) => ({
      stmt: { sql: "INSERT INTO t VALUES (?)", args: [{ type: "integer", value: String(i) }] },
    }));
    const text = JSON.stringify({ requests: [{ type: "batch", batch: { steps } }] });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const got = await decodeJsonText(text);
    clearInterval(timer);
    expect(difference(got, JSON.parse(text))).toBeUndefined();
    expect(ticks).toBeGreaterThan(0);
  });
});
