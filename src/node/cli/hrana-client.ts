/**
 * A minimal Hrana client for the CLI's remote mode (`@libsql/client` is only a dev dependency):
 * one stream over HTTP pipelines (baton kept between statements) or over a WebSocket (`hrana2`),
 * which keeps its connection — and so its ATTACHed databases — for as long as a shell runs.
 */
import WebSocket from "ws";
import { type ErrorCode, TenantliteError } from "../../errors.js";
import type { SqlSession } from "./backend.js";
import type { Cell, Rows } from "./output.js";

interface WireValue {
  type: string;
  value?: unknown;
  base64?: string;
}

interface WireResult {
  cols: { name: string | null }[];
  rows: WireValue[][];
  affected_row_count: number;
}

interface WireError {
  message?: string;
  code?: ErrorCode;
}

interface WireBatchResult {
  step_results: (WireResult | null)[];
  step_errors: (WireError | null)[];
}

/** Options of both session kinds. */
export interface HranaOptions {
  /**
   * The database's URL, ending with "/": e.g. `http://127.0.0.1:8080/dev/acme/`,
   * `http://acme.localhost:8080/` (requests go to `v2/pipeline` under it, the WebSocket to it).
   */
  readonly url: string;
  /** Database JWT, sent as `Authorization: Bearer` / in the WebSocket hello. */
  readonly jwt: string | undefined;
}

/** Opens a session over HTTP pipelines (one stream, baton carried between requests). */
export function openHttpSession(o: HranaOptions): SqlSession {
  const url = new URL("v2/pipeline", o.url);
  const server = url.origin;
  let baton: string | null = null;
  const send = async (requests: unknown[]): Promise<unknown[]> => {
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(o.jwt === undefined ? {} : { authorization: `Bearer ${o.jwt}` }),
        },
        body: JSON.stringify({ ...(baton === null ? {} : { baton }), requests }),
      });
    } catch (e) {
      throw unreachable(server, e);
    }
    const body = (await res.json().catch(() => undefined)) as
      | {
          baton?: string | null;
          results?: { type: string; response?: unknown; error?: WireError }[];
        }
      | (WireError & { error?: string })
      | undefined;
    if (!res.ok || body === undefined || !("results" in body) || body.results === undefined) {
      const b = body as (WireError & { error?: string }) | undefined;
      throw new TenantliteError(
        b?.code ?? "HRANA_ERROR",
        b?.message ?? b?.error ?? `the server answered ${res.status}`,
      );
    }
    baton = body.baton ?? null;
    return body.results.map((r) => {
      if (r.type === "error") throw wireError(r.error);
      return r.response;
    });
  };
  return {
    async execute(sql) {
      const [r] = await send([{ type: "execute", stmt: { sql, want_rows: true } }]);
      return decodeResult((r as { result: WireResult }).result);
    },
    async batch(statements) {
      const [r] = await send([{ type: "batch", batch: batchSteps(statements) }]);
      return decodeBatch((r as { result: WireBatchResult }).result, statements.length);
    },
    async close() {
      if (baton === null) return;
      await send([{ type: "close" }]).catch(() => undefined);
      baton = null;
    },
  };
}

