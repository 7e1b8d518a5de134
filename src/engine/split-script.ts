/** A script split into its statements, a piece at a time for a big one. */
import { splitStatements } from "../../parser/index.js";
import { Pace } from "./pace.js";

/** Scripts up to this size are split in one go; bigger ones a piece of about this size at a time. */
const SCRIPT_PIECE_CHARS = 256 * 1024;

/**
 * A script's statements. A big script is split a piece at a time, with turns of the event loop
 * between pieces, so that splitting megabytes does not hold up other requests either. A piece
 * ends at a `;` and is kept only when its last statement closes there, with nothing after it but
 * that `;` and blanks — a cut inside a string, quoted name, comment or trigger body leaves the
 * last statement open (the splitter runs it to the piece's end) or text after it; the piece then
 * grows geometrically, so a script that is one huge statement is still split in a few passes.
 */
export async function splitScript(sql: string, pace: Pace = new Pace()): Promise<string[]> {
  if (sql.length <= SCRIPT_PIECE_CHARS) return splitStatements(sql).map((s) => s.sql);
  const out: string[] = [];
  let from = 0;
  while (from < sql.length) {
    let size = SCRIPT_PIECE_CHARS;
    let parts: { sql: string; end: number }[] | undefined;
    let end = sql.length;
    for (;;) {
      const semi = sql.indexOf(";", from + size);
      if (semi === -1) break;
      const piece = sql.slice(from, semi + 1);
      const split = splitStatements(piece);
      const last = split[split.length - 1];
      if (last !== undefined && /^;\s*$/.test(piece.slice(last.end))) {
        parts = split;
        end = semi + 1;
        break;
      }
      size *= 2;
    }
    for (const s of parts ?? splitStatements(sql.slice(from))) out.push(s.sql);
    from = end;
    await pace.turn();
  }
  return out;
}
