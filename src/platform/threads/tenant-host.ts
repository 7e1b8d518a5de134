/**
 * The tenants of one tenant thread (see tenant-threads.ts): their files, on this thread's own
 * sql.js, and the logical connections the platform runs on them. A connection here is the
 * engine's own (engine/connection.ts); what only the platform decides reaches it as data (the
 * checks of the caller's token, with each request) or by asking (ATTACH targets, a schema
 * parent's migrations, images to open and commits to save).
 */
import { Connection } from "../../engine/connection.js";
import type {
  AttachRequest,
  ConnectionOptions,
  OpenTenant,
} from "../../engine/connection-policy.js";
import type { SqlJsModule } from "../../engine/sqljs-types.js";
import type { TenantFile } from "../../engine/tenant-file.js";
import { unrefTimer } from "../../engine/timers.js";
import { type ResultSet, valueSize } from "../../engine/values.js";
import { heapOf } from "../../engine/wasm-heap.js";
import { TenantliteError } from "../../errors.js";
import { type GuardSpec, guardOf } from "../access-guard.js";
import { readOnlyGuard } from "../attach-policy.js";
import { runConditionally } from "../batch-steps.js";
import { sizeCap, TENANT_OVERHEAD_BYTES } from "../options.js";
import { SchemaParentRouter } from "../schema-parent.js";
import { openTenantFile } from "../tenant-loader.js";
import {
  BEAT_MS,
  type Call,
  type ConnectionOp,
  type FromThread,
  SHARED_SLOTS,
  startRequest,
  type TenantRef,
  type ToThread,
  type WireStepOutcome,
} from "./protocol.js";
import { type ThreadResults, threadResultPool } from "./result-pool.js";
import {
  decodeError,
  decodeResultSet,
  encodeError,
  encodeResultSet,
  type WireResultSet,
} from "./wire.js";

/** How a thread answers the platform. */
export interface HostPort {
  post(message: FromThread, transfer?: ArrayBuffer[]): void;
}

/** What the platform gives a thread when it starts it. */

const MIB = 2 ** 20;

export interface HostOptions {
  /** The platform's connection timeouts (busy, transaction). */
  readonly connection: ConnectionOptions;
  /** Tenants kept open here while unused, at most. */
  readonly maxOpen: number;
  /** Bytes of tenants (images plus per-tenant overhead) kept open here while unused, at most. */
  readonly maxOpenBytes: number;
  /**
   * When commits are saved: with each commit, before its result (strict durability on a data
   * directory), or at most this many milliseconds after it (relaxed durability, and memory
   * storage, where the thread's copy is the data until then).
   */
  readonly saveAfterMs: number | undefined;
  /** The bound on results held at once (result-pool.ts), when there is one. */
  readonly results?: ThreadResults;
}

let useClock = 0;

/** A tenant open on this thread. */
class HostedTenant implements OpenTenant {
  pins = 0;
  lastUsed = ++useClock;
  /** Estimated memory held: its image (as last loaded or saved) plus per-tenant overhead. */
  bytes = TENANT_OVERHEAD_BYTES;
  /** Committed changes not sent for saving yet (see `HostOptions.saveAfterMs`). */
  unsaved = false;
  /** The save in flight, if any. */
  saving: Promise<void> | undefined;
  constructor(
    readonly ref: TenantRef,
    readonly file: TenantFile,
    private readonly host: TenantHost,
  ) {}
  get name(): string {
    return this.ref.name;
  }
  committed(by: object): Promise<void> | undefined {
    return this.host.save(this, by);
  }
  release(): void {
    this.pins--;
  }
}

/** A logical connection run here for the platform. */
interface HostedConnection {
  readonly conn: Connection;
  tenant: TenantRef;
  guard: GuardSpec | undefined;
  schema: boolean;
  /** The request it runs now (shared with the platform while its statement runs). */
  request: number;
  /** Whether that request runs now (between its message and its answer). */
  running: boolean;
  /** Its requests between their message and their answer (one, unless a caller overlaps them). */
  readonly requests: Set<number>;
  /**
   * Saves of commits this request made, as ids of their calls: the platform answers the request
   * once they are durable (see `TenantHost.save`).
   */
  saves: number[];
  /** Bytes of the pool its request's results hold (see result-pool.ts). */
  held: number;
}

