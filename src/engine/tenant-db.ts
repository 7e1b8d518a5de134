/**
 * One SQLite connection (a sql.js `Database`): runs statements through its statement cache
 * (statement-cache.ts), binding (binding.ts) and declared types (declared-types.ts), and tracks
 * its transaction state, attachments and size limit. Everything here is synchronous and unlocked.
 * A tenant's file has several (see tenant-file.ts): each logical connection holds one of its own;
 * `Connection` (connection.ts) owns transactions and waiting.
 */
import { classify, type StatementSummary } from "../../parser/index.js";
import { TenantliteError } from "../errors.js";
import {
  type AlterColumnCall,
  alterColumn,
  alterColumnTakesWriteLock,
  checkAlterColumn,
  describeAlterColumn,
  libsqlAlterColumn,
  libsqlSyntaxError,
  locateTable,
} from "./alter-column.js";
import {
  bindAll,
  bindArguments,
  bindSimple,
  checkArguments,
  lastInsertRowid,
  readRow,
  StatementHandles,
  unrewriteName,
} from "./binding.js";
import { counterReset, lastRowidReader } from "./connection-counters.js";
import type { ResultPool } from "./connection-policy.js";
import {
  DeclaredTypes,
  type Describer,
  objectNames,
  type PendingTypes,
  probeDeclaredTypes,
  type TypeProbe,
} from "./declared-types.js";
import { explainEffects, type ProgramEffects } from "./program.js";
import { isPrimaryKey, SqliteError, toSqliteError } from "./sqlite-errors.js";
import { openExistingFile, openingSql, type TenantDbOptions } from "./sqljs-open.js";
import type { RawDatabase, SqlJsModule } from "./sqljs-types.js";
import {
  type CachedStatement,
  compileStatement,
  describeStatement,
  KeptStatements,
  StatementCache,
  writesFile,
} from "./statement-cache.js";
import {
  changesOwnStateOnly,
  quoteIdent,
  quoteLiteral,
  refuseEnginePragma,
  refuseRawAttach,
  type StatementDescription,
  type StatementGuard,
  type StatementInfo,
  statementInfo,
  TRANSACTION_WORDS,
  vacuumIntoRefused,
} from "./statement-info.js";
import { TransactionState } from "./transaction-state.js";
import {
  type InArgs,
  type IntMode,
  type ResultSet,
  ResultSetImpl,
  resultTooLarge,
  valueSize,
} from "./values.js";
import { registerVectorFunctions } from "./vector.js";
import { heapOf } from "./wasm-heap.js";

/** SQLite's `max_page_count` on a connection never capped (a build constant of sql.js's SQLite). */
let uncappedPages: number | undefined;

/** Pages an owner connection caches (see `keepFewPages`). */
const OWNER_CACHE_PAGES = 16;
/** Kinds of TEMP objects `TenantDb.tempObjects` follows (CREATE and DROP of each). */
const TEMP_TYPES = new Set(["table", "view", "index", "trigger"]);
/** The order `wash` drops TEMP objects in: what depends on a table goes first. */
const DROP_ORDER = ["trigger", "index", "view", "table"];

