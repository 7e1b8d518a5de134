/** The parser's API (re-exported by `index.ts`): parse, classify with a cache, split, tokenize. */
import { newCollector } from "./collector.js";
import { SqliteParser } from "./grammar.js";
import { Illegal, tokenize, tokenizeFrom } from "./lexer.js";
import { Lru } from "./lru.js";
import { splitTokens, type TokenRange } from "./split.js";
import { summarize } from "./summary.js";
import { EOF, LP, RP, Semi, type Token } from "./tokens.js";
import type { ParsedStatement, ParseError, ParseOptions, ParseResult } from "./types.js";

/** Deeper parenthesis nesting is refused before parsing, so recursion cannot exhaust the stack. */
const MAX_NESTING = 500;

let parserInstance: SqliteParser | null = null;
function parser(): SqliteParser {
  parserInstance ??= new SqliteParser();
  return parserInstance;
}

class Lines {
  #starts: number[] | null = null;
  constructor(private readonly sql: string) {}
  at(offset: number): { line: number; column: number } {
    if (this.#starts === null) {
      this.#starts = [0];
      for (let i = this.sql.indexOf("\n"); i >= 0; i = this.sql.indexOf("\n", i + 1)) {
        this.#starts.push(i + 1);
      }
    }
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.#starts[lo]! + 1 };
  }
}

function near(t: Token): string {
  return `near "${t.image}": syntax error`;
}

function maxDepth(toks: readonly Token[], from: number, to: number): number {
  let depth = 0;
  let max = 0;
  for (let i = from; i < to; i++) {
    const type = toks[i]!.tokenType;
    if (type === LP) {
      depth++;
      if (depth > max) max = depth;
    } else if (type === RP) depth--;
  }
  return max;
}

/**
 * Parses a script into statements, in order, each with its span and a frozen summary.
 * Never throws: syntax errors (SQLite-like messages) are returned, one per bad statement, and
 * do not hide the other statements.
 */
export function parse(sql: string, options: ParseOptions = {}): ParseResult {
  const statements: ParsedStatement[] = [];
  const errors: ParseError[] = [];
  const lines = new Lines(sql);
  const fail = (message: string, offset: number, statementIndex: number): void => {
    const { line, column } = lines.at(offset);
    errors.push(Object.freeze({ message, line, column, offset, statementIndex }));
  };
  const p = parser();
  // A long script is read a piece of whole statements at a time (see tokenizeFrom).
  let pos = 0;
  let want = PIECE_TOKENS;
  let base = 0;
  while (pos < sql.length) {
    let toks: Token[];
    let end: number;
    try {
      ({ toks, end } = tokenizeFrom(sql, pos, want));
    } catch (e) {
      statements.length = 0;
      errors.length = 0;
      fail(`internal parser error: ${String(e)}`, 0, 0);
      break;
    }
    let ranges = splitTokens(toks);
    if (end < sql.length) {
      // The piece ended at a `;` inside a trigger body: that statement goes on in the next one
      // (a single statement longer than the piece: read it again in a longer piece).
      const last = ranges[ranges.length - 1];
      if (last !== undefined && !last.closed) {
        if (ranges.length === 1) {
          want *= 2;
          continue;
        }
        ranges = ranges.slice(0, -1);
        end = toks[last.from]!.startOffset;
      }
    }
    pos = end;
    want = PIECE_TOKENS;
    base = parseRanges(p, sql, toks, ranges, base, options, statements, fail);
  }
  return Object.freeze({ statements: Object.freeze(statements), errors: Object.freeze(errors) });
}

/** Tokens read at a time from a long script (whole statements: a piece ends at a `;`). */
const PIECE_TOKENS = 2048;

/** Parses the statements `ranges` of `toks`, numbered from `base`; returns the next number. */
function parseRanges(
  p: SqliteParser,
  sql: string,
  toks: Token[],
  ranges: readonly TokenRange[],
  base: number,
  options: ParseOptions,
  statements: ParsedStatement[],
  fail: (message: string, offset: number, statementIndex: number) => void,
): number {
  for (let k = 0; k < ranges.length; k++) {
    const index = base + k;
    const { from, to, closed } = ranges[k]!;
    const first = toks[from]!;
    const last = toks[to - 1]!;
    const start = first.startOffset;
    const end = last.endOffset + 1;
    try {
      let bad: Token | null = null;
      for (let i = from; i < to; i++) {
        if (toks[i]!.tokenType === Illegal) {
          bad = toks[i]!;
          break;
        }
      }
      if (bad !== null) {
        fail(`unrecognized token: "${bad.image}"`, bad.startOffset, index);
        continue;
      }
      if (maxDepth(toks, from, to) > MAX_NESTING) {
        fail("parser stack overflow", start, index);
        continue;
      }
      const c = newCollector(sql);
      const stopped = p.statement(c, toks.slice(from, to));
      const atEnd = (t: Token): void => {
        if (closed) fail(`near ";": syntax error`, end, index);
        else fail("incomplete input", t.tokenType === EOF ? end : t.startOffset, index);
      };
      // An error of a grammar action stops SQLite's parser when the token after it arrives: a
      // syntax error SQLite finds at that token or before it comes first.
      const action = c.actionError;
      const actionFirst = (t: Token): boolean =>
        action !== null &&
        action.at < (t.tokenType === EOF || Number.isNaN(t.startOffset) ? Infinity : t.startOffset);
      if (stopped !== null) {
        const t = stopped;
        if (actionFirst(t)) fail(action!.message, action!.token.startOffset, index);
        else if (t.tokenType === EOF || Number.isNaN(t.startOffset)) atEnd(t);
        else fail(near(t), t.startOffset, index);
        continue;
      }
      const rest = p.next();
      if (rest.tokenType !== EOF) {
        if (actionFirst(rest)) fail(action!.message, action!.token.startOffset, index);
        else fail(near(rest), rest.startOffset, index);
        continue;
      }
      if (action !== null) {
        fail(action.message, action.token.startOffset, index);
        continue;
      }
      if (c.dmlLimit !== null && options.updateDeleteLimit !== true) {
        fail(near(c.dmlLimit), c.dmlLimit.startOffset, index);
        continue;
      }
      statements.push(
        Object.freeze({
          sql: sql.slice(start, end),
          start,
          end,
          summary: summarize(c, toks, from, to),
        }),
      );
    } catch (e) {
      // Stack exhaustion or an internal bug: report it against the statement, keep going.
      const message =
        e instanceof RangeError ? "parser stack overflow" : `internal parser error: ${String(e)}`;
      fail(message, start, index);
    }
  }
  return base + ranges.length;
}

