/**
 * Migration benchmark (schema databases, point 8): `ALTER TABLE … ADD COLUMN` plus `CREATE INDEX`
 * fanned out to 1,000 and 10,000 tiny children, children/s, against the raw loop (open → exec →
 * export → save each child, no checks, no staging) on the same storage, in the same run.
 *
 * Two kinds of children: untouched copies of the parent (they read one shared image, and a
 * deterministic migration runs once for all of them), and children that each wrote a row of
 * their own (a file each: every child is migrated on its own). The raw loop works on the
 * children's images as they stand before the migration, saved under keys of its own.
 * BENCH_SCALE=0.1 runs a tenth of the children.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import initSqlJs from "sql.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { createPlatform, MemoryStorage, type Storage } from "../../src/node/index.js";
import { printTable } from "../lib/measure.js";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const SIZES = [1000, 10_000].map((n) => Math.max(10, Math.round(n * SCALE)));
const SQL = await initSqlJs();
const rows: (string | number)[][] = [
  [
    "storage",
    "children",
    "kind",
    "platform children/s",
    "raw loop children/s",
    "ratio",
    "peak RSS MB",
  ],
];

async function one(kind: "memory" | "fs", n: number, own: boolean): Promise<void> {
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
  const names: string[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, async (_, j) => {
        const name = `c${i + j}`;
        await platform.createDatabase(name, { schema: "app" });
        if (own) {
          await platform.client(name).execute({
            sql: "INSERT INTO users (name, email) VALUES (?, ?)",
            args: [name, `${name}@example.com`],
          });
        }
        return name;
      }),
    );
    names.push(...batch);
  }
  // The raw loop's own copies of the children as they stand (not timed).
  for (let i = 0; i < n; i += 200) {
    await Promise.all(
      names
        .slice(i, i + 200)
        .map(async (name, j) =>
          storage.save(`raw/${i + j}.db`, await platform.exportDatabase(name)),
        ),
    );
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

  // The raw loop: the same work on the same images, without staging, jobs or checks.
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const key = `raw/${i}.db`;
    const bytes = await storage.load(key);
    const db = new SQL.Database(bytes ?? null);
    db.exec("ALTER TABLE users ADD COLUMN plan TEXT; CREATE INDEX users_plan ON users(plan);");
    await storage.save(key, db.export());
    db.close();
  }
  const rawSecs = Number(process.hrtime.bigint() - t) / 1e9;
  clearInterval(sampler);
  // Every child has the new column and index.
  const check = await platform.client(names[n - 1]!).execute("SELECT plan FROM users");
  if (check.columns[0] !== "plan") throw new Error("the last child was not migrated");
  await platform.close();
  await storage.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const ours = n / platformSecs;
  const raw = n / rawSecs;
  rows.push([
    kind,
    n,
    own ? "own rows" : "copies",
    Math.round(ours),
    Math.round(raw),
    `${(ours / raw).toFixed(2)}×`,
    Math.round(peak / 2 ** 20),
  ]);
}

console.log(
  "migrate: ALTER TABLE ADD COLUMN + CREATE INDEX over every child (targets: ≥ 0.5× the raw loop, ≥ 2,000 children/s)",
);
for (const kind of ["memory", "fs"] as const)
  for (const n of SIZES) for (const own of [false, true]) await one(kind, n, own);
printTable(rows);
