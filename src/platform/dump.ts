/**
 * A database as SQL text that recreates it — what sqld's `GET /dump` and the sqlite3 shell's
 * `.dump` give (libsql-server `connection/dump/exporter.rs`, a port of shell.c): `PRAGMA
 * foreign_keys=OFF; BEGIN TRANSACTION;`, each table's `CREATE` and its rows as `INSERT`s, then
 * indexes, triggers and views, `COMMIT;`. Read inside one savepoint, so the text is one
 * consistent snapshot however many statements it takes, and a table's rows a page at a time, so
 * no single result grows with the table.
 *
 * Where the format has a choice, the text loads back into tenantlite and libSQL alike:
 * - generated columns get no values (`PRAGMA table_info` leaves them out, as `INSERT … VALUES`
 *   expects);
 * - a virtual table is its `CREATE VIRTUAL TABLE` (which makes its shadow tables) followed by
 *   the shadow tables' rows, not sqlite3's `PRAGMA writable_schema` edits, which tenantlite
 *   refuses as every server must;
 * - `sqlite_sequence` (AUTOINCREMENT counters) and `sqlite_stat1` (ANALYZE) come back as
 *   sqlite3 writes them; a REAL stays a REAL (`1.0`, `1e+300`, `1e999` for infinity), text with
 *   line breaks stays on one line (`replace('a\nb','\n',char(10))`).
 */
import { quoteIdent } from "../engine/statement-info.js";

/** A value as a dump reads it: integers as `bigint`, so that they print as integers. */
export type DumpValue = null | bigint | number | string | Uint8Array | ArrayBuffer;

/** Runs one statement (values inlined as literals) on the connection being dumped: its rows. */
export type DumpQuery = (sql: string) => Promise<DumpValue[][]>;

/** Rows read per statement, at most. */
const PAGE = 500;
/** Text a page of rows should come to, about (rows are fewer per read when they are big). */
const PAGE_BYTES = 1 << 20;
const SAVEPOINT = "tenantlite_dump";

/**
 * The dump of the database `query` runs on (of its table `table` and what belongs to it, when
 * given), a chunk of text at a time.
 */
export async function* dumpDatabase(
  query: DumpQuery,
  options: { table?: string } = {},
): AsyncGenerator<string> {
  await query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    const only = options.table;
    const filter = only === undefined ? "" : ` AND tbl_name = ${sqlValue(only)}`;
    // Each table's kind (table, virtual, shadow…) and whether it is WITHOUT ROWID.
    const kinds = new Map(
      (await query("SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'")).map(
        ([name, type, wr]) => [
          String(name),
          { type: String(type), withoutRowid: Number(wr) !== 0 },
        ],
      ),
    );
    const tables = await query(
      `SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql NOT NULL${filter} ORDER BY name = 'sqlite_sequence', sql NOT LIKE 'CREATE VIRTUAL TABLE%', rowid`,
    );
    // Only once the first reads went through: a caller that cannot read fails before any text.
    yield "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n";
    let analyzed = false;
    for (const [n, s] of tables) {
      const name = String(n);
      const sql = String(s);
      const kind = kinds.get(name)?.type;
      if (name === "sqlite_sequence") yield "DELETE FROM sqlite_sequence;\n";
      else if (name.startsWith("sqlite_stat")) {
        if (name !== "sqlite_stat1") continue; // sqlite_stat4 is not in the build
        if (!analyzed) yield "ANALYZE sqlite_schema;\n";
        analyzed = true;
      } else if (name.startsWith("sqlite_")) continue;
      else if (kind === "virtual") {
        yield `${sql};\n`;
        continue; // its rows live in its shadow tables
      } else if (kind !== "shadow") yield `${sql};\n`; // a shadow table is made by its virtual one
      const byRowid = kinds.get(name)?.withoutRowid === false && (await rowidVisible(query, name));
      yield* rowsOf(query, name, byRowid);
    }
    const rest = await query(
      `SELECT sql FROM sqlite_schema WHERE sql NOT NULL AND type IN ('index', 'trigger', 'view')${filter} ORDER BY rowid`,
    );
    for (const [sql] of rest) yield `${String(sql)};\n`;
    yield "COMMIT;\n";
  } finally {
    await query(`RELEASE ${SAVEPOINT}`);
  }
}

