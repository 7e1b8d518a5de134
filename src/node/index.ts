/**
 * tenantlite for Node: the neutral API plus filesystem storage.
 *
 * @example
 * import { createPlatform, FsStorage } from "tenantlite/node";
 * const storage = await FsStorage.open("./data"); // locks ./data for this process
 * const platform = await createPlatform({ storage });
 * // …
 * await platform.close();
 * await storage.close();
 */
import "./sql-wasm.js";

export * from "../index.js";
export { createPlatform } from "./create-platform.js";
export { FsStorage, type FsStorageOptions } from "./fs-storage.js";
export {
  createMigrationThreads,
  type MigrationThreadsOptions,
} from "./migration-threads.js";
export {
  type RunningServer,
  type StartServerOptions,
  startServer,
} from "./server.js";
export {
  DEFAULT_MAX_QUERY_MS,
  type NodeTenantThreadsOptions,
  tenantThreads,
} from "./tenant-threads.js";
