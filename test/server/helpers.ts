import { connect } from "node:net";
import { createClient as createApiClient } from "@tursodatabase/api";
import { type RunningServer, type StartServerOptions, startServer } from "../../src/node/server.js";

/** A memory-backed server on a free port, with a Platform API client pointed at it. */
export async function startTestServer(options: StartServerOptions = {}) {
  const server: RunningServer = await startServer({ port: 0, memory: true, ...options });
  const api = createApiClient({
    org: "local",
    token: server.apiToken ?? "unused",
    baseUrl: `${server.url}/v1/`,
  });
  return { server, api };
}

/**
 * The clients' server: auth on, and group `tenants` holding `acme` and `globex` (what the
 * `@libsql/client`, `@tursodatabase/api` and token-rotation files start from).
 */
export async function startTenantsServer() {
  const started = await startTestServer({ auth: true });
  await started.api.groups.create("tenants", "local" as never);
  await started.api.databases.create("acme", { group: "tenants" });
  await started.api.databases.create("globex", { group: "tenants" });
  return started;
}

/** Sends one Hrana pipeline with plain fetch. */
export async function pipeline(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected field by field in tests
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/**
 * Sends raw bytes to the server on `port`; resolves with what came back once the server closed
 * the connection or `ms` passed (`endWrite`: half-close after writing).
 */
export function rawExchange(
  port: number,
  payload: string,
  options: { ms?: number; endWrite?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, options.ms ?? 3000);
    socket.on("data", (d) => {
      out += d.toString();
    });
    socket.on("close", done);
    socket.on("error", done);
    socket.write(payload);
    if (options.endWrite === true) socket.end();
  });
}
