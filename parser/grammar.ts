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

function ref(schema: IToken | undefined, name: IToken): ObjectRef {
  return schema === undefined
    ? { schema: null, name: unquote(name.image) }
    : { schema: unquote(schema.image), name: unquote(name.image) };
}

/**
 * SQLite's grammar (parse.y) as a chevrotain LL(1) parser with ordered choices: where a keyword
 * may also be an identifier, the keyword meaning wins when it fits, as in Lemon's fallback.
 * Embedded actions record only what the summary needs; no syntax tree is built.
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
    this.OPTION(() => {
      this.CONSUME(K.EXPLAIN);
      let plan = false;
      this.OPTION2(() => {
        this.CONSUME(K.QUERY);
        this.CONSUME(K.PLAN);
        plan = true;
      });
      this.ACTION(() => {
        this.c.explain = plan ? "query_plan" : "explain";
      });
    });
    this.SUBRULE(this.cmd);
  });

  private cmd = this.RULE("cmd", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.withStmt) },
      {
        ALT: () => {
          this.SUBRULE(this.selectNoWith);
          this.ACTION(() => {
            this.c.kind = "select";
          });
        },
      },
      { ALT: () => this.SUBRULE(this.insertStmt) },
      { ALT: () => this.SUBRULE(this.updateStmt) },
      { ALT: () => this.SUBRULE(this.deleteStmt) },
      { ALT: () => this.SUBRULE(this.createStmt) },
      { ALT: () => this.SUBRULE(this.dropStmt) },
      { ALT: () => this.SUBRULE(this.alterStmt) },
      { ALT: () => this.SUBRULE(this.attachStmt) },
      { ALT: () => this.SUBRULE(this.detachStmt) },
      { ALT: () => this.SUBRULE(this.beginStmt) },
      { ALT: () => this.SUBRULE(this.commitStmt) },
      { ALT: () => this.SUBRULE(this.rollbackStmt) },
      { ALT: () => this.SUBRULE(this.savepointStmt) },
      { ALT: () => this.SUBRULE(this.releaseStmt) },
      { ALT: () => this.SUBRULE(this.pragmaStmt) },
      { ALT: () => this.SUBRULE(this.vacuumStmt) },
      { ALT: () => this.SUBRULE(this.analyzeStmt) },
      { ALT: () => this.SUBRULE(this.reindexStmt) },
    ]);
  });

  private withStmt = this.RULE("withStmt", () => {
    this.SUBRULE(this.withClause);
    this.OR([
      {
        ALT: () => {
          this.SUBRULE(this.selectNoWith);
          this.ACTION(() => {
            this.c.kind = "select";
          });
        },
      },
      { ALT: () => this.SUBRULE(this.insertStmt) },
      { ALT: () => this.SUBRULE(this.updateStmt) },
      { ALT: () => this.SUBRULE(this.deleteStmt) },
    ]);
  });

  private setKindTarget(kind: Collector["kind"], target: ObjectRef): void {
    if (this.c.inTrigger > 0) return;
    this.c.kind = kind;
    this.c.target = target;
  }

  private insertStmt = this.RULE("insertStmt", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.INSERT);
          this.OPTION(() => this.SUBRULE(this.orConflict));
        },
      },
      { ALT: () => this.CONSUME(K.REPLACE) },
    ]);
    this.CONSUME(K.INTO);
    const target = this.SUBRULE(this.xfullname);
    this.ACTION(() => this.setKindTarget("insert", target));
    this.OPTION2(() => {
      this.CONSUME(LP);
      this.SUBRULE(this.idlist);
      this.CONSUME(RP);
    });
    this.OR2([
      {
        ALT: () => {
          this.CONSUME(K.DEFAULT);
          this.CONSUME(K.VALUES);
          this.OPTION3(() => this.SUBRULE(this.returning));
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.select);
          this.SUBRULE(this.upsert);
        },
      },
    ]);
  });

  private upsert = this.RULE("upsert", () => {
    let open = true;
    this.MANY({
      GATE: () => open,
      DEF: () => {
        this.CONSUME(K.ON);
        this.CONSUME(K.CONFLICT);
        let targeted = false;
        this.OPTION(() => {
          this.CONSUME(LP);
          this.SUBRULE(this.sortlist);
          this.CONSUME(RP);
          this.OPTION2(() => {
            this.CONSUME(K.WHERE);
            this.SUBRULE(this.expr);
          });
          targeted = true;
        });
        this.CONSUME(K.DO);
        this.OR([
          { ALT: () => this.CONSUME(K.NOTHING) },
          {
            ALT: () => {
              this.CONSUME(K.UPDATE);
              this.CONSUME(K.SET);
              this.SUBRULE(this.setlist);
              this.OPTION3(() => {
                this.CONSUME2(K.WHERE);
                this.SUBRULE2(this.expr);
              });
            },
          },
        ]);
        this.ACTION(() => {
          open = targeted;
        });
      },
    });
    this.OPTION4(() => this.SUBRULE(this.returning));
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
    this.OR([
      { ALT: () => this.CONSUME(K.ROLLBACK) },
      { ALT: () => this.CONSUME(K.ABORT) },
      { ALT: () => this.CONSUME(K.FAIL) },
      { ALT: () => this.CONSUME(K.IGNORE) },
      { ALT: () => this.CONSUME(K.REPLACE) },
    ]);
  });

  private setlist = this.RULE("setlist", () => {
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        this.OR([
          { ALT: () => this.CONSUME(Nm) },
          {
            ALT: () => {
              this.CONSUME(LP);
              this.SUBRULE(this.idlist);
              this.CONSUME(RP);
            },
          },
        ]);
        this.CONSUME(Eq);
        this.SUBRULE(this.expr);
      },
    });
  });

  private updateStmt = this.RULE("updateStmt", () => {
    this.CONSUME(K.UPDATE);
    this.OPTION(() => this.SUBRULE(this.orConflict));
    const target = this.SUBRULE(this.xfullname);
    this.ACTION(() => this.setKindTarget("update", target));
    this.OPTION2(() => this.SUBRULE(this.indexedBy));
    this.CONSUME(K.SET);
    this.SUBRULE(this.setlist);
    this.OPTION3(() => {
      this.CONSUME(K.FROM);
      this.SUBRULE(this.seltablist);
    });
    this.SUBRULE(this.whereReturningLimit);
  });

  private deleteStmt = this.RULE("deleteStmt", () => {
    this.CONSUME(K.DELETE);
    this.CONSUME(K.FROM);
    const target = this.SUBRULE(this.xfullname);
    this.ACTION(() => this.setKindTarget("delete", target));
    this.OPTION(() => this.SUBRULE(this.indexedBy));
    this.SUBRULE(this.whereReturningLimit);
  });

  private whereReturningLimit = this.RULE("whereReturningLimit", () => {
    this.OPTION(() => {
      this.CONSUME(K.WHERE);
      this.SUBRULE(this.expr);
    });
    this.OPTION2(() => this.SUBRULE(this.returning));
    this.OPTION3(() => {
      const t = this.CONSUME(K.ORDER);
      this.CONSUME(K.BY);
      this.SUBRULE(this.sortlist);
      this.ACTION(() => {
        this.c.dmlLimit ??= t;
      });
    });
    this.OPTION4(() => {
      const t = this.SUBRULE(this.limit);
      this.ACTION(() => {
        this.c.dmlLimit ??= t;
      });
    });
  });

  /** `nm [. nm] [AS nm]`: the target of INSERT, UPDATE and DELETE. */
  private xfullname = this.RULE("xfullname", (): ObjectRef => {
    const r = this.SUBRULE(this.fullname);
    this.OPTION(() => {
      this.CONSUME(K.AS);
      this.CONSUME(Nm);
    });
    return r;
  });

  private fullname = this.RULE("fullname", (): ObjectRef => {
    const a = this.CONSUME(Nm);
    let b: IToken | undefined;
    this.OPTION(() => {
      this.CONSUME(Dot);
      b = this.CONSUME2(Nm);
    });
    return this.ACTION(() => (b === undefined ? ref(undefined, a) : ref(a, b))) as ObjectRef;
  });

  private indexedBy = this.RULE("indexedBy", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.INDEXED);
          this.CONSUME(K.BY);
          this.CONSUME(Nm);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.NOT);
          this.CONSUME2(K.INDEXED);
        },
      },
    ]);
  });

  private limit = this.RULE("limit", (): IToken => {
    const t = this.CONSUME(K.LIMIT);
    this.SUBRULE(this.expr);
    this.OPTION(() => {
      this.OR([{ ALT: () => this.CONSUME(K.OFFSET) }, { ALT: () => this.CONSUME(Comma) }]);
      this.SUBRULE2(this.expr);
    });
    return t;
  });

  // ---- SELECT -----------------------------------------------------------------------------

  public select = this.RULE("select", () => {
    this.OPTION(() => this.SUBRULE(this.withClause));
    this.SUBRULE(this.selectNoWith);
  });

  private withClause = this.RULE("withClause", () => {
    this.CONSUME(K.WITH);
    this.OPTION(() => this.CONSUME(K.RECURSIVE));
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        const name = this.CONSUME(Nm);
        this.ACTION(() => this.c.ctes.push(unquote(name.image).toLowerCase()));
        this.OPTION2(() => this.SUBRULE(this.eidlistParen));
        this.CONSUME(K.AS);
        this.OPTION3(() => {
          this.OPTION4(() => this.CONSUME(K.NOT));
          this.CONSUME(K.MATERIALIZED);
        });
        this.CONSUME(LP);
        this.SUBRULE(this.select);
        this.CONSUME(RP);
      },
    });
  });

  private selectNoWith = this.RULE("selectNoWith", () => {
    this.SUBRULE(this.oneSelect);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(K.UNION);
            this.OPTION(() => this.CONSUME(K.ALL));
          },
        },
        { ALT: () => this.CONSUME(K.EXCEPT) },
        { ALT: () => this.CONSUME(K.INTERSECT) },
      ]);
      this.SUBRULE2(this.oneSelect);
    });
  });

  private oneSelect = this.RULE("oneSelect", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.SELECT);
          this.OPTION(() =>
            this.OR2([{ ALT: () => this.CONSUME(K.DISTINCT) }, { ALT: () => this.CONSUME(K.ALL) }]),
          );
          this.SUBRULE(this.resultColumns);
          this.OPTION2(() => {
            this.CONSUME(K.FROM);
            this.SUBRULE(this.seltablist);
          });
          this.OPTION3(() => {
            this.CONSUME(K.WHERE);
            this.SUBRULE(this.expr);
          });
          this.OPTION4(() => {
            this.CONSUME(K.GROUP);
            this.CONSUME(K.BY);
            this.SUBRULE(this.nexprlist);
          });
          this.OPTION5(() => {
            this.CONSUME(K.HAVING);
            this.SUBRULE2(this.expr);
          });
          this.OPTION6(() => {
            this.CONSUME(Window);
            this.AT_LEAST_ONE_SEP({
              SEP: Comma,
              DEF: () => {
                this.CONSUME(Nm);
                this.CONSUME(K.AS);
                this.CONSUME(LP);
                this.SUBRULE(this.windowBody);
                this.CONSUME(RP);
              },
            });
          });
          this.OPTION7(() => {
            this.CONSUME(K.ORDER);
            this.CONSUME2(K.BY);
            this.SUBRULE(this.sortlist);
          });
          this.OPTION8(() => this.SUBRULE(this.limit));
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.VALUES);
          this.AT_LEAST_ONE_SEP2({
            SEP: Comma,
            DEF: () => {
              this.CONSUME2(LP);
              this.SUBRULE2(this.nexprlist);
              this.CONSUME2(RP);
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
    this.OR([
      { ALT: () => this.CONSUME(Star) },
      {
        GATE: () => this.la(2) === Dot && this.la(3) === Star,
        ALT: () => {
          this.CONSUME(Nm);
          this.CONSUME(Dot);
          this.CONSUME2(Star);
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.expr);
          this.OPTION(() => this.SUBRULE(this.alias));
        },
      },
    ]);
  });

  private alias = this.RULE("alias", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.AS);
          this.CONSUME(Nm);
        },
      },
      { ALT: () => this.CONSUME(Ids) },
    ]);
  });

  private seltablist = this.RULE("seltablist", () => {
    this.SUBRULE(this.tableItem);
    this.MANY(() => {
      this.SUBRULE(this.joinOp);
      this.SUBRULE2(this.tableItem);
    });
  });

  private joinOp = this.RULE("joinOp", () => {
    this.OR([
      { ALT: () => this.CONSUME(Comma) },
      { ALT: () => this.CONSUME(K.JOIN) },
      {
        ALT: () => {
          this.CONSUME(JoinKw);
          this.OPTION(() => {
            this.CONSUME(Nm);
            this.OPTION2(() => this.CONSUME2(Nm));
          });
          this.CONSUME2(K.JOIN);
        },
      },
    ]);
  });

  private tableItem = this.RULE("tableItem", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LP);
          this.OR2([
            {
              GATE: () => SELECT_START.has(this.la(1)),
              ALT: () => this.SUBRULE(this.select),
            },
            { ALT: () => this.SUBRULE(this.seltablist) },
          ]);
          this.CONSUME(RP);
          this.OPTION(() => this.SUBRULE(this.alias));
        },
      },
      {
        ALT: () => {
          const r = this.SUBRULE(this.fullname);
          this.ACTION(() => {
            if (this.c.inTrigger === 0) this.c.reads.push(r);
          });
          this.OR3([
            {
              ALT: () => {
                this.CONSUME2(LP);
                this.OPTION2(() => this.SUBRULE(this.nexprlist));
                this.CONSUME2(RP);
                this.OPTION3(() => this.SUBRULE2(this.alias));
              },
            },
            {
              ALT: () => {
                this.OPTION4(() => this.SUBRULE3(this.alias));
                this.OPTION5(() => this.SUBRULE(this.indexedBy));
              },
            },
          ]);
        },
      },
    ]);
    this.OPTION6(() => {
      this.OR4([
        {
          ALT: () => {
            this.CONSUME(K.ON);
            this.SUBRULE(this.expr);
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.USING);
            this.CONSUME3(LP);
            this.SUBRULE(this.idlist);
            this.CONSUME3(RP);
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
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        this.SUBRULE(this.expr);
        this.OPTION(() =>
          this.OR([{ ALT: () => this.CONSUME(K.ASC) }, { ALT: () => this.CONSUME(K.DESC) }]),
        );
        this.OPTION2(() => {
          this.CONSUME(K.NULLS);
          this.OR2([{ ALT: () => this.CONSUME(K.FIRST) }, { ALT: () => this.CONSUME(K.LAST) }]);
        });
      },
    });
  });

  private eidlistParen = this.RULE("eidlistParen", () => {
    this.CONSUME(LP);
    this.AT_LEAST_ONE_SEP({
      SEP: Comma,
      DEF: () => {
        this.CONSUME(Nm);
        this.OPTION(() => {
          this.CONSUME(K.COLLATE);
          this.CONSUME(Ids);
        });
        this.OPTION2(() =>
          this.OR([{ ALT: () => this.CONSUME(K.ASC) }, { ALT: () => this.CONSUME(K.DESC) }]),
        );
      },
    });
    this.CONSUME(RP);
  });

  // ---- windows ----------------------------------------------------------------------------

  private windowBody = this.RULE("windowBody", () => {
    this.OPTION({
      GATE: () => !WINDOW_BODY_KW.has(this.la(1)),
      DEF: () => this.CONSUME(Nm),
    });
    this.OPTION2(() => {
      this.CONSUME(K.PARTITION);
      this.CONSUME(K.BY);
      this.SUBRULE(this.nexprlist);
    });
    this.OPTION3(() => {
      this.CONSUME(K.ORDER);
      this.CONSUME2(K.BY);
      this.SUBRULE(this.sortlist);
    });
    this.OPTION4(() => {
      this.OR([
        { ALT: () => this.CONSUME(K.RANGE) },
        { ALT: () => this.CONSUME(K.ROWS) },
        { ALT: () => this.CONSUME(K.GROUPS) },
      ]);
      this.OR2([
        {
          ALT: () => {
            this.CONSUME(K.BETWEEN);
            this.SUBRULE(this.frameBound, { ARGS: [false] });
            this.CONSUME(K.AND);
            this.SUBRULE2(this.frameBound, { ARGS: [true] });
          },
        },
        { ALT: () => this.SUBRULE3(this.frameBound, { ARGS: [false] }) },
      ]);
      this.OPTION5(() => {
        this.CONSUME(K.EXCLUDE);
        this.OR3([
          {
            ALT: () => {
              this.CONSUME(K.NO);
              this.CONSUME(K.OTHERS);
            },
          },
          {
            ALT: () => {
              this.CONSUME(K.CURRENT);
              this.CONSUME(K.ROW);
            },
          },
          { ALT: () => this.CONSUME(K.GROUP) },
          { ALT: () => this.CONSUME(K.TIES) },
        ]);
      });
    });
  });

  private frameBound = this.RULE("frameBound", (isEnd: boolean) => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.UNBOUNDED);
          this.OR2([
            { GATE: () => !isEnd, ALT: () => this.CONSUME(K.PRECEDING) },
            { GATE: () => isEnd, ALT: () => this.CONSUME(K.FOLLOWING) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.CURRENT);
          this.CONSUME(K.ROW);
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.expr, { ARGS: [true] });
          this.OR3([
            { ALT: () => this.CONSUME2(K.PRECEDING) },
            { ALT: () => this.CONSUME2(K.FOLLOWING) },
          ]);
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
    let like = false;
    this.SUBRULE(this.operand);
    this.MANY({
      GATE: () => {
        const t = this.la(1);
        if (t === K.AND) return noAnd !== true;
        if (t === K.ESCAPE) return like;
        return true;
      },
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              const op = this.CONSUME(BinOp);
              this.ACTION(() => {
                if (op.tokenType === K.AND || op.tokenType === K.OR) like = false;
              });
              this.SUBRULE2(this.operand);
            },
          },
          { ALT: () => this.CONSUME(K.ISNULL) },
          { ALT: () => this.CONSUME(K.NOTNULL) },
          {
            ALT: () => {
              this.CONSUME(K.NOT);
              this.OR2([
                { ALT: () => this.CONSUME(K.NULL) },
                { ALT: () => this.SUBRULE(this.betweenTail) },
                { ALT: () => this.SUBRULE(this.inTail) },
                {
                  ALT: () => {
                    this.CONSUME(LikeKw);
                    this.SUBRULE3(this.operand);
                    this.ACTION(() => {
                      like = true;
                    });
                  },
                },
              ]);
            },
          },
          { ALT: () => this.SUBRULE2(this.betweenTail) },
          { ALT: () => this.SUBRULE2(this.inTail) },
          {
            ALT: () => {
              this.CONSUME2(LikeKw);
              this.SUBRULE4(this.operand);
              this.ACTION(() => {
                like = true;
              });
            },
          },
          {
            ALT: () => {
              this.CONSUME(K.ESCAPE);
              this.SUBRULE5(this.operand);
              this.ACTION(() => {
                like = false;
              });
            },
          },
          {
            ALT: () => {
              this.CONSUME(K.IS);
              this.OPTION(() => this.CONSUME2(K.NOT));
              this.OPTION2(() => {
                this.CONSUME(K.DISTINCT);
                this.CONSUME(K.FROM);
              });
              this.SUBRULE6(this.operand);
            },
          },
          {
            ALT: () => {
              this.CONSUME(K.COLLATE);
              this.CONSUME(Ids);
            },
          },
        ]);
      },
    });
  });

  private betweenTail = this.RULE("betweenTail", () => {
    this.CONSUME(K.BETWEEN);
    this.SUBRULE(this.expr, { ARGS: [true] });
    this.CONSUME(K.AND);
    this.SUBRULE(this.operand);
  });

  private inTail = this.RULE("inTail", () => {
    this.CONSUME(K.IN);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LP);
          this.OPTION(() =>
            this.OR2([
              { ALT: () => this.SUBRULE(this.select) },
              { ALT: () => this.SUBRULE(this.nexprlist) },
            ]),
          );
          this.CONSUME(RP);
        },
      },
      {
        ALT: () => {
          const r = this.SUBRULE(this.fullname);
          this.ACTION(() => {
            if (this.c.inTrigger === 0) this.c.reads.push(r);
          });
          this.OPTION2(() => {
            this.CONSUME2(LP);
            this.OPTION3(() => this.SUBRULE2(this.nexprlist));
            this.CONSUME2(RP);
          });
        },
      },
    ]);
  });

  private operand = this.RULE("operand", () => {
    this.OR([
      {
        ALT: () => {
          this.OR2([
            { ALT: () => this.CONSUME(K.NOT) },
            { ALT: () => this.CONSUME(Minus) },
            { ALT: () => this.CONSUME(Plus) },
            { ALT: () => this.CONSUME(BitNot) },
          ]);
          this.SUBRULE(this.operand);
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  private primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(Integer) },
      { ALT: () => this.CONSUME(Float) },
      { ALT: () => this.CONSUME(Blob) },
      { ALT: () => this.CONSUME(K.NULL) },
      { ALT: () => this.CONSUME(CtimeKw) },
      { ALT: () => this.CONSUME(Variable) },
      {
        ALT: () => {
          this.CONSUME(StringLit);
          this.SUBRULE(this.dottedTail);
        },
      },
      {
        ALT: () => {
          this.CONSUME(LP);
          this.OR2([
            { ALT: () => this.SUBRULE(this.select) },
            { ALT: () => this.SUBRULE(this.nexprlist) },
          ]);
          this.CONSUME(RP);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.CAST);
          this.CONSUME2(LP);
          this.SUBRULE(this.expr);
          this.CONSUME(K.AS);
          this.SUBRULE(this.typetoken);
          this.CONSUME2(RP);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.CASE);
          this.OPTION(() => this.SUBRULE2(this.expr));
          this.AT_LEAST_ONE(() => {
            this.CONSUME(K.WHEN);
            this.SUBRULE3(this.expr);
            this.CONSUME(K.THEN);
            this.SUBRULE4(this.expr);
          });
          this.OPTION2(() => {
            this.CONSUME(K.ELSE);
            this.SUBRULE5(this.expr);
          });
          this.CONSUME(K.END);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.EXISTS);
          this.CONSUME3(LP);
          this.SUBRULE2(this.select);
          this.CONSUME3(RP);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.RAISE);
          this.CONSUME4(LP);
          this.OR3([
            { ALT: () => this.CONSUME(K.IGNORE) },
            {
              ALT: () => {
                this.OR4([
                  { ALT: () => this.CONSUME(K.ROLLBACK) },
                  { ALT: () => this.CONSUME(K.ABORT) },
                  { ALT: () => this.CONSUME(K.FAIL) },
                ]);
                this.CONSUME(Comma);
                this.SUBRULE6(this.expr);
              },
            },
          ]);
          this.CONSUME4(RP);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Idj);
          this.OR5([
            { ALT: () => this.SUBRULE(this.functionTail) },
            { ALT: () => this.SUBRULE2(this.dottedTail) },
          ]);
        },
      },
    ]);
  });

  private dottedTail = this.RULE("dottedTail", () => {
    this.OPTION(() => {
      this.CONSUME(Dot);
      this.CONSUME(Nm);
      this.OPTION2(() => {
        this.CONSUME2(Dot);
        this.CONSUME2(Nm);
      });
    });
  });

  private functionTail = this.RULE("functionTail", () => {
    this.CONSUME(LP);
    this.OR([
      { ALT: () => this.CONSUME(Star) },
      {
        ALT: () => {
          this.OPTION(() =>
            this.OR2([{ ALT: () => this.CONSUME(K.DISTINCT) }, { ALT: () => this.CONSUME(K.ALL) }]),
          );
          this.OPTION2(() => this.SUBRULE(this.nexprlist));
          this.OPTION3(() => {
            this.CONSUME(K.ORDER);
            this.CONSUME(K.BY);
            this.SUBRULE(this.sortlist);
          });
        },
      },
    ]);
    this.CONSUME(RP);
    this.OPTION4(() => {
      this.CONSUME(Filter);
      this.CONSUME2(LP);
      this.CONSUME(K.WHERE);
      this.SUBRULE(this.expr);
      this.CONSUME2(RP);
    });
    this.OPTION5(() => {
      this.CONSUME(Over);
      this.OR3([
        {
          ALT: () => {
            this.CONSUME3(LP);
            this.SUBRULE(this.windowBody);
            this.CONSUME3(RP);
          },
        },
        { ALT: () => this.CONSUME(Nm) },
      ]);
    });
  });

  private typetoken = this.RULE("typetoken", () => {
    // GENERATED reads as a type name here (Lemon's fallback); GENERATED ALWAYS AS after a type
    // is then `AS (expr)`.
    this.AT_LEAST_ONE(() => this.CONSUME(Ids));
    this.OPTION(() => {
      this.CONSUME(LP);
      this.SUBRULE(this.signed);
      this.OPTION2(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.signed);
      });
      this.CONSUME(RP);
    });
  });

  private signed = this.RULE("signed", () => {
    this.OPTION(() =>
      this.OR([{ ALT: () => this.CONSUME(Plus) }, { ALT: () => this.CONSUME(Minus) }]),
    );
    this.OR2([{ ALT: () => this.CONSUME(Integer) }, { ALT: () => this.CONSUME(Float) }]);
  });

  // ---- CREATE -----------------------------------------------------------------------------

  private createStmt = this.RULE("createStmt", () => {
    this.CONSUME(K.CREATE);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.TEMP);
          this.ACTION(() => {
            this.c.temp = true;
          });
          this.OR2([
            { ALT: () => this.SUBRULE(this.createTable) },
            { ALT: () => this.SUBRULE(this.createView) },
            { ALT: () => this.SUBRULE(this.createTrigger) },
          ]);
        },
      },
      { ALT: () => this.SUBRULE2(this.createTable) },
      { ALT: () => this.SUBRULE2(this.createView) },
      { ALT: () => this.SUBRULE2(this.createTrigger) },
      {
        ALT: () => {
          this.OPTION(() => this.CONSUME(K.UNIQUE));
          this.SUBRULE(this.createIndex);
        },
      },
      { ALT: () => this.SUBRULE(this.createVirtualTable) },
    ]);
  });

  private ifNotExists = this.RULE("ifNotExists", () => {
    this.OPTION(() => {
      this.CONSUME(K.IF);
      this.CONSUME(K.NOT);
      this.CONSUME(K.EXISTS);
    });
  });

  private createTable = this.RULE("createTable", () => {
    this.CONSUME(K.TABLE);
    this.SUBRULE(this.ifNotExists);
    const r = this.SUBRULE(this.fullname);
    this.ACTION(() => this.setKindTarget("create_table", r));
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LP);
          this.SUBRULE(this.columnDef);
          this.MANY({
            GATE: () => !TCONS_START.has(this.la(2)),
            DEF: () => {
              this.CONSUME(Comma);
              this.SUBRULE2(this.columnDef);
            },
          });
          this.OPTION(() => {
            this.CONSUME2(Comma);
            this.SUBRULE(this.tableConstraint);
            this.MANY2(() => {
              this.OPTION2(() => this.CONSUME3(Comma));
              this.SUBRULE2(this.tableConstraint);
            });
          });
          this.CONSUME(RP);
          // table_option_set may start empty, so a leading comma is accepted (parse.y).
          this.OPTION3(() => this.SUBRULE(this.tableOption));
          this.MANY3(() => {
            this.CONSUME4(Comma);
            this.SUBRULE2(this.tableOption);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.AS);
          this.SUBRULE(this.select);
        },
      },
    ]);
  });

  private tableOption = this.RULE("tableOption", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.WITHOUT);
          this.CONSUME(Nm);
        },
      },
      { ALT: () => this.CONSUME2(Nm) },
    ]);
  });

  private columnDef = this.RULE("columnDef", () => {
    this.CONSUME(Nm);
    this.OPTION(() => this.SUBRULE(this.typetoken));
    this.MANY(() => this.SUBRULE(this.columnConstraint));
  });

  private onConf = this.RULE("onConf", () => {
    this.OPTION(() => {
      this.CONSUME(K.ON);
      this.CONSUME(K.CONFLICT);
      this.SUBRULE(this.resolveType);
    });
  });

  private term = this.RULE("term", () => {
    this.OR([
      { ALT: () => this.CONSUME(Integer) },
      { ALT: () => this.CONSUME(Float) },
      { ALT: () => this.CONSUME(Blob) },
      { ALT: () => this.CONSUME(StringLit) },
      { ALT: () => this.CONSUME(K.NULL) },
      { ALT: () => this.CONSUME(CtimeKw) },
    ]);
  });

  private columnConstraint = this.RULE("columnConstraint", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.CONSTRAINT);
          this.CONSUME(Nm);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.DEFAULT);
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(LP);
                this.SUBRULE(this.expr);
                this.CONSUME(RP);
              },
            },
            {
              ALT: () => {
                this.OR3([{ ALT: () => this.CONSUME(Plus) }, { ALT: () => this.CONSUME(Minus) }]);
                this.SUBRULE(this.term);
              },
            },
            { ALT: () => this.SUBRULE2(this.term) },
            { ALT: () => this.CONSUME(Id) },
            { ALT: () => this.CONSUME(K.INDEXED) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.NULL);
          this.SUBRULE(this.onConf);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.NOT);
          this.OR4([
            {
              ALT: () => {
                this.CONSUME2(K.NULL);
                this.SUBRULE2(this.onConf);
              },
            },
            {
              ALT: () => {
                this.CONSUME(K.DEFERRABLE);
                this.SUBRULE(this.initiallyOpt);
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.PRIMARY);
          this.CONSUME(K.KEY);
          this.OPTION(() =>
            this.OR5([{ ALT: () => this.CONSUME(K.ASC) }, { ALT: () => this.CONSUME(K.DESC) }]),
          );
          this.SUBRULE3(this.onConf);
          this.OPTION2(() => this.CONSUME(K.AUTOINCREMENT));
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.UNIQUE);
          this.SUBRULE4(this.onConf);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.CHECK);
          this.CONSUME2(LP);
          this.SUBRULE2(this.expr);
          this.CONSUME2(RP);
        },
      },
      { ALT: () => this.SUBRULE(this.references) },
      {
        ALT: () => {
          this.CONSUME2(K.DEFERRABLE);
          this.SUBRULE2(this.initiallyOpt);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.COLLATE);
          this.CONSUME(Ids);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.GENERATED);
          this.CONSUME(K.ALWAYS);
          this.CONSUME(K.AS);
          this.SUBRULE(this.generated);
        },
      },
      {
        ALT: () => {
          this.CONSUME2(K.AS);
          this.SUBRULE2(this.generated);
        },
      },
    ]);
  });

  private generated = this.RULE("generated", () => {
    this.CONSUME(LP);
    this.SUBRULE(this.expr);
    this.CONSUME(RP);
    this.OPTION(() => this.CONSUME(Id));
  });

  private initiallyOpt = this.RULE("initiallyOpt", () => {
    this.OPTION(() => {
      this.CONSUME(K.INITIALLY);
      this.OR([{ ALT: () => this.CONSUME(K.DEFERRED) }, { ALT: () => this.CONSUME(K.IMMEDIATE) }]);
    });
  });

  private references = this.RULE("references", () => {
    this.CONSUME(K.REFERENCES);
    this.CONSUME(Nm);
    this.OPTION(() => this.SUBRULE(this.eidlistParen));
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(K.MATCH);
            this.CONSUME2(Nm);
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.ON);
            this.OR2([
              { ALT: () => this.CONSUME(K.DELETE) },
              { ALT: () => this.CONSUME(K.UPDATE) },
              { ALT: () => this.CONSUME(K.INSERT) },
            ]);
            this.OR3([
              {
                ALT: () => {
                  this.CONSUME(K.SET);
                  this.OR4([
                    { ALT: () => this.CONSUME(K.NULL) },
                    { ALT: () => this.CONSUME(K.DEFAULT) },
                  ]);
                },
              },
              { ALT: () => this.CONSUME(K.CASCADE) },
              { ALT: () => this.CONSUME(K.RESTRICT) },
              {
                ALT: () => {
                  this.CONSUME(K.NO);
                  this.CONSUME(K.ACTION);
                },
              },
            ]);
          },
        },
      ]);
    });
  });

  private tableConstraint = this.RULE("tableConstraint", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.CONSTRAINT);
          this.CONSUME(Nm);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.PRIMARY);
          this.CONSUME(K.KEY);
          this.CONSUME(LP);
          this.SUBRULE(this.sortlist);
          this.OPTION(() => this.CONSUME(K.AUTOINCREMENT));
          this.CONSUME(RP);
          this.SUBRULE(this.onConf);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.UNIQUE);
          this.CONSUME2(LP);
          this.SUBRULE2(this.sortlist);
          this.CONSUME2(RP);
          this.SUBRULE2(this.onConf);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.CHECK);
          this.CONSUME3(LP);
          this.SUBRULE(this.expr);
          this.CONSUME3(RP);
          this.SUBRULE3(this.onConf);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.FOREIGN);
          this.CONSUME2(K.KEY);
          this.SUBRULE(this.eidlistParen);
          this.SUBRULE(this.references);
          this.OPTION2(() => {
            this.OR2([
              {
                ALT: () => {
                  this.CONSUME(K.NOT);
                  this.CONSUME(K.DEFERRABLE);
                },
              },
              { ALT: () => this.CONSUME2(K.DEFERRABLE) },
            ]);
            this.SUBRULE(this.initiallyOpt);
          });
        },
      },
    ]);
  });

  private createView = this.RULE("createView", () => {
    this.CONSUME(K.VIEW);
    this.SUBRULE(this.ifNotExists);
    const r = this.SUBRULE(this.fullname);
    this.ACTION(() => this.setKindTarget("create_view", r));
    this.OPTION(() => this.SUBRULE(this.eidlistParen));
    this.CONSUME(K.AS);
    this.SUBRULE(this.select);
  });

  private createIndex = this.RULE("createIndex", () => {
    this.CONSUME(K.INDEX);
    this.SUBRULE(this.ifNotExists);
    const r = this.SUBRULE(this.fullname);
    this.CONSUME(K.ON);
    const table = this.CONSUME(Nm);
    this.ACTION(() => {
      this.setKindTarget("create_index", r);
      this.c.reads.push({ schema: r.schema, name: unquote(table.image) });
    });
    this.CONSUME(LP);
    this.SUBRULE(this.sortlist);
    this.CONSUME(RP);
    this.OPTION(() => {
      this.CONSUME(K.WHERE);
      this.SUBRULE(this.expr);
    });
  });

  private createTrigger = this.RULE("createTrigger", () => {
    this.CONSUME(K.TRIGGER);
    this.SUBRULE(this.ifNotExists);
    const r = this.SUBRULE(this.fullname);
    this.OPTION(() =>
      this.OR([
        { ALT: () => this.CONSUME(K.BEFORE) },
        { ALT: () => this.CONSUME(K.AFTER) },
        {
          ALT: () => {
            this.CONSUME(K.INSTEAD);
            this.CONSUME(K.OF);
          },
        },
      ]),
    );
    this.OR2([
      { ALT: () => this.CONSUME(K.DELETE) },
      { ALT: () => this.CONSUME(K.INSERT) },
      {
        ALT: () => {
          this.CONSUME(K.UPDATE);
          this.OPTION2(() => {
            this.CONSUME2(K.OF);
            this.SUBRULE(this.idlist);
          });
        },
      },
    ]);
    this.CONSUME(K.ON);
    const table = this.SUBRULE2(this.fullname);
    this.ACTION(() => {
      this.setKindTarget("create_trigger", r);
      this.c.reads.push(table);
    });
    this.OPTION3(() => {
      this.CONSUME(K.FOR);
      this.CONSUME(K.EACH);
      this.CONSUME(K.ROW);
    });
    this.OPTION4(() => {
      this.CONSUME(K.WHEN);
      this.SUBRULE(this.expr);
    });
    this.CONSUME(K.BEGIN);
    this.ACTION(() => {
      this.c.inTrigger++;
    });
    this.AT_LEAST_ONE(() => {
      this.SUBRULE(this.triggerCmd);
      this.CONSUME(Semi);
    });
    this.CONSUME(K.END);
    this.ACTION(() => {
      this.c.inTrigger--;
    });
  });

  private triggerCmd = this.RULE("triggerCmd", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.UPDATE);
          this.OPTION(() => this.SUBRULE(this.orConflict));
          this.SUBRULE(this.fullname);
          this.OPTION2(() => this.SUBRULE(this.indexedBy));
          this.CONSUME(K.SET);
          this.SUBRULE(this.setlist);
          this.OPTION3(() => {
            this.CONSUME(K.FROM);
            this.SUBRULE(this.seltablist);
          });
          this.OPTION4(() => {
            this.CONSUME(K.WHERE);
            this.SUBRULE(this.expr);
          });
        },
      },
      {
        ALT: () => {
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(K.INSERT);
                this.OPTION5(() => this.SUBRULE2(this.orConflict));
              },
            },
            { ALT: () => this.CONSUME(K.REPLACE) },
          ]);
          this.CONSUME(K.INTO);
          this.SUBRULE2(this.fullname);
          this.OPTION6(() => {
            this.CONSUME(LP);
            this.SUBRULE(this.idlist);
            this.CONSUME(RP);
          });
          this.SUBRULE(this.select);
          this.SUBRULE(this.upsert);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.DELETE);
          this.CONSUME2(K.FROM);
          this.SUBRULE3(this.fullname);
          this.OPTION7(() => this.SUBRULE2(this.indexedBy));
          this.OPTION8(() => {
            this.CONSUME2(K.WHERE);
            this.SUBRULE2(this.expr);
          });
        },
      },
      { ALT: () => this.SUBRULE2(this.select) },
    ]);
  });

  private createVirtualTable = this.RULE("createVirtualTable", () => {
    this.CONSUME(K.VIRTUAL);
    this.CONSUME(K.TABLE);
    this.SUBRULE(this.ifNotExists);
    const r = this.SUBRULE(this.fullname);
    this.ACTION(() => this.setKindTarget("create_virtual_table", r));
    this.CONSUME(K.USING);
    this.CONSUME(Nm);
    this.OPTION(() => {
      this.CONSUME(LP);
      this.MANY_SEP({
        SEP: Comma,
        DEF: () => this.MANY(() => this.SUBRULE(this.vtabArgToken)),
      });
      this.CONSUME(RP);
    });
  });

  private vtabArgToken = this.RULE("vtabArgToken", () => {
    this.OR([
      { ALT: () => this.CONSUME(AnyTok) },
      {
        ALT: () => {
          this.CONSUME(LP);
          this.MANY(() =>
            this.OR2([
              { ALT: () => this.SUBRULE(this.vtabArgToken) },
              { ALT: () => this.CONSUME(Comma) },
            ]),
          );
          this.CONSUME(RP);
        },
      },
    ]);
  });

  // ---- DROP / ALTER -----------------------------------------------------------------------

  private dropStmt = this.RULE("dropStmt", () => {
    this.CONSUME(K.DROP);
    let kind: Collector["kind"] = "drop_table";
    this.OR([
      { ALT: () => this.CONSUME(K.TABLE) },
      {
        ALT: () => {
          this.CONSUME(K.INDEX);
          kind = "drop_index";
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.VIEW);
          kind = "drop_view";
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.TRIGGER);
          kind = "drop_trigger";
        },
      },
    ]);
    this.OPTION(() => {
      this.CONSUME(K.IF);
      this.CONSUME(K.EXISTS);
    });
    const r = this.SUBRULE(this.fullname);
    this.ACTION(() => this.setKindTarget(kind, r));
  });

  private alterStmt = this.RULE("alterStmt", () => {
    this.CONSUME(K.ALTER);
    this.CONSUME(K.TABLE);
    const r = this.SUBRULE(this.fullname);
    this.ACTION(() => this.setKindTarget("alter_table", r));
    let form: Collector["alter"] = null;
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.RENAME);
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(K.TO);
                this.CONSUME(Nm);
                form = "rename";
              },
            },
            {
              ALT: () => {
                this.OPTION(() => this.CONSUME(K.COLUMN));
                this.CONSUME2(Nm);
                this.CONSUME2(K.TO);
                this.CONSUME3(Nm);
                form = "rename_column";
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.ADD);
          this.OR3([
            {
              ALT: () => {
                this.OPTION2(() => {
                  this.CONSUME(K.CONSTRAINT);
                  this.CONSUME4(Nm);
                });
                this.CONSUME(K.CHECK);
                this.CONSUME(LP);
                this.SUBRULE(this.expr);
                this.CONSUME(RP);
                this.SUBRULE(this.onConf);
                form = "constraint";
              },
            },
            {
              ALT: () => {
                this.OPTION3(() => this.CONSUME2(K.COLUMN));
                this.SUBRULE(this.columnDef);
                form = "add_column";
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.DROP);
          this.OR4([
            {
              ALT: () => {
                this.CONSUME2(K.CONSTRAINT);
                this.CONSUME5(Nm);
                form = "constraint";
              },
            },
            {
              ALT: () => {
                this.OPTION4(() => this.CONSUME3(K.COLUMN));
                this.CONSUME6(Nm);
                form = "drop_column";
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME2(K.ALTER);
          this.OPTION5(() => this.CONSUME4(K.COLUMN));
          this.CONSUME7(Nm);
          this.OR5([
            {
              ALT: () => {
                this.CONSUME(K.SET);
                this.CONSUME(K.NOT);
                this.CONSUME(K.NULL);
                this.SUBRULE2(this.onConf);
              },
            },
            {
              ALT: () => {
                this.CONSUME2(K.DROP);
                this.CONSUME2(K.NOT);
                this.CONSUME2(K.NULL);
              },
            },
          ]);
          form = "column";
        },
      },
    ]);
    this.ACTION(() => {
      this.c.alter = form;
    });
  });

  // ---- connection and maintenance ---------------------------------------------------------

  /** An expression whose raw text and shape ATTACH/DETACH report. */
  private nameExpr = this.RULE(
    "nameExpr",
    (): { text: string; kind: "identifier" | "string" | "expression" } => {
      const first = this.LA(1);
      this.SUBRULE(this.expr);
      return this.ACTION(() => {
        const last = this.lastToken();
        if (first === last) {
          if (first.tokenType === StringLit)
            return { text: unquote(first.image), kind: "string" as const };
          if (tokenMatcher(first, Idj))
            return { text: unquote(first.image), kind: "identifier" as const };
        }
        return { text: this.span(first, last), kind: "expression" as const };
      }) as { text: string; kind: "identifier" | "string" | "expression" };
    },
  );

  private attachStmt = this.RULE("attachStmt", () => {
    this.CONSUME(K.ATTACH);
    this.OPTION(() => this.CONSUME(K.DATABASE));
    const target = this.SUBRULE(this.nameExpr);
    this.CONSUME(K.AS);
    const alias = this.SUBRULE2(this.nameExpr);
    this.OPTION2(() => {
      this.CONSUME(K.KEY);
      this.SUBRULE(this.expr);
    });
    this.ACTION(() => {
      this.c.kind = "attach";
      this.c.attach = { target: target.text, targetKind: target.kind, alias: alias.text };
    });
  });

  private detachStmt = this.RULE("detachStmt", () => {
    this.CONSUME(K.DETACH);
    this.OPTION(() => this.CONSUME(K.DATABASE));
    const alias = this.SUBRULE(this.nameExpr);
    this.ACTION(() => {
      this.c.kind = "detach";
      this.c.detach = { alias: alias.text };
    });
  });

  private transOpt = this.RULE("transOpt", () => {
    this.OPTION(() => {
      this.CONSUME(K.TRANSACTION);
      this.OPTION2(() => this.CONSUME(Nm));
    });
  });

  private beginStmt = this.RULE("beginStmt", () => {
    this.CONSUME(K.BEGIN);
    let mode: Collector["beginMode"] = null;
    this.OPTION(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(K.DEFERRED);
            mode = "deferred";
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.IMMEDIATE);
            mode = "immediate";
          },
        },
        {
          ALT: () => {
            this.CONSUME(K.EXCLUSIVE);
            mode = "exclusive";
          },
        },
      ]),
    );
    this.SUBRULE(this.transOpt);
    this.ACTION(() => {
      this.c.kind = "begin";
      this.c.transaction = "begin";
      this.c.beginMode = mode;
    });
  });

  private commitStmt = this.RULE("commitStmt", () => {
    this.OR([{ ALT: () => this.CONSUME(K.COMMIT) }, { ALT: () => this.CONSUME(K.END) }]);
    this.SUBRULE(this.transOpt);
    this.ACTION(() => {
      this.c.kind = "commit";
      this.c.transaction = "commit";
    });
  });

  private rollbackStmt = this.RULE("rollbackStmt", () => {
    this.CONSUME(K.ROLLBACK);
    this.SUBRULE(this.transOpt);
    let to = false;
    this.OPTION(() => {
      this.CONSUME(K.TO);
      this.OPTION2(() => this.CONSUME(K.SAVEPOINT));
      this.CONSUME(Nm);
      to = true;
    });
    this.ACTION(() => {
      this.c.kind = "rollback";
      this.c.transaction = to ? "rollback_to" : "rollback";
    });
  });

  private savepointStmt = this.RULE("savepointStmt", () => {
    this.CONSUME(K.SAVEPOINT);
    this.CONSUME(Nm);
    this.ACTION(() => {
      this.c.kind = "savepoint";
      this.c.transaction = "savepoint";
    });
  });

  private releaseStmt = this.RULE("releaseStmt", () => {
    this.CONSUME(K.RELEASE);
    this.OPTION(() => this.CONSUME(K.SAVEPOINT));
    this.CONSUME(Nm);
    this.ACTION(() => {
      this.c.kind = "release";
      this.c.transaction = "release";
    });
  });

  private pragmaStmt = this.RULE("pragmaStmt", () => {
    this.CONSUME(K.PRAGMA);
    const r = this.SUBRULE(this.fullname);
    let value: string | null = null;
    this.OPTION(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Eq);
            value = this.SUBRULE(this.pragmaValue);
          },
        },
        {
          ALT: () => {
            this.CONSUME(LP);
            value = this.SUBRULE2(this.pragmaValue);
            this.CONSUME(RP);
          },
        },
      ]),
    );
    this.ACTION(() => {
      this.c.kind = "pragma";
      this.c.pragma = { schema: r.schema, name: r.name, value };
    });
  });

  private pragmaValue = this.RULE("pragmaValue", (): string => {
    const first = this.LA(1);
    this.OR([
      {
        ALT: () => {
          this.OPTION(() =>
            this.OR2([{ ALT: () => this.CONSUME(Plus) }, { ALT: () => this.CONSUME(Minus) }]),
          );
          this.OR3([{ ALT: () => this.CONSUME(Integer) }, { ALT: () => this.CONSUME(Float) }]);
        },
      },
      { ALT: () => this.CONSUME(Nm) },
      { ALT: () => this.CONSUME(K.ON) },
      { ALT: () => this.CONSUME(K.DELETE) },
      { ALT: () => this.CONSUME(K.DEFAULT) },
    ]);
    return this.ACTION(() => this.span(first, this.lastToken())) as string;
  });

  private vacuumStmt = this.RULE("vacuumStmt", () => {
    this.CONSUME(K.VACUUM);
    let schema: IToken | undefined;
    this.OPTION(() => {
      schema = this.CONSUME(Nm);
    });
    let into = false;
    this.OPTION2(() => {
      this.CONSUME(K.INTO);
      this.SUBRULE(this.expr);
      into = true;
    });
    this.ACTION(() => {
      this.c.kind = "vacuum";
      this.c.vacuumInto = into;
      this.c.objectArg =
        schema === undefined ? null : { schema: null, name: unquote(schema.image) };
    });
  });

  private analyzeStmt = this.RULE("analyzeStmt", () => {
    this.CONSUME(K.ANALYZE);
    let r: ObjectRef | null = null;
    this.OPTION(() => {
      r = this.SUBRULE(this.fullname);
    });
    this.ACTION(() => {
      this.c.kind = "analyze";
      this.c.objectArg = r;
    });
  });

  private reindexStmt = this.RULE("reindexStmt", () => {
    this.CONSUME(K.REINDEX);
    let r: ObjectRef | null = null;
    this.OPTION(() => {
      r = this.SUBRULE(this.fullname);
    });
    this.ACTION(() => {
      this.c.kind = "reindex";
      this.c.objectArg = r;
    });
  });
}

/** Whether a token is the end of input. */
export function isEof(t: IToken): boolean {
  return t.tokenType === EOF;
}
