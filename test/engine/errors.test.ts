import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  createPlatform,
  type Platform,
  SqliteError,
  TenantliteBatchError,
  TenantliteError,
} from "../../src/index.js";
import { caught } from "../helpers.js";

let platform: Platform;
let db: Client;

beforeAll(async () => {
  platform = await createPlatform();
  await platform.createDatabase("errors");
  db = platform.client("errors");
  await db.executeMultiple(`
    PRAGMA foreign_keys = ON;
    CREATE TABLE p (id INTEGER PRIMARY KEY);
    CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT NOT NULL, n INT CHECK (n > 0), p INT REFERENCES p(id));
    CREATE TABLE c (a INT, b INT, PRIMARY KEY (a, b));
    CREATE TABLE s (x INTEGER) STRICT;
    INSERT INTO p VALUES (1);
    INSERT INTO t VALUES (1, 'a@x', 'a', 1, 1);
    INSERT INTO c VALUES (1, 1);
  `);
});
afterAll(() => platform.close());

describe("SQLite errors carry libSQL's codes", () => {
  const cases: [string, string, number, string | undefined][] = [
    [
      "INSERT INTO t VALUES (1, 'b@x', 'b', 1, 1)",
      "SQLITE_CONSTRAINT",
      1555,
      "SQLITE_CONSTRAINT_PRIMARYKEY",
    ],
    ["INSERT INTO c VALUES (1, 1)", "SQLITE_CONSTRAINT", 1555, "SQLITE_CONSTRAINT_PRIMARYKEY"],
    [
      "INSERT INTO t VALUES (2, 'a@x', 'b', 1, 1)",
      "SQLITE_CONSTRAINT",
      2067,
      "SQLITE_CONSTRAINT_UNIQUE",
    ],
    [
      "INSERT INTO t VALUES (3, 'c@x', NULL, 1, 1)",
      "SQLITE_CONSTRAINT",
      1299,
      "SQLITE_CONSTRAINT_NOTNULL",
    ],
    [
      "INSERT INTO t VALUES (4, 'd@x', 'd', 0, 1)",
      "SQLITE_CONSTRAINT",
      275,
      "SQLITE_CONSTRAINT_CHECK",
    ],
    [
      "INSERT INTO t VALUES (5, 'e@x', 'e', 1, 42)",
      "SQLITE_CONSTRAINT",
      787,
      "SQLITE_CONSTRAINT_FOREIGNKEY",
    ],
    ["INSERT INTO s VALUES ('text')", "SQLITE_CONSTRAINT", 3091, "SQLITE_CONSTRAINT_DATATYPE"],
    // A primary result code is its own extended code, as libSQL reports it.
    ["SELECT * FROM nowhere", "SQLITE_ERROR", 1, "SQLITE_ERROR"],
    ["SELEC 1", "SQL_PARSE_ERROR", 1, "SQLITE_ERROR"],
    ["SELECT 'unterminated", "SQL_PARSE_ERROR", 1, "SQLITE_ERROR"],
  ];
  it.each(cases)("%s → %s", async (sql, code, rawCode, extended) => {
    const e = await caught(db.execute(sql));
    expect(e).toBeTenantliteError(code);
    expect(e).toBeInstanceOf(TenantliteError);
    expect(e).toBeInstanceOf(SqliteError);
    expect((e as SqliteError).rawCode).toBe(rawCode);
    expect((e as SqliteError).extendedCode).toBe(extended);
    expect(e.message.startsWith(`${code}: `)).toBe(true);
    expect((e as Error).cause).toBeDefined();
  });

  it("changes nothing when a statement fails", async () => {
    await expect(
      db.execute("INSERT INTO t VALUES (1, 'z@x', 'z', 1, 1)"),
    ).rejects.toBeTenantliteError("SQLITE_CONSTRAINT");
    const rs = await db.execute("SELECT count(*) AS n FROM t");
    expect(rs.rows[0]!.n).toBe(1);
  });

  it("names the failing statement of a batch and rolls the batch back", async () => {
    const e = await caught(
      db.batch(
        ["INSERT INTO p VALUES (2)", "INSERT INTO p VALUES (3)", "INSERT INTO p VALUES (1)"],
        "write",
      ),
    );
    expect(e).toBeTenantliteError("SQLITE_CONSTRAINT");
    expect(e).toBeInstanceOf(TenantliteBatchError);
    expect((e as TenantliteBatchError).statementIndex).toBe(2);
    expect((await db.execute("SELECT count(*) AS n FROM p")).rows[0]!.n).toBe(1);
  });

  it("fails a whole batch with a syntax error anywhere, running nothing", async () => {
    const e = await caught(
      db.batch(["INSERT INTO p VALUES (7)", "INSERT INTO p VALUE (8)"], "write"),
    );
    expect(e).toBeTenantliteError("SQL_PARSE_ERROR");
    expect((e as TenantliteBatchError).statementIndex).toBe(1);
    expect((await db.execute("SELECT count(*) AS n FROM p WHERE id = 7")).rows[0]!.n).toBe(0);
  });

  it("refuses an unknown transaction mode and statement shapes", async () => {
    await expect(db.batch(["SELECT 1"], "bogus" as never)).rejects.toBeTenantliteError(
      "TRANSACTION_MODE_INVALID",
    );
    await expect(db.batch([42 as never])).rejects.toBeTenantliteError("ARGS_INVALID");
    await expect(db.execute({ nosql: 1 } as never)).rejects.toBeTenantliteError("ARGS_INVALID");
  });

  it("reports DATABASE_NOT_FOUND for a client of an unknown database on first use", async () => {
    const ghost = platform.client("ghost");
    await expect(ghost.execute("SELECT 1")).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
  });

  it("reports CLIENT_CLOSED and TRANSACTION_CLOSED", async () => {
    const c = platform.client("errors");
    c.close();
    expect(c.closed).toBe(true);
    await expect(c.execute("SELECT 1")).rejects.toBeTenantliteError("CLIENT_CLOSED");
    const tx = await db.transaction("read");
    await tx.commit();
    await expect(tx.execute("SELECT 1")).rejects.toBeTenantliteError("TRANSACTION_CLOSED");
  });
});
