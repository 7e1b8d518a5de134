/**
 * Browser console benchmark: cold first load to interactive in real Chromium (fresh profile, so
 * HTTP cache, service worker and IndexedDB are empty), served by tenantlite's Node server on
 * 127.0.0.1; then a warm reload (service worker cache). "Interactive" is the console's
 * `tenantlite-ready` mark: sql.js compiled, IndexedDB catalog open, lists rendered, buttons on.
 * Also prints the bundle sizes, and how much of each is the console's own code (web/src, from an
 * esbuild metafile of the same build). Targets (issue 18): the page's JS (app.js: the console and
 * the library's tab-side client; the engine runs in engine-worker.js) ≤ 100,000 B minified without
 * WASM, the engine worker's ≤ 250,000 B, cold load ≤ 1.5 s. parse-worker.js (the SQL parser the
 * editor checks scripts with) is loaded on the first run of the editor, not at load. Served by
 * tenantlite's server, a fresh profile opens on the server's databases (it probes the Platform
 * API first). Last, the database browser on a table of 100,000 rows (target: its first page shown
 * ≤ 300 ms after "Browse rows"), on the server's databases and on this browser's.
 *
 * Run: node scripts/run-ts.mjs bench/web/index.ts [runs]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Page } from "playwright-core";
import { startServer } from "../../src/node/server.js";
import { launchChromium } from "../../test/browser/chromium.js";
// (not openDb: it waits with vitest's expect.poll, which needs a vitest run)
import { ready, runInfo } from "../../test/browser/console-ui.js";
import { printTable } from "../lib/measure.js";

const RUNS = Number(process.argv[2] ?? 5);
// The checkout the bench is run from: scripts/run-ts.mjs bundles this file under node_modules, and
// in a git worktree whose node_modules is a link to another checkout, import.meta.url points there.
const root = `${process.cwd()}/`;
if (!existsSync(`${root}bench/web/index.ts`)) {
  throw new Error(
    "Run the bench from the repository root: node scripts/run-ts.mjs bench/web/index.ts",
  );
}
const dist = `${root}web/dist`;

const metaPath = join(mkdtempSync(join(tmpdir(), "tenantlite-web-meta-")), "meta.json");
execFileSync(process.execPath, ["scripts/build-web.mjs", "--quiet", "--meta", metaPath], {
  cwd: root,
});
const server = await startServer({ port: 0, memory: true, consoleDir: dist });

/** Rows of the table the database browser opens (issue 18: "a table of 100k rows"). */
const BIG_ROWS = 100_000;
const BIG_SQL = [
  "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL, note TEXT)",
  `INSERT INTO items SELECT value, 'item ' || value, CASE WHEN value % 7 = 0 THEN 'note ' || value END FROM (WITH RECURSIVE r(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM r WHERE value < ${BIG_ROWS}) SELECT value FROM r)`,
];
{
  const big = server.platform.client((await server.platform.createDatabase("big")).name);
  for (const sql of BIG_SQL) await big.execute(sql);
  big.close();
}

/**
 * Opens database `big` in the console (its tables with row counts), then clicks "Browse rows" of
 * `items`: milliseconds from the click to the first page's rows on screen (and to the schema).
 */
async function browseBig(page: Page): Promise<{ schema: number; firstPage: number }> {
  const t0 = performance.now();
  await page.locator('#db-list button[data-db="big"]').click();
  await expectDb(page, "big");
  const summary = page.locator('[data-object="items"] summary');
  await summary.waitFor({ timeout: 30_000 });
  const schema = performance.now() - t0;
  await summary.click();
  const browse = page.getByRole("button", { name: "Browse rows of items" });
  await browse.waitFor({ timeout: 30_000 });
  const t1 = performance.now();
  await browse.click();
  await page.waitForFunction(
    () => /page 1 of/.test(document.getElementById("table-rows")?.textContent ?? ""),
    undefined,
    { timeout: 30_000 },
  );
  const firstPage = performance.now() - t1;
  const shownRows = await page.locator("#table-rows tbody tr").count();
  if (shownRows === 0) throw new Error("the first page of items shows no rows");
  return { schema, firstPage };
}
const bigServer: number[] = [];
const bigBrowser: number[] = [];
const schemaServer: number[] = [];
const schemaBrowser: number[] = [];

const readyAt = () => performance.getEntriesByName("tenantlite-ready")[0]?.startTime ?? Number.NaN;

