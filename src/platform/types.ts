/**
 * The public types of the platform: databases, groups and their configuration, and the
 * `@libsql/client`-compatible `Client`/`Transaction` interfaces.
 */
import type { InArgs, InStatement, IntMode, ResultSet } from "../engine/values.js";

/** `regular` databases stand alone; a `schema` database owns the schema of its `child` databases. */
export type DatabaseType = "regular" | "schema" | "child";

/** Per-database switches (Turso's database configuration). */
export interface DatabaseConfig {
  /** Other databases' connections may ATTACH this one (read-only). */
  readonly allow_attach: boolean;
  /** Reads are refused with BLOCKED. */
  readonly block_reads: boolean;
  /** Writes are refused with BLOCKED. */
  readonly block_writes: boolean;
  /** Deleting the database is refused until this is switched off. */
  readonly delete_protection: boolean;
}

/** A database as the catalog records it. */
export interface DatabaseInfo {
  /** UUID, stable for the database's lifetime. */
  readonly id: string;
  /** Turso-style name: lowercase letters, digits and dashes, at most 64 characters. */
  readonly name: string;
  readonly group: string;
  /** ISO-8601 creation time. */
  readonly createdAt: string;
  readonly type: DatabaseType;
  /** The schema database of a child, else `null`. */
  readonly parent: string | null;
  readonly config: DatabaseConfig;
  /** Whether the database is encrypted at rest. */
  readonly encrypted: boolean;
  /**
   * Largest size in bytes the database may grow to (Turso's `size_limit`); absent: no limit.
   * A write that would grow it past this fails with `SQLITE_FULL`.
   */
  readonly sizeLimit?: number;
}

/** A group of databases. */
export interface GroupInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly location: string;
  readonly delete_protection: boolean;
}

/** Options of `createDatabase`. */
export interface CreateDatabaseOptions {
  /** Group to create it in; the default group when omitted. */
  readonly group?: string;
  /** `"schema"` makes a schema (parent) database. */
  readonly type?: "regular" | "schema";
  /** Name of the schema database this one is a child of (it starts as a copy of it). */
  readonly schema?: string;
  /** Initial configuration. */
  readonly config?: Partial<DatabaseConfig>;
  /** Start as a copy of another database (by name). */
  readonly fromDatabase?: string;
  /** Start from a SQLite file image. */
  readonly fromBytes?: Uint8Array;
  /** Encryption key of the `fromDatabase` source, when that one is encrypted. */
  readonly sourceEncryptionKey?: string | Uint8Array;
  /**
   * Encrypt the database at rest (AES-256-GCM, key derived from `key` with PBKDF2). The key is
   * needed for every later use (`client(name, { encryptionKey })`) and is never stored.
   */
  readonly encryption?: { readonly key: string | Uint8Array };
  /** Largest size in bytes the database may grow to (see {@link DatabaseInfo.sizeLimit}). */
  readonly sizeLimit?: number;
}

/** Options of `deleteGroup`. */
export interface DeleteGroupOptions {
  /**
   * Delete the group's databases with it. Without it, a group that still holds databases is
   * refused with `GROUP_NOT_EMPTY`.
   */
  readonly cascade?: boolean;
}

/** Filters and paging of `listDatabases`. */
export interface ListDatabasesOptions {
  readonly group?: string;
  /** Children of this schema database. */
  readonly schema?: string;
  readonly type?: DatabaseType;
  /** Return names strictly after this one (names are listed in order). */
  readonly after?: string;
  /** At most this many (default 1000). */
  readonly limit?: number;
}

/** A database as access rules see it. */
export interface DatabaseRef {
  readonly name: string;
  readonly id: string;
  /** UUID of the database's group (group tokens grant by group). */
  readonly groupId: string;
}

/**
 * What a caller may do, database by database: decoded from a JWT, or everything when auth is off.
 */
export interface AccessPolicy {
  canRead(db: DatabaseRef): boolean;
  canWrite(db: DatabaseRef): boolean;
  /** May ATTACH this database (it must also allow attach). */
  canAttach(db: DatabaseRef): boolean;
  /** May change a schema child's schema directly (Turso's `ddl` scope). */
  canDdl(db: DatabaseRef): boolean;
}

/**
 * Everything except direct DDL on schema children (tenantlite is stricter than sqld, whose
 * auth-less mode lets DDL through to children).
 */
export const FULL_ACCESS: AccessPolicy = Object.freeze({
  canRead: () => true,
  canWrite: () => true,
  canAttach: () => true,
  canDdl: () => false,
});

/** `"write"` = BEGIN IMMEDIATE, `"read"` = BEGIN TRANSACTION READONLY, `"deferred"` = BEGIN DEFERRED. */
export type TransactionMode = "write" | "read" | "deferred";

/** Options of `platform.client(name, options)`, like `@libsql/client`'s `Config`. */
export interface ClientOptions {
  readonly intMode?: IntMode;
  /** A database JWT; checked when the platform enforces auth. */
  readonly authToken?: string;
  /** The key of an encrypted database. */
  readonly encryptionKey?: string | Uint8Array;
  /** What this client may do (default: what `authToken` grants, or everything when auth is off). */
  readonly access?: AccessPolicy;
}

/** `@libsql/client`'s `Client`, served in-process by the platform. */
export interface Client {
  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode?: TransactionMode,
  ): Promise<ResultSet[]>;
  migrate(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]>;
  transaction(mode?: TransactionMode): Promise<Transaction>;
  executeMultiple(sql: string): Promise<void>;
  sync(): Promise<undefined>;
  close(): void;
  reconnect(): Promise<void>;
  readonly closed: boolean;
  readonly protocol: string;
}

/** `@libsql/client`'s `Transaction`: statements on one connection, committed or rolled back. */
export interface Transaction {
  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  batch(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]>;
  executeMultiple(sql: string): Promise<void>;
  rollback(): Promise<void>;
  commit(): Promise<void>;
  close(): void;
  readonly closed: boolean;
}
