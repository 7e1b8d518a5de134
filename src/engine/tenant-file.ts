/**
 * One open tenant's database file and the SQLite connections on it (DESIGN.md, decision 1).
 *
 * Every logical connection gets a sql.js connection of its own on the tenant's file, in shared
 * WAL mode: TEMP objects, pragmas, attachments and `last_insert_rowid` stay private to it, and a
 * reader sees the last committed state without waiting for a writer. Writers take the file's
 * {@link TenantGate} for the length of their write (an autocommit write, or a transaction from
 * its first write to its end), so a second writer queues and gets a coded SQLITE_BUSY after the
 * busy timeout instead of SQLite's immediate "database is locked". An owner connection, never
 * lent to a client, exports the committed image for persistence and installs new images.
 *
 * Files are recycled. sql.js maps a shared WAL file's wal-index (`-shm`) into the WASM heap and
 * never frees that memory when the file closes (~75 KB per file: the process fails after ~17,000
 * closes; see test/engine/file-recycling.test.ts). So a closed tenant's file is kept as a spare,
 * with its owner connection and its mapping, and the next tenant opened takes it over: its image
 * is copied in with SQLite's backup API, as one write transaction.
 */
import { TenantliteError } from "../errors.js";
import type { Describer, PendingTypes } from "./declared-types.js";
import { TenantGate } from "./gate.js";
import { toSqliteError } from "./sqlite-errors.js";
import type { TenantDbOptions } from "./sqljs-open.js";
import type { SqlJsModule } from "./sqljs-types.js";
import { databaseClosed, TenantDb } from "./tenant-db.js";
import { unrefTimer } from "./timers.js";

/**
 * Idle connections a file keeps for reuse (also how many its users may leave parked between
 * statements). Fewer than a busy tenant's concurrent users made each turn close connections that
 * the next turn opened again: with 4, eight clients reading one tenant spent 2× the CPU per read.
 * The instance's budget (`IDLE_CONNECTIONS`) bounds the total across files.
 */
export const POOL_SIZE = 16;
/**
 * A closed file is kept as a spare only if it never had more connections at once than this: SQLite
 * keeps closed connections' descriptors with the file, and spares must not hold many.
 */
const SPARE_MAX_CONNECTIONS = 4;
/**
 * Connections one file may lend out at once — each open transaction, and each logical connection
 * holding TEMP objects, settings or attachments, keeps one. A sql.js instance holds ~4,094 open
 * files, two per connection: without a bound per database, one client (a WebSocket's 1,000
 * streams, each with a TEMP table) took every connection of its tenant thread, and every other
 * tenant there failed TOO_MANY_CONNECTIONS.
 */
export const MAX_LEASED = 256;
/** Queries whose declared column types a file remembers. */
const DECLARED_TYPES = 256;
/**
 * Spare files kept per sql.js instance (each holds three of its ~4,094 open files: database,
 * WAL, wal-index; and a connection).
 */
const SPARE_FILES = 64;
/**
 * Idle connections kept per sql.js instance, across its files (each holds two open files): many
 * tenants each keeping a few would use up the process's files (see MAX_OPEN_TENANTS).
 */
const IDLE_CONNECTIONS = 128;
const SQLITE_DONE = 101;
/** A spare file keeps its last tenant's pages up to this many (they are overwritten on reuse). */
const SPARE_KEEPS_PAGES = 64;

/** How long a tenant goes unused before it gives back its WAL and page caches (see `used`). */
const IDLE_MS = 1000;

/** The user of an idle connection whose last user is done with it. */
const NOBODY = Object.freeze({});

