/**
 * `createBrowserPlatform()`: tenants in IndexedDB, shared safely by every tab of the origin, with
 * the engine off the UI thread by default. The API is the in-process platform's (clients with
 * the `@libsql/client` interface, database and group management), over the protocol in rpc.ts.
 */

import type { BatchStatement } from "../engine/connection-policy.js";
import type { StatementDescription } from "../engine/statement-info.js";
import type { InArgs, InStatement, IntMode, ResultSet } from "../engine/values.js";
import { toBound } from "../engine/values.js";
import { TenantliteError } from "../errors.js";
import { toBatchStatement } from "../platform/client.js";
import type { JobStatus, MigrationJob, MigrationProgress } from "../platform/migrations/jobs.js";
import type {
  Client,
  CreateDatabaseOptions,
  DatabaseConfig,
  DatabaseInfo,
  DeleteGroupOptions,
  GroupInfo,
  ListDatabasesOptions,
  Transaction,
  TransactionMode,
} from "../platform/types.js";
import type { EngineInit, EnginePlatformOptions } from "./open-engine.js";
import {
  type ClientRef,
  decodeResultSet,
  type EngineEvent,
  type PlatformMethod,
  type RemoteClientOptions,
  type WireResultSet,
} from "./rpc.js";
import { type EngineLink, PageEngine, TabLeader, WorkerEngine } from "./tab-leader.js";

/** Options of {@link createBrowserPlatform}. */
export interface BrowserPlatformOptions extends EnginePlatformOptions {
  /**
   * Where the leader tab runs the engine: `"worker"` (default; a dedicated Worker, so a long
   * query never freezes a page) or `"page"` (on the leader tab's own thread).
   */
  readonly mode?: "worker" | "page";
  /** URL of the engine worker script (`dist/browser-worker.js`). Default: next to this module. */
  readonly workerUrl?: string | URL;
  /** URL of sql.js's `sql-wasm-browser.wasm`. Default: next to the worker script (or this module). */
  readonly wasmUrl?: string | URL;
  /** IndexedDB database name (default `"tenantlite"`); tabs coordinate per name. */
  readonly dbName?: string;
  /** Object store name (default `"storage"`). */
  readonly storeName?: string;
}

/**
 * The platform as a browser app sees it. Every tab of the origin gets one; they share one engine,
 * hosted by the leader tab (see {@link BrowserPlatform.isLeader}).
 */
export class BrowserPlatform {
  #nextClient = 1;

  /** @internal Use {@link createBrowserPlatform}. */
  constructor(private readonly link: TabLeader) {}

  /** Whether this tab hosts the origin's engine right now. */
  get isLeader(): boolean {
    return this.link.isLeader;
  }

