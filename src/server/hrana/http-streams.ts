/**
 * Hrana over HTTP (reference §1.3, §1.8, §1.11): `POST /v2|v3/pipeline` and `/v3/cursor`. A
 * request without a baton opens a stream (one logical connection); the response carries a new
 * random, single-use baton unless the stream was closed. Idle streams expire after 10 s; used,
 * closed and expired batons are remembered for 300 s so a late request learns why it failed.
 */
import { Pace } from "../../engine/pace.js";
import { TenantliteError } from "../../errors.js";
import type { DatabaseSession, ServerContext } from "../context.js";
import { toHranaError } from "./errors.js";
import type { CursorRequest, PipelineRequest } from "./proto.js";
import { HranaStream, MAX_RESPONSE_BYTES, SqlStore } from "./stream.js";

/** How long a retired baton is remembered (sqld: 300 s). */
const RETIRED_MS = 300_000;
/** Most retired batons remembered (oldest forgotten first). */
const MAX_RETIRED = 100_000;

type Retired = "used" | "closed" | "expired";

interface Entry {
  readonly stream: HranaStream;
  readonly dbId: string;
  /** The encryption key the stream's connection was opened with (each request repeats it). */
  readonly encryptionKey: string | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The pipeline response body. */
export interface PipelineResponse {
  baton: string | null;
  base_url: null;
  results: unknown[];
}

/** Every live HTTP stream of the server, by baton. */
export class HttpStreams {
  private readonly live = new Map<string, Entry>();
  private readonly retired = new Map<string, { why: Retired; at: number }>();
  /** Streams open now, including those between two requests of a pipeline. */
  private count = 0;

  constructor(private readonly ctx: ServerContext) {}

  /** Streams open right now. */
  get size(): number {
    return this.count;
  }

  /** Runs a pipeline for a session. */
  async pipeline(
    session: DatabaseSession,
    body: PipelineRequest,
    onGone?: (f: () => void) => () => void,
  ): Promise<PipelineResponse> {
    // A pipeline that ends with `close` never holds a stream past the request: no limit applies.
    const closes = body.requests[body.requests.length - 1]?.type === "close";
    const entry = this.take(body.baton, session, closes);
    const results: unknown[] = [];
    const unwatch = onGone?.(() => entry.stream.close()) ?? noop;
    // The rows of all its requests together stay under the bound of what one client may have
    // the server hold (each request also has one response's limit): a 30 KB pipeline of 400
    // SELECTs of 3 MB each had the server build 1.2 GB before JSON refused the string.
    const limit = this.ctx.limits.maxUnsentBytes;
    const room = { left: limit };
    try {
      const pace = new Pace();
      for (const req of body.requests) {
        await pace.turn();
        const before = room.left;
        const result = await entry.stream.handle(req, room);
        if (
          result.type === "error" &&
          result.error.code === "RESPONSE_TOO_LARGE" &&
          before < MAX_RESPONSE_BYTES
        ) {
          result.error = toHranaError(pipelineTooLarge(limit));
        }
        results.push(result);
      }
      if (entry.stream.closed && !closes) throw clientGone();
    } catch (e) {
      entry.stream.close();
      this.count--;
      throw e;
    } finally {
      unwatch();
    }
    return { baton: this.give(entry), base_url: null, results };
  }

  /** Runs a cursor request: one batch whose entries are streamed as newline-delimited JSON. */
  async cursor(
    session: DatabaseSession,
    body: CursorRequest,
    onGone?: (f: () => void) => () => void,
  ): Promise<string> {
    const entry = this.take(body.baton, session, false);
    const lines: string[] = [];
    const unwatch = onGone?.(() => entry.stream.close()) ?? noop;
    try {
      // All its steps' rows share the bound of what one client may have the server hold (sqld
      // streams a cursor's rows; this server builds them whole, then sends them).
      await entry.stream.cursor(body.steps, (e) => lines.push(JSON.stringify(e)), {
        left: this.ctx.limits.maxUnsentBytes,
      });
      if (entry.stream.closed) throw clientGone();
    } catch (e) {
      entry.stream.close();
      this.count--;
      throw e;
    } finally {
      unwatch();
    }
    const head = JSON.stringify({ baton: this.give(entry), base_url: null });
    return `${[head, ...lines].join("\n")}\n`;
  }

  /** Closes every stream (server shutdown). */
  close(): void {
    for (const [baton, e] of this.live) {
      clearTimeout(e.timer);
      e.stream.close();
      this.live.delete(baton);
    }
    this.count = 0;
    this.retired.clear();
  }

