/**
 * Hrana over WebSocket (reference §1.12), transport-free: the Node listener feeds text frames in
 * and sends what comes out. One session per socket: `hello` (JWT) first, then requests on
 * numbered streams, each stream one logical connection, so ATTACH and interactive transactions
 * live across statements. Stored SQL belongs to the socket. Requests of one stream run in order;
 * different streams do not wait for each other (one may hold a transaction another waits on).
 *
 * Memory per socket is bounded. While the responses the client has not read yet (the socket's
 * send buffer) plus the requests received and not yet answered exceed a quarter of
 * `maxUnsentBytes`, the socket is no longer read; while the unread responses alone do, no
 * further request starts (so the event loop gets to write them). A response that would take the
 * unread ones past `maxUnsentBytes` is answered `RESPONSE_TOO_LARGE` instead (requests started
 * together, such as a client's concurrent queries on several streams, may all finish large).
 * The session ends with close code 1008 and a reason starting with `RESPONSES_UNREAD` once the
 * unread responses exceed `maxUnsentBytes`, or once they have stayed over the quarter with
 * nothing written for `bodyTimeoutMs`; its streams close and what it held is dropped.
 */
import { TenantliteError } from "../../errors.js";
import type { DatabaseSession, ServerContext } from "../context.js";
import { asCoded } from "../http.js";
import { decodeJsonText } from "../json-text.js";
import { toHranaError } from "./errors.js";
import { type BatchStep, batchStepsFrom, type StreamRequest, stmtFrom } from "./proto.js";
import { ProtoError } from "./proto-error.js";
import { HranaStream, MAX_RESPONSE_BYTES, SqlStore } from "./stream.js";

/** A frame's text, given once the server has room for it (see `WsSession.receive`). */
export interface LaterText {
  readonly size: number;
  text(): Promise<string>;
}

/** Where a session's output goes. */
export interface WsTransport {
  send(text: string): void;
  /** Closes the socket with a WebSocket close code. */
  close(code: number, reason: string): void;
  /** Bytes sent and not yet written to the network (the socket's send buffer); 0 when unknown. */
  readonly bufferedAmount?: number;
  /** Stops reading the socket's frames (TCP then holds the client back) until `resume`. */
  pause?(): void;
  resume?(): void;
  /** Drops the TCP connection at once, with no close frame. */
  destroy?(): void;
}

/**
 * The statements with which the upstream `@libsql/client` suite's network-error tests ask its
 * reference server (testing/hrana-test-server) to close the WebSocket, or the TCP connection
 * under it. Served only when the handler is given `hranaTestHooks` (never by default).
 */
const TEST_HOOKS: ReadonlySet<string> = new Set([".close_ws", ".close_tcp"]);

/** The WebSocket close code for a client that leaves its responses unread (policy violation). */
export const UNREAD_CLOSE_CODE = 1008;

interface WsStream {
  readonly stream: HranaStream;
  queue: Promise<void>;
  /** Its open cursor (Hrana 3: one at a time per stream). */
  cursor?: number;
}

/**
 * A Hrana 3 cursor: its batch's entries, made whole when it opens (under one response-size limit
 * for all its steps), handed out by `fetch_cursor`.
 */
interface WsCursor {
  readonly sid: number;
  readonly entries: object[];
  next: number;
  /** What its entries count against the session's bound until fetched (see `cursorBytes`). */
  bytes: number;
}

