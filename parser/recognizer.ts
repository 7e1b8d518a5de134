import { EOF_TOKEN, type Token, type TokenType } from "./tokens.js";

/**
 * What `eat` throws when the next token does not fit (one shared object: failing costs no
 * allocation). Where the input stopped fitting is the recognizer's position, not in the object.
 */
const MISMATCH: { readonly mismatch: true } = Object.freeze({ mismatch: true });

/** An alternative of `or`: a function, or one tried only when its `GATE` says so. */
export type Alternative = (() => unknown) | { GATE: () => boolean; ALT: () => unknown };

/**
 * A recursive-descent recognizer with LL(1) ordered choice. A choice (`opt`, `many`, `or`) tries
 * its body; a body that fails before taking a token was not the way, and the next alternative (or
 * nothing) is taken. A body that fails after taking a token is a syntax error at the token where
 * it stopped: as in an LL(1) parser, the first token commits. So the grammar is written as plain
 * calls, with no first sets computed by hand or ahead of time, and no syntax tree: rule bodies
 * do their own bookkeeping as they go. `parse` runs a rule and says where the input stopped
 * fitting, if it did.
 */
export class Recognizer {
  #input: readonly Token[] = [];
  #pos = 0;

  /**
   * Runs `rule` over `input`. Returns null when it took a prefix of the input (`next()` is the
   * first token it did not take), or the token where the input stopped fitting (`EOF_TOKEN` at
   * the end).
   */
  protected run(input: readonly Token[], rule: () => unknown): Token | null {
    this.#input = input;
    this.#pos = 0;
    try {
      rule();
      return null;
    } catch (e) {
      if (e !== MISMATCH) throw e;
      return this.LA(1);
    }
  }

  /** The i-th token ahead (1: the next one; 0: the last one taken); `EOF_TOKEN` past the end. */
  LA(i: number): Token {
    return this.#input[this.#pos + i - 1] ?? EOF_TOKEN;
  }

  /** Where the recognizer is (for `takenSince`). */
  protected mark(): number {
    return this.#pos;
  }

  /** The tokens taken since `mark`. */
  protected takenSince(mark: number): readonly Token[] {
    return this.#input.slice(mark, this.#pos);
  }

  /** The first token the last run did not take (`EOF_TOKEN` when it took them all). */
  next(): Token {
    return this.LA(1);
  }

  /** Whether the next token is `type` (or belongs to the category `type`). */
  protected is(type: TokenType): boolean {
    const t = this.#input[this.#pos];
    return t !== undefined && type.matches[t.tokenType.idx] === true;
  }

  /** Takes the next token if it is `type`: whether it did. */
  protected take(type: TokenType): boolean {
    if (!this.is(type)) return false;
    this.#pos++;
    return true;
  }

  /** Takes the next token, which must be `type`. */
  protected eat(type: TokenType): Token {
    const t = this.#input[this.#pos];
    if (t === undefined || type.matches[t.tokenType.idx] !== true) throw MISMATCH;
    this.#pos++;
    return t;
  }

  /** Takes the next token, which must be one of `types` (the first that fits). */
  protected oneOf(...types: TokenType[]): Token {
    for (const type of types) if (this.is(type)) return this.#input[this.#pos++]!;
    throw MISMATCH;
  }

  /** Tries `body`: whether it ran (false when it failed before taking a token). */
  #attempt(body: () => unknown): boolean {
    const at = this.#pos;
    try {
      body();
      return true;
    } catch (e) {
      if (e !== MISMATCH || this.#pos !== at) throw e;
      return false;
    }
  }

  /** `body` once or not at all; not when `gate` says no. */
  protected opt(body: () => unknown, gate?: () => boolean): void {
    if (gate === undefined || gate()) this.#attempt(body);
  }

  /** `body` as many times as it fits (and `gate` allows), maybe none. */
  protected many(body: () => unknown, gate?: () => boolean): void {
    for (;;) {
      if (gate !== undefined && !gate()) return;
      const at = this.#pos;
      if (!this.#attempt(body) || this.#pos === at) return;
    }
  }

  /** `body` at least once, then as many times as it fits. */
  protected oneOrMore(body: () => unknown): void {
    body();
    this.many(body);
  }

  /** `body`, then `sep` and `body` again as long as `sep` comes next. */
  protected sep(sep: TokenType, body: () => unknown): void {
    body();
    while (this.is(sep)) {
      this.#pos++;
      body();
    }
  }

  /** Like `sep`, but the list may be empty. */
  protected sepOpt(sep: TokenType, body: () => unknown): void {
    if (this.#attempt(body)) {
      while (this.is(sep)) {
        this.#pos++;
        body();
      }
    }
  }

  /** The first alternative that fits the next token. */
  protected or(alternatives: readonly Alternative[]): void {
    for (const a of alternatives) {
      if (typeof a === "function") {
        if (this.#attempt(a)) return;
      } else if (a.GATE() && this.#attempt(a.ALT)) return;
    }
    throw MISMATCH;
  }
}
