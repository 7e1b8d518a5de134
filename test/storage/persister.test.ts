import { describe, expect, it } from "vitest";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { Persister } from "../../src/storage/persister.js";
import type { Storage } from "../../src/storage/storage.js";
import { caught } from "../helpers.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const enc = (n: number): Uint8Array => new TextEncoder().encode(String(n));
const dec = (b: Uint8Array | undefined): number => Number(new TextDecoder().decode(b));

/** A storage whose saves take `delayMs`, counting them and recording what each one stored. */
class SlowStorage extends MemoryStorage {
  saves = 0;
  inFlight = 0;
  maxInFlight = 0;
  failNext = 0;
  readonly completed: { key: string; value: number }[] = [];
  constructor(private readonly delayMs: number) {
    super();
  }
  override async save(key: string, bytes: Uint8Array): Promise<void> {
    this.saves++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await sleep(this.delayMs);
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error("disk on fire");
      }
      await super.save(key, bytes);
      this.completed.push({ key, value: dec(bytes) });
    } finally {
      this.inFlight--;
    }
  }
}

describe("Persister (strict)", () => {
  it("coalesces 100 concurrent writes to one key into at most 3 saves", async () => {
    const storage = new SlowStorage(20);
    const p = new Persister(storage, { durability: "strict" });
    let state = 0;
    const writes: Promise<number>[] = [];
    for (let i = 0; i < 100; i++) {
      state = i + 1;
      const mine = state;
      writes.push(
        p
          .write("k", () => enc(state))
          .then(() => {
            // The save that resolved this writer must already hold its state (or a later one).
            expect(storage.completed.some((c) => c.key === "k" && c.value >= mine)).toBe(true);
            return mine;
          }),
      );
    }
    await Promise.all(writes);
    expect(storage.saves).toBeLessThanOrEqual(3);
    expect(dec(await storage.load("k"))).toBe(100);
  });

  it("serves writes that arrive during a save with one following save", async () => {
    const storage = new SlowStorage(30);
    const p = new Persister(storage, { durability: "strict" });
    let state = 1;
    const first = p.write("k", () => enc(state));
    await sleep(10); // the first save is in flight now
    const later: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      state++;
      later.push(p.write("k", () => enc(state)));
      if (i % 10 === 0) await sleep(1);
    }
    await Promise.all([first, ...later]);
    expect(storage.saves).toBe(2);
    expect(storage.maxInFlight).toBe(1);
    expect(storage.completed.map((c) => c.value)).toEqual([1, 51]);
  });

  it("calls produce as late as possible, once per save", async () => {
    const storage = new SlowStorage(10);
    const p = new Persister(storage, { durability: "strict" });
    let produced = 0;
    const produce = () => {
      produced++;
      return enc(produced);
    };
    await Promise.all(Array.from({ length: 20 }, () => p.write("k", produce)));
    expect(produced).toBe(1);
  });

  it("saves different keys independently", async () => {
    const storage = new SlowStorage(5);
    const p = new Persister(storage, { durability: "strict" });
    await Promise.all([p.write("a", () => enc(1)), p.write("b", () => enc(2))]);
    expect(dec(await storage.load("a"))).toBe(1);
    expect(dec(await storage.load("b"))).toBe(2);
    expect(storage.maxInFlight).toBe(2);
  });

  it("rejects the writers of a failed save with STORAGE_WRITE_FAILED, keeping the cause", async () => {
    const storage = new SlowStorage(5);
    storage.failNext = 1;
    const p = new Persister(storage, { durability: "strict" });
    const failing = [p.write("k", () => enc(1)), p.write("k", () => enc(2))];
    for (const w of failing) {
      const error = await caught(w);
      expect(error).toBeTenantliteError("STORAGE_WRITE_FAILED", /"k"/);
      expect((error.cause as Error).message).toBe("disk on fire");
    }
    await p.write("k", () => enc(3));
    expect(dec(await storage.load("k"))).toBe(3);
  });

  it("rejects when produce throws", async () => {
    const p = new Persister(new SlowStorage(1), { durability: "strict" });
    await expect(
      p.write("k", () => {
        throw new Error("export failed");
      }),
    ).rejects.toBeTenantliteError("STORAGE_WRITE_FAILED");
  });

  it("flush waits for in-flight saves; close refuses later writes", async () => {
    const storage = new SlowStorage(20);
    const p = new Persister(storage, { durability: "strict" });
    void p.write("k", () => enc(7));
    await p.flush();
    expect(p.pending).toBe(false);
    expect(dec(await storage.load("k"))).toBe(7);
    await p.close();
    await expect(p.write("k", () => enc(8))).rejects.toBeTenantliteError("STORAGE_CLOSED");
  });
});

