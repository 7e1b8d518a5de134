/**
 * libSQL's vector indexes on sql.js, which cannot define virtual tables from JS.
 *
 * `CREATE INDEX i ON t(libsql_vector_idx(emb, 'metric=cosine'))` stays an ordinary SQLite
 * expression index (its marker function returns NULL, see vector.ts), checked when it is created
 * as libSQL checks it: a vector column type with dimensions, settings libSQL knows, a table key
 * libSQL supports. It holds no graph: nothing approximate, nothing to maintain. Searches through
 * it (`vector_top_k`) are rewritten by table-functions.ts, which finds the index here.
 */
import { type SqlToken, sqlTokens } from "../../parser/index.js";
import { SqliteError } from "./sqlite-errors.js";
import type { RawDatabase } from "./sqljs-types.js";
import { quoteIdent, schemaSearchedFirst } from "./statement-info.js";
import {
  dataSizeOf,
  MAX_VECTOR_DIMS,
  TYPE_WORDS,
  VectorType,
  type VectorTypeId,
} from "./vector-format.js";

const MARKER = "libsql_vector_idx";
/** libSQL's largest DiskANN block (`DISKANN_MAX_BLOCK_SZ`): an index needing more is refused. */
const MAX_BLOCK_BYTES = 134217728;

/** Column types libSQL reads as vector types, in the order it tries them. */
const COLUMN_TYPES: readonly [string, VectorTypeId][] = TYPE_WORDS.flatMap(
  ([word, type]): [string, VectorTypeId][] => {
    const w = word.toUpperCase();
    return [
      [`FLOAT${w}`, type],
      [`F${w}_BLOB`, type],
    ];
  },
);

interface Setting {
  readonly key: string;
  readonly kind: "enum" | "int" | "float";
  /** For enums: the value (a prefix of it matches, as in libSQL) and its number. */
  readonly value?: string;
  readonly id?: number;
}

/** Index settings libSQL accepts, in its order (an enum key is tried value by value). */
const SETTINGS: readonly Setting[] = (
  [
    ["type", "enum", "diskann", 1],
    ["metric", "enum", "cosine", 1],
    ["metric", "enum", "l2", 2],
    ["compress_neighbors", "enum", "float1bit", VectorType.F1BIT],
    ["compress_neighbors", "enum", "float8", VectorType.F8],
    ["compress_neighbors", "enum", "float16", VectorType.F16],
    ["compress_neighbors", "enum", "floatb16", VectorType.FB16],
    ["compress_neighbors", "enum", "float32", VectorType.F32],
    ["alpha", "float"],
    ["search_l", "int"],
    ["insert_l", "int"],
    ["max_neighbors", "int"],
  ] as const
).map(([key, kind, value, id]: readonly [string, Setting["kind"], string?, number?]) => ({
  key,
  kind,
  ...(value === undefined ? {} : { value, id }),
}));

/** What a vector index is over, as vector_top_k needs it. */
export interface VectorIndex {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
  readonly type: VectorTypeId;
  readonly dims: number;
  readonly metric: "cos" | "l2";
  /** The WHERE of a partial index, as written. */
  readonly where: string | undefined;
  /** The expression naming a row's key: `rowid`, or a WITHOUT ROWID table's primary key. */
  readonly key: string;
}

export function sqliteError(message: string): SqliteError {
  return new SqliteError("SQLITE_ERROR", message, 1, undefined, undefined);
}

/** The name a name token stands for (quotes removed); undefined for other tokens. */
export function nameOf(t: SqlToken | undefined): string | undefined {
  if (t === undefined) return undefined;
  if (t.kind === "identifier" || t.kind === "keyword") return t.text;
  if (t.kind === "quoted") {
    const q = t.text[0]!;
    const body = t.text.slice(1, -1);
    return q === "[" ? body : body.replaceAll(q + q, q);
  }
  if (t.kind === "string") return t.text.slice(1, -1).replaceAll("''", "'");
  return undefined;
}

export const isPunct = (t: SqlToken | undefined, text: string): boolean =>
  t !== undefined && t.kind === "punct" && t.text === text;
export const isKeyword = (t: SqlToken | undefined, kw: string): boolean =>
  t !== undefined && t.kind === "keyword" && t.keyword === kw;

