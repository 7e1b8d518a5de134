/**
 * Conditional batches (Hrana's `batch` request): steps run in order, each only when its
 * condition holds on the outcomes of the steps before it and the connection's state. The server
 * runs them on an in-process connection one by one; a connection on a tenant thread runs them
 * there a slice of steps per request (`StepRunner.steps`), instead of one round trip each.
 */
import { Pace } from "../engine/pace.js";
import type { InArgs, IntMode, ResultSet } from "../engine/values.js";

/** When a step runs (Hrana's `BatchCond`). */
export type StepCondition =
  | { readonly type: "ok" | "error"; readonly step: number }
  | { readonly type: "not"; readonly cond: StepCondition }
  | { readonly type: "and" | "or"; readonly conds: readonly StepCondition[] }
  | { readonly type: "is_autocommit" };

/**
 * Whether `cond` holds, `ok[i]` telling whether step i ran and succeeded (a skipped step did
 * not), `inTransaction` the connection's state now.
 */
export function conditionHolds(
  cond: StepCondition,
  ok: readonly boolean[],
  inTransaction: () => boolean,
): boolean {
  switch (cond.type) {
    case "ok":
      return ok[cond.step] === true;
    case "error":
      return ok[cond.step] !== true;
    case "not":
      return !conditionHolds(cond.cond, ok, inTransaction);
    case "and":
      return cond.conds.every((c) => conditionHolds(c, ok, inTransaction));
    case "or":
      return cond.conds.some((c) => conditionHolds(c, ok, inTransaction));
    case "is_autocommit":
      return !inTransaction();
  }
}

/**
 * Runs steps in order, each unless its condition says not (see `conditionHolds`), giving the
 * event loop a turn between them (`Pace`). `ok` holds the outcomes of the batch's steps before
 * these, indexed as in the whole batch (these are steps `ok.length` on), and gets theirs;
 * `run(j)` runs the j-th of `steps` and throws what failed; `each` hears every step's value or
 * error (a skipped step: neither), by its index in the whole batch.
 */
export async function runConditionally<T>(
  steps: readonly { readonly condition: StepCondition | undefined }[],
  ok: boolean[],
  inTransaction: () => boolean,
  run: (j: number) => Promise<T>,
  each: (step: number, value?: T, error?: unknown) => void,
): Promise<void> {
  const from = ok.length;
  const pace = new Pace();
  for (let j = 0; j < steps.length; j++) {
    await pace.turn();
    const condition = steps[j]!.condition;
    if (condition !== undefined && !conditionHolds(condition, ok, inTransaction)) {
      ok.push(false);
      each(from + j);
      continue;
    }
    let value: T;
    try {
      value = await run(j);
    } catch (e) {
      ok.push(false);
      each(from + j, undefined, e);
      continue;
    }
    ok.push(true);
    each(from + j, value);
  }
}

/** A step: its statement, whether its rows are wanted, and when it runs. */
export interface BatchStepSpec {
  readonly sql: string;
  readonly args: InArgs | undefined;
  /** Rows not wanted are not counted against the batch's result limit. */
  readonly wantRows: boolean;
  readonly condition: StepCondition | undefined;
}

/** What became of a step: skipped (neither), its result, or its error; `ms`: how long it ran. */
export interface StepOutcome {
  readonly result?: ResultSet;
  readonly error?: unknown;
  readonly ms?: number;
}

/** How a batch's steps share a result limit (bytes of the rows they return). */
export interface StepsLimit {
  /** The limit of the first step. */
  readonly bytes: number;
  /** One limit for all steps (each step's rows use up what is left), else each its own. */
  readonly shared: boolean;
}

/** Runs conditional steps on a connection (see the module's comment). */
export interface StepRunner {
  /**
   * Runs `steps`, the batch's from step `from` on; conditions name steps by their index in the
   * whole batch, and `before` holds the outcomes of earlier steps they name (`true`: ran and
   * succeeded; see `namedBefore`).
   */
  steps(
    steps: readonly BatchStepSpec[],
    intMode: IntMode,
    limit: StepsLimit,
    from: number,
    before: readonly (readonly [number, boolean])[],
  ): Promise<StepOutcome[]>;
}

/** The outcomes in `ok` of the steps before `from` that the conditions of `steps` name. */
export function namedBefore(
  steps: readonly BatchStepSpec[],
  from: number,
  ok: readonly boolean[],
): [number, boolean][] {
  const named = new Set<number>();
  const visit = (c: StepCondition): void => {
    if (c.type === "ok" || c.type === "error") {
      if (c.step < from) named.add(c.step);
    } else if (c.type === "not") visit(c.cond);
    else if (c.type === "and" || c.type === "or") for (const x of c.conds) visit(x);
  };
  for (const s of steps) if (s.condition !== undefined) visit(s.condition);
  return [...named].map((i) => [i, ok[i] === true]);
}
