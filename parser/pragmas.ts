/** How a PRAGMA behaves, as SQLite's compiled program shows it. */
export interface PragmaEffect {
  /** Not read-only in the sense of sqlite3_stmt_readonly. */
  readonly write: boolean;
  /** Writes the schema's file (the named schema, "main" when unqualified). */
  readonly schemaWrite: boolean;
  /** Unqualified, it writes every attached schema ("*"). */
  readonly allSchemas: boolean;
  /** Changes the schema cookie. */
  readonly ddl: boolean;
}

const READ: PragmaEffect = { write: false, schemaWrite: false, allSchemas: false, ddl: false };
const SET_HEADER: PragmaEffect = { write: true, schemaWrite: true, allSchemas: false, ddl: false };
const NOT_READONLY: PragmaEffect = {
  write: true,
  schemaWrite: false,
  allSchemas: false,
  ddl: false,
};

const JOURNAL_MODES = new Set(["delete", "persist", "off", "truncate", "memory", "wal"]);

function unquote(v: string): string {
  const c = v[0];
  return c === "'" || c === '"' || c === "`" || c === "[" ? v.slice(1, -1) : v;
}

/**
 * The effect of `PRAGMA name` (`value` null) or `PRAGMA name = value` / `name(value)`.
 * Derived from the programs SQLite compiles (EXPLAIN) for every pragma of `pragma_list`:
 * the header pragmas write when given a value, `journal_mode` and `wal_checkpoint` always
 * compile to non-read-only opcodes, `incremental_vacuum` and `optimize` may write.
 */
export function pragmaEffect(name: string, value: string | null): PragmaEffect {
  switch (name) {
    case "user_version":
    case "application_id":
    case "default_cache_size":
      return value === null ? READ : SET_HEADER;
    case "schema_version":
      return value === null ? READ : { ...SET_HEADER, ddl: true };
    case "incremental_vacuum":
      return SET_HEADER;
    case "optimize":
      return { write: true, schemaWrite: true, allSchemas: true, ddl: false };
    case "journal_mode":
      if (value !== null && JOURNAL_MODES.has(unquote(value).toLowerCase())) {
        return { write: true, schemaWrite: true, allSchemas: true, ddl: false };
      }
      return NOT_READONLY;
    case "wal_checkpoint":
      return NOT_READONLY;
    default:
      return READ;
  }
}