/** The index of the `)` that closes the `(` at `open`, or -1. */
export function closing(toks: readonly SqlToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < toks.length; i++) {
    if (isPunct(toks[i], "(")) depth++;
    else if (isPunct(toks[i], ")") && --depth === 0) return i;
  }
  return -1;
}

/** Splits the tokens between `(` at `open` and its `)` at `close` at top-level commas. */
export function splitArgs(
  toks: readonly SqlToken[],
  open: number,
  close: number,
): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let from = open + 1;
  for (let i = open + 1; i < close; i++) {
    if (isPunct(toks[i], "(")) depth++;
    else if (isPunct(toks[i], ")")) depth--;
    else if (depth === 0 && isPunct(toks[i], ",")) {
      out.push([from, i]);
      from = i + 1;
    }
  }
  if (close > open + 1) out.push([from, close]);
  return out;
}

/** A CREATE INDEX statement, read at token level. */
interface IndexStatement {
  readonly ifNotExists: boolean;
  readonly schema: string | undefined;
  readonly name: string;
  readonly table: string;
  /** Token ranges of the indexed expressions. */
  readonly exprs: [number, number][];
  readonly where: string | undefined;
  readonly toks: readonly SqlToken[];
  readonly sql: string;
}

function readCreateIndex(sql: string): IndexStatement | undefined {
  const toks = sqlTokens(sql);
  let i = 0;
  if (isKeyword(toks[i], "EXPLAIN")) return undefined;
  if (!isKeyword(toks[i++], "CREATE")) return undefined;
  if (isKeyword(toks[i], "UNIQUE")) i++;
  if (!isKeyword(toks[i++], "INDEX")) return undefined;
  let ifNotExists = false;
  if (
    isKeyword(toks[i], "IF") &&
    isKeyword(toks[i + 1], "NOT") &&
    isKeyword(toks[i + 2], "EXISTS")
  ) {
    ifNotExists = true;
    i += 3;
  }
  let schema: string | undefined;
  let name = nameOf(toks[i++]);
  if (isPunct(toks[i], ".")) {
    schema = name;
    name = nameOf(toks[i + 1]);
    i += 2;
  }
  if (name === undefined || !isKeyword(toks[i++], "ON")) return undefined;
  const table = nameOf(toks[i++]);
  if (table === undefined || !isPunct(toks[i], "(")) return undefined;
  const close = closing(toks, i);
  if (close < 0) return undefined;
  const exprs = splitArgs(toks, i, close);
  let where: string | undefined;
  if (isKeyword(toks[close + 1], "WHERE")) {
    let end = toks.length;
    while (end > close + 2 && isPunct(toks[end - 1], ";")) end--;
    where = sql.slice(toks[close + 2]?.start ?? sql.length, toks[end - 1]!.end);
  }
  return { ifNotExists, schema, name, table, exprs, where, toks, sql };
}

/** An indexed expression, with a trailing ASC/DESC and COLLATE clauses taken off. */
interface IndexedExpr {
  readonly from: number;
  readonly to: number;
  readonly collated: boolean;
}

function unwrap(toks: readonly SqlToken[], [from, to]: [number, number]): IndexedExpr {
  let end = to;
  if (isKeyword(toks[end - 1], "ASC") || isKeyword(toks[end - 1], "DESC")) end--;
  let collated = false;
  while (end - 2 > from && isKeyword(toks[end - 2], "COLLATE")) {
    collated = true;
    end -= 2;
  }
  return { from, to: end, collated };
}

/** The marker call of an expression (`libsql_vector_idx(…)` as a whole), if it is one. */
function markerArgs(toks: readonly SqlToken[], e: IndexedExpr): [number, number][] | undefined {
  const name = toks[e.from];
  if (name === undefined || name.kind !== "identifier" || name.text.toLowerCase() !== MARKER) {
    return undefined;
  }
  if (!isPunct(toks[e.from + 1], "(") || closing(toks, e.from + 1) !== e.to - 1) return undefined;
  return splitArgs(toks, e.from + 1, e.to - 1);
}

interface ColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly pk: number;
}

function columnsOf(db: RawDatabase, schema: string, table: string): ColumnInfo[] {
  const rows =
    db.exec(`PRAGMA ${quoteIdent(schema)}.table_xinfo(${quoteIdent(table)})`)[0]?.values ?? [];
  return rows.map((r) => ({ name: String(r[1]), type: String(r[2] ?? ""), pk: Number(r[5]) }));
}

