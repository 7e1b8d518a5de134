/**
 * Tenants on threads (DESIGN.md, decision 1): the platform's logical connections run on a pool of
 * threads, each with its own sql.js, so that one tenant's long statement stalls only its own
 * thread, and a statement that runs past the query time limit is stopped by ending its thread.
 *
 * The platform keeps everything else — the catalog, tokens, the checks of each request, ATTACH
 * resolution, migrations, storage. A tenant lives in one place at a time: on one thread, or in the
 * platform's own pool (tenant-pool.ts) while a migration, an export or a configuration change
 * works on it (`hold`: the thread closes it once no transaction holds it). A connection's
 * requests go to its tenant's thread; ATTACH places the target on the attacher's thread (moving
 * it when it lived on another: connections there lose it, as when a tenant closes).
 *
 * sql.js cannot interrupt a statement, so a statement past the limit ends its thread: the thread's
 * tenants reopen from storage on their next use (every acknowledged commit was saved before its
 * result was sent), requests that had not started yet are sent again, and connections that held
 * state on the thread (a transaction, TEMP objects, settings) are told it is gone.
 */
import {
  type BatchStatement,
  DEFAULT_BUSY_TIMEOUT_MS,
  type SqlConnection,
} from "../../engine/connection-policy.js";
import { unrefTimer } from "../../engine/timers.js";
import type { IntMode, ResultSet } from "../../engine/values.js";
import { platformClosed, TenantliteError } from "../../errors.js";
import type { AccessGuard } from "../access-guard.js";
import type { AttachPolicy } from "../attach-policy.js";
import type { Catalog } from "../catalog.js";
import { notEncrypted, type TenantCrypto, type TenantKeys } from "../tenant-keys.js";
import type { TenantLender, TenantPool } from "../tenant-pool.js";
import type { AccessPolicy, DatabaseInfo } from "../types.js";
import {
  type Call,
  type ConnectionOp,
  clearStarted,
  type FromThread,
  Resend,
  requestStarted,
  SHARED_BYTES,
  SHARED_SLOTS,
  type TenantRef,
  type ToThread,
  threadReset,
} from "./protocol.js";
import { type RemoteAccess, RemoteConnection } from "./remote-connection.js";
import {
  receivedResult,
  sharedResultPool,
  type ThreadResults,
  threadEnded,
} from "./result-pool.js";
import type { HostOptions } from "./tenant-host.js";
import { decodeError, encodeError, encodeResultSet, type WireError } from "./wire.js";

/** A started thread, as the platform drives it. */
export interface ThreadHandle {
  post(message: ToThread, transfer?: ArrayBuffer[]): void;
  /**
   * Whether the thread keeps its process alive (Node's `ref`/`unref`): only while the platform
   * waits for it, so a script that never closes its platform still exits.
   */
  keepAlive?(on: boolean): void;
  /** Ends the thread at once, whatever it runs. */
  terminate(): void;
}

/** Starts tenant threads (Node: worker_threads, see src/node/tenant-thread-starter.ts). */
export interface ThreadStarter {
  start(
    shared: SharedArrayBuffer,
    options: HostOptions,
    onMessage: (m: FromThread) => void,
    onExit: (error?: unknown) => void,
  ): ThreadHandle;
}

/**
 * Tenant threads as the platform's `tenantThreads` option gives them (`tenantlite/node`'s
 * `tenantThreads()`): the platform starts them with what they work with. Only the option's maker
 * imports this module, so a platform without threads (a browser's) carries none of it.
 */
export interface TenantThreadsFactory {
  start(deps: TenantThreadsDeps): TenantThreadsRuntime;
}

/** Running tenant threads, as the platform uses them. */
export interface TenantThreadsRuntime extends TenantLender {
  /** A logical connection onto `nameOrId` whose SQLite connection lives on its tenant's thread. */
  connect(
    nameOrId: string,
    encryptionKey: string | Uint8Array | undefined,
    access: RemoteAccess,
    shown: string,
    /** See `ConnectOptions.maxResultBytes`. */
    maxResultBytes?: number,
  ): SqlConnection;
  close(): Promise<void>;
}

/** Tenant threads with these options (see {@link TenantThreadsFactory}). */
export function tenantThreadsFactory(options: TenantThreadsOptions): TenantThreadsFactory {
  return { start: (deps) => new TenantThreads(deps, options) };
}

