/**
 * libSQL's `ALTER TABLE … ALTER COLUMN x TO <definition>` through the platform: against native
 * libSQL (`@libsql/client` on `:memory:`) statement by statement, as DDL that schema children
 * refuse and that a schema parent migrates to every child, and as a write attached databases
 * refuse.
 */
import { createClient } from "@libsql/client";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "../../parser/index.js";
import { createPlatform, type Platform } from "../../src/index.js";
import { createMigrationThreads } from "../../src/node/migration-threads.js";
import type { MigrationThreads } from "../../src/platform/migrations/jobs.js";

type AnyClient = {
  execute(
    sql: string,
  ): Promise<{ columns: string[]; rows: ArrayLike<unknown>[]; rowsAffected: number }>;
};

let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

/** A statement's outcome as plain data: its rows and count, or its error code and message. */
async function outcome(c: AnyClient, sql: string): Promise<unknown> {
  try {
    const rs = await c.execute(sql);
    return { rows: rs.rows.map((r) => Array.from(r)), rowsAffected: rs.rowsAffected };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    // Documented difference: syntax errors carry Turso's SQL_PARSE_ERROR code.
    const code = err.code === "SQL_PARSE_ERROR" ? "SQLITE_ERROR" : err.code;
    return { code, message: err.message?.replace(/^SQL_PARSE_ERROR: /, "SQLITE_ERROR: ") };
  }
}

/** What a scenario leaves: the schema, and each table's columns as PRAGMA table_xinfo says. */
async function state(c: AnyClient): Promise<unknown> {
  const schema = await c.execute(
    "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name",
  );
  const out: unknown[] = [schema.rows.map((r) => Array.from(r))];
  for (const r of schema.rows) {
    if (r[0] !== "table") continue;
    const info = await c.execute(`PRAGMA table_xinfo("${String(r[1]).replaceAll('"', '""')}")`);
    out.push(info.rows.map((x) => Array.from(x)));
  }
  return out;
}

/**
 * Scenarios run on both sides: setup, ALTER COLUMN statements, then writes and reads that show
 * whether the new definition applies (NOT NULL, CHECK, DEFAULT, REFERENCES, types).
 */
