/**
 * Hrana wire types (reference §1.3–1.6) and their decoders. Each decoder is named after the type
 * it returns and throws a {@link ProtoError} naming the bad field; nothing here executes SQL.
 */
import type { InValue } from "../../engine/values.js";
import { ProtoError } from "./proto-error.js";
import { decodeValue, type HranaValue } from "./values.js";

/** A statement: SQL text or a stored SQL id, with positional or named arguments. */
export interface Stmt {
  readonly sql: string | undefined;
  readonly sqlId: number | undefined;
  readonly args: InValue[];
  readonly namedArgs: [string, InValue][];
  readonly wantRows: boolean;
}

/** A batch condition. */
export type Cond =
  | { readonly type: "ok" | "error"; readonly step: number }
  | { readonly type: "not"; readonly cond: Cond }
  | { readonly type: "and" | "or"; readonly conds: readonly Cond[] }
  | { readonly type: "is_autocommit" };

/** One batch step. */
export interface BatchStep {
  readonly condition: Cond | undefined;
  readonly stmt: Stmt;
}

/** A request of a stream (HTTP pipeline entry or WebSocket request). */
export type StreamRequest =
  | { readonly type: "execute"; readonly stmt: Stmt }
  | { readonly type: "batch"; readonly steps: readonly BatchStep[] }
  | {
      readonly type: "sequence" | "describe";
      readonly sql: string | undefined;
      readonly sqlId: number | undefined;
    }
  | { readonly type: "store_sql"; readonly sqlId: number; readonly sql: string }
  | { readonly type: "close_sql"; readonly sqlId: number }
  | { readonly type: "get_autocommit" }
  | { readonly type: "close" };

/** The body of `POST /v2|v3/pipeline`. */
export interface PipelineRequest {
  readonly baton: string | null;
  readonly requests: readonly StreamRequest[];
}

/** The body of `POST /v3/cursor`. */
export interface CursorRequest {
  readonly baton: string | null;
  readonly steps: readonly BatchStep[];
}

/** A column of a result. */
export interface HranaCol {
  name: string | null;
  decltype: string | null;
}

/** An executed statement's result (reference §1.5). */
export interface StmtResult {
  cols: HranaCol[];
  rows: HranaValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  replication_index: null;
  rows_read: number;
  rows_written: number;
  query_duration_ms: number;
}

/** An error as Hrana carries it. */
export interface HranaError {
  message: string;
  code: string;
}

/** Deepest condition nesting accepted. */
const MAX_COND_DEPTH = 100;

function obj(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ProtoError(`${what} must be a JSON object`);
  }
  return v as Record<string, unknown>;
}

function optString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new ProtoError(`${what} must be a string`);
  return v;
}

function optInt(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    throw new ProtoError(`${what} must be an integer`);
  }
  return v;
}

function int(v: unknown, what: string): number {
  const n = optInt(v, what);
  if (n === undefined) throw new ProtoError(`${what} is required`);
  return n;
}

/** Decodes a `Stmt`. */
export function stmtFrom(v: unknown): Stmt {
  const o = obj(v, "stmt");
  const sql = optString(o.sql, "stmt.sql");
  const sqlId = optInt(o.sql_id, "stmt.sql_id");
  if ((sql === undefined) === (sqlId === undefined)) {
    throw new ProtoError("stmt needs exactly one of sql and sql_id");
  }
  let args: InValue[] = [];
  if (o.args !== undefined && o.args !== null) {
    if (!Array.isArray(o.args)) throw new ProtoError("stmt.args must be an array");
    args = o.args.map(decodeValue);
  }
  const namedArgs: [string, InValue][] = [];
  if (o.named_args !== undefined && o.named_args !== null) {
    if (!Array.isArray(o.named_args)) throw new ProtoError("stmt.named_args must be an array");
    for (const a of o.named_args) {
      const na = obj(a, "a named argument");
      if (typeof na.name !== "string") throw new ProtoError("a named argument needs a name");
      namedArgs.push([na.name, decodeValue(na.value)]);
    }
  }
  const wantRows = o.want_rows === undefined || o.want_rows === null ? true : o.want_rows;
  if (typeof wantRows !== "boolean") throw new ProtoError("stmt.want_rows must be a boolean");
  return { sql, sqlId, args, namedArgs, wantRows };
}

