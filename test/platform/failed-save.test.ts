/**
 * A write reported failed is not kept (issue 15, point 7): when the save after a commit fails,
 * the tenant goes back to its last durable state, so the failed write is neither readable nor
 * part of any later save, and the error names the database, never a storage path.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../../src/index.js";
import { FsStorage } from "../../src/node/index.js";
import { tenantThreads } from "../../src/node/tenant-threads.js";
import type { SaveOptions, Storage } from "../../src/storage/storage.js";
import { caught, useTempDirs } from "../helpers.js";
import { DelegatingStorage } from "../storage/delegating-storage.js";

/** FsStorage whose tenant saves fail while `failing` is set (a full disk, a read-only dir). */
class FailingStorage extends DelegatingStorage {
  failing = false;
  constructor(inner: Storage) {
    super(inner, "fs");
  }
  override async save(key: string, bytes: Uint8Array, options?: SaveOptions) {
    if (this.failing && key.startsWith("tenants/")) {
      throw Object.assign(new Error(`ENOSPC: no space left on device, open '${key}'`), {
        code: "ENOSPC",
      });
    }
    return super.save(key, bytes, options);
  }
}

let dir: string | undefined;
const tempDir = useTempDirs("tenantlite-failed-save-");
let platform: Platform | undefined;
let storage: FailingStorage | undefined;
afterEach(async () => {
  await platform?.close().catch(() => undefined);
  await storage?.close().catch(() => undefined);
  platform = undefined;
  storage = undefined;
  dir = undefined;
});

async function open(threads = false): Promise<{ platform: Platform; storage: FailingStorage }> {
  dir ??= tempDir();
  storage = new FailingStorage(await FsStorage.open(dir));
  platform = await createPlatform({
    storage,
    ...(threads ? { tenantThreads: tenantThreads({ threads: 1 }) } : {}),
  });
  return { platform, storage };
}

describe("a write whose save failed", () => {
  it("is not readable afterwards, is in no later save, and the error names the database", async () => {
    const { platform: p, storage: s } = await open();
    await p.createDatabase("acme");
    const db = p.client("acme");
    const other = p.client("acme");
    await db.execute("CREATE TABLE t (x TEXT)");
    await db.execute("INSERT INTO t VALUES ('kept')");

    s.failing = true;
    const tx = await other.transaction("read");
    const e = await caught(db.execute("INSERT INTO t VALUES ('lost')"));
    expect(e).toBeTenantliteError("STORAGE_WRITE_FAILED", /database "acme"/);
    expect(e.message).not.toMatch(/tenants\/|\.db|ENOSPC/);
    // Not visible to later reads, on this connection or another.
    expect((await db.execute("SELECT x FROM t ORDER BY x")).rows.map((r) => r.x)).toEqual(["kept"]);
    expect((await other.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
    tx.close();

    // A client that retries after the disk recovered writes its row once, and that save does not
    // bring back the failed one.
    s.failing = false;
    await db.execute("INSERT INTO t VALUES ('retried')");
    await p.close();
    await s.close();

    const again = await open();
    const rows = await again.platform.client("acme").execute("SELECT x FROM t ORDER BY x");
    expect(rows.rows.map((r) => r.x)).toEqual(["kept", "retried"]);
  });

  it("fails every write that committed on top of it before the tenant was restored", async () => {
    const { platform: p, storage: s } = await open();
    await p.createDatabase("acme");
    const a = p.client("acme");
    const b = p.client("acme");
    await a.execute("CREATE TABLE t (x TEXT)");
    s.failing = true;
    const results = await Promise.allSettled([
      a.execute("INSERT INTO t VALUES ('a')"),
      b.execute("INSERT INTO t VALUES ('b')"),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    s.failing = false;
    expect((await a.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
    await b.execute("INSERT INTO t VALUES ('c')");
    await p.close();
    await s.close();
    const again = await open();
    const rows = await again.platform.client("acme").execute("SELECT x FROM t");
    expect(rows.rows.map((r) => r.x)).toEqual(["c"]);
  });

  it("keeps each connection's TEMP objects and settings through the restore", async () => {
    const { platform: p, storage: s } = await open();
    await p.createDatabase("acme");
    const db = p.client("acme");
    await db.execute("CREATE TABLE t (x TEXT)");
    const conn = p.connect("acme");
    await conn.execute("CREATE TEMP TABLE mine (y)", undefined);
    await conn.execute("INSERT INTO mine VALUES (1)", undefined);
    s.failing = true;
    await expect(db.execute("INSERT INTO t VALUES ('lost')")).rejects.toBeTenantliteError(
      "STORAGE_WRITE_FAILED",
    );
    s.failing = false;
    expect((await conn.execute("SELECT count(*) AS n FROM mine", undefined)).rows[0]!.n).toBe(1);
    expect((await conn.execute("SELECT count(*) AS n FROM t", undefined)).rows[0]!.n).toBe(0);
    conn.close();
  });
  it("on a tenant thread: the request fails with the save's error, and nothing of it is kept", async () => {
    // There the platform saves a request's commit and answers the request itself once the save
    // is done; the thread drops the tenant when it hears of the failure.
    const { platform: p, storage: s } = await open(true);
    await p.createDatabase("acme");
    const db = p.client("acme");
    await db.execute("CREATE TABLE t (x TEXT)");
    await db.execute("INSERT INTO t VALUES ('kept')");
    s.failing = true;
    for (const sql of ["INSERT INTO t VALUES ('lost')", "UPDATE t SET x = 'changed'"]) {
      const e = await caught(db.execute(sql));
      expect(e).toBeTenantliteError("STORAGE_WRITE_FAILED", /database "acme"/);
      expect(e.message).not.toMatch(/tenants\/|\.db|ENOSPC/);
    }
    const batch = await caught(
      db.batch(["INSERT INTO t VALUES ('b1')", "INSERT INTO t VALUES ('b2')"], "write"),
    );
    expect(batch).toBeTenantliteError("STORAGE_WRITE_FAILED");
    s.failing = false;
    expect((await db.execute("SELECT x FROM t ORDER BY x")).rows.map((r) => r.x)).toEqual(["kept"]);
    await db.execute("INSERT INTO t VALUES ('retried')");
    await p.close();
    await s.close();
    const again = await open(true);
    const rows = await again.platform.client("acme").execute("SELECT x FROM t ORDER BY x");
    expect(rows.rows.map((r) => r.x)).toEqual(["kept", "retried"]);
  });
});
