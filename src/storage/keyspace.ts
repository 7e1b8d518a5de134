/**
 * The keyspace: every storage key tenantlite reads or writes is built here, and nowhere else.
 * These strings are the on-disk layout of a data directory (and of an IndexedDB store), so they
 * must never change: a data directory written by an earlier version has to keep opening.
 *
 * | key                                       | holds                                                |
 * | ----------------------------------------- | ---------------------------------------------------- |
 * | `tenants/<id 0–2>/<id 2–4>/<id>.db`       | a tenant's image (sealed when it is encrypted)       |
 * | `images/<sha256>.db`                      | a shared, immutable image tenants start from         |
 * | `catalog/snapshot.db`                     | the catalog's snapshot                               |
 * | `catalog/log/<seq, 16 digits>`            | one catalog log record (group commit)                |
 * | `auth/jwt-keys.json`, `auth/rotations.json` | the JWT signing keys and their rotations           |
 * | `auth/api-tokens.json`                    | Platform API tokens                                  |
 * | `migrations/<job>/parent.db`              | a migration's staged parent image                    |
 * | `migrations/<job>/pack-<n, 8 digits>`     | a migration's staged pack of children's images       |
 *
 * Keys are built by the functions below; the `…Prefix` members are what `list` pages over.
 *
 * @example
 * await storage.load(keys.tenant(info.id)); // "tenants/ab/cd/abcd….db"
 * await storage.list(keys.imagesPrefix, { limit: 1000 });
 */
const CATALOG_LOG = "catalog/log/";

export const keys = Object.freeze({
  /**
   * A tenant's image, spread over two directory levels (the id's first two pairs of characters)
   * so that no directory grows huge.
   */
  tenant: (id: string): string => `tenants/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}.db`,
  /** What every tenant's key starts with. */
  tenantsPrefix: "tenants/",

  /** A shared, immutable image, named by the SHA-256 (hex) of its bytes. */
  image: (sha256Hex: string): string => `images/${sha256Hex}.db`,
  /** What every shared image's key starts with. */
  imagesPrefix: "images/",

  /** The catalog's snapshot (it records the last log sequence it covers). */
  catalogSnapshot: (): string => "catalog/snapshot.db",
  /** The catalog's log record `seq`, zero-padded so keys sort in sequence order. */
  catalogLog: (seq: number): string => `${CATALOG_LOG}${String(seq).padStart(16, "0")}`,
  /** What every catalog log record's key starts with. */
  catalogLogPrefix: CATALOG_LOG,
  /** The sequence number in a catalog log record's key (`NaN` when it is not a number). */
  catalogLogSeq: (key: string): number => Number(key.slice(CATALOG_LOG.length)),

  /** The JWT signing keys. */
  authJwtKeys: (): string => "auth/jwt-keys.json",
  /** The JWT keys' rotations (per database and group). */
  authRotations: (): string => "auth/rotations.json",
  /** The Platform API tokens created through `/v1/auth/api-tokens`. */
  authApiTokens: (): string => "auth/api-tokens.json",

  /** What every key a migration job stages starts with. */
  migrationPrefix: (jobId: number): string => `migrations/${jobId}/`,
  /** A migration job's staged parent image. */
  migrationParent: (jobId: number): string => `migrations/${jobId}/parent.db`,
  /** A migration job's staged pack `n`, zero-padded so packs list in order. */
  migrationPack: (jobId: number, n: number): string =>
    `migrations/${jobId}/pack-${String(n).padStart(8, "0")}`,
  /** What every staged pack of a migration job starts with. */
  migrationPackPrefix: (jobId: number): string => `migrations/${jobId}/pack-`,
});
