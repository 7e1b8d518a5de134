/**
 * One SQLite connection (a sql.js `Database`): its statement cache, value binding and result
 * reading. Everything here is synchronous and unlocked. A tenant's file has several (see
 * tenant-file.ts): each logical connection holds one of its own; `Connection` (connection.ts)
 * owns transactions and waiting.
 */
import { classify, type StatementSummary } from "../../parser/index.js";
import { TenantliteError } from "../errors.js";
import {
  type AlterColumnStatement,
  alterColumn,
  alterColumnOf,
  locateTable,
} from "./alter-column.js";
import { explainEffects, type ProgramEffects, vacuumsInto } from "./program.js";
import { replaceParams, type ScanResult, scanSql } from "./sql-scan.js";
import { SqliteError, toSqliteError } from "./sqlite-errors.js";
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
import { registerVectorFunctions } from "./vector.js";
import { checkVectorIndex, rewriteVectorTopK } from "./vector-index.js";

/** A statement as the engine read it: parsed once, then handed to every check. */
export interface StatementInfo {
  readonly sql: string;
  /** The first keyword, upper case (`SELECT`, `PRAGMA`, `WITH`…). */
  readonly firstWord: string;
  /** The parser's verdict; undefined when it could not read the statement (SQLite decides). */
  readonly summary: StatementSummary | undefined;
}

/** Reads a statement once: its first word and the parser's summary. */
export function statementInfo(sql: string, parsed = classify(sql)): StatementInfo {
  return { sql, firstWord: scanSql(sql).firstWord, summary: parsed.statements[0]?.summary };
}

/**
 * Checks a statement before it runs and throws a coded error to refuse it. `effects()` compiles
 * `EXPLAIN <sql>` (cached per SQL text until the schema or the attachments change).
 */
export type StatementGuard = (statement: StatementInfo, effects: () => ProgramEffects) => void;

/** Engine tuning, shared by every tenant of a platform. */
export interface TenantDbOptions {
  /** Prepared statements kept per tenant (LRU by SQL text). Default 64. */
  readonly statementCacheSize?: number;
  /**
   * Journal mode set when a new file is created. `"wal-shared"`: WAL that other connections of
   * the process share (a tenant's file, see tenant-file.ts). `"wal"` (default): WAL under an
   * exclusive lock, no shared wal-index, for a database only this connection uses. `"delete"`:
   * a rollback journal, for scratch copies.
   */
  readonly journalMode?: "wal" | "wal-shared" | "delete";
  /**
   * Open with libSQL's defaults where they differ from SQLite's (`foreign_keys` on). Default
   * true; scratch copies that replay another connection's statements turn it off.
   */
  readonly defaults?: boolean;
}

/**
 * Pragmas that change the whole sql.js instance (every tenant of the process) or the file's
 * locking and journal, which every connection of the tenant relies on: refused for every caller
 * when given a value (reading them is harmless).
 */
const ENGINE_PRAGMAS = new Set([
  "hard_heap_limit",
  "soft_heap_limit",
  "threads",
  "temp_store_directory",
  "data_store_directory",
  "journal_mode",
  "locking_mode",
  "mmap_size",
]);

interface CachedStatement {
  readonly stmt: RawStatement;
  /** When it was last used (the statement cache's clock). */
  used: number;
  readonly scan: ScanResult;
  /**
   * The text SQLite compiled: the statement, or its rewrite (`vector_top_k`, see
   * vector-index.ts), with the rewrite's own parameter offsets.
   */
  readonly compiled: { readonly sql: string; readonly scan: ScanResult };
  readonly info: StatementInfo;
  readonly columns: string[];
  readonly rows: RowFactory;
  /** Computed on first use; reset when the schema changes. */
  decltypes: string[] | undefined;
  /**
   * Declared types handed out before they were computed, at the statement's first run on this
   * schema (see `lazyTypes`); reset like `decltypes`.
   */
  lazy: WeakRef<LazyTypes> | undefined;
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
const SQLITE_ROW = 100;
/** sql.js's read options for integers read exactly (one object, not one per row). */
const BIGINTS = { useBigInt: true } as const;
const INT64_MARK = " AS  INTEGER)";

/** Declared types handed out uncomputed: filled when first read, or before the schema may change. */
interface LazyTypes {
  types: string[] | undefined;
  readonly entry: CachedStatement;
}

/** Results with uncomputed declared types a connection tracks before it computes the oldest. */
const MAX_PENDING_TYPES = 64;

/**
 * Declared types of a query's `n` columns as the file's owner connection finds them, for a
 * connection whose TEMP objects have the names `temp` (lower-cased); undefined when the asker
 * must find them itself (a TEMP object shadows a name of the file's, or the owner cannot).
 */
export type Describer = (body: string, n: number, temp: readonly string[]) => string[] | undefined;
const NO_NAMES: readonly string[] = [];

/**
 * Connections whose results carry declared types not computed yet (see `TenantDb.lazyTypes`):
 * shared by the connections of one file, so that a statement about to change the schema on any of
 * them has every connection compute its pending types first, against the schema they were for.
 */
export interface PendingTypes {
  readonly connections: Set<TenantDb>;
}

/** What {@link TenantDb.describe} reports about a statement. */
export interface StatementDescription {
  readonly params: readonly (string | null)[];
  readonly cols: readonly { readonly name: string; readonly decltype: string | null }[];
  readonly isExplain: boolean;
  readonly isReadonly: boolean;
}

/** One SQLite connection (sql.js `Database`). */
export class TenantDb {
  readonly raw: RawDatabase;
  /** Whether this object created the file (sql.js's `close()` then deletes it). */
  private readonly ownsFile: boolean;
  /**
   * False once the connection holds state of its own another user would notice: TEMP objects,
   * a pragma set, an attachment, or changes (`changes()`, `last_insert_rowid()`).
   */
  pristine = true;
  /**
   * Set once the connection holds state a reopened connection would not have: TEMP objects, a
   * pragma, an attachment. Such a connection keeps its tenant open (see `Connection`).
   */
  stateful = false;
  /** The logical connection this one is lent to (see tenant-file.ts). */
  lessee: object | undefined;
  /** Parked by its lessee between statements, not in use (see `TenantFile.park`). */
  resting = false;
  /** The file's schema generation the cached effects and declared types were computed at. */
  schemaGeneration = 0;
  private readonly cache = new Map<string, CachedStatement>();
  private clock = 0;
  private readonly cacheSize: number;
  private stmtHandleKey: string | undefined;
  /** An implicit read transaction the engine opened to make consecutive reads cheap. */
  private implicitRead = false;
  private implicitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether an explicit transaction is open (tracked from statements, probed when unsure). */
  private explicitTxn = false;
  /** Whether the open transaction changed the file's schema (only this connection sees it yet). */
  private schemaInTxn = false;
  /** Databases attached to this connection: alias → sql.js file. */
  private readonly attached = new Map<string, string>();
  private closed = false;
  private lastRowidStmt: RawStatement | undefined;
  /**
   * Declared types handed out uncomputed, while some result holds them (a result nobody holds
   * needs none).
   */
  private pendingTypes: WeakRef<LazyTypes>[] = [];
  /** Where this connection records that it has pending types (its file's, see tenant-file.ts). */
  pending: PendingTypes = { connections: new Set() };

