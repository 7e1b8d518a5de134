/**
 * An open Hrana stream holds nothing of the results it sent. A stream lives between requests
 * (its baton, up to `streamIdleMs`; a WebSocket stream until it is closed), and a connection on a
 * tenant thread kept its last answer — every row of it — for as long as it lived: 800 pipelines
 * without `close`, each reading 3 MB, made the server hold ~1.2 GB until their batons expired
 * (measured), and `maxStreams` (1,000) streams of 10 MB results would have held 10 GB.
 * Real server with tenant threads, real HTTP and WebSocket (`@libsql/client`).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { pipeline, startTestServer } from "./helpers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let server: RunningServer;
/** ~3 MB of Hrana JSON: 500 rows of 6,000 hex digits. */
const LARGE = "SELECT hex(b) AS h FROM t";
const STREAMS = 30;

beforeAll(async () => {
  ({ server } = await startTestServer({ workers: 1 }));
  const c = createClient({ url: server.url });
  await c.execute("CREATE TABLE t (b BLOB)");
  await c.execute(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO t SELECT randomblob(3000) FROM n",
  );
  c.close();
});

afterAll(async () => {
  await server?.close();
});

/** The heap in use after a full collection (bytes). */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe("an open stream", () => {
  it("holds none of the rows it sent (HTTP streams left open, each after a 3 MB result)", async () => {
    const before = heapAfterGc();
    const batons: string[] = [];
    for (let i = 0; i < STREAMS; i++) {
      const r = await pipeline(`${server.url}/v2/pipeline`, {
        requests: [{ type: "execute", stmt: { sql: LARGE } }],
      });
      expect(r.body.results[0].response.result.rows).toHaveLength(500);
      batons.push(r.body.baton as string);
    }
    // Every stream is still open (its baton works) while the rows are gone.
    const grown = heapAfterGc() - before;
    expect(grown).toBeLessThan(30 * 2 ** 20); // it held ~90 MB (3 MB a stream)
    for (const baton of batons) {
      const r = await pipeline(`${server.url}/v2/pipeline`, {
        baton,
        requests: [{ type: "close" }],
      });
      expect(r.body.results[0].type).toBe("ok");
    }
  });

  it("holds none of the rows it sent (WebSocket streams left open)", async () => {
    const clients = Array.from({ length: 10 }, () => createClient({ url: server.wsUrl }));
    const before = heapAfterGc();
    const txs = [];
    for (const c of clients) {
      // A transaction keeps its stream open; the result itself is dropped here.
      const tx = await c.transaction("read");
      expect((await tx.execute(LARGE)).rows).toHaveLength(500);
      txs.push(tx);
    }
    const grown = heapAfterGc() - before;
    expect(grown).toBeLessThan(15 * 2 ** 20); // it held ~30 MB
    for (const tx of txs) {
      expect((await tx.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
      tx.close();
    }
    for (const c of clients) c.close();
  });
});
