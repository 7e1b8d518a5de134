import { describe, expect, it } from "vitest";
import { classify, isComplete, parse, splitStatements } from "../../parser/index.js";

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

  it("lists each named parameter once, in order of first use, and every anonymous one", () => {
    const s = one("SELECT :b, ?, :a, @b, :b, ?, ?3, $c, :a, ?3");
    expect(s.params).toEqual([":b", "?", ":a", "@b", "?", "?3", "$c"]);
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

  it("records a statement's result columns and FROM items, for their declared types", () => {
    const s = one(
      "SELECT *, t.*, a, t.b AS x, (c), (SELECT 1 FROM u), CAST(a AS TEXT), a COLLATE NOCASE, main.t.c, 'lit', (a) + 1 FROM main.t AS t JOIN u USING (k) NATURAL JOIN json_each(?) j, (SELECT 2) AS s ORDER BY 1",
    );
    expect(s.result).toEqual({
      query: null,
      columns: [
        { kind: "star", table: null },
        { kind: "star", table: "t" },
        { kind: "column", table: null, name: "a" },
        { kind: "column", table: "t", name: "b" },
        { kind: "column", table: null, name: "c" },
        { kind: "subquery", query: "SELECT 1 FROM u" },
        { kind: "expression" },
        { kind: "expression" },
        { kind: "column", table: "t", name: "c" },
        { kind: "expression" },
        { kind: "expression" },
      ],
      from: [
        { schema: "main", name: "t", alias: "t" },
        { schema: null, name: "u", alias: null, using: ["k"] },
        { schema: null, name: "json_each", alias: "j", natural: true },
        { schema: null, name: "", alias: "s", query: "SELECT 2" },
      ],
    });
    expect(Object.isFrozen(s.result)).toBe(true);
    // A compound is typed by its first SELECT, with the WITH clause.
    expect(
      one("WITH c AS (SELECT 1 AS a) SELECT x FROM t UNION SELECT a FROM c ORDER BY 1").result,
    ).toEqual({
      query: "WITH c AS (SELECT 1 AS a) SELECT x FROM t",
      columns: [{ kind: "column", table: null, name: "x" }],
      from: [{ schema: null, name: "t", alias: null }],
    });
    // A CTE is a subquery: its SELECT after the CTEs before it (none under WITH RECURSIVE).
    expect(
      one("WITH b AS (SELECT 1), c(x) AS (SELECT * FROM b) SELECT x FROM c").result?.from,
    ).toEqual([
      {
        schema: null,
        name: "c",
        alias: null,
        query: "WITH b AS (SELECT 1) SELECT * FROM b",
        columns: ["x"],
      },
    ]);
    expect(one("WITH RECURSIVE c AS (SELECT 1) SELECT * FROM c").result?.from).toBeNull();
    expect(one("SELECT * FROM (WITH q AS (SELECT 1) SELECT * FROM q), q").result?.from).toBeNull();
    expect(one("SELECT * FROM (t JOIN u) AS p").result?.from).toBeNull();
    expect(one("VALUES (1, 2), (3, 4)").result?.columns).toEqual([
      { kind: "expression" },
      { kind: "expression" },
    ]);
    // RETURNING: a SELECT of its list from the target; a view: its last SELECT.
    expect(one("UPDATE s.t AS z SET a = ? RETURNING z.a, *").result).toEqual({
      query: "SELECT z.a, * FROM s.t AS z",
      columns: [
        { kind: "column", table: "z", name: "a" },
        { kind: "star", table: null },
      ],
      from: [{ schema: "s", name: "t", alias: "z" }],
    });
    expect(one("CREATE VIEW v AS SELECT 1 AS a UNION SELECT b FROM t ORDER BY a").result).toEqual({
      query: "SELECT b FROM t",
      columns: [{ kind: "column", table: null, name: "b" }],
      from: [{ schema: null, name: "t", alias: null }],
    });
    for (const none of ["INSERT INTO t SELECT * FROM u", "EXPLAIN SELECT 1", "DELETE FROM t"]) {
      expect(one(none).result).toBeUndefined();
    }
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

describe("what SQLite refuses from its grammar's actions", () => {
  const message = (sql: string) => parse(sql).errors[0]?.message;

  it("refuses a sort order or COLLATE in a CTE's, a view's or a foreign key's column names", () => {
    // Messages as SQLite 3.54 (sql.js) gives them; test/parser/agreement.test.ts checks the
    // verdicts of the same statements against SQLite itself.
    expect(message("WITH c(a DESC) AS (SELECT 1) SELECT * FROM c")).toBe(
      'syntax error after column name "a"',
    );
    expect(message('WITH c("a" COLLATE nocase) AS (SELECT 1) SELECT 1')).toBe(
      'syntax error after column name ""a""',
    );
    expect(message("CREATE VIEW v(a, b ASC) AS SELECT 1, 2")).toBe(
      'syntax error after column name "b"',
    );
    expect(message("CREATE TABLE c(x REFERENCES p(a DESC))")).toBe(
      'syntax error after column name "a"',
    );
    expect(message("CREATE TABLE c(x, FOREIGN KEY (x COLLATE binary) REFERENCES p)")).toBe(
      'syntax error after column name "x"',
    );
    // SQLite's action runs when the next token arrives: a syntax error there comes first.
    expect(message("WITH c(a DESC x) AS (SELECT 1) SELECT 1")).toBe('near "x": syntax error');
    expect(message("WITH c(a DESC")).toBe("incomplete input");
    expect(message("WITH c(a DESC,")).toBe('syntax error after column name "a"');
    const r = parse("SELECT 1; CREATE VIEW v(a DESC) AS SELECT 1; SELECT 2");
    expect(r.statements.map((s) => s.sql)).toEqual(["SELECT 1", "SELECT 2"]);
    expect(r.errors[0]).toMatchObject({ statementIndex: 1, offset: 24, column: 25 });
    // Without them the lists are fine, and ORDER BY/index column lists keep theirs.
    expect(parse("WITH c(a, b) AS (SELECT 1, 2) SELECT * FROM c").errors).toEqual([]);
    expect(parse("CREATE INDEX i ON t(a DESC, b COLLATE nocase ASC)").errors).toEqual([]);
    expect(
      parse("CREATE TABLE c(x, PRIMARY KEY (x DESC), UNIQUE (x COLLATE nocase))").errors,
    ).toEqual([]);
  });

  it("refuses #N parameters and accepts #name ones", () => {
    expect(message("SELECT #1")).toBe('near "#1": syntax error');
    expect(message("SELECT #12abc")).toBe('near "#12abc": syntax error');
    expect(message("SELECT a FROM t WHERE a = #1 AND b")).toBe('near "#1": syntax error');
    expect(message("SELECT (#1")).toBe("incomplete input");
    expect(parse("SELECT #a, #b1").statements[0]?.summary.params).toEqual(["#a", "#b1"]);
  });

  it("reads a comment left open at the end as SQLite does", () => {
    expect(parse("SELECT 1 /* x").errors).toEqual([]);
    expect(parse("SELECT 1 /**").errors).toEqual([]);
    // `/*` as the last two characters is a slash and a star (tokenize.c).
    expect(message("SELECT 1 /*")).toBe('near "*": syntax error');
    expect(message("SELECT /* x")).toBe("incomplete input");
  });
});

describe("isComplete", () => {
  it("answers as sqlite3_complete", () => {
    expect(isComplete("SELECT 1;")).toBe(true);
    expect(isComplete("SELECT 1")).toBe(false);
    expect(isComplete("SELECT 1; -- done")).toBe(true);
    expect(isComplete(";")).toBe(true);
    // A comment, string or name left open keeps the input incomplete, `;` or not.
    expect(isComplete("SELECT 1; /* x ;")).toBe(false);
    expect(isComplete("SELECT 1; /*")).toBe(false);
    expect(isComplete("SELECT 1 /* x */;")).toBe(true);
    expect(isComplete("SELECT 'a;")).toBe(false);
    expect(isComplete('SELECT "a;')).toBe(false);
    expect(isComplete("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1;")).toBe(false);
    expect(isComplete("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;")).toBe(true);
  });
});

describe("libSQL's ALTER COLUMN … TO", () => {
  it("is DDL on the table named, with the new definition as written", () => {
    const sql =
      'ALTER TABLE aux.t ALTER COLUMN "B" TO "B" VARCHAR(20) /* c */ NOT NULL DEFAULT \'x\'';
    const s = one(sql);
    expect(s).toMatchObject({
      kind: "alter_table",
      ddl: true,
      readonly: false,
      writes: [{ schema: "aux", name: "t" }],
      // libSQL's program also writes temp (it rewrites double-quoted strings there too).
      schemas: ["aux", "temp"],
    });
    expect(s.alterColumn).toEqual({
      column: "B",
      columnToken: '"B"',
      definition: {
        name: "B",
        nameToken: '"B"',
        type: "VARCHAR(20)",
        text: `"B" VARCHAR(20) /* c */ NOT NULL DEFAULT 'x'`,
        start: 38,
        end: sql.length,
        primaryKey: null,
        autoincrement: false,
        unique: false,
        generated: false,
        collate: null,
      },
    });
    expect(sql.slice(s.alterColumn!.definition.start, s.alterColumn!.definition.end)).toBe(
      s.alterColumn!.definition.text,
    );
    expect(one("ALTER TABLE t ALTER COLUMN a TO a").schemas).toEqual(["main", "temp"]);
    expect(one("ALTER TABLE temp.t ALTER COLUMN a TO a").schemas).toEqual(["temp"]);
  });

  it("reads the constraints libSQL compares", () => {
    const d = (def: string) =>
      one(`ALTER TABLE t ALTER COLUMN a TO ${def}`).alterColumn!.definition;
    expect(d("a INTEGER PRIMARY KEY DESC AUTOINCREMENT")).toMatchObject({
      primaryKey: "desc",
      autoincrement: true,
    });
    expect(d("a CONSTRAINT u UNIQUE ON CONFLICT IGNORE")).toMatchObject({ unique: true });
    expect(d("a AS (b + 1) STORED")).toMatchObject({ generated: true });
    expect(d("a GENERATED ALWAYS AS (b + 1)")).toMatchObject({ generated: true });
    expect(d('a COLLATE nocase COLLATE "rtrim"')).toMatchObject({ collate: "rtrim" });
    // A type on the first name is accepted and ignored, as libSQL does.
    expect(one("ALTER TABLE t ALTER COLUMN a INT TO a TEXT").alterColumn?.column).toBe("a");
    expect(one("EXPLAIN ALTER TABLE t ALTER COLUMN a TO a").inner?.alterColumn?.column).toBe("a");
  });

  it("needs COLUMN, one definition and nothing after it", () => {
    expect(parse("ALTER TABLE t ALTER a TO a INT").errors[0]?.message).toBe(
      'near "TO": syntax error',
    );
    expect(parse("ALTER TABLE t ALTER COLUMN a TO").errors[0]?.message).toBe("incomplete input");
    expect(parse("ALTER TABLE t ALTER COLUMN a TO a, b").errors[0]?.message).toBe(
      'near ",": syntax error',
    );
    expect(parse("ALTER TABLE t ALTER COLUMN a TO a DEFAULT 1 + 1").errors[0]?.message).toBe(
      'near "+": syntax error',
    );
    // 3.54's own ALTER COLUMN forms stay as they were.
    expect(one("ALTER TABLE t ALTER a SET NOT NULL").alterColumn).toBeUndefined();
  });

  it("gives CREATE TABLE's column definitions", () => {
    const sql =
      "CREATE TABLE t(a INTEGER PRIMARY KEY, \"b,c\" TEXT DEFAULT ',' UNIQUE, PRIMARY KEY(a))";
    const cols = parse(sql).statements[0]!.summary.columns!;
    expect(cols.map((c) => [c.name, c.text, c.primaryKey, c.unique])).toEqual([
      ["a", "a INTEGER PRIMARY KEY", "default", false],
      ["b,c", `"b,c" TEXT DEFAULT ',' UNIQUE`, null, true],
    ]);
    expect(sql.slice(cols[1]!.start, cols[1]!.end)).toBe(cols[1]!.text);
    expect(one("CREATE TABLE t AS SELECT 1").columns).toBeUndefined();
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
