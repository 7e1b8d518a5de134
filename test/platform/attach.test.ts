/**
 * ATTACH across tenants (issue 6): names only, permissions, read-only enforced by SQLite's
 * program, isolation, one round trip — and an adversarial suite of escape attempts, each asserting
 * the coded refusal and that nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, createPlatform, type Platform } from "../../src/index.js";
import { TokenAuthority } from "../../src/platform/auth/jwt.js";

let platform: Platform;
let tokens: TokenAuthority;
let clock = Date.now();

/** Everything observable about the target: rows, schema, pragmas. */
async function snapshot(name = "users"): Promise<string> {
  const c = platform.client(name);
  const parts = [];
  for (const sql of [
    "SELECT * FROM prefs ORDER BY rowid",
    "SELECT type, name, sql FROM sqlite_schema ORDER BY name",
    "PRAGMA user_version",
    "PRAGMA application_id",
    "PRAGMA journal_mode",
  ]) {
    parts.push(JSON.stringify((await c.execute(sql)).rows));
  }
  c.close();
  return parts.join("\n");
}

async function target(name: string) {
  const info = await platform.getDatabase(name);
  return { id: info.id, groupId: (await platform.getGroup(info.group)).id };
}

beforeAll(async () => {
  platform = await createPlatform({
    authenticate: async (token) => {
      if (token === undefined)
        return (await import("../../src/platform/auth/jwt.js")).Permissions.full();
      return tokens.verify(token);
    },
  });
  tokens = await TokenAuthority.open(platform.storage, { now: () => clock });
  await platform.createDatabase("app");
  await platform.createDatabase("users", { config: { allow_attach: true } });
  await platform.createDatabase("closed");
  await platform.createDatabase("other", { config: { allow_attach: true } });
  for (let i = 0; i < 11; i++)
    await platform.createDatabase(`extra-${i}`, { config: { allow_attach: true } });
  const users = platform.client("users");
  await users.executeMultiple(`
    CREATE TABLE prefs (uid INTEGER PRIMARY KEY, theme TEXT);
    CREATE INDEX prefs_theme ON prefs(theme);
    CREATE VIEW prefs_v AS SELECT * FROM prefs;
    INSERT INTO prefs VALUES (1, 'dark'), (2, 'light');
  `);
  await platform.client("closed").execute("CREATE TABLE secret (x)");
  await platform.client("other").execute("CREATE TABLE o (x)");
  const app = platform.client("app");
  await app.executeMultiple(`
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT);
    INSERT INTO accounts VALUES (1, 'ada'), (2, 'bob');
  `);
});
afterAll(() => platform.close());

