/**
 * The catalog: groups, databases and small platform records, kept in a SQLite database of its own
 * so lookups are indexed and listing is paginated however many databases there are.
 *
 * Persistence is an append log plus snapshots, so a change never rewrites the whole catalog:
 * each change applies to the in-memory database at once and is appended, as an idempotent
 * operation, to a log record in storage (`catalog/log/<seq>`); concurrent changes share one
 * log record (group commit). When the log outgrows the last snapshot, a new snapshot
 * (`catalog/snapshot.db`, which records the last log sequence it covers) is written and the
 * covered log records are deleted: amortized O(1) per change. Opening replays the log after the
 * snapshot; replaying an operation twice is harmless.
 */
import type { RawDatabase, RawStatement, SqlJsModule } from "../engine/sqljs-types.js";
import { databaseNotFound, platformClosed, TenantliteError } from "../errors.js";
import { keys } from "../storage/keyspace.js";
import { deleteAll, roomAdvice, type Storage } from "../storage/storage.js";
import type {
  DatabaseConfig,
  DatabaseInfo,
  DatabaseType,
  GroupInfo,
  ListDatabasesOptions,
} from "./types.js";

/** Compact when the log holds more bytes than this or than the snapshot, whichever is larger. */
const MIN_COMPACT_BYTES = 64 << 10;
/** Most lookups {@link Catalog.getDatabase} remembers (the oldest are forgotten first). */
const LOOKUPS_CACHED = 50_000;

/** One idempotent change, as logged. */
type Op =
  | { readonly t: "db"; readonly r: DatabaseInfo; readonly b?: string }
  | { readonly t: "dbdel"; readonly id: string }
  | { readonly t: "group"; readonly r: GroupInfo }
  | { readonly t: "groupdel"; readonly name: string }
  | { readonly t: "kv"; readonly k: string; readonly v: string | null };