/** How the platform runs tenants on threads. */
export interface TenantThreadsOptions {
  readonly starter: ThreadStarter;
  /** Threads (default: the machine's cores). */
  readonly threads: number;
  /** A statement running longer is stopped with `QUERY_TIMEOUT` (default 30 s; 0: no limit). */
  readonly maxQueryMs: number;
  /**
   * A thread whose sql.js heap grew past this many bytes is started afresh once idle (see
   * `recycleIfBloated`; default 512 MiB; 0: never).
   */
  readonly maxThreadHeapBytes?: number;
  /**
   * Bytes of limited results (`maxResultBytes`) all threads may hold at once, from reading them
   * until the platform received them (result-pool.ts; default 32 MiB, sqld's
   * `max_total_response_size`; 0: no bound).
   */
  readonly maxHeldResultBytes?: number;
}

/** Default of `maxHeldResultBytes`. */
export const DEFAULT_MAX_HELD_RESULT_BYTES = 32 * 2 ** 20;
/** Default of `maxThreadHeapBytes`. */
export const DEFAULT_MAX_THREAD_HEAP_BYTES = 512 * 2 ** 20;
/** A thread is started afresh for its heap at most this often. */
const RECYCLE_MIN_MS = 5_000;

/** What the threads work with. */
export interface TenantThreadsDeps {
  readonly catalog: Catalog;
  readonly pool: TenantPool;
  readonly guard: AccessGuard;
  readonly attachPolicy: AttachPolicy;
  /** A schema parent's write by a caller with `access`, as a migration (the platform's rules). */
  readonly migrateParent: (
    info: DatabaseInfo,
    access: AccessPolicy,
    statements: readonly BatchStatement[],
    intMode: IntMode,
  ) => Promise<ResultSet[]>;
  readonly keys: TenantKeys;
  readonly host: HostOptions;
}

/** A request sent to a thread and not answered yet. */
interface Pending {
  readonly conn: RemoteConnection;
  readonly message: Extract<ToThread, { t: "run" }>;
  resolve(answer: { value: unknown; inTransaction: boolean; stateful: boolean }): void;
  reject(e: unknown): void;
}

/** One tenant thread (restarted on demand after it ended). */
export class Thread {
  handle: ThreadHandle | undefined;
  ready: Promise<void> = Promise.resolve();
  /** Bumped each time the thread (re)starts: connections opened on an older one are gone. */
  epoch = 0;
  readonly shared = new Int32Array(new SharedArrayBuffer(SHARED_BYTES));
  /** The result pool and this start's cell of it, when results are bounded. */
  results: ThreadResults | undefined;
  nextId = 0;
  readonly inFlight = new Map<number, Pending>();
  /** Releases asked of the thread: each wakes with the error of one that failed. */
  readonly releases = new Map<number, (error?: WireError) => void>();
  /** Tenants placed here. */
  placed = 0;
  /** Whether its handle keeps the process alive now (see `ThreadHandle.keepAlive`). */
  kept = true;
  /** When it was last started afresh for its heap (`performance.now()`). */
  recycledAt = Number.NEGATIVE_INFINITY;
  /** The heartbeat last seen, and when (`performance.now()`). */
  beat = 0;
  beatSeenAt = 0;
  /** One statement holds it (no heartbeat for a while): its idle tenants were placed elsewhere. */
  stalled = false;
  /** Saves of requests' commits (`reported`), by call id, until the request's answer takes them. */
  saves = new Map<number, Promise<unknown>>();
  /**
   * Messages that wait for the next message to this thread, or `LAZY_MS` (see `postLazily`):
   * connections' closes and the answers to saves the platform already reported.
   */
  lazy: ToThread[] = [];
  lazyTimer: ReturnType<typeof setTimeout> | undefined;

  /** Takes the lazy messages that wait, and clears their timer. */
  takeLazy(): ToThread[] {
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    const waiting = this.lazy;
    this.lazy = [];
    return waiting;
  }
}

/** How long a message posted lazily may wait for another message to the same thread. */
const LAZY_MS = 10;

/** Where a tenant lives. */
interface Place {
  thread: Thread | undefined;
  /** The epoch of its thread when it was placed there. */
  epoch: number;
  /** Moves of this tenant, one after another. */
  queue: Promise<unknown>;
  /** Holds of the platform's pool; while any, the tenant stays off threads. */
  held: number;
  unheld: (() => void)[];
  /** How an encrypted tenant's saves are sealed, from its last load. */
  crypto: TenantCrypto | undefined;
  /** Saves of commits on a thread not finished yet. */
  readonly saving: Set<Promise<unknown>>;
}

