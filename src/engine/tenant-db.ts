/**
 * One open tenant: exactly one sql.js `Database` (decision 1 of DESIGN.md), its statement cache,
 * value binding and result reading. Everything here is synchronous and unlocked; `Connection`
 * (connection.ts) multiplexes logical connections onto it and owns transactions and waiting.
 */
import { classify } from "../../parser/index.js";
import { TenantliteError } from "../errors.js";
import { explainEffects, type ProgramEffects } from "./program.js";
import { replaceParams, type ScanResult, scanSql } from "./sql-scan.js";
import { toSqliteError } from "./sqlite-errors.js";
import type { RawDatabase, RawStatement, SqlJsModule } from "./sqljs-types.js";
import {
  type BoundValue,
  fromRaw,
  type InArgs,
  type IntMode,
  type ResultSet,
  ResultSetImpl,
  RowFactory,
  toBound,
  type Value,
} from "./values.js";

/**
 * Checks a statement before it runs and throws a coded error to refuse it. `effects()` compiles
 * `EXPLAIN <sql>` (cached per SQL text until the schema or the attachments change).
 */
export type StatementGuard = (
  sql: string,
  firstWord: string,
  effects: () => ProgramEffects,
) => void;

/** Engine tuning, shared by every tenant of a platform. */
export interface TenantDbOptions {
  /** Prepared statements kept per tenant (LRU by SQL text). Default 64. */
  readonly statementCacheSize?: number;
  /**
   * Journal mode set when a tenant opens. Default `"wal"`, in exclusive locking mode: fast
   * commits and reads, and no shared-memory wal-index — sql.js never gives back the memory of a
   * mapped `-shm` file, so every WAL database closed with one leaks ~64 KB (the process fails
   * after ~16,000 such closes). `shareForAttach()` switches to shared WAL when another tenant
   * attaches this one.
   */
  readonly journalMode?: "wal" | "delete";
}

interface CachedStatement {
  readonly stmt: RawStatement;
  readonly scan: ScanResult;
  readonly columns: string[];
  readonly rows: RowFactory;
  /** Computed on first use; reset when the schema changes. */
  decltypes: string[] | undefined;
  /** The compiled program's effects, computed when a guard asks; reset like `decltypes`. */
  effects: ProgramEffects | undefined;
  /** Whether the statement may change the database or the transaction state. */
  readonly readOnly: boolean;
  /** INSERT/UPDATE/DELETE/REPLACE: report changes. */
  readonly dml: boolean;
  readonly insert: boolean;
}

/** First words of transaction-control statements. */
export const TRANSACTION_WORDS: ReadonlySet<string> = new Set([
  "BEGIN",
  "COMMIT",
  "END",
  "ROLLBACK",
  "SAVEPOINT",
  "RELEASE",
]);
const READ_VERBS = new Set(["SELECT", "VALUES"]);
const INT64_MARK = " AS  INTEGER)";

/** What {@link TenantDb.describe} reports about a statement. */
export interface StatementDescription {
  readonly params: readonly (string | null)[];
  readonly cols: readonly { readonly name: string; readonly decltype: string | null }[];
  readonly isExplain: boolean;
  readonly isReadonly: boolean;
}

/** A tenant's engine: one sql.js connection. */
export class TenantDb {
  readonly raw: RawDatabase;
  private readonly cache = new Map<string, CachedStatement>();
  private readonly cacheSize: number;
  private stmtHandleKey: string | undefined;
  /** An implicit read transaction the engine opened to make consecutive reads cheap. */
  private implicitRead = false;
  private implicitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether an explicit transaction is open (tracked from statements, probed when unsure). */
  private explicitTxn = false;
  /** Whether the explicit transaction executed anything that may have written. */
  private txnWrote = false;
  /** Set when a write committed since the last `takeDirty()`. */
  private dirty = false;
  /** Names of databases attached to this connection (decides whether reads may be batched). */
  attachedCount = 0;
  private closed = false;
  private lastRowidStmt: RawStatement | undefined;

