/**
 * Table-valued functions sql.js lacks (it exports no `sqlite3_create_module`), written as
 * subqueries before SQLite compiles the statement, where they stand as table sources in FROM:
 *
 * - libSQL's `vector_top_k('i', query, k)`: an exact search over the index's table (its
 *   partial-index WHERE included):
 *
 *     (SELECT value AS id FROM json_each((SELECT json_group_array(k ORDER BY d, k) FROM
 *       (SELECT rowid AS k, vector_distance_cos("emb", q) AS d FROM "main"."t"
 *        WHERE "emb" IS NOT NULL ORDER BY d, k LIMIT k)))) AS vector_top_k
 *
 *   where `q` and `k` are checked as libSQL checks them, in its order, before any row is read.
 *   The index's table, column, type, dimensions and metric are read from the schema when the
 *   statement is compiled (so the index name must be a string literal); see vector-index.ts.
 * - `generate_series(start[, stop[, step]])` (SQLite's series extension, which libSQL and sqld
 *   have): a recursive CTE yielding `start`, `start + step`, … while not past `stop`, in that
 *   order (see `seriesSubquery`).
 *
 * As subqueries, their arguments cannot name columns of the other tables of the FROM clause
 * (SQLite has no LATERAL): a `generate_series` that does is compiled again through `json_each`
 * (see `seriesSubquery`'s `lateral`), a `vector_top_k` fails. `generate_series`'s hidden columns
 * (`start`, `stop`, `step`) and rowid are not there: only `value`. A call inside another's
 * arguments is not rewritten.
 */
import { type SqlToken, splitStatements, sqlTokens } from "../../parser/index.js";
import { scanSql } from "./sql-scan.js";
import type { RawDatabase } from "./sqljs-types.js";
import { quoteIdent, quoteLiteral } from "./statement-info.js";
import { TOP_K_LIMIT_FUNCTION, TOP_K_QUERY_FUNCTION } from "./vector.js";
import {
  closing,
  findVectorIndex,
  isKeyword,
  isPunct,
  nameOf,
  splitArgs,
  sqliteError,
} from "./vector-index.js";

const TOP_K = "vector_top_k";
const SERIES = "generate_series";

/** Clause keywords that tell where a token stands in a SELECT. */
const CLAUSES = new Set([
  "SELECT",
  "FROM",
  "JOIN",
  "ON",
  "USING",
  "WHERE",
  "GROUP",
  "HAVING",
  "WINDOW",
  "ORDER",
  "LIMIT",
  "VALUES",
  "SET",
  "RETURNING",
  "UNION",
  "INTERSECT",
  "EXCEPT",
  "INTO",
  "UPDATE",
  "DELETE",
  "INSERT",
]);
const FROM_CLAUSES = new Set(["FROM", "JOIN", "ON", "USING"]);

/**
 * A statement with its table functions rewritten: the text to compile, and each call's subquery
 * with the call's own text, which SQLite's names of result columns (an expression's own text)
 * are given back.
 */
export interface Rewritten {
  readonly sql: string;
  readonly calls: readonly (readonly [subquery: string, call: string])[];
  /** It has a `generate_series` written as a subquery (see `seriesSubquery`'s `lateral`). */
  readonly series: boolean;
}

/**
 * Rewrites every `vector_top_k(…)` and `generate_series(…)` table source of `sql` into a subquery
 * (see the module comment); `undefined` when there is none. Throws SQLITE_ERROR for a call that
 * cannot be resolved when compiling (wrong argument count, an index name that is not a string
 * literal).
 */
export function rewriteTableFunctions(
  db: RawDatabase,
  sql: string,
  lateral = false,
): Rewritten | undefined {
  if (!TABLE_FUNCTIONS.test(sql)) return undefined;
  const toks = sqlTokens(sql);
  const clauses: string[] = [""];
  const edits: { start: number; end: number; text: string }[] = [];
  let params: Map<number, number> | undefined;
  let series = false;
  // A view's or trigger's SELECT is not compiled with it (SQLite resolves its names when it
  // runs), so a failed compile cannot say that a series needs `lateral`: its arguments do.
  const stored = /^\s*CREATE\s+(TEMP\w*\s+)?(VIEW|TRIGGER)\b/i.test(sql);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (isPunct(t, "(")) {
      clauses.push(tableSource(toks, i, clauses) ? "FROM" : "");
      continue;
    }
    if (isPunct(t, ")")) {
      if (clauses.length > 1) clauses.pop();
      continue;
    }
    if (t.kind === "keyword" && CLAUSES.has(t.keyword)) {
      clauses[clauses.length - 1] = t.keyword;
      continue;
    }
    const fn = nameOf(t)?.toLowerCase();
    if ((fn !== TOP_K && fn !== SERIES) || t.kind === "string" || !isPunct(toks[i + 1], "(")) {
      continue;
    }
    if (!tableSource(toks, i, clauses)) continue;
    const close = closing(toks, i + 1);
    if (close < 0) continue;
    params ??= paramIndexes(sql);
    series ||= fn === SERIES;
    const text =
      fn === TOP_K
        ? topKSubquery(db, sql, toks, i + 1, close, params)
        : seriesSubquery(
            sql,
            toks,
            i + 1,
            close,
            params,
            lateral || (stored && namesColumns(toks, i + 1, close)),
          );
    const next = toks[close + 1];
    const aliased = isKeyword(next, "AS") || next?.kind === "identifier" || next?.kind === "quoted";
    edits.push({
      start: t.start,
      end: toks[close]!.end,
      text: aliased ? text : `${text} AS ${fn}`,
    });
    i = close;
  }
  if (edits.length === 0) return undefined;
  let out = "";
  let last = 0;
  for (const e of edits) {
    out += sql.slice(last, e.start) + e.text;
    last = e.end;
  }
  return {
    sql: out + sql.slice(last),
    calls: edits.map((e) => [e.text, sql.slice(e.start, e.end)] as const),
    series: series && !lateral,
  };
}