  /** Creates a database (see `Platform.createDatabase`). */
  createDatabase(name: string, options: CreateDatabaseOptions = {}): Promise<DatabaseInfo> {
    return this.#platform("createDatabase", [name, options]) as Promise<DatabaseInfo>;
  }
  getDatabase(nameOrId: string): Promise<DatabaseInfo> {
    return this.#platform("getDatabase", [nameOrId]) as Promise<DatabaseInfo>;
  }
  listDatabases(options: ListDatabasesOptions = {}): Promise<DatabaseInfo[]> {
    return this.#platform("listDatabases", [options]) as Promise<DatabaseInfo[]>;
  }
  updateConfig(
    nameOrId: string,
    changes: Partial<Record<keyof DatabaseConfig, boolean | null>>,
  ): Promise<DatabaseConfig> {
    return this.#platform("updateConfig", [nameOrId, changes]) as Promise<DatabaseConfig>;
  }
  setSizeLimit(nameOrId: string, maxBytes: number | null): Promise<DatabaseInfo> {
    return this.#platform("setSizeLimit", [nameOrId, maxBytes]) as Promise<DatabaseInfo>;
  }
  async deleteDatabase(nameOrId: string): Promise<void> {
    await this.#platform("deleteDatabase", [nameOrId]);
  }
  /** The database's image (as `Platform.exportDatabase`). */
  exportDatabase(
    nameOrId: string,
    options: { encryptionKey?: string | Uint8Array } = {},
  ): Promise<Uint8Array> {
    return this.#platform("exportDatabase", [nameOrId, options]) as Promise<Uint8Array>;
  }
  async rotateEncryptionKey(
    nameOrId: string,
    oldKey: string | Uint8Array,
    newKey: string | Uint8Array,
  ): Promise<void> {
    await this.#platform("rotateEncryptionKey", [nameOrId, oldKey, newKey]);
  }
  checkSchemas(schemaName: string): Promise<{ name: string; differences: string[] }[]> {
    return this.#platform("checkSchemas", [schemaName]) as ReturnType<
      BrowserPlatform["checkSchemas"]
    >;
  }
  updateGroup(name: string, patch: { delete_protection?: boolean | null }): Promise<GroupInfo> {
    return this.#platform("updateGroup", [name, patch]) as Promise<GroupInfo>;
  }
  createGroup(name: string, options: { location?: string } = {}): Promise<GroupInfo> {
    return this.#platform("createGroup", [name, options]) as Promise<GroupInfo>;
  }
  getGroup(name: string): Promise<GroupInfo> {
    return this.#platform("getGroup", [name]) as Promise<GroupInfo>;
  }
  listGroups(): Promise<GroupInfo[]> {
    return this.#platform("listGroups", []) as Promise<GroupInfo[]>;
  }
  deleteGroup(name: string, options: DeleteGroupOptions = {}): Promise<GroupInfo> {
    return this.#platform("deleteGroup", [name, options]) as Promise<GroupInfo>;
  }

  /**
   * Applies statements to a schema database and every child, all or none, as one job (see
   * `Platform.migrate`). With `wait: false` it resolves once the job started; `done` settles when
   * it ends (if the leader tab closes meanwhile, the next engine's record of the job decides).
   */
  async migrate(
    schemaName: string,
    statements: readonly (string | { sql: string; args?: InArgs })[],
    options: { wait?: boolean } = {},
  ): Promise<{ jobId: number; results: ResultSet[]; done: Promise<void> }> {
    if (!Array.isArray(statements)) {
      throw new TenantliteError("ARGS_INVALID", "migrate takes an array of statements");
    }
    for (const st of statements) checkStatement(st);
    const { value } = await this.link.call({
      op: "migrate",
      schema: schemaName,
      statements: [...statements],
      wait: options.wait !== false,
    });
    const { jobId, results } = value as { jobId: number; results: WireResultSet[] };
    const done =
      options.wait === false
        ? this.link.call({ op: "migrationDone", schema: schemaName, jobId }).then(() => undefined)
        : Promise.resolve();
    done.catch(() => undefined);
    return { jobId, results: results.map(decodeResultSet), done };
  }
  listMigrations(
    schemaName: string,
  ): Promise<{ schema_version: number; migrations: { job_id: number; status: JobStatus }[] }> {
    return this.#platform("listMigrations", [schemaName]) as ReturnType<
      BrowserPlatform["listMigrations"]
    >;
  }
  getMigration(schemaName: string, jobId: number): Promise<MigrationJob> {
    return this.#platform("getMigration", [schemaName, jobId]) as Promise<MigrationJob>;
  }
  /** Progress of every migration of the origin's engine, in every tab; returns the unsubscribe function. */
  onMigrationProgress(listener: (p: MigrationProgress) => void): () => void {
    return this.link.onEvent((event) => {
      if (event.kind === "migrationProgress") listener(event.progress);
    });
  }

  /**
   * A client for one database, with the interface of `@libsql/client` (execute, batch,
   * transaction, executeMultiple, migrate, close). Options: `intMode`, `encryptionKey`,
   * `authToken` (an `access` function cannot cross to the engine).
   */
  client(name: string, options: RemoteClientOptions = {}): Client {
    if (typeof name !== "string") {
      throw new TenantliteError("ARGS_INVALID", "A database name must be a string");
    }
    const { intMode, encryptionKey, authToken } = options;
    if (
      intMode !== undefined &&
      intMode !== "number" &&
      intMode !== "bigint" &&
      intMode !== "string"
    ) {
      throw new TenantliteError(
        "ARGS_INVALID",
        `Invalid intMode: use "number", "bigint" or "string"`,
      );
    }
    const clean: RemoteClientOptions = {
      ...(intMode === undefined ? {} : { intMode }),
      ...(encryptionKey === undefined ? {} : { encryptionKey }),
      ...(authToken === undefined ? {} : { authToken }),
    };
    return new RemoteClient(this.link, () => ({
      key: `${this.link.tabId}/${this.#nextClient++}`,
      name,
      options: clean,
    }));
  }

