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

/**
 * One column definition as written (CREATE TABLE, ADD COLUMN, libSQL's ALTER COLUMN … TO).
 * Offsets are UTF-16 indexes into the statement's own text (`ParsedStatement.sql`), end
 * exclusive; `text` runs from the name to the last token of the definition (comments inside
 * kept, none after).
 */
export interface ColumnDefinition {
  /** The name, unquoted. */
  readonly name: string;
  /** The name's token as written (quotes kept). */
  readonly nameToken: string;
  /** The type as written (`VARCHAR(20)`), null when absent. */
  readonly type: string | null;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** A column PRIMARY KEY constraint, with its sort order (`default` when none is given). */
  readonly primaryKey: "asc" | "desc" | "default" | null;
  readonly autoincrement: boolean;
  /** A column UNIQUE constraint. */
  readonly unique: boolean;
  /** GENERATED ALWAYS AS / AS (…). */
  readonly generated: boolean;
  /** The last COLLATE of the definition (the one SQLite keeps), unquoted; null when none. */
  readonly collate: string | null;
}

/**
 * One result column of a statement, as written (see `ResultShape`): what SQLite's
 * `sqlite3_column_decltype` depends on. Names are unquoted.
 */
export type ResultColumnShape =
  /** `*` (`table` null) or `t.*`. */
  | { readonly kind: "star"; readonly table: string | null }
  /** A column by name, maybe qualified, maybe in parentheses: `x`, `t.x`, `(s.t.x)`. */
  | { readonly kind: "column"; readonly table: string | null; readonly name: string }
  /** A scalar subquery, `(SELECT …)` (`query`: its text): its first column's declared type. */
  | { readonly kind: "subquery"; readonly query: string }
  /** Any other expression (a literal, CAST, COLLATE, an operator, a call…): no declared type. */
  | { readonly kind: "expression" };

/**
 * A FROM item of a result's SELECT, with its alias: a table, view or table-valued function by
 * name (`json_each(…)`: its arguments left out), or a subquery (`query`: its text; `name` is
 * ""), which is also what a CTE of the statement's WITH clause is (`name` its name, `query` its
 * SELECT after the CTEs before it, `columns` the names it lists). A NATURAL join to it
 * (`natural`) or one with USING (`using`, the names) merges its columns of those names into the
 * items before it (`*` lists them once).
 */
export interface SourceShape {
  readonly schema: string | null;
  readonly name: string;
  readonly alias: string | null;
  readonly query?: string;
  readonly columns?: readonly string[];
  readonly natural?: true;
  readonly using?: readonly string[];
}

/**
 * The result columns of a statement that returns rows (a SELECT, or INSERT/UPDATE/DELETE with
 * RETURNING), or of the SELECT of CREATE VIEW, for finding their declared types as SQLite reports
 * them.
 */
export interface ResultShape {
  /**
   * A SELECT with the same result columns: null for a SELECT that is one (the statement itself);
   * the WITH clause and first SELECT of a compound (SQLite types a statement's compound by its
   * first SELECT); for RETURNING, `SELECT <its list> FROM <the target>`; for CREATE VIEW, its
   * WITH clause and SELECT, the last of a compound (SQLite types a compound within a statement,
   * such as a view's or a subquery's, by its last SELECT).
   */
  readonly query: string | null;
  readonly columns: readonly ResultColumnShape[];
  /**
   * The FROM items of that SELECT (a parenthesized join's in order) when none is an aliased
   * parenthesized join or names a CTE of an inner WITH; otherwise null. For RETURNING, the
   * target.
   */
  readonly from: readonly SourceShape[] | null;
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
  /** CREATE TABLE (not AS SELECT) and ADD COLUMN: the column definitions, in order. */
  readonly columns?: readonly ColumnDefinition[];
  /**
   * libSQL's `ALTER TABLE t ALTER COLUMN x TO <definition>`: the column named (unquoted, and its
   * token as written) and its new definition. SQLite (sql.js) has no such statement: the engine
   * runs it (src/engine/alter-column.ts).
   */
  readonly alterColumn?: {
    readonly column: string;
    readonly columnToken: string;
    readonly definition: ColumnDefinition;
  };
  /**
   * Schemas (lower-cased) the statement may write; `"*"` means every attached schema (e.g. an
   * unqualified ANALYZE). Empty when read-only.
   */
  readonly schemas: readonly string[];
  /** A SELECT's result columns, or those of RETURNING (not set on EXPLAIN). */
  readonly result?: ResultShape;
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
