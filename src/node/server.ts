/**
 * Node's listener for the neutral handler (`src/server/handler.ts`): HTTP on `node:http`, Hrana
 * WebSocket upgrades through `ws`. It converts requests and responses and nothing more.
 *
 * @example
 * import { startServer } from "tenantlite/node";
 * const server = await startServer({ port: 0, memory: true });
 * const db = createClient({ url: `${server.url}/dev/acme/` });
 * await server.close();
 */
import "./sql-wasm.js";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { type WebSocket, WebSocketServer } from "ws";
import { hasCode, TenantliteError } from "../errors.js";
import type { Platform } from "../platform/platform.js";
import type { ServerLimits } from "../server/context.js";
import {
  createHandler,
  DEFAULT_LIMITS,
  type ServerHandler,
  upgradeRefusal,
} from "../server/handler.js";
import type { WsSession } from "../server/hrana/ws-session.js";
import type { BodyLimits, HttpRequest } from "../server/http.js";
import { keys } from "../storage/keyspace.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { Storage } from "../storage/storage.js";
import { BodyBudget, type BodyReservation, LARGE_BODY_BYTES } from "./body-budget.js";
import { createPlatform } from "./create-platform.js";
import { DbFileStorage } from "./db-file-storage.js";
import { FsStorage } from "./fs-storage.js";
import { listenError } from "./listen-error.js";
import { removeServerInfo, writeServerInfo } from "./server-info.js";
import { tenantThreads } from "./tenant-threads.js";

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Address to bind. Default `127.0.0.1`; anything but loopback requires `auth`. */
  readonly host?: string;
  /** Filesystem storage directory. Without it (or with `memory`), databases live in memory. */
  readonly dataDir?: string;
  /**
   * How errors name `dataDir` (default "the data directory"; `tenantlite dev` says "the
   * --data-dir you gave"): no error names its path.
   */
  readonly dataDirDescribedAs?: string;
  /** Keep everything in memory (no files). */
  readonly memory?: boolean;
  /** Require JWTs (database endpoints) and an API token (Platform API). Default false. */
  readonly auth?: boolean;
  /** The Platform API token (generated when auth is on and none is given). */
  readonly apiToken?: string;
  /** Serve this platform instead of creating one (it is not closed by `close()`). */
  readonly platform?: Platform;
  readonly limits?: Partial<ServerLimits>;
  /**
   * The database served at the root URL (`http://127.0.0.1:8080`, no `/dev/<db>/`), as `turso dev`
   * serves its one database there; created when missing. Default `"default"` when the server
   * creates its platform, none when it is given one; `false`: none.
   */
  readonly rootDatabase?: string | false;
  /**
   * `turso dev --db-file`: the root database is this SQLite file (created when missing; it stays
   * a standard SQLite file), and everything else lives in memory. Not with `dataDir` or `platform`.
   */
  readonly dbFile?: string;
  /**
   * The server's log (default stderr): what a client got wrong that the client can't be told,
   * and every `INTERNAL_ERROR` with its stack (the client gets the bare code).
   */
  readonly warn?: (line: string) => void;
  /**
   * Directory of the built browser console (`npm run build:web` → `web/dist`), served at `/` to
   * browsers (GET with `Accept: text/html`) with its assets. Default: `web/dist` next to the
   * package when it was built; `false` turns the console off.
   */
  readonly consoleDir?: string | false;
  /**
   * Tests only: serve the `.close_ws`/`.close_tcp` statements of `@libsql/client`'s own suite
   * (see `HandlerOptions.hranaTestHooks`). `tenantlite dev` turns it on when the environment has
   * `TENANTLITE_HRANA_TEST_HOOKS=1`. Default false.
   */
  readonly hranaTestHooks?: boolean;
  /**
   * Tenant threads of a platform the server creates: each has its own sql.js, and a tenant lives
   * on one at a time, so one tenant's statement never stalls another on another thread. Default:
   * the machine's cores; 0 runs every tenant on the server's own thread.
   */
  readonly workers?: number;
  /**
   * A statement running longer is stopped with `QUERY_TIMEOUT` (its thread restarts; needs
   * workers). Default 30 s; 0: no limit.
   */
  readonly maxQueryMs?: number;
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port` (no trailing slash). */
  readonly url: string;
  /** `ws://host:port`. */
  readonly wsUrl: string;
  readonly port: number;
  readonly host: string;
  /** The Platform API token, when auth is on. */
  readonly apiToken: string | undefined;
  /** The database served at the root URL, if any. */
  readonly rootDatabase: string | undefined;
  readonly platform: Platform;
  readonly handler: ServerHandler;
  /** Stops listening, closes connections, streams and (unless it was given) the platform. */
  close(): Promise<void>;
}

