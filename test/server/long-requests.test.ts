/**
 * A long request — a script of thousands of statements, a batch or a pipeline of thousands of
 * steps — gives the event loop turns while it runs (src/engine/pace.ts), so other tenants'
 * requests are answered meanwhile instead of after it. Checked by what happens, not by time: a
 * timer set when the long request starts fires, and another tenant's read is answered, before
 * the long request ends. Without the turns both happen only after it (checked by removing them).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../../src/platform/platform.js";
import { createHandler, type ServerHandler } from "../../src/server/handler.js";

let platform: Platform;
let server: ServerHandler;

beforeAll(async () => {
  platform = await createPlatform();
  await platform.createDatabase("big");
  await platform.createDatabase("small");
  await platform.client("big").execute("CREATE TABLE t (x INTEGER)");
  await platform.client("small").execute("CREATE TABLE k (v)");
  await platform.client("small").execute("INSERT INTO k VALUES ('here')");
  server = await createHandler({ platform });
});
afterAll(async () => {
  server.close();
  await platform.close();
});

const N = 20_000;
const stmt = (sql: string) => ({ sql, args: [], named_args: [], want_rows: true });

function pipeline(db: string, requests: unknown[]): Promise<Response> {
  return server.fetch(
    new Request(`http://127.0.0.1/dev/${db}/v2/pipeline`, {
      method: "POST",
      body: JSON.stringify({ requests }),
    }),
  );
}

/**
 * Starts `long`, then, at the next turn of the event loop, a read on tenant `small`: resolves
 * with whether that read was answered before `long` ended, once both have.
 */
async function readAnsweredDuring(long: () => Promise<unknown>): Promise<boolean> {
  let longDone = false;
  const running = long().then((r) => {
    longDone = true;
    return r;
  });
  const read = new Promise<boolean>((resolve, reject) => {
    setTimeout(() => {
      pipeline("small", [{ type: "execute", stmt: stmt("SELECT v FROM k") }])
        .then((res) => res.json())
        .then((body) => {
          expect(body.results[0].response.result.rows[0][0].value).toBe("here");
          resolve(!longDone);
        }, reject);
    }, 0);
  });
  const [during] = await Promise.all([read, running]);
  return during;
}

describe("long requests give other tenants turns", () => {
  it("a script of 20,000 statements (Hrana sequence)", async () => {
    const script = Array.from({ length: N }, (_, i) => `INSERT INTO t VALUES (${i});`).join("\n");
    const during = await readAnsweredDuring(async () => {
      const res = await pipeline("big", [{ type: "sequence", sql: script }]);
      expect((await res.json()).results[0].type).toBe("ok");
    });
    expect(during).toBe(true);
    const rs = await platform.client("big").execute("SELECT count(*) AS n FROM t");
    expect(rs.rows[0]?.n).toBe(N);
  });

  it("a batch of 9,000 steps, all in one transaction", async () => {
    const steps = [
      { stmt: stmt("BEGIN") },
      ...Array.from({ length: 9_000 }, (_, i) => ({
        stmt: stmt(`INSERT INTO t VALUES (${i})`),
        condition: { type: "ok", step: i },
      })),
      { stmt: stmt("COMMIT"), condition: { type: "ok", step: 9_000 } },
    ];
    const during = await readAnsweredDuring(async () => {
      const res = await pipeline("big", [{ type: "batch", batch: { steps } }]);
      const body = await res.json();
      expect(body.results[0].response.result.step_errors.every((e: unknown) => e === null)).toBe(
        true,
      );
    });
    expect(during).toBe(true);
  });

  it("a pipeline of 9,000 execute requests", async () => {
    const requests = Array.from({ length: 9_000 }, (_, i) => ({
      type: "execute",
      stmt: stmt(`SELECT ${i}`),
    }));
    const during = await readAnsweredDuring(async () => {
      const res = await pipeline("big", requests);
      expect((await res.json()).results).toHaveLength(9_000);
    });
    expect(during).toBe(true);
  });

  it("a library client's executeMultiple and batch", async () => {
    const client = platform.client("big");
    const script = Array.from({ length: N }, (_, i) => `INSERT INTO t VALUES (${i});`).join("\n");
    expect(await readAnsweredDuring(() => client.executeMultiple(script))).toBe(true);
    const statements = Array.from({ length: 9_000 }, (_, i) => ({
      sql: "INSERT INTO t VALUES (?)",
      args: [i],
    }));
    expect(await readAnsweredDuring(() => client.batch(statements, "write"))).toBe(true);
  });
});
