/**
 * A logical connection whose SQLite connection lives on its tenant's thread (tenant-threads.ts).
 * The platform side checks what only it knows before each request — the caller's token, that the
 * database exists, an encrypted tenant's key — and sends the request with the checks its thread
 * applies to every statement. Requests of one connection run one after another, in call order.
 */
import { firstWord } from "../../engine/connection.js";
import { afterTimeout, timeoutError } from "../../engine/connection-errors.js";
import type { BatchStatement, SqlConnection } from "../../engine/connection-policy.js";
import type { StatementDescription } from "../../engine/statement-info.js";
import { emptyResult, type InArgs, type IntMode, type ResultSet } from "../../engine/values.js";
import { databaseNotFound, TenantliteError } from "../../errors.js";
import type { AccessGuard } from "../access-guard.js";
import type { BatchStepSpec, StepOutcome, StepRunner, StepsLimit } from "../batch-steps.js";
import type { Catalog } from "../catalog.js";
import type { TenantCrypto } from "../tenant-keys.js";
import { type AccessPolicy, FULL_ACCESS } from "../types.js";
import { type ConnectionOp, Resend, threadReset, type WireStepOutcome } from "./protocol.js";
import type { TenantThreads, Thread } from "./tenant-threads.js";
import { decodeError, decodeResultSet, encodeResultSet, type WireResultSet } from "./wire.js";

/** How a remote connection learns its caller's access (see `Platform.connect`). */
export interface RemoteAccess {
  /** The access settled so far, or undefined while a token waits to be checked. */
  current(): AccessPolicy | undefined;
  /** Checks the token (once) and answers the access it grants. */
  settle(): Promise<AccessPolicy>;
}

/** Where the connection lives now. */
interface Seat {
  readonly thread: Thread;
  readonly epoch: number;
  readonly id: number;
}

