// A tiny static server on 127.0.0.1 for pages the browser tests build in memory.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { newTempDir } from "../temp-dir.js";

export interface StaticServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `files` (path → body and content type) on 127.0.0.1 at a free port. */
export async function serveStatic(
  files: Map<string, { body: string | Uint8Array; type: string }>,
): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const file = files.get((req.url ?? "/").split("?")[0]!);
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file.type, "cache-control": "no-store" });
    res.end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const TYPES: Record<string, string> = {
  html: "text/html",
  js: "text/javascript",
  css: "text/css",
  wasm: "application/wasm",
  svg: "image/svg+xml",
};

/** The files of directory `dir` as {@link serveStatic} takes them, `/` serving `index.html`. */
export function filesOf(dir: string): Map<string, { body: string | Uint8Array; type: string }> {
  const files = new Map<string, { body: string | Uint8Array; type: string }>(
    readdirSync(dir).map((f) => [
      `/${f}`,
      { body: readFileSync(join(dir, f)), type: TYPES[f.split(".").pop()!] ?? "text/plain" },
    ]),
  );
  const index = files.get("/index.html");
  if (index !== undefined) files.set("/", index);
  return files;
}

/** Builds the console (`scripts/build-web.mjs`) into a new temp directory, which it returns. */
export function buildConsole(root: string, label: string): string {
  const dist = newTempDir(`tenantlite-web-${label}-`);
  execFileSync(process.execPath, ["scripts/build-web.mjs", "--quiet", "--out", dist], {
    cwd: root,
  });
  return dist;
}
