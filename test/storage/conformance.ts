// Shared by every backend's test file, and bundled for a real browser later: keep it free of
// Node-only APIs.
import { afterEach, describe, expect, it } from "vitest";
import { deleteAll, type Storage } from "../../src/storage/storage.js";

/** Extra capabilities a backend's test file can give the suite. */
export interface ConformanceOptions {
  /** Opens a new instance over the same data as `closed` (already closed), for persistence cases. */
  reopen?: (closed: Storage) => Promise<Storage>;
}

const encoder = new TextEncoder();
const bytesOf = (text: string): Uint8Array => encoder.encode(text);

/** Keys no backend may accept, with why. */
export const hostileKeys: [string, unknown][] = [
  ["empty", ""],
  ["parent segment", "../x"],
  ["inner parent segment", "a/../../b"],
  ["dot segment", "a/./b"],
  ["lone dot", "."],
  ["lone dot-dot", ".."],
  ["absolute path", "/etc/passwd"],
  ["trailing slash", "a/"],
  ["double slash", "a//b"],
  ["NUL byte", "a\u0000b"],
  ["backslash", "a\\b"],
  ["windows drive", "C:\\x"],
  ["space", "a b"],
  ["non-ASCII", "caf\u00e9"],
  ["newline", "a\nb"],
  ["too long", "x".repeat(513)],
  ["not a string", 42],
  ["undefined", undefined],
];

/**
 * Registers the storage conformance suite for one backend: every `Storage` must pass all of it.
 * `makeStorage` is called once per case and must return an empty store; the suite closes it.
 *
 * @example
 * describeStorageConformance("memory", () => new MemoryStorage());
 */