/** The tenants and connections of one thread. */
export class TenantHost {
  private readonly tenants = new Map<string, HostedTenant>();
  private readonly opening = new Map<string, Promise<HostedTenant>>();
  /** Tenants loading here whose image is on its way (the platform answered), by their calls. */
  private readonly loads = new Map<number, string>();
  private readonly landed = new Set<string>();
  private readonly conns = new Map<number, HostedConnection>();
  /** The hosted connection of each engine connection (whose commits `save` is told of). */
  private readonly hosted = new WeakMap<object, HostedConnection>();
  /** The sum of the open tenants' `bytes`. */
  private openBytes = 0;
  private readonly calls = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  private nextCall = 0;

  constructor(
    private readonly sql: SqlJsModule,
    private readonly port: HostPort,
    private readonly shared: Int32Array,
    private readonly options: HostOptions,
  ) {}

  /**
   * The heartbeat (see tenant-threads.ts): bumped when a request arrives and every `BEAT_MS`
   * while any runs here, so it stops while a statement holds the thread. The platform watches it
   * only while it waits for a request, so an idle thread does not wake up for it.
   */
  private beat: ReturnType<typeof setInterval> | undefined;
  /** Requests running here (started and not answered). */
  private runs = 0;

  private started(): void {
    Atomics.add(this.shared, SHARED_SLOTS.beat, 1);
    if (this.runs++ > 0) return;
    this.beat = setInterval(() => Atomics.add(this.shared, SHARED_SLOTS.beat, 1), BEAT_MS);
    unrefTimer(this.beat);
  }

  private finished(): void {
    if (--this.runs > 0) return;
    clearInterval(this.beat);
    this.beat = undefined;
  }

  /** Handles a message of the platform. */
  receive(m: ToThread): void {
    switch (m.t) {
      case "run":
        Atomics.store(this.shared, SHARED_SLOTS.received, m.id);
        Atomics.store(this.shared, SHARED_SLOTS.running, m.id);
        void this.run(m);
        return;
      case "close": {
        const hc = this.conns.get(m.conn);
        this.conns.delete(m.conn);
        hc?.conn.close();
        return;
      }
      case "drop": {
        const t = this.tenants.get(m.tenant);
        if (t !== undefined) this.drop(t);
        return;
      }
      case "release":
        void this.release(m.tenant, m.waitMs).then(
          () => this.port.post({ t: "released", id: m.id }),
          (e: unknown) => this.port.post({ t: "released", id: m.id, error: encodeError(e) }),
        );
        return;
      case "answer": {
        const call = this.calls.get(m.id);
        if (call === undefined) return;
        const loaded = this.loads.get(m.id);
        if (loaded !== undefined) this.landed.add(loaded);
        this.calls.delete(m.id);
        if (m.error !== undefined) call.reject(decodeError(m.error));
        else call.resolve(m.value);
        return;
      }
    }
  }

  private async run(m: Extract<ToThread, { t: "run" }>): Promise<void> {
    this.started();
    try {
      await this.answer(m);
    } finally {
      this.finished();
    }
  }

  private async answer(m: Extract<ToThread, { t: "run" }>): Promise<void> {
    let hc = this.conns.get(m.conn);
    if (hc === undefined) {
      hc = this.connection(m.conn, m.tenant);
      this.conns.set(m.conn, hc);
    }
    hc.tenant = m.tenant;
    hc.guard = m.guard;
    hc.conn.maxResultBytes = m.maxResultBytes;
    hc.schema = m.schema;
    hc.request = m.id;
    // It has started (see `startRequest`) once something runs for it (see `connection`), or at
    // once when it may use what the connection holds here: its transaction, its state, another
    // request of its own.
    if (hc.requests.size > 0 || hc.conn.inTransaction || hc.conn.hasPrivateState) {
      startRequest(this.shared, m.id);
    }
    hc.running = true;
    hc.requests.add(m.id);
    let value: unknown;
    let error: ReturnType<typeof encodeError> | undefined;
    try {
      value = await this.perform(hc.conn, m.op);
    } catch (e) {
      if (!(e instanceof TenantliteError) && !(e instanceof RangeError)) {
        console.error("tenantlite: a tenant thread failed a request:", e);
      }
      error = encodeError(e);
    }
    hc.running = false;
    hc.requests.delete(m.id);
    // The heap's size (its high-water mark: sql.js never shrinks it), for the platform to see.
    Atomics.store(this.shared, SHARED_SLOTS.heapMiB, Math.ceil(heapOf(this.sql).u8().length / MIB));
    const { saves, held } = hc;
    hc.saves = [];
    hc.held = 0;
    this.port.post({
      t: "done",
      id: m.id,
      ...(error === undefined ? { value } : { error }),
      ...(saves.length === 0 ? {} : { saves }),
      ...(held === 0 ? {} : { held }),
      inTransaction: hc.conn.inTransaction,
      // (State lost with its tenant's file counts: the platform must not seat it afresh.)
      stateful: hc.conn.hasPrivateState,
    });
  }

