/**
 * The bound on large request bodies worked on at once (src/node/body-budget.ts): the budget
 * itself, and a real server given a small one, whose concurrent large requests all get their
 * answers (waiting, never refused) while small requests pass them by. Before, 60 pipelines of
 * 15 MB sent at once took `tenantlite dev` to 5 GB of RSS (and one of them timed out, 408); with
 * the default budget, 1.15 GB and none timed out. Over WebSocket, 60 such messages: 5.5 GB, now
 * 3.0 GB (`ws` reads a whole message before the server sees it: those waiting are held as sent).
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BodyBudget } from "../../src/node/body-budget.js";
import { createPlatform } from "../../src/node/create-platform.js";
import { type RunningServer, startServer } from "../../src/node/server.js";
import type { ConnectOptions } from "../../src/platform/options.js";
import type { Platform } from "../../src/platform/platform.js";
import { pipeline } from "./helpers.js";

describe("BodyBudget", () => {
  it("grants in arrival order while they fit, one larger than all of it alone", async () => {
    const budget = new BodyBudget(10);
    const order: string[] = [];
    const take = (name: string, bytes: number) => {
      const r = budget.reserve(bytes);
      void r.ready.then(() => order.push(name));
      return r;
    };
    const a = take("a", 6);
    const b = take("b", 6); // does not fit beside a
    const c = take("c", 1); // would fit, but waits behind b: no overtaking
    await Promise.resolve();
    expect(order).toEqual(["a"]);
    expect([budget.used, budget.waiting]).toEqual([6, 2]);
    a.release();
    await Promise.resolve();
    expect(order).toEqual(["a", "b", "c"]);
    expect(budget.used).toBe(7);
    const huge = take("huge", 50); // larger than the budget: waits for the others, then alone
    const d = take("d", 1);
    b.release();
    c.release();
    await Promise.resolve();
    expect(order).toEqual(["a", "b", "c", "huge"]);
    expect(budget.used).toBe(50);
    huge.release();
    huge.release(); // once
    await Promise.resolve();
    expect(order).toEqual(["a", "b", "c", "huge", "d"]);
    expect(budget.used).toBe(1);
    d.release();
    expect([budget.used, budget.waiting]).toEqual([0, 0]);
  });

  it("lets a waiting body leave the queue (its client went away) without holding anything", async () => {
    const budget = new BodyBudget(10);
    const a = budget.reserve(8);
    const gone = budget.reserve(8);
    const next = budget.reserve(8);
    let nextReady = false;
    void next.ready.then(() => {
      nextReady = true;
    });
    gone.release();
    await gone.ready; // resolved, so its request goes on to find its client gone
    expect([budget.used, budget.waiting]).toEqual([8, 1]);
    a.release();
    await Promise.resolve();
    expect(nextReady).toBe(true);
    expect(budget.used).toBe(8);
    next.release();
    expect(budget.used).toBe(0);
  });
});

describe("a server with a small budget for large bodies", () => {
  let server: RunningServer;
  let platform: Platform;
  /** Large statements running now, and the most at once. */
  let running = 0;
  let most = 0;
  beforeAll(async () => {
    platform = await createPlatform();
    // Every large statement takes 200 ms more, so that large requests would overlap if let in.
    const connect = platform.connect.bind(platform);
    platform.connect = ((name: string, options?: ConnectOptions) => {
      const conn = connect(name, options);
      return new Proxy(conn, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver);
          if (key !== "execute") return typeof value === "function" ? value.bind(target) : value;
          return async (sql: string, ...rest: unknown[]) => {
            const large = sql.length > 1_000_000;
            if (large) most = Math.max(most, ++running);
            try {
              await new Promise((resolve) => setTimeout(resolve, large ? 200 : 0));
              return await (value as (...a: unknown[]) => unknown).call(target, sql, ...rest);
            } finally {
              if (large) running--;
            }
          };
        },
      });
    }) as typeof platform.connect;
    server = await startServer({
      port: 0,
      platform,
      consoleDir: false,
      rootDatabase: "default",
      limits: { maxBodyBytesInFlight: 3 * 2 ** 20 },
    });
  });
  afterAll(async () => {
    await server?.close();
    await platform?.close();
  });

  it("works on at most what fits at once, answers every large request, and lets small ones by", async () => {
    // 12 bodies of ~1.5 MB each (a comment makes them large): two fit in the budget at once.
    const large = (i: number) =>
      pipeline(`${server.url}/v2/pipeline`, {
        requests: [
          { type: "execute", stmt: { sql: `SELECT ${i} AS i -- ${"x".repeat(1_500_000)}` } },
          { type: "close" },
        ],
      });
    const c = createClient({ url: server.url });
    const all = Promise.all(Array.from({ length: 12 }, (_, i) => large(i)));
    // A small request does not wait for them.
    expect((await c.execute("SELECT 42 AS x")).rows[0]!.x).toBe(42);
    const answers = await all;
    for (const [i, r] of answers.entries()) {
      expect(r.status).toBe(200);
      expect(r.body.results[0].response.result.rows[0][0]).toEqual({
        type: "integer",
        value: String(i),
      });
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2); // 5 of the 12 at once before
    c.close();
  });

  it("counts large WebSocket messages the same way, each socket's in order", async () => {
    most = 0;
    const clients = Array.from({ length: 8 }, () => createClient({ url: server.wsUrl }));
    const results = await Promise.all(
      clients.map(async (c, i) => {
        // A small statement, a large one and a small one again, in this order on each socket.
        const first = c.execute(`SELECT ${i} AS i`);
        const large = c.execute(`SELECT ${i} + 100 AS i -- ${"x".repeat(1_500_000)}`);
        const last = c.execute(`SELECT ${i} + 200 AS i`);
        return (await Promise.all([first, large, last])).map((r) => Number(r.rows[0]!.i));
      }),
    );
    for (const [i, got] of results.entries()) expect(got).toEqual([i, i + 100, i + 200]);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    for (const c of clients) c.close();
  });
});
