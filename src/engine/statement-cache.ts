/**
 * A connection's prepared statements: compiling one (with the table-function rewrites and
 * vector-index checks), and the cache of them by SQL text (least recently used evicted), each
 * kept with what the engine read of it once.
 */
import type { ParseResult } from "../../parser/index.js";
import { TenantliteError } from "../errors.js";
import type { LazyTypes } from "./declared-types.js";
import { type ProgramEffects, vacuumsInto } from "./program.js";
import { type ScanResult, scanSql } from "./sql-scan.js";
import type { RawDatabase, RawStatement } from "./sqljs-types.js";
import {
  hasStatement,
  manyStatements,
  readOnlyPragma,
  type StatementDescription,
  type StatementInfo,
  TRANSACTION_WORDS,
  vacuumIntoRefused,
} from "./statement-info.js";
import { compileRewritten, originalName, type Rewritten } from "./table-functions.js";
import { RowFactory } from "./values.js";
import { checkVectorIndex } from "./vector-index.js";

const READ_VERBS = new Set(["SELECT", "VALUES"]);

/** A prepared statement and what the engine read of it. */
export interface CachedStatement {
  readonly stmt: RawStatement;
  /** When it was last used (the statement cache's clock). */
  used: number;
  readonly scan: ScanResult;
  /**
   * The text SQLite compiled: the statement, or its rewrite (`vector_top_k`, `generate_series`:
   * see table-functions.ts), with the rewrite's own parameter offsets.
   */
  readonly compiled: { readonly sql: string; readonly scan: ScanResult };
  readonly info: StatementInfo;
  readonly columns: string[];
  readonly rows: RowFactory;
  /** Computed on first use; reset when the schema changes. */
  decltypes: string[] | undefined;
  /**
   * Declared types handed out before they were computed, at the statement's first run on this
   * schema (see declared-types.ts); reset like `decltypes`.
   */
  lazy: WeakRef<LazyTypes> | undefined;
  /** The compiled program's effects, computed when a guard asks; reset like `decltypes`. */
  effects: ProgramEffects | undefined;
  /** Whether the statement may change the database or the transaction state. */
  readonly readOnly: boolean;
  /** INSERT/UPDATE/DELETE/REPLACE: report changes. */
  readonly dml: boolean;
  readonly insert: boolean;
  /** Whether running it takes the file's write lock (see {@link statementTakesWriteLock}). */
  readonly writeLock: boolean;
}

/**
 * Compiles the one statement of `sql` (throwing SQLite's error as is), refusing a second one and
 * VACUUM INTO. `compiled` is the text SQLite compiled (table functions rewritten).
 */
export function compileStatement(
  raw: RawDatabase,
  sql: string,
  parsed: ParseResult,
  info: StatementInfo,
): { stmt: RawStatement; compiled: string; rewritten: Rewritten | undefined } {
  let stmt: RawStatement | undefined;
  let rest = "";
  let compiled = sql;
  let rewritten: Rewritten | undefined;
  const prepare = (text: string) => {
    compiled = text;
    if (parsed.errors.length === 0 && parsed.statements.length === 1) {
      // The parser read exactly one statement: compile it once.
      return raw.prepare(text);
    }
    // Otherwise let SQLite say where its first statement ends.
    const it = raw.iterateStatements(text);
    try {
      const first = it.next();
      if (first.done) {
        throw new TenantliteError("SQL_NO_STATEMENT", "SQL string does not contain any statement");
      }
      rest = it.getRemainingSQL();
    } finally {
      it.return?.(); // frees the statement and the iterator's copy of the SQL
    }
    return raw.prepare(text);
  };
  try {
    // vector_top_k(…) and generate_series(…) in FROM become subqueries (table-functions.ts).
    ({ result: stmt, rewritten } = compileRewritten(raw, sql, prepare));
    // A vector index is checked as libSQL checks it, once SQLite accepted the statement.
    if (info.summary?.kind === "create_index") checkVectorIndex(raw, compiled);
  } catch (e) {
    stmt?.free();
    throw e;
  }
  if (hasStatement(rest)) {
    stmt.free();
    throw manyStatements();
  }
  if (writesFile(raw, sql)) {
    stmt.free();
    throw vacuumIntoRefused();
  }
  return { stmt, compiled, rewritten };
}

/**
 * The backstop behind the parser: whether SQLite compiled `sql` (one statement) to a program
 * that writes a new file by name, which only `VACUUM … INTO` does (ATTACH never reaches here,
 * and SQLite's file functions are not in the build). A statement can only compile to OP_Vacuum
 * when its text has the keyword, so other statements cost one regular-expression test.
 */
export function writesFile(raw: RawDatabase, sql: string): boolean {
  if (!/vacuum/i.test(sql)) return false;
  try {
    return vacuumsInto(raw, sql);
  } catch {
    // `EXPLAIN <sql>` did not compile although `sql` did: `sql` is an EXPLAIN itself, which
    // never runs its program. Any other reason: refuse rather than guess.
    return scanSql(sql).firstWord !== "EXPLAIN";
  }
}

