import { base64url, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { Permissions, parseExpiration, TokenAuthority } from "../../src/platform/auth/jwt.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { caught } from "../helpers.js";

const db = { id: "11111111-1111-4111-8111-111111111111", groupId: "g1" };
const other = { id: "22222222-2222-4222-8222-222222222222", groupId: "g1" };
const foreign = { id: "33333333-3333-4333-8333-333333333333", groupId: "g2" };

async function authority(now?: () => number) {
  const storage = new MemoryStorage();
  return { storage, tokens: await TokenAuthority.open(storage, now ? { now } : {}) };
}

describe("TokenAuthority", () => {
  it("mints EdDSA database tokens with Turso's claims and verifies them", async () => {
    const { tokens } = await authority();
    const jwt = await tokens.mintDatabaseToken(db);
    const [header, payload] = jwt
      .split(".")
      .slice(0, 2)
      .map((p) => JSON.parse(new TextDecoder().decode(base64url.decode(p))));
    expect(header).toEqual({ alg: "EdDSA", typ: "JWT" });
    expect(payload).toMatchObject({ a: "rw", id: db.id, gid: "g1", p: { rw: { ns: [db.id] } } });
    expect(payload.exp).toBeUndefined();
    const p = await tokens.verify(jwt);
    expect(p.canRead(db)).toBe(true);
    expect(p.canWrite(db)).toBe(true);
    expect(p.canDdl(db)).toBe(false);
    expect(p.canRead(other)).toBe(false);
    expect(p.canAttach(other)).toBe(false);
  });

  it("keeps its key pair in the storage across restarts", async () => {
    const { storage, tokens } = await authority();
    const jwt = await tokens.mintDatabaseToken(db);
    const again = await TokenAuthority.open(storage);
    expect((await again.verify(jwt)).canRead(db)).toBe(true);
    expect(await storage.has("auth/jwt-keys.json")).toBe(true);
  });

  it("mints read-only tokens, attach lists and group tokens", async () => {
    const { tokens } = await authority();
    const ro = await tokens.verify(
      await tokens.mintDatabaseToken(db, { authorization: "read-only", attach: [other.id] }),
    );
    expect(ro.canRead(db)).toBe(true);
    expect(ro.canWrite(db)).toBe(false);
    expect(ro.canAttach(other)).toBe(true);
    // As in sqld, `roa` (attach-read) also lets the token read that database directly.
    expect(ro.canRead(other)).toBe(true);
    expect(ro.canWrite(other)).toBe(false);
    const group = await tokens.verify(await tokens.mintGroupToken("g1"));
    expect(group.canWrite(db) && group.canWrite(other)).toBe(true);
    expect(group.canRead(foreign)).toBe(false);
    const groupRo = await tokens.verify(
      await tokens.mintGroupToken("g1", { authorization: "read-only" }),
    );
    expect(groupRo.canRead(db)).toBe(true);
    expect(groupRo.canWrite(db)).toBe(false);
    await expect(
      tokens.mintDatabaseToken(db, { authorization: "admin" }),
    ).rejects.toBeTenantliteError("INVALID_AUTHORIZATION");
  });

  it("expires tokens and says so", async () => {
    let now = Date.UTC(2030, 0, 1);
    const { tokens } = await authority(() => now);
    const jwt = await tokens.mintDatabaseToken(db, { expiration: "2w1d30m" });
    expect((await tokens.verify(jwt)).expiresAt).toBe(now / 1000 + 15 * 86400 + 1800);
    now += 15 * 86400 * 1000 + 1800 * 1000 + 1000;
    const e = await caught(tokens.verify(jwt));
    expect(e).toBeTenantliteError("AUTH_JWT_EXPIRED");
    expect(e.message).not.toContain(jwt);
  });

  it("refuses forged, tampered, unsigned and algorithm-confused tokens", async () => {
    const { tokens } = await authority();
    const jwt = await tokens.mintDatabaseToken(db, { authorization: "read-only" });
    const [h, , s] = jwt.split(".");
    // Tampered: read-only → read-write, same signature.
    const payload = base64url.encode(
      JSON.stringify({ a: "rw", id: db.id, p: { rw: { ns: [db.id] } } }),
    );
    const tampered = `${h}.${payload}.${s}`;
    const e1 = await caught(tokens.verify(tampered));
    expect(e1).toBeTenantliteError("AUTH_JWT_INVALID");
    expect(e1.message).not.toContain(tampered);
    // Signed by another key.
    const pair = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forged = await new SignJWT({ a: "rw" })
      .setProtectedHeader({ alg: "EdDSA" })
      .sign(pair.privateKey);
    await expect(tokens.verify(forged)).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    // alg "none".
    const unsigned = new UnsecuredJWT({ a: "rw" }).encode();
    await expect(tokens.verify(unsigned)).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    await expect(tokens.verify(`${h}.${payload}.`)).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    // HS256 keyed with the public key (the classic confusion attack).
    const storage = new MemoryStorage();
    const t2 = await TokenAuthority.open(storage);
    const keys = JSON.parse(new TextDecoder().decode(await storage.load("auth/jwt-keys.json")));
    const secrets = [
      base64url.decode(keys.publicJwk.x),
      new TextEncoder().encode(JSON.stringify(keys.publicJwk)),
    ];
    for (const secret of secrets) {
      const hs = await new SignJWT({ a: "rw" }).setProtectedHeader({ alg: "HS256" }).sign(secret);
      await expect(t2.verify(hs)).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    }
    // Garbage.
    for (const junk of ["x", "a.b.c", "....", `${"A".repeat(5000)}.b.c`]) {
      await expect(tokens.verify(junk)).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    }
  });

  it("maps Authorization headers to coded errors", async () => {
    const { tokens } = await authority();
    await expect(tokens.verifyHeader(null)).rejects.toBeTenantliteError("AUTH_HEADER_NOT_FOUND");
    await expect(tokens.verifyHeader("")).rejects.toBeTenantliteError("AUTH_HEADER_NOT_FOUND");
    await expect(tokens.verifyHeader("Basic dXNlcjpwYXNz")).rejects.toBeTenantliteError(
      "AUTH_HEADER_MALFORMED",
    );
    const jwt = await tokens.mintDatabaseToken(db);
    expect((await tokens.verifyHeader(`bearer ${jwt}`)).canRead(db)).toBe(true);
    expect((await tokens.verifyHeader(`BEARER ${jwt}`)).canRead(db)).toBe(true);
  });

  it("rotation invalidates every earlier database or group token, and survives a restart", async () => {
    const { storage, tokens } = await authority();
    const dbJwt = await tokens.mintDatabaseToken(db);
    const otherJwt = await tokens.mintDatabaseToken(other);
    const groupJwt = await tokens.mintGroupToken("g1");
    await tokens.rotateDatabase(db.id);
    await expect(tokens.verify(dbJwt)).rejects.toBeTenantliteError("AUTH_JWT_INVALID", /rotated/);
    expect((await tokens.verify(otherJwt)).canRead(other)).toBe(true);
    // The group token still verifies and works on the group's other databases, not on db.
    const group = await tokens.verify(groupJwt);
    expect(group.canRead(other) && group.canWrite(other)).toBe(true);
    expect(group.canRead(db) || group.canWrite(db) || group.canAttach(db)).toBe(false);
    expect(() => tokens.assertCurrent(group, db)).toThrow(/AUTH_JWT_INVALID.*rotated/);
    tokens.assertCurrent(group, other);
    const freshGroup = await tokens.verify(await tokens.mintGroupToken("g1"));
    expect(freshGroup.canWrite(db)).toBe(true);
    tokens.assertCurrent(freshGroup, db);
    const fresh = await tokens.mintDatabaseToken(db);
    await tokens.rotateGroup("g1");
    const reopened = await TokenAuthority.open(storage);
    for (const t of [fresh, otherJwt, groupJwt]) {
      await expect(reopened.verify(t)).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    }
    expect((await reopened.verify(await reopened.mintDatabaseToken(db))).canWrite(db)).toBe(true);
  });

  it("a rotation whose save fails (a full disk) changes nothing; rotations at once all count", async () => {
    /** Memory storage whose saves fail while `failing` is set. */
    class FullDisk extends MemoryStorage {
      failing = false;
      override save(key: string, bytes: Uint8Array) {
        if (this.failing) return Promise.reject(new Error("ENOSPC: no space left on device"));
        return super.save(key, bytes);
      }
    }
    const storage = new FullDisk();
    const tokens = await TokenAuthority.open(storage);
    const jwt = await tokens.mintDatabaseToken(db);
    storage.failing = true;
    expect(await caught(tokens.rotateDatabase(db.id))).toBeInstanceOf(Error);
    expect(await caught(tokens.rotateGroup("g1"))).toBeInstanceOf(Error);
    // Told it failed: the token works, now and after a restart (not: off until the restart).
    expect((await tokens.verify(jwt)).canWrite(db)).toBe(true);
    storage.failing = false;
    expect((await (await TokenAuthority.open(storage)).verify(jwt)).canWrite(db)).toBe(true);
    // Rotations asked for at once each take effect, and each is stored.
    const otherJwt = await tokens.mintDatabaseToken(other);
    await Promise.all([tokens.rotateDatabase(db.id), tokens.rotateDatabase(other.id)]);
    const reopened = await TokenAuthority.open(storage);
    for (const t of [tokens, reopened]) {
      for (const old of [jwt, otherJwt]) {
        await expect(t.verify(old)).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
      }
    }
  });

  it("rotating a database takes it from earlier tokens' attach grants too, across a restart", async () => {
    const { storage, tokens } = await authority();
    const attaching = await tokens.mintDatabaseToken(db, { attach: [other.id] });
    expect((await tokens.verify(attaching)).canAttach(other)).toBe(true);
    await tokens.rotateDatabase(other.id);
    const reopened = await TokenAuthority.open(storage);
    for (const t of [tokens, reopened]) {
      const p = await t.verify(attaching);
      expect(p.canAttach(other) || p.canRead(other)).toBe(false);
      expect(p.canWrite(db)).toBe(true);
    }
  });

  it("checks a live session's permissions again: expiry and later rotations", async () => {
    let now = Date.UTC(2030, 0, 1);
    const { tokens } = await authority(() => now);
    const p = await tokens.verify(await tokens.mintDatabaseToken(db, { expiration: "1m" }));
    tokens.assertCurrent(p, db);
    now += 60_000;
    expect(() => tokens.assertCurrent(p, db)).toThrow(/AUTH_JWT_EXPIRED/);
    const lasting = await tokens.verify(await tokens.mintDatabaseToken(db));
    const group = await tokens.verify(await tokens.mintGroupToken("g1"));
    tokens.assertCurrent(lasting, db);
    await tokens.rotateGroup("g1");
    expect(() => tokens.assertCurrent(lasting, db)).toThrow(/AUTH_JWT_INVALID.*rotated/);
    expect(() => tokens.assertCurrent(group, other)).toThrow(/AUTH_JWT_INVALID.*rotated/);
    tokens.assertCurrent(Permissions.full(), db);
    // A token that never covered a rotated database is not told about the rotation.
    const foreignGroup = await tokens.verify(await tokens.mintGroupToken("g2"));
    await tokens.rotateDatabase(other.id);
    tokens.assertCurrent(foreignGroup, other);
    expect(foreignGroup.canRead(other)).toBe(false);
  });

  it("full permissions allow everything", () => {
    const p = Permissions.full();
    expect(p.canRead(db) && p.canWrite(db) && p.canAttach(db) && p.canDdl(db)).toBe(true);
  });
});

describe("parseExpiration", () => {
  it("accepts never and w/d/h/m/s durations, refuses the rest", () => {
    for (const never of [undefined, "", "never", "none", "default"]) {
      expect(parseExpiration(never)).toBeUndefined();
    }
    expect(parseExpiration("2w1d30m")).toBe(2 * 604800 + 86400 + 1800);
    expect(parseExpiration("7d3h2m1s")).toBe(7 * 86400 + 3 * 3600 + 121);
    expect(parseExpiration("1s")).toBe(1);
    for (const bad of ["soon", "1y", "-1d", "0d", "1.5h", "d"]) {
      expect(() => parseExpiration(bad)).toThrow(/Invalid expiration format/);
    }
  });
});