/** The platform's tenant threads. */
export class TenantThreads implements TenantThreadsRuntime {
  private readonly threads: Thread[];
  private readonly places = new Map<string, Place>();
  /** Connections by thread and id. */
  private readonly conns = new Map<Thread, Map<number, RemoteConnection>>();
  private nextConn = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private readonly tickMs: number;
  private closed = false;
  /** The bound on results held at once (result-pool.ts), unless there is none. */
  private readonly resultPool: Int32Array | undefined;

  constructor(
    private readonly deps: TenantThreadsDeps,
    private readonly options: TenantThreadsOptions,
  ) {
    this.resultPool = sharedResultPool(options.maxHeldResultBytes ?? DEFAULT_MAX_HELD_RESULT_BYTES);
    this.threads = Array.from({ length: options.threads }, () => new Thread());
    // Started now, in the background: a thread loads its sql.js in ~100–200 ms, which the first
    // requests would otherwise wait for. The quarantine thread starts when first needed.
    for (const t of this.threads) void this.started(t).catch(() => undefined);
    this.quarantine = new Thread();
    this.threads.push(this.quarantine);
    for (const t of this.threads) this.conns.set(t, new Map());
    this.tickMs = Math.max(10, Math.min(250, Math.floor((options.maxQueryMs || 1000) / 4)));
  }

  /**
   * A thread of its own for tenants whose statement was stopped lately (the query time limit, or
   * its client gone): stopping a statement ends its thread, resetting what other tenants had
   * there (transactions, TEMP objects, requests under way). A client that keeps sending runaway
   * queries, or abandons slow ones in a loop (a serverless function's timeout and retry), ended
   * the threads of every other tenant again and again; its tenant now lives here, where the ends
   * reach only tenants like it. Not one of the pool's threads: no tenant is placed here else.
   */
  private readonly quarantine: Thread;
  /** Tenants whose statement was stopped, and when (`performance.now()`). */
  private readonly offenders = new Map<string, number>();

  connect(
    nameOrId: string,
    encryptionKey: string | Uint8Array | undefined,
    access: RemoteAccess,
    shown: string,
    maxResultBytes?: number,
  ): SqlConnection {
    return new RemoteConnection(
      this,
      this.deps.catalog,
      this.deps.guard,
      nameOrId,
      encryptionKey,
      access,
      shown,
      maxResultBytes,
    );
  }

  // ── placement ────────────────────────────────────────────────────────────

  private place(id: string): Place {
    let p = this.places.get(id);
    if (p === undefined) {
      p = {
        thread: undefined,
        epoch: 0,
        queue: Promise.resolve(),
        held: 0,
        unheld: [],
        crypto: undefined,
        saving: new Set(),
      };
      this.places.set(id, p);
    }
    return p;
  }

  /** Whether `p` lives on a running thread now. */
  private living(p: Place): Thread | undefined {
    const t = p.thread;
    return t !== undefined && t.handle !== undefined && t.epoch === p.epoch ? t : undefined;
  }

  /** The thread a connection's request on tenant `id` goes to (placing the tenant first). */
  acquire(id: string): Thread | Promise<Thread> {
    const p = this.place(id);
    const here = this.living(p);
    if (here !== undefined && p.held === 0) return here;
    return this.placeOn(id, undefined);
  }

  /**
   * Places tenant `id` on `target` (or, without one, where it lives or the least busy thread),
   * once the platform's pool no longer holds it. The wait comes before the move is queued: a hold
   * that comes later queues its own move back after this one (waiting inside the queue, behind
   * which that hold's move would wait, was a deadlock).
   */
  private async placeOn(
    id: string,
    target: Thread | undefined,
    /** Runs once it is placed, before the tenant's next move (a load's answer: see `handle`). */
    placed?: (p: Place) => Promise<void>,
  ): Promise<Thread> {
    const p = this.place(id);
    while (p.held > 0) await new Promise<void>((resolve) => p.unheld.push(resolve));
    const step = p.queue.then(async () => {
      const now = this.living(p);
      if (now !== undefined && (target === undefined || now === target)) {
        await placed?.(p);
        return now;
      }
      // An ATTACH waits for a transaction on its target as a writer would, no longer.
      if (now !== undefined)
        await this.releaseFrom(
          now,
          id,
          p,
          this.deps.host.connection.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
        );
      await this.deps.pool.handOff(id);
      const chosen = target ?? (this.offending(id) ? this.quarantine : this.leastBusy());
      chosen.placed++;
      await this.started(chosen);
      p.thread = chosen;
      p.epoch = chosen.epoch;
      await placed?.(p);
      return chosen;
    });
    p.queue = step.catch(() => undefined);
    return step;
  }