  /**
   * Creates a database file from `bytes` (an empty one when undefined) and opens a connection on
   * it; closing this connection deletes the file.
   */
  constructor(
    private readonly sql: SqlJsModule,
    bytes: Uint8Array | undefined,
    options: TenantDbOptions = {},
    raw?: RawDatabase,
  ) {
    this.cacheSize = options.statementCacheSize ?? 64;
    this.ownsFile = raw === undefined;
    this.raw = raw ?? new sql.Database(bytes ?? null);
    const journal =
      raw !== undefined
        ? ""
        : options.journalMode === "delete"
          ? "PRAGMA journal_mode=DELETE;"
          : options.journalMode === "wal-shared"
            ? // The read maps the wal-index now: a WAL file whose first connection never read
              // leaks ~130 KB in sql.js for every connection closed on it later (measured).
              "PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_schema;"
            : // main enters WAL under an exclusive lock (heap wal-index); the connection's default
              // then goes back to NORMAL, so databases it attaches later are shared, not locked.
              "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_schema; PRAGMA locking_mode=NORMAL;";
    try {
      // libSQL's vector functions, before anything reads a schema whose indexes call them.
      registerVectorFunctions(sql, this.raw.db);
      this.raw.exec(
        `${journal}${options.defaults === false ? "" : "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"}`,
      );
    } catch (e) {
      this.close();
      throw toSqliteError(e);
    }
  }

  /**
   * Opens another connection on an existing file of this sql.js instance (`dbfile_<n>`).
   *
   * sql.js's API only opens a `Database` on a new file of its own, named `dbfile_` followed by
   * `Math.random()` scaled to 32 bits, and opens an existing file when given no bytes. So the
   * name is chosen by answering that one `Math.random()` call, and checked afterwards: a sql.js
   * that names files otherwise fails here, loudly (and test/engine/connections.test.ts says so).
   */
  static connect(sql: SqlJsModule, filename: string, options: TenantDbOptions = {}): TenantDb {
    const n = /^dbfile_(\d+)$/.exec(filename);
    if (n === null) throw unsupportedSqlJs(`unexpected file name ${JSON.stringify(filename)}`);
    const random = Math.random;
    const wanted = (Number(n[1]) + 0.5) / 0xffffffff;
    let raw: RawDatabase;
    Math.random = () => wanted;
    try {
      raw = new sql.Database(null);
    } catch (e) {
      throw toSqliteError(e);
    } finally {
      Math.random = random;
    }
    if (raw.filename !== filename) {
      // Not ours to delete: drop the connection without sql.js's close (which deletes its file).
      sql._sqlite3_close_v2(raw.db);
      throw unsupportedSqlJs("a second connection could not be opened on a database file");
    }
    return new TenantDb(sql, undefined, options, raw);
  }

  /** `PRAGMA data_version`: changes when another connection commits to this file. */
  dataVersion(): number {
    this.dataVersionStmt ??= this.raw.prepare("PRAGMA data_version");
    const st = this.dataVersionStmt;
    st.step();
    const v = Number(st.get()[0]);
    st.reset();
    return v;
  }

  private dataVersionStmt: RawStatement | undefined;

  /** SQLite's own `max_page_count` before {@link limitSize} first changed it. */
  private unlimitedPages: number | undefined;

