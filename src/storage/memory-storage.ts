import { assertBytes, normalizeListArgs, storageClosedError } from "./backend-checks.js";
import { assertValidKey, type SaveOptions, type Storage } from "./storage.js";

/**
 * A `Storage` held in memory: for tests, demos and tenants that need no persistence. Bytes are
 * copied on `save` and on `load`, so neither the caller nor a later reader can change what is
 * stored. Keys are kept in a sorted array next to the map, so `list` pages by binary search
 * instead of sorting every key on every call.
 *
 * @example
 * const storage = new MemoryStorage();
 * await storage.save("tenants/acme", bytes);
 * await storage.list("tenants/", { limit: 100 }); // ["tenants/acme"]
 */
export class MemoryStorage implements Storage {
  /** Always `"memory"`. */
  readonly kind = "memory";
  readonly #values = new Map<string, Uint8Array>();
  readonly #sorted: string[] = [];
  #closed = false;

  /** A copy of the bytes under `key`, or `undefined`. */
  async load(key: string): Promise<Uint8Array | undefined> {
    this.#check();
    assertValidKey(key);
    return this.#values.get(key)?.slice();
  }

  /** Stores a copy of `bytes` under `key` (the bytes themselves with `transfer`). */
  async save(key: string, bytes: Uint8Array, options?: SaveOptions): Promise<void> {
    this.#check();
    assertValidKey(key);
    assertBytes(bytes);
    if (!this.#values.has(key)) this.#sorted.splice(this.#lowerBound(key), 0, key);
    // A handed-over view of a larger buffer would keep all of it alive: copy that one anyway.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    this.#values.set(key, options?.transfer === true && whole ? bytes : bytes.slice());
  }

  /** Removes `key` if present. */
  async delete(key: string): Promise<void> {
    this.#check();
    assertValidKey(key);
    if (this.#values.delete(key)) this.#sorted.splice(this.#lowerBound(key), 1);
  }

  /** Whether `key` holds bytes. */
  async has(key: string): Promise<boolean> {
    this.#check();
    assertValidKey(key);
    return this.#values.has(key);
  }

  /** Sorted keys under `prefix`, strictly after `after`, at most `limit`. */
  async list(prefix: string, options?: { after?: string; limit?: number }): Promise<string[]> {
    this.#check();
    const { after, limit } = normalizeListArgs(prefix, options);
    const out: string[] = [];
    let i = this.#lowerBound(after !== undefined && after >= prefix ? after : prefix);
    for (; i < this.#sorted.length && out.length < limit; i++) {
      const key = this.#sorted[i]!;
      if (!key.startsWith(prefix)) break;
      if (after !== undefined && key <= after) continue;
      out.push(key);
    }
    return out;
  }

  /** Drops every value; later calls fail with `STORAGE_CLOSED`. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#values.clear();
    this.#sorted.length = 0;
  }

  #check(): void {
    if (this.#closed) throw storageClosedError(this.kind);
  }

  /** Index of the first sorted key `>= key`. */
  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#sorted[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
