/**
 * tenantlite for browsers: the neutral API plus IndexedDB storage, and `createBrowserPlatform()`,
 * which shares tenants between the origin's tabs through one engine in a worker (the way apps
 * should use it; see README "Tabs and the worker engine"). With `createPlatform` directly, tell
 * sql.js where its WASM is served with `sqlJs.locateFile` (and keep to one tab per origin).
 *
 * @example
 * import { createBrowserPlatform } from "tenantlite/browser";
 * const platform = await createBrowserPlatform({ workerUrl: "/browser-worker.js" });
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
  type ColumnDefinition,
  type ObjectRef,
  type ParsedStatement,
  type ParseError,
  type ParseOptions,
  type ParseResult,
  parse,
  type StatementKind,
  type StatementSummary,
  splitStatements,
  type TransactionEffect,
} from "../../parser/index.js";
export * from "../index.js";
export {
  BrowserPlatform,
  type BrowserPlatformOptions,
  createBrowserPlatform,
  type RemoteConnection,
} from "./browser-platform.js";
export { IdbStorage, type IdbStorageOptions } from "./idb-storage.js";
export type { EnginePlatformOptions } from "./open-engine.js";
export type { RemoteClientOptions } from "./rpc.js";
