// Runs a TypeScript entry file on Node 20 (which cannot strip types): bundles it with esbuild into
// a temporary ESM file (packages stay external) and imports it. Usage: node scripts/run-ts.mjs file.ts [args…]
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error("usage: node scripts/run-ts.mjs <file.ts> [args…]");
  process.exit(2);
}
const dir = mkdtempSync(join(resolve("node_modules"), ".run-ts-"));
const out = join(dir, "entry.mjs");
await build({
  entryPoints: [entry],
  outfile: out,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: "inline",
  logLevel: "warning",
});
process.argv = [process.argv[0], resolve(entry), ...rest];
const cleanup = () => rmSync(dir, { recursive: true, force: true });
process.on("exit", cleanup);
await import(pathToFileURL(out).href);