const cold: number[] = [];
const coldWall: number[] = [];
const warm: number[] = [];
/** Cold load opening on "This browser": the engine worker starts, compiles the WASM, opens IndexedDB. */
const coldBrowser: number[] = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const t0 = Date.now();
      await page.goto(`${server.url}/`);
      await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
      coldWall.push(Date.now() - t0);
      cold.push(await page.evaluate(readyAt));
      await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
      await page.reload();
      await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
      warm.push(await page.evaluate(readyAt));
    } finally {
      await browser.close();
    }
    const fresh = await launchChromium();
    try {
      const page = await fresh.context.newPage();
      await page.addInitScript(() => localStorage.setItem("tenantlite.place", "browser"));
      await page.goto(`${server.url}/`);
      await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
      if (!page.workers().some((w) => w.url().endsWith("/engine-worker.js"))) {
        throw new Error("This browser opened without the engine worker");
      }
      coldBrowser.push(await page.evaluate(readyAt));
    } finally {
      await fresh.close();
    }
  }
  // The database browser on 100,000 rows: on the server's databases, then on this browser's
  // (the same rows made by the console's own editor, in IndexedDB through the engine worker).
  for (let i = 0; i < Math.max(1, Math.min(RUNS, 3)); i++) {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/`);
      await ready(page);
      const onServer = await browseBig(page);
      bigServer.push(onServer.firstPage);
      schemaServer.push(onServer.schema);
      await page.locator("#place-browser").click();
      await page.waitForFunction(
        () => /in IndexedDB/.test(document.getElementById("status")?.textContent ?? ""),
        undefined,
        { timeout: 30_000 },
      );
      const form = page.locator("#create-db");
      await form.getByLabel("Name").fill("big");
      await form.getByRole("button", { name: "Create database" }).click();
      await expectDb(page, "big");
      for (const sql of BIG_SQL) await runInfo(page, sql);
      const inBrowser = await browseBig(page);
      bigBrowser.push(inBrowser.firstPage);
      schemaBrowser.push(inBrowser.schema);
    } finally {
      await browser.close();
    }
  }
} finally {
  await server.close();
}

/** Waits until the console shows database `name` as the open one. */
async function expectDb(page: Page, name: string): Promise<void> {
  await page.waitForFunction(
    (n) => document.getElementById("tenant-name")?.textContent === n,
    name,
    { timeout: 30_000 },
  );
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)]!,
    min: s[0]!,
    max: s[s.length - 1]!,
  };
};
const ms = (x: number) => `${x.toFixed(0)} ms`;
const size = (f: string) => readFileSync(`${dist}/${f}`);
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB (${n} B)`;

const js = size("app.js");
printTable([
  [`database browser, table of ${BIG_ROWS.toLocaleString("en")} rows`, "median", "min", "max"],
  ["server: click Browse rows → first page shown", ...Object.values(stats(bigServer)).map(ms)],
  [
    "this browser: click Browse rows → first page shown",
    ...Object.values(stats(bigBrowser)).map(ms),
  ],
  [
    "server: open the database → tables with row counts",
    ...Object.values(stats(schemaServer)).map(ms),
  ],
  [
    "this browser: open the database → tables with row counts",
    ...Object.values(stats(schemaBrowser)).map(ms),
  ],
]);
printTable([
  ["measure", "median", "min", "max"],
  [
    "cold load → interactive (navigation start → ready mark)",
    ...Object.values(stats(cold)).map(ms),
  ],
  ["cold load, wall clock from page.goto", ...Object.values(stats(coldWall)).map(ms)],
  ["warm reload (service worker cache)", ...Object.values(stats(warm)).map(ms)],
  [
    'cold load on "This browser" → interactive (engine worker up)',
    ...Object.values(stats(coldBrowser)).map(ms),
  ],
]);
printTable([
  ["file", "bytes", "gzip"],
  ...[
    "app.js",
    "engine-worker.js",
    "parse-worker.js",
    "app.css",
    "index.html",
    "sw.js",
    "sql-wasm-browser.wasm",
  ].map((f) => {
    const b = size(f);
    return [f, kb(b.length), kb(gzipSync(b).length)];
  }),
]);
// The console's own share of app.js, from the build's metafile.
const meta = JSON.parse(readFileSync(metaPath, "utf8")) as {
  outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
};
const ownIn = (file: string) =>
  Object.entries(Object.entries(meta.outputs).find(([path]) => path.endsWith(file))![1].inputs)
    .filter(([path]) => path.includes("web/src/"))
    .reduce((n, [, v]) => n + v.bytesInOutput, 0);
const worker = size("engine-worker.js");
const within = (n: number, budget: number) => (n <= budget ? "within" : "OVER");
console.log(
  `app JS ${kb(js.length)}, of it the console's own code ${kb(ownIn("app.js"))}: the page JS is ${within(js.length, 100_000)} the 100,000 B budget; ` +
    `engine worker ${kb(worker.length)}: ${within(worker.length, 250_000)} the 250,000 B budget; ` +
    `cold load median ${ms(stats(cold).median)}: ${within(stats(cold).median, 1500)} 1.5 s (${RUNS} runs); ` +
    `first page of ${BIG_ROWS} rows median ${ms(stats(bigServer).median)} (server), ${ms(stats(bigBrowser).median)} (this browser): ` +
    `${within(Math.max(stats(bigServer).median, stats(bigBrowser).median), 300)} 300 ms`,
);
