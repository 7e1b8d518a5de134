/** What a statement does to transactions. */
export type TransactionEffect =
  | "begin"
  | "commit"
  | "rollback"
  | "rollback_to"
  | "savepoint"
  | "release"
  | "none";

/**
 * Statement kinds. `VALUES …` is folded into `"select"` (it is a SELECT in SQLite's grammar);
 * REPLACE is `"insert"`; every ALTER TABLE form is `"alter_table"`.
 */
export type StatementKind =
  | "select"
  | "insert"
  | "update"
  | "delete"
  | "create_table"
  | "create_index"
  | "create_view"
  | "create_trigger"
  | "create_virtual_table"
  | "alter_table"
  | "drop_table"
  | "drop_index"
  | "drop_view"
  | "drop_trigger"
  | "attach"
  | "detach"
  | "begin"
  | "commit"
  | "rollback"
  | "savepoint"
  | "release"
  | "pragma"
  | "vacuum"
  | "analyze"
  | "reindex";

/** A schema object as written: `schema` null when unqualified; names unquoted, case kept. */
export interface ObjectRef {
  readonly schema: string | null;
  readonly name: string;
}

/** The frozen, `kind`-tagged verdict about one statement. See parser/README.md. */
export interface StatementSummary {
  readonly kind: StatementKind;
  /** Meaning of `sqlite3_stmt_readonly`: false when the program may write a database file. */
  readonly readonly: boolean;
  /** True when the statement changes a schema (DDL, or `PRAGMA schema_version = n`). */
  readonly ddl: boolean;
  readonly transaction: TransactionEffect;
  /** Objects written: the DML target, or the object created/dropped/altered (TEMP → "temp"). */
  readonly writes: readonly ObjectRef[];
  /** Tables, views and table-valued functions read (CTE names excluded). */
  readonly reads: readonly ObjectRef[];
  readonly temp: boolean;
  /** For EXPLAIN, `readonly` is true and `inner` holds the explained statement's summary. */
  readonly explain: false | "explain" | "query_plan";
  readonly inner?: StatementSummary;
  /** Parameters as written ("?", "?3", ":a", "@a", "$a"); named ones once, each `?` once per use. */
  readonly params: readonly string[];
  readonly attach?: {
    readonly target: string;
    readonly targetKind: "identifier" | "string" | "expression";
    readonly alias: string;
  };
  readonly detach?: { readonly alias: string };
  /** Set on `VACUUM … INTO <expr>`, which writes a new file (the engine refuses it). */
  readonly vacuumInto?: true;
  /** `value`: raw text of `v` in `= v` or `(v)`, null when absent. */
  readonly pragma?: {
    readonly schema: string | null;
    readonly name: string;
    readonly value: string | null;
  };
  /**
   * Schemas (lower-cased) the statement may write; `"*"` means every attached schema (e.g. an
   * unqualified ANALYZE). Empty when read-only.
   */
  readonly schemas: readonly string[];
}

/** One statement of a script, with its span in the input (UTF-16 offsets, end exclusive). */
export interface ParsedStatement {
  readonly sql: string;
  readonly start: number;
  readonly end: number;
  readonly summary: StatementSummary;
}

/** A syntax error: SQLite-like message, 1-based line and column, 0-based offset. */
export interface ParseError {
  readonly message: string;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly statementIndex: number;
}

/** Statements that parsed, and errors for those that did not. */
export interface ParseResult {
  readonly statements: readonly ParsedStatement[];
  readonly errors: readonly ParseError[];
}

/** Options of `parse`. */
export interface ParseOptions {
  /** Accept ORDER BY/LIMIT on UPDATE and DELETE (SQLITE_ENABLE_UPDATE_DELETE_LIMIT). Default false. */
  readonly updateDeleteLimit?: boolean;
}
