/**
 * One Hrana stream: a logical connection onto a tenant plus the SQL texts stored on it. It runs
 * stream requests (execute, batch with conditions, sequence, describe, store/close SQL,
 * get_autocommit, close) and turns every outcome into a Hrana result; only a closed stream throws.
 */
import { classify } from "../../../parser/index.js";
import { firstWord } from "../../engine/connection.js";
import type { SqlConnection as Connection } from "../../engine/connection-policy.js";
import {
  type InArgs,
  type InValue,
  type ResultSet,
  resultTooLarge,
  valueSize,
} from "../../engine/values.js";
import { TenantliteError } from "../../errors.js";
import {
  type BatchStepSpec,
  namedBefore,
  runConditionally,
  type StepRunner,
} from "../../platform/batch-steps.js";
import type { AccessPolicy } from "../../platform/types.js";
import type { InternalErrorReport } from "../http.js";
import { toHranaError } from "./errors.js";
import type { BatchStep, HranaError, Stmt, StmtResult, StreamRequest } from "./proto.js";
import { encodeValue } from "./values.js";

/** A stream request's outcome, as the pipeline returns it. */
export type StreamResult =
  | { type: "ok"; response: { type: string; [key: string]: unknown } }
  | { type: "error"; error: HranaError };

/** Limits on the SQL texts a client may store. */
export interface SqlStoreLimits {
  /** Most stored texts (sqld: 50 per HTTP stream). */
  readonly maxCount: number;
  /** Longest text, in UTF-16 units (sqld: 5 KB). */
  readonly maxLength: number;
}

/** Stored SQL texts by id: per HTTP stream, per WebSocket connection. */
export class SqlStore {
  private readonly texts = new Map<number, string>();
  constructor(private readonly limits: SqlStoreLimits) {}

  store(id: number, sql: string): void {
    if (sql.length > this.limits.maxLength) {
      throw new TenantliteError(
        "SQL_STORE_TOO_LARGE",
        `SQL text is too large to store (${sql.length} > ${this.limits.maxLength} characters)`,
      );
    }
    if (!this.texts.has(id) && this.texts.size >= this.limits.maxCount) {
      throw new TenantliteError(
        "SQL_STORE_TOO_MANY",
        `Too many stored SQL texts (at most ${this.limits.maxCount}); close some with close_sql`,
      );
    }
    this.texts.set(id, sql);
  }

  close(id: number): void {
    this.texts.delete(id);
  }

  /** The SQL of `sql` or `sqlId`. */
  resolve(sql: string | undefined, sqlId: number | undefined): string {
    if (sql !== undefined) return sql;
    const text = this.texts.get(sqlId!);
    if (text === undefined) {
      throw new TenantliteError("SQL_NOT_FOUND", `SQL text with id ${sqlId} was not found`);
    }
    return text;
  }
}

/** Executes stream requests on one connection. */
export class HranaStream {
  private closedFlag = false;

  constructor(
    readonly conn: Connection,
    readonly sqls: SqlStore,
    /** What the stream may do; replaced when a later request brings another token. */
    public access: AccessPolicy,
    /** Where unexpected failures go (the server's log); the client gets `INTERNAL_ERROR`. */
    readonly report?: InternalErrorReport,
  ) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Closes the connection (rolling back any open transaction). */
  close(): void {
    this.closedFlag = true;
    this.conn.close();
  }

  /**
   * Runs one request (the platform's statement guard applies the database's current config).
   * `room`: what its rows may take of what is left to a larger response it is part of (an HTTP
   * pipeline's), taken from it; its own limit applies within it.
   */
  async handle(req: StreamRequest, room?: ResponseBudget): Promise<StreamResult> {
    try {
      return { type: "ok", response: await this.run(req, room) };
    } catch (e) {
      return { type: "error", error: toHranaError(e, this.report) };
    }
  }

  /** Runs an `execute` request's statement. */
  private executeStmt(stmt: Stmt, budget: ResponseBudget): Promise<StmtResult> {
    return this.execute(this.sqls.resolve(stmt.sql, stmt.sqlId), stmt, budget);
  }

  /** Checks a whole batch before any step runs: stored SQL, syntax and permissions. */
  private async prepareBatch(steps: readonly BatchStep[]): Promise<string[]> {
    const texts = steps.map((s) => this.sqls.resolve(s.stmt.sql, s.stmt.sqlId));
    for (const sql of texts) {
      if (classify(sql).errors.length > 0) await this.confirmSyntaxError(sql);
    }
    return texts;
  }