/** Whether `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const auth = options.auth ?? false;
  if (!isLoopback(host) && !auth) {
    throw new TenantliteError(
      "AUTH_REQUIRED",
      `Refusing to listen on non-loopback address ${host} without auth: pass --auth (auth: true)`,
    );
  }
  const port = options.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TenantliteError("ARGS_INVALID", "port must be an integer from 0 to 65535");
  }
  const ownPlatform = options.platform === undefined;
  const dbFile = options.dbFile === undefined ? undefined : resolve(options.dbFile);
  if (dbFile !== undefined) {
    if (!ownPlatform || options.dataDir !== undefined) {
      throw new TenantliteError(
        "ARGS_INVALID",
        "--db-file serves one SQLite file and keeps other databases in memory: leave out --data-dir",
      );
    }
    DbFileStorage.check(dbFile);
  }
  // A data directory the server opened is its own: closed (and unlocked) by `close()`.
  const ownStorage =
    dbFile !== undefined
      ? new DbFileStorage(new MemoryStorage())
      : ownPlatform && !options.memory && options.dataDir !== undefined
        ? await FsStorage.open(options.dataDir, {
            lockLabel: "tenantlite dev",
            ...(options.dataDirDescribedAs === undefined
              ? {}
              : { describedAs: options.dataDirDescribedAs }),
          })
        : undefined;
  if (options.workers === 0 && options.maxQueryMs !== undefined && options.maxQueryMs > 0) {
    throw new TenantliteError(
      "ARGS_INVALID",
      "maxQueryMs needs tenant threads (a statement is stopped by ending its thread): leave out workers: 0",
    );
  }
  const threads =
    !ownPlatform || options.workers === 0
      ? undefined
      : tenantThreads({
          ...(options.workers === undefined ? {} : { threads: options.workers }),
          ...(options.maxQueryMs === undefined ? {} : { maxQueryMs: options.maxQueryMs }),
        });
  const platform =
    options.platform ??
    (await createPlatform({
      ...(ownStorage === undefined ? {} : { storage: ownStorage }),
      ...(threads === undefined ? {} : { tenantThreads: threads }),
    }).catch(async (e: unknown) => {
      await ownStorage?.close();
      throw e;
    }));
  const rootDatabase =
    options.rootDatabase === false
      ? undefined
      : (options.rootDatabase ?? (ownPlatform ? "default" : undefined));
  if (rootDatabase !== undefined) {
    await openRootDatabase(platform, rootDatabase, dbFile, ownStorage).catch(async (e: unknown) => {
      if (ownPlatform) await platform.close();
      await ownStorage?.close();
      throw e;
    });
  }
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const handler = await createHandler({
    platform,
    ...(rootDatabase === undefined ? {} : { rootDatabase }),
    auth,
    ...(options.apiToken === undefined ? {} : { apiToken: options.apiToken }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    log: warn,
    hranaTestHooks: options.hranaTestHooks === true,
  });
  const limits = { ...DEFAULT_LIMITS, ...options.limits };

  const consoleFiles = loadConsole(options.consoleDir);
  const bodies = new BodyBudget(limits.maxBodyBytesInFlight);
  // A request without Host is answered by the handler (HOST_INVALID), not by Node's bare 400.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    if (consoleFiles !== undefined && serveConsole(consoleFiles, req, res)) return;
    serve(handler, req, res, bodies).catch((e: unknown) => {
      warn(
        `INTERNAL_ERROR while serving ${req.method} (listener): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end('{"message":"Internal server error","code":"INTERNAL_ERROR"}');
    });
  });
  // A TLS handshake on this plain-HTTP port (`https://`, or `libsql://` without `?tls=0`): the
  // client can only report "fetch failed", so the server says what to change.
  server.on("clientError", (err: Error & { rawPacket?: Buffer }, socket: Duplex) => {
    const raw = err.rawPacket;
    if (raw !== undefined && raw.length >= 3 && raw[0] === 0x16 && raw[1] === 0x03) {
      warn(
        `TLS_NOT_SUPPORTED: a client tried TLS on this plain-HTTP server: use http:// or ws:// URLs, or add ?tls=0 to a libsql:// URL (libsql://127.0.0.1:${(server.address() as AddressInfo | null)?.port ?? port}?tls=0)`,
      );
      socket.destroy();
      return;
    }
    if (!socket.destroyed) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 5_000;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxBodyBytes,
    handleProtocols: (protocols) => pickProtocol(protocols) ?? false,
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const offered = new Set(
      String(req.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((p) => p.trim()),
    );
    if (pickProtocol(offered) === undefined) {
      socket.end(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nOnly the hrana2 and hrana3 WebSocket subprotocols (JSON) are supported\n",
      );
      return;
    }
    const target = { url: req.url ?? "/", host: req.headers.host ?? null };
    try {
      handler.checkWebSocket({ ...target, rawHeaders: req.rawHeaders });
    } catch (e) {
      socket.end(
        upgradeRefusal(e, (x) =>
          warn(
            `INTERNAL_ERROR in an upgrade: ${x instanceof Error ? (x.stack ?? x.message) : String(x)}`,
          ),
        ),
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sayWhyTooLarge(ws, limits.maxBodyBytes);
      let session: WsSession;
      try {
        session = handler.openWebSocket(
          target.url,
          target.host,
          ws.protocol === "hrana3" ? "hrana3" : "hrana2",
          webSocketTransport(ws, () => session),
        );
      } catch (e) {
        ws.close(1008, e instanceof TenantliteError ? e.message.slice(0, 120) : "refused");
        return;
      }
      // The socket's large messages holding or waiting for room (given back if it closes first).
      const reserved = new Set<() => void>();
      ws.on("message", (data, isBinary) => {
        if (isBinary) {
          ws.close(1003, "hrana2/hrana3 over JSON use text frames");
          return;
        }
        const size = (data as Buffer).length;
        if (size <= LARGE_BODY_BYTES) {
          session.receive(data.toString());
          return;
        }
        // A large message waits for room among the large bodies being worked on (see
        // body-budget.ts); the session counts it meanwhile, and stops reading past its bound.
        const held = bodies.reserve(size);
        const release = () => {
          reserved.delete(release);
          held.release();
        };
        reserved.add(release);
        const text = () => held.ready.then(() => data.toString());
        session.receive({ size, text }, release);
      });
      ws.on("close", () => {
        for (const release of reserved) release();
        session.close();
      });
      ws.on("error", () => session.close());
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    // Port taken: release what this call opened (the data directory's lock included).
    handler.close();
    if (ownPlatform) await platform.close();
    await ownStorage?.close();
    throw listenError(e, host, port);
  }
  const address = server.address() as AddressInfo;
  // So that CLI commands on the directory find this server (instead of STORAGE_LOCKED).
  const dataDirRoot = ownStorage instanceof FsStorage ? ownStorage.root : undefined;
  if (dataDirRoot !== undefined) writeServerInfo(dataDirRoot, address, handler.apiToken);
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closed = false;
  return {
    url: `http://${shownHost}:${address.port}`,
    wsUrl: `ws://${shownHost}:${address.port}`,
    port: address.port,
    host: address.address,
    apiToken: handler.apiToken,
    rootDatabase,
    platform,
    handler,
    async close() {
      if (closed) return;
      closed = true;
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      handler.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (dataDirRoot !== undefined) removeServerInfo(dataDirRoot);
      if (ownPlatform) await platform.close();
      await ownStorage?.close();
    },
  };
}

/**
 * Makes sure the root database exists: created when missing, and with `--db-file` bound to that
 * file before its first open and opened once, so a file SQLite can't read fails at start.
 */
