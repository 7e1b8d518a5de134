/**
 * A bounded volley of bad input against the real Node listener — malformed JSON, wrong types,
 * unknown request types, bodies over the limit, stalled and truncated bodies, unknown paths,
 * wrong methods, too many streams, junk WebSocket frames — after which normal clients still work.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import type { RunningServer } from "../../src/node/server.js";
import { rawExchange, startTestServer } from "./helpers.js";

let server: RunningServer;

beforeAll(async () => {
  ({ server } = await startTestServer({
    limits: { maxBodyBytes: 64 * 1024, bodyTimeoutMs: 500, maxStreams: 20 },
  }));
  await server.platform.createDatabase("acme");
  for (let i = 0; i < 30; i++) await server.platform.createDatabase(`tx${i}`);
});

afterAll(async () => {
  await server.close();
});

const raw = (payload: string, ms = 3000, endWrite = false) =>
  rawExchange(server.port, payload, { ms, endWrite });

const pipelinePath = "/dev/acme/v2/pipeline";
const head = (len: number | string) =>
  `POST ${pipelinePath} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`;

it("survives a volley of bad requests and keeps serving everyone else", async () => {
  const url = `${server.url}${pipelinePath}`;
  const post = (body: string) => fetch(url, { method: "POST", body });
  const volley: Promise<[string, number]>[] = [];
  const expectStatus = (name: string, p: Promise<Response>) =>
    volley.push(p.then((r) => [name, r.status] as [string, number]));
  for (let i = 0; i < 10; i++) {
    expectStatus("malformed json", post("{"));
    expectStatus("wrong types", post('{"requests":[{"type":"execute","stmt":{"sql":["x"]}}]}'));
    expectStatus("unknown type", post('{"requests":[{"type":"explode"}]}'));
    expectStatus("deep json", post(`${"[".repeat(5000)}${"]".repeat(5000)}`));
    expectStatus(
      "unknown path",
      fetch(`${server.url}/dev/acme/v9/pipeline`, { method: "POST", body: "{}" }),
    );
    expectStatus("wrong method", fetch(url, { method: "DELETE" }));
    expectStatus(
      "too large",
      post(
        JSON.stringify({
          requests: [{ type: "execute", stmt: { sql: `SELECT '${"x".repeat(100_000)}'` } }],
        }),
      ),
    );
  }
  // Streams never closed: more than the server allows at once.
  for (let i = 0; i < 40; i++)
    expectStatus("streams", post('{"requests":[{"type":"execute","stmt":{"sql":"SELECT 1"}}]}'));
  for (let i = 0; i < 30; i++) {
    expectStatus(
      "tx streams",
      fetch(`${server.url}/dev/tx${i}/v2/pipeline`, {
        method: "POST",
        body: '{"requests":[{"type":"execute","stmt":{"sql":"BEGIN IMMEDIATE"}}]}',
      }),
    );
  }
  const stalled = raw(`${head(100)}{"requests":`);
  const truncated = raw(`${head(100)}{"requests":`, 3000, true);
  const hugeDeclared = raw(head(10_000_000));
  const garbage = raw("GARBAGE\r\n\r\n");
  const results = await Promise.all(volley);
  const byName = new Map<string, Set<number>>();
  for (const [name, status] of results) {
    if (!byName.has(name)) byName.set(name, new Set());
    byName.get(name)!.add(status);
  }
  expect([...byName.get("malformed json")!]).toEqual([400]);
  expect([...byName.get("wrong types")!]).toEqual([400]);
  expect([...byName.get("unknown type")!]).toEqual([400]);
  expect([...byName.get("deep json")!]).toEqual([400]);
  expect([...byName.get("unknown path")!]).toEqual([404]);
  expect([...byName.get("wrong method")!]).toEqual([405]);
  expect([...byName.get("too large")!]).toEqual([413]);
  // Streams without a transaction make room for new ones once answered; while their request is
  // still running on a tenant thread they hold their place, and a new one gets STREAM_LIMIT.
  expect([...byName.get("streams")!]).toContain(200);
  expect([...byName.get("streams")!].every((s) => s === 200 || s === 503)).toBe(true);
  // Streams holding a transaction keep their place; how many got one before the others filled
  // the limit depends on how fast the tenant threads answered.
  expect([...byName.get("tx streams")!].every((s) => s === 200 || s === 503)).toBe(true);
  expect(await stalled).toMatch(/^HTTP\/1\.1 408/);
  expect(await stalled).toMatch(/BODY_TIMEOUT/);
  expect(await truncated).toMatch(/^HTTP\/1\.1 (400|408)/);
  expect(await hugeDeclared).toMatch(/^HTTP\/1\.1 413/);
  expect(await garbage).toMatch(/^HTTP\/1\.1 400|^$/);

  // WebSocket junk: bad JSON, request before hello, binary frame, unknown protocol.
  const junk = [
    "not json",
    '{"type":"request","request_id":1,"request":{"type":"open_stream","stream_id":1}}',
  ];
  for (const frame of junk) {
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${server.wsUrl}/dev/acme/`, ["hrana2"]);
      ws.on("open", () => ws.send(frame));
      ws.on("close", (c) => resolve(c));
      ws.on("error", () => resolve(-1));
    });
    expect(code).toBe(1002);
  }
  const refused = await new Promise<string>((resolve) => {
    const ws = new WebSocket(`${server.wsUrl}/dev/acme/`, ["chat"]);
    ws.on("error", (e) => resolve(e.message));
    ws.on("open", () => resolve("opened"));
  });
  expect(refused).toMatch(/400/);

  // Everyone else is still served: plain statements at once, over both transports…
  for (const u of [`${server.url}/dev/acme/`, `${server.wsUrl}/dev/acme/`]) {
    const c = createClient({ url: u });
    expect((await c.execute("SELECT 1 AS x")).rows[0]!.x).toBe(1);
    c.close();
  }
  // …and new HTTP transactions once the abandoned ones have timed out.
  await new Promise((r) => setTimeout(r, 5500));
  for (const u of [`${server.url}/dev/acme/`, `${server.wsUrl}/dev/acme/`]) {
    const c = createClient({ url: u });
    expect((await c.execute("SELECT 41 + 1 AS x")).rows[0]!.x).toBe(42);
    const tx = await c.transaction("write");
    await tx.execute("CREATE TABLE IF NOT EXISTS ok (x)");
    await tx.commit();
    c.close();
  }
});
