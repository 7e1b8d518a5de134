import { beforeAll, describe, expect, it } from "vitest";
import { parse, type StatementSummary } from "../../parser/index.js";
import { corpus } from "./corpus.js";
import { type Oracle, openOracle } from "./oracle.js";

const EXPLAIN = /^\s*EXPLAIN(\s+QUERY\s+PLAN)?\s+/i;

let oracle: Oracle;
beforeAll(async () => {
  oracle = await openOracle();
});

function sameSchemas(parser: readonly string[], sqlite: readonly string[]): boolean {
  if (parser.includes("*")) return sqlite.length > 0;
  const a = [...new Set(parser)].sort();
  const b = [...new Set(sqlite.map((s) => s.toLowerCase()))].sort();
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** Disagreements between the parser and SQLite on one statement (empty when they agree). */
function compare(sql: string): string[] {
  const r = parse(sql);
  const explained = EXPLAIN.test(sql) && !/^\s*EXPLAIN\s*$/i.test(sql);
  const inner = explained ? sql.replace(EXPLAIN, "") : sql;
  const kind = r.statements[0]?.summary.kind;
  const execute = kind === undefined || /^(create|drop|alter)_/.test(kind);
  const v = oracle.verdict(sql, inner, execute);
  const out: string[] = [];
  if (!v.prepares && v.syntaxError) {
    if (r.errors.length === 0) out.push(`SQLite rejects (${v.message}), parser accepts`);
    return out;
  }
  if (r.errors.length > 0 || r.statements.length !== 1) {
    out.push(
      `SQLite accepts${v.prepares ? "" : ` (semantic: ${v.message})`}, parser: ${r.errors.map((e) => e.message).join("; ")} (${r.statements.length} statements)`,
    );
    return out;
  }
  if (!v.prepares) return out;
  let s: StatementSummary = r.statements[0]!.summary;
  if (explained) {
    if (!s.readonly || s.explain === false || s.inner === undefined)
      out.push("EXPLAIN not flagged");
    s = s.inner ?? s;
  }
  if (s.readonly !== v.readonly) out.push(`readonly: parser ${s.readonly}, SQLite ${v.readonly}`);
  if (!sameSchemas(s.schemas, v.schemas))
    out.push(`schemas: parser [${s.schemas.join(",")}], SQLite [${v.schemas.join(",")}]`);
  if (s.ddl !== v.ddl) out.push(`ddl: parser ${s.ddl}, SQLite ${v.ddl}`);
  return out;
}

describe("agreement with SQLite", () => {
  it("corpus is large and distinct", () => {
    expect(corpus().length).toBeGreaterThanOrEqual(2000);
  });

  it("zero disagreements over the corpus", () => {
    const problems: string[] = [];
    for (const sql of corpus()) {
      for (const p of compare(sql)) problems.push(`${sql}\n    ${p}`);
    }
    expect(problems.slice(0, 80).join("\n"), `${problems.length} disagreements`).toBe("");
  });
});