  /**
   * Caps the database's size for this connection (`PRAGMA max_page_count`, in whole pages of the
   * file's page size; `undefined` lifts the cap): a write that needs more pages fails with
   * SQLITE_FULL. SQLite never sets it below the file's current size.
   */
  limitSize(maxBytes: number | undefined): void {
    const current = Number(this.raw.exec("PRAGMA max_page_count")[0]?.values[0]?.[0]);
    this.unlimitedPages ??= current;
    let pages = this.unlimitedPages;
    if (maxBytes !== undefined) {
      const pageSize = Number(this.raw.exec("PRAGMA page_size")[0]?.values[0]?.[0] ?? 4096);
      pages = Math.max(1, Math.floor(maxBytes / pageSize));
    }
    this.raw.exec(`PRAGMA max_page_count = ${pages}`);
  }

  /** The database's size in pages. */
  pageCount(): number {
    return Number(this.raw.exec("PRAGMA page_count")[0]?.values[0]?.[0] ?? 0);
  }

  /** Reloads this connection's copy of the schema if another connection changed it. */
  refreshSchema(): void {
    this.raw.exec("SELECT count(*) FROM sqlite_schema");
  }

  /** Folds the WAL into the file and truncates it (after a whole image was copied in). */
  checkpoint(): void {
    this.raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /** Frees every cached statement (the file's contents are about to be replaced). */
  clearStatements(): void {
    this.settleTypes();
    this.clearCache();
  }

  /** The sql.js file name of this tenant (`dbfile_<n>`), for ATTACH by other tenants. */
  get filename(): string {
    return this.raw.filename;
  }

  /** Whether an explicit transaction is open on this connection. */
  get inTransaction(): boolean {
    return this.explicitTxn;
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
    let entry: CachedStatement;
    try {
      entry = this.prepare(text);
    } catch (e) {
      if (e instanceof SqliteError) {
        const alter = libsqlAlterColumn(text);
        if (alter !== undefined) return this.alterColumn(alter, bound.count, guard);
        const error = libsqlSyntaxError(text, e);
        // What SQLite refuses to compile may still be refused for a reason of the caller's (a
        // schema table written on a schema child): let the guard say so from the text alone.
        guard?.(statementInfo(text), () => {
          throw error;
        });
        throw error;
      }
      throw e;
    }
    const word = entry.scan.firstWord;
    if (word === "ATTACH" || word === "DETACH") {
      // Attachments are managed per logical connection (Connection.attach), never by raw SQL.
      throw new TenantliteError(
        "ATTACH_INVALID",
        "ATTACH and DETACH run through a connection, which resolves database names",
      );
    }
    if (guard !== undefined) {
      guard(entry.info, () => {
        entry.effects ??= this.explain(entry.compiled.sql);
        return entry.effects;
      });
    }
    if (bound.count > entry.scan.paramCount && Array.isArray(args)) {
      throw new TenantliteError(
        "ARGS_INVALID",
        `Arguments do not match SQL parameters: too many parameters, expected ${entry.scan.paramCount} found ${bound.count}`,
      );
    }
    const values = bound.named
      ? this.namedValues(entry.scan, args as Record<string, unknown>, intMode)
      : bound.values;
    if (!bound.named) this.checkPositional(entry.scan, bound.count);
    if (entry.readOnly) this.beginImplicitRead();
    else {
      if (this.pending.connections.size > 0) this.settleTypes();
      this.endImplicitRead();
    }
    const { stmt } = entry;
    try {
      if (bound.simple !== undefined) this.bindSimple(stmt, bound.simple);
      else this.bindAll(stmt, values);
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
      return new ResultSetImpl(columns, this.lazyTypes(entry), rows, changes, rowid);
    } catch (e) {
      stmt.reset();
      this.afterFailure(entry.scan.firstWord);
      throw this.toError(e);
    }
  }

  /**
   * libSQL's ALTER TABLE … ALTER COLUMN x TO <definition>, which sql.js cannot compile: checked
   * by the guard (its effects are the schema of the table it finds), then run by alter-column.ts
   * in a savepoint of its own.
   */
  private alterColumn(
    alter: { info: StatementInfo; statement: AlterColumnStatement },
    args: number,
    guard: StatementGuard | undefined,
  ): ResultSet {
    const { info, statement } = alter;
    if (guard !== undefined) {
      guard(info, () => {
        const table = locateTable(this.raw, statement.table);
        const schemas = new Set(table === undefined ? [] : [table.schema]);
        return { writes: schemas, schemaChanges: schemas, schemaTableWrites: schemas };
      });
    }
    const paramCount = info.summary?.params.length ?? 0;
    if (args > paramCount) {
      throw new TenantliteError(
        "ARGS_INVALID",
        `Arguments do not match SQL parameters: too many parameters, expected ${paramCount} found ${args}`,
      );
    }
    this.settleTypes();
    this.endImplicitRead();
    const temp = locateTable(this.raw, statement.table)?.schema === "temp";
    try {
      alterColumn(this.sql, this.raw, statement);
    } finally {
      // Whatever happened, this connection's compiled statements may predate its schema now.
      this.invalidateSchemaCaches();
    }
    this.pristine = false;
    if (temp) this.stateful = true;
    else if (this.explicitTxn) this.schemaInTxn = true;
    else this.schemaTouched = true;
    return new ResultSetImpl([], [], [], 0, undefined);
  }

  /**
   * Runs a script of statements in order; stops at the first failure (earlier statements keep
   * their effect, as SQLite's `exec` does). Throws with `statementIndex` set in `cause` chain.
   */
  executeScript(sql: string): void {
    this.assertOpen();
    this.settleTypes();
    this.endImplicitRead();
    let index = 0;
    try {
      for (const stmt of this.raw.iterateStatements(sql)) {
        try {
          // Compiled just now, after the statements before it ran: checked as `prepare` does.
          if (this.writesFile(stmt.getSQL())) throw vacuumIntoRefused();
          while (stmt.step()) {
            /* rows of a script are discarded */
          }
        } finally {
          stmt.free();
        }
        index++;
      }
    } catch (e) {
      this.afterScript();
      const err = this.toError(e);
      (err as { statementIndex?: number }).statementIndex = index;
      throw err;
    }
    this.afterScript();
  }

  private afterScript(): void {
    this.clearCache();
    this.syncTransactionState(true);
    this.pristine = false;
    this.stateful = true;
    this.schemaTouched = true;
  }

  /**
   * Set when this connection may have changed a schema (DDL ran); the owner of the file clears it
   * and tells the file's other connections.
   */
  schemaTouched = false;

  /** Drops cached effects and declared types computed before the file's schema generation `g`. */
  syncSchema(g: number): void {
    if (g === this.schemaGeneration) return;
    this.schemaGeneration = g;
    this.invalidateSchemaCaches();
    // SQLite compiles against the schema this connection last read: read it again now (a read
    // checks the schema cookie), or statements prepared next would have the old columns.
    this.endImplicitRead();
    try {
      this.refreshSchema();
    } catch {
      /* the statement that follows reports what is wrong */
    }
  }

  /**
   * Describes one statement without running it (Hrana `describe`): parameter names (`null` for
   * anonymous `?`), result columns with declared types, whether it is an EXPLAIN, and whether it
   * only reads (SELECT/VALUES, like the engine's own read path).
   */
  describe(sql: string): StatementDescription {
    this.assertOpen();
    let entry: CachedStatement;
    try {
      entry = this.prepare(sql);
    } catch (e) {
      const alter = e instanceof SqliteError ? libsqlAlterColumn(sql) : undefined;
      if (alter === undefined) throw e;
      const params = alter.info.summary?.params ?? [];
      return {
        params: params.map((p) => (p === "?" || /^\?\d+$/.test(p) ? null : p)),
        cols: [],
        isExplain: false,
        isReadonly: false,
      };
    }
    const params: (string | null)[] = new Array(entry.scan.paramCount).fill(null);
    for (const p of entry.scan.params) {
      if (p.text !== "?" && !/^\?\d+$/.test(p.text)) params[p.index - 1] ??= p.text;
    }
    const types = this.decltypes(entry);
    return {
      params,
      cols: entry.columns.map((name, i) => ({ name, decltype: types[i] || null })),
      isExplain: entry.scan.firstWord === "EXPLAIN",
      isReadonly: entry.readOnly || entry.scan.firstWord === "EXPLAIN",
    };
  }

  /**
   * Whether running `sql` takes the file's write lock: anything but reads and the transaction
   * statements that take none (`BEGIN [DEFERRED]`, `COMMIT`, `ROLLBACK`, savepoints).
   */
  takesWriteLock(sql: string): boolean {
    let entry: CachedStatement;
    try {
      entry = this.prepare(sql);
    } catch {
      // libSQL's ALTER COLUMN … TO, which sql.js cannot compile, writes the schema it names.
      try {
        const schemas = libsqlAlterColumn(sql)?.info.summary?.schemas;
        return schemas?.some((x) => x !== "temp") === true;
      } catch {
        return false; // EXPLAIN of it: `execute` refuses it
      }
    }
    if (entry.readOnly) return false;
    const word = entry.scan.firstWord;
    if (word === "BEGIN") return /^\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\b/i.test(sql);
    if (TRANSACTION_WORDS.has(word) || word === "ATTACH" || word === "DETACH") return false;
    // Writes to this connection's own TEMP objects lock nothing the file's others use (the
    // parser's word is enough here: were it wrong, SQLite's own lock would answer SQLITE_BUSY).
    const schemas = entry.info.summary?.schemas;
    return schemas === undefined || schemas.length === 0 || schemas.some((x) => x !== "temp");
  }

  /**
   * A statement as read once by the engine (cached with the prepared statement); read afresh
   * when SQLite cannot compile it yet (it needs what an earlier statement creates).
   */
  infoOf(sql: string): StatementInfo {
    try {
      return this.prepare(sql).info;
    } catch {
      return statementInfo(sql);
    }
  }

  /** The effects of one statement's compiled program, cached with the prepared statement. */
  effectsOf(sql: string): ProgramEffects {
    const entry = this.prepare(sql);
    entry.effects ??= this.explain(entry.compiled.sql);
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

  /** Attaches another tenant's file (sql.js name) as `alias`; names were resolved by the caller. */
  attach(alias: string, file: string): void {
    this.assertOpen();
    this.settleTypes();
    this.endImplicitRead();
    try {
      this.raw.exec(`ATTACH DATABASE '${file.replaceAll("'", "''")}' AS ${quoteIdent(alias)}`);
    } catch (e) {
      throw this.toError(e);
    }
    this.attached.set(alias, file);
    this.pristine = false;
    this.stateful = true;
    this.invalidateSchemaCaches();
  }

  /** Detaches `alias` (SQLite refuses while this connection's transaction has read it). */
  detach(alias: string): void {
    this.assertOpen();
    this.settleTypes();
    this.endImplicitRead();
    try {
      this.raw.exec(`DETACH DATABASE ${quoteIdent(alias)}`);
    } catch (e) {
      throw this.toError(e);
    }
    this.attached.delete(alias);
    this.invalidateSchemaCaches();
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
    this.settleTypes();
    try {
      this.raw.exec("ROLLBACK");
    } catch {
      /* already rolled back by SQLite */
    }
    this.explicitTxn = false;
    this.schemaInTxn = false;
    this.invalidateSchemaCaches();
  }

  /** Frees every statement and closes the connection (deleting the file if it created it). */
  close(): void {
    if (this.closed) return;
    this.settleTypes();
    this.endImplicitRead();
    this.clearCache();
    this.lastRowidStmt?.free();
    this.dataVersionStmt?.free();
    this.closed = true;
    if (this.ownsFile) {
      try {
        this.raw.close();
      } catch {
        // sql.js's file system refused to delete the file (e.g. too many files open): closing
        // runs from timers, where a throw would end the process; the handle is closed already.
      }
    } else {
      // sql.js's close() would delete the file, which belongs to the tenant: close the handle.
      this.sql._sqlite3_close_v2(this.raw.db);
      this.raw.db = null as unknown as number;
    }
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
      // A hit only notes its time (a Map's delete + set costs ~0.6 µs); a miss evicts by it.
      hit.used = ++this.clock;
      return hit;
    }
    const parsed = classify(sql);
    const info = statementInfo(sql, parsed);
    // SQLite runs most pragmas while compiling them: refuse engine-wide ones before that.
    refuseEnginePragma(info);
    if (info.summary?.vacuumInto === true && info.summary.explain === false) {
      throw vacuumIntoRefused();
    }
    this.endImplicitRead();
    let stmt: RawStatement | undefined;
    let rest = "";
    let compiled = sql;
    try {
      // vector_top_k(…) in FROM becomes an exact search over the index's table.
      compiled = rewriteVectorTopK(this.raw, sql) ?? sql;
      if (parsed.errors.length === 0 && parsed.statements.length === 1) {
        // The parser read exactly one statement: compile it once.
        stmt = this.raw.prepare(compiled);
      } else {
        // Otherwise let SQLite say where its first statement ends.
        const it = this.raw.iterateStatements(compiled);
        try {
          const first = it.next();
          if (first.done) {
            throw new TenantliteError(
              "SQL_NO_STATEMENT",
              "SQL string does not contain any statement",
            );
          }
          rest = it.getRemainingSQL();
        } finally {
          it.return?.(); // frees the statement and the iterator's copy of the SQL
        }
        stmt = this.raw.prepare(compiled);
      }
      // A vector index is checked as libSQL checks it, once SQLite accepted the statement.
      if (info.summary?.kind === "create_index") checkVectorIndex(this.raw, compiled);
    } catch (e) {
      stmt?.free();
      throw this.toError(e);
    }
    if (hasStatement(rest)) {
      stmt.free();
      throw new TenantliteError(
        "SQL_MANY_STATEMENTS",
        "SQL string contains more than one statement; use executeMultiple() or batch() for scripts",
      );
    }
    if (this.writesFile(sql)) {
      stmt.free();
      throw vacuumIntoRefused();
    }
    const scan = scanSql(sql);
    const columns = stmt.getColumnNames();
    const compiledScan = compiled === sql ? scan : scanSql(compiled);
    const verb = scan.verb;
    const entry: CachedStatement = {
      stmt,
      used: ++this.clock,
      scan,
      compiled: { sql: compiled, scan: compiledScan },
      info,
      columns,
      rows: new RowFactory(columns),
      decltypes: undefined,
      lazy: undefined,
      effects: undefined,
      readOnly: READ_VERBS.has(verb) || scan.firstWord === "EXPLAIN" || readOnlyPragma(info),
      dml: verb === "INSERT" || verb === "UPDATE" || verb === "DELETE" || verb === "REPLACE",
      insert: verb === "INSERT" || verb === "REPLACE",
    };
    if (this.cache.size >= this.cacheSize) {
      let oldest: string | undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const [key, e] of this.cache) {
        if (e.used < at) {
          at = e.used;
          oldest = key;
        }
      }
      this.cache.get(oldest!)?.stmt.free();
      this.cache.delete(oldest!);
    }
    this.cache.set(sql, entry);
    return entry;
  }

