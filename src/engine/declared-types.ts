/**
 * Declared types of a query's columns (sql.js has no `column_decltype`): probed through a
 * temporary view, by the file's owner connection when it may answer, and handed out lazily at a
 * statement's first run on a schema (see {@link DeclaredTypes.lazy}).
 */

import { replaceParams } from "./sql-scan.js";
import type { RawDatabase, SqlJsModule } from "./sqljs-types.js";
import type { CachedStatement } from "./statement-cache.js";
import type { TenantDb } from "./tenant-db.js";
import { registerVectorFunctions } from "./vector.js";

/**
 * A closed file's tables and views (their `CREATE` statements, in creation order), which the
 * declared types still pending when it closed are computed from, on a scratch database, if they
 * are ever read (see `DeclaredTypes.detach`).
 */
export interface SchemaCopy {
  readonly sql: SqlJsModule;
  readonly ddl: readonly string[];
}

/** Declared types handed out uncomputed: filled when first read, or before the schema may change. */
export interface LazyTypes {
  types: string[] | undefined;
  readonly entry: CachedStatement;
}

/** Results with uncomputed declared types a connection tracks before it computes the oldest. */
const MAX_PENDING_TYPES = 64;
/** Connections of a file with pending types (closed ones included) before they are computed. */
const MAX_PENDING_CONNECTIONS = 64;

/**
 * Declared types of a query's `n` columns as the file's owner connection finds them, for a
 * connection whose TEMP objects have the names `temp` (lower-cased); undefined when the asker
 * must find them itself (a TEMP object shadows a name of the file's, or the owner cannot).
 */
export type Describer = (body: string, n: number, temp: readonly string[]) => string[] | undefined;
const NO_NAMES: readonly string[] = [];

/**
 * Connections whose results carry declared types not computed yet (see `DeclaredTypes.lazy`):
 * shared by the connections of one file, so that a statement about to change the schema on any of
 * them has every connection compute its pending types first, against the schema they were for.
 */
export interface PendingTypes {
  readonly connections: Set<TenantDb>;
}

/** The declared types of one connection's statements, and those it handed out uncomputed. */
export class DeclaredTypes {
  /**
   * Declared types handed out uncomputed, while some result holds them (a result nobody holds
   * needs none).
   */
  private pendingTypes: WeakRef<LazyTypes>[] = [];
  /** Set when the connection closed and left its pending types to the file's owner. */
  private leftToFile = false;
  /** Set when the file closed with types of this connection pending (see `detach`). */
  private detached: SchemaCopy | undefined;

  constructor(private readonly db: TenantDb) {}

  /**
   * The file closes while types of this connection, which saw only the file's schema, are
   * pending: most belong to results nobody will read again (a result is known to be unreachable
   * only after a full garbage collection), so rather than probing each now they are computed
   * from a copy of the file's schema if they are ever read. False for a connection with TEMP
   * objects, attachments or DDL of its own transaction: its close computes them.
   */
  detach(schema: SchemaCopy): boolean {
    if (this.db.stateful || !this.db.sharesFileSchema) return false;
    this.pendingTypes = [];
    this.detached = schema;
    return true;
  }

  /**
   * At the close of a connection that saw only the file's schema (no TEMP objects, attachments
   * or DDL of its own transaction): its pending types stay pending, answered by the file's owner
   * connection when read, or settled with the file's before its schema changes (and when the
   * file closes, `detach` takes over). False when the file has no describer: the caller computes
   * them now.
   */
  leaveToFile(): boolean {
    if (this.db.describer === undefined) return false;
    this.pendingTypes = this.pendingTypes.filter((r) => r.deref()?.types === undefined);
    const { connections } = this.db.pending;
    if (this.pendingTypes.length === 0) {
      connections.delete(this.db);
      return true;
    }
    this.leftToFile = true;
    // Bounded: a file whose schema never changes would otherwise gather closed connections.
    if (connections.size > MAX_PENDING_CONNECTIONS) this.settle();
    return true;
  }

