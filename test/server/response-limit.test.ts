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

  it("counts an HTTP pipeline's requests, and an HTTP cursor's steps, together: at most maxUnsentBytes", async () => {
    // Before, each request of a pipeline had its own limit and nothing bounded their sum: a 30 KB
    // pipeline of 400 SELECTs of 3 MB each had the server build 1.2 GB, then fail INTERNAL_ERROR
    // (a string too long for JSON), and a few such pipelines at once would have ended it.
    const step =
      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 10000) SELECT n, printf('%0100d', n) AS pad FROM c";
    const execute = { type: "execute", stmt: { sql: step } };
    let body: { results: { type: string; error?: { code: string; message: string } }[] } = {
      results: [],
    };
    let size = 0;
    const grown = await peakGrowthMb(async () => {
      const r = await fetch(`${server.url}/dev/big/v2/pipeline`, {
        method: "POST",
        body: JSON.stringify({
          requests: [...Array.from({ length: 40 }, () => execute), { type: "close" }],
        }),
      });
      const text = await r.text();
      size = text.length;
      body = JSON.parse(text);
    });
    const kinds = body.results.map((r) => (r.type === "ok" ? "ok" : r.error!.code));
    // ~1.2 MB of rows each: the first dozen fit in 16 MB, the others are refused, and the
    // pipeline's last request (close) still runs.
    const fitted = kinds.indexOf("RESPONSE_TOO_LARGE");
    expect(fitted).toBeGreaterThan(5);
    expect(fitted).toBeLessThan(20);
    expect(kinds.slice(fitted, 40).every((k) => k === "RESPONSE_TOO_LARGE")).toBe(true);
    expect(kinds[40]).toBe("ok");
    expect(body.results[fitted]!.error!.message).toMatch(
      /earlier requests .* bound of 16777216 bytes for one pipeline/,
    );
    expect(size).toBeLessThan(20 * 2 ** 20);
    expect(grown).toBeLessThan(200);
    // A cursor's steps share the bound too (each step of its own had sqld's 10 MiB before).
    const cursor = await fetch(`${server.url}/dev/big/v3/cursor`, {
      method: "POST",
      body: JSON.stringify({
        baton: null,
        batch: { steps: Array.from({ length: 40 }, () => ({ stmt: { sql: step } })) },
      }),
    });
    const lines = (await cursor.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const ended = lines.filter((l) => l.type === "step_end").length;
    expect(ended).toBe(fitted);
    expect(
      lines
        .filter((l) => l.type === "step_error")
        .every((l) => l.error.code === "RESPONSE_TOO_LARGE"),
    ).toBe(true);
    // Pipelines of their own each have the whole bound.
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${server.url}/dev/big/v2/pipeline`, {
        method: "POST",
        body: JSON.stringify({
          requests: [...Array.from({ length: fitted }, () => execute), { type: "close" }],
        }),
      });
      const { results } = (await r.json()) as { results: { type: string }[] };
      expect(results.every((x) => x.type === "ok")).toBe(true);
    }
  });

  it("does not apply to /dump, which reads a row of any size", async () => {
    const r = await fetch(`${server.url}/dev/big/dump`);
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain("INSERT INTO");
    expect(text.length).toBeGreaterThan(24_000_000); // the 12 MB blob, in hex
  }, 20_000);
});