/** Opens a session over a WebSocket (`hrana2`, one stream). */
export async function openWsSession(o: HranaOptions): Promise<SqlSession> {
  const url = new URL(o.url);
  const server = url.origin;
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url, ["hrana2"]);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  const failAll = (e: Error) => {
    failure ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  let helloOk: (() => void) | undefined;
  let helloFail: ((e: Error) => void) | undefined;
  const hello = new Promise<void>((resolve, reject) => {
    helloOk = resolve;
    helloFail = reject;
  });
  ws.on("message", (data) => {
    let msg: {
      type?: string;
      request_id?: number;
      response?: unknown;
      error?: WireError;
    };
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    if (msg.type === "hello_ok") helloOk?.();
    else if (msg.type === "hello_error") helloFail?.(wireError(msg.error));
    else if (msg.request_id !== undefined) {
      const p = pending.get(msg.request_id);
      if (p === undefined) return;
      pending.delete(msg.request_id);
      if (msg.type === "response_ok") p.resolve(msg.response);
      else p.reject(wireError(msg.error));
    }
  });
  ws.on("error", (e) => {
    const err = unreachable(server, e);
    helloFail?.(err);
    failAll(err);
  });
  ws.on("close", () => {
    const err = new TenantliteError("CONNECTION_CLOSED", "the server closed the connection");
    helloFail?.(err);
    failAll(err);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", (e) => reject(unreachable(server, e)));
  });
  ws.send(JSON.stringify({ type: "hello", ...(o.jwt === undefined ? {} : { jwt: o.jwt }) }));
  await hello;
  const request = (req: Record<string, unknown>): Promise<unknown> => {
    if (failure !== undefined) return Promise.reject(failure);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ type: "request", request_id: id, request: req }));
    });
  };
  await request({ type: "open_stream", stream_id: 1 });
  return {
    async execute(sql) {
      const r = await request({
        type: "execute",
        stream_id: 1,
        stmt: { sql, want_rows: true },
      });
      return decodeResult((r as { result: WireResult }).result);
    },
    async batch(statements) {
      const r = await request({ type: "batch", stream_id: 1, batch: batchSteps(statements) });
      return decodeBatch((r as { result: WireBatchResult }).result, statements.length);
    },
    async close() {
      await request({ type: "close_stream", stream_id: 1 }).catch(() => undefined);
      ws.close();
    },
  };
}

/** Steps like `@libsql/client`'s batch: BEGIN IMMEDIATE, statements, COMMIT; ROLLBACK on failure. */
function batchSteps(statements: readonly string[]) {
  const steps: unknown[] = [{ stmt: { sql: "BEGIN IMMEDIATE", want_rows: false } }];
  statements.forEach((sql, i) => {
    steps.push({ condition: { type: "ok", step: i }, stmt: { sql, want_rows: true } });
  });
  const n = statements.length;
  steps.push({ condition: { type: "ok", step: n }, stmt: { sql: "COMMIT", want_rows: false } });
  steps.push({
    condition: { type: "not", cond: { type: "ok", step: n + 1 } },
    stmt: { sql: "ROLLBACK", want_rows: false },
  });
  return { steps };
}

function decodeBatch(r: WireBatchResult, n: number): Rows[] {
  for (const e of r.step_errors) if (e !== null && e !== undefined) throw wireError(e);
  const out: Rows[] = [];
  for (let i = 1; i <= n; i++) {
    const s = r.step_results[i];
    if (s === null || s === undefined) {
      throw new TenantliteError("HRANA_ERROR", `statement ${i} of the batch did not run`);
    }
    out.push(decodeResult(s));
  }
  return out;
}

function decodeResult(r: WireResult): Rows {
  return {
    columns: r.cols.map((c) => c.name ?? ""),
    rows: r.rows.map((row) => row.map(decodeValue)),
    rowsAffected: r.affected_row_count,
  };
}

function decodeValue(v: WireValue): Cell {
  switch (v.type) {
    case "integer":
      return BigInt(String(v.value));
    case "float":
      return Number(v.value);
    case "text":
      return String(v.value);
    case "blob":
      return new Uint8Array(Buffer.from(v.base64 ?? "", "base64"));
    default:
      return null;
  }
}

function wireError(e: WireError | undefined): TenantliteError {
  const code = e?.code ?? "HRANA_ERROR";
  let message = e?.message ?? "the server reported an error";
  // The server's messages already start with the code; do not print it twice.
  if (message.startsWith(`${code}: `)) message = message.slice(code.length + 2);
  return new TenantliteError(code, message);
}

/** The server cannot be reached (message names the URL, never a token). */
export function unreachable(server: string, cause: unknown): TenantliteError {
  const detail = cause instanceof Error && cause.message ? ` (${cause.message})` : "";
  return new TenantliteError("SERVER_UNREACHABLE", `cannot reach ${server}${detail}`, { cause });
}
