// Builds what plain Node runs (Node 20 cannot run TypeScript): the `tenantlite` command that
// `npm start` uses, and one ESM bundle per package entry point. Packages stay external.
// Plus Node's migration worker (sql.js stays external), and the browser engine worker,
// self-contained (a worker script cannot resolve package names), with sql.js's browser WASM next
// to it: the files an app serves for `createBrowserPlatform()`.
import { copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const entries = {
  tenantlite: "src/node/main.ts",
  index: "src/index.ts",
  "index-node": "src/node/root.ts",
  node: "src/node/index.ts",
  browser: "src/browser/index.ts",
  parser: "parser/index.ts",
};
const entryPoints = Object.fromEntries(
  Object.entries(entries).filter(([, file]) => existsSync(file)),
);

rmSync("dist", { recursive: true, force: true });

await build({
  entryPoints,
  outdir: "dist",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: Object.keys(
    JSON.parse(readFileSync("package.json", "utf8")).dependencies ?? {},
  ).flatMap((name) => [name, `${name}/*`]),
  sourcemap: true,
  logLevel: "warning",
});

// The programs of Node's worker threads — migration dry runs, tenants — which
// src/node/worker-program.ts finds beside the bundle; self-contained but for sql.js.
for (const name of ["migration-worker", "tenant-worker"]) {
  if (!existsSync(`src/node/${name}.ts`)) continue;
  await build({
    entryPoints: [`src/node/${name}.ts`],
    outfile: `dist/${name}.js`,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: ["sql.js"],
    sourcemap: true,
    logLevel: "warning",
  });
}

if (existsSync("src/browser/engine-worker.ts")) {
  await build({
    entryPoints: ["src/browser/engine-worker.ts"],
    outfile: "dist/browser-worker.js",
    bundle: true,
    minify: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    sourcemap: true,
    logLevel: "warning",
  });
  copyFileSync("node_modules/sql.js/dist/sql-wasm-browser.wasm", "dist/sql-wasm-browser.wasm");
}
