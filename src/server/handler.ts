/**
 * The server as a function: `(Request) => Promise<Response>`, with Hrana over HTTP, the Platform
 * API and the small probe endpoints, plus WebSocket sessions for a listener to drive. Neutral: no
 * sockets here (see `src/node/server.ts` for Node's listener), so tests call it with
 * `new Request(...)`.
 *
 * Databases are selected like sqld: the path prefix `/dev/<db>/` or the first label of `Host`
 * (`acme.localhost:8080` → `acme`). A request that selects none is for the root database, when
 * there is one (`turso dev` serves its one database at the root URL).
 *
 * @example
 * const server = await createHandler({ platform });
 * const res = await server.fetch(new Request("http://127.0.0.1/dev/acme/v2/pipeline", {
 *   method: "POST", body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "SELECT 1" } }] }),
 * }));
 */
import { TenantliteError } from "../errors.js";
import type { Platform } from "../platform/platform.js";
import { TokenAuthority } from "../platform/tokens.js";
import { ServerContext, type ServerLimits } from "./context.js";
import { HttpStreams } from "./hrana/http-streams.js";
import { cursorRequestFrom, pipelineRequestFrom } from "./hrana/proto.js";
import { WsSession, type WsTransport } from "./hrana/ws-session.js";
import {
  duplicatedHeader,
  empty,
  type HttpRequest,
  hranaFailure,
  json,
  preflight,
  type Reply,
  readJson,
  text,
  toResponse,
} from "./http.js";
import { PlatformApi, randomToken } from "./platform-api.js";
import { ENCRYPTION_KEY_HEADER, secretFromHeader } from "./remote-encryption.js";

/** Options of {@link createHandler}. */
export interface HandlerOptions {
  readonly platform: Platform;
  /** Require JWTs on database endpoints and an API token on the Platform API. Default false. */
  readonly auth?: boolean;
  /** The Platform API token. When auth is on and none is given, one is generated (see `apiToken`). */
  readonly apiToken?: string;
  /** Token authority; by default one kept in the platform's storage. */
  readonly tokens?: TokenAuthority;
  readonly limits?: Partial<ServerLimits>;
  /**
   * The database served to requests that select none (`http://127.0.0.1:8080`, as `turso dev`
   * serves its database). Without it such requests get `DATABASE_NOT_FOUND`.
   */
  readonly rootDatabase?: string;
  /**
   * The server's log, one call per entry: every `INTERNAL_ERROR` is written here with its stack
   * and causes (clients get the bare code). Default `console.error`.
   */
  readonly log?: (line: string) => void;
}

/** What a WebSocket upgrade request is, for {@link ServerHandler.checkWebSocket}. */
export interface UpgradeRequest {
  /** The request target (`/dev/acme/`, or a whole URL). */
  readonly url: string;
  /** The `Host` header, null when absent. */
  readonly host: string | null;
  /** The header lines as received, names and values alternating (Node's `rawHeaders`). */
  readonly rawHeaders?: readonly string[];
}

/** The handler and what a listener needs besides it. */
export interface ServerHandler {
  /** Answers one HTTP request. */
  fetch(req: Request): Promise<Response>;
  /** Answers one request without fetch's `Response` (what a listener writes directly). */
  handle(req: HttpRequest): Promise<Reply>;
  /**
   * Checks an upgrade request before the listener accepts it: a malformed `Host`
   * (`HOST_INVALID`), path (`PATH_INVALID`) or a header sent twice (`HEADER_DUPLICATED`) throws a
   * coded error to answer over HTTP (see {@link upgradeRefusal}).
   */
  checkWebSocket(req: UpgradeRequest): void;
  /**
   * Starts a Hrana WebSocket session for an upgrade request to `url` (with its `Host`) that
   * negotiated `protocol`; the listener feeds it frames with `receive` and calls `close`.
   * Throws what {@link checkWebSocket} throws.
   */
  openWebSocket(
    url: string,
    host: string | null,
    protocol: "hrana2" | "hrana3",
    transport: WsTransport,
  ): WsSession;
  /** The Platform API token (undefined when auth is off and none was given). */
  readonly apiToken: string | undefined;
  readonly tokens: TokenAuthority;
  /** HTTP streams open now. */
  readonly openStreams: number;
  /** WebSocket sessions open now. */
  readonly openSessions: number;
  /** Closes every stream and WebSocket session. */
  close(): void;
}

/** The default limits. */
export const DEFAULT_LIMITS: ServerLimits = Object.freeze({
  maxBodyBytes: 16 * 1024 * 1024,
  maxUploadBytes: 512 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
  maxStreams: 1000,
  streamIdleMs: 10_000,
  maxWsStreams: 1000,
  maxUnsentBytes: 16 * 1024 * 1024,
});

const SERVER_VERSION = "tenantlite 0.1.0 (Hrana 2/3 over HTTP and WebSocket, sqld-compatible)";