// (The SQL texts here go into the browser's engine bundle as written: no indentation.)
const SCHEMA = `
CREATE TABLE IF NOT EXISTS groups (
name TEXT PRIMARY KEY,
id TEXT NOT NULL UNIQUE,
created_at TEXT NOT NULL,
location TEXT NOT NULL,
delete_protection INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS databases (
id TEXT PRIMARY KEY,
name TEXT NOT NULL UNIQUE,
group_name TEXT NOT NULL,
created_at TEXT NOT NULL,
type TEXT NOT NULL CHECK (type IN ('regular', 'schema', 'child')),
parent TEXT,
allow_attach INTEGER NOT NULL DEFAULT 0,
block_reads INTEGER NOT NULL DEFAULT 0,
block_writes INTEGER NOT NULL DEFAULT 0,
delete_protection INTEGER NOT NULL DEFAULT 0,
encrypted INTEGER NOT NULL DEFAULT 0,
base_image TEXT,
size_limit INTEGER
);
CREATE INDEX IF NOT EXISTS databases_by_group ON databases(group_name, name);
CREATE INDEX IF NOT EXISTS databases_by_parent ON databases(parent, name);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

type Row = Record<string, unknown>;

/** An operation applied in memory, and what puts back the state it replaced. */
interface Applied {
  readonly op: Op;
  readonly undo: () => void;
}

/** Durable records of groups, databases and small platform state. */
export class Catalog {
  /** Operations applied in memory, not yet in a log record, each with what undoes it. */
  #pending: Applied[] = [];
  #pendingWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;
  #compacting: Promise<void> | undefined;
  #lastSeq: number;
  #logBytes = 0;
  #snapshotBytes: number;
  #closed = false;
  /**
   * Database records by the name or id they were asked for (a request looks its database up by
   * name: a query per request cost as much CPU as running the request's statement). Only found
   * records are kept; every change of a database record forgets the entries it could affect
   * (see {@link forgetLookups}), before the change is visible anywhere else.
   */
  readonly #lookups = new Map<string, DatabaseInfo>();
  /** The keys of {@link lookups} that hold each database id's record. */
  readonly #lookupKeys = new Map<string, Set<string>>();

  readonly #db: RawDatabase;
  readonly #storage: Storage;

  private constructor(db: RawDatabase, storage: Storage, lastSeq: number, snapshotBytes: number) {
    this.#db = db;
    this.#storage = storage;
    this.#lastSeq = lastSeq;
    this.#snapshotBytes = snapshotBytes;
  }

  /** Opens the catalog stored in `storage` (or a new one): the snapshot, then the log after it. */
  static async open(sql: SqlJsModule, storage: Storage): Promise<Catalog> {
    const bytes = await storage.load(keys.catalogSnapshot());
    const db = new sql.Database(bytes ?? null);
    // Its durability is the storage's snapshot and log; this file is an index of them in memory,
    // so its rollback journal need not be a file (a commit cost ~170 µs with one). No other
    // connection opens it: holding its lock spares every statement the lock and hot-journal
    // checks in sql.js's file system (~15 µs each; database creations 2× faster).
    db.exec("PRAGMA journal_mode = MEMORY");
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec(SCHEMA);
    const columns =
      db.exec("SELECT name FROM pragma_table_info('databases')")[0]?.values.flat() ?? [];
    if (!columns.includes("base_image"))
      db.exec("ALTER TABLE databases ADD COLUMN base_image TEXT");
    if (!columns.includes("size_limit"))
      db.exec("ALTER TABLE databases ADD COLUMN size_limit INTEGER");
    const covered = Number(
      db.exec("SELECT value FROM meta WHERE key = 'log_seq'")[0]?.values[0]?.[0] ?? 0,
    );
    const catalog = new Catalog(db, storage, covered, bytes?.length ?? 0);
    await catalog.#replay(covered);
    return catalog;
  }

  async #replay(covered: number): Promise<void> {
    for (let after: string | undefined; ; ) {
      const logged = await this.#storage.list(keys.catalogLogPrefix, {
        limit: 1000,
        ...(after ? { after } : {}),
      });
      for (const key of logged) {
        const seq = keys.catalogLogSeq(key);
        if (!Number.isSafeInteger(seq) || seq <= covered) continue;
        const record = await this.#storage.load(key);
        if (record === undefined) continue;
        let ops: Op[];
        try {
          ops = JSON.parse(new TextDecoder().decode(record)) as Op[];
        } catch {
          // Log records are saved atomically, so an unreadable one was not written by us: skip it.
          continue;
        }
        this.#db.exec("BEGIN");
        for (const op of ops) this.#apply(op);
        this.#db.exec("COMMIT");
        this.#lastSeq = Math.max(this.#lastSeq, seq);
        this.#logBytes += record.length;
      }
      if (logged.length < 1000) break;
      after = logged[logged.length - 1];
    }
  }

  /** Applies an operation to the in-memory database (idempotently). */
  #apply(op: Op): void {
    switch (op.t) {
      case "db": {
        const d = op.r;
        // Its old name and id, and a lookup of its new name that found another database by id.
        this.#forgetLookups(d.id, d.name);
        let base: string | null = null;
        this.#query(
          `INSERT INTO databases (id,name,group_name,created_at,type,parent,allow_attach,block_reads,block_writes,delete_protection,encrypted,base_image,size_limit)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT (id) DO UPDATE SET name=excluded.name, group_name=excluded.group_name,
