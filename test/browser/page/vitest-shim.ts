/**
 * The part of vitest's API the storage conformance suite uses (describe, it, afterEach, expect
 * with its matchers), for running that suite unchanged in a browser page. The build aliases
 * `vitest` to this file.
 */

import { tenantliteErrorMismatch } from "../../error-match.js";

type Fn = () => unknown;
interface Case {
  readonly name: string;
  readonly fn: Fn;
  readonly afterEach: Fn[];
}

const cases: Case[] = [];
const suites: string[] = [];
const hooks: Fn[][] = [[]];

export function describe(name: string, body: () => void): void {
  suites.push(name);
  hooks.push([...(hooks[hooks.length - 1] ?? [])]);
  try {
    body();
  } finally {
    suites.pop();
    hooks.pop();
  }
}

export function it(name: string, fn: Fn): void {
  cases.push({ name: [...suites, name].join(" > "), fn, afterEach: hooks[hooks.length - 1]! });
}
export const test = it;

export function afterEach(fn: Fn): void {
  hooks[hooks.length - 1]!.push(fn);
}

/** One case's outcome. */
export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

/** Runs every registered case in order, each with its afterEach hooks, bounded by `timeoutMs`. */
export async function runAll(timeoutMs = 30_000): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const t0 = performance.now();
    let error: string | undefined;
    try {
      await Promise.race([
        c.fn(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs),
        ),
      ]);
    } catch (e) {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    for (const hook of c.afterEach) {
      try {
        await hook();
      } catch (e) {
        error ??= `afterEach: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    results.push({
      name: c.name,
      ok: error === undefined,
      ms: performance.now() - t0,
      ...(error === undefined ? {} : { error }),
    });
  }
  return results;
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** vitest's `toEqual`: recursive equality of values, arrays, typed arrays and plain objects. */
export function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    const x = a as unknown as ArrayLike<unknown>;
    const y = b as unknown as ArrayLike<unknown>;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

class Assertion {
  constructor(
    private readonly actual: unknown,
    private readonly label: string | undefined,
  ) {}

  private check(ok: boolean, what: string): void {
    if (!ok)
      throw new Error(
        `${this.label ? `${this.label}: ` : ""}expected ${show(this.actual)} ${what}`,
      );
  }
  toBe(expected: unknown): void {
    this.check(Object.is(this.actual, expected), `to be ${show(expected)}`);
  }
  toEqual(expected: unknown): void {
    this.check(equal(this.actual, expected), `to equal ${show(expected)}`);
  }
  toBeUndefined(): void {
    this.check(this.actual === undefined, "to be undefined");
  }
  toBeDefined(): void {
    this.check(this.actual !== undefined, "to be defined");
  }
  toBeInstanceOf(type: abstract new (...args: never[]) => unknown): void {
    this.check(this.actual instanceof type, `to be an instance of ${type.name}`);
  }
  toBeGreaterThan(n: number): void {
    this.check((this.actual as number) > n, `to be greater than ${n}`);
  }
  toBeLessThanOrEqual(n: number): void {
    this.check((this.actual as number) <= n, `to be at most ${n}`);
  }
  toMatch(re: RegExp | string): void {
    const s = String(this.actual);
    this.check(typeof re === "string" ? s.includes(re) : re.test(s), `to match ${String(re)}`);
  }
  /** test/setup.ts's matcher, on a value (or what a function throws). */
  toBeTenantliteError(code: string, message?: RegExp): void {
    let error = this.actual;
    if (typeof error === "function") {
      try {
        (error as () => unknown)();
        error = undefined;
      } catch (e) {
        error = e;
      }
    }
    const mismatch = tenantliteErrorMismatch(error, code, message);
    if (mismatch !== undefined) {
      throw new Error(
        `${this.label ? `${this.label}: ` : ""}expected a ${code} error, but ${mismatch}`,
      );
    }
  }
  /** `.rejects`: the promise's (or the function's promise's) rejection, then the matcher. */
  get rejects(): { toBeTenantliteError(code: string, message?: RegExp): Promise<void> } {
    const { actual, label } = this;
    return {
      async toBeTenantliteError(code, message) {
        let error: unknown;
        let rejected = false;
        try {
          await (typeof actual === "function" ? actual() : actual);
        } catch (e) {
          error = e;
          rejected = true;
        }
        if (!rejected) throw new Error(`expected a ${code} rejection, but the promise resolved`);
        new Assertion(error, label).toBeTenantliteError(code, message);
      },
    };
  }
}

export function expect(actual: unknown, label?: string): Assertion {
  return new Assertion(actual, label);
}