async function openRootDatabase(
  platform: Platform,
  name: string,
  dbFile: string | undefined,
  storage: Storage | undefined,
): Promise<void> {
  const info = await platform.getDatabase(name).catch((e: unknown) => {
    if (hasCode(e, "DATABASE_NOT_FOUND")) return platform.createDatabase(name);
    throw e;
  });
  if (dbFile === undefined) return;
  (storage as DbFileStorage).bind(keys.tenant(info.id), dbFile);
  const client = platform.client(name);
  try {
    await client.execute("SELECT count(*) FROM sqlite_schema");
  } catch (e) {
    throw new TenantliteError(
      "DB_FILE_INVALID",
      "--db-file could not be opened as a SQLite database: check it with `sqlite3 <file> 'PRAGMA integrity_check'`",
      { cause: e },
    );
  } finally {
    client.close();
  }
}

const CONSOLE_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  wasm: "application/wasm",
  svg: "image/svg+xml",
  png: "image/png",
  json: "application/json",
  webmanifest: "application/manifest+json",
};

/** The console's files (name → bytes and type), read once at start; undefined when not built. */
function loadConsole(
  dir: string | false | undefined,
): Map<string, { bytes: Buffer; type: string }> | undefined {
  if (dir === false) return undefined;
  const candidates =
    dir !== undefined
      ? [dir]
      : // From dist/ (npm start) and from src/node/ (tests running the sources).
        [new URL("../web/dist/", import.meta.url), new URL("../../web/dist/", import.meta.url)].map(
          (u) => fileURLToPath(u),
        );
  const found = candidates.find((d) => existsSync(`${d}/index.html`));
  if (found === undefined) return undefined;
  const files = new Map<string, { bytes: Buffer; type: string }>();
  for (const name of [
    "index.html",
    "app.js",
    "engine-worker.js",
    "parse-worker.js",
    "app.css",
    "sw.js",
    "sql-wasm-browser.wasm",
    "icon.svg",
  ]) {
    const path = `${found}/${name}`;
    if (!existsSync(path)) continue;
    const ext = name.slice(name.lastIndexOf(".") + 1);
    files.set(name, {
      bytes: readFileSync(path),
      type: CONSOLE_TYPES[ext] ?? "application/octet-stream",
    });
  }
  return files;
}

