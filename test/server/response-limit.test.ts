/**
 * A statement whose result is past the response limit (sqld's 10 MiB) stops as it is read:
 * `RESPONSE_TOO_LARGE` at once, over http (a pipeline and a Hrana 3 cursor) and ws, and the
 * server never holds the whole result. Checked by memory, not time: the process's resident set
 * while the request runs stays far below what a million rows take (it grew by ~1 GB when the
 * limit was checked only once every row had been read). `/dump` has no such limit.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";

const tempDir = useTempDirs("tenantlite-response-limit-", { scope: "file" });
let server: RunningServer;

/** A million rows of ~110 bytes each: ~140 MB of JSON, far past the limit. */
const HUGE =
  "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 1000000) SELECT n, printf('%0100d', n) AS pad FROM c";

beforeAll(async () => {
  server = await startServer({ port: 0, dataDir: tempDir(), consoleDir: false });
  await server.platform.createDatabase("big");
  const c = createClient({ url: `${server.url}/dev/big/` });
  await c.execute("CREATE TABLE t (b BLOB)");
  // One row larger than a response: /dump still writes it.
  await c.execute("INSERT INTO t VALUES (zeroblob(12000000))");
  c.close();
});

afterAll(async () => {
  await server.close();
});

/** The peak growth of the process's resident set while `run` runs, in MB. */
async function peakGrowthMb(run: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return (peak - start) / 2 ** 20;
}

describe("a result past the response limit", () => {
  it.each(["http", "ws"] as const)("stops as it is read, over %s", async (scheme) => {
    const base = scheme === "http" ? server.url : server.wsUrl;
    const c = createClient({ url: `${base}/dev/big/` });
    let error: unknown;
    const grown = await peakGrowthMb(async () => {
      error = await c.execute(HUGE).catch((e: unknown) => e);
    });
    c.close();
    expect(error).toMatchObject({ code: "RESPONSE_TOO_LARGE" });
    expect(grown).toBeLessThan(200);
  });

  it("stops as it is read through a Hrana 3 cursor", async () => {
    let text = "";
    const grown = await peakGrowthMb(async () => {
      const r = await fetch(`${server.url}/dev/big/v3/cursor`, {
        method: "POST",
        body: JSON.stringify({ baton: null, batch: { steps: [{ stmt: { sql: HUGE } }] } }),
      });
      text = await r.text();
    });
    expect(text).toMatch(/"step_error".*"RESPONSE_TOO_LARGE"/);
    expect(grown).toBeLessThan(200);
  });

  it.each(["http", "ws"] as const)(
    "counts a batch's steps together, as sqld does, over %s: the batch fails and keeps nothing",
    async (scheme) => {
      const base = scheme === "http" ? server.url : server.wsUrl;
      const c = createClient({ url: `${base}/dev/big/` });
      // Each step ~1.5 MB of JSON, well under the limit; twenty of them, far over it.
      const step =
        "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 10000) SELECT n, printf('%0100d', n) AS pad FROM c";
      let error: unknown;
      const grown = await peakGrowthMb(async () => {
        error = await c
          .batch(
            ["INSERT INTO t VALUES (x'01')", ...Array.from({ length: 20 }, () => step)],
            "write",
          )
          .catch((e: unknown) => e);
      });
      expect(error).toMatchObject({ code: "RESPONSE_TOO_LARGE" });
      expect(grown).toBeLessThan(200);
      const left = await c.execute("SELECT count(*) AS n FROM t WHERE b = x'01'");
      expect(left.rows[0]!.n).toBe(0);
      // Separate requests each have the whole limit.
      for (let i = 0; i < 3; i++) expect((await c.execute(step)).rows.length).toBe(10000);
      // So do the requests after it on the same stream (a transaction's).
      const tx = await c.transaction("write");
      await expect(tx.batch(Array.from({ length: 20 }, () => step))).rejects.toMatchObject({
        code: "RESPONSE_TOO_LARGE",
      });
      // (A script's rows are not sent: the ~1 MB one is more than the batch left.)
      await tx.executeMultiple("SELECT printf('%01000000d', 1); SELECT 2");
      expect((await tx.execute(step)).rows.length).toBe(10000);
      await tx.rollback();
      c.close();
    },
  );

  it("does not apply to /dump, which reads a row of any size", async () => {
    const r = await fetch(`${server.url}/dev/big/dump`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain("INSERT INTO");
    expect(text.length).toBeGreaterThan(24_000_000); // the 12 MB blob, in hex
  }, 20_000);
});
