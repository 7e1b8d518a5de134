/**
 * Damaged tenant files (truncated, garbage header, bytes flipped inside a page, zero length) are
 * reported with a coded error naming the database when that tenant is used — never a crash of the
 * process — and never affect another tenant of the same platform.
 */
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPlatform, FsStorage, type Platform } from "../../src/node/index.js";
import { keys } from "../../src/storage/keyspace.js";
import { useTempDirs } from "../helpers.js";

const CODES = ["DATABASE_CORRUPT", "INVALID_SQLITE_FILE"];
const ROWS = 400;

const tempDir = useTempDirs("tenantlite-corrupt-");
let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close().catch(() => undefined);
  platform = undefined;
});

/** A platform with `victim` and `bystander`, both holding ROWS rows over several pages. */
async function setUp(): Promise<{ dir: string; victimFile: string }> {
  const dir = tempDir();
  const storage = await FsStorage.open(dir);
  const p = await createPlatform({ storage });
  for (const name of ["victim", "bystander"]) {
    await p.createDatabase(name);
    const db = p.client(name);
    await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    await db.execute({
      sql: `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${ROWS})
            INSERT INTO t (id, body) SELECT i, printf('row-%06d-%s', i, hex(zeroblob(20))) FROM s`,
      args: [],
    });
  }
  const info = await p.getDatabase("victim");
  await p.close();
  // Closed cleanly: the page logs are written into the files, and the damage is to the whole
  // tenant at rest.
  await storage.close();
  return { dir, victimFile: join(dir, ...keys.tenant(info.id).split("/")) };
}

async function bystanderWorks(p: Platform): Promise<void> {
  const db = p.client("bystander");
  const r = await db.execute("SELECT count(*) FROM t");
  expect(Number(r.rows[0]![0])).toBe(ROWS);
  await db.execute({ sql: "INSERT INTO t (body) VALUES (?)", args: ["more"] });
  await db.execute("DELETE FROM t WHERE body = 'more'");
  db.close();
}

/** Uses the victim the ways an app would; each use must fail with a coded error naming it. */
async function expectVictimReported(p: Platform): Promise<void> {
  const uses: [string, () => Promise<unknown>][] = [
    ["full scan", () => p.client("victim").execute("SELECT id, body FROM t ORDER BY id")],
    ["count", () => p.client("victim").execute("SELECT count(*) FROM t")],
    ["insert", () => p.client("victim").execute("INSERT INTO t (body) VALUES ('x')")],
  ];
  for (const [what, use] of uses) {
    let error: unknown;
    try {
      await use();
    } catch (e) {
      error = e;
    }
    expect(error, `${what}: expected an error`).toBeInstanceOf(Error);
    const e = error as Error & { code?: string };
    expect(CODES, `${what}: code ${e.code} (${e.message})`).toContain(e.code);
    expect(e.message, what).toMatch(/victim/);
  }
}

const damages: [string, (file: string) => void][] = [
  [
    "truncated mid-page",
    (file) => {
      const size = readFileSync(file).length;
      truncateSync(file, Math.floor(size / 2) + 100);
    },
  ],
  [
    "truncated to whole pages",
    (file) => {
      const bytes = readFileSync(file);
      const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
      truncateSync(file, pageSize * Math.max(1, Math.floor(bytes.length / pageSize / 2)));
    },
  ],
  [
    "header overwritten with garbage",
    (file) => {
      const bytes = readFileSync(file);
      for (let i = 0; i < 100; i++) bytes[i] = (i * 37 + 11) & 0xff;
      writeFileSync(file, bytes);
    },
  ],
  [
    "bytes flipped in the middle of every page after the first",
    (file) => {
      const bytes = readFileSync(file);
      const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
      for (let page = 1; page * pageSize < bytes.length; page++) {
        const mid = page * pageSize + pageSize / 2;
        for (let i = 0; i < 64; i++) bytes[mid + i] = bytes[mid + i]! ^ 0xff;
      }
      // …and the b-tree page headers of those pages, so SQLite has something to notice.
      for (let page = 1; page * pageSize < bytes.length; page++) {
        for (let i = 0; i < 8; i++) bytes[page * pageSize + i] = bytes[page * pageSize + i]! ^ 0x5a;
      }
      writeFileSync(file, bytes);
    },
  ],
  ["zero-length file", (file) => writeFileSync(file, new Uint8Array(0))],
];

describe("damaged tenant files", () => {
  it.each(damages)(
    "%s: coded error naming the database; other tenants unaffected",
    async (_, damage) => {
      const { dir, victimFile } = await setUp();
      damage(victimFile);
      platform = await createPlatform({ storage: await FsStorage.open(dir) });
      await bystanderWorks(platform);
      await expectVictimReported(platform);
      await bystanderWorks(platform);
      // Still in the catalog, still reported the same way on a later use.
      expect((await platform.listDatabases()).map((d) => d.name)).toEqual(["bystander", "victim"]);
      await expectVictimReported(platform);
      await platform.close();
      platform = undefined;
      // Reopened: the bystander's data is intact.
      platform = await createPlatform({ storage: await FsStorage.open(dir) });
      await bystanderWorks(platform);
    },
  );

  it("exporting a damaged database fails with a coded error too (or returns its bytes unchanged)", async () => {
    const { dir, victimFile } = await setUp();
    writeFileSync(victimFile, new Uint8Array(0));
    platform = await createPlatform({ storage: await FsStorage.open(dir) });
    await platform
      .client("victim")
      .execute("SELECT 1")
      .catch(() => undefined);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await platform.exportDatabase("victim");
    } catch (e) {
      expect(CODES).toContain((e as { code?: string }).code);
    }
    // An export must not pass an empty database off as the tenant's data.
    if (bytes !== undefined) expect(bytes.length).toBe(0);
    await bystanderWorks(platform);
  });
});
