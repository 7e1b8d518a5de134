/**
 * The engine worker: a dedicated Worker that the leader tab starts. It opens the engine (see
 * open-engine.ts) and answers the leader tab's requests. Built to `dist/browser-worker.js` by
 * scripts/build.mjs.
 */
import type { EngineHost } from "./engine-host.js";
import { type EngineInit, openEngine } from "./open-engine.js";
import { type EngineRequest, encodeError, engineUnavailable } from "./rpc.js";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (e: MessageEvent) => void): void;
}

// Runs only as a worker (a page importing this module for its types does nothing).
const scope = globalThis as unknown as WorkerScope & { document?: unknown };
if (typeof scope.document === "undefined" && typeof scope.postMessage === "function") {
  let engine: Promise<EngineHost> | undefined;
  scope.addEventListener("message", (e: MessageEvent) => {
    const data = e.data as
      | EngineInit
      | { type: "req"; id: number; body: EngineRequest }
      | { type: "dropTab"; tabId: string }
      | { type: "close" };
    if (data?.type === "close") {
      // Waits for running saves, then answers; the leader tab terminates the worker after.
      void (engine ?? Promise.reject())
        .then((host) => host.close())
        .catch(() => undefined)
        .then(() => scope.postMessage({ type: "closed" }));
      return;
    }
    if (data?.type === "dropTab") {
      void engine?.then((host) => host.dropTab(data.tabId)).catch(() => undefined);
      return;
    }
    if (data?.type === "init") {
      engine ??= openEngine(data, (event) => scope.postMessage({ type: "event", event }));
      engine.then(
        () => scope.postMessage({ type: "ready" }),
        (err: unknown) =>
          scope.postMessage({ type: "failed", error: encodeError(engineUnavailable(err)) }),
      );
      return;
    }
    if (data?.type !== "req") return;
    const { id, body } = data;
    if (engine === undefined) {
      scope.postMessage({
        type: "res",
        id,
        answer: { ok: false, error: encodeError(engineUnavailable()) },
      });
      return;
    }
    engine
      .then(
        (host) => host.handle(body),
        (err: unknown) => ({ ok: false as const, error: encodeError(engineUnavailable(err)) }),
      )
      .then((answer) => {
        try {
          scope.postMessage({ type: "res", id, answer });
        } catch (err) {
          scope.postMessage({ type: "res", id, answer: { ok: false, error: encodeError(err) } });
        }
      });
  });
}