created_at=excluded.created_at, type=excluded.type, parent=excluded.parent,
allow_attach=excluded.allow_attach, block_reads=excluded.block_reads,
block_writes=excluded.block_writes, delete_protection=excluded.delete_protection,
encrypted=excluded.encrypted, base_image=coalesce(excluded.base_image, base_image),
size_limit=excluded.size_limit
RETURNING base_image`,
          [
            d.id,
            d.name,
            d.group,
            d.createdAt,
            d.type,
            d.parent,
            d.config.allow_attach ? 1 : 0,
            d.config.block_reads ? 1 : 0,
            d.config.block_writes ? 1 : 0,
            d.config.delete_protection ? 1 : 0,
            d.encrypted ? 1 : 0,
            op.b ?? null,
            d.sizeLimit ?? null,
          ],
          (st) => {
            const b = st.get()[0];
            base = typeof b === "string" ? b : null;
          },
        );
        this.#recordNamed(d);
        this.#rememberBase(d.id, base);
        return;
      }
      case "dbdel":
        this.#forgetLookups(op.id);
        this.#baseImages.delete(op.id);
        this.#run("DELETE FROM databases WHERE id = ?", [op.id]);
        return;
      case "group": {
        const g = op.r;
        this.#groups.clear();
        this.#run(
          "INSERT OR REPLACE INTO groups (name, id, created_at, location, delete_protection) VALUES (?, ?, ?, ?, ?)",
          [g.name, g.id, g.createdAt, g.location, g.delete_protection ? 1 : 0],
        );
        return;
      }
      case "groupdel":
        this.#groups.clear();
        this.#run("DELETE FROM groups WHERE name = ?", [op.name]);
        return;
      case "kv":
        if (op.v === null) this.#run("DELETE FROM kv WHERE key = ?", [op.k]);
        else this.#run("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", [op.k, op.v]);
        return;
    }
  }

  /**
   * Applies `op` now and resolves once it is in a durable log record. When that record cannot be
   * saved, the change is undone in memory (with every change made after it, which may build on
   * it) and rejects: a change the caller is told failed is not seen, then lost at the next start.
   */
  #change(op: Op): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new TenantliteError("PLATFORM_CLOSED", "The catalog is closed"));
    }
    const undo = this.#undoOf(op);
    this.#apply(op);
    this.#pending.push({ op, undo });
    const done = new Promise<void>((resolve, reject) => {
      this.#pendingWaiters.push({ resolve, reject });
    });
    this.#flushing ??= this.#flushLoop();
    return done;
  }

  /** What puts back, once `op` is applied, the state `op` replaces. */
  #undoOf(op: Op): () => void {
    switch (op.t) {
      case "db":
      case "dbdel": {
        const id = op.t === "db" ? op.r.id : op.id;
        const row = this.#all("SELECT * FROM databases WHERE id = ?", [id])[0];
        const prior = row === undefined ? undefined : toDatabase(row);
        if (prior === undefined) return () => this.#apply({ t: "dbdel", id });
        const b = this.getBaseImage(id);
        return () => {
          // Deleted first: the op may have given it a shared image it did not have.
          this.#apply({ t: "dbdel", id });
          this.#apply(b === undefined ? { t: "db", r: prior } : { t: "db", r: prior, b });
        };
      }
      case "group":
      case "groupdel": {
        const name = op.t === "group" ? op.r.name : op.name;
        const prior = this.getGroup(name);
        return () => this.#apply(prior ? { t: "group", r: prior } : { t: "groupdel", name });
      }
      case "kv": {
        const v = this.getRecord(op.k) ?? null;
        return () => this.#apply({ t: "kv", k: op.k, v });
      }
    }
  }

  /** Writes pending operations, one log record per round, until none are left. */
  async #flushLoop(): Promise<void> {
    // Let changes made in the same tick join this record.
    await Promise.resolve();
    try {
      while (this.#pending.length > 0) {
        const applied = this.#pending;
        const waiters = this.#pendingWaiters;
        this.#pending = [];
        this.#pendingWaiters = [];
        const seq = this.#lastSeq + 1;
        const bytes = new TextEncoder().encode(JSON.stringify(applied.map((a) => a.op)));
        try {
          // A deletion (`dbdel`, `groupdel`) must be recordable on a full disk: its files go once
          // it is, freeing room.
          await this.#storage.save(keys.catalogLog(seq), bytes, {
            reserve: applied.some((a) => a.op.t.endsWith("del")),
          });
          this.#lastSeq = seq;
          this.#logBytes += bytes.length;
          for (const w of waiters) w.resolve();
        } catch (e) {
          // Nothing after the last durable record stays: newest first, back to it.
          const undone = [...applied, ...this.#pending];
          const told = [...waiters, ...this.#pendingWaiters];
          this.#pending = [];
          this.#pendingWaiters = [];
          for (let i = undone.length - 1; i >= 0; i--) undone[i]!.undo();
          const error = notSaved(this.#storage, e);
          for (const w of told) w.reject(error);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
    if (
      this.#compacting === undefined &&
      this.#logBytes > Math.max(MIN_COMPACT_BYTES, this.#snapshotBytes)
    ) {
      this.#compacting = this.#compact()
        .catch(() => {
          /* the log stays; the next flush tries again */
        })
        .finally(() => {
          this.#compacting = undefined;
        });
    }
  }

  /** Writes a snapshot covering the log so far, then deletes the covered log records. */
  async #compact(): Promise<void> {
    const covered = this.#lastSeq;
    // The snapshot may also hold operations still pending; replaying them later is harmless.
    this.#run("INSERT OR REPLACE INTO meta (key, value) VALUES ('log_seq', ?)", [covered]);
    const image = this.#db.export();
    await this.#storage.save(keys.catalogSnapshot(), image);
    this.#snapshotBytes = image.length;
    this.#logBytes = 0;
    for (;;) {
      const logged = await this.#storage.list(keys.catalogLogPrefix, { limit: 1000 });
      const old = logged.filter((k) => keys.catalogLogSeq(k) <= covered);
      await deleteAll(this.#storage, old);
      if (old.length < 1000) break;
    }
  }

  /** Waits until every change so far is durable and any compaction has finished. */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined || this.#compacting !== undefined) {
      await this.#flushing;
      await this.#compacting;
    }
  }

  /** Flushes pending changes and closes. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#lookups.clear();
    this.#lookupKeys.clear();
    this.#baseImages.clear();
    this.#groups.clear();
    for (const st of this.#statements.values()) st.free();
    this.#statements.clear();
    this.#db.close();
  }

  putGroup(g: GroupInfo): Promise<void> {
    return this.#change({ t: "group", r: g });
  }

  deleteGroup(name: string): Promise<void> {
    return this.#change({ t: "groupdel", name });
  }

  /**
   * Records a database. `baseImage` names a shared, immutable image (`images/<sha256>.db`) the
   * database starts from until its own file is first written (copies of a template or of a
   * schema parent cost one catalog record, not one file each).
   */
  putDatabase(d: DatabaseInfo, baseImage?: string): Promise<void> {
    return this.#change(
      baseImage === undefined ? { t: "db", r: d } : { t: "db", r: d, b: baseImage },
    );
  }

  /** The shared image a database starts from, if it was created from one. */
  getBaseImage(id: string): string | undefined {
    let base = this.#baseImages.get(id);
    if (base === undefined) {
      const r = this.#all("SELECT base_image FROM databases WHERE id = ?", [id])[0];
      if (r === undefined) return undefined;
      base = typeof r.base_image === "string" ? r.base_image : null;
      this.#rememberBase(id, base);
    }
    return base ?? undefined;
  }

  /** Base images by database id, as last written or read (`null`: none). */
  readonly #baseImages = new Map<string, string | null>();

  #rememberBase(id: string, base: string | null): void {
    if (this.#closed) return;
    if (this.#baseImages.size >= LOOKUPS_CACHED) this.#baseImages.clear();
    this.#baseImages.set(id, base);
  }

  /** The shared images some database reads. */
  sharedImagesInUse(): Set<string> {
    const rows = this.#all(
      "SELECT DISTINCT base_image FROM databases WHERE base_image IS NOT NULL",
    );
    return new Set(rows.map((r) => String(r.base_image)));
  }

  deleteDatabase(id: string): Promise<void> {
    return this.#change({ t: "dbdel", id });
  }

  /** A small platform record (keys, token generations, job state…), or `undefined`. */
  getRecord(key: string): string | undefined {
    const r = this.#all("SELECT value FROM kv WHERE key = ?", [key])[0];
    return r === undefined ? undefined : String(r.value);
  }

  /** Records whose key starts with `prefix`, in key order. */
  listRecords(prefix: string, limit = 1000): { key: string; value: string }[] {
    return this.#all("SELECT key, value FROM kv WHERE substr(key, 1, ?) = ? ORDER BY key LIMIT ?", [
      prefix.length,
      prefix,
      limit,
    ]).map((r) => ({ key: String(r.key), value: String(r.value) }));
  }

  /** Sets (or, with `null`, removes) a small platform record, durably. */
  putRecord(key: string, value: string | null): Promise<void> {
    return this.#change({ t: "kv", k: key, v: value });
  }

  /**
   * Prepared statements by SQL text (the catalog's queries and writes are few and fixed:
   * compiling the database record's upsert took longer than running it).
   */
  readonly #statements = new Map<string, RawStatement>();

  /** Runs `sql` with `params` on its prepared statement, and hands each row to `row`. */
  #query(sql: string, params: unknown[], row?: (st: RawStatement) => void): void {
    // A request still in flight when the platform closes: sql.js would run it on a freed
    // connection and report "out of memory".
    if (this.#closed) throw platformClosed();
    let st = this.#statements.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      if (this.#statements.size < 64) this.#statements.set(sql, st);
    }
    try {
      st.bind(params);
      while (st.step()) row?.(st);
    } finally {
      if (this.#statements.get(sql) === st) st.reset();
      else st.free();
    }
  }

  /** Runs a write. */
  #run(sql: string, params: unknown[]): void {
    this.#query(sql, params);
  }

  #all(sql: string, params: unknown[] = []): Row[] {
    const out: Row[] = [];
    let cols: string[] | undefined;
    this.#query(sql, params, (st) => {
      cols ??= st.getColumnNames();
      const v = st.get();
      const r: Row = {};
      cols.forEach((c, i) => {
        r[c] = v[i];
      });
      out.push(r);
    });
    return out;
  }

  getGroup(name: string): GroupInfo | undefined {
    let g = this.#groups.get(name);
    if (g === undefined) {
      const r = this.#all("SELECT * FROM groups WHERE name = ?", [name])[0];
      g = r === undefined ? null : toGroup(r);
      // Groups are few, and every database created asks for its own.
      if (this.#groups.size < 1000) this.#groups.set(name, g);
    }
    return g ?? undefined;
  }

  /** Groups by name as last read (`null`: none), until a group changes. */
  readonly #groups = new Map<string, GroupInfo | null>();

  listGroups(): GroupInfo[] {
    return this.#all("SELECT * FROM groups ORDER BY name").map(toGroup);
  }

  /** A database by name or id (a name wins over another database's id). */
  getDatabase(nameOrId: string): DatabaseInfo | undefined {
    const hit = this.#lookups.get(nameOrId);
    if (hit !== undefined) return hit;
    const r = this.#all(
      "SELECT * FROM databases WHERE name = ?1 UNION ALL SELECT * FROM databases WHERE id = ?1 LIMIT 1",
      [nameOrId],
    )[0];
    if (r === undefined) return undefined;
    const info = toDatabase(r);
    this.#remember(nameOrId, info);
    return info;
  }

  /** A database by name or id; `DATABASE_NOT_FOUND` when there is none. */
  requireDatabase(nameOrId: string): DatabaseInfo {
    if (typeof nameOrId !== "string") {
      throw new TenantliteError("ARGS_INVALID", "A database name must be a string");
    }
    const info = this.getDatabase(nameOrId);
    if (info === undefined) {
      throw databaseNotFound(nameOrId);
    }
    return info;
  }

  /**
   * Remembers a record being written under its name (the database just created is the one asked
   * for next) when it is the platform's own frozen one, as lookups hand out.
   */
  #recordNamed(d: DatabaseInfo): void {
    if (Object.isFrozen(d) && Object.isFrozen(d.config)) this.#remember(d.name, d);
  }

  /** Keeps a found record for later lookups by `key`. */
  #remember(key: string, info: DatabaseInfo): void {
    if (this.#closed) return;
    if (this.#lookups.size >= LOOKUPS_CACHED) {
      const oldest = this.#lookups.entries().next().value;
      if (oldest !== undefined) this.#dropLookup(oldest[0], oldest[1].id);
    }
    this.#lookups.set(key, info);
    let lookupKeys = this.#lookupKeys.get(info.id);
    if (lookupKeys === undefined) {
      lookupKeys = new Set();
      this.#lookupKeys.set(info.id, lookupKeys);
    }
    lookupKeys.add(key);
  }

  #dropLookup(key: string, id: string): void {
    this.#lookups.delete(key);
    const lookupKeys = this.#lookupKeys.get(id);
    lookupKeys?.delete(key);
    if (lookupKeys?.size === 0) this.#lookupKeys.delete(id);
  }

  /**
   * Forgets every remembered lookup that found database `id`, and the lookup of `name` (a new or
   * renamed database's name wins over the id another lookup of that string found).
   */
  #forgetLookups(id: string, name?: string): void {
    const lookupKeys = this.#lookupKeys.get(id);
    if (lookupKeys !== undefined) {
      for (const key of lookupKeys) this.#lookups.delete(key);
      this.#lookupKeys.delete(id);
    }
    if (name !== undefined) {
      const other = this.#lookups.get(name);
      if (other !== undefined) this.#dropLookup(name, other.id);
    }
  }

  /** The databases among `ids` that exist, by id (one query for many). */
  getDatabasesById(ids: readonly string[]): Map<string, DatabaseInfo> {
    const rows = this.#all("SELECT * FROM databases WHERE id IN (SELECT value FROM json_each(?))", [
      JSON.stringify(ids),
    ]);
    return new Map(rows.map((r) => [r.id as string, toDatabase(r)]));
  }

  listDatabases(options: ListDatabasesOptions = {}): DatabaseInfo[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.group !== undefined) {
      where.push("group_name = ?");
      params.push(options.group);
    }
    if (options.schema !== undefined) {
      where.push("parent = ?");
      params.push(options.schema);
    }
    if (options.type !== undefined) {
      where.push("type = ?");
      params.push(options.type);
    }
    if (options.after !== undefined) {
      where.push("name > ?");
      params.push(options.after);
    }
    const limit = Math.max(1, Math.min(options.limit ?? 1000, 100_000));
    const sql = `SELECT * FROM databases ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY name LIMIT ${limit}`;
    return this.#all(sql, params).map(toDatabase);
  }

  /**
   * Databases matching `filter`, a page at a time in name order, so callers walk any number of
   * them without loading the whole catalog. Each page is read when the caller asks for it.
   */
  *pagesOfDatabases(
    filter: Omit<ListDatabasesOptions, "after" | "limit">,
    size = 500,
  ): Generator<DatabaseInfo[]> {
    for (let after: string | undefined; ; ) {
      const page = this.listDatabases({ ...filter, limit: size, ...(after ? { after } : {}) });
      if (page.length > 0) yield page;
      if (page.length < size) return;
      after = page[page.length - 1]!.name;
    }
  }

  countChildren(parent: string): number {
    return Number(
      this.#all("SELECT count(*) AS n FROM databases WHERE parent = ?", [parent])[0]?.n ?? 0,
    );
  }
}

function toGroup(r: Row): GroupInfo {
  return Object.freeze({
    id: String(r.id),
    name: String(r.name),
    createdAt: String(r.created_at),
    location: String(r.location),
    delete_protection: r.delete_protection === 1,
  });
}

function toDatabase(r: Row): DatabaseInfo {
  const config: DatabaseConfig = Object.freeze({
    allow_attach: r.allow_attach === 1,
    block_reads: r.block_reads === 1,
    block_writes: r.block_writes === 1,
    delete_protection: r.delete_protection === 1,
  });
  return Object.freeze({
    id: String(r.id),
    name: String(r.name),
    group: String(r.group_name),
    createdAt: String(r.created_at),
    type: r.type as DatabaseType,
    parent: r.parent === null || r.parent === undefined ? null : String(r.parent),
    config,
    encrypted: r.encrypted === 1,
    ...(typeof r.size_limit === "number" ? { sizeLimit: r.size_limit } : {}),
  });
}

/** A change whose log record could not be saved: undone, with the storage's error as its cause. */
function notSaved(storage: Storage, cause: unknown): TenantliteError {
  return new TenantliteError(
    "STORAGE_WRITE_FAILED",
    `saving the catalog failed, so the change was not made (${roomAdvice(storage)})`,
    { cause },
  );
}
