import {
  type Collector,
  type CteDraft,
  newCollector,
  newResultDraft,
  type ResultDraft,
  unquote,
} from "./collector.js";
import { Recognizer } from "./recognizer.js";
import {
  AnyTok,
  BinOp,
  BitNot,
  Blob,
  Comma,
  CtimeKw,
  Dot,
  EOF,
  Eq,
  Filter,
  Float,
  Id,
  Idj,
  Ids,
  Integer,
  JoinKw,
  K,
  LikeKw,
  LP,
  Minus,
  Nm,
  Over,
  Plus,
  RP,
  Semi,
  Star,
  StringLit,
  type Token,
  type TokenType,
  tokenMatcher,
  Variable,
  Window,
} from "./tokens.js";
import type { ObjectRef, ResultColumnShape, SourceShape } from "./types.js";

// Keywords as names of their own: the minifier shortens them (`K.X` kept each name in full).
const {
  ABORT,
  ACTION,
  ADD,
  AFTER,
  ALL,
  ALTER,
  ALWAYS,
  ANALYZE,
  AND,
  AS,
  ASC,
  ATTACH,
  AUTOINCREMENT,
  BEFORE,
  BEGIN,
  BETWEEN,
  BY,
  CASCADE,
  CASE,
  CAST,
  CHECK,
  COLLATE,
  COLUMN,
  COMMIT,
  CONFLICT,
  CONSTRAINT,
  CREATE,
  CURRENT,
  DATABASE,
  DEFAULT,
  DEFERRABLE,
  DEFERRED,
  DELETE,
  DESC,
  DETACH,
  DISTINCT,
  DO,
  DROP,
  EACH,
  ELSE,
  END,
  ESCAPE,
  EXCEPT,
  EXCLUDE,
  EXCLUSIVE,
  EXISTS,
  EXPLAIN,
  FAIL,
  FIRST,
  FOLLOWING,
  FOR,
  FOREIGN,
  FROM,
  GENERATED,
  GROUP,
  GROUPS,
  HAVING,
  IF,
  IGNORE,
  IMMEDIATE,
  IN,
  INDEX,
  INDEXED,
  INITIALLY,
  INSERT,
  INSTEAD,
  INTERSECT,
  INTO,
  IS,
  ISNULL,
  JOIN,
  KEY,
  LAST,
  LIMIT,
  MATCH,
  MATERIALIZED,
  NO,
  NOT,
  NOTHING,
  NOTNULL,
  NULL,
  NULLS,
  OF,
  OFFSET,
  ON,
  OR,
  ORDER,
  OTHERS,
  PARTITION,
  PLAN,
  PRAGMA,
  PRECEDING,
  PRIMARY,
  QUERY,
  RAISE,
  RANGE,
  RECURSIVE,
  REFERENCES,
  REINDEX,
  RELEASE,
  RENAME,
  REPLACE,
  RESTRICT,
  RETURNING,
  ROLLBACK,
  ROW,
  ROWS,
  SAVEPOINT,
  SELECT,
  SET,
  TABLE,
  TEMP,
  THEN,
  TIES,
  TO,
  TRANSACTION,
  TRIGGER,
  UNBOUNDED,
  UNION,
  UNIQUE,
  UPDATE,
  USING,
  VACUUM,
  VALUES,
  VIEW,
  VIRTUAL,
  WHEN,
  WHERE,
  WITH,
  WITHOUT,
} = K;

const SELECT_START = new Set<TokenType>([SELECT, VALUES, WITH]);
const TCONS_START = new Set<TokenType>([CONSTRAINT, PRIMARY, UNIQUE, CHECK, FOREIGN]);
const WINDOW_BODY_KW = new Set<TokenType>([PARTITION, RANGE, ROWS, GROUPS]);

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

const STAR: ResultColumnShape = Object.freeze({ kind: "star", table: null });
const EXPRESSION: ResultColumnShape = Object.freeze({ kind: "expression" });

/** Whether the `(` at `toks[open]` is closed by the `)` at `toks[close]`. */
function closes(toks: readonly Token[], open: number, close: number): boolean {
  let depth = 0;
  for (let i = open; i <= close; i++) {
    const t = toks[i]!.tokenType;
    if (t === LP) depth++;
    else if (t === RP && --depth === 0) return i === close;
  }
  return false;
}

/**
 * What a result column's expression is, from its tokens: a column by name (in any parentheses),
 * a scalar subquery, or anything else: the cases `sqlite3_column_decltype` tells apart.
 */
function columnShape(src: string, toks: readonly Token[]): ResultColumnShape {
  let a = 0;
  let b = toks.length;
  let parens = false;
  while (b - a >= 2 && toks[a]!.tokenType === LP && toks[b - 1]!.tokenType === RP) {
    if (!closes(toks, a, b - 1)) break;
    a++;
    b--;
    parens = true;
  }
  if (parens && SELECT_START.has(toks[a]!.tokenType)) {
    return {
      kind: "subquery",
      query: src.slice(toks[a]!.startOffset, toks[b - 1]!.endOffset + 1),
    };
  }
  const n = b - a;
  if (n !== 1 && n !== 3 && n !== 5) return EXPRESSION;
  if (!tokenMatcher(toks[a]!, Idj)) return EXPRESSION;
  for (let i = a + 1; i < b; i += 2) {
    if (toks[i]!.tokenType !== Dot || !tokenMatcher(toks[i + 1]!, Nm)) return EXPRESSION;
  }
  return {
    kind: "column",
    table: n === 1 ? null : unquote(toks[b - 3]!.image),
    name: unquote(toks[b - 1]!.image),
  };
}

function ref(schema: Token | undefined, name: Token): ObjectRef {
  return schema === undefined
    ? { schema: null, name: unquote(name.image) }
    : { schema: unquote(schema.image), name: unquote(name.image) };
}