  private take(baton: string | null, session: DatabaseSession, shortLived: boolean): Entry {
    if (baton === null) {
      if (!shortLived && this.count >= this.ctx.limits.maxStreams) this.evictIdle();
      if (!shortLived && this.count >= this.ctx.limits.maxStreams) {
        throw new TenantliteError(
          "STREAM_LIMIT",
          `Server cannot handle additional streams (at most ${this.ctx.limits.maxStreams} open); close streams or retry later`,
        );
      }
      this.count++;
      const sqls = new SqlStore({ maxCount: 50, maxLength: 5120 });
      const stream: HranaStream = new HranaStream(
        this.ctx.connect(session, () => stream.access),
        sqls,
        session.access,
        this.ctx.internalError(`an HTTP stream on database "${session.info.name}"`),
      );
      return {
        stream,
        dbId: session.info.id,
        encryptionKey: session.encryptionKey,
        timer: undefined,
      };
    }
    const entry = this.live.get(baton);
    if (entry === undefined) throw batonError(this.retired.get(baton)?.why);
    this.live.delete(baton);
    this.retire(baton, "used");
    clearTimeout(entry.timer);
    if (entry.dbId !== session.info.id) {
      // A baton is bound to its database: a request for another one is a client bug.
      entry.stream.close();
      this.count--;
      throw batonError(undefined);
    }
    if (entry.encryptionKey !== session.encryptionKey) {
      // The connection holds the database open with the first request's key: a request with
      // another key (or none) must not use it.
      entry.stream.close();
      this.count--;
      throw new TenantliteError(
        "ENCRYPTION_KEY_INVALID",
        "this request's encryption key differs from the one its stream was opened with; the stream is closed",
      );
    }
    // Each request re-checks its token: the stream runs under the latest one.
    entry.stream.access = session.access;
    return entry;
  }

  /**
   * At the stream limit, the least recently used stream without a transaction is expired early,
   * so abandoned streams cannot lock everybody out; only streams holding transactions count.
   */
  private evictIdle(): void {
    for (const [baton, e] of this.live) {
      if (e.stream.conn.inTransaction) continue;
      clearTimeout(e.timer);
      this.live.delete(baton);
      this.retire(baton, "expired");
      e.stream.close();
      this.count--;
      return;
    }
  }

  private give(entry: Entry): string | null {
    if (entry.stream.closed) {
      this.count--;
      return null;
    }
    const baton = newBaton();
    this.live.set(baton, entry);
    entry.timer = setTimeout(() => {
      if (this.live.get(baton) !== entry) return;
      this.live.delete(baton);
      this.retire(baton, "expired");
      entry.stream.close();
      this.count--;
    }, this.ctx.limits.streamIdleMs);
    return baton;
  }

  private retire(baton: string, why: Retired): void {
    const now = Date.now();
    this.retired.set(baton, { why, at: now });
    if (this.retired.size > MAX_RETIRED) {
      for (const [b, r] of this.retired) {
        if (this.retired.size <= MAX_RETIRED && now - r.at < RETIRED_MS) break;
        this.retired.delete(b);
      }
    }
  }
}

function batonError(why: Retired | undefined): TenantliteError {
  switch (why) {
    case "used":
      return new TenantliteError("BATON_REUSED", "Received a baton that has already been used");
    case "closed":
      return new TenantliteError("STREAM_CLOSED", "Stream for this baton was closed");
    case "expired":
      return new TenantliteError("STREAM_EXPIRED", "The stream has expired due to inactivity");
    default:
      return new TenantliteError("BATON_INVALID", "Received an invalid baton");
  }
}

/** 32 random bytes, base64url: unguessable, and never reused because each one is retired. */
function newBaton(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A stream whose client went away mid-request (see `HttpRequest.onGone`) is closed: its running
 * statement is stopped (see platform/threads) and its transaction rolled back, since no baton will
 * ever reach the client.
 */
function noop(): void {}

function clientGone(): TenantliteError {
  return new TenantliteError("CLIENT_CLOSED", "The client went away before the answer");
}

/** `RESPONSE_TOO_LARGE` for a request whose rows would take its pipeline's past `limit`. */
function pipelineTooLarge(limit: number): TenantliteError {
  return new TenantliteError(
    "RESPONSE_TOO_LARGE",
    `Response is too large: with the rows of the pipeline's earlier requests it would pass the bound of ${limit} bytes for one pipeline; send those requests in pipelines of their own, or ask for fewer rows at once`,
  );
}
