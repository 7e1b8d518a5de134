/**
 * A migration whose catalog records cannot be saved (a full disk, a read-only directory) fails
 * with the storage's coded error and nothing else: no unhandled rejection (which would end a Node
 * process), the parent is not left blocked, and the next migration, once saves work, succeeds.
 */
import { expect, it } from "vitest";
import { TenantliteError } from "../../src/errors.js";
import { createPlatform, type Platform } from "../../src/platform/platform.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import type { SaveOptions } from "../../src/storage/storage.js";
import { DelegatingStorage } from "../storage/delegating-storage.js";

/** A memory storage whose catalog writes fail while `failing` is set. */
class CatalogFailingStorage extends DelegatingStorage {
  failing = false;
  override save(key: string, bytes: Uint8Array, options?: SaveOptions) {
    if (this.failing && key.startsWith("catalog/")) {
      return Promise.reject(new TenantliteError("STORAGE_WRITE_FAILED", "disk full (test)"));
    }
    return super.save(key, bytes, options);
  }
}

/** A schema database `app` with a child `c1`, and a migration of it while saves fail. */
async function failMigration(platform: Platform, storage: { failing: boolean }): Promise<void> {
  await platform.createDatabase("app", { type: "schema" });
  await platform.createDatabase("c1", { schema: "app" });
  await platform.client("app").execute("CREATE TABLE t (a)");
  storage.failing = true;
  await expect(
    platform.client("app").execute("ALTER TABLE t ADD COLUMN b"),
  ).rejects.toBeTenantliteError("STORAGE_WRITE_FAILED");
}

it("fails the migration alone when its catalog records cannot be saved", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  const storage = new CatalogFailingStorage(new MemoryStorage(), "memory");
  const platform = await createPlatform({ storage, migrationThreads: null });
  try {
    await failMigration(platform, storage);
    await new Promise((r) => setTimeout(r, 20));
    expect(unhandled).toEqual([]);

    storage.failing = false;
    await platform.client("app").execute("ALTER TABLE t ADD COLUMN c");
    const cols = await platform.client("c1").execute("SELECT name FROM pragma_table_info('t')");
    expect(cols.rows.map((r) => r.name)).toEqual(["a", "c"]);
  } finally {
    process.off("unhandledRejection", onUnhandled);
    await platform.close();
  }
});

/** A memory storage that fails a migration's staging, and from then on its catalog writes too. */
class StageFailingStorage extends DelegatingStorage {
  failing = false;
  full = false;
  override save(key: string, bytes: Uint8Array, options?: SaveOptions) {
    if (this.failing && (this.full || !key.startsWith("catalog/"))) {
      this.full = true; // the disk filled while staging: the failure cannot be recorded either
      return Promise.reject(new TenantliteError("STORAGE_WRITE_FAILED", "disk full (test)"));
    }
    return super.save(key, bytes, options);
  }
}

it("shows a job that failed as failed even when its failure could not be recorded", async () => {
  // On a full disk the job's record said WaitingDryRun for as long as the platform ran: a tool
  // polling the job (the CLI's progress, a deploy script) waited for good.
  const storage = new StageFailingStorage(new MemoryStorage(), "memory");
  let platform = await createPlatform({ storage, migrationThreads: null });
  try {
    await failMigration(platform, storage);
    expect(storage.full).toBe(true);
    const failed = await platform.listMigrations("app");
    expect(failed.migrations[0]).toEqual({ job_id: 2, status: "RunFailure" });
    const job = await platform.getMigration("app", 2);
    expect(job.status).toBe("RunFailure");
    expect(job.progress).toEqual([{ namespace: "c1", status: "RunFailure", error: "aborted" }]);

    // Room again: the next job runs; recovery records the failure at the next start.
    storage.failing = false;
    storage.full = false;
    await platform.client("app").execute("ALTER TABLE t ADD COLUMN c");
    await platform.close();
    platform = await createPlatform({ storage, migrationThreads: null });
    expect((await platform.listMigrations("app")).migrations).toEqual([
      { job_id: 3, status: "RunSuccess" },
      { job_id: 2, status: "RunFailure" },
      { job_id: 1, status: "RunSuccess" },
    ]);
    const cols = await platform.client("c1").execute("SELECT name FROM pragma_table_info('t')");
    expect(cols.rows.map((r) => r.name)).toEqual(["a", "c"]);
  } finally {
    await platform.close();
  }
});
