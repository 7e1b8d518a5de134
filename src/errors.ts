/**
 * Every code a {@link TenantliteError} carries, so callers can `switch` on `err.code` and the
 * compiler checks the cases. Grouped by where the error comes from; the server maps each code to
 * its HTTP status in one table (`src/server/status.ts`).
 */
export type ErrorCode =
  | SqliteErrorCode
  | StatementErrorCode
  | ConnectionErrorCode
  | CatalogErrorCode
  | AuthErrorCode
  | EncryptionErrorCode
  | MigrationErrorCode
  | StorageErrorCode
  | ServerErrorCode
  | CliErrorCode
  | RemoteErrorCode;

/** SQLite's primary result codes, as `@libsql/client` names them (see `SqliteError`). */
export type SqliteErrorCode =
  | "SQLITE_AUTH"
  | "SQLITE_BUSY"
  | "SQLITE_CANTOPEN"
  | "SQLITE_CONSTRAINT"
  | "SQLITE_CORRUPT"
  | "SQLITE_ERROR"
  | "SQLITE_FULL"
  | "SQLITE_INTERRUPT"
  | "SQLITE_IOERR"
  | "SQLITE_LOCKED"
  | "SQLITE_MISMATCH"
  | "SQLITE_MISUSE"
  | "SQLITE_NOMEM"
  | "SQLITE_NOTADB"
  | "SQLITE_RANGE"
  | "SQLITE_READONLY"
  | "SQLITE_TOOBIG";

/** A statement refused or failed before or around SQLite (parse, arguments, policy). */
export type StatementErrorCode =
  | "ARGS_BOTH_POSITIONAL_AND_NAMED"
  | "ARGS_INVALID"
  | "ATTACH_FORBIDDEN"
  | "ATTACH_INVALID"
  | "BLOCKED"
  | "DDL_FORBIDDEN"
  | "PRAGMA_FORBIDDEN"
  | "SQL_MANY_STATEMENTS"
  | "SQL_NO_STATEMENT"
  | "SQL_PARSE_ERROR"
  | "VACUUM_INTO_FORBIDDEN";

/** Connections, transactions and the engine that runs them. */
export type ConnectionErrorCode =
  | "CLIENT_CLOSED"
  | "DATABASE_CLOSED"
  | "DATABASE_CORRUPT"
  | "DATABASE_OPEN_FAILED"
  | "ENGINE_UNAVAILABLE"
  | "INTERNAL_ERROR"
  | "LEADER_CHANGED"
  | "QUERY_TIMEOUT"
  | "TOO_MANY_CONNECTIONS"
  | "TRANSACTION_ACTIVE"
  | "TRANSACTION_CLOSED"
  | "TRANSACTION_MODE_INVALID"
  | "TRANSACTION_TIMEOUT";

/** Databases and groups in the catalog. */
export type CatalogErrorCode =
  | "DATABASE_EXISTS"
  | "DATABASE_NOT_FOUND"
  | "DATABASE_PROTECTED"
  | "DATABASE_TOO_LARGE"
  | "GROUP_EXISTS"
  | "GROUP_IS_DEFAULT"
  | "GROUP_NOT_EMPTY"
  | "GROUP_NOT_FOUND"
  | "GROUP_PROTECTED"
  | "INVALID_SQLITE_FILE"
  | "NAME_INVALID"
  | "PLATFORM_CLOSED"
  | "SCHEMA_HAS_CHILDREN"
  | "SCHEMA_INVALID"
  | "SIZE_LIMIT_INVALID";

/** JWTs, API tokens and the permissions they grant. */
export type AuthErrorCode =
  | "API_TOKEN_EXISTS"
  | "AUTH_API_TOKEN_INVALID"
  | "AUTH_FORBIDDEN"
  | "AUTH_HEADER_MALFORMED"
  | "AUTH_HEADER_NOT_FOUND"
  | "AUTH_JWT_EXPIRED"
  | "AUTH_JWT_INVALID"
  | "AUTH_REQUIRED"
  | "AUTH_STATE_CORRUPT"
  | "INVALID_AUTHORIZATION"
  | "INVALID_EXPIRATION";

