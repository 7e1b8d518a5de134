/**
 * The protocol between a tab and the origin's engine (in a worker, or in the leader tab's page):
 * requests by id, answered by a value or a coded error. Values go by structured clone, which
 * keeps bigint, ArrayBuffer, Uint8Array and Date; a `ResultSet`'s rows travel as arrays and are
 * rebuilt on arrival, because a cloned row would lose its index access.
 */

import { SqliteError } from "../engine/sqlite-errors.js";
import { type ResultSet, ResultSetImpl, RowFactory, type Value } from "../engine/values.js";
import {
  type ErrorCode,
  MigrationError,
  TenantliteBatchError,
  TenantliteError,
} from "../errors.js";
import type { MigrationProgress } from "../platform/migrations/jobs.js";
import type { ClientOptions, TransactionMode } from "../platform/types.js";

/** Options of a client that can cross to the engine (functions cannot). */
export type RemoteClientOptions = Pick<ClientOptions, "intMode" | "encryptionKey" | "authToken">;

/** Which client a statement runs on: the engine opens it on first sight of `key`. */
export interface ClientRef {
  readonly key: string;
  readonly name: string;
  readonly options: RemoteClientOptions;
}

/** Platform methods a tab may call on the engine. */
export const PLATFORM_METHODS = [
  "createDatabase",
  "getDatabase",
  "listDatabases",
  "updateConfig",
  "setSizeLimit",
  "deleteDatabase",
  "exportDatabase",
  "rotateEncryptionKey",
  "listMigrations",
  "getMigration",
  "checkSchemas",
  "createGroup",
  "getGroup",
  "updateGroup",
  "listGroups",
  "deleteGroup",
] as const;
export type PlatformMethod = (typeof PLATFORM_METHODS)[number];

/** One request to the engine. */
export type EngineRequest =
  | { readonly op: "platform"; readonly method: PlatformMethod; readonly args: unknown[] }
  | {
      readonly op: "client";
      readonly client: ClientRef;
      readonly method: "execute" | "batch" | "migrate" | "executeMultiple";
      readonly args: unknown[];
    }
  | { readonly op: "closeClient"; readonly key: string }
  | {
      readonly op: "conn";
      readonly conn: ClientRef;
      readonly method: "execute" | "batch" | "executeScript" | "describe" | "close";
      readonly args: unknown[];
    }
  | {
      readonly op: "migrate";
      readonly schema: string;
      readonly statements: unknown[];
      readonly wait: boolean;
    }
  | { readonly op: "migrationDone"; readonly schema: string; readonly jobId: number }
  | { readonly op: "begin"; readonly client: ClientRef; readonly mode: TransactionMode }
  | {
      readonly op: "tx";
      readonly tx: string;
      readonly method: "execute" | "batch" | "executeMultiple" | "commit" | "rollback" | "close";
      readonly args: unknown[];
    };

/** What the engine tells every tab unasked. */
export type EngineEvent = {
  readonly kind: "migrationProgress";
  readonly progress: MigrationProgress;
};

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

export type EngineAnswer =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: WireError };

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
  const rows = new RowFactory(w.columns);
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

export function decodeError(w: WireError): Error {
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

/** The leader changed while a request was with the old one: it may or may not have run. */
export function leaderChanged(): TenantliteError {
  return new TenantliteError(
    "LEADER_CHANGED",
    "The tab hosting the engine closed while this request was in flight; it may or may not have been applied (an interactive transaction is rolled back). Retry it",
  );
}

/** The engine could not start (worker script or WASM not found, IndexedDB unavailable). */
export function engineUnavailable(cause?: unknown): TenantliteError {
  return new TenantliteError(
    "ENGINE_UNAVAILABLE",
    "The database engine could not start (check workerUrl and wasmUrl)",
    cause === undefined ? {} : { cause },
  );
}

/** A value could not be sent to the engine (structured clone refused it). */
export function notSendable(cause?: unknown): TenantliteError {
  return new TenantliteError(
    "ARGS_INVALID",
    "An argument cannot be sent to the engine: use null, string, number, bigint, boolean, Uint8Array, ArrayBuffer or Date",
    cause === undefined ? {} : { cause },
  );
}
