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

// The console and other browser tools split and check scripts before running them.
export {
  type ParseError,
  type ParseResult,
  parse,
  splitStatements,
} from "../../parser/index.js";
export * from "../index.js";
export { IdbStorage, type IdbStorageOptions } from "./idb-storage.js";