/** Creates the server handler for a platform. */
export async function createHandler(options: HandlerOptions): Promise<ServerHandler> {
  const tokens = options.tokens ?? (await TokenAuthority.open(options.platform.storage));
  const auth = options.auth ?? false;
  const apiToken = options.apiToken ?? (auth ? randomToken() : undefined);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const ctx = new ServerContext(
    options.platform,
    tokens,
    auth,
    limits,
    options.rootDatabase,
    options.log,
  );
  const streams = new HttpStreams(ctx);
  const api = new PlatformApi(ctx, apiToken);
  const sessions = new Set<WsSession>();

  const handle = async (req: HttpRequest): Promise<Reply> => {
    let url: URL | undefined;
    try {
      const host = req.headers.get("host");
      checkHeaders(host, req.rawHeaders);
      url = requestUrl(req.url);
      if (req.method === "OPTIONS") return preflight();
      const { database, path } = selectDatabase(url, host);
      if (!url.pathname.startsWith("/dev/") && PlatformApi.owns(path)) {
        return await api.handle(req, url, path);
      }
      return await databaseRoute(req, database, path);
    } catch (e) {
      return hranaFailure(
        e,
        ctx.internalError(`${req.method} ${url === undefined ? "(unparsed URL)" : url.pathname}`),
      );
    }
  };

  /** The database an upgrade request is for, or a coded refusal. */
  const webSocketDatabase = (req: UpgradeRequest): string | undefined => {
    checkHeaders(req.host, req.rawHeaders);
    const url = requestUrl(req.url.startsWith("/") ? `http://localhost${req.url}` : req.url);
    return selectDatabase(url, req.host, true).database;
  };

  async function databaseRoute(
    req: HttpRequest,
    database: string | undefined,
    path: string,
  ): Promise<Reply> {
    const m = req.method;
    switch (path) {
      case "/v2/pipeline":
      case "/v3/pipeline": {
        if (m !== "POST") throw methodNotAllowed("POST");
        const session = await ctx.session(
          database,
          await ctx.permissionsFromHeader(req.headers.get("authorization")),
          secretFromHeader(req.headers.get(ENCRYPTION_KEY_HEADER)),
        );
        const body = pipelineRequestFrom(await readJson(req, bodyLimits()));
        return json(await streams.pipeline(session, body));
      }
      case "/v3/cursor": {
        if (m !== "POST") throw methodNotAllowed("POST");
        const session = await ctx.session(
          database,
          await ctx.permissionsFromHeader(req.headers.get("authorization")),
          secretFromHeader(req.headers.get(ENCRYPTION_KEY_HEADER)),
        );
        const body = cursorRequestFrom(await readJson(req, bodyLimits()));
        return text(await streams.cursor(session, body));
      }
      // No "/v3-protobuf": Hrana's protobuf encoding is not served, and a client that finds
      // that probe answered would send its pipelines there.
      case "/v2":
      case "/v3": {
        if (m !== "GET") throw methodNotAllowed("GET");
        const v = path === "/v2" ? "v2" : "v3";
        return text(`Hello, this is HTTP API ${v} (Hrana over HTTP)`);
      }
      case "/health":
        if (m !== "GET") throw methodNotAllowed("GET");
        return empty(200);
      case "/version":
        if (m !== "GET") throw methodNotAllowed("GET");
        return text(SERVER_VERSION);
      case "/":
        if (m === "GET") {
          return text(
            `tenantlite: Hrana over HTTP at POST /v2/pipeline and WebSocket (hrana2/hrana3) on GET /, for ${ctx.rootDatabase === undefined ? "the database selected with /dev/<db>/" : `database "${ctx.rootDatabase}" here and any other at /dev/<db>/`}; Platform API under /v1/organizations/local/\n`,
          );
        }
        throw methodNotAllowed("GET");
    }
    const job = /^\/v1\/jobs(?:\/([^/]+))?$/.exec(path);
    if (job !== null) {
      if (m !== "GET") throw methodNotAllowed("GET");
      const session = await ctx.session(
        database,
        await ctx.permissionsFromHeader(req.headers.get("authorization")),
      );
      if (session.info.type !== "schema") return json({ error: "Invalid namespace" }, 400);
      if (job[1] === undefined) return json(await ctx.platform.listMigrations(session.info.name));
      const id = Number(job[1]);
      if (!Number.isSafeInteger(id) || id < 1) {
        return json({ error: "couldn't find requested migration job" }, 404);
      }
      const { job_id, status, error, progress } = await ctx.platform.getMigration(
        session.info.name,
        id,
      );
      return json({ job_id, status, ...(error === undefined ? {} : { error }), progress });
    }
    throw new TenantliteError("NOT_FOUND", "No such endpoint");
  }

  function bodyLimits() {
    return { maxBytes: limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs };
  }

  return {
    fetch: async (req) => toResponse(await handle(req)),
    handle,
    checkWebSocket(req) {
      webSocketDatabase(req);
    },
    openWebSocket(url, host, protocol, transport) {
      const database = webSocketDatabase({ url, host });
      // However it ends (the socket closed, a protocol error, shutdown), the session leaves the
      // set, so nothing of it outlives its socket.
      const session = new WsSession(ctx, database, protocol, transport, () =>
        sessions.delete(session),
      );
      sessions.add(session);
      return session;
    },
    apiToken,
    tokens,
    get openStreams() {
      return streams.size;
    },
    get openSessions() {
      return sessions.size;
    },
    close() {
      streams.close();
      for (const s of [...sessions]) s.close();
      sessions.clear();
    },
  };
}

