import { describe, expect, it } from "vitest";
import {
  DEFAULT_KDF_ITERATIONS,
  decodeImage,
  decryptImage,
  deriveTenantKey,
  encryptedImageSalt,
  encryptImage,
  isEncryptedImage,
  newSalt,
  reencrypt,
} from "../../src/storage/encryption.js";
import { caught } from "../helpers.js";

// Low iteration count keeps the suite fast; one case checks the default separately.
const fast = { iterations: 1000 };
const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const marker = "SECRET-MARKER-4f1c9e";
const plaintext = enc(`SQLite format 3\u0000 ... ${marker} ... ${marker.repeat(50)}`);

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

describe("encryption", () => {
  it("round-trips with a derived key and with the passphrase", async () => {
    const salt = newSalt();
    const key = await deriveTenantKey("correct horse", salt, fast);
    const envelope = await encryptImage(key, plaintext);
    expect(isEncryptedImage(envelope)).toBe(true);
    expect(isEncryptedImage(plaintext)).toBe(false);
    expect(await decryptImage(key, envelope)).toEqual(plaintext);
    expect(await decryptImage("correct horse", envelope)).toEqual(plaintext);
    expect(encryptedImageSalt(envelope)).toEqual(salt);
  });

  it("writes the documented envelope layout", async () => {
    const salt = newSalt();
    const key = await deriveTenantKey(enc("raw key material"), salt, fast);
    const envelope = await encryptImage(key, plaintext);
    expect(dec(envelope.subarray(0, 6))).toBe("TLENC1");
    expect(envelope[6]).toBe(1);
    expect(new DataView(envelope.buffer, envelope.byteOffset).getUint32(7)).toBe(1000);
    expect(envelope[11]).toBe(16);
    expect(envelope.subarray(12, 28)).toEqual(salt);
    expect(envelope.length).toBe(28 + 12 + plaintext.length + 16);
  });

  it("never contains the plaintext", async () => {
    const key = await deriveTenantKey("pw", newSalt(), fast);
    const envelope = await encryptImage(key, plaintext);
    expect(indexOf(plaintext, enc(marker))).toBeGreaterThan(0);
    expect(indexOf(envelope, enc(marker))).toBe(-1);
    expect(indexOf(envelope, enc("SQLite format 3"))).toBe(-1);
  });

  it("uses a fresh IV per encryption", async () => {
    const key = await deriveTenantKey("pw", newSalt(), fast);
    const a = await encryptImage(key, plaintext);
    const b = await encryptImage(key, plaintext);
    expect(a).not.toEqual(b);
  });

  it("rejects a wrong passphrase or key with ENCRYPTION_KEY_INVALID, without leaking it", async () => {
    const salt = newSalt();
    const key = await deriveTenantKey("right-passphrase", salt, fast);
    const envelope = await encryptImage(key, plaintext);
    const error = await caught(decryptImage("wrong-passphrase", envelope));
    expect(error).toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    expect(error.message).not.toContain("wrong-passphrase");
    expect(error.message).not.toContain("right-passphrase");
    const otherSalt = await deriveTenantKey("right-passphrase", newSalt(), fast);
    await expect(decryptImage(otherSalt, envelope)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    const sameSaltWrong = await deriveTenantKey("nope", salt, fast);
    await expect(decryptImage(sameSaltWrong, envelope)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
  });

  it("detects a tampered byte anywhere (header, IV, ciphertext, tag)", async () => {
    const key = await deriveTenantKey("pw", newSalt(), fast);
    const envelope = await encryptImage(key, plaintext);
    for (const at of [6, 8, 11, 15, 30, 45, envelope.length - 20, envelope.length - 1]) {
      const bad = envelope.slice();
      bad[at]! ^= 0x01;
      await expect(decryptImage(key, bad)).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    }
  });

  it("rejects truncated envelopes", async () => {
    const key = await deriveTenantKey("pw", newSalt(), fast);
    const envelope = await encryptImage(key, plaintext);
    for (const length of [6, 10, 27, 40, 55, envelope.length - 1]) {
      await expect(decryptImage(key, envelope.subarray(0, length))).rejects.toBeTenantliteError(
        "ENCRYPTION_KEY_INVALID",
      );
    }
  });

  it("binds additional authenticated data", async () => {
    const key = await deriveTenantKey("pw", newSalt(), fast);
    const envelope = await encryptImage(key, plaintext, enc("db-1"));
    expect(await decryptImage(key, envelope, enc("db-1"))).toEqual(plaintext);
    await expect(decryptImage(key, envelope, enc("db-2"))).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    await expect(decryptImage(key, envelope)).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
  });

  it("requires a key for an encrypted image: ENCRYPTION_KEY_REQUIRED", async () => {
    const key = await deriveTenantKey("pw", newSalt(), fast);
    const envelope = await encryptImage(key, plaintext);
    await expect(decryptImage(undefined, envelope)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_REQUIRED",
    );
    await expect(decodeImage(envelope, undefined)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_REQUIRED",
    );
    expect(await decodeImage(envelope, key)).toEqual(plaintext);
    expect(await decodeImage(plaintext, undefined)).toBe(plaintext);
  });

  it("rotates keys with reencrypt", async () => {
    const oldKey = await deriveTenantKey("old", newSalt(), fast);
    const envelope = await encryptImage(oldKey, plaintext);
    const rotated = await reencrypt("old", "new", envelope);
    expect(encryptedImageSalt(rotated)).not.toEqual(encryptedImageSalt(envelope));
    expect(await decryptImage("new", rotated)).toEqual(plaintext);
    await expect(decryptImage("old", rotated)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    await expect(reencrypt("wrong", "new", envelope)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );

    const newKey = await deriveTenantKey("newer", newSalt(), fast);
    const again = await reencrypt(oldKey, newKey, envelope);
    expect(await decryptImage(newKey, again)).toEqual(plaintext);
  });

  it("refuses keys it did not derive and bad inputs", async () => {
    const raw = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
      "encrypt",
      "decrypt",
    ]);
    await expect(encryptImage(raw, plaintext)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    await expect(deriveTenantKey("", newSalt(), fast)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    await expect(deriveTenantKey("pw", new Uint8Array(2), fast)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
    await expect(decryptImage("pw", plaintext)).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
    );
  });

  it("uses the documented default iteration count", async () => {
    expect(DEFAULT_KDF_ITERATIONS).toBe(600_000);
    const key = await deriveTenantKey("pw", newSalt());
    const envelope = await encryptImage(key, enc("x"));
    expect(new DataView(envelope.buffer, envelope.byteOffset).getUint32(7)).toBe(600_000);
    expect(dec(await decryptImage("pw", envelope))).toBe("x");
  });

  it("round-trips a 16 MB image", async () => {
    const key = await deriveTenantKey("pw", newSalt(), fast);
    const big = new Uint8Array(16 * 1024 * 1024).fill(7);
    const envelope = await encryptImage(key, big);
    const back = await decryptImage(key, envelope);
    expect(back.length).toBe(big.length);
    expect(back[12345]).toBe(7);
  });
});
