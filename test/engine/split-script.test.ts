/**
 * A big script is split a piece at a time (src/engine/connection.ts `splitScript`), with turns of
 * the event loop between pieces: the statements must be exactly those of splitting it whole,
 * whatever straddles a piece's edge — strings and quoted names holding `;`, comments, trigger
 * bodies, one huge statement.
 */
import { describe, expect, it } from "vitest";
import { splitStatements } from "../../parser/index.js";
import { splitScript } from "../../src/engine/split-script.js";

/** A deterministic pseudo-random generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pieces = [
  (i: number) => `INSERT INTO t VALUES (${i}, 'plain');`,
  (i: number) => `INSERT INTO t VALUES (${i}, 'a;b;\n;c');`,
  (i: number) => `INSERT INTO "we;ird" VALUES (${i});`,
  (i: number) => `/* a comment; with ; semicolons\n ; */ SELECT ${i};`,
  (i: number) => `SELECT ${i}; -- trailing; comment ;\n`,
  (i: number) =>
    `CREATE TRIGGER tr${i} AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES (${i});\n  UPDATE c SET n = n + 1;\nEND;`,
  (i: number) => `SELECT '${"x;".repeat(2000)}' AS s${i};`,
  () => ";;",
  (i: number) => `SELECT [br;acket${i}];`,
];

describe("splitting a big script a piece at a time", () => {
  for (const seed of [1, 2, 3]) {
    it(`gives the statements of splitting it whole (seed ${seed})`, async () => {
      const next = random(seed);
      const parts: string[] = [];
      let size = 0;
      for (let i = 0; size < 1_200_000; i++) {
        const p = pieces[Math.floor(next() * pieces.length)]!(i);
        parts.push(p);
        size += p.length + 1;
      }
      const script = parts.join(next() < 0.5 ? "\n" : " ");
      expect(await splitScript(script)).toEqual(splitStatements(script).map((s) => s.sql));
    });
  }

  it("splits one statement bigger than a piece, and a script ending without a semicolon", async () => {
    const huge = `SELECT '${"a;".repeat(400_000)}'`;
    const script = `SELECT 1;\n${huge};\nSELECT 2`;
    expect(await splitScript(script)).toEqual(["SELECT 1", huge, "SELECT 2"]);
    const open = `SELECT 1; /* ${"never closed; ".repeat(30_000)}`;
    expect(await splitScript(open)).toEqual(splitStatements(open).map((s) => s.sql));
  });
});
