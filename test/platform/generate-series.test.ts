/**
 * `generate_series`, the table-valued function libSQL and sqld have and sql.js lacks (it cannot
 * register one): tenantlite writes it as a subquery before compiling (src/engine/table-functions.ts).
 * The same statements on tenantlite and on native libSQL (@libsql/client on `:memory:`), compared
 * whole: column names, declared types, rows, or the error's code and message.
 */
import { createClient, type Client as LibsqlClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { type Client, createPlatform, type Platform } from "../../src/index.js";
import { threadDryRun } from "../../src/platform/migrations/dry-run.js";

let platform: Platform;
let ours: Client;
let theirs: LibsqlClient;

const SETUP = [
  "CREATE TABLE t (id INTEGER PRIMARY KEY, n INT, label TEXT)",
  "INSERT INTO t (n, label) VALUES (1, 'a'), (3, 'b')",
];

beforeAll(async () => {
  platform = await createPlatform();
  await platform.createDatabase("series");
  ours = platform.client("series");
  theirs = createClient({ url: ":memory:" });
  for (const sql of SETUP) {
    await ours.execute(sql);
    await theirs.execute(sql);
  }
});
afterAll(async () => {
  theirs.close();
  await platform.close();
});

type Stmt = string | { sql: string; args: (number | string | null)[] | Record<string, number> };

async function outcome(c: Pick<Client, "execute">, stmt: Stmt): Promise<unknown> {
  try {
    const rs = await c.execute(stmt);
    return {
      columns: rs.columns,
      types: rs.columnTypes,
      rows: rs.rows.map((r) => Array.from(r)),
    };
  } catch (e) {
    const err = e as { code?: string; message: string };
    // Both prefix the message with the code.
    return { code: err.code, message: err.message.replace(/^\w+: /, "") };
  }
}

async function same(stmt: Stmt): Promise<unknown> {
  const mine = await outcome(ours, stmt);
  expect(mine, JSON.stringify(stmt)).toEqual(await outcome(theirs, stmt));
  return mine;
}

describe("generate_series", () => {
  it("counts as SQLite's series extension does: defaults, steps, NULLs, conversions", async () => {
    for (const sql of [
      "SELECT * FROM generate_series(1, 5)",
      "SELECT * FROM generate_series(1, 10, 3)",
      "SELECT * FROM generate_series(10, 1, -3)",
      "SELECT * FROM generate_series(1, 10, -3)",
      "SELECT * FROM generate_series(5, 4, -3)",
      "SELECT * FROM generate_series(3, -3, -2)",
      "SELECT * FROM generate_series(2, 2, -1)",
      "SELECT * FROM generate_series(1, 5, 0)",
      "SELECT * FROM generate_series(5, 1)",
      "SELECT * FROM generate_series(1, NULL)",
      "SELECT * FROM generate_series(NULL)",
      "SELECT * FROM generate_series(1, 3, NULL)",
      "SELECT * FROM generate_series('3', '5')",
      "SELECT * FROM generate_series(1.9, 3.2)",
      "SELECT * FROM generate_series(1, 3, 2.9)",
      "SELECT * FROM generate_series(1, 3, -0.5)",
      "SELECT * FROM generate_series('abc', 2)",
      "SELECT * FROM generate_series(x'31', 2)",
      "SELECT typeof(value) FROM generate_series(1, 1)",
      // The default stop is 4294967295: the series is made as it is read.
      "SELECT value FROM generate_series(1) LIMIT 3",
      "SELECT count(*), sum(value) FROM generate_series(1, 100000)",
      "SELECT value FROM generate_series(9223372036854775800, 9223372036854775807, 5)",
    ]) {
      await same(sql);
    }
  });

  it("takes parameters, aliases and any place a table goes", async () => {
    const rows = await same({
      sql: "SELECT ?, value, ? FROM generate_series(?, ?) WHERE value > ?",
      args: ["a", "b", 2, 6, 3],
    });
    expect(rows).toMatchObject({
      rows: [
        ["a", 4, "b"],
        ["a", 5, "b"],
        ["a", 6, "b"],
      ],
    });
    await same({ sql: "SELECT value FROM generate_series(?2, ?1)", args: [4, 2] });
    await same({ sql: "SELECT value FROM generate_series(:lo, :hi)", args: { lo: 7, hi: 9 } });
    for (const sql of [
      "SELECT g.value, h.value FROM generate_series(1, 2) AS g, generate_series(10, 11) h ORDER BY 1, 2",
      "SELECT generate_series.value FROM generate_series(1, 2)",
      'SELECT value FROM "generate_series"(1, 2)',
      "SELECT value FROM GENERATE_SERIES(1, 2)",
      "SELECT a.value FROM generate_series(1, 3) a JOIN generate_series(2, 4) b ON a.value = b.value",
      "SELECT value FROM generate_series(1, 3) WHERE value IN (SELECT value FROM generate_series(2, 5))",
      "SELECT * FROM (SELECT * FROM generate_series(1, 2))",
      "SELECT (SELECT sum(value) FROM generate_series(1, 10))",
      "WITH x AS (SELECT 3 AS n) SELECT value FROM x, generate_series(1, (SELECT n FROM x))",
      "SELECT value FROM generate_series(0, 20, 7) UNION SELECT value FROM generate_series(1, 2)",
      "SELECT * FROM generate_series(-3, 3, 2) ORDER BY value DESC",
      "SELECT 'generate_series(1, 2)' AS text",
      // Arguments that name another table's columns (a subquery cannot see them).
      "SELECT t.label, value FROM t, generate_series(t.n, 3) ORDER BY t.id, value",
      "SELECT t.label, g.value FROM t JOIN generate_series(1, t.n) AS g ORDER BY 1, 2",
    ]) {
      await same(sql);
    }
  });

  it("fills tables, views and triggers, and refuses what SQLite refuses", async () => {
    for (const sql of [
      "CREATE TABLE seeded (id INTEGER PRIMARY KEY, v INT)",
      "INSERT INTO seeded (v) SELECT value * 2 FROM generate_series(1, 4) RETURNING id, v",
      "SELECT count(*), sum(v) FROM seeded",
      "CREATE VIEW evens AS SELECT value FROM generate_series(0, 10, 2)",
      "SELECT * FROM evens",
      "CREATE TABLE log (v INT)",
      "CREATE TRIGGER fan AFTER INSERT ON seeded BEGIN INSERT INTO log SELECT value FROM generate_series(1, new.v); END",
      "INSERT INTO seeded (v) VALUES (3)",
      "SELECT * FROM log",
      "SELECT * FROM generate_series()",
      "SELECT * FROM generate_series(1, 2, 3, 4)",
    ]) {
      await same(sql);
    }
  });
});

describe("generate_series in a schema parent's views and triggers", () => {
  // A view's or trigger's SELECT is not compiled with it: the rewrite must be right as stored, on
  // the parent and on every child, however the child's migration ran.
  const DDL = [
    "CREATE VIEW nums AS SELECT value FROM generate_series(1, 3)",
    "CREATE VIEW spans AS SELECT t.id, value FROM t, generate_series(1, t.n)",
    "CREATE TABLE log (v INT)",
    "CREATE TRIGGER fan AFTER INSERT ON t BEGIN INSERT INTO log SELECT value FROM generate_series(1, new.n); END",
  ];
  // `spans` has a row per value 1..n of each row of t; the last insert logged 1..3 (a write to
  // the parent reaches the children too, and fires their trigger there).
  const CHECK =
    "SELECT (SELECT sum(value) FROM nums) AS nums, (SELECT count(*) FROM spans) = (SELECT sum(n) FROM t) AS spans, (SELECT group_concat(v, '') FROM (SELECT v FROM log ORDER BY rowid DESC LIMIT 3)) AS log";

  it("reaches every child, whose views and trigger answer as the parent's", async () => {
    const p = await createPlatform({ migrationThreads: null });
    try {
      await p.createDatabase("app", { type: "schema" });
      await p.client("app").execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INT)");
      for (const kid of ["k1", "k2"]) await p.createDatabase(kid, { schema: "app" });
      await p.client("k1").execute("INSERT INTO t (n) VALUES (2)");
      for (const sql of DDL) await p.client("app").execute(sql);
      for (const db of ["app", "k1", "k2"]) {
        await p.client(db).execute("INSERT INTO t (n) VALUES (3)");
        const row = (await p.client(db).execute(CHECK)).rows[0]!;
        expect({ ...row }, db).toEqual({ nums: 6, spans: 1, log: "321" });
      }
    } finally {
      await p.close();
    }
  });

  it("is stored rewritten by a migration thread's dry run too", async () => {
    const sql = await loadSqlJs();
    const scratch = new sql.Database();
    scratch.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n INT); INSERT INTO t (n) VALUES (2)");
    const image = scratch.export();
    scratch.close();
    const r = threadDryRun(sql, image, DDL);
    expect("image" in r, JSON.stringify(r)).toBe(true);
    const migrated = new sql.Database((r as { image: Uint8Array }).image);
    try {
      migrated.exec("INSERT INTO t (n) VALUES (3)");
      expect(migrated.exec(CHECK)[0]!.values).toEqual([[6, 1, "321"]]);
    } finally {
      migrated.close();
    }
  });
});
