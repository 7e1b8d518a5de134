/**
 * One scenario, run step by step against any `@libsql/client`-shaped client: DDL, DML, every value
 * type, 64-bit extremes, NULLs, blobs, errors, batches that fail half-way, transactions committed
 * and rolled back. Each step's outcome is normalized to plain data so two clients can be compared.
 */
import type { Client as LibsqlClient } from "@libsql/client";

type AnyClient = Pick<
  LibsqlClient,
  "execute" | "batch" | "transaction" | "executeMultiple" | "migrate"
>;

/** A step: a name and what it does with the client. */
export interface Step {
  readonly name: string;
  run(c: AnyClient): Promise<unknown>;
}

/** Plain-data form of a value, tagged with its JS type so `1` and `1n` differ. */
function tag(v: unknown): unknown {
  if (v === null) return ["null"];
  if (typeof v === "bigint") return ["bigint", v.toString()];
  if (typeof v === "number") return ["number", Number.isNaN(v) ? "NaN" : v];
  if (typeof v === "string") return ["string", v];
  if (v instanceof ArrayBuffer) return ["ArrayBuffer", [...new Uint8Array(v)]];
  return ["other", String(v)];
}

interface RsLike {
  columns: string[];
  columnTypes: string[];
  rows: ArrayLike<unknown>[];
  rowsAffected: number;
  lastInsertRowid: bigint | undefined;
}

/**
 * Normalizes a result set: columns, types, rows by index and by name, counts.
 *
 * Documented difference: tenantlite (like Turso over HTTP) reports `lastInsertRowid` only after an
 * INSERT; libSQL's local driver reports the connection's last rowid after any statement that is
 * not a query. When `sql` is not an INSERT, both sides' value is therefore left out.
 */
export function normalizeResult(rs: RsLike, sql?: string): unknown {
  const insert = sql === undefined || /^\s*(INSERT|REPLACE)\b/i.test(sql);
  return {
    columns: rs.columns,
    columnTypes: rs.columnTypes,
    rows: Array.from(rs.rows, (row) => ({
      byIndex: Array.from({ length: row.length }, (_, i) => tag((row as unknown[])[i])),
      keys: Object.keys(row),
      json: JSON.stringify(row, (_k, v) =>
        typeof v === "bigint" ? `${v}n` : v instanceof ArrayBuffer ? [...new Uint8Array(v)] : v,
      ),
    })),
    rowsAffected: rs.rowsAffected,
    lastInsertRowid:
      rs.lastInsertRowid === undefined || !insert ? null : rs.lastInsertRowid.toString(),
  };
}

/** Errors compare by class of error, code and index; messages are compared after the code. */
export function normalizeError(e: unknown): unknown {
  const err = e as { name?: string; code?: string; message?: string; statementIndex?: number };
  let code = err.code;
  const batch = (err.name ?? "").includes("BatchError");
  // Documented difference: syntax errors carry Turso's SQL_PARSE_ERROR code (libSQL local says SQLITE_ERROR).
  if (code === "SQL_PARSE_ERROR") code = "SQLITE_ERROR";
  return {
    error: e instanceof RangeError ? "RangeError" : "coded",
    code: e instanceof RangeError ? undefined : code,
    // libSQL repeats the code in batch errors ("SQLITE_CONSTRAINT: SQLITE_CONSTRAINT: …"); tenantlite does not.
    message: (err.message ?? "")
      .replace(/^SQL_PARSE_ERROR: /, "SQLITE_ERROR: ")
      .replace(/^([A-Z_]+): \1: /, "$1: "),
    statementIndex: batch ? err.statementIndex : undefined,
  };
}

/** What a step gives, as plain data: its result sets normalized, or its error by `onError`. */
export async function outcome(
  f: () => Promise<unknown>,
  sqls: readonly string[] = [],
  onError: (e: unknown) => unknown = normalizeError,
): Promise<unknown> {
  try {
    const r = await f();
    if (Array.isArray(r)) return r.map((x, i) => normalizeResult(x as RsLike, sqls[i] ?? ""));
    if (r !== undefined && r !== null && typeof r === "object" && "rows" in r) {
      return normalizeResult(r as RsLike, sqls[0] ?? "");
    }
    return r ?? null;
  } catch (e) {
    return onError(e);
  }
}

const q = (sql: string, args?: unknown[] | Record<string, unknown>): Step => ({
  name:
    sql +
    (args === undefined
      ? ""
      : ` ${JSON.stringify(args, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`),
  run: (c) =>
    outcome(() => c.execute(args === undefined ? sql : { sql, args: args as never }), [sql]),
});

const BIG = 9223372036854775807n;
const SMALL = -9223372036854775808n;