  /** Whether a statement of tenant `id` was stopped within `QUARANTINE_MS`. */
  private offending(id: string): boolean {
    const at = this.offenders.get(id);
    if (at === undefined) return false;
    if (performance.now() - at < QUARANTINE_MS) return true;
    this.offenders.delete(id);
    return false;
  }

  /** The pool's thread with the fewest tenants, among those no statement holds if any. */
  private leastBusy(): Thread {
    let best = this.threads[0]!;
    for (const t of this.threads) {
      if (t === this.quarantine) continue;
      // A thread no statement holds first, then the fewest tenants.
      if (t.stalled !== best.stalled ? !t.stalled : t.placed < best.placed) best = t;
    }
    return best;
  }

  /**
   * Asks `thread` to give tenant `id` back, and waits for its saves. A transaction holding it
   * there past `waitMs` keeps it there: this fails with `SQLITE_BUSY`.
   */
  private async releaseFrom(thread: Thread, id: string, p: Place, waitMs: number): Promise<void> {
    if (thread.handle !== undefined && thread.epoch === p.epoch) {
      const req = ++thread.nextId;
      const released = new Promise<WireError | undefined>((resolve) =>
        thread.releases.set(req, resolve),
      );
      this.waiting(thread);
      this.post(thread, { t: "release", id: req, tenant: id, waitMs });
      const error = await released;
      if (error !== undefined) throw decodeError(error);
    }
    while (p.saving.size > 0) await Promise.allSettled([...p.saving]);
    if (p.thread === thread) {
      p.thread = undefined;
      if (thread.epoch === p.epoch) thread.placed--;
    }
  }

  async hold(ids: readonly string[]): Promise<() => void> {
    const moves: Promise<unknown>[] = [];
    const held: [string, Place][] = [];
    for (const id of ids) {
      const p = this.place(id);
      held.push([id, p]);
      if (p.held++ > 0) {
        // Held already: its move back may still be under way.
        moves.push(p.queue);
        continue;
      }
      const step = p.queue.then(async () => {
        const now = p.thread;
        if (now !== undefined) await this.releaseFrom(now, id, p, HOLD_WAIT_MS);
      });
      p.queue = step.catch(() => undefined);
      moves.push(step);
    }
    const done = () => {
      for (const [id, p] of held) {
        if (--p.held > 0) continue;
        for (const wake of p.unheld.splice(0)) wake();
        // A deleted database's place goes with it.
        if (p.thread === undefined && this.deps.catalog.getDatabase(id) === undefined) {
          if (this.places.get(id) === p) this.places.delete(id);
        }
      }
    };
    try {
      await Promise.all(moves);
    } catch (e) {
      done();
      throw e;
    }
    return done;
  }

  saveFailed(id: string): void {
    // The thread's copy has a commit storage does not: it reopens the stored image.
    void this.hold([id]).then(
      (done) => done(),
      () => undefined,
    );
  }

  // ── threads ──────────────────────────────────────────────────────────────

  /** Starts `thread` when it is not running. */
  private started(thread: Thread): Promise<void> {
    if (this.closed) throw platformClosed();
    if (thread.handle !== undefined) return thread.ready;
    thread.epoch++;
    thread.nextId = 0;
    thread.stalled = false;
    thread.saves.clear();
    thread.takeLazy();
    Atomics.store(thread.shared, SHARED_SLOTS.received, 0);
    Atomics.store(thread.shared, SHARED_SLOTS.running, 0);
    clearStarted(thread.shared);
    let ready!: () => void;
    let failed!: (e: unknown) => void;
    thread.ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    thread.ready.catch(() => undefined);
    const epoch = thread.epoch;
    thread.kept = true;
    const pool = this.resultPool;
    const results = pool && { pool, cell: new Int32Array(new SharedArrayBuffer(4)) };
    thread.results = results;
    thread.handle = this.options.starter.start(
      thread.shared.buffer as SharedArrayBuffer,
      results === undefined ? this.deps.host : { ...this.deps.host, results },
      (m) => {
        if (thread.epoch !== epoch) return;
        if (m.t === "ready") {
          ready();
          this.waiting(thread);
        } else if (m.t === "failed") {
          failed(unavailable(m.reason));
          this.ended(thread, unavailable(m.reason));
        } else this.receive(thread, m);
      },
      (error) => {
        if (results !== undefined) threadEnded(results);
        if (thread.epoch !== epoch || thread.handle === undefined) return;
        const e = unavailable(error instanceof Error ? error.message : "it exited");
        failed(e);
        console.error("tenantlite: a tenant thread ended unexpectedly:", error);
        this.ended(thread, e);
      },
    );
    return thread.ready;
  }

