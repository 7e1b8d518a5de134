// Runs the real drizzle-kit 0.31 (dialect "turso") against `tenantlite dev --data-dir <tmp>`:
// `push`, then `generate` + `migrate`, each with a schema and then a changed schema that alters a
// column in place (libSQL's ALTER TABLE … ALTER COLUMN … TO), on regular databases and on schema
// parents with two children each. Checks every drizzle-kit exit code, the SQL drizzle-kit chose,
// and the resulting schema and rows on each database and each child. Not part of `npm test`:
// drizzle-kit and drizzle-orm live in bench/ (`npm run bench:setup`), never in the main install.
//
//   npm run test:drizzle-kit            (builds dist/ first)
//   node scripts/drizzle-kit-check.mjs --no-build --keep --verbose
//
// Exit status: 0 when every check passed, 1 when one failed (each failure is printed), 2 when the
// harness itself could not run (no drizzle-kit, the server did not start…).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { createClient } from "@libsql/client";
import { CheckRun } from "./lib/check-run.mjs";
import { buildDist, checkFlags, startDevServer } from "./lib/dev-server.mjs";

const repoRoot = resolve(new URL("..", import.meta.url).pathname);
const benchModules = join(repoRoot, "bench/node_modules");
const drizzleKit = join(benchModules, "drizzle-kit/bin.cjs");
const KIT_RUN_MS = 120_000;

const args = checkFlags("drizzle-kit-check.mjs", ["--no-build", "--keep", "--verbose"]);
const tally = new CheckRun("drizzle-kit-check", "tenantlite-drizzle-kit-", args.has("--keep"));
const { work } = tally;
let server;

/** The schema drizzle-kit starts from, and the one that changes columns of it. */
const SCHEMA_V1 = `
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
export const users = sqliteTable("users", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  plan: text("plan"),
  age: integer("age"),
});
`;
const SCHEMA_V2 = `
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
export const users = sqliteTable("users", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  plan: text("plan").notNull().default("free"),
  age: text("age"),
});
`;
/** What PRAGMA table_info(users) must say after each version: [name, type, notnull, dflt]. */
const COLUMNS_V1 = [
  ["id", "integer", 1, null],
  ["name", "text", 1, null],
  ["plan", "text", 0, null],
  ["age", "integer", 0, null],
];
const COLUMNS_V2 = [
  ["id", "integer", 1, null],
  ["name", "text", 1, null],
  ["plan", "text", 1, "'free'"],
  ["age", "text", 0, null],
];

await tally.finish(
  async () => {
    if (!existsSync(drizzleKit)) {
      throw new Error(
        `${drizzleKit} is missing: run \`npm run bench:setup\` (drizzle-kit lives in bench/)`,
      );
    }
    const version = kit(["--version"], work);
    if (version.status !== 0) throw new Error(`drizzle-kit --version failed:\n${version.output}`);
    console.log(version.output.trim().split("\n").join(", "));
    if (!args.has("--no-build")) {
      step("building tenantlite (node scripts/build.mjs)");
      buildDist(repoRoot);
    }
    step("starting tenantlite dev");
    server = await startDevServer(repoRoot, join(work, "data"), join(work, "server.log"));
    console.log(`tenantlite dev: ${server.base} (data dir ${join(work, "data")})`);

    await createDatabase({ name: "plain-push" });
    await createDatabase({ name: "plain-migrate" });
    for (const parent of ["parent-push", "parent-migrate"]) {
      await createDatabase({ name: parent, is_schema: true });
      for (const child of ["a", "b"])
        await createDatabase({ name: `${parent}-${child}`, schema: parent });
    }
    await pushFlow("plain-push", []);
    await pushFlow("parent-push", ["parent-push-a", "parent-push-b"]);
    await migrateFlow("plain-migrate", []);
    await migrateFlow("parent-migrate", ["parent-migrate-a", "parent-migrate-b"]);
    await server?.stop();
  },
  async () => server?.stop(),
);

// ── flows ──────────────────────────────────────────────────────────────────────────────────────

