/**
 * Schema databases (issue 5): a parent owns its children's schema; a write to the parent is a
 * migration that reaches every child or none; DDL on a child is refused whatever its spelling.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createPlatform, MemoryStorage, type Platform } from "../../src/index.js";
import { keys } from "../../src/storage/keyspace.js";
import { caught, reopenedAfterCrash } from "../helpers.js";
import { DelegatingStorage } from "../storage/delegating-storage.js";

let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});

async function setup(children = 3) {
  platform = await createPlatform();
  await platform.createDatabase("app", { type: "schema" });
  await platform.client("app").execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
  for (let i = 0; i < children; i++) {
    await platform.createDatabase(`t${i}`, { schema: "app" });
    await platform
      .client(`t${i}`)
      .execute({ sql: "INSERT INTO users (name) VALUES (?)", args: [`user of t${i}`] });
  }
  return platform;
}

async function schemaOf(p: Platform, name: string): Promise<string> {
  const rs = await p
    .client(name)
    .execute("SELECT type, name, sql FROM sqlite_schema ORDER BY name");
  return JSON.stringify(rs.rows);
}

describe("DDL on a child is blocked", () => {
  const forms = [
    "CREATE TABLE x (a)",
    "create table x (a)",
    "CREATE TABLE main.x (a)",
    'CREATE TABLE "main"."x" (a)',
    "/* c */ CREATE /* c */ TABLE x (a)",
    "-- comment\nCREATE TABLE x (a)",
    "CREATE TABLE IF NOT EXISTS x AS SELECT 1 AS a",
    "CREATE INDEX i ON users(name)",
    "CREATE UNIQUE INDEX IF NOT EXISTS i ON users(name) WHERE name IS NOT NULL",
    "CREATE VIEW v AS SELECT * FROM users",
    "CREATE TRIGGER tr AFTER INSERT ON users BEGIN SELECT 1; END",
    "CREATE VIRTUAL TABLE f USING fts4(body)",
    "DROP TABLE users",
    "DROP TABLE IF EXISTS users",
    "ALTER TABLE users ADD COLUMN plan TEXT",
    "ALTER TABLE users RENAME TO people",
    "ALTER TABLE users RENAME COLUMN name TO full_name",
    "ALTER TABLE users DROP COLUMN name",
    "ALTER TABLE main.users ADD COLUMN x",
    "ANALYZE",
  ];
  it.each(forms)("refuses %j with DDL_FORBIDDEN and changes nothing", async (sql) => {
    const p = await setup(1);
    const before = await schemaOf(p, "t0");
    await expect(p.client("t0").execute(sql)).rejects.toBeTenantliteError(
      "DDL_FORBIDDEN",
      /"t0" takes its schema from "app"; run the change on "app" and it reaches every child/,
    );
    expect(await schemaOf(p, "t0")).toBe(before);
  });

  it("refuses DDL inside a batch, a transaction and a script, changing nothing", async () => {
    const p = await setup(1);
    const c = p.client("t0");
    const before = await schemaOf(p, "t0");
    await expect(
      c.batch(["INSERT INTO users (name) VALUES ('x')", "CREATE TABLE y (a)"], "write"),
    ).rejects.toBeTenantliteError("DDL_FORBIDDEN");
    const tx = await c.transaction("write");
    await expect(tx.execute("DROP TABLE users")).rejects.toBeTenantliteError("DDL_FORBIDDEN");
    await tx.rollback();
    await expect(c.executeMultiple("SELECT 1; CREATE TABLE z (a);")).rejects.toBeTenantliteError(
      "DDL_FORBIDDEN",
    );
    await expect(c.migrate(["ALTER TABLE users ADD COLUMN q"])).rejects.toBeTenantliteError(
      "DDL_FORBIDDEN",
    );
    expect(await schemaOf(p, "t0")).toBe(before);
    expect((await c.execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(1);
  });

  it("allows DML and TEMP objects on children (TEMP objects never reach the child's file)", async () => {
    const p = await setup(1);
    const c = p.connect("t0");
    await c.execute("INSERT INTO users (name) VALUES ('dml works')", undefined);
    await c.execute("UPDATE users SET name = upper(name)", undefined);
    await c.execute("CREATE TEMP TABLE scratch (a)", undefined);
    await c.execute("CREATE TEMP VIEW tv AS SELECT name FROM users", undefined);
    await c.execute("INSERT INTO scratch VALUES (1)", undefined);
    expect((await c.execute("SELECT count(*) AS n FROM tv", undefined)).rows[0]!.n).toBe(2);
    c.close();
    const exported = await p.exportDatabase("t0");
    expect(new TextDecoder("latin1").decode(exported)).not.toContain("scratch");
  });
});

