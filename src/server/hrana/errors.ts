/**
 * Maps tenantlite errors to the Hrana error codes and messages of the reference (§1.9a), so
 * `@libsql/client` users see what sqld would have told them.
 */
import { TenantliteError } from "../../errors.js";
import type { InternalErrorReport } from "../http.js";
import type { HranaError } from "./proto.js";

/** SQLite errors raised while preparing a statement: sqld reports them as SQL_INPUT_ERROR. */
const INPUT_ERRORS =
  /^(no such (table|column|function|index|view|collation sequence|module|savepoint)|ambiguous column name|table .* already exists|index .* already exists|view .* already exists|trigger .* already exists|.* has no column named|wrong number of arguments to function|misuse of (aggregate|window) function|table .* has \d+ columns but \d+ values were supplied|\d+ values for \d+ columns|no tables specified|too many columns|unknown database|cannot (create|drop|modify)|object name reserved for internal use|near .*: syntax error|duplicate column name|default value of column|ORDER BY term|GROUP BY term|.*may not be used|.*not allowed|Expression tree is too large|parser stack overflow|sub-select returns)/;

/**
 * The Hrana error for whatever a statement or request raised; an unexpected failure is only
 * `INTERNAL_ERROR` to the client, and goes whole to `report` (the server's log).
 */
export function toHranaError(e: unknown, report?: InternalErrorReport): HranaError {
  if (!(e instanceof TenantliteError) || e.code === "INTERNAL_ERROR") {
    if (e instanceof RangeError) return { code: "ARGS_INVALID", message: e.message };
    report?.(e);
    return { code: "INTERNAL_ERROR", message: "Internal server error" };
  }
  const detail = e.detail;
  switch (e.code) {
    case "SQL_PARSE_ERROR":
      return { code: e.code, message: `SQL string could not be parsed: ${detail}` };
    case "SQLITE_ERROR":
      if (INPUT_ERRORS.test(detail)) {
        return { code: "SQL_INPUT_ERROR", message: `SQL input error: ${detail}` };
      }
      return { code: "SQLITE_UNKNOWN", message: `SQLite error: ${detail}` };
    default:
      if (e.code.startsWith("SQLITE_")) {
        return { code: e.code, message: `SQLite error: ${detail}` };
      }
      return { code: e.code, message: detail };
  }
}
