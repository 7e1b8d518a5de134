/**
 * Migration benchmark (schema databases, point 8): `ALTER TABLE … ADD COLUMN` plus `CREATE INDEX`
 * fanned out to 1,000 and 10,000 tiny children, children/s, against the raw loop (open → exec →
 * export → save each child, no checks, no staging) on the same storage, in the same run.
 * BENCH_SCALE=0.1 runs a tenth of the children.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import initSqlJs from "sql.js";
import { createPlatform, MemoryStorage, type Storage, tenantKey } from "../../src/index.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { printTable } from "../lib/measure.js";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const SIZES = [1000, 10_000].map((n) => Math.max(10, Math.round(n * SCALE)));
const SQL = await initSqlJs();
const rows: (string | number)[][] = [
  ["storage", "children", "platform children/s", "raw loop children/s", "ratio", "peak RSS MB"],
];

async function one(kind: "memory" | "fs", n: number): Promise<void> {
  const dir = kind === "fs" ? mkdtempSync(join(tmpdir(), "tl-bench-migrate-")) : undefined;
  const storage: Storage = dir ? await FsStorage.open(dir) : new MemoryStorage();
  const platform = await createPlatform({ storage });
  await platform.createDatabase("app", { type: "schema" });
  await platform
    .client("app")
    .execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)");
  await platform
    .client("app")
    .execute("INSERT INTO users (name, email) VALUES ('seed', 'seed@example.com')");
  const ids: string[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, (_, j) =>
        platform.createDatabase(`c${i + j}`, { schema: "app" }),
      ),
    );
    ids.push(...batch.map((d) => d.id));
  }
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);

  let t = process.hrtime.bigint();
  await platform.migrate("app", [
    "ALTER TABLE users ADD COLUMN plan TEXT",
    "CREATE INDEX users_plan ON users(plan)",
  ]);
  const platformSecs = Number(process.hrtime.bigint() - t) / 1e9;

  // The raw loop: the same work on the same stored images, without staging, jobs or checks.
  t = process.hrtime.bigint();
  for (const id of ids) {
    const key = tenantKey(id);
    const bytes = await storage.load(key);
    const db = new SQL.Database(bytes ?? null);
    db.exec("ALTER TABLE users ADD COLUMN plan2 TEXT; CREATE INDEX users_plan2 ON users(plan2);");
    await storage.save(key, db.export());
    db.close();
  }
  const rawSecs = Number(process.hrtime.bigint() - t) / 1e9;
  clearInterval(sampler);
  await platform.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const ours = n / platformSecs;
  const raw = n / rawSecs;
  rows.push([
    kind,
    n,
    Math.round(ours),
    Math.round(raw),
    `${(ours / raw).toFixed(2)}×`,
    Math.round(peak / 2 ** 20),
  ]);
}

console.log(
  "migrate: ALTER TABLE ADD COLUMN + CREATE INDEX over every child (targets: ≥ 0.5× the raw loop, ≥ 2,000 children/s)",
);
for (const kind of ["memory", "fs"] as const) for (const n of SIZES) await one(kind, n);
printTable(rows);
