/**
 * Relaxed durability: writes return before they are durable and are saved within
 * `flushIntervalMs`; a SIGKILL may lose the last interval but never corrupts a database.
 */
import { cpSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPlatform, FsStorage, type Platform } from "../../src/node/index.js";
import { useTempDirs } from "../helpers.js";
import { BUNDLE_PARENT, buildChild, crashLoop, seed } from "./harness.js";

const INTERVAL_MS = 50;
const platforms: Platform[] = [];
const tempDir = useTempDirs("tenantlite-relaxed-", { scope: "file" });
afterEach(async () => {
  for (const p of platforms.splice(0)) await p.close().catch(() => undefined);
});

/**
 * Values of table `v` of `name` as a process started now on `dir` would see them: a platform
 * on a copy of the directory as it is (a second platform on the directory itself is refused
 * while the writer's is open).
 */
async function seenFromOutside(dir: string, name: string): Promise<number[]> {
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true });
  const other = await createPlatform({ storage: await FsStorage.open(copy) });
  try {
    const db = other.client(name);
    const r = await db.execute("SELECT n FROM v ORDER BY n").catch((e: unknown) => {
      if ((e as { code?: string }).code === "SQLITE_ERROR") return undefined; // no table yet
      throw e;
    });
    db.close();
    return r === undefined ? [] : r.rows.map((row) => Number(row[0]));
  } finally {
    await other.close();
  }
}

describe("relaxed durability", () => {
  it(`writes return before they are durable and are saved within flushIntervalMs (${INTERVAL_MS} ms)`, async () => {
    const dir = tempDir();
    const writer = await createPlatform({
      storage: await FsStorage.open(dir),
      durability: "relaxed",
      flushIntervalMs: INTERVAL_MS,
    });
    platforms.push(writer);
    await writer.createDatabase("r");
    const db = writer.client("r");
    await db.execute("CREATE TABLE v (n INTEGER PRIMARY KEY)");
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
    expect(await seenFromOutside(dir, "r")).toEqual([]);

    // Not yet durable when the write returns: a second platform on the directory does not see
    // it. (Retried a few times in case this machine stalled past the interval.)
    let notYetSeen = false;
    for (let attempt = 1; attempt <= 5 && !notYetSeen; attempt++) {
      const t0 = performance.now();
      await db.execute({ sql: "INSERT INTO v (n) VALUES (?)", args: [attempt] });
      const seen = await seenFromOutside(dir, "r");
      const elapsed = performance.now() - t0;
      if (elapsed < INTERVAL_MS) notYetSeen = !seen.includes(attempt);
      await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
    }
    expect(notYetSeen, "a relaxed write was already on disk when it returned").toBe(true);

    // After more than the interval, another platform sees every write.
    const values = Array.from({ length: 20 }, (_, i) => 100 + i);
    for (const n of values) await db.execute({ sql: "INSERT INTO v (n) VALUES (?)", args: [n] });
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 4));
    const seen = await seenFromOutside(dir, "r");
    expect(seen).toEqual(expect.arrayContaining(values));
    db.close();
  });

  it("close() flushes what the interval has not saved yet", async () => {
    const dir = tempDir();
    const writer = await createPlatform({
      storage: await FsStorage.open(dir),
      durability: "relaxed",
      flushIntervalMs: 60_000,
    });
    await writer.createDatabase("r");
    const db = writer.client("r");
    await db.execute("CREATE TABLE v (n INTEGER PRIMARY KEY)");
    await db.execute("INSERT INTO v (n) VALUES (1), (2), (3)");
    expect(await seenFromOutside(dir, "r")).toEqual([]);
    await writer.close();
    expect(await seenFromOutside(dir, "r")).toEqual([1, 2, 3]);
  });
});

describe("SIGKILL in relaxed mode", () => {
  const KILLS = Number(process.env.RELAXED_CRASH_KILLS ?? 20);
  const TIME_BOUND_MS = 120_000;
  const bundleDir = useTempDirs(".tl-durability-", { scope: "file", parent: BUNDLE_PARENT });
  let child: { script: string };
  beforeAll(async () => {
    child = await buildChild(bundleDir());
  });

  it(
    `never leaves a corrupt database over ${KILLS} kills (the last interval may be lost)`,
    async () => {
      const dataDir = tempDir();
      await seed(dataDir, 20);
      const r = await crashLoop({
        script: child.script,
        dataDir,
        mode: "relaxed",
        tenants: 20,
        iterations: KILLS,
        timeBoundMs: TIME_BOUND_MS,
        minDelayMs: 5,
        maxDelayMs: 300,
      });
      console.log(`relaxed crash loop: ${r.kills} kills in ${r.elapsedMs} ms, ${r.acked} acks`);
      expect(r.problems).toEqual([]);
      expect(r.timedOut, `time bound hit after ${r.kills} of ${KILLS} kills`).toBe(false);
    },
    TIME_BOUND_MS + 30_000,
  );
});