  private async perform(conn: Connection, op: ConnectionOp): Promise<unknown> {
    switch (op.kind) {
      case "execute":
        return encodeResultSet(await conn.execute(op.sql, op.args, op.intMode));
      case "batch":
        return (await conn.batch(op.statements, op.intMode, op.begin)).map(encodeResultSet);
      case "steps":
        return runSteps(conn, op);
      case "script":
        await conn.executeScript(op.sql);
        return undefined;
      case "describe":
        return conn.describe(op.sql);
    }
  }

  /** A new logical connection onto the tenant `ref`, with the platform's rules. */
  private connection(id: number, ref: TenantRef): HostedConnection {
    const hc: HostedConnection = {
      conn: undefined as unknown as Connection,
      tenant: ref,
      guard: undefined,
      schema: false,
      request: 0,
      running: false,
      requests: new Set(),
      saves: [],
      held: 0,
    };
    // What may change something on behalf of the connection's request (a statement, about to run
    // or checked before waiting for the write gate; an ATTACH; a schema migration) notes that the
    // request started (see `startRequest`): it is never sent again.
    const started = () => {
      for (const r of hc.requests) startRequest(this.shared, r);
    };
    const own = {
      spec: undefined as GuardSpec | undefined,
      guard: undefined as ReturnType<typeof guardOf> | undefined,
    };
    (hc as { conn: Connection }).conn = new Connection(
      { open: () => this.open(hc.tenant, id) },
      this.options.results === undefined
        ? this.options.connection
        : { ...this.options.connection, resultPool: threadResultPool(this.options.results, hc) },
      {
        guard: (_t, attached) => {
          // The statement about to run is this request's: the platform blames it if it hangs.
          Atomics.store(this.shared, SHARED_SLOTS.running, hc.request);
          started();
          if (own.spec !== hc.guard) {
            own.spec = hc.guard;
            own.guard = hc.guard === undefined ? undefined : guardOf(hc.guard);
          }
          const through = readOnlyGuard(attached);
          const mine = own.guard;
          if (through === undefined || mine === undefined) return mine ?? through;
          return (statement, effects) => {
            through(statement, effects);
            mine(statement, effects);
          };
        },
        attach: (self, request) => {
          started();
          return this.attach(id, self as HostedTenant, request);
        },
        expired: () =>
          this.port.post({
            t: "state",
            conn: id,
            inTransaction: hc.conn.inTransaction,
            stateful: hc.conn.hasPrivateState,
          }),
        router: () =>
          hc.schema
            ? new SchemaParentRouter(async (statements, intMode) => {
                started();
                const results = (await this.call({
                  kind: "migrate",
                  conn: id,
                  tenant: hc.tenant.id,
                  statements,
                  intMode,
                })) as WireResultSet[];
                return results.map(decodeResultSet);
              })
            : undefined,
      },
    );
    this.hosted.set(hc.conn, hc);
    return hc;
  }

  private async attach(
    conn: number,
    self: HostedTenant,
    request: AttachRequest,
  ): Promise<OpenTenant> {
    const target = (await this.call({
      kind: "attach",
      conn,
      self: self.ref.id,
      request,
    })) as TenantRef;
    return this.open(target, conn);
  }

  /** Opens a tenant here (or finds it open) and pins it. */
  private open(ref: TenantRef, conn: number): HostedTenant | Promise<HostedTenant> {
    const t = this.tenants.get(ref.id);
    if (t !== undefined && !t.file.isClosed) {
      t.pins++;
      t.lastUsed = ++useClock;
      return t;
    }
    let loading = this.opening.get(ref.id);
    if (loading === undefined) {
      loading = this.load(ref, conn).finally(() => {
        this.opening.delete(ref.id);
        this.landed.delete(ref.id);
      });
      this.opening.set(ref.id, loading);
    }
    return loading.then((loaded) => {
      loaded.pins++;
      return loaded;
    });
  }

