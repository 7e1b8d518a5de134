/**
 * Declared types of a statement's result columns, as SQLite's `sqlite3_column_decltype` reports
 * them (sql.js does not export it): from the tables' own column types where the parser read the
 * columns as names of tables, otherwise through a temporary view of the query; found by the file's
 * owner connection when it may answer, and handed out lazily at a statement's first run on a
 * schema (see {@link DeclaredTypes.lazy}).
 */

import {
  classify,
  type ResultColumnShape,
  type ResultShape,
  type SourceShape,
} from "../../parser/index.js";
import { replaceParams, scanSql } from "./sql-scan.js";
import type { RawDatabase, SqlJsModule } from "./sqljs-types.js";
import type { CachedStatement } from "./statement-cache.js";
import { quoteIdent, quoteLiteral, schemaSearchedFirst } from "./statement-info.js";
import { originalName, rewriteTableFunctions } from "./table-functions.js";
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
 * What the declared types of a statement's result columns are found from: a SELECT with the same
 * result columns (`body`, parameters as NULL; also the key they are cached by), and what the
 * parser read of those columns.
 */
export interface TypeProbe {
  readonly body: string;
  readonly shape: ResultShape | undefined;
}

/**
 * The probe of a statement that returns rows; undefined when its columns have no declared types
 * to find (EXPLAIN, a statement the parser could not read that is no SELECT).
 */
export function typeProbe(entry: CachedStatement): TypeProbe | undefined {
  if (entry.columns.length === 0 || entry.scan.firstWord === "EXPLAIN") return undefined;
  const shape = entry.info.summary?.result;
  if (shape === undefined && entry.scan.verb !== "SELECT") return undefined;
  const query = shape?.query ?? entry.compiled.sql;
  const { params } = query === entry.compiled.sql ? entry.compiled.scan : scanSql(query);
  return { body: replaceParams(query, params, "NULL"), shape };
}

/**
 * Declared types of a query's `n` columns as the file's owner connection finds them, for a
 * connection whose TEMP objects have the names `temp` (lower-cased); undefined when the asker
 * must find them itself (a TEMP object shadows a name of the file's, or the owner cannot).
 */
