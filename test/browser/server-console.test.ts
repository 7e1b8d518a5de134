// The Node server serves the built console at / to browsers and leaves every other route alone:
// Hrana's GET /, /v2, /dev/<db>/…, the Platform API and WebSocket upgrades on /.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("console served by the Node server", () => {
  let server: RunningServer;
  const tempDir = useTempDirs("tenantlite-web-", { scope: "file" });
  let dist: string;

  beforeAll(async () => {
    // Each test file builds its own copy: parallel builds into web/dist would race.
    dist = tempDir();
    execFileSync(process.execPath, ["scripts/build-web.mjs", "--quiet", "--out", dist], {
      cwd: root,
    });
    server = await startServer({ port: 0, memory: true, consoleDir: dist });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers a browser's GET / with the console page", async () => {
    const res = await fetch(`${server.url}/`, { headers: { accept: "text/html,*/*;q=0.8" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/<title>tenantlite console<\/title>/);
    const page = await fetch(`${server.url}/index.html`);
    expect(page.status).toBe(200);
  });

  it("serves the assets with their types, the WASM as application/wasm", async () => {
    const types: Record<string, RegExp> = {
      "/app.js": /^text\/javascript/,
      "/app.css": /^text\/css/,
      "/sw.js": /^text\/javascript/,
      "/sql-wasm-browser.wasm": /^application\/wasm$/,
      "/icon.svg": /^image\/svg\+xml/,
    };
    for (const [path, type] of Object.entries(types)) {
      const res = await fetch(`${server.url}${path}?v=1`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toMatch(type);
      await res.arrayBuffer();
    }
    const head = await fetch(`${server.url}/app.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("keeps Hrana's GET / text, /v2, /health and unknown files as before", async () => {
    const plain = await fetch(`${server.url}/`);
    expect(await plain.text()).toMatch(/Hrana over HTTP/);
    expect(await (await fetch(`${server.url}/v2`)).text()).toMatch(/HTTP API v2/);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/nope.js`)).status).not.toBe(200);
    const post = await fetch(`${server.url}/app.js`, { method: "POST", body: "{}" });
    expect(post.headers.get("content-type") ?? "").not.toMatch(/javascript/);
  });

  it("keeps the Platform API and Hrana over HTTP and WebSocket working", async () => {
    const created = await fetch(`${server.url}/v1/organizations/local/databases`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "served", group: "default" }),
    });
    expect(created.status).toBe(200);
    const http = createClient({ url: `${server.url}/dev/served/` });
    await http.execute("CREATE TABLE t (x)");
    await http.execute("INSERT INTO t VALUES (42)");
    http.close();

    const ws = new WebSocket(`${server.wsUrl}/dev/served/`, ["hrana2"]);
    const replies: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("error", reject);
      ws.on("open", () => {
        ws.send(JSON.stringify({ type: "hello", jwt: null }));
        ws.send(
          JSON.stringify({
            type: "request",
            request_id: 1,
            request: { type: "open_stream", stream_id: 1 },
          }),
        );
        ws.send(
          JSON.stringify({
            type: "request",
            request_id: 2,
            request: {
              type: "execute",
              stream_id: 1,
              stmt: { sql: "SELECT x FROM t", want_rows: true },
            },
          }),
        );
      });
      ws.on("message", (data) => {
        replies.push(JSON.parse(String(data)));
        if (replies.length === 3) resolve();
      });
    });
    ws.close();
    expect(JSON.stringify(replies)).toMatch(/"value":"42"/);
  });
});
