/**
 * A logical connection onto a tenant. Many of them share the tenant's single sql.js connection:
 * a transaction holds the tenant exclusively (others queue, then fail with SQLITE_BUSY after the
 * busy timeout), and a transaction left idle past its timeout is rolled back, after which the
 * connection reports TRANSACTION_TIMEOUT.
 */
import { classify, splitStatements } from "../../parser/index.js";
import { TenantliteBatchError, TenantliteError } from "../errors.js";
import type { TenantGate } from "./gate.js";
import type { ProgramEffects } from "./program.js";
import type { StatementDescription, StatementGuard, TenantDb } from "./tenant-db.js";
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

/** What `ATTACH` names, as the parser read it. */
export interface AttachRequest {
  /** The database name or id, unquoted. */
  readonly target: string;
  /** How it was written: `identifier` (`"acme"`, `acme`), `string` (`'acme'`) or `expression`. */
  readonly targetKind: "identifier" | "string" | "expression";
  readonly alias: string;
}

/**
 * Rules a connection applies on behalf of the platform: a guard run before every statement, and
 * the resolution of ATTACH targets (catalog names, permissions) to open, pinned tenants.
 */
export interface ConnectionPolicy {
  /**
   * The checks for statements on a tenant (DDL on schema children, blocked writes, read-only
   * tokens…), asked for before each statement so they follow the tenant's current state.
   */
  readonly guard?: (tenant: OpenTenant) => StatementGuard | undefined;
  /** Resolves an ATTACH; throws a coded refusal. The returned tenant is pinned until released. */
  readonly attach?: (self: OpenTenant, request: AttachRequest) => Promise<OpenTenant>;
  /** Whether the tenant is a schema parent: its writes are migrations (see `migrate`). */
  readonly schemaParent?: (tenant: OpenTenant) => boolean;
  /** Applies statements to a schema parent and all its children; resolves with the parent's results. */
  readonly migrate?: (
    tenant: OpenTenant,
    statements: readonly BatchStatement[],
    intMode: IntMode,
  ) => Promise<ResultSet[]>;
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

/** Most databases one connection may attach (SQLite's and Turso's limit). */
export const MAX_ATTACHED = 10;

const NO_ATTACHMENTS: ReadonlyMap<string, string> = new Map();

/** A logical connection (a client, a Hrana stream, a shell session…) onto one tenant. */
export class Connection {
  /** Attached databases of this connection: alias → the pinned target tenant. */
  private readonly attachments = new Map<string, OpenTenant>();
  /** Statements of an interactive transaction on a schema parent, migrated at COMMIT. */
  private parentTxn: { sql: string; args?: InArgs; writes: boolean }[] | undefined;
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
    private readonly policy: ConnectionPolicy = {},
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
    const word = firstWord(sql);
    if (word !== "ATTACH" && word !== "DETACH") {
      try {
        // Fast path: the tenant is open and free, so no await is needed before running.
        const t = this.tryEnterNow();
        if (t !== undefined) return this.runOne(t, sql, args, intMode);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.enter(word).then(async (t) => {
      if (t === undefined) return emptyResult();
      if (this.policy.schemaParent?.(t) === true && word !== "ATTACH" && word !== "DETACH") {
        return this.parentStatement(t, sql, args, intMode);
      }
      let rs: ResultSet;
      try {
        rs = await this.runAny(t, sql, args, intMode, word);
      } finally {
        this.settle(t);
      }
      await this.persistIfDirty(t);
      return rs;
    });
  }

  private runOne(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): Promise<ResultSet> {
    if (this.policy.schemaParent?.(t) === true) return this.parentStatement(t, sql, args, intMode);
    let rs: ResultSet;
    try {
      rs = this.runSync(t, sql, args, intMode);
    } catch (e) {
      return Promise.reject(e);
    } finally {
      this.settle(t);
    }
    if (t.db.takeDirty()) return t.persist().then(() => rs);
    return Promise.resolve(rs);
  }

  /** Runs any statement while holding the tenant: ATTACH/DETACH here, the rest on the engine. */
  private async runAny(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
    word = firstWord(sql),
  ): Promise<ResultSet> {
    if (word === "ATTACH") return this.attach(t, sql);
    if (word === "DETACH") return this.detach(t, sql);
    return this.runSync(t, sql, args, intMode);
  }

  /** Runs a statement on the engine with this connection's attachments in place and its guard. */
  private runSync(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): ResultSet {
    let text = sql;
    if (this.attachments.size > 0) {
      this.syncAttachments(t);
      // BEGIN IMMEDIATE/EXCLUSIVE would take write locks on attached tenants too; the gate
      // already makes this connection's transaction exclusive, so a deferred one is equivalent.
      if (/^\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\b/i.test(sql)) text = "BEGIN DEFERRED";
    } else {
      t.db.useAttachments(this, NO_ATTACHMENTS);
    }
    try {
      return t.db.execute(text, args, intMode, this.guardFor(t));
    } catch (e) {
      throw nameCorruption(t, e);
    }
  }

  private guardFor(t: OpenTenant): StatementGuard | undefined {
    const outer = this.policy.guard?.(t);
    if (this.attachments.size === 0) return outer;
    const aliases = new Set([...this.attachments.keys()].map((a) => a.toLowerCase()));
    return (sql, word, effects) => {
      if (word !== "SELECT" && word !== "VALUES") refuseWritesThrough(aliases, sql, effects);
      outer?.(sql, word, effects);
    };
  }

  /** Puts this connection's attachments in place, dropping those whose tenant was deleted. */
  private syncAttachments(t: OpenTenant): void {
    const desired = new Map<string, string>();
    for (const [alias, target] of this.attachments) {
      if (target.db.isClosed) {
        // The attached database was deleted: the alias disappears with it.
        this.attachments.delete(alias);
        target.release();
        continue;
      }
      desired.set(alias, target.db.filename);
    }
    try {
      t.db.useAttachments(this, desired);
    } catch (e) {
      throw toError(e);
    }
  }

  private async attach(t: OpenTenant, sql: string): Promise<ResultSet> {
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
      [...this.attachments.keys()].some((a) => a.toLowerCase() === lower)
    ) {
      throw new TenantliteError("SQLITE_ERROR", `database ${alias} is already in use`, {
        rawCode: 1,
      });
    }
    if (this.attachments.size >= MAX_ATTACHED) {
      throw new TenantliteError(
        "SQLITE_ERROR",
        `too many attached databases - max ${MAX_ATTACHED}`,
        { rawCode: 1 },
      );
    }
    if (this.policy.attach === undefined) {
      throw new TenantliteError("ATTACH_FORBIDDEN", "ATTACH is not available on this connection", {
        status: 403,
      });
    }
    const target = await this.policy.attach(t, request);
    this.attachments.set(alias, target);
    try {
      this.syncAttachments(t);
    } catch (e) {
      this.attachments.delete(alias);
      target.release();
      throw e;
    }
    return emptyResult();
  }

