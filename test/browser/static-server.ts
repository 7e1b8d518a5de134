// A tiny static server on 127.0.0.1 for pages the browser tests build in memory.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

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