const SCENARIOS: Record<string, string[]> = {
  "type, NOT NULL and DEFAULT for new rows; old rows untouched": [
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c)",
    "INSERT INTO t VALUES (1, NULL, 'x')",
    "PRAGMA schema_version",
    "ALTER TABLE t ALTER COLUMN b TO b INTEGER NOT NULL DEFAULT 5",
    "PRAGMA schema_version",
    "INSERT INTO t(a, c) VALUES (2, 'y')",
    "INSERT INTO t VALUES (3, NULL, 'z')",
    "INSERT INTO t VALUES (4, '42', 'w')",
    "SELECT a, b, typeof(b) FROM t ORDER BY a",
    "PRAGMA integrity_check",
  ],
  "letter case of the name may change": [
    "CREATE TABLE t(a, B TEXT)",
    "ALTER TABLE t ALTER COLUMN b TO b INT",
    "ALTER TABLE t ALTER COLUMN B TO B REAL",
    "ALTER TABLE main.t ALTER COLUMN a INT TO A NOT NULL",
  ],
  "CHECK on and off": [
    "CREATE TABLE t(id)",
    "INSERT INTO t VALUES (10)",
    "ALTER TABLE t ALTER COLUMN id TO id CHECK(id < 5)",
    "INSERT INTO t VALUES (10)",
    "INSERT INTO t VALUES (4)",
    "UPDATE t SET id = 11 WHERE id = 10",
    "ALTER TABLE t ALTER COLUMN id TO id",
    "INSERT INTO t VALUES (10)",
    "SELECT id FROM t ORDER BY id",
  ],
  "DEFAULT for new rows": [
    "CREATE TABLE t(id, v)",
    "INSERT INTO t(id) VALUES (1)",
    "ALTER TABLE t ALTER COLUMN v TO v DEFAULT ('x' || 'y')",
    "INSERT INTO t(id) VALUES (2)",
    "ALTER TABLE t ALTER COLUMN v TO v DEFAULT -1",
    "INSERT INTO t(id) VALUES (3)",
    "ALTER TABLE t ALTER COLUMN v TO v NOT NULL ON CONFLICT REPLACE DEFAULT 7",
    "INSERT INTO t VALUES (4, NULL)",
    "SELECT id, v FROM t ORDER BY id",
  ],
  "REFERENCES added and removed (foreign keys are on, as libSQL's default)": [
    "CREATE TABLE t1(id INT PRIMARY KEY)",
    "CREATE TABLE t2(id INT PRIMARY KEY, v TEXT, t1_id)",
    "INSERT INTO t1 VALUES (1)",
    "INSERT INTO t2 VALUES (1, 'a', 42)",
    "ALTER TABLE t2 ALTER COLUMN t1_id TO t1_id REFERENCES t1(id) ON DELETE CASCADE",
    "INSERT INTO t2 VALUES (2, 'b', 42)",
    "INSERT INTO t2 VALUES (3, 'c', 1)",
    "PRAGMA foreign_key_list(t2)",
    "PRAGMA foreign_key_check(t2)",
    "DELETE FROM t1 WHERE id = 1",
    "SELECT id FROM t2 ORDER BY id",
    "ALTER TABLE t2 ALTER COLUMN t1_id TO t1_id",
    "INSERT INTO t2 VALUES (4, 'd', 42)",
  ],
  "quoted names": [
    'CREATE TABLE "x y"(a, "b c" TEXT, [d] TEXT, "e""q" TEXT)',
    'ALTER TABLE "x y" ALTER COLUMN "b c" TO "b c" INT NOT NULL',
    "ALTER TABLE [x y] ALTER COLUMN [d] TO [d] INT",
    'ALTER TABLE "x y" ALTER COLUMN "e""q" TO "e""q" BLOB',
    'ALTER TABLE "x y" ALTER COLUMN "d" TO d INT',
    'ALTER TABLE "x y" ALTER COLUMN a TO "a" INT',
  ],
  "indexed columns: types may change (existing entries stay valid)": [
    "CREATE TABLE t(id, v TEXT)",
    "CREATE INDEX i ON t(v)",
    "INSERT INTO t VALUES (1, 'x'), (2, 'y')",
    "ALTER TABLE t ALTER COLUMN v TO v VARCHAR(20) NOT NULL DEFAULT 'z'",
    "INSERT INTO t(id) VALUES (3)",
    "SELECT id, v FROM t WHERE v >= 'y' ORDER BY v",
    "PRAGMA integrity_check",
  ],
  "primary key, unique and generated columns keep what they are": [
    "CREATE TABLE t(id INTEGER PRIMARY KEY, u INT UNIQUE, g AS (u * 2), w, k INT, PRIMARY KEY(k))",
    "CREATE TABLE t2(id INT PRIMARY KEY, u, PRIMARY KEY(u))",
    "CREATE TABLE t3(id INTEGER PRIMARY KEY, x)",
    "ALTER TABLE t3 ALTER COLUMN id TO id INTEGER NOT NULL PRIMARY KEY",
    "ALTER TABLE t3 ALTER COLUMN id TO id INTEGER PRIMARY KEY DESC",
    "ALTER TABLE t3 ALTER COLUMN id TO id INT PRIMARY KEY",
    "ALTER TABLE t3 ALTER COLUMN id TO id",
    "ALTER TABLE t3 ALTER COLUMN x TO x PRIMARY KEY",
    "ALTER TABLE t3 ALTER COLUMN x TO x CONSTRAINT c UNIQUE",
    "ALTER TABLE t3 ALTER COLUMN x TO x GENERATED ALWAYS AS (id + 1)",
    "CREATE TABLE t4(a INT UNIQUE, b AS (a + 1))",
    "ALTER TABLE t4 ALTER COLUMN a TO a",
    "ALTER TABLE t4 ALTER COLUMN a TO a TEXT UNIQUE NOT NULL",
    "ALTER TABLE t4 ALTER COLUMN b TO b AS (a + 2)",
    "ALTER TABLE t4 ALTER COLUMN b TO b",
    "INSERT INTO t4(a) VALUES ('1')",
    "SELECT a, b FROM t4",
  ],
  "libSQL's errors": [
    "CREATE TABLE t(a, b)",
    "CREATE VIEW v AS SELECT a FROM t",
    "CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, msg)",
    "ALTER TABLE nope ALTER COLUMN a TO a",
    "ALTER TABLE main.nope ALTER COLUMN a TO a",
    "ALTER TABLE t ALTER COLUMN zz TO zz INT",
    'ALTER TABLE t ALTER COLUMN "zz" TO "zz" INT',
    "ALTER TABLE t ALTER COLUMN b TO c INT",
    'ALTER TABLE t ALTER COLUMN b TO "b" INT',
    "ALTER TABLE v ALTER COLUMN a TO a INT",
    "ALTER TABLE sqlite_schema ALTER COLUMN sql TO sql INT",
    "ALTER TABLE sqlite_sequence ALTER COLUMN name TO name TEXT",
    "ALTER TABLE t ALTER COLUMN rowid TO rowid INT",
  ],
  "what libSQL's grammar refuses": [
    "CREATE TABLE t(a, b)",
    "ALTER TABLE t ALTER b TO b INT",
    "ALTER TABLE t ALTER COLUMN b TO b, c",
    "ALTER TABLE t ALTER COLUMN b TO b)",
    "ALTER TABLE t ALTER COLUMN b TO",
    "ALTER TABLE t ALTER COLUMN b TO b DEFAULT 'x' || 'y'",
    "ALTER TABLE t ALTER COLUMN b TO b REFERENCES x(y) TEXT",
    "ALTER TABLE t ALTER COLUMN b TO b 1 2 3",
    "ALTER TABLE IF EXISTS t ALTER COLUMN b TO b INT",
    "ALTER TABLE t ALTER COLUMN b TO b DEFAULT ?",
  ],
  "comments and a semicolon": [
    "CREATE TABLE t(a , b /* old */ )",
    "ALTER TABLE t ALTER COLUMN b TO b /*x*/ INT /*y*/ NOT NULL /*z*/",
    "ALTER TABLE t ALTER COLUMN a TO a INT; -- why",
    "INSERT INTO t VALUES (1, NULL)",
    "ALTER TABLE t ALTER COLUMN b TO b TEXT   ;",
    "SELECT sql FROM sqlite_schema",
    "ALTER TABLE t ALTER COLUMN b TO b TEXT\n  -- trailing\n  ;",
  ],
  "a STRICT table": [
    "CREATE TABLE t(a INT, b INT) STRICT",
    "INSERT INTO t VALUES (1, 2)",
    "ALTER TABLE t ALTER COLUMN b TO b TEXT NOT NULL",
    "INSERT INTO t VALUES (2, 3)",
    "SELECT a, b, typeof(b) FROM t ORDER BY a",
  ],
  "a TEMP table": [
    "CREATE TEMP TABLE t(a, b)",
    "ALTER TABLE temp.t ALTER COLUMN b TO b NOT NULL",
    "SELECT sql FROM temp.sqlite_schema",
    "INSERT INTO t VALUES (1, NULL)",
  ],
  "a WITHOUT ROWID table": [
    "CREATE TABLE t(a PRIMARY KEY, b) WITHOUT ROWID",
    "ALTER TABLE t ALTER COLUMN b TO b INT NOT NULL",
    "INSERT INTO t VALUES (1, NULL)",
    "ALTER TABLE t ALTER COLUMN a TO a PRIMARY KEY NOT NULL",
  ],
  "views and triggers on the table keep working": [
    "CREATE TABLE t(a, b)",
    "CREATE TABLE log(x)",
    "CREATE VIEW v AS SELECT b FROM t",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.b); END",
    "ALTER TABLE t ALTER COLUMN b TO b TEXT NOT NULL",
    "INSERT INTO t VALUES (1, 2)",
    "SELECT * FROM v",
    "SELECT x, typeof(x) FROM log",
  ],
};

