/**
 * `tenantlite` (the neutral entry) as Node loads it: the same API, with sql.js's WASM read by
 * the engine (see sql-wasm.ts), so that its legacy functions run without printing warnings.
 */
import "./sql-wasm.js";

export * from "../index.js";
