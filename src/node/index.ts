/**
 * tenantlite for Node: the neutral API plus filesystem storage.
 *
 * @example
 * import { createPlatform, FsStorage } from "tenantlite/node";
 * const platform = await createPlatform({ storage: await FsStorage.open("./data") });
 */
export * from "../index.js";
export { FsStorage, type FsStorageOptions } from "./fs-storage.js";
export {
  type RunningServer,
  type StartServerOptions,
  startServer,
} from "./server.js";