describe("Persister (relaxed)", () => {
  it("resolves writes at once and saves within the interval, coalesced", async () => {
    const storage = new SlowStorage(5);
    const p = new Persister(storage, { durability: "relaxed", flushIntervalMs: 50 });
    let state = 0;
    for (let i = 0; i < 100; i++) {
      state = i + 1;
      await p.write("k", () => enc(state));
    }
    expect(storage.saves).toBe(0);
    expect(p.pending).toBe(true);
    await sleep(120);
    expect(storage.saves).toBe(1);
    expect(dec(await storage.load("k"))).toBe(100);
    expect(p.pending).toBe(false);
  });

  it("flush saves pending keys now", async () => {
    const storage = new SlowStorage(1);
    const p = new Persister(storage, { durability: "relaxed", flushIntervalMs: 60_000 });
    await p.write("a", () => enc(1));
    await p.write("b", () => enc(2));
    await p.flush("a");
    expect(await storage.has("a")).toBe(true);
    expect(await storage.has("b")).toBe(false);
    await p.flush();
    expect(await storage.has("b")).toBe(true);
  });

  it("reports failures to onError, keeps the key dirty and retries", async () => {
    const storage = new SlowStorage(1);
    storage.failNext = 1;
    const errors: { code: string; key: string }[] = [];
    const p = new Persister(storage, {
      durability: "relaxed",
      flushIntervalMs: 20,
      onError: (error, key) => errors.push({ code: error.code, key }),
    });
    await p.write("k", () => enc(5));
    await sleep(100);
    expect(errors).toEqual([{ code: "STORAGE_WRITE_FAILED", key: "k" }]);
    expect(dec(await storage.load("k"))).toBe(5);
    await p.close();
  });

  it("flush rejects when the save fails", async () => {
    const storage = new SlowStorage(1);
    storage.failNext = 1;
    const p = new Persister(storage, {
      durability: "relaxed",
      flushIntervalMs: 60_000,
      onError: () => {},
    });
    await p.write("k", () => enc(1));
    await expect(p.flush()).rejects.toBeTenantliteError("STORAGE_WRITE_FAILED");
    await p.flush();
    expect(dec(await storage.load("k"))).toBe(1);
  });

  it("close saves everything pending", async () => {
    const storage: Storage = new SlowStorage(1);
    const p = new Persister(storage, { durability: "relaxed", flushIntervalMs: 60_000 });
    await p.write("x/1", () => enc(1));
    await p.write("x/2", () => enc(2));
    await p.close();
    expect(await storage.list("x/")).toEqual(["x/1", "x/2"]);
  });
});

describe("Persister discard", () => {
  it("drops a pending relaxed write so a deleted key is not brought back", async () => {
    const storage = new SlowStorage(1);
    const p = new Persister(storage, { durability: "relaxed", flushIntervalMs: 20 });
    await p.write("gone", () => enc(1));
    await p.discard("gone");
    await storage.delete("gone");
    await sleep(60);
    expect(await storage.has("gone")).toBe(false);
    expect(p.pending).toBe(false);
  });

  it("rejects strict writers not yet served and waits for the save in flight", async () => {
    const storage = new SlowStorage(30);
    const p = new Persister(storage, { durability: "strict" });
    const first = p.write("k", () => enc(1));
    await sleep(5);
    const second = expect(p.write("k", () => enc(2))).rejects.toBeTenantliteError(
      "STORAGE_WRITE_FAILED",
      /discarded/,
    );
    await p.discard("k");
    expect(storage.inFlight).toBe(0);
    await first;
    await second;
    expect(storage.saves).toBe(1);
  });
});

describe("Persister options", () => {
  it("rejects invalid keys at once", async () => {
    const p = new Persister(new MemoryStorage(), { durability: "strict" });
    await expect(p.write("../x", () => enc(1))).rejects.toBeTenantliteError("STORAGE_INVALID_KEY");
  });

  it("rejects bad options", async () => {
    const s = new MemoryStorage();
    await expect(
      async () => new Persister(s, { durability: "sometimes" as "strict" }),
    ).rejects.toBeTenantliteError("STORAGE_INVALID_ARGUMENT");
    await expect(
      async () => new Persister(s, { durability: "relaxed", flushIntervalMs: -1 }),
    ).rejects.toBeTenantliteError("STORAGE_INVALID_ARGUMENT");
  });
});
