/**
 * The platform: many tenant databases in one process. It owns the catalog, opens tenants lazily
 * (a file each, with a SQLite connection per logical connection: see engine/tenant-file.ts),
 * keeps the number of open tenants under a budget, persists every committed write through the
 * storage (undoing it when the save fails), and hands out `@libsql/client`-compatible clients.
 * Its rules for statements live beside it: the access guard here, attach in attach-policy.ts,
 * schema parents in schema-parent.ts.
 */
import { Lru } from "../../parser/lru.js";
import { Connection, type ConnectionOptions, type OpenTenant } from "../engine/connection.js";
import { loadSqlJs, type SqlJsConfig } from "../engine/loader.js";
import type { ProgramEffects } from "../engine/program.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import {
  type StatementGuard,
  type StatementInfo,
  TenantDb,
  TRANSACTION_WORDS,
} from "../engine/tenant-db.js";
import { TenantFile } from "../engine/tenant-file.js";
import type { InArgs, ResultSet } from "../engine/values.js";
import { TenantliteError } from "../errors.js";
import {
  decryptImage,
  deriveTenantKey,
  encryptedImageSalt,
  encryptImage,
  isEncryptedImage,
  newSalt,
} from "../storage/encryption.js";
import { MemoryStorage } from "../storage/memory-storage.js";
import { Persister } from "../storage/persister.js";
import { assertSqliteImage } from "../storage/sqlite-image.js";
import type { Storage } from "../storage/storage.js";
import { AttachPolicy, QUERY_PRAGMAS } from "./attach-policy.js";
import { Catalog } from "./catalog.js";
import { PlatformClient } from "./client.js";
import {
  type JobStatus,
  type MigrationJob,
  type MigrationProgress,
  MigrationRunner,
  type MigrationThreads,
} from "./migrations.js";
import { assertValidName } from "./names.js";
import { SchemaParentRouter } from "./schema-parent.js";
import { sha256Hex } from "./sha256.js";
import type {
  CreateDatabaseOptions,
  DatabaseConfig,
  DatabaseInfo,
  DeleteGroupOptions,
  GroupInfo,
  ListDatabasesOptions,
} from "./types.js";
import {
  type AccessPolicy,
  type Client,
  type ClientOptions,
  type DatabaseRef,
  FULL_ACCESS,
} from "./types.js";

/** Options of {@link createPlatform}. */
export interface PlatformOptions {
  /** Where tenants and the catalog live. Default: a new `MemoryStorage`. */
  readonly storage?: Storage;
  /** Where sql.js finds its WASM (browsers). */
  readonly sqlJs?: SqlJsConfig;
  /**
   * `"strict"` (default): a write returns once durable. `"relaxed"`: writes return at once and are
   * saved within `flushIntervalMs`. Ignored for the memory backend, whose open databases are the data.
   */
  readonly durability?: "strict" | "relaxed";
  readonly flushIntervalMs?: number;
  /** Most tenants open at once (each is one sql.js connection, ~165 KB plus its data). Default 500. */
  readonly maxOpenTenants?: number;
  readonly busyTimeoutMs?: number;
  readonly transactionTimeoutMs?: number;
  /** Name of the group databases go to when none is given. Default `"default"`. */
  readonly defaultGroup?: string;
  /**
   * Memory budget for open tenants, in bytes (estimated from their images plus ~200 KB each).
   * Idle tenants are closed past it. Default 512 MiB.
   */
  readonly maxOpenBytes?: number;
  /** PBKDF2 iterations for new encryption keys (default 600,000; lower only in tests). */
  readonly kdfIterations?: number;
  /**
   * Turns a client's auth token into what it may do. Without it auth is off: every connection
   * has full access (like `turso dev`). With it, connections without a token are refused.
   */
  readonly authenticate?: (token: string | undefined) => Promise<AccessPolicy>;
  /**
   * Threads for the children's dry runs of schema migrations (the platform closes them when it
   * closes). `tenantlite/node`'s `createPlatform` passes worker threads unless this is given
   * (`null`: none); elsewhere dry runs run on the platform's own thread.
   */
  readonly migrationThreads?: MigrationThreads | null;
}

/** Per-connection options of {@link Platform.connect}. */
export interface ConnectOptions extends ConnectionOptions {
  /** The database's encryption key, for encrypted databases. */
  readonly encryptionKey?: string | Uint8Array;
  /**
   * What the connection may do; default: what `authToken` grants (or everything with auth off).
   * A function is asked before every statement (a Hrana stream's later requests may carry
   * another token).
   */
  readonly access?: AccessPolicy | (() => AccessPolicy);
  /** A JWT, checked with the platform's `authenticate` when `access` is not given. */
  readonly authToken?: string;
}

/**
 * Most tenants a platform keeps open. sql.js holds ~4,094 open files per process: an open tenant
 * holds three (database, WAL, wal-index) and one more once a connection of its own was opened
 * and closed (SQLite keeps its descriptor for the next), each connection open on it one or two
 * more; up to 128 idle connections and 64 spare files are kept across tenants (tenant-file.ts).
 */
export const MAX_OPEN_TENANTS = 800;

/** Base cost of one open tenant in sql.js (measured ~165 KB), used by the memory budget. */
const TENANT_OVERHEAD_BYTES = 200 * 1024;
/** Shared (copy-on-write) images up to this size are cached, at most 32 of them. */
const BASE_IMAGE_CACHE_MAX_BYTES = 1024 * 1024;

const DEFAULT_CONFIG: DatabaseConfig = Object.freeze({
  allow_attach: false,
  block_reads: false,
  block_writes: false,
  delete_protection: false,
});

/** Where a tenant's image is stored: spread over two levels so no directory grows huge. */
export function tenantKey(id: string): string {
  return `tenants/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}.db`;
}

/** How an encrypted tenant's image is sealed: its derived key, salt and a fingerprint of its secret. */
interface TenantCrypto {
  readonly key: CryptoKey;
  readonly salt: Uint8Array;
  readonly fingerprint: string;
}

class OpenTenantImpl implements OpenTenant {
  /** Set for encrypted tenants. */
  crypto: TenantCrypto | undefined;
  /** Estimated memory held (image size plus per-connection overhead). */
  bytes = TENANT_OVERHEAD_BYTES;
  lastUsed = 0;
  /** Uses in progress (connections between open and release); a pinned tenant is never evicted. */
  pins = 0;
  /** Whether a committed write happened since the tenant was opened. */
  changed = false;
  /** Set while the tenant goes back to its last durable state after a failed save. */
  reverting: Promise<void> | undefined;
  constructor(
    readonly info: DatabaseInfo,
    readonly file: TenantFile,
    private readonly persistFn: (t: OpenTenantImpl) => Promise<void> | undefined,
  ) {}
  get name(): string {
    return this.info.name;
  }
  committed(): Promise<void> | undefined {
    return this.persistFn(this);
  }
  release(): void {
    this.pins--;
  }
}

