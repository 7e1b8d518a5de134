/**
 * The platform: many tenant databases in one process, and its public in-process API. This class
 * is a facade: each concept lives in a file of its own —
 * options.ts (options and defaults), databases.ts (database records), tenant-pool.ts (open
 * tenants: open, evict, persist, close), image-store.ts (stored and shared images),
 * tenant-keys.ts (encryption), access-guard.ts (what a statement may do), attach-policy.ts
 * (ATTACH), schema-parent.ts and migrations/ (schema databases and their migrations),
 * client.ts (the `@libsql/client`-compatible client).
 */
import { Connection } from "../engine/connection.js";
import type { BatchStatement, SqlConnection } from "../engine/connection-policy.js";
import { loadSqlJs } from "../engine/loader.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import type { InArgs, IntMode, ResultSet } from "../engine/values.js";
import {
  databaseNotFound,
  groupNotFound,
  hasCode,
  platformClosed,
  TenantliteError,
} from "../errors.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import type { Storage } from "../storage/storage.js";
import { AccessGuard, blocked, readOnly } from "./access-guard.js";
import { AttachPolicy, readOnlyGuard } from "./attach-policy.js";
import { Catalog } from "./catalog.js";
import { PlatformClient } from "./client.js";
import { Databases } from "./databases.js";
import { ImageStore } from "./image-store.js";
import {
  type JobStatus,
  type MigrationJob,
  type MigrationProgress,
  SettlingJobs,
} from "./migrations/jobs.js";
import { MigrationRunner } from "./migrations/runner.js";
import { assertValidName } from "./names.js";
import {
  assertKnownOptions,
  assertSizeLimit,
  type ConnectOptions,
  type ListsKeysOf,
  newGroup,
  PLATFORM_OPTIONS,
  type PlatformOptions,
  type ResolvedOptions,
  resolveOptions,
} from "./options.js";
import { SchemaParentRouter } from "./schema-parent.js";
import { notEncrypted, TenantKeys } from "./tenant-keys.js";
import { type PooledTenant, TenantPool } from "./tenant-pool.js";
import type { TenantThreadsRuntime } from "./threads/tenant-threads.js";
import type {
  CreateDatabaseOptions,
  DatabaseConfig,
  DatabaseInfo,
  DeleteGroupOptions,
  GroupInfo,
  ListDatabasesOptions,
} from "./types.js";
import { type AccessPolicy, type Client, type ClientOptions, FULL_ACCESS } from "./types.js";

export { type ConnectOptions, MAX_OPEN_TENANTS, type PlatformOptions } from "./options.js";

/** The options of {@link CreateDatabaseOptions}, for `createDatabase`'s check. */
const CREATE_OPTIONS =
  "group type schema config fromDatabase fromBytes sourceEncryptionKey encryption sizeLimit";
true satisfies ListsKeysOf<CreateDatabaseOptions, typeof CREATE_OPTIONS>;
const CLIENT_OPTIONS = "intMode authToken encryptionKey access";
true satisfies ListsKeysOf<ClientOptions, typeof CLIENT_OPTIONS>;
const CONNECT_OPTIONS =
  "encryptionKey access authToken name maxResultBytes busyTimeoutMs transactionTimeoutMs resultPool";
true satisfies ListsKeysOf<ConnectOptions, typeof CONNECT_OPTIONS>;
const LIST_OPTIONS = "group schema type after limit";
true satisfies ListsKeysOf<ListDatabasesOptions, typeof LIST_OPTIONS>;
/** Many tenant databases in one runtime. Create one with {@link createPlatform}. */
export class Platform {
  readonly #options: ResolvedOptions;
  readonly #pool: TenantPool;
  readonly #images: ImageStore;
  readonly #guard: AccessGuard;
  readonly #databases: Databases;
  readonly #migrations: MigrationRunner;
  readonly #attachPolicy: AttachPolicy;
  readonly #settling = new SettlingJobs();
  readonly #defaultGroup: string;
  /** Set when connections run on tenant threads (the server's default). */
  readonly #threads: TenantThreadsRuntime | undefined;
  #closed = false;
  readonly #catalog: Catalog;

