/**
 * Tokens are checked on live sessions (issue 17): a WebSocket keeps the permissions of its hello,
 * so its next request after the JWT expired, or after its database's or group's tokens were
 * rotated, fails with the code HTTP answers (`AUTH_JWT_EXPIRED`, `AUTH_JWT_INVALID`); and a group
 * token minted before a database's rotation no longer works on that database. Through the real
 * `@libsql/client` over ws and http, tokens minted and rotated through `@tursodatabase/api`.
 */
import { createClient } from "@libsql/client";
import { base64url } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningServer } from "../../src/node/server.js";
import { caught } from "../helpers.js";
import { startTestServer } from "./helpers.js";

let server: RunningServer;
let api: Awaited<ReturnType<typeof startTestServer>>["api"];

beforeAll(async () => {
  ({ server, api } = await startTestServer({ auth: true }));
  await api.groups.create("team", "local");
  for (const name of ["acme", "beta", "gamma", "delta"]) {
    await api.databases.create(name, { group: "team" });
  }
});

afterAll(async () => {
  await server.close();
});

const urls = (db: string) => ({
  http: `${server.url}/dev/${db}/`,
  ws: `${server.wsUrl}/dev/${db}/`,
});

function expiry(jwt: string): number {
  const payload = JSON.parse(new TextDecoder().decode(base64url.decode(jwt.split(".")[1]!)));
  return payload.exp * 1000;
}

describe("a WebSocket session's token", () => {
  it("stops working when it expires, with the code HTTP answers", async () => {
    const { jwt } = await api.databases.createToken("acme", { expiration: "2s" });
    const ws = createClient({ url: urls("acme").ws, authToken: jwt });
    const http = createClient({ url: urls("acme").http, authToken: jwt });
    expect((await ws.execute("SELECT 1 AS x")).rows[0]!.x).toBe(1);
    const tx = await ws.transaction("write");
    await tx.execute("CREATE TABLE IF NOT EXISTS t (x)");
    await new Promise((r) => setTimeout(r, Math.max(0, expiry(jwt) - Date.now() + 50)));
    const overHttp = await caught(http.execute("SELECT 1"));
    expect(overHttp).toBeTenantliteError("AUTH_JWT_EXPIRED", /expired/);
    const overWs = await caught(ws.execute("SELECT 1"));
    expect(overWs).toBeTenantliteError("AUTH_JWT_EXPIRED", /expired/);
    expect(overWs.message).toBe(overHttp.message);
    await expect(tx.execute("INSERT INTO t VALUES (1)")).rejects.toBeTenantliteError(
      "AUTH_JWT_EXPIRED",
    );
    tx.close();
    ws.close();
    http.close();
  });

  it("works again on the same stream after a new hello with a fresh token", async () => {
    const { jwt } = await api.databases.createToken("acme", { expiration: "2s" });
    const ws = new WebSocket(urls("acme").ws, ["hrana2"]);
    const replies: { type: string; error?: { code: string } }[] = [];
    ws.on("message", (d) => replies.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once("open", r));
    const next = async (message: unknown) => {
      const n = replies.length;
      ws.send(JSON.stringify(message));
      for (let i = 0; i < 250 && replies.length === n; i++)
        await new Promise((r) => setTimeout(r, 20));
      return replies[n];
    };
    const select = (id: number) => ({
      type: "request",
      request_id: id,
      request: { type: "execute", stream_id: 1, stmt: { sql: "SELECT 1" } },
    });
    expect((await next({ type: "hello", jwt }))?.type).toBe("hello_ok");
    const opened = await next({
      type: "request",
      request_id: 1,
      request: { type: "open_stream", stream_id: 1 },
    });
    expect(opened?.type).toBe("response_ok");
    expect((await next(select(2)))?.type).toBe("response_ok");
    await new Promise((r) => setTimeout(r, Math.max(0, expiry(jwt) - Date.now() + 50)));
    const refused = await next(select(3));
    expect(refused).toMatchObject({ type: "response_error", error: { code: "AUTH_JWT_EXPIRED" } });
    const fresh = (await api.databases.createToken("acme")).jwt;
    expect((await next({ type: "hello", jwt: fresh }))?.type).toBe("hello_ok");
    expect((await next(select(4)))?.type).toBe("response_ok");
    ws.close();
  });

  it("stops working when its database's or its group's tokens are rotated", async () => {
    const dbToken = (await api.databases.createToken("beta")).jwt;
    const groupToken = (await api.groups.createToken("team")).jwt;
    const byDb = createClient({ url: urls("beta").ws, authToken: dbToken });
    const byGroup = createClient({ url: urls("gamma").ws, authToken: groupToken });
    await byDb.execute("CREATE TABLE t (x)");
    await byGroup.execute("CREATE TABLE t (x)");
    await api.databases.rotateTokens("beta");
    await expect(byDb.execute("INSERT INTO t VALUES (1)")).rejects.toBeTenantliteError(
      "AUTH_JWT_INVALID",
      /rotated/,
    );
    await expect(
      createClient({ url: urls("beta").http, authToken: dbToken }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("AUTH_JWT_INVALID", /rotated/);
    // The group token is not the database's: it keeps working on gamma.
    await byGroup.execute("INSERT INTO t VALUES (1)");
    await api.groups.rotateTokens("team");
    await expect(byGroup.execute("INSERT INTO t VALUES (2)")).rejects.toBeTenantliteError(
      "AUTH_JWT_INVALID",
      /rotated/,
    );
    // Nothing was written after the rotations.
    const fresh = (await api.databases.createToken("gamma")).jwt;
    const check = createClient({ url: urls("gamma").http, authToken: fresh });
    expect((await check.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(1);
    for (const c of [byDb, byGroup, check]) c.close();
  });
});

describe("a group token minted before a database's rotation", () => {
  it("no longer works on that database, over http and ws, and still works on the others", async () => {
    const before = (await api.groups.createToken("team")).jwt;
    await api.databases.rotateTokens("delta");
    const after = (await api.groups.createToken("team")).jwt;
    for (const url of Object.values(urls("delta"))) {
      const old = createClient({ url, authToken: before });
      await expect(old.execute("SELECT 1")).rejects.toBeTenantliteError(
        "AUTH_JWT_INVALID",
        /rotated/,
      );
      old.close();
      const renewed = createClient({ url, authToken: after });
      expect((await renewed.execute("SELECT 1 AS x")).rows[0]!.x).toBe(1);
      renewed.close();
    }
    for (const url of Object.values(urls("acme"))) {
      const old = createClient({ url, authToken: before });
      expect((await old.execute("SELECT 1 AS x")).rows[0]!.x).toBe(1);
      old.close();
    }
  });
});
