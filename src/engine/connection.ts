/**
 * A logical connection onto a tenant, with a SQLite connection of its own on the tenant's file
 * (see tenant-file.ts): its TEMP objects, pragmas, attachments and `last_insert_rowid` are its
 * own. Reads never wait; a write takes the tenant's write gate for the length of the write (or of
 * the transaction it is in), so other writers queue and fail with SQLITE_BUSY after the busy
 * timeout. A transaction left idle past its timeout is rolled back, after which the connection
 * reports TRANSACTION_TIMEOUT.
 */

import { classify } from "../../parser/index.js";
import { TenantliteError } from "../errors.js";
import {
  afterTimeout,
  nameCorruption,
  timeoutError,
  toBatchError,
  toError,
  transactionClosed,
} from "./connection-errors.js";
import {
  type AttachRequest,
  type BatchStatement,
  type ConnectionOptions,
  type ConnectionPolicy,
  DEFAULT_BUSY_TIMEOUT_MS,
  type OpenTenant,
  type ResultPool,
  type RoutedConnection,
  type SqlConnection,
  type StatementRouter,
  type TenantSource,
} from "./connection-policy.js";
import { Pace } from "./pace.js";
import { splitScript } from "./split-script.js";
import type { StatementDescription, StatementGuard } from "./statement-info.js";
import type { TenantDb } from "./tenant-db.js";
import type { TenantFile } from "./tenant-file.js";
import { emptyResult, type InArgs, type IntMode, type ResultSet } from "./values.js";

const NO_ALIASES: ReadonlySet<string> = new Set();

/** Most databases one connection may attach (SQLite's and Turso's limit). */
export const MAX_ATTACHED = 10;

/** A logical connection (a client, a Hrana stream, a shell session…) onto one tenant. */
export class Connection implements SqlConnection {
  /** Attached databases of this connection: alias → the pinned target tenant and its file. */
  readonly #attachments = new Map<
    string,
    { tenant: OpenTenant; file: TenantFile; request: AttachRequest }
  >();
  /** The router of the tenant's statements, when the platform takes them over. */
  #routerOf: StatementRouter | null | undefined;
  readonly #busyTimeoutMs: number;
  readonly #txTimeoutMs: number;
  /** See `SqlConnection.maxResultBytes`. */
  maxResultBytes: number | undefined;
  readonly #pool: ResultPool | undefined;
  /** The tenant while this connection uses it (a statement runs, a transaction is open). */
  #tenant: OpenTenant | undefined;
  /** This connection's own SQLite connection, and the file it is on. */
  #db: TenantDb | undefined;
  #dbFile: TenantFile | undefined;
  /** Whether this connection holds its tenant's write gate. */
  #writing = false;
  /** A pin held for the connection's private state (TEMP objects, pragmas, attachments). */
  #statePin: OpenTenant | undefined;
  /**
   * Checks an open transaction for idleness. Armed once and moved forward only when it fires (a
   * timer set and cleared around every statement of a transaction costs ~0.35 µs).
   */
  #txTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * When the last statement of the open transaction ended (`performance.now()`), as of the next
   * timers phase of the event loop after it (see `#stampLater`).
   */
  #txIdleSince = 0;
  /** A statement of the open transaction ended in this turn: `#txIdleSince` is not stamped yet. */
  #txUnstamped = false;
  /** Statements of this connection between `enter` and `settle`. */
  #active = 0;
  #timedOut = false;
  #closedFlag = false;

  readonly #source: TenantSource;
  readonly #policy: ConnectionPolicy;

  constructor(
    source: TenantSource,
    options: ConnectionOptions = {},
    policy: ConnectionPolicy = {},
  ) {
    this.#source = source;
    this.#policy = policy;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    this.#txTimeoutMs = options.transactionTimeoutMs ?? 5000;
    this.maxResultBytes = options.maxResultBytes;
    this.#pool = options.resultPool;
  }

  /** Whether this connection holds an open transaction. */
  get inTransaction(): boolean {
    const db = this.#own();
    return db !== undefined && !db.isClosed && db.inTransaction;
  }

  get closed(): boolean {
    return this.#closedFlag;
  }

