/**
 * sql.js reports SQLite failures as plain `Error`s carrying only `sqlite3_errmsg()`. This maps
 * those messages back to SQLite's result codes (the text of each code's message is fixed by
 * SQLite), so callers get the same `code`/`rawCode` as from `@libsql/client`.
 */
import { type ErrorCode, TenantliteError } from "../errors.js";
import type { RawDatabase } from "./sqljs-types.js";
import { quoteIdent } from "./statement-info.js";

interface Rule {
  readonly test: RegExp;
  readonly code: ErrorCode;
  readonly rawCode: number;
  readonly extended?: string;
}

const rules: readonly Rule[] = [
  {
    test: /^UNIQUE constraint failed/,
    code: "SQLITE_CONSTRAINT",
    rawCode: 2067,
    extended: "SQLITE_CONSTRAINT_UNIQUE",
  },
  {
    test: /^NOT NULL constraint failed/,
    code: "SQLITE_CONSTRAINT",
    rawCode: 1299,
    extended: "SQLITE_CONSTRAINT_NOTNULL",
  },
  {
    test: /^CHECK constraint failed/,
    code: "SQLITE_CONSTRAINT",
    rawCode: 275,
    extended: "SQLITE_CONSTRAINT_CHECK",
  },
  {
    test: /^FOREIGN KEY constraint failed/,
    code: "SQLITE_CONSTRAINT",
    rawCode: 787,
    extended: "SQLITE_CONSTRAINT_FOREIGNKEY",
  },
  {
    test: /^cannot store \S+ value in \S+ column/,
    code: "SQLITE_CONSTRAINT",
    rawCode: 3091,
    extended: "SQLITE_CONSTRAINT_DATATYPE",
  },
  { test: /constraint failed$/, code: "SQLITE_CONSTRAINT", rawCode: 19 },
  { test: /^database is locked/, code: "SQLITE_BUSY", rawCode: 5 },
  { test: /^database table is locked/, code: "SQLITE_LOCKED", rawCode: 6 },
  { test: /^attempt to write a readonly database/, code: "SQLITE_READONLY", rawCode: 8 },
  { test: /^out of memory/, code: "SQLITE_NOMEM", rawCode: 7 },
  { test: /^interrupted/, code: "SQLITE_INTERRUPT", rawCode: 9 },
  { test: /^disk I\/O error/, code: "SQLITE_IOERR", rawCode: 10 },
  { test: /^database disk image is malformed/, code: "SQLITE_CORRUPT", rawCode: 11 },
  { test: /^database or disk is full/, code: "SQLITE_FULL", rawCode: 13 },
  { test: /^unable to open database file/, code: "SQLITE_CANTOPEN", rawCode: 14 },
  { test: /^string or blob too big/, code: "SQLITE_TOOBIG", rawCode: 18 },
  { test: /^datatype mismatch/, code: "SQLITE_MISMATCH", rawCode: 20 },
  { test: /^bad parameter or other API misuse/, code: "SQLITE_MISUSE", rawCode: 21 },
  { test: /^not authorized/, code: "SQLITE_AUTH", rawCode: 23 },
  { test: /index out of range/, code: "SQLITE_RANGE", rawCode: 25 },
  { test: /^file is not a database/, code: "SQLITE_NOTADB", rawCode: 26 },
  {
    test: /^(near ".*": syntax error|incomplete input|unrecognized token)/,
    code: "SQL_PARSE_ERROR",
    rawCode: 1,
  },
];

/** Extra facts about a SQLite error that the message alone leaves open. */
export interface SqliteErrorContext {
  /** Whether `table.column` names (part of) the table's primary key, for SQLITE_CONSTRAINT_PRIMARYKEY. */
  isPrimaryKey?(columns: string): boolean;
}

/** A SQLite failure as a tenantlite error (`code` like libSQL's, `extendedCode` when known). */
export class SqliteError extends TenantliteError {
  /** Extended result code name, e.g. `SQLITE_CONSTRAINT_PRIMARYKEY`, when it can be known. */
  readonly extendedCode: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    rawCode: number,
    extendedCode: string | undefined,
    cause: unknown,
  ) {
    super(code, message, { rawCode, cause });
    this.name = "SqliteError";
    // As libSQL does, a primary result code is its own extended code.
    // (A syntax error's code is Turso's SQL_PARSE_ERROR; SQLite's is SQLITE_ERROR.)
    this.extendedCode =
      extendedCode ??
      (rawCode === 1
        ? "SQLITE_ERROR"
        : rawCode < 256 && code.startsWith("SQLITE_")
          ? code
          : undefined);
  }
}

/** Converts whatever sql.js threw into a coded error; coded errors pass through unchanged. */
export function toSqliteError(e: unknown, context: SqliteErrorContext = {}): TenantliteError {
  if (e instanceof TenantliteError) return e;
  if (e instanceof RangeError || e instanceof TypeError) throw e;
  const message = e instanceof Error ? e.message : String(e);
  for (const rule of rules) {
    if (!rule.test.test(message)) continue;
    if (rule.rawCode === 2067) {
      const cols = message.slice("UNIQUE constraint failed: ".length);
      if (context.isPrimaryKey?.(cols)) {
        return new SqliteError(rule.code, message, 1555, "SQLITE_CONSTRAINT_PRIMARYKEY", e);
      }
    }
    return new SqliteError(rule.code, message, rule.rawCode, rule.extended, e);
  }
  return new SqliteError("SQLITE_ERROR", message, 1, undefined, e);
}

/**
 * Whether the columns a UNIQUE failure names (`t.a, t.b`) are exactly the primary key of their
 * table, as `db` sees it (SQLite then reports SQLITE_CONSTRAINT_PRIMARYKEY).
 */
export function isPrimaryKey(db: RawDatabase, cols: string): boolean {
  const names = cols.split(", ").map((c) => c.split("."));
  const table = names[0]?.[0];
  if (table === undefined || names.some((n) => n[0] !== table || n.length !== 2)) return false;
  try {
    const info = db.exec(`PRAGMA table_info(${quoteIdent(table)})`)[0];
    const pk = (info?.values ?? [])
      .filter((r) => Number(r[5]) > 0)
      .map((r) => String(r[1]))
      .sort();
    const got = names.map((n) => n[1]!).sort();
    return pk.length === got.length && pk.every((c, i) => c === got[i]);
  } catch {
    return false;
  }
}
