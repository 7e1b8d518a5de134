/**
 * A logical connection onto a tenant. Many of them share the tenant's single sql.js connection:
 * a transaction holds the tenant exclusively (others queue, then fail with SQLITE_BUSY after the
 * busy timeout), and a transaction left idle past its timeout is rolled back, after which the
 * connection reports TRANSACTION_TIMEOUT.
 */
import { TenantliteBatchError, TenantliteError } from "../errors.js";
import type { TenantGate } from "./gate.js";
import type { StatementDescription, TenantDb } from "./tenant-db.js";
import type { InArgs, IntMode, ResultSet } from "./values.js";

/** A tenant opened for use by a connection: its engine, its gate, and its persistence. */
export interface OpenTenant {
  readonly name: string;
  readonly db: TenantDb;
  readonly gate: TenantGate;
  /** Persists committed writes; resolves when durable (strict) or scheduled (relaxed). */
  persist(): Promise<void>;
  /** Ends the use that `TenantSource.open()` began (an open tenant in use is never evicted). */
  release(): void;
}

/**
 * How a connection finds its tenant (the platform opens it lazily and may evict it when idle).
 * Each `open()` pins the tenant until the matching `release()`.
 */
export interface TenantSource {
  open(): Promise<OpenTenant> | OpenTenant;
}

/** Timeouts of a connection. */
export interface ConnectionOptions {
  /** How long a statement waits for another connection's transaction. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** How long a transaction may stay idle before it is rolled back. Default 5000 ms (Turso's). */
  readonly transactionTimeoutMs?: number;
}

/** One statement of a batch. */
export interface BatchStatement {
  readonly sql: string;
  readonly args?: InArgs;
}

/** A logical connection (a client, a Hrana stream, a shell session…) onto one tenant. */
export class Connection {
  private readonly busyTimeoutMs: number;
  private readonly txTimeoutMs: number;
  private tenant: OpenTenant | undefined;
  private txTimer: ReturnType<typeof setTimeout> | undefined;
  private timedOut = false;
  private closedFlag = false;
  /** Hand-over from the fast path to the slow path of `execute`. */
  private pendingOpen: Promise<OpenTenant> | undefined;
  private pendingWait: Promise<void> | undefined;

