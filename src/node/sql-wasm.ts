/**
 * Registers how Node reads sql.js's WebAssembly (from node_modules, or from the path or URL a
 * `locateFile` gives), so that the engine instantiates it itself, with the legacy extension
 * functions' warning silenced (see src/engine/loader.ts). Imported for its effect by every Node
 * entry point.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { setWasmReader } from "../engine/loader.js";

setWasmReader((where) =>
  where === undefined
    ? readFile(createRequire(import.meta.url).resolve("sql.js/dist/sql-wasm.wasm"))
    : /^[a-z][a-z\d+.-]+:/i.test(where) && !where.startsWith("file:")
      ? undefined // a URL the engine fetches
      : readFile(where.startsWith("file:") ? new URL(where) : where),
);