  private async load(ref: TenantRef, conn: number): Promise<HostedTenant> {
    const [call, answered] = this.callWithId({ kind: "load", conn, tenant: ref.id });
    this.loads.set(call, ref.id);
    let got: { bytes: Uint8Array | undefined; tenant: TenantRef };
    try {
      got = (await answered) as typeof got;
    } finally {
      this.loads.delete(call);
    }
    // Kept at once: a release the platform sends after its answer finds it.
    const file = openTenantFile(this.sql, got.tenant, got.bytes);
    file.setSizeLimit(sizeCap(got.tenant.sizeLimit));
    const t = new HostedTenant(got.tenant, file, this);
    t.bytes = TENANT_OVERHEAD_BYTES + (got.bytes?.length ?? 0);
    this.tenants.set(ref.id, t);
    this.openBytes += t.bytes;
    this.evictIdle();
    return t;
  }

  /**
   * After a write ended: sends the tenant's image to be saved when its committed state changed —
   * at once, the result waiting for the save, or within `saveAfterMs`. A failed save drops the
   * tenant here (the next use opens the stored image). `by`: the engine connection whose write
   * ended; while its request runs, the platform waits for the save instead (see below).
   */
  save(t: HostedTenant, by: object): Promise<void> | undefined {
    if (!t.file.takeChanged()) return undefined;
    const after = this.options.saveAfterMs;
    if (after === undefined) {
      const hc = this.hosted.get(by);
      if (hc === undefined || !hc.running) return this.send(t);
      // The platform does the save itself: it answers the request once the save is done (or
      // with its error), so the request's answer goes with the save, not after the save's
      // answer came back here (one wake of each thread fewer per write). The save's answer
      // still comes here, where a failed one drops the tenant.
      const [id, saved] = this.sendSave(t, true);
      hc.saves.push(id);
      saved.catch(() => undefined);
      return undefined;
    }
    if (!t.unsaved) {
      t.unsaved = true;
      setTimeout(() => void this.flush(t).catch(() => undefined), after);
    }
    return undefined;
  }

  /** Sends a tenant's unsaved commits now (once any save in flight is done). */
  private async flush(t: HostedTenant): Promise<void> {
    await t.saving?.catch(() => undefined);
    if (!t.unsaved || t.file.isClosed) return;
    t.unsaved = false;
    t.saving = this.send(t).finally(() => {
      t.saving = undefined;
    });
    await t.saving;
  }

  private send(t: HostedTenant): Promise<void> {
    return this.sendSave(t, false)[1];
  }

  /** Sends the tenant's image to be saved: the call's id, and its outcome. */
  private sendSave(t: HostedTenant, reported: boolean): [number, Promise<void>] {
    const bytes = t.file.export();
    this.resized(t, bytes.length);
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const [id, answered] = this.callWithId(
      { kind: "save", tenant: t.ref.id, bytes, ...(reported ? { reported } : {}) },
      whole ? [bytes.buffer as ArrayBuffer] : [],
    );
    const saved = answered.then(
      () => undefined,
      (e: unknown) => {
        // Back to the last saved state: the next use opens the stored image.
        this.drop(t);
        throw e;
      },
    );
    return [id, saved];
  }

  /** Gives a tenant back to the platform: closed here once no transaction holds it. */
  private async release(id: string, waitMs: number): Promise<void> {
    const loading = this.opening.get(id);
    if (loading !== undefined) {
      // Not answered yet: the platform answers it after this release, with what it does
      // meanwhile (waiting would wait for the platform, which waits for this answer).
      if (!this.landed.has(id)) return;
      // Answered (before this release: the platform posts a load's answer before the tenant's
      // next move): opened first, so the statements that wait for it run, then given back —
      // two threads that each wanted it otherwise took it from each other before either used it.
      await loading.catch(() => undefined);
    }
    const t = this.tenants.get(id);
    if (t === undefined) return;
    // It stays open here, serving every connection, until no transaction holds it — its own
    // (the write gate) or one that reads it attached (else that transaction's next statement
    // would find the alias gone); one that holds it past `waitMs` keeps it here and the release
    // fails with SQLITE_BUSY — it neither stalls the tenant's readers meanwhile nor waits for good.
    const until = Date.now() + waitMs;
    for (let taken = false; !taken; ) {
      await this.attachedFree(t, until);
      taken = await t.file.gate.hold(
        () => {
          // Attached by a transaction while the gate was waited for: wait again.
          if (this.readAttached(t)) return false;
          // (Another release or a drop may have taken it meanwhile.)
          if (this.tenants.get(id) === t) this.forget(t);
          return this.flush(t).then(
            () => true,
            () => true,
          );
        },
        Math.max(0, until - Date.now()),
      );
    }
    // Statements already waiting for its write lock run first (one that came after the platform
    // asked would otherwise find it closed), and transactions that attached it before it was
    // taken end first, if they do in time; new ones load it again once the platform is done.
    while (t.file.gate.busy) await t.file.gate.hold(() => this.flush(t).catch(() => undefined));
    await this.attachedFree(t, until).catch(() => undefined);
    t.file.close();
  }

