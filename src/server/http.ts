/**
 * Small HTTP helpers of the handler: JSON and text responses, CORS headers (sqld answers any
 * origin), and reading a request body with a size limit and a deadline so a huge or stalled
 * body costs the server nothing but one error response.
 */
import { TenantliteError } from "../errors.js";

const CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type, x-turso-encryption-key",
};

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...CORS, ...headers },
  });
}

/** A plain-text response. */
export function text(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...CORS, ...headers },
  });
}

/** The answer to a CORS preflight. */
export function preflight(): Response {
  return new Response(null, { status: 204, headers: { ...CORS, "access-control-max-age": "600" } });
}

/**
 * A whole-request failure on a database endpoint: `{message, code}` so `@libsql/client` shows
 * `CODE: message` (sqld sends only `{error}`, which the client cannot display), plus `error` for
 * sqld-aware tools.
 */
export function hranaFailure(e: unknown): Response {
  const err = asCoded(e);
  return json({ message: err.detail, code: err.code, error: err.detail }, err.status);
}

/** A Platform API failure: `{error, code}` as the Turso Platform API (and its client) expect. */
export function apiFailure(e: unknown): Response {
  const err = asCoded(e);
  return json({ error: err.detail, code: err.code }, err.status);
}

/** Any thrown value as a coded error; unexpected ones become a bare 500 (details stay in logs). */
export function asCoded(e: unknown): TenantliteError {
  if (e instanceof TenantliteError) return e;
  return new TenantliteError("INTERNAL_ERROR", "Internal server error", { cause: e, status: 500 });
}

/** Limits on a request body. */
export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/**
 * Reads the body, refusing more than `maxBytes` (413, `BODY_TOO_LARGE`) and a body that has not
 * fully arrived after `timeoutMs` (408, `BODY_TIMEOUT`).
 */
export async function readBody(req: Request, limits: BodyLimits): Promise<Uint8Array> {
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
            { status: 408 },
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
      status: 400,
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
export async function readJson(req: Request, limits: BodyLimits): Promise<unknown> {
  const bytes = await readBody(req, limits);
  let textBody: string;
  try {
    textBody = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new TenantliteError("JSON_INVALID", "The request body is not valid UTF-8", {
      status: 400,
    });
  }
  if (textBody.trim() === "") return undefined;
  try {
    return JSON.parse(textBody);
  } catch {
    // JSON.parse messages quote the input, which may hold parameter values: keep them out.
    throw new TenantliteError("JSON_INVALID", "The request body is not valid JSON", {
      status: 400,
    });
  }
}

function tooLarge(max: number): TenantliteError {
  return new TenantliteError("BODY_TOO_LARGE", `The request body is larger than ${max} bytes`, {
    status: 413,
  });
}