  private receive(thread: Thread, m: FromThread): void {
    switch (m.t) {
      case "done": {
        if (m.held !== undefined) receivedResult(thread.results!, m.held);
        const pending = thread.inFlight.get(m.id);
        if (pending === undefined) return;
        thread.inFlight.delete(m.id);
        this.waiting(thread);
        // After this answer took its saves (a thread started afresh starts with none).
        const recycle = () => this.recycleIfBloated(thread, m.inTransaction || m.stateful);
        const fail = (e: unknown) => {
          pending.conn.noteState(m.inTransaction, m.stateful);
          pending.reject(e);
        };
        const settle = () => {
          if (m.error !== undefined) fail(decodeError(m.error));
          else {
            pending.resolve({
              value: m.value,
              inTransaction: m.inTransaction,
              stateful: m.stateful,
            });
          }
        };
        if (m.saves === undefined) {
          settle();
          recycle();
          return;
        }
        // The request committed: answered once its saves are durable, as on the caller's thread.
        // (A save the platform never received cannot happen: the thread posts it before this
        // answer, on the same port. Were it so, whether the request took effect is unknown.)
        const saves = m.saves.map((id) => {
          const saved = thread.saves.get(id);
          thread.saves.delete(id);
          return saved ?? Promise.reject(threadReset(pending.message.tenant.name, true));
        });
        Promise.all(saves).then(settle, (e: unknown) => fail(decodeError(encodeError(e))));
        recycle();
        return;
      }
      case "released": {
        const wake = thread.releases.get(m.id);
        thread.releases.delete(m.id);
        this.waiting(thread);
        wake?.(m.error);
        return;
      }
      case "call":
        this.answer(thread, m.id, m.call);
        return;
      case "state":
        this.conns.get(thread)!.get(m.conn)?.noteExpired(m.inTransaction, m.stateful);
        return;
    }
  }

  /** Runs a thread's call and posts the answer. */
  private answer(thread: Thread, id: number, call: Call): void {
    const epoch = thread.epoch;
    const post = (m: { value?: unknown; error?: WireError }) => {
      if (thread.epoch === epoch) this.post(thread, { t: "answer", id, ...m });
    };
    const done = this.handle(thread, call, post);
    const reported = call.kind === "save" && call.reported === true;
    if (reported) {
      const kept = done.then(() => undefined);
      kept.catch(() => undefined);
      thread.saves.set(id, kept);
    }
    done.then(
      (value) => {
        if (value === ANSWERED) return;
        // A reported save's success: the platform answered the request; nothing on the thread
        // waits for this. A failure goes at once (the thread drops the tenant).
        if (reported) {
          if (thread.epoch === epoch) this.postLazily(thread, { t: "answer", id, value });
        } else post({ value });
      },
      (e: unknown) => {
        if (!(e instanceof TenantliteError) && !(e instanceof RangeError)) {
          console.error("tenantlite: a call of a tenant thread failed:", e);
        }
        post({ error: encodeError(e) });
      },
    );
  }

  private async handle(
    thread: Thread,
    call: Call,
    post: (m: { value?: unknown }) => void,
  ): Promise<unknown> {
    switch (call.kind) {
      case "load": {
        const info = this.deps.catalog.requireDatabase(call.tenant);
        const conn = this.conns.get(thread)!.get(call.conn);
        // The image is read and the answer posted before the tenant's next move can start, so
        // that move's release reaches the thread after this answer: the thread then opens the
        // tenant, serves the statements that wait for it, and only then gives it back (see
        // TenantHost.release). Two threads that wanted one tenant took it from each other
        // before either had used it, for good.
        await this.placeOn(info.id, thread, async (p) => {
          const { bytes, crypto } = await this.deps.pool.readForThread(info, conn?.encryptionKey);
          p.crypto = crypto;
          if (crypto !== undefined) conn?.verified.add(crypto);
          post({ value: { bytes, tenant: refOf(info) } });
        });
        return ANSWERED;
      }
      case "save": {
        const info = this.deps.catalog.getDatabase(call.tenant);
        if (info === undefined) return undefined; // deleted meanwhile
        const p = this.place(info.id);
        if (this.living(p) !== thread) {
          // Placed elsewhere while a statement held this thread (see `evacuate`): this copy's
          // commit would overwrite what the tenant's new thread wrote since.
          throw threadReset(info.name, true);
        }
        const saved = this.deps.pool.saveForThread(info, p.crypto, call.bytes);
        p.saving.add(saved);
        try {
          await saved;
        } finally {
          p.saving.delete(saved);
        }
        return undefined;
      }
      case "attach": {
        const conn = this.requireConn(thread, call.conn);
        const self = this.deps.catalog.requireDatabase(call.self);
        const target = this.deps.attachPolicy.target(self, call.request, await conn.access());
        await this.placeOn(target.id, thread);
        return refOf(target);
      }
      case "migrate": {
        const conn = this.requireConn(thread, call.conn);
        const info = this.deps.catalog.requireDatabase(call.tenant);
        const results = await this.deps.migrateParent(
          info,
          await conn.access(),
          call.statements,
          call.intMode,
        );
        return results.map(encodeResultSet);
      }
    }
  }