  constructor(
    private readonly sql: SqlJsModule,
    bytes: Uint8Array | undefined,
    options: TenantDbOptions = {},
  ) {
    this.cacheSize = options.statementCacheSize ?? 64;
    this.raw = new sql.Database(bytes ?? null);
    try {
      this.raw.exec(
        options.journalMode === "delete"
          ? "PRAGMA journal_mode=DELETE"
          : // main enters WAL under an exclusive lock (heap wal-index); the connection's default
            // then goes back to NORMAL, so databases it attaches later are shared, not locked.
            "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_schema; PRAGMA locking_mode=NORMAL",
      );
    } catch (e) {
      this.raw.close();
      throw toSqliteError(e);
    }
  }

  /** The sql.js file name of this tenant (`dbfile_<n>`), for ATTACH by other tenants. */
  get filename(): string {
    return this.raw.filename;
  }

  /** Whether an explicit transaction is open on this connection. */
  get inTransaction(): boolean {
    return this.explicitTxn;
  }

  /** Returns and clears the "a write was committed" flag (the platform persists then). */
  takeDirty(): boolean {
    const d = this.dirty;
    this.dirty = false;
    return d;
  }

  /**
   * Runs one statement and reads all its rows. Throws coded errors; never leaves an implicit
   * transaction open across a write.
   */
  execute(
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
    guard?: StatementGuard,
  ): ResultSet {
    this.assertOpen();
    const bound = bindArguments(sql, args, intMode);
    const text = bound.rewritten ?? sql;
    const entry = this.prepare(text);
    const word = entry.scan.firstWord;
    if (word === "ATTACH" || word === "DETACH") {
      // Attachments are managed per logical connection (Connection.attach), never by raw SQL.
      throw new TenantliteError(
        "ATTACH_INVALID",
        "ATTACH and DETACH run through a connection, which resolves database names",
      );
    }
    if (guard !== undefined) {
      guard(text, entry.scan.firstWord, () => {
        entry.effects ??= this.explain(text);
        return entry.effects;
      });
    }
    if (bound.values.length > entry.scan.paramCount && Array.isArray(args)) {
      throw new TenantliteError(
        "ARGS_INVALID",
        `Arguments do not match SQL parameters: too many parameters, expected ${entry.scan.paramCount} found ${bound.values.length}`,
      );
    }
    const values = bound.named
      ? this.namedValues(entry.scan, args as Record<string, unknown>, intMode)
      : bound.values;
    if (!bound.named) this.checkPositional(entry.scan, values.length);
    if (entry.readOnly) this.beginImplicitRead();
    else this.endImplicitRead();
    const { stmt } = entry;
    try {
      this.bindAll(stmt, values);
      const rows = [];
      const exact = intMode !== "number";
      while (stmt.step()) {
        rows.push(this.readRow(stmt, entry, exact, intMode));
      }
      stmt.reset();
      const changes = entry.dml ? this.raw.getRowsModified() : 0;
      const rowid = entry.insert ? this.lastInsertRowid() : undefined;
      this.afterStatement(entry, text);
      const columns = bound.rewritten ? entry.columns.map((c) => unrewriteName(c)) : entry.columns;
      return new ResultSetImpl(columns, this.decltypes(entry, text), rows, changes, rowid);
    } catch (e) {
      stmt.reset();
      this.afterFailure(entry.scan.firstWord);
      throw this.toError(e);
    }
  }