/** Many tenant databases in one runtime. Create one with {@link createPlatform}. */
export class Platform {
  private readonly open = new Map<string, OpenTenantImpl>();
  /** Open tenants by the name or id connections asked for (entries go stale when a tenant closes). */
  private readonly openByName = new Map<string, OpenTenantImpl>();
  /** Tenants being loaded, with the number of callers waiting (each gets a pin). */
  private readonly opening = new Map<
    string,
    { promise: Promise<OpenTenantImpl>; waiters: number }
  >();
  /** Tenants being flushed and closed: a reopen waits for them so it loads the final image. */
  private readonly closing = new Map<string, Promise<void>>();
  /** Tenants whose files a migration is overwriting in place: reading them waits for it. */
  private readonly rewriting = new Map<string, Promise<void>>();
  /**
   * Databases nobody can reach any more, closed a few at a time when the event loop comes round:
   * closing 500 idle tenants costs ~20 ms of sql.js, which a migration need not wait for.
   */
  private readonly toClose: { close(): void }[] = [];
  /** Reads of tenants' stored images in progress (an overwrite waits for them). */
  private readonly reading = new Map<string, Set<Promise<unknown>>>();
  private readonly persister: Persister | undefined;
  private readonly connectionOptions: ConnectionOptions;
  private readonly maxOpen: number;
  private readonly maxOpenBytes: number;
  private openBytes = 0;
  private readonly kdfIterations: number | undefined;
  private readonly migrationThreads: MigrationThreads | undefined;
  /** Derived keys by tenant id and secret fingerprint: PBKDF2 is paid once per tenant and key. */
  private readonly derivedKeys = new Map<string, CryptoKey>();
  /** Small shared images by key (immutable: the key is their content hash). */
  private readonly baseImages = new Lru<string, Uint8Array>(32);
  private readonly defaultGroup: string;
  /** Group ids by name (group names are never reused for another id while the platform runs). */
  private readonly groupIds = new Map<string, string>();
  private readonly authenticate: ((token: string | undefined) => Promise<AccessPolicy>) | undefined;
  /** Why writes to a schema (parent name) and its children are blocked right now. */
  private readonly blockedSchemas = new Map<string, string>();
  private readonly migrations: MigrationRunner;
  private readonly attachPolicy: AttachPolicy;
  private closed = false;

  private constructor(
    private readonly sql: SqlJsModule,
    readonly storage: Storage,
    private readonly catalog: Catalog,
    options: PlatformOptions,
  ) {
    this.persister =
      storage.kind === "memory"
        ? undefined
        : new Persister(storage, {
            durability: options.durability ?? "strict",
            onFailure: (key) => this.saveFailed(key),
            ...(options.flushIntervalMs === undefined
              ? {}
              : { flushIntervalMs: options.flushIntervalMs }),
          });
    this.connectionOptions = {
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
      ...(options.transactionTimeoutMs === undefined
        ? {}
        : { transactionTimeoutMs: options.transactionTimeoutMs }),
    };
    const maxOpen = options.maxOpenTenants ?? 500;
    if (!Number.isInteger(maxOpen) || maxOpen < 1 || maxOpen > MAX_OPEN_TENANTS) {
      throw new TenantliteError(
        "ARGS_INVALID",
        `maxOpenTenants must be an integer from 1 to ${MAX_OPEN_TENANTS}: sql.js allows ~4,094 open files per process; each open tenant uses four (database, WAL, wal-index, a connection's) and each connection open on it more`,
      );
    }
    this.maxOpen = maxOpen;
    this.maxOpenBytes = Math.max(1, options.maxOpenBytes ?? 512 * 1024 * 1024);
    this.kdfIterations = options.kdfIterations;
    this.migrationThreads = options.migrationThreads ?? undefined;
    this.authenticate = options.authenticate;
    this.migrations = new MigrationRunner({
      sql,
      storage,
      catalog,
      startingImage: (info, allowShared) => this.startingImage(info, allowShared),
      replaceImage: (info, bytes) => this.replaceImage(info, bytes),
      replaceImages: (entries) => this.replaceImages(entries),
      saveImages: async (entries) => {
        for (const { info, bytes } of entries) await this.storage.save(tenantKey(info.id), bytes);
      },
      loadSharedImage: (key) => this.requireSharedImage(key),
      adoptSharedImages: (entries) => this.adoptSharedImages(entries),
      threads: this.migrationThreads,
      setBlocked: (parent, reason) => {
        if (reason === undefined) this.blockedSchemas.delete(parent.name);
        else this.blockedSchemas.set(parent.name, reason);
      },
    });
    this.defaultGroup = options.defaultGroup ?? "default";
    this.attachPolicy = new AttachPolicy({
      database: (nameOrId) => this.catalog.getDatabase(nameOrId),
      refFor: (info) => this.refFor(info),
      open: (id) => this.openTenant(id),
    });
  }

  /** @internal use {@link createPlatform}. */
  static async create(options: PlatformOptions = {}): Promise<Platform> {
    const sql = await loadSqlJs(options.sqlJs);
    const storage = options.storage ?? new MemoryStorage();
    const catalog = await Catalog.open(sql, storage);
    const platform = new Platform(sql, storage, catalog, options);
    if (catalog.getGroup(platform.defaultGroup) === undefined) {
      await catalog.putGroup(newGroup(platform.defaultGroup, "local"));
    }
    // Finish (or mark failed) migrations a crash interrupted, before anyone reads a tenant.
    await platform.migrations.recover();
    await platform.sweepSharedImages();
    return platform;
  }

  /**
   * Deletes shared images no database reads any more: left by deleted copies, by children that
   * moved to a migrated image, or by a creation or migration a crash interrupted. Runs at start,
   * after recovery, when nothing else is in flight.
   */
  private async sweepSharedImages(): Promise<void> {
    const used = this.catalog.sharedImagesInUse();
    for (let after: string | undefined; ; ) {
      const keys = await this.storage.list("images/", { limit: 1000, ...(after ? { after } : {}) });
      for (const key of keys) if (!used.has(key)) await this.storage.delete(key);
      if (keys.length < 1000) return;
      after = keys[keys.length - 1];
    }
  }

  // ── databases ────────────────────────────────────────────────────────────