/** One tenant's file: its owner connection, its pool of connections and its write gate. */
export class TenantFile {
  /** Writers of this tenant, in order; a platform task that must exclude writers holds it too. */
  readonly gate: TenantGate;
  readonly #leased = new Set<TenantDb>();
  /** Most connections open on the file at once besides the owner (see `close`). */
  #highWater = 0;
  /** Lent connections their users left between statements (see `park`). */
  readonly #parked = new Set<TenantDb>();
  #parkTimer: ReturnType<typeof setTimeout> | undefined;
  /** Idle connections, each with the logical connection that used it last. */
  readonly #idle: { db: TenantDb; user: object }[] = [];
  #closedFlag = false;
  /** The tenant's size limit in bytes, applied to every connection lent out (not the owner's). */
  #sizeLimit: number | undefined;
  /** `PRAGMA data_version` of the owner when last asked: it moves when a connection commits. */
  #version: number;
  /** Moves when any connection changes the schema (cached statement effects are then stale). */
  schemaGeneration = 0;
  /**
   * Declared types of queries' columns for this generation's schema, shared by every file of the
   * sql.js instance with the same schema (see `declaredFor`); found on an owner connection.
   */
  #declared: Map<string, string[]> | undefined;
  /**
   * Connections of this file whose results carry declared types not computed yet: a statement
   * that may change the schema, on any of them, has them computed first (`DeclaredTypes.lazy`).
   */
  readonly #pendingTypes: PendingTypes = { connections: new Set() };
  #declaredGeneration = 0;
  /** The main schema's object names, lower-cased, for this generation (when a caller asked). */
  #names: ReadonlySet<string> | undefined;
  readonly #describe: Describer = (probe, n, temp) => {
    if (this.#declared === undefined || this.#declaredGeneration !== this.schemaGeneration) {
      this.#names = undefined;
      this.#declaredGeneration = this.schemaGeneration;
      // Reading the schema also has the owner reload one changed since (the schema cookie).
      this.#declared = declaredFor(this.#sql, this.#owner.schemaText());
    }
    if (temp.length > 0) {
      // A TEMP object named like one of the file's shadows it: only its connection can tell.
      this.#names ??= new Set(this.#owner.mainObjectNames());
      const names = this.#names;
      if (temp.some((name) => names.has(name))) return undefined;
    }
    const declared = this.#declared;
    const known = declared.get(probe.body);
    if (known !== undefined) return known;
    const types = this.#owner.probeDeclaredTypes(probe, n);
    if (types === undefined) return undefined; // the connection finds them itself
    if (declared.size >= DECLARED_TYPES) declared.clear();
    declared.set(probe.body, types);
    return types;
  };

  readonly #sql: SqlJsModule;
  readonly #owner: TenantDb;
  readonly #options: TenantDbOptions;

  private constructor(sql: SqlJsModule, owner: TenantDb, name: string, options: TenantDbOptions) {
    this.#sql = sql;
    this.#owner = owner;
    this.#options = options;
    this.gate = new TenantGate(name);
    this.#version = owner.dataVersion();
    owner.pending = this.#pendingTypes;
    owner.keepFewPages();
  }

  /**
   * Opens a tenant from its image (a standard SQLite file; `undefined` for an empty database), on
   * a spare file when there is one. Throws coded SQLite errors for an image SQLite refuses.
   */
  static open(
    sql: SqlJsModule,
    name: string,
    image: Uint8Array | undefined,
    options: TenantDbOptions = {},
  ): TenantFile {
    const spare = shared(sql).spares.pop();
    if (spare !== undefined) {
      try {
        copyImage(sql, spare, image);
        return new TenantFile(sql, spare, name, options);
      } catch {
        // The spare is as it was (the copy is one transaction): keep it, and open the image on a
        // file of its own (e.g. its page size differs, which a WAL copy cannot change), where
        // SQLite says what is wrong with it, if anything.
        shared(sql).spares.push(spare);
      }
    }
    const owner = new TenantDb(sql, image, { ...options, journalMode: "wal-shared" });
    return new TenantFile(sql, owner, name, options);
  }

  /** The sql.js file name (`dbfile_<n>`): what another tenant's connection ATTACHes. */
  get filename(): string {
    return this.#owner.filename;
  }

  get isClosed(): boolean {
    return this.#closedFlag;
  }

  /** Connections lent out right now. */
  get connectionCount(): number {
    return this.#leased.size;
  }

  /**
   * A connection for `user` (a logical connection) on this file: the idle one it used last, else
   * an idle pristine one (nobody can tell it was used), else a new one.
   */
  lease(user: object): TenantDb {
    if (this.#closedFlag) {
      throw databaseClosed();
    }
    let i = this.#idle.findIndex((e) => e.user === user);
    if (i < 0) i = this.#idle.findIndex((e) => e.db.pristine);
    // (Of those, at most POOL_SIZE are parked between statements, holding nothing.)
    if (i < 0 && this.#leased.size >= MAX_LEASED) {
      throw tooManyConnections(`this database has ${MAX_LEASED} open, its most`);
    }
    const db = i >= 0 ? this.#idle.splice(i, 1)[0]!.db : this.#connect();
    shared(this.#sql).idle.delete(db);
    this.#highWater = Math.max(this.#highWater, this.#leased.size + this.#idle.length + 1);
    db.syncSchema(this.schemaGeneration);
    db.describer = this.#describe;
    db.pending = this.#pendingTypes;
    db.lessee = user;
    this.#leased.add(db);
    return db;
  }

  /**
   * Caps the tenant's size (bytes; `undefined`: no cap) on every connection, open or future.
   * The owner connection stays uncapped: it installs whole images (migrations, imports).
   */
  setSizeLimit(maxBytes: number | undefined): void {
    if (maxBytes === this.#sizeLimit) return;
    this.#sizeLimit = maxBytes;
    // In whole pages of the file's page size, worked out once for every connection.
    this.#maxPages =
      maxBytes === undefined
        ? undefined
        : Math.max(1, Math.floor(maxBytes / this.#owner.pageSize()));
    for (const db of this.#leased) if (!db.isClosed) db.limitPages(this.#maxPages);
    for (const { db } of this.#idle) db.limitPages(this.#maxPages);
  }

  /** The size limit in pages (see `setSizeLimit`). */
  #maxPages: number | undefined;

  #connect(): TenantDb {
    let db: TenantDb | undefined;
    try {
      db = TenantDb.connect(this.#sql, this.#owner.filename, this.#options);
      if (this.#maxPages !== undefined) db.limitPages(this.#maxPages);
      // Opens its files now (SQLite opens the WAL file at the first read), where a failure says
      // what it is, not later inside the caller's statement.
      db.refreshSchema();
      db.schemaGeneration = this.schemaGeneration; // it read the current schema just now
      return db;
    } catch (e) {
      db?.close();
      const code = e instanceof TenantliteError ? e.code : toSqliteError(e).code;
      if (code === "SQLITE_CANTOPEN" || code === "SQLITE_NOMEM") {
        // sql.js holds ~4,094 open files per process; each connection holds two.
        throw tooManyConnections("too many are open in this process", e);
      }
      throw e;
    }
  }

  /**
   * A connection left between statements by its user, who holds nothing in it: it stays theirs
   * for statements that follow at once (no pool round trip), and goes back to the pool at the
   * next turn of the event loop. A user who goes on with it (`unpark`) only marks it busy: it
   * stays in the parked set and the idle budget until that turn (adding and deleting the same
   * entry of a Set or Map around every statement costs ~0.2–0.6 µs in V8), and is dropped from
   * both then, or when something walks them meanwhile, if it is still busy.
   */
  park(db: TenantDb): void {
    if (db.lessee === undefined || !this.#leased.has(db)) return;
    this.#used();
    db.resting = true;
    if (this.#parked.has(db)) return; // parked earlier in this turn and used again since
    this.#parked.add(db);
    if (this.#parked.size > POOL_SIZE) {
      // Many users in one turn of the event loop (a loop that only awaits promises never lets
      // the timer run): the one parked longest goes back now.
      this.#forgetBusyParked();
      if (this.#parked.size > POOL_SIZE) {
        const oldest = this.#parked.values().next().value as TenantDb;
        this.giveBack(oldest, oldest.lessee!);
      }
    }
    this.#keepIdle(db);
    this.#parkTimer ??= setTimeout(() => this.#reclaim(), 0);
  }

  /** The user of a parked connection goes on with it. */
  unpark(db: TenantDb): void {
    db.resting = false;
  }

  /** Drops the parked connections their users went on with from the parked set and idle budget. */
  #forgetBusyParked(): void {
    const { idle } = shared(this.#sql);
    for (const db of this.#parked) {
      if (db.resting) continue;
      this.#parked.delete(db);
      idle.delete(db);
    }
  }

  /**
   * Counts an idle or parked connection against the instance's budget, closing the instance's
   * longest-idle one beyond it, whichever file it is on.
   */
  #keepIdle(db: TenantDb): void {
    const { idle } = shared(this.#sql);
    idle.set(db, this);
    while (idle.size > IDLE_CONNECTIONS) {
      const [oldest, file] = idle.entries().next().value as [TenantDb, TenantFile];
      file.#dropIdle(oldest);
    }
  }

  #reclaim(): void {
    this.#parkTimer = undefined;
    this.#forgetBusyParked();
    for (const db of this.#parked) this.giveBack(db, db.lessee!);
    this.#parked.clear();
  }

  /**
   * Closes an idle or parked connection of this file (its user, if any, gets another later); a
   * parked one its user went on with only leaves the budget.
   */
  #dropIdle(db: TenantDb): void {
    shared(this.#sql).idle.delete(db);
    if (this.#parked.has(db) && !db.resting) {
      this.#parked.delete(db);
      return;
    }
    if (this.#parked.delete(db)) {
      db.resting = false;
      this.#leased.delete(db);
      db.lessee = undefined;
    } else {
      const i = this.#idle.findIndex((e) => e.db === db);
      if (i >= 0) this.#idle.splice(i, 1);
    }
    db.close();
  }

  /**
   * Takes a connection back from `user`. It is kept for reuse unless it holds state of its own
   * (TEMP objects, pragmas, attachments: see `TenantDb.stateful`) — one whose only such state is
   * TEMP objects is washed of them first (`TenantDb.wash`); a non-pristine one goes back only to
   * the same user. The pool drops its oldest entries beyond its size.
   *
   * `done`: the user is finished with it for good (its logical connection closed). Then nobody
   * can ask it for its counters again, so they are reset (`TenantDb.resetCounters`) and the
   * connection serves the next user as a new one would: a transaction or an HTTP request that
   * wrote no longer costs the next one a new SQLite connection.
   */
  giveBack(db: TenantDb, user: object, done = false): void {
    if (db.lessee !== user || !this.#leased.delete(db)) return;
    this.#used();
    db.lessee = undefined;
    db.resting = false;
    this.#parked.delete(db);
    shared(this.#sql).idle.delete(db);
    if (db.isClosed) return;
    db.rollback();
    if (this.#closedFlag || (db.stateful && !db.wash())) {
      db.close();
      return;
    }
    this.#idle.push({ db, user: done && db.resetCounters() ? NOBODY : user });
    if (this.#idle.length > POOL_SIZE) {
      const j = this.#idle.findIndex((e) => !e.db.pristine);
      this.#dropIdle(this.#idle[Math.max(j, 0)]!.db);
    }
    this.#keepIdle(db);
  }

  /**
   * `user` is finished with this file for good: the idle connection it used last, if any, has
   * its counters reset and serves any user (see `giveBack`'s `done`).
   */
  done(user: object): void {
    for (const e of this.#idle) if (e.user === user && e.db.resetCounters()) e.user = NOBODY;
  }

  /**
   * After a connection committed: whether the tenant's committed state changed since the last
   * call (so it must be saved). Asked of SQLite (`data_version`), not guessed from statements.
   */
  takeChanged(): boolean {
    const v = this.#owner.dataVersion();
    if (v === this.#version) return false;
    this.#version = v;
    return true;
  }

  /**
   * A write ended on one of the file's connections (`Connection` tells it), which may have added
   * frames to the file's WAL: they are folded into the database and the WAL truncated once the
   * tenant is idle (see `used`). SQLite only checkpoints at 1,000 frames (128 here, see
   * sqljs-open.ts) and never shrinks the WAL file, so each open tenant that had written held up
   * to ~4 MB of WAL in sql.js's memory, whatever its size (a 48 KB tenant held 4.4 MB);
   * checkpointing much more often while it is busy slowed its commits by half.
   */
  writeEnded(): void {
    this.#walDirty = true;
    this.#used();
  }

  /** The WAL may hold frames since the last time it was emptied. */
  #walDirty = false;
  /** Statements and writes seen (see `used`), and their count when the idle timer was set. */
  #uses = 0;
  #usesSeen = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * The file was used (a statement ended, a connection came back, a write ended). Once a whole
   * `IDLE_MS` passes without a use, the tenant gives back what only speeds up use: its WAL is
   * emptied into the database, and the page caches of its idle connections are released (sql.js
   * holds the file in memory already; each cache held another copy of up to 2 MB of it). A use
   * only counts: one timer a second per busy file, no clock read per statement.
   */
  #used(): void {
    this.#uses++;
    if (this.#idleTimer === undefined && !this.#closedFlag) this.#armIdle();
  }

  #armIdle(): void {
    this.#usesSeen = this.#uses;
    this.#idleTimer = setTimeout(() => this.#onIdle(), IDLE_MS);
    unrefTimer(this.#idleTimer);
  }

  #onIdle(): void {
    this.#idleTimer = undefined;
    if (this.#closedFlag) return;
    if (this.#uses !== this.#usesSeen) {
      this.#armIdle(); // used since: idle for a whole period first
      return;
    }
    // A writer in its transaction, or another connection reading an older snapshot: later.
    if (this.#walDirty && !this.gate.busy && this.#owner.tryCheckpoint()) this.#walDirty = false;
    for (const { db } of this.#idle) db.releaseMemory();
    this.#owner.releaseMemory();
    if (this.#walDirty) this.#armIdle();
  }

  /**
   * Ends every other connection's engine-opened read snapshot, so that reads after a commit see
   * it (an explicit transaction keeps its snapshot, as in SQLite).
   */
  endReads(except?: TenantDb): void {
    for (const db of this.#leased) if (db !== except) db.endImplicitRead();
  }

  /** Records a schema change: every connection drops its cached statement effects. */
  schemaChanged(): void {
    this.schemaGeneration++;
  }

  /** The last committed image, whatever transactions are open on other connections. */
  export(): Uint8Array {
    return this.#owner.export();
  }

  /**
   * Replaces the whole database with `image`, as one write transaction that every connection
   * sees like another's commit (TEMP objects and settings stay). The caller holds the gate.
   */
  replace(image: Uint8Array): void {
    this.#owner.settleTypes();
    copyImage(this.#sql, this.#owner, image);
    this.schemaChanged();
    this.takeChanged();
  }

  /**
   * Closes every connection and keeps the file as a spare for the next tenant. Connections still
   * lent out are closed under their holders (their next statement reports DATABASE_CLOSED).
   */
  close(): void {
    if (this.#closedFlag) return;
    this.#closedFlag = true;
    clearTimeout(this.#parkTimer);
    clearTimeout(this.#idleTimer);
    const { idle, spares } = shared(this.#sql);
    this.#detachPendingTypes();
    for (const db of this.#parked) idle.delete(db);
    this.#parked.clear();
    for (const { db } of this.#idle.splice(0)) {
      idle.delete(db);
      db.close();
    }
    for (const db of this.#leased) db.close();
    this.#leased.clear();
    // SQLite keeps the file descriptor of a connection closed while others hold the file locked
    // (for the next one opened on it), so a file that had many connections at once holds many:
    // it is closed for good rather than kept (its wal-index stays allocated: ~75 KB).
    if (
      spares.length < SPARE_FILES &&
      this.#highWater <= SPARE_MAX_CONNECTIONS &&
      this.#emptied()
    ) {
      spares.push(this.#owner);
    } else this.#owner.close();
  }

  /**
   * Hands the declared types still pending on this file's connections a copy of its tables and
   * views to be computed from if they are ever read (see `DeclaredTypes.detach`), instead of
   * probing each as the file closes.
   */
  #detachPendingTypes(): void {
    const { connections } = this.#pendingTypes;
    if (connections.size === 0) return;
    let ddl: string[];
    try {
      this.#owner.endImplicitRead();
      ddl = (
        this.#owner.raw.exec(
          "SELECT sql FROM sqlite_schema WHERE type IN ('table', 'view') AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
        )[0]?.values ?? []
      ).map((r) => String(r[0]));
    } catch {
      return; // the connections' closes compute them
    }
    const copy = { sql: this.#sql, ddl };
    for (const db of [...connections]) if (db.types.detach(copy)) connections.delete(db);
  }

  /**
   * Readies the owner's file for the next tenant, whose image the next `open` copies over it;
   * a large one is emptied now, so a spare never holds much memory. False when that failed (it
   * is closed then).
   */
  #emptied(): boolean {
    try {
      this.#owner.rollback();
      this.#owner.endImplicitRead();
      this.#owner.clearStatements();
      if (this.#owner.pageCount() > SPARE_KEEPS_PAGES) copyImage(this.#sql, this.#owner, undefined);
      return true;
    } catch {
      return false;
    }
  }
}

/** What the files of one sql.js instance share: its spare files and its idle connections. */
interface Shared {
  readonly spares: TenantDb[];
  /** Declared types of queries by main schema (see `declaredFor`). */
  readonly declared: Map<string, Map<string, string[]>>;
  /** Idle connections of every file, longest idle first, with their file. */
  readonly idle: Map<TenantDb, TenantFile>;
  /** An empty database, the source of new tenants' files (see `copyImage`). */
  empty?: TenantDb;
}

const sharedByModule = new WeakMap<SqlJsModule, Shared>();

function shared(sql: SqlJsModule): Shared {
  let s = sharedByModule.get(sql);
  if (s === undefined) {
    s = { spares: [], idle: new Map(), declared: new Map() };
    sharedByModule.set(sql, s);
  }
  return s;
}

/** Schemas whose queries' declared types an instance remembers (each up to DECLARED_TYPES). */
const DECLARED_SCHEMAS = 32;

/**
 * The declared types of queries on schema `schema` (`TenantDb.schemaText`), shared by every file
 * of the instance with that schema: a declared type follows from the query and the schema alone,
 * and tenants made from one schema (a schema database's children, an app's tenants, a test
 * suite's fixtures) then find each query's once between them instead of once each (~160 µs a
 * query, a temporary view on the owner connection).
 */
function declaredFor(sql: SqlJsModule, schema: string): Map<string, string[]> {
  const all = shared(sql).declared;
  let declared = all.get(schema);
  if (declared === undefined) {
    if (all.size >= DECLARED_SCHEMAS) all.delete(all.keys().next().value!);
    declared = new Map();
    all.set(schema, declared);
  }
  return declared;
}

let mainName: number | undefined;

/** The instance's empty database, the source of new tenants' files (see `copyImage`). */
function emptySource(sql: SqlJsModule): TenantDb {
  const store = shared(sql);
  store.empty ??= new TenantDb(sql, undefined, { journalMode: "delete", defaults: false });
  return store.empty;
}

/**
 * Copies `image` (or an empty database) over the database of `dest`'s connection with SQLite's
 * backup API: one write transaction, seen by other connections as a commit.
 */
function copyImage(sql: SqlJsModule, dest: TenantDb, image: Uint8Array | undefined): void {
  // A new tenant's empty database comes from one empty source per instance, which backups only
  // read (opening a database costs more than the copy).
  const empty = image === undefined;
  const source = empty
    ? emptySource(sql)
    : new TenantDb(sql, image, { journalMode: "delete", defaults: false });
  try {
    mainName ??= sql.stringToNewUTF8("main");
    const backup = sql._sqlite3_backup_init(dest.raw.db, mainName, source.raw.db, mainName);
    if (backup === 0) throw new Error(sql.UTF8ToString(sql._sqlite3_errmsg(dest.raw.db)));
    const step = sql._sqlite3_backup_step(backup, -1);
    const finish = sql._sqlite3_backup_finish(backup);
    if (step !== SQLITE_DONE || finish !== 0) {
      throw new Error(sql.UTF8ToString(sql._sqlite3_errmsg(dest.raw.db)));
    }
    dest.checkpoint();
  } catch (e) {
    throw toSqliteError(e);
  } finally {
    if (!empty) source.close();
  }
}

/** `TOO_MANY_CONNECTIONS`, saying where the connections are (`where`). */
function tooManyConnections(where: string, cause?: unknown): TenantliteError {
  return new TenantliteError(
    "TOO_MANY_CONNECTIONS",
    `No SQLite connection could be opened: ${where} (each open transaction, and each connection holding TEMP objects, settings or attachments, keeps one); close idle transactions and connections`,
    { cause },
  );
}