/** One SQLite connection (sql.js `Database`). */
export class TenantDb {
  readonly raw: RawDatabase;
  /** Whether this object created the file (sql.js's `close()` then deletes it). */
  readonly #ownsFile: boolean;
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
  /**
   * What that state is: only TEMP objects ("temp"), which `wash` can drop so that the connection
   * serves another user instead of being closed; or something else too ("other": a pragma, an
   * attachment, a script's unknown effects).
   */
  #ownState: "none" | "temp" | "other" = "none";
  /**
   * The TEMP tables, views, indexes and triggers the connection made, while each change to its
   * TEMP schema was a plain CREATE or DROP of one of them: `wash` then knows what to drop without
   * reading `temp.sqlite_schema`. Undefined once anything else changed that schema (an ALTER, a
   * virtual table, a rollback): `wash` reads it then.
   */
  #tempObjects: { type: string; name: string }[] | undefined = [];
  /** The logical connection this one is lent to (see tenant-file.ts). */
  lessee: object | undefined;
  /** Parked by its lessee between statements, not in use (see `TenantFile.park`). */
  resting = false;
  /** The file's schema generation the cached effects and declared types were computed at. */
  schemaGeneration = 0;
  readonly #statements: StatementCache;
  readonly #handles: StatementHandles;
  readonly #txn: TransactionState;
  /** Databases attached to this connection: alias → sql.js file. */
  readonly #attached = new Map<string, string>();
  #closed = false;
  /** Statements of the connection's own bookkeeping, freed when it closes. */
  readonly #kept: KeptStatements;
  /** Reads `last_insert_rowid()` from the connection object; null where the build has no such read. */
  #readRowid: ((db: number) => bigint) | null | undefined;
  /** Where this connection records that it has pending types (its file's, see tenant-file.ts). */
  pending: PendingTypes = { connections: new Set() };
  /** Declared types of this connection's statements, and those it handed out uncomputed. */
  readonly types: DeclaredTypes = new DeclaredTypes(this);

  /**
   * Creates a database file from `bytes` (an empty one when undefined) and opens a connection on
   * it; closing this connection deletes the file.
   */
  readonly #sql: SqlJsModule;

  constructor(
    sql: SqlJsModule,
    bytes: Uint8Array | undefined,
    options: TenantDbOptions = {},
    raw?: RawDatabase,
  ) {
    this.#sql = sql;
    this.#statements = new StatementCache(options.statementCacheSize ?? 64);
    this.#ownsFile = raw === undefined;
    this.raw = raw ?? new sql.Database(bytes ?? null);
    this.#handles = new StatementHandles(sql, this.raw);
    this.#kept = new KeptStatements(this.raw);
    this.#txn = new TransactionState(this.raw, this.#kept);
    try {
      // libSQL's vector functions, before anything reads a schema whose indexes call them.
      registerVectorFunctions(sql, this.raw.db);
      this.raw.exec(openingSql(options, raw === undefined));
    } catch (e) {
      this.close();
      throw toSqliteError(e);
    }
  }

  /** Opens another connection on an existing file of this sql.js instance (`dbfile_<n>`). */
  static connect(sql: SqlJsModule, filename: string, options: TenantDbOptions = {}): TenantDb {
    return new TenantDb(sql, undefined, options, openExistingFile(sql, filename));
  }

