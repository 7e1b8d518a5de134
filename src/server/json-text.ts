/**
 * JSON text decoded without holding the server's thread (issue 17, point 3). `JSON.parse` is one
 * block: a 2.6 MB Hrana batch of 50,000 steps held the thread ~110–180 ms, and every other
 * tenant's request waited. Large texts are decoded a container at a time instead: a long
 * container's members go to `JSON.parse` a run of short ones at a time, and a member long by
 * itself is decoded the same way, with a turn of the event loop between runs (`Pace`). Every
 * value still comes from `JSON.parse` (runs of members, strings, numbers, literals), so what is
 * accepted, and what each value becomes, is what `JSON.parse` makes of the same text; this
 * module only finds where values begin and end.
 */

import { Pace } from "../engine/pace.js";

/** Texts shorter than this are decoded by `JSON.parse` in one go (a few ms at most). */
const WHOLE_TEXT = 1 << 20;
/** A container whose text is shorter than this is decoded by `JSON.parse` in one go. */
const WHOLE_CONTAINER = 32 * 1024;
/**
 * Containers nested deeper are decoded by `JSON.parse` whole, however long (a walk holds a frame
 * per level: 16 MB of `[` would hold millions; `JSON.parse` refuses such depth by itself).
 */
const WALK_DEPTH = 32;

/** Thrown for text that is not JSON (the caller says so in its own words). */
export class JsonTextError extends Error {}

/**
 * Decodes JSON text as `JSON.parse` would (no reviver), yielding while it works on a long text.
 * Throws `JsonTextError` (or `JSON.parse`'s `SyntaxError`) for text that is not JSON.
 */
export async function decodeJsonText(
  text: string,
  options: { wholeText?: number; wholeContainer?: number } = {},
): Promise<unknown> {
  if (text.length < (options.wholeText ?? WHOLE_TEXT)) return JSON.parse(text);
  const decoder = new Decoder(text, options.wholeContainer ?? WHOLE_CONTAINER);
  const value = await decoder.value();
  decoder.end();
  return value;
}

class Decoder {
  #at = 0;
  #depth = 0;
  readonly #pace = new Pace();

  constructor(
    readonly text: string,
    readonly whole: number,
  ) {}

  /** The value at the cursor (after any whitespace); the cursor moves past it. */
  async value(): Promise<unknown> {
    this.#space();
    const c = this.text.charCodeAt(this.#at);
    if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (this.#depth >= WALK_DEPTH) {
        // Its whole text to JSON.parse: up to its closing bracket (where its members end).
        const close = this.#run(this.#at + 1, Number.POSITIVE_INFINITY);
        const b = this.text.charCodeAt(close);
        if (close < 0 || (b !== 0x5d && b !== 0x7d)) {
          throw new JsonTextError("unterminated array or object");
        }
        return this.#leaf(close + 1);
      }
      this.#depth++;
      try {
        return await this.#container(c);
      } finally {
        this.#depth--;
      }
    }
    return this.#leaf(this.#scalarEnd(this.#at));
  }

  /** Fails unless only whitespace is left. */
  end(): void {
    this.#space();
    if (this.#at !== this.text.length) throw new JsonTextError("unexpected text after the value");
  }

  /**
   * The members of the container at the cursor (too long to decode whole): runs of members that
   * together are short are decoded by one `JSON.parse` each; a member long by itself is walked.
   */
  async #container(open: number): Promise<unknown> {
    const isArray = open === 0x5b;
    const close = isArray ? 0x5d : 0x7d;
    const out: unknown[] | Record<string, unknown> = isArray ? [] : {};
    this.#at++;
    this.#space();
    if (this.#take(close)) return out;
    for (;;) {
      await this.#pace.turn();
      const start = this.#at;
      const cut = this.#run(start, this.whole);
      if (cut === start) throw new JsonTextError("expected a value");
      if (cut < 0) {
        // One member, long by itself.
        if (isArray) (out as unknown[]).push(await this.value());
        else {
          if (this.text.charCodeAt(this.#at) !== 0x22) throw new JsonTextError("expected a key");
          const key = this.#leaf(this.#scalarEnd(this.#at)) as string;
          this.#space();
          this.#expect(0x3a /* : */);
          define(out as Record<string, unknown>, key, await this.value());
        }
      } else {
        const members = this.text.slice(start, cut);
        if (isArray) {
          for (const v of JSON.parse(`[${members}]`) as unknown[]) (out as unknown[]).push(v);
        } else {
          const part = JSON.parse(`{${members}}`) as Record<string, unknown>;
          for (const k of Object.keys(part)) define(out as Record<string, unknown>, k, part[k]);
        }
        this.#at = cut;
      }
      this.#space();
      if (this.#take(close)) return out;
      this.#expect(0x2c /* , */);
      this.#space();
    }
  }

  /**
   * From `start` (a member's beginning in a container), where a run of whole members ends: the
   * `,` or closing bracket after the last of them, once the run is `whole` characters long or the
   * container ends; -1 when the first member alone is longer than that.
   */
  #run(start: number, whole: number): number {
    const text = this.text;
    let depth = 0;
    let member = start;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) i = this.#stringEnd(i) - 1;
      else if (c === 0x5b || c === 0x7b) depth++;
      else if (c === 0x5d || c === 0x7d) {
        if (depth === 0) return i;
        depth--;
      } else if (c === 0x2c && depth === 0) {
        if (i - start >= whole) return i;
        member = i + 1;
      }
      if (i - member > whole) return member === start ? -1 : member - 1;
    }
    return member === start ? -1 : member - 1;
  }

  /** `JSON.parse` of the text from the cursor to `end`; the cursor moves to `end`. */
  #leaf(end: number): unknown {
    const v: unknown = JSON.parse(this.text.slice(this.#at, end));
    this.#at = end;
    return v;
  }

  /** Where the string starting (with its quote) at `from` ends, after its closing quote. */
  #stringEnd(from: number): number {
    const text = this.text;
    let i = from + 1;
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0) throw new JsonTextError("unterminated string");
      // Escaped when an odd number of backslashes precede it.
      let b = q - 1;
      while (b > from && text.charCodeAt(b) === 0x5c) b--;
      if ((q - 1 - b) % 2 === 0) return q + 1;
      i = q + 1;
    }
  }

  /** Where the scalar (string, number, literal) at `from` ends. */
  #scalarEnd(from: number): number {
    const text = this.text;
    if (text.charCodeAt(from) === 0x22) return this.#stringEnd(from);
    let i = from;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x3a || isSpace(c)) break;
      i++;
    }
    if (i === from) throw new JsonTextError("expected a value");
    return i;
  }

  #space(): void {
    const text = this.text;
    while (this.#at < text.length && isSpace(text.charCodeAt(this.#at))) this.#at++;
  }

  #take(c: number): boolean {
    if (this.text.charCodeAt(this.#at) !== c) return false;
    this.#at++;
    return true;
  }

  #expect(c: number): void {
    if (!this.#take(c)) throw new JsonTextError(`expected '${String.fromCharCode(c)}'`);
  }
}

/** JSON's whitespace: space, tab, line feed, carriage return. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Sets `key` as `JSON.parse` does: a property of its own (a `__proto__` key too), last one wins. */
function define(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
}
