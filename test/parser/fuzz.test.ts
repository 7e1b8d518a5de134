import { describe, expect, it } from "vitest";
import { parse, splitStatements } from "../../parser/index.js";
import { KEYWORDS, rng } from "./corpus/generate.js";
import { handwritten } from "./corpus.js";

const PIECES = [
  ...KEYWORDS,
  "(",
  ")",
  ",",
  ";",
  ".",
  "*",
  "+",
  "-",
  "/",
  "%",
  "||",
  "->",
  "->>",
  "=",
  "==",
  "!=",
  "<>",
  "<",
  "<=",
  ">",
  ">=",
  "&",
  "|",
  "<<",
  ">>",
  "~",
  "?",
  "?1",
  ":a",
  "@b",
  "$c",
  "1",
  "2.5",
  "0x1f",
  "'s'",
  "x'00'",
  '"q"',
  "[b]",
  "`t`",
  "t1",
  "a",
  "b",
  "--c\n",
  "/*c*/",
  "'",
  '"',
  "[",
  "x'",
  "/*",
];

/** Parses and checks the contract: no throw, one statement or one error per split statement. */
function check(sql: string): number {
  const t0 = performance.now();
  const r = parse(sql);
  const ms = performance.now() - t0;
  expect(r.statements.length + r.errors.length).toBe(splitStatements(sql).length);
  for (const e of r.errors) {
    expect(e.message).toMatch(
      /syntax error|incomplete input|unrecognized token|parser stack overflow/,
    );
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeGreaterThanOrEqual(1);
  }
  return ms;
}

describe("fuzz", () => {
  it("random token sequences never throw and stay bounded", () => {
    const rand = rng(1234);
    let worst = 0;
    for (let i = 0; i < 4000; i++) {
      const n = 1 + Math.floor(rand() * 40);
      const parts: string[] = [];
      for (let j = 0; j < n; j++) parts.push(PIECES[Math.floor(rand() * PIECES.length)]!);
      worst = Math.max(worst, check(parts.join(rand() < 0.5 ? " " : "")));
    }
    expect(worst).toBeLessThan(250);
  });

  it("character mutations of corpus statements never throw and stay bounded", () => {
    const rand = rng(99);
    const seeds = handwritten();
    const chars = "();,.'\"[]`-*/ \nabcSELECT0123456789=<>|$?:@#!~";
    let worst = 0;
    for (let i = 0; i < 4000; i++) {
      let s = seeds[Math.floor(rand() * seeds.length)]!;
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (s.length + 1));
        const op = rand();
        if (op < 0.4) s = s.slice(0, at) + s.slice(at + 1);
        else if (op < 0.8)
          s = s.slice(0, at) + chars[Math.floor(rand() * chars.length)] + s.slice(at);
        else s = s.slice(0, at) + s.slice(at, at + 5) + s.slice(at);
      }
      worst = Math.max(worst, check(s));
    }
    expect(worst).toBeLessThan(250);
  });

  it("deep and long inputs give errors, not crashes", () => {
    for (const sql of [
      `SELECT ${"(".repeat(100_000)}`,
      `SELECT ${"(".repeat(1000)}1${")".repeat(1000)}`,
      `SELECT ${"NOT ".repeat(50_000)}1`,
      `SELECT ${"CASE WHEN 1 THEN ".repeat(3000)}1`,
      `SELECT 1${" + 1".repeat(100_000)}`,
      "CREATE TRIGGER t AFTER INSERT ON x BEGIN",
      "\u0000\uffff\ud800",
    ]) {
      expect(() => check(sql)).not.toThrow();
    }
    expect(parse("SELECT 1; INSERT INTO t VALUES (1)").statements).toHaveLength(2);
  });
});
