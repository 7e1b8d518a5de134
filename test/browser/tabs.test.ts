// Issue 18, points 1 and 2, in real Chromium: tabs of one origin share one engine (elected by
// Web Lock, hosted in a worker), no acknowledged write is lost when the leader tab closes, and a
// long query in the worker leaves the page's event loop free.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasChromium, launchChromium, type TestBrowser } from "./chromium.js";
import { type StaticServer, serveStatic } from "./static-server.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

async function bundle(entry: string, format: "esm" | "iife"): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format,
    target: "es2022",
    platform: "browser",
    logLevel: "error",
  });
  return out.outputFiles[0]!.text;
}

/** A recursive CTE that takes a few seconds in sql.js on this machine. */
const LONG_QUERY =
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000000) SELECT sum(x) FROM c";

describe.skipIf(!hasChromium)("tabs and the worker engine (Chromium)", () => {
  let browser: TestBrowser;
  let server: StaticServer;
  const acked = new Set<string>();

  beforeAll(async () => {
    const [page, worker] = await Promise.all([
      bundle(here("./page/tabs-page.ts"), "esm"),
      bundle(here("../../src/browser/engine-worker.ts"), "iife"),
    ]);
    server = await serveStatic(
      new Map([
        [
          "/",
          {
            body: '<!doctype html><meta charset="utf-8"><title>tabs</title><script type="module" src="/page.js"></script>',
            type: "text/html; charset=utf-8",
          },
        ],
        ["/page.js", { body: page, type: "text/javascript" }],
        ["/worker.js", { body: worker, type: "text/javascript" }],
        [
          "/sql-wasm-browser.wasm",
          {
            body: readFileSync(here("../../node_modules/sql.js/dist/sql-wasm-browser.wasm")),
            type: "application/wasm",
          },
        ],
      ]),
    );
    browser = await launchChromium();
    await browser.context.exposeBinding("ack", (_source, id: string) => {
      acked.add(id);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const errors: string[] = [];
  async function newTab(): Promise<Page> {
    const page = await browser.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => window.helpers !== undefined);
    return page;
  }

  it("serves the same client API as the in-process platform, in the worker and in the page", async () => {
    const page = await newTab();
    const inProcess = await page.evaluate(() => window.helpers.scenario("in-process", "x"));
    const worker = await page.evaluate(() => window.helpers.scenario("worker", "api-worker"));
    const inPage = await page.evaluate(() => window.helpers.scenario("page", "api-page"));
    // The scenario itself is meaningful: values, errors and counts as libSQL gives them.
    const s = inProcess as Record<string, unknown>;
    expect(s.overflow).toEqual({ cls: "RangeError", message: expect.any(String) });
    expect(s.batchError).toMatchObject({ cls: "batch", code: "SQLITE_CONSTRAINT", index: 1 });
    expect(s.badArg).toMatchObject({ code: "ARGS_INVALID" });
    expect(s.badArgFunction).toMatchObject({ code: "ARGS_INVALID" });
    expect(s.closed).toMatchObject({ code: "CLIENT_CLOSED" });
    expect(s.missing).toMatchObject({ code: "DATABASE_NOT_FOUND" });
    expect(s.list).toEqual(["scenario"]);
    expect(s.management).toMatchObject({
      exportHeader: "SQLite format 3",
      config: { allow_attach: true },
      sizeLimit: 10_000_000,
      checkSchemas: [],
      updatedGroup: { name: "g2" },
      badName: { code: expect.any(String) },
      badLimit: { code: "SIZE_LIMIT_INVALID" },
    });
    expect(s.connection).toMatchObject({
      inTx: true,
      afterCommit: false,
      closed: true,
      useAfterClose: { code: expect.any(String) },
    });
    expect(s.migrations).toMatchObject({
      jobs: [1, 2],
      job: { status: "RunSuccess" },
      failed: { code: expect.any(String) },
      notSchema: { code: "SCHEMA_INVALID" },
    });
    expect((s.migrations as { phases: string[] }).phases).toContain("done:2/2");
    expect(worker).toEqual(inProcess);
    expect(inPage).toEqual(inProcess);
    await page.close();
    expect(errors).toEqual([]);
  }, 60_000);

  it("runs libSQL's extension functions, generate_series and sqld's uuid functions in the worker and in the page without a console warning per call", async () => {
    for (const mode of ["worker", "page"] as const) {
      // A fresh tab: sql.js is loaded once per page or worker, by the engine first started there.
      const page = await browser.context.newPage();
      const printed: string[] = [];
      page.on("console", (m) => printed.push(m.text()));
      page.on("worker", (w) => w.on("console", (m) => printed.push(m.text())));
      await page.goto(server.url);
      await page.waitForFunction(() => window.helpers !== undefined);
      const row = await page.evaluate((m) => window.helpers.legacyFunctions(m, `fn-${m}`), mode);
      // Native libSQL's answers: log() is natural, median() of 1..500 is 250.5; generate_series
      // and sqld's uuid functions (crypto.getRandomValues in a worker too).
      expect(row).toEqual({
        s: 7227,
        r: "abab",
        l: 4.605170185988092,
        m: 250.5,
        g: 55,
        u4: 36,
        u7: 1,
      });
      expect(printed.filter((t) => /legacy function/.test(t))).toEqual([]);
      await page.close();
    }
  }, 60_000);

  it("refuses a bad mode and reports a worker that cannot start with a coded error", async () => {
    const page = await newTab();
    expect(await page.evaluate(() => window.helpers.startFailures())).toEqual({
      badMode: "ARGS_INVALID",
      missingWorker: "ENGINE_UNAVAILABLE",
      again: "ENGINE_UNAVAILABLE",
    });
    await page.close();
  }, 30_000);

  it("3 tabs write 200 rows each while the leader tab closes half-way: no acknowledged row is lost", async () => {
    const db = "shared";
    const tabs = [await newTab(), await newTab(), await newTab()];
    for (const t of tabs) await t.evaluate(() => window.helpers.open("worker", "tabs"));
    const leaders = await Promise.all(tabs.map((t) => t.evaluate(() => window.helpers.isLeader())));
    expect(leaders).toEqual([true, false, false]);
    await tabs[1]!.evaluate(async (name) => {
      await window.tl!.createDatabase(name);
      await window
        .tl!.client(name)
        .execute("CREATE TABLE t (id TEXT PRIMARY KEY, tab TEXT, n INTEGER)");
    }, db);

    acked.clear();
    const runs = tabs.map((t, i) =>
      t.evaluate(({ db, tab }) => window.helpers.writeRows(db, tab, 200), { db, tab: `tab${i}` }),
    );
    runs[0]!.catch(() => undefined); // the leader's page goes away mid-run
    const started = Date.now();
    while (acked.size < 300 && Date.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(acked.size).toBeGreaterThanOrEqual(300);
    const ackedBeforeClose = acked.size;
    await tabs[0]!.close();

    const [r1, r2] = await Promise.all([runs[1]!, runs[2]!]);
    expect(r1.acked).toBe(200);
    expect(r2.acked).toBe(200);
    const survivors = [tabs[1]!, tabs[2]!];
    const nowLeaders = await Promise.all(
      survivors.map((t) => t.evaluate(() => window.helpers.isLeader())),
    );
    expect(nowLeaders.filter(Boolean)).toHaveLength(1);

    // Every tab sees every acknowledged row, its own and the others'.
    for (const t of survivors) {
      const ids = new Set(await t.evaluate((name) => window.helpers.ids(name), db));
      const missing = [...acked].filter((id) => !ids.has(id));
      expect(missing).toEqual([]);
      for (const tab of ["tab0", "tab1", "tab2"]) {
        expect([...ids].some((id) => id.startsWith(`${tab}-`))).toBe(true);
      }
      expect(ids.size).toBeGreaterThanOrEqual(
        400 + [...acked].filter((id) => id.startsWith("tab0-")).length,
      );
    }
    console.log(
      `tabs: ${acked.size} rows acknowledged (${ackedBeforeClose} before the leader closed); retries after the leader change: tab1 ${r1.retries}, tab2 ${r2.retries}`,
    );

    // Durable: with every tab gone, a new tab opens the engine from IndexedDB and finds them all.
    for (const t of survivors) await t.close();
    const fresh = await newTab();
    expect(await fresh.evaluate(() => window.helpers.open("worker", "tabs"))).toBe(true);
    const ids = new Set(await fresh.evaluate((name) => window.helpers.ids(name), db));
    expect([...acked].filter((id) => !ids.has(id))).toEqual([]);
    await fresh.close();
    expect(errors).toEqual([]);
  }, 120_000);

  it("an engine worker that fails is replaced: writes go on, nothing acknowledged is lost, a transaction open in it fails with LEADER_CHANGED", async () => {
    const db = "crash";
    const [a, b] = [await newTab(), await newTab()];
    expect(await a.evaluate(() => window.helpers.open("worker", "crash"))).toBe(true);
    expect(await b.evaluate(() => window.helpers.open("worker", "crash"))).toBe(false);
    await b.evaluate(async (name) => {
      for (const n of [name, `${name}-tx`]) {
        await window.tl!.createDatabase(n);
        await window
          .tl!.client(n)
          .execute("CREATE TABLE t (id TEXT PRIMARY KEY, tab TEXT, n INTEGER)");
      }
    }, db);
    // A transaction open in the engine that will fail (another database: it holds a write lock).
    await b.evaluate((name) => window.helpers.beginInsert(name, "in-tx"), `${db}-tx`);
    const engineWorkers = () => a.workers().filter((w) => w.url().endsWith("/worker.js"));
    const first = engineWorkers();
    expect(first).toHaveLength(1);

    acked.clear();
    const runs = [a, b].map((t, i) =>
      t.evaluate(({ db, tab }) => window.helpers.writeRows(db, tab, 150), { db, tab: `w${i}` }),
    );
    const started = Date.now();
    while (acked.size < 100 && Date.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 20));
    // An uncaught error in the engine worker: the page's Worker reports it, and the leader ends it.
    const ackedAtFailure = acked.size;
    await first[0]!.evaluate(() => {
      setTimeout(() => {
        throw new Error("engine worker failure (test)");
      }, 0);
    });
    const [ra, rb] = (await Promise.all(runs)) as [
      { acked: number; retries: number },
      { acked: number; retries: number },
    ];
    expect([ra.acked, rb.acked]).toEqual([150, 150]);
    expect(ackedAtFailure).toBeLessThan(300); // writes went on after the failure

    // The same tab leads, on a new worker; the failed one is gone.
    expect(await a.evaluate(() => window.helpers.isLeader())).toBe(true);
    await expect.poll(() => engineWorkers().length, { timeout: 10_000 }).toBe(1);
    expect(engineWorkers()[0]).not.toBe(first[0]);
    for (const t of [a, b]) {
      const ids = new Set(await t.evaluate((name) => window.helpers.ids(name), db));
      expect([...acked].filter((id) => !ids.has(id))).toEqual([]);
      expect(ids.size).toBe(300);
    }
    expect(await b.evaluate(() => window.helpers.commitOpen())).toBe("LEADER_CHANGED");
    expect(await b.evaluate((name) => window.helpers.ids(name), `${db}-tx`)).toEqual([]);
    console.log(
      `engine failure: ${acked.size} rows acknowledged (${ackedAtFailure} before the worker failed); retries ${ra.retries} (leader tab), ${rb.retries} (other tab)`,
    );
    await a.close();
    await b.close();
    expect(errors).toEqual([]);
  }, 120_000);

  it("a leader that closes its platform (page left open) hands the engine over, in both modes", async () => {
    for (const mode of ["page", "worker"] as const) {
      const [a, b] = [await newTab(), await newTab()];
      const dbName = `handover-${mode}`;
      expect(
        await a.evaluate(({ mode, dbName }) => window.helpers.open(mode, dbName), { mode, dbName }),
      ).toBe(true);
      expect(
        await b.evaluate(({ mode, dbName }) => window.helpers.open(mode, dbName), { mode, dbName }),
      ).toBe(false);
      await a.evaluate(async () => {
        await window.tl!.createDatabase("h");
        await window
          .tl!.client("h")
          .executeMultiple(
            "CREATE TABLE t (id TEXT PRIMARY KEY, tab TEXT, n INTEGER); INSERT INTO t VALUES ('from-a', 'a', 0);",
          );
        await window.tl!.close();
      });
      await b.waitForFunction(() => window.helpers.isLeader(), null, { timeout: 20_000 });
      expect(await b.evaluate(() => window.helpers.ids("h"))).toEqual(["from-a"]);
      await a.close();
      await b.close();
    }
  }, 60_000);

  it("a transaction open in the engine of a tab that closes fails with LEADER_CHANGED and is not applied; engine events reach other tabs", async () => {
    const db = "txdb";
    const [a, b] = [await newTab(), await newTab()];
    expect(await a.evaluate(() => window.helpers.open("worker", "tx"))).toBe(true);
    expect(await b.evaluate(() => window.helpers.open("worker", "tx"))).toBe(false);
    await b.evaluate(async (name) => {
      await window.tl!.createDatabase(name);
      await window
        .tl!.client(name)
        .execute("CREATE TABLE t (id TEXT PRIMARY KEY, tab TEXT, n INTEGER)");
    }, db);
    // The engine's events reach a tab that does not lead.
    expect(await b.evaluate(() => window.helpers.migrateWatching("tx-schema"))).toEqual(
      expect.arrayContaining(["done"]),
    );
    await b.evaluate((name) => window.helpers.beginInsert(name, "in-tx"), db);
    await b.evaluate((name) => window.helpers.openConnection(name), db);
    await a.close();
    await b.waitForFunction(() => window.helpers.isLeader(), null, { timeout: 20_000 });
    expect(await b.evaluate(() => window.helpers.commitOpen())).toBe("LEADER_CHANGED");
    // A raw connection (its ATTACHes, TEMP tables, BEGIN) is not silently re-opened elsewhere.
    expect(await b.evaluate(() => window.helpers.useConnection())).toEqual({
      code: "LEADER_CHANGED",
      closed: true,
    });
    expect(await b.evaluate((name) => window.helpers.ids(name), db)).toEqual([]);
    // A BEGIN sent through a client's execute() in a tab that does not lead: after the leader
    // closes, its COMMIT fails with LEADER_CHANGED (rather than "committing" in autocommit on
    // the next engine), nothing of it is applied, and the client goes on working.
    const c = await newTab();
    expect(await c.evaluate(() => window.helpers.open("worker", "tx"))).toBe(false);
    await c.evaluate((name) => window.helpers.beginManual(name, "manual"), db);
    await b.close();
    await c.waitForFunction(() => window.helpers.isLeader(), null, { timeout: 20_000 });
    expect(await c.evaluate(() => window.helpers.useManual())).toEqual(["LEADER_CHANGED", "ok"]);
    expect(await c.evaluate((name) => window.helpers.ids(name), db)).toEqual([]);
    await c.close();
  }, 60_000);

  it("a long query in the worker leaves the page's event loop free (and freezes it in the in-page mode)", async () => {
    const page = await newTab();
    const setup = async (mode: "worker" | "page") =>
      page.evaluate(
        async ({ mode, sql }) => {
          await window.helpers.open(mode, `lag-${mode}`);
          await window.tl!.createDatabase("lag");
          // Warm up: the engine is open and the statement compiled once before measuring.
          await window.tl!.client("lag").execute(sql.replace("8000000", "10"));
        },
        { mode, sql: LONG_QUERY },
      );
    const measure = () => page.evaluate((sql) => window.helpers.lagDuring("lag", sql), LONG_QUERY);
    await setup("worker");
    // The machine is shared: another process can deschedule the page's thread for 100 ms+ at any
    // time (seen at load 13 on 2 cores, spread over the whole query). So up to 5 runs, each of
    // which must leave the page nearly free, and one must stay under 100 ms throughout; the
    // in-page mode is stalled for the whole query in every run.
    const runs: Awaited<ReturnType<typeof measure>>[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await measure();
      runs.push(run);
      expect(run.value).toBe("32000004000000");
      expect(run.queryMs).toBeGreaterThan(1000);
      expect(run.maxLagMs).toBeLessThan(run.queryMs / 4);
      if (run.maxLagMs < 100) break;
    }
    await page.evaluate(() => window.tl!.close());
    await setup("page");
    const inPage = await measure();
    await page.evaluate(() => window.tl!.close());
    console.log(
      `lag: worker ${runs.map((r) => `query ${r.queryMs.toFixed(0)} ms, max lag ${r.maxLagMs.toFixed(1)} ms (${r.over50} of ${r.ticks} ticks late by > 50 ms)`).join("; ")} | in-page query ${inPage.queryMs.toFixed(0)} ms, max lag ${inPage.maxLagMs.toFixed(0)} ms`,
    );
    expect(Math.min(...runs.map((r) => r.maxLagMs))).toBeLessThan(100);
    expect(inPage.value).toBe("32000004000000");
    expect(inPage.maxLagMs).toBeGreaterThan(1000);
    expect(inPage.maxLagMs).toBeGreaterThan(inPage.queryMs * 0.8);
    await page.close();
    expect(errors).toEqual([]);
  }, 180_000);
});
