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
}

/** The handler and what a listener needs besides it. */
export interface ServerHandler {
  /** Answers one HTTP request. */
  fetch(req: Request): Promise<Response>;
  /** Answers one request without fetch's `Response` (what a listener writes directly). */
  handle(req: HttpRequest): Promise<Reply>;
  /**
   * Starts a Hrana WebSocket session for an upgrade request to `url` (with its `Host`) that
   * negotiated `protocol`; the listener feeds it frames with `receive` and calls `close`.
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
});

const SERVER_VERSION = "tenantlite 0.1.0 (Hrana 2/3 over HTTP and WebSocket, sqld-compatible)";

/** Creates the server handler for a platform. */
export async function createHandler(options: HandlerOptions): Promise<ServerHandler> {
  const tokens = options.tokens ?? (await TokenAuthority.open(options.platform.storage));
  const auth = options.auth ?? false;
  const apiToken = options.apiToken ?? (auth ? randomToken() : undefined);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const ctx = new ServerContext(options.platform, tokens, auth, limits, options.rootDatabase);
  const streams = new HttpStreams(ctx);
  const api = new PlatformApi(ctx, apiToken);
  const sessions = new Set<WsSession>();

  const handle = async (req: HttpRequest): Promise<Reply> => {
    try {
      if (req.method === "OPTIONS") return preflight();
      const url = new URL(req.url);
      const { database, path } = selectDatabase(url, req.headers.get("host"));
      if (!url.pathname.startsWith("/dev/") && PlatformApi.owns(path)) {
        return await api.handle(req, url, path);
      }
      return await databaseRoute(req, database, path);
    } catch (e) {
      return hranaFailure(e);
    }
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
    throw new TenantliteError("NOT_FOUND", "No such endpoint", { status: 404 });
  }

  function bodyLimits() {
    return { maxBytes: limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs };
  }

  return {
    fetch: async (req) => toResponse(await handle(req)),
    handle,
    openWebSocket(url, host, protocol, transport) {
      const { database } = selectDatabase(new URL(url, "http://localhost"), host, true);
      const session = new WsSession(ctx, database, protocol, {
        send: (t) => transport.send(t),
        close: (code, reason) => {
          sessions.delete(session);
          transport.close(code, reason);
        },
      });
      sessions.add(session);
      return session;
    },
    apiToken,
    tokens,
    get openStreams() {
      return streams.size;
    },
    close() {
      streams.close();
      for (const s of sessions) s.close();
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
        { status: 404 },
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
    throw new TenantliteError("NOT_FOUND", "Malformed database name in the path", {
      status: 404,
    });
  }
}

function methodNotAllowed(allowed: string): TenantliteError {
  return new TenantliteError("METHOD_NOT_ALLOWED", `Method not allowed: use ${allowed}`, {
    status: 405,
  });
}
