import { TenantliteError } from "../errors.js";

/**
 * PBKDF2-HMAC-SHA-256 iterations for {@link deriveTenantKey}: OWASP's 2023 recommendation. It
 * costs ~150 ms per derivation on a server core (more on phones), paid once per tenant open when
 * the caller caches the derived `CryptoKey`. Each envelope records its own count, so raising
 * this later keeps old images readable.
 */
export const DEFAULT_KDF_ITERATIONS = 600_000;

/** A tenant's secret: a passphrase, raw key material, or a key from {@link deriveTenantKey}. */
export type TenantSecret = string | Uint8Array | CryptoKey;

const MAGIC = new TextEncoder().encode("TLENC1");
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MIN_SALT = 8;
const MAX_SALT = 64;

/** What a key made by `deriveTenantKey` was derived with; the envelope header repeats it. */
interface KeyOrigin {
  salt: Uint8Array;
  iterations: number;
}
const origins = new WeakMap<CryptoKey, KeyOrigin>();

/** A fresh random 16-byte salt, one per tenant (and a new one on key rotation). */
export function newSalt(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

/**
 * Derives a tenant's AES-256-GCM key from `secret` and `salt` with PBKDF2-SHA-256. The result
 * is deterministic and non-extractable: cache it per tenant (keyed by tenant and salt) and pass
 * it to {@link encryptImage}/{@link decryptImage} to pay the derivation once.
 *
 * @example
 * const salt = newSalt(); // store it, or read it back with encryptedImageSalt(envelope)
 * const key = await deriveTenantKey(process.env.TENANT_SECRET, salt);
 */
export async function deriveTenantKey(
  secret: string | Uint8Array,
  salt: Uint8Array,
  options: { iterations?: number } = {},
): Promise<CryptoKey> {
  const iterations = options.iterations ?? DEFAULT_KDF_ITERATIONS;
  if (!(Number.isInteger(iterations) && iterations >= 1 && iterations <= 0xffffffff)) {
    throw new TenantliteError("ENCRYPTION_KEY_INVALID", "iterations must be a positive integer");
  }
  if (!(salt instanceof Uint8Array) || salt.length < MIN_SALT || salt.length > MAX_SALT) {
    throw new TenantliteError(
      "ENCRYPTION_KEY_INVALID",
      `the salt must be ${MIN_SALT} to ${MAX_SALT} bytes`,
    );
  }
  const material = typeof secret === "string" ? new TextEncoder().encode(secret) : secret;
  if (!(material instanceof Uint8Array) || material.length === 0) {
    throw new TenantliteError(
      "ENCRYPTION_KEY_INVALID",
      "the tenant secret must be a non-empty string or Uint8Array",
    );
  }
  const base = await crypto.subtle.importKey("raw", copy(material), "PBKDF2", false, ["deriveKey"]);
  const key = await crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: copy(salt), iterations },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  origins.set(key, { salt: salt.slice(), iterations });
  return key;
}

/** Whether `bytes` starts like an encrypted image envelope (magic `TLENC1`). */
export function isEncryptedImage(bytes: Uint8Array): boolean {
  if (bytes.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return false;
  return true;
}

/** The salt recorded in an envelope, to derive (and cache) the key that opens it. */
export function encryptedImageSalt(envelope: Uint8Array): Uint8Array {
  return parseHeader(envelope).salt.slice();
}

/**
 * Encrypts `plaintext` (a SQLite image) with a key from {@link deriveTenantKey} into a
 * self-describing envelope with a fresh random IV. `aad`, when given (e.g. the database id),
 * is authenticated but not stored: decryption must pass the same bytes.
 *
 * Envelope: `"TLENC1"` · version u8 (=1) · PBKDF2 iterations u32 BE · salt length u8 · salt ·
 * 12-byte IV · AES-256-GCM ciphertext with its 16-byte tag. The header is authenticated too.
 */
export async function encryptImage(
  key: CryptoKey,
  plaintext: Uint8Array,
  aad?: Uint8Array,
): Promise<Uint8Array> {
  const origin = origins.get(key);
  if (origin === undefined) {
    throw new TenantliteError(
      "ENCRYPTION_KEY_INVALID",
      "encryptImage needs a key made by deriveTenantKey (its salt goes into the envelope)",
    );
  }
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const header = buildHeader(origin, iv);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: concat(header, aad), tagLength: TAG_BYTES * 8 },
    key,
    copy(plaintext),
  );
  return concat(header, new Uint8Array(sealed));
}

/**
 * Decrypts an envelope. `secret` may be the passphrase/material (the key is derived with the
 * envelope's salt and iterations) or a key from {@link deriveTenantKey}. Throws
 * `ENCRYPTION_KEY_REQUIRED` without a secret and `ENCRYPTION_KEY_INVALID` for a wrong key or
 * tampered, truncated or foreign data.
 */
