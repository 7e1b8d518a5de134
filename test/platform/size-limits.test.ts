/**
 * Honest size limits (issue 20, point 5): a tenant bigger than the memory budget
 * (`maxOpenBytes`) is kept open while it is used instead of being read back from storage at
 * every use, and is closed like any other once it has been idle for OVERSIZED_KEEP_MS; a tenant
 * over what the engine takes (MAX_TENANT_BYTES: WebCrypto's 2 GiB) is refused with
 * DATABASE_TOO_LARGE before anything is done with it, and no tenant can grow past it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPlatform, type Platform } from "../../src/index.js";
import { FsStorage } from "../../src/node/index.js";
import { MAX_TENANT_BYTES, sizeCap } from "../../src/platform/options.js";
import { OVERSIZED_KEEP_MS } from "../../src/platform/tenant-pool.js";
import { keys } from "../../src/storage/keyspace.js";
import type { Storage } from "../../src/storage/storage.js";
import { useTempDirs } from "../helpers.js";
import { DelegatingStorage } from "../storage/delegating-storage.js";

const tempDir = useTempDirs("tenantlite-size-limits-");

/** Counts loads per key; can answer one key with other bytes (a stored image of any size). */
class CountingStorage extends DelegatingStorage {
  readonly loads = new Map<string, number>();
  fake: { key: string; bytes: Uint8Array } | undefined;
  constructor(inner: Storage) {
    super(inner, "fs");
  }
  override async load(key: string) {
    this.loads.set(key, (this.loads.get(key) ?? 0) + 1);
    if (this.fake?.key === key) return this.fake.bytes;
    return super.load(key);
  }
}

let platform: Platform | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await platform?.close();
  platform = undefined;
});

async function open(maxOpenBytes?: number, dir = tempDir()) {
  const storage = new CountingStorage(await FsStorage.open(dir));
  platform = await createPlatform({
    storage,
    ...(maxOpenBytes === undefined ? {} : { maxOpenBytes }),
  });
  return { platform, storage, dir };
}

describe("a tenant bigger than maxOpenBytes", () => {
  it("stays open while it is used, however other tenants' uses interleave, then goes like any other", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { platform, storage } = await open(256 * 1024);
    const big = await platform.createDatabase("big");
    const c = platform.client("big");
    await c.execute("CREATE TABLE t (b BLOB)");
    // ~1 MB: four times the whole budget.
    await c.execute(
      "INSERT INTO t SELECT randomblob(1000) FROM (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000) SELECT i FROM r)",
    );
    for (let i = 0; i < 3; i++) await platform.createDatabase(`small-${i}`);
    const loadsOfBig = () => storage.loads.get(keys.tenant(big.id)) ?? 0;
    const before = loadsOfBig();
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3; i++) {
        // Each small tenant's open pushes the pool over its byte budget.
        await platform.client(`small-${i}`).execute("SELECT 1");
        expect((await c.execute("SELECT count(*) FROM t")).rows[0]![0]).toBe(1000);
      }
    }
    expect(loadsOfBig()).toBe(before);
    // Idle for longer than OVERSIZED_KEEP_MS: the next tenant that opens closes it.
    vi.setSystemTime(Date.now() + OVERSIZED_KEEP_MS + 1000);
    await platform.client("small-0").execute("SELECT 1");
    await platform.createDatabase("small-3");
    await platform.client("small-3").execute("SELECT 1");
    expect((await c.execute("SELECT count(*) FROM t")).rows[0]![0]).toBe(1000);
    expect(loadsOfBig()).toBe(before + 1);
  });
});

describe("a tenant over what the engine takes", () => {
  it("is refused at import with DATABASE_TOO_LARGE naming the limit, and nothing is created", async () => {
    const { platform } = await open();
    // Never touched: only its length is looked at.
    const huge = new Uint8Array(MAX_TENANT_BYTES + 1);
    const err = await platform.createDatabase("huge", { fromBytes: huge }).catch((e) => e);
    expect(err).toBeTenantliteError("DATABASE_TOO_LARGE");
    expect(err.message).toMatch(/2047 MiB a tenant may have/);
    await expect(platform.getDatabase("huge")).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
  });

  it("is refused at open when its stored image is over it, before it is decrypted or opened", async () => {
    const first = await open();
    const info = await first.platform.createDatabase("grown");
    await first.platform.client("grown").execute("CREATE TABLE t (x)");
    await first.platform.close();
    // The same data directory, where the tenant's file is now over the limit.
    const { platform, storage } = await open(undefined, first.dir);
    storage.fake = { key: keys.tenant(info.id), bytes: new Uint8Array(MAX_TENANT_BYTES + 4096) };
    const err = await platform
      .client("grown")
      .execute("SELECT 1")
      .catch((e) => e);
    expect(err).toBeTenantliteError("DATABASE_TOO_LARGE");
    expect(err.message).toMatch(/"grown" is 2047 MiB, over the 2047 MiB/);
  });

  it("caps every tenant's size there, a size limit's way (max_page_count)", async () => {
    const { platform } = await open();
    await platform.createDatabase("capped");
    const c = platform.client("capped");
    const pageSize = Number((await c.execute("PRAGMA page_size")).rows[0]![0]);
    const pages = Number((await c.execute("PRAGMA max_page_count")).rows[0]![0]);
    expect(pages).toBe(Math.floor(MAX_TENANT_BYTES / pageSize));
    expect(sizeCap(undefined)).toBe(MAX_TENANT_BYTES);
    expect(sizeCap(5 * 2 ** 30)).toBe(MAX_TENANT_BYTES);
    expect(sizeCap(1_000_000)).toBe(1_000_000);
    await platform.setSizeLimit("capped", 8 * 2 ** 30);
    expect(Number((await c.execute("PRAGMA max_page_count")).rows[0]![0])).toBe(pages);
  });
});