export class RemoteConnection implements SqlConnection, StepRunner {
  /** Keys of encrypted tenants this connection's secret was checked against. */
  readonly verified = new WeakSet<TenantCrypto>();
  private seat: Seat | undefined;
  private inTx = false;
  private stateful = false;
  private closedFlag = false;
  /**
   * Its transaction timed out on its thread and the caller has not ended it yet: the thread's
   * connection says so at its next use, and so does this one should the tenant move meanwhile.
   */
  private expired = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly threads: TenantThreads,
    private readonly catalog: Catalog,
    private readonly guard: AccessGuard,
    private readonly nameOrId: string,
    readonly encryptionKey: string | Uint8Array | undefined,
    private readonly accessOf: RemoteAccess,
    /** The database's name when connected (by id, too): what an error says once it is gone. */
    private readonly shown: string,
    /** See `SqlConnection.maxResultBytes`: sent with each request. */
    public maxResultBytes: number | undefined,
  ) {}

  get inTransaction(): boolean {
    return this.inTx;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** The id of its database (as catalogued; its name or id when the record is gone). */
  get tenantId(): string {
    return this.catalog.getDatabase(this.nameOrId)?.id ?? this.nameOrId;
  }

  /** Whether it holds a transaction or private state (TEMP objects, settings) on its thread. */
  get holdsState(): boolean {
    return this.inTx || this.stateful;
  }

  /** The caller's access (checking its token on first use). */
  async access(): Promise<AccessPolicy> {
    return this.accessOf.current() ?? (await this.accessOf.settle());
  }

  /** What the thread said of this connection's state after a failed request. */
  noteState(inTransaction: boolean, stateful: boolean): void {
    this.inTx = inTransaction;
    this.stateful = stateful;
  }

  /** Its transaction timed out on its thread (and was rolled back there). */
  noteExpired(inTransaction: boolean, stateful: boolean): void {
    this.noteState(inTransaction, stateful);
    this.expired = true;
  }

  /** Runs one statement: on a tenant thread, so never at once. */
  run(sql: string, args: InArgs | undefined, intMode?: IntMode): Promise<ResultSet> {
    return this.execute(sql, args, intMode);
  }

  async execute(
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode = "number",
  ): Promise<ResultSet> {
    const value = await this.request({ kind: "execute", sql, args, intMode });
    return decodeResultSet(value as WireResultSet);
  }

  async batch(
    statements: readonly BatchStatement[],
    intMode: IntMode,
    begin: string | undefined,
  ): Promise<ResultSet[]> {
    const value = await this.request({ kind: "batch", statements, intMode, begin });
    return (value as WireResultSet[]).map(decodeResultSet);
  }

  /** Steps of a conditional batch in one request to the thread (see batch-steps.ts). */
  async steps(
    steps: readonly BatchStepSpec[],
    intMode: IntMode,
    limit: StepsLimit,
    from: number,
    before: readonly (readonly [number, boolean])[],
  ): Promise<StepOutcome[]> {
    const op: ConnectionOp = { kind: "steps", steps, intMode, limit, from, before };
    const value = (await this.request(op)) as WireStepOutcome[];
    return value.map((o) =>
      o.result !== undefined
        ? { result: decodeResultSet(o.result), ms: o.ms }
        : o.error !== undefined
          ? { error: decodeError(o.error) }
          : {},
    );
  }

  async executeScript(sql: string): Promise<void> {
    if (typeof sql !== "string") {
      throw new TenantliteError("ARGS_INVALID", "A script must be a string of SQL");
    }
    await this.request({ kind: "script", sql });
  }

  async describe(sql: string): Promise<StatementDescription> {
    return (await this.request({ kind: "describe", sql })) as StatementDescription;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const seat = this.seat;
    this.seat = undefined;
    if (seat === undefined) return;
    // A statement of this connection that holds its thread now is stopped (tenant-threads.ts).
    this.threads.unregister(seat.thread, seat.epoch, seat.id, this.inTx);
  }

  private request(op: ConnectionOp): Promise<unknown> {
    const run = this.queue.then(() => this.send(op));
    // Without its value: a settled promise keeps it, and the queue would hold the last answer
    // (its rows) for as long as the connection lives — an idle HTTP stream, up to its expiry.
    this.queue = run.then(ignore, ignore);
    return run;
  }

  private async send(op: ConnectionOp): Promise<unknown> {
    for (;;) {
      if (this.closedFlag) throw new TenantliteError("CLIENT_CLOSED", "The connection is closed");
      const access = await this.access();
      const info = this.catalog.getDatabase(this.nameOrId);
      if (
        info === undefined ||
        (access !== FULL_ACCESS && !access.canRead(this.guard.refOf(this.nameOrId)))
      ) {
        throw databaseNotFound(this.shown);
      }
      // A connection in a transaction goes straight to the thread that holds it: the platform
      // may be taking the tenant back (a migration, an export), which waits for the transaction
      // to end — waiting here for that would hold both until the transaction timed out.
      const now = this.seat;
      const acquired =
        this.inTx && now !== undefined && this.threads.runs(now.thread, now.epoch)
          ? now.thread
          : this.threads.acquire(info.id);
      const thread = acquired instanceof Promise ? await acquired : acquired;
      if (this.closedFlag) throw new TenantliteError("CLIENT_CLOSED", "The connection is closed");
      const before = this.seat;
      const seat = this.seatOn(thread, info.name);
      if (this.expired && op.kind !== "describe") {
        // The engine's rule after a timeout (`afterTimeout`). Where the tenant moved, the
        // thread's connection that knew is gone: say it here.
        const then = afterTimeout(op.kind === "execute" ? firstWord(op.sql) : "");
        if (then !== "fails") this.expired = false;
        if (seat !== before) {
          if (then === "quiet") return encodeResultSet(emptyResult());
          throw timeoutError();
        }
      }
      if (info.encrypted || this.encryptionKey !== undefined) await this.threads.verify(info, this);
      try {
        const answer = await this.threads.run(thread, this, seat.id, info, access, op);
        this.inTx = answer.inTransaction;
        this.stateful = answer.stateful;
        return answer.value;
      } catch (e) {
        if (!(e instanceof Resend)) throw e;
        // Its thread ended before the request started: send it again, where the tenant is now.
      }
    }
  }

  /** This connection's seat on `thread`; a reset error once when its state lived elsewhere. */
  private seatOn(thread: Thread, name: string): Seat {
    const seat = this.seat;
    if (seat !== undefined && seat.thread === thread && seat.epoch === thread.epoch) return seat;
    if (seat !== undefined) {
      this.threads.unregister(seat.thread, seat.epoch, seat.id, this.inTx);
      this.seat = undefined;
      if (this.stateful || this.inTx) {
        this.stateful = false;
        this.inTx = false;
        throw threadReset(name);
      }
    }
    const next = { thread, epoch: thread.epoch, id: this.threads.register(thread, this) };
    this.seat = next;
    return next;
  }
}

function ignore(): void {}