  private requireConn(thread: Thread, id: number): RemoteConnection {
    const conn = this.conns.get(thread)!.get(id);
    if (conn === undefined) throw new TenantliteError("CLIENT_CLOSED", "The connection is closed");
    return conn;
  }

  // ── requests ─────────────────────────────────────────────────────────────

  /** Whether `thread` still runs its incarnation `epoch`. */
  runs(thread: Thread, epoch: number): boolean {
    return thread.handle !== undefined && thread.epoch === epoch;
  }

  /** A new connection id on `thread`, for `conn`. */
  register(thread: Thread, conn: RemoteConnection): number {
    const id = ++this.nextConn;
    this.conns.get(thread)!.set(id, conn);
    return id;
  }

  /**
   * Forgets a connection on `thread` (and closes it there when the thread still runs it). A
   * transaction's close is posted at once: it ends the transaction, and the thread's own timers
   * must not see it open meanwhile. Any other close goes lazily (see `postLazily`): an HTTP
   * request's stream closes right after its answer, and posted on its own, its close woke the
   * thread a second time per request.
   */
  unregister(thread: Thread, epoch: number, id: number, inTransaction: boolean): void {
    this.conns.get(thread)!.delete(id);
    if (thread.epoch !== epoch || thread.handle === undefined) return;
    if (inTransaction) this.post(thread, { t: "close", conn: id });
    else this.postLazily(thread, { t: "close", conn: id });
  }

  /**
   * Posts `message` with the next message to `thread`, or after `LAZY_MS`, not in a
   * `postMessage` of its own (a wake of the thread costs ~60 µs of CPU on 2 cores). For messages
   * nothing waits for, whose effect nobody could tell apart from the message arriving later:
   * every request that could meet it (a statement on the tenant, an attach of it, its release)
   * is a message to the same thread, which the lazy ones precede.
   */
  private postLazily(thread: Thread, message: ToThread): void {
    thread.lazy.push(message);
    if (thread.lazyTimer !== undefined) return;
    const epoch = thread.epoch;
    thread.lazyTimer = setTimeout(() => {
      thread.lazyTimer = undefined;
      if (thread.epoch === epoch) this.postLazy(thread);
    }, LAZY_MS);
    unrefTimer(thread.lazyTimer);
  }

  /** Posts `message` to `thread`, after the lazy messages that wait (see `postLazily`). */
  private post(thread: Thread, message: ToThread, transfer?: ArrayBuffer[]): void {
    if (thread.lazy.length > 0) this.postLazy(thread);
    thread.handle?.post(message, transfer);
  }

  private postLazy(thread: Thread): void {
    for (const m of thread.takeLazy()) thread.handle?.post(m);
  }

  /** Checks an encrypted tenant's key once per connection (a thread's load checks it otherwise). */
  async verify(info: DatabaseInfo, conn: RemoteConnection): Promise<void> {
    const crypto = this.place(info.id).crypto;
    if (!info.encrypted && conn.encryptionKey !== undefined) throw notEncrypted(info.name);
    if (crypto === undefined || conn.verified.has(crypto)) return;
    await this.deps.keys.verify(crypto, info.name, conn.encryptionKey);
    conn.verified.add(crypto);
  }

  /** Sends one request of a connection to `thread`. */
  run(
    thread: Thread,
    conn: RemoteConnection,
    connId: number,
    info: DatabaseInfo,
    access: AccessPolicy,
    op: ConnectionOp,
  ): Promise<{ value: unknown; inTransaction: boolean; stateful: boolean }> {
    if (thread.handle === undefined) return Promise.reject(new Resend());
    const message: Extract<ToThread, { t: "run" }> = {
      t: "run",
      id: ++thread.nextId,
      conn: connId,
      tenant: refOf(info),
      guard: this.deps.guard.specFor(info, access),
      schema: info.type === "schema",
      op,
      ...(conn.maxResultBytes === undefined ? {} : { maxResultBytes: conn.maxResultBytes }),
    };
    return new Promise((resolve, reject) => {
      thread.inFlight.set(message.id, { conn, message, resolve, reject });
      this.waiting(thread);
      if (thread.inFlight.size === 1) {
        thread.beat = Atomics.load(thread.shared, SHARED_SLOTS.beat);
        thread.beatSeenAt = performance.now();
      }
      this.watch();
      this.post(thread, message);
    });
  }

