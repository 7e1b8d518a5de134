/**
 * Conditional batches (Hrana's `batch` request): steps run in order, each only when its
 * condition holds on the outcomes of the steps before it and the connection's state. The server
 * runs them on an in-process connection one by one; a connection on a tenant thread runs them
 * all in one request there (`SqlConnection.steps`), instead of one round trip to the thread each.
 */
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
  steps(
    steps: readonly BatchStepSpec[],
    intMode: IntMode,
    limit: StepsLimit,
  ): Promise<StepOutcome[]>;
}
