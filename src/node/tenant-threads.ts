/**
 * Tenant threads on Node's worker_threads (see platform/threads/tenant-threads.ts): what
 * `startServer` and `tenantlite dev` run tenants on, and what `createPlatform` takes as its
 * `tenantThreads` option.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { TenantliteError } from "../errors.js";
import {
  DEFAULT_MAX_HELD_RESULT_BYTES,
  DEFAULT_MAX_THREAD_HEAP_BYTES,
  type TenantThreadsFactory,
  type ThreadHandle,
  type ThreadStarter,
  tenantThreadsFactory,
} from "../platform/threads/tenant-threads.js";
import { batchedPost, unbatch } from "./message-batch.js";
import type { TenantWorkerData } from "./tenant-worker.js";
import { workerProgram } from "./worker-program.js";

/** Default query time limit: 30 s. */
export const DEFAULT_MAX_QUERY_MS = 30_000;

/** Options of {@link tenantThreads}. */
export interface NodeTenantThreadsOptions {
  /** Threads (default: the machine's cores). */
  readonly threads?: number;
  /** A statement running longer is stopped with `QUERY_TIMEOUT` (default 30 s; 0: no limit). */
  readonly maxQueryMs?: number;
  /**
   * A thread whose sql.js heap grew past this many bytes (a query's big sort or blob: sql.js
   * never gives heap back) is started afresh once nothing of it is in use (default 512 MiB; 0:
   * never). Only with strict durability.
   */
  readonly maxThreadHeapBytes?: number;
  /**
   * Bytes of limited results (connections with `maxResultBytes`, as the server's streams) the
   * threads may hold at once, from reading them until the platform received them: a statement
   * that would pass it stops with `RESPONSE_TOO_LARGE` (default 32 MiB, sqld's
   * `max_total_response_size`; 0: no bound).
   */
  readonly maxHeldResultBytes?: number;
}

/**
 * Tenant threads for `createPlatform({ tenantThreads: tenantThreads() })`: connections then run
 * on worker threads, each with its own sql.js.
 */
export function tenantThreads(options: NodeTenantThreadsOptions = {}): TenantThreadsFactory {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new TenantliteError("ARGS_INVALID", "workers must be an integer from 1 to 64");
  }
  const maxQueryMs = options.maxQueryMs ?? DEFAULT_MAX_QUERY_MS;
  if (!Number.isInteger(maxQueryMs) || maxQueryMs < 0) {
    throw new TenantliteError(
      "ARGS_INVALID",
      "maxQueryMs must be a non-negative integer of milliseconds (0: no limit)",
    );
  }
  const maxThreadHeapBytes = options.maxThreadHeapBytes ?? DEFAULT_MAX_THREAD_HEAP_BYTES;
  if (!Number.isSafeInteger(maxThreadHeapBytes) || maxThreadHeapBytes < 0) {
    throw new TenantliteError(
      "ARGS_INVALID",
      "maxThreadHeapBytes must be a non-negative integer of bytes (0: never)",
    );
  }
  const maxHeldResultBytes = options.maxHeldResultBytes ?? DEFAULT_MAX_HELD_RESULT_BYTES;
  if (
    !Number.isInteger(maxHeldResultBytes) ||
    maxHeldResultBytes < 0 ||
    maxHeldResultBytes > 2 ** 30
  ) {
    throw new TenantliteError(
      "ARGS_INVALID",
      "maxHeldResultBytes must be an integer of bytes from 0 (no bound) to 1 GiB",
    );
  }
  return tenantThreadsFactory({
    starter: nodeStarter,
    threads,
    maxQueryMs,
    maxThreadHeapBytes,
    maxHeldResultBytes,
  });
}

const nodeStarter: ThreadStarter = {
  start(shared, options, onMessage, onExit): ThreadHandle {
    const program = workerProgram("tenant-worker");
    if (program === undefined) {
      throw new TenantliteError(
        "ENGINE_UNAVAILABLE",
        "The tenant thread's program (tenant-worker.js) is missing from this installation; reinstall tenantlite",
      );
    }
    const workerData: TenantWorkerData = { shared, options };
    const worker =
      "file" in program
        ? new Worker(program.file, { workerData })
        : new Worker(program.code, { eval: true, workerData });
    worker.on("message", unbatch(onMessage));
    worker.on("error", (e) => onExit(e));
    worker.on("exit", (code) => onExit(code === 0 ? undefined : new Error(`exit code ${code}`)));
    return {
      post: batchedPost((batch, transfer) => worker.postMessage(batch, transfer)),
      terminate: () => void worker.terminate(),
      keepAlive: (on) => (on ? worker.ref() : worker.unref()),
    };
  },
};
