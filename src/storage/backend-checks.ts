/**
 * Argument checks every `Storage` backend shares (keys, prefixes, `list` options, bytes, batches),
 * so that memory, fs and IndexedDB refuse the same calls with the same codes. Which keys
 * tenantlite stores is `keyspace.ts`'s business.
 */
import { TenantliteError } from "../errors.js";
import { assertValidKey } from "./storage.js";

/** Whether `key` follows the storage key rules (see {@link assertValidKey}), without throwing. */
export function isValidKey(key: unknown): key is string {
  try {
    assertValidKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Throws `STORAGE_INVALID_KEY` unless `prefix` can start a key: `""`, or a valid key optionally
 * followed by one `/` (`"tenants/"`, `"tenants/acme"`).
 */
export function assertValidPrefix(prefix: unknown): asserts prefix is string {
  if (prefix === "") return;
  if (typeof prefix !== "string") return assertValidKey(prefix);
  assertValidKey(prefix.endsWith("/") ? prefix.slice(0, -1) : prefix);
}

/** `list` options after validation: `after` as given, `limit` as a count (`Infinity` for none). */
export interface ListBounds {
  /** Keys must sort strictly after this one, when set. */
  after: string | undefined;
  /** Maximum number of keys to return. */
  limit: number;
}

/**
 * Validates a `list` call's prefix and options once for every backend, throwing
 * `STORAGE_INVALID_KEY` for a bad prefix and `STORAGE_INVALID_ARGUMENT` for a bad `after`/`limit`.
 */
export function normalizeListArgs(
  prefix: unknown,
  options: { after?: string; limit?: number } | undefined,
): ListBounds {
  assertValidPrefix(prefix);
  const after = options?.after;
  const limit = options?.limit;
  if (after !== undefined && typeof after !== "string") {
    throw invalidArgument("list option 'after' must be a string");
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) {
    throw invalidArgument(
      `list option 'limit' must be a non-negative integer, got ${String(limit)}`,
    );
  }
  return { after, limit: limit ?? Number.POSITIVE_INFINITY };
}

/** `STORAGE_INVALID_ARGUMENT`: an argument a storage cannot take. */
export function invalidArgument(message: string): TenantliteError {
  return new TenantliteError("STORAGE_INVALID_ARGUMENT", message);
}

/** The `STORAGE_CLOSED` error every backend throws once `close()` was called. */
export function storageClosedError(kind: string): TenantliteError {
  return new TenantliteError("STORAGE_CLOSED", `the ${kind} storage is closed`);
}

/** Throws `STORAGE_INVALID_ARGUMENT` unless `bytes` is a `Uint8Array` (what `save` stores). */
export function assertBytes(bytes: unknown): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw invalidArgument("storage values must be Uint8Array");
  }
}

/**
 * Validates a batch (`overwriteMany`, `deleteMany`) before anything of it is written: an array
 * (`STORAGE_INVALID_ARGUMENT`) whose every item passes `check`.
 */
export function assertBatch<T>(items: readonly T[], check: (item: T) => void): void {
  if (!Array.isArray(items)) {
    throw invalidArgument("a batch must be an array");
  }
  for (const item of items) check(item);
}

/** An `overwriteMany` entry: a valid key and bytes. */
export function assertEntry(entry: { key: string; bytes: Uint8Array }): void {
  assertValidKey(entry?.key);
  assertBytes(entry.bytes);
}