/** `drizzle-kit push` of v1, a row written, `push` of v2: the column changes reach every child. */
async function pushFlow(db, children) {
  step(`push on ${db}${children.length > 0 ? ` (children ${children.join(", ")})` : ""}`);
  const dir = project(db, SCHEMA_V1);
  const first = kit(["push", "--config", "drizzle.config.ts", "--force", "--verbose"], dir);
  expectExit(`${db}: push v1`, first, 0);
  await expectColumns(db, children, COLUMNS_V1, "after push v1");
  await writeRows(db, children);
  writeFileSync(join(dir, "schema.ts"), SCHEMA_V2);
  const second = kit(["push", "--config", "drizzle.config.ts", "--force", "--verbose"], dir);
  expectExit(`${db}: push v2`, second, 0);
  tally.check(
    `${db}: push v2 altered the columns in place (ALTER COLUMN … TO, no table rebuild)`,
    () => {
      if (!/ALTER COLUMN "plan" TO "plan"/i.test(second.output))
        return "no ALTER COLUMN for plan in drizzle-kit's output";
      if (/__new_users|INSERT INTO/i.test(second.output)) return "drizzle-kit rebuilt the table";
    },
  );
  await expectColumns(db, children, COLUMNS_V2, "after push v2");
  await expectRows(db, children);
  // Nothing left to push: drizzle-kit reads back exactly the schema it asked for.
  const third = kit(["push", "--config", "drizzle.config.ts", "--force", "--verbose"], dir);
  expectExit(`${db}: push v2 again`, third, 0);
  tally.check(`${db}: push v2 again finds no changes`, () =>
    /No changes detected/i.test(third.output)
      ? undefined
      : `drizzle-kit still sees changes:\n${tail(third.output)}`,
  );
}

/** `generate` + `migrate` of v1, a row written, `generate` + `migrate` of v2. */
async function migrateFlow(db, children) {
  step(
    `generate + migrate on ${db}${children.length > 0 ? ` (children ${children.join(", ")})` : ""}`,
  );
  const dir = project(db, SCHEMA_V1);
  expectExit(
    `${db}: generate v1`,
    kit(["generate", "--config", "drizzle.config.ts", "--name", "v1"], dir),
    0,
  );
  expectExit(`${db}: migrate v1`, kit(["migrate", "--config", "drizzle.config.ts"], dir), 0);
  await expectColumns(db, children, COLUMNS_V1, "after migrate v1");
  await writeRows(db, children);
  writeFileSync(join(dir, "schema.ts"), SCHEMA_V2);
  expectExit(
    `${db}: generate v2`,
    kit(["generate", "--config", "drizzle.config.ts", "--name", "v2"], dir),
    0,
  );
  const file = readdirSync(join(dir, "drizzle")).find((f) => f.endsWith("_v2.sql"));
  const sql = file === undefined ? "" : readFileSync(join(dir, "drizzle", file), "utf8");
  tally.check(`${db}: generate v2 wrote ALTER COLUMN … TO (no table rebuild)`, () => {
    if (file === undefined) return "no migration file for v2";
    if (!/ALTER COLUMN "plan" TO "plan"/i.test(sql))
      return `no ALTER COLUMN for plan in ${file}:\n${sql}`;
    if (/__new_users/i.test(sql)) return `${file} rebuilds the table:\n${sql}`;
  });
  if (args.has("--verbose")) console.log(`    ${file}:\n${indent(sql)}`);
  expectExit(`${db}: migrate v2`, kit(["migrate", "--config", "drizzle.config.ts"], dir), 0);
  await expectColumns(db, children, COLUMNS_V2, "after migrate v2");
  await expectRows(db, children);
  await expectSame(
    db,
    children,
    "SELECT hash FROM __drizzle_migrations ORDER BY id",
    "drizzle's migration records",
  );
  expectExit(
    `${db}: migrate again (nothing to do)`,
    kit(["migrate", "--config", "drizzle.config.ts"], dir),
    0,
  );
}

// ── checks ─────────────────────────────────────────────────────────────────────────────────────

function expectExit(name, run, code) {
  tally.check(`${name} exits ${code}`, () =>
    run.status === code ? undefined : `exit ${run.status ?? run.signal}:\n${tail(run.output)}`,
  );
  // drizzle-kit push prints a failed statement's error and still exits 0.
  tally.check(`${name} reports no error`, () =>
    /\b\w*Error\b/.test(run.output)
      ? `drizzle-kit reported an error:\n${tail(run.output)}`
      : undefined,
  );
  if (args.has("--verbose")) console.log(indent(run.output.trim()));
}

/** Each database's users columns, as PRAGMA table_info says, and its CREATE TABLE text alike. */
async function expectColumns(db, children, expected, when) {
  const texts = new Map();
  for (const name of [db, ...children]) {
    await tally.checkAsync(`${name}: users columns ${when}`, async () => {
      const rs = await query(
        name,
        "SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info('users') ORDER BY cid",
      );
      const got = rs.rows.map((r) => [r[0], String(r[1]).toLowerCase(), Number(r[2]), r[3]]);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        return `got ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`;
      }
      texts.set(
        name,
        (await query(name, "SELECT sql FROM sqlite_schema WHERE name = 'users'")).rows[0]?.[0],
      );
    });
  }
  if (children.length > 0) {
    tally.check(`${db}: every child's CREATE TABLE users is the parent's ${when}`, () => {
      const mine = texts.get(db);
      const other = children.find((c) => texts.get(c) !== mine);
      return other === undefined ? undefined : `${other}: ${texts.get(other)} vs ${mine}`;
    });
  }
}

