import { createStore, promisifyRequest, type UseStore } from "idb-keyval";
import { TenantliteError } from "../errors.js";
import {
  assertBatch,
  assertBytes,
  assertEntry,
  normalizeListArgs,
  storageClosedError,
} from "../storage/backend-checks.js";
import { assertValidKey, roomAdvice, type SaveOptions, type Storage } from "../storage/storage.js";

/** Options for {@link IdbStorage}. */
export interface IdbStorageOptions {
  /** IndexedDB database name (default `"tenantlite"`). */
  dbName?: string;
  /** Object store name inside it (default `"storage"`). */
  storeName?: string;
  /**
   * Transaction durability for `save` and `delete` (default `"strict"`: the browser flushes to
   * disk before the transaction completes; `"relaxed"` survives a tab crash but maybe not power
   * loss, and is much faster in Chromium).
   */
  durability?: "strict" | "relaxed";
}

/**
 * A `Storage` on IndexedDB, one record per key in one object store (created through
 * idb-keyval's `createStore`). Each method is one IndexedDB transaction, so a save is atomic;
 * `save` resolves once its transaction completed. `list` walks a key cursor over an
 * `IDBKeyRange`, so a page reads only the keys it returns.
 *
 * The database must be created by this class: idb-keyval only creates the object store when
 * the database is new, so use one `dbName` per `storeName`.
 *
 * @example
 * const storage = new IdbStorage({ dbName: "my-app" });
 * await storage.save("tenants/acme", bytes);
 */
export class IdbStorage implements Storage {
  /** Always `"indexeddb"`. */
  readonly kind = "indexeddb";
  /** See `Storage.dataId`: the database and store. */
  readonly dataId: string;
  readonly #store: UseStore;
  readonly #durability: "strict" | "relaxed";
  readonly #storeName: string;
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  /** Prepares the store; the database opens on first use. */
  constructor(options: IdbStorageOptions = {}) {
    this.#storeName = options.storeName ?? "storage";
    const dbName = options.dbName ?? "tenantlite";
    this.#store = createStore(dbName, this.#storeName);
    this.dataId = `idb:${dbName}/${this.#storeName}`;
    this.#durability = options.durability ?? "strict";
  }