  private async detach(t: OpenTenant, sql: string): Promise<ResultSet> {
    const parsed = classify(sql);
    const alias = parsed.statements[0]?.summary.detach?.alias;
    if (parsed.errors.length > 0 || alias === undefined) {
      throw new TenantliteError(
        "SQL_PARSE_ERROR",
        parsed.errors[0]?.message ?? "DETACH takes an alias",
      );
    }
    const key = [...this.attachments.keys()].find((a) => a.toLowerCase() === alias.toLowerCase());
    if (key === undefined) {
      throw new TenantliteError("SQLITE_ERROR", `no such database: ${alias}`, { rawCode: 1 });
    }
    const target = this.attachments.get(key)!;
    this.attachments.delete(key);
    try {
      this.syncAttachments(t);
    } catch (e) {
      // SQLite refused (the database is in use by this transaction): it stays attached.
      this.attachments.set(key, target);
      throw e;
    }
    target.release();
    return emptyResult();
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

  /**
   * Runs a script statement by statement (each through the same rules as `execute`); stops at the
   * first failing statement, whose index is in the error's `statementIndex`. Earlier statements
   * keep their effect, as with SQLite's own `exec`.
   */
  async executeScript(sql: string): Promise<void> {
    if (typeof sql !== "string") {
      throw new TenantliteError("ARGS_INVALID", "A script must be a string of SQL");
    }
    const statements = splitStatements(sql);
    const t = await this.enter(statements.length === 1 ? firstWord(statements[0]!.sql) : "");
    if (t === undefined) return;
    if (
      this.policy.schemaParent?.(t) === true &&
      !t.db.inTransaction &&
      statements.some((s) => this.writes(t, s.sql))
    ) {
      this.settle(t);
      await this.policy.migrate!(
        t,
        statements.map((s) => ({ sql: s.sql })),
        "bigint",
      );
      return;
    }
    try {
      for (let i = 0; i < statements.length; i++) {
        try {
          await this.runAny(t, statements[i]!.sql, undefined, "bigint");
        } catch (e) {
          const err = toError(e);
          (err as { statementIndex?: number }).statementIndex = i;
          throw err;
        }
      }
    } finally {
      this.settle(t);
      await this.persistIfDirty(t);
    }
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
    if (this.policy.schemaParent?.(t) === true) {
      if (begin !== undefined && !t.db.inTransaction) {
        if (statements.some((s) => this.writes(t, s.sql))) {
          this.settle(t);
          try {
            return await this.policy.migrate!(t, statements, intMode);
          } catch (e) {
            throw toBatchError(stepOf(e) ?? 0, e);
          }
        }
      } else if (this.parentTxn !== undefined) {
        for (const s of statements) this.parentTxn.push({ ...s, writes: this.writes(t, s.sql) });
      }
    }
    const results: ResultSet[] = [];
    try {
      if (begin !== undefined) {
        if (t.db.inTransaction) {
          throw new TenantliteError(
            "TRANSACTION_ACTIVE",
            "cannot start a batch transaction within a transaction",
          );
        }
        this.runSync(t, begin, undefined, intMode);
      }
      for (let i = 0; i < statements.length; i++) {
        const s = statements[i]!;
        try {
          results.push(await this.runAny(t, s.sql, s.args, intMode));
        } catch (e) {
          if (begin !== undefined) t.db.rollback();
          throw toBatchError(i, e);
        }
      }
      if (begin !== undefined) this.runSync(t, "COMMIT", undefined, intMode);
    } catch (e) {
      if (begin !== undefined && t.db.inTransaction) t.db.rollback();
      throw e;
    } finally {
      this.settle(t);
    }
    await this.persistIfDirty(t);
    return results;
  }

  /**
   * A statement on a schema parent: a write outside a transaction is a migration; inside an
   * interactive transaction, statements run (so the caller sees their results) and are recorded,
   * and COMMIT rolls the transaction back and applies the recording as one migration.
   */
  private async parentStatement(
    t: OpenTenant,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): Promise<ResultSet> {
    const word = firstWord(sql);
    let settled = false;
    const settle = () => {
      if (!settled) this.settle(t);
      settled = true;
    };
    try {
      if (t.db.inTransaction && this.parentTxn !== undefined) {
        if (word === "COMMIT" || word === "END") {
          const recorded = this.parentTxn;
          this.parentTxn = undefined;
          if (recorded.some((s) => s.writes)) {
            t.db.rollback();
            settle();
            await this.policy.migrate!(t, recorded, intMode);
            return emptyResult();
          }
        } else if (word === "ROLLBACK" && !/^\s*ROLLBACK\s+(TRANSACTION\s+)?TO\b/i.test(sql)) {
          this.parentTxn = undefined;
        } else if (word === "SAVEPOINT" || word === "RELEASE" || word === "ROLLBACK") {
          throw new TenantliteError(
            "SCHEMA_MIGRATION_ERROR",
            "Schema migration error: savepoints are not allowed in a transaction on a schema database (it is applied as one migration at COMMIT)",
          );
        } else {
          this.parentTxn.push(
            args === undefined
              ? { sql, writes: this.writes(t, sql) }
              : { sql, args, writes: this.writes(t, sql) },
          );
        }
      } else if (!t.db.inTransaction && word !== "BEGIN" && this.writes(t, sql)) {
        settle();
        const [rs] = await this.policy.migrate!(
          t,
          [args === undefined ? { sql } : { sql, args }],
          intMode,
        );
        return rs ?? emptyResult();
      }
      const rs = this.runSync(t, sql, args, intMode);
      if (word === "BEGIN" && t.db.inTransaction) this.parentTxn = [];
      if (!t.db.inTransaction) this.parentTxn = undefined;
      settle();
      await this.persistIfDirty(t);
      return rs;
    } finally {
      settle();
    }
  }

  /**
   * Whether a statement may write a schema parent's persistent schemas (so it must be a
   * migration): the parser's verdict, backed by SQLite's program; a statement that does not
   * compile yet (it needs tables an earlier statement creates) counts as a write.
   */
  private writes(t: OpenTenant, sql: string): boolean {
    const summary = classify(sql).statements[0]?.summary;
    if (summary === undefined) return true;
    if (summary.transaction !== "none") return false;
    if (!summary.readonly || summary.ddl) return !summary.schemas.every((x) => x === "temp");
    try {
      const e = t.db.effectsOf(sql);
      for (const schema of e.writes) if (schema !== "temp") return true;
      for (const schema of e.schemaChanges) if (schema !== "temp") return true;
      return false;
    } catch {
      return true;
    }
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
    if (
      t !== undefined &&
      this.attachments.size > 0 &&
      t.gate.holder === undefined &&
      !t.db.isClosed
    ) {
      // Leave no attachment of ours on the shared connection.
      t.db.useAttachments(this, NO_ATTACHMENTS);
    }
    for (const target of this.attachments.values()) target.release();
    this.attachments.clear();
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

/**
 * Pragmas whose argument only selects what to read. Any other pragma given a value on an
 * attached schema is refused, even those SQLite compiles to no write yet (`page_size`,
 * `auto_vacuum` set up a later VACUUM).
 */
const QUERY_PRAGMAS = new Set([
  "table_info",
  "table_xinfo",
  "index_info",
  "index_xinfo",
  "index_list",
  "foreign_key_list",
  "foreign_key_check",
  "integrity_check",
  "quick_check",
  "table_list",
  "cache_size",
]);

/** Refuses a statement whose compiled program writes into an attached (read-only) database. */
function refuseWritesThrough(
  aliases: ReadonlySet<string>,
  sql: string,
  effects: () => ProgramEffects,
): void {
  // Transaction control takes locks but changes nothing; BEGIN is rewritten to DEFERRED above.
  if (/^\s*(COMMIT|END|ROLLBACK|RELEASE|SAVEPOINT|BEGIN)\b/i.test(sql)) return;
  // The parser's verdict first (it also catches pragma assignments SQLite compiles to no
  // write, like `PRAGMA alias.page_size = 1024`), then SQLite's program as the backstop.
  const summary = classify(sql).statements[0]?.summary;
  const parsed = new Set<string>(summary?.schemas.map((x) => x.toLowerCase()) ?? []);
  const pragma = summary?.pragma;
  if (
    pragma !== undefined &&
    pragma.value !== null &&
    pragma.schema !== null &&
    !QUERY_PRAGMAS.has(pragma.name.toLowerCase())
  ) {
    parsed.add(pragma.schema.toLowerCase());
  }
  const { writes } = effects();
  for (const alias of aliases) {
    if (writes.has(alias) || parsed.has(alias) || parsed.has("*")) {
      throw new TenantliteError(
        "SQLITE_READONLY",
        `attempt to write a readonly database: "${alias}" is attached read-only`,
        { rawCode: 8 },
      );
    }
  }
}

/** The failing step of a migration error ("at step N", 1-based), as a 0-based statement index. */
function stepOf(e: unknown): number | undefined {
  const m = /at step (\d+)/.exec(e instanceof Error ? e.message : "");
  return m === null ? undefined : Number(m[1]) - 1;
}

/** A damaged page found while running a statement: say which database is damaged. */
function nameCorruption(t: OpenTenant, e: unknown): unknown {
  if (e instanceof TenantliteError && (e.code === "SQLITE_CORRUPT" || e.code === "SQLITE_NOTADB")) {
    return new TenantliteError("DATABASE_CORRUPT", `database "${t.name}" is damaged: ${e.detail}`, {
      cause: e,
      ...(e.rawCode === undefined ? {} : { rawCode: e.rawCode }),
      status: 500,
    });
  }
  return e;
}

function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new TenantliteError("INTERNAL_ERROR", String(e));
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