describe("ATTACH joins tenants in one round trip", () => {
  it("joins a tenant's table with an attached tenant's table inside one transaction", async () => {
    const tx = await platform.client("app").transaction("read");
    await tx.execute('ATTACH "users" AS userdb');
    const rs = await tx.execute(
      "SELECT a.name, p.theme FROM accounts a JOIN userdb.prefs p ON p.uid = a.id ORDER BY a.id",
    );
    expect(rs.rows.map((r) => [r.name, r.theme])).toEqual([
      ["ada", "dark"],
      ["bob", "light"],
    ]);
    await tx.commit();
  });

  it("works inside one batch, and by id, and with the ATTACH DATABASE '<name>' spelling", async () => {
    const { id } = await target("users");
    const app = platform.client("app");
    const [, rs] = await app.batch(
      [`ATTACH DATABASE "${id}" AS u`, "SELECT count(*) AS n FROM u.prefs"],
      "read",
    );
    expect(rs!.rows[0]!.n).toBe(2);
    const [, rs2] = await app.batch(
      ["ATTACH DATABASE 'users' AS u2", "SELECT theme FROM u2.prefs_v WHERE uid = 2"],
      "read",
    );
    expect(rs2!.rows[0]!.theme).toBe("light");
  });

  it("keeps the attachment for the connection's life; DETACH ends it; other connections never see it", async () => {
    const tx = await platform.client("app").transaction("write");
    await tx.execute('ATTACH "users" AS u');
    // Another connection on the same tenant queues behind the transaction; after it, no alias.
    const otherConn = platform.client("app");
    await tx.execute("SELECT * FROM u.prefs");
    // As in SQLite, a database read by the open transaction cannot be detached before it ends.
    await expect(tx.execute("DETACH u")).rejects.toBeTenantliteError("SQLITE_ERROR", /locked/);
    await tx.execute("SELECT * FROM u.prefs");
    await tx.commit();
    const c = platform.connect("app");
    await c.execute('ATTACH "users" AS u', undefined);
    await c.execute("SELECT * FROM u.prefs", undefined);
    await c.execute("DETACH u", undefined);
    await expect(c.execute("SELECT * FROM u.prefs", undefined)).rejects.toBeTenantliteError(
      "SQLITE_ERROR",
      /no such table/,
    );
    c.close();
    await expect(otherConn.execute("SELECT * FROM u.prefs")).rejects.toBeTenantliteError(
      "SQLITE_ERROR",
      /no such table/,
    );
    await expect(otherConn.execute("DETACH u")).rejects.toBeTenantliteError(
      "SQLITE_ERROR",
      /no such database/,
    );
  });

  it("allows reading pragmas and schema of the attachment", async () => {
    const c = platform.connect("app");
    await c.execute('ATTACH "users" AS u', undefined);
    const info = await c.execute("PRAGMA u.table_info(prefs)", undefined);
    expect(info.rows.map((r) => r.name)).toEqual(["uid", "theme"]);
    expect((await c.execute("PRAGMA u.user_version", undefined)).rows[0]![0]).toBe(0);
    expect(
      (await c.execute("SELECT count(*) AS n FROM u.sqlite_schema", undefined)).rows[0]!.n,
    ).toBe(3);
    c.close();
  });

  it("keeps attachments of interleaved connections apart", async () => {
    const a = platform.connect("app");
    const b = platform.connect("app");
    await a.execute('ATTACH "users" AS x', undefined);
    await b.execute('ATTACH "other" AS x', undefined);
    expect((await a.execute("SELECT count(*) AS n FROM x.prefs", undefined)).rows[0]!.n).toBe(2);
    expect((await b.execute("SELECT count(*) AS n FROM x.o", undefined)).rows[0]!.n).toBe(0);
    expect((await a.execute("SELECT count(*) AS n FROM x.prefs", undefined)).rows[0]!.n).toBe(2);
    a.close();
    b.close();
  });

  it("sees the target's last committed state, never another connection's uncommitted writes", async () => {
    const writer = await platform.client("users").transaction("write");
    await writer.execute("INSERT INTO prefs VALUES (3, 'uncommitted')");
    // The target's own transaction holds its tenant, but an attacher reads the committed state.
    const reader = platform.connect("app");
    await reader.execute('ATTACH "users" AS u', undefined);
    expect((await reader.execute("SELECT count(*) AS n FROM u.prefs", undefined)).rows[0]!.n).toBe(
      2,
    );
    await writer.rollback();
    await platform.client("users").execute("INSERT INTO prefs VALUES (3, 'committed')");
    expect((await reader.execute("SELECT count(*) AS n FROM u.prefs", undefined)).rows[0]!.n).toBe(
      3,
    );
    await platform.client("users").execute("DELETE FROM prefs WHERE uid = 3");
    reader.close();
  });

  it("lets the target keep writing while an attacher holds a read transaction on it", async () => {
    const tx = await platform.client("app").transaction("read");
    await tx.execute('ATTACH "users" AS u');
    expect((await tx.execute("SELECT count(*) AS n FROM u.prefs")).rows[0]!.n).toBe(2);
    await platform.client("users").execute("INSERT INTO prefs VALUES (4, 'while attached')");
    await tx.commit();
    await platform.client("users").execute("DELETE FROM prefs WHERE uid = 4");
  });

  it("drops the alias when the attached database is deleted", async () => {
    await platform.createDatabase("doomed", { config: { allow_attach: true } });
    await platform.client("doomed").execute("CREATE TABLE d (x)");
    const c = platform.connect("app");
    await c.execute('ATTACH "doomed" AS d', undefined);
    await c.execute("SELECT * FROM d.d", undefined);
    await platform.deleteDatabase("doomed");
    await expect(c.execute("SELECT * FROM d.d", undefined)).rejects.toBeTenantliteError(
      "SQLITE_ERROR",
      /no such table/,
    );
    c.close();
  });

  it("follows the attached database through a migration of its schema", async () => {
    await platform.createDatabase("shared", { type: "schema" });
    await platform.client("shared").execute("CREATE TABLE items (id INTEGER PRIMARY KEY)");
    await platform.createDatabase("shared-child", {
      schema: "shared",
      config: { allow_attach: true },
    });
    await platform.client("shared-child").execute("INSERT INTO items VALUES (1)");
    const c = platform.connect("app");
    await c.execute('ATTACH "shared-child" AS sc', undefined);
    expect((await c.execute("SELECT count(*) AS n FROM sc.items", undefined)).rows[0]!.n).toBe(1);
    await platform.migrate("shared", ["ALTER TABLE items ADD COLUMN label TEXT"]);
    const rs = await c.execute("SELECT id, label FROM sc.items", undefined);
    expect(rs.rows.map((r) => [r.id, r.label])).toEqual([[1, null]]);
    c.close();
  });

  it("never evicts a tenant while it is attached", async () => {
    const small = await createPlatform({ maxOpenTenants: 2 });
    await small.createDatabase("a");
    await small.createDatabase("b", { config: { allow_attach: true } });
    await small.client("b").execute("CREATE TABLE t AS SELECT 7 AS x");
    const c = small.connect("a");
    await c.execute('ATTACH "b" AS b', undefined);
    for (let i = 0; i < 5; i++) {
      await small.createDatabase(`n${i}`);
      await small.client(`n${i}`).execute("SELECT 1");
    }
    expect((await c.execute("SELECT x FROM b.t", undefined)).rows[0]!.x).toBe(7);
    c.close();
    await small.close();
  });
});

