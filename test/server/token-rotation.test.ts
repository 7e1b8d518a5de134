/**
 * Token rotation through the unmodified clients: rotating a database's or a group's tokens
 * (`@tursodatabase/api`) refuses the JWTs minted before it (`@libsql/client`).
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { startTestServer } from "./helpers.js";

let server: RunningServer;
let api: Awaited<ReturnType<typeof startTestServer>>["api"];

beforeAll(async () => {
  ({ server, api } = await startTestServer({ auth: true }));
  await api.groups.create("tenants", "local" as never);
  await api.databases.create("acme", { group: "tenants" });
  await api.databases.create("globex", { group: "tenants" });
});

afterAll(async () => {
  await server.close();
});

describe("token rotation", () => {
  it("invalidates earlier database and group tokens", async () => {
    const dbToken = (await api.databases.createToken("globex")).jwt;
    const groupToken = (await api.groups.createToken("tenants")).jwt;
    const url = `${server.url}/dev/globex/`;
    for (const t of [dbToken, groupToken]) {
      const c = createClient({ url, authToken: t });
      await c.execute("SELECT 1");
      c.close();
    }
    await api.databases.rotateTokens("globex");
    const c1 = createClient({ url, authToken: dbToken });
    await expect(c1.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_INVALID", /rotated/);
    // A group token minted before the database's rotation no longer works on it (issue 17);
    // it still works on the group's other databases.
    await expect(
      createClient({ url, authToken: groupToken }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("AUTH_JWT_INVALID", /rotated/);
    const c2 = createClient({ url: `${server.url}/dev/acme/`, authToken: groupToken });
    await c2.execute("SELECT 1");
    await api.groups.rotateTokens("tenants");
    await expect(c2.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    const fresh = createClient({ url, authToken: (await api.databases.createToken("globex")).jwt });
    await fresh.execute("SELECT 1");
    for (const c of [c1, c2, fresh]) c.close();
  });
});
