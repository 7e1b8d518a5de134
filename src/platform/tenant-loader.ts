/**
 * Reading a tenant's stored image and opening it as a file (see engine/tenant-file.ts): an image
 * over the size limit refused before anything else, an encrypted one decrypted with the caller's
 * key, a damaged one reported as DATABASE_CORRUPT. The pool (tenant-pool.ts) keeps what it opens.
 */
import type { SqlJsModule } from "../engine/sqljs-types.js";
import { TenantFile } from "../engine/tenant-file.js";
import { TenantliteError } from "../errors.js";
import { isEncryptedImage } from "../storage/encryption.js";
import { keys } from "../storage/keyspace.js";
import { assertSqliteImage } from "../storage/sqlite-image.js";
import type { Storage } from "../storage/storage.js";
import type { ImageStore } from "./image-store.js";
import { MAX_TENANT_BYTES, tooLarge } from "./options.js";
import type { TenantCrypto, TenantKeys } from "./tenant-keys.js";
import type { DatabaseInfo } from "./types.js";

/** What a sealed (encrypted) image adds to the plain one, at most: header, nonce and tag. */
const SEAL_MARGIN = 64 * 1024;

/** What the loader reads tenants with. */
export interface TenantLoaderDeps {
  readonly sql: SqlJsModule;
  readonly storage: Storage;
  readonly images: ImageStore;
  readonly keys: TenantKeys;
}

/** A tenant's file as opened from its stored image. */
export interface LoadedTenant {
  readonly file: TenantFile;
  /** Set for an encrypted tenant. */
  readonly crypto: TenantCrypto | undefined;
  /** The size of its (plain) image in bytes; 0 for a new, empty one. */
  readonly size: number;
}

/** Opens tenants from their stored images. */
export class TenantLoader {
  readonly #sql: SqlJsModule;
  readonly #storage: Storage;
  readonly #images: ImageStore;
  readonly #keys: TenantKeys;

  constructor(deps: TenantLoaderDeps) {
    this.#sql = deps.sql;
    this.#storage = deps.storage;
    this.#images = deps.images;
    this.#keys = deps.keys;
  }

  /** Reads `info`'s stored image (decrypted with `secret` when encrypted) and opens it. */
  async load(info: DatabaseInfo, secret: string | Uint8Array | undefined): Promise<LoadedTenant> {
    const { bytes, crypto } = await this.read(info, secret);
    return { file: openTenantFile(this.#sql, info, bytes), crypto, size: bytes?.length ?? 0 };
  }

  /**
   * `info`'s stored image, decrypted with `secret` when encrypted and checked to be a SQLite
   * database (undefined for a new, empty one), and how to seal it again.
   */
  async read(
    info: DatabaseInfo,
    secret: string | Uint8Array | undefined,
  ): Promise<{ bytes: Uint8Array | undefined; crypto: TenantCrypto | undefined }> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = info.encrypted
        ? await this.#storage.load(keys.tenant(info.id))
        : await this.#images.load(info);
    } catch (e) {
      // Storage says what is damaged (e.g. the fs backend's page log); the caller needs which
      // database.
      if (e instanceof TenantliteError && e.code === "DATABASE_CORRUPT") throw damaged(info, e);
      throw e;
    }
    // Refused before anything else is done with it (see MAX_TENANT_BYTES).
    if (
      bytes !== undefined &&
      bytes.length > MAX_TENANT_BYTES + (info.encrypted ? SEAL_MARGIN : 0)
    ) {
      throw tooLarge(info.name, bytes.length);
    }
    let sealing: TenantCrypto | undefined;
    if (info.encrypted) {
      if (bytes === undefined || !isEncryptedImage(bytes)) {
        throw new TenantliteError(
          "DATABASE_CORRUPT",
          `database "${info.name}" could not be opened: its encrypted file is missing or damaged`,
        );
      }
      const { plain, crypto } = await this.#keys.unseal(info.id, info.name, bytes, secret);
      bytes = plain;
      sealing = crypto;
    }
    if (bytes !== undefined) {
      try {
        assertSqliteImage(bytes, info.name);
      } catch (e) {
        throw damaged(info, e);
      }
    }
    return { bytes, crypto: sealing };
  }
}

/** Opens a tenant's (plain, checked) image as a file; a new, empty one without `bytes`. */
export function openTenantFile(
  sql: SqlJsModule,
  info: { readonly name: string },
  bytes: Uint8Array | undefined,
): TenantFile {
  for (let attempt = 0; ; attempt++) {
    try {
      return TenantFile.open(sql, info.name, bytes);
    } catch (e) {
      const code = e instanceof TenantliteError ? e.code : "";
      if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") throw damaged(info, e);
      // Anything else is sql.js's, not the file's (e.g. a clash of its random file names):
      // try once more, then say what happened.
      if (attempt >= 1) {
        throw new TenantliteError(
          "DATABASE_OPEN_FAILED",
          `database "${info.name}" could not be opened: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        );
      }
    }
  }
}

/** `DATABASE_CORRUPT` for a tenant whose stored image SQLite refuses. */
function damaged(info: { readonly name: string }, cause: unknown): TenantliteError {
  return new TenantliteError(
    "DATABASE_CORRUPT",
    `database "${info.name}" could not be opened: its stored file is damaged`,
    { cause },
  );
}
