import initSqlJs from "sql.js";
import { describe, expect, it } from "vitest";
import { assertSqliteImage } from "../../src/storage/sqlite-image.js";

const SQL = await initSqlJs();

function image(setup: string): Uint8Array {
  const db = new SQL.Database();
  db.run(setup);
  const bytes = db.export();
  db.close();
  return bytes;
}

const small = image(
  "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a');",
);

describe("assertSqliteImage", () => {
  it("accepts real images from sql.js", () => {
    const info = assertSqliteImage(small, "acme");
    expect(info.pageSize).toBe(4096);
    expect(info.pageCount * info.pageSize).toBe(small.length);
  });

  it("accepts other page sizes, 65536 included, and WAL images", () => {
    for (const size of [512, 1024, 65536]) {
      const bytes = image(
        `PRAGMA page_size=${size}; VACUUM; CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(3000));`,
      );
      expect(assertSqliteImage(bytes, "db").pageSize).toBe(size);
    }
    const wal = image("PRAGMA journal_mode=WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);");
    expect(assertSqliteImage(wal, "db").pageCount).toBeGreaterThan(0);
  });

  it("rejects an empty file", async () => {
    await expect(async () =>
      assertSqliteImage(new Uint8Array(0), "acme"),
    ).rejects.toBeTenantliteError("INVALID_SQLITE_FILE", /"acme".*empty/);
  });

  it("rejects random bytes", async () => {
    const random = crypto.getRandomValues(new Uint8Array(8192));
    await expect(async () => assertSqliteImage(random, "rnd")).rejects.toBeTenantliteError(
      "INVALID_SQLITE_FILE",
      /"rnd"/,
    );
  });

  it("rejects truncated images", async () => {
    for (const length of [10, 99, 100, 4095, small.length - 1, small.length - 4096]) {
      await expect(async () =>
        assertSqliteImage(small.subarray(0, length), "cut"),
      ).rejects.toBeTenantliteError("INVALID_SQLITE_FILE", /"cut"/);
    }
  });

  it("rejects an image whose header page count disagrees with its length", async () => {
    const padded = new Uint8Array(small.length + 4096);
    padded.set(small);
    await expect(async () => assertSqliteImage(padded, "pad")).rejects.toBeTenantliteError(
      "INVALID_SQLITE_FILE",
      /pages/,
    );
  });

  it("rejects bad page sizes and a bad magic string", async () => {
    const bad = small.slice();
    bad[16] = 0x03;
    bad[17] = 0x00; // 768
    await expect(async () => assertSqliteImage(bad, "p")).rejects.toBeTenantliteError(
      "INVALID_SQLITE_FILE",
      /page size/,
    );
    const tiny = small.slice();
    tiny[16] = 0x01;
    tiny[17] = 0x00; // 256
    await expect(async () => assertSqliteImage(tiny, "p")).rejects.toBeTenantliteError(
      "INVALID_SQLITE_FILE",
      /page size/,
    );
    const magic = small.slice();
    magic[0] = "s".charCodeAt(0);
    await expect(async () => assertSqliteImage(magic, "m")).rejects.toBeTenantliteError(
      "INVALID_SQLITE_FILE",
      /SQLite format/,
    );
  });
});