  /** Waits until no transaction here reads `t` attached; SQLITE_BUSY once `until` passed. */
  private async attachedFree(t: HostedTenant, until: number): Promise<void> {
    while (this.readAttached(t)) {
      if (Date.now() >= until) {
        throw new TenantliteError(
          "SQLITE_BUSY",
          `database is locked: a transaction reads "${t.name}" attached`,
          { rawCode: 5 },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Whether a transaction of a connection here reads `t` through an attachment. */
  private readAttached(t: HostedTenant): boolean {
    for (const hc of this.conns.values()) if (hc.conn.readsAttached(t.file)) return true;
    return false;
  }

  private drop(t: HostedTenant): void {
    if (this.tenants.get(t.ref.id) === t) this.forget(t);
    void t.file.gate.hold(() => t.file.close()).catch(() => t.file.close());
  }

  /** A tenant's image size changed (loaded, saved). */
  private resized(t: HostedTenant, imageBytes: number): void {
    if (this.tenants.get(t.ref.id) === t) this.openBytes -= t.bytes;
    t.bytes = TENANT_OVERHEAD_BYTES + imageBytes;
    if (this.tenants.get(t.ref.id) === t) this.openBytes += t.bytes;
  }

  /** Removes a tenant from the open set (the caller closes it). */
  private forget(t: HostedTenant): void {
    this.tenants.delete(t.ref.id);
    this.openBytes -= t.bytes;
  }

  /**
   * Closes idle tenants, least recently used first, while more than `maxOpen` are open or they
   * hold more than `maxOpenBytes`.
   */
  private evictIdle(): void {
    const over = () =>
      this.tenants.size > this.options.maxOpen || this.openBytes > this.options.maxOpenBytes;
    if (!over()) return;
    const idle = [...this.tenants.values()]
      // One with commits not saved yet stays until they are (its save is due within saveAfterMs).
      .filter((t) => t.pins === 0 && !t.file.gate.busy && !t.unsaved && t.saving === undefined)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const t of idle) {
      if (!over()) break;
      this.forget(t);
      t.file.close();
    }
  }

  private call(call: Call, transfer: ArrayBuffer[] = []): Promise<unknown> {
    return this.callWithId(call, transfer)[1];
  }

  private callWithId(call: Call, transfer: ArrayBuffer[] = []): [number, Promise<unknown>] {
    const id = ++this.nextCall;
    const answered = new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
    });
    this.port.post({ t: "call", id, call }, transfer);
    return [id, answered];
  }
}

/** A value a thread answers with when it is not a result set (type guard for callers). */
export type HostedResult = WireResultSet | WireResultSet[] | undefined | ResultSet;

/**
 * Steps of a conditional batch (see batch-steps.ts), in this one request: each step's rows are
 * read within what the batch's limit has left, as the server counts them.
 */
async function runSteps(
  conn: Connection,
  op: Extract<ConnectionOp, { kind: "steps" }>,
): Promise<WireStepOutcome[]> {
  // Indexed as in the whole batch (its earlier steps: only those the conditions name).
  const ok: boolean[] = new Array(op.from);
  for (const [i, v] of op.before) ok[i] = v;
  const out: WireStepOutcome[] = [];
  let left = op.limit.bytes;
  const run = async (j: number): Promise<WireStepOutcome> => {
    const step = op.steps[j]!;
    conn.maxResultBytes = op.limit.shared ? left : op.limit.bytes;
    const started = performance.now();
    const rs = await conn.execute(step.sql, step.args, op.intMode);
    if (op.limit.shared && step.wantRows) {
      for (const row of rs.rows) for (let i = 0; i < row.length; i++) left -= valueSize(row[i]!);
    }
    return { result: encodeResultSet(rs), ms: performance.now() - started };
  };
  await runConditionally(
    op.steps,
    ok,
    () => conn.inTransaction,
    run,
    (_i, value, error) =>
      out.push(value ?? (error === undefined ? {} : { error: encodeError(error) })),
  );
  return out;
}
