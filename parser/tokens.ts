import { createToken, type TokenType } from "chevrotain";

// Token categories. A keyword joins `Id` when SQLite's `%fallback ID` list lets it stand for an
// identifier; the grammar prefers the keyword meaning wherever it fits (as Lemon does).
/** `nm` in SQLite's grammar: identifiers, fallback keywords, strings, INDEXED and join keywords. */
export const Nm = createToken({ name: "Nm" });
/** `ids`: identifiers and strings (aliases without AS, type names, collation names). */
export const Ids = createToken({ name: "Ids" });
/** `idj`: identifiers, INDEXED and join keywords (column references and function names). */
export const Idj = createToken({ name: "Idj", categories: [Nm] });
/** `ID`: identifiers, quoted identifiers and keywords that may be identifiers. */
export const Id = createToken({ name: "Id", categories: [Idj, Ids] });
/** NATURAL, LEFT, RIGHT, FULL, INNER, CROSS, OUTER. */
export const JoinKw = createToken({ name: "JoinKw", categories: [Idj] });
/** LIKE, GLOB, REGEXP, MATCH. */
export const LikeKw = createToken({ name: "LikeKw" });
/** CURRENT_TIME, CURRENT_DATE, CURRENT_TIMESTAMP. */
export const CtimeKw = createToken({ name: "CtimeKw" });
/** Binary operators of expressions (AND and OR included). */
export const BinOp = createToken({ name: "BinOp" });
/** Every token but `(`, `)`, `,` and `;`: the ANY wildcard of virtual table arguments. */
export const AnyTok = createToken({ name: "AnyTok" });

const all: TokenType[] = [Nm, Ids, Idj, Id, JoinKw, LikeKw, CtimeKw, BinOp, AnyTok];

function tok(name: string, categories: TokenType[] = [], any = true): TokenType {
  const t = createToken({
    name,
    categories: any ? [...categories, AnyTok] : categories,
  });
  all.push(t);
  return t;
}

/** Unquoted identifier. */
export const Identifier = tok("Identifier", [Id]);
/** `"x"`, `[x]` or `` `x` ``. */
export const QuotedId = tok("QuotedId", [Id]);
/** `'text'`. */
export const StringLit = tok("String", [Ids, Nm]);
/** `X'0A'`. */
export const Blob = tok("Blob");
/** Integer literal (decimal or hex). */
export const Integer = tok("Integer");
/** Float literal. */
export const Float = tok("Float");
/** `?`, `?NNN`, `:a`, `@a`, `$a`, `#a`. */
export const Variable = tok("Variable");
/** `(` */
export const LP = tok("LP", [], false);
/** `)` */
export const RP = tok("RP", [], false);
/** `,` */
export const Comma = tok("Comma", [], false);
/** `;` */
export const Semi = tok("Semi", [], false);
/** `.` */
export const Dot = tok("Dot");
/** `*` */
export const Star = tok("Star", [BinOp]);
/** `+` */
export const Plus = tok("Plus", [BinOp]);
/** `-` */
export const Minus = tok("Minus", [BinOp]);
/** `/` */
export const Slash = tok("Slash", [BinOp]);
/** `%` */
export const Rem = tok("Rem", [BinOp]);
/** `||` */
export const Concat = tok("Concat", [BinOp]);
/** `->` and `->>` */
export const Ptr = tok("Ptr", [BinOp]);
/** `=` and `==` */
export const Eq = tok("Eq", [BinOp]);
/** `!=` and `<>` */
export const Ne = tok("Ne", [BinOp]);
/** `<` */
export const Lt = tok("Lt", [BinOp]);
/** `<=` */
export const Le = tok("Le", [BinOp]);
/** `>` */
export const Gt = tok("Gt", [BinOp]);
/** `>=` */
export const Ge = tok("Ge", [BinOp]);
/** `&` */
export const BitAnd = tok("BitAnd", [BinOp]);
/** `|` */
export const BitOr = tok("BitOr", [BinOp]);
/** `<<` */
export const LShift = tok("LShift", [BinOp]);
/** `>>` */
export const RShift = tok("RShift", [BinOp]);
/** `~` */
export const BitNot = tok("BitNot");
/** WINDOW when SQLite's tokenizer reads it as a keyword (followed by a name and AS). */
export const Window = tok("WINDOW");
/** OVER when it follows `)` and precedes `(` or a name. */
export const Over = tok("OVER");
/** FILTER when it follows `)` and precedes `(`. */
export const Filter = tok("FILTER");

