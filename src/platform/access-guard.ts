/**
 * The access guard: the checks every statement on a tenant passes before it runs — what the
 * caller's token allows (read, write, DDL), the database's blocks (`block_reads`,
 * `block_writes`, a running migration of its schema), its size limit, and the rule that a schema
 * child's schema only changes through its parent. Decided from the parser's summary, backed by
 * SQLite's compiled program (DESIGN.md, decision 2).
 */
import type { ProgramEffects } from "../engine/program.js";
import {
  type StatementGuard,
  type StatementInfo,
  TRANSACTION_WORDS,
} from "../engine/statement-info.js";
import { TenantliteError } from "../errors.js";
import { QUERY_PRAGMAS } from "./attach-policy.js";
import type { Catalog } from "./catalog.js";
import type { TenantPool } from "./tenant-pool.js";
import { type AccessPolicy, type DatabaseInfo, type DatabaseRef, FULL_ACCESS } from "./types.js";

/** Builds each tenant's statement guard, and holds the blocks migrations put on schemas. */
export class AccessGuard {
  /** Group ids by name (group names are never reused for another id while the platform runs). */
  readonly #groupIds = new Map<string, string>();
  /** Why writes to a schema (parent name) and its children are blocked right now. */
  readonly #blockedSchemas = new Map<string, string>();

  readonly #catalog: Catalog;
  readonly #pool: TenantPool;

  constructor(catalog: Catalog, pool: TenantPool) {
    this.#catalog = catalog;
    this.#pool = pool;
  }

  /** Blocks (with a reason) or unblocks writes to a schema parent and its children. */
  setBlocked(parent: DatabaseInfo, reason: string | undefined): void {
    if (reason === undefined) this.#blockedSchemas.delete(parent.name);
    else this.#blockedSchemas.set(parent.name, reason);
  }

  /** Forgets a deleted group's id. */
  forgetGroup(name: string): void {
    this.#groupIds.delete(name);
  }

  /** A database as access checks see it, without failing on unknown names (open reports those). */
  refOf(nameOrId: string): DatabaseRef {
    const info = this.#pool.openInfo(nameOrId) ?? this.#catalog.getDatabase(nameOrId);
    return info === undefined ? { name: nameOrId, id: nameOrId, groupId: "" } : this.refFor(info);
  }

  /** `info` with its group's id, for access checks. */
  refFor(info: DatabaseInfo): DatabaseRef {
    let groupId = this.#groupIds.get(info.group);
    if (groupId === undefined) {
      groupId = this.#catalog.getGroup(info.group)?.id ?? "";
      this.#groupIds.set(info.group, groupId);
    }
    return { name: info.name, id: info.id, groupId };
  }

  /** The checks every statement on the tenant `info` passes, for a connection with `access`. */
  guardFor(info: DatabaseInfo, access: AccessPolicy): StatementGuard | undefined {
    const spec = this.specFor(info, access);
    return spec === undefined ? undefined : guardOf(spec);
  }

  /**
   * What {@link guardFor} checks, as data that can cross to a tenant thread (which builds the
   * guard with {@link guardOf}); undefined when nothing needs checking.
   */
  specFor(info: DatabaseInfo, access: AccessPolicy): GuardSpec | undefined {
    if (
      access === FULL_ACCESS &&
      info.type !== "child" &&
      !info.config.block_writes &&
      !info.config.block_reads &&
      info.sizeLimit === undefined &&
      !this.#blockedSchemas.has(info.parent ?? info.name)
    ) {
      return undefined; // the common case, decided without building the access check's view
    }
    const ref = this.refFor(info);
    const mayWrite = access.canWrite(ref);
    const child = info.type === "child" && !access.canDdl(ref);
    const schemaBlock = this.#blockedSchemas.get(info.parent ?? info.name);
    const blockWrites = info.config.block_writes;
    const blockReads = info.config.block_reads;
    const sizeLimited = info.sizeLimit !== undefined;
    if (mayWrite && !child && !blockWrites && !schemaBlock && !blockReads && !sizeLimited) {
      return undefined;
    }
    return {
      name: info.name,
      parent: info.parent,
      mayWrite,
      child,
      ...(schemaBlock === undefined ? {} : { schemaBlock }),
      blockWrites,
      blockReads,
      sizeLimited,
    };
  }
}

