import { cpSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createPlatform, MemoryStorage, type Platform, type Storage } from "../../src/index.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { keys } from "../../src/storage/keyspace.js";
import { useTempDirs } from "../helpers.js";

let platform: Platform | undefined;
afterEach(async () => {
  await platform?.close();
  platform = undefined;
});
const tempDir = useTempDirs("tenantlite-platform-");

describe("databases", () => {
  it("creates, gets (by name and id), lists and deletes databases", async () => {
    platform = await createPlatform();
    const a = await platform.createDatabase("acme");
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).toMatchObject({
      name: "acme",
      group: "default",
      type: "regular",
      parent: null,
      encrypted: false,
    });
    expect(a.config).toEqual({
      allow_attach: false,
      block_reads: false,
      block_writes: false,
      delete_protection: false,
    });
    expect(Date.parse(a.createdAt)).not.toBeNaN();
    expect(await platform.getDatabase("acme")).toEqual(a);
    expect(await platform.getDatabase(a.id)).toEqual(a);
    await platform.createDatabase("beta", { config: { allow_attach: true } });
    expect((await platform.listDatabases()).map((d) => d.name)).toEqual(["acme", "beta"]);
    await platform.deleteDatabase("acme");
    await expect(platform.getDatabase("acme")).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
    expect((await platform.listDatabases()).map((d) => d.name)).toEqual(["beta"]);
  });

  it.each([
    ["", "empty"],
    ["Acme", "uppercase"],
    ["-acme", "leading dash"],
    ["acme-", "trailing dash"],
    ["a".repeat(65), "65 characters"],
    ["ac me", "space"],
    ["../etc", "path"],
    ["dbfile_1", "underscore"],
    ["acme\u0000", "NUL"],
  ])("refuses the name %j (%s) and creates nothing", async (name) => {
    platform = await createPlatform();
    await expect(platform.createDatabase(name)).rejects.toBeTenantliteError("NAME_INVALID");
    expect(await platform.listDatabases()).toEqual([]);
  });

  it("two creations of one name at once: one database, the other DATABASE_EXISTS with nothing written", async () => {
    const storage = new MemoryStorage();
    platform = await createPlatform({ storage });
    const seed = await platform.exportDatabase((await platform.createDatabase("seed")).name);
    const stored = async () => (await storage.list("tenants/", { limit: 10_000 })).length;
    // Each of these awaits its storage before writing its record: the second used to write its
    // files too, then fail on the catalog's UNIQUE with no code.
    const kinds = {
      copy: { fromDatabase: "seed" },
      import: { fromBytes: seed },
      encrypted: { encryption: { key: "k".repeat(32) } },
    };
    for (const [name, options] of Object.entries(kinds)) {
      const before = await stored();
      const [a, b] = await Promise.allSettled([
        platform.createDatabase(name, options),
        platform.createDatabase(name, options),
      ]);
      expect(a.status).toBe("fulfilled");
      expect(b.status === "rejected" ? b.reason : b).toBeTenantliteError(
        "DATABASE_EXISTS",
        /already exists/,
      );
      const raced = (await stored()) - before;
      await platform.createDatabase(`${name}-alone`, options);
      // The race wrote what one creation writes.
      expect([name, raced]).toEqual([name, (await stored()) - before - raced]);
    }
    expect((await platform.listDatabases()).map((d) => d.name).sort()).toEqual([
      "copy",
      "copy-alone",
      "encrypted",
      "encrypted-alone",
      "import",
      "import-alone",
      "seed",
    ]);
  });

  it("a schema parent deleted while a child of it is being created: refused, SCHEMA_HAS_CHILDREN", async () => {
    platform = await createPlatform();
    await platform.createDatabase("parent", { type: "schema" });
    await platform.client("parent").execute("CREATE TABLE t (x)");
    const [child, deleted] = await Promise.allSettled([
      platform.createDatabase("child", { schema: "parent" }),
      platform.deleteDatabase("parent"),
    ]);
    expect(child.status).toBe("fulfilled");
    expect(deleted.status === "rejected" ? deleted.reason : deleted).toBeTenantliteError(
      "SCHEMA_HAS_CHILDREN",
    );
    expect((await platform.getDatabase("child")).parent).toBe("parent");
    expect((await platform.getDatabase("parent")).type).toBe("schema");
    const rs = await platform.client("child").execute("SELECT count(*) AS n FROM t");
    expect(Number(rs.rows[0]!.n)).toBe(0);
  });

  it("a group deleted while a database is being created in it: never a database left in no group", async () => {
    platform = await createPlatform();
    const seed = await platform.exportDatabase((await platform.createDatabase("seed")).name);
    await platform.createGroup("g");
    // An import awaits its storage: the group's deletion meanwhile is refused.
    const [made, gone] = await Promise.allSettled([
      platform.createDatabase("d", { group: "g", fromBytes: seed }),
      platform.deleteGroup("g"),
    ]);
    expect(made.status).toBe("fulfilled");
    expect(gone.status === "rejected" ? gone.reason : gone).toBeTenantliteError(
      "GROUP_NOT_EMPTY",
      /being created/,
    );
    expect((await platform.getGroup("g")).name).toBe("g");
    // A cascade under way: a creation that starts meanwhile finds no group.
    await platform.createGroup("k");
    for (let i = 0; i < 10; i++) await platform.createDatabase(`k${i}`, { group: "k" });
    const cascade = platform.deleteGroup("k", { cascade: true });
    await new Promise((r) => setTimeout(r, 1));
    await expect(platform.createDatabase("late", { group: "k" })).rejects.toBeTenantliteError(
      "GROUP_NOT_FOUND",
    );
    await cascade;
    const names = (await platform.listDatabases()).map((d) => `${d.name}:${d.group}`);
    expect(names.sort()).toEqual(["d:g", "seed:default"]);
  });

  it("accepts a 64-character name and digits", async () => {
    platform = await createPlatform();
    await platform.createDatabase("a".repeat(64));
    await platform.createDatabase("0-9");
    expect((await platform.listDatabases()).length).toBe(2);
  });

  it("refuses duplicates, missing groups and deleting missing or protected databases", async () => {
    platform = await createPlatform();
    await platform.createDatabase("acme", { config: { delete_protection: true } });
    await expect(platform.createDatabase("acme")).rejects.toBeTenantliteError(
      "DATABASE_EXISTS",
      /already exists/,
    );
    await expect(platform.createDatabase("x", { group: "nope" })).rejects.toBeTenantliteError(
      "GROUP_NOT_FOUND",
    );
    await expect(platform.deleteDatabase("missing")).rejects.toBeTenantliteError(
      "DATABASE_NOT_FOUND",
    );
    await expect(platform.deleteDatabase("acme")).rejects.toBeTenantliteError("DATABASE_PROTECTED");
    await platform.updateConfig("acme", { delete_protection: false });
    await platform.deleteDatabase("acme");
    await expect(
      platform.createDatabase("x", { type: "weird" as never }),
    ).rejects.toBeTenantliteError("ARGS_INVALID");
    await expect(
      platform.createDatabase("x", { config: { allow_attach: "yes" as never } }),
    ).rejects.toBeTenantliteError("ARGS_INVALID");
    expect(await platform.listDatabases()).toEqual([]);
  });

  it("updates configuration; null and missing fields stay unchanged", async () => {
    platform = await createPlatform();
    await platform.createDatabase("acme");
    expect(await platform.updateConfig("acme", { allow_attach: true })).toMatchObject({
      allow_attach: true,
      block_writes: false,
    });
    expect(
      await platform.updateConfig("acme", { allow_attach: null, block_writes: true }),
    ).toMatchObject({ allow_attach: true, block_writes: true });
    expect((await platform.getDatabase("acme")).config.allow_attach).toBe(true);
  });

  it("lists with filters and pages by name", async () => {
    platform = await createPlatform();
    await platform.createGroup("eu");
    for (let i = 0; i < 25; i++)
      await platform.createDatabase(`t-${String(i).padStart(2, "0")}`, {
        group: i % 2 ? "eu" : "default",
      });
    await platform.createDatabase("parent", { type: "schema" });
    await platform.createDatabase("kid", { schema: "parent" });
    const page1 = await platform.listDatabases({ limit: 10 });
    const page2 = await platform.listDatabases({ limit: 10, after: page1.at(-1)!.name });
    expect(page1.length).toBe(10);
    expect(page2[0]!.name > page1.at(-1)!.name).toBe(true);
    expect((await platform.listDatabases({ group: "eu" })).length).toBe(12);
    expect((await platform.listDatabases({ type: "schema" })).map((d) => d.name)).toEqual([
      "parent",
    ]);
    expect((await platform.listDatabases({ schema: "parent" })).map((d) => d.name)).toEqual([
      "kid",
    ]);
  });

  it("copies a database (fromDatabase), imports bytes (fromBytes) and refuses non-SQLite bytes", async () => {
    platform = await createPlatform();
    await platform.createDatabase("src");
    const src = platform.client("src");
    await src.execute("CREATE TABLE t (x)");
    await src.execute("INSERT INTO t VALUES ('copied')");
    await platform.createDatabase("copy", { fromDatabase: "src" });
    expect((await platform.client("copy").execute("SELECT x FROM t")).rows[0]!.x).toBe("copied");
    const bytes = await platform.exportDatabase("src");
    expect(new TextDecoder().decode(bytes.slice(0, 15))).toBe("SQLite format 3");
    await platform.createDatabase("imported", { fromBytes: bytes });
    expect((await platform.client("imported").execute("SELECT x FROM t")).rows[0]!.x).toBe(
      "copied",
    );
    await expect(
      platform.createDatabase("junk", {
        fromBytes: new TextEncoder().encode("not a database at all"),
      }),
    ).rejects.toBeTenantliteError("INVALID_SQLITE_FILE");
    await expect(
      platform.createDatabase("junk", { fromDatabase: "missing" }),
    ).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
    await expect(platform.getDatabase("junk")).rejects.toThrow();
  });

  it("starts a schema child as a copy of its parent, refuses bad schema links and parents with children", async () => {
    platform = await createPlatform();
    await platform.createDatabase("parent", { type: "schema" });
    await platform.client("parent").execute("CREATE TABLE t (x)");
    await platform.client("parent").execute("INSERT INTO t VALUES (42)");
    const kid = await platform.createDatabase("kid", { schema: "parent" });
    expect(kid).toMatchObject({ type: "child", parent: "parent" });
    expect((await platform.client("kid").execute("SELECT x FROM t")).rows[0]!.x).toBe(42);
    await expect(
      platform.createDatabase("p2", { type: "schema", schema: "parent" }),
    ).rejects.toBeTenantliteError("SCHEMA_INVALID");
    await expect(platform.createDatabase("k2", { schema: "missing" })).rejects.toBeTenantliteError(
      "DATABASE_NOT_FOUND",
    );
    await expect(platform.createDatabase("k3", { schema: "kid" })).rejects.toBeTenantliteError(
      "SCHEMA_INVALID",
    );
    await expect(platform.deleteDatabase("parent")).rejects.toBeTenantliteError(
      "SCHEMA_HAS_CHILDREN",
    );
    await platform.deleteDatabase("kid");
    await platform.deleteDatabase("parent");
  });
});