function withoutRowid(db: RawDatabase, schema: string, table: string): boolean {
  const rows =
    db.exec(`PRAGMA ${quoteIdent(schema)}.table_list(${quoteIdent(table)})`)[0]?.values ?? [];
  return rows.some((r) => Number(r[4]) === 1);
}

/** The schema holding `table` as SQLite resolves an unqualified name (temp, main, attached). */
function schemaOfTable(db: RawDatabase, table: string): string | undefined {
  const rows = db.exec(`PRAGMA table_list(${quoteIdent(table)})`)[0]?.values ?? [];
  return schemaSearchedFirst(rows.map((r) => String(r[0])));
}

const isSpace = (c: string | undefined): boolean =>
  c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";

/** Reads a vector column type (`F32_BLOB(3)`) as libSQL does; throws libSQL's message. */
export function parseColumnType(declared: string): { type: VectorTypeId; dims: number } {
  const fail = (why: string): never => {
    throw sqliteError(`vector index: ${why}: ${declared}`);
  };
  let i = 0;
  while (isSpace(declared[i])) i++;
  const rest = declared.slice(i);
  for (const [name, type] of COLUMN_TYPES) {
    if (rest.slice(0, name.length).toUpperCase() !== name) continue;
    let j = i + name.length;
    while (isSpace(declared[j])) j++;
    if (declared[j] !== "(") break;
    j++;
    while (isSpace(declared[j])) j++;
    let dims = 0;
    while (j < declared.length && declared[j] !== ")" && !isSpace(declared[j])) {
      const c = declared.charCodeAt(j);
      if (c < 48 || c > 57) fail("non digit symbol in vector column parameter");
      dims = dims * 10 + (c - 48);
      if (dims > MAX_VECTOR_DIMS) fail("max vector dimension exceeded");
      j++;
    }
    while (isSpace(declared[j])) j++;
    if (declared[j] !== ")") fail("missed closing brace for vector column type");
    j++;
    while (isSpace(declared[j])) j++;
    if (j < declared.length) fail("extra data after dimension parameter for vector column type");
    if (dims <= 0) fail("vector column must have non-zero dimension for index");
    return { type, dims };
  }
  return fail("unexpected vector column type");
}

/** SQLite's `sqlite3Atoi`: a leading 32-bit integer (decimal or 0x hex), 0 when there is none. */
function atoi(z: string): number {
  let i = 0;
  let neg = false;
  if (z[0] === "-") {
    neg = true;
    i++;
  } else if (z[0] === "+") i++;
  else if (z[0] === "0" && (z[1] === "x" || z[1] === "X") && /[0-9a-f]/i.test(z[2] ?? "")) {
    let j = 2;
    while (z[j] === "0") j++;
    const m = /^[0-9a-f]{0,8}/i.exec(z.slice(j))![0];
    const u = m === "" ? 0 : Number.parseInt(m, 16);
    return u < 0x80000000 && !/[0-9a-f]/i.test(z[j + m.length] ?? "") ? u : 0;
  }
  if (!/[0-9]/.test(z[i] ?? "")) return 0;
  while (z[i] === "0") i++;
  const digits = /^[0-9]{0,11}/.exec(z.slice(i))![0];
  if (digits.length > 10) return 0;
  const v = digits === "" ? 0 : Number(digits);
  if (v - (neg ? 1 : 0) > 2147483647) return 0;
  return neg ? -v : v;
}

const FLOAT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The settings of a marker call, checked as libSQL checks them (the last of a key wins). */
function readSettings(texts: readonly string[]): {
  metric: number;
  compress: number;
  maxNeighbors: number;
} {
  let metric = 0;
  let compress = 0;
  let maxNeighbors = 0;
  for (const text of texts) {
    const fail = (why: string): never => {
      throw sqliteError(`vector index: invalid vector index parameter '${text}': ${why}`);
    };
    const eq = text.indexOf("=");
    if (eq < 0) fail("unexpected parameter format");
    const key = text.slice(0, eq).toLowerCase();
    const value = text.slice(eq + 1);
    let matched = false;
    for (const s of SETTINGS) {
      if (s.key !== key) continue;
      if (s.kind === "int") {
        const v = atoi(value);
        if (v === 0) fail("invalid representation of integer vector index parameter");
        if (v < 0) fail("integer vector index parameter must be positive");
        if (key === "max_neighbors") maxNeighbors = v;
      } else if (s.kind === "float") {
        if (!FLOAT.test(value))
          fail("invalid representation of floating point vector index parameter");
      } else {
        const name = s.value ?? "";
        if (value.length > name.length || name.slice(0, value.length) !== value.toLowerCase()) {
          continue;
        }
        if (key === "metric") metric = s.id ?? 0;
        if (key === "compress_neighbors") compress = s.id ?? 0;
      }
      matched = true;
      break;
    }
    if (!matched) fail("invalid parameter");
  }
  return { metric, compress, maxNeighbors };
}

