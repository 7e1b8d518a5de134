/**
 * The fs backend's page log: a save of a SQLite image the storage holds the previous image of is
 * one appended record of the changed pages. Checked here: what is on disk after each step, what
 * a process that dies (no `close`) leaves for the next one to load, torn and stale records, the
 * memory budget's checkpoints, and every other operation on a key with a log.
 */
import { cpSync, existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../../src/index.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import {
  changedPages,
  imagePageSize,
  type LogTail,
  recordParts,
  replay,
} from "../../src/node/page-log.js";
import { runTs, useTempDirs } from "../helpers.js";

const base = useTempDirs("tenantlite-page-log-", { scope: "file" })();
let counter = 0;
const freshDir = (): string => join(base, `s${counter++}`);

const PAGE = 512;
/** A SQLite-looking image: the header's magic and page size, then `pages` pages of `fill`. */
function image(pages: number, fill: number, pageSize = PAGE): Uint8Array {
  const bytes = new Uint8Array(pages * pageSize).fill(fill);
  bytes.set(new TextEncoder().encode("SQLite format 3\0"));
  bytes[16] = pageSize === 65536 ? 0 : pageSize >> 8;
  bytes[17] = pageSize === 65536 ? 1 : pageSize & 0xff;
  return bytes;
}
/** `img` with page `p`'s last byte set to `value`. */
function withPage(img: Uint8Array, p: number, value: number, pageSize = PAGE): Uint8Array {
  const next = img.slice();
  next[(p + 1) * pageSize - 1] = value;
  return next;
}
const sizeOf = (path: string): number => (existsSync(path) ? statSync(path).size : -1);
/**
 * The record, as the bytes appended, that turns image `before` into `after`: the pages that
 * differ, or every page of `after` when the page size changed.
 */
function encode(before: Uint8Array, after: Uint8Array, tail: LogTail): Uint8Array {
  const pageSize = imagePageSize(after);
  const changed =
    imagePageSize(before) === pageSize
      ? changedPages(before, after, pageSize)
      : Array.from({ length: after.length / pageSize }, (_, p) => p);
  const { parts, length } = recordParts(after, pageSize, changed, tail);
  const record = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    record.set(part, at);
    at += part.length;
  }
  return record;
}