  /**
   * Runs a script of statements in order; stops at the first failure (earlier statements keep
   * their effect, as SQLite's `exec` does). Throws with `statementIndex` set in `cause` chain.
   */
  executeScript(sql: string): void {
    this.assertOpen();
    this.endImplicitRead();
    let index = 0;
    try {
      for (const stmt of this.raw.iterateStatements(sql)) {
        try {
          while (stmt.step()) {
            /* rows of a script are discarded */
          }
        } finally {
          stmt.free();
        }
        index++;
      }
    } catch (e) {
      this.clearCache();
      this.syncTransactionState(true);
      this.txnWrote = true;
      if (!this.explicitTxn) this.dirty = true;
      const err = this.toError(e);
      (err as { statementIndex?: number }).statementIndex = index;
      throw err;
    }
    this.clearCache();
    this.syncTransactionState(true);
    if (this.explicitTxn) this.txnWrote = true;
    else this.dirty = true;
  }

  /**
   * Describes one statement without running it (Hrana `describe`): parameter names (`null` for
   * anonymous `?`), result columns with declared types, whether it is an EXPLAIN, and whether it
   * only reads (SELECT/VALUES, like the engine's own read path).
   */
  describe(sql: string): StatementDescription {
    this.assertOpen();
    const entry = this.prepare(sql);
    const params: (string | null)[] = new Array(entry.scan.paramCount).fill(null);
    for (const p of entry.scan.params) {
      if (p.text !== "?" && !/^\?\d+$/.test(p.text)) params[p.index - 1] ??= p.text;
    }
    const types = this.decltypes(entry, sql);
    return {
      params,
      cols: entry.columns.map((name, i) => ({ name, decltype: types[i] || null })),
      isExplain: entry.scan.firstWord === "EXPLAIN",
      isReadonly: entry.readOnly || entry.scan.firstWord === "EXPLAIN",
    };
  }

  /** The effects of one statement's compiled program, cached with the prepared statement. */
  effectsOf(sql: string): ProgramEffects {
    const entry = this.prepare(sql);
    entry.effects ??= this.explain(sql);
    return entry.effects;
  }

  /** The effects of `sql`'s compiled program (see program.ts). */
  explain(sql: string): ProgramEffects {
    try {
      return explainEffects(this.raw, sql);
    } catch (e) {
      throw this.toError(e);
    }
  }

  /** Whether other connections may read this tenant's file (shared WAL mode). */
  private shared = false;

  /** Whether `shareForAttach()` switched this tenant to shared WAL. */
  get isShared(): boolean {
    return this.shared;
  }

  /**
   * Lets other connections (tenants attaching this one) read its file: leaves exclusive locking
   * for shared WAL, whose readers see the last committed state and never block this writer.
   * Must be called outside a transaction.
   */
  shareForAttach(): void {
    if (this.shared) return;
    this.assertOpen();
    this.endImplicitRead();
    try {
      // Leave WAL (exclusive locks and heap wal-index), drop the exclusive lock with one read,
      // then enter WAL again, now with a shared wal-index.
      this.raw.exec(
        "PRAGMA journal_mode=DELETE; PRAGMA locking_mode=NORMAL; SELECT count(*) FROM sqlite_schema; PRAGMA journal_mode=WAL",
      );
    } catch (e) {
      throw this.toError(e);
    }
    this.shared = true;
  }

  /** Which connection's attachments are in place, and which they are (alias → file). */
  private attachOwner: object | undefined;
  private attached = new Map<string, string>();

  /**
   * Makes the attached databases those of `owner` (alias → sql.js file), detaching another
   * connection's first: attachments belong to logical connections, the sql.js connection is shared.
   */
  useAttachments(owner: object, desired: ReadonlyMap<string, string>): void {
    if (this.attachOwner === owner && sameMap(this.attached, desired)) return;
    this.attachOwner = owner;
    if (this.attached.size === 0 && desired.size === 0) return;
    this.endImplicitRead();
    for (const [alias, file] of [...this.attached]) {
      if (desired.get(alias) === file) continue;
      try {
        this.raw.exec(`DETACH DATABASE ${quoteIdent(alias)}`);
      } catch (e) {
        // E.g. "database u is locked" inside a transaction that read it: it stays attached.
        throw this.toError(e);
      }
      this.attached.delete(alias);
      this.attachedCount--;
      this.invalidateSchemaCaches();
    }
    for (const [alias, file] of desired) {
      if (this.attached.has(alias)) continue;
      try {
        this.raw.exec(`ATTACH DATABASE '${file.replaceAll("'", "''")}' AS ${quoteIdent(alias)}`);
        // This connection locks its own file exclusively; an attached one must stay shared.
        this.raw.exec(`PRAGMA ${quoteIdent(alias)}.locking_mode=NORMAL`);
      } catch (e) {
        throw this.toError(e);
      }
      this.attached.set(alias, file);
      this.attachedCount++;
      this.invalidateSchemaCaches();
    }
  }

