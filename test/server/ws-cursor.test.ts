/**
 * Hrana 3 cursors over WebSocket: a client that offers `hrana3` is answered in it, so it may run
 * batches through `open_cursor`/`fetch_cursor`/`close_cursor` (as `@libsql/client`'s ws client
 * does whenever it speaks version 3) — with the real Hrana client (`@libsql/hrana-client`,
 * protocol version 3), and with raw frames for the protocol's edges.
 */
import { BatchCond, openWs } from "@libsql/hrana-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningServer, startServer } from "../../src/node/server.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ port: 0, memory: true, consoleDir: false });
});
afterAll(async () => {
  await server.close();
});

it("runs batches through cursors with the Hrana 3 client: rows, step errors, conditions, many fetches", async () => {
  const client = openWs(`${server.wsUrl}/`, undefined, 3);
  try {
    expect(await client.getVersion()).toBe(3);
    const stream = client.openStream();
    await stream.run("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
    // Past the client's fetch size (1,000 entries), so it fetches more than once.
    await stream.run(
      "INSERT INTO t (v) SELECT 'v' || value FROM generate_series(1, 2500) WHERE NOT EXISTS (SELECT 1 FROM t)",
    );
    const batch = stream.batch(true);
    const count = batch.step().query("SELECT count(*) AS n FROM t");
    const all = batch.step().query("SELECT id, v FROM t ORDER BY id");
    const badStep = batch.step();
    const bad = badStep.query("SELECT nope FROM t");
    const skipped = batch.step().condition(BatchCond.ok(badStep)).query("SELECT 1");
    const after = batch.step().query("SELECT 'after'");
    await batch.execute();
    expect((await count)?.rows[0]?.n).toBe(2500);
    const rows = (await all)?.rows ?? [];
    expect(rows.length).toBe(2500);
    expect(rows[2499]?.v).toBe("v2500");
    await expect(bad).rejects.toThrow(/no such column: nope/);
    expect(await skipped).toBeUndefined();
    expect((await after)?.rows[0]?.[0]).toBe("after");
    // The stream goes on after its cursor: a plain request, then another cursor.
    expect((await stream.query("SELECT 42 AS x")).rows[0]?.x).toBe(42);
    const again = stream.batch(true);
    const one = again.step().query("SELECT value FROM generate_series(1, 3)");
    await again.execute();
    expect((await one)?.rows.map((r) => r.value)).toEqual([1, 2, 3]);
    stream.close();
  } finally {
    client.close();
  }
});

/** Sends `messages` on a raw socket speaking `protocol`; what came back, and the close. */
function raw(protocol: string, messages: object[], waitMs = 600): Promise<unknown[]> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${server.wsUrl}/`, [protocol]);
    const out: unknown[] = [];
    ws.on("open", () => {
      for (const m of messages) ws.send(JSON.stringify(m));
    });
    ws.on("message", (d) => out.push(JSON.parse(String(d))));
    ws.on("close", (code, reason) => out.push({ close: code, reason: String(reason) }));
    setTimeout(() => {
      ws.terminate();
      resolve(out);
    }, waitMs);
  });
}

const hello = { type: "hello" };
const req = (id: number, request: object) => ({ type: "request", request_id: id, request });

it("answers the cursor requests as sqld does, and refuses misuse as a protocol error", async () => {
  const batch = { steps: [{ stmt: { sql: "SELECT value FROM generate_series(1, 3)" } }] };
  const ok = await raw("hrana3", [
    hello,
    req(1, { type: "open_stream", stream_id: 1 }),
    req(2, { type: "open_cursor", stream_id: 1, cursor_id: 7, batch }),
    req(3, { type: "fetch_cursor", cursor_id: 7, max_count: 2 }),
    req(4, { type: "fetch_cursor", cursor_id: 7, max_count: 10 }),
    req(5, { type: "fetch_cursor", cursor_id: 7, max_count: 10 }),
    req(6, { type: "close_cursor", cursor_id: 7 }),
    // A batch that cannot run: its cursor's one entry is the error.
    req(7, {
      type: "open_cursor",
      stream_id: 1,
      cursor_id: 8,
      batch: { steps: [{ stmt: { sql: "SELEC 1" } }] },
    }),
    req(8, { type: "fetch_cursor", cursor_id: 8, max_count: 10 }),
  ]);
  const responses = ok.filter((m) => (m as { type?: string }).type === "response_ok") as {
    request_id: number;
    response: { type: string; entries?: { type: string }[]; done?: boolean };
  }[];
  const byId = new Map(responses.map((r) => [r.request_id, r.response]));
  expect(byId.get(2)).toEqual({ type: "open_cursor" });
  expect(byId.get(3)?.entries?.map((e) => e.type)).toEqual(["step_begin", "row"]);
  expect(byId.get(3)?.done).toBe(false);
  expect(byId.get(4)?.entries?.map((e) => e.type)).toEqual(["row", "row", "step_end"]);
  expect(byId.get(4)?.done).toBe(true);
  expect(byId.get(5)).toEqual({ type: "fetch_cursor", entries: [], done: true });
  expect(byId.get(6)).toEqual({ type: "close_cursor" });
  expect(byId.get(8)?.entries?.map((e) => e.type)).toEqual(["error"]);
  expect(ok.some((m) => (m as { close?: number }).close !== undefined)).toBe(false);

  for (const [messages, reason] of [
    [[req(1, { type: "open_cursor", stream_id: 1, cursor_id: 1, batch })], /stream 1 is not open/],
    [
      [
        req(1, { type: "open_stream", stream_id: 1 }),
        req(2, { type: "open_cursor", stream_id: 1, cursor_id: 1, batch }),
        req(3, { type: "open_cursor", stream_id: 1, cursor_id: 2, batch }),
      ],
      /stream 1 has a cursor open already/,
    ],
    [[req(1, { type: "fetch_cursor", cursor_id: 9, max_count: 1 })], /cursor 9 is not open/],
    [[req(1, { type: "close_cursor", cursor_id: 9 })], /cursor 9 is not open/],
  ] as const) {
    const out = await raw("hrana3", [hello, ...messages]);
    expect(out.at(-1)).toMatchObject({ close: 1002, reason: expect.stringMatching(reason) });
  }
  // Hrana 2 has no cursors.
  const v2 = await raw("hrana2", [
    hello,
    req(1, { type: "open_stream", stream_id: 1 }),
    req(2, { type: "open_cursor", stream_id: 1, cursor_id: 1, batch }),
  ]);
  expect(v2.at(-1)).toMatchObject({
    close: 1002,
    reason: expect.stringMatching(/needs the hrana3/),
  });
});

it("bounds the cursor rows a client leaves unfetched by maxUnsentBytes, and gives the room back once fetched or closed", async () => {
  // Before, every open cursor held its entries until fetched: 300 cursors of a 3 MB batch, never
  // fetched, made one client hold ~1 GB (and 1,000 streams could hold 10 GB).
  const LIMIT = 2 * 2 ** 20;
  const small = await startServer({
    port: 0,
    memory: true,
    consoleDir: false,
    limits: { maxUnsentBytes: LIMIT },
  });
  const ws = new WebSocket(`${small.wsUrl}/`, ["hrana3"]);
  const waiting = new Map<number, (m: Record<string, unknown>) => void>();
  ws.on("message", (d) => {
    const m = JSON.parse(String(d)) as Record<string, unknown>;
    waiting.get(m.request_id as number)?.(m);
  });
  await new Promise((resolve) => ws.once("open", resolve));
  ws.send(JSON.stringify(hello));
  let id = 0;
  const call = (request: object) =>
    new Promise<Record<string, unknown>>((resolve) => {
      waiting.set(++id, resolve);
      ws.send(JSON.stringify(req(id, request)));
    });
  const batch = (sql: string) => ({ steps: [{ stmt: { sql } }] });
  try {
    await call({ type: "open_stream", stream_id: 0 });
    await call({
      type: "execute",
      stream_id: 0,
      stmt: {
        sql: "CREATE TABLE t AS SELECT randomblob(3000) AS b FROM generate_series(1, 200)",
        want_rows: false,
      },
    });
    // ~1.2 MB of rows a cursor (6,000 hex digits a row).
    const LARGE = batch("SELECT hex(b) AS h FROM t");
    const fetchAll = async (cursor_id: number) => {
      const got = await call({ type: "fetch_cursor", cursor_id, max_count: 10_000 });
      return got.response as {
        entries: { type: string; error?: { code: string; message: string } }[];
        done: boolean;
      };
    };
    const outcomes: string[] = [];
    for (let c = 1; c <= 6; c++) {
      await call({ type: "open_stream", stream_id: c });
      await call({ type: "open_cursor", stream_id: c, cursor_id: c, batch: LARGE });
    }
    for (let c = 1; c <= 6; c++) {
      const { entries, done } = await fetchAll(c);
      expect(done).toBe(true);
      const error = entries.find((e) => e.type === "step_error")?.error;
      if (error === undefined)
        outcomes.push(`rows ${entries.filter((e) => e.type === "row").length}`);
      else {
        expect(error.code).toBe("RESPONSE_TOO_LARGE");
        expect(error.message).toMatch(
          /not read yet .* bound of 2097152; fetch or close open cursors/,
        );
        outcomes.push("too large");
      }
    }
    // The first fit; the others found the room taken by cursors not fetched yet.
    expect(outcomes).toEqual([
      "rows 200",
      "too large",
      "too large",
      "too large",
      "too large",
      "too large",
    ]);
    // Fetched (and closed) cursors hold nothing: a new one gets its rows, again and again.
    for (let c = 1; c <= 6; c++) await call({ type: "close_cursor", cursor_id: c });
    for (let c = 11; c <= 13; c++) {
      await call({ type: "open_cursor", stream_id: c - 10, cursor_id: c, batch: LARGE });
      const { entries } = await fetchAll(c);
      expect(entries.filter((e) => e.type === "row")).toHaveLength(200);
      await call({ type: "close_cursor", cursor_id: c });
    }
    // A cursor closed unfetched gives its room back too.
    await call({ type: "open_cursor", stream_id: 1, cursor_id: 21, batch: LARGE });
    await call({ type: "close_cursor", cursor_id: 21 });
    await call({ type: "open_cursor", stream_id: 2, cursor_id: 22, batch: LARGE });
    expect((await fetchAll(22)).entries.filter((e) => e.type === "row")).toHaveLength(200);
  } finally {
    ws.terminate();
    await small.close();
  }
});