/**
 * Statements whose error messages differ on purpose (README, "libSQL differences"): where the new
 * definition is one SQLite would not create, libSQL's message is only the new CREATE TABLE text;
 * ours says what is wrong. The code is the same.
 */
const OWN_MESSAGE = new Set<string>([
  "ALTER TABLE t3 ALTER COLUMN x TO x PRIMARY KEY",
  // The grammar is SQLite 3.54's and libSQL's together: ALTER [COLUMN] x SET/DROP NOT NULL is
  // 3.54's, so `ALTER b` goes on to TO, where it fails.
  "ALTER TABLE t ALTER b TO b INT",
]);

describe("ALTER COLUMN … TO against native libSQL", () => {
  it.each(Object.entries(SCENARIOS))("%s", async (_name, statements) => {
    platform = await createPlatform();
    await platform.createDatabase("diff");
    const ours = platform.client("diff") as unknown as AnyClient;
    const theirs = createClient({ url: ":memory:" });
    const mismatches: string[] = [];
    for (const sql of statements) {
      const a = (await outcome(ours, sql)) as { message?: string };
      const b = (await outcome(theirs, sql)) as { message?: string };
      if (OWN_MESSAGE.has(sql)) {
        delete a.message;
        delete b.message;
      }
      if (JSON.stringify(a) !== JSON.stringify(b)) {
        mismatches.push(`${sql}\n  ours:   ${JSON.stringify(a)}\n  libsql: ${JSON.stringify(b)}`);
      }
    }
    const [sa, sb] = [await state(ours), await state(theirs)];
    if (JSON.stringify(sa) !== JSON.stringify(sb)) {
      mismatches.push(
        `final state\n  ours:   ${JSON.stringify(sa)}\n  libsql: ${JSON.stringify(sb)}`,
      );
    }
    theirs.close();
    expect(mismatches.join("\n")).toBe("");
  });

  it("the parser accepts exactly what libSQL's grammar accepts", async () => {
    const theirs = createClient({ url: ":memory:" });
    await theirs.execute("CREATE TABLE t(a, b)");
    const mismatches: string[] = [];
    for (const statements of Object.values(SCENARIOS)) {
      for (const sql of statements) {
        if (!/ALTER\s+TABLE/i.test(sql) || OWN_MESSAGE.has(sql)) continue;
        const ours = parse(sql).errors[0]?.message ?? null;
        const theirsError = await theirs.execute(`EXPLAIN ${sql}`).then(
          () => null,
          (e: Error) => e.message.replace(/^SQLITE_ERROR: /, ""),
        );
        const syntax = /syntax error|incomplete input|unrecognized token/;
        const theirsSyntax = theirsError !== null && syntax.test(theirsError) ? theirsError : null;
        if (ours !== theirsSyntax) mismatches.push(`${sql}: ours ${ours}, libSQL ${theirsSyntax}`);
      }
    }
    theirs.close();
    expect(mismatches).toEqual([]);
  });
});

