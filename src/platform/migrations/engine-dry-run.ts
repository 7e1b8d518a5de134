/**
 * The dry runs that need the engine, on the runner's thread: the parent's (through the engine's
 * own connection, with results), and children's with libSQL's ALTER COLUMN … TO, the engine's
 * SQL functions, or the check that lets one run serve every child sharing an image. Children's
 * run on the same scratch copy as a migration thread's (dry-run.ts).
 */
import { splitStatements } from "../../../parser/index.js";
import { hasAlterColumn, runStatements } from "../../engine/alter-column.js";
import type { BatchStatement } from "../../engine/connection-policy.js";
import { toSqliteError } from "../../engine/sqlite-errors.js";
import type { RawDatabase, SqlJsModule } from "../../engine/sqljs-types.js";
import { compileRewritten } from "../../engine/table-functions.js";
import { TenantDb } from "../../engine/tenant-db.js";
import type { IntMode, ResultSet } from "../../engine/values.js";
import { TenantliteError } from "../../errors.js";
import { type DryRun, onScratchCopy } from "./dry-run.js";

/** Runs `list` in one transaction on a scratch copy of `image`; returns the new image or the failing step. */
export function runOn(
  sql: SqlJsModule,
  image: Uint8Array,
  list: readonly BatchStatement[],
  intMode: IntMode,
): DryRun & { results: ResultSet[] } {
  const db = new TenantDb(sql, image, { journalMode: "delete" });
  const results: ResultSet[] = [];
  try {
    db.execute("BEGIN", undefined, "bigint");
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      try {
        results.push(db.execute(s.sql, s.args, intMode));
      } catch (e) {
        db.rollback();
        const message = e instanceof TenantliteError ? e.detail : String(e);
        return { results, error: { step: i + 1, message, cause: e } };
      }
    }
    db.execute("COMMIT", undefined, "bigint");
    return { image: db.export(), results };
  } finally {
    db.close();
  }
}

/**
 * The children's side of `runOn` for statements without arguments: the parent's dry run already
 * checked their shape and results are not needed, so they run straight on sql.js. With
 * `deterministicOnly`, each statement's compiled program is checked first, and `image` is
 * undefined (nothing failed) when one calls a function whose results could differ between runs
 * on identical bytes, or fires a trigger program.
 */
export function runScriptOn(
  sql: SqlJsModule,
  image: Uint8Array,
  list: readonly BatchStatement[],
  options: { deterministicOnly?: boolean } = {},
): DryRun & { results: ResultSet[] } {
  const r = onScratchCopy(
    sql,
    image,
    list,
    (db, statement) => {
      if (options.deterministicOnly !== true) {
        runStatements(sql, db, statement.sql);
        return true;
      }
      for (const { sql: one } of splitStatements(statement.sql)) {
        // libSQL's ALTER COLUMN … TO only rewrites schema text: the same on the same bytes.
        if (hasAlterColumn(one)) {
          runStatements(sql, db, one);
          continue;
        }
        const { result: ran } = compileRewritten(db, one, (text) => {
          if (!deterministicProgram(db, text)) return false;
          db.run(text);
          return true;
        });
        if (!ran) return false;
      }
      return true;
    },
    { engineFunctions: true },
  );
  if (r === undefined) return { results: [] };
  if ("image" in r) return { image: r.image, results: [] };
  const err = toSqliteError(r.thrown);
  return { results: [], error: { step: r.step, message: err.detail, cause: err } };
}

/**
 * SQLite's built-in functions that give the same result for the same arguments, including the
 * ones `ALTER TABLE` compiles to. Any other function (`random()`, `changes()`, the date and time
 * functions, which may read 'now') makes a migration run child by child.
 */
const DETERMINISTIC_FUNCTIONS = new Set(
  (
    "abs char coalesce concat concat_ws format glob hex ifnull iif instr length like likelihood " +
    "likely lower ltrim max min nullif octet_length printf quote replace round rtrim sign soundex " +
    "substr substring trim typeof unhex unicode unlikely upper zeroblob acos acosh asin asinh atan " +
    "atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10 log2 mod pi pow power " +
    "radians sin sinh sqrt tan tanh trunc json json_array json_array_length json_error_position " +
    "json_extract json_insert json_object json_patch json_quote json_remove json_replace json_set " +
    "json_type json_valid jsonb jsonb_array jsonb_extract jsonb_insert jsonb_object jsonb_patch " +
    "jsonb_remove jsonb_replace jsonb_set -> ->> sqlite_rename_column sqlite_rename_table " +
    "sqlite_rename_test sqlite_rename_quotefix sqlite_drop_column " +
    // libSQL's vector functions (vector.ts): pure functions of their arguments.
    "vector vector32 vector64 vector1bit vector8 vector16 vectorb16 vector_extract " +
    "vector_distance_cos vector_distance_l2 libsql_vector_idx"
  ).split(" "),
);

/** Whether a statement's program calls only deterministic functions and fires no trigger. */
function deterministicProgram(db: RawDatabase, one: string): boolean {
  const stmt = db.prepare(`EXPLAIN ${one}`);
  try {
    while (stmt.step()) {
      const [, opcode, , , , p4] = stmt.get();
      if (opcode === "Program") return false;
      if (opcode === "Function" || opcode === "PureFunc" || opcode === "Function0") {
        const name = String(p4).replace(/\(.*$/, "").toLowerCase();
        if (!DETERMINISTIC_FUNCTIONS.has(name)) return false;
      }
    }
    return true;
  } finally {
    stmt.free();
  }
}