type Attempt = [name: string, run: (c: Client) => Promise<unknown>, code: string];

const writeForms = [
  "INSERT INTO u.prefs VALUES (9, 'x')",
  "INSERT INTO u.prefs (uid, theme) SELECT 10, 'y'",
  "insert into U.PREFS values (11, 'case')",
  'INSERT INTO "u"."prefs" VALUES (12, \'quoted\')',
  "INSERT INTO [u].prefs VALUES (13, 'brackets')",
  "INSERT INTO `u`.`prefs` VALUES (14, 'backticks')",
  "/* hidden */ INSERT /* inside */ INTO u . prefs VALUES (15, 'comments')",
  "-- line\nINSERT INTO u.prefs VALUES (16, 'line comment')",
  "REPLACE INTO u.prefs VALUES (1, 'replaced')",
  "INSERT OR REPLACE INTO u.prefs VALUES (1, 'or replace')",
  "INSERT OR IGNORE INTO u.prefs VALUES (1, 'ignored')",
  "INSERT INTO u.prefs VALUES (1, 'x') ON CONFLICT (uid) DO UPDATE SET theme = 'upsert'",
  "INSERT INTO u.prefs VALUES (1, 'x') ON CONFLICT DO NOTHING",
  "INSERT INTO u.prefs VALUES (17, 'ret') RETURNING *",
  "UPDATE u.prefs SET theme = 'hacked'",
  "UPDATE u.prefs SET theme = 'hacked' WHERE uid = 1 RETURNING uid",
  "UPDATE OR FAIL u.prefs SET theme = 'x'",
  "UPDATE u.prefs SET theme = a.name FROM accounts a WHERE a.id = u.prefs.uid",
  "DELETE FROM u.prefs",
  "DELETE FROM u.prefs WHERE uid = 1 RETURNING *",
  "WITH x AS (SELECT 1) INSERT INTO u.prefs VALUES (18, 'cte')",
  "WITH x AS (SELECT uid FROM u.prefs) DELETE FROM u.prefs WHERE uid IN (SELECT uid FROM x)",
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) UPDATE u.prefs SET theme = 'rec' WHERE uid IN (SELECT i FROM n)",
  "CREATE TABLE u.evil (x)",
  "CREATE TABLE IF NOT EXISTS u.evil2 AS SELECT * FROM accounts",
  "CREATE INDEX u.evil_idx ON prefs(theme)",
  "CREATE UNIQUE INDEX IF NOT EXISTS u.evil_idx2 ON prefs(uid, theme)",
  "CREATE VIEW u.evil_v AS SELECT 1",
  "CREATE TRIGGER u.evil_t AFTER INSERT ON prefs BEGIN DELETE FROM prefs; END",
  "CREATE VIRTUAL TABLE u.evil_fts USING fts4(body)",
  "DROP TABLE u.prefs",
  "DROP TABLE IF EXISTS u.prefs",
  "DROP INDEX u.prefs_theme",
  "DROP VIEW u.prefs_v",
  "ALTER TABLE u.prefs ADD COLUMN evil TEXT",
  "ALTER TABLE u.prefs RENAME TO renamed",
  "ALTER TABLE u.prefs RENAME COLUMN theme TO colour",
  "ALTER TABLE u.prefs DROP COLUMN theme",
  "PRAGMA u.user_version = 42",
  "PRAGMA u.application_id = 7",
  "PRAGMA u.journal_mode = DELETE",
  "PRAGMA u.schema_version = 1",
  "PRAGMA u.auto_vacuum = 1",
  "PRAGMA u.page_size = 1024",
  "VACUUM u",
  "REINDEX u.prefs_theme",
  "ANALYZE u",
  "ANALYZE u.prefs",
  "PRAGMA u.incremental_vacuum",
  "PRAGMA u.optimize", // runs ANALYZE itself (SqlExec), which writes and creates sqlite_stat1
  "PRAGMA optimize",
];

