/**
 * Multi-database queries (DESIGN.md, decision 3): which database `ATTACH "<name>" AS alias` may
 * reach, and the rule that keeps what it attached read-only. Attach resolves names, never files:
 * the target must be a database of the catalog that allows attach, that the caller's token may
 * attach, and that is not encrypted. A statement may not write through an alias: the parser's
 * verdict first, SQLite's compiled program (`EXPLAIN`) as the backstop (decision 2).
 */
import type { AttachRequest, OpenTenant } from "../engine/connection-policy.js";
import type { ProgramEffects } from "../engine/program.js";
import type { StatementGuard, StatementInfo } from "../engine/statement-info.js";
import { TenantliteError } from "../errors.js";
import type { AccessGuard } from "./access-guard.js";
import type { Catalog } from "./catalog.js";
import type { TenantPool } from "./tenant-pool.js";
import type { AccessPolicy, DatabaseInfo } from "./types.js";

/**
 * Pragmas whose argument only selects what to read (`table_info(t)`, `integrity_check(10)`). Any
 * other pragma given a value sets something.
 */
export const QUERY_PRAGMAS: ReadonlySet<string> = new Set([
  "table_info",
  "table_xinfo",
  "index_info",
  "index_xinfo",
  "index_list",
  "foreign_key_list",
  "foreign_key_check",
  "integrity_check",
  "quick_check",
  "table_list",
  "pragma_list",
  "function_list",
  "module_list",
  "collation_list",
  "database_list",
  "compile_options",
]);

/** Resolves ATTACH targets and keeps attached databases read-only. */
export class AttachPolicy {
  readonly #catalog: Catalog;
  readonly #guard: AccessGuard;
  readonly #pool: TenantPool;

  constructor(catalog: Catalog, guard: AccessGuard, pool: TenantPool) {
    this.#catalog = catalog;
    this.#guard = guard;
    this.#pool = pool;
  }

  /** Resolves `ATTACH "<name or id>" AS alias` to the target tenant, open and pinned. */
  async resolve(
    self: DatabaseInfo,
    request: AttachRequest,
    access: AccessPolicy,
  ): Promise<OpenTenant> {
    return this.#pool.openTenant(this.target(self, request, access).id);
  }

  /** The database `ATTACH "<name or id>" AS alias` may attach; throws the coded refusal. */
  target(self: DatabaseInfo, request: AttachRequest, access: AccessPolicy): DatabaseInfo {
    const shown = JSON.stringify(request.target.slice(0, 80));
    if (request.targetKind === "expression") {
      throw new TenantliteError(
        "ATTACH_INVALID",
        'ATTACH takes the name or id of a database, quoted as an identifier: ATTACH "<database>" AS alias',
      );
    }
    const info = isCatalogName(request.target)
      ? this.#catalog.getDatabase(request.target)
      : undefined;
    if (info === undefined) {
      throw new TenantliteError(
        "ATTACH_INVALID",
        `ATTACH takes the name or id of an existing database; ${shown} is none (files, URIs and ':memory:' cannot be attached)`,
      );
    }
    if (info.id === self.id) {
      throw new TenantliteError("ATTACH_INVALID", `database "${info.name}" cannot attach itself`);
    }
    // sqld's wording for the first check that fails, then how to fix each one that does.
    const granted = access.canAttach(this.#guard.refFor(info));
    const allowed = info.config.allow_attach;
    if (!granted || !allowed) {
      const fixes: string[] = [];
      if (!granted) {
        fixes.push(
          `use a token that grants attach on it (tenantlite db tokens create ${self.name} --attach ${info.name}, or read_attach permissions in the Platform API's token request)`,
        );
      }
      if (!allowed) {
        fixes.push(
          `allow attach on it: tenantlite db config attach allow ${info.name} (Platform API: PATCH …/databases/${info.name}/configuration {"allow_attach": true})`,
        );
      }
      const what = granted
        ? `Namespace \`${info.name}\` doesn't allow attach`
        : `Authorization forbidden: Current session doesn't have AttachRead permission to database ${info.name}`;
      throw new TenantliteError("ATTACH_FORBIDDEN", `${what}; ${fixes.join("; and ")}`);
    }
    if (info.encrypted) {
      throw new TenantliteError(
        "ATTACH_FORBIDDEN",
        `database "${info.name}" is encrypted and cannot be attached`,
      );
    }
    return info;
  }
}

/** The guard that refuses writes through any of `aliases` (lower case), or none without them. */
export function readOnlyGuard(aliases: ReadonlySet<string>): StatementGuard | undefined {
  if (aliases.size === 0) return undefined;
  return (statement, effects) => {
    const word = statement.firstWord;
    if (word !== "SELECT" && word !== "VALUES") refuseWritesThrough(aliases, statement, effects);
  };
}

/** Names and ids are all the catalog holds; anything else (paths, URIs, '') is not one. */
function isCatalogName(s: string): boolean {
  return /^[a-z0-9-]{1,64}$/.test(s);
}

/** Refuses a statement whose compiled program writes into an attached (read-only) database. */
function refuseWritesThrough(
  aliases: ReadonlySet<string>,
  statement: StatementInfo,
  effects: () => ProgramEffects,
): void {
  // Transaction control takes locks but changes nothing; BEGIN IMMEDIATE becomes DEFERRED.
  if (/^(COMMIT|END|ROLLBACK|RELEASE|SAVEPOINT|BEGIN)$/.test(statement.firstWord)) return;
  // The parser's verdict first (it also catches pragma assignments SQLite compiles to no
  // write, like `PRAGMA alias.page_size = 1024`), then SQLite's program as the backstop.
  const summary = statement.summary;
  const parsed = new Set<string>(summary?.schemas.map((x) => x.toLowerCase()) ?? []);
  const pragma = summary?.pragma;
  if (
    pragma !== undefined &&
    pragma.value !== null &&
    pragma.schema !== null &&
    // cache_size is a setting of this connection's view of the alias, not of the database.
    !QUERY_PRAGMAS.has(pragma.name.toLowerCase()) &&
    pragma.name.toLowerCase() !== "cache_size"
  ) {
    parsed.add(pragma.schema.toLowerCase());
  }
  const { writes } = effects();
  for (const alias of aliases) {
    if (writes.has(alias) || parsed.has(alias) || parsed.has("*")) {
      throw new TenantliteError(
        "SQLITE_READONLY",
        `attempt to write a readonly database: "${alias}" is attached read-only`,
        { rawCode: 8 },
      );
    }
  }
}