/**
 * Answers GET/HEAD for the console: `/` only when a browser asks for a page (Accept: text/html;
 * Hrana's GET / and WebSocket upgrades are left alone), `/index.html` and the assets by name.
 * Returns false when the request is not the console's.
 */
function serveConsole(
  files: Map<string, { bytes: Buffer; type: string }>,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = (req.url ?? "/").split("?")[0]!;
  let name: string;
  if (path === "/") {
    if (req.headers.upgrade !== undefined) return false;
    if (!String(req.headers.accept ?? "").includes("text/html")) return false;
    name = "index.html";
  } else name = path.slice(1);
  const file = files.get(name);
  if (file === undefined) return false;
  res.writeHead(200, {
    "content-type": file.type,
    "content-length": file.bytes.length,
    // Always revalidate: the service worker keeps the offline copy, and a new build shows at once.
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : file.bytes);
  return true;
}

/** How long a socket the server closes may take to finish the close handshake before it is cut. */
const CLOSE_GRACE_MS = 3000;

/**
 * A session's transport on a `ws` socket: sends report back when written (reading resumes as
 * the client catches up), and a close by the server resumes reading (to receive the client's
 * close frame) and cuts the socket if the handshake has not finished in `CLOSE_GRACE_MS` — a
 * client that reads nothing never answers, and its unsent buffer is freed then.
 */
function webSocketTransport(ws: WebSocket, session: () => WsSession) {
  const flushed = () => session().flushed();
  return {
    send(text: string) {
      if (ws.readyState === ws.OPEN) ws.send(text, flushed);
    },
    close(code: number, reason: string) {
      ws.resume();
      ws.close(code, reason);
      setTimeout(() => {
        if (ws.readyState !== ws.CLOSED) ws.terminate();
      }, CLOSE_GRACE_MS).unref();
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    destroy: () => ws.terminate(),
  };
}

function pickProtocol(protocols: Set<string>): string | undefined {
  if (protocols.has("hrana3")) return "hrana3";
  if (protocols.has("hrana2")) return "hrana2";
  return undefined;
}

async function serve(
  handler: ServerHandler,
  req: IncomingMessage,
  res: ServerResponse,
  bodies: BodyBudget,
) {
  const host = req.headers.host ?? "localhost";
  const target = req.url ?? "/";
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  let unread = hasBody;
  let held: BodyReservation | undefined;
  const request: HttpRequest = {
    onGone(f) {
      const gone = () => {
        if (!res.writableFinished) f();
      };
      res.once("close", gone);
      return () => res.off("close", gone);
    },
    method: req.method ?? "GET",
    // The handler checks `Host` before it parses this; another request target than a path
    // (`*`, a whole URL) is parsed as it is.
    url: target.startsWith("/") ? `http://${host}${target}` : target,
    rawHeaders: req.rawHeaders,
    headers: {
      get(name: string): string | null {
        const key = name.toLowerCase();
        const v = req.headers[key];
        // HTTP/1.1 requires Host: its absence is an empty one (HTTP/1.0 may leave it out).
        if (v === undefined) return key === "host" && req.httpVersion !== "1.0" ? "" : null;
        return Array.isArray(v) ? v.join(", ") : v;
      },
    },
    body: null,
    async readBytes(limits) {
      // A large body waits for room among those being worked on (see body-budget.ts).
      const declared = Number(req.headers["content-length"] ?? "");
      const size = Number.isFinite(declared)
        ? Math.min(declared, limits.maxBytes)
        : limits.maxBytes;
      if (size > LARGE_BODY_BYTES) {
        held = bodies.reserve(size);
        res.once("close", held.release);
        await held.ready;
      }
      const bytes = await readRequestBody(req, limits);
      unread = false;
      return bytes;
    },
  };
  let reply: Awaited<ReturnType<ServerHandler["handle"]>>;
  try {
    reply = await handler.handle(request);
  } finally {
    held?.release();
  }
  const headers = { ...reply.headers };
  // A body left unread (refused, timed out) would confuse the next request on this connection.
  if (unread && !req.complete) headers.connection = "close";
  res.writeHead(reply.status, headers);
  const body = reply.body;
  if (body === null || typeof body === "string") res.end(body ?? undefined);
  else await sendChunks(res, body);
  if (headers.connection === "close") res.once("finish", () => req.socket.destroySoon?.());
}

/**
 * Writes a body produced as it is sent, a chunk when the client took the last (so a slow client
 * holds one chunk, not the whole body); stops producing when the client goes away. A failure
 * after the headers cuts the response short: the client sees it end early, as from sqld.
 */
async function sendChunks(res: ServerResponse, body: AsyncIterable<string>): Promise<void> {
  const chunks = body[Symbol.asyncIterator]();
  let gone = false;
  const onClose = () => {
    gone = true;
  };
  res.once("close", onClose);
  try {
    for (;;) {
      if (gone) {
        await chunks.return?.();
        return;
      }
      const next = await chunks.next();
      if (next.done) break;
      if (!res.write(next.value)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off("drain", go);
            res.off("close", go);
            resolve();
          };
          res.once("drain", go);
          res.once("close", go);
        });
      }
    }
    res.end();
  } catch (e) {
    console.error("tenantlite: a streamed response failed after its headers:", e);
    res.destroy();
  } finally {
    res.off("close", onClose);
  }
}

