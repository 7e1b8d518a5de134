import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient, type Client as LibsqlClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { createPlatform, FsStorage, type Platform } from "../../src/node/index.js";
import { useTempDirs } from "../helpers.js";
import { type AnyClient, steps, type Target } from "./foreign-keys.scenario.js";

/**
 * libSQL's defaults (Turso builds libSQL with SQLITE_DEFAULT_FOREIGN_KEYS=1): foreign keys are on
 * for every connection. The scenario of `foreign-keys.scenario.ts` through tenantlite's
 * in-process client (memory storage and a data directory) and through @libsql/client on native
 * libSQL (`:memory:` and a `file:` URL) gives equal results, step by step.
 */

const tempDir = useTempDirs("tl-fk-");

/** tenantlite, on memory storage or in a data directory. */
async function tenantlite(kind: "memory" | "data dir"): Promise<Target & { end(): Promise<void> }> {
  const dir = kind === "data dir" ? tempDir() : undefined;
  const storage = dir === undefined ? undefined : await FsStorage.open(dir);
  const open = () => createPlatform(storage === undefined ? {} : { storage });
  let platform: Platform = await open();
  await platform.createDatabase("fk");
  let fresh = 0;
  const target = {
    client: platform.client("fk") as unknown as AnyClient,
    async fresh() {
      const name = `fresh-${++fresh}`;
      await platform.createDatabase(name);
      return platform.client(name) as unknown as AnyClient;
    },
    async reopen() {
      // A data directory is reopened by a new platform; memory storage can only give a new client.
      if (storage !== undefined) {
        await platform.close();
        platform = await open();
      }
      target.client = platform.client("fk") as unknown as AnyClient;
    },
    async end() {
      await platform.close();
      await storage?.close();
    },
  };
  return target;
}

/** @libsql/client on native libSQL, `:memory:` or a file in a temporary directory. */
async function libsql(kind: ":memory:" | "file"): Promise<Target & { end(): Promise<void> }> {
  const dir = tempDir("libsql-fk-");
  const url = (name: string) =>
    kind === ":memory:" ? ":memory:" : pathToFileURL(join(dir, name)).href;
  const clients: LibsqlClient[] = [];
  const connect = (name: string) => {
    const c = createClient({ url: url(name) });
    clients.push(c);
    return c;
  };
  let fresh = 0;
  const target = {
    client: connect("fk.db") as AnyClient,
    async fresh() {
      return connect(`fresh-${++fresh}.db`);
    },
    async reopen() {
      // A file is reopened by a new client; an in-memory database lives only in its client.
      if (kind === "file") {
        clients[0]?.close();
        clients[0] = createClient({ url: url("fk.db") });
        target.client = clients[0];
      }
    },
    async end() {
      for (const c of clients) c.close();
    },
  };
  return target;
}

describe.each([
  ["memory", ":memory:"],
  ["memory", "file"],
  ["data dir", ":memory:"],
  ["data dir", "file"],
] as const)("foreign keys: tenantlite (%s) vs @libsql/client (%s)", (ours, theirs) => {
  it("every step matches", async () => {
    const a = await tenantlite(ours);
    const b = await libsql(theirs);
    const mismatches: string[] = [];
    try {
      for (const step of steps) {
        const x = await step.run(a);
        const y = await step.run(b);
        try {
          expect(x).toEqual(y);
        } catch {
          mismatches.push(
            `${step.name}\n  ours:   ${JSON.stringify(x)}\n  libsql: ${JSON.stringify(y)}`,
          );
        }
      }
    } finally {
      await a.end();
      await b.end();
    }
    expect(mismatches.join("\n")).toBe("");
  });
});
