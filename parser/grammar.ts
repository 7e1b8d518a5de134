import { EmbeddedActionsParser, EOF, type IToken, type TokenType, tokenMatcher } from "chevrotain";
import { type Collector, newCollector, unquote } from "./collector.js";
import {
  AnyTok,
  allTokens,
  BinOp,
  BitNot,
  Blob,
  Comma,
  CtimeKw,
  Dot,
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
  Variable,
  Window,
} from "./tokens.js";
import type { ObjectRef } from "./types.js";

const SELECT_START = new Set<TokenType>([K.SELECT, K.VALUES, K.WITH]);
const TCONS_START = new Set<TokenType>([K.CONSTRAINT, K.PRIMARY, K.UNIQUE, K.CHECK, K.FOREIGN]);
const WINDOW_BODY_KW = new Set<TokenType>([K.PARTITION, K.RANGE, K.ROWS, K.GROUPS]);

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

function ref(schema: IToken | undefined, name: IToken): ObjectRef {
  return schema === undefined
    ? { schema: null, name: unquote(name.image) }
    : { schema: unquote(schema.image), name: unquote(name.image) };
}

/**
 * SQLite's grammar (parse.y) as a chevrotain LL(1) parser with ordered choices: where a keyword
 * may also be an identifier, the keyword meaning wins when it fits, as in Lemon's fallback.
 * Embedded actions record only what the summary needs; no syntax tree is built. Rule bodies
 * name the parser `$` (chevrotain's own idiom), which also keeps the minified browser bundle
 * ~2.6 KB smaller than a thousand `this.` would.
 */
export class SqliteParser extends EmbeddedActionsParser {
  c: Collector = newCollector("");

  constructor() {
    super(allTokens as TokenType[], {
      maxLookahead: 1,
      recoveryEnabled: false,
      skipValidations: (globalThis as { __VALIDATE__?: boolean }).__VALIDATE__ !== true,
    });
    this.performSelfAnalysis();
  }

  /** The first token the last parse did not consume (EOF when all were). */
  next(): IToken {
    return this.LA(1);
  }

  private la(i: number): TokenType {
    return this.LA(i).tokenType;
  }

  private span(first: IToken, last: IToken): string {
    return this.c.src.slice(first.startOffset, (last.endOffset ?? last.startOffset) + 1);
  }

  private lastToken(): IToken {
    return this.LA(0);
  }

  // ---- statements -------------------------------------------------------------------------

  public stmt = this.RULE("stmt", () => {
    const $ = this;
    $.OPTION(() => {
      $.CONSUME(K.EXPLAIN);
      let plan = false;
      $.OPTION2(() => {
        $.CONSUME(K.QUERY);
        $.CONSUME(K.PLAN);
        plan = true;
      });
      $.ACTION(() => {
        $.c.explain = plan ? "query_plan" : "explain";
      });
    });
    $.SUBRULE($.cmd);
  });

  private cmd = this.RULE("cmd", () => {
    const $ = this;
    $.OR([
      { ALT: () => $.SUBRULE($.withStmt) },
      {
        ALT: () => {
          $.SUBRULE($.selectNoWith);
          $.ACTION(() => {
            $.c.kind = "select";
          });
        },
      },
      { ALT: () => $.SUBRULE($.insertStmt) },
      { ALT: () => $.SUBRULE($.updateStmt) },
      { ALT: () => $.SUBRULE($.deleteStmt) },
      { ALT: () => $.SUBRULE($.createStmt) },
      { ALT: () => $.SUBRULE($.dropStmt) },
      { ALT: () => $.SUBRULE($.alterStmt) },
      { ALT: () => $.SUBRULE($.attachStmt) },
      { ALT: () => $.SUBRULE($.detachStmt) },
      { ALT: () => $.SUBRULE($.beginStmt) },
      { ALT: () => $.SUBRULE($.commitStmt) },
      { ALT: () => $.SUBRULE($.rollbackStmt) },
      { ALT: () => $.SUBRULE($.savepointStmt) },
      { ALT: () => $.SUBRULE($.releaseStmt) },
      { ALT: () => $.SUBRULE($.pragmaStmt) },
      { ALT: () => $.SUBRULE($.vacuumStmt) },
      { ALT: () => $.SUBRULE($.analyzeStmt) },
      { ALT: () => $.SUBRULE($.reindexStmt) },
    ]);
  });

  private withStmt = this.RULE("withStmt", () => {
    const $ = this;
    $.SUBRULE($.withClause);
    $.OR([
      {
        ALT: () => {
          $.SUBRULE($.selectNoWith);
          $.ACTION(() => {
            $.c.kind = "select";
          });
        },
      },
      { ALT: () => $.SUBRULE($.insertStmt) },
      { ALT: () => $.SUBRULE($.updateStmt) },
      { ALT: () => $.SUBRULE($.deleteStmt) },
    ]);
  });

  /**
   * Records an error SQLite raises from a grammar action. Its action runs when the token after
   * `token`'s construct arrives, so a syntax error found at that token (or before) wins.
   */
  private actionError(token: IToken, message: string): void {
    if (this.c.actionError !== null) return;
    const next = this.LA(1);
    const at =
      next.tokenType === EOF || Number.isNaN(next.startOffset)
        ? Number.POSITIVE_INFINITY
        : next.startOffset;
    this.c.actionError = { token, at, message };
  }

  private setKindTarget(kind: Collector["kind"], target: ObjectRef): void {
    if (this.c.inTrigger > 0) return;
    this.c.kind = kind;
    this.c.target = target;
  }

