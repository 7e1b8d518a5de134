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

const MID_PARSE =
  /qualified table names are not allowed|INDEXED BY clause is not allowed|NOT INDEXED clause is not allowed|unknown join type|too many arguments on function|unknown table option/;

const DROPS: Record<string, string> = {
  drop_table: "table",
  drop_index: "index",
  drop_view: "view",
  drop_trigger: "trigger",
};

/**
 * The parser's `schemas` with unqualified names resolved the way SQLite resolves them on the
 * fixture (temp, then main, then attached), which a parser cannot know: the documented rule is
 * that an unqualified name counts as "main". `may` marks statements that can be no-ops.
 */
function expectedSchemas(sql: string, s: StatementSummary): { schemas: string[]; may: boolean } {
  let schemas = [...s.schemas];
  const target = s.writes[0];
  let may =
    s.kind === "reindex" || s.kind === "analyze" || s.pragma?.name.toLowerCase() === "optimize";
  if (target !== undefined) {
    const found = oracle.locate(target.name, target.schema);
    let resolved = found?.schema ?? null;
    if (s.kind === "create_index" && target.schema === null && s.reads[0] !== undefined) {
      resolved = oracle.locate(s.reads[0].name, s.reads[0].schema)?.schema ?? null;
    } else if (
      s.kind === "create_trigger" &&
      target.schema === null &&
      !s.temp &&
      s.reads[0] !== undefined
    ) {
      const table = oracle.locate(s.reads[0].name, s.reads[0].schema);
      resolved = table?.schema === "temp" ? "temp" : null;
    } else if (s.kind.startsWith("create_")) {
      resolved = null;
      if (/\bIF\s+NOT\s+EXISTS\b/i.test(sql) && found !== null) may = true;
    }
    if (s.kind in DROPS && (found === null || found.type !== DROPS[s.kind])) may = true;
    if (target.schema === null && !s.temp && resolved !== null && resolved !== "main") {
      schemas = schemas.map((x) => (x === "main" ? resolved : x));
    }
  }
  return { schemas: [...new Set(schemas)], may };
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
  const parsed = r.errors.length === 0 ? r.statements[0]?.summary : undefined;
  if ((parsed?.alterColumn ?? parsed?.inner?.alterColumn) !== undefined) {
    // libSQL's ALTER COLUMN … TO, which sql.js lacks (checked against libSQL in
    // test/platform/alter-column.test.ts): SQLite must reject it as a syntax error.
    if (v.prepares || !v.syntaxError) out.push("libSQL's ALTER COLUMN TO: SQLite accepts it");
    return out;
  }
  if (!v.prepares && v.syntaxError) {
    if (r.errors.length === 0) out.push(`SQLite rejects (${v.message}), parser accepts`);
    return out;
  }
  // Errors SQLite raises while parsing stop it there: the rest of the text went unchecked.
  if (!v.prepares && MID_PARSE.test(v.message ?? "")) return out;
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
  const { schemas, may } = expectedSchemas(sql, s);
  if (may) {
    // The statement may be a no-op on this fixture (IF [NOT] EXISTS, REINDEX/ANALYZE of a name
    // that is not indexed): SQLite must not do more than the parser says.
    if (v.readonly === false && s.readonly) out.push("readonly: parser true, SQLite false");
    if (!s.schemas.includes("*") && !v.schemas.every((x) => schemas.includes(x.toLowerCase())))
      out.push(`schemas: parser [${schemas.join(",")}] (may), SQLite [${v.schemas.join(",")}]`);
    if (v.ddl && !s.ddl) out.push("ddl: parser false, SQLite true");
    return out;
  }
  if (!explained && (s.kind === "select" || s.result !== undefined) && s.kind !== "create_view") {
    // The result columns the parser read are the statement's (a `*` stands for one or more).
    const read = s.result?.columns ?? [];
    const stars = read.some((c) => c.kind === "star");
    if (stars ? read.length > v.columns : read.length !== v.columns)
      out.push(
        `result columns: parser ${read.length}${stars ? " with *" : ""}, SQLite ${v.columns}`,
      );
  }
  if (s.readonly !== v.readonly) out.push(`readonly: parser ${s.readonly}, SQLite ${v.readonly}`);
  if (!sameSchemas(schemas, v.schemas))
    out.push(`schemas: parser [${schemas.join(",")}], SQLite [${v.schemas.join(",")}]`);
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
    expect(problems.slice(0, 400).join("\n"), `${problems.length} disagreements`).toBe("");
  });
});