/**
 * SQLite's grammar (parse.y) as an LL(1) recognizer with ordered choices (see `Recognizer`):
 * where a keyword may also be an identifier, the keyword meaning wins when it fits, as in Lemon's
 * fallback. Rules record only what the summary needs, as they go; no syntax tree is built. Rule
 * bodies name the parser `$`, which keeps the minified browser bundle smaller than a thousand
 * `this.` would; rules and helpers are `#private`, which the minifier renames (2.2 KB less in each
 * browser worker than their names).
 */
export class SqliteParser extends Recognizer {
  c: Collector = newCollector("");

  /**
   * Reads one statement's tokens, recording into `c`. Returns null when a prefix of them is a
   * statement (`next()` is the first token after it), or the token where they stop fitting.
   */
  statement(c: Collector, input: readonly Token[]): Token | null {
    this.c = c;
    return this.run(input, this.#stmt);
  }

  #la(i: number): TokenType {
    return this.LA(i).tokenType;
  }

  #span(first: Token, last: Token): string {
    return this.c.src.slice(first.startOffset, last.endOffset + 1);
  }

  #lastToken(): Token {
    return this.LA(0);
  }

  // ---- statements -------------------------------------------------------------------------

  #stmt = () => {
    const $ = this;
    if ($.take(EXPLAIN)) {
      let plan = false;
      if ($.take(QUERY)) {
        $.eat(PLAN);
        plan = true;
      }
      $.c.explain = plan ? "query_plan" : "explain";
    }
    $.#cmd();
  };

  /** Every statement starts with its own keyword(s), so the next token picks the rule. */
  #cmd = () => {
    const $ = this;
    switch ($.#la(1)) {
      case WITH:
        return $.#withStmt();
      case CREATE:
        return $.#createStmt();
      case DROP:
        return $.#dropStmt();
      case ALTER:
        return $.#alterStmt();
      case ATTACH:
        return $.#attachStmt();
      case DETACH:
        return $.#detachStmt();
      case BEGIN:
        return $.#beginStmt();
      case COMMIT:
      case END:
        return $.#commitStmt();
      case ROLLBACK:
        return $.#rollbackStmt();
      case SAVEPOINT:
        return $.#savepointStmt();
      case RELEASE:
        return $.#releaseStmt();
      case PRAGMA:
        return $.#pragmaStmt();
      case VACUUM:
        return $.#vacuumStmt();
      case ANALYZE:
        return $.#analyzeStmt();
      case REINDEX:
        return $.#reindexStmt();
      default:
        return $.#dml();
    }
  };

  #withStmt = () => {
    const $ = this;
    const first = $.LA(1);
    $.#withClause($.c.cteDefs);
    $.c.withClause = { first, last: $.#lastToken() };
    $.#dml();
  };

  /** SELECT (or VALUES), INSERT/REPLACE, UPDATE or DELETE: what may follow a WITH clause. */
  #dml = () => {
    const $ = this;
    switch ($.#la(1)) {
      case INSERT:
      case REPLACE:
        return $.#insertStmt();
      case UPDATE:
        return $.#updateStmt();
      case DELETE:
        return $.#deleteStmt();
      default: {
        const result = newResultDraft("select");
        $.#selectNoWith(result);
        $.c.kind = "select";
        $.c.result = result;
      }
    }
  };

  /**
   * Records an error SQLite raises from a grammar action. Its action runs when the token after
   * `token`'s construct arrives, so a syntax error found at that token (or before) wins.
   */
  #actionError(token: Token, message: string): void {
    if (this.c.actionError !== null) return;
    const next = this.LA(1);
    const at =
      next.tokenType === EOF || Number.isNaN(next.startOffset)
        ? Number.POSITIVE_INFINITY
        : next.startOffset;
    this.c.actionError = { token, at, message };
  }

  #setKindTarget(kind: Collector["kind"], target: ObjectRef): void {
    if (this.c.inTrigger > 0) return;
    this.c.kind = kind;
    this.c.target = target;
  }

  #insertStmt = () => {
    const $ = this;
    if ($.take(INSERT)) {
      $.opt(() => $.#orConflict());
    } else $.eat(REPLACE);
    $.eat(INTO);
    const target = $.#xfullname();
    $.#setKindTarget("insert", target);
    if ($.take(LP)) {
      $.#idlist();
      $.eat(RP);
    }
    if ($.take(DEFAULT)) {
      $.eat(VALUES);
      $.opt(() => $.#returning());
    } else {
      $.#select();
      $.#upsert();
    }
  };

  #upsert = () => {
    const $ = this;
    let open = true;
    $.many(
      () => {
        $.eat(ON);
        $.eat(CONFLICT);
        let targeted = false;
        if ($.take(LP)) {
          $.#sortlist();
          $.eat(RP);
          if ($.take(WHERE)) {
            $.#expr();
          }
          targeted = true;
        }
        $.eat(DO);
        if (!$.take(NOTHING)) {
          $.eat(UPDATE);
          $.eat(SET);
          $.#setlist();
          if ($.take(WHERE)) {
            $.#expr();
          }
        }
        open = targeted;
      },
      () => open,
    );
    $.opt(() => $.#returning());
  };

  #returning = () => {
    const $ = this;
    $.eat(RETURNING);
    const target = $.c.target;
    if ($.c.inTrigger > 0 || target === null || $.c.targetSpan === null) {
      $.#resultColumns();
      return;
    }
    const result = newResultDraft("returning");
    result.first = $.LA(1);
    $.#resultColumns(result.columns);
    result.last = $.#lastToken();
    result.sources = [{ ...target, alias: $.c.targetSpan.alias }];
    $.c.result = result;
  };

  #orConflict = () => {
    this.eat(OR);
    this.#resolveType();
  };

  #resolveType = () => {
    const $ = this;
    $.oneOf(ROLLBACK, ABORT, FAIL, IGNORE, REPLACE);
  };

  #setlist = () => {
    const $ = this;
    $.sep(Comma, () => {
      if (!$.take(Nm)) {
        $.eat(LP);
        $.#idlist();
        $.eat(RP);
      }
      $.eat(Eq);
      $.#expr();
    });
  };

  #updateStmt = () => {
    const $ = this;
    $.eat(UPDATE);
    $.opt(() => $.#orConflict());
    const target = $.#xfullname();
    $.#setKindTarget("update", target);
    $.opt(() => $.#indexedBy());
    $.eat(SET);
    $.#setlist();
    if ($.take(FROM)) {
      $.#seltablist();
    }
    $.#whereReturningLimit();
  };

  #deleteStmt = () => {
    const $ = this;
    $.eat(DELETE);
    $.eat(FROM);
    const target = $.#xfullname();
    $.#setKindTarget("delete", target);
    $.opt(() => $.#indexedBy());
    $.#whereReturningLimit();
  };

  #whereReturningLimit = () => {
    const $ = this;
    if ($.take(WHERE)) {
      $.#expr();
    }
    $.opt(() => $.#returning());
    if ($.is(ORDER)) {
      const t = $.eat(ORDER);
      $.eat(BY);
      $.#sortlist();
      $.c.dmlLimit ??= t;
    }
    $.opt(() => {
      const t = $.#limit();
      $.c.dmlLimit ??= t;
    });
  };

  /** `nm [. nm] [AS nm]`: the target of INSERT, UPDATE and DELETE. */
  #xfullname = (): ObjectRef => {
    const $ = this;
    const first = $.LA(1);
    const r = $.#fullname();
    let alias: string | null = null;
    if ($.take(AS)) {
      alias = unquote($.eat(Nm).image);
    }
    if ($.c.inTrigger === 0) $.c.targetSpan = { first, last: $.#lastToken(), alias };
    return r;
  };

  #fullname = (): ObjectRef => {
    const $ = this;
    const a = $.eat(Nm);
    let b: Token | undefined;
    if ($.take(Dot)) {
      b = $.eat(Nm);
    }
    return b === undefined ? ref(undefined, a) : ref(a, b);
  };

  #indexedBy = () => {
    const $ = this;
    if ($.take(INDEXED)) {
      $.eat(BY);
      $.eat(Nm);
    } else {
      $.eat(NOT);
      $.eat(INDEXED);
    }
  };

  #limit = (): Token => {
    const $ = this;
    const t = $.eat(LIMIT);
    $.#expr();
    $.opt(() => {
      $.oneOf(OFFSET, Comma);
      $.#expr();
    });
    return t;
  };

  // ---- SELECT -----------------------------------------------------------------------------

  #select = () => {
    const $ = this;
    $.opt(() => $.#withClause());
    $.#selectNoWith();
  };

  /** `defs`: where to record the definitions (of the statement's own WITH clause). */
  #withClause = (defs?: CteDraft[]) => {
    const $ = this;
    $.eat(WITH);
    const recursive = $.take(RECURSIVE);
    $.sep(Comma, () => {
      const name = $.eat(Nm);
      $.c.ctes.push(unquote(name.image).toLowerCase());
      let columns: Token[] | undefined;
      $.opt(() => {
        columns = $.#eidlistParen();
      });
      $.eat(AS);
      $.opt(() => {
        $.take(NOT);
        $.eat(MATERIALIZED);
      });
      $.eat(LP);
      const first = $.LA(1);
      $.#select();
      const select = { first, last: $.#lastToken() };
      const last = $.eat(RP);
      defs?.push({
        name: unquote(name.image).toLowerCase(),
        columns: columns === undefined ? null : columns.map((t) => unquote(t.image)),
        first: name,
        last,
        select,
        recursive,
      });
    });
  };

  /**
   * `result`: where to record the result columns: of the first part of a compound for a
   * statement's own SELECT, of the last for a view's.
   */
  #selectNoWith = (result?: ResultDraft) => {
    const $ = this;
    $.#oneSelect(result);
    $.many(() => {
      if ($.take(UNION)) {
        $.take(ALL);
      } else $.oneOf(EXCEPT, INTERSECT);
      if (result?.kind === "view") {
        result.columns = [];
        result.sources = [];
        $.#oneSelect(result);
      } else $.#oneSelect();
      if (result !== undefined) result.compound = true;
    });
  };

  #oneSelect = (result?: ResultDraft) => {
    const $ = this;
    const first = $.LA(1);
    if ($.take(SELECT)) {
      $.take(DISTINCT) || $.take(ALL);
      $.#resultColumns(result?.columns);
      if ($.take(FROM)) {
        $.#seltablist(result);
      }
      if ($.take(WHERE)) {
        $.#expr();
      }
      if ($.take(GROUP)) {
        $.eat(BY);
        $.#nexprlist();
      }
      if ($.take(HAVING)) {
        $.#expr();
      }
      if ($.take(Window)) {
        $.sep(Comma, () => {
          $.eat(Nm);
          $.eat(AS);
          $.eat(LP);
          $.#windowBody();
          $.eat(RP);
        });
      }
      if (result !== undefined) {
        result.first = first;
        result.last = $.#lastToken();
      }
      if ($.take(ORDER)) {
        $.eat(BY);
        $.#sortlist();
      }
      $.opt(() => $.#limit());
    } else {
      $.eat(VALUES);
      let row = 0;
      $.sep(Comma, () => {
        $.eat(LP);
        if (row++ === 0 && result !== undefined) {
          $.sep(Comma, () => {
            $.#expr();
            result.columns.push(EXPRESSION);
          });
        } else $.#nexprlist();
        $.eat(RP);
      });
      if (result !== undefined) {
        result.first = first;
        result.last = $.#lastToken();
      }
    }
  };

  /** `out`: where to record the columns' shapes (the statement's own result columns). */
  #resultColumns = (out?: ResultColumnShape[]) => {
    this.sep(Comma, () => this.#resultColumn(out));
  };

  #resultColumn = (out?: ResultColumnShape[]) => {
    const $ = this;
    if ($.take(Star)) out?.push(STAR);
    else
      $.or([
        {
          GATE: () => $.#la(2) === Dot && $.#la(3) === Star,
          ALT: () => {
            const table = $.eat(Nm);
            $.eat(Dot);
            $.eat(Star);
            out?.push({ kind: "star", table: unquote(table.image) });
          },
        },
        () => {
          const from = $.mark();
          $.#expr();
          if (out !== undefined) out.push(columnShape($.c.src, $.takenSince(from)));
          $.opt(() => $.#alias());
        },
      ]);
  };

  #alias = (): Token => {
    const $ = this;
    if ($.take(AS)) {
      return $.eat(Nm);
    }
    return $.eat(Ids);
  };

  /** `result`: the statement's own SELECT, whose FROM items are recorded. */
  #seltablist = (result?: ResultDraft) => {
    const $ = this;
    $.#tableItem(result);
    $.many(() => {
      $.#joinOp(result);
      $.#tableItem(result);
    });
  };

  #joinOp = (result?: ResultDraft) => {
    const $ = this;
    if (!($.take(Comma) || $.take(JOIN))) {
      const kw = $.eat(JoinKw);
      if (result !== undefined && kw.image.toUpperCase() === "NATURAL") result.natural = true;
      if ($.take(Nm)) {
        $.take(Nm);
      }
      $.eat(JOIN);
    }
  };

  #tableItem = (result?: ResultDraft) => {
    const $ = this;
    if ($.take(LP)) {
      const first = $.LA(1);
      let query: string | undefined;
      $.or([
        {
          GATE: () => SELECT_START.has($.#la(1)),
          ALT: () => {
            $.#select();
            query = $.#span(first, $.#lastToken());
          },
        },
        () => $.#seltablist(result), // a parenthesized join: its items, in order
      ]);
      $.eat(RP);
      let alias: Token | undefined;
      $.opt(() => {
        alias = $.#alias();
      });
      if (query === undefined) {
        if (result !== undefined && alias !== undefined) result.sources = null;
      } else {
        const as = alias === undefined ? null : unquote(alias.image);
        $.#addSource(result, { schema: null, name: "", alias: as, query });
      }
    } else {
      const r = $.#fullname();
      if ($.c.inTrigger === 0) $.c.reads.push(r);
      const call = $.take(LP); // a table-valued function
      if (call) {
        $.opt(() => $.#nexprlist());
        $.eat(RP);
      }
      let alias: Token | undefined;
      $.opt(() => {
        alias = $.#alias();
      });
      if (!call) $.opt(() => $.#indexedBy());
      $.#addSource(result, { ...r, alias: alias === undefined ? null : unquote(alias.image) });
    }
    $.opt(() => {
      if ($.take(ON)) {
        $.#expr();
      } else {
        $.eat(USING);
        $.eat(LP);
        const names = $.#idlist();
        $.eat(RP);
        const last = result?.sources?.at(-1);
        if (last !== undefined) last.using = names.map((t) => unquote(t.image));
      }
    });
  };

  #idlist = (): Token[] => {
    const names: Token[] = [];
    this.sep(Comma, () => names.push(this.eat(Nm)));
    return names;
  };

  /** Records a FROM item of the statement's own SELECT (a NATURAL join's right side marked). */
  #addSource(result: ResultDraft | undefined, source: SourceShape): void {
    if (result?.sources == null) return;
    result.sources.push(result.natural ? { ...source, natural: true } : { ...source });
    result.natural = false;
  }

  #nexprlist = () => {
    this.sep(Comma, () => this.#expr());
  };

  #sortlist = () => {
    const $ = this;
    $.sep(Comma, () => {
      $.#expr();
      $.take(ASC) || $.take(DESC);
      if ($.take(NULLS)) {
        $.oneOf(FIRST, LAST);
      }
    });
  };

  #eidlistParen = (): Token[] => {
    const $ = this;
    const names: Token[] = [];
    $.eat(LP);
    $.sep(Comma, () => {
      const name = $.eat(Nm);
      names.push(name);
      let more = false;
      if ($.take(COLLATE)) {
        $.eat(Ids);
        more = true;
      }
      $.opt(() => {
        $.oneOf(ASC, DESC);
        more = true;
      });
      if (more) $.#actionError(name, `syntax error after column name "${name.image}"`);
    });
    $.eat(RP);
    return names;
  };

  // ---- windows ----------------------------------------------------------------------------

  #windowBody = () => {
    const $ = this;
    $.opt(
      () => $.eat(Nm),
      () => !WINDOW_BODY_KW.has($.#la(1)),
    );
    if ($.take(PARTITION)) {
      $.eat(BY);
      $.#nexprlist();
    }
    if ($.take(ORDER)) {
      $.eat(BY);
      $.#sortlist();
    }
    $.opt(() => {
      $.oneOf(RANGE, ROWS, GROUPS);
      if ($.take(BETWEEN)) {
        $.#frameBound(false);
        $.eat(AND);
        $.#frameBound(true);
      } else $.#frameBound(false);
      if ($.take(EXCLUDE)) {
        if ($.take(NO)) {
          $.eat(OTHERS);
        } else if ($.take(CURRENT)) {
          $.eat(ROW);
        } else $.oneOf(GROUP, TIES);
      }
    });
  };

  #frameBound = (isEnd: boolean) => {
    const $ = this;
    if ($.take(UNBOUNDED)) {
      $.or([
        { GATE: () => !isEnd, ALT: () => $.eat(PRECEDING) },
        { GATE: () => isEnd, ALT: () => $.eat(FOLLOWING) },
      ]);
    } else if ($.take(CURRENT)) {
      $.eat(ROW);
    } else {
      $.#expr(true);
      $.oneOf(PRECEDING, FOLLOWING);
    }
  };

  // ---- expressions ------------------------------------------------------------------------

  /**
   * Operands and operators in one flat loop: precedence changes the tree, not whether SQLite
   * accepts the text, and no tree is built. `noAnd` stops at AND (the middle of BETWEEN).
   */
  #expr = (noAnd?: boolean) => {
    const $ = this;
    let like = false;
    $.#operand();
    for (;;) {
      const t = $.#la(1);
      if (t === AND ? noAnd === true : t === ESCAPE && !like) return;
      if ($.is(BinOp)) {
        const op = $.eat(BinOp);
        if (op.tokenType === AND || op.tokenType === OR) like = false;
        $.#operand();
      } else if ($.take(ISNULL) || $.take(NOTNULL)) {
      } else if ($.take(NOT)) {
        if (!$.take(NULL))
          if ($.is(BETWEEN)) $.#betweenTail();
          else if ($.is(IN)) $.#inTail();
          else {
            $.eat(LikeKw);
            $.#operand();
            like = true;
          }
      } else if ($.is(BETWEEN)) $.#betweenTail();
      else if ($.is(IN)) $.#inTail();
      else if ($.take(LikeKw)) {
        $.#operand();
        like = true;
      } else if ($.take(ESCAPE)) {
        $.#operand();
        like = false;
      } else if ($.take(IS)) {
        $.take(NOT);
        if ($.take(DISTINCT)) $.eat(FROM);
        $.#operand();
      } else if ($.take(COLLATE)) $.eat(Ids);
      else return;
    }
  };

  #betweenTail = () => {
    const $ = this;
    $.eat(BETWEEN);
    $.#expr(true);
    $.eat(AND);
    $.#operand();
  };

  #inTail = () => {
    const $ = this;
    $.eat(IN);
    if ($.take(LP)) {
      $.opt(() => $.or([() => $.#select(), () => $.#nexprlist()]));
      $.eat(RP);
    } else {
      const r = $.#fullname();
      if ($.c.inTrigger === 0) $.c.reads.push(r);
      if ($.take(LP)) {
        $.opt(() => $.#nexprlist());
        $.eat(RP);
      }
    }
  };

  #operand = () => {
    const $ = this;
    if ($.take(NOT) || $.take(Minus) || $.take(Plus) || $.take(BitNot)) $.#operand();
    else $.#primary();
  };

  #primary = () => {
    const $ = this;
    if (!($.take(Integer) || $.take(Float) || $.take(Blob) || $.take(NULL) || $.take(CtimeKw)))
      if ($.is(Variable)) {
        const v = $.eat(Variable);
        if (v.image.charCodeAt(0) === 35 && isDigitCode(v.image.charCodeAt(1))) {
          $.#actionError(v, `near "${v.image}": syntax error`);
        }
      } else if ($.take(StringLit)) {
        $.#dottedTail();
      } else if ($.take(LP)) {
        $.or([() => $.#select(), () => $.#nexprlist()]);
        $.eat(RP);
      } else if ($.take(CAST)) {
        $.eat(LP);
        $.#expr();
        $.eat(AS);
        $.#typetoken();
        $.eat(RP);
      } else if ($.take(CASE)) {
        $.opt(() => $.#expr());
        $.oneOrMore(() => {
          $.eat(WHEN);
          $.#expr();
          $.eat(THEN);
          $.#expr();
        });
        if ($.take(ELSE)) {
          $.#expr();
        }
        $.eat(END);
      } else if ($.take(EXISTS)) {
        $.eat(LP);
        $.#select();
        $.eat(RP);
      } else if ($.take(RAISE)) {
        $.eat(LP);
        if (!$.take(IGNORE)) {
          $.oneOf(ROLLBACK, ABORT, FAIL);
          $.eat(Comma);
          $.#expr();
        }
        $.eat(RP);
      } else {
        $.eat(Idj);
        if ($.is(LP)) $.#functionTail();
        else $.#dottedTail();
      }
  };

  #dottedTail = () => {
    const $ = this;
    if ($.take(Dot)) {
      $.eat(Nm);
      if ($.take(Dot)) {
        $.eat(Nm);
      }
    }
  };

  #functionTail = () => {
    const $ = this;
    $.eat(LP);
    if (!$.take(Star)) {
      $.take(DISTINCT) || $.take(ALL);
      $.opt(() => $.#nexprlist());
      if ($.take(ORDER)) {
        $.eat(BY);
        $.#sortlist();
      }
    }
    $.eat(RP);
    if ($.take(Filter)) {
      $.eat(LP);
      $.eat(WHERE);
      $.#expr();
      $.eat(RP);
    }
    if ($.take(Over)) {
      if ($.take(LP)) {
        $.#windowBody();
        $.eat(RP);
      } else $.eat(Nm);
    }
  };

  #typetoken = () => {
    const $ = this;
    // GENERATED reads as a type name here (Lemon's fallback); GENERATED ALWAYS AS after a type
    // is then `AS (expr)`.
    $.oneOrMore(() => $.eat(Ids));
    if ($.take(LP)) {
      $.#signed();
      if ($.take(Comma)) {
        $.#signed();
      }
      $.eat(RP);
    }
  };

  #signed = () => {
    const $ = this;
    $.take(Plus) || $.take(Minus);
    $.oneOf(Integer, Float);
  };

  // ---- CREATE -----------------------------------------------------------------------------

  #createStmt = () => {
    const $ = this;
    $.eat(CREATE);
    if ($.take(TEMP)) {
      $.c.temp = true;
      $.or([() => $.#createTable(), () => $.#createView(), () => $.#createTrigger()]);
    } else
      $.or([
        () => $.#createTable(),
        () => $.#createView(),
        () => $.#createTrigger(),
        () => {
          $.take(UNIQUE);
          $.#createIndex();
        },
        () => $.#createVirtualTable(),
      ]);
  };

  #ifNotExists = () => {
    const $ = this;
    if ($.take(IF)) {
      $.eat(NOT);
      $.eat(EXISTS);
    }
  };

  #createTable = () => {
    const $ = this;
    $.eat(TABLE);
    $.#ifNotExists();
    const r = $.#fullname();
    $.#setKindTarget("create_table", r);
    if ($.take(LP)) {
      $.#columnDef();
      $.many(
        () => {
          $.eat(Comma);
          $.#columnDef();
        },
        () => !TCONS_START.has($.#la(2)),
      );
      if ($.take(Comma)) {
        $.#tableConstraint();
        $.many(() => {
          $.take(Comma);
          $.#tableConstraint();
        });
      }
      $.eat(RP);
      // table_option_set may start empty, so a leading comma is accepted (parse.y).
      $.opt(() => $.#tableOption());
      while ($.take(Comma)) {
        $.#tableOption();
      }
    } else {
      $.eat(AS);
      $.#select();
    }
  };

  #tableOption = () => {
    const $ = this;
    $.take(WITHOUT);
    $.eat(Nm);
  };

  #columnDef = () => {
    const $ = this;
    const name = $.eat(Nm);
    $.c.column = {
      name,
      first: name,
      last: name,
      type: null,
      primaryKey: null,
      autoincrement: false,
      unique: false,
      generated: false,
      collate: null,
    };
    $.opt(() => {
      const first = $.LA(1);
      $.#typetoken();
      $.c.column!.type = { first, last: $.#lastToken() };
    });
    $.many(() => $.#columnConstraint());
    {
      const column = $.c.column!;
      column.last = $.#lastToken();
      $.c.columns.push(column);
      $.c.column = null;
    }
  };

  #onConf = () => {
    const $ = this;
    if ($.take(ON)) {
      $.eat(CONFLICT);
      $.#resolveType();
    }
  };

  #term = () => {
    const $ = this;
    $.oneOf(Integer, Float, Blob, StringLit, NULL, CtimeKw);
  };

  #columnConstraint = () => {
    const $ = this;
    if ($.take(CONSTRAINT)) {
      $.eat(Nm);
    } else if ($.take(DEFAULT)) {
      if ($.take(LP)) {
        $.#expr();
        $.eat(RP);
      } else
        $.or([
          () => {
            $.oneOf(Plus, Minus);
            $.#term();
          },
          () => $.#term(),
          () => $.eat(Id),
          () => $.eat(INDEXED),
        ]);
    } else if ($.take(NULL)) {
      $.#onConf();
    } else if ($.take(NOT)) {
      if ($.take(NULL)) {
        $.#onConf();
      } else {
        $.eat(DEFERRABLE);
        $.#initiallyOpt();
      }
    } else
      $.or([
        () => {
          $.eat(PRIMARY);
          $.eat(KEY);
          let order: "asc" | "desc" | "default" = "default";
          if ($.take(ASC)) order = "asc";
          else if ($.take(DESC)) order = "desc";
          $.#onConf();
          let autoincrement = false;
          if ($.take(AUTOINCREMENT)) {
            autoincrement = true;
          }
          {
            const column = $.c.column;
            if (column === null) return;
            column.primaryKey = order;
            column.autoincrement ||= autoincrement;
          }
        },
        () => {
          $.eat(UNIQUE);
          $.#onConf();
          if ($.c.column !== null) $.c.column.unique = true;
        },
        () => {
          $.eat(CHECK);
          $.eat(LP);
          $.#expr();
          $.eat(RP);
        },
        () => $.#references(),
        () => {
          $.eat(DEFERRABLE);
          $.#initiallyOpt();
        },
        () => {
          $.eat(COLLATE);
          const name = $.eat(Ids);
          if ($.c.column !== null) $.c.column.collate = unquote(name.image);
        },
        () => {
          $.eat(GENERATED);
          $.eat(ALWAYS);
          $.eat(AS);
          $.#generated();
        },
        () => {
          $.eat(AS);
          $.#generated();
        },
      ]);
  };

  #generated = () => {
    const $ = this;
    if ($.c.column !== null) $.c.column.generated = true;
    $.eat(LP);
    $.#expr();
    $.eat(RP);
    $.take(Id);
  };

  #initiallyOpt = () => {
    const $ = this;
    if ($.take(INITIALLY)) {
      $.oneOf(DEFERRED, IMMEDIATE);
    }
  };

  #references = () => {
    const $ = this;
    $.eat(REFERENCES);
    $.eat(Nm);
    $.opt(() => $.#eidlistParen());
    $.many(() => {
      if ($.take(MATCH)) {
        $.eat(Nm);
      } else {
        $.eat(ON);
        $.oneOf(DELETE, UPDATE, INSERT);
        if ($.take(SET)) {
          $.oneOf(NULL, DEFAULT);
        } else if (!($.take(CASCADE) || $.take(RESTRICT))) {
          $.eat(NO);
          $.eat(ACTION);
        }
      }
    });
  };

  #tableConstraint = () => {
    const $ = this;
    if ($.take(CONSTRAINT)) {
      $.eat(Nm);
    } else if ($.take(PRIMARY)) {
      $.eat(KEY);
      $.eat(LP);
      $.#sortlist();
      $.take(AUTOINCREMENT);
      $.eat(RP);
      $.#onConf();
    } else if ($.take(UNIQUE)) {
      $.eat(LP);
      $.#sortlist();
      $.eat(RP);
      $.#onConf();
    } else if ($.take(CHECK)) {
      $.eat(LP);
      $.#expr();
      $.eat(RP);
      $.#onConf();
    } else {
      $.eat(FOREIGN);
      $.eat(KEY);
      $.#eidlistParen();
      $.#references();
      $.opt(() => {
        $.take(NOT);
        $.eat(DEFERRABLE);
        $.#initiallyOpt();
      });
    }
  };

  #createView = () => {
    const $ = this;
    $.eat(VIEW);
    $.#ifNotExists();
    const r = $.#fullname();
    $.#setKindTarget("create_view", r);
    $.opt(() => $.#eidlistParen());
    $.eat(AS);
    const first = $.LA(1);
    let withClause: Collector["withClause"] = null;
    if ($.is(WITH)) {
      $.#withClause($.c.cteDefs);
      withClause = { first, last: $.#lastToken() };
    }
    const result = newResultDraft("view");
    $.#selectNoWith(result);
    if ($.c.inTrigger === 0) {
      $.c.result = result;
      $.c.withClause = withClause;
    }
  };

  #createIndex = () => {
    const $ = this;
    $.eat(INDEX);
    $.#ifNotExists();
    const r = $.#fullname();
    $.eat(ON);
    const table = $.eat(Nm);
    $.#setKindTarget("create_index", r);
    $.c.reads.push({ schema: r.schema, name: unquote(table.image) });
    $.eat(LP);
    $.#sortlist();
    $.eat(RP);
    if ($.take(WHERE)) {
      $.#expr();
    }
  };

  #createTrigger = () => {
    const $ = this;
    $.eat(TRIGGER);
    $.#ifNotExists();
    const r = $.#fullname();
    $.opt(() =>
      $.or([
        () => $.eat(BEFORE),
        () => $.eat(AFTER),
        () => {
          $.eat(INSTEAD);
          $.eat(OF);
        },
      ]),
    );
    if (!($.take(DELETE) || $.take(INSERT))) {
      $.eat(UPDATE);
      if ($.take(OF)) {
        $.#idlist();
      }
    }
    $.eat(ON);
    const table = $.#fullname();
    $.#setKindTarget("create_trigger", r);
    $.c.reads.push(table);
    if ($.take(FOR)) {
      $.eat(EACH);
      $.eat(ROW);
    }
    if ($.take(WHEN)) {
      $.#expr();
    }
    $.eat(BEGIN);
    $.c.inTrigger++;
    $.oneOrMore(() => {
      $.#triggerCmd();
      $.eat(Semi);
    });
    $.eat(END);
    $.c.inTrigger--;
  };

  #triggerCmd = () => {
    const $ = this;
    if ($.take(UPDATE)) {
      $.opt(() => $.#orConflict());
      $.#fullname();
      $.opt(() => $.#indexedBy());
      $.eat(SET);
      $.#setlist();
      if ($.take(FROM)) {
        $.#seltablist();
      }
      if ($.take(WHERE)) {
        $.#expr();
      }
    } else
      $.or([
        () => {
          if ($.take(INSERT)) {
            $.opt(() => $.#orConflict());
          } else $.eat(REPLACE);
          $.eat(INTO);
          $.#fullname();
          if ($.take(LP)) {
            $.#idlist();
            $.eat(RP);
          }
          $.#select();
          $.#upsert();
        },
        () => {
          $.eat(DELETE);
          $.eat(FROM);
          $.#fullname();
          $.opt(() => $.#indexedBy());
          if ($.take(WHERE)) {
            $.#expr();
          }
        },
        () => $.#select(),
      ]);
  };

  #createVirtualTable = () => {
    const $ = this;
    $.eat(VIRTUAL);
    $.eat(TABLE);
    $.#ifNotExists();
    const r = $.#fullname();
    $.#setKindTarget("create_virtual_table", r);
    $.eat(USING);
    $.eat(Nm);
    if ($.take(LP)) {
      $.sepOpt(Comma, () => $.many(() => $.#vtabArgToken()));
      $.eat(RP);
    }
  };

  #vtabArgToken = () => {
    const $ = this;
    if (!$.take(AnyTok)) {
      $.eat(LP);
      $.many(() => $.or([() => $.#vtabArgToken(), () => $.eat(Comma)]));
      $.eat(RP);
    }
  };

  // ---- DROP / ALTER -----------------------------------------------------------------------

  #dropStmt = () => {
    const $ = this;
    $.eat(DROP);
    let kind: Collector["kind"] = "drop_table";
    if (!$.take(TABLE))
      if ($.take(INDEX)) {
        kind = "drop_index";
      } else if ($.take(VIEW)) {
        kind = "drop_view";
      } else {
        $.eat(TRIGGER);
        kind = "drop_trigger";
      }
    if ($.take(IF)) {
      $.eat(EXISTS);
    }
    const r = $.#fullname();
    $.#setKindTarget(kind, r);
  };

  #alterStmt = () => {
    const $ = this;
    $.eat(ALTER);
    $.eat(TABLE);
    const r = $.#fullname();
    $.#setKindTarget("alter_table", r);
    let form: Collector["alter"] = null;
    if ($.take(RENAME)) {
      if ($.take(TO)) {
        $.eat(Nm);
        form = "rename";
      } else {
        $.take(COLUMN);
        $.eat(Nm);
        $.eat(TO);
        $.eat(Nm);
        form = "rename_column";
      }
    } else if ($.take(ADD)) {
      $.or([
        () => {
          if ($.take(CONSTRAINT)) {
            $.eat(Nm);
          }
          $.eat(CHECK);
          $.eat(LP);
          $.#expr();
          $.eat(RP);
          $.#onConf();
          form = "constraint";
        },
        () => {
          $.take(COLUMN);
          $.#columnDef();
          form = "add_column";
        },
      ]);
    } else if ($.take(DROP)) {
      if ($.take(CONSTRAINT)) {
        $.eat(Nm);
        form = "constraint";
      } else {
        $.take(COLUMN);
        $.eat(Nm);
        form = "drop_column";
      }
    } else {
      $.eat(ALTER);
      let keyword = false;
      if ($.take(COLUMN)) {
        keyword = true;
      }
      const column = $.eat(Nm);
      form = "column";
      if ($.take(SET)) {
        $.eat(NOT);
        $.eat(NULL);
        $.#onConf();
      } else if ($.take(DROP)) {
        $.eat(NOT);
        $.eat(NULL);
      } else
        $.or([
          {
            GATE: () => keyword,
            ALT: () => {
              $.opt(() => $.#typetoken());
              $.eat(TO);
              $.#columnDef();
              form = "column_definition";
              $.c.alterColumn = column;
            },
          },
        ]);
    }
    $.c.alter = form;
  };

  // ---- connection and maintenance ---------------------------------------------------------

  /** An expression whose raw text and shape ATTACH/DETACH report. */
  #nameExpr = (): { text: string; kind: "identifier" | "string" | "expression" } => {
    const $ = this;
    const first = $.LA(1);
    $.#expr();
    const last = $.#lastToken();
    if (first === last) {
      if (first.tokenType === StringLit) return { text: unquote(first.image), kind: "string" };
      if (tokenMatcher(first, Idj)) return { text: unquote(first.image), kind: "identifier" };
    }
    return { text: $.#span(first, last), kind: "expression" };
  };

  #attachStmt = () => {
    const $ = this;
    $.eat(ATTACH);
    $.take(DATABASE);
    const target = $.#nameExpr();
    $.eat(AS);
    const alias = $.#nameExpr();
    if ($.take(KEY)) {
      $.#expr();
    }
    $.c.kind = "attach";
    $.c.attach = { target: target.text, targetKind: target.kind, alias: alias.text };
  };

  #detachStmt = () => {
    const $ = this;
    $.eat(DETACH);
    $.take(DATABASE);
    const alias = $.#nameExpr();
    $.c.kind = "detach";
    $.c.detach = { alias: alias.text };
  };

  #transOpt = () => {
    const $ = this;
    if ($.take(TRANSACTION)) {
      $.take(Nm);
    }
  };

  #beginStmt = () => {
    const $ = this;
    $.eat(BEGIN);
    let mode: Collector["beginMode"] = null;
    if ($.take(DEFERRED)) mode = "deferred";
    else if ($.take(IMMEDIATE)) mode = "immediate";
    else if ($.take(EXCLUSIVE)) mode = "exclusive";
    $.#transOpt();
    $.c.kind = "begin";
    $.c.transaction = "begin";
    $.c.beginMode = mode;
  };

  #commitStmt = () => {
    const $ = this;
    $.oneOf(COMMIT, END);
    $.#transOpt();
    $.c.kind = "commit";
    $.c.transaction = "commit";
  };

  #rollbackStmt = () => {
    const $ = this;
    $.eat(ROLLBACK);
    $.#transOpt();
    let to = false;
    if ($.take(TO)) {
      $.take(SAVEPOINT);
      $.eat(Nm);
      to = true;
    }
    $.c.kind = "rollback";
    $.c.transaction = to ? "rollback_to" : "rollback";
  };

  #savepointStmt = () => {
    const $ = this;
    $.eat(SAVEPOINT);
    $.eat(Nm);
    $.c.kind = "savepoint";
    $.c.transaction = "savepoint";
  };

  #releaseStmt = () => {
    const $ = this;
    $.eat(RELEASE);
    $.take(SAVEPOINT);
    $.eat(Nm);
    $.c.kind = "release";
    $.c.transaction = "release";
  };

  #pragmaStmt = () => {
    const $ = this;
    $.eat(PRAGMA);
    const r = $.#fullname();
    let value: string | null = null;
    $.opt(() =>
      $.or([
        () => {
          $.eat(Eq);
          value = $.#pragmaValue();
        },
        () => {
          $.eat(LP);
          value = $.#pragmaValue();
          $.eat(RP);
        },
      ]),
    );
    $.c.kind = "pragma";
    $.c.pragma = { schema: r.schema, name: r.name, value };
  };

  #pragmaValue = (): string => {
    const $ = this;
    const first = $.LA(1);
    $.or([
      () => {
        $.take(Plus) || $.take(Minus);
        $.oneOf(Integer, Float);
      },
      () => $.eat(Nm),
      () => $.eat(ON),
      () => $.eat(DELETE),
      () => $.eat(DEFAULT),
    ]);
    return $.#span(first, $.#lastToken());
  };

  #vacuumStmt = () => {
    const $ = this;
    $.eat(VACUUM);
    let schema: Token | undefined;
    $.opt(() => {
      schema = $.eat(Nm);
    });
    let into = false;
    if ($.take(INTO)) {
      $.#expr();
      into = true;
    }
    $.c.kind = "vacuum";
    $.c.vacuumInto = into;
    $.c.objectArg = schema === undefined ? null : { schema: null, name: unquote(schema.image) };
  };

  #analyzeStmt = () => {
    const $ = this;
    $.eat(ANALYZE);
    let r: ObjectRef | null = null;
    $.opt(() => {
      r = $.#fullname();
    });
    $.c.kind = "analyze";
    $.c.objectArg = r;
  };

  #reindexStmt = () => {
    const $ = this;
    $.eat(REINDEX);
    let r: ObjectRef | null = null;
    $.opt(() => {
      r = $.#fullname();
    });
    $.c.kind = "reindex";
    $.c.objectArg = r;
  };
}

/** Whether a token is the end of input. */
export function isEof(t: Token): boolean {
  return t.tokenType === EOF;
}