  /**
   * Runs a cursor's batch, handing each entry to `push` (Hrana 3's cursor entries: a batch that
   * cannot run is one `error` entry). `shared`: one response-size limit for all steps (a
   * WebSocket cursor, whose entries wait in the server until fetched); without it each step has
   * the whole limit (sqld streams a cursor's rows with no limit at all; this server reads a
   * statement's rows whole, so it keeps the per-statement one).
   */
  async cursor(
    steps: readonly BatchStep[],
    push: (entry: object) => void,
    shared?: ResponseBudget,
  ): Promise<void> {
    let texts: string[];
    try {
      texts = await this.prepareBatch(steps);
    } catch (e) {
      push({ type: "error", error: toHranaError(e, this.report) });
      return;
    }
    try {
      await this.runSteps(steps, texts, shared, (i, r, error) => {
        if (error !== undefined) push({ type: "step_error", step: i, error });
        if (r === undefined) return;
        push({ type: "step_begin", step: i, cols: r.cols });
        for (const row of r.rows) push({ type: "row", row });
        push({
          type: "step_end",
          affected_row_count: r.affected_row_count,
          last_insert_rowid: r.last_insert_rowid,
        });
      });
    } catch (e) {
      // The batch as a whole failed (on a tenant thread, see `runSteps`): nothing of it was sent.
      push({ type: "error", error: toHranaError(e, this.report) });
    }
  }

  /**
   * Runs a batch's steps (`texts`: their SQL, from `prepareBatch`) in order, each unless its
   * condition says not, with `budget` for all of them (without one, each its own limit);
   * `each` hears every step's result or error (a skipped step: neither).
   *
   * A connection on a tenant thread runs a batch that begins a transaction (as every batch of
   * `@libsql/client` does) there up to `STEPS_PER_REQUEST` steps a request (`StepRunner`), not
   * one round trip per step; if such a request fails as a whole (its thread was stopped or
   * restarted under it), so does the batch, after what `each` heard of the slices before: its
   * transaction was gone with the thread anyway. Other batches run step by step, each step's
   * outcome told as it happened.
   */
  private async runSteps(
    steps: readonly BatchStep[],
    texts: readonly string[],
    budget: ResponseBudget | undefined,
    each: (step: number, result?: StmtResult, error?: HranaError) => void,
  ): Promise<void> {
    const runner = this.conn as Connection & Partial<StepRunner>;
    const specs =
      runner.steps === undefined || firstWord(texts[0] ?? "") !== "BEGIN"
        ? undefined
        : stepSpecs(steps, texts);
    if (specs !== undefined) {
      // A slice at a time: what the thread sends back, and what this thread makes of it, stay
      // small enough not to hold up other requests (a 50,000-step batch in one answer kept other
      // tenants' point reads waiting up to ~200 ms).
      const before: boolean[] = [];
      for (let from = 0; from < specs.length; from += STEPS_PER_REQUEST) {
        const limit = { bytes: budget?.left ?? MAX_RESPONSE_BYTES, shared: budget !== undefined };
        const slice = specs.slice(from, from + STEPS_PER_REQUEST);
        const named = namedBefore(slice, from, before);
        const outcomes = await runner.steps!(slice, "bigint", limit, from, named);
        for (let j = 0; j < outcomes.length; j++) {
          const i = from + j;
          const { result, error, ms } = outcomes[j]!;
          // (As the thread saw it: the conditions of the steps after it followed that.)
          before.push(result !== undefined);
          if (result === undefined) {
            each(i, undefined, error === undefined ? undefined : toHranaError(error, this.report));
            continue;
          }
          let converted: StmtResult;
          try {
            converted = toStmtResult(result, steps[i]!.stmt.wantRows, ms ?? 0, budget);
          } catch (e) {
            each(i, undefined, toHranaError(e, this.report));
            continue;
          }
          each(i, converted);
        }
      }
      return;
    }
    await runConditionally(
      steps,
      [],
      () => this.conn.inTransaction,
      (i) => this.execute(texts[i]!, steps[i]!.stmt, budget),
      (i, result, error) =>
        each(i, result, error === undefined ? undefined : toHranaError(error, this.report)),
    );
  }

  private async run(
    req: StreamRequest,
    room: ResponseBudget | undefined,
  ): Promise<{ type: string; [key: string]: unknown }> {
    if (this.closedFlag && req.type !== "close") {
      throw new TenantliteError("STREAM_CLOSED", "Stream for this baton was closed");
    }
    // One response's limit, within the room left (the rows a request returned leave less).
    const budget = { left: Math.min(MAX_RESPONSE_BYTES, room?.left ?? MAX_RESPONSE_BYTES) };
    const start = budget.left;
    const taken = <T>(result: T): T => {
      if (room !== undefined) room.left -= start - budget.left;
      return result;
    };
    switch (req.type) {
      case "execute":
        return { type: "execute", result: taken(await this.executeStmt(req.stmt, budget)) };
      case "batch":
        return { type: "batch", result: taken(await this.batch(req.steps, budget)) };
      case "sequence": {
        const sql = this.sqls.resolve(req.sql, req.sqlId);
        // A script sends no rows: what an earlier batch left of its limit is not this one's.
        this.conn.maxResultBytes = undefined;
        await this.conn.executeScript(sql);
        return { type: "sequence" };
      }
      case "describe": {
        const sql = this.sqls.resolve(req.sql, req.sqlId);
        const d = await this.conn.describe(sql);
        return {
          type: "describe",
          result: {
            params: d.params.map((name) => ({ name })),
            cols: d.cols.map((c) => ({ name: c.name, decltype: c.decltype })),
            is_explain: d.isExplain,
            is_readonly: d.isReadonly,
          },
        };
      }
      case "store_sql":
        this.sqls.store(req.sqlId, req.sql);
        return { type: "store_sql" };
      case "close_sql":
        this.sqls.close(req.sqlId);
        return { type: "close_sql" };
      case "get_autocommit":
        return { type: "get_autocommit", is_autocommit: !this.conn.inTransaction };
      case "close":
        this.close();
        return { type: "close" };
    }
  }

