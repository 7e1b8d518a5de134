/**
 * Transaction state tells the truth (issue 15, point 8): a `ROLLBACK` statement and a firing
 * `OR ROLLBACK` end the transaction, later statements fail with TRANSACTION_CLOSED (in-process)
 * or are skipped by their `not is_autocommit` condition (Hrana 3), `is_autocommit` follows, and
 * a failing `executeMultiple` inside its own BEGIN answers at once with a data directory.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../../src/index.js";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { caught, useTempDirs } from "../helpers.js";
import { pipeline } from "./helpers.js";

let platform: Platform;
let dir: string;
const tempDir = useTempDirs("tenantlite-txstate-", { scope: "file" });
let server: RunningServer;

beforeAll(async () => {
  platform = await createPlatform();
  await platform.createDatabase("tx");
  dir = tempDir();
  server = await startServer({ port: 0, dataDir: dir, consoleDir: false });
  await server.platform.createDatabase("acme");
});

afterAll(async () => {
  await platform.close();
  await server.close();
});

async function fresh(c: ReturnType<Platform["client"]>, unique = false) {
  await c.execute("DROP TABLE IF EXISTS t");
  await c.execute(unique ? "CREATE TABLE t (a UNIQUE)" : "CREATE TABLE t (a)");
}

describe("in-process: a statement that ends the transaction ends it", () => {
  it("ROLLBACK in a batch stops the batch", async () => {
    const c = platform.client("tx");
    await fresh(c);
    const e = await caught(
      c.batch(
        ["INSERT INTO t VALUES (1), (2), (3)", "ROLLBACK", "INSERT INTO t VALUES (4), (5)"],
        "write",
      ),
    );
    expect(e).toBeTenantliteError("TRANSACTION_CLOSED");
    expect((e as { statementIndex?: number }).statementIndex).toBe(2);
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
  });

  it("ROLLBACK in a transaction: later statements (even pipelined) fail, commit fails", async () => {
    const c = platform.client("tx");
    await fresh(c);
    const txn = await c.transaction("write");
    const p1 = txn.execute("INSERT INTO t VALUES (1), (2), (3)");
    const p2 = txn.execute("ROLLBACK");
    const p3 = txn.execute("INSERT INTO t VALUES (4), (5)");
    await p1;
    await p2;
    await expect(p3).rejects.toBeTenantliteError("TRANSACTION_CLOSED");
    await expect(txn.commit()).rejects.toBeTenantliteError("TRANSACTION_CLOSED");
    txn.close();
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);
  });

  it("a firing OR ROLLBACK ends the transaction, also as its first statement", async () => {
    const c = platform.client("tx");
    await fresh(c, true);
    const txn = await c.transaction("write");
    const p1 = txn.execute("INSERT INTO t VALUES (1), (2), (3)");
    const p2 = txn.execute("INSERT OR ROLLBACK INTO t VALUES (1)");
    const p3 = txn.execute("INSERT INTO t VALUES (4), (5)");
    await p1;
    await expect(p2).rejects.toBeTenantliteError("SQLITE_CONSTRAINT");
    await expect(p3).rejects.toBeTenantliteError("TRANSACTION_CLOSED");
    await expect(txn.commit()).rejects.toThrow();
    txn.close();
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(0);

    await c.execute("INSERT INTO t VALUES (1), (2), (3)");
    const t2 = await c.transaction("write");
    const q1 = t2.execute("INSERT OR ROLLBACK INTO t VALUES (1)");
    const q2 = t2.execute("INSERT INTO t VALUES (4), (5)");
    await expect(q1).rejects.toBeTenantliteError("SQLITE_CONSTRAINT");
    await expect(q2).rejects.toBeTenantliteError("TRANSACTION_CLOSED");
    await expect(t2.commit()).rejects.toThrow();
    t2.close();
    expect((await c.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(3);
  });

  it("a timed-out transaction still reports TRANSACTION_TIMEOUT", async () => {
    const p = await createPlatform({ transactionTimeoutMs: 50 });
    await p.createDatabase("x");
    const txn = await p.client("x").transaction("write");
    await new Promise((r) => setTimeout(r, 150));
    await expect(txn.execute("SELECT 1")).rejects.toBeTenantliteError("TRANSACTION_TIMEOUT");
    await expect(txn.commit()).rejects.toBeTenantliteError("TRANSACTION_TIMEOUT");
    await p.close();
  });
});

// biome-ignore lint/suspicious/noExplicitAny: wire JSON is inspected field by field
type Json = any;
const stmt = (sql: string) => ({ sql, args: [], named_args: [], want_rows: true });
const notAutocommit = (step: number) => ({
  type: "and",
  conds: [
    { type: "ok", step },
    { type: "not", cond: { type: "is_autocommit" } },
  ],
});

describe("Hrana 3 over HTTP, on a data directory", () => {
  const url = () => `${server.url}/dev/acme/v3/pipeline`;

  it("skips the steps after a ROLLBACK statement or a firing OR ROLLBACK; is_autocommit follows", async () => {
    await pipeline(url(), {
      requests: [
        { type: "execute", stmt: stmt("CREATE TABLE IF NOT EXISTS u (a UNIQUE)") },
        { type: "execute", stmt: stmt("DELETE FROM u") },
      ],
    });
    for (const ender of ["ROLLBACK", "INSERT OR ROLLBACK INTO u VALUES (1)"]) {
      const r = await pipeline(url(), {
        requests: [
          {
            type: "batch",
            batch: {
              steps: [
                { stmt: stmt("BEGIN") },
                { stmt: stmt("INSERT INTO u VALUES (1)"), condition: notAutocommit(0) },
                { stmt: stmt(ender), condition: notAutocommit(1) },
                { stmt: stmt("INSERT INTO u VALUES (2)"), condition: notAutocommit(2) },
              ],
            },
          },
          { type: "get_autocommit" },
          { type: "execute", stmt: stmt("SELECT count(*) FROM u") },
          { type: "close" },
        ],
      });
      expect(r.status).toBe(200);
      const [batch, auto, count] = r.body.results as Json[];
      const steps = batch.response.result;
      expect(steps.step_results[3]).toBeNull();
      expect(steps.step_errors[3]).toBeNull();
      expect(auto.response.is_autocommit).toBe(true);
      expect(count.response.result.rows[0][0]).toEqual({ type: "integer", value: "0" });
    }
  });

  it("a failing sequence inside its own BEGIN answers at once, and nothing of it is kept", async () => {
    const c = createClient({ url: `${server.url}/dev/acme/` });
    await c.execute("CREATE TABLE IF NOT EXISTS m (a)");
    const started = Date.now();
    await expect(
      c.executeMultiple(
        "INSERT INTO m VALUES (0); BEGIN; INSERT INTO m VALUES (1); INSERT INTO nowhere VALUES (2); COMMIT;",
      ),
    ).rejects.toThrow(/no such table/);
    expect(Date.now() - started).toBeLessThan(1000);
    // The write before its BEGIN is kept (it committed), the transaction's is not.
    expect((await c.execute("SELECT a FROM m")).rows.map((r) => r.a)).toEqual([0]);
    // The tenant is free for writers at once.
    const w = Date.now();
    await c.execute("INSERT INTO m VALUES (3)");
    expect(Date.now() - w).toBeLessThan(1000);
    c.close();
  });
});
