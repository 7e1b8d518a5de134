import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient as createApiClient } from "@tursodatabase/api";
import { describe, expect, it } from "vitest";
import { startServer } from "../../src/node/server.js";
import { ApiTokens } from "../../src/platform/auth/api-tokens.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { useTempDirs } from "../helpers.js";

const dir = useTempDirs("tl-api-tokens-", { scope: "file" })();

describe("API tokens", () => {
  it("keep working across a restart; only their hashes are stored; revoked ones stop", async () => {
    let server = await startServer({ port: 0, dataDir: dir, auth: true, apiToken: "boot-token" });
    const boot = createApiClient({
      org: "local",
      token: "boot-token",
      baseUrl: `${server.url}/v1/`,
    });
    const created = await boot.apiTokens.create("ci");
    const doomed = await boot.apiTokens.create("doomed");
    await boot.apiTokens.revoke("doomed");
    await server.close();
    const stored = readFileSync(join(dir, "auth/api-tokens.json"), "utf8");
    expect(stored).toContain("ci");
    expect(stored).not.toContain(created.token);

    server = await startServer({
      port: 0,
      dataDir: dir,
      auth: true,
      apiToken: "another-boot-token",
    });
    const ci = createApiClient({
      org: "local",
      token: created.token,
      baseUrl: `${server.url}/v1/`,
    });
    expect((await ci.apiTokens.list()).map((t) => t.name)).toEqual(["ci"]);
    const revoked = createApiClient({
      org: "local",
      token: doomed.token,
      baseUrl: `${server.url}/v1/`,
    });
    const e = await revoked.databases.list().catch((x: unknown) => x);
    expect((e as { status: number }).status).toBe(401);
    const oldBoot = createApiClient({
      org: "local",
      token: "boot-token",
      baseUrl: `${server.url}/v1/`,
    });
    expect(
      ((await oldBoot.databases.list().catch((x: unknown) => x)) as { status: number }).status,
    ).toBe(401);
    await server.close();
  });
});

describe("API token changes", () => {
  /** Memory storage whose saves fail while `failing` is set (a full disk). */
  class FullDisk extends MemoryStorage {
    failing = false;
    override save(key: string, bytes: Uint8Array) {
      if (this.failing) return Promise.reject(new Error("ENOSPC: no space left on device"));
      return super.save(key, bytes);
    }
  }

  it("two creations of one name at once: one token, which works; the other is API_TOKEN_EXISTS", async () => {
    const tokens = new ApiTokens(new MemoryStorage(), undefined);
    await tokens.load();
    const both = await Promise.allSettled([tokens.create("ci"), tokens.create("ci")]);
    const made = both.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const refused = both.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    expect(made).toHaveLength(1);
    expect(refused[0]).toBeTenantliteError("API_TOKEN_EXISTS");
    expect(await tokens.accepts(made[0]!.token)).toBe(true);
  });

  it("a change whose save fails changes nothing, now or after a restart", async () => {
    const storage = new FullDisk();
    const tokens = new ApiTokens(storage, undefined);
    await tokens.load();
    const kept = await tokens.create("kept");
    storage.failing = true;
    await expect(tokens.create("ci")).rejects.toThrow(/ENOSPC/);
    await expect(tokens.delete("kept")).rejects.toThrow(/ENOSPC/);
    expect(tokens.list().map((t) => t.name)).toEqual(["kept"]); // "ci" is free, "kept" still there
    expect(await tokens.accepts(kept.token)).toBe(true);
    storage.failing = false;
    const again = new ApiTokens(storage, undefined);
    await again.load();
    expect(await again.accepts(kept.token)).toBe(true);
    expect((await tokens.create("ci")).name).toBe("ci");
    expect(await tokens.delete("kept")).toBe(true);
    expect(await tokens.accepts(kept.token)).toBe(false);
  });
});
