import {
  BitAnd,
  BitNot,
  BitOr,
  Blob,
  Comma,
  Concat,
  createToken,
  Dot,
  Eq,
  Filter,
  Float,
  Ge,
  Gt,
  Id,
  Identifier,
  Integer,
  JoinKw,
  keywordByText,
  Le,
  LP,
  LShift,
  Lt,
  Minus,
  Ne,
  Over,
  Plus,
  Ptr,
  QuotedId,
  Rem,
  RP,
  RShift,
  Semi,
  Slash,
  Star,
  StringLit,
  type Token,
  type TokenType,
  tokenMatcher,
  Variable,
  Window,
} from "./tokens.js";

/** A character sequence SQLite's tokenizer rejects (`unrecognized token`). */
export const Illegal: TokenType = createToken("Illegal");

// Character classes, indexed by char code below 128.
const ID_START = new Uint8Array(128);
const ID_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const letter = /[A-Za-z_]/.test(ch);
  ID_START[c] = letter ? 1 : 0;
  ID_CHAR[c] = letter || /[0-9$]/.test(ch) ? 1 : 0;
}

function isIdStart(c: number): boolean {
  return c >= 128 || ID_START[c] === 1;
}
function isIdChar(c: number): boolean {
  return c >= 128 || ID_CHAR[c] === 1;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

// One class for every token keeps property access monomorphic in the parser; positions other
// than offsets are computed only for errors.
class LexedToken implements Token {
  constructor(
    public image: string,
    public startOffset: number,
    public endOffset: number,
    public tokenType: TokenType,
  ) {}
}

function make(type: TokenType, sql: string, start: number, end: number): Token {
  return new LexedToken(sql.slice(start, end), start, end - 1, type);
}

/** Ends of a quoted run starting at `i` (the opening quote); -1 when unterminated. */
function quoted(sql: string, i: number, close: number, doubled: boolean): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (c === close) {
      if (doubled && sql.charCodeAt(j + 1) === close) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return -1;
}

/** Scans a number at `i`; returns [end, type]. Mirrors sqlite3GetToken, digit separators included. */
function number(sql: string, i: number): [number, TokenType] {
  const n = sql.length;
  let j = i;
  let type: TokenType = Integer;
  const digits = (hex: boolean): boolean => {
    // Underscores are allowed only between two digits.
    let ok = true;
    while (j < n) {
      const c = sql.charCodeAt(j);
      if (hex ? isHex(c) : isDigit(c)) j++;
      else if (c === 95) {
        const next = sql.charCodeAt(j + 1);
        if (!(hex ? isHex(next) : isDigit(next))) {
          ok = false;
          break;
        }
        j++;
      } else break;
    }
    return ok;
  };
  let ok = true;
  const c0 = sql.charCodeAt(j);
  const c1 = sql.charCodeAt(j + 1);
  if (c0 === 48 && (c1 === 120 || c1 === 88) && isHex(sql.charCodeAt(j + 2))) {
    j += 2;
    ok = digits(true);
  } else {
    ok = digits(false);
    if (sql.charCodeAt(j) === 46) {
      j++;
      type = Float;
      ok = digits(false) && ok;
    }
    const e = sql.charCodeAt(j);
    if (e === 101 || e === 69) {
      const s = sql.charCodeAt(j + 1);
      if (isDigit(s) || ((s === 43 || s === 45) && isDigit(sql.charCodeAt(j + 2)))) {
        j += s === 43 || s === 45 ? 2 : 1;
        type = Float;
        ok = digits(false) && ok;
      }
    }
  }
  if (!ok) {
    while (j < n && (isIdChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === 95)) j++;
    return [j, Illegal];
  }
  if (j < n && isIdChar(sql.charCodeAt(j))) {
    while (j < n && isIdChar(sql.charCodeAt(j))) j++;
    return [j, Illegal];
  }
  return [j, type];
}

/** Scans a `$`, `@`, `:` or `#` parameter at `i`; returns [end, type]. */
function variable(sql: string, i: number): [number, TokenType] {
  const n = sql.length;
  let named = 0;
  let j = i + 1;
  while (j < n) {
    const c = sql.charCodeAt(j);
    if (isIdChar(c)) {
      named++;
      j++;
    } else if (c === 40 && named > 0) {
      j++;
      while (j < n && !isSpace(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 41) j++;
      if (sql.charCodeAt(j) === 41) return [j + 1, Variable];
      return [j, Illegal];
    } else if (c === 58 && sql.charCodeAt(j + 1) === 58) {
      j += 2;
    } else break;
  }
  return [j, named === 0 ? Illegal : Variable];
}

/**
 * Tokenizes SQL the way SQLite's tokenizer does; whitespace and comments are dropped, and
 * unrecognized input becomes `Illegal` tokens (the parser reports them per statement).
 */
export function tokenize(sql: string, ends?: { openComment: boolean }): Token[] {
  return scan(sql, ends, 0, Number.POSITIVE_INFINITY).toks;
}

/**
 * Tokens of `sql` from offset `start` (where a token starts), stopping after the first `;` once
 * at least `atLeast` tokens were read: a long script is read a piece at a time, so its tokens
 * need not all live at once (garbage that dies young costs the collector far less). `end` is
 * the offset where the reading stopped (`sql.length` at the end).
 */
export function tokenizeFrom(
  sql: string,
  start: number,
  atLeast: number,
): { toks: Token[]; end: number } {
  return scan(sql, undefined, start, atLeast);
}

function scan(
  sql: string,
  ends: { openComment: boolean } | undefined,
  start: number,
  atLeast: number,
): { toks: Token[]; end: number } {
  const out: Token[] = [];
  const n = sql.length;
  let i = start;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    let end = i + 1;
    let type: TokenType = Illegal;
    switch (c) {
      case 45: // -
        if (sql.charCodeAt(i + 1) === 45) {
          const nl = sql.indexOf("\n", i + 2);
          i = nl < 0 ? n : nl + 1;
          continue;
        }
        if (sql.charCodeAt(i + 1) === 62) {
          end = sql.charCodeAt(i + 2) === 62 ? i + 3 : i + 2;
          type = Ptr;
        } else type = Minus;
        break;
      case 47: // /
        // A comment may run unterminated to the end of the input, but `/*` as its last two
        // characters is a slash and a star (tokenize.c).
        if (sql.charCodeAt(i + 1) === 42 && i + 2 < n) {
          const close = sql.indexOf("*/", i + 2);
          if (close < 0 && ends !== undefined) ends.openComment = true;
          i = close < 0 ? n : close + 2;
          continue;
        }
        type = Slash;
        break;
      case 40:
        type = LP;
        break;
      case 41:
        type = RP;
        break;
      case 59:
        type = Semi;
        break;
      case 43:
        type = Plus;
        break;
      case 42:
        type = Star;
        break;
      case 37:
        type = Rem;
        break;
      case 44:
        type = Comma;
        break;
      case 38:
        type = BitAnd;
        break;
      case 126:
        type = BitNot;
        break;
      case 61: // =
        type = Eq;
        if (sql.charCodeAt(i + 1) === 61) end = i + 2;
        break;
      case 60: {
        const d = sql.charCodeAt(i + 1);
        if (d === 61) [end, type] = [i + 2, Le];
        else if (d === 62) [end, type] = [i + 2, Ne];
        else if (d === 60) [end, type] = [i + 2, LShift];
        else type = Lt;
        break;
      }
      case 62: {
        const d = sql.charCodeAt(i + 1);
        if (d === 61) [end, type] = [i + 2, Ge];
        else if (d === 62) [end, type] = [i + 2, RShift];
        else type = Gt;
        break;
      }
      case 33: // !
        if (sql.charCodeAt(i + 1) === 61) [end, type] = [i + 2, Ne];
        else end = i + 1;
        break;
      case 124: // |
        if (sql.charCodeAt(i + 1) === 124) [end, type] = [i + 2, Concat];
        else type = BitOr;
        break;
      case 39: {
        const e = quoted(sql, i, 39, true);
        [end, type] = e < 0 ? [n, Illegal] : [e, StringLit];
        break;
      }
      case 34:
      case 96: {
        const e = quoted(sql, i, c, true);
        [end, type] = e < 0 ? [n, Illegal] : [e, QuotedId];
        break;
      }
      case 91: {
        const e = sql.indexOf("]", i + 1);
        [end, type] = e < 0 ? [n, Illegal] : [e + 1, QuotedId];
        break;
      }
      case 46: // .
        if (isDigit(sql.charCodeAt(i + 1))) [end, type] = number(sql, i);
        else type = Dot;
        break;
      case 63: {
        // ?NNN
        let j = i + 1;
        while (j < n && isDigit(sql.charCodeAt(j))) j++;
        [end, type] = [j, Variable];
        break;
      }
      case 36:
      case 64:
      case 58:
      case 35:
        [end, type] = variable(sql, i);
        break;
      default:
        if (isDigit(c)) {
          [end, type] = number(sql, i);
        } else if ((c === 120 || c === 88) && sql.charCodeAt(i + 1) === 39) {
          let j = i + 2;
          while (j < n && isHex(sql.charCodeAt(j))) j++;
          if (sql.charCodeAt(j) === 39 && (j - i - 2) % 2 === 0) [end, type] = [j + 1, Blob];
          else {
            while (j < n && sql.charCodeAt(j) !== 39) j++;
            [end, type] = [Math.min(j + 1, n), Illegal];
          }
        } else if (isIdStart(c)) {
          let j = i + 1;
          while (j < n && isIdChar(sql.charCodeAt(j))) j++;
          end = j;
          type = Identifier;
          const len = j - i;
          if (len >= 2 && len <= 17) {
            const kw = keywordByText.get(sql.slice(i, j).toUpperCase());
            if (kw !== undefined) type = kw;
          }
        }
    }
    out.push(make(type, sql, i, end));
    i = end;
    if (type === Semi && out.length >= atLeast) break;
  }
  contextualKeywords(out);
  return { toks: out, end: i };
}

/** Whether SQLite's analyze*Keyword helpers would read this token as TK_ID. */
function idLike(t: Token | undefined): boolean {
  if (t === undefined) return false;
  return (
    tokenMatcher(t, Id) ||
    tokenMatcher(t, JoinKw) ||
    t.tokenType === StringLit ||
    isWord(t, "WINDOW") ||
    isWord(t, "OVER") ||
    isWord(t, "FILTER")
  );
}

function isWord(t: Token, word: string): boolean {
  return (
    t.tokenType === Identifier && t.image.length === word.length && t.image.toUpperCase() === word
  );
}

function retype(t: Token, type: TokenType): void {
  t.tokenType = type;
}

// WINDOW, OVER and FILTER are keywords only in the contexts tokenize.c checks.
function contextualKeywords(toks: Token[]): void {
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.tokenType !== Identifier || t.image.length < 4 || t.image.length > 6) continue;
    const up = t.image.toUpperCase();
    const prev = toks[i - 1];
    const next = toks[i + 1];
    if (up === "WINDOW") {
      if (idLike(next) && toks[i + 2]?.image.toUpperCase() === "AS") retype(t, Window);
    } else if (up === "OVER") {
      if (prev?.tokenType === RP && (next?.tokenType === LP || idLike(next))) retype(t, Over);
    } else if (up === "FILTER") {
      if (prev?.tokenType === RP && next?.tokenType === LP) retype(t, Filter);
    }
  }
}