describe("ALTER COLUMN … TO where libSQL is weak (documented differences)", () => {
  /** Runs `statements` on both sides; returns each side's last outcome and final state. */
  async function both(statements: string[]) {
    platform = await createPlatform();
    await platform.createDatabase("diff");
    const ours = platform.client("diff") as unknown as AnyClient;
    const theirs = createClient({ url: ":memory:" });
    const run = async (c: AnyClient) => {
      const outcomes = [];
      for (const sql of statements) outcomes.push(await outcome(c, sql));
      return { outcomes, state: await state(c) };
    };
    const result = { ours: await run(ours), libsql: await run(theirs) };
    theirs.close();
    return result;
  }

  it("reads the old definition whole where libSQL cuts it at a comma in a string or CHECK", async () => {
    const r = await both([
      "CREATE TABLE t(a, b TEXT DEFAULT ',' CHECK (b IN ('x', ',')), c)",
      "ALTER TABLE t ALTER COLUMN b TO b INTEGER",
    ]);
    expect(r.libsql.outcomes[1]).toMatchObject({ code: "SQLITE_ERROR" });
    expect(r.ours.outcomes[1]).toEqual({ rows: [], rowsAffected: 0 });
    expect(JSON.stringify(r.ours.state)).toContain("CREATE TABLE t(a, b INTEGER, c)");
  });

  it("ends a trailing -- comment's line (libSQL's comments out the rest of the table)", async () => {
    const r = await both(["CREATE TABLE t(a, b)", "ALTER TABLE t ALTER COLUMN b TO b INT -- note"]);
    expect(r.libsql.outcomes[1]).toMatchObject({ code: "SQLITE_ERROR" });
    expect(JSON.stringify(r.ours.state)).toContain("CREATE TABLE t(a, b INT -- note\\n)");
  });

  it("refuses a collation change an index depends on (libSQL leaves the index wrong)", async () => {
    const statements = [
      "CREATE TABLE t(a, b)",
      "CREATE INDEX i ON t(b)",
      "INSERT INTO t VALUES (1, 'a'), (2, 'B'), (3, 'A')",
      "ALTER TABLE t ALTER COLUMN b TO b COLLATE nocase",
      "PRAGMA integrity_check",
    ];
    const r = await both(statements);
    expect(r.libsql.outcomes[3]).toEqual({ rows: [], rowsAffected: 0 });
    expect(JSON.stringify(r.libsql.outcomes[4])).toContain("missing from index i");
    expect(r.ours.outcomes[3]).toMatchObject({ code: "SQLITE_ERROR" });
    expect(r.ours.outcomes[4]).toEqual({ rows: [["ok"]], rowsAffected: 0 });
  });

  it("refuses a change of which column is the rowid (libSQL: an orphan index error)", async () => {
    const r = await both([
      "CREATE TABLE t(a INT, b, PRIMARY KEY(a))",
      "ALTER TABLE t ALTER COLUMN a TO a INTEGER",
    ]);
    expect(r.libsql.outcomes[1]).toMatchObject({ code: "SQLITE_ERROR" });
    expect(r.ours.outcomes[1]).toMatchObject({
      code: "SQLITE_ERROR",
      message: expect.stringMatching(/PRIMARY KEY constraint cannot be altered/),
    });
  });

  it("alters a rowid column named by a table PRIMARY KEY (libSQL refuses by mistake)", async () => {
    const r = await both([
      "CREATE TABLE t(a INTEGER, b, PRIMARY KEY(a))",
      "ALTER TABLE t ALTER COLUMN a TO a INTEGER NOT NULL",
    ]);
    expect(r.libsql.outcomes[1]).toMatchObject({
      message: expect.stringMatching(/PRIMARY KEY constraint cannot be altered/),
    });
    expect(JSON.stringify(r.ours.state)).toContain(
      "CREATE TABLE t(a INTEGER NOT NULL, b, PRIMARY KEY(a))",
    );
  });

  it("refuses definitions SQLite would not create, saying why", async () => {
    for (const def of ["b CHECK (zz > 0)", "b DEFAULT (a)", "b COLLATE nosuch"]) {
      const r = await both(["CREATE TABLE t(a, b)", `ALTER TABLE t ALTER COLUMN b TO ${def}`]);
      expect(r.ours.outcomes[1], def).toMatchObject({
        code: "SQLITE_ERROR",
        message: expect.stringMatching(/^SQLITE_ERROR: error in adding .* to t: .+/),
      });
      expect(JSON.stringify(r.ours.state)).toContain("CREATE TABLE t(a, b)");
    }
  });

  it("creates sqlite_sequence for a new AUTOINCREMENT (libSQL's next insert fails as corrupt)", async () => {
    const r = await both([
      "CREATE TABLE t(a INTEGER PRIMARY KEY, b)",
      "ALTER TABLE t ALTER COLUMN a TO a INTEGER PRIMARY KEY AUTOINCREMENT",
      "INSERT INTO t(b) VALUES (1)",
    ]);
    expect(r.libsql.outcomes[2]).toMatchObject({ code: "SQLITE_CORRUPT" });
    expect(r.ours.outcomes[2]).toEqual({ rows: [], rowsAffected: 1 });
  });
});

