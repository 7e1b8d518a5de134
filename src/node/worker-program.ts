/**
 * The programs of Node's worker threads (migration-worker.ts, tenant-worker.ts): `<name>.js`
 * beside this module in the bundle (`dist/`), else `src/node/<name>.ts` bundled with esbuild (a
 * dev dependency) once per process, in memory — from sources (tests), or from a bundle made
 * elsewhere (scripts/run-ts.mjs: the sources are looked for above it, then in the working
 * directory). Undefined when neither is there.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A thread's program: a file to run, or (bundled from sources) its code, run with `eval`. */
export type WorkerProgram = { file: string } | { code: string };

/** Programs by name once found; null once one was not. */
const programs = new Map<string, WorkerProgram | null>();

/** The program `name` (see the module's comment). */
export function workerProgram(name: string): WorkerProgram | undefined {
  let program = programs.get(name);
  if (program === undefined) {
    try {
      program = locate(name) ?? null;
    } catch {
      program = null; // e.g. esbuild is not installed
    }
    programs.set(name, program);
  }
  return program ?? undefined;
}

function locate(name: string): WorkerProgram | undefined {
  const here = fileURLToPath(import.meta.url);
  const built = join(dirname(here), `${name}.js`);
  if (existsSync(built)) return { file: built };
  if (here.endsWith(".ts")) return bundle(join(dirname(here), `${name}.ts`));
  // A bundle made elsewhere: the sources above it, else in the working directory.
  for (let dir = dirname(here); ; dir = dirname(dir)) {
    const source = join(dir, "src", "node", `${name}.ts`);
    if (existsSync(source)) return bundle(source);
    if (dirname(dir) === dir) break;
  }
  const source = join(process.cwd(), "src", "node", `${name}.ts`);
  return existsSync(source) ? bundle(source) : undefined;
}

/** Bundles a program's source into one CommonJS script (sql.js required by path). */
function bundle(source: string): WorkerProgram {
  const require = createRequire(import.meta.url);
  const esbuild = require("esbuild") as typeof import("esbuild");
  const sqlJs = require.resolve("sql.js");
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [source],
    write: false,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["sql.js"],
    // sql-wasm.ts resolves sql.js's WASM from the module's own location.
    define: { "import.meta.url": JSON.stringify(pathToFileURL(source).href) },
    logLevel: "warning",
  });
  const code = outputFiles[0]!.text;
  const external = 'require("sql.js")';
  if (!code.includes(external)) throw new Error(`the bundle of ${source} does not load sql.js`);
  return { code: code.replaceAll(external, `require(${JSON.stringify(sqlJs)})`) };
}
