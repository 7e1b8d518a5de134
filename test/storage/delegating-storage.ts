import type { SaveOptions, Storage } from "../../src/storage/storage.js";

/**
 * A storage that passes every call to another: tests extend it to make one call behave otherwise
 * (fail on demand, hold its syncs) under a `kind` of their choosing.
 */
export class DelegatingStorage implements Storage {
  constructor(
    readonly inner: Storage,
    readonly kind: string,
  ) {}
  load(key: string) {
    return this.inner.load(key);
  }
  save(key: string, bytes: Uint8Array, options?: SaveOptions) {
    return this.inner.save(key, bytes, options);
  }
  delete(key: string) {
    return this.inner.delete(key);
  }
  has(key: string) {
    return this.inner.has(key);
  }
  list(prefix: string, options?: { after?: string; limit?: number }) {
    return this.inner.list(prefix, options);
  }
  close() {
    return this.inner.close();
  }
}
