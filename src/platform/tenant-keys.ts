/**
 * Per-tenant encryption at rest: each encrypted tenant's image is sealed with a key derived from
 * its secret (PBKDF2, paid once per tenant and secret: derived keys are cached by a fingerprint
 * of the secret), bound to the tenant's id so a file moved to another tenant does not decrypt.
 */
import { TenantliteError } from "../errors.js";
import {
  decryptImage,
  deriveTenantKey,
  encryptedImageSalt,
  encryptImage,
  newSalt,
} from "../storage/encryption.js";
import { sha256Hex } from "./sha256.js";

/** How an encrypted tenant's image is sealed: its derived key, salt and a fingerprint of its secret. */
export interface TenantCrypto {
  readonly key: CryptoKey;
  readonly salt: Uint8Array;
  readonly fingerprint: string;
}

/** Derives, caches and checks tenants' encryption keys; seals and unseals their images. */
export class TenantKeys {
  /** Derived keys by tenant id and secret fingerprint: PBKDF2 is paid once per tenant and key. */
  readonly #derived = new Map<string, CryptoKey>();

  readonly #kdfIterations: number | undefined;

  constructor(kdfIterations: number | undefined) {
    this.#kdfIterations = kdfIterations;
  }

  /** A new key for a tenant (new salt), remembered for later opens with the same secret. */
  async create(id: string, secret: string | Uint8Array): Promise<TenantCrypto> {
    const salt = newSalt();
    const key = await deriveTenantKey(secret, salt, this.#kdfOptions());
    const crypto = { key, salt, fingerprint: await fingerprint(salt, secret) };
    this.#derived.set(`${id}:${crypto.fingerprint}`, key);
    return crypto;
  }

  /**
   * Decrypts a tenant's stored image with `secret` (`ENCRYPTION_KEY_REQUIRED` without one,
   * `ENCRYPTION_KEY_INVALID` when it is wrong); returns the image and how to seal it again.
   */
  async unseal(
    id: string,
    name: string,
    sealed: Uint8Array,
    secret: string | Uint8Array | undefined,
  ): Promise<{ plain: Uint8Array; crypto: TenantCrypto }> {
    if (secret === undefined) throw keyRequired(name);
    const salt = encryptedImageSalt(sealed);
    const print = await fingerprint(salt, secret);
    const cacheKey = `${id}:${print}`;
    let key = this.#derived.get(cacheKey);
    let plain: Uint8Array;
    try {
      key ??= await deriveTenantKey(secret, salt, this.#kdfOptions());
      plain = await decryptImage(key, sealed, aadFor(id));
    } catch (e) {
      if (e instanceof TenantliteError && e.code === "ENCRYPTION_KEY_INVALID") {
        throw keyInvalid(name);
      }
      throw e;
    }
    this.#derived.set(cacheKey, key);
    if (this.#derived.size > 1000) {
      this.#derived.delete(this.#derived.keys().next().value as string);
    }
    return { plain, crypto: { key, salt, fingerprint: print } };
  }

  /** Checks a caller's secret against an open tenant's key, without PBKDF2. */
  async verify(
    crypto: TenantCrypto,
    name: string,
    secret: string | Uint8Array | undefined,
  ): Promise<void> {
    if (secret === undefined) throw keyRequired(name);
    if ((await fingerprint(crypto.salt, secret)) !== crypto.fingerprint) throw keyInvalid(name);
  }

  /** The bytes to store for an encrypted tenant's image. */
  seal(crypto: TenantCrypto, id: string, plain: Uint8Array): Promise<Uint8Array> {
    return encryptImage(crypto.key, plain, aadFor(id));
  }

  /** A stored image of an open encrypted tenant, decrypted with the key it was opened with. */
  open(crypto: TenantCrypto, id: string, sealed: Uint8Array): Promise<Uint8Array> {
    return decryptImage(crypto.key, sealed, aadFor(id));
  }

  #kdfOptions(): { iterations?: number } {
    return this.#kdfIterations === undefined ? {} : { iterations: this.#kdfIterations };
  }
}

/** Binds an encrypted image to its tenant: a file moved to another tenant does not decrypt. */
function aadFor(id: string): Uint8Array {
  return new TextEncoder().encode(`tenantlite:${id}`);
}

/** A SHA-256 fingerprint of a secret under a tenant's salt, to compare keys without PBKDF2. */
async function fingerprint(salt: Uint8Array, secret: string | Uint8Array): Promise<string> {
  const material = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  const data = new Uint8Array(salt.length + material.length);
  data.set(salt);
  data.set(material, salt.length);
  return sha256Hex(data);
}

/** An encryption key must be a non-empty string or byte array. */
export function assertSecret(secret: unknown): asserts secret is string | Uint8Array {
  const ok =
    (typeof secret === "string" && secret.length > 0) ||
    (secret instanceof Uint8Array && secret.length > 0);
  if (!ok) {
    throw new TenantliteError(
      "ENCRYPTION_KEY_INVALID",
      "An encryption key must be a non-empty string or Uint8Array",
    );
  }
}

function keyRequired(name: string): TenantliteError {
  return new TenantliteError(
    "ENCRYPTION_KEY_REQUIRED",
    `database "${name}" is encrypted: pass its encryption key`,
  );
}

/** A key given for a database that is not encrypted: whoever sends one believes it is. */
export function notEncrypted(name: string): TenantliteError {
  return new TenantliteError(
    "ENCRYPTION_KEY_INVALID",
    `database "${name}" is not encrypted: give no encryption key`,
  );
}

export function keyInvalid(name: string): TenantliteError {
  return new TenantliteError(
    "ENCRYPTION_KEY_INVALID",
    `the encryption key for database "${name}" is wrong`,
  );
}
