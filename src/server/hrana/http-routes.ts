/**
 * Hrana over HTTP and the probes clients send before it: the handlers of the `database` routes in
 * `routes.ts`. A pipeline or cursor request opens a session on the selected database with the
 * request's JWT (and encryption key, if sent).
 */
import { type DumpValue, dumpDatabase } from "../../platform/dump.js";
import type { DatabaseSession } from "../context.js";
import { empty, json, type Reply, readJson, text } from "../http.js";
import { ENCRYPTION_KEY_HEADER, secretFromHeader } from "../remote-encryption.js";
import type { RouteContext } from "../router.js";
import { cursorRequestFrom, pipelineRequestFrom } from "./proto.js";

const SERVER_VERSION = "tenantlite 0.1.0 (Hrana 2/3 over HTTP and WebSocket, sqld-compatible)";

/** `POST /v2/pipeline`, `POST /v3/pipeline`. */
export async function pipeline(c: RouteContext): Promise<Reply> {
  const session = await openSession(c);
  const body = pipelineRequestFrom(await readJson(c.req, c.server.bodyLimits));
  return json(await c.streams.pipeline(session, body, c.req.onGone));
}

/** `POST /v3/cursor`. */
export async function cursor(c: RouteContext): Promise<Reply> {
  const session = await openSession(c);
  const body = cursorRequestFrom(await readJson(c.req, c.server.bodyLimits));
  return text(await c.streams.cursor(session, body, c.req.onGone));
}

/**
 * `GET /v2`, `GET /v3`: the probes `@libsql/client` sends to pick a Hrana version. No
 * `/v3-protobuf`: Hrana's protobuf encoding is not served, and a client that finds that probe
 * answered would send its pipelines there.
 */
export function hello(v: "v2" | "v3"): () => Reply {
  return () => text(`Hello, this is HTTP API ${v} (Hrana over HTTP)`);
}

/** `GET /health`. */
export function health(): Reply {
  return empty(200);
}

/** `GET /version`. */
export function version(): Reply {
  return text(SERVER_VERSION);
}

/**
 * `GET /dump`: SQL text that recreates the database (sqld's endpoint, which `turso db shell …
 * .dump` reads), with the request's token (read access suffices) and encryption key. Sent as it
 * is read, a page of rows at a time as the client takes them; what keeps the caller from reading
 * (no access, blocked reads, a wrong key) fails before any text, with its code.
 */
export async function dump(c: RouteContext): Promise<Reply> {
  const session = await openSession(c);
  // Read a page at a time, of any size: no result limit (a row may be larger than a response;
  // Hrana streams set theirs before each statement, see stream.ts).
  const conn = c.server.connect(session, session.access);
  const chunks = dumpDatabase(async (q) =>
    (await conn.execute(q, undefined, "bigint")).rows.map((r) => Array.from(r) as DumpValue[]),
  );
  let first: IteratorResult<string>;
  try {
    first = await chunks.next();
  } catch (e) {
    conn.close();
    throw e;
  }
  async function* body(): AsyncGenerator<string> {
    try {
      if (first.done) return;
      yield first.value;
      for await (const chunk of chunks) yield chunk;
    } finally {
      await chunks.return(undefined).catch(() => undefined); // its savepoint, when cut short
      conn.close();
    }
  }
  return { ...text(""), body: body() };
}

/** `GET /`: what this server serves, and where (a WebSocket upgrade on `/` never gets here). */
export function root(c: RouteContext): Reply {
  const root = c.server.rootDatabase;
  return text(
    `tenantlite: Hrana over HTTP at POST /v2/pipeline and WebSocket (hrana2/hrana3) on GET /, for ${root === undefined ? "the database selected with /dev/<db>/" : `database "${root}" here and any other at /dev/<db>/`}; Platform API under /v1/organizations/local/\n`,
  );
}

async function openSession(c: RouteContext): Promise<DatabaseSession> {
  return c.server.session(
    c.database,
    await c.server.permissionsFromHeader(c.req.headers.get("authorization")),
    secretFromHeader(c.req.headers.get(ENCRYPTION_KEY_HEADER)),
  );
}
