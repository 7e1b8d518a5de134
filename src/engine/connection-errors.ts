/**
 * The errors a logical connection (connection.ts) reports of its own: a damaged database named,
 * a closed or timed-out transaction, a batch statement's failure.
 */
import { TenantliteBatchError, TenantliteError } from "../errors.js";
import type { OpenTenant } from "./connection-policy.js";

/** A damaged page found while running a statement: say which database is damaged. */
export function nameCorruption(t: OpenTenant, e: unknown): unknown {
  if (e instanceof TenantliteError && (e.code === "SQLITE_CORRUPT" || e.code === "SQLITE_NOTADB")) {
    return new TenantliteError("DATABASE_CORRUPT", `database "${t.name}" is damaged: ${e.detail}`, {
      cause: e,
      ...(e.rawCode === undefined ? {} : { rawCode: e.rawCode }),
    });
  }
  return e;
}

/** A thrown value as an Error (anything else becomes INTERNAL_ERROR). */
export function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new TenantliteError("INTERNAL_ERROR", String(e));
}

/** A statement after the transaction it belonged to ended (ROLLBACK, OR ROLLBACK, a timeout). */
export function transactionClosed(): TenantliteError {
  return new TenantliteError(
    "TRANSACTION_CLOSED",
    "The transaction is closed: a statement (ROLLBACK, or a constraint with OR ROLLBACK) ended it, so later statements do not run",
  );
}

/** A statement after this connection's transaction timed out and was rolled back. */
export function timeoutError(): TenantliteError {
  return new TenantliteError(
    "TRANSACTION_TIMEOUT",
    "Transaction timed out: it was idle longer than the transaction timeout and was rolled back",
  );
}

/**
 * What a statement whose first word is `word` does on a connection whose transaction timed out:
 * `ROLLBACK` ends it quietly (`"quiet"`), `COMMIT`/`END` end it and fail with the timeout
 * (`"ends"`), anything else fails with it and leaves it to be ended (`"fails"`).
 */
export function afterTimeout(word: string): "quiet" | "ends" | "fails" {
  return word === "ROLLBACK" ? "quiet" : word === "COMMIT" || word === "END" ? "ends" : "fails";
}

/** A statement's failure as the failure of statement `index` of a batch (codes kept). */
export function toBatchError(index: number, e: unknown): Error {
  if (e instanceof TenantliteError) {
    const extended = (e as { extendedCode?: string }).extendedCode;
    return new TenantliteBatchError(index, e.code, e.detail, {
      cause: e,
      ...(e.rawCode === undefined ? {} : { rawCode: e.rawCode }),
      ...(extended === undefined ? {} : { extendedCode: extended }),
    });
  }
  return e as Error;
}
