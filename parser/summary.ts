import { type Collector, type ColumnDraft, unquote } from "./collector.js";
import { pragmaEffect } from "./pragmas.js";
import { type Token, Variable } from "./tokens.js";
import type {
  ColumnDefinition,
  ObjectRef,
  ResultShape,
  SourceShape,
  StatementSummary,
} from "./types.js";

const EMPTY: readonly never[] = Object.freeze([]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function freezeRefs(refs: readonly ObjectRef[]): readonly ObjectRef[] {
  if (refs.length === 0) return EMPTY;
  return Object.freeze(refs.map((r) => Object.freeze(r)));
}

function params(toks: readonly Token[], from: number, to: number): readonly string[] {
  let out: string[] | null = null;
  // Names seen (a set: a statement may have thousands of parameters).
  const seen = new Set<string>();
  for (let i = from; i < to; i++) {
    const t = toks[i]!;
    if (t.tokenType !== Variable) continue;
    out ??= [];
    if (t.image === "?") out.push(t.image);
    else if (!seen.has(t.image)) {
      seen.add(t.image);
      out.push(t.image);
    }
  }
  return out === null ? EMPTY : Object.freeze(out);
}

function lower(s: string): string {
  return s.toLowerCase();
}

function columnDefinition(src: string, base: number, d: ColumnDraft): ColumnDefinition {
  const start = d.first.startOffset;
  const end = d.last.endOffset + 1;
  return Object.freeze({
    name: unquote(d.name.image),
    nameToken: d.name.image,
    type: d.type === null ? null : src.slice(d.type.first.startOffset, d.type.last.endOffset + 1),
    text: src.slice(start, end),
    start: start - base,
    end: end - base,
    primaryKey: d.primaryKey,
    autoincrement: d.autoincrement,
    unique: d.unique,
    generated: d.generated,
    collate: d.collate,
  });
}

function text(src: string, span: { first: Token; last: Token }): string {
  return src.slice(span.first.startOffset, span.last.endOffset + 1);
}

/** The statement's result columns (see `ResultShape`), when the grammar recorded them. */
function resultShape(c: Collector): ResultShape | undefined {
  const r = c.result;
  if (r === null || r.first === null || r.last === null) return undefined;
  const span = { first: r.first, last: r.last };
  let query: string | null = null;
  if (r.kind === "returning") {
    if (c.targetSpan === null) return undefined;
    query = `SELECT ${text(c.src, span)} FROM ${text(c.src, c.targetSpan)}`;
  } else if (r.compound || r.kind === "view") {
    const withClause = c.withClause === null ? "" : `${text(c.src, c.withClause)} `;
    query = withClause + text(c.src, span);
  }
  let from: SourceShape[] | null = r.sources === null ? null : [];
  for (const x of r.sources ?? []) {
    // (RETURNING's target is a table, whatever the WITH clause defines.)
    const cte =
      r.kind !== "returning" && x.schema === null && x.query === undefined
        ? cteSource(c, x)
        : undefined;
    if (cte === null) {
      from = null; // a name some inner WITH defines: what it stands for depends on where
      break;
    }
    from?.push(Object.freeze(cte ?? x));
  }
  return Object.freeze({
    query,
    columns: Object.freeze(r.columns),
    from: from === null ? null : Object.freeze(from),
  });
}

/**
 * A FROM item that names a CTE of the statement's own WITH clause, as a subquery: its SELECT
 * after the CTEs defined before it; undefined when it names no CTE, null when it names one an
 * inner WITH defines.
 */
function cteSource(c: Collector, x: SourceShape): SourceShape | null | undefined {
  const name = lower(x.name);
  const at = c.cteDefs.findIndex((d) => d.name === name);
  if (at < 0) return c.ctes.includes(name) ? null : undefined;
  const def = c.cteDefs[at]!;
  if (def.recursive) return null; // its SELECT may name itself: no subquery of its own
  const before =
    at === 0
      ? ""
      : `WITH ${text(c.src, { first: c.cteDefs[0]!.first, last: c.cteDefs[at - 1]!.last })} `;
  const source: Mutable<SourceShape> = {
    schema: null,
    name: x.name,
    alias: x.alias,
    query: before + text(c.src, def.select),
  };
  if (def.columns !== null) source.columns = Object.freeze(def.columns);
  return source;
}

/** Builds the frozen summary of a statement from what the grammar recorded. */
export function summarize(
  c: Collector,
  toks: readonly Token[],
  from: number,
  to: number,
): StatementSummary {
  const kind = c.kind!;
  const target = c.target;
  const temp = c.temp;
  // Unqualified names resolve to "main" here (or "temp" for TEMP objects); SQLite would also
  // find an unqualified TEMP table first, which a parser cannot know.
  const targetSchema =
    target === null
      ? "main"
      : target.schema !== null
        ? lower(target.schema)
        : temp
          ? "temp"
          : "main";
  const written: ObjectRef[] = [];
  if (target !== null) {
    written.push(target.schema === null && temp ? { schema: "temp", name: target.name } : target);
  }
  let readonly = false;
  let ddl = false;
  let schemas: string[] = [];
  switch (kind) {
    case "select":
      readonly = true;
      break;
    case "insert":
    case "update":
    case "delete":
      schemas = [targetSchema];
      break;
    case "create_table":
    case "create_index":
    case "create_view":
    case "create_trigger":
    case "create_virtual_table":
    case "drop_table":
    case "drop_index":
    case "drop_view":
    case "drop_trigger":
      ddl = true;
      schemas = [targetSchema];
      break;
    case "alter_table":
      ddl = true;
      schemas = [targetSchema];
      // Renames and DROP COLUMN also rewrite views and triggers in the temp schema (alter.c).
      if (
        c.alter !== "add_column" &&
        c.alter !== "constraint" &&
        c.alter !== "column" &&
        targetSchema !== "temp"
      ) {
        schemas.push("temp");
      }
      break;
    case "attach":
    case "detach":
    case "commit":
    case "rollback":
    case "savepoint":
    case "release":
      readonly = true;
      break;
    case "begin":
      // BEGIN IMMEDIATE/EXCLUSIVE opens write transactions on every schema (OP_Transaction p2=1).
      readonly = c.beginMode !== "immediate" && c.beginMode !== "exclusive";
      if (!readonly) schemas = ["*"];
      break;
    case "vacuum": {
      // VACUUM compiles to OP_Vacuum on its schema (not read-only); VACUUM temp is a no-op.
      const schema = c.objectArg === null ? "main" : lower(c.objectArg.name);
      readonly = schema === "temp";
      schemas = [schema];
      break;
    }
    case "analyze":
    case "reindex": {
      // ANALYZE may create sqlite_stat1 (a schema change); a bare name may be a schema, a
      // table, an index or (REINDEX) a collation, so it may write any schema.
      ddl = kind === "analyze";
      const arg = c.objectArg;
      if (arg === null) schemas = ["*"];
      else if (arg.schema !== null) schemas = [lower(arg.schema)];
      else schemas = ["*"];
      break;
    }
    case "pragma": {
      const p = c.pragma!;
      const eff = pragmaEffect(lower(p.name), p.value);
      readonly = !eff.write;
      ddl = eff.ddl;
      if (eff.schemaWrite) {
        schemas = [p.schema !== null ? lower(p.schema) : eff.allSchemas ? "*" : "main"];
      }
      break;
    }
  }
  if (readonly) schemas = [];
  // (A set: a statement may name thousands of CTEs and read as many.)
  const ctes = new Set(c.ctes);
  const reads =
    ctes.size === 0
      ? c.reads
      : c.reads.filter((r) => !(r.schema === null && ctes.has(lower(r.name))));
  const summary: Mutable<StatementSummary> = {
    kind,
    readonly,
    ddl,
    transaction: c.transaction,
    writes:
      kind === "analyze" || kind === "reindex" || kind === "vacuum" || kind === "pragma"
        ? EMPTY
        : freezeRefs(written),
    reads: freezeRefs(reads),
    temp,
    explain: false,
    params: params(toks, from, to),
    schemas: schemas.length === 0 ? EMPTY : Object.freeze(schemas),
  };
  const base = toks[from]!.startOffset;
  if ((kind === "create_table" || c.alter === "add_column") && c.columns.length > 0) {
    summary.columns = Object.freeze(c.columns.map((d) => columnDefinition(c.src, base, d)));
  }
  if (c.alter === "column_definition" && c.alterColumn !== null) {
    const definition = c.columns[c.columns.length - 1]!;
    summary.alterColumn = Object.freeze({
      column: unquote(c.alterColumn.image),
      columnToken: c.alterColumn.image,
      definition: columnDefinition(c.src, base, definition),
    });
  }
  if (c.attach !== null) summary.attach = Object.freeze(c.attach);
  if (c.detach !== null) summary.detach = Object.freeze(c.detach);
  if (c.vacuumInto) summary.vacuumInto = true;
  if (c.pragma !== null) summary.pragma = Object.freeze(c.pragma);
  const result = kind === "select" || summary.writes.length > 0 ? resultShape(c) : undefined;
  if (result !== undefined) summary.result = result;
  if (c.explain === false) return Object.freeze(summary);
  const inner = Object.freeze(summary);
  const { result: _explained, ...outer } = inner;
  return Object.freeze({
    ...outer,
    readonly: true,
    ddl: false,
    transaction: "none" as const,
    writes: EMPTY,
    schemas: EMPTY,
    explain: c.explain,
    inner,
  });
}