describe("copies share one image until written", () => {
  it("creates copies of a template without a file each; a write gives a copy its own file", async () => {
    const storage = new MemoryStorage();
    platform = await createPlatform({ storage });
    await platform.createDatabase("template");
    await platform.client("template").execute("CREATE TABLE t AS SELECT 'from template' AS v");
    for (let i = 0; i < 20; i++)
      await platform.createDatabase(`copy-${i}`, { fromDatabase: "template" });
    // The template changes after the copies were made: copies keep the state they were made from.
    await platform.client("template").execute("UPDATE t SET v = 'changed later'");
    await platform.close();
    const images = await storage.list("images/");
    expect(images.length).toBe(1);
    platform = await createPlatform({ storage });
    const info = await platform.getDatabase("copy-3");
    expect(await storage.has(keys.tenant(info.id))).toBe(false);
    expect((await platform.client("copy-3").execute("SELECT v FROM t")).rows[0]!.v).toBe(
      "from template",
    );
    await platform.client("copy-3").execute("UPDATE t SET v = 'mine'");
    await platform.close();
    expect(await storage.has(keys.tenant(info.id))).toBe(true);
    platform = await createPlatform({ storage });
    expect((await platform.client("copy-3").execute("SELECT v FROM t")).rows[0]!.v).toBe("mine");
    expect((await platform.client("copy-4").execute("SELECT v FROM t")).rows[0]!.v).toBe(
      "from template",
    );
    expect((await platform.client("template").execute("SELECT v FROM t")).rows[0]!.v).toBe(
      "changed later",
    );
    // Deleting the template leaves its copies intact.
    await platform.deleteDatabase("template");
    expect((await platform.client("copy-5").execute("SELECT v FROM t")).rows[0]!.v).toBe(
      "from template",
    );
  });
});