  private insertStmt = this.RULE("insertStmt", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.INSERT);
          $.OPTION(() => $.SUBRULE($.orConflict));
        },
      },
      { ALT: () => $.CONSUME(K.REPLACE) },
    ]);
    $.CONSUME(K.INTO);
    const target = $.SUBRULE($.xfullname);
    $.ACTION(() => $.setKindTarget("insert", target));
    $.OPTION2(() => {
      $.CONSUME(LP);
      $.SUBRULE($.idlist);
      $.CONSUME(RP);
    });
    $.OR2([
      {
        ALT: () => {
          $.CONSUME(K.DEFAULT);
          $.CONSUME(K.VALUES);
          $.OPTION3(() => $.SUBRULE($.returning));
        },
      },
      {
        ALT: () => {
          $.SUBRULE($.select);
          $.SUBRULE($.upsert);
        },
      },
    ]);
  });

  private upsert = this.RULE("upsert", () => {
    const $ = this;
    let open = true;
    $.MANY({
      GATE: () => open,
      DEF: () => {
        $.CONSUME(K.ON);
        $.CONSUME(K.CONFLICT);
        let targeted = false;
        $.OPTION(() => {
          $.CONSUME(LP);
          $.SUBRULE($.sortlist);
          $.CONSUME(RP);
          $.OPTION2(() => {
            $.CONSUME(K.WHERE);
            $.SUBRULE($.expr);
          });
          targeted = true;
        });
        $.CONSUME(K.DO);
        $.OR([
          { ALT: () => $.CONSUME(K.NOTHING) },
          {
            ALT: () => {
              $.CONSUME(K.UPDATE);
              $.CONSUME(K.SET);
              $.SUBRULE($.setlist);
              $.OPTION3(() => {
                $.CONSUME2(K.WHERE);
                $.SUBRULE2($.expr);
              });
            },
          },
        ]);
        $.ACTION(() => {
          open = targeted;
        });
      },
    });
    $.OPTION4(() => $.SUBRULE($.returning));
  });

  private returning = this.RULE("returning", () => {
    this.CONSUME(K.RETURNING);
    this.SUBRULE(this.resultColumns);
  });

  private orConflict = this.RULE("orConflict", () => {
    this.CONSUME(K.OR);
    this.SUBRULE(this.resolveType);
  });

  private resolveType = this.RULE("resolveType", () => {
    const $ = this;
    $.OR([
      { ALT: () => $.CONSUME(K.ROLLBACK) },
      { ALT: () => $.CONSUME(K.ABORT) },
      { ALT: () => $.CONSUME(K.FAIL) },
      { ALT: () => $.CONSUME(K.IGNORE) },
      { ALT: () => $.CONSUME(K.REPLACE) },
    ]);
  });

  private setlist = this.RULE("setlist", () => {
    const $ = this;
    $.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        $.OR([
          { ALT: () => $.CONSUME(Nm) },
          {
            ALT: () => {
              $.CONSUME(LP);
              $.SUBRULE($.idlist);
              $.CONSUME(RP);
            },
          },
        ]);
        $.CONSUME(Eq);
        $.SUBRULE($.expr);
      },
    });
  });

  private updateStmt = this.RULE("updateStmt", () => {
    const $ = this;
    $.CONSUME(K.UPDATE);
    $.OPTION(() => $.SUBRULE($.orConflict));
    const target = $.SUBRULE($.xfullname);
    $.ACTION(() => $.setKindTarget("update", target));
    $.OPTION2(() => $.SUBRULE($.indexedBy));
    $.CONSUME(K.SET);
    $.SUBRULE($.setlist);
    $.OPTION3(() => {
      $.CONSUME(K.FROM);
      $.SUBRULE($.seltablist);
    });
    $.SUBRULE($.whereReturningLimit);
  });

  private deleteStmt = this.RULE("deleteStmt", () => {
    const $ = this;
    $.CONSUME(K.DELETE);
    $.CONSUME(K.FROM);
    const target = $.SUBRULE($.xfullname);
    $.ACTION(() => $.setKindTarget("delete", target));
    $.OPTION(() => $.SUBRULE($.indexedBy));
    $.SUBRULE($.whereReturningLimit);
  });

  private whereReturningLimit = this.RULE("whereReturningLimit", () => {
    const $ = this;
    $.OPTION(() => {
      $.CONSUME(K.WHERE);
      $.SUBRULE($.expr);
    });
    $.OPTION2(() => $.SUBRULE($.returning));
    $.OPTION3(() => {
      const t = $.CONSUME(K.ORDER);
      $.CONSUME(K.BY);
      $.SUBRULE($.sortlist);
      $.ACTION(() => {
        $.c.dmlLimit ??= t;
      });
    });
    $.OPTION4(() => {
      const t = $.SUBRULE($.limit);
      $.ACTION(() => {
        $.c.dmlLimit ??= t;
      });
    });
  });

  /** `nm [. nm] [AS nm]`: the target of INSERT, UPDATE and DELETE. */
  private xfullname = this.RULE("xfullname", (): ObjectRef => {
    const $ = this;
    const r = $.SUBRULE($.fullname);
    $.OPTION(() => {
      $.CONSUME(K.AS);
      $.CONSUME(Nm);
    });
    return r;
  });

  private fullname = this.RULE("fullname", (): ObjectRef => {
    const $ = this;
    const a = $.CONSUME(Nm);
    let b: IToken | undefined;
    $.OPTION(() => {
      $.CONSUME(Dot);
      b = $.CONSUME2(Nm);
    });
    return $.ACTION(() => (b === undefined ? ref(undefined, a) : ref(a, b))) as ObjectRef;
  });

  private indexedBy = this.RULE("indexedBy", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.INDEXED);
          $.CONSUME(K.BY);
          $.CONSUME(Nm);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.NOT);
          $.CONSUME2(K.INDEXED);
        },
      },
    ]);
  });

  private limit = this.RULE("limit", (): IToken => {
    const $ = this;
    const t = $.CONSUME(K.LIMIT);
    $.SUBRULE($.expr);
    $.OPTION(() => {
      $.OR([{ ALT: () => $.CONSUME(K.OFFSET) }, { ALT: () => $.CONSUME(Comma) }]);
      $.SUBRULE2($.expr);
    });
    return t;
  });

  // ---- SELECT -----------------------------------------------------------------------------

  public select = this.RULE("select", () => {
    const $ = this;
    $.OPTION(() => $.SUBRULE($.withClause));
    $.SUBRULE($.selectNoWith);
  });

  private withClause = this.RULE("withClause", () => {
    const $ = this;
    $.CONSUME(K.WITH);
    $.OPTION(() => $.CONSUME(K.RECURSIVE));
    $.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const name = $.CONSUME(Nm);
        $.ACTION(() => $.c.ctes.push(unquote(name.image).toLowerCase()));
        $.OPTION2(() => $.SUBRULE($.eidlistParen));
        $.CONSUME(K.AS);
        $.OPTION3(() => {
          $.OPTION4(() => $.CONSUME(K.NOT));
          $.CONSUME(K.MATERIALIZED);
        });
        $.CONSUME(LP);
        $.SUBRULE($.select);
        $.CONSUME(RP);
      },
    });
  });

  private selectNoWith = this.RULE("selectNoWith", () => {
    const $ = this;
    $.SUBRULE($.oneSelect);
    $.MANY(() => {
      $.OR([
        {
          ALT: () => {
            $.CONSUME(K.UNION);
            $.OPTION(() => $.CONSUME(K.ALL));
          },
        },
        { ALT: () => $.CONSUME(K.EXCEPT) },
        { ALT: () => $.CONSUME(K.INTERSECT) },
      ]);
      $.SUBRULE2($.oneSelect);
    });
  });

  private oneSelect = this.RULE("oneSelect", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.SELECT);
          $.OPTION(() =>
            $.OR2([{ ALT: () => $.CONSUME(K.DISTINCT) }, { ALT: () => $.CONSUME(K.ALL) }]),
          );
          $.SUBRULE($.resultColumns);
          $.OPTION2(() => {
            $.CONSUME(K.FROM);
            $.SUBRULE($.seltablist);
          });
          $.OPTION3(() => {
            $.CONSUME(K.WHERE);
            $.SUBRULE($.expr);
          });
          $.OPTION4(() => {
            $.CONSUME(K.GROUP);
            $.CONSUME(K.BY);
            $.SUBRULE($.nexprlist);
          });
          $.OPTION5(() => {
            $.CONSUME(K.HAVING);
            $.SUBRULE2($.expr);
          });
          $.OPTION6(() => {
            $.CONSUME(Window);
            $.AT_LEAST_ONE_SEP({
              SEP: Comma,
              DEF: () => {
                $.CONSUME(Nm);
                $.CONSUME(K.AS);
                $.CONSUME(LP);
                $.SUBRULE($.windowBody);
                $.CONSUME(RP);
              },
            });
          });
          $.OPTION7(() => {
            $.CONSUME(K.ORDER);
            $.CONSUME2(K.BY);
            $.SUBRULE($.sortlist);
          });
          $.OPTION8(() => $.SUBRULE($.limit));
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.VALUES);
          $.AT_LEAST_ONE_SEP2({
            SEP: Comma,
            DEF: () => {
              $.CONSUME2(LP);
              $.SUBRULE2($.nexprlist);
              $.CONSUME2(RP);
            },
          });
        },
      },
    ]);
  });

  private resultColumns = this.RULE("resultColumns", () => {
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.resultColumn) });
  });

  private resultColumn = this.RULE("resultColumn", () => {
    const $ = this;
    $.OR([
      { ALT: () => $.CONSUME(Star) },
      {
        GATE: () => $.la(2) === Dot && $.la(3) === Star,
        ALT: () => {
          $.CONSUME(Nm);
          $.CONSUME(Dot);
          $.CONSUME2(Star);
        },
      },
      {
        ALT: () => {
          $.SUBRULE($.expr);
          $.OPTION(() => $.SUBRULE($.alias));
        },
      },
    ]);
  });

  private alias = this.RULE("alias", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.AS);
          $.CONSUME(Nm);
        },
      },
      { ALT: () => $.CONSUME(Ids) },
    ]);
  });

  private seltablist = this.RULE("seltablist", () => {
    const $ = this;
    $.SUBRULE($.tableItem);
    $.MANY(() => {
      $.SUBRULE($.joinOp);
      $.SUBRULE2($.tableItem);
    });
  });

  private joinOp = this.RULE("joinOp", () => {
    const $ = this;
    $.OR([
      { ALT: () => $.CONSUME(Comma) },
      { ALT: () => $.CONSUME(K.JOIN) },
      {
        ALT: () => {
          $.CONSUME(JoinKw);
          $.OPTION(() => {
            $.CONSUME(Nm);
            $.OPTION2(() => $.CONSUME2(Nm));
          });
          $.CONSUME2(K.JOIN);
        },
      },
    ]);
  });

  private tableItem = this.RULE("tableItem", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(LP);
          $.OR2([
            {
              GATE: () => SELECT_START.has($.la(1)),
              ALT: () => $.SUBRULE($.select),
            },
            { ALT: () => $.SUBRULE($.seltablist) },
          ]);
          $.CONSUME(RP);
          $.OPTION(() => $.SUBRULE($.alias));
        },
      },
      {
        ALT: () => {
          const r = $.SUBRULE($.fullname);
          $.ACTION(() => {
            if ($.c.inTrigger === 0) $.c.reads.push(r);
          });
          $.OR3([
            {
              ALT: () => {
                $.CONSUME2(LP);
                $.OPTION2(() => $.SUBRULE($.nexprlist));
                $.CONSUME2(RP);
                $.OPTION3(() => $.SUBRULE2($.alias));
              },
            },
            {
              ALT: () => {
                $.OPTION4(() => $.SUBRULE3($.alias));
                $.OPTION5(() => $.SUBRULE($.indexedBy));
              },
            },
          ]);
        },
      },
    ]);
    $.OPTION6(() => {
      $.OR4([
        {
          ALT: () => {
            $.CONSUME(K.ON);
            $.SUBRULE($.expr);
          },
        },
        {
          ALT: () => {
            $.CONSUME(K.USING);
            $.CONSUME3(LP);
            $.SUBRULE($.idlist);
            $.CONSUME3(RP);
          },
        },
      ]);
    });
  });

  private idlist = this.RULE("idlist", () => {
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.CONSUME(Nm) });
  });

  private nexprlist = this.RULE("nexprlist", () => {
    this.AT_LEAST_ONE_SEP({ SEP: Comma, DEF: () => this.SUBRULE(this.expr) });
  });

  private sortlist = this.RULE("sortlist", () => {
    const $ = this;
    $.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        $.SUBRULE($.expr);
        $.OPTION(() => $.OR([{ ALT: () => $.CONSUME(K.ASC) }, { ALT: () => $.CONSUME(K.DESC) }]));
        $.OPTION2(() => {
          $.CONSUME(K.NULLS);
          $.OR2([{ ALT: () => $.CONSUME(K.FIRST) }, { ALT: () => $.CONSUME(K.LAST) }]);
        });
      },
    });
  });

  private eidlistParen = this.RULE("eidlistParen", () => {
    const $ = this;
    $.CONSUME(LP);
    $.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const name = $.CONSUME(Nm);
        let more = false;
        $.OPTION(() => {
          $.CONSUME(K.COLLATE);
          $.CONSUME(Ids);
          more = true;
        });
        $.OPTION2(() => {
          $.OR([{ ALT: () => $.CONSUME(K.ASC) }, { ALT: () => $.CONSUME(K.DESC) }]);
          more = true;
        });
        // parse.y accepts them, then its action refuses them (a CTE's, a view's or a foreign
        // key's column names are names only).
        $.ACTION(() => {
          if (more) $.actionError(name, `syntax error after column name "${name.image}"`);
        });
      },
    });
    $.CONSUME(RP);
  });

  // ---- windows ----------------------------------------------------------------------------

  private windowBody = this.RULE("windowBody", () => {
    const $ = this;
    $.OPTION({
      GATE: () => !WINDOW_BODY_KW.has($.la(1)),
      DEF: () => $.CONSUME(Nm),
    });
    $.OPTION2(() => {
      $.CONSUME(K.PARTITION);
      $.CONSUME(K.BY);
      $.SUBRULE($.nexprlist);
    });
    $.OPTION3(() => {
      $.CONSUME(K.ORDER);
      $.CONSUME2(K.BY);
      $.SUBRULE($.sortlist);
    });
    $.OPTION4(() => {
      $.OR([
        { ALT: () => $.CONSUME(K.RANGE) },
        { ALT: () => $.CONSUME(K.ROWS) },
        { ALT: () => $.CONSUME(K.GROUPS) },
      ]);
      $.OR2([
        {
          ALT: () => {
            $.CONSUME(K.BETWEEN);
            $.SUBRULE($.frameBound, { ARGS: [false] });
            $.CONSUME(K.AND);
            $.SUBRULE2($.frameBound, { ARGS: [true] });
          },
        },
        { ALT: () => $.SUBRULE3($.frameBound, { ARGS: [false] }) },
      ]);
      $.OPTION5(() => {
        $.CONSUME(K.EXCLUDE);
        $.OR3([
          {
            ALT: () => {
              $.CONSUME(K.NO);
              $.CONSUME(K.OTHERS);
            },
          },
          {
            ALT: () => {
              $.CONSUME(K.CURRENT);
              $.CONSUME(K.ROW);
            },
          },
          { ALT: () => $.CONSUME(K.GROUP) },
          { ALT: () => $.CONSUME(K.TIES) },
        ]);
      });
    });
  });

  private frameBound = this.RULE("frameBound", (isEnd: boolean) => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.UNBOUNDED);
          $.OR2([
            { GATE: () => !isEnd, ALT: () => $.CONSUME(K.PRECEDING) },
            { GATE: () => isEnd, ALT: () => $.CONSUME(K.FOLLOWING) },
          ]);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.CURRENT);
          $.CONSUME(K.ROW);
        },
      },
      {
        ALT: () => {
          $.SUBRULE($.expr, { ARGS: [true] });
          $.OR3([{ ALT: () => $.CONSUME2(K.PRECEDING) }, { ALT: () => $.CONSUME2(K.FOLLOWING) }]);
        },
      },
    ]);
  });

  // ---- expressions ------------------------------------------------------------------------

  /**
   * Operands and operators in one flat loop: precedence changes the tree, not whether SQLite
   * accepts the text, and no tree is built. `noAnd` stops at AND (the middle of BETWEEN).
   */
  public expr = this.RULE("expr", (noAnd?: boolean) => {
    const $ = this;
    let like = false;
    $.SUBRULE($.operand);
    $.MANY({
      GATE: () => {
        const t = $.la(1);
        if (t === K.AND) return noAnd !== true;
        if (t === K.ESCAPE) return like;
        return true;
      },
      DEF: () => {
        $.OR([
          {
            ALT: () => {
              const op = $.CONSUME(BinOp);
              $.ACTION(() => {
                if (op.tokenType === K.AND || op.tokenType === K.OR) like = false;
              });
              $.SUBRULE2($.operand);
            },
          },
          { ALT: () => $.CONSUME(K.ISNULL) },
          { ALT: () => $.CONSUME(K.NOTNULL) },
          {
            ALT: () => {
              $.CONSUME(K.NOT);
              $.OR2([
                { ALT: () => $.CONSUME(K.NULL) },
                { ALT: () => $.SUBRULE($.betweenTail) },
                { ALT: () => $.SUBRULE($.inTail) },
                {
                  ALT: () => {
                    $.CONSUME(LikeKw);
                    $.SUBRULE3($.operand);
                    $.ACTION(() => {
                      like = true;
                    });
                  },
                },
              ]);
            },
          },
          { ALT: () => $.SUBRULE2($.betweenTail) },
          { ALT: () => $.SUBRULE2($.inTail) },
          {
            ALT: () => {
              $.CONSUME2(LikeKw);
              $.SUBRULE4($.operand);
              $.ACTION(() => {
                like = true;
              });
            },
          },
          {
            ALT: () => {
              $.CONSUME(K.ESCAPE);
              $.SUBRULE5($.operand);
              $.ACTION(() => {
                like = false;
              });
            },
          },
          {
            ALT: () => {
              $.CONSUME(K.IS);
              $.OPTION(() => $.CONSUME2(K.NOT));
              $.OPTION2(() => {
                $.CONSUME(K.DISTINCT);
                $.CONSUME(K.FROM);
              });
              $.SUBRULE6($.operand);
            },
          },
          {
            ALT: () => {
              $.CONSUME(K.COLLATE);
              $.CONSUME(Ids);
            },
          },
        ]);
      },
    });
  });

  private betweenTail = this.RULE("betweenTail", () => {
    const $ = this;
    $.CONSUME(K.BETWEEN);
    $.SUBRULE($.expr, { ARGS: [true] });
    $.CONSUME(K.AND);
    $.SUBRULE($.operand);
  });

  private inTail = this.RULE("inTail", () => {
    const $ = this;
    $.CONSUME(K.IN);
    $.OR([
      {
        ALT: () => {
          $.CONSUME(LP);
          $.OPTION(() =>
            $.OR2([{ ALT: () => $.SUBRULE($.select) }, { ALT: () => $.SUBRULE($.nexprlist) }]),
          );
          $.CONSUME(RP);
        },
      },
      {
        ALT: () => {
          const r = $.SUBRULE($.fullname);
          $.ACTION(() => {
            if ($.c.inTrigger === 0) $.c.reads.push(r);
          });
          $.OPTION2(() => {
            $.CONSUME2(LP);
            $.OPTION3(() => $.SUBRULE2($.nexprlist));
            $.CONSUME2(RP);
          });
        },
      },
    ]);
  });

  private operand = this.RULE("operand", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.OR2([
            { ALT: () => $.CONSUME(K.NOT) },
            { ALT: () => $.CONSUME(Minus) },
            { ALT: () => $.CONSUME(Plus) },
            { ALT: () => $.CONSUME(BitNot) },
          ]);
          $.SUBRULE($.operand);
        },
      },
      { ALT: () => $.SUBRULE($.primary) },
    ]);
  });

  private primary = this.RULE("primary", () => {
    const $ = this;
    $.OR([
      { ALT: () => $.CONSUME(Integer) },
      { ALT: () => $.CONSUME(Float) },
      { ALT: () => $.CONSUME(Blob) },
      { ALT: () => $.CONSUME(K.NULL) },
      { ALT: () => $.CONSUME(CtimeKw) },
      {
        ALT: () => {
          const v = $.CONSUME(Variable);
          // `#N` names a register in SQLite's nested parses only; anywhere else its action
          // refuses it (`#name` is an ordinary parameter).
          $.ACTION(() => {
            if (v.image.charCodeAt(0) === 35 && isDigitCode(v.image.charCodeAt(1))) {
              $.actionError(v, `near "${v.image}": syntax error`);
            }
          });
        },
      },
      {
        ALT: () => {
          $.CONSUME(StringLit);
          $.SUBRULE($.dottedTail);
        },
      },
      {
        ALT: () => {
          $.CONSUME(LP);
          $.OR2([{ ALT: () => $.SUBRULE($.select) }, { ALT: () => $.SUBRULE($.nexprlist) }]);
          $.CONSUME(RP);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.CAST);
          $.CONSUME2(LP);
          $.SUBRULE($.expr);
          $.CONSUME(K.AS);
          $.SUBRULE($.typetoken);
          $.CONSUME2(RP);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.CASE);
          $.OPTION(() => $.SUBRULE2($.expr));
          $.AT_LEAST_ONE(() => {
            $.CONSUME(K.WHEN);
            $.SUBRULE3($.expr);
            $.CONSUME(K.THEN);
            $.SUBRULE4($.expr);
          });
          $.OPTION2(() => {
            $.CONSUME(K.ELSE);
            $.SUBRULE5($.expr);
          });
          $.CONSUME(K.END);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.EXISTS);
          $.CONSUME3(LP);
          $.SUBRULE2($.select);
          $.CONSUME3(RP);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.RAISE);
          $.CONSUME4(LP);
          $.OR3([
            { ALT: () => $.CONSUME(K.IGNORE) },
            {
              ALT: () => {
                $.OR4([
                  { ALT: () => $.CONSUME(K.ROLLBACK) },
                  { ALT: () => $.CONSUME(K.ABORT) },
                  { ALT: () => $.CONSUME(K.FAIL) },
                ]);
                $.CONSUME(Comma);
                $.SUBRULE6($.expr);
              },
            },
          ]);
          $.CONSUME4(RP);
        },
      },
      {
        ALT: () => {
          $.CONSUME(Idj);
          $.OR5([
            { ALT: () => $.SUBRULE($.functionTail) },
            { ALT: () => $.SUBRULE2($.dottedTail) },
          ]);
        },
      },
    ]);
  });

  private dottedTail = this.RULE("dottedTail", () => {
    const $ = this;
    $.OPTION(() => {
      $.CONSUME(Dot);
      $.CONSUME(Nm);
      $.OPTION2(() => {
        $.CONSUME2(Dot);
        $.CONSUME2(Nm);
      });
    });
  });

  private functionTail = this.RULE("functionTail", () => {
    const $ = this;
    $.CONSUME(LP);
    $.OR([
      { ALT: () => $.CONSUME(Star) },
      {
        ALT: () => {
          $.OPTION(() =>
            $.OR2([{ ALT: () => $.CONSUME(K.DISTINCT) }, { ALT: () => $.CONSUME(K.ALL) }]),
          );
          $.OPTION2(() => $.SUBRULE($.nexprlist));
          $.OPTION3(() => {
            $.CONSUME(K.ORDER);
            $.CONSUME(K.BY);
            $.SUBRULE($.sortlist);
          });
        },
      },
    ]);
    $.CONSUME(RP);
    $.OPTION4(() => {
      $.CONSUME(Filter);
      $.CONSUME2(LP);
      $.CONSUME(K.WHERE);
      $.SUBRULE($.expr);
      $.CONSUME2(RP);
    });
    $.OPTION5(() => {
      $.CONSUME(Over);
      $.OR3([
        {
          ALT: () => {
            $.CONSUME3(LP);
            $.SUBRULE($.windowBody);
            $.CONSUME3(RP);
          },
        },
        { ALT: () => $.CONSUME(Nm) },
      ]);
    });
  });

  private typetoken = this.RULE("typetoken", () => {
    const $ = this;
    // GENERATED reads as a type name here (Lemon's fallback); GENERATED ALWAYS AS after a type
    // is then `AS (expr)`.
    $.AT_LEAST_ONE(() => $.CONSUME(Ids));
    $.OPTION(() => {
      $.CONSUME(LP);
      $.SUBRULE($.signed);
      $.OPTION2(() => {
        $.CONSUME(Comma);
        $.SUBRULE2($.signed);
      });
      $.CONSUME(RP);
    });
  });

  private signed = this.RULE("signed", () => {
    const $ = this;
    $.OPTION(() => $.OR([{ ALT: () => $.CONSUME(Plus) }, { ALT: () => $.CONSUME(Minus) }]));
    $.OR2([{ ALT: () => $.CONSUME(Integer) }, { ALT: () => $.CONSUME(Float) }]);
  });

  // ---- CREATE -----------------------------------------------------------------------------

  private createStmt = this.RULE("createStmt", () => {
    const $ = this;
    $.CONSUME(K.CREATE);
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.TEMP);
          $.ACTION(() => {
            $.c.temp = true;
          });
          $.OR2([
            { ALT: () => $.SUBRULE($.createTable) },
            { ALT: () => $.SUBRULE($.createView) },
            { ALT: () => $.SUBRULE($.createTrigger) },
          ]);
        },
      },
      { ALT: () => $.SUBRULE2($.createTable) },
      { ALT: () => $.SUBRULE2($.createView) },
      { ALT: () => $.SUBRULE2($.createTrigger) },
      {
        ALT: () => {
          $.OPTION(() => $.CONSUME(K.UNIQUE));
          $.SUBRULE($.createIndex);
        },
      },
      { ALT: () => $.SUBRULE($.createVirtualTable) },
    ]);
  });

  private ifNotExists = this.RULE("ifNotExists", () => {
    const $ = this;
    $.OPTION(() => {
      $.CONSUME(K.IF);
      $.CONSUME(K.NOT);
      $.CONSUME(K.EXISTS);
    });
  });

  private createTable = this.RULE("createTable", () => {
    const $ = this;
    $.CONSUME(K.TABLE);
    $.SUBRULE($.ifNotExists);
    const r = $.SUBRULE($.fullname);
    $.ACTION(() => $.setKindTarget("create_table", r));
    $.OR([
      {
        ALT: () => {
          $.CONSUME(LP);
          $.SUBRULE($.columnDef);
          $.MANY({
            GATE: () => !TCONS_START.has($.la(2)),
            DEF: () => {
              $.CONSUME(Comma);
              $.SUBRULE2($.columnDef);
            },
          });
          $.OPTION(() => {
            $.CONSUME2(Comma);
            $.SUBRULE($.tableConstraint);
            $.MANY2(() => {
              $.OPTION2(() => $.CONSUME3(Comma));
              $.SUBRULE2($.tableConstraint);
            });
          });
          $.CONSUME(RP);
          // table_option_set may start empty, so a leading comma is accepted (parse.y).
          $.OPTION3(() => $.SUBRULE($.tableOption));
          $.MANY3(() => {
            $.CONSUME4(Comma);
            $.SUBRULE2($.tableOption);
          });
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.AS);
          $.SUBRULE($.select);
        },
      },
    ]);
  });

  private tableOption = this.RULE("tableOption", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.WITHOUT);
          $.CONSUME(Nm);
        },
      },
      { ALT: () => $.CONSUME2(Nm) },
    ]);
  });

  private columnDef = this.RULE("columnDef", () => {
    const $ = this;
    const name = $.CONSUME(Nm);
    $.ACTION(() => {
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
    });
    $.OPTION(() => {
      const first = $.LA(1);
      $.SUBRULE($.typetoken);
      $.ACTION(() => {
        $.c.column!.type = { first, last: $.lastToken() };
      });
    });
    $.MANY(() => $.SUBRULE($.columnConstraint));
    $.ACTION(() => {
      const column = $.c.column!;
      column.last = $.lastToken();
      $.c.columns.push(column);
      $.c.column = null;
    });
  });

  private onConf = this.RULE("onConf", () => {
    const $ = this;
    $.OPTION(() => {
      $.CONSUME(K.ON);
      $.CONSUME(K.CONFLICT);
      $.SUBRULE($.resolveType);
    });
  });

  private term = this.RULE("term", () => {
    const $ = this;
    $.OR([
      { ALT: () => $.CONSUME(Integer) },
      { ALT: () => $.CONSUME(Float) },
      { ALT: () => $.CONSUME(Blob) },
      { ALT: () => $.CONSUME(StringLit) },
      { ALT: () => $.CONSUME(K.NULL) },
      { ALT: () => $.CONSUME(CtimeKw) },
    ]);
  });

  private columnConstraint = this.RULE("columnConstraint", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.CONSTRAINT);
          $.CONSUME(Nm);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.DEFAULT);
          $.OR2([
            {
              ALT: () => {
                $.CONSUME(LP);
                $.SUBRULE($.expr);
                $.CONSUME(RP);
              },
            },
            {
              ALT: () => {
                $.OR3([{ ALT: () => $.CONSUME(Plus) }, { ALT: () => $.CONSUME(Minus) }]);
                $.SUBRULE($.term);
              },
            },
            { ALT: () => $.SUBRULE2($.term) },
            { ALT: () => $.CONSUME(Id) },
            { ALT: () => $.CONSUME(K.INDEXED) },
          ]);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.NULL);
          $.SUBRULE($.onConf);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.NOT);
          $.OR4([
            {
              ALT: () => {
                $.CONSUME2(K.NULL);
                $.SUBRULE2($.onConf);
              },
            },
            {
              ALT: () => {
                $.CONSUME(K.DEFERRABLE);
                $.SUBRULE($.initiallyOpt);
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.PRIMARY);
          $.CONSUME(K.KEY);
          let order: "asc" | "desc" | "default" = "default";
          $.OPTION(() =>
            $.OR5([
              {
                ALT: () => {
                  $.CONSUME(K.ASC);
                  order = "asc";
                },
              },
              {
                ALT: () => {
                  $.CONSUME(K.DESC);
                  order = "desc";
                },
              },
            ]),
          );
          $.SUBRULE3($.onConf);
          let autoincrement = false;
          $.OPTION2(() => {
            $.CONSUME(K.AUTOINCREMENT);
            autoincrement = true;
          });
          $.ACTION(() => {
            const column = $.c.column;
            if (column === null) return;
            column.primaryKey = order;
            column.autoincrement ||= autoincrement;
          });
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.UNIQUE);
          $.SUBRULE4($.onConf);
          $.ACTION(() => {
            if ($.c.column !== null) $.c.column.unique = true;
          });
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.CHECK);
          $.CONSUME2(LP);
          $.SUBRULE2($.expr);
          $.CONSUME2(RP);
        },
      },
      { ALT: () => $.SUBRULE($.references) },
      {
        ALT: () => {
          $.CONSUME2(K.DEFERRABLE);
          $.SUBRULE2($.initiallyOpt);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.COLLATE);
          const name = $.CONSUME(Ids);
          $.ACTION(() => {
            if ($.c.column !== null) $.c.column.collate = unquote(name.image);
          });
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.GENERATED);
          $.CONSUME(K.ALWAYS);
          $.CONSUME(K.AS);
          $.SUBRULE($.generated);
        },
      },
      {
        ALT: () => {
          $.CONSUME2(K.AS);
          $.SUBRULE2($.generated);
        },
      },
    ]);
  });

  private generated = this.RULE("generated", () => {
    const $ = this;
    $.ACTION(() => {
      if ($.c.column !== null) $.c.column.generated = true;
    });
    $.CONSUME(LP);
    $.SUBRULE($.expr);
    $.CONSUME(RP);
    $.OPTION(() => $.CONSUME(Id));
  });

  private initiallyOpt = this.RULE("initiallyOpt", () => {
    const $ = this;
    $.OPTION(() => {
      $.CONSUME(K.INITIALLY);
      $.OR([{ ALT: () => $.CONSUME(K.DEFERRED) }, { ALT: () => $.CONSUME(K.IMMEDIATE) }]);
    });
  });

  private references = this.RULE("references", () => {
    const $ = this;
    $.CONSUME(K.REFERENCES);
    $.CONSUME(Nm);
    $.OPTION(() => $.SUBRULE($.eidlistParen));
    $.MANY(() => {
      $.OR([
        {
          ALT: () => {
            $.CONSUME(K.MATCH);
            $.CONSUME2(Nm);
          },
        },
        {
          ALT: () => {
            $.CONSUME(K.ON);
            $.OR2([
              { ALT: () => $.CONSUME(K.DELETE) },
              { ALT: () => $.CONSUME(K.UPDATE) },
              { ALT: () => $.CONSUME(K.INSERT) },
            ]);
            $.OR3([
              {
                ALT: () => {
                  $.CONSUME(K.SET);
                  $.OR4([{ ALT: () => $.CONSUME(K.NULL) }, { ALT: () => $.CONSUME(K.DEFAULT) }]);
                },
              },
              { ALT: () => $.CONSUME(K.CASCADE) },
              { ALT: () => $.CONSUME(K.RESTRICT) },
              {
                ALT: () => {
                  $.CONSUME(K.NO);
                  $.CONSUME(K.ACTION);
                },
              },
            ]);
          },
        },
      ]);
    });
  });

  private tableConstraint = this.RULE("tableConstraint", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.CONSTRAINT);
          $.CONSUME(Nm);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.PRIMARY);
          $.CONSUME(K.KEY);
          $.CONSUME(LP);
          $.SUBRULE($.sortlist);
          $.OPTION(() => $.CONSUME(K.AUTOINCREMENT));
          $.CONSUME(RP);
          $.SUBRULE($.onConf);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.UNIQUE);
          $.CONSUME2(LP);
          $.SUBRULE2($.sortlist);
          $.CONSUME2(RP);
          $.SUBRULE2($.onConf);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.CHECK);
          $.CONSUME3(LP);
          $.SUBRULE($.expr);
          $.CONSUME3(RP);
          $.SUBRULE3($.onConf);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.FOREIGN);
          $.CONSUME2(K.KEY);
          $.SUBRULE($.eidlistParen);
          $.SUBRULE($.references);
          $.OPTION2(() => {
            $.OR2([
              {
                ALT: () => {
                  $.CONSUME(K.NOT);
                  $.CONSUME(K.DEFERRABLE);
                },
              },
              { ALT: () => $.CONSUME2(K.DEFERRABLE) },
            ]);
            $.SUBRULE($.initiallyOpt);
          });
        },
      },
    ]);
  });

  private createView = this.RULE("createView", () => {
    const $ = this;
    $.CONSUME(K.VIEW);
    $.SUBRULE($.ifNotExists);
    const r = $.SUBRULE($.fullname);
    $.ACTION(() => $.setKindTarget("create_view", r));
    $.OPTION(() => $.SUBRULE($.eidlistParen));
    $.CONSUME(K.AS);
    $.SUBRULE($.select);
  });

  private createIndex = this.RULE("createIndex", () => {
    const $ = this;
    $.CONSUME(K.INDEX);
    $.SUBRULE($.ifNotExists);
    const r = $.SUBRULE($.fullname);
    $.CONSUME(K.ON);
    const table = $.CONSUME(Nm);
    $.ACTION(() => {
      $.setKindTarget("create_index", r);
      $.c.reads.push({ schema: r.schema, name: unquote(table.image) });
    });
    $.CONSUME(LP);
    $.SUBRULE($.sortlist);
    $.CONSUME(RP);
    $.OPTION(() => {
      $.CONSUME(K.WHERE);
      $.SUBRULE($.expr);
    });
  });

  private createTrigger = this.RULE("createTrigger", () => {
    const $ = this;
    $.CONSUME(K.TRIGGER);
    $.SUBRULE($.ifNotExists);
    const r = $.SUBRULE($.fullname);
    $.OPTION(() =>
      $.OR([
        { ALT: () => $.CONSUME(K.BEFORE) },
        { ALT: () => $.CONSUME(K.AFTER) },
        {
          ALT: () => {
            $.CONSUME(K.INSTEAD);
            $.CONSUME(K.OF);
          },
        },
      ]),
    );
    $.OR2([
      { ALT: () => $.CONSUME(K.DELETE) },
      { ALT: () => $.CONSUME(K.INSERT) },
      {
        ALT: () => {
          $.CONSUME(K.UPDATE);
          $.OPTION2(() => {
            $.CONSUME2(K.OF);
            $.SUBRULE($.idlist);
          });
        },
      },
    ]);
    $.CONSUME(K.ON);
    const table = $.SUBRULE2($.fullname);
    $.ACTION(() => {
      $.setKindTarget("create_trigger", r);
      $.c.reads.push(table);
    });
    $.OPTION3(() => {
      $.CONSUME(K.FOR);
      $.CONSUME(K.EACH);
      $.CONSUME(K.ROW);
    });
    $.OPTION4(() => {
      $.CONSUME(K.WHEN);
      $.SUBRULE($.expr);
    });
    $.CONSUME(K.BEGIN);
    $.ACTION(() => {
      $.c.inTrigger++;
    });
    $.AT_LEAST_ONE(() => {
      $.SUBRULE($.triggerCmd);
      $.CONSUME(Semi);
    });
    $.CONSUME(K.END);
    $.ACTION(() => {
      $.c.inTrigger--;
    });
  });

  private triggerCmd = this.RULE("triggerCmd", () => {
    const $ = this;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.UPDATE);
          $.OPTION(() => $.SUBRULE($.orConflict));
          $.SUBRULE($.fullname);
          $.OPTION2(() => $.SUBRULE($.indexedBy));
          $.CONSUME(K.SET);
          $.SUBRULE($.setlist);
          $.OPTION3(() => {
            $.CONSUME(K.FROM);
            $.SUBRULE($.seltablist);
          });
          $.OPTION4(() => {
            $.CONSUME(K.WHERE);
            $.SUBRULE($.expr);
          });
        },
      },
      {
        ALT: () => {
          $.OR2([
            {
              ALT: () => {
                $.CONSUME(K.INSERT);
                $.OPTION5(() => $.SUBRULE2($.orConflict));
              },
            },
            { ALT: () => $.CONSUME(K.REPLACE) },
          ]);
          $.CONSUME(K.INTO);
          $.SUBRULE2($.fullname);
          $.OPTION6(() => {
            $.CONSUME(LP);
            $.SUBRULE($.idlist);
            $.CONSUME(RP);
          });
          $.SUBRULE($.select);
          $.SUBRULE($.upsert);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.DELETE);
          $.CONSUME2(K.FROM);
          $.SUBRULE3($.fullname);
          $.OPTION7(() => $.SUBRULE2($.indexedBy));
          $.OPTION8(() => {
            $.CONSUME2(K.WHERE);
            $.SUBRULE2($.expr);
          });
        },
      },
      { ALT: () => $.SUBRULE2($.select) },
    ]);
  });

  private createVirtualTable = this.RULE("createVirtualTable", () => {
    const $ = this;
    $.CONSUME(K.VIRTUAL);
    $.CONSUME(K.TABLE);
    $.SUBRULE($.ifNotExists);
    const r = $.SUBRULE($.fullname);
    $.ACTION(() => $.setKindTarget("create_virtual_table", r));
    $.CONSUME(K.USING);
    $.CONSUME(Nm);
    $.OPTION(() => {
      $.CONSUME(LP);
      $.MANY_SEP({
        SEP: Comma,
        DEF: () => $.MANY(() => $.SUBRULE($.vtabArgToken)),
      });
      $.CONSUME(RP);
    });
  });

  private vtabArgToken = this.RULE("vtabArgToken", () => {
    const $ = this;
    $.OR([
      { ALT: () => $.CONSUME(AnyTok) },
      {
        ALT: () => {
          $.CONSUME(LP);
          $.MANY(() =>
            $.OR2([{ ALT: () => $.SUBRULE($.vtabArgToken) }, { ALT: () => $.CONSUME(Comma) }]),
          );
          $.CONSUME(RP);
        },
      },
    ]);
  });

  // ---- DROP / ALTER -----------------------------------------------------------------------

  private dropStmt = this.RULE("dropStmt", () => {
    const $ = this;
    $.CONSUME(K.DROP);
    let kind: Collector["kind"] = "drop_table";
    $.OR([
      { ALT: () => $.CONSUME(K.TABLE) },
      {
        ALT: () => {
          $.CONSUME(K.INDEX);
          kind = "drop_index";
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.VIEW);
          kind = "drop_view";
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.TRIGGER);
          kind = "drop_trigger";
        },
      },
    ]);
    $.OPTION(() => {
      $.CONSUME(K.IF);
      $.CONSUME(K.EXISTS);
    });
    const r = $.SUBRULE($.fullname);
    $.ACTION(() => $.setKindTarget(kind, r));
  });

  private alterStmt = this.RULE("alterStmt", () => {
    const $ = this;
    $.CONSUME(K.ALTER);
    $.CONSUME(K.TABLE);
    const r = $.SUBRULE($.fullname);
    $.ACTION(() => $.setKindTarget("alter_table", r));
    let form: Collector["alter"] = null;
    $.OR([
      {
        ALT: () => {
          $.CONSUME(K.RENAME);
          $.OR2([
            {
              ALT: () => {
                $.CONSUME(K.TO);
                $.CONSUME(Nm);
                form = "rename";
              },
            },
            {
              ALT: () => {
                $.OPTION(() => $.CONSUME(K.COLUMN));
                $.CONSUME2(Nm);
                $.CONSUME2(K.TO);
                $.CONSUME3(Nm);
                form = "rename_column";
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.ADD);
          $.OR3([
            {
              ALT: () => {
                $.OPTION2(() => {
                  $.CONSUME(K.CONSTRAINT);
                  $.CONSUME4(Nm);
                });
                $.CONSUME(K.CHECK);
                $.CONSUME(LP);
                $.SUBRULE($.expr);
                $.CONSUME(RP);
                $.SUBRULE($.onConf);
                form = "constraint";
              },
            },
            {
              ALT: () => {
                $.OPTION3(() => $.CONSUME2(K.COLUMN));
                $.SUBRULE($.columnDef);
                form = "add_column";
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          $.CONSUME(K.DROP);
          $.OR4([
            {
              ALT: () => {
                $.CONSUME2(K.CONSTRAINT);
                $.CONSUME5(Nm);
                form = "constraint";
              },
            },
            {
              ALT: () => {
                $.OPTION4(() => $.CONSUME3(K.COLUMN));
                $.CONSUME6(Nm);
                form = "drop_column";
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          $.CONSUME2(K.ALTER);
          let keyword = false;
          $.OPTION5(() => {
            $.CONSUME4(K.COLUMN);
            keyword = true;
          });
          const column = $.CONSUME7(Nm);
          form = "column";
          $.OR5([
            {
              ALT: () => {
                $.CONSUME(K.SET);
                $.CONSUME(K.NOT);
                $.CONSUME(K.NULL);
                $.SUBRULE2($.onConf);
              },
            },
            {
              ALT: () => {
                $.CONSUME2(K.DROP);
                $.CONSUME2(K.NOT);
                $.CONSUME2(K.NULL);
              },
            },
            {
              // libSQL: ALTER COLUMN columnname TO columnname carglist (COLUMN required; the
              // first columnname may carry a type, which libSQL ignores).
              GATE: () => keyword,
              ALT: () => {
                $.OPTION6(() => $.SUBRULE2($.typetoken));
                $.CONSUME3(K.TO);
                $.SUBRULE2($.columnDef);
                form = "column_definition";
                $.ACTION(() => {
                  $.c.alterColumn = column;
                });
              },
            },
          ]);
        },
      },
    ]);
    $.ACTION(() => {
      $.c.alter = form;
    });
  });

  // ---- connection and maintenance ---------------------------------------------------------

  /** An expression whose raw text and shape ATTACH/DETACH report. */
  private nameExpr = this.RULE(
    "nameExpr",
    (): { text: string; kind: "identifier" | "string" | "expression" } => {
      const $ = this;
      const first = $.LA(1);
      $.SUBRULE($.expr);
      return $.ACTION(() => {
        const last = $.lastToken();
        if (first === last) {
          if (first.tokenType === StringLit)
            return { text: unquote(first.image), kind: "string" as const };
          if (tokenMatcher(first, Idj))
            return { text: unquote(first.image), kind: "identifier" as const };
        }
        return { text: $.span(first, last), kind: "expression" as const };
      }) as { text: string; kind: "identifier" | "string" | "expression" };
    },
  );

  private attachStmt = this.RULE("attachStmt", () => {
    const $ = this;
    $.CONSUME(K.ATTACH);
    $.OPTION(() => $.CONSUME(K.DATABASE));
    const target = $.SUBRULE($.nameExpr);
    $.CONSUME(K.AS);
    const alias = $.SUBRULE2($.nameExpr);
    $.OPTION2(() => {
      $.CONSUME(K.KEY);
      $.SUBRULE($.expr);
    });
    $.ACTION(() => {
      $.c.kind = "attach";
      $.c.attach = { target: target.text, targetKind: target.kind, alias: alias.text };
    });
  });

  private detachStmt = this.RULE("detachStmt", () => {
    const $ = this;
    $.CONSUME(K.DETACH);
    $.OPTION(() => $.CONSUME(K.DATABASE));
    const alias = $.SUBRULE($.nameExpr);
    $.ACTION(() => {
      $.c.kind = "detach";
      $.c.detach = { alias: alias.text };
    });
  });

  private transOpt = this.RULE("transOpt", () => {
    const $ = this;
    $.OPTION(() => {
      $.CONSUME(K.TRANSACTION);
      $.OPTION2(() => $.CONSUME(Nm));
    });
  });

  private beginStmt = this.RULE("beginStmt", () => {
    const $ = this;
    $.CONSUME(K.BEGIN);
    let mode: Collector["beginMode"] = null;
    $.OPTION(() =>
      $.OR([
        {
          ALT: () => {
            $.CONSUME(K.DEFERRED);
            mode = "deferred";
          },
        },
        {
          ALT: () => {
            $.CONSUME(K.IMMEDIATE);
            mode = "immediate";
          },
        },
        {
          ALT: () => {
            $.CONSUME(K.EXCLUSIVE);
            mode = "exclusive";
          },
        },
      ]),
    );
    $.SUBRULE($.transOpt);
    $.ACTION(() => {
      $.c.kind = "begin";
      $.c.transaction = "begin";
      $.c.beginMode = mode;
    });
  });

  private commitStmt = this.RULE("commitStmt", () => {
    const $ = this;
    $.OR([{ ALT: () => $.CONSUME(K.COMMIT) }, { ALT: () => $.CONSUME(K.END) }]);
    $.SUBRULE($.transOpt);
    $.ACTION(() => {
      $.c.kind = "commit";
      $.c.transaction = "commit";
    });
  });

  private rollbackStmt = this.RULE("rollbackStmt", () => {
    const $ = this;
    $.CONSUME(K.ROLLBACK);
    $.SUBRULE($.transOpt);
    let to = false;
    $.OPTION(() => {
      $.CONSUME(K.TO);
      $.OPTION2(() => $.CONSUME(K.SAVEPOINT));
      $.CONSUME(Nm);
      to = true;
    });
    $.ACTION(() => {
      $.c.kind = "rollback";
      $.c.transaction = to ? "rollback_to" : "rollback";
    });
  });

  private savepointStmt = this.RULE("savepointStmt", () => {
    const $ = this;
    $.CONSUME(K.SAVEPOINT);
    $.CONSUME(Nm);
    $.ACTION(() => {
      $.c.kind = "savepoint";
      $.c.transaction = "savepoint";
    });
  });

  private releaseStmt = this.RULE("releaseStmt", () => {
    const $ = this;
    $.CONSUME(K.RELEASE);
    $.OPTION(() => $.CONSUME(K.SAVEPOINT));
    $.CONSUME(Nm);
    $.ACTION(() => {
      $.c.kind = "release";
      $.c.transaction = "release";
    });
  });

  private pragmaStmt = this.RULE("pragmaStmt", () => {
    const $ = this;
    $.CONSUME(K.PRAGMA);
    const r = $.SUBRULE($.fullname);
    let value: string | null = null;
    $.OPTION(() =>
      $.OR([
        {
          ALT: () => {
            $.CONSUME(Eq);
            value = $.SUBRULE($.pragmaValue);
          },
        },
        {
          ALT: () => {
            $.CONSUME(LP);
            value = $.SUBRULE2($.pragmaValue);
            $.CONSUME(RP);
          },
        },
      ]),
    );
    $.ACTION(() => {
      $.c.kind = "pragma";
      $.c.pragma = { schema: r.schema, name: r.name, value };
    });
  });

  private pragmaValue = this.RULE("pragmaValue", (): string => {
    const $ = this;
    const first = $.LA(1);
    $.OR([
      {
        ALT: () => {
          $.OPTION(() => $.OR2([{ ALT: () => $.CONSUME(Plus) }, { ALT: () => $.CONSUME(Minus) }]));
          $.OR3([{ ALT: () => $.CONSUME(Integer) }, { ALT: () => $.CONSUME(Float) }]);
        },
      },
      { ALT: () => $.CONSUME(Nm) },
      { ALT: () => $.CONSUME(K.ON) },
      { ALT: () => $.CONSUME(K.DELETE) },
      { ALT: () => $.CONSUME(K.DEFAULT) },
    ]);
    return $.ACTION(() => $.span(first, $.lastToken())) as string;
  });

  private vacuumStmt = this.RULE("vacuumStmt", () => {
    const $ = this;
    $.CONSUME(K.VACUUM);
    let schema: IToken | undefined;
    $.OPTION(() => {
      schema = $.CONSUME(Nm);
    });
    let into = false;
    $.OPTION2(() => {
      $.CONSUME(K.INTO);
      $.SUBRULE($.expr);
      into = true;
    });
    $.ACTION(() => {
      $.c.kind = "vacuum";
      $.c.vacuumInto = into;
      $.c.objectArg = schema === undefined ? null : { schema: null, name: unquote(schema.image) };
    });
  });

  private analyzeStmt = this.RULE("analyzeStmt", () => {
    const $ = this;
    $.CONSUME(K.ANALYZE);
    let r: ObjectRef | null = null;
    $.OPTION(() => {
      r = $.SUBRULE($.fullname);
    });
    $.ACTION(() => {
      $.c.kind = "analyze";
      $.c.objectArg = r;
    });
  });

  private reindexStmt = this.RULE("reindexStmt", () => {
    const $ = this;
    $.CONSUME(K.REINDEX);
    let r: ObjectRef | null = null;
    $.OPTION(() => {
      r = $.SUBRULE($.fullname);
    });
    $.ACTION(() => {
      $.c.kind = "reindex";
      $.c.objectArg = r;
    });
  });
}

/** Whether a token is the end of input. */
export function isEof(t: IToken): boolean {
  return t.tokenType === EOF;
}