  /**
   * Creates a database.
   * @example await platform.createDatabase("acme", { group: "default" });
   */
  async createDatabase(name: string, options: CreateDatabaseOptions = {}): Promise<DatabaseInfo> {
    this.assertOpen();
    assertValidName(name, "database");
    if (options === null || typeof options !== "object") {
      throw new TenantliteError("ARGS_INVALID", "createDatabase options must be an object");
    }
    if (this.catalog.getDatabase(name) !== undefined) {
      throw new TenantliteError("DATABASE_EXISTS", `database with name ${name} already exists`);
    }
    const groupName = options.group ?? this.defaultGroup;
    if (this.catalog.getGroup(groupName) === undefined) {
      throw new TenantliteError("GROUP_NOT_FOUND", `group not found: ${JSON.stringify(groupName)}`);
    }
    if (options.type !== undefined && options.type !== "regular" && options.type !== "schema") {
      throw new TenantliteError("ARGS_INVALID", `Unknown database type: use "regular" or "schema"`);
    }
    const isSchema = options.type === "schema";
    if (options.sizeLimit !== undefined) assertSizeLimit(options.sizeLimit);
    const secret = options.encryption?.key;
    if (options.encryption !== undefined) {
      assertSecret(secret);
      if (isSchema || options.schema !== undefined) {
        throw new TenantliteError(
          "ARGS_INVALID",
          "Encryption is not supported for schema databases and their children",
        );
      }
    }
    const sources = [options.schema, options.fromDatabase, options.fromBytes].filter(
      (s) => s !== undefined,
    ).length;
    if (sources > 1) {
      throw new TenantliteError(
        "ARGS_INVALID",
        "Give at most one of schema, fromDatabase and fromBytes",
      );
    }
    let parent: DatabaseInfo | undefined;
    if (options.schema !== undefined) {
      if (isSchema) {
        throw new TenantliteError(
          "SCHEMA_INVALID",
          "Shared schema error: shared schema database cannot reference another shared schema",
        );
      }
      parent = this.catalog.getDatabase(options.schema);
      if (parent === undefined) {
        throw new TenantliteError(
          "DATABASE_NOT_FOUND",
          `Namespace \`${options.schema}\` doesn't exist`,
        );
      }
      if (parent.type !== "schema") {
        throw new TenantliteError(
          "SCHEMA_INVALID",
          `database "${parent.name}" is not a schema database`,
        );
      }
      if (this.migrations.isRunning(parent.id)) throw pendingMigration(parent.name);
      if (parent.group !== groupName && options.group !== undefined) {
        throw new TenantliteError(
          "SCHEMA_INVALID",
          "a schema database and its children must share a group",
        );
      }
    }
    let bytes: Uint8Array | undefined;
    if (parent !== undefined) bytes = await this.imageOf(parent);
    else if (options.fromDatabase !== undefined) {
      const source = this.catalog.getDatabase(options.fromDatabase);
      if (source === undefined) {
        throw new TenantliteError(
          "DATABASE_NOT_FOUND",
          `could not find database with name ${options.fromDatabase}`,
        );
      }
      bytes = await this.imageOf(source, options.sourceEncryptionKey);
    } else if (options.fromBytes !== undefined) {
      if (!(options.fromBytes instanceof Uint8Array)) {
        throw new TenantliteError("ARGS_INVALID", "fromBytes must be a Uint8Array");
      }
      assertSqliteImage(options.fromBytes, name);
      bytes = options.fromBytes;
      this.assertOpensCleanly(bytes, name);
    }
    const id = crypto.randomUUID();
    const info: DatabaseInfo = Object.freeze({
      id,
      name,
      group: parent?.group ?? groupName,
      createdAt: new Date().toISOString(),
      type: isSchema ? "schema" : parent !== undefined ? "child" : "regular",
      parent: parent?.name ?? null,
      config: Object.freeze({ ...DEFAULT_CONFIG, ...pickConfig(options.config ?? {}) }),
      encrypted: secret !== undefined,
      ...(options.sizeLimit === undefined ? {} : { sizeLimit: options.sizeLimit }),
    });
    if (secret !== undefined) {
      // An encrypted tenant is written at once, so every later open can verify its key.
      const salt = newSalt();
      const key = await deriveTenantKey(secret, salt, this.kdfOptions());
      const plain = bytes ?? this.emptyImage();
      await this.storage.save(tenantKey(id), await encryptImage(key, plain, aadFor(id)));
      this.derivedKeys.set(`${id}:${await fingerprint(salt, secret)}`, key);
      await this.catalog.putDatabase(info);
      return info;
    }
    let baseImage: string | undefined;
    if (bytes !== undefined) {
      // Copies share one immutable image until their first write (copy on write).
      baseImage = `images/${await sha256Hex(bytes)}.db`;
      if (!(await this.storage.has(baseImage))) await this.storage.save(baseImage, bytes);
    }
    await this.catalog.putDatabase(info, baseImage);
    return info;
  }

  /** A database by name or id; `DATABASE_NOT_FOUND` when there is none. */
  async getDatabase(nameOrId: string): Promise<DatabaseInfo> {
    this.assertOpen();
    return this.requireDatabase(nameOrId);
  }

  /** Databases in name order, filtered and paged. */
  async listDatabases(options: ListDatabasesOptions = {}): Promise<DatabaseInfo[]> {
    this.assertOpen();
    return this.catalog.listDatabases(options);
  }

  /** Changes a database's configuration; fields left out (or `null`) stay as they are. */
  async updateConfig(
    nameOrId: string,
    patch: Partial<Record<keyof DatabaseConfig, boolean | null>>,
  ): Promise<DatabaseConfig> {
    this.assertOpen();
    const info = this.requireDatabase(nameOrId);
    const config = Object.freeze({ ...info.config, ...pickConfig(patch) });
    const next = Object.freeze({ ...info, config });
    await this.catalog.putDatabase(next);
    const open = this.open.get(info.id);
    if (open !== undefined) (open as { info: DatabaseInfo }).info = next;
    return config;
  }

  /**
   * Sets (or, with `null`, removes) a database's size limit in bytes: from now on, on every
   * connection, a write that would grow it past the limit fails with SQLITE_FULL. A database
   * already larger keeps its data and cannot grow.
   * @example await platform.setSizeLimit("acme", 500_000_000);
   */
  async setSizeLimit(nameOrId: string, maxBytes: number | null): Promise<DatabaseInfo> {
    this.assertOpen();
    if (maxBytes !== null) assertSizeLimit(maxBytes);
    const info = this.requireDatabase(nameOrId);
    const { sizeLimit: _, ...rest } = info;
    const next: DatabaseInfo = Object.freeze(
      maxBytes === null ? rest : { ...rest, sizeLimit: maxBytes },
    );
    await this.catalog.putDatabase(next);
    const open = this.open.get(info.id);
    if (open !== undefined) {
      (open as { info: DatabaseInfo }).info = next;
      open.file.setSizeLimit(next.sizeLimit);
    }
    return next;
  }

  /** Deletes a database and its data. Refused for protected databases and schema parents with children. */
  async deleteDatabase(nameOrId: string): Promise<void> {
    this.assertOpen();
    const info = this.requireDatabase(nameOrId);
    if (info.config.delete_protection) {
      throw new TenantliteError(
        "DATABASE_PROTECTED",
        `database "${info.name}" has delete protection on; switch it off first`,
      );
    }
    if (info.parent !== null) {
      const parent = this.catalog.getDatabase(info.parent);
      if (parent !== undefined && this.migrations.isRunning(parent.id))
        throw pendingMigration(parent.name);
    }
    if (info.type === "schema" && this.migrations.isRunning(info.id))
      throw pendingMigration(info.name);
    if (info.type === "schema" && this.catalog.countChildren(info.name) > 0) {
      throw new TenantliteError(
        "SCHEMA_HAS_CHILDREN",
        `cannot delete \`${info.name}\` because databases are still refering to it`,
      );
    }
    await this.catalog.deleteDatabase(info.id);
    // A pending relaxed save must not bring the deleted tenant back.
    await this.persister?.discard(tenantKey(info.id));
    const open = this.open.get(info.id);
    if (open !== undefined) {
      this.open.delete(info.id);
      this.openBytes -= open.bytes;
      open.file.close();
    }
    this.openByName.delete(info.name);
    this.openByName.delete(info.id);
    await this.storage.delete(tenantKey(info.id));
  }

