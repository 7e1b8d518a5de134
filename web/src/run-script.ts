import { TenantliteError } from "tenantlite/browser";
import { parseScript } from "./parse-client.js";
import type { Rows, Session } from "./place.js";

/** Where something is in the editor: 1-based line and column, 0-based offset. */
export interface Position {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

/** One statement of a script, with what it gave. */
export interface StatementOutcome {
  readonly sql: string;
  readonly at: Position;
  readonly ms: number;
  readonly result?: Rows;
  /** Set when the statement was skipped, with why. */
  readonly note?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly at: Position };
}

/** Line and column of `offset` in `text`. */
export function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n"), offset };
}

/**
 * Runs a script statement by statement on one connection (so an ATTACH stays for the statements
 * after it): in this browser, a `RemoteConnection` of the engine worker (see place.ts); on the
 * server, a Hrana stream. The script is parsed in the parser worker (parse-client.ts). Syntax errors are reported for the whole script before anything runs; execution
 * stops at the first failing statement. `attached` (alias → database, per connection) lets a script
 * that starts with `ATTACH` run again: an alias already attached to the same database is kept.
 */
export async function runScript(
  conn: Session,
  script: string,
  attached: Map<string, string> = new Map(),
): Promise<StatementOutcome[]> {
  const { errors, statements } = await parseScript(script);
  if (errors.length > 0) {
    return errors.map((e) => {
      const at = { line: e.line, column: e.column, offset: e.offset };
      return { sql: e.sql, at, ms: 0, error: { code: "SQL_PARSE_ERROR", message: e.message, at } };
    });
  }
  const out: StatementOutcome[] = [];
  for (const stmt of statements) {
    const at = positionOf(script, stmt.start);
    const attach = stmt.attach;
    const alias = (attach?.alias ?? stmt.detach?.alias)?.toLowerCase();
    if (attach !== undefined && attached.get(alias!) === attach.target) {
      out.push({
        sql: stmt.sql,
        at,
        ms: 0,
        note: `${attach.target} is attached as ${attach.alias} already`,
      });
      continue;
    }
    const t0 = performance.now();
    try {
      const result = await conn.execute(stmt.sql);
      if (attach !== undefined) attached.set(alias!, attach.target);
      else if (alias !== undefined) attached.delete(alias);
      out.push({ sql: stmt.sql, at, ms: performance.now() - t0, result });
    } catch (e) {
      const code =
        e instanceof Error && typeof (e as { code?: unknown }).code === "string"
          ? (e as unknown as { code: string }).code
          : "ERROR";
      const message =
        e instanceof TenantliteError ? e.detail : e instanceof Error ? e.message : String(e);
      const where = positionOf(script, stmt.start + culpritOffset(stmt.sql, message));
      out.push({
        sql: stmt.sql,
        at,
        ms: performance.now() - t0,
        error: { code, message, at: where },
      });
      break;
    }
  }
  return out;
}

/** Offset in `sql` of the name an SQLite message complains about, else 0 (the statement start). */
function culpritOffset(sql: string, message: string): number {
  const m =
    /(?:near|no such (?:column|table|function|module|collation)|ambiguous column name|table|index|view|trigger)\s*:?\s*"?([^"\s:]+)"?/i.exec(
      message,
    );
  const name = m?.[1];
  if (name === undefined) return 0;
  const bare = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : name;
  const i = sql.toLowerCase().indexOf(bare.toLowerCase());
  return Math.max(i, 0);
}
