import { describe, expect, it } from "vitest";
import { keys } from "../../src/storage/keyspace.js";
import { assertValidKey } from "../../src/storage/storage.js";

// These strings are the layout of existing data directories: a change here strands their data.
describe("keyspace", () => {
  it("builds the keys data directories already hold", () => {
    expect(keys.tenant("abcdef0123")).toBe("tenants/ab/cd/abcdef0123.db");
    expect(keys.image("9f86d081")).toBe("images/9f86d081.db");
    expect(keys.catalogSnapshot()).toBe("catalog/snapshot.db");
    expect(keys.catalogLog(42)).toBe("catalog/log/0000000000000042");
    expect(keys.authJwtKeys()).toBe("auth/jwt-keys.json");
    expect(keys.authRotations()).toBe("auth/rotations.json");
    expect(keys.authApiTokens()).toBe("auth/api-tokens.json");
    expect(keys.migrationParent(7)).toBe("migrations/7/parent.db");
    expect(keys.migrationPack(7, 3)).toBe("migrations/7/pack-00000003");
  });

  it("lists each kind under its prefix, in order", () => {
    expect(keys.tenant("abcdef").startsWith(keys.tenantsPrefix)).toBe(true);
    expect(keys.image("00").startsWith(keys.imagesPrefix)).toBe(true);
    expect(keys.catalogLog(1).startsWith(keys.catalogLogPrefix)).toBe(true);
    expect(keys.migrationParent(7).startsWith(keys.migrationPrefix(7))).toBe(true);
    expect(keys.migrationPack(7, 1).startsWith(keys.migrationPackPrefix(7))).toBe(true);
    expect(keys.migrationPack(7, 1).startsWith(keys.migrationPrefix(7))).toBe(true);
    expect(keys.migrationPrefix(7)).toBe("migrations/7/");
    expect(keys.catalogLog(9) < keys.catalogLog(10)).toBe(true);
    expect(keys.migrationPack(1, 9) < keys.migrationPack(1, 10)).toBe(true);
  });

  it("reads a catalog log record's sequence back", () => {
    expect(keys.catalogLogSeq(keys.catalogLog(1234))).toBe(1234);
    expect(keys.catalogLogSeq("catalog/log/x")).toBeNaN();
  });

  it("builds only valid storage keys", () => {
    for (const key of [
      keys.tenant("0123456789abcdef"),
      keys.image("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
      keys.catalogSnapshot(),
      keys.catalogLog(1),
      keys.authJwtKeys(),
      keys.authRotations(),
      keys.authApiTokens(),
      keys.migrationParent(1),
      keys.migrationPack(1, 1),
    ]) {
      expect(() => assertValidKey(key)).not.toThrow();
    }
  });
});
