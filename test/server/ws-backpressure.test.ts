/**
 * Bounded memory per WebSocket client (issue 17). A client that sends thousands of requests and
 * never reads the responses used to grow the server by hundreds of MB; now its socket stops being
 * read and its requests stop starting once its unread responses pass a quarter of
 * `maxUnsentBytes`, and it is closed with code 1008 and a `RESPONSES_UNREAD` reason when nothing
 * more gets written for `bodyTimeoutMs` (or its unread responses pass `maxUnsentBytes`); what the
 * session held is then dropped. A client that reads keeps being served however many requests it
 * pipelines. Raw `ws` clients, bounded in count and time.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningServer } from "../../src/node/server.js";
import { startTestServer } from "./helpers.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const LIMIT = 2 * 1024 * 1024;
let server: RunningServer;

beforeAll(async () => {
  ({ server } = await startTestServer({ limits: { maxUnsentBytes: LIMIT, bodyTimeoutMs: 1000 } }));
  const c = server.platform.client((await server.platform.createDatabase("acme")).name);
  await c.execute("CREATE TABLE t (x)");
  // Each SELECT * answers ~130 KB of JSON.
  await c.execute(
    "INSERT INTO t SELECT randomblob(1000) FROM (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 100) SELECT i FROM r)",
  );
  c.close();
});

afterAll(async () => {
  await server.close();
});

const send = (ws: WebSocket, id: number, request: unknown) =>
  ws.send(JSON.stringify({ type: "request", request_id: id, request }));

/** A socket past hello with stream 1 open; resolves once both were answered. */
async function openSession(): Promise<WebSocket> {
  const ws = new WebSocket(`${server.wsUrl}/dev/acme/`, ["hrana2"]);
  await new Promise((r) => ws.once("open", r));
  const answered = new Promise<void>((resolve) => {
    let n = 0;
    ws.on("message", () => {
      if (++n === 2) resolve();
    });
  });
  ws.send(JSON.stringify({ type: "hello" }));
  send(ws, 0, { type: "open_stream", stream_id: 1 });
  await answered;
  return ws;
}

const select = { type: "execute", stream_id: 1, stmt: { sql: "SELECT * FROM t", want_rows: true } };

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

it("throttles, then closes with RESPONSES_UNREAD, a client that does not read; memory stays bounded", async () => {
  const baseline = heapMb();
  const ws = await openSession();
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.pause(); // the client reads nothing from here on
  for (let i = 1; i <= 3000; i++) send(ws, i, select);
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed / 2 ** 20);
  }, 10);
  // The server gives up on it (its session ends) while it still reads nothing.
  const ended = await until(() => server.handler.openSessions === 0, 20_000);
  clearInterval(sampler);
  expect(ended).toBe(true);
  // Reading again, it finds the responses that fit in the bound, then the coded close.
  ws.resume();
  const { code, reason } = await closed;
  expect(code).toBe(1008);
  expect(reason).toMatch(/^RESPONSES_UNREAD: over \d+ bytes of responses unread/);
  // 3000 responses of ~130 KB were ~390 MB; the server held a few MB of them at most.
  expect(peak - baseline).toBeLessThan(64);
  expect(await until(() => heapMb() - baseline < 16, 5000)).toBe(true);
});

it("keeps serving a client that reads, however many requests it pipelines", async () => {
  const ws = await openSession();
  const padding = `/* ${"p".repeat(2000)} */`;
  let answers = 0;
  let errors = 0;
  ws.on("message", (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.type === "response_ok") answers++;
    else errors++;
  });
  let closeCode = 0;
  ws.once("close", (code) => {
    closeCode = code;
  });
  // ~6 MB of requests (past a quarter of the bound, so the socket pauses and resumes) and
  // ~130 MB of responses, read as they come.
  const N = 1000;
  for (let i = 1; i <= N; i++) {
    send(ws, i, { ...select, stmt: { ...select.stmt, sql: `SELECT * FROM t ${padding}` } });
  }
  expect(await until(() => answers + errors === N, 60_000)).toBe(true);
  expect(errors).toBe(0);
  expect(closeCode).toBe(0);
  ws.close();
  expect(await until(() => server.handler.openSessions === 0, 5000)).toBe(true);
});