  /** The whole database image (commits an implicit read first; fails inside a write transaction). */
  export(): Uint8Array {
    this.assertOpen();
    this.endImplicitRead();
    return this.raw.export();
  }

  /** Rolls back an explicit transaction, if any (used on timeouts and connection close). */
  rollback(): void {
    if (!this.explicitTxn || this.closed) return;
    try {
      this.raw.exec("ROLLBACK");
    } catch {
      /* already rolled back by SQLite */
    }
    this.explicitTxn = false;
    this.txnWrote = false;
  }

  /** Frees every statement and closes the connection. */
  close(): void {
    if (this.closed) return;
    this.endImplicitRead();
    this.clearCache();
    this.lastRowidStmt?.free();
    this.closed = true;
    this.raw.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private assertOpen(): void {
    if (this.closed)
      throw new TenantliteError("DATABASE_CLOSED", "The database connection is closed");
  }

  private prepare(sql: string): CachedStatement {
    const hit = this.cache.get(sql);
    if (hit !== undefined) {
      // LRU: move to the back.
      this.cache.delete(sql);
      this.cache.set(sql, hit);
      return hit;
    }
    this.endImplicitRead();
    let stmt: RawStatement;
    let rest: string;
    try {
      const it = this.raw.iterateStatements(sql);
      const first = it.next();
      if (first.done) {
        throw new TenantliteError("SQL_NO_STATEMENT", "SQL string does not contain any statement");
      }
      first.value.free();
      rest = it.getRemainingSQL();
      stmt = this.raw.prepare(sql);
    } catch (e) {
      throw this.toError(e);
    }
    if (hasStatement(rest)) {
      stmt.free();
      throw new TenantliteError(
        "SQL_MANY_STATEMENTS",
        "SQL string contains more than one statement; use executeMultiple() or batch() for scripts",
      );
    }
    const scan = scanSql(sql);
    const columns = stmt.getColumnNames();
    const verb = scan.verb;
    const entry: CachedStatement = {
      stmt,
      scan,
      columns,
      rows: new RowFactory(columns),
      decltypes: undefined,
      effects: undefined,
      readOnly:
        READ_VERBS.has(verb) || scan.firstWord === "EXPLAIN" || readOnlyPragma(scan.firstWord, sql),
      dml: verb === "INSERT" || verb === "UPDATE" || verb === "DELETE" || verb === "REPLACE",
      insert: verb === "INSERT" || verb === "REPLACE",
    };
    this.cache.set(sql, entry);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.get(oldest)?.stmt.free();
      this.cache.delete(oldest);
    }
    return entry;
  }

  private clearCache(): void {
    for (const e of this.cache.values()) e.stmt.free();
    this.cache.clear();
  }

  private checkPositional(scan: ScanResult, given: number): void {
    if (given < scan.paramCount) {
      const missing = scan.params.find((p) => p.index > given);
      throw new TenantliteError(
        "ARGS_INVALID",
        `Arguments do not match SQL parameters: value for parameter ${missing?.text ?? `?${given + 1}`} not found`,
      );
    }
  }