/** Whether libSQL could lay out the index's DiskANN blocks (it refuses blocks over 128 MiB). */
function blockFits(
  type: VectorTypeId,
  dims: number,
  compress: number,
  maxNeighbors: number,
): boolean {
  const node = dataSizeOf(type, dims) + 16;
  const edge = dataSizeOf((compress || type) as VectorTypeId, dims) + 16;
  const neighbors =
    maxNeighbors ||
    Math.min(3 * (Math.floor(Math.sqrt(dims)) + 1), Math.floor((50 * node) / edge) + 1);
  return node + neighbors * edge <= MAX_BLOCK_BYTES;
}

/**
 * Checks a `CREATE INDEX` whose expressions call `libsql_vector_idx` the way libSQL does when it
 * creates a vector index, after SQLite compiled it (so the table and columns exist). Throws
 * SQLITE_ERROR with libSQL's message; does nothing for other statements.
 */
export function checkVectorIndex(db: RawDatabase, sql: string): void {
  if (!/libsql_vector_idx/i.test(sql)) return;
  const st = readCreateIndex(sql);
  if (st === undefined) return;
  const { toks } = st;
  const exprs = st.exprs.map((r) => unwrap(toks, r));
  const marked = exprs.map((e) => markerArgs(toks, e));
  const markerAt = marked.findIndex((m) => m !== undefined);
  if (markerAt < 0) return;
  const schema = st.schema ?? schemaOfTable(db, st.table) ?? "main";
  if (st.ifNotExists && indexSql(db, schema, st.name) !== undefined) return;
  if (exprs.some((e) => e.collated))
    throw sqliteError("vector index: collation in expression is forbidden");
  if (exprs.length !== 1) {
    throw sqliteError(
      `vector index: must contain exactly one column wrapped into the ${MARKER} function`,
    );
  }
  const args = marked[markerAt]!;
  if (args.length < 1)
    throw sqliteError(`vector index: ${MARKER} must contain at least one argument`);
  const columns = columnsOf(db, schema, st.table);
  const column = columnOfArg(toks, args[0]!, st.table, columns);
  const declared = parseColumnType(column.type);
  const texts = args.slice(1).map(([from, to]) => {
    const t = toks[from];
    if (to !== from + 1 || t?.kind !== "string") {
      throw sqliteError("vector index: all arguments after first must be strings");
    }
    return nameOf(t)!;
  });
  const settings = readSettings(texts);
  if (withoutRowid(db, schema, st.table) && columns.filter((c) => c.pk > 0).length !== 1) {
    throw sqliteError(
      "vector index: unsupported for tables without ROWID and composite primary key",
    );
  }
  if (settings.compress === VectorType.F1BIT && settings.metric === 2) {
    throw sqliteError(
      "vector index: unable to initialize diskann: 1-bit compression available only for cosine metric",
    );
  }
  if (!blockFits(declared.type, declared.dims, settings.compress, settings.maxNeighbors)) {
    throw sqliteError("vector index: unable to initialize diskann");
  }
}

/** The column the marker's first argument names; throws libSQL's message otherwise. */
function columnOfArg(
  toks: readonly SqlToken[],
  [from, to]: [number, number],
  table: string,
  columns: readonly ColumnInfo[],
): ColumnInfo {
  let name: string | undefined;
  const first = toks[from];
  if (to === from + 1 && first?.kind !== "string") name = nameOf(first);
  else if (to === from + 3 && isPunct(toks[from + 1], ".")) {
    if (nameOf(first)?.toLowerCase() === table.toLowerCase()) name = nameOf(toks[from + 2]);
  }
  const lower = name?.toLowerCase();
  const column = columns.find((c) => c.name.toLowerCase() === lower);
  if (column === undefined) {
    throw sqliteError(`vector index: ${MARKER} first argument must be a column token`);
  }
  return column;
}