/**
 * What Hrana's `describe` reports of a compiled statement: parameter names (`null` for anonymous
 * `?`; `?NNN` by its text, as sqld reports them), result columns with their declared `types`,
 * whether it is an EXPLAIN, and whether it only reads (SELECT/VALUES, like the engine's own read
 * path).
 */
export function describeStatement(entry: CachedStatement, types: string[]): StatementDescription {
  const params: (string | null)[] = new Array(entry.scan.paramCount).fill(null);
  for (const p of entry.scan.params) {
    // As sqlite3_bind_parameter_name: `?NNN` is named as written; the first name of a number wins.
    if (p.text !== "?") params[p.index - 1] ??= p.text;
  }
  return {
    params,
    cols: entry.columns.map((name, i) => ({ name, decltype: types[i] || null })),
    isExplain: entry.scan.firstWord === "EXPLAIN",
    isReadonly: entry.readOnly || entry.scan.firstWord === "EXPLAIN",
  };
}

/**
 * Whether running a compiled statement takes the file's write lock: anything but reads and the
 * transaction statements that take none (`BEGIN [DEFERRED]`, `COMMIT`, `ROLLBACK`, savepoints).
 */
function statementTakesWriteLock(
  entry: Pick<CachedStatement, "readOnly" | "scan" | "info">,
  sql: string,
): boolean {
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
 * Statements a connection keeps prepared for its own bookkeeping (the caller's are in its
 * {@link StatementCache}), by text: each compiled at its first use, all freed together when the
 * connection closes. One left unfreed keeps a connection on a shared file open after
 * `sqlite3_close_v2`, which closes those (thousands of tenants later, no file can be opened).
 */
export class KeptStatements {
  readonly #raw: RawDatabase;
  readonly #kept = new Map<string, RawStatement>();

  constructor(raw: RawDatabase) {
    this.#raw = raw;
  }

  /** The statement for `sql`, prepared at its first use. */
  get(sql: string): RawStatement {
    let st = this.#kept.get(sql);
    if (st === undefined) {
      st = this.#raw.prepare(sql);
      this.#kept.set(sql, st);
    }
    return st;
  }

  /** Runs `sql`: the first column of its first row (undefined for none); ready to run again. */
  run(sql: string): unknown {
    const st = this.get(sql);
    try {
      return st.step() ? st.get()[0] : undefined;
    } finally {
      st.reset();
    }
  }

  free(): void {
    for (const st of this.#kept.values()) st.free();
    this.#kept.clear();
  }
}

/** Prepared statements by SQL text, the least recently used evicted past `size`. */
export class StatementCache {
  readonly #map = new Map<string, CachedStatement>();
  #clock = 0;

  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  /** The cached statement for `sql`, noted as used now. */
  get(sql: string): CachedStatement | undefined {
    const hit = this.#map.get(sql);
    // A hit only notes its time (a Map's delete + set costs ~0.6 µs); a miss evicts by it.
    if (hit !== undefined) hit.used = ++this.#clock;
    return hit;
  }

  /**
   * Caches `stmt`, compiled from `compiled` (`rewritten` from `sql`, when it was) for `sql`,
   * evicting the least recently used.
   */
  add(
    sql: string,
    stmt: RawStatement,
    compiled: string,
    info: StatementInfo,
    rewritten?: Rewritten,
  ): CachedStatement {
    const scan = scanSql(sql);
    const columns = stmt.getColumnNames().map((name) => originalName(name, rewritten));
    const compiledScan = compiled === sql ? scan : scanSql(compiled);
    const verb = scan.verb;
    const entry: Omit<CachedStatement, "writeLock"> & { writeLock: boolean } = {
      stmt,
      used: ++this.#clock,
      scan,
      compiled: { sql: compiled, scan: compiledScan },
      info,
      columns,
      rows: RowFactory.for(columns),
      decltypes: undefined,
      lazy: undefined,
      effects: undefined,
      readOnly: READ_VERBS.has(verb) || scan.firstWord === "EXPLAIN" || readOnlyPragma(info),
      dml: verb === "INSERT" || verb === "UPDATE" || verb === "DELETE" || verb === "REPLACE",
      insert: verb === "INSERT" || verb === "REPLACE",
      writeLock: false,
    };
    entry.writeLock = statementTakesWriteLock(entry, sql);
    if (this.#map.size >= this.#size) {
      let oldest: string | undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const [key, e] of this.#map) {
        if (e.used < at) {
          at = e.used;
          oldest = key;
        }
      }
      this.#map.get(oldest!)?.stmt.free();
      this.#map.delete(oldest!);
    }
    this.#map.set(sql, entry);
    return entry;
  }

  /**
   * After a schema change: drops every cached statement but `keep` (the one running), since
   * SQLite recompiles a statement whose schema changed and its columns may differ from those
   * cached with it (`SELECT *` after `ADD COLUMN`), with its declared types and effects.
   */
  invalidate(keep?: string): void {
    for (const [sql, e] of this.#map) {
      if (sql === keep) {
        e.effects = undefined;
        e.decltypes = undefined;
        e.lazy = undefined;
      } else {
        e.stmt.free();
        this.#map.delete(sql);
      }
    }
  }

  /** Frees every cached statement. */
  clear(): void {
    for (const e of this.#map.values()) e.stmt.free();
    this.#map.clear();
  }
}
