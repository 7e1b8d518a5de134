import { TenantliteError } from "../errors.js";
import { invalidArgument } from "./backend-checks.js";
import { assertValidKey, type Storage } from "./storage.js";

/**
 * Returns the bytes to save for a key: called as late as possible, once per coalesced save. The
 * bytes are handed to the storage without a copy (`transfer`): return fresh ones nothing changes.
 */
export type Produce = () => Uint8Array | Promise<Uint8Array>;

/** Options for {@link Persister}. */
export interface PersisterOptions {
  /**
   * `"strict"`: `write` resolves once a save including its state completed.
   * `"relaxed"`: `write` resolves at once; the key is saved within `flushIntervalMs`.
   */
  durability: "strict" | "relaxed";
  /** Upper bound on how long a relaxed write stays unsaved (default 1000 ms). */
  flushIntervalMs?: number;
  /**
   * Receives failed saves in relaxed mode (the key stays dirty and is retried on the next
   * interval). Default: `console.error`.
   */
  onError?: (error: TenantliteError, key: string) => void;
  /**
   * Strict mode: called at once when a save fails, before its writers (and every write registered
   * since, whose state includes theirs) are rejected, so the owner of the state can undo it.
   */
  onFailure?: (key: string, error: TenantliteError) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: TenantliteError) => void;
}

interface Entry {
  /** The latest write's producer: it yields state that includes every earlier write. */
  produce: Produce | undefined;
  dirty: boolean;
  waiters: Waiter[];
  /** The running save loop; resolves to the error of its last failed save, if any. */
  running: Promise<TenantliteError | undefined> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Group commit in front of a `Storage`: many writes to one key become few saves. Each `write`
 * passes a `produce` callback returning the key's whole current state (for a tenant, its SQLite
 * image); the persister calls it right before a save starts, so every write registered by then
 * is included. While a save of a key is in flight, further writes wait and are all served by
 * one following save.
 *
 * In `strict` mode `write` resolves only after a save that includes its state completed, and
 * rejects with `STORAGE_WRITE_FAILED` (cause kept) when that save fails — and so does every write
 * to that key registered while it ran, since their state includes the failed one. In `relaxed` mode
 * `write` resolves at once, the key is saved within `flushIntervalMs`, and failures go to
 * `onError`. The persister never closes the storage it writes to.
 *
 * @example
 * const persister = new Persister(storage, { durability: "strict" });
 * await persister.write("tenants/acme", () => db.export()); // durable when this resolves
 */
export class Persister {
  readonly #storage: Storage;
  readonly #strict: boolean;
  readonly #interval: number;
  readonly #onError: (error: TenantliteError, key: string) => void;
  readonly #onFailure: ((key: string, error: TenantliteError) => void) | undefined;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  /** Wraps `storage`; see {@link PersisterOptions}. */
  constructor(storage: Storage, options: PersisterOptions) {
    if (options.durability !== "strict" && options.durability !== "relaxed") {
      throw invalidArgument(
        `durability must be "strict" or "relaxed", got ${JSON.stringify(options.durability)}`,
      );
    }
    const interval = options.flushIntervalMs ?? 1000;
    if (!(Number.isFinite(interval) && interval >= 0)) {
      throw invalidArgument(
        `flushIntervalMs must be a non-negative number, got ${String(interval)}`,
      );
    }
    this.#storage = storage;
    this.#strict = options.durability === "strict";
    this.#interval = interval;
    this.#onFailure = options.onFailure;
    this.#onError =
      options.onError ??
      ((error, key) => console.error(`tenantlite: background save of "${key}" failed`, error));
  }

  /** Whether any key has a write that is not saved yet or a save in flight. */
  get pending(): boolean {
    for (const entry of this.#entries.values()) {
      if (entry.dirty || entry.running !== undefined) return true;
    }
    return false;
  }