  /** A fresh copy of the bytes under `key`, or `undefined`. */
  load(key: string): Promise<Uint8Array | undefined> {
    return this.#run(key, async () => {
      const value = await this.#store("readonly", (store) => promisifyRequest(store.get(key)));
      return value === undefined ? undefined : toBytes(value);
    });
  }

  /** Stores a copy of `bytes`; resolves after the transaction completed. */
  save(key: string, bytes: Uint8Array, options?: SaveOptions): Promise<void> {
    return this.#run(key, () => {
      assertBytes(bytes);
      // Structured clone of a view copies its whole backing buffer: store an exact buffer. (IDB
      // clones it anyway; `transfer` only spares the copy made here.)
      const whole =
        options?.transfer === true &&
        bytes.byteOffset === 0 &&
        bytes.byteLength === bytes.buffer.byteLength;
      const value = whole ? bytes.buffer : bytes.slice().buffer;
      return this.#write((store) => store.put(value, key));
    });
  }

  /**
   * Stores many images in one transaction (see {@link Storage.overwriteMany}): all of them or,
   * should it abort, none; synced when it resolves.
   */
  async overwriteMany(
    entries: readonly { key: string; bytes: Uint8Array }[],
  ): Promise<{ synced: Promise<void> }> {
    this.#check();
    assertBatch(entries, assertEntry);
    const values = entries.map((e) => e.bytes.slice().buffer);
    await this.#track(
      this.#write((store) => {
        for (const [i, e] of entries.entries()) store.put(values[i], e.key);
      }),
    );
    return { synced: Promise.resolve() };
  }

  /** Removes `key`; resolves after the transaction completed. */
  delete(key: string): Promise<void> {
    return this.#run(key, () => this.#write((store) => store.delete(key)));
  }

  /** Removes many keys in one transaction (see {@link Storage.deleteMany}). */
  async deleteMany(keys: readonly string[]): Promise<void> {
    this.#check();
    assertBatch(keys, assertValidKey);
    await this.#track(
      this.#write((store) => {
        for (const key of keys) store.delete(key);
      }),
    );
  }

  /** Whether `key` holds bytes (counts without reading the value). */
  has(key: string): Promise<boolean> {
    return this.#run(key, async () => {
      const count = await this.#store("readonly", (store) => promisifyRequest(store.count(key)));
      return count > 0;
    });
  }

  /** Sorted keys under `prefix` via a key cursor over `[max(prefix, after), prefix + "\uffff")`. */
  async list(prefix: string, options?: { after?: string; limit?: number }): Promise<string[]> {
    this.#check();
    const { after, limit } = normalizeListArgs(prefix, options);
    if (limit === 0) return [];
    // Keys use ASCII only, so every key starting with `prefix` sorts below prefix + U+FFFF.
    const upper = `${prefix}\uffff`;
    const range =
      after !== undefined && after >= prefix
        ? after >= upper
          ? undefined
          : IDBKeyRange.bound(after, upper, true, true)
        : IDBKeyRange.bound(prefix, upper, false, true);
    if (range === undefined) return [];
    return this.#track(
      this.#store("readonly", (store) => {
        const out: string[] = [];
        const request = store.openKeyCursor(range);
        return new Promise<string[]>((resolve, reject) => {
          request.onsuccess = () => {
            const cursor = request.result;
            if (cursor === null) return resolve(out);
            out.push(String(cursor.key));
            if (out.length >= limit) return resolve(out);
            cursor.continue();
          };
          request.onerror = () => reject(request.error);
        });
      }),
    );
  }

  /** Waits for running operations and closes the database connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#store("readonly", (store) => store.transaction.db.close()).catch(() => undefined);
  }

  #check(): void {
    if (this.#closed) throw storageClosedError(this.kind);
  }

  async #run<T>(key: string, action: () => Promise<T>): Promise<T> {
    this.#check();
    assertValidKey(key);
    return this.#track(action());
  }

  async #track<T>(task: Promise<T>): Promise<T> {
    this.#inFlight.add(task);
    try {
      return await task;
    } catch (e) {
      if (e instanceof TenantliteError) throw e;
      // The DOMException's name says why (QuotaExceededError, UnknownError on a full disk…).
      const why = e instanceof Error ? ` (${e.name})` : "";
      throw new TenantliteError("STORAGE_IO_FAILED", `IndexedDB operation failed${why}`, {
        cause: e,
      });
    } finally {
      this.#inFlight.delete(task);
    }
  }

  /**
   * Runs requests in one readwrite transaction of their own and resolves on `complete`. The
   * transaction is opened on the connection idb-keyval manages, because its store function
   * cannot pass a durability hint.
   */
  #write(request: (store: IDBObjectStore) => unknown): Promise<void> {
    return this.#store("readonly", (probe) => {
      const tx = probe.transaction.db.transaction(this.#storeName, "readwrite", {
        durability: this.#durability,
      });
      request(tx.objectStore(this.#storeName));
      return new Promise<void>((resolve, reject) => {
        // Chromium fails a write on a full disk with QuotaExceededError, or DataError for a large
        // value: either way nothing was written, and what to do about it is the same.
        const failed = (e: unknown) =>
          reject(
            new TenantliteError(
              "STORAGE_WRITE_FAILED",
              `could not write to the browser's storage (${e instanceof Error ? e.name : "aborted"}): ${roomAdvice(this)}`,
              { cause: e },
            ),
          );
        tx.oncomplete = () => resolve();
        tx.onabort = () => failed(tx.error);
        tx.onerror = () => failed(tx.error);
      });
    });
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  }
  throw new TenantliteError("STORAGE_IO_FAILED", "IndexedDB record is not a byte array");
}
