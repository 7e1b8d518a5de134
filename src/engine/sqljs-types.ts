/**
 * The few parts of sql.js the engine uses, declared as our own interfaces (only the loaders import
 * sql.js itself), so the engine is testable and the WASM build swappable.
 */

/** A compiled statement (sql.js `Statement`). */
export interface RawStatement {
  bind(values?: unknown[] | Record<string, unknown> | null): boolean;
  step(): boolean;
  get(params?: null, config?: { useBigInt?: boolean }): unknown[];
  getColumnNames(): string[];
  /** The statement's SQL text. */
  getSQL(): string;
  reset(): boolean;
  free(): boolean;
}

/** An iterator over the statements of a script (sql.js `StatementIterator`). */
export interface RawStatementIterator extends Iterator<RawStatement> {
  getRemainingSQL(): string;
}

/** One open SQLite connection (sql.js `Database`). */
export interface RawDatabase {
  /** The file of this connection in sql.js's in-memory file system (`dbfile_<n>`). */
  readonly filename: string;
  /** The connection handle (`sqlite3*`); `null` once closed. */
  db: number;
  prepare(sql: string): RawStatement;
  exec(sql: string): { columns: string[]; values: unknown[][] }[];
  run(sql: string, params?: unknown[] | Record<string, unknown>): unknown;
  iterateStatements(sql: string): RawStatementIterator & Iterable<RawStatement>;
  export(): Uint8Array;
  close(): void;
  getRowsModified(): number;
}

/** The initialized sql.js module (`await initSqlJs()`), as far as the engine uses it. */
export interface SqlJsModule {
  Database: new (data?: ArrayLike<number> | null) => RawDatabase;
  _sqlite3_bind_double(stmt: number, index: number, value: number): number;
  /** Binds `bytes` bytes of UTF-8 at `ptr`; with destructor -1 (SQLITE_TRANSIENT) SQLite copies them. */
  _sqlite3_bind_text(
    stmt: number,
    index: number,
    ptr: number,
    bytes: number,
    destructor: number,
  ): number;
  _sqlite3_step(stmt: number): number;
  _sqlite3_reset(stmt: number): number;
  _sqlite3_column_double(stmt: number, column: number): number;
  _sqlite3_column_type(stmt: number, column: number): number;
  _sqlite3_column_bytes(stmt: number, column: number): number;
  /** A pointer to the column's bytes (0 for an empty blob; valid until the next step or reset). */
  _sqlite3_column_blob(stmt: number, column: number): number;
  /** Columns of the current row (0 before the first step and after the last). */
  _sqlite3_data_count(stmt: number): number;
  /** A pointer to the column's UTF-8 text (valid until the next step or reset). */
  _sqlite3_column_text(stmt: number, column: number): number;
  _sqlite3_sql(stmt: number): number;
  _sqlite3_close_v2(db: number): number;
  _sqlite3_errmsg(db: number): number;
  _sqlite3_backup_init(dest: number, destName: number, source: number, sourceName: number): number;
  _sqlite3_backup_step(backup: number, pages: number): number;
  _sqlite3_backup_finish(backup: number): number;
  UTF8ToString(ptr: number, maxBytesToRead?: number): string;
  /** Copies a string into the WASM heap (never freed: use for constants). */
  stringToNewUTF8(s: string): number;
}

/**
 * The part of sql.js's module that SQL functions of our own use (vector.ts): SQLite's C API for
 * functions, values and results, the WASM allocator and function table. sql.js exports these but
 * not its heap; vector.ts finds the heap itself.
 */
export interface SqlJsFunctionApi {
  /** Adds a JS function to the WASM function table; `signature` as Emscripten spells it. */
  addFunction(fn: (...args: number[]) => void, signature: string): number;
  writeArrayToMemory(array: ArrayLike<number>, ptr: number): void;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _sqlite3_create_function_v2(
    db: number,
    name: number,
    nArg: number,
    flags: number,
    app: number,
    xFunc: number,
    xStep: number,
    xFinal: number,
    xDestroy: number,
  ): number;
  _sqlite3_value_type(value: number): number;
  _sqlite3_value_blob(value: number): number;
  _sqlite3_value_text(value: number): number;
  _sqlite3_value_bytes(value: number): number;
  _sqlite3_value_double(value: number): number;
  _sqlite3_value_int(value: number): number;
  _sqlite3_result_blob(context: number, ptr: number, size: number, destructor: number): void;
  _sqlite3_result_text(context: number, ptr: number, size: number, destructor: number): void;
  _sqlite3_result_double(context: number, value: number): void;
  _sqlite3_result_int(context: number, value: number): void;
  _sqlite3_result_int64(context: number, value: bigint): void;
  _sqlite3_result_null(context: number): void;
  _sqlite3_result_error(context: number, ptr: number, size: number): void;
}