  /**
   * A raw logical connection (what a SQL shell uses: its ATTACHes, TEMP objects and an open
   * `BEGIN` persist between statements). It lives in the engine that served its first statement:
   * once another tab leads, it is closed and its calls fail with LEADER_CHANGED (open a new one).
   */
  connect(
    name: string,
    options: Pick<RemoteClientOptions, "encryptionKey" | "authToken"> = {},
  ): RemoteConnection {
    if (typeof name !== "string") {
      throw new TenantliteError("ARGS_INVALID", "A database name must be a string");
    }
    const { encryptionKey, authToken } = options;
    return new RemoteConnection(this.link, {
      key: `${this.link.tabId}/c${this.#nextClient++}`,
      name,
      options: {
        ...(encryptionKey === undefined ? {} : { encryptionKey }),
        ...(authToken === undefined ? {} : { authToken }),
      },
    });
  }

  /** Leaves the origin's tabs (another tab takes over the engine if this one led). */
  close(): Promise<void> {
    return this.link.close();
  }

  async #platform(method: PlatformMethod, args: unknown[]): Promise<unknown> {
    return (await this.link.call({ op: "platform", method, args })).value;
  }
}

/**
 * Joins the origin's tabs and returns this tab's platform. The first tab (by Web Lock) hosts the
 * engine; the others send their requests to it. Writes are answered once saved in IndexedDB.
 *
 * @example
 * const platform = await createBrowserPlatform({ workerUrl: "/tenantlite-worker.js" });
 * await platform.createDatabase("acme");
 * const db = platform.client("acme");
 * await db.execute("CREATE TABLE t (x)");
 */
export async function createBrowserPlatform(
  options: BrowserPlatformOptions = {},
): Promise<BrowserPlatform> {
  const mode = options.mode ?? "worker";
  if (mode !== "worker" && mode !== "page") {
    throw new TenantliteError("ARGS_INVALID", `Invalid mode: use "worker" or "page"`);
  }
  const dbName = options.dbName ?? "tenantlite";
  const storeName = options.storeName ?? "storage";
  if (typeof dbName !== "string" || typeof storeName !== "string") {
    throw new TenantliteError("ARGS_INVALID", "dbName and storeName must be strings");
  }
  const base = typeof location === "undefined" ? import.meta.url : location.href;
  const workerUrl = new URL(
    options.workerUrl ?? new URL("./browser-worker.js", import.meta.url),
    base,
  );
  const wasmUrl = new URL(
    options.wasmUrl ??
      new URL("./sql-wasm-browser.wasm", mode === "worker" ? workerUrl : import.meta.url),
    base,
  ).href;
  const name = `${dbName}/${storeName}`;
  const init: EngineInit = {
    type: "init",
    lockName: `tenantlite:${name}:engine`,
    wasmUrl,
    dbName,
    storeName,
    platform: {
      ...pick(options, "maxOpenTenants"),
      ...pick(options, "busyTimeoutMs"),
      ...pick(options, "transactionTimeoutMs"),
      ...pick(options, "defaultGroup"),
      ...pick(options, "maxOpenBytes"),
    },
  };
  const start = (onEvent: (event: EngineEvent) => void, onFailed: () => void): EngineLink =>
    mode === "worker"
      ? new WorkerEngine(workerUrl.href, init, onEvent, onFailed)
      : new PageEngine(init, onEvent);
  const link = new TabLeader(name, start);
  await link.start();
  return new BrowserPlatform(link);
}

function pick<K extends keyof EnginePlatformOptions>(
  o: EnginePlatformOptions,
  k: K,
): Partial<EnginePlatformOptions> {
  return o[k] === undefined ? {} : { [k]: o[k] };
}