/**
 * Whether the arguments between `(` at `open` and `)` at `close` name a column outside any
 * subquery of theirs: a name that is not a function's (`t.a`, `a`, `new.a`).
 */
function namesColumns(toks: readonly SqlToken[], open: number, close: number): boolean {
  const depths: boolean[] = [];
  for (let i = open + 1; i < close; i++) {
    const t = toks[i]!;
    if (isPunct(t, "(")) {
      const next = toks[i + 1];
      depths.push(isKeyword(next, "SELECT") || isKeyword(next, "WITH"));
    } else if (isPunct(t, ")")) depths.pop();
    else if (
      (t.kind === "identifier" || t.kind === "quoted") &&
      !isPunct(toks[i + 1], "(") &&
      !depths.includes(true)
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Compiles `one` (one statement) on `db` with `compile`, its table functions rewritten: when
 * SQLite finds no such column in a `generate_series`'s subquery, once more with the series
 * `lateral` (its arguments name other FROM items' columns). `compile` gets the text to compile;
 * what it answers comes back with the rewrite it compiled (undefined when there was none).
 */
export function compileRewritten<T>(
  db: RawDatabase,
  one: string,
  compile: (text: string) => T,
): { result: T; rewritten: Rewritten | undefined } {
  const rewritten = rewriteTableFunctions(db, one);
  if (rewritten === undefined) return { result: compile(one), rewritten };
  try {
    return { result: compile(rewritten.sql), rewritten };
  } catch (e) {
    if (!rewritten.series || !/no such column/.test(String(e))) throw e;
    const lateral = rewriteTableFunctions(db, one, true)!;
    return { result: compile(lateral.sql), rewritten: lateral };
  }
}

/** Runs `sql` (statements) on a scratch or migration copy as the engine compiles them. */
export function runCompiled(db: RawDatabase, sql: string): void {
  if (!TABLE_FUNCTIONS.test(sql)) {
    db.run(sql);
    return;
  }
  for (const { sql: one } of splitStatements(sql)) compileRewritten(db, one, (t) => db.run(t));
}

const TABLE_FUNCTIONS = /vector_top_k|generate_series/i;

/** `name`, a result column's name in a rewritten statement, as SQLite names it in `sql`'s. */
export function originalName(name: string, rewritten: Rewritten | undefined): string {
  if (rewritten === undefined) return name;
  for (const [subquery, call] of rewritten.calls) name = name.split(subquery).join(call);
  return name;
}

/** Whether the token at `i` starts a table source (after FROM, JOIN, or a comma in FROM). */
function tableSource(toks: readonly SqlToken[], i: number, clauses: readonly string[]): boolean {
  const prev = toks[i - 1];
  if (prev === undefined) return false;
  if (isKeyword(prev, "FROM") || isKeyword(prev, "JOIN")) return true;
  const clause = clauses[clauses.length - 1]!;
  if (isPunct(prev, ",")) return FROM_CLAUSES.has(clause);
  // Right after a `(` that opened in table position: `FROM (vector_top_k(…) JOIN …)`.
  return isPunct(prev, "(") && clause === "FROM" && clauses.length > 1;
}

/** Each `?`'s parameter index, by its offset (so the rewrite can repeat `?` as `?N`). */
function paramIndexes(sql: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of scanSql(sql).params) if (p.text === "?") out.set(p.start, p.index);
  return out;
}

/** The text of tokens `from`..`to`, each anonymous `?` written with its number. */
function argText(
  sql: string,
  toks: readonly SqlToken[],
  [from, to]: [number, number],
  params: Map<number, number>,
): string {
  let out = "";
  let last = toks[from]!.start;
  for (let i = from; i < to; i++) {
    const t = toks[i]!;
    if (t.kind === "variable" && t.text === "?") {
      out += `${sql.slice(last, t.start)}?${params.get(t.start)}`;
      last = t.end;
    }
  }
  return out + sql.slice(last, toks[to - 1]!.end);
}

function topKSubquery(
  db: RawDatabase,
  sql: string,
  toks: readonly SqlToken[],
  open: number,
  close: number,
  params: Map<number, number>,
): string {
  const args = splitArgs(toks, open, close);
  if (args.length !== 3) {
    throw sqliteError(`vector index(search): got ${args.length} parameters, expected 3`);
  }
  const [nameRange, queryRange, kRange] = args as [
    [number, number],
    [number, number],
    [number, number],
  ];
  const query = argText(sql, toks, queryRange, params);
  const k = argText(sql, toks, kRange, params);
  // An index that cannot be used still reports libSQL's message after the query and k checks.
  const refuse = (message: string): string =>
    `(SELECT NULL AS id LIMIT ${TOP_K_LIMIT_FUNCTION}(${query}, ${k}, 0, ${quoteLiteral(message)}))`;
  const nameTok = toks[nameRange[0]]!;
  if (nameRange[1] !== nameRange[0] + 1 || nameTok.kind !== "string") {
    const literal =
      nameRange[1] === nameRange[0] + 1 &&
      (nameTok.kind === "number" || nameTok.kind === "blob" || isKeyword(nameTok, "NULL"));
    if (literal) return refuse("vector index(search): first parameter (index) must be a string");
    throw sqliteError(
      "vector_top_k: the index name must be a string literal here (tenantlite finds the index when it compiles the statement)",
    );
  }
  const index = findVectorIndex(db, nameOf(nameTok)!);
  if (typeof index === "string") return refuse(index);
  const column = quoteIdent(index.column);
  const distance = index.metric === "l2" ? "vector_distance_l2" : "vector_distance_cos";
  const where = index.where === undefined ? "" : ` AND (${index.where})`;
  // The ids leave as a JSON array read by json_each, a table-valued function like libSQL's
  // vector_top_k: SQLite flattens it into the query and, as for libSQL's, plans it as the outer
  // loop of a join (cheap, few rows), so joined rows come in the order of the search.
  const search =
    `SELECT ${index.key} AS k, ${distance}(${column}, ${TOP_K_QUERY_FUNCTION}(${query})) AS d` +
    ` FROM ${quoteIdent(index.schema)}.${quoteIdent(index.table)}` +
    ` WHERE ${column} IS NOT NULL${where}` +
    ` ORDER BY d, k LIMIT ${TOP_K_LIMIT_FUNCTION}(${query}, ${k}, ${index.type}, ${index.dims})`;
  if (index.key === "rowid" || index.key === "_rowid_" || index.key === "oid") {
    return `(SELECT value AS id FROM json_each((SELECT json_group_array(k ORDER BY d, k) FROM (${search}))))`;
  }
  // A WITHOUT ROWID table's key may be of any type: it travels with its type, a BLOB as hex.
  const typed = "json_array(typeof(k), CASE WHEN typeof(k) = 'blob' THEN hex(k) ELSE k END)";
  return (
    `(SELECT CASE value->>0 WHEN 'blob' THEN unhex(value->>1) ELSE value->>1 END AS id` +
    ` FROM json_each((SELECT json_group_array(${typed} ORDER BY d, k) FROM (${search}))))`
  );
}

/**
 * `generate_series(start[, stop[, step]])` as SQLite's series extension answers it (checked
 * against native libSQL): each argument read as an integer (`CAST … AS INTEGER`), `stop` 4294967295
 * and `step` 1 when left out, a `step` of 0 taken as 1, no rows when an argument is NULL; values
 * `start + n * step` for n = 0, 1, … while not past `stop` (above it for a positive step, below it
 * for a negative one), in that order.
 *
 * `lateral`: for arguments that name columns of the FROM clause's other tables, which a subquery
 * cannot see (SQLite has no LATERAL): the series goes through `json_each`, a table function that
 * can, as a JSON array made whole first (memory in proportion to its length), with json_each's
 * other columns listed by `*` too. The compiler tries this when the subquery found no such column.
 */
function seriesSubquery(
  sql: string,
  toks: readonly SqlToken[],
  open: number,
  close: number,
  params: Map<number, number>,
  lateral: boolean,
): string {
  const args = splitArgs(toks, open, close);
  if (args.length === 0) {
    throw sqliteError('first argument to "generate_series()" missing or unusable');
  }
  if (args.length > 3) throw sqliteError("too many arguments on generate_series() - max 3");
  const [start, stop = "4294967295", step = "1"] = args.map((r) => argText(sql, toks, r, params));
  // Each argument once, in its place, so parameters keep their numbers.
  const series =
    // a, e, s: the arguments as given (no rows when one is NULL: their sum is NULL then);
    // b, e, s: start, stop and step as integers (a step of 0 as 1); v: the value.
    `(WITH RECURSIVE _tl_s(v,e,s) AS (SELECT b,e,s FROM (SELECT CAST(a AS INT) b,CAST(e AS INT) e,coalesce(nullif(CAST(s AS INT),0),1) s FROM (SELECT ${start} a,${stop} e,${step} s) WHERE a+e+s NOT NULL) WHERE iif(s>0,b<=e,b>=e) UNION ALL SELECT v+s,e,s FROM _tl_s WHERE iif(s>0,v+s<=e,v+s>=e))` +
    // `+ 0`: untyped, as the module declares it (a view of it would type a CAST's column).
    " SELECT v+0 AS value FROM _tl_s)";
  return lateral ? `json_each((SELECT json_group_array(value) FROM ${series}))` : series;
}
