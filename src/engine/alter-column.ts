/**
 * libSQL's `ALTER TABLE t ALTER COLUMN x TO <column definition>` on sql.js, whose SQLite has no
 * such statement. As in libSQL, the column's definition is replaced in the table's CREATE TABLE
 * text in the schema table and nothing else happens: no table rebuild, no check of existing rows
 * (a new NOT NULL, CHECK, type or DEFAULT applies to rows written from now on; a DEFAULT also
 * gives rows that predate an ADD COLUMN of the column their value).
 *
 * libSQL's rules, with its messages: the table must be an ordinary table of the connection (not a
 * view, a virtual table or a `sqlite_` table), the column must exist and keep its name (letter
 * case may change), and the definition may not add or remove PRIMARY KEY, UNIQUE or GENERATED.
 *
 * Where libSQL would leave a damaged database, this refuses instead (README, "libSQL
 * differences"): a definition SQLite would not create, a change of which column is the rowid, and
 * a change of collation or type affinity that existing index entries depend on. A definition that
 * adds AUTOINCREMENT creates `sqlite_sequence` when the schema has none (libSQL's later inserts
 * then fail as corrupt). libSQL finds the old definition by scanning for a comma or a closing
 * parenthesis, which breaks on one inside a string or a CHECK; this reads it with the parser.
 *
 * Everything runs in a savepoint of its own: a failure changes nothing.
 */
import {
  type ColumnDefinition,
  classify,
  type ObjectRef,
  type ParsedStatement,
  parse,
} from "../../parser/index.js";
import { TenantliteError } from "../errors.js";
import { SqliteError, toSqliteError } from "./sqlite-errors.js";
import type { RawDatabase, RawStatement, SqlJsModule } from "./sqljs-types.js";
import {
  manyStatements,
  quoteIdent,
  type StatementDescription,
  type StatementGuard,
  type StatementInfo,
  statementInfo,
  tooManyArgs,
} from "./statement-info.js";
import { runCompiled } from "./table-functions.js";

/** One `ALTER TABLE … ALTER COLUMN x TO <definition>`, as the parser read it. */
export interface AlterColumnStatement {
  readonly table: ObjectRef;
  /** The column named, unquoted, and its token as written. */
  readonly column: string;
  readonly columnToken: string;
  readonly definition: ColumnDefinition;
  /**
   * The text that replaces the old definition, as libSQL takes it: from the new name to the end
   * of the statement (comments and blanks before its `;` included). A `--` comment there, which
   * in libSQL comments out the rest of the CREATE TABLE, gets its line ended.
   */
  readonly text: string;
}

/**
 * The ALTER COLUMN … TO `statement` (one statement parsed from `source`) is, if it is one (not
 * under EXPLAIN).
 */
export function alterColumnOf(
  source: string,
  statement: ParsedStatement | undefined,
): AlterColumnStatement | undefined {
  const summary = statement?.summary;
  const a = summary?.alterColumn;
  const table = summary?.writes[0];
  if (a === undefined || table === undefined || summary?.explain !== false) return undefined;
  const to = trailingTrivia(source, statement!.end);
  let text = source.slice(statement!.start + a.definition.start, to.end);
  if (to.lineComment) text += "\n";
  return {
    table,
    column: a.column,
    columnToken: a.columnToken,
    definition: a.definition,
    text,
  };
}

/** Where blanks and comments from `from` end (at a `;` or the end of the input). */
function trailingTrivia(sql: string, from: number): { end: number; lineComment: boolean } {
  let i = from;
  let lineComment = false;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 12 || c === 13) i++;
    else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const nl = sql.indexOf("\n", i + 2);
      lineComment = nl < 0;
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42 && i + 2 < sql.length) {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else break;
  }
  return { end: i, lineComment };
}

/** Where a table lives: its schema (lower case, as `PRAGMA database_list` names it) and row. */
export interface LocatedTable {
  readonly schema: string;
  readonly name: string;
  readonly type: string;
  readonly sql: string | null;
  readonly rowid: number;
}

