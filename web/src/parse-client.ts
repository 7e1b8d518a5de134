/**
 * The page's side of parse-worker.ts: the SQL parser runs in a worker of its own (the page keeps
 * no parser: it would double the page's bundle). Each call is one message and its answer.
 */

export type ParseRequest = { op: "parse"; script: string } | { op: "split"; script: string };

/** A statement that parsed: its text, offset in the script, and what it attaches or detaches. */
export interface ParsedPiece {
  readonly sql: string;
  readonly start: number;
  readonly attach?: { readonly alias: string; readonly target: string };
  readonly detach?: { readonly alias: string };
}

/** A syntax error, with the text of the statement it is in. */
export interface PieceError {
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly statementIndex: number;
  readonly sql: string;
}

export type ParseAnswer =
  | { op: "parse"; statements: ParsedPiece[]; errors: PieceError[] }
  | { op: "split"; statements: string[] };

let worker: Worker | undefined;
let next = 1;
const waiting = new Map<
  number,
  { resolve: (a: ParseAnswer) => void; reject: (e: Error) => void }
>();

function ask(req: ParseRequest): Promise<ParseAnswer> {
  if (worker === undefined) {
    const w = new Worker(new URL("parse-worker.js", document.baseURI));
    w.addEventListener("message", (e: MessageEvent) => {
      const data = e.data as
        | { id: number; ok: true; answer: ParseAnswer }
        | { id: number; ok: false; message: string };
      const p = waiting.get(data.id);
      if (p === undefined) return;
      waiting.delete(data.id);
      if (data.ok) p.resolve(data.answer);
      else p.reject(new Error(data.message));
    });
    w.addEventListener("error", (e) => {
      for (const p of waiting.values()) p.reject(new Error(`Parser worker failed: ${e.message}`));
      waiting.clear();
      worker = undefined;
    });
    worker = w;
  }
  const id = next++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker!.postMessage({ id, req });
  });
}

/** Parses `script`: its statements, or its syntax errors (none run when there is one). */
export async function parseScript(
  script: string,
): Promise<{ statements: ParsedPiece[]; errors: PieceError[] }> {
  const a = await ask({ op: "parse", script });
  if (a.op !== "parse") throw new Error("Parser worker answered the wrong request");
  return a;
}

/** The statements of `script`, split at top-level semicolons (no syntax check). */
export async function splitScript(script: string): Promise<string[]> {
  const a = await ask({ op: "split", script });
  if (a.op !== "split") throw new Error("Parser worker answered the wrong request");
  return a.statements;
}