/**
 * How much of a body over the limit is read and dropped before the 413 is sent: a client still
 * sending when the answer comes and the connection closes reports a broken connection (`fetch
 * failed`), not the answer. Past this (or the body's deadline), the answer goes at once.
 */
const DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * Reads a body into memory: 408 when it has not arrived in `timeoutMs`; 413 past `maxBytes`,
 * answered once the body has been read and dropped (see `DISCARD_BYTES`).
 */
function readRequestBody(req: IncomingMessage, limits: BodyLimits): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? "");
  if (Number.isFinite(declared) && declared > limits.maxBytes + DISCARD_BYTES) {
    return Promise.reject(tooLarge(limits.maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number.isFinite(declared) && declared > limits.maxBytes;
    const finish = (error: Error | undefined) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
      if (error !== undefined) {
        req.pause();
        reject(error);
      } else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > limits.maxBytes && !over) {
        over = true;
        chunks.length = 0;
      }
      if (!over) chunks.push(chunk);
      else if (size > limits.maxBytes + DISCARD_BYTES) finish(tooLarge(limits.maxBytes));
    };
    const onEnd = () => finish(over ? tooLarge(limits.maxBytes) : undefined);
    const onError = () =>
      finish(new TenantliteError("BODY_INVALID", "The request body could not be read"));
    const onAborted = () =>
      finish(new TenantliteError("BODY_INVALID", "The request body was cut short"));
    const timer = setTimeout(
      () =>
        finish(
          over
            ? tooLarge(limits.maxBytes)
            : new TenantliteError(
                "BODY_TIMEOUT",
                `The request body did not arrive within ${limits.timeoutMs} ms`,
              ),
        ),
      limits.timeoutMs,
    );
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

/**
 * `ws` closes a socket whose message is over `maxPayload` with code 1009 (message too big) and
 * no reason, so `@libsql/client` could only say "closed with code 1009". The socket's close then
 * gives the coded reason an HTTP body over the limit gets, which the client shows.
 */
function sayWhyTooLarge(ws: WebSocket, max: number): void {
  const close = ws.close.bind(ws);
  const reason = `BODY_TOO_LARGE: A WebSocket message is larger than ${max} bytes`;
  ws.close = (code?: number, why?: string | Buffer) =>
    close(code, code === 1009 && (why === undefined || why.length === 0) ? reason : why);
}

function tooLarge(max: number): TenantliteError {
  return new TenantliteError("BODY_TOO_LARGE", `The request body is larger than ${max} bytes`);
}
