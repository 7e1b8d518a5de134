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
