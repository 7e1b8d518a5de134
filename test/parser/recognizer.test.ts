// The recognizer under the grammar (parser/recognizer.ts): LL(1) ordered choice by trying, where
// the first token taken commits. Checked on a toy grammar, then on the places of SQLite's grammar
// where a keyword may also be a name and the keyword meaning must win, as in Lemon.
import { describe, expect, it } from "vitest";
import { parse } from "../../parser/index.js";
import { Recognizer } from "../../parser/recognizer.js";
import { createToken, EOF, type Token, tokenMatcher } from "../../parser/tokens.js";

const Word = createToken("Word");
const Name = createToken("Name", [Word]);
const If = createToken("If", [Word]);
const Num = createToken("Num");
const Comma = createToken("Comma");
const Semi = createToken("Semi");

function tokens(...types: (typeof Word)[]): Token[] {
  return types.map((tokenType, i) => ({
    image: tokenType.name,
    startOffset: i,
    endOffset: i,
    tokenType,
  }));
}

/** A toy grammar over the tokens above; each rule records what it took. */
class Toy extends Recognizer {
  seen: string[] = [];
  rule: () => unknown = () => undefined;

  go(input: Token[]): { stopped: number | "eof" | null; next: number | "eof" } {
    const stopped = this.run(input, this.rule);
    const at = (t: Token) => (t.tokenType === EOF ? "eof" : t.startOffset);
    return { stopped: stopped === null ? null : at(stopped), next: at(this.next()) };
  }

  // `If Num` or, failing that, `Word` (If is a Word too): keyword first.
  stmt = () => {
    this.or([
      () => {
        this.eat(If);
        this.eat(Num);
        this.seen.push("if");
      },
      () => {
        this.eat(Word);
        this.seen.push("word");
      },
    ]);
  };
  list = () => this.sep(Comma, () => this.eat(Num));
  maybeList = () => this.sepOpt(Comma, () => this.eat(Num));
  nums = () => this.many(() => this.eat(Num));
  someNums = () => this.oneOrMore(() => this.eat(Num));
  nothing = () => this.many(() => this.opt(() => this.eat(Num)));
  optThenSemi = () => {
    this.opt(() => {
      this.eat(Num);
      this.eat(Comma);
    });
    this.eat(Semi);
  };
  gated = (allow: boolean) => {
    this.or([{ GATE: () => allow, ALT: () => this.eat(Num) }, () => this.eat(Word)]);
  };
  choose = () => {
    if (this.take(Semi)) this.seen.push("semi");
    this.seen.push(this.oneOf(Num, Name).tokenType.name);
  };
}

function toy(rule: (t: Toy) => () => unknown): Toy {
  const t = new Toy();
  t.rule = rule(t);
  return t;
}

describe("Recognizer", () => {
  it("takes the first alternative that fits, and commits once it has taken a token", () => {
    const t = toy((t) => t.stmt);
    expect(t.go(tokens(If, Num))).toEqual({ stopped: null, next: "eof" });
    // `If` alone: the first alternative fails after taking `If`, so the Word alternative is not
    // tried: a syntax error at the end, as in an LL(1) parser that chose by `If`.
    expect(t.go(tokens(If))).toEqual({ stopped: "eof", next: "eof" });
    expect(t.go(tokens(If, Comma))).toEqual({ stopped: 1, next: 1 });
    expect(t.go(tokens(Name, Num))).toEqual({ stopped: null, next: 1 });
    expect(t.go(tokens(Num))).toEqual({ stopped: 0, next: 0 });
    expect(t.seen).toEqual(["if", "word"]);
  });

  it("loops and lists stop at the first token that does not fit; an empty body ends a loop", () => {
    expect(toy((t) => t.nums).go(tokens(Num, Num, Comma))).toEqual({ stopped: null, next: 2 });
    expect(toy((t) => t.nums).go(tokens(Comma))).toEqual({ stopped: null, next: 0 });
    expect(toy((t) => t.someNums).go(tokens(Comma))).toEqual({ stopped: 0, next: 0 });
    expect(toy((t) => t.someNums).go(tokens(Num, Num))).toEqual({ stopped: null, next: "eof" });
    expect(toy((t) => t.list).go(tokens(Num, Comma, Num, Semi))).toEqual({
      stopped: null,
      next: 3,
    });
    // After a separator the item is required.
    expect(toy((t) => t.list).go(tokens(Num, Comma, Semi))).toEqual({ stopped: 2, next: 2 });
    expect(toy((t) => t.maybeList).go(tokens(Semi))).toEqual({ stopped: null, next: 0 });
    expect(toy((t) => t.nothing).go(tokens(Comma))).toEqual({ stopped: null, next: 0 });
  });

  it("an option that fails after its first token is a syntax error there, not skipped", () => {
    const t = toy((t) => t.optThenSemi);
    expect(t.go(tokens(Semi))).toEqual({ stopped: null, next: "eof" });
    expect(t.go(tokens(Num, Comma, Semi))).toEqual({ stopped: null, next: "eof" });
    expect(t.go(tokens(Num, Semi))).toEqual({ stopped: 1, next: 1 });
  });

  it("gates, take and oneOf", () => {
    expect(toy((t) => () => t.gated(true)).go(tokens(Num))).toEqual({ stopped: null, next: "eof" });
    expect(toy((t) => () => t.gated(false)).go(tokens(Num))).toEqual({ stopped: 0, next: 0 });
    const t = toy((t) => t.choose);
    expect(t.go(tokens(Semi, Name))).toEqual({ stopped: null, next: "eof" });
    expect(t.go(tokens(Num))).toEqual({ stopped: null, next: "eof" });
    expect(t.go(tokens(If))).toEqual({ stopped: 0, next: 0 });
    expect(t.seen).toEqual(["semi", "Name", "Num"]);
  });

  it("token categories match their members, transitively", () => {
    const [name] = tokens(Name);
    expect(tokenMatcher(name!, Name)).toBe(true);
    expect(tokenMatcher(name!, Word)).toBe(true);
    expect(tokenMatcher(name!, If)).toBe(false);
    expect(tokenMatcher(name!, Num)).toBe(false);
  });
});

describe("keyword first, as SQLite's grammar (checked against sql.js by hand and in agreement.test)", () => {
  const verdict = (sql: string) => parse(sql).errors[0]?.message ?? "ok";
  it.each([
    // CAST and RAISE are %fallback ID keywords, but where an expression starts they are keywords.
    ["SELECT cast FROM t", 'near "FROM": syntax error'],
    ["SELECT raise FROM t", 'near "FROM": syntax error'],
    ["SELECT CAST(a AS TEXT) FROM t", "ok"],
    // A frame bound: UNBOUNDED and CURRENT are keywords before PRECEDING/ROW.
    ["SELECT sum(a) OVER (ROWS unbounded PRECEDING) FROM t", "ok"],
    ["SELECT sum(a) OVER (ROWS CURRENT ROW) FROM t", "ok"],
    ["SELECT sum(a) OVER (ROWS current PRECEDING) FROM t", 'near "PRECEDING": syntax error'],
    // WITH after `(`: a subquery, in an IN list and as an operand.
    ["SELECT 1 IN (WITH x AS (SELECT 1) SELECT * FROM x)", "ok"],
    ["SELECT (WITH x AS (SELECT 1) SELECT * FROM x)", "ok"],
    // WITHOUT in table options.
    ["CREATE TABLE w(a PRIMARY KEY) WITHOUT ROWID", "ok"],
    ["CREATE TABLE w(a) without", "incomplete input"],
  ])("%s", (sql, expected) => {
    expect(verdict(sql)).toBe(expected);
  });
});
