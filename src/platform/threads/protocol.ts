/**
 * What the platform and its tenant threads say to each other (see tenant-threads.ts). The platform
 * sends a connection's requests with what the thread needs to run them (the tenant, the checks of
 * the caller's token as data); the thread asks the platform for what only it has: a tenant's
 * stored image, a save, an ATTACH target's placement, a schema parent's migration.
 */
import type { AttachRequest, BatchStatement } from "../../engine/connection-policy.js";
import type { InArgs, IntMode } from "../../engine/values.js";
import { TenantliteError } from "../../errors.js";
import type { GuardSpec } from "../access-guard.js";
import type { BatchStepSpec, StepsLimit } from "../batch-steps.js";
import type { WireError, WireResultSet } from "./wire.js";

/** A conditional batch step's outcome as it crosses: skipped (neither), its result, its error. */
export interface WireStepOutcome {
  readonly result?: WireResultSet;
  readonly error?: WireError;
  readonly ms?: number;
}

/** A tenant as a thread opens it. */
export interface TenantRef {
  readonly id: string;
  readonly name: string;
  readonly sizeLimit: number | undefined;
}

/** One request of a logical connection. */
export type ConnectionOp =
  | {
      readonly kind: "execute";
      readonly sql: string;
      readonly args: InArgs | undefined;
      readonly intMode: IntMode;
    }
  | {
      readonly kind: "batch";
      readonly statements: readonly BatchStatement[];
      readonly intMode: IntMode;
      readonly begin: string | undefined;
    }
  | {
      readonly kind: "steps";
      readonly steps: readonly BatchStepSpec[];
      readonly intMode: IntMode;
      readonly limit: StepsLimit;
      /** The index of the first of these steps in the batch (see `StepRunner`). */
      readonly from: number;
      /** Outcomes of earlier steps that these steps' conditions name, by index. */
      readonly before: readonly (readonly [number, boolean])[];
    }
  | { readonly kind: "script"; readonly sql: string }
  | { readonly kind: "describe"; readonly sql: string };

/** Platform → thread. */
export type ToThread =
  | {
      readonly t: "run";
      /** Numbers the thread's requests in the order sent (see {@link SHARED_SLOTS}). */
      readonly id: number;
      readonly conn: number;
      readonly tenant: TenantRef;
      /** The checks of the caller's token and the database's blocks; none when nothing is checked. */
      readonly guard: GuardSpec | undefined;
      /** A schema parent: its writes are migrations the platform runs. */
      readonly schema: boolean;
      readonly op: ConnectionOp;
      /** The connection's result limit (`ConnectOptions.maxResultBytes`), if it has one. */
      readonly maxResultBytes?: number;
    }
  | { readonly t: "close"; readonly conn: number }
  /**
   * Close the tenant here at once, keeping nothing: the platform placed it elsewhere while one
   * statement held this thread (what the thread had of it was saved already).
   */
  | { readonly t: "drop"; readonly tenant: string }
  /**
   * Give the tenant back: close it once no transaction holds it, then answer `released`; one
   * still held after `waitMs` stays (served as before) and the answer says why it was not given.
   */
  | { readonly t: "release"; readonly id: number; readonly tenant: string; readonly waitMs: number }
  /** The answer to a thread's {@link Call}. */
  | {
      readonly t: "answer";
      readonly id: number;
      readonly value?: unknown;
      readonly error?: WireError;
    };

/** Thread → platform. */
export type FromThread =
  | { readonly t: "ready" }
  | { readonly t: "failed"; readonly reason: string }
  | {
      readonly t: "done";
      readonly id: number;
      readonly value?: unknown;
      readonly error?: WireError;
      readonly inTransaction: boolean;
      /** The connection holds state a new one would not have (transaction, TEMP, attachments). */
      readonly stateful: boolean;
      /**
       * Calls (`save`, `reported`) of the commits this request made, posted before this answer:
       * the platform answers the request once they are done, with the first one's error if any.
       */
      readonly saves?: readonly number[];
      /** Bytes of the result pool its result holds (see result-pool.ts), if any. */
      readonly held?: number;
    }
  | { readonly t: "released"; readonly id: number; readonly error?: WireError }
  /** A connection's state changed between requests (its idle transaction timed out). */
  | {
      readonly t: "state";
      readonly conn: number;
      readonly inTransaction: boolean;
      readonly stateful: boolean;
    }
  | { readonly t: "call"; readonly id: number; readonly call: Call };

