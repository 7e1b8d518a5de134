// Compares tenantlite's `columnTypes` (what libSQL's sqlite3_column_decltype says, which sql.js
// does not export: src/engine/declared-types.ts) with native libSQL's, statement by statement:
// the same schema in a tenant of an in-process platform (from dist/) and in `@libsql/client`'s
// native `:memory:` database, then seeded random SELECTs over it (columns by name, in
// parentheses, `*`, COLLATE, CAST, literals, scalar subqueries, aggregates; FROM a table, joins
// with ON, USING and NATURAL, a WITHOUT ROWID table, views with compounds and CASTs, a subquery,
// CTEs, a table-valued function; some made compounds), each typed by both. Not part of
// `npm test`: native libSQL is a native module (it comes with `@libsql/client`'s install, where
// the platform has a prebuilt one), and the main path stays free of native code.
//
//   npm run test:decltypes                          (builds dist/ first; 2,000 statements)
//   node scripts/decltype-check.mjs --no-build --count 10000 --seed 7
//
// Exit status: 0 when every statement got native's types, 1 when one did not (the first ones
// are printed), 2 when the check could not run (no native libSQL, no dist/).

import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildDist } from "./lib/dev-server.mjs";

const repoRoot = resolve(new URL("..", import.meta.url).pathname);
const USAGE = "usage: node scripts/decltype-check.mjs [--no-build] [--count <n>] [--seed <n>]";
const options = { build: true, count: 2000, seed: 1 };
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg === "--no-build") {
    options.build = false;
  } else if (arg === "--count" || arg === "--seed") {
    const n = Number(process.argv[++i]);
    if (!Number.isSafeInteger(n) || n < 1) {
      console.error(`decltype-check: ${arg} takes a positive whole number\n${USAGE}`);
      process.exit(2);
    }
    options[arg.slice(2)] = n;
  } else {
    console.error(`decltype-check: unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    process.exit(2);
  }
}
let seed = options.seed;

const SCHEMA = [
  "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, u, ts DATETIME, n NUMERIC)",
  "CREATE TABLE b (id integer primary key, a_id INT, note varchar(20), data blob, r REAL)",
  "CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID",
  "CREATE VIEW va AS SELECT a.id, a.name AS nm, b.note, CAST(b.r AS TEXT) AS rt, a.u FROM a JOIN b ON b.a_id = a.id",
  "CREATE VIEW vb AS SELECT note, count(*) AS c FROM b GROUP BY note UNION ALL SELECT name, u FROM a",
  "INSERT INTO a VALUES (1, 'x', 1, '2026-01-01', 2)",
  "INSERT INTO b VALUES (1, 1, 'n', x'00', 1.5)",
];
/** FROM clauses, with column references that resolve in each. */
const FROMS = [
  ["a", ["id", "name", "u", "ts", "n", "a.name", "rowid"]],
  ["b", ["id", "a_id", "note", "data", "r", "b.note", "oid"]],
  ["a JOIN b ON b.a_id = a.id", ["a.id", "b.id", "name", "note", "u", "data", "a.ts"]],
  ["a LEFT JOIN b USING (id)", ["id", "name", "note", "u", "r"]],
  ["a NATURAL JOIN b", ["id", "name", "note"]],
  ["va", ["id", "nm", "note", "rt", "u"]],
  ["vb", ["note", "c"]],
  ["(SELECT name, u, CAST(id AS TEXT) AS s FROM a) q", ["name", "u", "s", "q.name"]],
  ["w", ["k", "v"]],
  ["a, w", ["k", "v", "name", "a.rowid"]],
  ["json_each('[1]')", ["key", "value", "type"]],
  ["c", ["x", "y"]],
];
const CTES = [
  "WITH c(x, y) AS (SELECT name, u FROM a) ",
  "WITH c AS (SELECT note AS x, CAST(r AS TEXT) AS y FROM b) ",
  "WITH d AS (SELECT * FROM a), c AS (SELECT d.name AS x, d.u AS y FROM d) ",
];
const EXPRESSIONS = [
  "1",
  "'s'",
  "NULL",
  "CAST(1 AS TEXT)",
  "upper('x')",
  "(SELECT name FROM a)",
  "(SELECT u FROM a)",
  "(SELECT 1 UNION ALL SELECT note FROM b)",
  "x'00'",
  "1.5",
  "count(*)",
  "max(1)",
];

/** A linear congruential generator: the same seed gives the same statements. */
function random(n) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
}
const pick = (xs) => xs[random(xs.length)];

function statement() {
  const [from, names] = pick(FROMS);
  const columns = [];
  for (let i = 1 + random(4); i > 0; i--) {
    const r = random(10);
    if (r < 5) columns.push(pick(names));
    else if (r === 5) columns.push("*");
    else if (r === 6) columns.push(`(${pick(names)})`);
    else if (r === 7) columns.push(`${pick(names)} COLLATE NOCASE`);
    else columns.push(pick(EXPRESSIONS));
  }
  const sql = `${from === "c" ? pick(CTES) : ""}SELECT ${columns.join(", ")} FROM ${from}`;
  if (columns.includes("*") || random(4) !== 0) return sql;
  return `${sql} UNION ALL SELECT ${columns.map(() => pick(["1", "'t'", "NULL"])).join(", ")}`;
}

let native;
try {
  const { createClient } = await import("@libsql/client");
  native = createClient({ url: ":memory:" });
  await native.execute("SELECT 1");
} catch (e) {
  console.error(`decltype-check: native libSQL (@libsql/client :memory:) is not available: ${e}`);
  process.exit(2);
}
if (options.build) buildDist(repoRoot);
const { createPlatform } = await import(pathToFileURL(join(repoRoot, "dist/index.js")).href);
const platform = await createPlatform();
let status = 0;
try {
  await platform.createDatabase("decltypes");
  const tenant = platform.client("decltypes");
  for (const sql of SCHEMA) {
    await native.execute(sql);
    await tenant.execute(sql);
  }
  let same = 0;
  let different = 0;
  let refused = 0;
  for (let i = 0; i < options.count; i++) {
    const sql = statement();
    let expected;
    try {
      expected = JSON.stringify((await native.execute(sql)).columnTypes);
    } catch {
      refused++; // native libSQL refuses it (not expected to happen): nothing to compare
      continue;
    }
    let got;
    try {
      got = JSON.stringify((await tenant.execute(sql)).columnTypes);
    } catch (e) {
      got = `error: ${e.message}`;
    }
    if (got === expected) {
      same++;
    } else if (++different <= 20) {
      console.log(`different: ${sql}\n  native libSQL: ${expected}\n  tenantlite:    ${got}`);
    }
  }
  console.log(
    `${same + different} statements: ${same} typed as native libSQL types them, ${different} not` +
      (refused > 0 ? ` (${refused} refused by native libSQL, skipped)` : ""),
  );
  status = different > 0 ? 1 : 0;
} finally {
  await platform.close();
  native.close();
}
process.exit(status);
