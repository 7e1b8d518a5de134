/**
 * The network-error hooks of `@libsql/client`'s own suite (issue 15, point 8): with
 * `hranaTestHooks`, a statement `.close_ws` closes the WebSocket and `.close_tcp` drops its TCP
 * connection, as the suite's reference server does; the real client must then fail that request
 * with `HRANA_WEBSOCKET_ERROR`, close a transaction it cut, and reconnect for the next one, and
 * nothing committed before is lost. Without the option the statements are plain SQL (a syntax
 * error), so no client can close another's socket on a normal server.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { startTestServer } from "./helpers.js";

// Per file: the server's data directory outlives each test (per test, it was removed under the
// running server after the first one).
const tempDir = useTempDirs("tenantlite-ws-hooks-", { scope: "file" });

describe("with hranaTestHooks", () => {
  let server: RunningServer;
  beforeAll(async () => {
    ({ server } = await startTestServer({
      memory: false,
      dataDir: tempDir(),
      hranaTestHooks: true,
    }));
    await server.platform.createDatabase("hooks");
  });
  afterAll(async () => {
    await server.close();
  });

  for (const sql of [".close_ws", ".close_tcp"]) {
    it(`${sql}: execute, batch and a transaction fail with HRANA_WEBSOCKET_ERROR, the client goes on`, async () => {
      const c = createClient({ url: `${server.wsUrl}/dev/hooks/` });
      try {
        await c.execute("CREATE TABLE IF NOT EXISTS t (x)");
        await c.execute({ sql: "INSERT INTO t VALUES (?)", args: [sql] });
        await expect(c.execute(sql)).rejects.toBeTenantliteError("HRANA_WEBSOCKET_ERROR");
        expect((await c.execute("SELECT 42")).rows[0]![0]).toBe(42);
        await expect(c.batch(["SELECT 1", sql, "SELECT 2"])).rejects.toBeTenantliteError(
          "HRANA_WEBSOCKET_ERROR",
        );
        const read = await c.transaction("read");
        await expect(read.execute(sql)).rejects.toBeTenantliteError("HRANA_WEBSOCKET_ERROR");
        await expect(read.commit()).rejects.toBeTenantliteError("TRANSACTION_CLOSED");
        read.close();
        const tx = await c.transaction("write");
        await tx.execute({ sql: "INSERT INTO t VALUES (?)", args: ["never"] });
        await expect(tx.execute(sql)).rejects.toBeTenantliteError("HRANA_WEBSOCKET_ERROR");
        await expect(tx.commit()).rejects.toThrow();
        tx.close();
        // The cut transaction was rolled back on the server; what was committed stays.
        const rs = await c.execute({ sql: "SELECT count(*) FROM t WHERE x = ?", args: [sql] });
        expect(rs.rows[0]![0]).toBe(1);
        const never = await c.execute("SELECT count(*) FROM t WHERE x = 'never'");
        expect(never.rows[0]![0]).toBe(0);
      } finally {
        c.close();
      }
    });
  }
});

describe("without it (the default)", () => {
  let server: RunningServer;
  beforeAll(async () => {
    ({ server } = await startTestServer());
    await server.platform.createDatabase("plain");
  });
  afterAll(async () => {
    await server.close();
  });

  it("`.close_ws` and `.close_tcp` are SQL like any other: a parse error, the socket stays", async () => {
    const c = createClient({ url: `${server.wsUrl}/dev/plain/` });
    try {
      for (const sql of [".close_ws", ".close_tcp"]) {
        await expect(c.execute(sql)).rejects.toBeTenantliteError("SQL_PARSE_ERROR");
      }
      expect((await c.execute("SELECT 42")).rows[0]![0]).toBe(42);
    } finally {
      c.close();
    }
  });
});