  private namedValues(
    scan: ScanResult,
    args: Record<string, unknown>,
    intMode: IntMode,
  ): BoundValue[] {
    const out: BoundValue[] = new Array(scan.paramCount);
    for (const p of scan.params) {
      if (out[p.index - 1] !== undefined) continue;
      const name = p.text;
      let value: unknown;
      if (name.length > 1 && name[0] !== "?") {
        if (Object.hasOwn(args, name)) value = args[name];
        else if (Object.hasOwn(args, name.slice(1))) value = args[name.slice(1)];
        else {
          throw new TenantliteError(
            "ARGS_INVALID",
            `Arguments do not match SQL parameters: value for parameter ${name} not found`,
          );
        }
      } else {
        throw new TenantliteError(
          "ARGS_INVALID",
          `Arguments do not match SQL parameters: value for parameter ${name} not found (positional parameters need an array of arguments)`,
        );
      }
      out[p.index - 1] = toBound(value, intMode);
    }
    return out;
  }

  private bindAll(stmt: RawStatement, values: readonly BoundValue[]): void {
    if (values.length === 0) {
      stmt.bind([]);
      return;
    }
    const plain: unknown[] = new Array(values.length);
    let reals: number[] | undefined;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === undefined) plain[i] = null;
      else {
        plain[i] = v.value;
        if (v.kind === "real" && Number.isInteger(v.value) && (v.value | 0) === v.value) {
          reals ??= [];
          reals.push(i);
        }
      }
    }
    stmt.bind(plain);
    if (reals !== undefined) {
      // libSQL binds every JS number as REAL; sql.js would bind int32 values as INTEGER.
      const handle = this.statementHandle(stmt);
      for (const i of reals) {
        this.sql._sqlite3_bind_double(handle, i + 1, (values[i] as { value: number }).value);
      }
    }
  }

  /** The `sqlite3_stmt*` of a sql.js Statement, found once by asking SQLite for its SQL. */
  private statementHandle(stmt: RawStatement): number {
    const bag = stmt as unknown as Record<string, unknown>;
    if (this.stmtHandleKey !== undefined) return bag[this.stmtHandleKey] as number;
    const probeSql = "SELECT 'tenantlite-handle-probe'";
    const probe = this.raw.prepare(probeSql) as unknown as Record<string, unknown>;
    try {
      for (const key of Object.keys(probe)) {
        const v = probe[key];
        if (typeof v === "number" && v > 4096 && Number.isInteger(v)) {
          if (this.sql.UTF8ToString(this.sql._sqlite3_sql(v)) === probeSql) {
            this.stmtHandleKey = key;
            return bag[key] as number;
          }
        }
      }
    } finally {
      (probe as unknown as RawStatement).free();
    }
    throw new TenantliteError(
      "INTERNAL_ERROR",
      "Unsupported sql.js build: statement handle not found",
    );
  }

  private readRow(stmt: RawStatement, entry: CachedStatement, exact: boolean, intMode: IntMode) {
    let raw = stmt.get(null, exact ? { useBigInt: true } : undefined);
    if (!exact) {
      for (let i = 0; i < raw.length; i++) {
        const v = raw[i];
        if (typeof v === "number" && (v > Number.MAX_SAFE_INTEGER || v < Number.MIN_SAFE_INTEGER)) {
          // Maybe an INTEGER beyond 2^53 read through a double: read again exactly.
          raw = stmt.get(null, { useBigInt: true });
          break;
        }
      }
    }
    const values: Value[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) values[i] = fromRaw(raw[i], intMode);
    return entry.rows.make(values);
  }

  private lastInsertRowid(): bigint {
    this.lastRowidStmt ??= this.raw.prepare("SELECT last_insert_rowid()");
    const st = this.lastRowidStmt;
    st.step();
    const v = st.get(null, { useBigInt: true })[0];
    st.reset();
    return typeof v === "bigint" ? v : BigInt(v as number);
  }

  /** Declared types through a temporary view of the same query (sql.js lacks column_decltype). */
  private decltypes(entry: CachedStatement, sql: string): string[] {
    if (entry.decltypes !== undefined) return entry.decltypes;
    const n = entry.columns.length;
    let types: string[] = new Array(n).fill("");
    if (n > 0 && entry.scan.verb === "SELECT" && entry.scan.firstWord !== "EXPLAIN") {
      const body = replaceParams(sql, entry.scan.params, "NULL");
      const wasImplicit = this.implicitRead;
      this.endImplicitRead();
      try {
        this.raw.exec(`CREATE TEMP VIEW "__tenantlite_decltype" AS ${body}`);
        try {
          const info = this.raw.exec(`PRAGMA temp.table_info("__tenantlite_decltype")`)[0];
          if (info !== undefined && info.values.length === n) {
            types = info.values.map((r) => String(r[2] ?? ""));
          }
        } finally {
          this.raw.exec(`DROP VIEW temp."__tenantlite_decltype"`);
        }
      } catch {
        /* not expressible as a view (e.g. uses TEMP objects or a trailing semicolon): no types */
      }
      if (wasImplicit) this.beginImplicitRead();
    }
    entry.decltypes = types;
    return types;
  }

  private afterStatement(entry: CachedStatement, sql: string): void {
    if (entry.readOnly) return;
    const word = entry.scan.firstWord;
    if (TRANSACTION_WORDS.has(word)) {
      const wasInTxn = this.explicitTxn;
      if (word === "BEGIN") {
        this.explicitTxn = true;
        this.txnWrote = false;
      } else if (word === "COMMIT" || word === "END") {
        this.explicitTxn = false;
      } else this.syncTransactionState(false);
      if (!wasInTxn && this.explicitTxn) this.txnWrote = false;
      if (wasInTxn && !this.explicitTxn) {
        if (this.txnWrote && (word === "COMMIT" || word === "END" || word === "RELEASE")) {
          this.dirty = true;
        }
        if (word === "ROLLBACK") this.invalidateSchemaCaches();
        this.txnWrote = false;
      }
      return;
    }
    if (word === "CREATE" || word === "DROP" || word === "ALTER") this.invalidateSchemaCaches(sql);
    if (this.explicitTxn) this.txnWrote = true;
    else this.dirty = true;
  }

  private afterFailure(word: string): void {
    if (this.explicitTxn || TRANSACTION_WORDS.has(word)) this.syncTransactionState(true);
  }

  /** Asks SQLite whether a transaction is open: `BEGIN` succeeds only in autocommit mode. */
  private syncTransactionState(invalidateOnRollback: boolean): void {
    this.endImplicitRead();
    const before = this.explicitTxn;
    try {
      this.raw.exec("BEGIN");
      this.raw.exec("ROLLBACK");
      this.explicitTxn = false;
    } catch {
      this.explicitTxn = true;
    }
    if (before && !this.explicitTxn && invalidateOnRollback) this.invalidateSchemaCaches();
  }

  private invalidateSchemaCaches(keep?: string): void {
    for (const [sql, e] of this.cache) {
      if (sql !== keep) e.decltypes = undefined;
      e.effects = undefined;
    }
  }

  private beginImplicitRead(): void {
    if (this.implicitRead || this.explicitTxn || this.attachedCount > 0) return;
    this.raw.exec("BEGIN");
    this.implicitRead = true;
    this.implicitTimer = setTimeout(() => this.endImplicitRead(), 0);
  }

  /** Ends the engine's implicit read transaction so that writes and user BEGINs run as usual. */
  endImplicitRead(): void {
    if (!this.implicitRead) return;
    this.implicitRead = false;
    clearTimeout(this.implicitTimer);
    this.implicitTimer = undefined;
    if (this.closed) return;
    try {
      this.raw.exec("COMMIT");
    } catch {
      /* nothing to commit */
    }
  }

  private toError(e: unknown): TenantliteError {
    return toSqliteError(e, { isPrimaryKey: (cols) => this.isPrimaryKey(cols) });
  }

  private isPrimaryKey(cols: string): boolean {
    const names = cols.split(", ").map((c) => c.split("."));
    const table = names[0]?.[0];
    if (table === undefined || names.some((n) => n[0] !== table || n.length !== 2)) return false;
    try {
      const info = this.raw.exec(`PRAGMA table_info("${table.replaceAll('"', '""')}")`)[0];
      const pk = (info?.values ?? [])
        .filter((r) => Number(r[5]) > 0)
        .map((r) => String(r[1]))
        .sort();
      const got = names.map((n) => n[1]!).sort();
      return pk.length === got.length && pk.every((c, i) => c === got[i]);
    } catch {
      return false;
    }
  }
}

