/**
 * What the commands need from tenantlite, as one interface served two ways: locally on a data
 * directory through the library, or remotely through a server's Platform API and Hrana. Commands
 * only see this, so both modes print the same.
 */
import type { DatabaseConfig, DatabaseType } from "../../platform/types.js";
import type { Rows } from "./output.js";
import type { ProgressUpdate } from "./progress.js";

/** A database as the CLI shows it. */
export interface DbView {
  readonly name: string;
  readonly id: string;
  readonly group: string;
  readonly type: DatabaseType;
  /** The schema database of a child. */
  readonly parent: string | null;
  readonly encrypted: boolean | undefined;
  readonly config: DatabaseConfig;
}

/** A group as the CLI shows it. */
export interface GroupView {
  readonly name: string;
  readonly id: string;
  readonly location: string;
  readonly delete_protection: boolean;
}

/** Options of `db create`. */
export interface CreateDbOptions {
  readonly group?: string;
  readonly schemaParent?: boolean;
  readonly schema?: string;
  readonly fromDb?: string;
  readonly fromFile?: Uint8Array;
  readonly encryptionKey?: string;
}

/** Options of `db tokens create` / `group tokens create`. */
export interface TokenOptions {
  readonly expiration?: string;
  readonly readOnly?: boolean;
  /** Database names the token may ATTACH. */
  readonly attach?: readonly string[];
}

/** A migration job's list entry. */
export interface JobSummary {
  readonly job_id: number;
  readonly status: string;
}

/** A migration job with per-child status. */
export interface JobDetail {
  readonly job_id: number;
  readonly status: string;
  readonly error?: string;
  readonly progress: readonly { namespace: string; status: string; error: string | null }[];
}

/** A statement-at-a-time SQL session on one database (keeps attachments across statements). */
export interface SqlSession {
  execute(sql: string): Promise<Rows>;
  /** Several statements applied together (one migration job on a schema parent). */
  batch(statements: readonly string[]): Promise<Rows[]>;
  close(): Promise<void>;
}

/** Options of {@link Backend.openSession}. */
export interface SessionOptions {
  /** Databases the session may ATTACH (a token with exactly these is minted). */
  readonly attach?: readonly string[];
  readonly encryptionKey?: string;
  /** Interactive sessions stay open long (remote: WebSocket instead of HTTP streams). */
  readonly interactive?: boolean;
}

/** Receives progress of the migrations a piece of work starts on a schema database. */
export type ProgressSink = (jobId: number, update: ProgressUpdate) => void;

/** The operations behind the commands. */
export interface Backend {
  readonly mode: "local" | "remote";
  createDatabase(name: string, options: CreateDbOptions): Promise<DbView>;
  listDatabases(options: { group?: string; schema?: string }): Promise<DbView[]>;
  getDatabase(name: string): Promise<DbView>;
  deleteDatabase(name: string): Promise<void>;
  updateConfig(name: string, patch: Partial<DatabaseConfig>): Promise<DatabaseConfig>;
  createGroup(name: string, location: string | undefined): Promise<GroupView>;
  listGroups(): Promise<GroupView[]>;
  getGroup(name: string): Promise<GroupView>;
  deleteGroup(name: string): Promise<void>;
  /** Switches a group's delete protection; returns the group as it is now. */
  updateGroupConfig(name: string, patch: { delete_protection: boolean }): Promise<GroupView>;
  /** The bytes the database takes (its SQLite image, as `db export` writes it). */
  databaseSize(name: string, encryptionKey: string | undefined): Promise<number>;
  createDatabaseToken(name: string, options: TokenOptions): Promise<string>;
  invalidateDatabaseTokens(name: string): Promise<void>;
  createGroupToken(group: string, options: TokenOptions): Promise<string>;
  invalidateGroupTokens(group: string): Promise<void>;
  exportDatabase(name: string, encryptionKey: string | undefined): Promise<Uint8Array>;
  listMigrations(parent: string): Promise<JobSummary[]>;
  getMigration(parent: string, jobId: number): Promise<JobDetail>;
  openSession(name: string, options: SessionOptions): Promise<SqlSession>;
  /**
   * Runs `work`, passing `sink` the progress of the migrations of `schema` it starts (at least
   * once per job, after the job ended, even when the work fails).
   */
  watchMigrations<T>(schema: string, work: () => Promise<T>, sink: ProgressSink): Promise<T>;
  /** The URL `@libsql/client` takes for this database. */
  databaseUrl(name: string): string;
  close(): Promise<void>;
}