  // ── the query time limit ─────────────────────────────────────────────────

  /** Checks the threads while requests are with them (see {@link check}). */
  private watch(): void {
    if (this.watchdog !== undefined) return;
    this.watchdog = setInterval(() => {
      const now = performance.now();
      let busy = false;
      for (const t of this.threads) {
        if (t.inFlight.size > 0) busy = true;
        this.check(t, now);
      }
      if (!busy) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
      }
    }, this.tickMs);
    unrefTimer(this.watchdog);
  }

  /**
   * Ends `thread` when one statement has held it (its heartbeat stopped) past the limit, or for
   * a while after the connection that sent the statement went away.
   */
  private check(thread: Thread, now: number): void {
    if (thread.handle === undefined || thread.inFlight.size === 0) return;
    const beat = Atomics.load(thread.shared, SHARED_SLOTS.beat);
    if (beat !== thread.beat) {
      thread.beat = beat;
      thread.beatSeenAt = now;
      thread.stalled = false;
      return;
    }
    const stalled = now - thread.beatSeenAt;
    if (!thread.stalled && stalled >= EVACUATE_MS) {
      thread.stalled = true;
      this.evacuate(thread);
    }
    const running = thread.inFlight.get(Atomics.load(thread.shared, SHARED_SLOTS.running));
    if (running?.conn.closed === true && stalled >= 2 * this.tickMs) {
      this.ended(thread, new TenantliteError("CLIENT_CLOSED", "The connection is closed"));
    } else if (this.options.maxQueryMs > 0 && stalled > this.options.maxQueryMs) {
      this.ended(thread, queryTimeout(this.options.maxQueryMs));
    }
  }

  /**
   * One statement has held `thread` for `EVACUATE_MS`: its other tenants would wait for it, up to
   * the query time limit (30 s). Those that nothing holds there — no connection with a
   * transaction or private state on them, no hold of the platform — are placed anew (on the
   * least busy thread at their next request, from storage, where every commit of theirs is with
   * strict durability) and their requests that the thread has not started are sent there; the
   * thread drops its copies when it gets to it, and a save it sends of them meanwhile (a request
   * it had started) is refused. Under relaxed durability the thread's copies may hold commits not
   * saved yet: nothing moves.
   */
  private evacuate(thread: Thread): void {
    // (Tenants in quarantine wait for each other: they are there for such statements.)
    if (this.deps.host.saveAfterMs !== undefined || thread === this.quarantine) return;
    const running = thread.inFlight.get(Atomics.load(thread.shared, SHARED_SLOTS.running));
    const stay = new Set<string>();
    if (running !== undefined) stay.add(running.message.tenant.id);
    for (const conn of this.conns.get(thread)!.values()) {
      if (conn.holdsState) stay.add(conn.tenantId);
    }
    const moved = new Set<string>();
    for (const [id, p] of this.places) {
      if (this.living(p) !== thread || p.held > 0 || p.saving.size > 0 || stay.has(id)) continue;
      p.thread = undefined;
      thread.placed--;
      moved.add(id);
      this.post(thread, { t: "drop", tenant: id });
    }
    for (const [id, pending] of thread.inFlight) {
      if (!requestStarted(thread.shared, id) && moved.has(pending.message.tenant.id)) {
        thread.inFlight.delete(id);
        pending.reject(new Resend());
      }
    }
    this.waiting(thread);
  }

  /**
   * A thread ended (stopped by the limit, failed, or crashed): its tenants reopen from storage on
   * their next use; its requests are answered — the one that held it with `culprit`, those not
   * started yet (not received, or received and still waiting: see `startRequest`) sent again,
   * the others told their connection was reset.
   */
  private ended(thread: Thread, culprit: TenantliteError): void {
    const handle = thread.handle;
    thread.handle = undefined;
    handle?.terminate();
    const running = Atomics.load(thread.shared, SHARED_SLOTS.running);
    const pending = [...thread.inFlight.values()];
    if (culprit.code === "QUERY_TIMEOUT" || culprit.code === "CLIENT_CLOSED") {
      const stopped = thread.inFlight.get(running)?.message.tenant.id;
      if (stopped !== undefined) this.offenders.set(stopped, performance.now());
    }
    thread.inFlight.clear();
    for (const wake of thread.releases.values()) wake();
    thread.releases.clear();
    this.conns.set(thread, new Map());
    thread.placed = 0;
    for (const p of pending) {
      const id = p.message.id;
      if (id === running) p.reject(culprit);
      else if (!requestStarted(thread.shared, id)) p.reject(new Resend());
      else p.reject(threadReset(p.message.tenant.name, true));
    }
  }

  /**
   * Starts `thread` afresh when its sql.js heap grew past `maxThreadHeapBytes` — one query's big
   * sort or blob, which sql.js keeps for good (its heap never shrinks; a native server gives it
   * back) — once nothing of it is in use: no request, no release, no connection with a
   * transaction or private state (`answeredHolds`: the one just answered), and strict durability
   * (every commit saved before its answer). Its tenants reopen from storage at their next use and
   * its connections move with them, as after a query time limit, with nothing to reset.
   */
  private recycleIfBloated(thread: Thread, answeredHolds: boolean): void {
    const max = this.options.maxThreadHeapBytes ?? DEFAULT_MAX_THREAD_HEAP_BYTES;
    if (max === 0 || answeredHolds || this.deps.host.saveAfterMs !== undefined) return;
    if (Atomics.load(thread.shared, SHARED_SLOTS.heapMiB) * 2 ** 20 <= max) return;
    if (thread.inFlight.size > 0 || thread.releases.size > 0) return;
    for (const conn of this.conns.get(thread)!.values()) if (conn.holdsState) return;
    const now = performance.now();
    if (now - thread.recycledAt < RECYCLE_MIN_MS) return;
    thread.recycledAt = now;
    this.ended(thread, new TenantliteError("INTERNAL_ERROR", "unreachable: nothing runs"));
    void this.started(thread).catch(() => undefined);
  }

  /** Keeps the process alive for `thread` while the platform waits for it (requests, releases). */
  private waiting(thread: Thread): void {
    const on = thread.inFlight.size > 0 || thread.releases.size > 0;
    if (on !== thread.kept) {
      thread.kept = on;
      thread.handle?.keepAlive?.(on);
    }
  }

  /**
   * Ends every thread, once they gave their tenants back (with their unsaved commits, under
   * relaxed durability) or after 5 s; requests still running then fail with `PLATFORM_CLOSED`.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    const back: Promise<void>[] = [];
    for (const [id, p] of this.places) {
      const t = this.living(p);
      if (t !== undefined)
        back.push(this.releaseFrom(t, id, p, CLOSE_WAIT_MS).catch(() => undefined));
    }
    this.closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(back),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    clearInterval(this.watchdog);
    const closing = platformClosed();
    for (const t of this.threads) {
      const pending = [...t.inFlight.values()];
      t.inFlight.clear();
      t.takeLazy();
      t.handle?.terminate();
      t.handle = undefined;
      for (const p of pending) p.reject(closing);
      for (const wake of t.releases.values()) wake();
      t.releases.clear();
    }
    for (const p of this.places.values()) await Promise.allSettled([...p.saving]);
  }
}

/**
 * How long one statement holds a thread before its idle tenants are placed elsewhere (see
 * `evacuate`): a point read of another tenant then waits this long at most, not the query's time.
 */
