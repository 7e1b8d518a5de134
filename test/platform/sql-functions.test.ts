/**
 * The extension functions libSQL has (`sqrt`, `log`, `ceil`, `power`, `replicate`, `padl`,
 * `median`…) and sql.js registers in its legacy form: same answers and types as native libSQL,
 * and not a line on the console. sql.js prints a deprecation warning at every call of one (a query
 * over 10,000 rows printed 10,000 lines and ran 10× slower); the engine instantiates sql.js's
 * WASM itself with that warning silenced (src/engine/loader.ts). Checked in-process, and in a
 * process of its own through `tenantlite`'s Node entry and tenant threads, where any output would
 * show on stderr.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createPlatform } from "../../src/node/create-platform.js";
import type { Platform } from "../../src/platform/platform.js";
import { runTs, useTempDirs } from "../helpers.js";

const tempDir = useTempDirs("tenantlite-sql-functions-");
let platform: Platform | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await platform?.close();
  platform = undefined;
});

/** Native libSQL's answers (`@libsql/client` `:memory:`, intMode "bigint"), checked by hand. */
const SCALARS =
  "SELECT sqrt(16) AS a, log(100) AS b, ceil(1.2) AS c, floor(-1.5) AS d, power(2, 10) AS e, sign(-3) AS f, square(3) AS g, replicate('ab', 3) AS h, padl('a', 3) AS i, reverse('abc') AS j, charindex('b', 'abc') AS k, proper('hello world') AS l, log10(1000) AS m, degrees(pi()) AS n";
const NATIVE_SCALARS = {
  a: 4,
  b: 4.605170185988092, // natural: SQLite's own log() is base 10
  c: 2n, // an INTEGER: SQLite's own ceil() gives a REAL
  d: -2n,
  e: 1024,
  f: -1n,
  g: 9n,
  h: "ababab",
  i: "  a",
  j: "cba",
  k: 2n,
  l: "Hello World",
  m: 3,
  n: 180,
};
const AGGREGATES =
  "SELECT median(x) AS med, stdev(x) AS sd, variance(x) AS v, mode(x) AS mo, lower_quartile(x) AS lq, upper_quartile(x) AS uq FROM t";
const NATIVE_AGGREGATES = { med: 3n, sd: 3.5355339059327378, v: 12.5, mo: null, lq: 2n, uq: 4n };

/** A row as a plain object of its named columns. */
const plain = (row: object) => Object.fromEntries(Object.entries(row));