  /**
   * The backstop behind the parser: whether SQLite compiled `sql` (one statement) to a program
   * that writes a new file by name, which only `VACUUM … INTO` does (ATTACH never reaches here,
   * and SQLite's file functions are not in the build). A statement can only compile to OP_Vacuum
   * when its text has the keyword, so other statements cost one regular-expression test.
   */
  private writesFile(sql: string): boolean {
    if (!/vacuum/i.test(sql)) return false;
    try {
      return vacuumsInto(this.raw, sql);
    } catch {
      // `EXPLAIN <sql>` did not compile although `sql` did: `sql` is an EXPLAIN itself, which
      // never runs its program. Any other reason: refuse rather than guess.
      return scanSql(sql).firstWord !== "EXPLAIN";
    }
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

  /**
   * Binds positional arguments that are all strings, numbers or null (see `bindArguments`), as
   * `bindAll` would, without building a `BoundValue` for each: numbers as REAL (libSQL's way),
   * straight through SQLite's C API when they are all numbers.
   */
  private bindSimple(stmt: RawStatement, args: readonly (string | number | null)[]): void {
    let numbers = args.length > 0;
    for (let i = 0; i < args.length && numbers; i++) numbers = typeof args[i] === "number";
    const sql = this.sql;
    if (numbers) {
      stmt.reset(); // clears the previous bindings, as sql.js's bind does
      const handle = this.statementHandle(stmt);
      for (let i = 0; i < args.length; i++)
        sql._sqlite3_bind_double(handle, i + 1, args[i] as number);
      return;
    }
    stmt.bind(args as unknown[]);
    let handle: number | undefined;
    for (let i = 0; i < args.length; i++) {
      const v = args[i];
      // sql.js binds int32 numbers as INTEGER: bind them again as REAL.
      if (typeof v === "number" && (v | 0) === v) {
        handle ??= this.statementHandle(stmt);
        sql._sqlite3_bind_double(handle, i + 1, v);
      }
    }
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
    let raw = stmt.get(null, exact ? BIGINTS : undefined);
    if (!exact) {
      for (let i = 0; i < raw.length; i++) {
        const v = raw[i];
        if (typeof v === "number" && (v > Number.MAX_SAFE_INTEGER || v < Number.MIN_SAFE_INTEGER)) {
          // Maybe an INTEGER beyond 2^53 read through a double: read again exactly.
          raw = stmt.get(null, BIGINTS);
          break;
        }
      }
    }
    // sql.js's row is ours: converted in place (only integers read exactly and blobs change).
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (typeof v === "bigint" || (typeof v === "object" && v !== null))
        raw[i] = fromRaw(v, intMode);
    }
    return entry.rows.make(raw as Value[]);
  }

