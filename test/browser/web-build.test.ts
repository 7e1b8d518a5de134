// The console's build (scripts/build-web.mjs): the page carries no engine (web/build/plugins.mjs
// leaves it out), the engine worker carries the engine and the parser, and both stay within
// issue 18's budgets (app.js ≤ 100,000 B, engine-worker.js ≤ 250,000 B, minified, without WASM).
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = useTempDirs("tenantlite-web-build-", { scope: "file" })();

describe("the console's build", () => {
  it("leaves the engine out of the page (app.js ≤ 100,000 B) and puts it in the engine worker (≤ 250,000 B)", () => {
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
      /sql\.js|src[\\/]engine[\\/]tenant-db|src[\\/]platform[\\/]platform\.ts|parser[\\/]grammar/.test(
        f,
      );
    const page = inputsOf("app.js");
    expect(page.some((f) => /src[\\/]browser[\\/]browser-platform\.ts/.test(f))).toBe(true);
    expect(page.filter(engine)).toEqual([]);
    expect(statSync(join(out, "app.js")).size).toBeLessThanOrEqual(100_000);
    const worker = inputsOf("engine-worker.js");
    expect(worker.filter(engine).length).toBeGreaterThanOrEqual(4);
    expect(statSync(join(out, "engine-worker.js")).size).toBeLessThanOrEqual(250_000);
    expect(inputsOf("parse-worker.js").some((f) => /parser[\\/]grammar/.test(f))).toBe(true);
    const sw = readFileSync(join(out, "sw.js"), "utf8");
    for (const f of ["engine-worker.js", "parse-worker.js", "sql-wasm-browser.wasm"]) {
      expect(sw).toContain(f);
    }
  }, 120_000);
});