const EVACUATE_MS = 200;

/** How long a tenant whose statement was stopped is placed on the quarantine thread. */
const QUARANTINE_MS = 60_000;

/** What `handle` returns for a call it answered itself. */
const ANSWERED = Symbol("answered");

/** How long taking a tenant back for the platform (a migration, an export) waits for a transaction. */
const HOLD_WAIT_MS = 60_000;
/** How long closing waits for the threads to give their tenants back. */
const CLOSE_WAIT_MS = 5000;

/** A tenant as a thread opens it. */
function refOf(info: DatabaseInfo): TenantRef {
  return { id: info.id, name: info.name, sizeLimit: info.sizeLimit };
}

function unavailable(reason: string): TenantliteError {
  return new TenantliteError(
    "ENGINE_UNAVAILABLE",
    `A tenant thread could not run the request (${reason}); retry, and see the server's log`,
  );
}

/** `QUERY_TIMEOUT`: a statement ran past the limit and was stopped. */
export function queryTimeout(ms: number): TenantliteError {
  return new TenantliteError(
    "QUERY_TIMEOUT",
    `The statement ran longer than the query time limit (${ms} ms) and was stopped; its transaction was rolled back. Make it cheaper (an index, a LIMIT), or raise the limit (--max-query-ms, maxQueryMs)`,
  );
}
