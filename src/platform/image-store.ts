/**
 * The image store: tenants' images as stored. A tenant's own file (`tenants/…`), or, until its
 * first write, the shared image it was created from (`images/<sha256>.db`: copies of one
 * database, children of a schema, share one immutable image — copy on write). Small shared
 * images are cached; shared images nobody reads are swept at start. Reads of a tenant's file wait
 * while a migration overwrites it in place, and such an overwrite waits for the reads in progress.
 * Installing an image into a tenant that may be open is the pool's (tenant-pool.ts).
 */
import { Lru } from "../../parser/lru.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import { TenantDb } from "../engine/tenant-db.js";
import { adoptLibsqlVectorIndexes } from "../engine/vector-index.js";
import { TenantliteError } from "../errors.js";
import { keys } from "../storage/keyspace.js";
import type { Storage } from "../storage/storage.js";
import type { Catalog } from "./catalog.js";
import { sha256Hex } from "./sha256.js";
import type { DatabaseInfo } from "./types.js";

/** Shared (copy-on-write) images up to this size are cached, at most 32 of them. */
const BASE_IMAGE_CACHE_MAX_BYTES = 1024 * 1024;

/** Reads tenants' stored images and owns the shared ones. */
export class ImageStore {
  /** Tenants whose files a migration is overwriting in place: reading them waits for it. */
  readonly #rewriting = new Map<string, Promise<void>>();
  /** Reads of tenants' stored images in progress (an overwrite waits for them). */
  readonly #reading = new Map<string, Set<Promise<unknown>>>();
  /** Small shared images by key (immutable: the key is their content hash). */
  readonly #baseImages = new Lru<string, Uint8Array>(32);

  readonly #sql: SqlJsModule;
  readonly #storage: Storage;
  readonly #catalog: Catalog;

  constructor(sql: SqlJsModule, storage: Storage, catalog: Catalog) {
    this.#sql = sql;
    this.#storage = storage;
    this.#catalog = catalog;
  }

  /**
   * Deletes shared images no database reads any more: left by deleted copies, by children that
   * moved to a migrated image, or by a creation or migration a crash interrupted. Runs at start,
   * after recovery, when nothing else is in flight.
   */
  async sweep(): Promise<void> {
    const used = this.#catalog.sharedImagesInUse();
    for (let after: string | undefined; ; ) {
      const found = await this.#storage.list(keys.imagesPrefix, {
        limit: 1000,
        ...(after ? { after } : {}),
      });
      for (const key of found) if (!used.has(key)) await this.#storage.delete(key);
      if (found.length < 1000) return;
      after = found[found.length - 1];
    }
  }

  /** A tenant's stored image: its own file, else the shared image it was created from. */
  async load(info: DatabaseInfo): Promise<Uint8Array | undefined> {
    const own = await this.loadOwn(info);
    if (own !== undefined) return own;
    const base = this.#catalog.getBaseImage(info.id);
    return base === undefined ? undefined : this.shared(base);
  }

  /** A tenant's own file, once no migration is overwriting it. */
  async loadOwn(info: DatabaseInfo): Promise<Uint8Array | undefined> {
    for (let w = this.#rewriting.get(info.id); w !== undefined; w = this.#rewriting.get(info.id)) {
      await w;
    }
    const read = this.#storage.load(keys.tenant(info.id));
    const reads = this.#reading.get(info.id) ?? new Set<Promise<unknown>>();
    this.#reading.set(info.id, reads);
    reads.add(read);
    try {
      return await read;
    } finally {
      reads.delete(read);
      if (reads.size === 0 && this.#reading.get(info.id) === reads) this.#reading.delete(info.id);
    }
  }

  /** Marks tenants' files as being overwritten until `done` settles: reads of them wait. */
  markRewriting(ids: readonly string[], done: Promise<void>): void {
    for (const id of ids) this.#rewriting.set(id, done);
  }

  /** Settles once the reads of a tenant's file in progress now have finished. */
  async readsSettled(id: string): Promise<void> {
    await Promise.allSettled([...(this.#reading.get(id) ?? [])]);
  }

  /** Ends the marks of {@link markRewriting} (those not taken over by a later overwrite). */
  unmarkRewriting(ids: readonly string[], done: Promise<void>): void {
    for (const id of ids) if (this.#rewriting.get(id) === done) this.#rewriting.delete(id);
  }

  /**
   * A shared image's bytes. Shared images never change (their key is their hash): small ones are
   * kept, so opening or migrating many untouched copies reads the file once. Callers get a copy.
   */
  async shared(key: string): Promise<Uint8Array | undefined> {
    const cached = this.#baseImages.get(key);
    if (cached !== undefined) return cached.slice();
    const bytes = await this.#storage.load(key);
    if (bytes !== undefined && bytes.length <= BASE_IMAGE_CACHE_MAX_BYTES) {
      this.#baseImages.set(key, bytes.slice());
    }
    return bytes;
  }

  /** A shared image's bytes; `DATABASE_CORRUPT` when it is missing. */
  async requireShared(key: string): Promise<Uint8Array> {
    const bytes = await this.shared(key);
    if (bytes === undefined) {
      throw new TenantliteError("DATABASE_CORRUPT", "a shared database image is missing");
    }
    return bytes;
  }

  /** Stores `bytes` as a shared image (unless it is there already); returns its key. */
  async saveShared(bytes: Uint8Array, options?: { transfer?: boolean }): Promise<string> {
    const key = keys.image(await sha256Hex(bytes));
    if (!(await this.#storage.has(key))) {
      await (options === undefined
        ? this.#storage.save(key, bytes)
        : this.#storage.save(key, bytes, options));
    }
    return key;
  }

  /** The image of an empty database. */
  empty(): Uint8Array {
    const empty = new TenantDb(this.#sql, undefined, { journalMode: "delete" });
    try {
      return empty.export();
    } finally {
      empty.close();
    }
  }

  /**
   * An imported file's bytes as a tenant's image: refused (`INVALID_SQLITE_FILE`) unless SQLite
   * opens them cleanly; a file from libSQL gets its vector indexes as tenantlite keeps them.
   */
  importable(bytes: Uint8Array, name: string): Uint8Array {
    let db: TenantDb | undefined;
    try {
      db = new TenantDb(this.#sql, bytes);
      const adopted = adoptLibsqlVectorIndexes(db.raw);
      const r = db.execute("PRAGMA quick_check", undefined, "number");
      if (r.rows[0]?.[0] !== "ok") throw new Error("quick_check failed");
      return adopted ? db.export() : bytes;
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

  /** A database's schema as a set of `type name: sql` lines, from an image of it. */
  schemaOf(image: Uint8Array): Set<string> {
    const db = new TenantDb(this.#sql, image, { journalMode: "delete" });
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
}
