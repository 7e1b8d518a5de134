// Stands in for the library's src/browser/open-engine.ts in the console's page bundle (app.js).
// createBrowserPlatform imports it only for `mode: "page"` (the engine on the tab's own thread);
// the console always runs the engine in its worker (engine-worker.js, built from
// src/browser/engine-worker.ts, which bundles the real module). Without this, app.js would carry
// the whole engine, sql.js's loader and the parser (~220 KB minified) that it never runs.
// Reaching it means someone asked the console's page for the in-page engine: it fails loudly.
export function openEngine() {
  return Promise.reject(
    new Error(
      'The console\'s page bundle has no in-page engine (mode "page"); it runs the engine in engine-worker.js',
    ),
  );
}
