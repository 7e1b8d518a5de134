/**
 * A bounded map that keeps the entries used recently (least-recently-used, approximated by two
 * generations). Entries live in the current generation or the previous one: a hit in the current
 * one is a single `Map.get` (a true LRU's delete + set on every hit costs ~0.07–0.6 µs); a hit in
 * the previous one moves the entry to the current one. When the current generation holds half the
 * capacity it becomes the previous one, and the previous one is dropped. So at most `capacity`
 * entries are kept (2 when `capacity` is 1), and an entry is evicted only after at least
 * `capacity / 2` other entries were added since it was last used.
 */
export class Lru<K, V> {
  #current = new Map<K, V>();
  #previous = new Map<K, V>();
  readonly #half: number;

  constructor(capacity: number) {
    this.#half = Math.max(1, Math.floor(capacity / 2));
  }

  /** The cached value, marked recently used. */
  get(key: K): V | undefined {
    const v = this.#current.get(key);
    if (v !== undefined) return v;
    const old = this.#previous.get(key);
    if (old !== undefined) {
      this.#previous.delete(key);
      this.#add(key, old);
    }
    return old;
  }

  /** Stores a value, marked recently used; the oldest generation goes when the newest is full. */
  set(key: K, value: V): void {
    if (this.#current.has(key)) {
      this.#current.set(key, value);
      return;
    }
    this.#previous.delete(key);
    this.#add(key, value);
  }

  #add(key: K, value: V): void {
    if (this.#current.size >= this.#half) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, value);
  }

  /** Number of entries. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /** Drops every entry. */
  clear(): void {
    this.#current.clear();
    this.#previous.clear();
  }
}