  private constructor(
    sql: SqlJsModule,
    readonly storage: Storage,
    catalog: Catalog,
    options: PlatformOptions,
  ) {
    this.#catalog = catalog;
    this.#options = resolveOptions(options);
    this.#defaultGroup = this.#options.defaultGroup;
    const keys = new TenantKeys(this.#options.kdfIterations);
    const settling = this.#settling;
    this.#images = new ImageStore(sql, storage, catalog);
    this.#pool = new TenantPool({
      sql,
      storage,
      catalog,
      images: this.#images,
      keys,
      settling,
      options: this.#options,
    });
    this.#guard = new AccessGuard(catalog, this.#pool);
    this.#migrations = new MigrationRunner({
      sql,
      storage,
      catalog,
      pool: this.#pool,
      images: this.#images,
      guard: this.#guard,
      settling,
      threads: this.#options.migrationThreads,
      childrenCreated: (id) => this.#databases.childrenCreated(id),
    });
    this.#attachPolicy = new AttachPolicy(catalog, this.#guard, this.#pool);
    const threads = options.tenantThreads;
    if (threads !== undefined) {
      this.#threads = threads.start({
        catalog,
        pool: this.#pool,
        guard: this.#guard,
        attachPolicy: this.#attachPolicy,
        migrateParent: (info, access, statements, intMode) =>
          this.#migrateParent(info, access, statements, intMode),
        keys,
        host: {
          connection: this.#options.connectionOptions,
          maxOpen: this.#options.maxOpen,
          maxOpenBytes: this.#options.maxOpenBytes,
          // Strict: a commit is saved before its result is sent — on memory storage too, where
          // the thread's copy is the only one until then: a thread ended by the query time limit
          // lost the commits it had not sent yet.
          saveAfterMs:
            this.#options.durability === "strict"
              ? undefined
              : (this.#options.flushIntervalMs ?? 1000),
        },
      });
      this.#pool.lendTo(this.#threads);
    }
    this.#databases = new Databases({
      storage,
      catalog,
      pool: this.#pool,
      images: this.#images,
      keys,
      migrations: this.#migrations,
      defaultGroup: this.#defaultGroup,
    });
  }

  /** @internal use {@link createPlatform}. */
  static async create(options: PlatformOptions = {}): Promise<Platform> {
    const storage: Storage = options.storage ?? new MemoryStorage();
    // Two platforms on the same data would each keep their own catalog and overwrite the
    // other's records (databases one of them created vanish at the next start).
    const data = dataOf(storage);
    if (dataInUse.has(data)) {
      throw new TenantliteError(
        "STORAGE_LOCKED",
        "this storage's data is in use by another platform of this process (two would overwrite each other's catalog): use that platform, or close it first",
      );
    }
    dataInUse.add(data);
    try {
      const sql = await loadSqlJs(options.sqlJs);
      const catalog = await Catalog.open(sql, storage);
      const platform = new Platform(sql, storage, catalog, options);
      if (catalog.getGroup(platform.#defaultGroup) === undefined) {
        await catalog.putGroup(newGroup(platform.#defaultGroup, "local"));
      }
      // Finish (or mark failed) migrations a crash interrupted, before anyone reads a tenant.
      await platform.#migrations.recover();
      await platform.#images.sweep();
      return platform;
    } catch (e) {
      dataInUse.delete(data);
      throw e;
    }
  }

  // ── databases ────────────────────────────────────────────────────────────

  /**
   * Creates a database.
   * @example await platform.createDatabase("acme", { group: "default" });
   */
  async createDatabase(name: string, options: CreateDatabaseOptions = {}): Promise<DatabaseInfo> {
    assertKnownOptions(options, CREATE_OPTIONS, "createDatabase");
    assertKnownOptions(options.encryption, "key", "encryption");
    this.#assertOpen();
    return this.#databases.create(name, options);
  }

  /** A database by name or id; `DATABASE_NOT_FOUND` when there is none. */
  async getDatabase(nameOrId: string): Promise<DatabaseInfo> {
    this.#assertOpen();
    return this.#catalog.requireDatabase(nameOrId);
  }

  /** Databases in name order, filtered and paged. */
  async listDatabases(options: ListDatabasesOptions = {}): Promise<DatabaseInfo[]> {
    assertKnownOptions(options, LIST_OPTIONS, "listDatabases");
    const { limit, type } = options;
    if (
      (limit !== undefined && !(Number.isSafeInteger(limit) && limit > 0)) ||
      (type !== undefined && !/^(regular|schema|child)$/.test(type))
    ) {
      // A negative limit listed one database, an unknown type none, with no word of why.
      throw new TenantliteError(
        "ARGS_INVALID",
        "listDatabases takes type as regular, schema or child, and limit as a whole number from 1",
      );
    }
    this.#assertOpen();
    return this.#catalog.listDatabases(options);
  }

  /** Changes a database's configuration; fields left out (or `null`) stay as they are. */
  async updateConfig(
    nameOrId: string,
    patch: Partial<Record<keyof DatabaseConfig, boolean | null>>,
  ): Promise<DatabaseConfig> {
    this.#assertOpen();
    return this.#databases.updateConfig(this.#catalog.requireDatabase(nameOrId), patch);
  }

  /**
   * Sets (or, with `null`, removes) a database's size limit in bytes: from now on, on every
   * connection, a write that would grow it past the limit fails with SQLITE_FULL. A database
   * already larger keeps its data and cannot grow.
   * @example await platform.setSizeLimit("acme", 500_000_000);
   */
  async setSizeLimit(nameOrId: string, maxBytes: number | null): Promise<DatabaseInfo> {
    this.#assertOpen();
    if (maxBytes !== null) assertSizeLimit(maxBytes);
    return this.#databases.setSizeLimit(this.#catalog.requireDatabase(nameOrId), maxBytes);
  }

  /** Deletes a database and its data. Refused for protected databases and schema parents with children. */
  async deleteDatabase(nameOrId: string): Promise<void> {
    this.#assertOpen();
    await this.#databases.delete(this.#catalog.requireDatabase(nameOrId));
  }

  /** The database's SQLite file image (a standard SQLite file). */
  async exportDatabase(
    nameOrId: string,
    options: { encryptionKey?: string | Uint8Array } = {},
  ): Promise<Uint8Array> {
    this.#assertOpen();
    return this.#pool.imageOf(this.#catalog.requireDatabase(nameOrId), options.encryptionKey);
  }

  /**
   * Re-encrypts an encrypted database under a new key (new salt, new IV). Earlier keys stop
   * working at once.
   */
  async rotateEncryptionKey(
    nameOrId: string,
    oldKey: string | Uint8Array,
    newKey: string | Uint8Array,
  ): Promise<void> {
    this.#assertOpen();
    await this.#databases.rotateKey(this.#catalog.requireDatabase(nameOrId), oldKey, newKey);
  }

  // ── schema migrations ───────────────────────────────────────────────────

  /**
   * Applies statements to a schema database and every child, all or none, as one job. By
   * default resolves when the job has finished, with the parent's results; with `wait: false`
   * it resolves once the job has started (watch it with `getMigration` or `onProgress`).
   * @example await platform.migrate("app-schema", [{ sql: "ALTER TABLE users ADD COLUMN plan TEXT" }]);
   */
  async migrate(
    schemaName: string,
    statements: readonly (string | { sql: string; args?: InArgs })[],
    options: { wait?: boolean; onProgress?: (p: MigrationProgress) => void } = {},
  ): Promise<{ jobId: number; results: ResultSet[]; done: Promise<void> }> {
    this.#assertOpen();
    const info = this.#catalog.requireDatabase(schemaName);
    if (info.type !== "schema") {
      throw new TenantliteError(
        "SCHEMA_INVALID",
        `database "${info.name}" is not a schema database`,
      );
    }
    const list = statements.map((s) => (typeof s === "string" ? { sql: s } : s));
    return this.#migrations.migrate(info, list, options);
  }

  /** A schema database's migration jobs, newest first (sqld's `/v1/jobs` shape). */
  async listMigrations(
    schemaName: string,
  ): Promise<{ schema_version: number; migrations: { job_id: number; status: JobStatus }[] }> {
    this.#assertOpen();
    const info = this.#requireSchema(schemaName);
    const migrations = this.#migrations.list(info);
    return { schema_version: migrations[0]?.job_id ?? 0, migrations };
  }

  /** One migration job with per-child status (sqld's `/v1/jobs/{id}` shape); `JOB_NOT_FOUND` if none. */
  async getMigration(schemaName: string, jobId: number): Promise<MigrationJob> {
    this.#assertOpen();
    const job = this.#migrations.get(this.#requireSchema(schemaName), jobId);
    if (job === undefined) {
      throw new TenantliteError("JOB_NOT_FOUND", "couldn't find requested migration job");
    }
    return job;
  }

  /** Subscribes to progress events of every migration; returns the unsubscribe function. */
  onMigrationProgress(listener: (p: MigrationProgress) => void): () => void {
    return this.#migrations.onProgress(listener);
  }

  /**
   * Children of a schema database whose schema differs from the parent's (by construction this
   * is always empty; the check is there to prove it).
   */
  async checkSchemas(schemaName: string): Promise<{ name: string; differences: string[] }[]> {
    this.#assertOpen();
    const parent = this.#requireSchema(schemaName);
    const expected = await this.#schemaOf(parent);
    const drifted: { name: string; differences: string[] }[] = [];
    for (const page of this.#catalog.pagesOfDatabases({ schema: parent.name })) {
      for (const child of page) {
        const actual = await this.#schemaOf(child);
        const differences = [
          ...[...expected].filter((x) => !actual.has(x)).map((x) => `missing: ${x}`),
          ...[...actual].filter((x) => !expected.has(x)).map((x) => `extra: ${x}`),
        ];
        if (differences.length > 0) drifted.push({ name: child.name, differences });
      }
    }
    return drifted;
  }

  #requireSchema(name: string): DatabaseInfo {
    const info = this.#catalog.requireDatabase(name);
    if (info.type !== "schema") {
      throw new TenantliteError("SCHEMA_INVALID", "Invalid namespace: not a schema database");
    }
    return info;
  }

  /** A database's schema as a set of `type name: sql` lines (from its stored image). */
  async #schemaOf(info: DatabaseInfo): Promise<Set<string>> {
    return this.#images.schemaOf(await this.#pool.imageOf(info));
  }

  // ── groups ──────────────────────────────────────────────────────────────

  /** Creates a group. */
  async createGroup(name: string, options: { location?: string } = {}): Promise<GroupInfo> {
    this.#assertOpen();
    assertValidName(name, "group");
    const location = options.location ?? "local";
    if (location !== "local") {
      // One location: where this platform runs. A group "elsewhere" would claim what isn't so.
      throw new TenantliteError(
        "OPTION_UNSUPPORTED",
        `location ${JSON.stringify(String(location).slice(0, 40))} is not available: tenantlite has one location, "local"; leave location out or give "local"`,
      );
    }
    if (this.#catalog.getGroup(name) !== undefined) {
      throw new TenantliteError("GROUP_EXISTS", "group already exists");
    }
    const group = newGroup(name, location);
    await this.#catalog.putGroup(group);
    return group;
  }

  /** A group by name; `GROUP_NOT_FOUND` when there is none. */
  async getGroup(name: string): Promise<GroupInfo> {
    this.#assertOpen();
    const g = this.#catalog.getGroup(name);
    if (g === undefined) throw groupNotFound();
    return g;
  }

  /** Changes a group's settings; fields left out (or `null`) stay as they are. */
  async updateGroup(
    name: string,
    patch: { delete_protection?: boolean | null },
  ): Promise<GroupInfo> {
    const group = await this.getGroup(name);
    const dp = patch.delete_protection;
    if (dp === undefined || dp === null) return group;
    if (typeof dp !== "boolean") {
      throw new TenantliteError("ARGS_INVALID", "delete_protection must be a boolean");
    }
    const next = Object.freeze({ ...group, delete_protection: dp });
    await this.#catalog.putGroup(next);
    return next;
  }

  async listGroups(): Promise<GroupInfo[]> {
    this.#assertOpen();
    return this.#catalog.listGroups();
  }

  /** The group databases go to when none is given (it cannot be deleted). */
  get defaultGroupName(): string {
    return this.#defaultGroup;
  }

  /**
   * Deletes a group. The default group is never deleted (databases created without a group go
   * there), and a group that still holds databases only with `cascade: true`, which deletes them
   * with it (refused if any of them is protected).
   * @example await platform.deleteGroup("eu", { cascade: true });
   */
  async deleteGroup(name: string, options: DeleteGroupOptions = {}): Promise<GroupInfo> {
    const group = await this.getGroup(name);
    if (name === this.#defaultGroup) {
      throw new TenantliteError(
        "GROUP_IS_DEFAULT",
        `group "${name}" is the default group, where databases created without a group go, and cannot be deleted; delete or move its databases instead`,
      );
    }
    if (group.delete_protection) {
      throw new TenantliteError("GROUP_PROTECTED", `group "${name}" has delete protection on`);
    }
    return this.#databases.deleteGroup(name, () => this.#deleteGroup(group, options));
  }

  async #deleteGroup(group: GroupInfo, options: DeleteGroupOptions): Promise<GroupInfo> {
    const { name } = group;
    const members = [...this.#catalog.pagesOfDatabases({ group: name }, 1000)].flat();
    if (members.length > 0 && options.cascade !== true) {
      const n = members.length;
      throw new TenantliteError(
        "GROUP_NOT_EMPTY",
        `group "${name}" still holds ${n} database${n === 1 ? "" : "s"}; delete ${n === 1 ? "it" : "them"} first, or delete the group with its databases explicitly (Platform API: DELETE …/groups/${name}?cascade=true; library: deleteGroup("${name}", { cascade: true }); CLI: tenantlite group destroy ${name} --yes)`,
      );
    }
    const protectedDb = members.find((d) => d.config.delete_protection);
    if (protectedDb !== undefined) {
      throw new TenantliteError(
        "DATABASE_PROTECTED",
        `group "${name}" holds database "${protectedDb.name}", which has delete protection on`,
      );
    }
    // Children first, so no parent is deleted while children still refer to it.
    members.sort((a, b) => (a.type === "schema" ? 1 : 0) - (b.type === "schema" ? 1 : 0));
    for (const d of members) await this.deleteDatabase(d.id);
    await this.#catalog.deleteGroup(name);
    this.#guard.forgetGroup(name);
    return group;
  }

  // ── connections ──────────────────────────────────────────────────────────

  /**
   * A client for one database, with the interface of `@libsql/client`. The database is looked up
   * on first use (an unknown name fails then with `DATABASE_NOT_FOUND`).
   * @example const db = platform.client("acme"); await db.execute("SELECT 1");
   */
  client(name: string, options: ClientOptions = {}): Client {
    assertKnownOptions(options, CLIENT_OPTIONS, "client");
    this.#assertOpen();
    const intMode = options.intMode ?? "number";
    if (intMode !== "number" && intMode !== "bigint" && intMode !== "string") {
      throw new TenantliteError(
        "ARGS_INVALID",
        `Invalid intMode: use "number", "bigint" or "string"`,
      );
    }
    const { encryptionKey, access, authToken } = options;
    return new PlatformClient(
      () =>
        this.connect(name, {
          ...(encryptionKey === undefined ? {} : { encryptionKey }),
          ...(access === undefined ? {} : { access }),
          ...(authToken === undefined ? {} : { authToken }),
        }),
      intMode,
    );
  }

  /** A raw logical connection onto a database (what clients, streams and shells are built on). */
  connect(nameOrId: string, options: ConnectOptions = {}): SqlConnection {
    assertKnownOptions(options, CONNECT_OPTIONS, "connect");
    this.#assertOpen();
    const { encryptionKey, access: given, authToken, name, maxResultBytes, ...timeouts } = options;
    // The name when connected (by id, too): what an error says once the database is gone.
    const shown = name ?? this.#catalog.getDatabase(nameOrId)?.name ?? nameOrId;
    // Access is settled once per connection, before its first statement (or asked each time
    // when given as a function).
    let settled: AccessPolicy | undefined =
      typeof given === "function"
        ? undefined
        : (given ?? (this.#options.authenticate === undefined ? FULL_ACCESS : undefined));
    const current = typeof given === "function" ? given : () => settled;
    const settleAccess = async (): Promise<AccessPolicy> => {
      settled ??= await this.#options.authenticate!(authToken);
      return settled;
    };
    if (this.#threads !== undefined) {
      if (Object.keys(timeouts).length > 0) {
        throw new TenantliteError(
          "ARGS_INVALID",
          "Per-connection timeouts are not available when tenants run on threads: set busyTimeoutMs and transactionTimeoutMs on the platform",
        );
      }
      return this.#threads.connect(
        nameOrId,
        encryptionKey,
        { current, settle: settleAccess },
        shown,
        maxResultBytes,
      );
    }
    // Once a connection's key matched an open tenant, later statements skip the check.
    const verified = new WeakSet<PooledTenant>();
    const check = (t: PooledTenant): PooledTenant | Promise<PooledTenant> => {
      if (t.crypto === undefined) {
        if (encryptionKey === undefined) return t;
        t.release();
        throw notEncrypted(t.info.name);
      }
      if (verified.has(t)) return t;
      return this.#pool.verifySecret(t, encryptionKey).then(
        () => {
          verified.add(t);
          return t;
        },
        (e: unknown) => {
          t.release();
          throw e;
        },
      );
    };
    const open = (): PooledTenant | Promise<PooledTenant> => {
      const access = current();
      if (access === undefined) return settleAccess().then(open);
      if (access !== FULL_ACCESS && !access.canRead(this.#guard.refOf(nameOrId))) {
        throw databaseNotFound(shown);
      }
      let r: PooledTenant | Promise<PooledTenant>;
      try {
        r = this.#pool.openTenant(nameOrId, encryptionKey);
      } catch (e) {
        throw hasCode(e, "DATABASE_NOT_FOUND") ? databaseNotFound(shown) : e;
      }
      return r instanceof Promise ? r.then(check) : check(r);
    };
    return new Connection(
      { open },
      {
        ...this.#options.connectionOptions,
        ...timeouts,
        ...(maxResultBytes === undefined ? {} : { maxResultBytes }),
      },
      {
        guard: (t, attached) => {
          const own = this.#guard.guardFor((t as PooledTenant).info, current() ?? FULL_ACCESS);
          const through = readOnlyGuard(attached);
          if (through === undefined || own === undefined) return own ?? through;
          return (statement, effects) => {
            through(statement, effects);
            own(statement, effects);
          };
        },
        attach: (self, request) =>
          this.#attachPolicy.resolve(
            (self as PooledTenant).info,
            request,
            current() ?? FULL_ACCESS,
          ),
        router: (t) => {
          const info = (t as PooledTenant).info;
          if (info.type !== "schema") return undefined;
          return new SchemaParentRouter((statements, intMode) =>
            this.#migrateParent(info, current() ?? FULL_ACCESS, statements, intMode),
          );
        },
      },
    );
  }

  /**
   * A write to schema parent `info` by a caller with `access`: applied as a migration of the
   * parent and every child; resolves with the parent's results.
   */
  async #migrateParent(
    info: DatabaseInfo,
    access: AccessPolicy,
    statements: readonly BatchStatement[],
    intMode: IntMode,
  ): Promise<ResultSet[]> {
    if (!access.canWrite(this.#guard.refFor(info))) throw readOnly(info.name);
    if (info.config.block_writes) throw blocked(`writes to database "${info.name}" are blocked`);
    const { results } = await this.#migrations.migrate(info, statements, { intMode });
    return results;
  }

  /** Number of tenants open right now. */
  get openTenantCount(): number {
    return this.#pool.size;
  }

  /** Flushes pending writes, closes every tenant and the catalog. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#pool.stop();
      await this.#threads?.close();
      await this.#settling.all();
      await this.#pool.close();
      await this.#catalog.close();
      await this.#options.migrationThreads?.close();
    } finally {
      // Closed, even if a last save failed: a new platform may open the data (and retry).
      dataInUse.delete(dataOf(this.storage));
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw platformClosed();
  }
}

/** The data of the platforms open in this process (see `Platform.create`). */
const dataInUse = new Set<unknown>();

/** What names a storage's data: its `dataId`, or, without one, the storage itself. */
function dataOf(storage: Storage): unknown {
  return storage.dataId ?? storage;
}

/**
 * Creates a platform: many tenant databases in this process, in memory unless a `storage` is given.
 * @example
 * const platform = await createPlatform();
 * await platform.createDatabase("acme");
 * const db = platform.client("acme");
 */
export async function createPlatform(options: PlatformOptions = {}): Promise<Platform> {
  assertKnownOptions(options, PLATFORM_OPTIONS, "createPlatform");
  return Platform.create(options);
}