/** What a thread asks of the platform. */
export type Call =
  /** The tenant's image, to open it here (the platform places the tenant on this thread). */
  | { readonly kind: "load"; readonly conn: number; readonly tenant: string }
  /**
   * A commit's image, to save. `reported`: a request's commit, whose answer names this call in
   * its `saves`; the platform keeps the save's outcome for it.
   */
  | {
      readonly kind: "save";
      readonly tenant: string;
      readonly bytes: Uint8Array;
      readonly reported?: boolean;
    }
  /** Whether the connection may attach the target; answers the target, placed on this thread. */
  | {
      readonly kind: "attach";
      readonly conn: number;
      readonly self: string;
      readonly request: AttachRequest;
    }
  /** A schema parent's write, applied as a migration; answers the parent's results. */
  | {
      readonly kind: "migrate";
      readonly conn: number;
      readonly tenant: string;
      readonly statements: readonly BatchStatement[];
      readonly intMode: IntMode;
    };

/**
 * Slots of the memory a thread shares with the platform (an `Int32Array`), which the platform
 * reads while the thread is busy: a heartbeat the thread bumps while its event loop turns with
 * requests running, the last request it received, the request whose statement runs now, and
 * the size of its sql.js heap in MiB after its last answer.
 */
export const SHARED_SLOTS = { beat: 0, received: 1, running: 2, heapMiB: 3 } as const;
/**
 * After the slots, the requests that started (`startRequest`): request `id` writes its id at
 * `STARTED_AT + id % STARTED_RING` once something may change for it (a statement about to run,
 * an ATTACH, a migration; see tenant-host.ts). A request the thread received but had not started
 * when the thread ended (it waited behind another, or for its tenant to load) did nothing there,
 * and is sent again instead of failing.
 */
const STARTED_AT = 4;
const STARTED_RING = 1024;
export const SHARED_BYTES = (STARTED_AT + STARTED_RING) * 4;

/** Notes (on the thread) that request `id` may have run a statement from now on. */
export function startRequest(shared: Int32Array, id: number): void {
  Atomics.store(shared, STARTED_AT + (id % STARTED_RING), id);
}

/**
 * Whether request `id` may have run a statement (read by the platform while the thread is held,
 * or once it ended): never if the thread did not receive it. A later request that took the same
 * place in the ring leaves the answer at yes: unknown is treated as started, never sent twice.
 */
export function requestStarted(shared: Int32Array, id: number): boolean {
  if (id > Atomics.load(shared, SHARED_SLOTS.received)) return false;
  return Atomics.load(shared, STARTED_AT + (id % STARTED_RING)) >= id;
}

/** Forgets every request's start (a thread starting afresh numbers its requests from 1). */
export function clearStarted(shared: Int32Array): void {
  shared.fill(0, STARTED_AT);
}
/** How often a thread's heartbeat is bumped while requests run there. */
export const BEAT_MS = 50;

/** The request could not run on its thread, which ended before it started: send it again. */
export class Resend extends Error {}

/**
 * The thread a connection's state lived on ended (or its tenant moved); `running`: while this
 * request ran there, so whether it took effect is unknown (a COMMIT may have been saved).
 */
export function threadReset(name: string, running = false): TenantliteError {
  const when = running
    ? "while this request ran (its tenant thread was restarted): whether the request took effect is unknown, and"
    : "(its tenant thread was restarted, or the database moved to another thread):";
  return new TenantliteError(
    "TRANSACTION_CLOSED",
    `The connection to database "${name}" was reset ${when} its transaction, TEMP objects and settings are gone`,
  );
}