/** Per-tenant encryption at rest. */
export type EncryptionErrorCode =
  | "ENCRYPTION_CIPHER_UNSUPPORTED"
  | "ENCRYPTION_KEY_INVALID"
  | "ENCRYPTION_KEY_REQUIRED";

/** Schema migrations (a write to a schema parent) and their jobs. */
export type MigrationErrorCode =
  | "JOB_NOT_FOUND"
  | "MIGRATION_FAILED"
  | "MIGRATION_STAGE_CORRUPT"
  | "SCHEMA_MIGRATION_ERROR"
  | "SCHEMA_MIGRATION_PENDING";

/** Storage backends and the files they keep. */
export type StorageErrorCode =
  | "DATA_DIR_INVALID"
  | "DB_FILE_INVALID"
  | "DB_FILE_IN_USE"
  | "STORAGE_CLOSED"
  | "STORAGE_INVALID_ARGUMENT"
  | "STORAGE_INVALID_KEY"
  | "STORAGE_IO_FAILED"
  | "STORAGE_KEY_CONFLICT"
  | "STORAGE_LOCKED"
  | "STORAGE_WRITE_FAILED";

/** The HTTP server: requests, Hrana streams, the Platform API and the listener. */
export type ServerErrorCode =
  | "API_PATH_WITHOUT_VERSION"
  | "BAD_REQUEST"
  | "BATON_INVALID"
  | "BATON_REUSED"
  | "BODY_INVALID"
  | "BODY_TIMEOUT"
  | "BODY_TOO_LARGE"
  | "HEADER_DUPLICATED"
  | "HOST_INVALID"
  | "JSON_INVALID"
  | "METHOD_NOT_ALLOWED"
  | "NOT_FOUND"
  | "OPTION_UNSUPPORTED"
  | "PATH_INVALID"
  | "PORT_IN_USE"
  | "PORT_NOT_ALLOWED"
  | "PROTO_ERROR"
  | "RESPONSES_UNREAD"
  | "RESPONSE_TOO_LARGE"
  | "SEED_TIMESTAMP_UNSUPPORTED"
  | "SQL_NOT_FOUND"
  | "SQL_STORE_TOO_LARGE"
  | "SQL_STORE_TOO_MANY"
  | "STREAM_CLOSED"
  | "STREAM_EXPIRED"
  | "STREAM_LIMIT"
  | "URL_MISSING_SLASH";

/** The CLI and its clients of a remote server. */
export type CliErrorCode =
  | "CANCELLED"
  | "CONFIRMATION_REQUIRED"
  | "CONNECTION_CLOSED"
  | "FILE_EXISTS"
  | "FILE_NOT_FOUND"
  | "FILE_WRITE_FAILED"
  | "HRANA_ERROR"
  | "HTTP_BAD_RESPONSE"
  | "NOT_SUPPORTED"
  | "SERVER_UNREACHABLE"
  | "UNKNOWN_COMMAND"
  | "URL_TLS_MISMATCH";

/**
 * Codes the CLI passes on from a remote server: the Hrana codes a server puts on statement
 * errors (`SQL_INPUT_ERROR`, `SQLITE_UNKNOWN`), and `HTTP_<status>` when it answered without one.
 */
export type RemoteErrorCode = "SQL_INPUT_ERROR" | "SQLITE_UNKNOWN" | `HTTP_${number}`;

/** What a {@link TenantliteError} may carry besides its code and message. */
export interface TenantliteErrorOptions {
  cause?: unknown;
  rawCode?: number;
}

/**
 * One error class for everything tenantlite raises, with a stable string `code` that callers can
 * `switch` on. Shaped like `LibsqlError` from `@libsql/client` (`code`, `rawCode`, `message`
 * prefixed with the code, `cause` kept), so code written for libSQL handles tenantlite errors
 * unchanged.
 *
 * Messages say what was wrong and what is accepted; they never contain tokens, keys or statement
 * parameter values.
 *
 * @example
 * try { await db.execute("INSERT INTO t VALUES (1)"); }
 * catch (e) { if (e instanceof TenantliteError && e.code === "SQLITE_CONSTRAINT") … }
 */
