/**
 * Registers how Node reads sql.js's WebAssembly (from node_modules), so that the engine
 * instantiates it itself, with the legacy extension functions' warning silenced (see
 * src/engine/loader.ts). Imported for its effect by every Node entry point.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { setWasmReader } from "../engine/loader.js";

setWasmReader(() => readFile(createRequire(import.meta.url).resolve("sql.js/dist/sql-wasm.wasm")));
