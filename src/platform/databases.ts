/**
 * Database records and their lifecycle: creating a database (empty, a copy of another, from a
 * file, a schema's child, encrypted), changing its configuration and size limit, deleting it,
 * and re-encrypting it under a new key.
 */
import { databaseNotFound, groupNotFound, TenantliteError } from "../errors.js";
import { keys } from "../storage/keyspace.js";
import { assertSqliteImage } from "../storage/sqlite-image.js";
import { roomAdvice, type Storage } from "../storage/storage.js";
import type { Catalog } from "./catalog.js";
import type { ImageStore } from "./image-store.js";
import type { MigrationRunner } from "./migrations/runner.js";
import { assertValidName } from "./names.js";
import {
  assertSizeLimit,
  DEFAULT_CONFIG,
  MAX_TENANT_BYTES,
  pickConfig,
  tooLarge,
} from "./options.js";
import { assertSecret, keyInvalid, type TenantKeys } from "./tenant-keys.js";
import type { TenantPool } from "./tenant-pool.js";
import type { CreateDatabaseOptions, DatabaseConfig, DatabaseInfo } from "./types.js";

/** What database records work with. */
export interface DatabasesDeps {
  readonly storage: Storage;
  readonly catalog: Catalog;
  readonly pool: TenantPool;
  readonly images: ImageStore;
  readonly keys: TenantKeys;
  /** Whether a schema's migration is running (databases of that schema change only after). */
  readonly migrations: MigrationRunner;
  /** The group databases go to when none is given. */
  readonly defaultGroup: string;
}

/** Creates, changes and deletes databases. */
export class Databases {
  readonly #storage: Storage;
  readonly #catalog: Catalog;
  readonly #pool: TenantPool;
  readonly #images: ImageStore;
  readonly #keys: TenantKeys;
  readonly #migrations: MigrationRunner;
  readonly #defaultGroup: string;

  constructor(deps: DatabasesDeps) {
    this.#storage = deps.storage;
    this.#catalog = deps.catalog;
    this.#pool = deps.pool;
    this.#images = deps.images;
    this.#keys = deps.keys;
    this.#migrations = deps.migrations;
    this.#defaultGroup = deps.defaultGroup;
  }

  /** Databases being created, by name (taken until their creation ends): parent's id, group. */
  readonly #creating = new Map<
    string,
    { parent?: string; group: unknown; done?: Promise<unknown> }
  >();
  /** Groups being deleted: no database is created in them meanwhile. */
  readonly #deletingGroups = new Set<string>();