// SQLite's keywords; `true` marks the `%fallback ID` ones (parse.y).
const KEYWORDS = {
  ABORT: true,
  ACTION: true,
  ADD: false,
  AFTER: true,
  ALL: false,
  ALTER: false,
  ALWAYS: true,
  ANALYZE: true,
  AND: false,
  AS: false,
  ASC: true,
  ATTACH: true,
  AUTOINCREMENT: false,
  BEFORE: true,
  BEGIN: true,
  BETWEEN: false,
  BY: true,
  CASCADE: true,
  CASE: false,
  CAST: true,
  CHECK: false,
  COLLATE: false,
  COLUMN: true,
  COMMIT: false,
  CONFLICT: true,
  CONSTRAINT: false,
  CREATE: false,
  CROSS: false,
  CURRENT: true,
  CURRENT_DATE: true,
  CURRENT_TIME: true,
  CURRENT_TIMESTAMP: true,
  DATABASE: true,
  DEFAULT: false,
  DEFERRABLE: false,
  DEFERRED: true,
  DELETE: false,
  DESC: true,
  DETACH: true,
  DISTINCT: false,
  DO: true,
  DROP: false,
  EACH: true,
  ELSE: false,
  END: true,
  ESCAPE: false,
  EXCEPT: false,
  EXCLUDE: true,
  EXCLUSIVE: true,
  EXISTS: false,
  EXPLAIN: true,
  FAIL: true,
  FIRST: true,
  FOLLOWING: true,
  FOR: true,
  FOREIGN: false,
  FROM: false,
  FULL: false,
  GENERATED: true,
  GLOB: true,
  GROUP: false,
  GROUPS: true,
  HAVING: false,
  IF: true,
  IGNORE: true,
  IMMEDIATE: true,
  IN: false,
  INDEX: false,
  INDEXED: false,
  INITIALLY: true,
  INNER: false,
  INSERT: false,
  INSTEAD: true,
  INTERSECT: false,
  INTO: false,
  IS: false,
  ISNULL: false,
  JOIN: false,
  KEY: true,
  LAST: true,
  LEFT: false,
  LIKE: true,
  LIMIT: false,
  MATCH: true,
  MATERIALIZED: true,
  NATURAL: false,
  NO: true,
  NOT: false,
  NOTHING: false,
  NOTNULL: false,
  NULL: false,
  NULLS: true,
  OF: true,
  OFFSET: true,
  ON: false,
  OR: false,
  ORDER: false,
  OTHERS: true,
  OUTER: false,
  PARTITION: true,
  PLAN: true,
  PRAGMA: true,
  PRECEDING: true,
  PRIMARY: false,
  QUERY: true,
  RAISE: true,
  RANGE: true,
  RECURSIVE: true,
  REFERENCES: false,
  REGEXP: true,
  REINDEX: true,
  RELEASE: true,
  RENAME: true,
  REPLACE: true,
  RESTRICT: true,
  RETURNING: false,
  RIGHT: false,
  ROLLBACK: true,
  ROW: true,
  ROWS: true,
  SAVEPOINT: true,
  SELECT: false,
  SET: false,
  TABLE: false,
  TEMP: true,
  THEN: false,
  TIES: true,
  TO: false,
  TRANSACTION: false,
  TRIGGER: true,
  UNBOUNDED: true,
  UNION: false,
  UNIQUE: false,
  UPDATE: false,
  USING: false,
  VACUUM: true,
  VALUES: false,
  VIEW: true,
  VIRTUAL: true,
  WHEN: false,
  WHERE: false,
  WITH: true,
  WITHOUT: true,
} as const;

/** Keyword names. */
export type Keyword = keyof typeof KEYWORDS;

const JOIN_KWS = new Set(["NATURAL", "LEFT", "RIGHT", "FULL", "INNER", "CROSS", "OUTER"]);
const LIKE_KWS = new Set(["LIKE", "GLOB", "REGEXP", "MATCH"]);
const CTIME_KWS = new Set(["CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP"]);

function keywordTokens(): Record<Keyword, TokenType> {
  const out: Partial<Record<Keyword, TokenType>> = {};
  for (const [name, fallback] of Object.entries(KEYWORDS) as [Keyword, boolean][]) {
    const cats: TokenType[] = [];
    if (fallback) cats.push(Id);
    if (name === "INDEXED") cats.push(Idj);
    if (JOIN_KWS.has(name)) cats.push(JoinKw);
    if (LIKE_KWS.has(name)) cats.push(LikeKw);
    if (CTIME_KWS.has(name)) cats.push(CtimeKw);
    if (name === "AND" || name === "OR") cats.push(BinOp);
    out[name] = tok(name, cats);
  }
  return out as Record<Keyword, TokenType>;
}

/** Keyword token types by upper-case keyword. */
export const K = keywordTokens();

/** Keyword lookup by upper-case text (TEMPORARY is TEMP, as in SQLite). */
export const keywordByText: ReadonlyMap<string, TokenType> = new Map<string, TokenType>([
  ...(Object.entries(K) as [string, TokenType][]),
  ["TEMPORARY", K.TEMP],
]);

/** Every token type, in the order the parser is given them. */
export const allTokens: readonly TokenType[] = all;
