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

/**
 * Each rule: the message's test, the code (`SQLITE_` left off, except for Turso's own), SQLite's
 * result code, and the extended code's last word where the message tells it.
 */
const rules: readonly Rule[] = (
  [
    [/^UNIQUE constraint failed/, "CONSTRAINT", 2067, "UNIQUE"],
    [/^NOT NULL constraint failed/, "CONSTRAINT", 1299, "NOTNULL"],
    [/^CHECK constraint failed/, "CONSTRAINT", 275, "CHECK"],
    [/^FOREIGN KEY constraint failed/, "CONSTRAINT", 787, "FOREIGNKEY"],
    [/^cannot store \S+ value in \S+ column/, "CONSTRAINT", 3091, "DATATYPE"],
    [/constraint failed$/, "CONSTRAINT", 19],
    [/^database is locked/, "BUSY", 5],
    [/^database table is locked/, "LOCKED", 6],
    [/^attempt to write a readonly database/, "READONLY", 8],
    [/^out of memory/, "NOMEM", 7],
    [/^interrupted/, "INTERRUPT", 9],
    [/^disk I\/O error/, "IOERR", 10],
    [/^database disk image is malformed/, "CORRUPT", 11],
    [/^database or disk is full/, "FULL", 13],
    [/^unable to open database file/, "CANTOPEN", 14],
    [/^string or blob too big/, "TOOBIG", 18],
    [/^datatype mismatch/, "MISMATCH", 20],
    [/^bad parameter or other API misuse/, "MISUSE", 21],
    [/^not authorized/, "AUTH", 23],
    [/index out of range/, "RANGE", 25],
    [/^file is not a database/, "NOTADB", 26],
    [/^(near ".*": syntax error|incomplete input|unrecognized token)/, "SQL_PARSE_ERROR", 1],
  ] as const
).map(([test, name, rawCode, extended]: readonly [RegExp, string, number, string?]) => {
  const code = (name.startsWith("SQL_") ? name : `SQLITE_${name}`) as ErrorCode;
  return { test, code, rawCode, ...(extended && { extended: `${code}_${extended}` }) };
});

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
