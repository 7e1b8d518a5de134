/**
 * How the CLI prints: aligned tables for people, JSON for scripts, and the shell's result modes
 * (`table`, `csv`, `json`, `line`). Values arrive already decoded (integers as bigint so nothing
 * is rounded, blobs as bytes) whichever mode — local or remote — produced them.
 */

/** One cell of a result, the same in local and remote mode. */
export type Cell = null | string | number | bigint | Uint8Array;

/** A statement's result as the shell prints it. */
export interface Rows {
  readonly columns: string[];
  readonly rows: Cell[][];
  readonly rowsAffected: number;
}

/** The shell's output modes. */
export type Mode = "table" | "csv" | "json" | "line";

/** Where output goes (a stream or a test buffer). */
export interface Out {
  write(text: string): unknown;
}

/**
 * An aligned table: header, then one line per row, columns two spaces apart; the last column is
 * not padded so lines carry no trailing blanks.
 * @example table(["NAME", "GROUP"], [["acme", "default"]]) // "NAME  GROUP\nacme  default\n"
 */
export function table(header: readonly string[] | undefined, rows: readonly string[][]): string {
  const all = header === undefined ? rows : [header as string[], ...rows];
  if (all.length === 0) return "";
  const width = (s: string) => [...s].length;
  // Loops, not Math.max(...): spreading 130,000 rows into arguments overflowed the stack.
  const widths: number[] = [];
  for (const r of all) {
    for (let c = 0; c < r.length; c++) widths[c] = Math.max(widths[c] ?? 0, width(r[c]!));
  }
  return all
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell + " ".repeat(widths[c]! - width(cell))))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

/** A cell as text for tables, CSV and line mode. */
export function cellText(v: Cell): string {
  if (v === null) return "NULL";
  if (v instanceof Uint8Array) return `X'${hex(v)}'`;
  if (typeof v === "number") return numberText(v);
  return String(v);
}

/** A cell as JSON: integers stay exact (as numbers when safe, else strings), blobs as base64. */
export function cellJson(v: Cell): unknown {
  if (v instanceof Uint8Array) return { base64: Buffer.from(v).toString("base64") };
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  return v;
}

/** `'text'` with quotes doubled. */
export function quoteString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** `"name"` with quotes doubled. */
export function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Prints a result in a shell mode. */
export function renderRows(result: Rows, mode: Mode, headers: boolean): string {
  const { columns, rows } = result;
  if (columns.length === 0) return "";
  switch (mode) {
    case "json":
      return `${JSON.stringify(
        rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, cellJson(r[i] ?? null)]))),
      )}\n`;
    case "csv": {
      const lines = rows.map((r) => r.map((v) => csvField(v)).join(","));
      if (headers) lines.unshift(columns.map((c) => csvField(c)).join(","));
      return lines.length === 0 ? "" : `${lines.join("\r\n")}\r\n`;
    }
    case "line": {
      const w = Math.max(...columns.map((c) => c.length));
      return rows
        .map((r) =>
          columns.map((c, i) => `${c.padStart(w)} = ${cellText(r[i] ?? null)}\n`).join(""),
        )
        .join("\n");
    }
    default:
      return table(
        headers ? columns : undefined,
        rows.map((r) => r.map(cellText)),
      );
  }
}

function csvField(v: Cell): string {
  if (v === null) return "";
  const s = cellText(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function numberText(v: number): string {
  const s = String(v);
  return Number.isInteger(v) && !/e/i.test(s) ? `${s}.0` : s;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex").toUpperCase();
}

/** Prints `value` as pretty JSON (what `--json` prints). */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`;
}
