import { TenantliteError } from "../errors.js";

/**
 * The storage contract: a small async key → bytes store that every backend implements
 * (memory here; filesystem in `src/node/`, IndexedDB in `src/browser/`). tenantlite keeps each
 * tenant as one SQLite file image under one key, and its catalog under another.
 *
 * Keys are `/`-separated paths of segments matching `[A-Za-z0-9._-]+` (no `.`/`..` segments,
 * no leading or trailing `/`), at most 512 characters. Backends reject anything else with
 * `STORAGE_INVALID_KEY` before touching anything.
 *
 * Every method is atomic with respect to a crash: after `save` resolves, `load` returns the new
 * bytes even if the process dies right after; if it dies during `save`, `load` returns either the
 * old or the new bytes, never a mix.
 */
export interface Storage {
  /** Short backend name for diagnostics: `"memory"`, `"fs"`, `"indexeddb"`. */
  readonly kind: string;
  /**
   * Optional: names the data behind this storage where other instances in this process can
   * reach the same data (a directory, an IndexedDB store), so that a platform refuses to work on
   * data another platform of this process works on (see `createPlatform`).
   */
  readonly dataId?: string;
  /** The bytes stored under `key`, or `undefined` when there are none. */
  load(key: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces the bytes under `key` atomically and durably (see the contract above). Backends
   * copy `bytes` first unless `options.transfer` hands them over.
   */
  save(key: string, bytes: Uint8Array, options?: SaveOptions): Promise<void>;
  /**
   * Optional: writes many objects where a crash midway may leave any of them torn — neither old
   * nor new — in exchange for speed (the fs backend overwrites files in place instead of
   * creating a temp file per key). Only for callers that keep a durable copy of every entry to
   * redo the whole batch from after a crash, and that keep readers of these keys away until it
   * resolves (a migration's apply phase, redone from its staged packs). It resolves once every
   * entry reads back its new bytes; `synced` resolves once every entry is durable too (and
   * rejects when one could not be made so). Callers fall back to `save` per entry where a
   * backend lacks it.
   */
  overwriteMany?(
    entries: readonly { key: string; bytes: Uint8Array }[],
  ): Promise<{ synced: Promise<void> }>;
  /** Removes `key`; resolves normally when it did not exist. */
  delete(key: string): Promise<void>;
  /**
   * Optional: removes many keys, as `delete` each would, durably when it resolves — for backends
   * where a delete pays for its own durability (the fs backend syncs each directory once for the
   * batch instead of once per key). Callers use {@link deleteAll}.
   */
  deleteMany?(keys: readonly string[]): Promise<void>;
  /** Whether `key` holds bytes. */
  has(key: string): Promise<boolean>;
  /**
   * Keys under `prefix` (a key prefix ending in `/`, or `""` for all), sorted, at most `limit`
   * of them, starting strictly after `after` when given — so callers page through millions of
   * keys without loading them all.
   */
  list(prefix: string, options?: { after?: string; limit?: number }): Promise<string[]>;
  /** Flushes and releases resources; later calls fail with `STORAGE_CLOSED`. */
  close(): Promise<void>;
}

/** Removes every key: in one `deleteMany` where the backend has it, else one key at a time. */
export async function deleteAll(storage: Storage, keys: readonly string[]): Promise<void> {
  if (storage.deleteMany !== undefined) await storage.deleteMany(keys);
  else for (const key of keys) await storage.delete(key);
}

/** Options of {@link Storage.save}. */
export interface SaveOptions {
  /**
   * The caller gives the bytes up: the backend may write or keep them without copying, and the
   * caller must not modify them afterwards. Saves a copy of the whole image per save (2–3 ms
   * for a 16 MB tenant) where the bytes are fresh anyway, as the platform's exports are.
   */
  readonly transfer?: boolean;
  /**
   * The save must go through on a full disk: it records a deletion (whose files go once it is
   * saved, freeing their space) or a revocation (a leaked token must stop working whatever the
   * disk). A backend that keeps room in reserve gives it up for such a save when the save fails
   * for lack of space, and tries it once more (the fs backend: see
   * `FsStorageOptions.reserveBytes`); others ignore it.
   */
  readonly reserve?: boolean;
}

const segment = /^[A-Za-z0-9._-]+$/;

/**
 * What a failed save's message tells the user to check, by where `storage` keeps its bytes:
 * a data directory, the browser's storage for the site, or another backend.
 */
export function roomAdvice(storage: Storage): string {
  const kind = storage.kind;
  return `check that ${
    kind === "fs"
      ? "the data directory is writable and has"
      : kind === "indexeddb"
        ? "the browser allows this site more storage and the disk has"
        : `the "${kind}" storage has`
  } free space, then retry`;
}

/** Throws `STORAGE_INVALID_KEY` unless `key` follows the contract's key rules. */
export function assertValidKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0 || key.length > 512) {
    throw new StorageKeyError();
  }
  for (const part of key.split("/")) {
    if (!segment.test(part) || part === "." || part === "..") throw new StorageKeyError();
  }
}

class StorageKeyError extends TenantliteError {
  constructor() {
    super(
      "STORAGE_INVALID_KEY",
      "storage keys are '/'-separated segments of letters, digits, '.', '_' or '-' (no '.' or '..' segments), at most 512 characters",
    );
  }
}