/** The checks a statement guard makes, decided by {@link AccessGuard.specFor}. */
export interface GuardSpec {
  readonly name: string;
  readonly parent: string | null;
  /** The caller's token allows writes. */
  readonly mayWrite: boolean;
  /** A schema child whose schema only its parent changes. */
  readonly child: boolean;
  /** Why a migration of its schema blocks writes right now. */
  readonly schemaBlock?: string;
  readonly blockWrites: boolean;
  readonly blockReads: boolean;
  /** Its size limit is enforced with `max_page_count`, which statements may not set. */
  readonly sizeLimited: boolean;
}

/** The statement guard of a {@link GuardSpec}. */
export function guardOf(spec: GuardSpec): StatementGuard {
  const { name, mayWrite, child, schemaBlock, blockWrites, blockReads, sizeLimited } = spec;
  return (statement, effects) => {
    const word = statement.firstWord;
    if (TRANSACTION_WORDS.has(word)) return;
    if (sizeLimited && word === "PRAGMA") refuseSizePragma(name, statement);
    if (blockReads) throw blocked(`reads of database "${name}" are blocked`);
    if (word === "SELECT" || word === "VALUES" || word === "EXPLAIN") return;
    if (child) refuseChildDdl(spec, statement, effects);
    if (!mayWrite && word === "PRAGMA" && setsPragma(statement)) throw readOnly(name);
    const writes = persistentWrites(effects);
    if (!writes) return;
    if (!mayWrite) throw readOnly(name);
    if (schemaBlock !== undefined) throw blocked(schemaBlock);
    if (blockWrites) throw blocked(`writes to database "${name}" are blocked`);
  };
}

/** Whether a program writes any schema other than `temp` (TEMP objects are the connection's own). */
function persistentWrites(effects: () => ProgramEffects): boolean {
  for (const schema of effects().writes) if (schema !== "temp") return true;
  return false;
}

/**
 * Refuses DDL on a schema child: the parser's verdict first, then SQLite's compiled program, so a
 * statement that fools the parser still cannot change the child's schema. TEMP objects are allowed:
 * they live only in the connection and never reach the child's file.
 */
function refuseChildDdl(
  info: { readonly name: string; readonly parent: string | null },
  statement: StatementInfo,
  effects: () => ProgramEffects,
): void {
  const parsed = statement.summary;
  const byParser =
    (parsed?.ddl && !parsed.schemas.every((s) => s === "temp")) ||
    // Editing the schema behind SQLite's back starts with this switch.
    (parsed?.pragma?.name.toLowerCase() === "writable_schema" && parsed.pragma.value !== null) ||
    parsed?.writes.some((w) => w.schema?.toLowerCase() !== "temp" && isSchemaTable(w.name)) ===
      true;
  let byProgram = false;
  if (!byParser) {
    const e = effects();
    for (const schema of e.schemaChanges) if (schema !== "temp") byProgram = true;
    for (const schema of e.schemaTableWrites) if (schema !== "temp") byProgram = true;
  }
  if (byParser || byProgram) {
    // Database names are not secrets: naming the parent says where the change belongs.
    const parent = info.parent ?? "its schema database";
    throw new TenantliteError(
      "DDL_FORBIDDEN",
      `"${info.name}" takes its schema from "${parent}"; run the change on "${parent}" and it reaches every child`,
    );
  }
}

/** Refuses `PRAGMA max_page_count = N` on a database whose size limit the platform enforces with it. */
function refuseSizePragma(name: string, statement: StatementInfo): void {
  const p = statement.summary?.pragma;
  if (p === undefined || p.value === null || p.name.toLowerCase() !== "max_page_count") return;
  throw new TenantliteError(
    "PRAGMA_FORBIDDEN",
    `PRAGMA max_page_count cannot be set on database "${name}": its size limit enforces it; change the limit instead (Platform API: PATCH …/databases/${name}/configuration {"size_limit": …})`,
  );
}

/** `sqlite_schema` and its other names. */
function isSchemaTable(name: string): boolean {
  return /^sqlite_(schema|master)$/i.test(name);
}

/** Whether a PRAGMA sets something (a read-only caller may only read). */
function setsPragma(statement: StatementInfo): boolean {
  const p = statement.summary?.pragma;
  return p !== undefined && p.value !== null && !QUERY_PRAGMAS.has(p.name.toLowerCase());
}

/** The caller's token does not allow writing to `name`. */
export function readOnly(name: string): TenantliteError {
  return new TenantliteError(
    "AUTH_FORBIDDEN",
    `Authorization forbidden: Current session doesn't have Write permission to database ${name}`,
  );
}

/** A block (of the database, or of its schema while a migration runs) refused the statement. */
export function blocked(reason: string): TenantliteError {
  return new TenantliteError("BLOCKED", `Operation was blocked: ${reason}`);
}