  /** The database's SQLite file image (a standard SQLite file). */
  async exportDatabase(
    nameOrId: string,
    options: { encryptionKey?: string | Uint8Array } = {},
  ): Promise<Uint8Array> {
    this.assertOpen();
    return this.imageOf(this.requireDatabase(nameOrId), options.encryptionKey);
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
    this.assertOpen();
    const info = this.requireDatabase(nameOrId);
    if (!info.encrypted) {
      throw new TenantliteError("ARGS_INVALID", `database "${info.name}" is not encrypted`);
    }
    assertSecret(newKey);
    const t = await this.openVerified(info.name, oldKey);
    try {
      await this.settledFor(info); // a child's save waits for its schema's last migration
      await t.file.gate.hold(async () => {
        const salt = newSalt();
        const key = await deriveTenantKey(newKey, salt, this.kdfOptions());
        t.crypto = { key, salt, fingerprint: await fingerprint(salt, newKey) };
        this.derivedKeys.set(`${info.id}:${t.crypto.fingerprint}`, key);
        await this.storage.save(tenantKey(info.id), await this.seal(t, t.file.export()));
      });
    } finally {
      t.release();
    }
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
    this.assertOpen();
    const info = this.requireDatabase(schemaName);
    if (info.type !== "schema") {
      throw new TenantliteError(
        "SCHEMA_INVALID",
        `database "${info.name}" is not a schema database`,
      );
    }
    const list = statements.map((s) => (typeof s === "string" ? { sql: s } : s));
    return this.migrations.migrate(info, list, options);
  }

  /** A schema database's migration jobs, newest first (sqld's `/v1/jobs` shape). */
  async listMigrations(
    schemaName: string,
  ): Promise<{ schema_version: number; migrations: { job_id: number; status: JobStatus }[] }> {
    this.assertOpen();
    const info = this.requireSchema(schemaName);
    const migrations = this.migrations.list(info);
    return { schema_version: migrations[0]?.job_id ?? 0, migrations };
  }

  /** One migration job with per-child status (sqld's `/v1/jobs/{id}` shape); `JOB_NOT_FOUND` if none. */
  async getMigration(schemaName: string, jobId: number): Promise<MigrationJob> {
    this.assertOpen();
    const job = this.migrations.get(this.requireSchema(schemaName), jobId);
    if (job === undefined) {
      throw new TenantliteError("JOB_NOT_FOUND", "couldn't find requested migration job", {
        status: 404,
      });
    }
    return job;
  }

  /** Subscribes to progress events of every migration; returns the unsubscribe function. */
  onMigrationProgress(listener: (p: MigrationProgress) => void): () => void {
    return this.migrations.onProgress(listener);
  }

  /**
   * Children of a schema database whose schema differs from the parent's (by construction this
   * is always empty; the check is there to prove it).
   */
  async checkSchemas(schemaName: string): Promise<{ name: string; differences: string[] }[]> {
    this.assertOpen();
    const parent = this.requireSchema(schemaName);
    const expected = await this.schemaOf(parent);
    const drifted: { name: string; differences: string[] }[] = [];
    for (const page of this.catalog.pagesOfDatabases({ schema: parent.name })) {
      for (const child of page) {
        const actual = await this.schemaOf(child);
        const differences = [
          ...[...expected].filter((x) => !actual.has(x)).map((x) => `missing: ${x}`),
          ...[...actual].filter((x) => !expected.has(x)).map((x) => `extra: ${x}`),
        ];
        if (differences.length > 0) drifted.push({ name: child.name, differences });
      }
    }
    return drifted;
  }

  private requireSchema(name: string): DatabaseInfo {
    const info = this.requireDatabase(name);
    if (info.type !== "schema") {
      throw new TenantliteError("SCHEMA_INVALID", "Invalid namespace: not a schema database", {
        status: 400,
      });
    }
    return info;
  }

  /** A database's schema as a set of `type name: sql` lines (from its stored image). */
  private async schemaOf(info: DatabaseInfo): Promise<Set<string>> {
    const db = new TenantDb(this.sql, await this.imageOf(info), { journalMode: "delete" });
    try {
      const rs = db.execute(
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        undefined,
        "bigint",
      );
      return new Set(rs.rows.map((r) => `${r.type} ${r.name}: ${r.sql}`));
    } finally {
      db.close();
    }
  }

  /** Installs a new image for a tenant (migrations): durably, and in memory when it is open. */
  private async replaceImage(info: DatabaseInfo, bytes: Uint8Array): Promise<void> {
    const key = tenantKey(info.id);
    const t = this.open.get(info.id);
    if (t === undefined) {
      await this.storage.save(key, bytes);
      // An open that read the old file while this saved would hold the old image.
      await this.swapIfOpened(info, () => bytes);
      return;
    }
    await t.file.gate.hold(async () => {
      await this.persister?.flush(key);
      await this.storage.save(key, await this.seal(t, bytes));
      this.swapImage(t, bytes);
    });
  }

