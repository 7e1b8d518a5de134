/**
 * Loads sql.js once per process (sql.js memoizes `initSqlJs` itself: the first configuration
 * wins). In Node the WASM comes from node_modules; in browsers pass `locateFile` (or `wasmBinary`)
 * so the `.wasm` is fetched from where the app serves it.
 */
import initSqlJs from "sql.js";
import type { SqlJsModule } from "./sqljs-types.js";

/** Where sql.js finds its WebAssembly. */
export interface SqlJsConfig {
  /** Maps `sql-wasm.wasm` (or `sql-wasm-browser.wasm`) to a URL or path. */
  readonly locateFile?: (file: string) => string;
  /** The WASM bytes themselves, when the caller already has them. */
  readonly wasmBinary?: ArrayBuffer;
}

let loading: Promise<SqlJsModule> | undefined;

/** The process-wide sql.js module; later calls reuse the first load whatever their config. */
export function loadSqlJs(config: SqlJsConfig = {}): Promise<SqlJsModule> {
  loading ??= (initSqlJs as unknown as (c: SqlJsConfig) => Promise<SqlJsModule>)({
    ...(config.locateFile === undefined ? {} : { locateFile: config.locateFile }),
    ...(config.wasmBinary === undefined ? {} : { wasmBinary: config.wasmBinary }),
  }).catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}
