/**
 * Migration preview: the migration's statements run on a scratch copy of the schema parent, in
 * the browser's engine (a regular database created from an export of the parent through
 * createBrowserPlatform, in its worker, and deleted after; the page holds no engine), and the
 * schema before and after are compared. Nothing of the real parent or its children changes.
 * Neither the library nor the server has a dry-run-only route: their dry runs are the first phase
 * of a real migration, which applies it when they pass. The scratch copy is saved in IndexedDB
 * while it lives; database lists leave it out (`isScratch`). One a tab left behind (closed
 * mid-preview) is deleted by the next tab that opens the engine (`sweepScratch`).
 */
import type { BrowserPlatform } from "tenantlite/browser";
import { type DatabaseLister, everyDatabase } from "./list.js";
import type { Session } from "./place.js";

/** One schema object as the preview compares it. */
interface Shape {
  type: string;
  sql: string | null;
  /** `name type` of each column (tables and views). */
  columns: string[];
}

/** What the preview found. */
export interface Preview {
  /** Changes, one line each: `+ table t`, `− index i`, `~ table t: + column c TEXT`. */
  readonly changes: string[];
  /** `sqlite_schema.sql` before and after of each object that changed (null: absent). */
  readonly sql: readonly { key: string; before: string | null; after: string | null }[];
  /** Warnings about likely mistakes (e.g. a column named like a misspelt keyword). */
  readonly warnings: string[];
  /** The statement that failed on the copy, with SQLite's message. */
  readonly error?: { statement: number; message: string };
}

const SCRATCH = "console-preview-scratch-";

/** Whether `name` is a preview's scratch copy (lists hide it). */
export function isScratch(name: string): boolean {
  return name.startsWith(SCRATCH);
}

/**
 * A fresh scratch name, unique across tabs (they share the engine): when it was made (ms since
 * the epoch, base 36), then random bytes.
 */
export function scratchName(now = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const random = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${SCRATCH}${now.toString(36)}-${random}`;
}

/** How old a scratch copy must be before a sweep deletes it: no preview runs that long. */
export const SCRATCH_STALE_MS = 10 * 60_000;

/** What `sweepScratch` needs of a platform (a BrowserPlatform, or the library's own). */
interface ScratchHost extends DatabaseLister {
  deleteDatabase(name: string): Promise<void>;
}

/**
 * Deletes the scratch copies that previews left behind (a tab closed or crashed mid-preview):
 * those made more than {@link SCRATCH_STALE_MS} ago, or named before names carried their time.
 * A copy another tab's preview is using right now is younger than that, and stays. Returns the
 * names deleted. The console runs it once per tab, when it first opens the browser's engine.
 */
export async function sweepScratch(p: ScratchHost, now = Date.now()): Promise<string[]> {
  const stale: string[] = [];
  for (const { name } of await everyDatabase(p)) {
    if (!isScratch(name)) continue;
    const made = /^([0-9a-z]+)-[0-9a-f]{16}$/.exec(name.slice(SCRATCH.length));
    const at = made === null ? Number.NaN : Number.parseInt(made[1]!, 36);
    if (!(now - at < SCRATCH_STALE_MS)) stale.push(name);
  }
  for (const name of stale) await p.deleteDatabase(name).catch(() => undefined);
  return stale;
}

async function shapes(session: Session): Promise<Map<string, Shape>> {
  const out = new Map<string, Shape>();
  const objects = await session.execute(
    "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
  );
  for (const r of Array.from(objects.rows)) {
    out.set(`${r[0]} ${r[1]}`, {
      type: String(r[0]),
      sql: r[2] === null ? null : String(r[2]),
      columns: [],
    });
  }
  const cols = await session.execute(
    "SELECT m.type, m.name, p.name, p.type FROM sqlite_schema AS m, pragma_table_info(m.name) AS p WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid",
  );
  for (const r of Array.from(cols.rows)) {
    out.get(`${r[0]} ${r[1]}`)?.columns.push(`${r[2]}${r[3] ? ` ${r[3]}` : ""}`);
  }
  return out;
}

/** The differences between two schemas, as lines. */
export function diff(before: Map<string, Shape>, after: Map<string, Shape>): string[] {
  const lines: string[] = [];
  for (const key of before.keys()) if (!after.has(key)) lines.push(`− ${key}`);
  for (const [key, a] of after) {
    const b = before.get(key);
    if (b === undefined) {
      lines.push(`+ ${key}${a.columns.length ? ` (${a.columns.join(", ")})` : ""}`);
      continue;
    }
    const parts = [
      ...b.columns.filter((c) => !a.columns.includes(c)).map((c) => `− column ${c}`),
      ...a.columns.filter((c) => !b.columns.includes(c)).map((c) => `+ column ${c}`),
    ];
    if (parts.length) lines.push(`~ ${key}: ${parts.join("; ")}`);
    else if (a.sql !== b.sql) lines.push(`~ ${key}: definition changed`);
  }
  return lines;
}

/** Columns whose name reads like a misspelt COLUMN keyword (`ADD COLUM x` adds a column "COLUM"). */
function warningsOf(changes: string[]): string[] {
  const out: string[] = [];
  for (const line of changes) {
    for (const m of line.matchAll(/\+ column (\S+)/g)) {
      const name = m[1]!;
      if (name.length >= 3 && "column".startsWith(name.toLowerCase()) && name.length < 6) {
        out.push(
          `A column named "${name}" would be added: a misspelt COLUMN keyword (ADD ${name} x TEXT adds a column "${name}" of type "x TEXT")?`,
        );
      }
    }
  }
  return out;
}

/**
 * Runs `statements` on a scratch copy (in `p`'s engine) of the database whose SQLite file is
 * `bytes` and compares its schema before and after.
 */
export async function previewMigration(
  p: BrowserPlatform,
  bytes: Uint8Array,
  statements: string[],
): Promise<Preview> {
  const name = scratchName();
  await p.createDatabase(name, { fromBytes: bytes });
  const conn = p.connect(name);
  const session: Session = { execute: (sql) => conn.execute(sql, undefined, "bigint") };
  try {
    const before = await shapes(session);
    let error: Preview["error"];
    for (let i = 0; i < statements.length; i++) {
      try {
        await conn.execute(statements[i]!, undefined);
      } catch (e) {
        const message =
          e instanceof Error && "code" in e
            ? `${(e as { code: string }).code}: ${(e as { detail?: string }).detail ?? e.message}`
            : String(e);
        error = { statement: i + 1, message };
        break;
      }
    }
    const after = error === undefined ? await shapes(session) : before;
    const changes = diff(before, after);
    const sql = [...new Set([...before.keys(), ...after.keys()])]
      .map((key) => ({
        key,
        before: before.get(key)?.sql ?? null,
        after: after.get(key)?.sql ?? null,
      }))
      .filter((o) => o.before !== o.after);
    return { changes, sql, warnings: warningsOf(changes), ...(error ? { error } : {}) };
  } finally {
    conn.close();
    await p.deleteDatabase(name).catch(() => undefined);
  }
}
