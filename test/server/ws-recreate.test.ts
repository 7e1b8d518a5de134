/**
 * A WebSocket that outlives its database: as sqld, which finds the database by name at each
 * `open_stream`, a new stream on the old socket reaches a database re-created under the name —
 * when the socket's token reaches that database — and reads nothing of the deleted one.
 */
import { createClient } from "@libsql/client";
import { createClient as createApiClient } from "@tursodatabase/api";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";

const API_TOKEN = "ws-recreate-token";
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    port: 0,
    memory: true,
    auth: true,
    apiToken: API_TOKEN,
    consoleDir: false,
  });
});

afterAll(async () => {
  await server.close();
});

it("a socket kept across a delete and re-create of its database reaches the new one, as far as its token does", async () => {
  const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server.url}/v1/` });
  await api.databases.create("x", { group: "default" });
  const groupToken = (await api.groups.createToken("default")).jwt;
  const dbToken = (await api.databases.createToken("x")).jwt;
  const url = `${server.wsUrl}/dev/x/`;
  const byGroup = createClient({ url, authToken: groupToken });
  const byDb = createClient({ url, authToken: dbToken });
  await byGroup.execute("CREATE TABLE old (v)");
  expect((await byDb.execute("SELECT count(*) AS n FROM old")).rows[0]!.n).toBe(0);

  await api.databases.delete("x");
  await api.databases.create("x", { group: "default" });

  // The group's token reaches the new database: its socket's next stream opens there.
  const rs = await byGroup.execute("SELECT name FROM sqlite_schema");
  expect(rs.rows).toEqual([]);
  await byGroup.execute("CREATE TABLE fresh (v)");
  const http = createClient({ url: `${server.url}/dev/x/`, authToken: groupToken });
  expect((await http.execute("SELECT name FROM sqlite_schema")).rows.map((r) => r.name)).toEqual([
    "fresh",
  ]);
  // A token minted for the deleted database reaches nothing, old or new.
  const refused = await byDb.execute("SELECT name FROM sqlite_schema").catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(Error);
  expect((refused as { code?: string }).code).toMatch(/DATABASE_NOT_FOUND|AUTH_FORBIDDEN/);
  byGroup.close();
  byDb.close();
  http.close();
});

it("a stream whose database was deleted is told so by the database's name, not its id", async () => {
  const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server.url}/v1/` });
  const created = await api.databases.create("gone", { group: "default" });
  const token = (await api.groups.createToken("default")).jwt;
  for (const url of [`${server.wsUrl}/dev/gone/`, `${server.url}/dev/gone/`]) {
    const c = createClient({ url, authToken: token });
    await c.execute("CREATE TABLE IF NOT EXISTS t (v)");
    const tx = await c.transaction("read"); // a write one would hold the delete for its timeout
    await tx.execute("SELECT * FROM t");
    await api.databases.delete("gone");
    const errors = [await tx.execute("SELECT 1").catch((e: Error) => e)];
    if (url.startsWith("ws")) errors.push(await c.execute("SELECT 1").catch((e: Error) => e));
    for (const e of errors) {
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).not.toContain(created.id);
      expect((e as Error).message).toMatch(/"gone"|`gone`/);
    }
    c.close();
    await api.databases.create("gone", { group: "default" });
  }
});