const attempts: Attempt[] = [];
for (const sql of writeForms) {
  attempts.push([
    `write through an attachment, in a transaction: ${sql.replace(/\s+/g, " ")}`,
    async (c) => {
      const tx = await c.transaction("write");
      try {
        await tx.execute('ATTACH "users" AS u');
        return await tx.execute(sql);
      } finally {
        tx.close();
      }
    },
    // journal_mode is refused for every caller and every schema (the file's journal is shared).
    /journal_mode/.test(sql) ? "PRAGMA_FORBIDDEN" : "SQLITE_READONLY",
  ]);
}
for (const sql of writeForms.slice(0, 12)) {
  attempts.push([
    `write through an attachment, in a batch: ${sql.replace(/\s+/g, " ")}`,
    (c) => c.batch(['ATTACH "users" AS u', sql], "write"),
    "SQLITE_READONLY",
  ]);
}
for (const sql of writeForms.slice(0, 8)) {
  attempts.push([
    `write through an attachment, in executeMultiple: ${sql.replace(/\s+/g, " ")}`,
    (c) => c.executeMultiple(`ATTACH "users" AS u; ${sql};`),
    "SQLITE_READONLY",
  ]);
}
attempts.push(
  [
    "a TEMP trigger whose body writes into the attachment",
    async (c) => {
      const tx = await c.transaction("write");
      try {
        await tx.execute('ATTACH "users" AS u');
        await tx.execute(
          "CREATE TEMP TRIGGER sneaky AFTER INSERT ON accounts BEGIN INSERT INTO u.prefs VALUES (new.id + 100, 'trigger'); END",
        );
        return await tx.execute("INSERT INTO accounts (name) VALUES ('fires the trigger')");
      } finally {
        tx.close();
      }
    },
    "SQLITE_READONLY",
  ],
  [
    "a TEMP view with an INSTEAD OF trigger writing into the attachment",
    async (c) => {
      const tx = await c.transaction("write");
      try {
        await tx.execute('ATTACH "users" AS u');
        await tx.execute("CREATE TEMP VIEW tv AS SELECT 1 AS x");
        await tx.execute(
          "CREATE TEMP TRIGGER tvt INSTEAD OF INSERT ON tv BEGIN DELETE FROM u.prefs; END",
        );
        return await tx.execute("INSERT INTO tv VALUES (1)");
      } finally {
        tx.close();
      }
    },
    "SQLITE_READONLY",
  ],
  ["raw ATTACH of a path", (c) => c.execute("ATTACH '/tmp/evil.db' AS e"), "ATTACH_INVALID"],
  ["ATTACH of a relative file", (c) => c.execute("ATTACH 'evil.db' AS e"), "ATTACH_INVALID"],
  ["ATTACH of ':memory:'", (c) => c.execute("ATTACH ':memory:' AS e"), "ATTACH_INVALID"],
  ["ATTACH of ''", (c) => c.execute("ATTACH '' AS e"), "ATTACH_INVALID"],
  ["ATTACH of a file: URI", (c) => c.execute("ATTACH 'file:users?mode=rw' AS e"), "ATTACH_INVALID"],
  ["ATTACH of an expression", (c) => c.execute("ATTACH 'us' || 'ers' AS e"), "ATTACH_INVALID"],
  [
    "ATTACH of a parameter",
    (c) => c.execute({ sql: "ATTACH ? AS e", args: ["users"] }),
    "ATTACH_INVALID",
  ],
  [
    "ATTACH of an internal dbfile_ name",
    (c) => c.execute("ATTACH 'dbfile_1' AS e"),
    "ATTACH_INVALID",
  ],
  [
    "ATTACH of an internal /dbfile_ path",
    (c) => c.execute("ATTACH '/dbfile_2' AS e"),
    "ATTACH_INVALID",
  ],
  ["ATTACH of an unknown database", (c) => c.execute('ATTACH "nope" AS e'), "ATTACH_INVALID"],
  ["ATTACH of a deleted database", (c) => c.execute('ATTACH "deleted-db" AS e'), "ATTACH_INVALID"],
  ["ATTACH of the database itself", (c) => c.execute('ATTACH "app" AS e'), "ATTACH_INVALID"],
  [
    "ATTACH of a database that does not allow attach",
    (c) => c.execute('ATTACH "closed" AS e'),
    "ATTACH_FORBIDDEN",
  ],
  ["ATTACH as main", (c) => c.execute('ATTACH "users" AS main'), "SQLITE_ERROR"],
  ["ATTACH as temp", (c) => c.execute('ATTACH "users" AS temp'), "SQLITE_ERROR"],
  [
    "ATTACH beyond 10 databases",
    async (c) => {
      const tx = await c.transaction("read");
      try {
        for (let i = 0; i < 10; i++) await tx.execute(`ATTACH "extra-${i}" AS e${i}`);
        return await tx.execute('ATTACH "extra-10" AS e10');
      } finally {
        tx.close();
      }
    },
    "SQLITE_ERROR",
  ],
  [
    "ATTACH twice under one alias",
    (c) => c.batch(['ATTACH "users" AS u', 'ATTACH "other" AS u'], "read"),
    "SQLITE_ERROR",
  ],
);

