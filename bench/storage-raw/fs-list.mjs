// Raw FsStorage numbers: save latency (temp + fsync + rename + dir fsync) and the cost of one
// `list` page over a flat directory of N files. Usage (from the repo root):
//   node bench/storage-raw/fs-list.mjs [N=200000] [dir=<tmp>]
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

const n = Number(process.argv[2] ?? 200_000);
const work = process.argv[3] ?? (await mkdtemp(join(tmpdir(), "tenantlite-bench-")));
const bundle = join(work, "fs-storage.mjs");
await build({
  entryPoints: [new URL("../../src/node/fs-storage.ts", import.meta.url).pathname],
  bundle: true,
  platform: "node",
  format: "esm",
  outfile: bundle,
  logLevel: "warning",
});
const { FsStorage } = await import(bundle);
const root = join(work, "root");
const ms = (t) => `${(performance.now() - t).toFixed(0)} ms`;

let t = performance.now();
await mkdir(join(root, "flat"), { recursive: true });
const batch = [];
for (let i = 0; i < n; i++) {
  batch.push(writeFile(join(root, "flat", `t${String(i).padStart(8, "0")}`), "x"));
  if (batch.length >= 256) await Promise.all(batch.splice(0));
}
await Promise.all(batch);
console.log(`created ${n} files: ${ms(t)}`);

t = performance.now();
const storage = await FsStorage.open(root);
console.log(`open (sweeps temp files): ${ms(t)}`);

const bytes = new Uint8Array(64 * 1024);
t = performance.now();
for (let i = 0; i < 100; i++) await storage.save(`saves/k${i}`, bytes);
console.log(`save 64 KiB, sequential: ${((performance.now() - t) / 100).toFixed(2)} ms each`);

const heap = process.memoryUsage().heapUsed;
t = performance.now();
await storage.list("flat/", { limit: 100 });
console.log(`first page of 100: ${ms(t)}`);
t = performance.now();
await storage.list("flat/", { after: `flat/t${String(n >> 1).padStart(8, "0")}`, limit: 100 });
console.log(`middle page of 100: ${ms(t)}`);
console.log(`heap growth: ${((process.memoryUsage().heapUsed - heap) / 1e6).toFixed(1)} MB`);

await storage.close();
if (process.argv[3] === undefined) await rm(work, { recursive: true, force: true });