/**
 * Finds a table the way SQLite resolves a name: in the schema given, else in temp, main, then the
 * attached schemas in order. Undefined when no schema has it.
 */
export function locateTable(db: RawDatabase, ref: ObjectRef): LocatedTable | undefined {
  const names = schemaNames(db);
  let order: string[];
  if (ref.schema !== null) {
    const wanted = asciiLower(ref.schema);
    const found = names.find((n) => asciiLower(n) === wanted);
    if (found === undefined) return undefined;
    order = [found];
  } else {
    order = [
      ...names.filter((n) => n === "temp"),
      ...names.filter((n) => n === "main"),
      ...names.filter((n) => n !== "temp" && n !== "main"),
    ];
  }
  for (const schema of order) {
    const rows = query(
      db,
      `SELECT rowid, type, name, sql FROM ${quoteIdent(schema)}.sqlite_master WHERE name = ? COLLATE NOCASE AND type IN ('table', 'view')`,
      [ref.name],
    );
    const row = rows[0];
    if (row !== undefined) {
      return {
        schema: asciiLower(schema),
        rowid: Number(row[0]),
        type: String(row[1]),
        name: String(row[2]),
        sql: row[3] === null ? null : String(row[3]),
      };
    }
  }
  return undefined;
}

const SAVEPOINT = `"__tenantlite_alter_column"`;

/**
 * Runs `stmt` on `db` (libSQL's semantics, see the file's comment). `sqlJs` opens a scratch
 * database that checks the new definition. Throws a `SqliteError` (`SQLITE_ERROR`, libSQL's
 * messages where libSQL has one) and then has changed nothing.
 */