/** One WebSocket connection speaking `hrana2` or `hrana3` (JSON). */
export class WsSession {
  private session: DatabaseSession | undefined;
  private readonly streams = new Map<number, WsStream>();
  private readonly cursors = new Map<number, WsCursor>();
  /**
   * Bytes of cursor entries not fetched yet (counted as their JSON, as a response's limit
   * counts rows), and reserved by cursors being opened: responses the client has not read
   * either, so they share `maxUnsentBytes` with the socket's unread responses.
   */
  private cursorBytes = 0;
  /** Streams the client closed whose requests are still running. */
  private readonly closing = new Set<HranaStream>();
  private readonly sqls = new SqlStore({ maxCount: 1000, maxLength: 5120 });
  /** Messages are dispatched in order; only `hello` makes later ones wait. */
  private inbox: Promise<void> = Promise.resolve();
  private closed = false;
  /** Size of the frames received and not answered yet (UTF-16 units). */
  private backlog = 0;
  /** Whether the transport was asked to stop reading. */
  private paused = false;
  /** Whether requests wait for the client to read (its unread responses are over the quarter). */
  private congested = false;
  /** Requests waiting for the congestion to end. */
  private waiting: (() => void)[] = [];
  /** Ends a congested session in which nothing gets written. */
  private stall: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ctx: ServerContext,
    private readonly database: string | undefined,
    readonly protocol: "hrana2" | "hrana3",
    private readonly transport: WsTransport,
    /** Called once when the session ends, however it ends. */
    private readonly onClosed?: () => void,
    /** Serve the upstream client suite's `.close_ws`/`.close_tcp` statements (tests only). */
    private readonly testHooks = false,
  ) {}

  /** Whether the session ended. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Size of the requests received and not answered yet. */
  get pendingBytes(): number {
    return this.backlog;
  }

  /**
   * Feeds one text frame; `done` is told once it is answered (or failed, or the session ended).
   * A large frame may wait for room among the server's large bodies: given as a `LaterText`, it
   * counts against the socket's bounds at once and is dispatched, in order, once its text comes.
   */
  receive(data: string | LaterText, done?: () => void): void {
    if (this.closed) {
      done?.();
      return;
    }
    const size = typeof data === "string" ? data.length : data.size;
    this.backlog += size;
    this.regulate();
    // Each frame is answered at most once; the backlog forgets it then (or when it fails).
    let owed = true;
    const answered = () => {
      if (!owed) return;
      owed = false;
      this.backlog -= size;
      done?.();
    };
    const dispatched =
      typeof data === "string"
        ? this.inbox.then(() => this.dispatch(data, answered))
        : this.inbox.then(() => data.text()).then((text) => this.dispatch(text, answered));
    this.inbox = dispatched.catch((e) => {
      answered();
      this.fail(e);
    });
  }

  /** The transport wrote some of its buffer to the network: reading may resume. */
  flushed(): void {
    if (this.congested) this.watchStall();
    this.regulate();
  }

  /** The socket is gone: close every stream (rolling back their transactions). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.stream.close();
    this.streams.clear();
    this.cursors.clear();
    this.cursorBytes = 0;
    // A statement still running for a stream the client already closed is stopped too.
    for (const stream of this.closing) stream.close();
    this.closing.clear();
    this.backlog = 0;
    clearTimeout(this.stall);
    // Queued requests go on to find their streams closed: they end at once, sending nothing.
    for (const go of this.waiting.splice(0)) go();
    this.onClosed?.();
  }

  /** Resolves when a request may start: at once, unless the client is not reading. */
  private ready(): Promise<void> | undefined {
    if (!this.congested) return undefined;
    return new Promise((go) => this.waiting.push(go));
  }

  /** (Re)arms the stall deadline of a congested session. */
  private watchStall(): void {
    clearTimeout(this.stall);
    const ms = this.ctx.limits.bodyTimeoutMs;
    this.stall = setTimeout(() => this.unread(`nothing read for ${ms} ms`), ms);
  }

  /** Ends a session whose client leaves its responses unread. */
  private unread(why: string): void {
    if (this.closed) return;
    const limit = this.ctx.limits.maxUnsentBytes;
    const err = new TenantliteError(
      "RESPONSES_UNREAD",
      `over ${why === "" ? limit : limit / 4} bytes of responses unread${why === "" ? "" : `, ${why}`}; read responses as they come`,
    );
    this.transport.close(UNREAD_CLOSE_CODE, err.message.slice(0, 120));
    this.close();
  }

  /** Sends a message unless the session ended, then checks the bounds. */
  private send(message: unknown): void {
    if (this.closed) return;
    this.transport.send(JSON.stringify(message));
    this.regulate();
  }

  /**
   * Sends a response, unless it would take the client's unread responses past `maxUnsentBytes`:
   * that one is answered `RESPONSE_TOO_LARGE` instead (its memory freed now), as sqld answers a
   * response past its bound on those being built — so a client that pipelines large results is
   * not closed for them, and a client that reads nothing holds the bound at most.
   */
  private respond(id: number, response: unknown): void {
    if (this.closed) return;
    const text = JSON.stringify({ type: "response_ok", request_id: id, response });
    const limit = this.ctx.limits.maxUnsentBytes;
    const unsent = this.transport.bufferedAmount ?? 0;
    if (unsent + text.length <= limit) {
      this.transport.send(text);
      this.regulate();
      return;
    }
    const err = new TenantliteError(
      "RESPONSE_TOO_LARGE",
      `Response is too large: with the ${unsent} bytes of responses this client has not read yet it would pass the bound of ${limit}; read responses before asking for more, or ask for fewer rows at once`,
    );
    this.send({ type: "response_error", request_id: id, error: toHranaError(err) });
  }

  /**
   * Keeps the socket's memory bounded: stops reading while the unread responses and unanswered
   * requests are over a quarter of the limit, and stops starting requests while the unread
   * responses are (each resumes under an eighth); ends the session once the unread responses
   * are over the limit.
   */
  private regulate(): void {
    if (this.closed) return;
    const limit = this.ctx.limits.maxUnsentBytes;
    const unsent = this.transport.bufferedAmount ?? 0;
    if (unsent > limit) {
      this.unread("");
      return;
    }
    if (!this.congested && unsent > limit / 4) {
      this.congested = true;
      this.watchStall();
    } else if (this.congested && unsent <= limit / 8) {
      this.congested = false;
      clearTimeout(this.stall);
      for (const go of this.waiting.splice(0)) go();
    }
    const load = unsent + this.backlog;
    if (!this.paused && load > limit / 4) {
      this.paused = true;
      this.transport.pause?.();
    } else if (this.paused && load <= limit / 8) {
      this.paused = false;
      this.transport.resume?.();
    }
  }

  /** Where this session's unexpected failures go. */
  private report(e: unknown): void {
    this.ctx.internalError(
      `a WebSocket on ${this.database === undefined ? "the root database" : `database "${this.database}"`}`,
    )(e);
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    const err = asCoded(e, (x) => this.report(x));
    this.transport.close(e instanceof ProtoError ? 1002 : 1011, err.detail.slice(0, 120));
    this.close();
  }

  private async dispatch(data: string, answered: () => void): Promise<void> {
    if (this.closed) return;
    let msg: unknown;
    try {
      msg = await decodeJsonText(data);
    } catch {
      throw new ProtoError("a WebSocket message must be JSON text");
    }
    if (msg === null || typeof msg !== "object")
      throw new ProtoError("a message must be an object");
    const m = msg as Record<string, unknown>;
    if (m.type === "hello") {
      await this.hello(m.jwt);
      answered();
      return;
    }
    if (m.type !== "request") {
      throw new ProtoError(`unknown message type ${JSON.stringify(String(m.type)).slice(0, 40)}`);
    }
    const id = m.request_id;
    if (typeof id !== "number" || !Number.isSafeInteger(id)) {
      throw new ProtoError("request_id must be an integer");
    }
    if (this.session === undefined)
      throw new ProtoError("a request came before a successful hello");
    if (m.request === null || typeof m.request !== "object") {
      throw new ProtoError("request must be an object");
    }
    const r = m.request as Record<string, unknown>;
    if (r.type === "open_stream") await this.follow(this.session);
    this.request(id, r, this.session, answered);
  }

  /**
   * As sqld, which finds the database by name at each `open_stream`: when the session's database
   * was deleted and another of its name created since, new streams open on that one, once the
   * session's token is checked against it (streams already open stay where they were).
   */
  private async follow(session: DatabaseSession): Promise<void> {
    const gone = await this.ctx.platform.getDatabase(session.info.id).then(
      () => false,
      () => true,
    );
    if (!gone) return;
    try {
      this.session = await this.ctx.session(this.database, session.permissions);
    } catch {
      // None of that name, or one the token does not reach: the stream finds nothing, as before.
    }
  }

  private async hello(jwt: unknown): Promise<void> {
    try {
      const permissions = await this.ctx.permissionsFromJwt(jwt);
      this.session = await this.ctx.session(this.database, permissions);
      for (const s of this.streams.values()) s.stream.access = this.session.access;
      this.send({ type: "hello_ok" });
    } catch (e) {
      const err = asCoded(e, (x) => this.report(x));
      this.send({ type: "hello_error", error: { message: err.detail, code: err.code } });
      if (this.closed) return;
      this.transport.close(1000, "hello failed");
      this.close();
    }
  }

  /**
   * Whether the session's token still holds (it may have expired, or been rotated, since hello);
   * when not, answers the request with the coded error HTTP would give, and the client may send
   * a new hello with a fresh token. Asked by the requests that touch the database: opening and
   * closing streams and storing SQL stay answered, so a client's pipelined requests on a stream
   * all get the coded error rather than a protocol failure.
   */
  private current(error: (e: unknown) => void): boolean {
    try {
      if (this.session !== undefined) this.ctx.assertCurrent(this.session);
      return true;
    } catch (e) {
      error(e);
      return false;
    }
  }

  private request(
    id: number,
    r: Record<string, unknown>,
    session: DatabaseSession,
    answered: () => void,
  ): void {
    const ok = (response: unknown) => {
      answered();
      this.respond(id, response);
    };
    const error = (e: unknown) => {
      answered();
      this.send({
        type: "response_error",
        request_id: id,
        error: toHranaError(e, (x) => this.report(x)),
      });
    };
    switch (r.type) {
      case "open_stream": {
        const sid = streamId(r);
        if (this.streams.has(sid)) throw new ProtoError(`stream ${sid} is already open`);
        if (this.streams.size >= this.ctx.limits.maxWsStreams) {
          error(
            new TenantliteError(
              "STREAM_LIMIT",
              `Too many streams on this connection (at most ${this.ctx.limits.maxWsStreams})`,
            ),
          );
          return;
        }
        const stream: HranaStream = new HranaStream(
          this.ctx.connect(session, () => stream.access),
          this.sqls,
          session.access,
          (x) => this.report(x),
        );
        this.streams.set(sid, {
          stream,
          queue: Promise.resolve(),
        });
        ok({ type: "open_stream" });
        return;
      }
      case "close_stream": {
        const sid = streamId(r);
        const s = this.streams.get(sid);
        if (s === undefined) {
          ok({ type: "close_stream" });
          return;
        }
        this.streams.delete(sid);
        if (s.cursor !== undefined) this.dropCursor(s.cursor);
        // Closed once its requests are done — or when the socket goes first (see `close`).
        this.closing.add(s.stream);
        s.queue = s.queue.then(() => {
          this.closing.delete(s.stream);
          s.stream.close();
          ok({ type: "close_stream" });
        });
        return;
      }
      case "store_sql": {
        const sqlId = r.sql_id;
        if (typeof sqlId !== "number" || typeof r.sql !== "string") {
          throw new ProtoError("store_sql needs sql_id and sql");
        }
        try {
          this.sqls.store(sqlId, r.sql);
          ok({ type: "store_sql" });
        } catch (e) {
          error(e);
        }
        return;
      }
      case "close_sql": {
        if (typeof r.sql_id !== "number") throw new ProtoError("close_sql needs sql_id");
        this.sqls.close(r.sql_id);
        ok({ type: "close_sql" });
        return;
      }
      case "execute":
      case "batch":
      case "sequence":
      case "describe":
      case "get_autocommit": {
        const sid = streamId(r);
        const s = this.streams.get(sid);
        if (s === undefined) throw new ProtoError(`stream ${sid} is not open`);
        const req = toStreamRequest(r, this.sqls);
        const hook = this.testHooks ? testHook(req) : undefined;
        if (hook !== undefined) {
          // As the reference server does: the socket goes away instead of an answer.
          const { transport } = this;
          if (hook === ".close_tcp" && transport.destroy !== undefined) transport.destroy();
          else transport.close(1000, "closed by .close_ws");
          this.close();
          return;
        }
        s.queue = s.queue
          .then(async () => {
            await this.ready();
            // Checked when the request's turn comes: the token may expire while it waits.
            if (!this.current(error)) return;
            const result = await s.stream.handle(req);
            if (result.type === "ok") ok(result.response);
            else {
              answered();
              this.send({ type: "response_error", request_id: id, error: result.error });
            }
          })
          .catch(error);
        return;
      }
      case "open_cursor":
      case "fetch_cursor":
      case "close_cursor":
        if (this.protocol === "hrana3") {
          this.cursorRequest(r, ok, error);
          return;
        }
        throw new ProtoError(`the ${r.type} request needs the hrana3 subprotocol`);
      default:
        throw new ProtoError(`unknown request type ${JSON.stringify(String(r.type)).slice(0, 40)}`);
    }
  }

  /**
   * Runs a cursor's batch into its entries, within the room the client's unread responses and
   * other cursors leave under `maxUnsentBytes` (and one response's limit): the room is reserved
   * before the batch runs, so cursors opened at once cannot pass it together, and what the
   * entries did not use is given back once they are read.
   */
  private async fillCursor(
    stream: HranaStream,
    steps: readonly BatchStep[],
    opened: WsCursor,
  ): Promise<void> {
    const limit = this.ctx.limits.maxUnsentBytes;
    const held = this.cursorBytes + (this.transport.bufferedAmount ?? 0);
    const room = Math.max(0, Math.min(MAX_RESPONSE_BYTES, limit - held));
    const budget = { left: room };
    opened.bytes = room;
    this.cursorBytes += room;
    try {
      await stream.cursor(steps, (e) => opened.entries.push(e), budget);
    } finally {
      // (Closed meanwhile: everything it reserved went back already.)
      if (opened.bytes > 0) {
        opened.bytes -= budget.left;
        this.cursorBytes -= budget.left;
      }
    }
    if (room === MAX_RESPONSE_BYTES) return;
    // Where the client's unread bytes, not one response's limit, stopped the rows: say so.
    const why = toHranaError(unreadTooLarge(held, limit));
    for (const e of opened.entries as { type: string; error?: { code?: string } }[]) {
      if ((e.type === "step_error" || e.type === "error") && e.error?.code === why.code) {
        e.error = why;
      }
    }
  }

  /** Closes cursor `cid`: its entries are dropped, and what they counted given back. */
  private dropCursor(cid: number): void {
    const c = this.cursors.get(cid);
    if (c === undefined) return;
    this.cursors.delete(cid);
    this.giveBack(c);
  }

  /** What a cursor's entries count against the session's bound goes back (they are gone). */
  private giveBack(c: WsCursor): void {
    this.cursorBytes -= c.bytes;
    c.bytes = 0;
  }

  /**
   * Hrana 3's cursor requests, as sqld answers them: a cursor per stream at a time, its id unique
   * on the connection; `fetch_cursor` gives up to `max_count` entries and says when none are left.
   * A batch that cannot run opens a cursor whose one entry is the error, as over HTTP.
   */
  private cursorRequest(
    r: Record<string, unknown>,
    ok: (response: unknown) => void,
    error: (e: unknown) => void,
  ): void {
    const cid = r.cursor_id;
    if (typeof cid !== "number" || !Number.isSafeInteger(cid)) {
      throw new ProtoError("cursor_id must be an integer");
    }
    const cursor = this.cursors.get(cid);
    if (r.type === "open_cursor") {
      const sid = streamId(r);
      const s = this.streams.get(sid);
      if (s === undefined) throw new ProtoError(`stream ${sid} is not open`);
      if (s.cursor !== undefined) throw new ProtoError(`stream ${sid} has a cursor open already`);
      if (cursor !== undefined) throw new ProtoError(`cursor ${cid} is already open`);
      const req = toStreamRequest({ ...r, type: "batch" }, this.sqls);
      const opened: WsCursor = { sid, entries: [], next: 0, bytes: 0 };
      s.cursor = cid;
      this.cursors.set(cid, opened);
      s.queue = s.queue
        .then(async () => {
          await this.ready();
          if (!this.current(error)) return;
          if (req.type === "batch") await this.fillCursor(s.stream, req.steps, opened);
          ok({ type: "open_cursor" });
        })
        .catch(error);
      return;
    }
    if (cursor === undefined) throw new ProtoError(`cursor ${cid} is not open`);
    const s = this.streams.get(cursor.sid)!;
    if (r.type === "close_cursor") {
      this.dropCursor(cid);
      s.cursor = undefined;
      ok({ type: "close_cursor" });
      return;
    }
    const max = r.max_count;
    if (typeof max !== "number" || !Number.isSafeInteger(max) || max < 0) {
      throw new ProtoError("max_count must be a non-negative integer");
    }
    // After the cursor's open, on its stream's queue: its entries are all there by then.
    s.queue = s.queue
      .then(() => {
        const { entries } = cursor;
        const taken = entries.slice(cursor.next, cursor.next + max);
        cursor.next += taken.length;
        const done = cursor.next >= entries.length;
        // Handed out whole: the server holds none of it until the client closes the cursor.
        if (done) {
          entries.length = cursor.next = 0;
          this.giveBack(cursor);
        }
        ok({ type: "fetch_cursor", entries: taken, done });
      })
      .catch(error);
  }
}

