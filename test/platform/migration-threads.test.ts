/**
 * Schema migrations in Node: children's dry runs on worker threads, and the apply phase writing
 * children's files in place. Threads must change nothing but speed — the same image for every
 * child, byte for byte, the same errors — a thread that fails must cost only time, and readers
 * must never see a child's file half written.
 */
import { join } from "node:path";
import initSqlJs from "sql.js";
import { afterEach, describe, expect, it } from "vitest";
import type { MigrationThreads, Platform } from "../../src/index.js";
import { createPlatform } from "../../src/node/create-platform.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { createMigrationThreads } from "../../src/node/migration-threads.js";
import { useTempDirs } from "../helpers.js";

const SQL = await initSqlJs();
const tiny = (() => {
  const db = new SQL.Database();
  db.exec("CREATE TABLE t (a)");
  const bytes = db.export();
  db.close();
  return bytes;
})();

const base = useTempDirs("tenantlite-threads-", { scope: "file" })();
const opened: Platform[] = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close();
});

/** Starts the threads and waits until one takes work (rather than handing it back). */
async function warm(threads: MigrationThreads): Promise<void> {
  threads.start(1_000_000);
  for (let i = 0; i < 500; i++) {
    const r = await threads.run(tiny.slice(), ["SELECT 1"]);
    if (r === undefined) throw new Error("the migration threads are not running");
    if (!("here" in r)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the migration threads never took work");
}

/** Real threads that count the dry runs they did (and can be told to lose some). */
function counting(threads: MigrationThreads, drop?: (n: number) => boolean) {
  let taken = 0;
  let handedBack = 0;
  const wrapped: MigrationThreads = {
    start: (children) => threads.start(children),
    close: () => threads.close(),
    run(image, statements) {
      return threads.run(image, statements)?.then((r) => {
        if ("here" in r) {
          handedBack++;
          return r;
        }
        taken++;
        if (drop?.(taken)) throw new Error("thread lost");
        return r;
      });
    },
  };
  return { threads: wrapped, taken: () => taken, handedBack: () => handedBack };
}

/** A schema "app" with `n` children, each holding a row of its own. */
async function schemaWithChildren(
  options: Parameters<typeof createPlatform>[0],
  n: number,
  rowOf: (i: number) => string = (i) => `user ${i}`,
): Promise<Platform> {
  const p = await createPlatform(options);
  opened.push(p);
  await p.createDatabase("app", { type: "schema" });
  await p.client("app").execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
  for (let i = 0; i < n; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - i) }, async (_, j) => {
        const name = `c${String(i + j).padStart(4, "0")}`;
        await p.createDatabase(name, { schema: "app" });
        await p
          .client(name)
          .execute({ sql: "INSERT INTO users (name) VALUES (?)", args: [rowOf(i + j)] });
      }),
    );
  }
  return p;
}

const MIGRATION = [
  "ALTER TABLE users ADD COLUMN plan TEXT",
  "CREATE INDEX users_plan ON users(plan)",
  "UPDATE users SET plan = 'free' WHERE id % 2 = 1",
];

