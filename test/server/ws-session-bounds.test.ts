/**
 * The bounds of a WebSocket session (issue 17), driven through the handler with a transport whose
 * send buffer the test controls: reading pauses and resumes, requests wait while responses are
 * unread, a response that would take the unread ones past `maxUnsentBytes` is answered
 * `RESPONSE_TOO_LARGE`, and a session past `maxUnsentBytes` — or stalled past `bodyTimeoutMs` —
 * ends with code 1008 and `RESPONSES_UNREAD`, leaving nothing behind in the handler.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import { createPlatform } from "../../src/node/create-platform.js";
import type { Platform } from "../../src/platform/platform.js";
import { createHandler, type ServerHandler } from "../../src/server/handler.js";
import type { WsSession } from "../../src/server/hrana/ws-session.js";

const LIMIT = 64 * 1024;

/** A socket stand-in: everything sent stays "unread" until the test drains it. */
class FakeSocket {
  bufferedAmount = 0;
  paused = false;
  closed: { code: number; reason: string } | undefined;
  readonly messages: { type: string; request_id?: number }[] = [];
  session!: WsSession;
  send(text: string) {
    this.bufferedAmount += text.length;
    this.messages.push(JSON.parse(text));
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  /** The client read everything. */
  drain() {
    this.bufferedAmount = 0;
    this.session.flushed();
  }
}

let platform: Platform;
let handler: ServerHandler;

beforeEach(async () => {
  platform = await createPlatform();
  const c = platform.client((await platform.createDatabase("acme")).name);
  await c.execute("CREATE TABLE t (x)");
  await c.execute("INSERT INTO t VALUES (randomblob(10000))");
  await c.execute("CREATE TABLE big (y)");
  await c.execute("INSERT INTO big VALUES (randomblob(40000))");
  c.close();
  handler = await createHandler({
    platform,
    limits: { maxUnsentBytes: LIMIT, bodyTimeoutMs: 300 },
  });
});

afterEach(async () => {
  handler.close();
  await platform.close();
});

function open(): FakeSocket {
  const socket = new FakeSocket();
  socket.session = handler.openWebSocket("/dev/acme/", "127.0.0.1", "hrana2", socket);
  socket.session.receive(JSON.stringify({ type: "hello" }));
  socket.session.receive(
    JSON.stringify({
      type: "request",
      request_id: 0,
      request: { type: "open_stream", stream_id: 1 },
    }),
  );
  return socket;
}

const select = (id: number, pad = "", sql = "SELECT x FROM t") =>
  JSON.stringify({
    type: "request",
    request_id: id,
    request: { type: "execute", stream_id: 1, stmt: { sql: `${sql}${pad}` } },
  });

const settle = () => new Promise((r) => setTimeout(r, 30));
const answered = (s: FakeSocket) => s.messages.filter((m) => m.type === "response_ok").length;

it("stops starting requests while responses are unread, and goes on once they are read", async () => {
  const s = open();
  await settle();
  // Each answer is ~27 KB of JSON: the second puts the unread responses over LIMIT / 4.
  for (let i = 1; i <= 10; i++) s.session.receive(select(i));
  await settle();
  expect(answered(s)).toBe(3); // open_stream, then two selects
  expect(s.paused).toBe(true);
  s.drain();
  await settle();
  expect(answered(s)).toBe(5);
  for (let i = 0; i < 10; i++) {
    s.drain();
    await settle();
  }
  expect(answered(s)).toBe(11);
  expect(s.paused).toBe(false);
  expect(s.closed).toBeUndefined();
  expect(handler.openSessions).toBe(1);
});

it("stops reading while unanswered requests are over a quarter of the bound", async () => {
  const s = open();
  await settle();
  // 20 requests of ~1 KB arrive at once: 20 KB > LIMIT / 4 before any is answered.
  for (let i = 1; i <= 20; i++) s.session.receive(select(i, ` /* ${"p".repeat(1000)} */`));
  expect(s.paused).toBe(true);
  expect(s.session.pendingBytes).toBeGreaterThan(LIMIT / 4);
  for (let i = 0; i < 20 && answered(s) < 21; i++) {
    s.drain();
    await settle();
  }
  expect(answered(s)).toBe(21);
  s.drain();
  expect(s.paused).toBe(false);
  expect(s.session.pendingBytes).toBe(0);
});

it("answers RESPONSE_TOO_LARGE for a response that would take the unread ones past the bound; the session goes on", async () => {
  const s = open();
  await settle();
  // Under the quarter, a request starts; its ~107 KB answer would be over the whole bound.
  s.bufferedAmount = LIMIT / 4 - 1;
  s.session.receive(select(1, "", "SELECT y FROM big"));
  await settle();
  const last = s.messages.at(-1) as { type: string; error?: { code: string; message: string } };
  expect(last.type).toBe("response_error");
  expect(last.error?.code).toBe("RESPONSE_TOO_LARGE");
  expect(last.error?.message).toMatch(/has not read yet.*read responses before asking for more/);
  expect(s.closed).toBeUndefined();
  // Once the client read, the same request is answered.
  s.drain();
  s.session.receive(select(2, "", "SELECT y FROM big"));
  await settle();
  expect(s.messages.at(-1)!.type).toBe("response_ok");
  expect(handler.openSessions).toBe(1);
});

it("ends a session whose unread responses pass the bound, with 1008 RESPONSES_UNREAD", async () => {
  const s = open();
  await settle();
  // The socket holds more than the bound (responses sent while under it): the next check ends it.
  s.bufferedAmount = LIMIT + 1;
  s.session.flushed();
  await settle();
  expect(s.closed?.code).toBe(1008);
  expect(s.closed?.reason).toMatch(/^RESPONSES_UNREAD: over 65536 bytes of responses unread/);
  expect(s.session.isClosed).toBe(true);
  expect(handler.openSessions).toBe(0);
  // Later frames are ignored; nothing more is sent.
  const sent = s.messages.length;
  s.session.receive(select(2));
  await settle();
  expect(s.messages.length).toBe(sent);
});

it("ends a session that stays congested with nothing read for bodyTimeoutMs", async () => {
  const s = open();
  await settle();
  for (let i = 1; i <= 5; i++) s.session.receive(select(i));
  await settle();
  expect(s.closed).toBeUndefined();
  await new Promise((r) => setTimeout(r, 400));
  expect(s.closed?.code).toBe(1008);
  expect(s.closed?.reason).toMatch(/^RESPONSES_UNREAD: .*nothing read for 300 ms/);
  expect(handler.openSessions).toBe(0);
});

it("forgets a session when its socket goes, however it ends", async () => {
  const a = open();
  const b = open();
  await settle();
  expect(handler.openSessions).toBe(2);
  a.session.close(); // the socket closed
  b.session.receive("not json"); // a protocol error
  await settle();
  expect(b.closed?.code).toBe(1002);
  expect(handler.openSessions).toBe(0);
});