  /**
   * Whether the connection holds state of its own that a new SQLite connection would not have:
   * an open transaction, TEMP objects, settings, attachments — also state that went with its
   * tenant's file (closed or replaced under it), until its next statement says so
   * (`TRANSACTION_CLOSED`, see `#dbFor`).
   */
  get hasPrivateState(): boolean {
    const db = this.#own();
    return this.#attachments.size > 0 || (db !== undefined && (db.stateful || db.inTransaction));
  }

  /** Runs one statement. */
  execute(sql: string, args: InArgs | undefined, intMode: IntMode = "number"): Promise<ResultSet> {
    try {
      const result = this.run(sql, args, intMode);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Runs one statement: its result when it ran at once, else a promise of it (it waited for the
   * tenant to open or for the write gate, or a save after its commit); throws what failed at once.
   * For callers that answer with a promise of their own anyway (a client transaction), saving one.
   */
  run(
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode = "number",
  ): ResultSet | Promise<ResultSet> {
    const word = firstWord(sql);
    const entered = this.#enter(word);
    if (entered instanceof Promise) {
      return entered.then((t) =>
        t === undefined ? emptyResult() : this.#statement(t, sql, args, intMode, word),
      );
    }
    if (entered === undefined) return emptyResult();
    return this.#statement(entered, sql, args, intMode, word);
  }

  /** One statement while the tenant is pinned; settles the tenant afterwards. */
  #statement(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
    word: string,
  ): ResultSet | Promise<ResultSet> {
    let result: ResultSet | Promise<ResultSet>;
    try {
      if (word === "ATTACH") result = this.#attach(t, sql);
      else if (word === "DETACH") result = this.#detach(t, sql);
      else {
        const router = this.#router(t);
        result =
          router === undefined
            ? this.#run(t, sql, args, intMode)
            : router.statement(this.#routed(t), sql, args, intMode);
      }
    } catch (e) {
      this.#settle(t);
      throw e;
    }
    if (!(result instanceof Promise)) {
      this.#settle(t);
      return result;
    }
    return result.finally(() => this.#settle(t));
  }

  /**
   * Runs a statement on this connection's SQLite connection: takes the write gate first when it
   * writes, and after a commit has the tenant saved (the result waits for the save).
   */
  #run(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): ResultSet | Promise<ResultSet> {
    const db = this.#dbFor(t);
    let text = sql;
    if (this.#attachments.size > 0) {
      const lost = this.#dropDeletedAttachments(db);
      // An attached tenant that moved on (to another tenant thread) or was replaced: attached
      // again, as if it had stayed (a transaction keeps its own where it is: see tenant-host.ts).
      if (lost.length > 0 && !db.inTransaction) {
        return this.#reattach(t, lost).then(() => this.#run(t, sql, args, intMode));
      }
      // BEGIN IMMEDIATE/EXCLUSIVE would take write locks on attached tenants too; the write gate
      // taken below gives this connection's transaction the same guarantee on its own tenant.
      if (/^\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\b/i.test(sql)) text = "BEGIN DEFERRED";
    }
    db.syncSchema(t.file.schemaGeneration);
    if (!this.#writing && db.takesWriteLock(sql)) {
      if (t.file.gate.busy) {
        // What the caller may not do is refused now, as sqld does, not after waiting for another
        // writer (and then as SQLITE_BUSY when the wait times out).
        const guard = this.#guardFor(t);
        if (guard !== undefined) db.check(text, guard);
      }
      const wait = t.file.gate.enter(this, this.#busyTimeoutMs);
      if (wait !== undefined) {
        return wait.then(() => {
          this.#writing = true;
          return this.#runHolding(t, db, text, args, intMode, true);
        });
      }
      this.#writing = true;
      return this.#runHolding(t, db, text, args, intMode, true);
    }
    return this.#runHolding(t, db, text, args, intMode, false);
  }

  /** `entered`: this statement took the write gate (the connection held it not before). */
  #runHolding(
    t: OpenTenant,
    db: TenantDb,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
    entered: boolean,
  ): ResultSet | Promise<ResultSet> {
    let rs: ResultSet;
    try {
      rs = db.execute(sql, args, intMode, this.#guardFor(t), this.maxResultBytes, this.#pool);
    } catch (e) {
      if (entered && !db.ran && db.inTransaction) {
        // Refused before it ran (a read-only token's write, a blocked one, one that does not
        // compile): SQLite took no lock, so neither does the transaction — else one refused
        // write would hold every writer of the tenant off until the transaction ends.
        this.#writing = false;
        t.file.gate.leave(this);
      }
      const saved = this.#afterRun(t, db);
      const err = nameCorruption(t, e);
      return saved === undefined ? Promise.reject(err) : saved.then(() => Promise.reject(err));
    }
    const saved = this.#afterRun(t, db);
    return saved === undefined ? rs : saved.then(() => rs);
  }

  /**
   * After a statement: shares a schema change with the file's other connections; when a write
   * ended (commit or rollback), lets the next writer in and saves what was committed.
   */
  #afterRun(t: OpenTenant, db: TenantDb): Promise<void> | undefined {
    if (db.schemaTouched) {
      db.schemaTouched = false;
      t.file.schemaChanged();
      db.schemaGeneration = t.file.schemaGeneration;
    }
    if (!this.#writing || (db.inTransaction && !db.isClosed)) return undefined;
    this.#writing = false;
    t.file.endReads(db);
    t.file.writeEnded();
    t.file.gate.leave(this);
    return t.committed(this);
  }

  /**
   * This connection's SQLite connection, while it is still its own: the file takes back one left
   * parked between statements at the next turn of the event loop, and closes all when it closes.
   */
  #own(): TenantDb | undefined {
    if (this.#db !== undefined && this.#db.lessee !== this) this.#db = undefined; // taken back
    return this.#db;
  }

  /** This connection's SQLite connection on the tenant's current file. */
  #dbFor(t: OpenTenant): TenantDb {
    const db = this.#own();
    if (db !== undefined && this.#dbFile === t.file && !db.isClosed) {
      t.file.unpark(db);
      return db;
    }
    if (db !== undefined) {
      this.#dbFile?.giveBack(db, this);
      if (db.stateful || db.inTransaction) {
        // The tenant was closed or replaced under this connection: its state is gone.
        this.#db = undefined;
        throw new TenantliteError(
          "TRANSACTION_CLOSED",
          `The connection to database "${t.name}" was reset (the database was closed or replaced): its transaction, TEMP objects and settings are gone`,
        );
      }
    }
    this.#db = t.file.lease(this);
    this.#dbFile = t.file;
    return this.#db;
  }

  #guardFor(t: OpenTenant): StatementGuard | undefined {
    const aliases =
      this.#attachments.size === 0
        ? NO_ALIASES
        : new Set([...this.#attachments.keys()].map((a) => a.toLowerCase()));
    return this.#policy.guard?.(t, aliases);
  }

  /** The router of `t`'s statements (asked once per connection), if the platform routes them. */
  #router(t: OpenTenant): StatementRouter | undefined {
    if (this.#routerOf === undefined) this.#routerOf = this.#policy.router?.(t) ?? null;
    return this.#routerOf ?? undefined;
  }

  /** This connection as its router sees it, on tenant `t`. */
  #routed(t: OpenTenant): RoutedConnection {
    const inTransaction = () => this.inTransaction;
    return {
      get inTransaction(): boolean {
        return inTransaction();
      },
      run: async (sql, args, intMode) => this.#run(t, sql, args, intMode),
      rollback: () => this.#rollbackOwn(t),
      info: (sql) => this.#dbFor(t).infoOf(sql),
      effects: (sql) => this.#dbFor(t).effectsOf(sql),
      empty: emptyResult,
    };
  }

  /** Detaches the attachments whose tenant closed (moved, replaced, deleted); what they were. */
  #dropDeletedAttachments(db: TenantDb): [string, AttachRequest][] {
    const lost: [string, AttachRequest][] = [];
    for (const [alias, { tenant, file, request }] of this.#attachments) {
      if (!file.isClosed && tenant.file === file) continue;
      this.#attachments.delete(alias);
      tenant.release();
      lost.push([alias, request]);
      try {
        db.detach(alias);
      } catch (e) {
        throw toError(e);
      }
    }
    return lost;
  }

  /** Attaches `lost` again, with the checks of a new ATTACH; one that fails stays detached. */
  async #reattach(t: OpenTenant, lost: [string, AttachRequest][]): Promise<void> {
    for (const [alias, request] of lost) {
      const target = await this.#policy.attach!(t, request).catch(() => undefined);
      if (target === undefined) continue;
      try {
        this.#dbFor(t).attach(alias, target.file.filename);
        this.#attachments.set(alias, { tenant: target, file: target.file, request });
      } catch {
        target.release();
      }
    }
  }