  private async batch(steps: readonly BatchStep[], budget: ResponseBudget) {
    const texts = await this.prepareBatch(steps);
    const stepResults: (StmtResult | null)[] = [];
    const stepErrors: (HranaError | null)[] = [];
    // One limit for all the steps' rows, as sqld counts a batch's response.
    await this.runSteps(steps, texts, budget, (_i, result, error) => {
      stepResults.push(result ?? null);
      stepErrors.push(error ?? null);
    });
    return { step_results: stepResults, step_errors: stepErrors, replication_index: null };
  }

  private async execute(
    sql: string,
    stmt: Stmt,
    budget: ResponseBudget = responseBudget(),
  ): Promise<StmtResult> {
    const started = performance.now();
    // The engine stops reading where this response's limit ends (set for every statement: the
    // stream's connection has no limit of its own).
    this.conn.maxResultBytes = budget.left;
    const rs = await this.conn.execute(sql, argsOf(stmt), "bigint");
    return toStmtResult(rs, stmt.wantRows, performance.now() - started, budget);
  }

  /** The parser found a syntax error: trust it only if SQLite agrees. */
  private async confirmSyntaxError(sql: string): Promise<void> {
    try {
      await this.conn.describe(sql);
    } catch (e) {
      if (e instanceof TenantliteError && e.code === "SQL_PARSE_ERROR") throw e;
    }
  }
}

/**
 * A batch's steps for a `StepRunner`; undefined when a step's arguments are invalid (the steps
 * then run one by one, that step failing on its own).
 */
function stepSpecs(
  steps: readonly BatchStep[],
  texts: readonly string[],
): BatchStepSpec[] | undefined {
  const specs: BatchStepSpec[] = [];
  for (let i = 0; i < steps.length; i++) {
    const { stmt, condition } = steps[i]!;
    let args: InArgs | undefined;
    try {
      args = argsOf(stmt);
    } catch {
      return undefined;
    }
    specs.push({ sql: texts[i]!, args, wantRows: stmt.wantRows, condition });
  }
  return specs;
}

function argsOf(stmt: Stmt): InArgs | undefined {
  if (stmt.namedArgs.length === 0) return stmt.args.length === 0 ? undefined : stmt.args;
  if (stmt.args.length > 0) {
    throw new TenantliteError(
      "ARGS_BOTH_POSITIONAL_AND_NAMED",
      "Statement has both positional and named arguments",
    );
  }
  const named: Record<string, InValue> = {};
  for (const [name, value] of stmt.namedArgs) {
    Object.defineProperty(named, name, { value, enumerable: true, writable: true });
  }
  return named;
}

/** The largest result one statement may send (sqld's default `max_response_size`). */
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

/** Steps of a batch sent to a tenant thread in one request (see `runSteps`). */
const STEPS_PER_REQUEST = 64;

/** What is left of one response's size limit (sqld's `max_response_size`). */
export interface ResponseBudget {
  left: number;
}

export function responseBudget(): ResponseBudget {
  return { left: MAX_RESPONSE_BYTES };
}

/**
 * A result set read in intMode `"bigint"` as a Hrana `StmtResult`; its rows are taken from
 * `budget` (`RESPONSE_TOO_LARGE` past it).
 */
export function toStmtResult(
  rs: ResultSet,
  wantRows: boolean,
  ms: number,
  budget: ResponseBudget = responseBudget(),
): StmtResult {
  const cols = rs.columns.map((name, i) => ({ name, decltype: rs.columnTypes[i] || null }));
  let size = 0;
  const rows = wantRows
    ? rs.rows.map((row) => {
        const out = new Array(cols.length);
        for (let i = 0; i < cols.length; i++) {
          const v = row[i]!;
          // Refused before building a huge body (a platform the server was given may read
          // results of any size; its own stops reading past the limit).
          size += valueSize(v);
          if (size > budget.left) throw resultTooLarge();
          out[i] = encodeValue(v);
        }
        return out;
      })
    : [];
  budget.left -= size;
  return {
    cols,
    rows,
    affected_row_count: rs.rowsAffected,
    last_insert_rowid: rs.lastInsertRowid === undefined ? null : rs.lastInsertRowid.toString(),
    replication_index: null,
    rows_read: 0,
    rows_written: 0,
    query_duration_ms: ms,
  };
}
