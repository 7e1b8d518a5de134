/**
 * The program of a tenant thread (see platform/threads/tenant-threads.ts): loads its own sql.js,
 * then serves the platform's requests with a `TenantHost`. Built as `dist/tenant-worker.js`
 * (scripts/build.mjs); from sources, bundled when first needed (worker-program.ts).
 */
import "./sql-wasm.js";
import { parentPort, workerData } from "node:worker_threads";
import { loadSqlJs } from "../engine/loader.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import type { FromThread, ToThread } from "../platform/threads/protocol.js";
import { type HostOptions, TenantHost } from "../platform/threads/tenant-host.js";
import { batchedPost, inOrder } from "./message-batch.js";

/** What the platform starts a tenant thread with. */
export interface TenantWorkerData {
  readonly shared: SharedArrayBuffer;
  readonly options: HostOptions;
}

const port = parentPort;
if (port !== null) {
  const { shared, options } = workerData as TenantWorkerData;
  const say = batchedPost<FromThread>((batch, transfer) => port.postMessage(batch, transfer));
  loadSqlJs().then(
    (sql) => {
      const host = new TenantHost(
        sql as unknown as SqlJsModule,
        { post: say },
        new Int32Array(shared),
        options,
      );
      port.on(
        "message",
        inOrder((m: ToThread) => host.receive(m), say.flush),
      );
      say({ t: "ready" });
    },
    (e: unknown) => say({ t: "failed", reason: String(e) }),
  );
}