/** Whether a rowid table's rowid can be read by that name (no column of its own hides it). */
async function rowidVisible(query: DumpQuery, table: string): Promise<boolean> {
  const cols = await query(`SELECT name FROM pragma_table_xinfo(${sqlValue(table)})`);
  return !cols.some(([c]) => /^(rowid|_rowid_|oid)$/i.test(String(c)));
}

/** `INSERT`s of a table's rows, read a page at a time (by rowid when it can, else by offset). */
async function* rowsOf(query: DumpQuery, table: string, byRowid: boolean): AsyncGenerator<string> {
  const cols = (await query(`SELECT name FROM pragma_table_info(${sqlValue(table)})`)).map(([c]) =>
    quoteIdent(String(c)),
  );
  if (cols.length === 0) return;
  const from = quoteIdent(table);
  const insert = `INSERT INTO ${from} VALUES(`;
  let after: DumpValue = null;
  // Rows per read, fitted to their size so that a page stays near PAGE_BYTES of text (a read
  // over the wire is one response, which may not exceed sqld's 10 MB): one row first, to see.
  let limit = 1;
  for (let offset = 0; ; ) {
    const rows: DumpValue[][] = byRowid
      ? await query(
          `SELECT rowid, ${cols.join(",")} FROM ${from}${after === null ? "" : ` WHERE rowid > ${sqlValue(after)}`} ORDER BY rowid LIMIT ${limit}`,
        )
      : await query(`SELECT ${cols.join(",")} FROM ${from} LIMIT ${limit} OFFSET ${offset}`);
    let out = "";
    for (const row of rows) {
      const values = byRowid ? row.slice(1) : row;
      out += `${insert}${values.map(sqlValue).join(",")});\n`;
    }
    if (out !== "") yield out;
    if (rows.length < limit) return;
    offset += rows.length;
    if (byRowid) after = rows[rows.length - 1]![0]!;
    limit = Math.max(1, Math.min(PAGE, Math.floor((limit * PAGE_BYTES) / Math.max(1, out.length))));
  }
}

/** A value as an SQL literal of the same type. */
export function sqlValue(v: DumpValue): string {
  if (v === null) return "NULL";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NULL";
    if (!Number.isFinite(v)) return v > 0 ? "1e999" : "-1e999";
    if (Object.is(v, -0)) return "-0.0";
    const s = String(v);
    return /[.e]/.test(s) ? s : `${s}.0`;
  }
  if (typeof v === "string") return textLiteral(v);
  const bytes = v instanceof Uint8Array ? v : new Uint8Array(v);
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return `X'${hex}'`;
}

/**
 * `'text'` with quotes doubled, on one line: line breaks are written as a token that does not
 * occur in the text, put back with `replace(…, char(10))` (as sqld and sqlite3 do).
 */
function textLiteral(s: string): string {
  let out = `'${s.replace(/'/g, "''")}'`;
  for (const [ch, code, names] of [
    ["\r", 13, ["\\r", "\\015"]],
    ["\n", 10, ["\\n", "\\012"]],
  ] as const) {
    if (!s.includes(ch)) continue;
    let token: string = names.find((t) => !s.includes(t)) ?? "";
    for (let i = 0; token === ""; i++) {
      if (!s.includes(`(${names[0]}${i})`)) token = `(${names[0]}${i})`;
    }
    out = `replace(${out.split(ch).join(token)},'${token}',char(${code}))`;
  }
  return out;
}

/** The whole dump as one string (for callers that answer with one body). */
export async function dumpText(
  query: DumpQuery,
  options: { table?: string } = {},
): Promise<string> {
  let out = "";
  for await (const chunk of dumpDatabase(query, options)) out += chunk;
  return out;
}