  /**
   * Records that `key` changed; `produce` returns its full new state. Strict: resolves after a
   * save including this write completed. Relaxed: resolves at once.
   */
  write(key: string, produce: Produce): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new TenantliteError("STORAGE_CLOSED", "the persister is closed"));
    }
    try {
      assertValidKey(key);
    } catch (e) {
      return Promise.reject(e);
    }
    const entry = this.#entry(key);
    entry.produce = produce;
    entry.dirty = true;
    if (!this.#strict) {
      entry.timer ??= setTimeout(() => {
        entry.timer = undefined;
        void this.#kick(key, entry);
      }, this.#interval);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      entry.waiters.push({ resolve, reject });
      void this.#kick(key, entry);
    });
  }

  /**
   * Saves now whatever is pending for `key` (or every key) and waits until it is saved. Rejects
   * with `STORAGE_WRITE_FAILED` when such a save fails.
   */
  async flush(key?: string): Promise<void> {
    const keys = key === undefined ? [...this.#entries.keys()] : [key];
    const results = await Promise.allSettled(keys.map((k) => this.#flushKey(k)));
    for (const result of results) if (result.status === "rejected") throw result.reason;
  }

  /**
   * Drops what is pending for `key` without saving it — call it before deleting the key, so a
   * late save cannot bring it back. Strict writers still waiting are rejected with
   * `STORAGE_WRITE_FAILED`; resolves once a save already in flight has finished.
   */
  async discard(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.dirty = false;
    const error = new TenantliteError(
      "STORAGE_WRITE_FAILED",
      `the pending write of "${key}" was discarded`,
    );
    for (const waiter of entry.waiters.splice(0)) waiter.reject(error);
    await entry.running;
    if (this.#entries.get(key) === entry && !entry.dirty && entry.running === undefined) {
      this.#entries.delete(key);
    }
  }

  /**
   * Refuses further writes with `STORAGE_CLOSED`, then flushes everything. Rejects like `flush`
   * when a final save fails; no retries are scheduled after that.
   */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      await this.flush();
    } finally {
      for (const entry of this.#entries.values()) {
        if (entry.timer !== undefined) clearTimeout(entry.timer);
        entry.timer = undefined;
      }
    }
  }

  async #flushKey(key: string): Promise<void> {
    for (;;) {
      const entry = this.#entries.get(key);
      if (entry === undefined || (!entry.dirty && entry.running === undefined)) return;
      if (entry.timer !== undefined) {
        clearTimeout(entry.timer);
        entry.timer = undefined;
      }
      const error = await this.#kick(key, entry);
      if (error !== undefined) throw error;
    }
  }

  #entry(key: string): Entry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        produce: undefined,
        dirty: false,
        waiters: [],
        running: undefined,
        timer: undefined,
      };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Starts the key's save loop unless it runs already; resolves when the loop ends. */
  #kick(key: string, entry: Entry): Promise<TenantliteError | undefined> {
    entry.running ??= this.#loop(key, entry);
    return entry.running;
  }

  async #loop(key: string, entry: Entry): Promise<TenantliteError | undefined> {
    // Let writes issued in the same tick join the first save.
    await Promise.resolve();
    let lastError: TenantliteError | undefined;
    try {
      while (entry.dirty) {
        const waiters = entry.waiters;
        const produce = entry.produce!;
        entry.waiters = [];
        entry.dirty = false;
        try {
          await this.#storage.save(key, await produce(), { transfer: true });
          lastError = undefined;
          for (const waiter of waiters) waiter.resolve();
        } catch (e) {
          lastError = new TenantliteError("STORAGE_WRITE_FAILED", `saving "${key}" failed`, {
            cause: e,
          });
          if (this.#strict) {
            // Writes registered since hold state built on the failed one: none of it is saved.
            this.#onFailure?.(key, lastError);
            for (const waiter of entry.waiters.splice(0)) waiters.push(waiter);
            entry.dirty = false;
          }
          for (const waiter of waiters) waiter.reject(lastError);
          if (!this.#strict) {
            // Nothing was saved: keep the key dirty and retry on the next interval.
            entry.dirty = true;
            this.#onError(lastError, key);
            if (this.#closed) break;
            entry.timer ??= setTimeout(() => {
              entry.timer = undefined;
              void this.#kick(key, entry);
            }, this.#interval);
            break;
          }
        }
      }
    } finally {
      entry.running = undefined;
      if (!entry.dirty && entry.timer === undefined && entry.waiters.length === 0) {
        this.#entries.delete(key);
      }
    }
    return lastError;
  }
}
