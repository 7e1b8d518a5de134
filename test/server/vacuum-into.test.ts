/**
 * `VACUUM INTO` through the real clients (issue 17): refused with a coded error over HTTP and
 * WebSocket, alone, in a batch, in a script and in a transaction, and the server holds no copy
 * afterwards. Before, each one left a file in sql.js's memory for the life of the process (100
 * copies of a 2 MB tenant held ~220 MB).
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { engineFileTables } from "../helpers.js";
import { startTestServer } from "./helpers.js";

let server: RunningServer;

beforeAll(async () => {
  ({ server } = await startTestServer());
  const acme = server.platform.client((await server.platform.createDatabase("acme")).name);
  await acme.execute("CREATE TABLE secret (x)");
  await acme.execute("INSERT INTO secret VALUES ('hush')");
  acme.close();
});

afterAll(async () => {
  await server.close();
});

it("refuses VACUUM INTO over http and ws, in every form a client sends it", async () => {
  for (const [i, url] of [`${server.url}/dev/acme/`, `${server.wsUrl}/dev/acme/`].entries()) {
    const c = createClient({ url });
    const tag = `copy-${i}-${Date.now()}`;
    await expect(c.execute(`VACUUM INTO '${tag}-a'`)).rejects.toBeTenantliteError(
      "VACUUM_INTO_FORBIDDEN",
      /export/,
    );
    await expect(
      c.execute({ sql: "VACUUM main INTO ?", args: [`${tag}-b`] }),
    ).rejects.toBeTenantliteError("VACUUM_INTO_FORBIDDEN");
    await expect(
      c.batch(["SELECT 1", `VACUUM INTO ('${tag}' || '-c')`], "write"),
    ).rejects.toBeTenantliteError("VACUUM_INTO_FORBIDDEN");
    await expect(
      c.executeMultiple(`SELECT 1; VACUUM INTO '${tag}-d';`),
    ).rejects.toBeTenantliteError("VACUUM_INTO_FORBIDDEN");
    const tx = await c.transaction("write");
    await expect(tx.execute(`VACUUM INTO '${tag}-e'`)).rejects.toBeTenantliteError(
      "VACUUM_INTO_FORBIDDEN",
    );
    await tx.rollback();
    for (const suffix of ["a", "b", "c", "d", "e"]) {
      expect(await engineFileTables(`${tag}-${suffix}`)).toEqual([]);
    }
    // The database is untouched and plain VACUUM still works.
    await c.execute("VACUUM");
    expect((await c.execute("SELECT x FROM secret")).rows[0]!.x).toBe("hush");
    c.close();
  }
});