interface BoundArguments {
  readonly values: BoundValue[];
  readonly named: boolean;
  /** SQL with 64-bit parameters wrapped in `CAST(… AS INTEGER)`, when any. */
  readonly rewritten: string | undefined;
}

function bindArguments(sql: string, args: InArgs | undefined, intMode: IntMode): BoundArguments {
  if (args === undefined || args === null)
    return { values: [], named: false, rewritten: undefined };
  if (Array.isArray(args)) {
    const values = args.map((v) => toBound(v, intMode));
    const wide = values.some((v) => v.kind === "int64");
    return {
      values,
      named: false,
      rewritten: wide ? rewriteInt64(sql, values, undefined) : undefined,
    };
  }
  if (typeof args !== "object") {
    throw new TenantliteError(
      "ARGS_INVALID",
      "Arguments must be an array or an object of named values",
    );
  }
  const record = args as Record<string, unknown>;
  let wide = false;
  for (const k in record) {
    if (typeof record[k] === "bigint") {
      const b = toBound(record[k]);
      if (b.kind === "int64") wide = true;
    }
  }
  return {
    values: [],
    named: true,
    rewritten: wide ? rewriteInt64(sql, undefined, record) : undefined,
  };
}

/**
 * sql.js binds a BigInt as TEXT and cannot bind a 64-bit integer; wrapping such a parameter in
 * `CAST(? AS INTEGER)` (bound as its decimal text) yields exactly the integer. The marker spacing
 * lets result column names be mapped back to what the caller wrote.
 */