export class TenantliteError extends Error {
  /** Stable machine-readable code, e.g. `SQLITE_CONSTRAINT`, `DATABASE_NOT_FOUND`. */
  readonly code: ErrorCode;
  /** Extended SQLite result code when the error came from SQLite (e.g. 1555). */
  readonly rawCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: TenantliteErrorOptions = {}) {
    super(
      `${code}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "TenantliteError";
    this.code = code;
    this.rawCode = options.rawCode;
  }

  /** The message without the `CODE: ` prefix. */
  get detail(): string {
    return this.message.slice(this.code.length + 2);
  }
}

/**
 * A failure inside `batch()`: carries the index of the statement that failed, like
 * `LibsqlBatchError.statementIndex`.
 */
export class TenantliteBatchError extends TenantliteError {
  /** Zero-based index of the failing statement in the batch the caller passed. */
  readonly statementIndex: number;
  /** SQLite's extended code when the statement failed in SQLite (e.g. `SQLITE_CONSTRAINT_FOREIGNKEY`). */
  readonly extendedCode: string | undefined;

  constructor(
    statementIndex: number,
    code: ErrorCode,
    message: string,
    options: TenantliteErrorOptions & { extendedCode?: string } = {},
  ) {
    super(code, message, options);
    this.name = "TenantliteBatchError";
    this.statementIndex = statementIndex;
    this.extendedCode = options.extendedCode;
  }
}

const MIGRATION_ERROR_PREFIX = "Schema migration error: ";

/**
 * A schema migration that failed (`SCHEMA_MIGRATION_ERROR`): on the parent's dry run, or on a
 * child's, naming the failing statement and child as fields (and in the message, as sqld does).
 */
export class MigrationError extends TenantliteError {
  /**
   * The failing statement, 1-based as sqld's "at step N"; 0 when the child's database could not
   * be opened for the migration; undefined when no statement is to blame.
   */
  readonly step: number | undefined;
  /** The child database whose run failed; undefined when the parent's dry run failed. */
  readonly child: string | undefined;

  constructor(detail: string, options: { step?: number; child?: string; cause?: unknown } = {}) {
    super(
      "SCHEMA_MIGRATION_ERROR",
      `${MIGRATION_ERROR_PREFIX}${detail}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = "MigrationError";
    this.step = options.step;
    this.child = options.child;
  }

  /** The error again from its `detail` (as it crossed a boundary, e.g. a worker's), with its fields. */
  static fromDetail(detail: string, fields: { step?: number; child?: string }): MigrationError {
    const reason = detail.startsWith(MIGRATION_ERROR_PREFIX)
      ? detail.slice(MIGRATION_ERROR_PREFIX.length)
      : detail;
    return new MigrationError(reason, fields);
  }
}

/** `PLATFORM_CLOSED`: the platform was closed. */
export function platformClosed(): TenantliteError {
  return new TenantliteError("PLATFORM_CLOSED", "The platform is closed");
}

/** True when `e` is a tenantlite error with the given code. */
export function hasCode(e: unknown, code: ErrorCode): boolean {
  return e instanceof TenantliteError && e.code === code;
}

/**
 * `GROUP_NOT_FOUND`: `group not found` (the Platform API's words, which the Turso API client
 * shows), with the name quoted when given.
 */
export function groupNotFound(name?: string): TenantliteError {
  return new TenantliteError(
    "GROUP_NOT_FOUND",
    name === undefined ? "group not found" : `group not found: ${JSON.stringify(name)}`,
  );
}

/**
 * `DATABASE_NOT_FOUND` for a database name or id, in sqld's words (`Namespace \`x\` doesn't
 * exist`, which `@libsql/client` shows), or `No database selected` without one; `hint` adds how
 * to fix it. The Platform API answers in its own words (`could not find database with name x:
 * record not found`), which the Turso API client shows: `{ platformApi: true }`.
 */
export function databaseNotFound(
  nameOrId: string | undefined,
  options: { hint?: string; platformApi?: boolean } = {},
): TenantliteError {
  const name = nameOrId?.slice(0, 80);
  const what =
    name === undefined
      ? "No database selected"
      : options.platformApi
        ? `could not find database with name ${name}: record not found`
        : `Namespace \`${name}\` doesn't exist`;
  return new TenantliteError(
    "DATABASE_NOT_FOUND",
    options.hint === undefined ? what : `${what}: ${options.hint}`,
  );
}
