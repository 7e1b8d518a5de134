// `npm run bench [name…]`: runs bench/<name>/index.ts for each name (all benchmarks by default),
// each in its own process so one benchmark's heap does not skew the next.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const all = readdirSync("bench", { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`bench/${d.name}/index.ts`))
  .map((d) => d.name)
  .sort();
const wanted = process.argv.slice(2);
const names = wanted.length > 0 ? wanted : all;
let failed = 0;
for (const name of names) {
  if (!all.includes(name)) {
    console.error(`bench: no benchmark named "${name}" (have: ${all.join(", ")})`);
    process.exit(2);
  }
  console.log(`\n=== bench/${name} ===`);
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "scripts/run-ts.mjs", `bench/${name}/index.ts`],
    { stdio: "inherit" },
  );
  if (r.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
