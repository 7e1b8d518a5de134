import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient as createApiClient } from "@tursodatabase/api";
import { describe, expect, it } from "vitest";
import { startServer } from "../../src/node/server.js";
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