describe("page log format", () => {
  it("knows SQLite images by their header, page size and length", () => {
    expect(imagePageSize(image(3, 1))).toBe(512);
    expect(imagePageSize(image(1, 1, 65536))).toBe(65536);
    expect(imagePageSize(image(3, 1).subarray(0, 1000))).toBe(0); // not whole pages
    const bad = image(2, 1);
    bad[17] = 3; // 515: not a power of two
    expect(imagePageSize(bad)).toBe(0);
    expect(imagePageSize(new TextEncoder().encode("SQLite format 3\0 but short"))).toBe(0);
  });

  it("records only the changed pages, and replays to the new image", () => {
    const a = image(8, 1);
    const b = withPage(withPage(a, 2, 9), 6, 9);
    const tail = { bytes: 0, generation: 7, crc: 7 };
    expect(changedPages(a, b, PAGE)).toEqual([2, 6]);
    const record = encode(a, b, tail);
    expect(record.length).toBe(32 + 2 * (4 + PAGE));
    expect(changedPages(a, a.slice(), PAGE)).toEqual([]);
    expect(replay(a.slice(), record).image).toEqual(b);
    // Growing, shrinking, and a new page size (every page).
    const grown = image(10, 1);
    expect(replay(a.slice(), encode(a, grown, tail)).image).toEqual(grown);
    const shrunk = image(3, 1);
    expect(replay(a.slice(), encode(a, shrunk, tail)).image).toEqual(shrunk);
    const bigger = image(2, 5, 4096);
    const whole = encode(a, bigger, tail);
    expect(whole.length).toBe(32 + 2 * (4 + 4096));
    expect(replay(a.slice(), whole).image).toEqual(bigger);
  });

  it("stops at a torn record, a flipped bit and a record of another generation", () => {
    const a = image(4, 1);
    const b = withPage(a, 1, 2);
    const c = withPage(b, 2, 3);
    const t0 = { bytes: 0, generation: 11, crc: 11 };
    const r1 = encode(a, b, t0);
    const t1 = {
      bytes: r1.length,
      generation: 11,
      crc: new DataView(r1.buffer).getUint32(28, true),
    };
    const r2 = encode(b, c, t1);
    const log = new Uint8Array([...r1, ...r2]);
    expect(replay(a.slice(), log).image).toEqual(c);
    expect(replay(a.slice(), log.subarray(0, log.length - 1)).image).toEqual(b);
    const flipped = log.slice();
    flipped[r1.length + 40] = (flipped[r1.length + 40] ?? 0) ^ 1;
    const out = replay(a.slice(), flipped);
    expect(out.image).toEqual(b);
    expect(out.tail.bytes).toBe(r1.length);
    // The same change recorded in another generation does not chain onto r1.
    const other = encode(b, c, { bytes: r1.length, generation: 12, crc: t1.crc });
    expect(replay(a.slice(), new Uint8Array([...r1, ...other])).image).toEqual(b);
    // None of these is damage: each ends the log where a crash could have.
    expect(out.damaged).toBe(false);
    expect(replay(a.slice(), log.subarray(0, log.length - 1)).damaged).toBe(false);
    expect(replay(a.slice(), new Uint8Array([...r1, ...other])).damaged).toBe(false);
  });

  it("calls a bad record that a good one follows damage, not a torn end", () => {
    const a = image(4, 1);
    const b = withPage(a, 1, 2);
    const c = withPage(b, 2, 3);
    const r1 = encode(a, b, { bytes: 0, generation: 5, crc: 5 });
    const crc1 = new DataView(r1.buffer).getUint32(28, true);
    const r2 = encode(b, c, { bytes: r1.length, generation: 5, crc: crc1 });
    const log = new Uint8Array([...r1, ...r2]);
    const rotted = log.slice();
    rotted[40] = (rotted[40] ?? 0) ^ 1; // inside r1's body, after r2 was appended
    const out = replay(a.slice(), rotted);
    expect(out.damaged).toBe(true);
    expect(out.records).toBe(0);
    // A record of the log's generation that does not chain onto the bad one is no proof.
    const stray = encode(b, c, { bytes: r1.length, generation: 5, crc: (crc1 ^ 1) >>> 0 });
    const torn = new Uint8Array([...r1, ...stray]);
    torn[40] = (torn[40] ?? 0) ^ 1;
    expect(replay(a.slice(), torn).damaged).toBe(false);
  });
});

