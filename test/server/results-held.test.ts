/**
 * Results held at once are bounded, and a client that asks for many large ones at once gets
 * answers, not a dropped connection. Two bounds, as sqld has one (`max_total_response_size`):
 * the rows tenant threads read for the server count from the moment they are read until the
 * server received them (`maxHeldResultBytes`, 4 MiB here), and a WebSocket client's unread
 * responses stay under `maxUnsentBytes` — a response past either is answered
 * `RESPONSE_TOO_LARGE`. Before, a client's concurrent queries of a few MB each on one socket (12
 * here, as `Promise.all` over `@libsql/client` sends them, each on its own stream) were all read
 * and queued on the server at once (~1.7 GB for 40 of 9 MB) and the socket was closed
 * `RESPONSES_UNREAD` though the client read every frame. What a thread held when it was stopped
 * mid-read (the query time limit) is given back: otherwise the bound would shrink for good.
 * Real server, real `@libsql/client`, a data directory, one tenant thread.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform } from "../../src/node/create-platform.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { tenantThreads } from "../../src/node/tenant-threads.js";
import type { Platform } from "../../src/platform/platform.js";
import { useTempDirs } from "../helpers.js";

const tempDir = useTempDirs("tenantlite-results-held-", { scope: "file" });
let storage: FsStorage;
let platform: Platform;
let server: RunningServer;

const BOUND = 4 * 2 ** 20;
/** ~3 MB of Hrana JSON: 500 rows of 6,000 hex digits. */
const LARGE = "SELECT hex(b) AS h FROM t LIMIT 500";

beforeAll(async () => {
  storage = await FsStorage.open(tempDir());
  platform = await createPlatform({
    storage,
    tenantThreads: tenantThreads({ threads: 1, maxQueryMs: 1500, maxHeldResultBytes: BOUND }),
  });
  server = await startServer({ port: 0, platform, consoleDir: false });
  await platform.createDatabase("big");
  const c = platform.client("big");
  await c.execute("CREATE TABLE t (b BLOB)");
  await c.execute(
    "INSERT INTO t SELECT randomblob(3000) FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 500) SELECT n FROM c)",
  );
  c.close();
});

afterAll(async () => {
  await server.close();
  await platform.close();
  await storage.close();
});

/** Each outcome of `runs`: "ok" for a whole result, else the error's code. */
async function outcomes(runs: Promise<{ rows: unknown[] }>[]): Promise<string[]> {
  const settled = await Promise.allSettled(runs);
  return settled.map((s) => {
    if (s.status === "fulfilled") return s.value.rows.length === 500 ? "ok" : "short";
    const e = s.reason as { code?: string; message?: string };
    return `${e.code}`;
  });
}

/** Large results one after another: each must fit, so nothing of the bound was lost. */
async function oneAfterAnother(url: string): Promise<void> {
  const c = createClient({ url });
  try {
    for (let i = 0; i < 3; i++) expect((await c.execute(LARGE)).rows).toHaveLength(500);
  } finally {
    c.close();
  }
}

describe("large results asked for at once", () => {
  it.each(["ws", "http"] as const)(
    "are each answered whole or RESPONSE_TOO_LARGE over %s; the connection stays; nothing of the bound is lost",
    async (scheme) => {
      const url = `${scheme === "ws" ? server.wsUrl : server.url}/dev/big/`;
      const c = createClient({ url });
      const heapBefore = process.memoryUsage().heapUsed;
      let heapPeak = heapBefore;
      const sampler = setInterval(() => {
        heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
      }, 5);
      const got = await outcomes(Array.from({ length: 12 }, () => c.execute(LARGE)));
      clearInterval(sampler);
      expect(got.filter((g) => g !== "ok" && g !== "RESPONSE_TOO_LARGE")).toEqual([]);
      expect(got).toContain("ok");
      // The same client goes on (over ws: the same socket, which was not closed).
      expect((await c.execute("SELECT 42 AS x")).rows[0]!.x).toBe(42);
      c.close();
      // 12 results of ~3 MB each never sat in the server at once (this process is the server).
      expect((heapPeak - heapBefore) / 2 ** 20).toBeLessThan(24 * 3);
      await oneAfterAnother(url);
    },
    60_000,
  );

  it("a refused one says why and what to do", async () => {
    const c = createClient({ url: `${server.wsUrl}/dev/big/` });
    const settled = await Promise.allSettled(Array.from({ length: 12 }, () => c.execute(LARGE)));
    c.close();
    const messages = settled.flatMap((s) =>
      s.status === "rejected" ? [String((s.reason as Error).message)] : [],
    );
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatch(/Response is too large: .*(retry|read)/);
  }, 60_000);
});

it("what a thread held when the query time limit stopped it mid-read is given back", async () => {
  // Seven rows of 400 KB are read (2.8 MB of the 4 MiB bound), then the eighth never ends.
  const slow = `SELECT CASE WHEN n < 8 THEN hex(randomblob(200000)) ELSE (WITH RECURSIVE s(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM s WHERE j < 1000000000) SELECT count(*) FROM s) END AS v FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10) SELECT n FROM c)`;
  for (let i = 0; i < 2; i++) {
    const c = createClient({ url: `${server.url}/dev/big/` });
    await expect(c.execute(slow)).rejects.toMatchObject({ code: "QUERY_TIMEOUT" });
    c.close();
  }
  // Had the 2 × 2.8 MB stayed counted, no ~3 MB result would fit in the bound any more.
  await oneAfterAnother(`${server.url}/dev/big/`);
  await oneAfterAnother(`${server.wsUrl}/dev/big/`);
}, 60_000);