/**
 * `RESPONSE_TOO_LARGE` for a cursor whose rows would take what the client leaves unread past
 * `limit` (`held`: what it left unread when the cursor opened).
 */
function unreadTooLarge(held: number, limit: number): TenantliteError {
  return new TenantliteError(
    "RESPONSE_TOO_LARGE",
    `Response is too large: with the ${held} bytes of responses and cursor rows this client has not read yet it would pass the bound of ${limit}; fetch or close open cursors and read responses before asking for more, or ask for fewer rows at once`,
  );
}

/** The test hook a stream request names as one of its statements, if any. */
function testHook(req: StreamRequest): string | undefined {
  const sqls =
    req.type === "execute"
      ? [req.stmt.sql]
      : req.type === "batch"
        ? req.steps.map((s) => s.stmt.sql)
        : req.type === "sequence"
          ? [req.sql]
          : [];
  return sqls.find((sql) => sql !== undefined && TEST_HOOKS.has(sql));
}

function streamId(r: Record<string, unknown>): number {
  const sid = r.stream_id;
  if (typeof sid !== "number" || !Number.isSafeInteger(sid)) {
    throw new ProtoError("stream_id must be an integer");
  }
  return sid;
}

/**
 * Decodes a stream request, resolving stored SQL now: a later close_sql/store_sql of the same id
 * must not change what an already queued request runs.
 */
