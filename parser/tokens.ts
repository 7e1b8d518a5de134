/** A kind of token; a category (`Nm`, `Id`, …) is a token type that others belong to. */
export interface TokenType {
  readonly name: string;
  /** Index among all token types, in order of creation. */
  readonly idx: number;
  /** `matches[idx]` is true for this type and every type that belongs to it (transitively). */
  readonly matches: boolean[];
}

/** One token: its text as written, its UTF-16 offsets (`endOffset` inclusive) and its type. */
export interface Token {
  readonly image: string;
  readonly startOffset: number;
  readonly endOffset: number;
  tokenType: TokenType;
}

const categoriesOf: TokenType[][] = [];

/** A new token type that belongs to `categories` and to every category they belong to. */
export function createToken(name: string, categories: readonly TokenType[] = []): TokenType {
  const t: TokenType = { name, idx: categoriesOf.length, matches: [] };
  categoriesOf.push([...categories]);
  const seen = new Set<TokenType>();
  const mark = (c: TokenType): void => {
    if (seen.has(c)) return;
    seen.add(c);
    c.matches[t.idx] = true;
    for (const up of categoriesOf[c.idx]!) mark(up);
  };
  mark(t);
  return t;
}

/** Whether `token` is of `type` or belongs to the category `type`. */
export function tokenMatcher(token: Token, type: TokenType): boolean {
  return type.matches[token.tokenType.idx] === true;
}

/** The end of input: what the parser sees past the last token. */
export const EOF: TokenType = createToken("EOF");
/** The token past the last one (no offsets). */
export const EOF_TOKEN: Token = Object.freeze({
  image: "",
  startOffset: Number.NaN,
  endOffset: Number.NaN,
  tokenType: EOF,
});

// Token categories. A keyword joins `Id` when SQLite's `%fallback ID` list lets it stand for an
// identifier; the grammar prefers the keyword meaning wherever it fits (as Lemon does).
/** `nm` in SQLite's grammar: identifiers, fallback keywords, strings, INDEXED and join keywords. */
export const Nm = createToken("Nm");
/** `ids`: identifiers and strings (aliases without AS, type names, collation names). */
export const Ids = createToken("Ids");
/** `idj`: identifiers, INDEXED and join keywords (column references and function names). */
export const Idj = createToken("Idj", [Nm]);
/** `ID`: identifiers, quoted identifiers and keywords that may be identifiers. */
export const Id = createToken("Id", [Idj, Ids]);
/** NATURAL, LEFT, RIGHT, FULL, INNER, CROSS, OUTER. */
export const JoinKw = createToken("JoinKw", [Idj]);
/** LIKE, GLOB, REGEXP, MATCH. */
export const LikeKw = createToken("LikeKw");
/** CURRENT_TIME, CURRENT_DATE, CURRENT_TIMESTAMP. */
export const CtimeKw = createToken("CtimeKw");
/** Binary operators of expressions (AND and OR included). */
export const BinOp = createToken("BinOp");
/** Every token but `(`, `)`, `,` and `;`: the ANY wildcard of virtual table arguments. */
export const AnyTok = createToken("AnyTok");

function tok(name: string, categories: TokenType[] = [], any = true): TokenType {
  return createToken(name, any ? [...categories, AnyTok] : categories);
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