describe("a write to the parent is a migration", () => {
  it("reaches every child: execute, batch, migrate, executeMultiple", async () => {
    const p = await setup(3);
    const app = p.client("app");
    await app.execute("ALTER TABLE users ADD COLUMN plan TEXT DEFAULT 'free'");
    await app.batch(
      ["CREATE INDEX users_by_name ON users(name)", "CREATE TABLE audit (at TEXT)"],
      "write",
    );
    await app.migrate(["ALTER TABLE audit ADD COLUMN who TEXT"]);
    await app.executeMultiple(
      "CREATE TABLE notes (body TEXT); CREATE VIEW note_count AS SELECT count(*) AS n FROM notes;",
    );
    const expected = await schemaOf(p, "app");
    for (let i = 0; i < 3; i++) {
      expect(await schemaOf(p, `t${i}`)).toBe(expected);
      const rs = await p.client(`t${i}`).execute("SELECT name, plan FROM users");
      expect(rs.rows.map((r) => [r.name, r.plan])).toEqual([[`user of t${i}`, "free"]]);
    }
    expect(await p.checkSchemas("app")).toEqual([]);
    const jobs = await p.listMigrations("app");
    // The setup's CREATE TABLE (before any child existed) was a migration too.
    expect(jobs.migrations.length).toBe(5);
    expect(jobs.migrations.every((j) => j.status === "RunSuccess")).toBe(true);
    expect(jobs.migrations.map((j) => j.job_id)).toEqual(
      [...jobs.migrations.map((j) => j.job_id)].sort((a, b) => b - a),
    );
  });

  it("applies an interactive transaction on the parent as one migration at COMMIT", async () => {
    const p = await setup(2);
    const tx = await p.client("app").transaction("write");
    await tx.execute("ALTER TABLE users ADD COLUMN email TEXT");
    const rs = await tx.execute(
      "SELECT count(*) AS n FROM pragma_table_info('users') WHERE name = 'email'",
    );
    expect(rs.rows[0]!.n).toBe(1);
    await tx.execute("CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT)");
    await tx.execute("INSERT INTO settings VALUES ('theme', 'dark')");
    await tx.commit();
    for (const name of ["app", "t0", "t1"]) {
      expect((await p.client(name).execute("SELECT v FROM settings")).rows[0]!.v).toBe("dark");
    }
    // A rolled-back transaction migrates nothing.
    const tx2 = await p.client("app").transaction("write");
    await tx2.execute("CREATE TABLE never (a)");
    await tx2.rollback();
    await expect(p.client("t0").execute("SELECT * FROM never")).rejects.toBeTenantliteError(
      "SQLITE_ERROR",
      /no such table/,
    );
    expect((await p.listMigrations("app")).migrations.length).toBe(2);
  });

  it("copies rows written to the parent into every child (as sqld does)", async () => {
    const p = await setup(2);
    await p.client("app").execute("CREATE TABLE plans (name TEXT)");
    await p.client("app").execute("INSERT INTO plans VALUES ('pro')");
    for (const name of ["t0", "t1"]) {
      expect((await p.client(name).execute("SELECT name FROM plans")).rows[0]!.name).toBe("pro");
    }
  });

  it("changes nothing anywhere when one child fails, and names the child and the statement", async () => {
    const p = await setup(3);
    // t1 has a row that breaks a UNIQUE index the migration adds.
    await p.client("t1").execute("INSERT INTO users (name) VALUES ('user of t1')");
    const before = await Promise.all(["app", "t0", "t1", "t2"].map((n) => schemaOf(p, n)));
    const e = await caught(
      p.client("app").execute("CREATE UNIQUE INDEX users_name ON users(name)"),
    );
    expect(e).toBeTenantliteError(
      "SCHEMA_MIGRATION_ERROR",
      /namespace `t1` failed with error: An error occured executing the migration at step 1: UNIQUE constraint failed/,
    );
    expect(e.message).toMatch(/task \d+/);
    const after = await Promise.all(["app", "t0", "t1", "t2"].map((n) => schemaOf(p, n)));
    expect(after).toEqual(before);
    const { migrations } = await p.listMigrations("app");
    expect(migrations[0]!.status).toBe("RunFailure");
    const job = await p.getMigration("app", migrations[0]!.job_id);
    expect(job.error).toMatch(/t1/);
    expect(job.progress.find((x) => x.namespace === "t1")).toMatchObject({ status: "RunFailure" });
    expect(job.progress.find((x) => x.namespace === "t0")).toMatchObject({
      status: "RunFailure",
      error: "aborted",
    });
    // Writes are unblocked after a failure.
    await p.client("t0").execute("INSERT INTO users (name) VALUES ('still writable')");
  });

  it("refuses a migration that fails on the parent itself without creating a job", async () => {
    const p = await setup(1);
    const before = (await p.listMigrations("app")).migrations;
    await expect(p.client("app").execute("CREATE TABLE users (x)")).rejects.toBeTenantliteError(
      "SCHEMA_MIGRATION_ERROR",
      /step 1: table users already exists/,
    );
    expect((await p.listMigrations("app")).migrations).toEqual(before);
  });

  it("names the failing statement of a batch with its index", async () => {
    const p = await setup(1);
    const e = await caught(
      p.client("app").batch(["CREATE TABLE ok1 (a)", "CREATE TABLE users (x)"], "write"),
    );
    expect(e).toBeTenantliteError("SCHEMA_MIGRATION_ERROR");
    expect((e as unknown as { statementIndex: number }).statementIndex).toBe(1);
    await expect(p.client("t0").execute("SELECT * FROM ok1")).rejects.toBeTenantliteError(
      "SQLITE_ERROR",
      /no such table/,
    );
  });

  it("blocks children's writes while a migration runs; reads go on; progress is reported", async () => {
    const p = await setup(60);
    const events: number[] = [];
    const { jobId, done } = await p.migrate("app", ["ALTER TABLE users ADD COLUMN during TEXT"], {
      wait: false,
      onProgress: (e) => events.push(e.done),
    });
    // While it runs: reads fine, writes BLOCKED, creating a child refused.
    const read = await p.client("t59").execute("SELECT count(*) AS n FROM users");
    expect(read.rows[0]!.n).toBe(1);
    await expect(
      p.client("t59").execute("INSERT INTO users (name) VALUES ('no')"),
    ).rejects.toBeTenantliteError("BLOCKED", /migration/);
    await expect(
      p.client("app").execute("INSERT INTO users (name) VALUES ('no')"),
    ).rejects.toBeTenantliteError("SCHEMA_MIGRATION_ERROR", /already in progress/);
    await expect(p.createDatabase("late", { schema: "app" })).rejects.toBeTenantliteError(
      "SCHEMA_MIGRATION_PENDING",
    );
    await expect(p.deleteDatabase("t3")).rejects.toBeTenantliteError("SCHEMA_MIGRATION_PENDING");
    const running = await p.getMigration("app", jobId);
    expect(["WaitingDryRun", "DryRunSuccess", "WaitingRun"]).toContain(running.status);
    await done;
    expect(events.length).toBeGreaterThanOrEqual(60);
    const job = await p.getMigration("app", jobId);
    expect(job.status).toBe("RunSuccess");
    expect(job.progress.length).toBe(60);
    expect(job.progress.every((x) => x.status === "RunSuccess" && x.error === null)).toBe(true);
    await p.client("t59").execute("INSERT INTO users (name, during) VALUES ('after', 'yes')");
  });

  it("a child created while a migration starts is migrated too, whichever comes first", async () => {
    const p = await setup(2);
    // A child's creation awaits its copy of the parent's image; a migration that began meanwhile
    // listed the children without it, and it kept the old schema.
    for (const [i, first] of ["child", "migration", "child", "migration"].entries()) {
      const column = `c${i}`;
      const migrate = () =>
        p.migrate("app", [`ALTER TABLE users ADD COLUMN ${column} TEXT`]).then((m) => m.done);
      const create = () => p.createDatabase(`new${i}`, { schema: "app" });
      const outcomes = await Promise.allSettled(
        first === "child" ? [create(), migrate()] : [migrate(), create()],
      );
      expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
    }
    expect(await p.checkSchemas("app")).toEqual([]);
    const columns = await p
      .client("new0")
      .execute("SELECT group_concat(name) AS c FROM pragma_table_info('users')");
    expect(columns.rows[0]!.c).toBe("id,name,c0,c1,c2,c3");
  });

  it("refuses ATTACH and stray transaction control inside a migration", async () => {
    const p = await setup(1);
    await expect(
      p.migrate("app", ["CREATE TABLE a (x)", "SAVEPOINT s"]),
    ).rejects.toBeTenantliteError("SCHEMA_MIGRATION_ERROR", /transaction items/);
    await expect(p.migrate("app", ['ATTACH "t0" AS x'])).rejects.toBeTenantliteError(
      "SCHEMA_MIGRATION_ERROR",
      /ATTACH is not permitted/,
    );
    await expect(p.getMigration("app", 999)).rejects.toBeTenantliteError("JOB_NOT_FOUND");
    await expect(p.listMigrations("t0")).rejects.toBeTenantliteError("SCHEMA_INVALID");
  });
});