  /**
   * Creates a database (see `Platform.createDatabase`). Its name is taken from the start: a copy,
   * an import, a child or an encrypted database awaits its storage before its record is written,
   * and a second creation of the name meanwhile wrote files and then failed on the catalog's
   * UNIQUE (and a schema parent deleted meanwhile left the child without one).
   */
  async create(name: string, options: CreateDatabaseOptions): Promise<DatabaseInfo> {
    assertValidName(name, "database");
    if (this.#creating.has(name)) throw databaseExists(name);
    const schema = options?.schema;
    const parent = typeof schema === "string" ? this.#catalog.getDatabase(schema) : undefined;
    // A child's group is its parent's.
    this.#creating.set(name, {
      parent: parent?.id,
      group: parent?.group ?? options?.group ?? this.#defaultGroup,
    });
    try {
      const done = this.#create(name, options);
      this.#creating.get(name)!.done = done;
      return await done;
    } finally {
      this.#creating.delete(name);
    }
  }

  /** Settles once the children of `parentId` being created now are created or failed. */
  childrenCreated(parentId: string): Promise<unknown> {
    const pending = [...this.#creating.values()].filter((c) => c.parent === parentId);
    return Promise.allSettled(pending.map((c) => c.done));
  }

  async #create(name: string, options: CreateDatabaseOptions): Promise<DatabaseInfo> {
    if (options === null || typeof options !== "object") {
      throw new TenantliteError("ARGS_INVALID", "createDatabase options must be an object");
    }
    if (this.#catalog.getDatabase(name) !== undefined) throw databaseExists(name);
    const groupName = options.group ?? this.#defaultGroup;
    if (this.#catalog.getGroup(groupName) === undefined) {
      throw groupNotFound(groupName);
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
      parent = this.#catalog.getDatabase(options.schema);
      if (parent === undefined) {
        throw databaseNotFound(options.schema);
      }
      if (parent.type !== "schema") {
        throw new TenantliteError(
          "SCHEMA_INVALID",
          `database "${parent.name}" is not a schema database`,
        );
      }
      if (this.#migrations.isRunning(parent.id)) throw pendingMigration(parent.name);
      if (parent.group !== groupName && options.group !== undefined) {
        throw new TenantliteError(
          "SCHEMA_INVALID",
          "a schema database and its children must share a group",
        );
      }
    }
    let bytes: Uint8Array | undefined;
    if (parent !== undefined) bytes = await this.#pool.imageOf(parent);
    else if (options.fromDatabase !== undefined) {
      const source = this.#catalog.getDatabase(options.fromDatabase);
      if (source === undefined) {
        throw databaseNotFound(options.fromDatabase);
      }
      bytes = await this.#pool.imageOf(source, options.sourceEncryptionKey);
    } else if (options.fromBytes !== undefined) {
      if (!(options.fromBytes instanceof Uint8Array)) {
        throw new TenantliteError("ARGS_INVALID", "fromBytes must be a Uint8Array");
      }
      if (options.fromBytes.length > MAX_TENANT_BYTES) {
        throw tooLarge(name, options.fromBytes.length);
      }
      assertSqliteImage(options.fromBytes, name);
      bytes = this.#images.importable(options.fromBytes, name);
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
    // Its group may have gone while a copy's source was read.
    if (this.#deletingGroups.has(info.group) || this.#catalog.getGroup(info.group) === undefined) {
      throw groupNotFound(info.group);
    }
    if (secret !== undefined) {
      // An encrypted tenant is written at once, so every later open can verify its key.
      const crypto = await this.#keys.create(id, secret);
      const plain = bytes ?? this.#images.empty();
      await this.#storage.save(keys.tenant(id), await this.#keys.seal(crypto, id, plain));
      try {
        await this.#catalog.putDatabase(info);
      } catch (e) {
        // Not created (the catalog is undone): no file of it stays behind.
        await this.#storage.delete(keys.tenant(id)).catch(() => undefined);
        throw e;
      }
      return info;
    }
    let baseImage: string | undefined;
    if (bytes !== undefined) {
      // Copies share one immutable image until their first write (copy on write).
      baseImage = await this.#images.saveShared(bytes);
    }
    await this.#catalog.putDatabase(info, baseImage);
    return info;
  }

  /** Changes a database's configuration; fields left out (or `null`) stay as they are. */
  async updateConfig(
    info: DatabaseInfo,
    patch: Partial<Record<keyof DatabaseConfig, boolean | null>>,
  ): Promise<DatabaseConfig> {
    const config = Object.freeze({ ...info.config, ...pickConfig(patch) });
    const next = Object.freeze({ ...info, config });
    await this.#catalog.putDatabase(next);
    this.#pool.setInfo(next);
    return config;
  }

  /** Sets (or, with `null`, removes) a database's size limit in bytes. */
  async setSizeLimit(info: DatabaseInfo, maxBytes: number | null): Promise<DatabaseInfo> {
    const { sizeLimit: _, ...rest } = info;
    const next: DatabaseInfo = Object.freeze(
      maxBytes === null ? rest : { ...rest, sizeLimit: maxBytes },
    );
    await this.#catalog.putDatabase(next);
    await this.#pool.resize(next);
    return next;
  }

  /** Deletes a database and its data. Refused for protected databases and schema parents with children. */
  /**
   * Runs `deletion` of group `name` (the platform's), refusing it while a database is being
   * created in the group, and refusing creations in it until it ends.
   */
  async deleteGroup<T>(name: string, deletion: () => Promise<T>): Promise<T> {
    if ([...this.#creating.values()].some((c) => c.group === name)) {
      throw new TenantliteError(
        "GROUP_NOT_EMPTY",
        `a database is being created in group "${name}"; delete the group once it is done`,
      );
    }
    this.#deletingGroups.add(name);
    try {
      return await deletion();
    } finally {
      this.#deletingGroups.delete(name);
    }
  }

  async delete(info: DatabaseInfo): Promise<void> {
    if (info.config.delete_protection) {
      throw new TenantliteError(
        "DATABASE_PROTECTED",
        `database "${info.name}" has delete protection on; switch it off first`,
      );
    }
    if (info.parent !== null) {
      const parent = this.#catalog.getDatabase(info.parent);
      if (parent !== undefined && this.#migrations.isRunning(parent.id))
        throw pendingMigration(parent.name);
    }
    if (info.type === "schema" && this.#migrations.isRunning(info.id))
      throw pendingMigration(info.name);
    if (
      info.type === "schema" &&
      // A child being created counts: its record, written when its copy is done, would name a
      // parent deleted meanwhile.
      (this.#catalog.countChildren(info.name) > 0 ||
        [...this.#creating.values()].some((c) => c.parent === info.id))
    ) {
      throw new TenantliteError(
        "SCHEMA_HAS_CHILDREN",
        `cannot delete \`${info.name}\` because databases are still refering to it`,
      );
    }
    await this.#catalog.deleteDatabase(info.id);
    await this.#pool.delete(info);
  }

  /**
   * Re-encrypts an encrypted database under a new key (new salt, new IV). Earlier keys stop
   * working at once.
   */
  async rotateKey(
    info: DatabaseInfo,
    oldKey: string | Uint8Array,
    newKey: string | Uint8Array,
  ): Promise<void> {
    if (!info.encrypted) {
      throw new TenantliteError("ARGS_INVALID", `database "${info.name}" is not encrypted`);
    }
    assertSecret(newKey);
    const t = await this.#pool.openVerified(info.name, oldKey);
    const verified = t.crypto;
    try {
      await this.#pool.settledFor(info); // a child's save waits for its schema's last migration
      await t.file.gate.hold(async () => {
        // Another rotation that verified the same key first has replaced it meanwhile.
        if (t.crypto !== verified) throw keyInvalid(info.name);
        const next = await this.#keys.create(info.id, newKey);
        const sealed = await this.#keys.seal(next, info.id, t.file.export());
        try {
          await this.#storage.save(keys.tenant(info.id), sealed);
        } catch (e) {
          // Not stored: the old key is still the one, in memory as on disk.
          throw new TenantliteError(
            "STORAGE_WRITE_FAILED",
            `the key of database "${info.name}" was not changed: saving it under the new key failed, so the old key still opens it (${roomAdvice(this.#storage)})`,
            { cause: e },
          );
        }
        t.crypto = next;
      });
    } finally {
      t.release();
    }
  }
}

function pendingMigration(schema: string): TenantliteError {
  return new TenantliteError(
    "SCHEMA_MIGRATION_PENDING",
    `cannot create/update/delete database config while there are pending migration on the shared schema \`${schema}\``,
  );
}

function databaseExists(name: string): TenantliteError {
  return new TenantliteError("DATABASE_EXISTS", `database with name ${name} already exists`);
}