export function alterColumn(sqlJs: SqlJsModule, db: RawDatabase, stmt: AlterColumnStatement): void {
  const { table: ref, definition: def } = stmt;
  const schemaTable = SCHEMA_TABLES.get(asciiLower(ref.name));
  if (schemaTable !== undefined) {
    const temp = ref.schema !== null ? asciiLower(ref.schema) === "temp" : schemaTable === "temp";
    throw sqliteError(`table ${temp ? "sqlite_temp_master" : "sqlite_master"} may not be altered`);
  }
  const table = locateTable(db, ref);
  if (table === undefined) {
    throw sqliteError(
      `no such table: ${ref.schema === null ? ref.name : `${ref.schema}.${ref.name}`}`,
    );
  }
  if (/^sqlite_/i.test(table.name)) throw sqliteError(`table ${table.name} may not be altered`);
  if (table.type === "view") throw sqliteError(`cannot rename columns of view "${table.name}"`);
  if (table.sql === null || /^\s*CREATE\s+VIRTUAL\b/i.test(table.sql)) {
    throw sqliteError(`cannot rename columns of virtual table "${table.name}"`);
  }
  const parsed = parse(table.sql);
  const created = parsed.statements[0];
  const columns = created?.summary.columns;
  if (parsed.errors.length > 0 || created === undefined || columns === undefined) {
    throw sqliteError(
      `the definition of table ${table.name} could not be read: ${parsed.errors[0]?.message ?? "not a list of columns"}`,
    );
  }
  const index = columns.findIndex((c) => asciiLower(c.name) === asciiLower(stmt.column));
  const old = columns[index];
  if (old === undefined) throw sqliteError(`no such column: "${stmt.columnToken}"`);
  if (asciiLower(def.nameToken) !== asciiLower(stmt.columnToken)) {
    throw sqliteError(
      `UPDATE cannot also rename column: "${stmt.columnToken}" to "${def.nameToken}". Use ALTER TABLE RENAME instead`,
    );
  }
  const fail = (why: string) =>
    sqliteError(`error in adding ${stmt.text} to ${table.name}: ${why}`);
  const q = quoteIdent(table.schema);
  const qt = quoteIdent(table.name);
  // libSQL compares the column's PRIMARY KEY, UNIQUE and GENERATED flags before and after. The
  // primary key flag also comes from a table PRIMARY KEY (…), which the new text keeps.
  const info = query(db, `PRAGMA ${q}.table_xinfo(${qt})`);
  const oldPk = Number(info[index]?.[5] ?? 0) > 0;
  const newPk = def.primaryKey !== null || (oldPk && old.primaryKey === null);
  if (oldPk !== newPk) throw fail("PRIMARY KEY constraint cannot be altered");
  if (uniqueFlag(old) !== uniqueFlag(def)) throw fail("UNIQUE constraint cannot be altered");
  if (old.generated !== def.generated) throw fail("GENERATED constraint cannot be altered");

  // The old definition runs up to the comma or parenthesis after it, as in libSQL (which looks
  // for that character without reading strings or comments on the way).
  const base = created.start;
  const oldEnd = trailingTrivia(table.sql, base + old.end).end;
  const text = `${table.sql.slice(0, base + old.start)}${stmt.text}${table.sql.slice(oldEnd)}`;
  const indexes = query(
    db,
    `SELECT name, sql FROM ${q}.sqlite_master WHERE type = 'index' AND tbl_name = ? COLLATE NOCASE`,
    [table.name],
  ).map((r) => ({ name: String(r[0]), sql: r[1] === null ? null : String(r[1]) }));
  const needsSequence = checkInScratch(sqlJs, db, {
    table,
    text,
    column: old,
    definition: def,
    indexes,
    fail,
  });

  db.exec(`SAVEPOINT ${SAVEPOINT}`);
  try {
    if (needsSequence && !hasSequence(db, table.schema)) {
      // AUTOINCREMENT needs sqlite_sequence, which SQLite creates with the first such table.
      const probe = `${q}."__tenantlite_autoincrement"`;
      db.exec(`CREATE TABLE ${probe}(id INTEGER PRIMARY KEY AUTOINCREMENT); DROP TABLE ${probe}`);
    }
    const version = Number(query(db, `PRAGMA ${q}.schema_version`)[0]?.[0] ?? 0);
    db.exec("PRAGMA writable_schema = ON");
    try {
      run(db, `UPDATE ${q}.sqlite_master SET sql = ? WHERE rowid = ?`, [text, table.rowid]);
      // A new schema version makes every connection read the schema again (this one at once).
      db.exec(`PRAGMA ${q}.schema_version = ${version + 1}`);
    } finally {
      db.exec("PRAGMA writable_schema = OFF");
    }
    // Read the schema now: were the text unusable, this fails here, inside the savepoint.
    query(db, `SELECT count(*) FROM ${q}.sqlite_master`);
    query(db, `PRAGMA ${q}.table_xinfo(${qt})`);
    db.exec(`RELEASE ${SAVEPOINT}`);
  } catch (e) {
    try {
      db.exec(`ROLLBACK TO ${SAVEPOINT}; RELEASE ${SAVEPOINT}`);
    } catch {
      /* SQLite already rolled the savepoint back with its transaction */
    }
    throw toSqliteError(e);
  }
}

interface ScratchCheck {
  readonly table: LocatedTable;
  readonly text: string;
  readonly column: ColumnDefinition;
  readonly definition: ColumnDefinition;
  readonly indexes: readonly { name: string; sql: string | null }[];
  readonly fail: (why: string) => SqliteError;
}

/**
 * Creates the table with its new definition (and its indexes) in a scratch database: SQLite's own
 * verdict on the text, and what the change would do to the rowid and to index entries. Returns
 * whether the new table needs `sqlite_sequence` (AUTOINCREMENT).
 */
