/**
 * The program of a migration thread (see migration-threads.ts): loads sql.js, then runs the
 * batches of children's dry runs it is sent with the platform's own dry-run module, and answers
 * each batch in one message (the migrated images handed over, not copied).
 * Built as `dist/migration-worker.js` (scripts/build.mjs); from sources, bundled when first needed.
 */
import "./sql-wasm.js";
import { parentPort } from "node:worker_threads";
import { loadSqlJs } from "../engine/loader.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import { threadDryRun } from "../platform/migrations/dry-run.js";
import type { ThreadDryRun } from "../platform/migrations/jobs.js";

/** A batch of dry runs: one statement list for all its images. */
export interface WorkerBatch {
  readonly id: number;
  readonly images: Uint8Array[];
  readonly statements: readonly string[];
}

/** What a migration thread says: ready, could not load sql.js, or a batch's outcomes in order. */
export type WorkerMessage =
  | { ready: true }
  | { failed: string }
  | { id: number; results: ThreadDryRun[] };

const port = parentPort;
if (port !== null) {
  const say = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  loadSqlJs().then(
    (sql) => {
      port.on("message", ({ id, images, statements }: WorkerBatch) => {
        const results: ThreadDryRun[] = [];
        const transfer: ArrayBuffer[] = [];
        for (const image of images) {
          const r = threadDryRun(sql as unknown as SqlJsModule, image, statements);
          results.push(r);
          if ("image" in r) transfer.push(r.image.buffer as ArrayBuffer);
        }
        say({ id, results }, transfer);
      });
      say({ ready: true });
    },
    (e: unknown) => say({ failed: String(e) }),
  );
}