export function describeStorageConformance(
  name: string,
  makeStorage: () => Storage | Promise<Storage>,
  options: ConformanceOptions = {},
): void {
  describe(`Storage conformance: ${name}`, () => {
    const opened: Storage[] = [];
    const open = async (): Promise<Storage> => {
      const storage = await makeStorage();
      opened.push(storage);
      return storage;
    };
    afterEach(async () => {
      for (const storage of opened.splice(0)) await storage.close();
    });

    it("has a kind", async () => {
      const s = await open();
      expect(typeof s.kind).toBe("string");
      expect(s.kind.length).toBeGreaterThan(0);
    });

    it("round-trips bytes", async () => {
      const s = await open();
      await s.save("tenants/acme", bytesOf("hello"));
      expect(await s.load("tenants/acme")).toEqual(bytesOf("hello"));
    });

    it("returns undefined for a missing key", async () => {
      const s = await open();
      expect(await s.load("nope")).toBeUndefined();
      expect(await s.load("a/b/c")).toBeUndefined();
    });

    it("overwrites", async () => {
      const s = await open();
      await s.save("k", bytesOf("first, longer value"));
      await s.save("k", bytesOf("second"));
      expect(await s.load("k")).toEqual(bytesOf("second"));
    });

    it("stores empty values", async () => {
      const s = await open();
      await s.save("empty", new Uint8Array(0));
      expect(await s.has("empty")).toBe(true);
      const loaded = await s.load("empty");
      expect(loaded).toBeInstanceOf(Uint8Array);
      expect(loaded?.length).toBe(0);
    });

    it("stores every byte value", async () => {
      const s = await open();
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      await s.save("binary", all);
      expect(await s.load("binary")).toEqual(all);
    });

    it("reports presence with has", async () => {
      const s = await open();
      expect(await s.has("x/y")).toBe(false);
      await s.save("x/y", bytesOf("1"));
      expect(await s.has("x/y")).toBe(true);
      expect(await s.has("x")).toBe(false);
    });

    it("deletes, and deleting a missing key is fine", async () => {
      const s = await open();
      await s.save("d/one", bytesOf("1"));
      await s.delete("d/one");
      expect(await s.load("d/one")).toBeUndefined();
      expect(await s.has("d/one")).toBe(false);
      await s.delete("d/one");
      await s.delete("never/was");
      expect(await s.list("")).toEqual([]);
    });

    it("can save again after a delete", async () => {
      const s = await open();
      await s.save("a/b", bytesOf("1"));
      await s.delete("a/b");
      await s.save("a/b", bytesOf("2"));
      expect(await s.load("a/b")).toEqual(bytesOf("2"));
    });

    it("isolates returned bytes from the store", async () => {
      const s = await open();
      await s.save("k", bytesOf("abc"));
      const first = await s.load("k");
      first?.fill(0);
      expect(await s.load("k")).toEqual(bytesOf("abc"));
    });

    it("isolates the store from the caller's array after save", async () => {
      const s = await open();
      const input = bytesOf("abc");
      await s.save("k", input);
      input.fill(0);
      expect(await s.load("k")).toEqual(bytesOf("abc"));
    });

    it("saves only the bytes of a subarray view", async () => {
      const s = await open();
      const whole = bytesOf("0123456789");
      await s.save("view", whole.subarray(3, 6));
      expect(await s.load("view")).toEqual(bytesOf("345"));
    });

    it("isolates the store from a change made right after save is called", async () => {
      const s = await open();
      const input = bytesOf("abc");
      const saved = s.save("k", input);
      input.fill(0);
      await saved;
      expect(await s.load("k")).toEqual(bytesOf("abc"));
    });

    it("stores handed-over bytes (transfer), whole arrays and subarray views alike", async () => {
      const s = await open();
      await s.save("whole", bytesOf("handed over"), { transfer: true });
      const whole = bytesOf("0123456789");
      await s.save("view", whole.subarray(3, 6), { transfer: true });
      await s.save("empty", new Uint8Array(0), { transfer: true });
      expect(await s.load("whole")).toEqual(bytesOf("handed over"));
      expect(await s.load("view")).toEqual(bytesOf("345"));
      expect(await s.load("empty")).toEqual(new Uint8Array(0));
      const loaded = await s.load("whole");
      loaded?.fill(0);
      expect(await s.load("whole")).toEqual(bytesOf("handed over"));
    });

    it("lists nothing when empty", async () => {
      const s = await open();
      expect(await s.list("")).toEqual([]);
      expect(await s.list("tenants/")).toEqual([]);
    });

    it("lists keys in sorted string order across nesting and punctuation", async () => {
      const s = await open();
      const keys = ["a0", "a-c", "a.b", "a/b", "a/b0/c", "a/b-/c", "A", "_x", "z/z/z", "a/c", "9"];
      for (const k of keys) await s.save(k, bytesOf(k));
      expect(await s.list("")).toEqual([...keys].sort());
    });

    it("lists only keys under the prefix", async () => {
      const s = await open();
      for (const k of ["t/a", "t/b/c", "t2/a", "tx", "t-/a", "u/a"]) await s.save(k, bytesOf(k));
      expect(await s.list("t/")).toEqual(["t/a", "t/b/c"]);
      expect(await s.list("t/b/")).toEqual(["t/b/c"]);
      expect(await s.list("nothing/")).toEqual([]);
    });

    it("accepts a prefix that ends inside a segment", async () => {
      const s = await open();
      for (const k of ["tenants/acme", "tenants/acorn", "tenants/beta", "tenants/ac/x"]) {
        await s.save(k, bytesOf(k));
      }
      expect(await s.list("tenants/ac")).toEqual(["tenants/ac/x", "tenants/acme", "tenants/acorn"]);
    });

    it("starts strictly after `after`", async () => {
      const s = await open();
      for (const k of ["p/a", "p/b", "p/c", "p/d"]) await s.save(k, bytesOf(k));
      expect(await s.list("p/", { after: "p/b" })).toEqual(["p/c", "p/d"]);
      expect(await s.list("p/", { after: "p/bb" })).toEqual(["p/c", "p/d"]);
      expect(await s.list("p/", { after: "p/" })).toEqual(["p/a", "p/b", "p/c", "p/d"]);
      expect(await s.list("p/", { after: "p/d" })).toEqual([]);
      expect(await s.list("p/", { after: "a" })).toEqual(["p/a", "p/b", "p/c", "p/d"]);
      expect(await s.list("p/", { after: "q" })).toEqual([]);
    });

    it("continues after a key nested deeper than the next ones", async () => {
      const s = await open();
      for (const k of ["n/a/x/1", "n/a/x/2", "n/a/y", "n/b"]) await s.save(k, bytesOf(k));
      expect(await s.list("", { after: "n/a/x/1" })).toEqual(["n/a/x/2", "n/a/y", "n/b"]);
      expect(await s.list("", { after: "n/a/x" })).toEqual(["n/a/x/1", "n/a/x/2", "n/a/y", "n/b"]);
      expect(await s.list("", { after: "n/a/x/9" })).toEqual(["n/a/y", "n/b"]);
    });

    it("honours limit, including 0", async () => {
      const s = await open();
      for (const k of ["l/1", "l/2", "l/3"]) await s.save(k, bytesOf(k));
      expect(await s.list("l/", { limit: 2 })).toEqual(["l/1", "l/2"]);
      expect(await s.list("l/", { limit: 0 })).toEqual([]);
      expect(await s.list("l/", { limit: 10 })).toEqual(["l/1", "l/2", "l/3"]);
    });

    it("pages through ~2,000 keys with after + limit, each exactly once, in order", async () => {
      const s = await open();
      const keys: string[] = [];
      for (let i = 0; i < 2000; i++) {
        keys.push(`many/${i % 7}/${(i * 7919) % 2003}-k${i}`);
        if (i % 100 === 0) keys.push(`many/${i % 7}-${i}`);
      }
      for (let i = 0; i < keys.length; i += 64) {
        await Promise.all(keys.slice(i, i + 64).map((k) => s.save(k, bytesOf(k))));
      }
      await s.save("other/key", bytesOf("x"));
      const expected = [...keys].sort();
      expect(await s.list("many/")).toEqual(expected);
      const paged: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await s.list(
          "many/",
          after === undefined ? { limit: 97 } : { after, limit: 97 },
        );
        expect(page.length).toBeLessThanOrEqual(97);
        if (page.length === 0) break;
        paged.push(...page);
        after = page[page.length - 1];
      }
      expect(paged).toEqual(expected);
    });

    it("does not list deleted keys", async () => {
      const s = await open();
      for (const k of ["g/1", "g/2", "g/3"]) await s.save(k, bytesOf(k));
      await s.delete("g/2");
      expect(await s.list("g/")).toEqual(["g/1", "g/3"]);
    });

    it("accepts a 512-character key", async () => {
      const s = await open();
      const key = ["a".repeat(127), "b".repeat(127), "c".repeat(127), "d".repeat(128)].join("/");
      expect(key.length).toBe(512);
      await s.save(key, bytesOf("long"));
      expect(await s.load(key)).toEqual(bytesOf("long"));
      expect(await s.list("")).toEqual([key]);
    });

    it("rejects hostile keys with STORAGE_INVALID_KEY before writing anything", async () => {
      const s = await open();
      for (const [, key] of hostileKeys) {
        const k = key as string;
        await expect(s.save(k, bytesOf("evil"))).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
        await expect(s.load(k)).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
        await expect(s.has(k)).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
        await expect(s.delete(k)).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
      }
      expect(await s.list("")).toEqual([]);
    });

    it("rejects a bad list prefix or options", async () => {
      const s = await open();
      await expect(s.list("../")).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
      await expect(s.list("/")).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
      await expect(s.list("a//")).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
      await expect(s.list("", { limit: -1 })).rejects.toBeTenantliteError(
        "STORAGE_INVALID_ARGUMENT",
      );
      await expect(s.list("", { limit: 1.5 })).rejects.toBeTenantliteError(
        "STORAGE_INVALID_ARGUMENT",
      );
    });

    it("rejects values that are not Uint8Array", async () => {
      const s = await open();
      await expect(s.save("k", "text" as unknown as Uint8Array)).rejects.toBeTenantliteError(
        "STORAGE_INVALID_ARGUMENT",
      );
      expect(await s.has("k")).toBe(false);
    });

    it("serializes concurrent saves of one key: the last call wins", async () => {
      const s = await open();
      const writes = Array.from({ length: 20 }, (_, i) => s.save("same", bytesOf(`v${i}`)));
      await Promise.all(writes);
      expect(await s.load("same")).toEqual(bytesOf("v19"));
      expect(await s.list("")).toEqual(["same"]);
    });

    it("handles concurrent saves of different keys", async () => {
      const s = await open();
      const keys = Array.from({ length: 50 }, (_, i) => `c/${i % 5}/k${i}`);
      await Promise.all(keys.map((k) => s.save(k, bytesOf(k))));
      for (const k of keys) expect(await s.load(k)).toEqual(bytesOf(k));
      expect(await s.list("c/")).toEqual([...keys].sort());
    });

    it("round-trips a 16 MB value", async () => {
      const s = await open();
      const big = new Uint8Array(16 * 1024 * 1024);
      for (let i = 0; i < big.length; i += 4093) big[i] = (i * 31) & 0xff;
      big[big.length - 1] = 0xab;
      await s.save("big", big);
      const loaded = await s.load("big");
      expect(loaded?.length).toBe(big.length);
      expect(loaded?.[big.length - 1]).toBe(0xab);
      let same = true;
      for (let i = 0; i < big.length; i += 4093) if (loaded?.[i] !== big[i]) same = false;
      expect(same).toBe(true);
    });

    it("fails with STORAGE_CLOSED after close, and close is idempotent", async () => {
      const s = await open();
      await s.save("k", bytesOf("v"));
      await s.close();
      await s.close();
      await expect(s.load("k")).rejects.toBeTenantliteError("STORAGE_CLOSED");
      await expect(s.save("k", bytesOf("w"))).rejects.toBeTenantliteError("STORAGE_CLOSED");
      await expect(s.delete("k")).rejects.toBeTenantliteError("STORAGE_CLOSED");
      await expect(s.has("k")).rejects.toBeTenantliteError("STORAGE_CLOSED");
      await expect(s.list("")).rejects.toBeTenantliteError("STORAGE_CLOSED");
    });

    it("writes and deletes batches: overwriteMany and deleteMany where it has them, deleteAll always", async () => {
      const s = await open();
      await s.save("b/old", bytesOf("old"));
      const entries = Array.from({ length: 30 }, (_, i) => ({
        key: `b/k${String(i).padStart(2, "0")}`,
        bytes: bytesOf(`v${i}`),
      }));
      entries.push({ key: "b/old", bytes: bytesOf("new") });
      if (s.overwriteMany !== undefined) {
        const { synced } = await s.overwriteMany(entries);
        for (const e of entries) expect(await s.load(e.key)).toEqual(e.bytes);
        await synced;
        // Every entry is checked before any is written.
        for (const [, key] of hostileKeys) {
          await expect(
            s.overwriteMany([
              { key: "b/old", bytes: bytesOf("changed") },
              { key: key as string, bytes: bytesOf("evil") },
            ]),
          ).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
        }
        await expect(
          s.overwriteMany([{ key: "b/old", bytes: "text" as unknown as Uint8Array }]),
        ).rejects.toBeTenantliteError("STORAGE_INVALID_ARGUMENT");
        await expect(s.overwriteMany("b/old" as never)).rejects.toBeTenantliteError(
          "STORAGE_INVALID_ARGUMENT",
        );
        expect(await s.load("b/old")).toEqual(bytesOf("new"));
      } else {
        for (const e of entries) await s.save(e.key, e.bytes);
      }
      if (s.deleteMany !== undefined) {
        for (const [, key] of hostileKeys) {
          await expect(s.deleteMany(["b/old", key as string])).rejects.toBeTenantliteError(
            "STORAGE_INVALID_KEY",
          );
        }
        await expect(s.deleteMany("b/old" as never)).rejects.toBeTenantliteError(
          "STORAGE_INVALID_ARGUMENT",
        );
        expect(await s.has("b/old")).toBe(true);
      }
      await deleteAll(s, [...entries.slice(0, 20).map((e) => e.key), "b/missing", "b/old"]);
      expect(await s.list("b/")).toEqual(entries.slice(20, 30).map((e) => e.key));
      await s.close();
      if (s.overwriteMany !== undefined) {
        await expect(s.overwriteMany([])).rejects.toBeTenantliteError("STORAGE_CLOSED");
      }
      if (s.deleteMany !== undefined)
        await expect(s.deleteMany([])).rejects.toBeTenantliteError("STORAGE_CLOSED");
    });

    it("lets saves started before close finish", async () => {
      const s = await open();
      const pending = s.save("late", bytesOf("v"));
      const closing = s.close();
      await pending;
      await closing;
    });

    if (options.reopen) {
      const reopen = options.reopen;
      it("keeps data across close and reopen", async () => {
        const s = await open();
        await s.save("keep/a", bytesOf("A"));
        await s.save("keep/b", bytesOf("B"));
        await s.delete("keep/b");
        await s.close();
        const again = await reopen(s);
        opened.push(again);
        expect(await again.load("keep/a")).toEqual(bytesOf("A"));
        expect(await again.has("keep/b")).toBe(false);
        expect(await again.list("")).toEqual(["keep/a"]);
      });
    }
  });
}
