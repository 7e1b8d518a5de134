// The browser bundle swaps lodash-es for web/build/lodash-lite.mjs (see scripts/build-web.mjs).
// This checks the parser behaves identically with it: the same parse results and errors for the
// whole agreement corpus, plus broken inputs, with and without the substitution.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { corpus } from "../parser/corpus.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tenantlite-lodash-lite-"));

const lite: Plugin = {
  name: "lodash-lite",
  setup(b) {
    b.onResolve({ filter: /^lodash-es$/ }, () => ({ path: `${root}web/build/lodash-lite.mjs` }));
  },
};

type ParserModule = typeof import("../../parser/index.js");

async function bundleParser(name: string, plugins: Plugin[]): Promise<ParserModule> {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [`${root}parser/index.ts`],
    bundle: true,
    format: "esm",
    platform: "node",
    outfile,
    plugins,
    logLevel: "error",
  });
  return (await import(pathToFileURL(outfile).href)) as ParserModule;
}

describe("lodash-lite", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the parser the same results as lodash-es over the corpus and broken inputs", async () => {
    const real = await bundleParser("real", []);
    const swapped = await bundleParser("lite", [lite]);
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
});