const CACHE_SIZE = 2000;
const cache = new Lru<string, ParseResult>(CACHE_SIZE);

/**
 * `parse` with a bounded LRU cache keyed by SQL text. Results are deeply frozen and shared
 * between callers. Uses default options.
 */
export function classify(sql: string): ParseResult {
  const hit = cache.get(sql);
  if (hit !== undefined) return hit;
  const result = parse(sql);
  cache.set(sql, result);
  return result;
}

/** Empties the `classify` cache (tests and benchmarks). */
export function clearClassifyCache(): void {
  cache.clear();
}

/**
 * Whether `sql` ends with a complete statement, as `sqlite3_complete()` says (what a shell asks
 * before running what was typed): its last token is a `;` that closes a statement (inside a
 * CREATE TRIGGER body only `END;` does), and no comment, string or quoted name is left open —
 * even a comment SQLite would accept unterminated at the end of a statement.
 */
export function isComplete(sql: string): boolean {
  const ends = { openComment: false };
  const toks = tokenize(sql, ends);
  if (ends.openComment) return false;
  if (toks[toks.length - 1]?.tokenType !== Semi) return false;
  const ranges = splitTokens(toks);
  return ranges.length === 0 || ranges[ranges.length - 1]!.closed;
}

/**
 * Splits a script into statements without parsing them: token-aware (strings, quoted names,
 * comments, trigger bodies), cheap. Empty statements (a lone `;`, comments only) are dropped.
 * Offsets are UTF-16 indexes into `sql`, `end` exclusive; `sql` excludes the trailing `;`.
 */
export function splitStatements(sql: string): { sql: string; start: number; end: number }[] {
  const toks = tokenize(sql);
  return splitTokens(toks).map(({ from, to }) => {
    const start = toks[from]!.startOffset;
    const end = toks[to - 1]!.endOffset + 1;
    return { sql: sql.slice(start, end), start, end };
  });
}

/** What a {@link SqlToken} is. Keywords are upper-cased in `keyword`; names keep their case. */
export type SqlTokenKind =
  | "keyword"
  | "identifier"
  | "quoted"
  | "string"
  | "blob"
  | "number"
  | "variable"
  | "punct"
  | "illegal";

/** One token of SQL text as SQLite's tokenizer splits it. */
export interface SqlToken {
  readonly kind: SqlTokenKind;
  /** The text as written. */
  readonly text: string;
  /** For keywords, the keyword in upper case (`TEMPORARY` reads `TEMP`); otherwise "". */
  readonly keyword: string;
  /** UTF-16 offsets into the input, `end` exclusive. */
  readonly start: number;
  readonly end: number;
}

const KINDS: Record<string, SqlTokenKind> = {
  Identifier: "identifier",
  QuotedId: "quoted",
  String: "string",
  Blob: "blob",
  Integer: "number",
  Float: "number",
  Variable: "variable",
  Illegal: "illegal",
};

/**
 * Splits SQL text into tokens the way SQLite's tokenizer does (whitespace and comments dropped),
 * for callers that rewrite or inspect statements at token level without parsing them.
 *
 * @example
 * sqlTokens("SELECT 'a;b' FROM t")[1]; // { kind: "string", text: "'a;b'", start: 7, end: 12, … }
 */
export function sqlTokens(sql: string): SqlToken[] {
  return tokenize(sql).map((t) => {
    const name = t.tokenType.name;
    let kind = KINDS[name];
    let keyword = "";
    if (kind === undefined) {
      // Keyword token types are named after their keyword; punctuation after what it is.
      if (/^[A-Z_]+$/.test(name) && name !== "LP" && name !== "RP") {
        kind = "keyword";
        keyword = name;
      } else kind = "punct";
    }
    return { kind, text: t.image, keyword, start: t.startOffset, end: t.endOffset + 1 };
  });
}