describe("dry runs on worker threads", () => {
  it("give every child the image a migration on one thread gives, byte for byte", async () => {
    const n = 150;
    const alone = await schemaWithChildren({ migrationThreads: null }, n);
    const real = createMigrationThreads({ threads: 1 });
    await warm(real);
    const { threads, taken } = counting(real);
    const threaded = await schemaWithChildren({ migrationThreads: threads }, n);
    await alone.migrate("app", MIGRATION);
    await threaded.migrate("app", MIGRATION);
    expect(taken()).toBeGreaterThan(0);
    for (let i = 0; i < n; i++) {
      const name = `c${String(i).padStart(4, "0")}`;
      const a = await alone.exportDatabase(name);
      const b = await threaded.exportDatabase(name);
      expect(Buffer.from(b).equals(Buffer.from(a)), name).toBe(true);
    }
    const rs = await threaded.client("c0149").execute("SELECT name, plan FROM users");
    expect(rs.rows.map((r) => [r.name, r.plan])).toEqual([["user 149", "free"]]);
    expect(await threaded.checkSchemas("app")).toEqual([]);
  });

  it("report a failing child exactly as a migration on one thread does, and change nothing", async () => {
    const n = 120;
    // Child 77 holds a duplicate name: a unique index cannot be built there.
    const rowOf = (i: number) => (i === 77 ? "user 76" : `user ${i}`);
    const failing = [
      "ALTER TABLE users ADD COLUMN plan TEXT",
      "CREATE UNIQUE INDEX u ON users(name)",
    ];
    const outcome = async (p: Platform) => {
      // The duplicate goes in after creation so the child differs from the others.
      await p.client("c0077").execute("INSERT INTO users (name) VALUES ('dup')");
      await p.client("c0077").execute("INSERT INTO users (name) VALUES ('dup')");
      const error = await p.migrate("app", failing).then(
        () => undefined,
        (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
      );
      const { migrations } = await p.listMigrations("app");
      const job = await p.getMigration("app", migrations[0]!.job_id);
      const cols = await p.client("c0010").execute("SELECT name FROM pragma_table_info('users')");
      return {
        error,
        status: job.status,
        failed: job.progress.filter((t) => t.status === "RunFailure" && t.error !== "aborted"),
        columns: cols.rows.map((r) => r.name),
      };
    };
    const alone = await outcome(await schemaWithChildren({ migrationThreads: null }, n, rowOf));
    const real = createMigrationThreads({ threads: 1 });
    await warm(real);
    const { threads, taken } = counting(real);
    const threaded = await outcome(
      await schemaWithChildren({ migrationThreads: threads }, n, rowOf),
    );
    expect(taken()).toBeGreaterThan(0);
    expect(alone.error?.code).toBe("SCHEMA_MIGRATION_ERROR");
    expect(alone.error?.message).toContain("c0077");
    expect(alone.error?.message).toContain("UNIQUE constraint failed");
    expect(threaded).toEqual(alone);
    expect(threaded.columns).toEqual(["id", "name"]);
  });

  it("redo on the runner's own thread what a failing thread dropped", async () => {
    const real = createMigrationThreads({ threads: 1 });
    await warm(real);
    const { threads, taken } = counting(real, (k) => k % 3 === 0);
    const p = await schemaWithChildren({ migrationThreads: threads }, 150);
    await p.migrate("app", MIGRATION);
    expect(taken()).toBeGreaterThan(2);
    expect(await p.checkSchemas("app")).toEqual([]);
    for (let i = 0; i < 150; i += 7) {
      const name = `c${String(i).padStart(4, "0")}`;
      const rs = await p.client(name).execute("SELECT name, plan FROM users");
      expect(
        rs.rows.map((r) => [r.name, r.plan]),
        name,
      ).toEqual([[`user ${i}`, "free"]]);
    }
  });

  it("stop when idle and when closed, and start again for the next job", async () => {
    const threads = createMigrationThreads({ threads: 1, idleMs: 100 });
    expect(threads.run(tiny.slice(), ["SELECT 1"])).toBeUndefined(); // not started
    threads.start(999); // a job too small for threads (default: from 1,000 children)
    expect(threads.run(tiny.slice(), ["SELECT 1"])).toBeUndefined();
    threads.start(1000);
    // Still starting: the work comes back to the caller's thread, its bytes untouched.
    const image = tiny.slice();
    expect(await threads.run(image, ["SELECT 1"])).toEqual({ here: true });
    expect(image).toEqual(tiny);
    await warm(threads);
    const r = await threads.run(tiny.slice(), ["INSERT INTO t VALUES (1)", "SELECT nope FROM t"]);
    expect(r).toEqual({ step: 2, message: "no such column: nope" });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(threads.run(tiny.slice(), ["SELECT 1"])).toBeUndefined();
    await warm(threads);
    await threads.close();
    expect(threads.run(tiny.slice(), ["SELECT 1"])).toBeUndefined();
    threads.start(1_000_000); // closed: stays stopped
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(threads.run(tiny.slice(), ["SELECT 1"])).toBeUndefined();
    expect(() => createMigrationThreads({ threads: -1 })).toThrow(RangeError);
  });
});

describe("the apply phase on the filesystem", () => {
  it("never lets a reader see a child half written, and survives a restart", async () => {
    const dir = join(base, "apply");
    const storage = await FsStorage.open(dir);
    // Children over 1 MB: their files are written on the thread pool, piece by piece.
    const n = 40;
    const p = await createPlatform({ storage });
    opened.push(p);
    await p.createDatabase("app", { type: "schema" });
    await p
      .client("app")
      .executeMultiple(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE blobs (b BLOB);",
      );
    for (let i = 0; i < n; i++) {
      const name = `c${String(i).padStart(4, "0")}`;
      await p.createDatabase(name, { schema: "app" });
      await p
        .client(name)
        .batch([
          { sql: "INSERT INTO users (name) VALUES (?)", args: [`user ${i}`] },
          "INSERT INTO blobs VALUES (randomblob(1200000))",
        ]);
    }
    // The migration rewrites every page of the blob: a reader sees the old child (random blob,
    // no column "plan") or the new one (zeroes, "plan"), wholly — never a mix of both files.
    let applying = false;
    const { done } = await p.migrate(
      "app",
      [...MIGRATION, "UPDATE blobs SET b = zeroblob(1200000)"],
      {
        wait: false,
        onProgress: (e) => {
          if (e.phase === "apply") applying = true;
        },
      },
    );
    let finished = false;
    void done.then(() => {
      finished = true;
    });
    const errors: string[] = [];
    let reads = 0;
    let readsWhileApplying = 0;
    const deadline = Date.now() + 30_000;
    // Eight readers at once, from before the job applies until it is done.
    await Promise.all(
      Array.from({ length: 8 }, async (_, reader) => {
        for (let k = reader; !finished && reads < 500_000 && Date.now() < deadline; k += 8) {
          const name = `c${String((k * 7) % n).padStart(4, "0")}`;
          const during = applying;
          reads++;
          try {
            const rs = await p.client(name).execute(
              `SELECT (SELECT count(*) FROM users) AS n, length(b) AS size,
                 (SELECT count(*) FROM pragma_table_info('users') WHERE name = 'plan') AS migrated,
                 substr(b, 1, 64) = zeroblob(64) AS head, substr(b, 600000, 64) = zeroblob(64) AS middle,
                 substr(b, -64) = zeroblob(64) AS tail
               FROM blobs`,
            );
            const r = rs.rows[0]!;
            const whole = [r.head, r.middle, r.tail].every((x) => Number(x) === Number(r.migrated));
            if (Number(r.n) !== 1 || Number(r.size) !== 1200000 || !whole) {
              errors.push(`${name}: ${JSON.stringify(r)}`);
            }
          } catch (e) {
            errors.push(`${name}: ${String(e)}`);
          }
          if (during && applying) readsWhileApplying++;
          // As requests arriving over a socket would: the job's file I/O gets its turns.
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    await done;
    expect(errors).toEqual([]);
    expect(readsWhileApplying).toBeGreaterThan(0);
    await p.close();
    opened.splice(opened.indexOf(p), 1);
    const again = await createPlatform({ storage });
    opened.push(again);
    expect(await again.checkSchemas("app")).toEqual([]);
    for (let i = 0; i < n; i++) {
      const name = `c${String(i).padStart(4, "0")}`;
      const c = again.client(name);
      expect((await c.execute("PRAGMA integrity_check")).rows[0]![0], name).toBe("ok");
      const rs = await c.execute("SELECT name, plan FROM users");
      expect(
        rs.rows.map((r) => [r.name, r.plan]),
        name,
      ).toEqual([[`user ${i}`, "free"]]);
    }
    await again.close();
    opened.splice(opened.indexOf(again), 1);
    await storage.close();
  });
});