describe("FsStorage page log", () => {
  it("appends a save of a held image as changed pages, and a restarted process loads it", async () => {
    const root = freshDir();
    const file = join(root, "t", "k");
    const s = await FsStorage.open(root);
    const v1 = image(16, 1);
    await s.save("t/k", v1);
    expect(sizeOf(`${file}~log`)).toBe(-1); // the first save is a whole file
    const v2 = withPage(v1, 3, 2);
    const v3 = withPage(v2, 9, 3);
    await s.save("t/k", v2);
    await s.save("t/k", v3);
    expect(new Uint8Array(await readFile(file))).toEqual(v1); // the file is untouched
    expect(sizeOf(`${file}~log`)).toBe(2 * (32 + 4 + PAGE));
    expect(await s.load("t/k")).toEqual(v3);
    expect(await s.list("")).toEqual(["t/k"]); // the log is no key

    // The process dies: no close. The next one replays the log.
    const next = await FsStorage.open(root);
    expect(await next.load("t/k")).toEqual(v3);
    const v4 = withPage(v3, 0, 4);
    await next.save("t/k", v4);
    const third = await FsStorage.open(root);
    expect(await third.load("t/k")).toEqual(v4);
    await third.close();
    await next.close();
    await s.close();
  });

  it("replays the log of a key saved without being loaded first, before saving over it", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(4, 1);
    await s.save("k", v1);
    await s.save("k", withPage(v1, 1, 2)); // a log record; the process dies
    const next = await FsStorage.open(root);
    const v3 = image(4, 7); // every page differs from v1
    await next.save("k", v3);
    const third = await FsStorage.open(root);
    expect(await third.load("k")).toEqual(v3);
    await Promise.all([third.close(), next.close(), s.close()]);
  });

  it("writes logs into their files at close: a closed directory holds plain images", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(8, 1);
    await s.save("a", v1);
    await s.save("a", withPage(v1, 5, 6));
    await s.close();
    expect(new Uint8Array(await readFile(join(root, "a")))).toEqual(withPage(v1, 5, 6));
    expect(sizeOf(join(root, "a~log"))).toBe(0);
  });

  it("ignores a torn last record, cuts it off, and appends after the good ones", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(8, 1);
    const v2 = withPage(v1, 2, 2);
    await s.save("k", v1);
    await s.save("k", v2);
    const good = sizeOf(join(root, "k~log"));
    await s.save("k", withPage(v2, 3, 3));
    await truncate(join(root, "k~log"), good + 100); // the crash tore the second record
    const next = await FsStorage.open(root);
    expect(await next.load("k")).toEqual(v2);
    expect(sizeOf(join(root, "k~log"))).toBe(good);
    const v3 = withPage(v2, 7, 7);
    await next.save("k", v3);
    expect(await (await FsStorage.open(root)).load("k")).toEqual(v3);
    await Promise.all([next.close(), s.close()]);
  });

  it("gives the same image when an emptied log's old records come back, alone or after new ones", async () => {
    const root = freshDir();
    const log = join(root, "k~log");
    const s = await FsStorage.open(root);
    const v1 = image(8, 1);
    const v2 = withPage(v1, 1, 2);
    const v3 = withPage(v2, 4, 3);
    await s.save("k", v1);
    await s.save("k", v2);
    await s.save("k", v3);
    const old = await readFile(log);
    await s.close(); // the file becomes v3, the log empty
    // The emptying never reached the disk: the old records are replayed over v3.
    await writeFile(log, old);
    const a = await FsStorage.open(root);
    expect(await a.load("k")).toEqual(v3);
    await a.close();
    // A new generation's record lands over the start of old records that came back.
    const b = await FsStorage.open(root);
    await b.load("k");
    const v4 = withPage(v3, 6, 4);
    await b.save("k", v4);
    const fresh = await readFile(log);
    await writeFile(log, Buffer.concat([fresh, old.subarray(fresh.length)]));
    const c = await FsStorage.open(root);
    expect(await c.load("k")).toEqual(v4);
    await Promise.all([c.close(), b.close()]);
  });

  it("recovers from a crash while a checkpoint wrote the file in place", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(8, 1);
    const v2 = withPage(withPage(v1, 2, 2), 6, 2);
    await s.save("k", v1);
    await s.save("k", v2);
    // Half of v2 written over the file, the log still whole.
    const half = new Uint8Array(await readFile(join(root, "k")));
    half.set(v2.subarray(0, 4 * PAGE));
    await writeFile(join(root, "k"), half);
    const next = await FsStorage.open(root);
    expect(await next.load("k")).toEqual(v2);
    await Promise.all([next.close(), s.close()]);
  });

  it("checkpoints keys that leave the memory budget, and loads them right after", async () => {
    const root = freshDir();
    const pages = 8;
    // Room for 4 images; each image may be at most a quarter of the budget.
    const s = await FsStorage.open(root, { pageLogCacheBytes: 4 * pages * PAGE });
    const latest: Uint8Array[] = [];
    for (let k = 0; k < 10; k++) {
      latest[k] = image(pages, k);
      await s.save(`k${k}`, latest[k]!);
      latest[k] = withPage(latest[k]!, 1, 100 + k);
      await s.save(`k${k}`, latest[k]!);
    }
    const keys = latest.map((_, k) => `k${k}`);
    // A load waits for the key's queued checkpoint.
    for (const k of keys.slice(0, 6)) await s.load(k);
    for (const k of keys.slice(0, 6)) expect(sizeOf(join(root, `${k}~log`))).toBe(0);
    const dying = await FsStorage.open(root);
    for (let k = 0; k < 10; k++) expect(await dying.load(`k${k}`)).toEqual(latest[k]);
    await Promise.all([dying.close(), s.close()]);
  });

  it("logs images over a quarter of the budget by pages, and saves bytes that are no image whole", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root, { pageLogCacheBytes: 8 * PAGE });
    const big = image(4, 1);
    await s.save("big", big);
    await s.save("big", withPage(big, 1, 2));
    expect(sizeOf(join(root, "big~log"))).toBe(32 + 4 + PAGE);
    expect(new Uint8Array(await readFile(join(root, "big")))).toEqual(big);
    expect(await s.load("big")).toEqual(withPage(big, 1, 2));
    await s.save("text", new TextEncoder().encode("SQLite format 3\0 not really"));
    await s.save("text", new TextEncoder().encode("SQLite format 3\0 not really!"));
    expect(sizeOf(join(root, "text~log"))).toBe(-1);
    await s.close();
    const off = await FsStorage.open(freshDir(), { pageLogCacheBytes: 0 });
    await off.save("k", image(2, 1));
    await off.save("k", image(2, 2));
    expect(sizeOf(join(off.root, "k~log"))).toBe(-1);
    await off.close();
    // Refused before anything is made: no directory, no lock.
    const refused = freshDir();
    await expect(FsStorage.open(refused, { pageLogCacheBytes: -1 })).rejects.toBeTenantliteError(
      "STORAGE_INVALID_ARGUMENT",
    );
    for (const bad of [-1, 1.5, Number.NaN]) {
      await expect(
        FsStorage.open(refused, { pageLogCheckpointBytes: bad }),
      ).rejects.toBeTenantliteError("STORAGE_INVALID_ARGUMENT");
    }
    expect(existsSync(refused)).toBe(false);
  });

  describe("an image over pageLogHoldBytes, held by its log's pages", () => {
    const HOLD = 2 * PAGE;
    const ino = (path: string) => statSync(path).ino;

    it("logs the pages that differ from its file, and a restarted process loads it", async () => {
      const root = freshDir();
      const s = await FsStorage.open(root, { pageLogHoldBytes: HOLD });
      const file = join(root, "k");
      const v0 = image(8, 1);
      await s.save("k", v0);
      const inode = ino(file);
      const v1 = withPage(v0, 3, 7);
      await s.save("k", v1);
      expect(sizeOf(`${file}~log`)).toBe(32 + 4 + PAGE);
      // Page 3 again (its logged copy differs), page 5 for the first time (its file's differs).
      const v2 = withPage(withPage(v1, 3, 8), 5, 9);
      await s.save("k", v2);
      expect(sizeOf(`${file}~log`)).toBe(2 * (32 + 4 + PAGE) + 4 + PAGE);
      await s.save("k", v2.slice()); // the same bytes: nothing to log
      expect(sizeOf(`${file}~log`)).toBe(2 * (32 + 4 + PAGE) + 4 + PAGE);
      expect(new Uint8Array(await readFile(file))).toEqual(v0); // only the log was written
      expect(ino(file)).toBe(inode);
      expect(await s.load("k")).toEqual(v2);
      const other = await FsStorage.open(root); // what a process that died would find
      expect(await other.load("k")).toEqual(v2);
      await other.close(); // (it wrote the log into the file as it loaded the big image)
      expect(sizeOf(`${file}~log`)).toBe(0);
      expect(new Uint8Array(await readFile(file))).toEqual(v2);
      expect(new Uint8Array(await readFile(file))).toEqual(v2);
    });

    it("has its log written into its file at close", async () => {
      const root = freshDir();
      const s = await FsStorage.open(root, { pageLogHoldBytes: HOLD });
      const v = withPage(image(8, 1), 6, 2);
      await s.save("k", image(8, 1));
      await s.save("k", v);
      expect(sizeOf(join(root, "k~log"))).toBe(32 + 4 + PAGE);
      await s.close();
      expect(sizeOf(join(root, "k~log"))).toBe(0);
      expect(new Uint8Array(await readFile(join(root, "k")))).toEqual(v);
    });

    it("grows and shrinks: new pages are logged, the page count follows", async () => {
      const root = freshDir();
      const s = await FsStorage.open(root, { pageLogHoldBytes: HOLD });
      let v = image(6, 1);
      await s.save("k", v);
      const steps = [image(9, 1), image(4, 1), withPage(image(7, 1), 6, 3), image(7, 2)];
      const inode = ino(join(root, "k"));
      for (const next of steps) {
        v = next;
        await s.save("k", v);
        expect(await s.load("k")).toEqual(v);
      }
      expect(ino(join(root, "k"))).toBe(inode); // every save was a record
      // What a process that died would find (a second storage on the directory checkpoints the
      // log it loads, so it comes once the first is done with it).
      const other = await FsStorage.open(root);
      expect(await other.load("k")).toEqual(v);
      await other.close();
      await s.close();
      expect(new Uint8Array(await readFile(join(root, "k")))).toEqual(v);
    });

    it("writes its log's pages into the file in place past pageLogCheckpointBytes", async () => {
      const root = freshDir();
      const s = await FsStorage.open(root, {
        pageLogHoldBytes: HOLD,
        pageLogCheckpointBytes: 3 * PAGE,
      });
      const file = join(root, "k");
      let v = image(16, 1);
      await s.save("k", v);
      const inode = ino(file);
      const logSizes: number[] = [];
      for (let p = 1; p <= 5; p++) {
        v = withPage(v, p * 2, 50 + p);
        await s.save("k", v);
        logSizes.push(sizeOf(`${file}~log`));
      }
      // One page per record; the fourth distinct page is one past 3 pages: in place, log emptied.
      const r = 32 + 4 + PAGE;
      expect(logSizes).toEqual([r, 2 * r, 3 * r, 0, r]);
      expect(ino(file)).toBe(inode); // never a new file
      expect(await (await FsStorage.open(root)).load("k")).toEqual(v);
      await s.close();
    });

    it("checkpoints its log's pages when they leave the memory budget, and still logs after", async () => {
      const root = freshDir();
      const s = await FsStorage.open(root, { pageLogCacheBytes: 8 * PAGE, pageLogHoldBytes: HOLD });
      const latest = new Map<string, Uint8Array>();
      for (const k of ["a", "b", "c"]) {
        latest.set(k, image(12, 1));
        await s.save(k, latest.get(k)!);
      }
      const inodes = new Map([...latest.keys()].map((k) => [k, ino(join(root, k))]));
      for (let round = 0; round < 4; round++) {
        for (const k of latest.keys()) {
          latest.set(k, withPage(withPage(latest.get(k)!, round + 1, 9), round + 6, 9));
          await s.save(k, latest.get(k)!);
        }
      }
      // A load waits for what is queued on its key (the checkpoints too).
      for (const [k, v] of latest) expect(await s.load(k)).toEqual(v);
      // Three keys × 2 pages a round would hold 24 pages without checkpoints: the budget is 8.
      const record = 32 + 2 * 4 + 2 * PAGE;
      const logs = [...latest.keys()].map((k) => sizeOf(join(root, `${k}~log`)));
      expect(logs.filter((n) => n < 4 * record).length).toBeGreaterThan(0);
      // Still a record per save after a checkpoint: the key's state stayed, its log empty.
      latest.set("c", withPage(latest.get("c")!, 11, 4));
      await s.save("c", latest.get("c")!);
      expect(sizeOf(join(root, "c~log"))).toBeGreaterThan(0);
      for (const [k, inode] of inodes) expect(ino(join(root, k))).toBe(inode); // no whole file
      const other = await FsStorage.open(root);
      for (const [k, v] of latest) expect(await other.load(k)).toEqual(v);
      await other.close();
      await s.close();
    });

    it("a file changed behind its back is noticed, and the save writes the whole image", async () => {
      const root = freshDir();
      const s = await FsStorage.open(root, { pageLogHoldBytes: HOLD });
      const file = join(root, "k");
      const v0 = image(8, 1);
      await s.save("k", v0);
      await s.save("k", withPage(v0, 2, 5));
      await truncate(file, 3 * PAGE); // pages the log does not hold are gone
      const v2 = withPage(v0, 4, 6);
      await s.save("k", v2);
      expect(sizeOf(`${file}~log`)).toBe(0);
      expect(new Uint8Array(await readFile(file))).toEqual(v2);
      expect(await (await FsStorage.open(root)).load("k")).toEqual(v2);
      await s.close();
    });

    it("crosses between held whole and held by pages as it grows and shrinks", async () => {
      const root = freshDir();
      const s = await FsStorage.open(root, { pageLogHoldBytes: 4 * PAGE });
      const versions = [
        image(2, 1),
        withPage(image(2, 1), 1, 3),
        image(6, 1),
        withPage(image(6, 1), 4, 3),
        image(3, 2),
        withPage(image(3, 2), 0, 3),
      ];
      for (const v of versions) {
        await s.save("k", v);
        expect(await s.load("k")).toEqual(v);
      }
      expect(await (await FsStorage.open(root)).load("k")).toEqual(versions.at(-1));
      await s.close();
    });
  });

  it("writes the log into the file once it holds more than pageLogCheckpointBytes and the image", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root, { pageLogCheckpointBytes: 0 });
    let v = image(4, 1);
    await s.save("k", v);
    const sizes: number[] = [];
    for (let i = 0; i < 8; i++) {
      v = withPage(v, i % 4, 10 + i);
      await s.save("k", v);
      sizes.push(sizeOf(join(root, "k~log")));
    }
    // One page per record (32 + 4 + 512 bytes): past the 2,048-byte image at the fourth.
    expect(sizes).toEqual([548, 1096, 1644, 0, 548, 1096, 1644, 0]);
    expect(new Uint8Array(await readFile(join(root, "k")))).toEqual(v);
    expect(await (await FsStorage.open(root)).load("k")).toEqual(v);
    await s.close();
  });

  it("a key that grows past the budget gets its log written into its file first", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root, { pageLogCacheBytes: 16 * PAGE });
    const v1 = image(2, 1);
    await s.save("k", v1);
    await s.save("k", withPage(v1, 1, 2));
    expect(sizeOf(join(root, "k~log"))).toBeGreaterThan(0);
    const big = image(8, 3); // over a quarter of the budget
    await s.save("k", big);
    expect(sizeOf(join(root, "k~log"))).toBe(0);
    expect(await (await FsStorage.open(root)).load("k")).toEqual(big);
    await s.close();
  });

  it("delete removes the log, and a new key of that name starts clean", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(4, 1);
    await s.save("d/k", v1);
    await s.save("d/k", withPage(v1, 1, 2));
    await s.delete("d/k");
    expect(existsSync(join(root, "d"))).toBe(false);
    expect(await s.load("d/k")).toBeUndefined();
    const w = image(4, 9);
    await s.save("d/k", w);
    expect(await (await FsStorage.open(root)).load("d/k")).toEqual(w);
    await s.save("d/k", withPage(w, 2, 2));
    await s.deleteMany(["d/k"]);
    expect(existsSync(join(root, "d"))).toBe(false);
    await s.close();
  });

  it("overwriteMany over a key with a log: the log is emptied first, never replayed over the new bytes", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(4, 1);
    await s.save("k", v1);
    await s.save("k", withPage(v1, 1, 2));
    const other = image(4, 5);
    const { synced } = await s.overwriteMany([{ key: "k", bytes: other }]);
    await synced;
    expect(sizeOf(join(root, "k~log"))).toBe(0);
    expect(await (await FsStorage.open(root)).load("k")).toEqual(other);
    const next = withPage(other, 3, 3);
    await s.save("k", next);
    expect(await (await FsStorage.open(root)).load("k")).toEqual(next);
    await s.close();
  });

  it("keeps every key right under concurrent saves, loads and deletes", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root, { pageLogCacheBytes: 6 * 8 * PAGE });
    const expected = new Map<string, Uint8Array | undefined>();
    const work: Promise<unknown>[] = [];
    for (let round = 0; round < 12; round++) {
      for (let k = 0; k < 8; k++) {
        const key = `c/k${k}`;
        const prev = expected.get(key) ?? image(8, k);
        if ((round + k) % 7 === 6) {
          expected.set(key, undefined);
          work.push(s.delete(key));
          continue;
        }
        const next = withPage(prev, (round + k) % 8, round);
        expected.set(key, next);
        work.push(s.save(key, next));
        if (round % 3 === 0) work.push(s.load(key));
      }
    }
    await Promise.all(work);
    const dying = await FsStorage.open(root);
    for (const [key, bytes] of expected) expect(await dying.load(key)).toEqual(bytes);
    await s.close();
    const closed = await FsStorage.open(root);
    for (const [key, bytes] of expected) expect(await closed.load(key)).toEqual(bytes);
    await Promise.all([closed.close(), dying.close()]);
  });

  it("a failed append is a coded error, and changes nothing", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(4, 1);
    await s.save("k", v1);
    await mkdir(join(root, "k~log")); // the log cannot be written
    const error = await s.save("k", withPage(v1, 1, 2)).catch((e: unknown) => e);
    expect(error).toBeTenantliteError("STORAGE_WRITE_FAILED", /writable and has free space/);
    expect((error as Error).message).not.toContain(root);
    expect((error as Error).message).not.toMatch(/"k"|~log/); // no key, no path: the cause has them
    expect(await s.load("k")).toEqual(v1);
    expect(await (await FsStorage.open(root)).load("k")).toEqual(v1);
    await rm(join(root, "k~log"), { recursive: true });
    await s.save("k", withPage(v1, 1, 3));
    expect(await (await FsStorage.open(root)).load("k")).toEqual(withPage(v1, 1, 3));
    await s.close();
  });

  it("a full disk leaves a key with a log readable: its log stays, and a save fails coded", async () => {
    // A process writes an image and a log record that grows it to 8 MiB, and dies. The next one
    // cannot grow any file past 4 MiB (ulimit -f: a full disk for it), so writing the log into
    // the file at load fails: the load must still answer, from the file and its log.
    const root = freshDir();
    const dir = join(base, `scripts${counter++}`);
    await mkdir(dir, { recursive: true });
    const storageTs = JSON.stringify(join(process.cwd(), "src", "node", "fs-storage.ts"));
    const header = `import { FsStorage } from ${storageTs};
const image = (pages: number, fill: number) => {
  const b = new Uint8Array(pages * 4096).fill(fill);
  b.set(new TextEncoder().encode("SQLite format 3\\0"));
  b[16] = 16;
  b[17] = 0;
  return b;
};
const v2 = image(2048, 2);
const same = (a: Uint8Array | undefined) => a !== undefined && Buffer.compare(a, v2) === 0;
const s = await FsStorage.open(${JSON.stringify(root)}, { pageLogHoldBytes: 0, pageLogCheckpointBytes: 64 << 20 });
`;
    await writeFile(
      join(dir, "write.ts"),
      `${header}await s.save("k", image(512, 1));
await s.save("k", v2);
console.log("saved");
process.exit(0); // dies: no close, the log stays
`,
    );
    await writeFile(
      join(dir, "full.ts"),
      `${header}const out: string[] = [];
out.push(same(await s.load("k")) ? "load ok" : "load wrong");
const v3 = v2.slice();
v3[v3.length - 1] = 3;
out.push(await s.save("k", v3).then(() => "saved", (e) => \`save \${e.code}: \${e.message}\`));
out.push(same(await s.load("k")) ? "load ok" : "load wrong");
console.log(out.join("\\n"));
process.exit(0);
`,
    );
    expect((await runTs(join(dir, "write.ts"), 30_000)).out.trim()).toBe("saved");
    expect(sizeOf(join(root, "k"))).toBe(512 * 4096);
    const full = await runTs(join(dir, "full.ts"), 30_000, { fileSizeLimitKiB: 4096 });
    expect(full.err).toBe("");
    const lines = full.out.trim().split("\n");
    expect(lines[0]).toBe("load ok");
    expect(lines[1]).toMatch(/^save STORAGE_WRITE_FAILED: .*free space/);
    expect(lines[1]).not.toContain(root);
    expect(lines[2]).toBe("load ok");
    // Space again: everything is there, and the log goes into the file.
    const s = await FsStorage.open(root);
    const loaded = await s.load("k");
    expect(loaded && Buffer.compare(loaded, image(2048, 2, 4096))).toBe(0); // (toEqual: 30 s on 8 MiB)
    await s.close();
    expect(sizeOf(join(root, "k~log"))).toBe(0);
  }, 60_000);

  it("refuses a key whose log is damaged before committed records, and keeps the log as it is", async () => {
    const root = freshDir();
    const s = await FsStorage.open(root);
    const v1 = image(8, 1);
    const v2 = withPage(v1, 2, 2);
    await s.save("k", v1);
    await s.save("k", v2);
    await s.save("k", withPage(v2, 5, 3));
    // The process dies; a byte of the first record rots on the disk.
    const logPath = join(root, "k~log");
    const log = new Uint8Array(await readFile(logPath));
    log[40] = (log[40] ?? 0) ^ 0xff;
    await writeFile(logPath, log);
    const next = await FsStorage.open(root);
    const error = await next.load("k").catch((e: unknown) => e);
    expect(error).toBeTenantliteError("DATABASE_CORRUPT");
    expect((error as Error).message).not.toContain(root);
    await expect(next.save("k", image(8, 9))).rejects.toBeTenantliteError("DATABASE_CORRUPT");
    // Nothing was cut off or written: whoever repairs it finds every byte.
    expect(new Uint8Array(await readFile(logPath))).toEqual(log);
    expect(new Uint8Array(await readFile(join(root, "k")))).toEqual(v1);
    await Promise.all([next.close(), s.close()]);
  });

  it("a tenant with a damaged log answers DATABASE_CORRUPT, naming the database", async () => {
    const root = freshDir();
    const first = await platformAt(root);
    const platform = first.platform;
    await platform.createDatabase("acme");
    const client = platform.client("acme");
    await client.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    for (let i = 0; i < 5; i++) await client.execute("INSERT INTO t(v) VALUES ('x')");
    const [logName] = (await readdirDeep(root)).filter((n) => n.endsWith("~log"));
    const logPath = join(root, logName!);
    const log = new Uint8Array(await readFile(logPath));
    expect(log.length).toBeGreaterThan(2 * 4096);
    log[100] = (log[100] ?? 0) ^ 0xff; // inside the first record, with others after it
    // What a process that dies now leaves on disk, with the log damaged.
    const after = freshDir();
    cpSync(root, after, { recursive: true });
    await writeFile(join(after, logName!), log);
    const next = await platformAt(after);
    const error = await next.platform
      .client("acme")
      .execute("SELECT count(*) FROM t")
      .catch((e: unknown) => e);
    expect(error).toBeTenantliteError("DATABASE_CORRUPT");
    expect((error as Error).message).toContain('"acme"');
    expect((error as Error).message).not.toContain(after);
    await next.close();
    await first.close();
  });

  it("keeps a tenant's committed rows across a process that dies without closing", async () => {
    const root = freshDir();
    const first = await platformAt(root);
    const platform = first.platform;
    await platform.createDatabase("acme");
    const client = platform.client("acme");
    await client.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    for (let i = 0; i < 30; i++)
      await client.execute({ sql: "INSERT INTO t(v) VALUES (?)", args: [`row ${i}`] });
    await client.execute("UPDATE t SET v = 'changed' WHERE id = 7");
    const logs = (await readdirDeep(root)).filter((n) => n.endsWith("~log"));
    expect(logs.length).toBeGreaterThan(0);
    // Not closed: the next process reads the files and their logs as they are (copied here:
    // a second platform on the directory itself is refused while the first is open).
    const after = freshDir();
    cpSync(root, after, { recursive: true });
    const next = await platformAt(after);
    const acme = next.platform.client("acme");
    const rows = await acme.execute("SELECT count(*) AS n, max(v) AS m FROM t");
    expect(rows.rows[0]).toMatchObject({ n: 30, m: "row 9" });
    const seven = await acme.execute("SELECT v FROM t WHERE id = 7");
    expect(seven.rows[0]?.v).toBe("changed");
    await next.close();
    await first.close();
  });
});

/**
 * A platform on an FsStorage of `root`: what one process of an app would open there. `close`
 * closes both.
 */
async function platformAt(root: string): Promise<{ platform: Platform; close(): Promise<void> }> {
  const storage = await FsStorage.open(root);
  const platform = await createPlatform({ storage });
  return {
    platform,
    close: async () => {
      await platform.close();
      await storage.close();
    },
  };
}

async function readdirDeep(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String);
}