/** The scenario. */
export const steps: Step[] = [
  q(
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, score REAL, born DATE, avatar BLOB, n INT CHECK (n >= 0))",
  ),
  q(
    "CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER, t TEXT, r REAL, b BLOB, d DECIMAL(10,2))",
  ),
  q("CREATE INDEX users_by_name ON users(name)"),
  q("INSERT INTO users (name, email, score, n) VALUES ('ada', 'ada@x.io', 1.5, 1)"),
  q("INSERT INTO users (name, email, score, n) VALUES (?, ?, ?, ?)", ["bob", "bob@x.io", 2, 3]),
  q("INSERT INTO users (name, email, score, n) VALUES (:name, :email, :score, :n)", {
    name: "cy",
    email: "cy@x.io",
    score: 0.1,
    n: 0,
  }),
  q("INSERT INTO users (name, email, score, n) VALUES (@name, $email, :score, :n)", {
    name: "di",
    $email: "di@x.io",
    score: -7.25,
    n: 5,
  }),
  q("INSERT INTO users (name, email) VALUES (?2, ?1)", ["ed@x.io", "ed"]),
  q("SELECT * FROM users ORDER BY id"),
  q("SELECT id, name, score FROM users WHERE name = ?", ["bob"]),
  q("SELECT count(*) AS c, sum(score) AS s, max(id) FROM users"),
  q("UPDATE users SET score = score + 1 WHERE n > ?", [0]),
  q("DELETE FROM users WHERE name = 'ed'"),
  q("SELECT changes(), total_changes() > 0 AS any"),
  // values of every type, in and out
  q("INSERT INTO big (v, t, r, b) VALUES (?, ?, ?, ?)", [
    BIG,
    "max",
    1.25,
    new Uint8Array([0, 1, 2, 255]),
  ]),
  q("INSERT INTO big (v, t, r, b) VALUES (?, ?, ?, ?)", [
    SMALL,
    "min",
    -0.5,
    new Uint8Array([]).buffer,
  ]),
  q("INSERT INTO big (v, t, r, b) VALUES (?, ?, ?, ?)", [2n ** 53n + 1n, "2^53+1", 1e300, null]),
  q("INSERT INTO big (v, t, r, b) VALUES (?, ?, ?, ?)", [
    2 ** 40,
    "2^40",
    Number.MAX_VALUE,
    new Uint8Array(300).fill(7),
  ]),
  q("INSERT INTO big (v, t, r, b) VALUES (?, ?, ?, ?)", [true, "true", false, new Date(86400000)]),
  q("INSERT INTO big (v, t, r) VALUES (?, ?, ?)", [-(2 ** 31), "int32 min", 2 ** 31 - 1]),
  q("INSERT INTO big (v, t, r) VALUES (?, ?, ?)", [42n, "small bigint", 7]),
  q("INSERT INTO big (v, t) VALUES (?, ?)", [-(2n ** 40n), "-2^40 bigint"]),
  q("INSERT INTO big (v, t, d) VALUES (?, 'unicode ✓ 雪 🎉', '12.50')", [0]),
  q("SELECT id, v, t, r, b, d FROM big ORDER BY id"),
  q("SELECT v FROM big WHERE v = ?", [BIG]),
  q("SELECT v FROM big WHERE v = ?", [SMALL]),
  q("SELECT ?1 + 0 AS a, ?2 || 'x' AS b", [1, "y"]),
  q("SELECT typeof(?) AS t1, typeof(?) AS t2, typeof(?) AS t3, typeof(?) AS t4, typeof(?) AS t5", [
    1,
    1.5,
    10n,
    true,
    "s",
  ]),
  q(
    "SELECT NULL AS nothing, 0 AS zero, -0.0 AS negzero, 1e308 * 10 AS inf, x'' AS emptyblob, '' AS emptytext",
  ),
  q("SELECT 'a' || char(0) || 'b' AS nul, 'x' || char(0) AS trailing, length('a' || char(0)) AS n"),
  q(
    "SELECT replace(hex(zeroblob(20)), '00', 'é') AS long2byte, replace(hex(zeroblob(33)), '00', 'z') AS ascii33, replace(hex(zeroblob(32)), '00', 'z') AS ascii32, 'ünï' AS short2byte",
  ),
  q("SELECT zeroblob(3) AS zeros, x'616263' AS textblob, 2.0 AS real2, 1e-300 AS tiny"),
  q("SELECT 9007199254740991 AS maxsafe, -9007199254740991 AS minsafe"),
  q("SELECT 9007199254740992 AS unsafe"),
  q("SELECT 9223372036854775807 AS i64max, -9223372036854775808 AS i64min"),
  q("SELECT 1 AS a, 2 AS a, 3 AS b"),
  q("SELECT 1, 2, 'x' AS \"0\", 'y' AS \"10\""),
  q("SELECT hex(b) AS h, length(b) AS l FROM big WHERE b IS NOT NULL ORDER BY id"),
  q("SELECT json_object('a', 1, 'b', json_array(1, 2)) AS j"),
  q("VALUES (1, 'one'), (2, 'two')"),
  q("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT x FROM c"),
  q("SELECT * FROM users WHERE id = -1"),
  // errors
  q("SELEC 1"),
  q("SELECT * FROM missing_table"),
  q("SELECT nope FROM users"),
  q("INSERT INTO users (id, name) VALUES (1, 'dup')"),
  q("INSERT INTO users (name, email) VALUES ('dup', 'ada@x.io')"),
  q("INSERT INTO users (name) VALUES (NULL)"),
  q("INSERT INTO users (name, n) VALUES ('neg', -1)"),
  q("SELECT ?", [2n ** 64n]),
  q("SELECT * FROM users WHERE id = 1"),
  // batches
  {
    name: "batch ok (write)",
    run: (c) =>
      outcome(
        () =>
          c.batch(
            [
              "INSERT INTO users (name) VALUES ('b1')",
              { sql: "INSERT INTO users (name) VALUES (?)", args: ["b2"] },
              "SELECT name FROM users WHERE name LIKE 'b_' ORDER BY name",
            ],
            "write",
          ),
        ["INSERT", "INSERT", "SELECT"],
      ),
  },
  {
    name: "batch fails half-way: nothing stays",
    run: (c) =>
      outcome(() =>
        c.batch(
          [
            "INSERT INTO users (name) VALUES ('half1')",
            "INSERT INTO users (id, name) VALUES (1, 'conflict')",
            "INSERT INTO users (name) VALUES ('half2')",
          ],
          "write",
        ),
      ),
  },
  q("SELECT count(*) AS n FROM users WHERE name LIKE 'half%'"),
  {
    name: "batch deferred and read modes",
    run: async (c) => [
      await outcome(() => c.batch(["SELECT 1 AS one"], "read")),
      await outcome(() => c.batch(["UPDATE users SET score = 0 WHERE name = 'b1'"], "deferred")),
    ],
  },
  // transactions
  {
    name: "transaction committed",
    run: async (c) => {
      const tx = await c.transaction("write");
      const a = await outcome(
        () => tx.execute("INSERT INTO users (name) VALUES ('tx1')"),
        ["INSERT"],
      );
      const b = await outcome(() =>
        tx.execute({ sql: "SELECT count(*) AS n FROM users WHERE name = ?", args: ["tx1"] }),
      );
      const d = await outcome(
        () => tx.batch(["INSERT INTO users (name) VALUES ('tx2')", "SELECT 1 AS x"]),
        ["INSERT", "SELECT"],
      );
      await tx.commit();
      return [a, b, d, tx.closed];
    },
  },
  q("SELECT name FROM users WHERE name LIKE 'tx%' ORDER BY name"),
  {
    name: "transaction rolled back",
    run: async (c) => {
      const tx = await c.transaction("write");
      await tx.execute("INSERT INTO users (name) VALUES ('rb1')");
      await tx.execute("DELETE FROM users WHERE name = 'ada'");
      const inside = await outcome(() =>
        tx.execute("SELECT count(*) AS n FROM users WHERE name IN ('rb1', 'ada')"),
      );
      await tx.rollback();
      return [inside, tx.closed];
    },
  },
  q("SELECT count(*) AS n FROM users WHERE name IN ('rb1', 'ada')"),
  {
    name: "transaction with a failing statement keeps going",
    run: async (c) => {
      const tx = await c.transaction("deferred");
      const a = await outcome(() => tx.execute("INSERT INTO users (id, name) VALUES (1, 'x')"));
      const b = await outcome(
        () => tx.execute("INSERT INTO users (name) VALUES ('after-error')"),
        ["INSERT"],
      );
      await tx.commit();
      return [a, b];
    },
  },
  q("SELECT count(*) AS n FROM users WHERE name = 'after-error'"),
  {
    name: "executeMultiple",
    run: (c) =>
      outcome(() =>
        c.executeMultiple(`
          CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);
          INSERT INTO notes (body) VALUES ('a; b'); -- a comment; with a semicolon
          INSERT INTO notes (body) VALUES ('c');
        `),
      ),
  },
  q("SELECT * FROM notes ORDER BY id"),
  {
    name: "executeMultiple stops at the first error",
    run: (c) =>
      outcome(() =>
        c.executeMultiple(
          "INSERT INTO notes (body) VALUES ('kept'); INSERT INTO nowhere VALUES (1); INSERT INTO notes (body) VALUES ('never');",
        ),
      ),
  },
  q("SELECT body FROM notes ORDER BY id"),
  {
    name: "migrate",
    run: (c) =>
      outcome(() =>
        c.migrate(["ALTER TABLE notes ADD COLUMN tag TEXT", "UPDATE notes SET tag = 'm'"]),
      ),
  },
  q("SELECT id, body, tag FROM notes ORDER BY id"),
  q("DROP INDEX users_by_name"),
  q("ALTER TABLE users RENAME TO people"),
  q("SELECT name FROM people ORDER BY id LIMIT 2"),
  q("DROP TABLE people"),
];
