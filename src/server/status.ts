/**
 * The HTTP status of every error code, in one table at the server's edge: lower layers throw
 * codes only. A code not listed answers 400 (the client sent something the server refuses).
 */
import type { ErrorCode, TenantliteError } from "../errors.js";

const STATUS: Partial<Record<ErrorCode, number>> = {
  // 401: no credential, or a bad one.
  AUTH_API_TOKEN_INVALID: 401,
  AUTH_HEADER_MALFORMED: 401,
  AUTH_HEADER_NOT_FOUND: 401,
  AUTH_JWT_EXPIRED: 401,
  AUTH_JWT_INVALID: 401,
  // 403: a valid credential that does not allow this.
  ATTACH_FORBIDDEN: 403,
  AUTH_FORBIDDEN: 403,
  BLOCKED: 403,
  DDL_FORBIDDEN: 403,
  // 404
  API_PATH_WITHOUT_VERSION: 404,
  DATABASE_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  NOT_FOUND: 404,
  URL_MISSING_SLASH: 404,
  // 405, 408, 409, 413
  METHOD_NOT_ALLOWED: 405,
  BODY_TIMEOUT: 408,
  API_TOKEN_EXISTS: 409,
  DATABASE_EXISTS: 409,
  GROUP_EXISTS: 409,
  GROUP_IS_DEFAULT: 409,
  GROUP_NOT_EMPTY: 409,
  BODY_TOO_LARGE: 413,
  DATABASE_TOO_LARGE: 413,
  // 500: the server is at fault, or its stored state is damaged.
  AUTH_STATE_CORRUPT: 500,
  DATABASE_CORRUPT: 500,
  INTERNAL_ERROR: 500,
  MIGRATION_STAGE_CORRUPT: 500,
  STORAGE_IO_FAILED: 500,
  // 503: the server cannot serve this now (closing, saturated, a save failed); retry later.
  DATABASE_OPEN_FAILED: 503,
  ENGINE_UNAVAILABLE: 503,
  PLATFORM_CLOSED: 503,
  SQLITE_BUSY: 503,
  STORAGE_CLOSED: 503,
  STORAGE_WRITE_FAILED: 503,
  STREAM_LIMIT: 503,
  TOO_MANY_CONNECTIONS: 503,
};

/** The HTTP status the server answers with when `err` ends a whole request. */
export function statusOf(err: TenantliteError): number {
  return STATUS[err.code] ?? 400;
}
