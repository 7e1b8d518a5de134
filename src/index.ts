/**
 * tenantlite — database-per-tenant SQLite in pure TypeScript (neutral entry: runs in Node and
 * browsers; storage in memory unless you pass one).
 *
 * @example
 * import { createPlatform } from "tenantlite";
 * const platform = await createPlatform();
 * await platform.createDatabase("acme");
 * const db = platform.client("acme");
 * await db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
 */

export type {
  BatchStatement,
  ConnectionOptions,
  SqlConnection as Connection,
} from "./engine/connection-policy.js";
export type { SqlJsConfig } from "./engine/loader.js";
export { SqliteError } from "./engine/sqlite-errors.js";
export type { StatementDescription } from "./engine/statement-info.js";
export type {
  InArgs,
  InStatement,
  IntMode,
  InValue,
  ResultSet,
  Row,
  Value,
} from "./engine/values.js";
export {
  type ErrorCode,
  hasCode,
  MigrationError,
  TenantliteBatchError,
  TenantliteError,
} from "./errors.js";
export {
  type MintOptions,
  Permissions,
  TokenAuthority,
  type TokenAuthorityOptions,
  type TokenClaims,
  type TokenScope,
  type TokenTarget,
} from "./platform/auth/jwt.js";
export type {
  JobStatus,
  MigrationJob,
  MigrationProgress,
  MigrationThreads,
  TaskProgress,
  ThreadDryRun,
} from "./platform/migrations/jobs.js";
export {
  type ConnectOptions,
  createPlatform,
  Platform,
  type PlatformOptions,
} from "./platform/platform.js";
export type {
  Client,
  ClientOptions,
  CreateDatabaseOptions,
  DatabaseConfig,
  DatabaseInfo,
  DatabaseType,
  DeleteGroupOptions,
  GroupInfo,
  ListDatabasesOptions,
  Transaction,
  TransactionMode,
} from "./platform/types.js";
export {
  type AccessPolicy,
  type DatabaseRef,
  FULL_ACCESS,
} from "./platform/types.js";
export type { ServerLimits } from "./server/context.js";
export {
  createHandler,
  type HandlerOptions,
  type ServerHandler,
  type UpgradeRequest,
} from "./server/handler.js";
export type { WsSession, WsTransport } from "./server/hrana/ws-session.js";
export type { BodyLimits, HttpRequest, Reply } from "./server/http.js";
export { MemoryStorage } from "./storage/memory-storage.js";
export type { SaveOptions, Storage } from "./storage/storage.js";