  /** `PRAGMA data_version`: changes when another connection commits to this file. */
  dataVersion(): number {
    return Number(this.#kept.run("PRAGMA data_version"));
  }

  /**
   * Caps the database's size for this connection (`PRAGMA max_page_count`; `undefined` lifts the
   * cap): a write that needs more pages fails with SQLITE_FULL. SQLite never sets it below the
   * file's current size. One statement: it runs on every new connection of a capped tenant.
   */
  limitPages(pages: number | undefined): void {
    if (!this.#capped) {
      if (pages === undefined) return;
      // SQLite's own maximum (a build constant), for lifting a cap: read once per process, on a
      // connection never capped.
      uncappedPages ??= Number(this.raw.exec("PRAGMA max_page_count")[0]?.values[0]?.[0]);
    }
    this.#capped = pages !== undefined;
    this.raw.exec(`PRAGMA max_page_count = ${pages ?? uncappedPages}`);
  }

  #capped = false;

  /** The file's page size in bytes. */
  pageSize(): number {
    return Number(this.raw.exec("PRAGMA page_size")[0]?.values[0]?.[0] ?? 4096);
  }

  /** The database's size in pages. */
  pageCount(): number {
    return Number(this.raw.exec("PRAGMA page_count")[0]?.values[0]?.[0] ?? 0);
  }

  /**
   * Caches few pages (an owner connection's use: exports read every page once, in order): its
   * file is in memory already, and the default cache held another copy of up to 2 MB of it for
   * every open tenant that had been exported.
   */
  keepFewPages(): void {
    if (this.#fewPages) return; // (a spare file's owner keeps it for the next tenant)
    this.raw.exec(`PRAGMA cache_size=${OWNER_CACHE_PAGES}`);
    this.#fewPages = true;
  }

  #fewPages = false;

  /** Frees the pages the connection's cache holds and no statement uses (`PRAGMA shrink_memory`). */
  releaseMemory(): void {
    if (this.#closed) return;
    try {
      this.raw.exec("PRAGMA shrink_memory");
    } catch {
      // Nothing freed: nothing lost.
    }
  }

  /** Reloads this connection's copy of the schema if another connection changed it. */
  refreshSchema(): void {
    this.raw.exec("SELECT count(*) FROM sqlite_schema");
  }

  /**
   * The main schema as SQLite keeps it: every object's type, name, table and SQL, in one text
   * that only this schema gives (what the declared types of queries follow from). Reading it also
   * reloads a schema changed since, as `refreshSchema` does.
   */
  schemaText(): string {
    this.#txn.endImplicitRead();
    const text = this.#kept.run(
      // Each field after its length, so that no two schemas give one text (a name may hold any
      // character): the text keys types that tenants of other owners share. In the schema's own
      // order, which tenants made by the same statements share: sorting it cost 8x the read
      // (4 ms at 3,000 tables, after every schema change).
      "SELECT group_concat(length(type) || ':' || type || length(name) || ':' || name || length(tbl_name) || ':' || tbl_name || ifnull(length(sql), -1) || ':' || ifnull(sql, ''), '') FROM main.sqlite_schema",
    );
    return String(text ?? "");
  }

  /** Folds the WAL into the file and truncates it (after a whole image was copied in). */
  checkpoint(): void {
    this.raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /**
   * Folds the WAL into the file and truncates it if no other connection is in the way (a
   * transaction, or a read of an older snapshot): false when one was, or it failed.
   */
  tryCheckpoint(): boolean {
    if (this.#closed) return false;
    try {
      this.#txn.endImplicitRead();
      const row = this.raw.exec("PRAGMA wal_checkpoint(TRUNCATE)")[0]?.values[0];
      return row?.[0] === 0;
    } catch {
      return false;
    }
  }

  /** Frees every cached statement (the file's contents are about to be replaced). */
  clearStatements(): void {
    this.settleTypes();
    this.#statements.clear();
  }

  /** The sql.js file name of this tenant (`dbfile_<n>`), for ATTACH by other tenants. */
  get filename(): string {
    return this.raw.filename;
  }

  /** Whether an explicit transaction is open on this connection. */
  get inTransaction(): boolean {
    return this.#txn.explicit;
  }

  /**
   * Whether the last `execute` got as far as running its statement. One refused before (it did
   * not compile, the guard or its arguments refused it) took no lock in SQLite.
   */
  ran = false;

  /**
   * Runs one statement and reads all its rows. Throws coded errors; never leaves an implicit
   * transaction open across a write.
   */
  execute(
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
    guard?: StatementGuard,
    maxResultBytes?: number,
    pool?: ResultPool,
  ): ResultSet {
    this.#assertOpen();
    this.ran = false;
    const bound = bindArguments(sql, args, intMode);
    const text = bound.rewritten ?? sql;
    let entry: CachedStatement;
    try {
      entry = this.#prepare(text);
    } catch (e) {
      if (e instanceof SqliteError) {
        const alter = libsqlAlterColumn(text);
        if (alter !== undefined) return this.#alterColumn(alter, bound.count, guard);
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
    refuseRawAttach(entry.scan.firstWord);
    if (guard !== undefined) this.#applyGuard(entry, guard);
    const values = checkArguments(entry.scan, bound, args, intMode);
    if (entry.readOnly) this.#txn.beginImplicitRead(this.#attached);
    else {
      // Pending declared types are computed before the schema may change — not before DML,
      // which cannot change one unless this connection set a pragma (writable_schema).
      if (this.pending.connections.size > 0 && !(entry.dml && this.#ownState !== "other")) {
        this.settleTypes();
      }
      this.#txn.endImplicitRead();
    }
    const { stmt } = entry;
    this.ran = true;
    // What this statement took of `pool`: given back if it fails, else the caller's to give back.
    let held = 0;
    try {
      if (bound.simple !== undefined) bindSimple(this.#sql, this.#handles, stmt, bound.simple);
      else bindAll(this.#sql, this.#handles, stmt, values);
      const rows = [];
      if (stmt.step()) {
        const handle = this.#handles.of(stmt);
        const heap = heapOf(this.#sql);
        if (maxResultBytes === undefined) {
          do rows.push(readRow(this.#sql, heap, handle, entry.rows, intMode));
          while (stmt.step());
        } else {
          // Stops reading once the result is past its limit, not after holding all of it.
          let size = 0;
          do {
            const row = readRow(this.#sql, heap, handle, entry.rows, intMode);
            for (let i = 0; i < row.length; i++) size += valueSize(row[i]!);
            if (size > maxResultBytes) throw resultTooLarge();
            // Taken from the pool in steps of 64 KiB as it grows, the rest at the end.
            if (pool !== undefined && size - held > 65536) held = this.#take(pool, size, held);
            rows.push(row);
          } while (stmt.step());
          if (pool !== undefined && size > held) held = this.#take(pool, size, held);
        }
      }
      stmt.reset();
      const changes = entry.dml ? this.raw.getRowsModified() : 0;
      const rowid = entry.insert ? this.#lastInsertRowid() : undefined;
      this.#afterStatement(entry, text);
      const columns = bound.rewritten ? entry.columns.map((c) => unrewriteName(c)) : entry.columns;
      return new ResultSetImpl(
        columns,
        entry.decltypes ?? this.types.lazy(entry),
        rows,
        changes,
        rowid,
      );
    } catch (e) {
      if (held > 0) pool!.release(held);
      stmt.reset();
      this.#afterFailure(entry.scan.firstWord);
      throw this.#toError(e);
    }
  }

  /** Takes a result's growth from `size` - `held` to `size` from `pool`; its new `held`. */
  #take(pool: ResultPool, size: number, held: number): number {
    if (!pool.claim(size - held)) throw resultTooLarge(true);
    return size;
  }

  /**
   * libSQL's ALTER TABLE … ALTER COLUMN x TO <definition>, which sql.js cannot compile: checked
   * by the guard (its effects are the schema of the table it finds), then run by alter-column.ts
   * in a savepoint of its own.
   */
  #alterColumn(alter: AlterColumnCall, args: number, guard: StatementGuard | undefined): ResultSet {
    checkAlterColumn(this.raw, alter, args, guard);
    this.ran = true;
    this.settleTypes();
    this.#txn.endImplicitRead();
    const temp = locateTable(this.raw, alter.statement.table)?.schema === "temp";
    try {
      alterColumn(this.#sql, this.raw, alter.statement);
    } finally {
      // Whatever happened, this connection's compiled statements may predate its schema now.
      this.#statements.invalidate();
    }
    this.pristine = false;
    if (temp) this.#holdState("temp");
    else if (this.#txn.explicit) this.#txn.schemaChanged = true;
    else this.schemaTouched = true;
    return new ResultSetImpl([], [], [], 0, undefined);
  }

  /**
   * Runs a script of statements in order; stops at the first failure (earlier statements keep
   * their effect, as SQLite's `exec` does). Throws with `statementIndex` set in `cause` chain.
   */
  executeScript(sql: string): void {
    this.#assertOpen();
    this.settleTypes();
    this.#txn.endImplicitRead();
    let index = 0;
    try {
      for (const stmt of this.raw.iterateStatements(sql)) {
        try {
          // Compiled just now, after the statements before it ran: checked as `prepare` does.
          if (writesFile(this.raw, stmt.getSQL())) throw vacuumIntoRefused();
          while (stmt.step()) {
            /* rows of a script are discarded */
          }
        } finally {
          stmt.free();
        }
        index++;
      }
    } catch (e) {
      this.#afterScript();
      const err = this.#toError(e);
      (err as { statementIndex?: number }).statementIndex = index;
      throw err;
    }
    this.#afterScript();
  }

  #afterScript(): void {
    this.#statements.clear();
    this.#syncTransactionState();
    this.#holdState("other");
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
    this.#statements.invalidate();
    // SQLite compiles against the schema this connection last read: read it again now (a read
    // checks the schema cookie), or statements prepared next would have the old columns.
    this.#txn.endImplicitRead();
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
    this.#assertOpen();
    let entry: CachedStatement;
    try {
      entry = this.#prepare(sql);
    } catch (e) {
      const alter = e instanceof SqliteError ? libsqlAlterColumn(sql) : undefined;
      if (alter === undefined) throw e;
      return describeAlterColumn(alter);
    }
    return describeStatement(entry, this.types.of(entry));
  }

  /**
   * Applies `guard` to `sql` as `execute` would, without running it: throws what the guard
   * refuses. What does not compile is left for `execute` to report.
   */
  check(sql: string, guard: StatementGuard): void {
    let entry: CachedStatement;
    try {
      entry = this.#prepare(sql);
    } catch {
      return;
    }
    this.#applyGuard(entry, guard);
  }

  /** Applies `guard` to a prepared statement, reading its program's effects if it asks. */
  #applyGuard(entry: CachedStatement, guard: StatementGuard): void {
    guard(entry.info, () => this.#effects(entry));
  }

  /** The effects of a prepared statement's program, read once and cached with it. */
  #effects(entry: CachedStatement): ProgramEffects {
    entry.effects ??= this.explain(entry.compiled.sql);
    return entry.effects;
  }

  /**
   * Whether running `sql` takes the file's write lock: anything but reads and the transaction
   * statements that take none (`BEGIN [DEFERRED]`, `COMMIT`, `ROLLBACK`, savepoints).
   */
  takesWriteLock(sql: string): boolean {
    let entry: CachedStatement;
    try {
      entry = this.#prepare(sql);
    } catch {
      return alterColumnTakesWriteLock(sql);
    }
    return entry.writeLock;
  }

  /**
   * A statement as read once by the engine (cached with the prepared statement); read afresh
   * when SQLite cannot compile it yet (it needs what an earlier statement creates).
   */
  infoOf(sql: string): StatementInfo {
    try {
      return this.#prepare(sql).info;
    } catch {
      return statementInfo(sql);
    }
  }

  /** The effects of one statement's compiled program, cached with the prepared statement. */
  effectsOf(sql: string): ProgramEffects {
    return this.#effects(this.#prepare(sql));
  }

  /** The effects of `sql`'s compiled program (see program.ts). */
  explain(sql: string): ProgramEffects {
    try {
      return explainEffects(this.raw, sql);
    } catch (e) {
      throw this.#toError(e);
    }
  }

  /** Attaches another tenant's file (sql.js name) as `alias`; names were resolved by the caller. */
  attach(alias: string, file: string): void {
    this.#assertOpen();
    this.settleTypes();
    this.#txn.endImplicitRead();
    try {
      this.raw.exec(`ATTACH DATABASE ${quoteLiteral(file)} AS ${quoteIdent(alias)}`);
    } catch (e) {
      throw this.#toError(e);
    }
    this.#attached.set(alias, file);
    this.#holdState("other");
    this.#statements.invalidate();
  }

  /** Detaches `alias` (SQLite refuses while this connection's transaction has read it). */
  detach(alias: string): void {
    this.#assertOpen();
    this.settleTypes();
    this.#txn.endImplicitRead();
    try {
      this.raw.exec(`DETACH DATABASE ${quoteIdent(alias)}`);
    } catch (e) {
      throw this.#toError(e);
    }
    this.#attached.delete(alias);
    this.#statements.invalidate();
  }

  /** The whole database image (commits an implicit read first; fails inside a write transaction). */
  export(): Uint8Array {
    this.#assertOpen();
    this.#txn.endImplicitRead();
    return this.raw.export();
  }

  /** Records that the connection now holds state of its own, and of what kind (`ownState`). */
  #holdState(kind: "temp" | "other"): void {
    this.pristine = false;
    this.stateful = true;
    if (this.#ownState !== "other") this.#ownState = kind;
  }

  /**
   * Drops the connection's TEMP objects when they are all the state it holds of its own, so that
   * it can serve another user instead of being closed: dropping a few objects costs a fraction
   * of opening a SQLite connection. Triggers, then views, then tables (their indexes go with
   * them); a TEMP `sqlite_sequence` (AUTOINCREMENT) cannot be dropped, so such a connection is
   * closed instead, as is one whose drops fail (TEMP foreign keys between tables with rows).
   * Its empty TEMP database stays open. The connection is pristine afterwards only if it changed
   * no rows (`last_insert_rowid()`, `changes()` and `total_changes()` all 0). False when it
   * cannot be washed: the caller closes it.
   */
  wash(): boolean {
    if (this.#closed || this.#ownState !== "temp" || this.#txn.explicit) return false;
    this.#txn.endImplicitRead();
    let left: unknown[] | undefined;
    try {
      // What to drop: known from the statements that made it, else read from the schema. (Either
      // way, the count below says whether anything is left.)
      const objects = [
        ...(this.#tempObjects ??
          (this.raw.exec("SELECT type, name FROM temp.sqlite_schema")[0]?.values ?? []).map(
            ([type, name]) => ({ type: String(type), name: String(name) }),
          )),
      ].sort((a, b) => DROP_ORDER.indexOf(a.type) - DROP_ORDER.indexOf(b.type));
      // Declared types still pending are computed first, on the TEMP schema they were for.
      this.tempNamesNow = objects.map((o) => o.name.toLowerCase());
      try {
        this.settleTypes();
      } finally {
        this.tempNamesNow = undefined;
      }
      let script = "";
      for (const { type, name } of objects) {
        if (name.toLowerCase() === "sqlite_sequence") return false;
        if (type === "index") continue; // goes with its table
        script += `DROP ${type.toUpperCase()} IF EXISTS temp.${quoteIdent(name)};`;
      }
      // One script (it stops at the first failure): the drops, then what is left.
      const results = this.raw.exec(
        `${script}SELECT (SELECT count(*) FROM temp.sqlite_schema), last_insert_rowid(), changes(), total_changes()`,
      );
      left = results[results.length - 1]?.values[0];
    } catch {
      return false;
    }
    if (left === undefined || left[0] !== 0) return false;
    this.#statements.clear();
    this.stateful = false;
    this.#ownState = "none";
    this.#tempObjects = [];
    this.pristine = left[1] === 0 && left[2] === 0 && left[3] === 0;
    return true;
  }

  /**
   * While `wash` computes pending declared types: the names of the connection's TEMP objects
   * (lower-cased), which it has just read (see `DeclaredTypes.of`).
   */
  tempNamesNow: readonly string[] | undefined;

  /**
   * Makes a connection whose user is done with it look new to the next: `last_insert_rowid()`,
   * `changes()` and `total_changes()` back to 0 (see connection-counters.ts). Only for one that
   * holds nothing else of its own and no transaction; true when it is pristine now.
   */
  resetCounters(): boolean {
    if (this.pristine) return true;
    if (this.#closed || this.stateful || this.#txn.explicit) return false;
    const reset = counterReset(this.#sql);
    if (reset === undefined) return false;
    reset(this.raw.db);
    this.pristine = true;
    return true;
  }

  /** Rolls back an explicit transaction, if any (used on timeouts and connection close). */
  rollback(): void {
    if (!this.#txn.explicit || this.#closed) return;
    this.settleTypes();
    this.#txn.rollback();
    this.#rolledBack();
  }

  /** Frees every statement and closes the connection (deleting the file if it created it). */
  close(): void {
    if (this.#closed) return;
    // The file's owner answers the pending declared types of a connection that saw only the
    // file's schema, later and only if they are read or the schema is about to change; others
    // are computed now, while this connection can.
    if (this.#ownsFile || this.stateful || !this.sharesFileSchema || !this.types.leaveToFile()) {
      this.settleTypes();
    }
    this.#txn.endImplicitRead();
    this.#statements.clear();
    this.#kept.free();
    this.#closed = true;
    this.#txn.closed = true;
    if (this.#ownsFile) {
      try {
        this.raw.close();
      } catch {
        // sql.js's file system refused to delete the file (e.g. too many files open): closing
        // runs from timers, where a throw would end the process; the handle is closed already.
      }
    } else {
      // sql.js's close() would delete the file, which belongs to the tenant: close the handle.
      this.#sql._sqlite3_close_v2(this.raw.db);
      this.raw.db = null as unknown as number;
    }
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw databaseClosed();
  }

  #prepare(sql: string): CachedStatement {
    const hit = this.#statements.get(sql);
    if (hit !== undefined) return hit;
    const parsed = classify(sql);
    const info = statementInfo(sql, parsed);
    // SQLite runs most pragmas while compiling them: refuse engine-wide ones before that.
    refuseEnginePragma(info);
    if (info.summary?.vacuumInto === true && info.summary.explain === false) {
      throw vacuumIntoRefused();
    }
    this.#txn.endImplicitRead();
    let compiled: ReturnType<typeof compileStatement>;
    try {
      compiled = compileStatement(this.raw, sql, parsed, info);
    } catch (e) {
      throw this.#toError(e);
    }
    return this.#statements.add(sql, compiled.stmt, compiled.compiled, info, compiled.rewritten);
  }

  /**
   * Computes every pending declared type of the connections of this file, before something may
   * change the schema they were handed out for.
   */
  settleTypes(): void {
    this.types.settle();
  }

  /**
   * Whether the file's owner connection may find declared types for this one: not after DDL of
   * its own open transaction (which only it sees yet), nor with attachments (which the file lacks).
   */
  get sharesFileSchema(): boolean {
    return !this.#txn.schemaChanged && this.#attached.size === 0;
  }

  /** Whether another tenant's database is attached to this connection. */
  get hasAttachments(): boolean {
    return this.#attached.size > 0;
  }

  #lastInsertRowid(): bigint {
    if (this.#readRowid === undefined) this.#readRowid = lastRowidReader(this.#sql) ?? null;
    if (this.#readRowid !== null) return this.#readRowid(this.raw.db);
    return lastInsertRowid(this.#sql, this.#handles, this.#kept.get("SELECT last_insert_rowid()"));
  }

  /** The names of the main schema's objects, lower-cased. */
  mainObjectNames(): string[] {
    return objectNames(this.raw, "main");
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
  probeDeclaredTypes(probe: TypeProbe, n: number): string[] | undefined {
    const wasImplicit = this.#txn.implicitRead;
    this.#txn.endImplicitRead();
    const types = probeDeclaredTypes(this.raw, probe, n);
    if (wasImplicit) this.#txn.beginImplicitRead(this.#attached);
    return types;
  }

  #afterStatement(entry: CachedStatement, sql: string): void {
    if (entry.readOnly) {
      // Reading a pragma can still set one (`PRAGMA foreign_keys = OFF` is "read-only").
      if (entry.scan.firstWord === "PRAGMA") this.#holdState("other");
      return;
    }
    const word = entry.scan.firstWord;
    if (TRANSACTION_WORDS.has(word)) {
      const end = this.#txn.afterTransactionStatement(word);
      // Rolled back, the transaction's DDL (TEMP too) is undone for this connection alone
      // (nobody else saw it); committed, every connection sees it now.
      if (end === "rolled-back") this.#rolledBack(sql);
      else if (end === "committed-schema") this.schemaTouched = true;
      return;
    }
    this.pristine = false;
    if (word === "PRAGMA") this.#holdState("other");
    if (word === "CREATE" || word === "DROP" || word === "ALTER" || word === "PRAGMA") {
      // Own caches: a pragma (foreign_keys…) or a TEMP object changes this connection's programs.
      this.#statements.invalidate(sql);
      const own = changesOwnStateOnly(entry.info);
      if (word !== "PRAGMA") this.#noteTempChange(own, entry.info.summary);
      if (entry.info.summary === undefined) this.#holdState("other");
      else if (own) this.#holdState(word === "PRAGMA" ? "other" : "temp");
      // The file's schema: every connection's caches are stale once the change is committed.
      if (!own) {
        if (this.#txn.explicit) this.#txn.schemaChanged = true;
        else this.schemaTouched = true;
      }
    }
  }

  #afterFailure(word: string): void {
    if (this.#txn.explicit || TRANSACTION_WORDS.has(word)) this.#syncTransactionState();
  }

  /** Asks SQLite whether a transaction is open; drops caches a rollback made stale. */
  #syncTransactionState(): void {
    if (this.#txn.sync()) this.#rolledBack();
  }

  /**
   * After a rollback: the connection's compiled statements (but `keep`'s) may predate its schema,
   * and the TEMP objects it made may be gone (`tempObjects` is unsure).
   */
  #rolledBack(keep?: string): void {
    this.#statements.invalidate(keep);
    this.#tempObjects = undefined;
  }

  /**
   * Keeps `tempObjects` up to date after DDL: `own` when it changed the TEMP schema alone. Other
   * DDL names no schema or another one, and unqualified (`DROP TABLE x`, `ALTER TABLE x …`) it
   * may have been on a TEMP object.
   */
  #noteTempChange(own: boolean, summary: StatementSummary | undefined): void {
    const known = this.#tempObjects;
    if (known === undefined) return;
    if (!own) {
      if (known.length > 0) this.#tempObjects = undefined;
      return;
    }
    const target = summary?.writes.length === 1 ? summary.writes[0] : undefined;
    const [verb, type] = summary?.kind.split("_") ?? [];
    if (target === undefined || (verb !== "create" && verb !== "drop") || !TEMP_TYPES.has(type!)) {
      this.#tempObjects = undefined;
      return;
    }
    const { name } = target;
    const lower = name.toLowerCase();
    const at = known.findIndex((o) => o.name.toLowerCase() === lower && o.type === type);
    if (verb === "drop") {
      if (at >= 0) known.splice(at, 1);
    } else if (at < 0) known.push({ type: type!, name });
  }

  /** Ends the engine's implicit read transaction so that writes and user BEGINs run as usual. */
  endImplicitRead(): void {
    this.#txn.endImplicitRead();
  }

  #toError(e: unknown): TenantliteError {
    return toSqliteError(e, { isPrimaryKey: (cols) => isPrimaryKey(this.raw, cols) });
  }
}

/** `DATABASE_CLOSED`: a statement on a connection that was closed. */
export function databaseClosed(): TenantliteError {
  return new TenantliteError("DATABASE_CLOSED", "The database connection is closed");
}
