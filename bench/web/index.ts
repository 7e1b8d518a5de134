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
 * API first).
 *
 * Run: node scripts/run-ts.mjs bench/web/index.ts [runs]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { startServer } from "../../src/node/server.js";
import { launchChromium } from "../../test/browser/chromium.js";
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
} finally {
  await server.close();
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
    `cold load median ${ms(stats(cold).median)}: ${within(stats(cold).median, 1500)} 1.5 s (${RUNS} runs)`,
);