  private lastInsertRowid(): bigint {
    this.lastRowidStmt ??= this.raw.prepare("SELECT last_insert_rowid()");
    const st = this.lastRowidStmt;
    // Straight through SQLite's C API (sql.js's step/get/reset cost ~0.3 µs more): the value as a
    // double is exact when it is a safe integer, else it is read as text.
    const sql = this.sql;
    const handle = this.statementHandle(st);
    if (sql._sqlite3_step(handle) === SQLITE_ROW) {
      const d = sql._sqlite3_column_double(handle, 0);
      const v = Number.isSafeInteger(d)
        ? BigInt(d)
        : BigInt(sql.UTF8ToString(sql._sqlite3_column_text(handle, 0)));
      sql._sqlite3_reset(handle);
      return v;
    }
    sql._sqlite3_reset(handle);
    st.step(); // reports what went wrong
    const v = st.get(null, { useBigInt: true })[0];
    st.reset();
    return typeof v === "bigint" ? v : BigInt(v as number);
  }

  /** Declared types through a temporary view of the same query (sql.js lacks column_decltype). */
  private decltypes(entry: CachedStatement): string[] {
    if (entry.decltypes !== undefined) return entry.decltypes;
    const n = entry.columns.length;
    let types: string[] | undefined;
    if (n > 0 && entry.scan.verb === "SELECT" && entry.scan.firstWord !== "EXPLAIN") {
      const body = replaceParams(entry.compiled.sql, entry.compiled.scan.params, "NULL");
      // A connection sees the file's schema, plus its TEMP objects: the file answers (once per
      // query for all its connections) unless a TEMP object may shadow a name of the file's — a
      // query naming a TEMP-only object fails on the file and is probed here. (Not after DDL of
      // its own transaction, which only it sees yet, nor with attachments, which the file lacks.)
      if (!this.schemaInTxn && this.attached.size === 0 && this.describer !== undefined) {
        types = this.describer(body, n, this.stateful ? this.tempNames() : NO_NAMES);
      }
      types ??= this.probeDeclaredTypes(body, n);
    }
    entry.decltypes = types ?? new Array(n).fill("");
    const lazy = entry.lazy?.deref();
    if (lazy !== undefined) lazy.types ??= entry.decltypes;
    return entry.decltypes;
  }

