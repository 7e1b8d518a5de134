// The storage conformance suite, unchanged, against IdbStorage on real IndexedDB in Chromium.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, type TestBrowser } from "./chromium.js";
import { type StaticServer, serveStatic } from "./static-server.js";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

describe("IdbStorage in Chromium", () => {
  let browser: TestBrowser;
  let server: StaticServer;

  beforeAll(async () => {
    const bundle = await build({
      entryPoints: [here("./page/conformance-page.ts")],
      bundle: true,
      write: false,
      format: "esm",
      target: "es2022",
      platform: "browser",
      alias: { vitest: here("./page/vitest-shim.ts") },
      logLevel: "error",
    });
    const js = bundle.outputFiles[0]!.text;
    server = await serveStatic(
      new Map([
        [
          "/",
          {
            body: '<!doctype html><meta charset="utf-8"><title>conformance</title><script type="module" src="/suite.js"></script>',
            type: "text/html; charset=utf-8",
          },
        ],
        ["/suite.js", { body: js, type: "text/javascript" }],
      ]),
    );
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("passes every case of the storage conformance suite on real IndexedDB", async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(
      () => window.conformanceResults !== undefined || window.conformanceError !== undefined,
      null,
      { timeout: 50_000 },
    );
    const { results, error } = await page.evaluate(() => ({
      results: window.conformanceResults ?? [],
      error: window.conformanceError,
    }));
    expect(error).toBeUndefined();
    expect(errors).toEqual([]);
    const failed = results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.error}`);
    expect(failed).toEqual([]);
    // 30 cases plus the reopen case (the suite only grows).
    expect(results.length).toBeGreaterThanOrEqual(31);
    expect(results.some((r) => r.name.endsWith("keeps data across close and reopen"))).toBe(true);
  });
});
