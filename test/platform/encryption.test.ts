import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPlatform, MemoryStorage, type Platform } from "../../src/index.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { tenantThreads } from "../../src/node/tenant-threads.js";
import { keys } from "../../src/storage/keyspace.js";
import { caught, useTempDirs } from "../helpers.js";

const KEY = "correct horse battery staple";
const MARKER = "PLAINTEXT-MARKER-7d1f";
const fast = { kdfIterations: 1000 };

let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});
const tempDir = useTempDirs("tenantlite-enc-");
function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe("per-tenant encryption at rest", () => {
  it("never writes an encrypted tenant's plaintext to disk, and needs the key to open it", async () => {
    const dir = tempDir();
    platform = await createPlatform({ storage: await FsStorage.open(dir), ...fast });
    const info = await platform.createDatabase("secret", { encryption: { key: KEY } });
    expect(info.encrypted).toBe(true);
    const db = platform.client("secret", { encryptionKey: KEY });
    await db.execute("CREATE TABLE t (v TEXT)");
    await db.execute({ sql: "INSERT INTO t VALUES (?)", args: [MARKER] });
    await platform.close();
    for (const f of allFiles(dir)) {
      expect(readFileSync(f).includes(Buffer.from(MARKER)), f).toBe(false);
    }
    const file = readFileSync(join(dir, keys.tenant(info.id)));
    expect(file.subarray(0, 6).toString()).toBe("TLENC1");

    platform = await createPlatform({ storage: await FsStorage.open(dir), ...fast });
    await expect(platform.client("secret").execute("SELECT * FROM t")).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_REQUIRED",
    );
    const wrong = await caught(
      platform.client("secret", { encryptionKey: "wrong key" }).execute("SELECT * FROM t"),
    );
    expect(wrong).toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    expect(wrong.message).not.toContain("wrong key");
    const rs = await platform.client("secret", { encryptionKey: KEY }).execute("SELECT v FROM t");
    expect(rs.rows[0]!.v).toBe(MARKER);
    // Open now (decrypted in memory): a connection with a wrong or missing key is still refused.
    await expect(
      platform.client("secret", { encryptionKey: "nope" }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    await expect(platform.client("secret").execute("SELECT 1")).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_REQUIRED",
    );
  });

  it.each([false, true])(
    "refuses a key for a database that is not encrypted, as the server does (tenant threads: %s)",
    async (threads) => {
      // Whoever gives a key believes the data is encrypted: a database made without one (say,
      // by a misspelt option) was opened with any key, and nobody was told.
      platform = await createPlatform({
        ...fast,
        ...(threads ? { tenantThreads: tenantThreads({ threads: 1 }) } : {}),
      });
      await platform.createDatabase("plain");
      await platform.client("plain").execute("CREATE TABLE t (v)");
      const e = await caught(platform.client("plain", { encryptionKey: KEY }).execute("SELECT 1"));
      expect(e).toBeTenantliteError("ENCRYPTION_KEY_INVALID", /"plain" is not encrypted/);
      expect(e.message).not.toContain(KEY);
      await expect(
        platform.exportDatabase("plain", { encryptionKey: KEY }),
      ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
      await expect(
        platform.createDatabase("copy", { fromDatabase: "plain", sourceEncryptionKey: KEY }),
      ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
      // Without a key all of it works; an encrypted copy of it takes the copy's key only.
      expect(
        (await platform.client("plain").execute("SELECT count(*) AS n FROM t")).rows[0]!.n,
      ).toBe(0);
      await platform.createDatabase("copy", { fromDatabase: "plain", encryption: { key: KEY } });
      await platform.client("copy", { encryptionKey: KEY }).execute("SELECT * FROM t");
    },
  );

  it("a wrong key tried while the tenant opens fails that caller alone", async () => {
    // Callers opening a closed tenant together shared its load: the first one's wrong key failed
    // them all, so anyone with a wrong key could keep the right one's clients out.
    const p = await createPlatform({ storage: new MemoryStorage(), maxOpenTenants: 1, ...fast });
    platform = p;
    await platform.createDatabase("locked", { encryption: { key: KEY } });
    await platform
      .client("locked", { encryptionKey: KEY })
      .execute(`CREATE TABLE t AS SELECT '${MARKER}' AS v`);
    await platform.createDatabase("other");
    for (let round = 0; round < 3; round++) {
      await platform.client("other").execute("SELECT 1"); // closes "locked"
      expect(platform.openTenantCount).toBe(1);
      const read = (key?: string) =>
        p
          .client("locked", key === undefined ? {} : { encryptionKey: key })
          .execute("SELECT v FROM t")
          .then(
            (rs) => rs.rows[0]!.v,
            (e: { code: string }) => e.code,
          );
      const [wrong, none, right] = await Promise.all([read("not the key"), read(), read(KEY)]);
      expect([wrong, none, right]).toEqual([
        "ENCRYPTION_KEY_INVALID",
        "ENCRYPTION_KEY_REQUIRED",
        MARKER,
      ]);
    }
  });

  it("keeps encrypting when tenants are evicted from memory storage", async () => {
    const storage = new MemoryStorage();
    platform = await createPlatform({ storage, maxOpenTenants: 1, ...fast });
    const info = await platform.createDatabase("a", { encryption: { key: KEY } });
    await platform.createDatabase("b");
    await platform
      .client("a", { encryptionKey: KEY })
      .execute(`CREATE TABLE t AS SELECT '${MARKER}' AS v`);
    await platform.client("b").execute("SELECT 1"); // evicts a
    expect(platform.openTenantCount).toBe(1);
    const stored = (await storage.load(keys.tenant(info.id)))!;
    expect(Buffer.from(stored).includes(Buffer.from(MARKER))).toBe(false);
    const rs = await platform.client("a", { encryptionKey: KEY }).execute("SELECT v FROM t");
    expect(rs.rows[0]!.v).toBe(MARKER);
  });

  it("two rotations from the same key at once: one wins, the other is told its old key is wrong", async () => {
    const dir = tempDir();
    platform = await createPlatform({ storage: await FsStorage.open(dir), ...fast });
    await platform.createDatabase("twice", { encryption: { key: KEY } });
    await platform
      .client("twice", { encryptionKey: KEY })
      .execute("CREATE TABLE t AS SELECT 1 AS x");
    // Both verified the key before either replaced it: both said ok, and one of the two keys
    // acknowledged opened nothing.
    // Which of the two takes the tenant first is not ordered: exactly one wins.
    const keys = ["key one", "key two"];
    const outcomes = await Promise.allSettled(
      keys.map((k) => platform!.rotateEncryptionKey("twice", KEY, k)),
    );
    const won = outcomes.findIndex((o) => o.status === "fulfilled");
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const lost = outcomes[1 - won]!;
    expect(lost.status === "rejected" ? lost.reason : lost).toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    await platform.close();
    platform = await createPlatform({ storage: await FsStorage.open(dir), ...fast });
    const rs = await platform
      .client("twice", { encryptionKey: keys[won] })
      .execute("SELECT x FROM t");
    expect(rs.rows[0]!.x).toBe(1);
    await expect(
      platform.client("twice", { encryptionKey: keys[1 - won] }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
  });

  it("rotates the key: the old key stops working, data stays", async () => {
    const dir = tempDir();
    platform = await createPlatform({ storage: await FsStorage.open(dir), ...fast });
    await platform.createDatabase("rot", { encryption: { key: KEY } });
    await platform.client("rot", { encryptionKey: KEY }).execute("CREATE TABLE t AS SELECT 1 AS x");
    await expect(platform.rotateEncryptionKey("rot", "bad", "new key")).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    await platform.rotateEncryptionKey("rot", KEY, "new key");
    await expect(
      platform.client("rot", { encryptionKey: KEY }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    await platform.close();
    platform = await createPlatform({ storage: await FsStorage.open(dir), ...fast });
    await expect(
      platform.client("rot", { encryptionKey: KEY }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    const rs = await platform
      .client("rot", { encryptionKey: "new key" })
      .execute("SELECT x FROM t");
    expect(rs.rows[0]!.x).toBe(1);
  });

  it("a rotation whose save fails (a full disk) changes no key: the old one still opens it, before and after a restart", async () => {
    /** Memory storage whose tenant saves fail while `failing` is set. */
    class FullDisk extends MemoryStorage {
      failing = false;
      override save(key: string, bytes: Uint8Array) {
        if (this.failing && key.startsWith("tenants/")) {
          return Promise.reject(
            Object.assign(new Error("ENOSPC: no space left"), { code: "ENOSPC" }),
          );
        }
        return super.save(key, bytes);
      }
    }
    const storage = new FullDisk();
    platform = await createPlatform({ storage, ...fast });
    await platform.createDatabase("rot", { encryption: { key: KEY } });
    await platform.client("rot", { encryptionKey: KEY }).execute("CREATE TABLE t AS SELECT 1 AS x");
    storage.failing = true;
    const e = await caught(platform.rotateEncryptionKey("rot", KEY, "new key"));
    expect(e).toBeTenantliteError(
      "STORAGE_WRITE_FAILED",
      /was not changed.*old key still opens it/,
    );
    expect(e.message).not.toMatch(/ENOSPC|tenants\//);
    storage.failing = false;
    await platform.client("rot", { encryptionKey: KEY }).execute("INSERT INTO t VALUES (2)");
    await expect(
      platform.client("rot", { encryptionKey: "new key" }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    await platform.close();
    platform = await createPlatform({ storage, ...fast });
    const rs = await platform
      .client("rot", { encryptionKey: KEY })
      .execute("SELECT sum(x) AS s FROM t");
    expect(rs.rows[0]!.s).toBe(3);
    await expect(
      platform.client("rot", { encryptionKey: "new key" }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    // With room again, the rotation goes through.
    await platform.rotateEncryptionKey("rot", KEY, "new key");
    const after = platform.client("rot", { encryptionKey: "new key" });
    expect((await after.execute("SELECT sum(x) AS s FROM t")).rows[0]!.s).toBe(3);
  });

  it("exports the plaintext SQLite file only with the key, and copies need the source key", async () => {
    platform = await createPlatform(fast);
    await platform.createDatabase("src", { encryption: { key: KEY } });
    await platform
      .client("src", { encryptionKey: KEY })
      .execute("CREATE TABLE t AS SELECT 'x' AS v");
    await expect(platform.exportDatabase("src")).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_REQUIRED",
    );
    const bytes = await platform.exportDatabase("src", { encryptionKey: KEY });
    expect(new TextDecoder().decode(bytes.subarray(0, 15))).toBe("SQLite format 3");
    await expect(
      platform.createDatabase("copy", { fromDatabase: "src" }),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_REQUIRED");
    await platform.createDatabase("copy", { fromDatabase: "src", sourceEncryptionKey: KEY });
    expect((await platform.client("copy").execute("SELECT v FROM t")).rows[0]!.v).toBe("x");
  });

  it("binds an encrypted file to its tenant: swapped files do not open", async () => {
    const storage = new MemoryStorage();
    platform = await createPlatform({ storage, ...fast });
    const a = await platform.createDatabase("a", { encryption: { key: KEY } });
    const b = await platform.createDatabase("b", { encryption: { key: KEY } });
    await platform.close();
    await storage.save(keys.tenant(b.id), (await storage.load(keys.tenant(a.id)))!);
    platform = await createPlatform({ storage, ...fast });
    await expect(
      platform.client("b", { encryptionKey: KEY }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    await platform.client("a", { encryptionKey: KEY }).execute("SELECT 1");
  });

  it("refuses empty keys and encrypted schema databases, creating nothing", async () => {
    platform = await createPlatform(fast);
    await expect(
      platform.createDatabase("x", { encryption: { key: "" } }),
    ).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    await expect(
      platform.createDatabase("x", { type: "schema", encryption: { key: KEY } }),
    ).rejects.toBeTenantliteError("ARGS_INVALID");
    expect(await platform.listDatabases()).toEqual([]);
  });
});