function checkInScratch(sqlJs: SqlJsModule, live: RawDatabase, c: ScratchCheck): boolean {
  const { table, fail } = c;
  const qt = quoteIdent(table.name);
  const q = quoteIdent(table.schema);
  const after = new sqlJs.Database();
  try {
    try {
      after.exec(c.text);
    } catch (e) {
      throw fail(toSqliteError(e).detail);
    }
    for (const index of c.indexes) {
      if (index.sql === null) continue;
      try {
        after.exec(index.sql);
      } catch (e) {
        throw fail(`index ${index.name}: ${toSqliteError(e).detail}`);
      }
    }
    if (rowidColumn(live, q, qt) !== rowidColumn(after, `"main"`, qt)) {
      throw fail(
        "PRIMARY KEY constraint cannot be altered (the column would change being the rowid)",
      );
    }
    // Index entries were made with the old collation: under another one the index no longer
    // matches its table.
    for (const index of c.indexes) {
      const before = keyCollations(live, q, index.name);
      const now = keyCollations(after, `"main"`, index.name);
      if (before !== now) {
        throw fail(
          `the collation of a column that index ${index.name} orders cannot be altered (its entries would no longer match the table)`,
        );
      }
    }
    // An expression or a WHERE clause of an index computes with the column's affinity and
    // collation: entries made under the old ones would no longer match.
    const retyped =
      affinity(c.column.type) !== affinity(c.definition.type) ||
      asciiLower(c.column.collate ?? "binary") !== asciiLower(c.definition.collate ?? "binary");
    if (retyped) {
      for (const name of indexesComputingWith(sqlJs, c)) {
        throw fail(
          `the type affinity or collation of a column that index ${name} uses in an expression or a WHERE clause cannot be altered (its entries would no longer match the table)`,
        );
      }
    }
    return query(after, "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").length > 0;
  } finally {
    after.close();
  }
}

/**
 * Indexes whose expressions or WHERE clause name the column: SQLite's RENAME COLUMN rewrites
 * exactly those references, so a rename in a scratch copy of the old table finds them.
 */
function indexesComputingWith(sqlJs: SqlJsModule, c: ScratchCheck): string[] {
  const candidates = c.indexes.filter(
    (i) => i.sql !== null && (/\bWHERE\b/i.test(i.sql) || !plainKeys(i.sql)),
  );
  if (candidates.length === 0) return [];
  const before = new sqlJs.Database();
  try {
    before.exec(c.table.sql!);
    for (const i of candidates) before.exec(i.sql!);
    before.exec(
      `ALTER TABLE ${quoteIdent(c.table.name)} RENAME COLUMN ${quoteIdent(c.definition.name)} TO "__tenantlite_probe"`,
    );
    const out: string[] = [];
    for (const i of candidates) {
      const now = query(before, "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [
        i.name,
      ])[0]?.[0];
      if (now !== i.sql) out.push(i.name);
    }
    return out;
  } catch {
    // Could not tell: every candidate may use it.
    return candidates.map((i) => i.name);
  } finally {
    before.close();
  }
}

/** Whether an index's keys are plain column names (no expression), judging by its text. */
function plainKeys(sql: string): boolean {
  const open = sql.indexOf("(");
  const close = sql.lastIndexOf(")");
  if (open < 0 || close < open) return false;
  return /^\s*(("[^"]*"|`[^`]*`|\[[^\]]*\]|[\w$\u0080-\uffff]+)(\s+COLLATE\s+\S+)?(\s+(ASC|DESC))?\s*(,\s*|$))+$/i.test(
    sql.slice(open + 1, close),
  );
}

/** The column that is the table's rowid (INTEGER PRIMARY KEY), or -1. */
function rowidColumn(db: RawDatabase, q: string, qt: string): number {
  const list = query(db, `PRAGMA ${q}.table_list(${qt})`)[0];
  if (list !== undefined && Number(list[4]) === 1) return -1; // WITHOUT ROWID
  const pk = query(db, `PRAGMA ${q}.table_xinfo(${qt})`).filter((r) => Number(r[5]) > 0);
  if (pk.length !== 1) return -1;
  const pkIndex = query(db, `PRAGMA ${q}.index_list(${qt})`).some((r) => r[3] === "pk");
  return pkIndex ? -1 : Number(pk[0]![0]);
}

