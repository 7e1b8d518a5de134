/**
 * The server as a function: `(Request) => Promise<Response>`, with Hrana over HTTP, the Platform
 * API and the small probe endpoints, plus WebSocket sessions for a listener to drive. Neutral: no
 * sockets here (see `src/node/server.ts` for Node's listener), so tests call it with
 * `new Request(...)`. Every endpoint is listed in `routes.ts`; this file selects the database,
 * matches the route and answers failures in the shape of the endpoint's protocol.
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
import { ApiTokens, randomToken } from "../platform/auth/api-tokens.js";
import { TokenAuthority } from "../platform/auth/jwt.js";
import type { Platform } from "../platform/platform.js";
import { ServerContext, type ServerLimits } from "./context.js";
import { HttpStreams } from "./hrana/http-streams.js";
import { WsSession, type WsTransport } from "./hrana/ws-session.js";
import {
  apiFailure,
  duplicatedHeader,
  type HttpRequest,
  hranaFailure,
  methodNotAllowed,
  preflight,
  type Reply,
  toResponse,
} from "./http.js";
import { checkOrganization } from "./platform-api/organizations.js";
import { notFound } from "./platform-api/request.js";
import { authenticate } from "./platform-api/tokens.js";
import { type RequestContext, Router } from "./router.js";
import { ROUTES } from "./routes.js";

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
  /**
   * Tests only: over WebSocket, a statement `.close_ws` closes the socket and `.close_tcp` drops
   * its TCP connection, as the reference server of `@libsql/client`'s own suite does for its
   * network-error tests. Default false.
   */
  readonly hranaTestHooks?: boolean;
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
  maxBodyBytesInFlight: 64 * 1024 * 1024,
  bodyTimeoutMs: 10_000,
  maxStreams: 1000,
  streamIdleMs: 10_000,
  maxWsStreams: 1000,
  maxUnsentBytes: 16 * 1024 * 1024,
});

const ROUTER = new Router(ROUTES);

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
  const apiTokens = new ApiTokens(options.platform.storage, apiToken);
  const sessions = new Set<WsSession>();

  const handle = async (req: HttpRequest): Promise<Reply> => {
    let url: URL | undefined;
    try {
      const host = req.headers.get("host");
      checkHeaders(host, req.rawHeaders);
      url = requestUrl(req.url);
      if (req.method === "OPTIONS") return preflight();
      const { database, path } = selectDatabase(url, host);
      const c = { req, url, database, server: ctx, streams, apiTokens };
      if (!url.pathname.startsWith("/dev/") && isPlatformApiPath(path)) {
        return await answerPlatformApi(c, path);
      }
      return await answerDatabase(c, path);
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

  /** The database a request selected, for Hrana, jobs and probes; failures as `{message, code}`. */
  async function answerDatabase(c: RequestContext, path: string): Promise<Reply> {
    const segments = path === "/" ? [] : path.slice(1).split("/");
    const m = ROUTER.match("database", c.req.method, segments);
    if (m === undefined) throw new TenantliteError("NOT_FOUND", "No such endpoint");
    if (m.route === undefined) throw methodNotAllowed(m.allowed);
    return await m.route.handle({ ...c, params: m.params });
  }

  /**
   * The Platform API: its version prefix, then the API token (validation answers for any token),
   * then the organization; failures as `{error, code}`, as the Turso Platform API answers.
   */
  async function answerPlatformApi(c: RequestContext, path: string): Promise<Reply> {
    try {
      if (!/^\/v[12]\//.test(path)) {
        // `new URL("organizations/…", baseUrl)` drops a last segment without a trailing slash.
        throw new TenantliteError(
          "API_PATH_WITHOUT_VERSION",
          `Platform API paths start with /v1/: end the client's baseUrl with /v1/ (trailing slash included), e.g. baseUrl: "${c.url.origin}/v1/"`,
        );
      }
      await c.apiTokens.load();
      const segments = path
        .split("/")
        .filter((s) => s !== "")
        .map(decodeURIComponent);
      segments[0] = "v1"; // `/v2/` is served as `/v1/`
      const m = ROUTER.match("api", c.req.method, segments);
      const open = m !== undefined && (m.route === undefined ? m.public : m.route.public === true);
      if (!open) {
        await authenticate(c);
        checkOrganization(segments);
      }
      if (m === undefined) throw notFound();
      if (m.route === undefined) throw methodNotAllowed(m.allowed);
      return await m.route.handle({ ...c, params: m.params });
    } catch (e) {
      return apiFailure(e, c.server.internalError(`${c.req.method} ${path}`));
    }
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
      const session = new WsSession(
        ctx,
        database,
        protocol,
        transport,
        () => sessions.delete(session),
        options.hranaTestHooks === true,
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
 * Whether `path` belongs to the Platform API. Its paths without the version prefix
 * (`/organizations/…`: a client `baseUrl` without `/v1/`) are claimed too, to say so.
 */
export function isPlatformApiPath(path: string): boolean {
  return /^(\/v[12])?\/(organizations|auth|locations)(\/|$)/.test(path);
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
  const body = typeof reply.body === "string" ? reply.body : "";
  return `HTTP/1.1 ${reply.status} ${reply.status === 500 ? "Internal Server Error" : "Bad Request"}\r\ncontent-type: application/json\r\ncontent-length: ${new TextEncoder().encode(body).length}\r\nconnection: close\r\n\r\n${body}`;
}
