import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FsStorage } from "../../src/node/fs-storage.js";
import type { Storage } from "../../src/storage/storage.js";
import { caught, useTempDirs } from "../helpers.js";
import { describeStorageConformance, hostileKeys } from "./conformance.js";

const base = useTempDirs("tenantlite-fs-", { scope: "file" })();
let counter = 0;
const freshDir = (): string => join(base, `s${counter++}`);
const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
/** A directory's entries without the lock and reserve files an open storage keeps there. */
const entries = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((n) => n !== ".~tl-lock" && n !== ".~tl-reserve");

describeStorageConformance("fs", () => FsStorage.open(freshDir()), {
  reopen: (closed: Storage) => FsStorage.open((closed as FsStorage).root),
});

describe("FsStorage", () => {
  it("maps key a/b/c to the file <root>/a/b/c", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    await s.save("a/b/c", bytesOf("abc"));
    expect(await readFile(join(root, "a", "b", "c"), "utf8")).toBe("abc");
    await s.close();
  });

  it("never touches the disk outside the root for hostile keys", async () => {
    const parent = freshDir();
    const root = join(parent, "root");
    const s = await FsStorage.open(root);
    for (const [, key] of hostileKeys) {
      await expect(s.save(key as string, bytesOf("evil"))).rejects.toBeTenantliteError(
        "STORAGE_INVALID_KEY",
      );
    }
    expect(await readdir(parent)).toEqual(["root"]);
    expect(await entries(root)).toEqual([]);
    await s.close();
  });

  it("ignores temp files left by a crash and removes them on open", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    await s.save("t/k", bytesOf("good"));
    await s.close();
    const leftover = join(root, "t", ".~tl-0123456789abcdef.tmp");
    await writeFile(leftover, "half-written");
    await writeFile(join(root, ".~tl-fedcba9876543210.tmp"), "x");

    const reader = await FsStorage.open(root, { sweepTempFiles: false });
    expect(await reader.list("")).toEqual(["t/k"]);
    await reader.close();

    const cleaned = await FsStorage.open(root);
    expect(existsSync(leftover)).toBe(false);
    expect(await entries(root)).toEqual(["t"]);
    expect(await cleaned.load("t/k")).toEqual(bytesOf("good"));
    await cleaned.close();
  });

  it("keeps the old bytes when the process dies between write and rename", async () => {
    const root = freshDir();
    const first = await FsStorage.open(root);
    await first.save("db", bytesOf("old"));
    let reached!: () => void;
    const atRename = new Promise<void>((r) => {
      reached = r;
    });
    const dying = await FsStorage.open(root, {
      beforeRename: () => {
        reached();
        return new Promise<void>(() => {}); // the process is gone: nothing after this runs
      },
    });
    void dying.save("db", bytesOf("new bytes"));
    await atRename;
    const temps = (await entries(root)).filter((n) => n.startsWith(".~tl-"));
    expect(temps).toHaveLength(1);
    expect(await readFile(join(root, temps[0]!), "utf8")).toBe("new bytes");

    const restarted = await FsStorage.open(root);
    expect(await restarted.load("db")).toEqual(bytesOf("old"));
    expect(await entries(root)).toEqual(["db"]);
    await restarted.close();
    await first.close();
  });

  it("cleans up its temp file and keeps the old bytes when a save fails before rename", async () => {
    const root = freshDir();
    let fail = false;
    const s = await FsStorage.open(root, {
      beforeRename: () => {
        if (fail) throw new Error("disk full");
      },
    });
    await s.save("k", bytesOf("old"));
    fail = true;
    await expect(s.save("k", bytesOf("new"))).rejects.toBeTenantliteError("STORAGE_WRITE_FAILED");
    expect(await s.load("k")).toEqual(bytesOf("old"));
    expect(await entries(root)).toEqual(["k"]);
    await s.close();
  });

  it("removes directories a delete leaves empty", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    await s.save("x/y/z", bytesOf("1"));
    await s.save("x/w", bytesOf("2"));
    await s.delete("x/y/z");
    expect(await readdir(join(root, "x"))).toEqual(["w"]);
    await s.delete("x/w");
    expect(await entries(root)).toEqual([]);
    await s.save("x", bytesOf("now a key"));
    expect(await s.load("x")).toEqual(bytesOf("now a key"));
    await s.close();
  });

  it("refuses a key that is also a prefix of other keys with STORAGE_KEY_CONFLICT", async () => {
    const s = await FsStorage.open(freshDir());
    await s.save("p/q", bytesOf("1"));
    await expect(s.save("p", bytesOf("2"))).rejects.toBeTenantliteError("STORAGE_KEY_CONFLICT");
    await s.save("f", bytesOf("3"));
    await expect(s.save("f/g", bytesOf("4"))).rejects.toBeTenantliteError("STORAGE_KEY_CONFLICT");
    expect(await s.list("")).toEqual(["f", "p/q"]);
    expect(await s.load("p")).toBeUndefined();
    expect(await s.has("p")).toBe(false);
    await s.close();
  });

  it("skips foreign files whose names are not keys", async () => {
    const root = freshDir();
    await mkdir(join(root, "d"), { recursive: true });
    await writeFile(join(root, "d", "ok"), "1");
    await writeFile(join(root, "d", "not a key"), "2");
    await writeFile(join(root, "d", "caf\u00e9"), "3");
    const s = await FsStorage.open(root);
    expect(await s.list("")).toEqual(["d/ok"]);
    await s.close();
  });

  it("pages correctly past empty directories (a crash mid-delete can leave them)", async () => {
    const root = freshDir();
    for (let i = 0; i < 10; i++)
      await mkdir(join(root, "e", `a${i}`, "deeper"), { recursive: true });
    for (let i = 0; i < 10; i++) await writeFile(join(root, "e", `b${i}`), "x");
    await mkdir(join(root, "e", "c-empty"), { recursive: true });
    const s = await FsStorage.open(root);
    expect(await s.list("e/", { limit: 3 })).toEqual(["e/b0", "e/b1", "e/b2"]);
    expect(await s.list("", { after: "e/b8", limit: 3 })).toEqual(["e/b9"]);
    expect(await s.list("e/")).toHaveLength(10);
    await s.close();
  });

  it("pages a wide, deep tree in key order", async () => {
    const root = freshDir();
    const keys: string[] = [];
    for (let a = 0; a < 12; a++) {
      for (let b = 0; b < 25; b++) {
        for (let c = 0; c < 10; c++) keys.push(`t${a}/u${b}/${c}`);
        keys.push(`t${a}/u${b}-x`, `t${a}/u${b}.y`);
      }
    }
    for (const k of keys) {
      const path = join(root, ...k.split("/"));
      await mkdir(join(path, ".."), { recursive: true });
      await writeFile(path, k);
    }
    const s = await FsStorage.open(root);
    const expected = [...keys].sort();
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await s.list("", after === undefined ? { limit: 7 } : { after, limit: 7 });
      if (page.length === 0) break;
      seen.push(...page);
      after = page.at(-1);
    }
    expect(seen).toEqual(expected);
    expect(await s.list("t1", { after: "t1/u3/5", limit: 3 })).toEqual([
      "t1/u3/6",
      "t1/u3/7",
      "t1/u3/8",
    ]);
    await s.close();
  });
});

