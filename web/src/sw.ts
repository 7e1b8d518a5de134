/**
 * Service worker of the console: caches the app shell (page, bundle, the engine and parser
 * workers, styles, sql.js WASM) at install, then serves those from the cache, so the console starts with the network off.
 * The build replaces the version and file list; a new build is a new worker with a new cache.
 */
declare const __VERSION__: string;
declare const __SHELL__: string[];

// The project compiles with the DOM lib, which clashes with lib.webworker: declare what is used.
interface LifecycleEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEvent extends LifecycleEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (e: LifecycleEvent) => void): void;
  addEventListener(type: "fetch", listener: (e: FetchEvent) => void): void;
}

const sw = self as unknown as WorkerScope;
const CACHE = `tenantlite-console-${__VERSION__}`;
const scope = new URL(sw.registration.scope);
const shell = new Set(__SHELL__.map((f) => new URL(f, scope).pathname));

sw.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) =>
        cache.addAll(__SHELL__.map((f) => new Request(new URL(f, scope), { cache: "reload" }))),
      )
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith("tenantlite-console-") && k !== CACHE)
            .map((k) => caches.delete(k)),
        ),
      )
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== scope.origin) return;
  const path =
    url.pathname === scope.pathname ? new URL("index.html", scope).pathname : url.pathname;
  // Only the shell: Hrana, the Platform API and anything else on this origin go to the network.
  if (!shell.has(path) && !(request.mode === "navigate" && url.pathname === scope.pathname)) return;
  event.respondWith(
    caches
      .open(CACHE)
      .then((cache) => cache.match(path, { ignoreSearch: true }))
      .then((hit) => hit ?? fetch(request)),
  );
});