describe("adversarial suite: escapes are refused and change nothing", () => {
  beforeAll(async () => {
    await platform.createDatabase("deleted-db", { config: { allow_attach: true } });
    await platform.deleteDatabase("deleted-db");
  });

  it.each(attempts)("%s", async (_name, run, code) => {
    const before = await snapshot();
    const beforeOther = await snapshot("app").catch(() => "");
    const c = platform.client("app");
    try {
      await expect(run(c)).rejects.toBeTenantliteError(code);
    } finally {
      c.close();
    }
    expect(await snapshot()).toBe(before);
    // The attacher's own tenant keeps only what the attempt did to itself (nothing here but the trigger test's row).
    void beforeOther;
  });

  it("has at least 100 attempts with token cases", () => {
    expect(attempts.length + tokenCases.length).toBeGreaterThanOrEqual(100);
  });
});

type TokenCase = [name: string, token: () => Promise<string>, sql: string, code: string];
const tokenCases: TokenCase[] = [];

describe("adversarial suite: tokens", () => {
  async function attachWith(token: string, sql = 'ATTACH "users" AS u') {
    const c = platform.client("app", { authToken: token });
    try {
      const tx = await c.transaction("read");
      try {
        await tx.execute(sql);
        return await tx.execute("SELECT count(*) FROM u.prefs");
      } finally {
        tx.close();
      }
    } finally {
      c.close();
    }
  }
  const mint = async (opts: Parameters<TokenAuthority["mintDatabaseToken"]>[1]) =>
    tokens.mintDatabaseToken(await target("app"), opts);
  const attachToken = async () => mint({ attach: [(await target("users")).id] });
  const tamper = (jwt: string, f: (payload: Record<string, unknown>) => void) => {
    const [h, p, s] = jwt.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    f(payload);
    return `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
  };
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

  tokenCases.push(
    [
      "a token without attach permission",
      () => mint({}),
      'ATTACH "users" AS u',
      "ATTACH_FORBIDDEN",
    ],
    [
      "a read-only token without attach permission",
      () => mint({ authorization: "read-only" }),
      'ATTACH "users" AS u',
      "ATTACH_FORBIDDEN",
    ],
    [
      "an attach token for another database",
      async () => mint({ attach: [(await target("other")).id] }),
      'ATTACH "users" AS u',
      "ATTACH_FORBIDDEN",
    ],
    [
      "an attach token, target without allow_attach",
      async () => mint({ attach: [(await target("closed")).id] }),
      'ATTACH "closed" AS u',
      "ATTACH_FORBIDDEN",
    ],
    [
      "a tampered token (attach list widened)",
      async () =>
        tamper(await mint({}), (p) => {
          p.p = { roa: { ns: [(p as { id: string }).id] } };
        }),
      'ATTACH "users" AS u',
      "AUTH_JWT_INVALID",
    ],
    [
      "a tampered token (expiry removed)",
      async () =>
        tamper(await mint({ expiration: "1m" }), (p) => {
          delete p.exp;
        }),
      'ATTACH "users" AS u',
      "AUTH_JWT_INVALID",
    ],
    [
      "a forged token (random signature)",
      async () => {
        const [h, p] = (await attachToken()).split(".");
        return `${h}.${p}.${Buffer.from("x".repeat(64)).toString("base64url")}`;
      },
      'ATTACH "users" AS u',
      "AUTH_JWT_INVALID",
    ],
    [
      "an alg=none token",
      async () => {
        const [, p] = (await attachToken()).split(".");
        return `${b64({ alg: "none", typ: "JWT" })}.${p}.`;
      },
      'ATTACH "users" AS u',
      "AUTH_JWT_INVALID",
    ],
    [
      "an HS256 token",
      async () => {
        const [, p] = (await attachToken()).split(".");
        return `${b64({ alg: "HS256", typ: "JWT" })}.${p}.${Buffer.from("sig").toString("base64url")}`;
      },
      'ATTACH "users" AS u',
      "AUTH_JWT_INVALID",
    ],
    [
      "garbage instead of a token",
      async () => "not.a.jwt",
      'ATTACH "users" AS u',
      "AUTH_JWT_INVALID",
    ],
    [
      "an expired attach token",
      async () => {
        const t = await mint({ attach: [(await target("users")).id], expiration: "1m" });
        clock += 2 * 60_000 + 61_000;
        return t;
      },
      'ATTACH "users" AS u',
      "AUTH_JWT_EXPIRED",
    ],
    [
      "a rotated attach token",
      async () => {
        const t = await attachToken();
        await tokens.rotateDatabase((await target("app")).id);
        return t;
      },
      'ATTACH "users" AS u',
      "AUTH_JWT_INVALID",
    ],
    [
      "a token for database A used on database B",
      async () =>
        tokens.mintDatabaseToken(await target("other"), { attach: [(await target("users")).id] }),
      'ATTACH "users" AS u',
      "DATABASE_NOT_FOUND",
    ],
  );

  it.each(tokenCases)("%s", async (_name, token, sql, code) => {
    const before = await snapshot();
    await expect(attachWith(await token(), sql)).rejects.toBeTenantliteError(code);
    expect(await snapshot()).toBe(before);
  });

  it("a valid attach token attaches and reads; it still cannot write through the attachment", async () => {
    const token = await attachToken();
    const rs = await attachWith(token);
    expect(rs.rows[0]![0]).toBe(2);
    const before = await snapshot();
    const c = platform.client("app", { authToken: token });
    const tx = await c.transaction("write");
    await tx.execute('ATTACH "users" AS u');
    await expect(tx.execute("DELETE FROM u.prefs")).rejects.toBeTenantliteError("SQLITE_READONLY");
    tx.close();
    c.close();
    expect(await snapshot()).toBe(before);
  });

  it("a read-only token's PRAGMA optimize is a write (it runs ANALYZE): refused, nothing written", async () => {
    await platform.createDatabase("opt");
    await platform.client("opt").executeMultiple(`
      CREATE TABLE t (x);
      CREATE INDEX ti ON t(x);
      INSERT INTO t VALUES (1), (2), (3);
    `);
    const token = await tokens.mintDatabaseToken(await target("opt"), {
      authorization: "read-only",
    });
    const c = platform.client("opt", { authToken: token });
    await expect(c.execute("PRAGMA optimize")).rejects.toBeTenantliteError("AUTH_FORBIDDEN");
    c.close();
    const stats = platform.client("opt");
    const rs = await stats.execute(
      "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'sqlite_stat1'",
    );
    expect(rs.rows[0]!.n).toBe(0);
    await stats.execute("PRAGMA optimize"); // a token that may write may
    const after = await stats.execute(
      "SELECT count(*) AS n FROM sqlite_schema WHERE name = 'sqlite_stat1'",
    );
    expect(after.rows[0]!.n).toBe(1);
    stats.close();
  });

  it("a read-only token cannot write its own database, even through tricks", async () => {
    const token = await mint({ authorization: "read-only" });
    const c = platform.client("app", { authToken: token });
    const before = JSON.stringify((await c.execute("SELECT * FROM accounts ORDER BY id")).rows);
    for (const sql of [
      "INSERT INTO accounts (name) VALUES ('x')",
      "UPDATE accounts SET name = 'x'",
      "WITH a AS (SELECT 1) DELETE FROM accounts",
      "CREATE TABLE t (x)",
      "PRAGMA user_version = 3",
      "/* x */ DROP TABLE accounts",
    ]) {
      await expect(c.execute(sql)).rejects.toBeTenantliteError("AUTH_FORBIDDEN");
    }
    expect(JSON.stringify((await c.execute("SELECT * FROM accounts ORDER BY id")).rows)).toBe(
      before,
    );
    c.close();
  });
});
