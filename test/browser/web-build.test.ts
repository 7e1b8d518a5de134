// The browser bundle swaps lodash-es for web/build/lodash-lite.mjs, chevrotain's lexer module for
// a constant, its grammar checks for functions that throw, its message texts for one short text
// and its error-recovery trait for the little of it a parser without recovery calls
// (web/build/plugins.mjs). This checks the parser behaves identically with them: the same
// parse results and errors for the whole agreement corpus, plus broken inputs, with and without
// the substitutions.
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Metafile, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";
import { webPlugins } from "../../web/build/plugins.mjs";
import { useTempDirs } from "../helpers.js";
import { corpus } from "../parser/corpus.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = useTempDirs("tenantlite-web-build-", { scope: "file" })();

type ParserModule = typeof import("../../parser/index.js");

async function bundleParser(
  name: string,
  plugins: Plugin[],
): Promise<{ parser: ParserModule; inputs: string[] }> {
  const outfile = join(dir, `${name}.mjs`);
  const result = await build({
    entryPoints: [`${root}parser/index.ts`],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    plugins,
    logLevel: "error",
    metafile: true,
  });
  const parser = (await import(pathToFileURL(outfile).href)) as ParserModule;
  const output = Object.values((result.metafile as Metafile).outputs)[0];
  const inputs = Object.entries(output?.inputs ?? {}).filter(([, i]) => i.bytesInOutput > 0);
  return { parser, inputs: inputs.map(([path]) => path) };
}

describe("the browser build's substitutions", () => {
  it("give the parser the same results over the corpus and broken inputs, without lodash-es, chevrotain's lexer, its grammar checks, its message texts or its error recovery", async () => {
    const { parser: real, inputs: realInputs } = await bundleParser("real", []);
    const { parser: swapped, inputs: swappedInputs } = await bundleParser("lite", webPlugins);
    const dropped = (f: string) =>
      /lodash-es|lexer_public|regexp-to-ast|grammar[\\/]checks\.js|[\\/]errors_public\.js|[\\/]recoverable\.js/.test(
        f,
      );
    expect(realInputs.filter(dropped).length).toBeGreaterThan(3);
    expect(realInputs.some((f) => /[\\/]errors_public\.js/.test(f))).toBe(true);
    expect(realInputs.some((f) => /[\\/]recoverable\.js/.test(f))).toBe(true);
    expect(swappedInputs.filter(dropped)).toEqual([]);
    const inputs = corpus();
    expect(inputs.length).toBeGreaterThan(1000);
    const broken = inputs
      .slice(0, 400)
      .flatMap((s) => [s.slice(0, s.length >> 1), `${s} )`, `${s};;SELEC`]);
    let differences = 0;
    const examples: string[] = [];
    for (const sql of [...inputs, ...broken]) {
      const a = JSON.stringify(real.parse(sql));
      const b = JSON.stringify(swapped.parse(sql));
      if (a !== b) {
        differences++;
        if (examples.length < 3) examples.push(sql);
      }
    }
    expect(examples).toEqual([]);
    expect(differences).toBe(0);
    const script = inputs.slice(0, 200).join(";\n");
    expect(JSON.stringify(swapped.splitStatements(script))).toBe(
      JSON.stringify(real.splitStatements(script)),
    );
  });

  it("leave the engine out of the console's page (app.js ≤ 100,000 B) and in its engine worker", () => {
    const out = join(dir, "web");
    const metaFile = join(dir, "web-meta.json");
    execFileSync(
      process.execPath,
      ["scripts/build-web.mjs", "--quiet", "--out", out, "--meta", metaFile],
      {
        cwd: root,
      },
    );
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as Metafile;
    const inputsOf = (file: string) =>
      Object.entries(
        Object.entries(meta.outputs).find(([path]) => path.endsWith(`/${file}`))![1].inputs,
      )
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([path]) => path);
    const engine = (f: string) =>
      /sql\.js|chevrotain|src[\\/]engine[\\/]tenant-db|src[\\/]platform[\\/]platform\.ts|parser[\\/]grammar/.test(
        f,
      );
    const page = inputsOf("app.js");
    expect(page.some((f) => /src[\\/]browser[\\/]browser-platform\.ts/.test(f))).toBe(true);
    expect(page.filter(engine)).toEqual([]);
    expect(statSync(join(out, "app.js")).size).toBeLessThanOrEqual(100_000);
    const worker = inputsOf("engine-worker.js");
    expect(worker.filter(engine).length).toBeGreaterThanOrEqual(4);
    expect(inputsOf("parse-worker.js").some((f) => /chevrotain/.test(f))).toBe(true);
    const sw = readFileSync(join(out, "sw.js"), "utf8");
    for (const f of ["engine-worker.js", "parse-worker.js", "sql-wasm-browser.wasm"]) {
      expect(sw).toContain(f);
    }
  }, 120_000);
});
