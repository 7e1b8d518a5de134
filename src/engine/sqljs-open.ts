/**
 * Opening sql.js `Database`s: the engine's options, the SQL a connection runs when it opens (a new
 * file's journal mode, libSQL's defaults), and a second connection on an existing file, which
 * sql.js's API lacks.
 */
import { TenantliteError } from "../errors.js";
import { toSqliteError } from "./sqlite-errors.js";
import type { RawDatabase, SqlJsModule } from "./sqljs-types.js";

/** Engine tuning, shared by every tenant of a platform. */
export interface TenantDbOptions {
  /** Prepared statements kept per tenant (LRU by SQL text). Default 64. */
  readonly statementCacheSize?: number;
  /**
   * Journal mode set when a new file is created. `"wal-shared"`: WAL that other connections of
   * the process share (a tenant's file, see tenant-file.ts). `"wal"` (default): WAL under an
   * exclusive lock, no shared wal-index, for a database only this connection uses. `"delete"`:
   * a rollback journal, for scratch copies.
   */
  readonly journalMode?: "wal" | "wal-shared" | "delete";
  /**
   * Open with libSQL's defaults where they differ from SQLite's (`foreign_keys` on). Default
   * true; scratch copies that replay another connection's statements turn it off.
   */
  readonly defaults?: boolean;
}

/** The SQL a connection runs when it opens; `createsFile` when it created its file. */
export function openingSql(options: TenantDbOptions, createsFile: boolean): string {
  const journal = !createsFile
    ? ""
    : options.journalMode === "delete"
      ? "PRAGMA journal_mode=DELETE;"
      : options.journalMode === "wal-shared"
        ? // The read maps the wal-index now: a WAL file whose first connection never read
          // leaks ~130 KB in sql.js for every connection closed on it later (measured).
          "PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_schema;"
        : // main enters WAL under an exclusive lock (heap wal-index); the connection's default
          // then goes back to NORMAL, so databases it attaches later are shared, not locked.
          "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; SELECT count(*) FROM sqlite_schema; PRAGMA locking_mode=NORMAL;";
  // A checkpoint every 128 frames instead of SQLite's 1,000: the WAL lives in sql.js's memory,
  // and SQLite reuses its file without shrinking it, so each tenant that wrote held ~4 MB of WAL
  // while open. 128 frames hold it near 512 KB at no measured cost to commits (bench/engine);
  // an idle tenant's WAL is emptied altogether (tenant-file.ts).
  return `${journal}PRAGMA wal_autocheckpoint=128;${options.defaults === false ? "" : " PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"}`;
}

/**
 * Opens another connection on an existing file of this sql.js instance (`dbfile_<n>`).
 *
 * sql.js's API only opens a `Database` on a new file of its own, named `dbfile_` followed by
 * `Math.random()` scaled to 32 bits, and opens an existing file when given no bytes. So the
 * name is chosen by answering that one `Math.random()` call, and checked afterwards: a sql.js
 * that names files otherwise fails here, loudly (and test/engine/connections.test.ts says so).
 */
export function openExistingFile(sql: SqlJsModule, filename: string): RawDatabase {
  const n = /^dbfile_(\d+)$/.exec(filename);
  if (n === null) throw unsupportedSqlJs(`unexpected file name ${JSON.stringify(filename)}`);
  const random = Math.random;
  const wanted = (Number(n[1]) + 0.5) / 0xffffffff;
  let raw: RawDatabase;
  Math.random = () => wanted;
  try {
    raw = new sql.Database(null);
  } catch (e) {
    throw toSqliteError(e);
  } finally {
    Math.random = random;
  }
  if (raw.filename !== filename) {
    // Not ours to delete: drop the connection without sql.js's close (which deletes its file).
    sql._sqlite3_close_v2(raw.db);
    throw unsupportedSqlJs("a second connection could not be opened on a database file");
  }
  return raw;
}

function unsupportedSqlJs(what: string): TenantliteError {
  return new TenantliteError("INTERNAL_ERROR", `Unsupported sql.js build: ${what}`);
}
