import { describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { createPlatform, MemoryStorage, type Storage } from "../../src/index.js";
import { Catalog } from "../../src/platform/catalog.js";
import type { DatabaseConfig, DatabaseInfo } from "../../src/platform/types.js";
import { caught, reopenedAfterCrash } from "../helpers.js";

/** A storage that counts saves per key prefix, to see what a change writes. */
class CountingStorage extends MemoryStorage {
  saves = new Map<string, number>();
  bytes = new Map<string, number>();
  override async save(key: string, bytes: Uint8Array): Promise<void> {
    const kind = key.startsWith("catalog/log/") ? "log" : key;
    this.saves.set(kind, (this.saves.get(kind) ?? 0) + 1);
    this.bytes.set(kind, (this.bytes.get(kind) ?? 0) + bytes.length);
    return super.save(key, bytes);
  }
}

describe("catalog persistence", () => {
  it("appends a small log record per change instead of rewriting the catalog", async () => {
    const storage = new CountingStorage();
    const platform = await createPlatform({ storage });
    for (let i = 0; i < 2000; i++) await platform.createDatabase(`db-${i}`);
    await platform.close();
    // One log record per sequential change (plus the default group), each a few hundred bytes…
    expect(storage.saves.get("log")).toBe(2001);
    const logBytes = storage.bytes.get("log") ?? 0;
    expect(logBytes / 2001).toBeLessThan(600);
    // …and snapshots only now and then, writing in all about as much as the log (amortized O(1)).
    const snapshots = storage.saves.get("catalog/snapshot.db") ?? 0;
    expect(snapshots).toBeGreaterThanOrEqual(1);
    expect(snapshots).toBeLessThan(20);
    expect(storage.bytes.get("catalog/snapshot.db") ?? 0).toBeLessThan(3 * logBytes);
    await platform.close();
  });

  it("groups concurrent changes into one log record (group commit)", async () => {
    const storage = new CountingStorage();
    const platform = await createPlatform({ storage });
    const before = storage.saves.get("log") ?? 0;
    await Promise.all(Array.from({ length: 100 }, (_, i) => platform.createDatabase(`c-${i}`)));
    expect((storage.saves.get("log") ?? 0) - before).toBeLessThanOrEqual(3);
    expect((await platform.listDatabases()).length).toBe(100);
    await platform.close();
  });

  it("replays the log after a restart, and compacts it into a snapshot as it grows", async () => {
    const storage = new CountingStorage();
    let platform = await createPlatform({ storage });
    await platform.createGroup("eu");
    for (let i = 0; i < 3000; i++) {
      await platform.createDatabase(`t-${String(i).padStart(4, "0")}`, {
        group: i % 3 === 0 ? "eu" : "default",
      });
    }
    await platform.updateConfig("t-0001", { allow_attach: true });
    await platform.deleteDatabase("t-0002");
    await platform.close();
    // The log outgrew the (empty) snapshot at least once: compaction ran and removed covered records.
    expect(storage.saves.get("catalog/snapshot.db") ?? 0).toBeGreaterThanOrEqual(1);
    const logKeys = await (storage as Storage).list("catalog/log/");
    expect(logKeys.length).toBeLessThan(3000);

    platform = await createPlatform({ storage });
    expect((await platform.getDatabase("t-0001")).config.allow_attach).toBe(true);
    await expect(platform.getDatabase("t-0002")).rejects.toMatchObject({
      code: "DATABASE_NOT_FOUND",
    });
    expect((await platform.listDatabases({ group: "eu", limit: 5000 })).length).toBe(1000);
    expect((await platform.listDatabases({ limit: 5000 })).length).toBe(2999);
    await platform.close();
  });

  it("survives a lost process: changes acknowledged before the crash are there (no close)", async () => {
    const storage = new MemoryStorage();
    const platform = await createPlatform({ storage });
    await platform.createDatabase("acked");
    // No close(): a second platform reads the same storage as a restarted process would.
    const again = await createPlatform({ storage: reopenedAfterCrash(storage) });
    expect((await again.getDatabase("acked")).name).toBe("acked");
    await again.close();
  });
});

function record(id: string, name: string, config: Partial<DatabaseConfig> = {}): DatabaseInfo {
  return {
    id,
    name,
    group: "default",
    createdAt: "2026-01-01T00:00:00.000Z",
    type: "regular",
    parent: null,
    config: {
      allow_attach: false,
      block_reads: false,
      block_writes: false,
      delete_protection: false,
      ...config,
    },
    encrypted: false,
  };
}

describe("catalog lookups (remembered between requests)", () => {
  it("see a changed record at once: config, rename and delete, by name and by id", async () => {
    const catalog = await Catalog.open(await loadSqlJs(), new MemoryStorage());
    await catalog.putDatabase(record("id-1", "acme"));
    // Looked up by name and by id: both are remembered now.
    expect(catalog.getDatabase("acme")?.config.block_reads).toBe(false);
    expect(catalog.getDatabase("id-1")?.name).toBe("acme");
    expect(catalog.getDatabase("acme")).toBe(catalog.getDatabase("acme"));

    await catalog.putDatabase(record("id-1", "acme", { block_reads: true }));
    expect(catalog.getDatabase("acme")?.config.block_reads).toBe(true);
    expect(catalog.getDatabase("id-1")?.config.block_reads).toBe(true);

    await catalog.putDatabase(record("id-1", "renamed", { block_reads: true }));
    expect(catalog.getDatabase("acme")).toBeUndefined();
    expect(catalog.getDatabase("renamed")?.id).toBe("id-1");
    expect(catalog.getDatabase("id-1")?.name).toBe("renamed");

    await catalog.deleteDatabase("id-1");
    expect(catalog.getDatabase("renamed")).toBeUndefined();
    expect(catalog.getDatabase("id-1")).toBeUndefined();
    await catalog.close();
  });

  it("once closed, refuses lookups with PLATFORM_CLOSED (a request still in flight at shutdown)", async () => {
    const catalog = await Catalog.open(await loadSqlJs(), new MemoryStorage());
    await catalog.putDatabase(record("id-1", "acme"));
    expect(catalog.getDatabase("acme")?.id).toBe("id-1");
    await catalog.close();
    // sql.js would run the query on its freed connection and report "out of memory".
    expect(() => catalog.getDatabase("acme")).toBeTenantliteError(
      "PLATFORM_CLOSED",
      /platform is closed/,
    );
    expect(() => catalog.listDatabases()).toBeTenantliteError("PLATFORM_CLOSED");
  });

  it("a new database whose name is another's id takes that lookup over (names win over ids)", async () => {
    const catalog = await Catalog.open(await loadSqlJs(), new MemoryStorage());
    await catalog.putDatabase(record("shadowed", "first"));
    expect(catalog.getDatabase("shadowed")?.name).toBe("first");
    await catalog.putDatabase(record("id-2", "shadowed"));
    expect(catalog.getDatabase("shadowed")?.id).toBe("id-2");
    // Renamed away again: the string finds the first database by its id once more.
    await catalog.putDatabase(record("id-2", "other"));
    expect(catalog.getDatabase("shadowed")?.id).toBe("shadowed");
    await catalog.close();
  });

  it("a database missing when looked up is found once created (misses are not remembered)", async () => {
    const catalog = await Catalog.open(await loadSqlJs(), new MemoryStorage());
    expect(catalog.getDatabase("later")).toBeUndefined();
    await catalog.putDatabase(record("id-3", "later"));
    expect(catalog.getDatabase("later")?.id).toBe("id-3");
    await catalog.close();
  });

  it("remembers a record it writes, its group and its base image, exactly as they read back after a restart", async () => {
    const storage = new MemoryStorage();
    const sql = await loadSqlJs();
    const catalog = await Catalog.open(sql, storage);
    const group = {
      id: "g-1",
      name: "team",
      createdAt: "2026-01-01T00:00:00.000Z",
      location: "local",
      delete_protection: true,
    };
    expect(catalog.getGroup("team")).toBeUndefined(); // a miss, then the group is created
    await catalog.putGroup(group);
    expect(catalog.getGroup("team")).toEqual(group);
    const full = {
      ...record("id-1", "acme", { allow_attach: true, delete_protection: true }),
      group: "team",
      type: "schema" as const,
      encrypted: true,
      sizeLimit: 5_000_000,
    };
    await catalog.putDatabase(full, "images/abc.db");
    const written = catalog.getDatabase("acme");
    expect(written).toEqual(full);
    expect(Object.isFrozen(written) && Object.isFrozen(written?.config)).toBe(true);
    expect(catalog.getBaseImage("id-1")).toBe("images/abc.db");
    // Rewritten without a base image: the one it had stays (as the row keeps it).
    await catalog.putDatabase({ ...full, sizeLimit: undefined }, undefined);
    expect(catalog.getDatabase("acme")?.sizeLimit).toBeUndefined();
    expect(catalog.getBaseImage("id-1")).toBe("images/abc.db");
    await catalog.putDatabase(record("id-2", "plain"));
    expect(catalog.getBaseImage("id-2")).toBeUndefined();
    // A write SQLite refuses (a name another database has) leaves nothing remembered.
    expect(() => catalog.putDatabase(record("id-3", "acme"))).toThrow(/UNIQUE/);
    expect(catalog.getDatabase("acme")?.id).toBe("id-1");
    expect(catalog.getBaseImage("id-3")).toBeUndefined();
    const remembered = [catalog.getDatabase("acme"), catalog.getDatabase("plain")];
    await catalog.close();

    const reopened = await Catalog.open(sql, storage);
    expect([reopened.getDatabase("acme"), reopened.getDatabase("plain")]).toEqual(remembered);
    expect(reopened.getBaseImage("id-1")).toBe("images/abc.db");
    expect(reopened.getBaseImage("id-2")).toBeUndefined();
    expect(reopened.getGroup("team")).toEqual(group);
    await reopened.deleteGroup("team");
    expect(reopened.getGroup("team")).toBeUndefined();
    await reopened.deleteDatabase("id-1");
    expect(reopened.getBaseImage("id-1")).toBeUndefined();
    await reopened.close();
  });

  it("through the platform: deleted, re-created and reconfigured databases are never served stale", async () => {
    const platform = await createPlatform({ storage: new MemoryStorage() });
    const first = await platform.createDatabase("t1");
    const c = platform.client("t1");
    await c.execute("CREATE TABLE x (v)");
    c.close();
    expect((await platform.getDatabase("t1")).id).toBe(first.id);
    await platform.updateConfig("t1", { block_writes: true });
    expect((await platform.getDatabase("t1")).config.block_writes).toBe(true);
    expect((await platform.getDatabase(first.id)).config.block_writes).toBe(true);
    await platform.updateConfig("t1", { block_writes: false });
    await platform.setSizeLimit("t1", 1_000_000);
    expect((await platform.getDatabase("t1")).sizeLimit).toBe(1_000_000);
    await platform.deleteDatabase("t1");
    await expect(platform.getDatabase("t1")).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
    await expect(platform.getDatabase(first.id)).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
    const second = await platform.createDatabase("t1");
    expect(second.id).not.toBe(first.id);
    expect((await platform.getDatabase("t1")).id).toBe(second.id);
    // The new database is empty: the old one's table is gone with it.
    const again = platform.client("t1");
    const rs = await again.execute("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'x'");
    expect(Number(rs.rows[0]?.n)).toBe(0);
    again.close();
    await platform.close();
  });
});

/** A memory storage whose catalog log records fail to save while `failing` is set (a full disk). */
class FullCatalogStorage extends MemoryStorage {
  failing = false;
  override save(key: string, bytes: Uint8Array): Promise<void> {
    if (this.failing && key.startsWith("catalog/")) {
      const e = Object.assign(new Error(`ENOSPC: no space left on device, open '${key}'`), {
        code: "ENOSPC",
      });
      return Promise.reject(e);
    }
    return super.save(key, bytes);
  }
}

describe("catalog changes that cannot be saved", () => {
  it("are undone: what the caller is told failed is not seen, now or after a restart", async () => {
    const storage = new FullCatalogStorage();
    const platform = await createPlatform({ storage });
    const kept = await platform.createDatabase("kept");
    await platform.createDatabase("copy", { fromDatabase: "kept" }); // has a shared base image
    await platform.createGroup("g1");
    const before = {
      databases: (await platform.listDatabases()).map((d) => [d.name, d.config, d.sizeLimit]),
      groups: (await platform.listGroups()).map((g) => [g.name, g.delete_protection]),
    };
    storage.failing = true;
    const attempts: [string, () => Promise<unknown>][] = [
      ["create", () => platform.createDatabase("lost")],
      ["create from", () => platform.createDatabase("lost2", { fromDatabase: "kept" })],
      ["delete", () => platform.deleteDatabase("kept")],
      ["config", () => platform.updateConfig("kept", { block_writes: true })],
      ["size limit", () => platform.setSizeLimit("copy", 1_000_000)],
      ["group", () => platform.createGroup("g2")],
      ["group config", () => platform.updateGroup("g1", { delete_protection: true })],
      ["group delete", () => platform.deleteGroup("g1")],
    ];
    for (const [what, attempt] of attempts) {
      const e = await caught(attempt);
      expect(e, what).toBeTenantliteError("STORAGE_WRITE_FAILED", /catalog.*free space/);
      expect(e.message, what).not.toMatch(/catalog\/|ENOSPC/);
    }
    // An encrypted database is written before its record: its file goes when the record fails.
    const files = async () => (await storage.list("tenants/")).length;
    const before2 = await files();
    const enc = await caught(() =>
      platform.createDatabase("lost4", { encryption: { key: "a key of its own" } }),
    );
    expect(enc).toBeTenantliteError("STORAGE_WRITE_FAILED");
    expect(await files()).toBe(before2);
    // Two changes at once, the second made while the first's record is being written: both undone.
    const both = await Promise.allSettled([
      platform.createDatabase("lost3"),
      Promise.resolve().then(() => platform.updateConfig("kept", { allow_attach: true })),
    ]);
    expect(both.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    const now = async () => ({
      databases: (await platform.listDatabases()).map((d) => [d.name, d.config, d.sizeLimit]),
      groups: (await platform.listGroups()).map((g) => [g.name, g.delete_protection]),
    });
    expect(await now()).toEqual(before);
    for (const name of ["lost", "lost2", "lost3"]) {
      await expect(platform.getDatabase(name)).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
    }
    expect((await platform.getDatabase(kept.id)).name).toBe("kept");
    // The copy still reads its shared image; the kept database still takes writes once saves work.
    storage.failing = false;
    await platform.client("kept").execute("CREATE TABLE t (x)");
    await platform.createDatabase("lost"); // the name is free
    await platform.close();

    const reopened = await createPlatform({ storage });
    expect((await reopened.listDatabases()).map((d) => d.name).sort()).toEqual([
      "copy",
      "kept",
      "lost",
    ]);
    const rs = await reopened.client("copy").execute("SELECT count(*) AS n FROM sqlite_schema");
    expect(Number(rs.rows[0]?.n)).toBe(0);
    await reopened.close();
  });
});