  /** Declared types through a temporary view of the same query (sql.js lacks column_decltype). */
  of(entry: CachedStatement): string[] {
    if (entry.decltypes !== undefined) return entry.decltypes;
    const n = entry.columns.length;
    let types: string[] | undefined;
    if (n > 0 && entry.scan.verb === "SELECT" && entry.scan.firstWord !== "EXPLAIN") {
      const db = this.db;
      const body = replaceParams(entry.compiled.sql, entry.compiled.scan.params, "NULL");
      // A connection sees the file's schema, plus its TEMP objects: the file answers (once per
      // query for all its connections) unless a TEMP object may shadow a name of the file's — a
      // query naming a TEMP-only object fails on the file and is probed here. (Not after DDL of
      // its own transaction, which only it sees yet, nor with attachments, which the file lacks.)
      if (this.detached !== undefined) {
        types = typesFromCopy(this.detached, body, n);
      } else if (this.leftToFile) {
        types = db.describer?.(body, n, NO_NAMES); // closed: the file's owner answers
      } else {
        if (db.sharesFileSchema && db.describer !== undefined) {
          const temp = db.stateful ? (db.tempNamesNow ?? objectNames(db.raw, "temp")) : NO_NAMES;
          types = db.describer(body, n, temp);
        }
        types ??= db.probeDeclaredTypes(body, n);
      }
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
   * computes them first (`settle`). A connection with attachments computes them at once:
   * another tenant may change an attached schema.
   */
  lazy(entry: CachedStatement): string[] | (() => string[]) {
    if (entry.decltypes !== undefined) return entry.decltypes;
    const n = entry.columns.length;
    if (
      n === 0 ||
      entry.scan.verb !== "SELECT" ||
      entry.scan.firstWord === "EXPLAIN" ||
      entry.lazy !== undefined ||
      this.db.hasAttachments
    ) {
      return this.of(entry);
    }
    const lazy: LazyTypes = { types: undefined, entry };
    entry.lazy = new WeakRef(lazy);
    if (this.pendingTypes.length >= MAX_PENDING_TYPES) this.prune();
    this.pendingTypes.push(new WeakRef(lazy));
    this.db.pending.connections.add(this.db);
    return () => lazy.types ?? this.of(entry);
  }

  /** Forgets pending types no result holds any more, then computes the oldest half if still many. */
  private prune(): void {
    this.pendingTypes = this.pendingTypes.filter((r) => r.deref()?.types === undefined);
    if (this.pendingTypes.length < MAX_PENDING_TYPES) return;
    for (const r of this.pendingTypes.splice(0, MAX_PENDING_TYPES / 2)) this.settleLazy(r.deref());
  }

  /**
   * Computes every pending declared type of the connections of this file, before something may
   * change the schema they were handed out for.
   */
  settle(): void {
    const { connections } = this.db.pending;
    if (connections.size === 0) return;
    for (const db of [...connections]) {
      connections.delete(db);
      db.types.settleOwn();
    }
  }

  private settleOwn(): void {
    for (const r of this.pendingTypes.splice(0)) this.settleLazy(r.deref());
  }

  private settleLazy(lazy: LazyTypes | undefined): void {
    if (lazy === undefined || lazy.types !== undefined) return;
    lazy.types =
      this.db.isClosed && !this.leftToFile
        ? new Array(lazy.entry.columns.length).fill("")
        : this.of(lazy.entry);
  }
}

/** Declared types of a query on a scratch database made from `schema` (see `SchemaCopy`). */
function typesFromCopy(schema: SchemaCopy, body: string, n: number): string[] | undefined {
  const scratch = new schema.sql.Database(null);
  try {
    registerVectorFunctions(schema.sql, scratch.db);
    for (const ddl of schema.ddl) {
      try {
        scratch.exec(ddl);
      } catch {
        /* e.g. a virtual table of a module this engine lacks: its columns get no types */
      }
    }
    return probeDeclaredTypes(scratch, body, n);
  } finally {
    scratch.close();
  }
}

/** The names of the objects (tables, views, …) of `schema`, lower-cased as SQLite compares them. */
export function objectNames(raw: RawDatabase, schema: "main" | "temp"): string[] {
  const rows = raw.exec(`SELECT lower(name) FROM ${schema}.sqlite_schema`)[0]?.values ?? [];
  return rows.map((r) => String(r[0]));
}

/**
 * Declared types of a query's `n` columns, through a temporary view of it (sql.js lacks
 * `sqlite3_column_decltype`); undefined when the query cannot be a view. Runs outside any
 * transaction of the engine's own (the caller ends its implicit read first).
 */
export function probeDeclaredTypes(
  raw: RawDatabase,
  body: string,
  n: number,
): string[] | undefined {
  let types: string[] | undefined;
  try {
    raw.exec(`CREATE TEMP VIEW "__tenantlite_decltype" AS ${body}`);
    try {
      const info = raw.exec(`PRAGMA temp.table_info("__tenantlite_decltype")`)[0];
      if (info !== undefined && info.values.length === n) {
        types = info.values.map((r) => String(r[2] ?? ""));
      }
    } finally {
      raw.exec(`DROP VIEW temp."__tenantlite_decltype"`);
    }
  } catch {
    /* not expressible as a view (e.g. a trailing semicolon): no types */
  }
  return types;
}
