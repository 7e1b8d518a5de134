/**
 * The platform's options, as callers give them ({@link PlatformOptions}, {@link ConnectOptions}),
 * checked and normalized once ({@link resolveOptions}), plus the defaults of new databases and
 * groups.
 */

import type { ConnectionOptions } from "../engine/connection-policy.js";
import type { SqlJsConfig } from "../engine/loader.js";
import { TenantliteError } from "../errors.js";
import type { Storage } from "../storage/storage.js";
import type { MigrationThreads } from "./migrations/jobs.js";
import type { TenantThreadsFactory } from "./threads/tenant-threads.js";
import type { AccessPolicy, DatabaseConfig, GroupInfo } from "./types.js";

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
  /**
   * Runs connections on tenant threads, each with its own sql.js, so that one tenant's statement
   * never stalls another's and a statement past `maxQueryMs` is stopped (the server's default;
   * `tenantlite/node` makes them with `tenantThreads()`). Default: none — connections run on the
   * caller's thread.
   */
  readonly tenantThreads?: TenantThreadsFactory;
}

/** Per-connection options of {@link Platform.connect}. */
export interface ConnectOptions extends ConnectionOptions {
  /**
   * The largest result one of its statements may read, counted as its Hrana JSON roughly
   * takes: past it the statement stops with `RESPONSE_TOO_LARGE` instead of reading on (the
   * server gives its streams sqld's 10 MiB). Default: no limit.
   */
  readonly maxResultBytes?: number;
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
  /** The database's name, for errors, when connecting by id (its record may be gone by then). */
  readonly name?: string;
}

/**
 * Most tenants a platform keeps open. sql.js holds ~4,094 open files per process: an open tenant
 * holds three (database, WAL, wal-index) and one more once a connection of its own was opened
 * and closed (SQLite keeps its descriptor for the next), each connection open on it one or two
 * more; up to 128 idle connections and 64 spare files are kept across tenants (tenant-file.ts).
 */
export const MAX_OPEN_TENANTS = 800;

/** {@link PlatformOptions} checked, with their defaults filled in. */
export interface ResolvedOptions {
  readonly durability: "strict" | "relaxed";
  readonly flushIntervalMs: number | undefined;
  /** Timeouts every connection starts with. */
  readonly connectionOptions: ConnectionOptions;
  readonly maxOpen: number;
  readonly maxOpenBytes: number;
  readonly kdfIterations: number | undefined;
  readonly migrationThreads: MigrationThreads | undefined;
  readonly authenticate: ((token: string | undefined) => Promise<AccessPolicy>) | undefined;
  readonly defaultGroup: string;
}

/**
 * Refuses an option `what` does not have (`known`: its options, space-separated). A misspelt one
 * was ignored: a database meant to be encrypted, a schema's child or size-limited was silently
 * made as none of them.
 */
export function assertKnownOptions(options: unknown, known: string, what: string): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new TenantliteError("ARGS_INVALID", `${what}: options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!known.split(" ").includes(key)) {
      throw new TenantliteError(
        "ARGS_INVALID",
        `${what} has no option ${JSON.stringify(key.slice(0, 40))}; its options are ${known.replaceAll(" ", ", ")}`,
      );
    }
  }
}

/** The words of a space-separated list, as a type. */
type Words<S extends string> = S extends `${infer W} ${infer Rest}` ? W | Words<Rest> : S;

/**
 * `true` when the list `S` names exactly the keys of `T`: each list of options is checked
 * against its interface where it is made, so an option added to one is added to the other.
 */
export type ListsKeysOf<T, S extends string> = [Words<S>] extends [keyof T]
  ? [keyof T] extends [Words<S>]
    ? true
    : false
  : false;

/** The options of {@link PlatformOptions}, for `createPlatform`'s check of what it was given. */
export const PLATFORM_OPTIONS =
  "storage sqlJs durability flushIntervalMs maxOpenTenants busyTimeoutMs transactionTimeoutMs defaultGroup maxOpenBytes kdfIterations authenticate migrationThreads tenantThreads";
true satisfies ListsKeysOf<PlatformOptions, typeof PLATFORM_OPTIONS>;

/** Checks the options and fills in their defaults. */
export function resolveOptions(options: PlatformOptions): ResolvedOptions {
  const maxOpen = options.maxOpenTenants ?? 500;
  if (!Number.isInteger(maxOpen) || maxOpen < 1 || maxOpen > MAX_OPEN_TENANTS) {
    throw new TenantliteError(
      "ARGS_INVALID",
      `maxOpenTenants must be an integer from 1 to ${MAX_OPEN_TENANTS}: sql.js allows ~4,094 open files per process; each open tenant uses four (database, WAL, wal-index, a connection's) and each connection open on it more`,
    );
  }
  return {
    durability: options.durability ?? "strict",
    flushIntervalMs: options.flushIntervalMs,
    connectionOptions: {
      ...(options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs }),
      ...(options.transactionTimeoutMs === undefined
        ? {}
        : { transactionTimeoutMs: options.transactionTimeoutMs }),
    },
    maxOpen,
    maxOpenBytes: Math.max(1, options.maxOpenBytes ?? 512 * 1024 * 1024),
    kdfIterations: options.kdfIterations,
    migrationThreads: options.migrationThreads ?? undefined,
    authenticate: options.authenticate,
    defaultGroup: options.defaultGroup ?? "default",
  };
}