function toStreamRequest(r: Record<string, unknown>, sqls: SqlStore): StreamRequest {
  const resolve = (sql: unknown, sqlId: unknown): string => {
    if (typeof sql === "string") return sql;
    if (typeof sqlId === "number") return sqls.resolve(undefined, sqlId);
    throw new ProtoError(`${String(r.type)} needs sql or sql_id`);
  };
  const pin = <T extends { sql: string | undefined; sqlId: number | undefined }>(s: T): T => {
    if (s.sqlId === undefined) return s;
    try {
      return { ...s, sql: sqls.resolve(undefined, s.sqlId), sqlId: undefined };
    } catch {
      return s;
    }
  };
  switch (r.type) {
    case "execute":
      return { type: "execute", stmt: pin(stmtFrom(r.stmt)) };
    case "batch":
      return {
        type: "batch",
        steps: batchStepsFrom(r.batch).map((s) => ({ ...s, stmt: pin(s.stmt) })),
      };
    case "sequence":
    case "describe": {
      let sql: string;
      try {
        sql = resolve(r.sql, r.sql_id);
      } catch (e) {
        if (e instanceof ProtoError) throw e;
        return { type: r.type, sql: undefined, sqlId: r.sql_id as number };
      }
      return { type: r.type, sql, sqlId: undefined };
    }
    default:
      return { type: "get_autocommit" };
  }
}
