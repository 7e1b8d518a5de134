import { describe, expect, it } from "vitest";
import { parse, splitStatements } from "../../parser/index.js";

// parse() reads a long script a piece of whole statements at a time (parser/lexer.ts,
// tokenizeFrom): what it returns must not depend on where the pieces end.
describe("parse of a long script", () => {
  const insert = (i: number) => `INSERT INTO t(a, b) VALUES (${i}, 'x;${i}')`;
  const trigger = (body: number) =>
    `CREATE TRIGGER tr AFTER INSERT ON t BEGIN ${Array.from(
      { length: body },
      (_, i) => `UPDATE t SET b = ${i} WHERE a = new.a;`,
    ).join(" ")} END`;

  it("finds the same statements, spans and errors as statement by statement", () => {
    const parts: string[] = [];
    for (let i = 0; i < 400; i++) parts.push(insert(i));
    parts.push(trigger(30)); // its body's `;` fall around the end of a piece
    for (let i = 400; i < 700; i++) parts.push(i % 97 === 0 ? "SELECT FROM WHERE" : insert(i));
    parts.push(trigger(400)); // one statement longer than a piece
    for (let i = 700; i < 800; i++) parts.push(insert(i));
    const script = `${parts.join(";\n")};\n-- trailing comment`;
    const r = parse(script);
    const bad = parts.filter((p) => p === "SELECT FROM WHERE").length;
    expect(r.statements).toHaveLength(parts.length - bad);
    expect(r.errors).toHaveLength(bad);
    expect(r.statements.map((s) => s.sql)).toEqual(parts.filter((p) => p !== "SELECT FROM WHERE"));
    for (const s of r.statements) expect(script.slice(s.start, s.end)).toBe(s.sql);
    expect(r.statements[400]!.summary.kind).toBe("create_trigger");
    expect(r.statements.at(-101)!.summary.kind).toBe("create_trigger");
    // Errors are numbered and placed in the whole script, as SQLite reports them.
    for (const e of r.errors) {
      expect(parts[e.statementIndex]).toBe("SELECT FROM WHERE");
      expect(script.slice(e.offset, e.offset + 4)).toBe("FROM");
      expect(e.message).toBe('near "FROM": syntax error');
    }
    expect(splitStatements(script).map((s) => s.sql)).toEqual(parts);
  });

  it("reports an unfinished last statement and an unterminated string at the end", () => {
    const head = Array.from({ length: 300 }, (_, i) => insert(i)).join(";\n");
    const open = parse(`${head};\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1;`);
    expect(open.statements).toHaveLength(300);
    expect(open.errors.map((e) => [e.statementIndex, e.message])).toEqual([
      [300, "incomplete input"],
    ]);
    const str = parse(`${head};\nSELECT 'never closed`);
    expect(str.statements).toHaveLength(300);
    expect(str.errors.map((e) => e.statementIndex)).toEqual([300]);
    expect(str.errors[0]!.message).toMatch(/^unrecognized token/);
  });
});
