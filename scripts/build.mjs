// Builds what plain Node runs (Node 20 cannot run TypeScript): the `tenantlite` command that
// `npm start` uses, and one ESM bundle per package entry point. Packages stay external.
import { existsSync } from "node:fs";
import { build } from "esbuild";

const entries = {
  tenantlite: "src/node/main.ts",
  index: "src/index.ts",
  node: "src/node/index.ts",
  browser: "src/browser/index.ts",
  parser: "parser/index.ts",
};
const entryPoints = Object.fromEntries(
  Object.entries(entries).filter(([, file]) => existsSync(file)),
);

await build({
  entryPoints,
  outdir: "dist",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
