/**
 * Small HTTP helpers of the handler: JSON and text responses, CORS headers (sqld answers any
 * origin), and reading a request body with a size limit and a deadline so a huge or stalled
 * body costs the server nothing but one error response.
 */
import { TenantliteError } from "../errors.js";
import { decodeJsonText } from "./json-text.js";
import { statusOf } from "./status.js";

const CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, x-turso-encryption-key",
};

/**
 * What the handler needs of a request. A fetch `Request` is one; a listener may pass a lighter
 * object with `readBytes` (it reads the body itself, under the same limits) to skip web streams.
 */
export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  readonly body: ReadableStream<Uint8Array> | null;
  readBytes?(limits: BodyLimits): Promise<Uint8Array>;
  /**
   * The header lines as received, names and values alternating (Node's `rawHeaders`), when the
   * listener has them: a header the server reads as one value may not come twice.
   */
  readonly rawHeaders?: readonly string[];
  /**
   * Calls `f` when the client goes away before the answer (its statements are then stopped);
   * returns the function that stops watching. (Not an AbortSignal: one per request costs ~7 µs.)
   */
  readonly onGone?: (f: () => void) => () => void;
}

/** A response before it becomes a fetch `Response` (or is written by a listener directly). */
export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Text, nothing, or text produced as it is sent (a dump: its chunks, read as the client takes them). */
  readonly body: string | null | AsyncIterable<string>;
}

/** A fetch `Response` for a reply. */
export function toResponse(r: Reply): Response {
  const init = { status: r.status, headers: r.headers };
  if (r.body === null || typeof r.body === "string") return new Response(r.body, init);
  const chunks = r.body[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream<Uint8Array>({
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await chunks.return?.();
      },
    }),
    init,
  );
}

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "application/json", ...CORS, ...headers },
    body: JSON.stringify(body),
  };
}

/** A plain-text response. */
export function text(body: string, status = 200, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...CORS, ...headers },
    body,
  };
}

/** An empty response. */
export function empty(status: number): Reply {
  return { status, headers: { ...CORS }, body: null };
}

/** The answer to a CORS preflight. */
export function preflight(): Reply {
  return { status: 204, headers: { ...CORS, "access-control-max-age": "600" }, body: null };
}

/**
 * A whole-request failure on a database endpoint: `{message, code}` so `@libsql/client` shows
 * `CODE: message` (sqld sends only `{error}`, which the client cannot display), plus `error` for
 * sqld-aware tools.
 */
export function hranaFailure(e: unknown, report?: InternalErrorReport): Reply {
  const err = asCoded(e, report);
  return json({ message: err.detail, code: err.code, error: err.detail }, statusOf(err));
}

/** A Platform API failure: `{error, code}` as the Turso Platform API (and its client) expect. */
export function apiFailure(e: unknown, report?: InternalErrorReport): Reply {
  const err = asCoded(e, report);
  return json({ error: err.detail, code: err.code }, statusOf(err));
}

/**
 * Where a failure the client only sees as `INTERNAL_ERROR` goes, whole (stack, causes): the
 * server's log (see `ServerContext.internalError`).
 */
export type InternalErrorReport = (error: unknown) => void;

/** Whether `e` is a failure clients only see as `INTERNAL_ERROR` (a bug, an unexpected throw). */
export function isInternal(e: unknown): boolean {
  return !(e instanceof TenantliteError) || e.code === "INTERNAL_ERROR";
}

/**
 * Any thrown value as a coded error. An unexpected one (or one coded `INTERNAL_ERROR`) becomes a
 * bare 500 whose details — message, stack, paths — go to `report`, never to the client.
 */
export function asCoded(e: unknown, report?: InternalErrorReport): TenantliteError {
  if (!isInternal(e)) return e as TenantliteError;
  report?.(e);
  return new TenantliteError("INTERNAL_ERROR", "Internal server error", { cause: e });
}

/** `METHOD_NOT_ALLOWED`, naming the methods the path allows. */
export function methodNotAllowed(allowed: readonly string[]): TenantliteError {
  return new TenantliteError(
    "METHOD_NOT_ALLOWED",
    `Method not allowed: use ${allowed.join(" or ")}`,
  );
}

/** The first header a request sent more than once among those the server reads as one value. */
export function duplicatedHeader(rawHeaders: readonly string[] | undefined): string | undefined {
  if (rawHeaders === undefined) return undefined;
  const seen = new Set<string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!SINGLE_HEADERS.has(name)) continue;
    if (seen.has(name)) return name;
    seen.add(name);
  }
  return undefined;
}

/** Headers read as one value: two copies would leave which one counts to chance. */
const SINGLE_HEADERS = new Set([
  "host",
  "authorization",
  "content-length",
  "content-type",
  "x-turso-encryption-key",
]);

/** Limits on a request body. */
export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/**
 * Reads the body, refusing more than `maxBytes` (413, `BODY_TOO_LARGE`) and a body that has not
 * fully arrived after `timeoutMs` (408, `BODY_TIMEOUT`).
 */
export async function readBody(req: HttpRequest, limits: BodyLimits): Promise<Uint8Array> {
  if (req.readBytes !== undefined) return req.readBytes(limits);
  const declared = Number(req.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TenantliteError(
            "BODY_TIMEOUT",
            `The request body did not arrive within ${limits.timeoutMs} ms`,
          ),
        ),
      limits.timeoutMs,
    );
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      size += value.byteLength;
      if (size > limits.maxBytes) throw tooLarge(limits.maxBytes);
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    if (e instanceof TenantliteError) throw e;
    throw new TenantliteError("BODY_INVALID", "The request body could not be read", {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return out;
}

/** Reads and parses a JSON body whatever its content-type (the Platform API client sends text/plain). */
export async function readJson(req: HttpRequest, limits: BodyLimits): Promise<unknown> {
  const bytes = await readBody(req, limits);
  let textBody: string;
  try {
    textBody = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TenantliteError("JSON_INVALID", "The request body is not valid UTF-8");
  }
  if (textBody.trim() === "") return undefined;
  try {
    // A long body is decoded in slices: other requests are served meanwhile.
    return await decodeJsonText(textBody);
  } catch {
    // JSON.parse messages quote the input, which may hold parameter values: keep them out.
    throw new TenantliteError("JSON_INVALID", "The request body is not valid JSON");
  }
}

function tooLarge(max: number): TenantliteError {
  return new TenantliteError("BODY_TOO_LARGE", `The request body is larger than ${max} bytes`);
}