describe("ALTER COLUMN … TO on schema databases and attachments", () => {
  async function schema(children: number, options: Parameters<typeof createPlatform>[0] = {}) {
    platform = await createPlatform(options);
    await platform.createDatabase("app", { type: "schema" });
    await platform
      .client("app")
      .execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, plan TEXT)");
    for (let i = 0; i < children; i++) {
      await platform.createDatabase(`t${i}`, { schema: "app" });
      // Half the children have rows of their own; the others read the parent's shared image.
      if (i % 2 === 0) {
        await platform
          .client(`t${i}`)
          .execute(`INSERT INTO users (name, plan) VALUES ('user of t${i}', NULL)`);
      }
    }
    return platform;
  }
  const tableSql = async (p: Platform, db: string) =>
    (await p.client(db).execute("SELECT sql FROM sqlite_schema WHERE name = 'users'")).rows[0]?.[0];

  it("is refused on a schema child and changes nothing", async () => {
    const p = await schema(1);
    const before = await tableSql(p, "t0");
    for (const sql of [
      "ALTER TABLE users ALTER COLUMN plan TO plan TEXT NOT NULL DEFAULT 'free'",
      "ALTER TABLE main.users ALTER COLUMN plan TO plan TEXT",
      "ALTER TABLE nope ALTER COLUMN plan TO plan TEXT",
    ]) {
      await expect(p.client("t0").execute(sql)).rejects.toBeTenantliteError(
        "DDL_FORBIDDEN",
        /takes its schema from "app"; run the change on "app"/,
      );
    }
    await expect(
      p
        .client("t0")
        .batch(
          [
            "INSERT INTO users (name) VALUES ('x')",
            "ALTER TABLE users ALTER COLUMN plan TO plan INT",
          ],
          "write",
        ),
    ).rejects.toBeTenantliteError("DDL_FORBIDDEN");
    expect(await tableSql(p, "t0")).toBe(before);
  });

  it("on a schema parent is a migration that reaches every child", async () => {
    const p = await schema(6);
    await p
      .client("app")
      .execute("ALTER TABLE users ALTER COLUMN plan TO plan TEXT NOT NULL DEFAULT 'free'");
    const expected =
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, plan TEXT NOT NULL DEFAULT 'free')";
    expect(await tableSql(p, "app")).toBe(expected);
    for (let i = 0; i < 6; i++) {
      const c = p.client(`t${i}`);
      expect(await tableSql(p, `t${i}`), `t${i}`).toBe(expected);
      // Old rows kept as they were; the new definition applies to new rows.
      await c.execute("INSERT INTO users (name) VALUES ('new')");
      await expect(
        c.execute("INSERT INTO users (name, plan) VALUES ('x', NULL)"),
      ).rejects.toBeTenantliteError("SQLITE_CONSTRAINT");
      const rows = (await c.execute("SELECT name, plan FROM users ORDER BY id")).rows;
      expect(rows.map((r) => [r[0], r[1]])).toEqual([
        ...(i % 2 === 0 ? [[`user of t${i}`, null]] : []),
        ["new", "free"],
      ]);
    }
    expect(await p.checkSchemas("app")).toEqual([]);
    const { migrations } = await p.listMigrations("app");
    expect((await p.getMigration("app", migrations[0]!.job_id)).status).toBe("RunSuccess");
    // In a batch, a transaction and a migration of several statements too.
    await p
      .client("app")
      .batch(
        [
          "ALTER TABLE users ALTER COLUMN name TO name TEXT NOT NULL",
          "CREATE INDEX users_name ON users(name)",
        ],
        "write",
      );
    const tx = await p.client("app").transaction("write");
    await tx.execute("ALTER TABLE users ALTER COLUMN name TO name TEXT NOT NULL DEFAULT ''");
    await tx.commit();
    for (let i = 0; i < 6; i++) {
      expect(await tableSql(p, `t${i}`)).toBe(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', plan TEXT NOT NULL DEFAULT 'free')",
      );
    }
    expect(await p.checkSchemas("app")).toEqual([]);
  });

  it("fails on the parent without a job, naming libSQL's reason, and changes nothing", async () => {
    const p = await schema(2);
    const before = await tableSql(p, "t1");
    const jobs = (await p.listMigrations("app")).migrations;
    await expect(
      p.client("app").execute("ALTER TABLE users ALTER COLUMN nope TO nope INT"),
    ).rejects.toBeTenantliteError("SCHEMA_MIGRATION_ERROR", /at step 1: no such column: "nope"/);
    expect(await tableSql(p, "t1")).toBe(before);
    expect((await p.listMigrations("app")).migrations).toEqual(jobs);
  });

  it("runs on the migration runner's own thread when worker threads are on", async () => {
    const real = createMigrationThreads({ threads: 1, fromChildren: 1 });
    let asked = 0;
    const threads: MigrationThreads = {
      start: (n) => {
        asked++;
        real.start(n);
      },
      run: (image, statements) => {
        asked++;
        return real.run(image, statements);
      },
      close: () => real.close(),
    };
    const p = await schema(4, { migrationThreads: threads });
    asked = 0;
    await p.migrate("app", [
      "ALTER TABLE users ALTER COLUMN plan TO plan TEXT DEFAULT 'pro'",
      "ALTER TABLE users ADD COLUMN seats INT",
    ]);
    for (let i = 0; i < 4; i++) {
      await p.client(`t${i}`).execute("INSERT INTO users (name) VALUES ('n')");
      const rs = await p.client(`t${i}`).execute("SELECT plan FROM users WHERE name = 'n'");
      expect(rs.rows[0]?.[0]).toBe("pro");
    }
    expect(await p.checkSchemas("app")).toEqual([]);
    // Threads have sql.js only: the job never went to them.
    expect(asked).toBe(0);
  });

  it("is refused through an attachment (read-only) and changes nothing", async () => {
    platform = await createPlatform();
    const p = platform;
    await p.createDatabase("app");
    await p.createDatabase("users", { config: { allow_attach: true } });
    await p.client("users").execute("CREATE TABLE prefs (uid INTEGER PRIMARY KEY, theme TEXT)");
    const before = await (await p.client("users").execute("SELECT sql FROM sqlite_schema")).rows;
    const c = p.client("app");
    await c.execute('ATTACH "users" AS u');
    for (const sql of [
      "ALTER TABLE u.prefs ALTER COLUMN theme TO theme TEXT NOT NULL",
      // Unqualified, the name resolves to the attached table (main has none).
      "ALTER TABLE prefs ALTER COLUMN theme TO theme TEXT NOT NULL",
    ]) {
      await expect(c.execute(sql)).rejects.toBeTenantliteError(
        "SQLITE_READONLY",
        /"u" is attached read-only/,
      );
    }
    expect((await p.client("users").execute("SELECT sql FROM sqlite_schema")).rows).toEqual(before);
    c.close();
  });
});