describe("shared images are read once and handed out as copies", () => {
  it("loads a shared image from storage once for many copies; an exported copy's bytes are the caller's", async () => {
    const storage = new MemoryStorage();
    platform = await createPlatform({ storage });
    await platform.createDatabase("template");
    await platform.client("template").execute("CREATE TABLE t AS SELECT 'from template' AS v");
    for (let i = 0; i < 10; i++)
      await platform.createDatabase(`copy-${i}`, { fromDatabase: "template" });
    await platform.close();
    let sharedLoads = 0;
    const load = storage.load.bind(storage);
    storage.load = (key: string) => {
      if (key.startsWith("images/")) sharedLoads++;
      return load(key);
    };
    platform = await createPlatform({ storage });
    const first = await platform.exportDatabase("copy-0");
    first.fill(0);
    for (let i = 0; i < 10; i++) {
      expect((await platform.client(`copy-${i}`).execute("SELECT v FROM t")).rows[0]!.v).toBe(
        "from template",
      );
    }
    expect(await platform.exportDatabase("copy-1")).not.toEqual(first);
    expect(sharedLoads).toBe(1);
  });
});

describe("groups", () => {
  it("has a default group; creates, lists, gets and deletes groups with their databases", async () => {
    platform = await createPlatform();
    expect((await platform.listGroups()).map((g) => g.name)).toEqual(["default"]);
    const eu = await platform.createGroup("eu");
    expect(eu).toMatchObject({ name: "eu", location: "local" });
    await expect(platform.createGroup("eu")).rejects.toBeTenantliteError("GROUP_EXISTS");
    await expect(platform.createGroup("EU!")).rejects.toBeTenantliteError("NAME_INVALID");
    await expect(platform.getGroup("nope")).rejects.toBeTenantliteError("GROUP_NOT_FOUND");
    await platform.createDatabase("in-eu", { group: "eu" });
    await platform.createDatabase("guarded", { group: "eu", config: { delete_protection: true } });
    await expect(platform.deleteGroup("eu", { cascade: true })).rejects.toBeTenantliteError(
      "DATABASE_PROTECTED",
    );
    expect((await platform.listDatabases({ group: "eu" })).length).toBe(2);
    await platform.updateConfig("guarded", { delete_protection: false });
    await platform.updateGroup("eu", { delete_protection: true });
    await expect(platform.deleteGroup("eu")).rejects.toBeTenantliteError("GROUP_PROTECTED");
    expect((await platform.updateGroup("eu", { delete_protection: null })).delete_protection).toBe(
      true,
    );
    await platform.updateGroup("eu", { delete_protection: false });
    await platform.deleteGroup("eu", { cascade: true });
    expect((await platform.listGroups()).map((g) => g.name)).toEqual(["default"]);
    expect(await platform.listDatabases()).toEqual([]);
  });

  it("refuses to delete the default group, and a group with databases unless cascade is given", async () => {
    platform = await createPlatform();
    await platform.createDatabase("in-default");
    await expect(platform.deleteGroup("default")).rejects.toBeTenantliteError(
      "GROUP_IS_DEFAULT",
      /default group/,
    );
    await expect(platform.deleteGroup("default", { cascade: true })).rejects.toBeTenantliteError(
      "GROUP_IS_DEFAULT",
    );
    // Nothing was deleted, and a database created without a group still lands in it.
    expect((await platform.listGroups()).map((g) => g.name)).toEqual(["default"]);
    expect((await platform.createDatabase("after")).group).toBe("default");
    expect((await platform.listDatabases()).map((d) => d.name)).toEqual(["after", "in-default"]);

    await platform.createGroup("eu");
    for (const n of ["eu-1", "eu-2", "eu-3"]) await platform.createDatabase(n, { group: "eu" });
    await expect(platform.deleteGroup("eu")).rejects.toBeTenantliteError(
      "GROUP_NOT_EMPTY",
      /group "eu" still holds 3 databases; delete them first, or .*cascade=true.*\{ cascade: true \}/,
    );
    expect((await platform.listDatabases({ group: "eu" })).length).toBe(3);
    await platform.deleteDatabase("eu-1");
    await platform.deleteDatabase("eu-2");
    await expect(platform.deleteGroup("eu")).rejects.toBeTenantliteError(
      "GROUP_NOT_EMPTY",
      /still holds 1 database;/,
    );
    await platform.deleteDatabase("eu-3");
    // Empty: deleted without cascade.
    await platform.deleteGroup("eu");
    expect((await platform.listGroups()).map((g) => g.name)).toEqual(["default"]);
  });
});