  constructor(
    private readonly source: TenantSource,
    options: ConnectionOptions = {},
  ) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.txTimeoutMs = options.transactionTimeoutMs ?? 5000;
  }

  /** Whether this connection holds an open transaction. */
  get inTransaction(): boolean {
    return (
      this.tenant !== undefined && this.tenant.gate.holder === this && this.tenant.db.inTransaction
    );
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs one statement. */
  execute(sql: string, args: InArgs | undefined, intMode: IntMode = "number"): Promise<ResultSet> {
    try {
      // Fast path: the tenant is open and free, so no await is needed before running.
      const t = this.tryEnterNow();
      if (t !== undefined) return this.runOne(t, sql, args, intMode);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enter(firstWord(sql)).then((t) =>
      t === undefined ? emptyResult() : this.runOne(t, sql, args, intMode),
    );
  }

  private runOne(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): Promise<ResultSet> {
    let rs: ResultSet;
    try {
      rs = t.db.execute(sql, args, intMode);
    } catch (e) {
      return Promise.reject(e);
    } finally {
      this.settle(t);
    }
    if (t.db.takeDirty()) return t.persist().then(() => rs);
    return Promise.resolve(rs);
  }

  /** Takes the tenant without waiting when that is possible, else `undefined`. */
  private tryEnterNow(): OpenTenant | undefined {
    if (this.closedFlag || this.timedOut) return undefined;
    const held = this.tenant;
    if (held !== undefined && held.gate.holder === this) {
      clearTimeout(this.txTimer);
      return held;
    }
    const opened = this.source.open();
    if (opened instanceof Promise) {
      // Let the slow path take this open (and its pin) over.
      this.pendingOpen = opened;
      return undefined;
    }
    this.tenant = opened;
    clearTimeout(this.txTimer);
    const wait = opened.gate.enter(this, this.busyTimeoutMs);
    if (wait === undefined) return opened;
    this.pendingWait = wait;
    return undefined;
  }

  /** Describes one statement without running it (see `TenantDb.describe`). */
  async describe(sql: string): Promise<StatementDescription> {
    const t = await this.enter("");
    if (t === undefined) throw timeoutError();
    try {
      return t.db.describe(sql);
    } finally {
      this.settle(t);
    }
  }

  /** Runs a script; stops at the first failing statement (earlier ones keep their effect). */
  async executeScript(sql: string): Promise<void> {
    const t = await this.enter("");
    if (t === undefined) return;
    try {
      t.db.executeScript(sql);
    } finally {
      this.settle(t);
    }
    await this.persistIfDirty(t);
  }

  /**
   * Runs statements in order. With `begin` (e.g. `"BEGIN IMMEDIATE"`) they run in a transaction
   * of their own that commits only if all succeed; without it they join the open transaction.
   * A failure throws a `TenantliteBatchError` naming the statement.
   */
  async batch(
    statements: readonly BatchStatement[],
    intMode: IntMode,
    begin: string | undefined,
  ): Promise<ResultSet[]> {
    const t = await this.enter(begin === undefined ? "" : "BEGIN");
    if (t === undefined) throw timeoutError();
    const results: ResultSet[] = [];
    try {
      if (begin !== undefined) {
        if (t.db.inTransaction) {
          throw new TenantliteError(
            "TRANSACTION_ACTIVE",
            "cannot start a batch transaction within a transaction",
          );
        }
        t.db.execute(begin, undefined, intMode);
      }
      for (let i = 0; i < statements.length; i++) {
        const s = statements[i]!;
        try {
          results.push(t.db.execute(s.sql, s.args, intMode));
        } catch (e) {
          if (begin !== undefined) t.db.rollback();
          throw toBatchError(i, e);
        }
      }
      if (begin !== undefined) t.db.execute("COMMIT", undefined, intMode);
    } catch (e) {
      if (begin !== undefined && t.db.inTransaction) t.db.rollback();
      throw e;
    } finally {
      this.settle(t);
    }
    await this.persistIfDirty(t);
    return results;
  }

  /** Rolls back any open transaction and releases the tenant. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    const t = this.tenant;
    clearTimeout(this.txTimer);
    if (t !== undefined && t.gate.holder === this) {
      t.db.rollback();
      t.gate.leave(this);
      t.release();
    }
    this.tenant = undefined;
  }

  /** Takes the tenant; `undefined` means the statement is a no-op after a timed-out transaction. */
  private async enter(word: string): Promise<OpenTenant | undefined> {
    if (this.closedFlag) throw new TenantliteError("CLIENT_CLOSED", "The connection is closed");
    if (this.timedOut) {
      // After a timeout the transaction is gone: ROLLBACK is a harmless no-op, anything else fails.
      if (word === "ROLLBACK") {
        this.timedOut = false;
        return undefined;
      }
      if (word === "COMMIT" || word === "END") this.timedOut = false;
      throw timeoutError();
    }
    let t: OpenTenant;
    let wait: Promise<void> | undefined;
    if (this.pendingWait !== undefined) {
      // tryEnterNow() opened the tenant and queued at its gate already.
      t = this.tenant!;
      wait = this.pendingWait;
      this.pendingWait = undefined;
    } else {
      const holding = this.tenant !== undefined && this.tenant.gate.holder === this;
      const opening = this.pendingOpen;
      this.pendingOpen = undefined;
      t = holding ? this.tenant! : await (opening ?? this.source.open());
      this.tenant = t;
      clearTimeout(this.txTimer);
      wait = t.gate.enter(this, this.busyTimeoutMs);
    }
    if (wait !== undefined) {
      try {
        await wait;
      } catch (e) {
        t.release();
        throw e;
      }
    }
    return t;
  }

  /** After a statement: keep the tenant while a transaction is open (with an idle timer), else release it. */
  private settle(t: OpenTenant): void {
    if (t.db.inTransaction && !t.db.isClosed) {
      this.txTimer = setTimeout(() => this.expire(t), this.txTimeoutMs);
    } else {
      t.gate.leave(this);
      t.release();
    }
  }

  private expire(t: OpenTenant): void {
    if (t.gate.holder !== this) return;
    t.db.rollback();
    this.timedOut = true;
    t.gate.leave(this);
    t.release();
  }

  private async persistIfDirty(t: OpenTenant): Promise<void> {
    if (t.db.takeDirty()) await t.persist();
  }
}

function firstWord(sql: string): string {
  const m = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?(?:\*\/|$))*([A-Za-z]+)/.exec(sql);
  return m?.[1]?.toUpperCase() ?? "";
}

function timeoutError(): TenantliteError {
  return new TenantliteError(
    "TRANSACTION_TIMEOUT",
    "Transaction timed out: it was idle longer than the transaction timeout and was rolled back",
  );
}

function toBatchError(index: number, e: unknown): Error {
  if (e instanceof TenantliteError) {
    return new TenantliteBatchError(index, e.code, e.detail, {
      cause: e,
      ...(e.rawCode === undefined ? {} : { rawCode: e.rawCode }),
    });
  }
  return e as Error;
}

function emptyResult(): ResultSet {
  return {
    columns: [],
    columnTypes: [],
    rows: [],
    rowsAffected: 0,
    lastInsertRowid: undefined,
    toJSON: () => ({
      columns: [],
      columnTypes: [],
      rows: [],
      rowsAffected: 0,
      lastInsertRowid: null,
    }),
  };
}