  /** Whether a transaction of this connection reads `file` through an attachment. */
  readsAttached(file: TenantFile): boolean {
    if (!this.inTransaction) return false;
    for (const a of this.#attachments.values()) if (a.file === file) return true;
    return false;
  }

  async #attach(t: OpenTenant, sql: string): Promise<ResultSet> {
    const parsed = classify(sql);
    const stmt = parsed.statements[0];
    if (
      parsed.errors.length > 0 ||
      parsed.statements.length !== 1 ||
      stmt?.summary.attach === undefined
    ) {
      throw new TenantliteError(
        parsed.errors.length > 0 ? "SQL_PARSE_ERROR" : "ATTACH_INVALID",
        parsed.errors[0]?.message ??
          'ATTACH must be a single statement: ATTACH "<database>" AS alias',
      );
    }
    const request = stmt.summary.attach;
    const alias = request.alias;
    const lower = alias.toLowerCase();
    if (
      lower === "main" ||
      lower === "temp" ||
      [...this.#attachments.keys()].some((a) => a.toLowerCase() === lower)
    ) {
      throw new TenantliteError("SQLITE_ERROR", `database ${alias} is already in use`, {
        rawCode: 1,
      });
    }
    if (this.#attachments.size >= MAX_ATTACHED) {
      throw new TenantliteError(
        "SQLITE_ERROR",
        `too many attached databases - max ${MAX_ATTACHED}`,
        { rawCode: 1 },
      );
    }
    if (this.#policy.attach === undefined) {
      throw new TenantliteError("ATTACH_FORBIDDEN", "ATTACH is not available on this connection");
    }
    const target = await this.#policy.attach(t, request);
    try {
      const db = this.#dbFor(t);
      this.#dropDeletedAttachments(db);
      db.attach(alias, target.file.filename);
      this.#attachments.set(alias, { tenant: target, file: target.file, request });
      this.#afterRun(t, db);
    } catch (e) {
      target.release();
      throw e;
    }
    return emptyResult();
  }

  async #detach(t: OpenTenant, sql: string): Promise<ResultSet> {
    const parsed = classify(sql);
    const alias = parsed.statements[0]?.summary.detach?.alias;
    if (parsed.errors.length > 0 || alias === undefined) {
      throw new TenantliteError(
        "SQL_PARSE_ERROR",
        parsed.errors[0]?.message ?? "DETACH takes an alias",
      );
    }
    const key = [...this.#attachments.keys()].find((a) => a.toLowerCase() === alias.toLowerCase());
    if (key === undefined) {
      throw new TenantliteError("SQLITE_ERROR", `no such database: ${alias}`, { rawCode: 1 });
    }
    const target = this.#attachments.get(key)!;
    // SQLite refuses while this transaction has read it: then it stays attached.
    this.#dbFor(t).detach(key);
    this.#attachments.delete(key);
    target.tenant.release();
    return emptyResult();
  }

  /** Describes one statement without running it (see `TenantDb.describe`). */
  async describe(sql: string): Promise<StatementDescription> {
    const t = await this.#enter("");
    if (t === undefined) throw timeoutError();
    try {
      const db = this.#dbFor(t);
      db.syncSchema(t.file.schemaGeneration);
      return db.describe(sql);
    } finally {
      this.#settle(t);
    }
  }

  /**
   * Runs a script statement by statement (each through the same rules as `execute`); stops at the
   * first failing statement, whose index is in the error's `statementIndex`. Earlier statements
   * keep their effect, as with SQLite's own `exec`.
   */
  async executeScript(sql: string): Promise<void> {
    if (typeof sql !== "string") {
      throw new TenantliteError("ARGS_INVALID", "A script must be a string of SQL");
    }
    const pace = new Pace();
    const statements = await splitScript(sql, pace);
    const t = await this.#enter(statements.length === 1 ? firstWord(statements[0]!) : "");
    if (t === undefined) return;
    try {
      const router = this.#router(t);
      if (router !== undefined && (await router.script(this.#routed(t), statements))) return;
      for (let i = 0; i < statements.length; i++) {
        await pace.turn();
        const s = statements[i]!;
        try {
          await this.#oneOf(t, s, undefined, "bigint");
        } catch (e) {
          const err = toError(e);
          (err as { statementIndex?: number }).statementIndex = i;
          throw err;
        }
      }
    } finally {
      this.#settle(t);
    }
  }

  /** A statement of a script or batch: ATTACH/DETACH, a schema parent's rules, or the engine. */
  #oneOf(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): ResultSet | Promise<ResultSet> {
    const word = firstWord(sql);
    if (word === "ATTACH") return this.#attach(t, sql);
    if (word === "DETACH") return this.#detach(t, sql);
    const router = this.#router(t);
    if (router !== undefined) return router.statement(this.#routed(t), sql, args, intMode);
    return this.#run(t, sql, args, intMode);
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
    const t = await this.#enter(begin === undefined ? "" : "BEGIN");
    if (t === undefined) throw timeoutError();
    try {
      const router = this.#router(t);
      if (router !== undefined && begin !== undefined && !this.inTransaction) {
        const routed = await router.batch(this.#routed(t), statements, intMode);
        if (routed !== undefined) return routed;
      }
      const results: ResultSet[] = [];
      if (begin !== undefined) {
        if (this.inTransaction) {
          throw new TenantliteError(
            "TRANSACTION_ACTIVE",
            "cannot start a batch transaction within a transaction",
          );
        }
        await this.#oneOf(t, begin, undefined, intMode);
      }
      try {
        const pace = new Pace();
        for (let i = 0; i < statements.length; i++) {
          await pace.turn();
          const s = statements[i]!;
          if (begin !== undefined && !this.inTransaction) {
            // A ROLLBACK statement or a firing OR ROLLBACK ended the batch's transaction.
            throw toBatchError(i, transactionClosed());
          }
          try {
            results.push(await this.#oneOf(t, s.sql, s.args, intMode));
          } catch (e) {
            throw toBatchError(i, e);
          }
        }
        if (begin !== undefined) await this.#oneOf(t, "COMMIT", undefined, intMode);
      } catch (e) {
        if (begin !== undefined) await this.#rollbackOwn(t);
        throw e;
      }
      return results;
    } finally {
      this.#settle(t);
    }
  }

  /** Rolls back this connection's transaction, if any, and lets the next writer in. */
  async #rollbackOwn(t: OpenTenant): Promise<void> {
    const db = this.#own();
    if (db === undefined || db.isClosed) return;
    db.rollback();
    await this.#afterRun(t, db);
  }

  /** Rolls back any open transaction and releases the tenant. */
  close(): void {
    if (this.#closedFlag) return;
    this.#closedFlag = true;
    clearTimeout(this.#txTimer);
    const t = this.#tenant;
    const db = this.#own();
    if (db !== undefined) this.#dbFile?.giveBack(db, this, true);
    else this.#dbFile?.done(this);
    if (t !== undefined) {
      if (this.#writing) {
        this.#writing = false;
        t.file.gate.leave(this);
      }
      t.release();
    }
    for (const { tenant } of this.#attachments.values()) tenant.release();
    this.#attachments.clear();
    this.#statePin?.release();
    this.#statePin = undefined;
    this.#tenant = undefined;
    this.#db = undefined;
  }

  /**
   * Pins the tenant for one statement (or finds it pinned by this connection's transaction);
   * `undefined` means the statement is a no-op after a timed-out transaction.
   */
  #enter(word: string): OpenTenant | Promise<OpenTenant | undefined> | undefined {
    if (this.#closedFlag) throw new TenantliteError("CLIENT_CLOSED", "The connection is closed");
    if (this.#timedOut) {
      // After a timeout the transaction is gone: ROLLBACK is a harmless no-op, anything else fails.
      const then = afterTimeout(word);
      if (then !== "fails") this.#timedOut = false;
      if (then === "quiet") return undefined;
      throw timeoutError();
    }
    // A transaction's idle timer may stay armed: it leaves a connection with statements running.
    if (this.#tenant !== undefined) {
      this.#active++;
      return this.#tenant;
    }
    const opened = this.#source.open();
    if (opened instanceof Promise) {
      return opened.then((t) => {
        if (this.#closedFlag) {
          t.release();
          throw new TenantliteError("CLIENT_CLOSED", "The connection is closed");
        }
        if (this.#tenant !== undefined) {
          // Another statement of this connection pinned it meanwhile: one pin is enough.
          t.release();
        } else this.#tenant = t;
        this.#active++;
        return this.#tenant;
      });
    }
    this.#tenant = opened;
    this.#active++;
    return opened;
  }

  /** After a statement: keep the tenant while a transaction is open (with an idle timer), else release it. */
  #settle(t: OpenTenant): void {
    if (this.#tenant !== t) return;
    // Statements of this connection still running keep what they use.
    if (--this.#active > 0) return;
    if (this.inTransaction) {
      if (!this.#txUnstamped) {
        this.#txUnstamped = true;
        Connection.#stampLater(this);
      }
      this.#txTimer ??= setTimeout(() => this.#checkIdle(), this.#txTimeoutMs);
      return;
    }
    if (this.#txTimer !== undefined) {
      clearTimeout(this.#txTimer);
      this.#txTimer = undefined;
    }
    this.#tenant = undefined;
    const db = this.#own();
    if (db?.stateful && !db.isClosed && this.#statePin === undefined) {
      // Private state lives as long as the connection: its pin keeps the tenant open for it.
      this.#statePin = t;
      return;
    }
    // Nothing of this connection's own lives in it: it stays parked with this connection for
    // statements that follow at once; the file takes it back at the next turn of the event loop.
    if (db !== undefined && !db.stateful && !this.#writing) this.#dbFile?.park(db);
    t.release();
  }

  /**
   * The idle timer fired: rolls back a transaction idle for the timeout, or waits for the rest of
   * it (a statement running now re-arms the timer when it settles).
   */
  #checkIdle(): void {
    this.#txTimer = undefined;
    const t = this.#tenant;
    if (t === undefined || this.#active > 0 || !this.inTransaction) return;
    // A statement ended in this turn, before the stamp: the transaction is not idle.
    if (this.#txUnstamped) this.#stampIdle(performance.now());
    const idle = performance.now() - this.#txIdleSince;
    if (idle < this.#txTimeoutMs) {
      this.#txTimer = setTimeout(() => this.#checkIdle(), this.#txTimeoutMs - idle);
      return;
    }
    this.#expire(t);
  }

  /** Notes `now` as when the transaction's last statement ended. */
  #stampIdle(now: number): void {
    if (!this.#txUnstamped) return;
    this.#txUnstamped = false;
    this.#txIdleSince = now;
  }

  /** Connections whose transaction ran a statement since the last stamp. */
  static #unstamped: Connection[] = [];

  /**
   * Has `c`'s transaction stamped idle at the next timers phase of the event loop, with one clock
   * read for every connection that ran a statement since: a clock read per statement was ~0.05 µs
   * of a ~1 µs insert in a transaction. The stamp is never early (whatever ran before it ran after
   * the statement), so a transaction is never rolled back sooner than idle for the timeout; and
   * the idle timer stamps a connection still waiting for its stamp itself.
   */
  static #stampLater(c: Connection): void {
    const list = Connection.#unstamped;
    list.push(c);
    if (list.length > 1) return;
    setTimeout(() => {
      const now = performance.now();
      const these = Connection.#unstamped;
      Connection.#unstamped = [];
      for (const u of these) u.#stampIdle(now);
    }, 0);
  }

  #expire(t: OpenTenant): void {
    if (this.#tenant !== t || !this.inTransaction) return;
    this.#timedOut = true;
    const db = this.#own()!;
    db.rollback();
    void this.#afterRun(t, db)?.catch(() => undefined);
    this.#tenant = undefined;
    if (!db.stateful) {
      this.#db = undefined;
      this.#dbFile?.giveBack(db, this, true);
    }
    t.release();
    this.#policy.expired?.();
  }
}

const firstWords = new Map<string, string>();

/** The first keyword of `sql`, upper case (remembered for the texts seen last). */
export function firstWord(sql: string): string {
  let word = firstWords.get(sql);
  if (word !== undefined) return word;
  const m = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?(?:\*\/|$))*([A-Za-z]+)/.exec(sql);
  word = m?.[1]?.toUpperCase() ?? "";
  if (sql.length <= 1024) {
    if (firstWords.size >= 512) firstWords.clear();
    firstWords.set(sql, word);
  }
  return word;
}