describe("untouched children keep sharing one image across migrations", () => {
  /** A parent and `n` children that never wrote (they read the parent's image as created). */
  async function copies(n: number) {
    const storage = new MemoryStorage();
    platform = await createPlatform({ storage });
    await platform.createDatabase("app", { type: "schema" });
    await platform.client("app").execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    await platform.client("app").execute("INSERT INTO users (name) VALUES ('seed')");
    for (let i = 0; i < n; i++) await platform.createDatabase(`c${i}`, { schema: "app" });
    return { p: platform, storage };
  }
  const ownFiles = async (p: Platform, storage: MemoryStorage, names: string[]) => {
    const owned: string[] = [];
    for (const n of names) {
      if (await storage.has(keys.tenant((await p.getDatabase(n)).id))) owned.push(n);
    }
    return owned;
  };

  it("runs a deterministic migration once for them: no file of their own, every one migrated", async () => {
    const { p, storage } = await copies(20);
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    await p.client("c3").execute("SELECT * FROM users"); // one is open (read) while migrating
    await p.migrate("app", [
      "ALTER TABLE users ADD COLUMN plan TEXT DEFAULT 'free'",
      "CREATE INDEX users_plan ON users(plan)",
      "UPDATE users SET name = upper(name)",
    ]);
    expect(await ownFiles(p, storage, names)).toEqual([]);
    for (const n of names) {
      const rs = await p.client(n).execute("SELECT name, plan FROM users");
      expect(rs.rows.map((r) => [r.name, r.plan])).toEqual([["SEED", "free"]]);
    }
    expect(await p.checkSchemas("app")).toEqual([]);
    // Still shared after a restart; a child that writes gets its own file, the others do not.
    await p.close();
    platform = await createPlatform({ storage });
    await platform.client("c5").execute("INSERT INTO users (name) VALUES ('mine')");
    await platform.close(); // the memory backend saves open tenants' changes on close
    platform = await createPlatform({ storage });
    expect(await ownFiles(platform, storage, names)).toEqual(["c5"]);
    expect(
      (await platform.client("c6").execute("SELECT count(*) AS n FROM users")).rows[0]!.n,
    ).toBe(1);
  });

  it("children opened by readers while the migration applies end up migrated in memory too", async () => {
    const { p } = await copies(150);
    for (let i = 0; i < 150; i += 3) {
      await p.client(`c${i}`).execute("INSERT INTO users (name) VALUES ('own row')");
    }
    const { done } = await p.migrate("app", ["ALTER TABLE users ADD COLUMN plan TEXT"], {
      wait: false,
    });
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    // Readers open children (and leave them open) while the job stages and applies.
    for (let n = 0; !finished && n < 3000; n++) {
      await p.client(`c${n % 150}`).execute("SELECT count(*) FROM users");
    }
    await done;
    for (let i = 0; i < 150; i++) {
      const rs = await p.client(`c${i}`).execute("SELECT name FROM pragma_table_info('users')");
      expect(
        rs.rows.map((r) => r.name),
        `c${i}`,
      ).toContain("plan");
    }
  });

  it("deletes shared images nobody reads any more at the next start", async () => {
    const { p, storage } = await copies(3);
    const before = await storage.list("images/");
    expect(before).toHaveLength(1);
    await p.migrate("app", ["ALTER TABLE users ADD COLUMN plan TEXT"]);
    expect(await storage.list("images/")).toHaveLength(2);
    await p.close();
    platform = await createPlatform({ storage });
    const after = await storage.list("images/");
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before); // the children's migrated image stays, the old one goes
    expect((await platform.client("c2").execute("SELECT plan FROM users")).columns).toEqual([
      "plan",
    ]);
    for (const n of ["c0", "c1", "c2"]) await platform.deleteDatabase(n);
    await platform.close();
    platform = await createPlatform({ storage });
    expect(await storage.list("images/")).toEqual([]);
  });

  it("runs a migration child by child when its result could differ between runs", async () => {
    for (const statement of [
      "UPDATE users SET name = hex(randomblob(8))",
      "UPDATE users SET name = datetime('now') || random()",
    ]) {
      const { p, storage } = await copies(6);
      const names = Array.from({ length: 6 }, (_, i) => `c${i}`);
      await p.migrate("app", [statement]);
      const values = new Set<unknown>();
      for (const n of names) {
        values.add((await p.client(n).execute("SELECT name FROM users")).rows[0]!.name);
      }
      expect(values.size, statement).toBe(6);
      expect((await ownFiles(p, storage, names)).length).toBe(6);
      await p.close();
      platform = undefined;
    }
  });

  it("runs child by child when a trigger fires (its program is not checked)", async () => {
    const { p, storage } = await copies(4);
    await p.migrate("app", [
      "CREATE TABLE log (v)",
      "CREATE TRIGGER users_log AFTER UPDATE ON users BEGIN INSERT INTO log VALUES (random()); END",
    ]);
    await p.migrate("app", ["UPDATE users SET name = 'x'"]);
    const values = new Set<unknown>();
    for (let i = 0; i < 4; i++) {
      values.add((await p.client(`c${i}`).execute("SELECT hex(v) AS v FROM log")).rows[0]!.v);
    }
    expect(values.size).toBe(4);
    expect((await ownFiles(p, storage, ["c0", "c1", "c2", "c3"])).length).toBe(4);
  });

  it("migrates children with rows of their own one by one, next to shared ones", async () => {
    const { p, storage } = await copies(6);
    await p.client("c1").execute("INSERT INTO users (name) VALUES ('own row')");
    await p.client("c4").execute("INSERT INTO users (name) VALUES ('own row')");
    await p.migrate("app", ["ALTER TABLE users ADD COLUMN plan TEXT"]);
    const names = Array.from({ length: 6 }, (_, i) => `c${i}`);
    expect((await ownFiles(p, storage, names)).sort()).toEqual(["c1", "c4"]);
    for (const n of names) {
      const rs = await p.client(n).execute("SELECT count(*) AS n, max(plan) AS plan FROM users");
      expect(rs.rows[0]!.n).toBe(n === "c1" || n === "c4" ? 2 : 1);
    }
    expect(await p.checkSchemas("app")).toEqual([]);
  });
});

