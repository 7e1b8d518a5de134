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
  readonly code: string;
  /** Extended SQLite result code when the error came from SQLite (e.g. 1555). */
  readonly rawCode: number | undefined;
  /** HTTP status the server answers with when this error ends a whole request. */
  readonly status: number;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; rawCode?: number; status?: number } = {},
  ) {
    super(
      `${code}: ${message}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "TenantliteError";
    this.code = code;
    this.rawCode = options.rawCode;
    this.status = options.status ?? statusForCode(code);
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
    code: string,
    message: string,
    options: { cause?: unknown; rawCode?: number; status?: number; extendedCode?: string } = {},
  ) {
    super(code, message, options);
    this.name = "TenantliteBatchError";
    this.statementIndex = statementIndex;
    this.extendedCode = options.extendedCode;
  }
}

const statusByCode: Record<string, number> = {
  DATABASE_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  NOT_FOUND: 404,
  URL_MISSING_SLASH: 404,
  DATABASE_EXISTS: 409,
  GROUP_EXISTS: 409,
  AUTH_JWT_INVALID: 401,
  AUTH_JWT_EXPIRED: 401,
  AUTH_HEADER_NOT_FOUND: 401,
  AUTH_FORBIDDEN: 403,
  ATTACH_FORBIDDEN: 403,
  DDL_FORBIDDEN: 403,
  BODY_TOO_LARGE: 413,
  METHOD_NOT_ALLOWED: 405,
  INTERNAL_ERROR: 500,
  STORAGE_IO_FAILED: 500,
  STORAGE_WRITE_FAILED: 500,
  DATABASE_CORRUPT: 500,
  SQLITE_BUSY: 503,
  // Platform API and group rules (issue 16, points 6 and 7).
  GROUP_NOT_EMPTY: 409,
  GROUP_IS_DEFAULT: 409,
  OPTION_UNSUPPORTED: 400,
  SIZE_LIMIT_INVALID: 400,
  SEED_TIMESTAMP_UNSUPPORTED: 400,
  ENCRYPTION_CIPHER_UNSUPPORTED: 400,
  API_PATH_WITHOUT_VERSION: 404,
  // The server's edges (issue 17): what a client sends that the server refuses before any work.
  HOST_INVALID: 400,
  PATH_INVALID: 400,
  HEADER_DUPLICATED: 400,
  VACUUM_INTO_FORBIDDEN: 400,
  /** WebSocket close reason, not an HTTP answer: the client left too many responses unread. */
  RESPONSES_UNREAD: 400,
};

function statusForCode(code: string): number {
  return statusByCode[code] ?? 400;
}

/** True when `e` is a tenantlite error with the given code. */
export function hasCode(e: unknown, code: string): boolean {
  return e instanceof TenantliteError && e.code === code;
}