function indexSql(
  db: RawDatabase,
  schema: string,
  name: string,
): { table: string; sql: string } | undefined {
  const st = db.prepare(
    `SELECT tbl_name, sql FROM ${quoteIdent(schema)}.sqlite_schema WHERE type = 'index' AND name = ?`,
  );
  try {
    st.bind([name]);
    if (!st.step()) return undefined;
    const [table, sql] = st.get();
    return typeof sql === "string" ? { table: String(table), sql } : undefined;
  } finally {
    st.free();
  }
}

/** Where libSQL lists its vector indexes' DiskANN graphs (`<index>_shadow` tables). */
const LIBSQL_META = "libsql_vector_meta_shadow";

/**
 * Takes in a file written by libSQL (one exported from Turso): there a vector index is an empty
 * SQLite index and its graph lives in a `<index>_shadow` table listed in `libsql_vector_meta_shadow`;
 * here the index holds a NULL per row and there is no graph. Each vector index of main is rebuilt
 * as tenantlite keeps it and libSQL's shadow tables go. Whether anything changed.
 */
export function adoptLibsqlVectorIndexes(db: RawDatabase): boolean {
  const rows = db.exec("SELECT type, name, sql FROM main.sqlite_schema")[0]?.values ?? [];
  if (!rows.some((r) => r[1] === LIBSQL_META)) return false;
  for (const [type, name, sql] of rows) {
    if (type !== "index" || !/libsql_vector_idx\s*\(/i.test(String(sql))) continue;
    const shadow = `${name}_shadow`;
    if (rows.some((r) => r[0] === "table" && r[1] === shadow)) {
      db.exec(`DROP TABLE main.${quoteIdent(shadow)}`);
    }
    db.run(`DELETE FROM main.${LIBSQL_META} WHERE name = ?`, [name]);
    db.exec(`REINDEX main.${quoteIdent(String(name))}`);
  }
  if (db.exec(`SELECT 1 FROM main.${LIBSQL_META}`).length === 0) {
    db.exec(`DROP TABLE main.${LIBSQL_META}`);
  }
  return true;
}

function schemaNames(db: RawDatabase): string[] {
  return (db.exec("PRAGMA database_list")[0]?.values ?? []).map((r) => String(r[1]));
}

/**
 * The vector index `ref` names (`'idx'` in main, or `'schema.idx'`), or the message libSQL gives
 * when there is none.
 */
export function findVectorIndex(db: RawDatabase, ref: string): VectorIndex | string {
  const dot = ref.indexOf(".");
  let schema = "main";
  let name = ref;
  if (dot >= 0) {
    schema = ref.slice(0, dot);
    name = ref.slice(dot + 1);
    const known = schemaNames(db).find((s) => s.toLowerCase() === schema.toLowerCase());
    if (known === undefined) return `vector index(search): unknown schema '${schema}'`;
    schema = known;
  }
  const missing = "vector index(search): failed to parse vector index parameters";
  const found = indexSql(db, schema, name);
  if (found === undefined) return missing;
  const st = readCreateIndex(found.sql);
  if (st === undefined || st.exprs.length !== 1) return missing;
  const args = markerArgs(st.toks, unwrap(st.toks, st.exprs[0]!));
  if (args === undefined || args.length < 1) return missing;
  const columns = columnsOf(db, schema, found.table);
  let column: ColumnInfo;
  let declared: { type: VectorTypeId; dims: number };
  try {
    column = columnOfArg(st.toks, args[0]!, found.table, columns);
    declared = parseColumnType(column.type);
  } catch {
    return missing;
  }
  const settings = readSettings(args.slice(1).map(([from]) => nameOf(st.toks[from]) ?? ""));
  let key = "rowid";
  if (withoutRowid(db, schema, found.table)) {
    const pk = columns.find((c) => c.pk > 0);
    if (pk === undefined) return missing;
    key = quoteIdent(pk.name);
  } else {
    const names = new Set(columns.map((c) => c.name.toLowerCase()));
    const free = ["rowid", "_rowid_", "oid"].find((k) => !names.has(k));
    if (free === undefined) return missing;
    key = free;
  }
  return {
    schema,
    table: found.table,
    column: column.name,
    type: declared.type,
    dims: declared.dims,
    metric: settings.metric === 2 ? "l2" : "cos",
    where: st.where,
    key,
  };
}