describe("FsStorage.overwriteMany", () => {
  it("writes every entry in place (same file, cut to size), creating files and directories that do not exist", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    await s.save("t/a", bytesOf("a long original content"));
    await s.save("t/b", bytesOf("short"));
    const { ino } = statSync(join(root, "t", "a"));
    await s.overwriteMany([
      { key: "t/a", bytes: bytesOf("new") },
      { key: "t/b", bytes: bytesOf("a longer replacement") },
      { key: "u/v/c", bytes: bytesOf("created") },
    ]);
    expect(await readFile(join(root, "t", "a"), "utf8")).toBe("new");
    expect(await readFile(join(root, "t", "b"), "utf8")).toBe("a longer replacement");
    expect(await readFile(join(root, "u", "v", "c"), "utf8")).toBe("created");
    // In place: the same inode, no temp file left anywhere.
    expect(statSync(join(root, "t", "a")).ino).toBe(ino);
    expect(await entries(join(root, "t"))).toEqual(["a", "b"]);
    await s.close();
    const again = await FsStorage.open(root);
    expect(new TextDecoder().decode(await again.load("u/v/c"))).toBe("created");
    await again.close();
  });

  it("checks every entry before writing any, with coded errors", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    await s.save("ok", bytesOf("before"));
    for (const [, key] of hostileKeys) {
      await expect(
        s.overwriteMany([
          { key: "ok", bytes: bytesOf("after") },
          { key: key as string, bytes: bytesOf("evil") },
        ]),
      ).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
    }
    await expect(
      s.overwriteMany([
        { key: "ok", bytes: bytesOf("after") },
        { key: "x", bytes: "not bytes" as unknown as Uint8Array },
      ]),
    ).rejects.toBeTenantliteError("STORAGE_INVALID_ARGUMENT");
    await expect(s.overwriteMany("nope" as never)).rejects.toBeTenantliteError(
      "STORAGE_INVALID_ARGUMENT",
    );
    expect(await readFile(join(root, "ok"), "utf8")).toBe("before");
    expect(await entries(root)).toEqual(["ok"]);
    await s.close();
    await expect(s.overwriteMany([{ key: "ok", bytes: bytesOf("x") }])).rejects.toBeTenantliteError(
      "STORAGE_CLOSED",
    );
  });

  it("refuses a key that is a directory with STORAGE_KEY_CONFLICT, writing the others", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    await s.save("d/inner", bytesOf("inner"));
    await expect(
      s.overwriteMany([
        { key: "d", bytes: bytesOf("clash") },
        { key: "e", bytes: bytesOf("fine") },
      ]),
    ).rejects.toBeTenantliteError("STORAGE_KEY_CONFLICT");
    expect(await readFile(join(root, "d", "inner"), "utf8")).toBe("inner");
    expect(await readFile(join(root, "e"), "utf8")).toBe("fine");
    await s.close();
  });

  it("applies after earlier saves of the same key, and before later ones", async () => {
    const s = await FsStorage.open(freshDir());
    const first = s.save("k", bytesOf("first"));
    const batch = s.overwriteMany([{ key: "k", bytes: bytesOf("batch") }]);
    const last = s.save("k", bytesOf("last"));
    await Promise.all([first, batch, last]);
    expect(new TextDecoder().decode(await s.load("k"))).toBe("last");
    await s.close();
  });

  it("resolves once the files read back their bytes, with `synced` for their durability", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const keys = Array.from({ length: 40 }, (_, i) => `m/k${i}`);
    for (const key of keys) await s.save(key, bytesOf("old"));
    const { synced } = await s.overwriteMany(
      keys.map((key) => ({ key, bytes: bytesOf(`new ${key}`) })),
    );
    // Readable at once, by this storage and by anyone reading the files.
    for (const key of keys) {
      expect(new TextDecoder().decode(await s.load(key))).toBe(`new ${key}`);
      expect(await readFile(join(root, ...key.split("/")), "utf8")).toBe(`new ${key}`);
    }
    await synced;
    // A save after it of one of the keys wins.
    await s.save("m/k0", bytesOf("after"));
    expect(new TextDecoder().decode(await s.load("m/k0"))).toBe("after");
    await s.close();
  });
});