function rewriteInt64(
  sql: string,
  positional: readonly BoundValue[] | undefined,
  named: Record<string, unknown> | undefined,
): string {
  const scan = scanSql(sql);
  let out = "";
  let last = 0;
  for (const p of scan.params) {
    let wide = false;
    if (positional !== undefined) wide = positional[p.index - 1]?.kind === "int64";
    else if (named !== undefined) {
      const v = Object.hasOwn(named, p.text) ? named[p.text] : named[p.text.slice(1)];
      wide = typeof v === "bigint" && toBound(v).kind === "int64";
    }
    if (!wide) continue;
    out += `${sql.slice(last, p.start)}CAST(${p.text}${INT64_MARK}`;
    last = p.end;
  }
  return out + sql.slice(last);
}

/**
 * PRAGMAs that only read (`table_info`, `integrity_check`, `user_version` without a value…) are
 * read-only for dirtiness and the implicit read transaction, as `sqlite3_stmt_readonly` says.
 */
function readOnlyPragma(firstWord: string, sql: string): boolean {
  if (firstWord !== "PRAGMA") return false;
  const s = classify(sql).statements[0]?.summary;
  const pragma = s?.readonly === true ? s.pragma : undefined;
  return (
    pragma !== undefined &&
    !/^(foreign_keys|journal_mode|locking_mode|query_only|wal_checkpoint)$/i.test(pragma.name)
  );
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** Quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Whether SQL text holds anything but blanks, semicolons and comments. */
function hasStatement(sql: string): boolean {
  const rest = sql.replace(/\s+|;|--[^\n]*(\n|$)|\/\*[\s\S]*?(\*\/|$)/g, "");
  return rest.length > 0;
}

function unrewriteName(name: string): string {
  if (!name.includes(INT64_MARK)) return name;
  return name.replace(/CAST\(([?:@$][^\s()]*) AS {2}INTEGER\)/g, "$1");
}