  /**
   * A statement's declared types for its result. They cost a probe of the schema (a temporary
   * view, ~60–400 µs) and most callers never read them, so at a statement's first run on this
   * schema they are a function the result calls when they are first read; from its second run on
   * they are computed at once (and cached with the statement). Nothing may change the schema
   * while some are pending: every path that may (a statement that is not read-only on any
   * connection of the file, a script, ALTER COLUMN, ATTACH/DETACH, a rollback, a new image)
   * computes them first (`settleTypes`). A connection with attachments computes them at once:
   * another tenant may change an attached schema.
   */
  private lazyTypes(entry: CachedStatement): string[] | (() => string[]) {
    if (entry.decltypes !== undefined) return entry.decltypes;
    const n = entry.columns.length;
    if (
      n === 0 ||
      entry.scan.verb !== "SELECT" ||
      entry.scan.firstWord === "EXPLAIN" ||
      entry.lazy !== undefined ||
      this.attached.size > 0
    ) {
      return this.decltypes(entry);
    }
    const lazy: LazyTypes = { types: undefined, entry };
    entry.lazy = new WeakRef(lazy);
    if (this.pendingTypes.length >= MAX_PENDING_TYPES) this.prunePendingTypes();
    this.pendingTypes.push(new WeakRef(lazy));
    this.pending.connections.add(this);
    return () => lazy.types ?? this.decltypes(entry);
  }