describe("migration tools", () => {
  const drizzleLike = [
    "BEGIN",
    'CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)',
    "CREATE TABLE `posts` (`id` integer PRIMARY KEY NOT NULL, `title` text NOT NULL)",
    "CREATE INDEX `posts_title_idx` ON `posts` (`title`)",
    'INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES (\'abc123\', 1700000000000)',
    "COMMIT",
  ];

  it("a tool's BEGIN … COMMIT script with its bookkeeping table reaches every child", async () => {
    const p = await setup(3);
    await p.client("app").executeMultiple(`${drizzleLike.join(";\n")};`);
    for (const name of ["app", "t0", "t1", "t2"]) {
      const rs = await p.client(name).execute('SELECT hash FROM "__drizzle_migrations"');
      expect(rs.rows.map((r) => r.hash)).toEqual(["abc123"]);
    }
    expect(await p.checkSchemas("app")).toEqual([]);
  });

  it("the same through an interactive transaction (the tool's own BEGIN … COMMIT)", async () => {
    const p = await setup(2);
    const tx = await p.client("app").transaction("write");
    for (const sql of drizzleLike.slice(1, -1)) await tx.execute(sql);
    await tx.commit();
    for (const name of ["t0", "t1"]) {
      const rs = await p.client(name).execute("SELECT count(*) AS n FROM posts");
      expect(rs.rows[0]!.n).toBe(0);
      expect(
        (await p.client(name).execute('SELECT count(*) AS n FROM "__drizzle_migrations"')).rows[0]!
          .n,
      ).toBe(1);
    }
    expect(await p.checkSchemas("app")).toEqual([]);
  });
});

