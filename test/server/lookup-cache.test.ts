/**
 * The server looks a request's database up through the catalog's remembered lookups: a database
 * deleted, re-created, reconfigured or whose tokens were rotated between two requests is served
 * as it is now, never as the remembered record says.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { startTestServer } from "./helpers.js";

let server: RunningServer;
let api: Awaited<ReturnType<typeof startTestServer>>["api"];

beforeAll(async () => {
  ({ server, api } = await startTestServer({ auth: true }));
});
afterAll(async () => {
  await server.close();
});

const client = (db: string, authToken: string) =>
  createClient({ url: `${server.url}/dev/${db}/`, authToken });

describe("a request's database lookup", () => {
  it("never serves a deleted database, and serves a re-created one as new", async () => {
    await api.databases.create("gone");
    const token = (await api.databases.createToken("gone")).jwt;
    const c = client("gone", token);
    await c.execute("CREATE TABLE old (v)");
    await c.execute("INSERT INTO old VALUES (1)");
    await api.databases.delete("gone");
    await expect(c.execute("SELECT v FROM old")).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
    c.close();
    await api.databases.create("gone");
    // The old token names the old database's UUID: it grants nothing on the new one.
    const stale = client("gone", token);
    await expect(stale.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_FORBIDDEN");
    stale.close();
    const fresh = client("gone", (await api.databases.createToken("gone")).jwt);
    await expect(fresh.execute("SELECT v FROM old")).rejects.toBeTenantliteError(
      "SQL_INPUT_ERROR",
      /no such table/,
    );
    fresh.close();
  });

  it("enforces a config change made between two requests on the same client", async () => {
    await api.databases.create("cfg");
    const c = client("cfg", (await api.databases.createToken("cfg")).jwt);
    await c.execute("CREATE TABLE t (v)");
    await server.platform.updateConfig("cfg", { block_writes: true });
    await expect(c.execute("INSERT INTO t VALUES (1)")).rejects.toBeTenantliteError("BLOCKED");
    await server.platform.updateConfig("cfg", { block_writes: false, block_reads: true });
    await expect(c.execute("SELECT count(*) FROM t")).rejects.toBeTenantliteError("BLOCKED");
    await server.platform.updateConfig("cfg", { block_reads: false });
    expect(Number((await c.execute("SELECT count(*) AS n FROM t")).rows[0]?.n)).toBe(0);
    c.close();
  });

  it("refuses a rotated token on a database it was just used on", async () => {
    await api.databases.create("rot");
    const c = client("rot", (await api.databases.createToken("rot")).jwt);
    await c.execute("SELECT 1");
    await api.databases.rotateTokens("rot");
    await expect(c.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    c.close();
  });
});
