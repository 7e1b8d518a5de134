/**
 * What a session may run on its database: reads and writes per its token, and the database's
 * `block_reads`/`block_writes` switches. Statements are classified by `parser/` before they run
 * (only when something is restricted, so full-access sessions pay nothing).
 */
import { classify } from "../../../parser/index.js";
import { TenantliteError } from "../../errors.js";
import type { Permissions, TokenTarget } from "../../platform/tokens.js";
import type { DatabaseConfig } from "../../platform/types.js";

/** The checks one session applies to each statement it runs. */
export class StatementPolicy {
  constructor(
    private readonly permissions: Permissions,
    private readonly target: TokenTarget,
    private readonly name: string,
  ) {}

  /**
   * Throws `BLOCKED` (database switches) or `AUTH_FORBIDDEN` (read-only token) when `sql` (one
   * statement or a script) may not run under `config`.
   */
  check(sql: string, config: DatabaseConfig): void {
    const mayWrite = this.permissions.canWrite(this.target);
    if (mayWrite && !config.block_writes && !config.block_reads) return;
    const { statements, errors } = classify(sql);
    if (errors.length > 0) {
      throw new TenantliteError("SQL_PARSE_ERROR", errors[0]!.message);
    }
    for (const s of statements) {
      const summary = s.summary;
      if (summary.transaction !== "none") continue;
      if (config.block_reads) {
        throw new TenantliteError(
          "BLOCKED",
          `Operation was blocked: reads are blocked on database "${this.name}"`,
        );
      }
      const writes = !summary.readonly || summary.ddl;
      if (!writes) continue;
      if (config.block_writes) {
        throw new TenantliteError(
          "BLOCKED",
          `Operation was blocked: writes are blocked on database "${this.name}"`,
        );
      }
      if (!mayWrite) {
        throw new TenantliteError(
          "AUTH_FORBIDDEN",
          `Authorization forbidden: the token is read-only for database "${this.name}"`,
          { status: 403 },
        );
      }
    }
  }
}