describe("libSQL's extension functions", () => {
  it("answer as native libSQL does, and print nothing, however many rows call them", async () => {
    const warn = vi.spyOn(console, "warn");
    const log = vi.spyOn(console, "log");
    const error = vi.spyOn(console, "error");
    platform = await createPlatform();
    await platform.createDatabase("fn");
    const db = platform.client("fn", { intMode: "bigint" });
    expect(plain((await db.execute(SCALARS)).rows[0]!)).toEqual(NATIVE_SCALARS);
    await db.executeMultiple("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3), (4), (10)");
    expect(plain((await db.execute(AGGREGATES)).rows[0]!)).toEqual(NATIVE_AGGREGATES);
    const many = await db.execute(
      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5000) SELECT sum(floor(sqrt(n))) AS s FROM c",
    );
    expect(many.rows[0]!.s).toBe(233_275n);
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
  });

  it("REGEXP matches as libSQL's does: NULLs, numbers, blobs, `.` across lines, in WHERE with a parameter", async () => {
    platform = await createPlatform();
    await platform.createDatabase("re");
    const db = platform.client("re");
    // Native libSQL's answers (@libsql/client :memory:), checked by hand.
    const cases: [string, number | null][] = [
      ["'abc' REGEXP 'b'", 1],
      ["'abc' REGEXP '^b'", 0],
      ["NULL REGEXP 'a'", null],
      ["'a' REGEXP NULL", null],
      ["123 REGEXP '^[0-9]+$'", 1],
      ["'ABC' REGEXP 'b'", 0],
      ["'a.c' REGEXP '\\.'", 1],
      ["'x' REGEXP ''", 1],
      ["'héllo' REGEXP '^h.llo$'", 1],
      ["'abc' NOT REGEXP 'z'", 1],
      ["regexp('b', 'abc')", 1],
      ["'aaa' REGEXP 'a{2}'", 1],
      ["'a1' REGEXP '\\d'", 1],
      ["'ab' REGEXP 'a|z'", 1],
      ["x'6162' REGEXP 'ab'", 1],
      ["'a' || char(10) || 'b' REGEXP 'a.b'", 1],
      ["'a' || char(10) || 'b' REGEXP '^b'", 0],
    ];
    for (const [expr, expected] of cases) {
      const rs = await db.execute(`SELECT ${expr} AS v`);
      expect([expr, rs.rows[0]!.v]).toEqual([expr, expected]);
    }
    await db.executeMultiple(
      "CREATE TABLE t (name TEXT); INSERT INTO t VALUES ('ada'), ('bob'), ('alan'), (NULL)",
    );
    const rs = await db.execute({
      sql: "SELECT name FROM t WHERE name REGEXP ? ORDER BY name",
      args: ["^a"],
    });
    expect(rs.rows.map((r) => r.name)).toEqual(["ada", "alan"]);
    // A pattern that does not compile: a coded SQLite error that does not quote the pattern.
    const bad = await db.execute({ sql: "SELECT 'x' REGEXP ?", args: ["secret("] }).catch((e) => e);
    expect(bad).toBeTenantliteError("SQLITE_ERROR", /invalid regexp pattern/);
    expect(String(bad.message)).not.toContain("secret");
  });

  it("print nothing through `tenantlite` in Node and on tenant threads, in a process of its own", async () => {
    const dir = tempDir();
    const script = join(dir, "functions.ts");
    const src = (f: string) => JSON.stringify(join(process.cwd(), "src", "node", f));
    writeFileSync(
      script,
      `import { createPlatform } from ${src("root.ts")};
import { createPlatform as createNodePlatform } from ${src("create-platform.ts")};
import { tenantThreads } from ${src("tenant-threads.ts")};
const sql = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2000) SELECT sum(ceil(sqrt(n))) + sum(length(padl('x', 3))) AS s FROM c";
const here = await createPlatform();
await here.createDatabase("a");
console.log(String((await here.client("a").execute(sql)).rows[0].s));
await here.close();
const threaded = await createNodePlatform({ tenantThreads: tenantThreads({ threads: 2 }) });
await threaded.createDatabase("b");
console.log(String((await threaded.client("b").execute(sql)).rows[0].s));
await threaded.close();
`,
    );
    const r = await runTs(script, 30_000);
    expect(r.err).toBe("");
    expect(r.out.trim().split("\n")).toEqual(["66630", "66630"]);
  }, 45_000);

  it("in Node, a locateFile that gives a file path or URL is read from there, silently", async () => {
    const dir = tempDir();
    const wasm = join(process.cwd(), "node_modules", "sql.js", "dist");
    const outs: string[] = [];
    for (const [i, where] of [
      `(f) => ${JSON.stringify(wasm)} + "/" + f`,
      `(f) => new URL(f, ${JSON.stringify(`file://${wasm}/`)}).href`,
    ].entries()) {
      const script = join(dir, `locate-${i}.ts`);
      writeFileSync(
        script,
        `import { createPlatform } from ${JSON.stringify(join(process.cwd(), "src", "node", "root.ts"))};
const p = await createPlatform({ sqlJs: { locateFile: ${where} } });
await p.createDatabase("a");
console.log(String((await p.client("a").execute("SELECT sqrt(16) AS v")).rows[0].v));
await p.close();
`,
      );
      const r = await runTs(script);
      outs.push(`${r.out.trim()}|${r.err}`);
    }
    expect(outs).toEqual(["4|", "4|"]);
  }, 45_000);

  it("a WASM that cannot be instantiated fails the load with its error instead of hanging it", async () => {
    const dir = tempDir();
    const script = join(dir, "bad-wasm.ts");
    writeFileSync(
      script,
      `import { loadSqlJs } from ${JSON.stringify(join(process.cwd(), "src", "engine", "loader.ts"))};
const bad = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 255]).buffer;
await loadSqlJs({ wasmBinary: bad }).then(() => console.log("loaded"), (e) => console.log("rejected", e.constructor.name));
await loadSqlJs().then(() => console.log("loaded"), (e) => console.log("rejected again", e.constructor.name));
`,
    );
    const { out } = await runTs(script);
    expect(out.trim().split("\n")).toEqual([
      "rejected CompileError",
      "rejected again CompileError",
    ]);
  }, 30_000);
});
