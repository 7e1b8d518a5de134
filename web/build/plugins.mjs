// esbuild plugins of the browser build (scripts/build-web.mjs). test/browser/web-build.test.ts
// checks that the parser behaves identically with and without them.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * chevrotain 11 imports ~45 lodash-es functions; their shared machinery costs ~30 KB minified.
 * lodash-lite.mjs implements the same functions with the semantics chevrotain uses.
 */
export const lodashLite = {
  name: "lodash-lite",
  setup(b) {
    b.onResolve({ filter: /^lodash-es$/ }, () => ({ path: join(here, "lodash-lite.mjs") }));
  },
};

/**
 * chevrotain's parser imports its Lexer class only for the constant `Lexer.NA`; tenantlite has
 * its own tokenizer (parser/lexer.ts), so chevrotain-na.mjs supplies that constant and chevrotain's
 * lexer module, with the regular-expression analyser behind it (~35 KB minified), is marked free
 * of side effects and dropped as unused.
 */
export const chevrotainNa = {
  name: "chevrotain-na",
  setup(b) {
    b.onResolve({ filter: /lexer_public\.js$/ }, (a) =>
      /[\\/]chevrotain[\\/]lib[\\/]src[\\/].*(tokens_public|gast_recorder)\.js$/.test(a.importer)
        ? { path: join(here, "chevrotain-na.mjs") }
        : { path: join(dirname(a.importer), a.path), sideEffects: false },
    );
  },
};

/**
 * A plugin that swaps one of chevrotain's own modules (what `filter` matches, imported from inside
 * chevrotain) for a stand-in of ours in this directory, named like the plugin.
 */
function replaceChevrotainModule(name, filter) {
  return {
    name,
    setup(b) {
      b.onResolve({ filter }, (a) =>
        /[\\/]chevrotain[\\/]lib[\\/]src[\\/]/.test(a.importer)
          ? { path: join(here, `${name}.mjs`) }
          : undefined,
      );
    },
  };
}

/**
 * chevrotain validates a grammar only when a parser is built with validations on; tenantlite's
 * parser is validated in Node (test/parser) and skips them elsewhere. chevrotain-checks-off.mjs
 * replaces the checks module (~5 KB minified) with functions that throw if ever called.
 */
export const chevrotainChecksOff = replaceChevrotainModule("chevrotain-checks-off", /checks\.js$/);

/**
 * chevrotain builds long "Expecting one of these token sequences…" texts for syntax errors, and
 * grammar-problem texts for broken grammars; tenantlite uses neither (its errors come from the
 * token where parsing stopped). chevrotain-messages-off.mjs replaces errors_public.js (~4 KB
 * minified) with one short text and, for grammar problems, functions that throw if called.
 */
export const chevrotainMessagesOff = replaceChevrotainModule(
  "chevrotain-messages-off",
  /\/errors_public\.js$/,
);

/**
 * chevrotain's error recovery (re-syncing after a syntax error, inserting or deleting a token) is
 * off in tenantlite's parser: a syntax error ends the parse. chevrotain-recovery-off.mjs replaces
 * the recovery trait (~4 KB minified) with the three members chevrotain calls without recovery.
 */
export const chevrotainRecoveryOff = replaceChevrotainModule(
  "chevrotain-recovery-off",
  /\/recoverable\.js$/,
);

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

/** All five, in the order the build uses them. */
export const webPlugins = [
  lodashLite,
  chevrotainNa,
  chevrotainChecksOff,
  chevrotainMessagesOff,
  chevrotainRecoveryOff,
];
