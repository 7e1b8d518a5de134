/**
 * Loads sql.js once per process (sql.js memoizes `initSqlJs` itself: the first configuration
 * wins). In Node the WASM comes from node_modules; in browsers pass `locateFile` (or `wasmBinary`)
 * so the `.wasm` is fetched from where the app serves it.
 *
 * sql.js registers on every connection the old extension functions (`sqrt`, `floor`, `log`,
 * `power`, `pi`, `replicate`, `padl`, `median`…), which libSQL has too, with the same results; but
 * every call of one prints a deprecation warning with `console.warn`: a query of `floor(x)` over
 * 10,000 rows printed 10,000 lines and ran 10× slower. sql.js's `useOldExtensionFunctions: false`
 * would drop the functions (libSQL has them) and give SQLite's own where they exist, which differ
 * (`log` base 10, `ceil` a REAL). So the engine instantiates sql.js's WebAssembly itself, with the
 * warning's import made silent — when it can read the WASM: from `wasmBinary`, from `locateFile`
 * (fetched), or with the reader the Node entry points register (`setWasmReader`).
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

type WasmBytes = ArrayBuffer | Uint8Array;
type Imports = Record<string, Record<string, unknown>>;

let loading: Promise<SqlJsModule> | undefined;
/** Reads sql.js's WASM from `where` (a path or URL), or from where it is installed. */
type WasmReader = (where?: string) => Promise<WasmBytes> | undefined;

let reader: WasmReader | undefined;

/**
 * How this process reads sql.js's WASM: src/node registers one, which reads files and leaves
 * other URLs (`undefined`) to be fetched. Without a reader `locateFile` is fetched, and without
 * either sql.js loads it itself and its legacy functions warn.
 */
export function setWasmReader(read: WasmReader): void {
  reader = read;
}

/**
 * The process-wide sql.js module; later calls reuse the first load whatever their config (sql.js
 * memoizes its own, failed or not, so a failed load is not retried).
 */
export function loadSqlJs(config: SqlJsConfig = {}): Promise<SqlJsModule> {
  loading ??= initQuietly(config);
  return loading;
}

/** `initSqlJs` with the legacy functions' warning silenced where the WASM can be read. */
function initQuietly(config: SqlJsConfig): Promise<SqlJsModule> {
  const { locateFile, wasmBinary } = config;
  const file = locateFile && /"(sql-wasm[\w-]*\.wasm)"/.exec(String(initSqlJs))?.[1];
  const where = file ? locateFile!(file) : undefined;
  // A `locateFile` whose file name could not be read off sql.js leaves the loading to sql.js.
  const read = wasmBinary
    ? async () => wasmBinary
    : (reader || where) && !(locateFile && !file)
      ? () => reader?.(where) ?? fetch(where!).then((r) => r.arrayBuffer())
      : undefined;
  const init = initSqlJs as unknown as (c: object) => Promise<SqlJsModule>;
  if (!read) return init(config);
  // sql.js waits for `done` and has no way to hear a failure: the race brings it back.
  let failed!: (e: unknown) => void;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  const instantiateWasm = (imports: Imports, done: (i: WebAssembly.Instance) => void) => {
    for (const m of Object.values(imports)) {
      for (const k in m) if (String(m[k]).includes("legacy function")) m[k] = () => {};
    }
    read()
      .then((bytes) =>
        WebAssembly.instantiate(bytes as BufferSource, imports as WebAssembly.Imports),
      )
      .then((r) => done(r.instance))
      .catch(failed);
    return {};
  };
  return Promise.race([init({ instantiateWasm }), failure]);
}