/**
 * A memory store under another kind (so the platform saves through its persister) whose
 * `overwriteMany` writes at once and reports its entries synced only when the test says so.
 */
class HeldSyncStorage extends DelegatingStorage {
  /** Keys saved with `save`, in order. */
  readonly saved: string[] = [];
  /** Syncs not released yet. */
  readonly held: { resolve: () => void; reject: (e: Error) => void }[] = [];
  constructor() {
    super(new MemoryStorage(), "held-sync");
  }
  override save(key: string, bytes: Uint8Array) {
    this.saved.push(key);
    return this.inner.save(key, bytes);
  }
  async overwriteMany(entries: readonly { key: string; bytes: Uint8Array }[]) {
    for (const e of entries) await this.inner.save(e.key, e.bytes);
    const synced = new Promise<void>((resolve, reject) => this.held.push({ resolve, reject }));
    return { synced };
  }
  /** Releases (or fails) every sync held so far. */
  release(error?: Error) {
    for (const h of this.held.splice(0)) error ? h.reject(error) : h.resolve();
  }
}

/** Whether a promise settles within a few turns of the event loop. */
async function settlesSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await new Promise((r) => setTimeout(r, 30));
  return settled;
}

describe("a job is done before its children's files are synced", () => {
  async function setupHeld() {
    const storage = new HeldSyncStorage();
    platform = await createPlatform({ storage });
    const p = platform;
    await p.createDatabase("app", { type: "schema" });
    await p.client("app").execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    for (const name of ["t0", "t1"]) {
      await p.createDatabase(name, { schema: "app" });
      await p.client(name).execute({ sql: "INSERT INTO users (name) VALUES (?)", args: [name] });
    }
    return { p, storage };
  }

  it("serves the new schema at once; saves of its children, and the next job, wait for the sync", async () => {
    const { p, storage } = await setupHeld();
    await p.migrate("app", ["ALTER TABLE users ADD COLUMN plan TEXT"]);
    expect(storage.held.length).toBeGreaterThan(0);
    const [job] = (await p.listMigrations("app")).migrations;
    expect(job!.status).toBe("RunSuccess");
    expect((await p.client("t0").execute("SELECT plan FROM users")).columns).toEqual(["plan"]);
    // The stage keeps the job durable until the files are synced.
    expect(await storage.list(`migrations/${job!.job_id}/`)).not.toEqual([]);

    const t0 = keys.tenant((await p.getDatabase("t0")).id);
    storage.saved.length = 0;
    const write = p.client("t0").execute("INSERT INTO users (name, plan) VALUES ('later', 'pro')");
    const next = p.migrate("app", ["CREATE INDEX users_plan ON users(plan)"]);
    expect(await settlesSoon(write)).toBe(false);
    expect(await settlesSoon(next)).toBe(false);
    expect(storage.saved).not.toContain(t0);
    // Reads go on meanwhile.
    expect((await p.client("t1").execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(1);

    storage.release();
    await write;
    expect(storage.saved).toContain(t0);
    expect(await storage.list(`migrations/${job!.job_id}/`)).toEqual([]);
    await next;
    storage.release(); // the second job's sync
    await p.close();
    const again = await createPlatform({ storage });
    platform = again;
    const rows = await again.client("t0").execute("SELECT name, plan FROM users ORDER BY id");
    expect(rows.rows.map((r) => [r.name, r.plan])).toEqual([
      ["t0", null],
      ["later", "pro"],
    ]);
    expect(await storage.list("migrations/")).toEqual([]);
    expect(await again.checkSchemas("app")).toEqual([]);
  });

  it("saves the children's files again from its stage when a sync fails, then lets saves go on", async () => {
    const { p, storage } = await setupHeld();
    await p.migrate("app", ["ALTER TABLE users ADD COLUMN plan TEXT"]);
    const [job] = (await p.listMigrations("app")).migrations;
    const tenantKeys = [];
    for (const name of ["t0", "t1"]) tenantKeys.push(keys.tenant((await p.getDatabase(name)).id));
    storage.saved.length = 0;
    const write = p.client("t1").execute("INSERT INTO users (name) VALUES ('later')");
    expect(await settlesSoon(write)).toBe(false);
    storage.release(new Error("EIO"));
    await write;
    // Both files saved again (atomically, durably) before the write's own save of t1.
    expect(storage.saved.slice(0, 2).sort()).toEqual([...tenantKeys].sort());
    expect(storage.saved.at(-1)).toBe(tenantKeys[1]);
    expect(await storage.list(`migrations/${job!.job_id}/`)).toEqual([]);
    expect((await p.getMigration("app", job!.job_id)).status).toBe("RunSuccess");
    await p.close();
    const again = await createPlatform({ storage });
    platform = again;
    expect(await again.checkSchemas("app")).toEqual([]);
    const rows = await again.client("t1").execute("SELECT name, plan FROM users ORDER BY id");
    expect(rows.rows.map((r) => [r.name, r.plan])).toEqual([
      ["t1", null],
      ["later", null],
    ]);
  });

  it("is redone at the next start when the process stopped before the sync", async () => {
    const { p, storage } = await setupHeld();
    await p.migrate("app", ["ALTER TABLE users ADD COLUMN plan TEXT"]);
    const [job] = (await p.listMigrations("app")).migrations;
    // As after a crash: a child's file torn, the stage still there.
    const t0 = keys.tenant((await p.getDatabase("t0")).id);
    await storage.inner.save(t0, new TextEncoder().encode("torn"));
    platform = undefined; // never closed: its sync never came
    const starting = createPlatform({ storage: reopenedAfterCrash(storage) });
    while (!(await settlesSoon(starting))) storage.release(); // the redo's own syncs
    const again = await starting;
    platform = again;
    expect(await storage.list(`migrations/${job!.job_id}/`)).toEqual([]);
    expect(await again.checkSchemas("app")).toEqual([]);
    const rows = await again.client("t0").execute("SELECT name, plan FROM users");
    expect(rows.rows.map((r) => [r.name, r.plan])).toEqual([["t0", null]]);
  });
});