/** A new database's configuration, before what its creator asked for. */
export const DEFAULT_CONFIG: DatabaseConfig = Object.freeze({
  allow_attach: false,
  block_reads: false,
  block_writes: false,
  delete_protection: false,
});

const CONFIG_FIELDS = ["allow_attach", "block_reads", "block_writes", "delete_protection"] as const;

/** The configuration fields of a patch that are set (`undefined` and `null` leave a field as is). */
export function pickConfig(
  patch: Partial<Record<keyof DatabaseConfig, boolean | null>>,
): Partial<DatabaseConfig> {
  const out: Partial<Record<keyof DatabaseConfig, boolean>> = {};
  assertKnownOptions(patch, CONFIG_FIELDS.join(" "), "a database's config");
  for (const key of CONFIG_FIELDS) {
    const v = patch[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "boolean") {
      throw new TenantliteError("ARGS_INVALID", `config field ${key} must be a boolean`);
    }
    out[key] = v;
  }
  return out;
}

/** A size limit must be a whole number of bytes, at least one. */
export function assertSizeLimit(bytes: unknown): void {
  if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new TenantliteError(
      "SIZE_LIMIT_INVALID",
      "a size limit must be a whole number of bytes, at least 1",
    );
  }
}

/** A new group's record. */
export function newGroup(name: string, location: string): GroupInfo {
  return Object.freeze({
    id: crypto.randomUUID(),
    name,
    createdAt: new Date().toISOString(),
    location,
    delete_protection: false,
  });
}

/**
 * The largest tenant the engine takes, in bytes: 2 GiB less 1 MiB. WebCrypto hashes at most
 * 2 GiB at once (SHA-256 of a shared image: "data must be less than 2147483648 bits"), and Node's
 * AES-GCM aborts the process on a plaintext just under 2 GiB (measured on Node 20: 2,147,483,600
 * bytes seal, 2,147,483,631 abort), so nothing near that may reach them. A tenant is capped there
 * like a size limit (`max_page_count`: a write past it fails with `SQLITE_FULL`), and an image
 * over it is refused with `DATABASE_TOO_LARGE` before anything else is done with it.
 */
export const MAX_TENANT_BYTES = 2 ** 31 - 2 ** 20;

/** A tenant's size cap: its size limit, never above {@link MAX_TENANT_BYTES}. */
export function sizeCap(sizeLimit: number | undefined): number {
  return Math.min(sizeLimit ?? MAX_TENANT_BYTES, MAX_TENANT_BYTES);
}

/** `DATABASE_TOO_LARGE` for an image of `bytes` (what the engine takes, and what to do). */
export function tooLarge(name: string, bytes: number): TenantliteError {
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  return new TenantliteError(
    "DATABASE_TOO_LARGE",
    `database "${name.slice(0, 80)}" is ${mib(bytes)}, over the ${mib(MAX_TENANT_BYTES)} a tenant may have (WebCrypto hashes and encrypts at most 2 GiB at once): split its data over several databases`,
  );
}

/** Base cost of one open tenant in sql.js (measured ~165 KB), used by the memory budget. */
export const TENANT_OVERHEAD_BYTES = 200 * 1024;