/** Decodes a batch condition; `step` must name an earlier step. */
export function condFrom(v: unknown, stepIndex: number, depth = 0): Cond {
  if (depth > MAX_COND_DEPTH) throw new ProtoError("batch condition is nested too deeply");
  const o = obj(v, "condition");
  switch (o.type) {
    case "ok":
    case "error": {
      const step = int(o.step, "condition.step");
      if (step < 0 || step >= stepIndex) {
        throw new ProtoError("Invalid reference to step in a batch condition");
      }
      return { type: o.type, step };
    }
    case "not":
      return { type: "not", cond: condFrom(o.cond, stepIndex, depth + 1) };
    case "and":
    case "or": {
      if (!Array.isArray(o.conds)) throw new ProtoError("condition.conds must be an array");
      return { type: o.type, conds: o.conds.map((c) => condFrom(c, stepIndex, depth + 1)) };
    }
    case "is_autocommit":
      return { type: "is_autocommit" };
    default:
      throw new ProtoError(
        `unknown batch condition type ${JSON.stringify(String(o.type)).slice(0, 40)}`,
      );
  }
}

/** Decodes a `Batch` (`{steps}`). */
export function batchStepsFrom(v: unknown): BatchStep[] {
  const o = obj(v, "batch");
  if (!Array.isArray(o.steps)) throw new ProtoError("batch.steps must be an array");
  return o.steps.map((s, i) => {
    const step = obj(s, "batch step");
    const condition =
      step.condition === undefined || step.condition === null
        ? undefined
        : condFrom(step.condition, i);
    return { condition, stmt: stmtFrom(step.stmt) };
  });
}

/** Decodes one stream request. */
export function streamRequestFrom(v: unknown): StreamRequest {
  const o = obj(v, "request");
  switch (o.type) {
    case "execute":
      return { type: "execute", stmt: stmtFrom(o.stmt) };
    case "batch":
      return { type: "batch", steps: batchStepsFrom(o.batch) };
    case "sequence":
    case "describe": {
      const sql = optString(o.sql, `${o.type}.sql`);
      const sqlId = optInt(o.sql_id, `${o.type}.sql_id`);
      if ((sql === undefined) === (sqlId === undefined)) {
        throw new ProtoError(`${o.type} needs exactly one of sql and sql_id`);
      }
      return { type: o.type, sql, sqlId };
    }
    case "store_sql": {
      const sql = optString(o.sql, "store_sql.sql");
      if (sql === undefined) throw new ProtoError("store_sql.sql is required");
      return { type: "store_sql", sqlId: int(o.sql_id, "store_sql.sql_id"), sql };
    }
    case "close_sql":
      return { type: "close_sql", sqlId: int(o.sql_id, "close_sql.sql_id") };
    case "get_autocommit":
      return { type: "get_autocommit" };
    case "close":
      return { type: "close" };
    default:
      throw new ProtoError(
        `unknown request type ${JSON.stringify(String(o.type)).slice(0, 40)}: expected execute, batch, sequence, describe, store_sql, close_sql, get_autocommit or close`,
      );
  }
}

/** Decodes a pipeline body. */
export function pipelineRequestFrom(v: unknown): PipelineRequest {
  const o = obj(v, "pipeline body");
  const baton = optString(o.baton, "baton") ?? null;
  if (!Array.isArray(o.requests)) throw new ProtoError("requests must be an array");
  return { baton, requests: o.requests.map(streamRequestFrom) };
}

/** Decodes a cursor body. */
export function cursorRequestFrom(v: unknown): CursorRequest {
  const o = obj(v, "cursor body");
  const baton = optString(o.baton, "baton") ?? null;
  return { baton, steps: batchStepsFrom(o.batch) };
}