export async function decryptImage(
  secret: TenantSecret | undefined,
  envelope: Uint8Array,
  aad?: Uint8Array,
): Promise<Uint8Array> {
  const header = parseHeader(envelope);
  if (secret === undefined || secret === null) {
    throw new TenantliteError(
      "ENCRYPTION_KEY_REQUIRED",
      "this database image is encrypted: open it with its encryption key",
    );
  }
  const key = await keyFor(secret, header);
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: copy(header.iv),
        additionalData: concat(envelope.subarray(0, header.length), aad),
        tagLength: TAG_BYTES * 8,
      },
      key,
      copy(envelope.subarray(header.length)),
    );
    return new Uint8Array(plain);
  } catch (e) {
    throw new TenantliteError(
      "ENCRYPTION_KEY_INVALID",
      "the encryption key is wrong or the encrypted image was modified",
      { cause: e },
    );
  }
}

/**
 * Returns a database image ready for SQLite: decrypts an envelope (requiring `secret`), and
 * passes a plaintext image through unchanged.
 */
export async function decodeImage(
  bytes: Uint8Array,
  secret: TenantSecret | undefined,
  aad?: Uint8Array,
): Promise<Uint8Array> {
  return isEncryptedImage(bytes) ? decryptImage(secret, bytes, aad) : bytes;
}

/**
 * Key rotation: decrypts `envelope` with `oldSecret` and encrypts it under `newSecret` with a
 * fresh salt (or the salt of `newSecret` when it is a derived key) and a fresh IV.
 */
export async function reencrypt(
  oldSecret: TenantSecret,
  newSecret: TenantSecret,
  envelope: Uint8Array,
  aad?: Uint8Array,
): Promise<Uint8Array> {
  const plaintext = await decryptImage(oldSecret, envelope, aad);
  const key =
    typeof newSecret === "string" || newSecret instanceof Uint8Array
      ? await deriveTenantKey(newSecret, newSalt(), {
          iterations: parseHeader(envelope).iterations,
        })
      : newSecret;
  const result = await encryptImage(key, plaintext, aad);
  plaintext.fill(0);
  return result;
}

interface Header extends KeyOrigin {
  iv: Uint8Array;
  /** Header length in bytes: the ciphertext starts here. */
  length: number;
}

function buildHeader(origin: KeyOrigin, iv: Uint8Array): Uint8Array {
  const header = new Uint8Array(MAGIC.length + 1 + 4 + 1 + origin.salt.length + IV_BYTES);
  const view = new DataView(header.buffer);
  header.set(MAGIC, 0);
  let at = MAGIC.length;
  header[at++] = VERSION;
  view.setUint32(at, origin.iterations);
  at += 4;
  header[at++] = origin.salt.length;
  header.set(origin.salt, at);
  at += origin.salt.length;
  header.set(iv, at);
  return header;
}

function parseHeader(envelope: Uint8Array): Header {
  if (!(envelope instanceof Uint8Array) || !isEncryptedImage(envelope)) {
    throw invalid("the bytes are not an encrypted tenantlite image");
  }
  let at = MAGIC.length;
  if (envelope.length < at + 6) throw invalid("the encrypted image is truncated");
  const version = envelope[at++]!;
  if (version !== VERSION) throw invalid(`unsupported encrypted image version ${version}`);
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  const iterations = view.getUint32(at);
  at += 4;
  const saltLength = envelope[at++]!;
  if (saltLength < MIN_SALT || saltLength > MAX_SALT || iterations === 0) {
    throw invalid("the encrypted image header is corrupt");
  }
  const length = at + saltLength + IV_BYTES;
  if (envelope.length < length + TAG_BYTES) throw invalid("the encrypted image is truncated");
  return {
    iterations,
    salt: envelope.subarray(at, at + saltLength),
    iv: envelope.subarray(at + saltLength, length),
    length,
  };
}

async function keyFor(secret: TenantSecret, header: Header): Promise<CryptoKey> {
  if (typeof secret === "string" || secret instanceof Uint8Array) {
    return deriveTenantKey(secret, header.salt, { iterations: header.iterations });
  }
  const origin = origins.get(secret);
  if (
    origin !== undefined &&
    (origin.iterations !== header.iterations || !equalBytes(origin.salt, header.salt))
  ) {
    throw invalid("the key was derived with another salt than this image's");
  }
  return secret;
}

function invalid(message: string): TenantliteError {
  return new TenantliteError("ENCRYPTION_KEY_INVALID", message);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A copy backed by a plain `ArrayBuffer`, as WebCrypto's typings require. */
function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array | undefined): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + (b?.length ?? 0));
  out.set(a, 0);
  if (b) out.set(b, a.length);
  return out;
}