/**
 * The database a request is for and the path within it: `/dev/<db>/rest` first, else the first
 * label of a `Host` that has several labels and is not an IP address.
 */
export function selectDatabase(
  url: URL,
  host: string | null,
  webSocket = false,
): { database: string | undefined; path: string } {
  const m = /^\/dev\/([^/]+)(\/.*)?$/.exec(url.pathname);
  if (m !== null) {
    // `/dev/acme` without its slash: clients resolve `v2/pipeline` against it to
    // `/dev/v2/pipeline`, so that shape, and the bare `/dev/<db>`, get the fix.
    const rest = m[2];
    if (rest === undefined && webSocket) return { database: decodeName(m[1]!), path: "/" };
    if (rest === undefined || (/^v[23]/.test(m[1]!) && /^\/(pipeline|cursor)$/.test(rest))) {
      throw new TenantliteError(
        "URL_MISSING_SLASH",
        "A database URL ends with a slash: use http://127.0.0.1:<port>/dev/<database>/ (without it, clients drop the database name from the path)",
      );
    }
    return { database: decodeName(m[1]!), path: rest };
  }
  const hostname = (host ?? url.host).replace(/:\d+$/, "").toLowerCase();
  const labels = hostname.split(".");
  const ip = /^[\d.]+$/.test(hostname) || hostname.startsWith("[");
  if (!ip && labels.length >= 2 && labels[0] !== "") {
    return { database: labels[0], path: url.pathname };
  }
  return { database: undefined, path: url.pathname };
}

function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw pathInvalid();
  }
}

/**
 * A `Host` a client may send: a name or IPv4 address (`acme.localhost`, `127.0.0.1`) or a
 * bracketed IPv6 address, with an optional port up to 65535.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?)(?::(\d{1,5}))?$/;

/**
 * Refuses what no request may carry: a malformed `Host` (`HOST_INVALID`; an absent one is fine,
 * HTTP/1.0 has none) and a header the server reads as one value sent twice (`HEADER_DUPLICATED`).
 */
export function checkHeaders(host: string | null, rawHeaders?: readonly string[]): void {
  const twice = duplicatedHeader(rawHeaders);
  if (twice !== undefined) {
    throw new TenantliteError(
      "HEADER_DUPLICATED",
      `The ${twice} header was sent more than once: send it once`,
    );
  }
  if (host === null) return;
  if (host === "") {
    throw new TenantliteError(
      "HOST_INVALID",
      "The Host header is missing or empty: send the server's host and port, e.g. 127.0.0.1:8080",
    );
  }
  const m = host.length <= 300 ? HOST.exec(host) : null;
  if (m === null || (m[1] !== undefined && Number(m[1]) > 65535)) {
    throw new TenantliteError(
      "HOST_INVALID",
      "The Host header is malformed: send a host name or address with an optional port from 0 to 65535, e.g. 127.0.0.1:8080 or acme.localhost:8080",
    );
  }
}

/** The request's URL, parsed; its path must be one whose %-escapes decode. */
export function requestUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw pathInvalid();
  }
  try {
    decodeURIComponent(url.pathname);
  } catch {
    throw pathInvalid();
  }
  return url;
}

function pathInvalid(): TenantliteError {
  return new TenantliteError(
    "PATH_INVALID",
    "The request path is malformed: a % must start an escape of UTF-8 (two hex digits each, as encodeURIComponent writes), and the path must start with /",
  );
}

/**
 * The HTTP answer refusing an upgrade request with a coded error (what
 * {@link ServerHandler.checkWebSocket} threw), for a listener to write to the socket.
 */
export function upgradeRefusal(e: unknown, report?: (e: unknown) => void): string {
  const reply = hranaFailure(e, report);
  const body = reply.body ?? "";
  return `HTTP/1.1 ${reply.status} ${reply.status === 500 ? "Internal Server Error" : "Bad Request"}\r\ncontent-type: application/json\r\ncontent-length: ${new TextEncoder().encode(body).length}\r\nconnection: close\r\n\r\n${body}`;
}

function methodNotAllowed(allowed: string): TenantliteError {
  return new TenantliteError("METHOD_NOT_ALLOWED", `Method not allowed: use ${allowed}`);
}
