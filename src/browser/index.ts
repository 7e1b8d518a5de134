/**
 * tenantlite for browsers: the neutral API plus IndexedDB storage. Tell sql.js where its WASM is
 * served with `sqlJs.locateFile`.
 *
 * @example
 * import { createPlatform, IdbStorage } from "tenantlite/browser";
 * const platform = await createPlatform({
 *   storage: new IdbStorage(),
 *   sqlJs: { locateFile: (f) => `/assets/${f}` },
 * });
 */
export * from "../index.js";
export { IdbStorage, type IdbStorageOptions } from "./idb-storage.js";