export type Describer = (
  probe: TypeProbe,
  n: number,
  temp: readonly string[],
) => string[] | undefined;
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
  #pendingTypes: WeakRef<LazyTypes>[] = [];
  /** Set when the connection closed and left its pending types to the file's owner. */
  #leftToFile = false;
  /** Set when the file closed with types of this connection pending (see `detach`). */
  #detached: SchemaCopy | undefined;

  readonly #db: TenantDb;

  constructor(db: TenantDb) {
    this.#db = db;
  }

  /**
   * The file closes while types of this connection, which saw only the file's schema, are
   * pending: most belong to results nobody will read again (a result is known to be unreachable
   * only after a full garbage collection), so rather than probing each now they are computed
   * from a copy of the file's schema if they are ever read. False for a connection with TEMP
   * objects, attachments or DDL of its own transaction: its close computes them.
   */
  detach(schema: SchemaCopy): boolean {
    if (this.#db.stateful || !this.#db.sharesFileSchema) return false;
    this.#pendingTypes = [];
    this.#detached = schema;
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
    if (this.#db.describer === undefined) return false;
    this.#pendingTypes = this.#pendingTypes.filter((r) => r.deref()?.types === undefined);
    const { connections } = this.#db.pending;
    if (this.#pendingTypes.length === 0) {
      connections.delete(this.#db);
      return true;
    }
    this.#leftToFile = true;
    // Bounded: a file whose schema never changes would otherwise gather closed connections.
    if (connections.size > MAX_PENDING_CONNECTIONS) this.settle();
    return true;
  }

  /** Declared types through a temporary view of the same query (sql.js lacks column_decltype). */
  of(entry: CachedStatement): string[] {
    if (entry.decltypes !== undefined) return entry.decltypes;
    const n = entry.columns.length;
    let types: string[] | undefined;
    const probe = typeProbe(entry);
    if (probe !== undefined) {
      const db = this.#db;
      // A connection sees the file's schema, plus its TEMP objects: the file answers (once per
      // query for all its connections) unless a TEMP object may shadow a name of the file's — a
      // query naming a TEMP-only object fails on the file and is probed here. (Not after DDL of
      // its own transaction, which only it sees yet, nor with attachments, which the file lacks.)
      if (this.#detached !== undefined) {
        types = typesFromCopy(this.#detached, probe, n);
      } else if (this.#leftToFile) {
        types = db.describer?.(probe, n, NO_NAMES); // closed: the file's owner answers
      } else {
        if (db.sharesFileSchema && db.describer !== undefined) {
          const temp = db.stateful ? (db.tempNamesNow ?? objectNames(db.raw, "temp")) : NO_NAMES;
          types = db.describer(probe, n, temp);
        }
        types ??= db.probeDeclaredTypes(probe, n);
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
      typeProbe(entry) === undefined ||
      entry.lazy !== undefined ||
      this.#db.hasAttachments
    ) {
      return this.of(entry);
    }
    const lazy: LazyTypes = { types: undefined, entry };
    entry.lazy = new WeakRef(lazy);
    if (this.#pendingTypes.length >= MAX_PENDING_TYPES) this.#prune();
    this.#pendingTypes.push(new WeakRef(lazy));
    this.#db.pending.connections.add(this.#db);
    return () => lazy.types ?? this.of(entry);
  }

  /** Forgets pending types no result holds any more, then computes the oldest half if still many. */
  #prune(): void {
    this.#pendingTypes = this.#pendingTypes.filter((r) => r.deref()?.types === undefined);
    if (this.#pendingTypes.length < MAX_PENDING_TYPES) return;
    for (const r of this.#pendingTypes.splice(0, MAX_PENDING_TYPES / 2))
      this.#settleLazy(r.deref());
  }

  /**
   * Computes every pending declared type of the connections of this file, before something may
   * change the schema they were handed out for.
   */
  settle(): void {
    const { connections } = this.#db.pending;
    if (connections.size === 0) return;
    for (const db of [...connections]) {
      connections.delete(db);
      db.types.#settleOwn();
    }
  }

  #settleOwn(): void {
    for (const r of this.#pendingTypes.splice(0)) this.#settleLazy(r.deref());
  }

  #settleLazy(lazy: LazyTypes | undefined): void {
    if (lazy === undefined || lazy.types !== undefined) return;
    lazy.types =
      this.#db.isClosed && !this.#leftToFile
        ? new Array(lazy.entry.columns.length).fill("")
        : this.of(lazy.entry);
  }
}

/** Declared types of a query on a scratch database made from `schema` (see `SchemaCopy`). */
function typesFromCopy(schema: SchemaCopy, probe: TypeProbe, n: number): string[] | undefined {
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
    return probeDeclaredTypes(scratch, probe, n);
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
 * Declared types of a statement's `n` result columns as `sqlite3_column_decltype` gives them:
 * a column of a table has the type it was declared with ("" when none), `rowid` INTEGER, a
 * scalar subquery its first column's type, and any other expression none. Where the parser read
 * the FROM items as tables and the columns as names of theirs (or `*`), the types come from the
 * tables' own columns. Otherwise a temporary view of the query gives them: a view's column has
 * the declared type of what it selects, but where that has none, SQLite names the column's
 * affinity instead (`TEXT` for a CAST to text, `BLOB` for an untyped column), so columns the
 * parser read as other expressions get "" (see `ResultColumnShape`). Undefined when the query
 * cannot be a view and names something other than tables. Runs outside any transaction of the
 * engine's own (the caller ends its implicit read first).
 */
export function probeDeclaredTypes(
  raw: RawDatabase,
  probe: TypeProbe,
  n: number,
  budget: Budget = { left: MAX_SOURCES, named: new Map() },
): string[] | undefined {
  const { body, shape } = probe;
  let view: string[] | undefined | null = null;
  const throughView = () => {
    view ??= typesThroughView(raw, body, n);
    return view;
  };
  if (shape?.from != null) {
    let types: string[] | undefined;
    try {
      types = typesFromTables(raw, shape.columns, shape.from, n, throughView, budget);
    } catch {
      /* e.g. a schema name this connection lacks: the view decides */
    }
    if (types !== undefined) return types;
  }
  const types = throughView();
  return types === undefined || shape === undefined
    ? types
    : withoutExpressionTypes(types, shape.columns);
}

/** A column of a table, as `PRAGMA table_xinfo` lists it. */
interface TableColumn {
  /** Lower-cased, as SQLite compares names. */
  readonly name: string;
  /** As declared ("" when none), standard type names upper-cased: what decltype reports. */
  readonly type: string;
  /** Listed by `*` (not a virtual table's hidden column). */
  readonly listed: boolean;
}

interface Table {
  readonly source: SourceShape;
  readonly columns: readonly TableColumn[];
  readonly rowid: boolean;
}

const ROWID_NAMES = new Set(["rowid", "oid", "_rowid_"]);
/**
 * FROM items and subqueries one probe types at most (views within views may name many): past
 * them, the view probe decides.
 */
const MAX_SOURCES = 256;

/** What is left of a probe's `MAX_SOURCES`, and the named FROM items it found already. */
interface Budget {
  left: number;
  readonly named: Map<string, Omit<Table, "source"> | undefined>;
}

/**
 * The columns of a FROM item, found as SQLite finds it (an unqualified name in TEMP first, then
 * main, then the attached schemas): a table's as declared; a view's as its SELECT's columns are
 * typed; a table-valued function's as its module declares them; a subquery's or CTE's as its
 * SELECT's. Undefined when it is not there, or past the probe's budget.
 */
function tableOf(raw: RawDatabase, source: SourceShape, budget: Budget): Table | undefined {
  if (--budget.left < 0) return undefined;
  if (source.query !== undefined) {
    let columns = selectColumns(raw, source.query, budget);
    const names = source.columns; // a CTE's own names for its columns
    if (columns !== undefined && names !== undefined) {
      if (names.length !== columns.length) return undefined;
      columns = columns.map((c, i) => ({ ...c, name: names[i]!.toLowerCase() }));
    }
    return columns === undefined ? undefined : { source, columns, rowid: false };
  }
  // A view named many times (within views) is found once.
  const key = `${source.schema?.toLowerCase() ?? ""}.${source.name.toLowerCase()}`;
  let found = budget.named.get(key);
  if (found === undefined && !budget.named.has(key)) {
    found = namedTable(raw, source, budget);
    budget.named.set(key, found);
  }
  return found === undefined ? undefined : { source, ...found };
}

/**
 * Table-valued functions sql.js lacks, written as subqueries (table-functions.ts): the columns
 * their modules declare, none typed, `*` listing one (`generate_series`'s `value`, then its
 * hidden arguments; `vector_top_k`'s hidden arguments, then `id`).
 */
const functionTable = (names: string, shown: number): Omit<Table, "source"> => ({
  columns: names.split(" ").map((name, i) => ({ name, type: "", listed: i === shown })),
  rowid: shown === 0,
});
const FUNCTION_TABLES = new Map([
  ["generate_series", functionTable("value start stop step", 0)],
  ["vector_top_k", functionTable("idx vector k id", 3)],
]);

/** A table or view by name (see `tableOf`). */
function namedTable(
  raw: RawDatabase,
  source: SourceShape,
  budget: Budget,
): Omit<Table, "source"> | undefined {
  // Every schema's object of that name with its columns, in one statement; a table-valued
  // function (an eponymous virtual table) is listed in none, but has columns.
  const name = quoteLiteral(source.name);
  const rows =
    raw.exec(
      `SELECT l.schema,l.type,l.wr,lower(x.name),x.type,x.hidden FROM pragma_table_list(${name})l,pragma_table_xinfo(${name},l.schema)x UNION ALL SELECT 'main','',0,lower(name),type,hidden FROM pragma_table_xinfo(${name}) WHERE NOT EXISTS (SELECT 1 FROM pragma_table_list(${name}))`,
    )[0]?.values ?? [];
  const fn = rows.length === 0 ? FUNCTION_TABLES.get(source.name.toLowerCase()) : undefined;
  if (fn !== undefined) return fn;
  const wanted = source.schema?.toLowerCase();
  const schemas = rows.map((r) => String(r[0]));
  const schema =
    wanted === undefined
      ? schemaSearchedFirst(schemas)
      : schemas.find((s) => s.toLowerCase() === wanted);
  if (schema === undefined) return undefined;
  const own = rows.filter((r) => r[0] === schema);
  const columns = own.map((r) => ({
    name: String(r[3]),
    type: String(r[4] ?? ""),
    listed: r[5] !== 1,
  }));
  if (own[0]![1] !== "view") return { columns, rowid: own[0]![2] !== 1 };
  // A view's columns have the names PRAGMA table_info gives, and the declared types of what its
  // SELECT selects (table_info names the affinity of an expression instead).
  const ddl = raw.exec(
    `SELECT sql FROM ${quoteIdent(schema)}.sqlite_schema WHERE type = 'view' AND name = ${name} COLLATE NOCASE`,
  )[0]?.values[0]?.[0];
  const types = typeof ddl === "string" ? typesOfView(raw, ddl, columns.length, budget) : undefined;
  if (types === undefined) return undefined;
  return { columns: columns.map((c, i) => ({ ...c, type: types[i]! })), rowid: false };
}

/** Declared types of the `n` columns of the view `CREATE VIEW … AS <select>` makes. */
function typesOfView(
  raw: RawDatabase,
  ddl: string,
  n: number,
  budget: Budget,
): string[] | undefined {
  const shape = classify(ddl).statements[0]?.summary.result;
  if (shape?.query == null) return undefined;
  const body = replaceParams(shape.query, scanSql(shape.query).params, "NULL");
  return probeDeclaredTypes(raw, { body, shape }, n, budget);
}

/**
 * The columns of a subquery (`query`, its text): the names SQLite gives them, and the declared
 * types of what they select (typed as a view of it would be: a compound by its last SELECT).
 * Undefined when it does not compile on its own (it names a CTE, or an outer query's column).
 */
function selectColumns(raw: RawDatabase, query: string, budget: Budget): TableColumn[] | undefined {
  if (--budget.left < 0) return undefined;
  let names: string[];
  try {
    const rewritten = rewriteTableFunctions(raw, query);
    const stmt = raw.prepare(rewritten?.sql ?? query);
    try {
      names = stmt.getColumnNames().map((name) => originalName(name, rewritten));
    } finally {
      stmt.free();
    }
  } catch {
    return undefined;
  }
  const types = typesOfView(raw, `CREATE VIEW v AS ${query}`, names.length, budget);
  return types?.map((type, i) => ({ name: names[i]!.toLowerCase(), type, listed: true }));
}

/** Whether `q` (a qualifier as written) names the FROM item: by its alias when it has one. */
function qualifies(table: Table, q: string): boolean {
  return (table.source.alias ?? table.source.name).toLowerCase() === q.toLowerCase();
}

/**
 * Declared types of result columns that name columns of the FROM clause's tables (or are `*`,
 * subqueries, other expressions); undefined when a name does not resolve to exactly one table's
 * column (the view decides) or a FROM item is no table.
 */
function typesFromTables(
  raw: RawDatabase,
  columns: readonly ResultColumnShape[],
  from: readonly SourceShape[],
  n: number,
  throughView: () => string[] | undefined,
  budget: Budget,
): string[] | undefined {
  const tables: Table[] = [];
  for (const source of from) {
    const table = tableOf(raw, source, budget);
    if (table === undefined) return undefined;
    tables.push(table);
  }
  const types: string[] = [];
  for (const column of columns) {
    if (column.kind === "expression") {
      types.push("");
    } else if (column.kind === "subquery") {
      const type =
        selectColumns(raw, column.query, budget)?.[0]?.type ?? throughView()?.[types.length];
      if (type === undefined) return undefined;
      types.push(type);
    } else {
      const q = column.table;
      const named = q === null ? tables : tables.filter((t) => qualifies(t, q));
      if (named.length === 0 || (q !== null && named.length > 1)) return undefined;
      if (column.kind === "star") {
        for (const t of named) {
          for (const c of t.columns) {
            if (c.listed && (q !== null || !merged(tables, t, c.name))) types.push(c.type);
          }
        }
      } else {
        const type = typeOfName(tables, named, column.name.toLowerCase(), q !== null);
        if (type === undefined) return undefined;
        types.push(type);
      }
    }
    if (types.length > n) return undefined;
  }
  return types.length === n ? types : undefined;
}

/**
 * Whether `table`'s column `name` is merged into an earlier item's by a NATURAL join or USING:
 * `*` lists it once, and the name alone means the earlier item's column.
 */
function merged(tables: readonly Table[], table: Table, name: string): boolean {
  const { source } = table;
  if (source.using?.some((u) => u.toLowerCase() === name)) return true;
  if (source.natural !== true) return false;
  for (const t of tables) {
    if (t === table) return false;
    if (t.columns.some((c) => c.name === name)) return true;
  }
  return false;
}

/**
 * The declared type of column `name` of one of `named` (FROM items of `tables`); undefined when
 * the name is no single item's column.
 */
function typeOfName(
  tables: readonly Table[],
  named: readonly Table[],
  name: string,
  qualified: boolean,
): string | undefined {
  let type: string | undefined;
  for (const t of named) {
    const c = t.columns.find((x) => x.name === name);
    if (c === undefined) continue;
    if (type === undefined) type = c.type;
    else if (!merged(tables, t, name)) return undefined; // ambiguous
  }
  if (type !== undefined) return type;
  if (ROWID_NAMES.has(name)) {
    const withRowid = named.filter((t) => t.rowid);
    return withRowid.length === 1 ? "INTEGER" : undefined;
  }
  // An unqualified name no table has is a string literal ("x") or TRUE/FALSE: no declared type.
  return qualified ? undefined : "";
}

/**
 * The view's types with "" for the columns the parser read as expressions other than names and
 * subqueries (which have no declared type; the view names their affinity). Columns are matched by
 * position before the first `*` and after the last, where the parser knows where they land.
 */
function withoutExpressionTypes(types: string[], columns: readonly ResultColumnShape[]): string[] {
  const first = columns.findIndex((c) => c.kind === "star");
  const last = columns.findLastIndex((c) => c.kind === "star");
  const shift = types.length - columns.length; // where the columns after the last `*` land
  if (first < 0 && shift !== 0) return types;
  return types.map((type, i) => {
    const c = first < 0 || i < first ? columns[i] : i - shift > last ? columns[i - shift] : null;
    return c?.kind === "expression" ? "" : type;
  });
}

/**
 * Declared types of a query's `n` columns, through a temporary view of it (sql.js lacks
 * `sqlite3_column_decltype`); undefined when the query cannot be a view. Runs outside any
 * transaction of the engine's own (the caller ends its implicit read first).
 */
function typesThroughView(raw: RawDatabase, body: string, n: number): string[] | undefined {
  let types: string[] | undefined;
  try {
    // Table functions as they are compiled (table-functions.ts).
    const query = rewriteTableFunctions(raw, body)?.sql ?? body;
    raw.exec(`CREATE TEMP VIEW "__tenantlite_decltype" AS ${query}`);
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
