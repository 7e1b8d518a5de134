/**
 * libSQL's ALTER TABLE … ALTER COLUMN x TO <definition> in the engine (src/engine/alter-column.ts):
 * the definition changes in place, rows stay as they are, other connections of the file see the
 * new schema, and a failure changes nothing. test/platform/alter-column.test.ts runs the same
 * statements on native libSQL and compares.
 */
import { describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { TenantDb } from "../../src/engine/tenant-db.js";
import { TenantFile } from "../../src/engine/tenant-file.js";

const sql = await loadSqlJs();
const run = (db: TenantDb, text: string, args?: unknown[]) =>
  db.execute(text, args as never, "number");
const schemaOf = (db: TenantDb, name = "t") =>
  run(db, "SELECT sql FROM sqlite_schema WHERE name = ?", [name]).rows[0]?.[0];
const integrity = (db: TenantDb) => run(db, "PRAGMA integrity_check").rows.map((r) => String(r[0]));

function fresh(setup: string): TenantDb {
  const db = new TenantDb(sql, undefined);
  db.executeScript(setup);
  return db;
}

describe("ALTER COLUMN … TO in the engine", () => {
  it("rewrites the column's definition in place, for new rows only", async () => {
    const db = fresh(
      "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT CHECK (b <> ','), c); INSERT INTO t VALUES (1, NULL, 'x');",
    );
    const pages = Number(run(db, "PRAGMA page_count").rows[0]![0]);
    const rs = run(db, "ALTER TABLE t ALTER COLUMN b TO b INTEGER NOT NULL DEFAULT 5");
    expect(rs.rowsAffected).toBe(0);
    expect(schemaOf(db)).toBe(
      "CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER NOT NULL DEFAULT 5, c)",
    );
    // The old row keeps its NULL (no rebuild, no check); a new row gets the default.
    run(db, "INSERT INTO t(a, c) VALUES (2, 'y')");
    expect(run(db, "SELECT a, b FROM t ORDER BY a").rows.map((r) => [r[0], r[1]])).toEqual([
      [1, null],
      [2, 5],
    ]);
    await expect(async () =>
      run(db, "INSERT INTO t(a, b) VALUES (3, NULL)"),
    ).rejects.toBeTenantliteError("SQLITE_CONSTRAINT");
    expect(Number(run(db, "PRAGMA page_count").rows[0]![0])).toBe(pages);
    const info = run(db, "PRAGMA table_info(t)").rows.map((r) => [r[1], r[2], r[3], r[4]]);
    expect(info).toEqual([
      ["a", "INTEGER", 0, null],
      ["b", "INTEGER", 1, "5"],
      ["c", "", 0, null],
    ]);
    db.close();
  });

  it("reads the old definition with the parser (commas and parentheses in strings and CHECKs)", async () => {
    const db = fresh(
      `CREATE TABLE t(a, "b,)" TEXT DEFAULT ',)' CHECK ("b,)" IN ('(', ',')) /* , */, c);`,
    );
    // As libSQL takes it, the new text runs to the statement's end, comments included (a `--`
    // comment gets its line ended, where libSQL's would comment out the rest of the table).
    run(db, `ALTER TABLE t ALTER COLUMN "b,)" TO "b,)" TEXT /* kept */ COLLATE nocase -- kept`);
    expect(schemaOf(db)).toBe(
      `CREATE TABLE t(a, "b,)" TEXT /* kept */ COLLATE nocase -- kept\n, c)`,
    );
    // The old definition runs to the comma after it, comments included.
    run(db, `ALTER TABLE t ALTER COLUMN "b,)" TO "b,)" TEXT  ;  -- after the statement`);
    expect(schemaOf(db)).toBe(`CREATE TABLE t(a, "b,)" TEXT  , c)`);
    db.close();
  });

  it("gives libSQL's errors and changes nothing", async () => {
    const db = fresh(
      "CREATE TABLE t(a INT PRIMARY KEY, b UNIQUE, c, d AS (c + 1)); CREATE VIEW v AS SELECT a FROM t;",
    );
    const before = schemaOf(db);
    const version = run(db, "PRAGMA schema_version").rows[0]![0];
    const cases: [string, RegExp][] = [
      ["ALTER TABLE nope ALTER COLUMN a TO a", /^SQLITE_ERROR: no such table: nope$/],
      ["ALTER TABLE main.nope ALTER COLUMN a TO a", /no such table: main\.nope$/],
      ["ALTER TABLE t ALTER COLUMN zz TO zz INT", /no such column: "zz"$/],
      [
        "ALTER TABLE t ALTER COLUMN c TO cc INT",
        /UPDATE cannot also rename column: "c" to "cc"\. Use ALTER TABLE RENAME instead$/,
      ],
      ['ALTER TABLE t ALTER COLUMN c TO "c" INT', /rename column: "c" to ""c""/],
      [
        "ALTER TABLE t ALTER COLUMN a TO a INT",
        /error in adding a INT to t: PRIMARY KEY constraint cannot be altered$/,
      ],
      ["ALTER TABLE t ALTER COLUMN c TO c PRIMARY KEY", /PRIMARY KEY constraint cannot be altered/],
      [
        "ALTER TABLE t ALTER COLUMN b TO b",
        /error in adding b to t: UNIQUE constraint cannot be altered$/,
      ],
      ["ALTER TABLE t ALTER COLUMN c TO c UNIQUE", /UNIQUE constraint cannot be altered/],
      ["ALTER TABLE t ALTER COLUMN d TO d", /GENERATED constraint cannot be altered/],
      ["ALTER TABLE t ALTER COLUMN c TO c AS (a)", /GENERATED constraint cannot be altered/],
      ["ALTER TABLE v ALTER COLUMN a TO a INT", /cannot rename columns of view "v"$/],
      [
        "ALTER TABLE sqlite_schema ALTER COLUMN sql TO sql",
        /table sqlite_master may not be altered/,
      ],
      // Definitions SQLite would not create (libSQL writes some of them, then fails later).
      [
        "ALTER TABLE t ALTER COLUMN c TO c DEFAULT (a)",
        /error in adding c DEFAULT \(a\) to t: default value of column \[c\] is not constant/,
      ],
      ["ALTER TABLE t ALTER COLUMN c TO c CHECK (zz > 0)", /no such column: zz/],
      ["ALTER TABLE t ALTER COLUMN c TO c COLLATE nosuch", /no such collation sequence: nosuch/],
    ];
    for (const [text, message] of cases) {
      await expect(async () => run(db, text)).rejects.toBeTenantliteError("SQLITE_ERROR", message);
    }
    expect(schemaOf(db)).toBe(before);
    expect(run(db, "PRAGMA schema_version").rows[0]![0]).toBe(version);
    expect(integrity(db)).toEqual(["ok"]);
    db.close();
  });

  it("refuses what would leave index entries or the rowid wrong (libSQL corrupts them)", async () => {
    const db = fresh(`
      CREATE TABLE t(a INT, b TEXT, c, PRIMARY KEY(a));
      CREATE INDEX ib ON t(b);
      CREATE INDEX ic ON t(c) WHERE c > 1;
      CREATE INDEX ie ON t(lower(b) || c);
      INSERT INTO t VALUES (1, 'a', 2), (2, 'B', '3');
    `);
    const before = schemaOf(db);
    // a would become the rowid: its index and its rows' rowids would disagree.
    await expect(async () =>
      run(db, "ALTER TABLE t ALTER COLUMN a TO a INTEGER"),
    ).rejects.toBeTenantliteError("SQLITE_ERROR", /rowid/);
    // ib's entries are ordered by BINARY.
    await expect(async () =>
      run(db, "ALTER TABLE t ALTER COLUMN b TO b TEXT COLLATE nocase"),
    ).rejects.toBeTenantliteError("SQLITE_ERROR", /index ib orders/);
    // ic's WHERE compares c with its affinity.
    await expect(async () =>
      run(db, "ALTER TABLE t ALTER COLUMN c TO c TEXT"),
    ).rejects.toBeTenantliteError(
      "SQLITE_ERROR",
      /index ic uses in an expression or a WHERE clause/,
    );
    expect(schemaOf(db)).toBe(before);
    // What index entries do not depend on is allowed (as libSQL allows it).
    run(db, "ALTER TABLE t ALTER COLUMN b TO b VARCHAR(10) NOT NULL");
    run(db, "ALTER TABLE t ALTER COLUMN c TO c NOT NULL DEFAULT 0");
    run(db, "ALTER TABLE t ALTER COLUMN a TO a INT NOT NULL");
    expect(integrity(db)).toEqual(["ok"]);
    db.close();
  });

  it("creates sqlite_sequence when the new definition adds AUTOINCREMENT", async () => {
    const db = fresh("CREATE TABLE t(id INTEGER PRIMARY KEY, b); INSERT INTO t VALUES (5, 'x');");
    run(db, "ALTER TABLE t ALTER COLUMN id TO id INTEGER PRIMARY KEY AUTOINCREMENT");
    run(db, "INSERT INTO t(b) VALUES ('y')");
    expect(run(db, "SELECT max(id) FROM t").rows[0]![0]).toBe(6);
    expect(
      run(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").rows.map(
        (r) => r[0],
      ),
    ).toEqual(["sqlite_sequence", "t"]);
    db.close();
  });

  it("runs inside the caller's transaction: ROLLBACK undoes it", async () => {
    const db = fresh("CREATE TABLE t(a, b);");
    run(db, "BEGIN");
    run(db, "ALTER TABLE t ALTER COLUMN b TO b NOT NULL");
    await expect(async () => run(db, "INSERT INTO t VALUES (1, NULL)")).rejects.toBeTenantliteError(
      "SQLITE_CONSTRAINT",
    );
    // A failed ALTER COLUMN inside the transaction leaves it open and its earlier work in place.
    await expect(async () =>
      run(db, "ALTER TABLE t ALTER COLUMN zz TO zz"),
    ).rejects.toBeTenantliteError("SQLITE_ERROR");
    expect(db.inTransaction).toBe(true);
    expect(schemaOf(db)).toBe("CREATE TABLE t(a, b NOT NULL)");
    run(db, "ROLLBACK");
    expect(schemaOf(db)).toBe("CREATE TABLE t(a, b)");
    run(db, "INSERT INTO t VALUES (1, NULL)");
    db.close();
  });

  it("alters a TEMP table of the connection, found before main", async () => {
    const db = fresh("CREATE TABLE t(a, b); CREATE TEMP TABLE t(a, b);");
    run(db, "ALTER TABLE t ALTER COLUMN b TO b NOT NULL");
    expect(run(db, "SELECT sql FROM temp.sqlite_schema WHERE name = 't'").rows[0]![0]).toBe(
      "CREATE TABLE t(a, b NOT NULL)",
    );
    expect(schemaOf(db)).toBe("CREATE TABLE t(a, b)");
    db.close();
  });

  it("reaches the file's other connections", async () => {
    const file = TenantFile.open(sql, "t", undefined);
    const a = file.lease({});
    const b = file.lease({});
    run(a, "CREATE TABLE t(a, b)");
    run(b, "INSERT INTO t VALUES (1, NULL)");
    expect(run(b, "SELECT * FROM t").columns).toEqual(["a", "b"]);
    run(a, "ALTER TABLE t ALTER COLUMN b TO b NOT NULL DEFAULT 'd'");
    expect(a.schemaTouched).toBe(true);
    file.schemaChanged();
    b.syncSchema(file.schemaGeneration);
    await expect(async () => run(b, "INSERT INTO t VALUES (2, NULL)")).rejects.toBeTenantliteError(
      "SQLITE_CONSTRAINT",
    );
    run(b, "INSERT INTO t(a) VALUES (3)");
    expect(run(b, "SELECT b FROM t WHERE a = 3").rows[0]![0]).toBe("d");
    file.close();
  });

  it("describes it and refuses EXPLAIN of it", async () => {
    const db = fresh("CREATE TABLE t(a, b);");
    expect(db.describe("ALTER TABLE t ALTER COLUMN b TO b INT")).toEqual({
      params: [],
      cols: [],
      isExplain: false,
      isReadonly: false,
    });
    expect(db.takesWriteLock("ALTER TABLE t ALTER COLUMN b TO b INT")).toBe(true);
    await expect(async () =>
      run(db, "EXPLAIN ALTER TABLE t ALTER COLUMN b TO b INT"),
    ).rejects.toBeTenantliteError("SQLITE_ERROR", /EXPLAIN is not available/);
    await expect(async () =>
      run(db, "ALTER TABLE t ALTER COLUMN b TO b INT", [1]),
    ).rejects.toBeTenantliteError("ARGS_INVALID");
    db.close();
  });
});
