/**
 * The protocol between a tab and the origin's engine (in a worker, or in the leader tab's page):
 * requests by id, answered by a value or a coded error. Values go by structured clone, which
 * keeps bigint, ArrayBuffer, Uint8Array and Date; a `ResultSet`'s rows travel as arrays and are
 * rebuilt on arrival, because a cloned row would lose its index access.
 */

import { TenantliteError } from "../errors.js";
import type { MigrationProgress } from "../platform/migrations/jobs.js";
import type { WireError } from "../platform/threads/wire.js";
import type { ClientOptions, TransactionMode } from "../platform/types.js";

export {
  decodeError,
  decodeResultSet,
  encodeError,
  encodeResultSet,
  type WireError,
  type WireResultSet,
} from "../platform/threads/wire.js";

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

export type EngineAnswer =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: WireError };

/** The leader changed while a request was with the old one: it may or may not have run. */
export function leaderChanged(): TenantliteError {
  return new TenantliteError(
    "LEADER_CHANGED",
    "The engine serving this request went away while it was in flight (its tab closed, or its worker failed and a new engine took over); it may or may not have been applied (an interactive transaction is rolled back). Retry it",
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

/** The engine's worker failed after it had started (the leader starts another one). */
export function engineFailed(): TenantliteError {
  return new TenantliteError(
    "ENGINE_UNAVAILABLE",
    "The database engine's worker failed while this request was in flight; it may or may not have been applied (an interactive transaction is rolled back). The tab starts a new engine unless its workers keep failing (3 times in a minute). Retry it",
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
