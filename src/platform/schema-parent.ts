/**
 * A schema parent's statements (DESIGN.md, decision 4): every write to a parent is a migration of
 * the parent and all its children, whatever route it takes — `execute`, a batch, a script, or any
 * statement of a transaction, however that transaction began (BEGIN, a batch, a script, a Hrana
 * `sequence`). Inside a transaction, statements run on the parent's connection so the caller sees
 * their results, and are recorded; COMMIT rolls the transaction back and applies the recording as
 * one migration. One router per logical connection holds that recording.
 */
import { toBatchError } from "../engine/connection-errors.js";
import type {
  BatchStatement,
  RoutedConnection,
  StatementRouter,
} from "../engine/connection-policy.js";
import type { InArgs, IntMode, ResultSet } from "../engine/values.js";
import { MigrationError, TenantliteError } from "../errors.js";

/** Applies statements to the parent and every child as one job; resolves with the parent's results. */
export type Migrate = (
  statements: readonly BatchStatement[],
  intMode: IntMode,
) => Promise<ResultSet[]>;

interface Recorded {
  readonly sql: string;
  readonly args?: InArgs;
  readonly writes: boolean;
}

/** Routes one logical connection's statements on a schema parent. */
export class SchemaParentRouter implements StatementRouter {
  /** The statements of the open transaction, migrated at COMMIT. */
  #recording: Recorded[] | undefined;

  readonly #migrate: Migrate;

  constructor(migrate: Migrate) {
    this.#migrate = migrate;
  }

  async statement(
    conn: RoutedConnection,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): Promise<ResultSet> {
    const { firstWord: word } = conn.info(sql);
    if (conn.inTransaction) {
      this.#recording ??= [];
      if (word === "COMMIT" || word === "END") {
        const recorded = this.#recording;
        this.#recording = undefined;
        if (recorded.some((s) => s.writes)) {
          await conn.rollback();
          await this.#migrate(recorded, intMode);
          return conn.empty();
        }
      } else if (word === "ROLLBACK" && !/^\s*ROLLBACK\s+(TRANSACTION\s+)?TO\b/i.test(sql)) {
        this.#recording = undefined;
      } else if (word === "SAVEPOINT" || word === "RELEASE" || word === "ROLLBACK") {
        throw new TenantliteError(
          "SCHEMA_MIGRATION_ERROR",
          "Schema migration error: savepoints are not allowed in a transaction on a schema database (it is applied as one migration at COMMIT)",
        );
      } else {
        const writes = this.#writes(conn, sql);
        this.#recording.push(args === undefined ? { sql, writes } : { sql, args, writes });
      }
    } else if (word !== "BEGIN" && word !== "SAVEPOINT" && this.#writes(conn, sql)) {
      const [rs] = await this.#migrate([args === undefined ? { sql } : { sql, args }], intMode);
      return rs ?? conn.empty();
    }
    const rs = await conn.run(sql, args, intMode);
    // However the transaction began, what follows in it is recorded.
    this.#recording = conn.inTransaction ? (this.#recording ?? []) : undefined;
    return rs;
  }

  async script(conn: RoutedConnection, statements: readonly string[]): Promise<boolean> {
    if (conn.inTransaction || !statements.some((s) => this.#writes(conn, s))) return false;
    await this.#migrate(
      statements.map((sql) => ({ sql })),
      "bigint",
    );
    return true;
  }

  async batch(
    conn: RoutedConnection,
    statements: readonly BatchStatement[],
    intMode: IntMode,
  ): Promise<ResultSet[] | undefined> {
    if (conn.inTransaction || !statements.some((s) => this.#writes(conn, s.sql))) return undefined;
    try {
      return await this.#migrate(statements, intMode);
    } catch (e) {
      throw toBatchError(failedStep(e), e);
    }
  }

  /**
   * Whether a statement may write a schema parent's persistent schemas (so it must be a
   * migration): the parser's verdict, backed by SQLite's program; a statement that does not
   * compile yet (it needs tables an earlier statement creates) counts as a write.
   */
  #writes(conn: RoutedConnection, sql: string): boolean {
    const summary = conn.info(sql).summary;
    if (summary === undefined) return true;
    if (summary.transaction !== "none") return false;
    if (summary.pragma !== undefined && summary.pragma.value !== null) {
      // Settings of this connection change no schema; those that write the file do.
      if (summary.readonly && summary.pragma.name.toLowerCase() !== "writable_schema") return false;
    }
    if (!summary.readonly || summary.ddl) return !summary.schemas.every((x) => x === "temp");
    try {
      const e = conn.effects(sql);
      for (const schema of e.writes) if (schema !== "temp") return true;
      for (const schema of e.schemaChanges) if (schema !== "temp") return true;
      return false;
    } catch {
      return true;
    }
  }
}

/** The statement a migration's failure names (`step`, 1-based as sqld says), 0-based. */
function failedStep(e: unknown): number {
  return e instanceof MigrationError ? Math.max((e.step ?? 1) - 1, 0) : 0;
}