/** A row with a NULL plan in each child (and in a regular database): kept as it is by v2. */
async function writeRows(db, children) {
  for (const name of children.length > 0 ? children : [db]) {
    await query(name, `INSERT INTO users (name, plan, age) VALUES ('${name}', NULL, 42)`);
  }
}

/**
 * The rows written before v2 are still there, untouched (the column changed in place: the old NULL
 * stays, 42 stays an integer); new rows get v2's default and NOT NULL.
 */
async function expectRows(db, children) {
  for (const name of children.length > 0 ? children : [db]) {
    await tally.checkAsync(`${name}: rows kept as they were, new rows follow v2`, async () => {
      const old = await query(name, "SELECT name, plan, age, typeof(age) FROM users ORDER BY id");
      const rows = old.rows.map((r) => [r[0], r[1], r[2], r[3]]);
      if (JSON.stringify(rows) !== JSON.stringify([[name, null, 42, "integer"]])) {
        return `rows ${JSON.stringify(rows)}`;
      }
      await query(name, "INSERT INTO users (name, age) VALUES ('new', 7)");
      const added = await query(name, "SELECT plan, typeof(age) FROM users WHERE name = 'new'");
      if (added.rows[0]?.[0] !== "free" || added.rows[0]?.[1] !== "text") {
        return `a new row got ${JSON.stringify(Array.from(added.rows[0] ?? []))}, want ["free","text"]`;
      }
      const refused = await query(name, "INSERT INTO users (name, plan) VALUES ('x', NULL)").then(
        () => "a NULL plan was accepted",
        (e) =>
          /NOT NULL/.test(String(e?.message)) ? undefined : `unexpected error: ${e?.message}`,
      );
      await query(name, "DELETE FROM users WHERE name = 'new'");
      return refused;
    });
  }
}

async function expectSame(db, children, sql, what) {
  if (children.length === 0) return;
  const want = JSON.stringify((await query(db, sql)).rows.map((r) => Array.from(r)));
  for (const child of children) {
    await tally.checkAsync(`${child}: ${what} are the parent's`, async () => {
      const got = JSON.stringify((await query(child, sql)).rows.map((r) => Array.from(r)));
      return got === want ? undefined : `got ${got}, want ${want}`;
    });
  }
}

// ── plumbing ───────────────────────────────────────────────────────────────────────────────────

/** A drizzle project for one database: its config, its schema file, its migrations folder. */
function project(db, schema) {
  const dir = join(work, db);
  spawnSync("mkdir", ["-p", dir]);
  writeFileSync(join(dir, "schema.ts"), schema);
  writeFileSync(
    join(dir, "drizzle.config.ts"),
    `export default ${JSON.stringify(
      {
        dialect: "turso",
        schema: "./schema.ts",
        out: "./drizzle",
        dbCredentials: { url: `${server.base}/dev/${db}/` },
      },
      null,
      2,
    )};\n`,
  );
  return dir;
}

/** Runs drizzle-kit in `cwd`; never waits for input (stdin closed), never longer than KIT_RUN_MS. */
function kit(argv, cwd) {
  const r = spawnSync(process.execPath, [drizzleKit, ...argv], {
    cwd,
    encoding: "utf8",
    timeout: KIT_RUN_MS,
    stdio: ["ignore", "pipe", "pipe"],
    // drizzle-kit loads the config and schema with require(): it finds drizzle-orm in bench/ and
    // @libsql/client (the turso driver) in the main install.
    env: {
      ...process.env,
      NODE_PATH: [benchModules, join(repoRoot, "node_modules")].join(delimiter),
      FORCE_COLOR: "0",
      NO_COLOR: "1",
    },
  });
  return {
    status: r.status,
    signal: r.signal,
    output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? `\n${r.error.message}` : ""}`,
  };
}

async function query(db, sql) {
  const c = createClient({ url: `${server.base}/dev/${db}/` });
  try {
    return await c.execute(sql);
  } finally {
    c.close();
  }
}

/** Creates a database through the Platform API (dev mode: auth is off). */
async function createDatabase(body) {
  const res = await fetch(`${server.base}/v1/organizations/local/databases`, {
    method: "POST",
    headers: { authorization: "Bearer local", "content-type": "application/json" },
    body: JSON.stringify({ group: "default", ...body }),
  });
  if (!res.ok)
    throw new Error(`creating database ${body.name}: HTTP ${res.status} ${await res.text()}`);
}

function step(what) {
  console.log(`\n== ${what}`);
}

function tail(text) {
  return indent(text.trim().split("\n").slice(-25).join("\n"));
}

function indent(text) {
  return text
    .split("\n")
    .map((l) => `      ${l}`)
    .join("\n");
}
