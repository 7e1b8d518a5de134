/**
 * Values and errors as they cross between threads (a tab and the origin's engine, the server and
 * its tenant threads): structured clone keeps bigint, ArrayBuffer, Uint8Array and Date, but not a
 * `ResultSet`'s index access on rows nor an error's class — both are rebuilt on arrival.
 */
import { SqliteError } from "../../engine/sqlite-errors.js";
import { type ResultSet, ResultSetImpl, RowFactory, type Value } from "../../engine/values.js";
import {
  type ErrorCode,
  MigrationError,
  TenantliteBatchError,
  TenantliteError,
} from "../../errors.js";

/** A coded error as it crosses the boundary. */
export interface WireError {
  readonly name: string;
  /** `RANGE` for a `RangeError`, which crosses as its class, not as a code. */
  readonly code: ErrorCode | "RANGE";
  /** The message without the `CODE: ` prefix. */
  readonly detail: string;
  readonly rawCode?: number;
  readonly extendedCode?: string;
  readonly statementIndex?: number;
  /** The failing statement of a script (`executeScript`), which is not a batch error. */
  readonly scriptIndex?: number;
  /** A {@link MigrationError}'s failing step and child. */
  readonly step?: number;
  readonly child?: string;
}

/** A `ResultSet` as it crosses the boundary. */
export interface WireResultSet {
  readonly kind: "resultSet";
  readonly columns: string[];
  readonly columnTypes: string[];
  readonly rows: Value[][];
  readonly rowsAffected: number;
  readonly lastInsertRowid: bigint | undefined;
}

export function encodeResultSet(rs: ResultSet): WireResultSet {
  return {
    kind: "resultSet",
    columns: rs.columns,
    columnTypes: rs.columnTypes,
    rows: rs.rows.map((row) => Array.from({ length: row.length }, (_, i) => row[i]!)),
    rowsAffected: rs.rowsAffected,
    lastInsertRowid: rs.lastInsertRowid,
  };
}

export function decodeResultSet(w: WireResultSet): ResultSet {
  const rows = RowFactory.for(w.columns);
  return new ResultSetImpl(
    w.columns,
    w.columnTypes,
    w.rows.map((values) => rows.make(values)),
    w.rowsAffected,
    w.lastInsertRowid,
  );
}

export function encodeError(e: unknown): WireError {
  if (e instanceof TenantliteError) {
    return {
      name: e.name,
      code: e.code,
      detail: e.detail,
      ...(e.rawCode === undefined ? {} : { rawCode: e.rawCode }),
      ...(e instanceof SqliteError && e.extendedCode !== undefined
        ? { extendedCode: e.extendedCode }
        : {}),
      ...(e instanceof TenantliteBatchError
        ? {
            statementIndex: e.statementIndex,
            ...(e.extendedCode === undefined ? {} : { extendedCode: e.extendedCode }),
          }
        : {}),
      ...(!(e instanceof TenantliteBatchError) && typeof scriptIndexOf(e) === "number"
        ? { scriptIndex: scriptIndexOf(e)! }
        : {}),
      ...(e instanceof MigrationError
        ? {
            ...(e.step === undefined ? {} : { step: e.step }),
            ...(e.child === undefined ? {} : { child: e.child }),
          }
        : {}),
    };
  }
  // @libsql/client raises RangeError for out-of-range integers; keep the class.
  if (e instanceof RangeError) return { name: "RangeError", code: "RANGE", detail: e.message };
  return { name: "TenantliteError", code: "INTERNAL_ERROR", detail: "The engine failed" };
}

/** The index a failing script statement's error carries (see `Connection.executeScript`). */
function scriptIndexOf(e: TenantliteError): number | undefined {
  const i = (e as { statementIndex?: unknown }).statementIndex;
  return typeof i === "number" ? i : undefined;
}

export function decodeError(w: WireError): Error {
  const e = decodeClass(w);
  if (w.scriptIndex !== undefined)
    (e as { statementIndex?: number }).statementIndex = w.scriptIndex;
  return e;
}

function decodeClass(w: WireError): Error {
  if (w.name === "RangeError" || w.code === "RANGE") return new RangeError(w.detail);
  const code = w.code;
  if (w.statementIndex !== undefined) {
    return new TenantliteBatchError(w.statementIndex, code, w.detail, {
      ...(w.rawCode === undefined ? {} : { rawCode: w.rawCode }),
      ...(w.extendedCode === undefined ? {} : { extendedCode: w.extendedCode }),
    });
  }
  if (w.name === "MigrationError") {
    return MigrationError.fromDetail(w.detail, {
      ...(w.step === undefined ? {} : { step: w.step }),
      ...(w.child === undefined ? {} : { child: w.child }),
    });
  }
  if (w.name === "SqliteError" && w.rawCode !== undefined) {
    return new SqliteError(code, w.detail, w.rawCode, w.extendedCode, undefined);
  }
  return new TenantliteError(code, w.detail, w.rawCode === undefined ? {} : { rawCode: w.rawCode });
}