describe("FsStorage.overwriteMany's open files", () => {
  it.runIf(existsSync("/proc/self/fd"))(
    "keeps no file open between its write and its sync, however many calls overlap",
    async () => {
      const s = await FsStorage.open(freshDir());
      const batch = (b: number, text: string) =>
        Array.from({ length: 450 }, (_, i) => ({
          key: `f/${b}-${i}`,
          bytes: bytesOf(`${text}${i}`),
        }));
      // The files exist first (a file created here also has its directory synced after it).
      for (let b = 0; b < 3; b++) await (await s.overwriteMany(batch(b, "old"))).synced;
      const openFds = () => readdirSync("/proc/self/fd").length;
      const before = openFds();
      let peak = 0;
      const syncs: Promise<void>[] = [];
      for (let b = 0; b < 3; b++) {
        const { synced } = await s.overwriteMany(batch(b, ""));
        peak = Math.max(peak, openFds() - before);
        syncs.push(synced);
      }
      await Promise.all(syncs);
      // The syncs in flight (two) and a few descriptors of the runtime's own.
      expect(peak).toBeLessThanOrEqual(16);
      expect(await s.list("f/")).toHaveLength(1350);
      expect(new TextDecoder().decode(await s.load("f/2-449"))).toBe("449");
      await s.close();
    },
    60_000,
  );
});

