// esbuild plugins of the console's page build (scripts/build-web.mjs). test/browser/web-build.test.ts
// checks what they leave out of the page.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The console's page (app.js) uses createBrowserPlatform in worker mode only: the library's
 * in-page engine (open-engine.ts, imported by tab-leader.ts for `mode: "page"`) is swapped for
 * page-engine-off.mjs, which rejects if ever called, so the page carries no engine. Only for
 * app.js: the engine worker bundles the real module.
 */
export const pageEngineOff = {
  name: "page-engine-off",
  setup(b) {
    b.onResolve({ filter: /^\.\/open-engine\.js$/ }, (a) =>
      /[\\/]src[\\/]browser[\\/]tab-leader\.ts$/.test(a.importer)
        ? { path: join(here, "page-engine-off.mjs") }
        : undefined,
    );
  },
};

/**
 * The page imports a few things from `tenantlite/browser` (createBrowserPlatform, the error
 * classes), whose entry re-exports the whole library. The library's own modules (src/, parser/)
 * only define things, so for the page they are marked free of side effects (what a
 * `"sideEffects": false` in a package.json says): one the page does not use is left out, with the
 * engine, sql.js's loader and the parser's grammar behind it.
 */
export const libraryPure = {
  name: "library-pure",
  setup(b) {
    b.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (a) => {
      if (!/[\\/](src|parser)[\\/]/.test(a.importer) || /node_modules/.test(a.importer)) {
        return undefined;
      }
      const path = join(dirname(a.importer), a.path.replace(/\.js$/, ".ts"));
      return existsSync(path) ? { path, sideEffects: false } : undefined;
    });
  },
};
