/**
 * Turso's encryption with a key the caller holds ("remote encryption", BYOK), mapped onto
 * tenantlite's per-database encryption at rest. Turso takes `remote_encryption:
 * {encryption_key, encryption_cipher}` when a database is created, the key base64-encoded; its
 * clients then send the same base64 text in the `x-turso-encryption-key` header of every request
 * (`@libsql/client`'s `remoteEncryptionKey`).
 *
 * tenantlite seals a database's whole image with AES-256-GCM under a key derived from the
 * database's secret (storage/encryption.ts). The secret here is the key's canonical base64 text,
 * so `tenantlite db shell --encryption-key <same base64>` opens the same database locally. Only
 * the `aes256gcm` cipher is what tenantlite actually does; the others Turso lists are refused.
 */
import { TenantliteError } from "../errors.js";

/** The ciphers Turso accepts (docs `cloud/encryption`, openapi `CreateDatabaseInput`). */
const TURSO_CIPHERS = new Set([
  "aes256gcm",
  "aes128gcm",
  "chacha20poly1305",
  "aegis128l",
  "aegis128x2",
  "aegis128x4",
  "aegis256",
  "aegis256x2",
  "aegis256x4",
]);

/** The one cipher tenantlite encrypts with, and its key size in bytes. */
const CIPHER = "aes256gcm";
const KEY_BYTES = 32;

/** The header Turso's clients send the key in. */
export const ENCRYPTION_KEY_HEADER = "x-turso-encryption-key";

/**
 * The secret of a database created with `remote_encryption` (the key's canonical base64), or a
 * coded error naming the field at fault. Messages never contain the key.
 */
export function remoteEncryptionSecret(value: unknown): string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw invalid("remote_encryption must be an object {encryption_key, encryption_cipher}");
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== "encryption_key" && k !== "encryption_cipher") {
      throw new TenantliteError(
        "OPTION_UNSUPPORTED",
        `remote_encryption.${k.slice(0, 40)} is not an option: give encryption_key and encryption_cipher`,
      );
    }
  }
  const cipher = o.encryption_cipher;
  if (cipher === undefined || cipher === null || cipher === "") {
    throw invalid(
      `remote_encryption.encryption_cipher is required (as in Turso): use "${CIPHER}", the cipher tenantlite encrypts with`,
    );
  }
  if (cipher !== CIPHER) {
    const shown = JSON.stringify(String(cipher).slice(0, 40));
    throw new TenantliteError(
      "ENCRYPTION_CIPHER_UNSUPPORTED",
      TURSO_CIPHERS.has(String(cipher))
        ? `remote_encryption.encryption_cipher ${shown} is not supported: tenantlite encrypts with AES-256-GCM only; use "${CIPHER}" with a 32-byte key`
        : `remote_encryption.encryption_cipher ${shown} is not a cipher: use "${CIPHER}" with a 32-byte key`,
    );
  }
  const key = o.encryption_key;
  if (typeof key !== "string" || key === "") {
    throw invalid("remote_encryption.encryption_key is required: a base64-encoded 32-byte key");
  }
  const bytes = base64Bytes(key);
  if (bytes === undefined) {
    throw invalid("remote_encryption.encryption_key is not valid base64");
  }
  if (bytes.length !== KEY_BYTES) {
    throw invalid(
      `remote_encryption.encryption_key must decode to ${KEY_BYTES} bytes for ${CIPHER}, not ${bytes.length} (e.g. openssl rand -base64 32)`,
    );
  }
  return toBase64(bytes);
}

/**
 * The secret a request's `x-turso-encryption-key` header gives (the key's canonical base64), or
 * `undefined` without one. A value that is not base64 is passed on as it is: opening the
 * database then fails as with any wrong key.
 */
export function secretFromHeader(value: string | null): string | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  const bytes = base64Bytes(trimmed);
  return bytes === undefined ? trimmed : toBase64(bytes);
}

/** Decodes standard base64 (padding optional), or `undefined` when `s` is not base64. */
function base64Bytes(s: string): Uint8Array | undefined {
  const body = s.replace(/=+$/, "");
  if (!/^[A-Za-z0-9+/]*$/.test(body) || body.length % 4 === 1 || s.length - body.length > 2) {
    return undefined;
  }
  try {
    const bin = atob(body + "=".repeat((4 - (body.length % 4)) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function invalid(message: string): TenantliteError {
  return new TenantliteError("ENCRYPTION_KEY_INVALID", message);
}