  /**
   * Installs new images for many tenants at once: a migration's apply phase, which keeps a durable
   * copy of every image in its staged packs until `synced` (so the storage may overwrite files in
   * place, torn by a crash until the job is rolled forward) and has writes to them blocked (and
   * their saves held until then). Reading these tenants' files waits until they are whole, which
   * is when this resolves. Open tenants nobody is using are closed rather than handed the new
   * image (the next use reopens them, which costs what a swap would, and only for tenants that
   * are used); busy ones get it in memory.
   */
  private async replaceImages(
    entries: readonly { info: DatabaseInfo; bytes: Uint8Array }[],
  ): Promise<{ synced: Promise<void> }> {
    let release = () => {};
    const rewritten = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const { info } of entries) this.rewriting.set(info.id, rewritten);
    let kept: { t: OpenTenantImpl; bytes: Uint8Array }[] = [];
    try {
      // Opens, closes and reads that began before the marks were set finish first.
      await Promise.all(
        entries.map(async ({ info }) => {
          await this.opening.get(info.id)?.promise.catch(() => undefined);
          await this.closing.get(info.id);
          await Promise.allSettled([...(this.reading.get(info.id) ?? [])]);
        }),
      );
      // Every open one is pinned: never evicted (and saved with its old image) meanwhile.
      for (const { info, bytes } of entries) {
        const t = this.open.get(info.id);
        if (t === undefined) continue;
        t.pins++;
        kept.push({ t, bytes });
      }
      await Promise.all(entries.map(({ info }) => this.persister?.flush(tenantKey(info.id))));
      const writes = entries.map(({ info, bytes }) => ({ key: tenantKey(info.id), bytes }));
      const written =
        this.storage.overwriteMany !== undefined
          ? this.storage.overwriteMany(writes)
          : Promise.all(writes.map((w) => this.storage.save(w.key, w.bytes))).then(() => ({
              synced: Promise.resolve(),
            }));
      // While the files are written, open tenants nobody else uses are let go: their image is the
      // one the migration started from (writes are blocked), so nothing is saved.
      kept = kept.filter(({ t }) => {
        if (t.pins > 1 || t.file.gate.busy || t.file.connectionCount > 0) return true;
        t.release();
        this.forgetTenant(t);
        this.closeSoon(t.file);
        return false;
      });
      const { synced } = await written;
      for (const { t, bytes } of kept) await t.file.gate.hold(async () => this.swapImage(t, bytes));
      return { synced };
    } finally {
      for (const { t } of kept) t.release();
      for (const { info } of entries) {
        if (this.rewriting.get(info.id) === rewritten) this.rewriting.delete(info.id);
      }
      release();
    }
  }

  /** After a tenant's stored image changed: waits for an open in progress, swaps if open. */
  private async swapIfOpened(
    info: DatabaseInfo,
    bytes: () => Uint8Array | Promise<Uint8Array>,
  ): Promise<void> {
    await this.opening.get(info.id)?.promise.catch(() => undefined);
    const t = this.open.get(info.id);
    if (t === undefined) return;
    const image = await bytes();
    await t.file.gate.hold(async () => this.swapImage(t, image));
  }

  /**
   * Replaces an open tenant's database in memory (the caller holds its gate): one write that its
   * connections see like another's commit. When SQLite cannot copy the image in (e.g. another page
   * size), the tenant is closed instead and its next use opens the stored image.
   */
  private swapImage(t: OpenTenantImpl, bytes: Uint8Array): void {
    try {
      t.file.replace(bytes);
    } catch {
      if (this.open.get(t.info.id) === t) this.forgetTenant(t);
      t.file.close();
    }
  }

  // ── groups ──────────────────────────────────────────────────────────────

  /** Creates a group. */
  async createGroup(name: string, options: { location?: string } = {}): Promise<GroupInfo> {
    this.assertOpen();
    assertValidName(name, "group");
    if (this.catalog.getGroup(name) !== undefined) {
      throw new TenantliteError("GROUP_EXISTS", "group already exists");
    }
    const group = newGroup(name, options.location ?? "local");
    await this.catalog.putGroup(group);
    return group;
  }

  /** A group by name; `GROUP_NOT_FOUND` when there is none. */
  async getGroup(name: string): Promise<GroupInfo> {
    this.assertOpen();
    const g = this.catalog.getGroup(name);
    if (g === undefined) throw new TenantliteError("GROUP_NOT_FOUND", "group not found");
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
    await this.catalog.putGroup(next);
    return next;
  }

  async listGroups(): Promise<GroupInfo[]> {
    this.assertOpen();
    return this.catalog.listGroups();
  }

  /** The group databases go to when none is given (it cannot be deleted). */
  get defaultGroupName(): string {
    return this.defaultGroup;
  }

  /**
   * Deletes a group. The default group is never deleted (databases created without a group go
   * there), and a group that still holds databases only with `cascade: true`, which deletes them
   * with it (refused if any of them is protected).
   * @example await platform.deleteGroup("eu", { cascade: true });
   */
  async deleteGroup(name: string, options: DeleteGroupOptions = {}): Promise<GroupInfo> {
    const group = await this.getGroup(name);
    if (name === this.defaultGroup) {
      throw new TenantliteError(
        "GROUP_IS_DEFAULT",
        `group "${name}" is the default group, where databases created without a group go, and cannot be deleted; delete or move its databases instead`,
      );
    }
    if (group.delete_protection) {
      throw new TenantliteError("GROUP_PROTECTED", `group "${name}" has delete protection on`);
    }
    const members = [...this.catalog.pagesOfDatabases({ group: name }, 1000)].flat();
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
    await this.catalog.deleteGroup(name);
    this.groupIds.delete(name);
    return group;
  }

  // ── connections ──────────────────────────────────────────────────────────

  /**
   * A client for one database, with the interface of `@libsql/client`. The database is looked up
   * on first use (an unknown name fails then with `DATABASE_NOT_FOUND`).
   * @example const db = platform.client("acme"); await db.execute("SELECT 1");
   */
  client(name: string, options: ClientOptions = {}): Client {
    this.assertOpen();
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
  connect(nameOrId: string, options: ConnectOptions = {}): Connection {
    this.assertOpen();
    const { encryptionKey, access: given, authToken, ...timeouts } = options;
    // Access is settled once per connection, before its first statement (or asked each time
    // when given as a function).
    let settled: AccessPolicy | undefined =
      typeof given === "function"
        ? undefined
        : (given ?? (this.authenticate === undefined ? FULL_ACCESS : undefined));
    const current = typeof given === "function" ? given : () => settled;
    const settleAccess = async (): Promise<AccessPolicy> => {
      settled ??= await this.authenticate!(authToken);
      return settled;
    };
    // Once a connection's key matched an open tenant, later statements skip the check.
    const verified = new WeakSet<OpenTenantImpl>();
    const check = (t: OpenTenantImpl): OpenTenantImpl | Promise<OpenTenantImpl> => {
      if (t.crypto === undefined || verified.has(t)) return t;
      return this.verifySecret(t, encryptionKey).then(
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
    const open = (): OpenTenantImpl | Promise<OpenTenantImpl> => {
      const access = current();
      if (access === undefined) return settleAccess().then(open);
      if (access !== FULL_ACCESS && !access.canRead(this.refOf(nameOrId))) {
        throw namespaceNotFound(nameOrId);
      }
      const r = this.openTenant(nameOrId, encryptionKey);
      return r instanceof Promise ? r.then(check) : check(r);
    };
    return new Connection(
      { open },
      { ...this.connectionOptions, ...timeouts },
      {
        guard: (t, attached) => {
          const own = this.guardFor(t as OpenTenantImpl, current() ?? FULL_ACCESS);
          const through = this.attachPolicy.readOnlyGuard(attached);
          if (through === undefined || own === undefined) return own ?? through;
          return (statement, effects) => {
            through(statement, effects);
            own(statement, effects);
          };
        },
        attach: (self, request) =>
          this.attachPolicy.resolve(
            (self as OpenTenantImpl).info,
            request,
            current() ?? FULL_ACCESS,
          ),
        router: (t) => {
          const info = (t as OpenTenantImpl).info;
          if (info.type !== "schema") return undefined;
          return new SchemaParentRouter(async (statements, intMode) => {
            const access = current() ?? FULL_ACCESS;
            if (!access.canWrite(this.refFor(info))) throw readOnly(info.name);
            if (info.config.block_writes)
              throw blocked(`writes to database "${info.name}" are blocked`);
            const { results } = await this.migrations.migrate(info, statements, { intMode });
            return results;
          });
        },
      },
    );
  }

  /** A database as access checks see it, without failing on unknown names (open reports those). */
  private refOf(nameOrId: string): DatabaseRef {
    const known = this.openByName.get(nameOrId);
    const info = known?.info ?? this.catalog.getDatabase(nameOrId);
    return info === undefined ? { name: nameOrId, id: nameOrId, groupId: "" } : this.refFor(info);
  }

  /** `info` with its group's id, for access checks. */
  private refFor(info: DatabaseInfo): DatabaseRef {
    let groupId = this.groupIds.get(info.group);
    if (groupId === undefined) {
      groupId = this.catalog.getGroup(info.group)?.id ?? "";
      this.groupIds.set(info.group, groupId);
    }
    return { name: info.name, id: info.id, groupId };
  }

  /** The checks every statement on `t` passes, for a connection with `access`. */
  private guardFor(t: OpenTenantImpl, access: AccessPolicy): StatementGuard | undefined {
    const info = t.info;
    if (
      access === FULL_ACCESS &&
      info.type !== "child" &&
      !info.config.block_writes &&
      !info.config.block_reads &&
      info.sizeLimit === undefined &&
      !this.blockedSchemas.has(info.parent ?? info.name)
    ) {
      return undefined; // the common case, decided without building the access check's view
    }
    const ref = this.refFor(info);
    const mayWrite = access.canWrite(ref);
    const child = info.type === "child" && !access.canDdl(ref);
    const schemaBlock = this.blockedSchemas.get(info.parent ?? info.name);
    const blockWrites = info.config.block_writes || schemaBlock !== undefined;
    const blockReads = info.config.block_reads;
    const sizeLimited = info.sizeLimit !== undefined;
    if (mayWrite && !child && !blockWrites && !blockReads && !sizeLimited) return undefined;
    return (statement, effects) => {
      const word = statement.firstWord;
      if (TRANSACTION_WORDS.has(word)) return;
      if (sizeLimited && word === "PRAGMA") refuseSizePragma(info.name, statement);
      if (blockReads) throw blocked(`reads of database "${info.name}" are blocked`);
      if (word === "SELECT" || word === "VALUES" || word === "EXPLAIN") return;
      if (child) refuseChildDdl(info, statement, effects);
      if (!mayWrite && word === "PRAGMA" && setsPragma(statement)) throw readOnly(info.name);
      const writes = persistentWrites(effects);
      if (!writes) return;
      if (!mayWrite) throw readOnly(info.name);
      if (schemaBlock !== undefined) throw blocked(schemaBlock);
      if (info.config.block_writes) throw blocked(`writes to database "${info.name}" are blocked`);
    };
  }

  /** Number of tenants open right now. */
  get openTenantCount(): number {
    return this.open.size;
  }

  /** Flushes pending writes, closes every tenant and the catalog. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.migrations.settleAll();
    for (const db of this.toClose.splice(0)) db.close();
    for (const t of [...this.open.values()]) await this.closeTenant(t);
    await this.persister?.close();
    await this.catalog.close();
    await this.migrationThreads?.close();
  }

  // ── internals ────────────────────────────────────────────────────────────

  private assertOpen(): void {
    if (this.closed) throw new TenantliteError("PLATFORM_CLOSED", "The platform is closed");
  }

  private requireDatabase(nameOrId: string): DatabaseInfo {
    if (typeof nameOrId !== "string") {
      throw new TenantliteError("ARGS_INVALID", "A database name must be a string");
    }
    const info = this.catalog.getDatabase(nameOrId);
    if (info === undefined) {
      throw new TenantliteError(
        "DATABASE_NOT_FOUND",
        `could not find database with name ${JSON.stringify(nameOrId.slice(0, 80))}`,
      );
    }
    return info;
  }

  private async imageOf(info: DatabaseInfo, secret?: string | Uint8Array): Promise<Uint8Array> {
    if (info.encrypted) {
      const t = await this.openVerified(info.id, secret);
      try {
        return t.file.export();
      } finally {
        t.release();
      }
    }
    const start = await this.startingImage(info, false);
    return "image" in start ? start.image : this.emptyImage();
  }

  /**
   * An unencrypted tenant's current committed image — waiting for its transactions and flushing
   * its pending saves first — or, with `allowShared`, the key of the shared image it reads as it
   * stands (no file of its own yet, no changes in memory).
   */
  private async startingImage(
    info: DatabaseInfo,
    allowShared: boolean,
  ): Promise<{ image: Uint8Array } | { shared: string }> {
    if (info.encrypted) return { image: await this.imageOf(info) };
    const open = this.open.get(info.id);
    if (open !== undefined) {
      // With a persister (or no change since it opened) the stored image is the open one once
      // its transactions are over and its saves flushed: reading it is ~10× cheaper than an
      // export. Without one (memory storage) the open database alone has its changes.
      if (this.persister === undefined && open.changed) {
        return { image: await open.file.gate.hold(() => open.file.export()) };
      }
      await open.file.gate.hold(() => undefined);
    }
    await this.persister?.flush(tenantKey(info.id));
    if (!allowShared) return { image: (await this.loadImage(info)) ?? this.emptyImage() };
    const own = await this.loadOwnImage(info);
    if (own !== undefined) return { image: own };
    const base = this.catalog.getBaseImage(info.id);
    return base === undefined ? { image: this.emptyImage() } : { shared: base };
  }

  /** A tenant's stored image: its own file, else the shared image it was created from. */
  private async loadImage(info: DatabaseInfo): Promise<Uint8Array | undefined> {
    const own = await this.loadOwnImage(info);
    if (own !== undefined) return own;
    const base = this.catalog.getBaseImage(info.id);
    return base === undefined ? undefined : this.sharedImage(base);
  }

  /** A tenant's own file, once no migration is overwriting it. */
  private async loadOwnImage(info: DatabaseInfo): Promise<Uint8Array | undefined> {
    for (let w = this.rewriting.get(info.id); w !== undefined; w = this.rewriting.get(info.id)) {
      await w;
    }
    const read = this.storage.load(tenantKey(info.id));
    const reads = this.reading.get(info.id) ?? new Set<Promise<unknown>>();
    this.reading.set(info.id, reads);
    reads.add(read);
    try {
      return await read;
    } finally {
      reads.delete(read);
      if (reads.size === 0 && this.reading.get(info.id) === reads) this.reading.delete(info.id);
    }
  }

  /**
   * A shared image's bytes. Shared images never change (their key is their hash): small ones are
   * kept, so opening or migrating many untouched copies reads the file once. Callers get a copy.
   */
  private async sharedImage(key: string): Promise<Uint8Array | undefined> {
    const cached = this.baseImages.get(key);
    if (cached !== undefined) return cached.slice();
    const bytes = await this.storage.load(key);
    if (bytes !== undefined && bytes.length <= BASE_IMAGE_CACHE_MAX_BYTES) {
      this.baseImages.set(key, bytes.slice());
    }
    return bytes;
  }

  /**
   * Points tenants at shared images: their catalog records change in one tick (one log record);
   * open ones get the new image in memory. A tenant that got a file of its own meanwhile (it
   * would shadow the shared image) gets the image written to its file instead.
   */
  private async adoptSharedImages(
    entries: readonly { info: DatabaseInfo; key: string }[],
  ): Promise<void> {
    const owners = new Set<string>();
    await Promise.all(
      entries.map(async ({ info }) => {
        if (await this.storage.has(tenantKey(info.id))) owners.add(info.id);
      }),
    );
    const records: Promise<void>[] = [];
    for (const { info, key } of entries) {
      if (!owners.has(info.id)) records.push(this.catalog.putDatabase(info, key));
    }
    await Promise.all(records);
    for (const { info, key } of entries) {
      if (owners.has(info.id)) await this.replaceImage(info, await this.requireSharedImage(key));
      else await this.swapIfOpened(info, () => this.requireSharedImage(key));
    }
  }

  private async requireSharedImage(key: string): Promise<Uint8Array> {
    const bytes = await this.sharedImage(key);
    if (bytes === undefined) {
      throw new TenantliteError("DATABASE_CORRUPT", "a shared database image is missing", {
        status: 500,
      });
    }
    return bytes;
  }

  private emptyImage(): Uint8Array {
    const empty = new TenantDb(this.sql, undefined, { journalMode: "delete" });
    try {
      return empty.export();
    } finally {
      empty.close();
    }
  }

  private kdfOptions(): { iterations?: number } {
    return this.kdfIterations === undefined ? {} : { iterations: this.kdfIterations };
  }

  /** Opens a tenant and checks the caller's key (for encrypted tenants); the caller releases it. */
  private async openVerified(nameOrId: string, secret: string | Uint8Array | undefined) {
    const t = await this.openTenant(nameOrId, secret);
    try {
      if (t.crypto !== undefined) await this.verifySecret(t, secret);
    } catch (e) {
      t.release();
      throw e;
    }
    return t;
  }

  private async verifySecret(t: OpenTenantImpl, secret: string | Uint8Array | undefined) {
    const c = t.crypto;
    if (c === undefined) return;
    if (secret === undefined) throw keyRequired(t.info.name);
    if ((await fingerprint(c.salt, secret)) !== c.fingerprint) throw keyInvalid(t.info.name);
  }

  /** The bytes to store for a tenant: its image, encrypted when the tenant is. */
  private seal(t: OpenTenantImpl, plain: Uint8Array): Promise<Uint8Array> | Uint8Array {
    t.bytes = TENANT_OVERHEAD_BYTES + plain.length;
    if (t.crypto === undefined) return plain;
    return encryptImage(t.crypto.key, plain, aadFor(t.info.id));
  }

  private assertOpensCleanly(bytes: Uint8Array, name: string): void {
    let db: TenantDb | undefined;
    try {
      db = new TenantDb(this.sql, bytes);
      const r = db.execute("PRAGMA quick_check", undefined, "number");
      if (r.rows[0]?.[0] !== "ok") throw new Error("quick_check failed");
    } catch (e) {
      throw new TenantliteError(
        "INVALID_SQLITE_FILE",
        `the file for database "${name}" is not a usable SQLite database`,
        { cause: e },
      );
    } finally {
      db?.close();
    }
  }

  private openTenant(
    nameOrId: string,
    secret?: string | Uint8Array,
  ): Promise<OpenTenantImpl> | OpenTenantImpl {
    this.assertOpen();
    // Hot path: an open tenant by the name (or id) a connection uses, without a catalog query.
    const known = this.openByName.get(nameOrId);
    if (known !== undefined && this.open.get(known.info.id) === known) {
      known.lastUsed = ++useClock;
      known.pins++;
      return known;
    }
    const info = this.requireDatabase(nameOrId);
    const hit = this.open.get(info.id);
    if (hit !== undefined) {
      hit.lastUsed = ++useClock;
      hit.pins++;
      this.openByName.set(nameOrId, hit);
      return hit;
    }
    let pending = this.opening.get(info.id);
    if (pending === undefined) {
      const entry = { promise: undefined as unknown as Promise<OpenTenantImpl>, waiters: 0 };
      entry.promise = this.load(info, entry, secret).finally(() => this.opening.delete(info.id));
      this.opening.set(info.id, entry);
      pending = entry;
    }
    pending.waiters++;
    return pending.promise.then((t) => {
      this.openByName.set(nameOrId, t);
      return t;
    });
  }

  private async load(
    info: DatabaseInfo,
    entry: { waiters: number },
    secret: string | Uint8Array | undefined,
  ): Promise<OpenTenantImpl> {
    await this.closing.get(info.id);
    let bytes = info.encrypted
      ? await this.storage.load(tenantKey(info.id))
      : await this.loadImage(info);
    let sealing: TenantCrypto | undefined;
    if (info.encrypted) {
      if (bytes === undefined || !isEncryptedImage(bytes)) {
        throw new TenantliteError(
          "DATABASE_CORRUPT",
          `database "${info.name}" could not be opened: its encrypted file is missing or damaged`,
        );
      }
      if (secret === undefined) throw keyRequired(info.name);
      const salt = encryptedImageSalt(bytes);
      const print = await fingerprint(salt, secret);
      const cacheKey = `${info.id}:${print}`;
      let key = this.derivedKeys.get(cacheKey);
      try {
        key ??= await deriveTenantKey(secret, salt, this.kdfOptions());
        bytes = await decryptImage(key, bytes, aadFor(info.id));
      } catch (e) {
        if (e instanceof TenantliteError && e.code === "ENCRYPTION_KEY_INVALID") {
          throw keyInvalid(info.name);
        }
        throw e;
      }
      this.derivedKeys.set(cacheKey, key);
      if (this.derivedKeys.size > 1000) {
        this.derivedKeys.delete(this.derivedKeys.keys().next().value as string);
      }
      sealing = { key, salt, fingerprint: print };
    }
    if (bytes !== undefined) {
      try {
        assertSqliteImage(bytes, info.name);
      } catch (e) {
        throw new TenantliteError(
          "DATABASE_CORRUPT",
          `database "${info.name}" could not be opened: its stored file is damaged`,
          { cause: e, status: 500 },
        );
      }
    }
    let file: TenantFile | undefined;
    for (let attempt = 0; file === undefined; attempt++) {
      try {
        file = TenantFile.open(this.sql, info.name, bytes);
      } catch (e) {
        const code = e instanceof TenantliteError ? e.code : "";
        if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") {
          throw new TenantliteError(
            "DATABASE_CORRUPT",
            `database "${info.name}" could not be opened: its stored file is damaged`,
            { cause: e, status: 500 },
          );
        }
        // Anything else is sql.js's, not the file's (e.g. a clash of its random file names):
        // try once more, then say what happened.
        if (attempt >= 1) {
          throw new TenantliteError(
            "DATABASE_OPEN_FAILED",
            `database "${info.name}" could not be opened: ${e instanceof Error ? e.message : String(e)}`,
            { cause: e, status: 503 },
          );
        }
      }
    }
    file.setSizeLimit(info.sizeLimit);
    const t = new OpenTenantImpl(info, file, (x) => this.persistTenant(x));
    t.crypto = sealing;
    t.bytes = TENANT_OVERHEAD_BYTES + (bytes?.length ?? 0);
    this.openBytes += t.bytes;
    t.lastUsed = ++useClock;
    // Pinned for every caller that waited for this load; later callers find it open and pin it.
    t.pins = entry.waiters;
    this.open.set(info.id, t);
    await this.evictIfOverBudget();
    return t;
  }

  private persistTenant(t: OpenTenantImpl): Promise<void> | undefined {
    if (this.persister === undefined) {
      // Memory storage: the open database is the data (kept when the tenant closes).
      t.changed = true;
      return undefined;
    }
    // Asked of SQLite, not guessed from statements: did the committed state change?
    if (!t.file.takeChanged()) return undefined;
    t.changed = true;
    return this.persister
      .write(tenantKey(t.info.id), () => this.committedImage(t))
      .catch(async (e: unknown) => {
        await t.reverting;
        throw new TenantliteError(
          "STORAGE_WRITE_FAILED",
          `saving database "${t.info.name}" failed, so the write was not kept: the database is back at its last saved state (check that the data directory is writable and has free space, then retry)`,
          { cause: e, status: 503 },
        );
      });
  }

  /**
   * A save of a tenant failed (strict durability): what was committed since its last durable
   * state is undone, in memory too, so no later read or save has it. Until then saves of it fail.
   */
  private saveFailed(key: string): void {
    const id = /([^/]+)\.db$/.exec(key)?.[1];
    const t = id === undefined ? undefined : this.open.get(id);
    if (t === undefined || tenantKey(t.info.id) !== key || t.reverting !== undefined) return;
    t.reverting = t.file.gate
      .hold(async () => this.swapImage(t, await this.durableImage(t)))
      .catch(() => {
        // Not even the durable state can be read back: close the tenant; its next use reloads it.
        if (this.open.get(t.info.id) === t) this.forgetTenant(t);
        t.file.close();
      })
      .finally(() => {
        t.reverting = undefined;
      });
  }

  /** The tenant's image as last saved (decrypted), or its starting image when never saved. */
  private async durableImage(t: OpenTenantImpl): Promise<Uint8Array> {
    if (t.crypto === undefined) return (await this.loadImage(t.info)) ?? this.emptyImage();
    const sealed = await this.storage.load(tenantKey(t.info.id));
    if (sealed === undefined) throw new Error("no saved image");
    return decryptImage(t.crypto.key, sealed, aadFor(t.info.id));
  }

  /**
   * The tenant's committed image, as a save stores it (export never waits for transactions of
   * other connections) — for a child, once its schema's last migration has its files synced
   * (see `settledFor`).
   */
  private async committedImage(t: OpenTenantImpl): Promise<Uint8Array> {
    if (t.reverting !== undefined) {
      throw new TenantliteError("STORAGE_WRITE_FAILED", "an earlier save failed");
    }
    await this.settledFor(t.info);
    const plain = t.file.export();
    const before = t.bytes;
    const sealed = await this.seal(t, plain);
    this.openBytes += t.bytes - before;
    return sealed;
  }

  private overBudget(): boolean {
    return this.open.size > this.maxOpen || this.openBytes > this.maxOpenBytes;
  }

  private async evictIfOverBudget(): Promise<void> {
    if (!this.overBudget()) return;
    const idle = [...this.open.values()]
      .filter((t) => t.pins === 0 && !t.file.gate.busy)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const t of idle) {
      if (!this.overBudget()) break;
      await this.closeTenant(t);
    }
  }

  private async closeTenant(t: OpenTenantImpl): Promise<void> {
    if (this.open.get(t.info.id) !== t) return;
    this.forgetTenant(t);
    const done = this.flushAndClose(t).finally(() => this.closing.delete(t.info.id));
    this.closing.set(t.info.id, done);
    await done;
  }

  /**
   * Waits until a save of this tenant cannot be undone by a crash: a child's files are rewritten
   * from its schema's last migration's stage by recovery until that migration's files are synced.
   */
  private async settledFor(info: DatabaseInfo): Promise<void> {
    if (info.parent !== null) await this.migrations.settled(info.parent);
  }

  /** Closes a database that nothing references any more, in the background (see `toClose`). */
  private closeSoon(db: { close(): void }): void {
    this.toClose.push(db);
    if (this.toClose.length > 1) return;
    const drain = () => {
      for (let n = 0; n < 32 && this.toClose.length > 0; n++) this.toClose.pop()!.close();
      if (this.toClose.length > 0) setTimeout(drain, 0);
    };
    setTimeout(drain, 0);
  }

  /** Removes an open tenant from the open set (the caller closes its database). */
  private forgetTenant(t: OpenTenantImpl): void {
    this.open.delete(t.info.id);
    this.openBytes -= t.bytes;
    this.openByName.delete(t.info.name);
    this.openByName.delete(t.info.id);
  }

  private async flushAndClose(t: OpenTenantImpl): Promise<void> {
    const key = tenantKey(t.info.id);
    if (this.persister !== undefined) await this.persister.flush(key);
    else if (t.changed && this.catalog.getDatabase(t.info.id) !== undefined) {
      // Memory storage: the open database was the data; keep its image (unchanged ones already are).
      await this.storage.save(key, await this.seal(t, t.file.export()));
    }
    t.file.close();
  }
}

