/**
 * The console's parser worker: splits and checks scripts with the library's SQL parser (~35 KB
 * minified) off the page, so the page's bundle stays small and a big
 * script never freezes it. Built to `parse-worker.js` by scripts/build-web.mjs; parse-client.ts
 * talks to it.
 */
import { parse, splitStatements } from "tenantlite/parser";
import type { ParseAnswer, ParseRequest } from "./parse-client.js";

interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (e: MessageEvent) => void): void;
}

const scope = globalThis as unknown as WorkerScope;

function answer(req: ParseRequest): ParseAnswer {
  if (req.op === "split") {
    return { op: "split", statements: splitStatements(req.script).map((s) => s.sql) };
  }
  const { errors, statements } = parse(req.script);
  if (errors.length > 0) {
    const split = splitStatements(req.script);
    return {
      op: "parse",
      errors: errors.map((e) => ({ ...e, sql: split[e.statementIndex]?.sql ?? "" })),
      statements: [],
    };
  }
  return {
    op: "parse",
    errors: [],
    statements: statements.map((s) => ({
      sql: s.sql,
      start: s.start,
      ...(s.summary.attach
        ? { attach: { alias: s.summary.attach.alias, target: s.summary.attach.target } }
        : {}),
      ...(s.summary.detach ? { detach: { alias: s.summary.detach.alias } } : {}),
    })),
  };
}

scope.addEventListener("message", (e: MessageEvent) => {
  const { id, req } = e.data as { id: number; req: ParseRequest };
  try {
    scope.postMessage({ id, ok: true, answer: answer(req) });
  } catch (err) {
    scope.postMessage({ id, ok: false, message: err instanceof Error ? err.message : String(err) });
  }
});