describe("size limits", () => {
  it("a write past sizeLimit fails with SQLITE_FULL on every connection; setSizeLimit changes it, open or not", async () => {
    platform = await createPlatform();
    await expect(platform.createDatabase("bad", { sizeLimit: 0 })).rejects.toBeTenantliteError(
      "SIZE_LIMIT_INVALID",
    );
    await expect(platform.createDatabase("bad", { sizeLimit: 1.5 })).rejects.toBeTenantliteError(
      "SIZE_LIMIT_INVALID",
    );
    expect(await platform.listDatabases()).toEqual([]);
    const info = await platform.createDatabase("small", { sizeLimit: 40_000 });
    expect(info.sizeLimit).toBe(40_000);
    const a = platform.client("small");
    const b = platform.client("small");
    await a.execute("CREATE TABLE t (b BLOB)");
    const fill = (c: typeof a) => async () => {
      for (let i = 0; i < 100; i++) await c.execute("INSERT INTO t VALUES (zeroblob(3000))");
    };
    await expect(fill(a)).rejects.toBeTenantliteError("SQLITE_FULL");
    await expect(fill(b)).rejects.toBeTenantliteError("SQLITE_FULL");
    await expect(a.execute("PRAGMA max_page_count = 1000000")).rejects.toBeTenantliteError(
      "PRAGMA_FORBIDDEN",
    );
    expect(Number((await a.execute("PRAGMA max_page_count")).rows[0]?.[0])).toBeLessThan(20);
    // Lifted while both connections are open (one leased, one pooled): both may grow.
    expect((await platform.setSizeLimit("small", null)).sizeLimit).toBeUndefined();
    for (let i = 0; i < 30; i++) await b.execute("INSERT INTO t VALUES (zeroblob(3000))");
    await a.execute("INSERT INTO t VALUES (zeroblob(3000))");
    await a.execute("PRAGMA max_page_count = 1000000");
    // Set again: the database is already larger, so it cannot grow, but keeps its data.
    await platform.setSizeLimit("small", 40_000);
    await expect(a.execute("INSERT INTO t VALUES (zeroblob(3000))")).rejects.toBeTenantliteError(
      "SQLITE_FULL",
    );
    expect(Number((await b.execute("SELECT count(*) FROM t")).rows[0]?.[0])).toBeGreaterThan(30);
    await expect(platform.setSizeLimit("small", -1)).rejects.toBeTenantliteError(
      "SIZE_LIMIT_INVALID",
    );
    a.close();
    b.close();
  });
});