/** An index's key columns with their collations, as one comparable string. */
function keyCollations(db: RawDatabase, q: string, index: string): string {
  return query(db, `PRAGMA ${q}.index_xinfo(${quoteIdent(index)})`)
    .filter((r) => Number(r[5]) === 1)
    .map((r) => `${String(r[1])}:${asciiLower(String(r[4]))}`)
    .join(",");
}

/**
 * libSQL's COLFLAG_UNIQUE: a column UNIQUE, or a column PRIMARY KEY that makes an index (any
 * but an ascending INTEGER PRIMARY KEY, which is the rowid).
 */
function uniqueFlag(c: ColumnDefinition): boolean {
  if (c.unique) return true;
  if (c.primaryKey === null) return false;
  return c.primaryKey === "desc" || asciiLower(unquoteType(c.type ?? "")) !== "integer";
}

function unquoteType(type: string): string {
  const q = type[0];
  const close = q === "[" ? "]" : q;
  if (type.length >= 2 && (q === '"' || q === "'" || q === "`" || q === "[")) {
    const inner = type.slice(1, -1);
    if (type.endsWith(close!) && !/["'`[\]]/.test(inner)) return inner;
  }
  return type;
}

/** SQLite's type affinity of a declared type (datatype3.html, 3.1). */
export function affinity(type: string | null): string {
  const t = (type ?? "").toUpperCase();
  if (t.includes("INT")) return "INTEGER";
  if (t.includes("CHAR") || t.includes("CLOB") || t.includes("TEXT")) return "TEXT";
  if (t.includes("BLOB") || t === "") return "BLOB";
  if (t.includes("REAL") || t.includes("FLOA") || t.includes("DOUB")) return "REAL";
  return "NUMERIC";
}

function hasSequence(db: RawDatabase, schema: string): boolean {
  return (
    query(
      db,
      `SELECT 1 FROM ${quoteIdent(schema)}.sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'`,
    ).length > 0
  );
}

const SCHEMA_TABLES = new Map([
  ["sqlite_master", "main"],
  ["sqlite_schema", "main"],
  ["sqlite_temp_master", "temp"],
  ["sqlite_temp_schema", "temp"],
]);

function schemaNames(db: RawDatabase): string[] {
  return query(db, "PRAGMA database_list").map((r) => String(r[1]));
}

function query(db: RawDatabase, sql: string, params: unknown[] = []): unknown[][] {
  const stmt: RawStatement = db.prepare(sql);
  try {
    stmt.bind(params);
    const rows: unknown[][] = [];
    while (stmt.step()) rows.push(stmt.get());
    return rows;
  } finally {
    stmt.free();
  }
}

function run(db: RawDatabase, sql: string, params: unknown[]): void {
  query(db, sql, params);
}

/** SQLite compares names case-insensitively for ASCII letters only. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function sqliteError(message: string): SqliteError {
  return new SqliteError("SQLITE_ERROR", message, 1, undefined, undefined);
}

/**
 * Whether `sql` (a statement or a script) holds a libSQL ALTER COLUMN … TO, which only the
 * engine runs: callers that hand SQL straight to sql.js (or to threads that only have sql.js)
 * must go through {@link runStatements} instead.
 */
export function hasAlterColumn(sql: string): boolean {
  if (!/\bALTER\b[\s\S]*\bALTER\b[\s\S]*\bTO\b/i.test(sql)) return false;
  return parse(sql).statements.some(
    (s) => s.summary.alterColumn !== undefined && s.summary.explain === false,
  );
}

/**
 * Runs a statement or a script on a sql.js database, as `db.run` does, with libSQL's ALTER
 * COLUMN … TO run by {@link alterColumn}.
 */
export function runStatements(sqlJs: SqlJsModule, db: RawDatabase, sql: string): void {
  if (!hasAlterColumn(sql)) {
    runCompiled(db, sql);
    return;
  }
  const parsed = parse(sql);
  if (parsed.errors.length > 0) {
    // As sql.js would, at the first statement it cannot read.
    const first = parsed.errors[0]!;
    throw toSqliteError(new Error(first.message));
  }
  for (const one of parsed.statements) {
    const statement = alterColumnOf(sql, one);
    if (statement !== undefined) alterColumn(sqlJs, db, statement);
    else runCompiled(db, one.sql);
  }
}

/** libSQL's ALTER COLUMN found in a statement's text, with the statement as the engine read it. */
export interface AlterColumnCall {
  readonly info: StatementInfo;
  readonly statement: AlterColumnStatement;
}

/**
 * libSQL's ALTER TABLE … ALTER COLUMN x TO, when `sql` is one (a single statement). Under EXPLAIN
 * it is refused: sql.js has no program to show for it.
 */
export function libsqlAlterColumn(sql: string): AlterColumnCall | undefined {
  const parsed = classify(sql);
  const first = parsed.statements[0];
  if (first === undefined) return undefined;
  if (parsed.errors.length > 0 && parsed.errors[0]!.offset < first.start) return undefined;
  if (first.summary.inner?.alterColumn !== undefined) {
    throw new TenantliteError(
      "SQLITE_ERROR",
      "EXPLAIN is not available for libSQL's ALTER TABLE … ALTER COLUMN … TO: sql.js has no program for it",
      { rawCode: 1 },
    );
  }
  const statement = alterColumnOf(sql, first);
  if (statement === undefined) return undefined;
  if (parsed.statements.length > 1 || parsed.errors.length > 0) {
    throw manyStatements();
  }
  return { info: statementInfo(sql, parsed), statement };
}

/**
 * sql.js stops at the `TO` of libSQL's ALTER COLUMN … TO, which the parser reads on: where the
 * parser finds the statement's error further on, its message (libSQL's) replaces sql.js's.
 */
export function libsqlSyntaxError(sql: string, e: SqliteError): SqliteError {
  if (e.code !== "SQL_PARSE_ERROR" || e.detail !== 'near "TO": syntax error') return e;
  const to = /^\s*ALTER\s+TABLE\s[\s\S]*?\bALTER\s+COLUMN\s[\s\S]*?\bTO\b/i.exec(sql);
  const error = classify(sql).errors[0];
  if (to === null || error === undefined || error.offset < to[0].length) return e;
  return toSqliteError(new Error(error.message)) as SqliteError;
}

/** What Hrana's `describe` reports of an ALTER COLUMN: its parameters, no columns. */
export function describeAlterColumn(alter: AlterColumnCall): StatementDescription {
  const params = alter.info.summary?.params ?? [];
  return {
    params: params.map((p) => (p === "?" ? null : p)),
    cols: [],
    isExplain: false,
    isReadonly: false,
  };
}

/**
 * Whether `sql`, which sql.js could not compile, takes the file's write lock: libSQL's ALTER
 * COLUMN … TO does when it writes a schema other than TEMP.
 */
export function alterColumnTakesWriteLock(sql: string): boolean {
  try {
    const schemas = libsqlAlterColumn(sql)?.info.summary?.schemas;
    return schemas?.some((x) => x !== "temp") === true;
  } catch {
    return false; // EXPLAIN of it: `execute` refuses it
  }
}

/**
 * Checks an ALTER COLUMN before it runs, as `execute` checks other statements: by the guard (its
 * effects are the schema of the table it finds), and the number of arguments given.
 */
export function checkAlterColumn(
  db: RawDatabase,
  alter: AlterColumnCall,
  args: number,
  guard: StatementGuard | undefined,
): void {
  const { info, statement } = alter;
  if (guard !== undefined) {
    guard(info, () => {
      const table = locateTable(db, statement.table);
      const schemas = new Set(table === undefined ? [] : [table.schema]);
      return { writes: schemas, schemaChanges: schemas, schemaTableWrites: schemas };
    });
  }
  const paramCount = info.summary?.params.length ?? 0;
  if (args > paramCount) {
    throw tooManyArgs(paramCount, args);
  }
}
