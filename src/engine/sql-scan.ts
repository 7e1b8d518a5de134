/**
 * A small, allocation-light scanner over SQL text: finds parameters and the first keyword while
 * skipping strings, quoted identifiers, blobs and comments. The engine needs this on its hot path
 * (binding, 64-bit rewrites), where the full parser in `parser/` would be too heavy.
 */

/** One parameter occurrence in SQL text. */
export interface ParamToken {
  /** As written: `?`, `?3`, `:name`, `@name`, `$name`. */
  readonly text: string;
  /** 1-based index SQLite assigns to it. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

/** What the scanner learned about a statement's text. */
export interface ScanResult {
  readonly params: readonly ParamToken[];
  /** Number of distinct parameter slots (SQLite's `sqlite3_bind_parameter_count`). */
  readonly paramCount: number;
  /** Distinct named parameters with their slot index, in order of first appearance. */
  readonly named: ReadonlyMap<string, number>;
  /** The first keyword, upper-cased (`SELECT`, `WITH`, `INSERT`, …), or `""`. */
  readonly firstWord: string;
  /**
   * The statement's verb: the first word, or after `WITH …` the first of SELECT, VALUES, INSERT,
   * REPLACE, UPDATE, DELETE outside parentheses.
   */
  readonly verb: string;
}

const VERBS = new Set(["SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"]);

const isIdentChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;

/** Scans `sql` (a single statement or a script) for parameters and its first keyword. */
export function scanSql(sql: string): ScanResult {
  const params: ParamToken[] = [];
  const named = new Map<string, number>();
  let firstWord = "";
  let verb = "";
  let depth = 0;
  let maxIndex = 0;
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 39 /* ' */ || c === 34 /* " */ || c === 96 /* ` */) {
      i = skipQuoted(sql, i, c);
    } else if (c === 91 /* [ */) {
      const close = sql.indexOf("]", i + 1);
      i = close < 0 ? n : close + 1;
    } else if (c === 45 /* - */ && sql.charCodeAt(i + 1) === 45) {
      const nl = sql.indexOf("\n", i + 2);
      i = nl < 0 ? n : nl + 1;
    } else if (c === 47 /* / */ && sql.charCodeAt(i + 1) === 42 /* * */) {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === 63 /* ? */) {
      let j = i + 1;
      while (j < n && sql.charCodeAt(j) >= 48 && sql.charCodeAt(j) <= 57) j++;
      const text = sql.slice(i, j);
      const index = text.length > 1 ? Number(text.slice(1)) : maxIndex + 1;
      if (index > maxIndex) maxIndex = index;
      params.push({ text, index, start: i, end: j });
      i = j;
    } else if (
      (c === 58 /* : */ || c === 64 /* @ */ || c === 36) /* $ */ &&
      i + 1 < n &&
      isIdentChar(sql.charCodeAt(i + 1))
    ) {
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (isIdentChar(d) || d === 36) j++;
        // `$a::b(x)` Tcl-style names are accepted by SQLite after `$`.
        else if (c === 36 && d === 58 && sql.charCodeAt(j + 1) === 58) j += 2;
        else break;
      }
      const text = sql.slice(i, j);
      let index = named.get(text);
      if (index === undefined) {
        index = maxIndex + 1;
        maxIndex = index;
        named.set(text, index);
      }
      params.push({ text, index, start: i, end: j });
      i = j;
    } else if (isIdentChar(c) && !(c >= 48 && c <= 57)) {
      let j = i + 1;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      if (firstWord === "") {
        firstWord = sql.slice(i, j).toUpperCase();
        if (firstWord !== "WITH") verb = firstWord;
      } else if (verb === "" && depth === 0 && j - i <= 7) {
        const word = sql.slice(i, j).toUpperCase();
        if (VERBS.has(word)) verb = word;
      }
      // x'…' blob literals: the quote that follows is skipped as a string next round.
      i = j;
    } else {
      if (c === 40 /* ( */) depth++;
      else if (c === 41 /* ) */) depth--;
      i++;
    }
  }
  return { params, paramCount: maxIndex, named, firstWord, verb };
}

function skipQuoted(sql: string, start: number, quote: number): number {
  let i = start + 1;
  const n = sql.length;
  while (i < n) {
    if (sql.charCodeAt(i) === quote) {
      if (sql.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return n;
}

/** Replaces every parameter with `NULL` (same order, so the statement still compiles). */
export function replaceParams(sql: string, params: readonly ParamToken[], by: string): string {
  if (params.length === 0) return sql;
  let out = "";
  let last = 0;
  for (const p of params) {
    out += sql.slice(last, p.start) + by;
    last = p.end;
  }
  return out + sql.slice(last);
}