describe("FsStorage.deleteMany", () => {
  it("deletes many keys across directories, pruning the ones it empties, missing keys fine", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    for (const key of ["a/1", "a/2", "b/c/3", "b/4", "keep"]) await s.save(key, bytesOf(key));
    const many = Array.from({ length: 70 }, (_, i) => `n/${i}`);
    for (const key of many) await s.save(key, bytesOf(key));
    await s.deleteMany(["a/1", "a/2", "b/c/3", "missing", "x/y/missing", ...many]);
    expect(await s.list("")).toEqual(["b/4", "keep"]);
    expect(await entries(root)).toEqual(["b", "keep"]);
    expect(await entries(join(root, "b"))).toEqual(["4"]);
    await s.deleteMany([]);
    await s.close();
  });

  it("leaves a directory that is only a prefix of other keys alone", async () => {
    const s = await FsStorage.open(freshDir());
    await s.save("d/inner", bytesOf("inner"));
    await s.deleteMany(["d"]);
    expect(await s.list("")).toEqual(["d/inner"]);
    await s.close();
  });
});

describe("FsStorage's directory lock", () => {
  const lockOf = (root: string) => join(root, ".~tl-lock");
  /** A lock file as another process would leave it. */
  const fakeLock = async (root: string, pid: number, label = "") => {
    await mkdir(root, { recursive: true });
    await writeFile(lockOf(root), `${pid} ${hostname()} 0123456789abcdef ${label}\n`);
  };
  /** A pid that is certainly not running: a child that already exited. */
  const deadPid = () => spawnSync(process.execPath, ["-e", ""]).pid as number;

  it("holds a lock file with its pid while open; storages of one process share it until the last closes", async () => {
    const root = freshDir();
    const a = await FsStorage.open(root);
    expect(readFileSync(lockOf(root), "utf8").split(" ")[0]).toBe(String(process.pid));
    const b = await FsStorage.open(root);
    await a.close();
    expect(existsSync(lockOf(root))).toBe(true);
    await b.save("k", bytesOf("still works"));
    await b.close();
    expect(existsSync(lockOf(root))).toBe(false);
    expect(await entries(root)).toEqual(["k"]);
  });

  it("refuses a directory a live process holds, naming it, and touches nothing", async () => {
    const root = freshDir();
    // The test runner's parent process is alive for the whole test.
    await fakeLock(root, process.ppid, "tenantlite dev");
    const leftover = join(root, ".~tl-0123456789abcdef.tmp");
    await writeFile(leftover, "a crashed save's temp file");
    const e = await caught(FsStorage.open(root));
    expect(e).toBeTenantliteError("STORAGE_LOCKED");
    expect(e.message).toContain(`process ${process.ppid} (tenantlite dev)`);
    expect(e.message).toContain("the data directory is in use");
    expect(e.message).not.toContain(root); // nor the lock file's path: it says which file
    expect(e.message).toContain("delete the .~tl-lock file in it");
    const described = await caught(
      FsStorage.open(root, { describedAs: "the --data-dir you gave" }),
    );
    expect(described.message).toMatch(/^STORAGE_LOCKED: the --data-dir you gave is in use by/);
    expect(existsSync(leftover)).toBe(true);
    expect(readFileSync(lockOf(root), "utf8")).toContain(String(process.ppid));
  });

  it("codes a directory that cannot be one, or cannot be made, without naming its path", async () => {
    const root = freshDir();
    await mkdir(root, { recursive: true });
    const file = join(root, "a-file");
    await writeFile(file, "x");
    const cases: [string, string, RegExp][] = [
      [file, "DATA_DIR_INVALID", /has a file where a directory should be on its path/],
      [join(file, "sub"), "DATA_DIR_INVALID", /has a file where a directory should be on its path/],
      [`${root}/nul\0byte`, "DATA_DIR_INVALID", /must be a directory's path/],
      ["", "DATA_DIR_INVALID", /must be a directory's path/],
      [`${root}/${"n".repeat(300)}`, "DATA_DIR_INVALID", /has a path too long/],
    ];
    if (existsSync("/proc/self")) {
      cases.push(["/proc/tl-data", "DATA_DIR_INVALID", /cannot be created there/]);
    }
    for (const [dir, code, message] of cases) {
      const e = await caught(FsStorage.open(dir));
      expect(e, dir).toBeTenantliteError(code);
      expect(e.message, dir).toMatch(/^DATA_DIR_INVALID: the data directory /);
      expect(e.message, dir).toMatch(message);
      expect(e.message, dir).not.toContain(root);
    }
    expect(readFileSync(file, "utf8")).toBe("x"); // changed nothing
    expect(await entries(root)).toEqual(["a-file"]);
  });

  it("takes over the lock of a process that is gone", async () => {
    const root = freshDir();
    await fakeLock(root, deadPid(), "tenantlite");
    const s = await FsStorage.open(root, { lockLabel: "tenantlite" });
    expect(readFileSync(lockOf(root), "utf8")).toMatch(
      new RegExp(`^${process.pid} .* tenantlite\n$`),
    );
    await s.close();
    expect(existsSync(lockOf(root))).toBe(false);
  });

  it("waits up to lockWaitMs for a holder with the same label, and not for others", async () => {
    const root = freshDir();
    await fakeLock(root, process.ppid, "tenantlite");
    const t0 = Date.now();
    await expect(
      FsStorage.open(root, { lockLabel: "tenantlite dev", lockWaitMs: 5_000 }),
    ).rejects.toBeTenantliteError("STORAGE_LOCKED");
    expect(Date.now() - t0).toBeLessThan(2_000);
    await expect(
      FsStorage.open(root, { lockLabel: "tenantlite", lockWaitMs: 200 }),
    ).rejects.toBeTenantliteError("STORAGE_LOCKED");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    setTimeout(() => void rm(lockOf(root)), 150);
    const s = await FsStorage.open(root, { lockLabel: "tenantlite", lockWaitMs: 5_000 });
    await s.close();
  });
});

describe("FsStorage's reserve for a full disk", () => {
  const noSpace = () => Object.assign(new Error("no space left on device"), { code: "ENOSPC" });

  it("gives its reserve up to a save that must go through, and to no other", async () => {
    const root = freshDir();
    const reserve = join(root, ".~tl-reserve");
    // The disk is full while the reserve holds its room: whole-file saves fail with ENOSPC.
    let full = false;
    const s = await FsStorage.open(root, {
      reserveBytes: 64 << 10,
      beforeRename: () => {
        if (full && existsSync(reserve)) throw noSpace();
      },
    });
    expect(statSync(reserve).size).toBe(64 << 10);
    await s.save("db/a", bytesOf("a1"));
    full = true;
    expect(await caught(s.save("db/b", bytesOf("b1")))).toBeTenantliteError(
      "STORAGE_WRITE_FAILED",
      /free space/,
    );
    expect(existsSync(reserve)).toBe(true);
    await s.save("catalog/1", bytesOf("delete a"), { reserve: true });
    expect(existsSync(reserve)).toBe(false);
    expect(new TextDecoder().decode(await s.load("catalog/1"))).toBe("delete a");
    // Spent: the next such save fails as any other (here it finds the room the reserve left).
    await s.save("catalog/2", bytesOf("x"), { reserve: true });
    // A deletion frees room: the reserve is made again.
    full = false;
    await s.delete("db/a");
    await s.close(); // (waits for the reserve)
    expect(statSync(reserve).size).toBe(64 << 10);
    const again = await FsStorage.open(root, { reserveBytes: 64 << 10 });
    expect(await again.list("")).toEqual(["catalog/1", "catalog/2"]);
    await again.close();
  });

  it("fails a save that may use the reserve when there is none left", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root, {
      reserveBytes: 0,
      beforeRename: () => {
        throw noSpace();
      },
    });
    expect(existsSync(join(root, ".~tl-reserve"))).toBe(false);
    expect(await caught(s.save("catalog/1", bytesOf("x"), { reserve: true }))).toBeTenantliteError(
      "STORAGE_WRITE_FAILED",
    );
    await s.close();
  });

  it("makes its reserve when it is missing or short, and removes it with reserveBytes 0", async () => {
    const root = freshDir();
    const reserve = join(root, ".~tl-reserve");
    await (await FsStorage.open(root)).close();
    expect(statSync(reserve).size).toBe(1 << 20); // the default
    await writeFile(reserve, "short");
    await (await FsStorage.open(root, { reserveBytes: 4096 })).close();
    expect(statSync(reserve).size).toBe(4096);
    await (await FsStorage.open(root, { reserveBytes: 0 })).close();
    expect(existsSync(reserve)).toBe(false);
    expect(await caught(FsStorage.open(root, { reserveBytes: -1 }))).toBeTenantliteError(
      "STORAGE_INVALID_ARGUMENT",
      /reserveBytes/,
    );
  });
});
