// Builds the browser console (web/) into web/dist: index.html, app.js (the console's page: the app
// and the library's tab-side client, minified, no engine), engine-worker.js (the library's engine
// worker, src/browser/engine-worker.ts, which createBrowserPlatform starts in the leader tab),
// parse-worker.js (the SQL parser the editor checks scripts with, off the page), app.css, sw.js
// (offline cache), sql.js's WASM and the icon. The
// result is plain static files: serve web/dist from any static host (`npm start` serves it at /).
// Usage: node scripts/build-web.mjs [--quiet] [--out <dir>] [--meta <file>]  (tests build into
// their own dir; --meta writes esbuild's metafile of app.js and the workers, which bench/web reads)
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { libraryPure, pageEngineOff } from "../web/build/plugins.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const web = join(root, "web");
const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt >= 0 && args[outAt + 1] ? resolve(args[outAt + 1]) : join(web, "dist");
const quiet = args.includes("--quiet");
const metaAt = args.indexOf("--meta");
const metaFile = metaAt >= 0 && args[metaAt + 1] ? resolve(args[metaAt + 1]) : undefined;

/** The console imports the library as an outside user would, by its package name. */
const alias = {
  "tenantlite/browser": join(root, "src/browser/index.ts"),
  "tenantlite/parser": join(root, "parser/index.ts"),
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  target: "es2022",
  platform: "browser",
  legalComments: "none",
  logLevel: "warning",
};

const app = await build({
  ...common,
  metafile: metaFile !== undefined,
  entryPoints: { app: join(web, "src/main.ts"), styles: join(web, "src/styles.css") },
  outdir: out,
  format: "esm",
  alias,
  // The page runs no engine (createBrowserPlatform in worker mode; see pageEngineOff).
  plugins: [pageEngineOff, libraryPure],
  // The app.css name keeps the page's <link> stable.
  entryNames: "[name]",
});
// The workers: self-contained classic scripts (a worker cannot resolve package names).
const workers = await build({
  ...common,
  metafile: metaFile !== undefined,
  entryPoints: {
    "engine-worker": join(root, "src/browser/engine-worker.ts"),
    "parse-worker": join(web, "src/parse-worker.ts"),
  },
  outdir: out,
  format: "iife",
  alias,
  entryNames: "[name]",
});
if (metaFile !== undefined) {
  const meta = {
    inputs: { ...app.metafile.inputs, ...workers.metafile.inputs },
    outputs: { ...app.metafile.outputs, ...workers.metafile.outputs },
  };
  writeFileSync(metaFile, JSON.stringify(meta));
}
writeFileSync(join(out, "app.css"), readFileSync(join(out, "styles.css")));
rmSync(join(out, "styles.css"));

copyFileSync(
  join(root, "node_modules/sql.js/dist/sql-wasm-browser.wasm"),
  join(out, "sql-wasm-browser.wasm"),
);
copyFileSync(join(web, "icon.svg"), join(out, "icon.svg"));

// The console's files besides its page: hashed into its version, and cached by its service worker.
const ASSETS = [
  "app.js",
  "engine-worker.js",
  "parse-worker.js",
  "app.css",
  "sql-wasm-browser.wasm",
  "icon.svg",
];
const hash = createHash("sha256");
for (const f of ASSETS) hash.update(readFileSync(join(out, f)));
hash.update(readFileSync(join(web, "index.html")));
const version = hash.digest("hex").slice(0, 12);
writeFileSync(
  join(out, "index.html"),
  readFileSync(join(web, "index.html"), "utf8").replaceAll("__VERSION__", version),
);

const shell = ["index.html", ...ASSETS];
await build({
  ...common,
  entryPoints: [join(web, "src/sw.ts")],
  outfile: join(out, "sw.js"),
  format: "iife",
  define: { __VERSION__: JSON.stringify(version), __SHELL__: JSON.stringify(shell) },
});

const size = (f) => readFileSync(join(out, f)).length;
const summary = {
  version,
  js: size("app.js"),
  worker: size("engine-worker.js"),
  parser: size("parse-worker.js"),
  css: size("app.css"),
  html: size("index.html"),
  sw: size("sw.js"),
  wasm: size("sql-wasm-browser.wasm"),
};
if (!quiet) {
  const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `build:web: ${relative(root, out) || "."}  app.js ${kb(summary.js)} (${summary.js} B), ` +
      `engine-worker.js ${kb(summary.worker)} (${summary.worker} B), parse-worker.js ${kb(summary.parser)} (${summary.parser} B), app.css ${kb(summary.css)}, ` +
      `sw.js ${kb(summary.sw)}, wasm ${kb(summary.wasm)}  [${version}]`,
  );
}