  /** Forgets pending types no result holds any more, then computes the oldest half if still many. */
  private prunePendingTypes(): void {
    this.pendingTypes = this.pendingTypes.filter((r) => r.deref()?.types === undefined);
    if (this.pendingTypes.length < MAX_PENDING_TYPES) return;
    for (const r of this.pendingTypes.splice(0, MAX_PENDING_TYPES / 2)) this.settleLazy(r.deref());
  }

  /**
   * Computes every pending declared type of the connections of this file, before something may
   * change the schema they were handed out for.
   */
  settleTypes(): void {
    const { connections } = this.pending;
    if (connections.size === 0) return;
    for (const db of [...connections]) {
      connections.delete(db);
      for (const r of db.pendingTypes.splice(0)) db.settleLazy(r.deref());
    }
  }

  private settleLazy(lazy: LazyTypes | undefined): void {
    if (lazy === undefined || lazy.types !== undefined) return;
    lazy.types = this.closed
      ? new Array(lazy.entry.columns.length).fill("")
      : this.decltypes(lazy.entry);
  }

  /** The names of this connection's TEMP objects, lower-cased (SQLite's names ignore case). */
  private tempNames(): string[] {
    const rows = this.raw.exec("SELECT lower(name) FROM temp.sqlite_schema")[0]?.values ?? [];
    return rows.map((r) => String(r[0]));
  }

  /** The names of the main schema's objects, lower-cased. */
  schemaNames(): string[] {
    const rows = this.raw.exec("SELECT lower(name) FROM main.sqlite_schema")[0]?.values ?? [];
    return rows.map((r) => String(r[0]));
  }

  /**
   * Asks the file (see tenant-file.ts) for the declared types of a query's columns, when this
   * connection may use what the file's owner connection finds.
   */
  describer: Describer | undefined;

  /**
   * Declared types of a query's `n` columns, through a temporary view of it (sql.js lacks
   * `sqlite3_column_decltype`); undefined when the query cannot be a view.
   */
  probeDeclaredTypes(body: string, n: number): string[] | undefined {
    const wasImplicit = this.implicitRead;
    this.endImplicitRead();
    let types: string[] | undefined;
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
      /* not expressible as a view (e.g. a trailing semicolon): no types */
    }
    if (wasImplicit) this.beginImplicitRead();
    return types;
  }

  private afterStatement(entry: CachedStatement, sql: string): void {
    if (entry.readOnly) {
      // Reading a pragma can still set one (`PRAGMA foreign_keys = OFF` is "read-only").
      if (entry.scan.firstWord === "PRAGMA") {
        this.pristine = false;
        this.stateful = true;
      }
      return;
    }
    const word = entry.scan.firstWord;
    if (TRANSACTION_WORDS.has(word)) {
      const wasInTxn = this.explicitTxn;
      const changedSchema = this.schemaInTxn;
      if (word === "BEGIN") {
        this.explicitTxn = true;
      } else if (word === "COMMIT" || word === "END") {
        this.explicitTxn = false;
        this.schemaInTxn = false;
      } else this.syncTransactionState(false);
      if (wasInTxn && !this.explicitTxn) {
        // Rolled back, the transaction's DDL (TEMP too) is undone for this connection alone
        // (nobody else saw it); committed, every connection sees it now.
        if (word === "ROLLBACK") this.invalidateSchemaCaches(sql);
        else if (changedSchema) this.schemaTouched = true;
      }
      return;
    }
    this.pristine = false;
    if (word === "PRAGMA") this.stateful = true;
    if (word === "CREATE" || word === "DROP" || word === "ALTER" || word === "PRAGMA") {
      // Own caches: a pragma (foreign_keys…) or a TEMP object changes this connection's programs.
      this.invalidateSchemaCaches(sql);
      const summary = entry.info.summary;
      const own =
        summary !== undefined &&
        (word === "PRAGMA"
          ? !summary.ddl
          : summary.temp ||
            (summary.schemas.length > 0 && summary.schemas.every((x) => x === "temp")));
      if (own || summary === undefined) this.stateful = true;
      // The file's schema: every connection's caches are stale once the change is committed.
      if (!own) {
        if (this.explicitTxn) this.schemaInTxn = true;
        else this.schemaTouched = true;
      }
    }
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
      this.schemaInTxn = false;
    } catch {
      this.explicitTxn = true;
    }
    if (before && !this.explicitTxn && invalidateOnRollback) this.invalidateSchemaCaches();
  }

  /**
   * After a schema change: drops every cached statement but `keep` (the one running), since
   * SQLite recompiles a statement whose schema changed and its columns may differ from those
   * cached with it (`SELECT *` after `ADD COLUMN`), with its declared types and effects.
   */
  private invalidateSchemaCaches(keep?: string): void {
    for (const [sql, e] of this.cache) {
      if (sql === keep) {
        e.effects = undefined;
        e.decltypes = undefined;
        e.lazy = undefined;
      } else {
        e.stmt.free();
        this.cache.delete(sql);
      }
    }
  }

  private beginImplicitRead(): void {
    if (this.implicitRead || this.explicitTxn || this.attached.size > 0) return;
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
  /** How many positional arguments were given. */
  readonly count: number;
  /** The positional arguments themselves, when each is a string, a number or null. */
  readonly simple?: readonly (string | number | null)[];
  readonly named: boolean;
  /** SQL with 64-bit parameters wrapped in `CAST(… AS INTEGER)`, when any. */
  readonly rewritten: string | undefined;
}

