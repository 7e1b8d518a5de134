import { describe, expect, it } from "vitest";
import { createPlatform, MemoryStorage, type Storage } from "../../src/index.js";

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
    const again = await createPlatform({ storage });
    expect((await again.getDatabase("acked")).name).toBe("acked");
    await again.close();
  });
});
