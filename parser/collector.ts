import type { Token } from "./tokens.js";
import type {
  ObjectRef,
  ResultColumnShape,
  SourceShape,
  StatementKind,
  TransactionEffect,
} from "./types.js";

/** Facts the grammar's rules record about one statement, turned into a summary afterwards. */
export interface Collector {
  src: string;
  kind: StatementKind | null;
  explain: false | "explain" | "query_plan";
  /** The object a statement writes, creates, drops or alters. */
  target: ObjectRef | null;
  reads: ObjectRef[];
  ctes: string[];
  temp: boolean;
  transaction: TransactionEffect;
  beginMode: "deferred" | "immediate" | "exclusive" | null;
  alter:
    | "rename"
    | "rename_column"
    | "add_column"
    | "drop_column"
    | "constraint"
    | "column"
    | "column_definition"
    | null;
  /** Column definitions of CREATE TABLE, ADD COLUMN, or libSQL's ALTER COLUMN … TO. */
  columns: ColumnDraft[];
  /** The definition being read (its constraints are recorded into it). */
  column: ColumnDraft | null;
  /** libSQL's ALTER COLUMN x TO: the name token of the column altered. */
  alterColumn: Token | null;
  /**
   * An error SQLite raises from a grammar action, which stops its parser at that point (a `#1`
   * parameter, a sort order or COLLATE in a column-name list): the earliest one is reported.
   */
  actionError: { token: Token; at: number; message: string } | null;
  /** ORDER BY or LIMIT on UPDATE/DELETE (valid only with SQLITE_ENABLE_UPDATE_DELETE_LIMIT). */
  dmlLimit: Token | null;
  attach: {
    target: string;
    targetKind: "identifier" | "string" | "expression";
    alias: string;
  } | null;
  detach: { alias: string } | null;
  pragma: { schema: string | null; name: string; value: string | null } | null;
  /** ANALYZE/REINDEX/VACUUM argument: schema or object name, or null when absent. */
  objectArg: ObjectRef | null;
  vacuumInto: boolean;
  /** Nesting of trigger bodies: statements inside only run later, so they record nothing. */
  inTrigger: number;
  /** The statement's result columns (a SELECT's, RETURNING's, a view's): see `ResultShape`. */
  result: ResultDraft | null;
  /** A WITH statement's clause (first and last token), or that of CREATE VIEW's SELECT. */
  withClause: { first: Token; last: Token } | null;
  /** The common table expressions of that clause, in order. */
  cteDefs: CteDraft[];
  /** The target of INSERT/UPDATE/DELETE as written, alias included (first and last token). */
  targetSpan: { first: Token; last: Token; alias: string | null } | null;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A common table expression of a statement's own WITH clause, as the grammar reads it. */
export interface CteDraft {
  /** Lower-cased, unquoted. */
  name: string;
  /** Its column names, when listed (`c(a, b) AS …`), unquoted. */
  columns: string[] | null;
  /** Its first token (the name) and last (the closing parenthesis). */
  first: Token;
  last: Token;
  /** Its SELECT's first and last token. */
  select: { first: Token; last: Token };
  /** Defined under WITH RECURSIVE: its SELECT may name itself. */
  recursive: boolean;
}

/** A result shape as the grammar reads it (see `ResultShape`). */
export interface ResultDraft {
  /**
   * `select`: the first SELECT (or VALUES) of a SELECT statement; `returning`: its list; `view`:
   * the last SELECT of CREATE VIEW.
   */
  kind: "select" | "returning" | "view";
  columns: ResultColumnShape[];
  /** FROM items; null once one cannot be typed (an aliased parenthesized join). */
  sources: Mutable<SourceShape>[] | null;
  /** The join being read is NATURAL. */
  natural: boolean;
  /** The SELECT's first token, and its last before any ORDER BY or LIMIT. */
  first: Token | null;
  last: Token | null;
  /** A compound SELECT (UNION, EXCEPT, INTERSECT follow the first). */
  compound: boolean;
}

/** A fresh result draft. */
export function newResultDraft(kind: ResultDraft["kind"]): ResultDraft {
  return {
    kind,
    columns: [],
    sources: [],
    natural: false,
    first: null,
    last: null,
    compound: false,
  };
}

/** A column definition as the grammar reads it (see `ColumnDefinition`). */
export interface ColumnDraft {
  name: Token;
  first: Token;
  last: Token;
  type: { first: Token; last: Token } | null;
  primaryKey: "asc" | "desc" | "default" | null;
  autoincrement: boolean;
  unique: boolean;
  generated: boolean;
  collate: string | null;
}

/** A fresh collector for `src`. */
export function newCollector(src: string): Collector {
  return {
    src,
    kind: null,
    explain: false,
    target: null,
    reads: [],
    ctes: [],
    temp: false,
    transaction: "none",
    beginMode: null,
    alter: null,
    columns: [],
    column: null,
    alterColumn: null,
    actionError: null,
    dmlLimit: null,
    attach: null,
    detach: null,
    pragma: null,
    objectArg: null,
    vacuumInto: false,
    inTrigger: 0,
    result: null,
    withClause: null,
    cteDefs: [],
    targetSpan: null,
  };
}

/** The name a token stands for: quotes removed and doubled quotes collapsed. */
export function unquote(image: string): string {
  const q = image.charCodeAt(0);
  if (q === 34 || q === 39 || q === 96) {
    const ch = image[0]!;
    return image
      .slice(1, -1)
      .split(ch + ch)
      .join(ch);
  }
  if (q === 91) return image.slice(1, -1);
  return image;
}