let useClock = 0;

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
  info: DatabaseInfo,
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
      { status: 403 },
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

/** A size limit must be a whole number of bytes, at least one. */
function assertSizeLimit(bytes: unknown): void {
  if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new TenantliteError(
      "SIZE_LIMIT_INVALID",
      "a size limit must be a whole number of bytes, at least 1",
    );
  }
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

function readOnly(name: string): TenantliteError {
  return new TenantliteError(
    "AUTH_FORBIDDEN",
    `Authorization forbidden: Current session doesn't have Write permission to database ${name}`,
    { status: 403 },
  );
}

function pendingMigration(schema: string): TenantliteError {
  return new TenantliteError(
    "SCHEMA_MIGRATION_PENDING",
    `cannot create/update/delete database config while there are pending migration on the shared schema \`${schema}\``,
  );
}

function blocked(reason: string): TenantliteError {
  return new TenantliteError("BLOCKED", `Operation was blocked: ${reason}`, { status: 403 });
}

function namespaceNotFound(nameOrId: string): TenantliteError {
  return new TenantliteError(
    "DATABASE_NOT_FOUND",
    `Namespace \`${nameOrId.slice(0, 80)}\` doesn't exist`,
    { status: 404 },
  );
}

/** Binds an encrypted image to its tenant: a file moved to another tenant does not decrypt. */
function aadFor(id: string): Uint8Array {
  return new TextEncoder().encode(`tenantlite:${id}`);
}