const NO_VALUES: BoundValue[] = [];

function bindArguments(sql: string, args: InArgs | undefined, intMode: IntMode): BoundArguments {
  if (args === undefined || args === null)
    return { values: NO_VALUES, count: 0, named: false, rewritten: undefined };
  if (Array.isArray(args)) {
    let simple = true;
    for (let i = 0; i < args.length && simple; i++) {
      const v: unknown = args[i];
      simple = typeof v === "string" || typeof v === "number" || v === null;
    }
    if (simple) {
      return {
        values: NO_VALUES,
        count: args.length,
        simple: args as readonly (string | number | null)[],
        named: false,
        rewritten: undefined,
      };
    }
    const values = args.map((v) => toBound(v, intMode));
    const wide = values.some((v) => v.kind === "int64");
    return {
      values,
      count: values.length,
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
    values: NO_VALUES,
    count: 0,
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
function readOnlyPragma(info: StatementInfo): boolean {
  if (info.firstWord !== "PRAGMA") return false;
  const s = info.summary;
  const pragma = s?.readonly === true ? s.pragma : undefined;
  return (
    pragma !== undefined &&
    !/^(foreign_keys|journal_mode|locking_mode|query_only|wal_checkpoint)$/i.test(pragma.name)
  );
}

/** Refuses a pragma that would change the whole engine or the file's journal for everyone. */
function refuseEnginePragma(info: StatementInfo): void {
  const pragma = info.summary?.pragma ?? info.summary?.inner?.pragma;
  if (pragma === undefined || pragma.value === null) return;
  const name = pragma.name.toLowerCase();
  if (ENGINE_PRAGMAS.has(name)) {
    throw new TenantliteError(
      "PRAGMA_FORBIDDEN",
      `PRAGMA ${name} cannot be set: it changes every database of the engine (or the file's journal, which all connections share); settings of your own connection, such as foreign_keys or cache_size, can be`,
    );
  }
}

function vacuumIntoRefused(): TenantliteError {
  return new TenantliteError(
    "VACUUM_INTO_FORBIDDEN",
    "VACUUM INTO is refused: it would write a new file into the engine's file system, which every database shares. To copy a database, export it (`tenantlite db export <db>`, platform.exportDatabase(name), GET /v1/organizations/local/databases/<db>/export); plain VACUUM works",
  );
}

function unsupportedSqlJs(what: string): TenantliteError {
  return new TenantliteError("INTERNAL_ERROR", `Unsupported sql.js build: ${what}`);
}

/** Quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * libSQL's ALTER TABLE … ALTER COLUMN x TO, when `sql` is one (a single statement). Under EXPLAIN
 * it is refused: sql.js has no program to show for it.
 */
function libsqlAlterColumn(
  sql: string,
): { info: StatementInfo; statement: AlterColumnStatement } | undefined {
  const parsed = classify(sql);
  const first = parsed.statements[0];
  if (first === undefined) return undefined;
  if (parsed.errors.length > 0 && parsed.errors[0]!.offset < first.start) return undefined;
  if (first.summary.inner?.alterColumn !== undefined) {
    throw new TenantliteError(
      "SQLITE_ERROR",
      "EXPLAIN is not available for libSQL's ALTER TABLE … ALTER COLUMN … TO: sql.js has no program for it",
      { rawCode: 1 },
    );
  }
  const statement = alterColumnOf(sql, first);
  if (statement === undefined) return undefined;
  if (parsed.statements.length > 1 || parsed.errors.length > 0) {
    throw new TenantliteError(
      "SQL_MANY_STATEMENTS",
      "SQL string contains more than one statement; use executeMultiple() or batch() for scripts",
    );
  }
  return { info: statementInfo(sql, parsed), statement };
}

/**
 * sql.js stops at the `TO` of libSQL's ALTER COLUMN … TO, which the parser reads on: where the
 * parser finds the statement's error further on, its message (libSQL's) replaces sql.js's.
 */
function libsqlSyntaxError(sql: string, e: SqliteError): SqliteError {
  if (e.code !== "SQL_PARSE_ERROR" || e.detail !== 'near "TO": syntax error') return e;
  const to = /^\s*ALTER\s+TABLE\s[\s\S]*?\bALTER\s+COLUMN\s[\s\S]*?\bTO\b/i.exec(sql);
  const error = classify(sql).errors[0];
  if (to === null || error === undefined || error.offset < to[0].length) return e;
  return toSqliteError(new Error(error.message)) as SqliteError;
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
