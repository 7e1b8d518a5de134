import { describe, expect, it } from "vitest";
import { classify, parse, splitStatements } from "../../parser/index.js";

function one(sql: string) {
  const r = parse(sql);
  expect(r.errors).toEqual([]);
  expect(r.statements).toHaveLength(1);
  return r.statements[0]!.summary;
}

describe("parse", () => {
  it("classifies a write into an attached schema", () => {
    const s = one("INSERT INTO userdb.user_preferences(k, v) VALUES (?, :v)");
    expect(s.kind).toBe("insert");
    expect(s.readonly).toBe(false);
    expect(s.ddl).toBe(false);
    expect(s.writes).toEqual([{ schema: "userdb", name: "user_preferences" }]);
    expect(s.schemas).toEqual(["userdb"]);
    expect(s.params).toEqual(["?", ":v"]);
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.writes)).toBe(true);
  });

  it("keeps quoted names unquoted, case kept", () => {
    const s = one('UPDATE "My Schema".[Tab""le] SET a = 1');
    expect(s.writes).toEqual([{ schema: "My Schema", name: 'Tab""le' }]);
    expect(s.schemas).toEqual(["my schema"]);
    expect(one('DELETE FROM "a""b"').writes).toEqual([{ schema: null, name: 'a"b' }]);
  });

  it("reports reads without CTE names", () => {
    const s = one("WITH c AS (SELECT 1) SELECT * FROM c, aux.t3 JOIN t1 USING (a)");
    expect(s.reads).toEqual([
      { schema: "aux", name: "t3" },
      { schema: null, name: "t1" },
    ]);
  });

  it("marks TEMP objects", () => {
    const s = one("CREATE TEMP TABLE x(a)");
    expect(s).toMatchObject({ kind: "create_table", ddl: true, temp: true, schemas: ["temp"] });
    expect(s.writes).toEqual([{ schema: "temp", name: "x" }]);
  });

  it("describes ATTACH and DETACH", () => {
    expect(one("ATTACH DATABASE 'db-1' AS other").attach).toEqual({
      target: "db-1",
      targetKind: "string",
      alias: "other",
    });
    expect(one('ATTACH "db-2" AS "o2"').attach).toEqual({
      target: "db-2",
      targetKind: "identifier",
      alias: "o2",
    });
    expect(one("ATTACH 'a' || 'b' AS x").attach).toEqual({
      target: "'a' || 'b'",
      targetKind: "expression",
      alias: "x",
    });
    const d = one("DETACH x");
    expect(d).toMatchObject({ kind: "detach", readonly: true, detach: { alias: "x" } });
  });

  it("reports transaction effects", () => {
    const effects = parse(
      "BEGIN; BEGIN TRANSACTION READONLY; SAVEPOINT a; RELEASE a; ROLLBACK TO a; ROLLBACK; COMMIT; END; SELECT 1",
    ).statements.map((s) => s.summary.transaction);
    expect(effects).toEqual([
      "begin",
      "begin",
      "savepoint",
      "release",
      "rollback_to",
      "rollback",
      "commit",
      "commit",
      "none",
    ]);
  });

  it("describes PRAGMAs", () => {
    const s = one("PRAGMA aux.user_version = 5");
    expect(s).toMatchObject({ kind: "pragma", readonly: false, schemas: ["aux"] });
    expect(s.pragma).toEqual({ schema: "aux", name: "user_version", value: "5" });
    expect(one("PRAGMA table_info('t')").pragma).toEqual({
      schema: null,
      name: "table_info",
      value: "'t'",
    });
    expect(one("PRAGMA user_version")).toMatchObject({ readonly: true, schemas: [] });
  });

  it("wraps EXPLAIN", () => {
    const s = one("EXPLAIN QUERY PLAN DELETE FROM aux.t");
    expect(s).toMatchObject({ kind: "delete", explain: "query_plan", readonly: true, schemas: [] });
    expect(s.inner).toMatchObject({
      kind: "delete",
      readonly: false,
      schemas: ["aux"],
      explain: false,
    });
  });

  it("accepts keywords as identifiers where SQLite does", () => {
    expect(one('CREATE TABLE t(key, action, replace, "order")').kind).toBe("create_table");
    expect(parse("CREATE TABLE t(order)").errors[0]?.message).toBe('near "order": syntax error');
  });

  it("returns errors with positions and keeps the other statements", () => {
    const r = parse("SELECT 1;\nSELECT * FRM t;\nSELECT 2");
    expect(r.statements.map((s) => s.sql)).toEqual(["SELECT 1", "SELECT 2"]);
    expect(r.errors).toEqual([
      { message: 'near "FRM": syntax error', line: 2, column: 10, offset: 19, statementIndex: 1 },
    ]);
    expect(parse("SELECT (1").errors[0]?.message).toBe("incomplete input");
    expect(parse("SELECT (1;").errors[0]?.message).toBe('near ";": syntax error');
    expect(parse("SELECT 'x").errors[0]?.message).toBe(`unrecognized token: "'x"`);
  });

  it("rejects UPDATE/DELETE … LIMIT unless enabled", () => {
    expect(parse("DELETE FROM t LIMIT 1").errors[0]?.message).toBe('near "LIMIT": syntax error');
    expect(parse("DELETE FROM t LIMIT 1", { updateDeleteLimit: true }).errors).toEqual([]);
  });

  it("turns deep nesting into an error, not a crash", () => {
    const deep = `SELECT ${"(".repeat(1000)}1${")".repeat(1000)}`;
    expect(parse(deep).errors[0]?.message).toBe("parser stack overflow");
    const ok = `SELECT ${"(".repeat(200)}1${")".repeat(200)}`;
    expect(parse(ok).errors).toEqual([]);
    const unary = `SELECT ${"- ".repeat(20000)}1`;
    expect(() => parse(unary)).not.toThrow();
  });
});

describe("splitStatements", () => {
  it("never splits inside strings, names, comments, trigger bodies or CASE", () => {
    const sql = [
      "SELECT 'a;b', \"c;d\", [e;f], `g;h`; -- x;y",
      "/* ; */ CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; INSERT INTO u VALUES (';'); END;",
      "; ; -- only a comment ;",
      "SELECT 3 /* unterminated",
    ].join("\n");
    const parts = splitStatements(sql);
    expect(parts.map((p) => p.sql)).toEqual([
      "SELECT 'a;b', \"c;d\", [e;f], `g;h`",
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 1 THEN 2 END; INSERT INTO u VALUES (';'); END",
      "SELECT 3",
    ]);
    for (const p of parts) expect(sql.slice(p.start, p.end)).toBe(p.sql);
  });
});

describe("classify", () => {
  it("caches frozen results by SQL text", () => {
    const a = classify("SELECT 42");
    expect(classify("SELECT 42")).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });
});