describe("storage", () => {
  it("persists tenants and the catalog on the filesystem across platform restarts", async () => {
    const dir = tempDir();
    platform = await createPlatform({ storage: await FsStorage.open(dir) });
    await platform.createDatabase("durable");
    const db = platform.client("durable");
    await db.execute("CREATE TABLE t (x)");
    await db.execute({ sql: "INSERT INTO t VALUES (?)", args: ["kept"] });
    await platform.close();
    platform = await createPlatform({ storage: await FsStorage.open(dir) });
    expect((await platform.getDatabase("durable")).name).toBe("durable");
    const rs = await platform.client("durable").execute("SELECT x FROM t");
    expect(rs.rows[0]!.x).toBe("kept");
  });

  it("writes are durable when execute returns (strict), without closing the platform", async () => {
    const dir = tempDir();
    platform = await createPlatform({ storage: await FsStorage.open(dir) });
    await platform.createDatabase("strict");
    const db = platform.client("strict");
    await db.execute("CREATE TABLE t (x)");
    await db.execute("INSERT INTO t VALUES (1)");
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO t VALUES (2)");
    await tx.commit();
    // What is on disk has both commits (no close of the first): a platform on a copy of the
    // directory reads them. (A second platform on the directory itself is refused.)
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });
    const other = await createPlatform({ storage: await FsStorage.open(copy) });
    expect((await other.client("strict").execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(
      2,
    );
    await other.close();
  });

  it("refuses a second platform on data another platform of this process works on", async () => {
    const dir = tempDir();
    platform = await createPlatform({ storage: await FsStorage.open(dir) });
    await platform.createDatabase("first");
    const second = await FsStorage.open(dir);
    // Two would each keep a catalog and overwrite the other's records: "first" vanished.
    await expect(createPlatform({ storage: second })).rejects.toBeTenantliteError("STORAGE_LOCKED");
    const memory = new MemoryStorage();
    const one = await createPlatform({ storage: memory });
    await expect(createPlatform({ storage: memory })).rejects.toBeTenantliteError("STORAGE_LOCKED");
    await one.close();
    await (await createPlatform({ storage: memory })).close();
    await platform.close();
    // Once the first is closed, the directory opens, with everything it made.
    platform = await createPlatform({ storage: second });
    expect((await platform.listDatabases()).map((d) => d.name)).toContain("first");
  });

  it("keeps at most maxOpenTenants open and loses nothing when evicting", async () => {
    for (const storage of [undefined, await FsStorage.open(tempDir())]) {
      platform = await createPlatform({ maxOpenTenants: 3, ...(storage ? { storage } : {}) });
      for (let i = 0; i < 10; i++) {
        await platform.createDatabase(`t${i}`);
        const c = platform.client(`t${i}`);
        await c.execute("CREATE TABLE t (x)");
        await c.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
      }
      expect(platform.openTenantCount).toBeLessThanOrEqual(3);
      for (let i = 0; i < 10; i++) {
        const rs = await platform.client(`t${i}`).execute("SELECT x FROM t");
        expect(rs.rows[0]!.x).toBe(i);
      }
      expect(platform.openTenantCount).toBeLessThanOrEqual(3);
      await platform.close();
      platform = undefined;
    }
  });

  it("keeps open tenants under the memory budget", async () => {
    const storage = await FsStorage.open(tempDir());
    platform = await createPlatform({ storage, maxOpenBytes: 4 * 1024 * 1024 });
    for (let i = 0; i < 8; i++) {
      await platform.createDatabase(`m${i}`);
      const c = platform.client(`m${i}`);
      await c.execute("CREATE TABLE t (b BLOB)");
      await c.execute("INSERT INTO t VALUES (randomblob(1000000))");
    }
    // Each tenant holds ~1 MB: a 4 MB budget keeps at most a few of them open.
    expect(platform.openTenantCount).toBeLessThanOrEqual(4);
    for (let i = 0; i < 8; i++) {
      const rs = await platform.client(`m${i}`).execute("SELECT length(b) AS n FROM t");
      expect(rs.rows[0]!.n).toBe(1000000);
    }
    expect(platform.openTenantCount).toBeLessThanOrEqual(4);
  });

  it("refuses an open-tenant budget beyond what sql.js can hold open", async () => {
    await expect(createPlatform({ maxOpenTenants: 5000 })).rejects.toBeTenantliteError(
      "ARGS_INVALID",
      /4,094 open files/,
    );
    await expect(createPlatform({ maxOpenTenants: 0 })).rejects.toBeTenantliteError("ARGS_INVALID");
  });

  it("refuses options it does not have, so a misspelt one is not silently ignored", async () => {
    // `encryptionKey` (the connection's option) for `encryption: { key }` made a plaintext
    // database without a word; a misspelt `schema` made a regular one, a config field nothing.
    const p = await createPlatform();
    try {
      const bad = (o: object) => o as never;
      await expect(
        p.createDatabase("a", bad({ encryptionKey: "secret-key-0123456789" })),
      ).rejects.toBeTenantliteError(
        "ARGS_INVALID",
        /createDatabase has no option "encryptionKey"; its options are group, .*encryption/,
      );
      await expect(
        p.createDatabase("a", bad({ encryption: { secret: "x" } })),
      ).rejects.toBeTenantliteError("ARGS_INVALID", /encryption has no option "secret"/);
      await expect(p.createDatabase("a", bad({ parent: "app" }))).rejects.toBeTenantliteError(
        "ARGS_INVALID",
      );
      await expect(
        p.createDatabase("a", bad({ config: { blockWrites: true } })),
      ).rejects.toBeTenantliteError("ARGS_INVALID", /config has no option "blockWrites"/);
      expect(await p.listDatabases()).toEqual([]); // nothing was made
      await p.createDatabase("b", { config: { block_writes: true } });
      await expect(p.updateConfig("b", bad({ blockReads: true }))).rejects.toBeTenantliteError(
        "ARGS_INVALID",
      );
      expect((await p.getDatabase("b")).config.block_reads).toBe(false);
      // listDatabases: a negative limit listed one database, an unknown type none, silently.
      for (const bad of [{ grop: "default" }, { limit: -1 }, { limit: 1.5 }, { type: "regulr" }]) {
        await expect(
          p.listDatabases(bad as never),
          JSON.stringify(bad),
        ).rejects.toBeTenantliteError("ARGS_INVALID");
      }
      expect((await p.listDatabases({ limit: 1, type: "regular" })).map((d) => d.name)).toEqual([
        "b",
      ]);
      // client: a misspelt intMode read 64-bit integers as numbers, and failed on the first big one.
      expect(() => p.client("b", bad({ intmode: "bigint" }))).toThrow(
        /client has no option "intmode"/,
      );
      expect(() => p.connect("b", bad({ busyTimeout: 10 }))).toThrow(
        /connect has no option "busyTimeout"/,
      );
      expect((await p.client("b", { intMode: "bigint" }).execute("SELECT 1 AS x")).rows[0]!.x).toBe(
        1n,
      );
    } finally {
      await p.close();
    }
    await expect(createPlatform({ maxOpenTenant: 10 } as never)).rejects.toBeTenantliteError(
      "ARGS_INVALID",
      /createPlatform has no option "maxOpenTenant"/,
    );
  });

  it("does not rewrite a tenant's file for reads and read-only pragmas", async () => {
    const storage = await FsStorage.open(tempDir());
    let saves = 0;
    const counting: Storage = {
      kind: storage.kind,
      load: (k) => storage.load(k),
      save: (key, bytes) => {
        if (key.startsWith("tenants/")) saves++;
        return storage.save(key, bytes);
      },
      delete: (k) => storage.delete(k),
      has: (k) => storage.has(k),
      list: (p, o) => storage.list(p, o),
      close: () => storage.close(),
    };
    platform = await createPlatform({ storage: counting });
    await platform.createDatabase("r");
    const c = platform.client("r");
    await c.execute("CREATE TABLE t (x)");
    const after = saves;
    for (const sql of [
      "SELECT * FROM t",
      "PRAGMA integrity_check",
      "PRAGMA quick_check",
      "PRAGMA table_info(t)",
      "PRAGMA user_version",
      "EXPLAIN SELECT 1",
    ]) {
      await c.execute(sql);
    }
    expect(saves).toBe(after);
    await c.execute("PRAGMA user_version = 7");
    expect(saves).toBe(after + 1);
  });

  it("never evicts a tenant that holds a transaction", async () => {
    platform = await createPlatform({ maxOpenTenants: 1 });
    await platform.createDatabase("held");
    await platform.createDatabase("other");
    const tx = await platform.client("held").transaction("write");
    await tx.execute("CREATE TABLE t (x)");
    await platform.client("other").execute("SELECT 1");
    await tx.execute("INSERT INTO t VALUES (1)");
    await tx.commit();
    expect((await platform.client("held").execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(
      1,
    );
  });
});