/** A SHA-256 fingerprint of a secret under a tenant's salt, to compare keys without PBKDF2. */
async function fingerprint(salt: Uint8Array, secret: string | Uint8Array): Promise<string> {
  const material = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  const data = new Uint8Array(salt.length + material.length);
  data.set(salt);
  data.set(material, salt.length);
  return sha256Hex(data);
}

function assertSecret(secret: unknown): asserts secret is string | Uint8Array {
  const ok =
    (typeof secret === "string" && secret.length > 0) ||
    (secret instanceof Uint8Array && secret.length > 0);
  if (!ok) {
    throw new TenantliteError(
      "ENCRYPTION_KEY_INVALID",
      "An encryption key must be a non-empty string or Uint8Array",
    );
  }
}

function keyRequired(name: string): TenantliteError {
  return new TenantliteError(
    "ENCRYPTION_KEY_REQUIRED",
    `database "${name}" is encrypted: pass its encryption key`,
    { status: 401 },
  );
}

function keyInvalid(name: string): TenantliteError {
  return new TenantliteError(
    "ENCRYPTION_KEY_INVALID",
    `the encryption key for database "${name}" is wrong`,
    { status: 401 },
  );
}

function newGroup(name: string, location: string): GroupInfo {
  return Object.freeze({
    id: crypto.randomUUID(),
    name,
    createdAt: new Date().toISOString(),
    location,
    delete_protection: false,
  });
}

function pickConfig(
  patch: Partial<Record<keyof DatabaseConfig, boolean | null>>,
): Partial<DatabaseConfig> {
  const out: Partial<Record<keyof DatabaseConfig, boolean>> = {};
  for (const key of ["allow_attach", "block_reads", "block_writes", "delete_protection"] as const) {
    const v = patch[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "boolean") {
      throw new TenantliteError("ARGS_INVALID", `config field ${key} must be a boolean`);
    }
    out[key] = v;
  }
  return out;
}

/**
 * Creates a platform: many tenant databases in this process, in memory unless a `storage` is given.
 * @example
 * const platform = await createPlatform();
 * await platform.createDatabase("acme");
 * const db = platform.client("acme");
 */
export function createPlatform(options: PlatformOptions = {}): Promise<Platform> {
  return Platform.create(options);
}