/** Checks arguments as the engine would, so a bad one fails here with the same coded error. */
function checkStatement(s: InStatement | [string, InArgs?]): void {
  const { args } = toBatchStatement(s);
  if (args === undefined) return;
  if (Array.isArray(args)) {
    for (const v of args) toBound(v);
  } else if (args !== null && typeof args === "object") {
    for (const v of Object.values(args)) toBound(v);
  } else {
    throw new TenantliteError("ARGS_INVALID", "Arguments must be an array or an object");
  }
}

function decodeMany(v: unknown): ResultSet[] {
  return (v as WireResultSet[]).map(decodeResultSet);
}

/** `Client` whose statements run in the origin's engine. */
class RemoteClient implements Client {
  readonly protocol = "tenantlite";
  #ref: ClientRef;
  #closed = false;
  /** The leader whose engine holds this client's open transaction, if any. */
  #pinned: string | undefined;

  constructor(
    private readonly link: TabLeader,
    private readonly newRef: () => ClientRef,
  ) {
    this.#ref = newRef();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async execute(stmtOrSql: InStatement, args?: InArgs): Promise<ResultSet> {
    this.#assertOpen();
    const stmt =
      typeof stmtOrSql === "string" && args !== undefined ? { sql: stmtOrSql, args } : stmtOrSql;
    checkStatement(stmt);
    return decodeResultSet((await this.#call("execute", [stmt])) as WireResultSet);
  }

  async batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode: TransactionMode = "deferred",
  ): Promise<ResultSet[]> {
    this.#assertOpen();
    checkList(stmts);
    return decodeMany(await this.#call("batch", [stmts, mode]));
  }

  async migrate(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]> {
    this.#assertOpen();
    checkList(stmts);
    return decodeMany(await this.#call("migrate", [stmts]));
  }

  async executeMultiple(sql: string): Promise<void> {
    this.#assertOpen();
    if (typeof sql !== "string") {
      throw new TenantliteError("ARGS_INVALID", "executeMultiple takes a SQL string");
    }
    await this.#call("executeMultiple", [sql]);
  }

  async transaction(mode: TransactionMode = "write"): Promise<Transaction> {
    this.#assertOpen();
    const { value, leader } = await this.link.call({ op: "begin", client: this.#ref, mode });
    return new RemoteTransaction(this.link, value as string, leader);
  }

  async sync(): Promise<undefined> {
    return undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forget();
  }

  async reconnect(): Promise<void> {
    this.#forget();
    this.#pinned = undefined;
    this.#ref = this.newRef();
    this.#closed = false;
  }

  #forget(): void {
    this.link.call({ op: "closeClient", key: this.#ref.key }).catch(() => undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw new TenantliteError("CLIENT_CLOSED", "The client is closed");
  }

  /**
   * While the client's own connection is inside a transaction (a BEGIN sent through execute), it
   * stays on the engine holding it: after a leader change the next call fails with LEADER_CHANGED
   * (the transaction is gone) rather than running in autocommit elsewhere.
   */
  async #call(
    method: "execute" | "batch" | "migrate" | "executeMultiple",
    args: unknown[],
  ): Promise<unknown> {
    try {
      const { value, leader } = await this.link.call(
        { op: "client", client: this.#ref, method, args },
        this.#pinned,
      );
      const answer = value as { value: unknown; inTransaction: boolean };
      this.#pinned = answer.inTransaction ? leader : undefined;
      return answer.value;
    } catch (e) {
      if (e instanceof TenantliteError && e.code === "LEADER_CHANGED") this.#pinned = undefined;
      throw e;
    }
  }
}

function checkList(stmts: unknown): void {
  if (!Array.isArray(stmts)) {
    throw new TenantliteError("ARGS_INVALID", "A batch takes an array of statements");
  }
  for (const s of stmts) checkStatement(s as InStatement);
}

/**
 * `Transaction` bound to one connection in one engine. If the engine's tab closes, the
 * transaction is gone with it (never applied): its calls fail with LEADER_CHANGED.
 */
class RemoteTransaction implements Transaction {
  #done = false;

  constructor(
    private readonly link: TabLeader,
    private readonly id: string,
    private readonly leader: string,
  ) {}

  get closed(): boolean {
    return this.#done;
  }

  async execute(stmtOrSql: InStatement, args?: InArgs): Promise<ResultSet> {
    const stmt =
      typeof stmtOrSql === "string" && args !== undefined ? { sql: stmtOrSql, args } : stmtOrSql;
    this.#assertOpen();
    checkStatement(stmt);
    return decodeResultSet((await this.#call("execute", [stmt])) as WireResultSet);
  }

  async batch(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]> {
    this.#assertOpen();
    checkList(stmts);
    return decodeMany(await this.#call("batch", [stmts]));
  }

  async executeMultiple(sql: string): Promise<void> {
    this.#assertOpen();
    await this.#call("executeMultiple", [sql]);
  }

  async commit(): Promise<void> {
    this.#assertOpen();
    this.#done = true;
    await this.#call("commit", []);
  }

  async rollback(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#call("rollback", []).catch((e: unknown) => {
      // The engine that held it is gone, and the transaction with it.
      if (!(e instanceof TenantliteError && e.code === "LEADER_CHANGED")) throw e;
    });
  }

  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#call("close", []).catch(() => undefined);
  }

  #assertOpen(): void {
    if (this.#done) throw new TenantliteError("TRANSACTION_CLOSED", "The transaction is closed");
  }

  async #call(
    method: "execute" | "batch" | "executeMultiple" | "commit" | "rollback" | "close",
    args: unknown[],
  ) {
    return (await this.link.call({ op: "tx", tx: this.id, method, args }, this.leader)).value;
  }
}

/**
 * A logical connection in the origin's engine, with the methods of the engine's `Connection` that
 * tools use (execute, batch, executeScript, describe, close). Pinned to the engine that served
 * its first statement.
 */
export class RemoteConnection {
  #closed = false;
  #inTransaction = false;
  #leader: string | undefined;

  /** @internal Use {@link BrowserPlatform.connect}. */
  constructor(
    private readonly link: TabLeader,
    private readonly ref: ClientRef,
  ) {}

  /** Closed by `close()`, or because another tab took over the engine. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether the connection held an open transaction after its last statement. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Runs one statement. */
  async execute(sql: string, args?: InArgs, intMode: IntMode = "number"): Promise<ResultSet> {
    checkStatement(args === undefined ? { sql } : { sql, args });
    return decodeResultSet((await this.#call("execute", [sql, args, intMode])) as WireResultSet);
  }

  /** Runs statements in order; with `begin` (e.g. `"BEGIN IMMEDIATE"`) in a transaction of their own. */
  async batch(
    statements: BatchStatement[],
    intMode: IntMode,
    begin?: string,
  ): Promise<ResultSet[]> {
    checkList(statements);
    return decodeMany(await this.#call("batch", [statements, intMode, begin]));
  }

  /** Runs a script statement by statement; stops at the first failure. */
  async executeScript(sql: string): Promise<void> {
    await this.#call("executeScript", [sql]);
  }

  /** Describes one statement without running it. */
  async describe(sql: string): Promise<StatementDescription> {
    return (await this.#call("describe", [sql])) as StatementDescription;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#leader !== undefined) {
      this.link
        .call({ op: "conn", conn: this.ref, method: "close", args: [] }, this.#leader)
        .catch(() => undefined);
    }
  }

  async #call(
    method: "execute" | "batch" | "executeScript" | "describe",
    args: unknown[],
  ): Promise<unknown> {
    if (this.#closed) throw new TenantliteError("CLIENT_CLOSED", "The connection is closed");
    try {
      const { value, leader } = await this.link.call(
        { op: "conn", conn: this.ref, method, args },
        this.#leader,
      );
      this.#leader ??= leader;
      const answer = value as { value: unknown; inTransaction: boolean };
      this.#inTransaction = answer.inTransaction;
      return answer.value;
    } catch (e) {
      if (e instanceof TenantliteError && e.code === "LEADER_CHANGED") {
        this.#closed = true;
        this.#inTransaction = false;
      }
      throw e;
    }
  }
}
