/**
 * A statement as the engine reads it before SQLite runs it: its first word and the parser's
 * summary, the guard's signature, and the statements refused or recognised from their text alone
 * (engine-wide pragmas, VACUUM INTO, libSQL's ALTER COLUMN … TO).
 */
import { classify, type StatementSummary } from "../../parser/index.js";
import { TenantliteError } from "../errors.js";
import type { ProgramEffects } from "./program.js";
import { scanSql } from "./sql-scan.js";

/** A statement as the engine read it: parsed once, then handed to every check. */
export interface StatementInfo {
  readonly sql: string;
  /** The first keyword, upper case (`SELECT`, `PRAGMA`, `WITH`…). */
  readonly firstWord: string;
  /** The parser's verdict; undefined when it could not read the statement (SQLite decides). */
  readonly summary: StatementSummary | undefined;
}

/** Reads a statement once: its first word and the parser's summary. */
export function statementInfo(sql: string, parsed = classify(sql)): StatementInfo {
  return { sql, firstWord: scanSql(sql).firstWord, summary: parsed.statements[0]?.summary };
}

/**
 * Checks a statement before it runs and throws a coded error to refuse it. `effects()` compiles
 * `EXPLAIN <sql>` (cached per SQL text until the schema or the attachments change).
 */
export type StatementGuard = (statement: StatementInfo, effects: () => ProgramEffects) => void;

/**
 * Pragmas that change the whole sql.js instance (every tenant of the process) or the file's
 * locking and journal, which every connection of the tenant relies on: refused for every caller
 * when given a value (reading them is harmless).
 */
const ENGINE_PRAGMAS = new Set([
  "hard_heap_limit",
  "soft_heap_limit",
  "threads",
  "temp_store_directory",
  "data_store_directory",
  "journal_mode",
  "locking_mode",
  "mmap_size",
]);

/** First words of transaction-control statements. */
export const TRANSACTION_WORDS: ReadonlySet<string> = new Set([
  "BEGIN",
  "COMMIT",
  "END",
  "ROLLBACK",
  "SAVEPOINT",
  "RELEASE",
]);

/** What `TenantDb.describe` reports about a statement. */
export interface StatementDescription {
  readonly params: readonly (string | null)[];
  readonly cols: readonly { readonly name: string; readonly decltype: string | null }[];
  readonly isExplain: boolean;
  readonly isReadonly: boolean;
}

/**
 * PRAGMAs that only read (`table_info`, `integrity_check`, `user_version` without a value…) are
 * read-only for dirtiness and the implicit read transaction, as `sqlite3_stmt_readonly` says.
 */
export function readOnlyPragma(info: StatementInfo): boolean {
  if (info.firstWord !== "PRAGMA") return false;
  const s = info.summary;
  const pragma = s?.readonly === true ? s.pragma : undefined;
  return (
    pragma !== undefined &&
    !/^(foreign_keys|journal_mode|locking_mode|query_only|wal_checkpoint)$/i.test(pragma.name)
  );
}

/**
 * Whether a statement that changes a schema or sets a pragma changes only its connection's own
 * state (a pragma that is no DDL, a TEMP object), not the file's schema.
 */
export function changesOwnStateOnly(info: StatementInfo): boolean {
  const summary = info.summary;
  return (
    summary !== undefined &&
    (info.firstWord === "PRAGMA"
      ? !summary.ddl
      : summary.temp || (summary.schemas.length > 0 && summary.schemas.every((x) => x === "temp")))
  );
}

/** Refuses ATTACH and DETACH as SQL: attachments are managed per logical connection. */
export function refuseRawAttach(firstWord: string): void {
  if (firstWord === "ATTACH" || firstWord === "DETACH") {
    // Attachments are managed per logical connection (Connection.attach), never by raw SQL.
    throw new TenantliteError(
      "ATTACH_INVALID",
      "ATTACH and DETACH run through a connection, which resolves database names",
    );
  }
}

/** Refuses a pragma that would change the whole engine or the file's journal for everyone. */
export function refuseEnginePragma(info: StatementInfo): void {
  const pragma = info.summary?.pragma ?? info.summary?.inner?.pragma;
  if (pragma === undefined || pragma.value === null) return;
  const name = pragma.name.toLowerCase();
  if (ENGINE_PRAGMAS.has(name)) {
    throw new TenantliteError(
      "PRAGMA_FORBIDDEN",
      `PRAGMA ${name} cannot be set: it changes every database of the engine (or the file's journal, which all connections share); settings of your own connection, such as foreign_keys or cache_size, can be`,
    );
  }
}

export function vacuumIntoRefused(): TenantliteError {
  return new TenantliteError(
    "VACUUM_INTO_FORBIDDEN",
    "VACUUM INTO is refused: it would write a new file into the engine's file system, which every database shares. To copy a database, export it (`tenantlite db export <db>`, platform.exportDatabase(name), GET /v1/organizations/local/databases/<db>/export); plain VACUUM works",
  );
}

/** Quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string for SQL (a literal). */
export function quoteLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * Of the schemas holding an object of one name (as `PRAGMA table_list` lists them: main first),
 * the one an unqualified name means to SQLite: TEMP, then main, then the attached ones in order.
 */
export function schemaSearchedFirst(schemas: readonly string[]): string | undefined {
  return schemas.includes("temp") ? "temp" : schemas.includes("main") ? "main" : schemas[0];
}

/** `SQL_MANY_STATEMENTS`: one statement was expected, and the text holds more. */
export function manyStatements(): TenantliteError {
  return new TenantliteError(
    "SQL_MANY_STATEMENTS",
    "SQL string contains more than one statement; use executeMultiple() or batch() for scripts",
  );
}

/** `ARGS_INVALID`: more positional arguments than the statement has parameters. */
export function tooManyArgs(expected: number, found: number): TenantliteError {
  return new TenantliteError(
    "ARGS_INVALID",
    `Arguments do not match SQL parameters: too many parameters, expected ${expected} found ${found}`,
  );
}

/** Whether SQL text holds anything but blanks, semicolons and comments. */
export function hasStatement(sql: string): boolean {
  const rest = sql.replace(/\s+|;|--[^\n]*(\n|$)|\/\*[\s\S]*?(\*\/|$)/g, "");
  return rest.length > 0;
}
