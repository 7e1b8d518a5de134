/**
 * `tenantlite dev` (also `tenantlite` alone, and `npm start`): the server — Hrana over HTTP and
 * WebSocket plus the Platform API — on 127.0.0.1:8080 with filesystem storage.
 */
import { availableParallelism } from "node:os";
import { TenantliteError } from "../../errors.js";
import { str, usageError } from "./args.js";
import type { Command } from "./command.js";
import { checkDataDir, dataDirError } from "./data-dir.js";

/** The `dev` command. */
export const DEV_COMMAND: Command = {
  name: "dev",
  usage: "",
  summary: "start the server (the default command)",
  details: "Serves @libsql/client (HTTP and WebSocket) and @tursodatabase/api until Ctrl-C.",
  flags: {
    port: { type: "string", help: "<n> TCP port (default 8080; 0 = any free port)" },
    host: {
      type: "string",
      help: "<addr> address to bind (default 127.0.0.1; non-loopback needs --auth)",
    },
    "data-dir": {
      type: "string",
      help: "<dir> where databases are stored (env TENANTLITE_DATA_DIR; default ~/.tenantlite/data)",
    },
    memory: { type: "boolean", help: "keep everything in memory (no files)" },
    "db-file": {
      type: "string",
      help: "<file> serve this SQLite file at the root URL (created when missing); other databases stay in memory",
    },
    auth: {
      type: "boolean",
      help: "require JWTs and a Platform API token (off by default, like turso dev)",
    },
    "api-token": {
      type: "string",
      help: "<t> Platform API token (env TENANTLITE_API_TOKEN; generated when --auth is on)",
    },
    workers: {
      type: "string",
      help: "<n> tenant threads, each with its own sql.js (default: the machine's cores; 0 = all tenants on the server's thread)",
    },
    "max-query-ms": {
      type: "string",
      help: "<ms> stop a statement running longer with QUERY_TIMEOUT (default 30000; 0 = no limit; needs workers)",
    },
  },
  positionals: [0, 0],
  examples: [
    "tenantlite dev",
    "tenantlite dev --port 0 --memory",
    "tenantlite dev --workers 4 --max-query-ms 10000",
    "npm start -- --auth",
  ],
  usesBackend: false,
  async run(ctx) {
    const a = ctx.args;
    let port = 8080;
    const p = str(a, "port");
    if (p !== undefined) {
      if (!/^\d+$/.test(p) || Number(p) > 65535) throw usageError("--port must be 0 to 65535");
      port = Number(p);
    }
    const workers = count(str(a, "workers"), "--workers", 64);
    const maxQueryMs = count(str(a, "max-query-ms"), "--max-query-ms", 24 * 3600 * 1000);
    if (workers === 0 && maxQueryMs !== undefined && maxQueryMs > 0) {
      throw usageError(
        "--max-query-ms needs tenant threads (a statement is stopped by ending its thread): leave out --workers 0",
      );
    }
    const memory = a.flags.get("memory") === true;
    const dbFile = str(a, "db-file");
    if (dbFile !== undefined && (memory || a.flags.has("data-dir"))) {
      throw usageError(
        "--db-file keeps other databases in memory: leave out --data-dir and --memory",
      );
    }
    if (memory && a.flags.has("data-dir")) {
      // Not one silently ignored: whoever gave a directory expects the data to be kept there.
      throw usageError(
        "--memory keeps nothing on disk and --data-dir keeps everything there: give one of them",
      );
    }
    const auth = a.flags.get("auth") === true;
    const apiToken = str(a, "api-token") ?? (process.env.TENANTLITE_API_TOKEN || undefined);
    const inMemory = memory || dbFile !== undefined;
    if (!inMemory) checkDataDir(ctx.dataDir);
    const host = str(a, "host") ?? "127.0.0.1";
    const { startServer } = await import("../server.js");
    const server = await startServer({
      port,
      host,
      ...(dbFile !== undefined
        ? { dbFile }
        : memory
          ? { memory: true }
          : { dataDir: ctx.dataDir.path, dataDirDescribedAs: ctx.dataDir.what }),
      auth,
      ...(apiToken === undefined ? {} : { apiToken }),
      ...(workers === undefined ? {} : { workers }),
      ...(maxQueryMs === undefined ? {} : { maxQueryMs }),
      // The upstream @libsql/client suite's network-error hooks (scripts/upstream-client-suite.mjs).
      hranaTestHooks: process.env.TENANTLITE_HRANA_TEST_HOOKS === "1",
    }).catch((e: unknown) => {
      if (e instanceof TenantliteError && e.code === "PORT_IN_USE") {
        throw new TenantliteError(
          "PORT_IN_USE",
          `port ${port} is in use on ${host}; stop the other server or pass --port <n> (0 picks a free one)`,
          { cause: e },
        );
      }
      throw (inMemory ? undefined : dataDirError(ctx.dataDir, e)) ?? e;
    });
    const base = server.url;
    // A command without flags uses the same data directory, finds the server holding it and
    // talks to it; otherwise (memory, --data-dir) it needs the URL.
    const findsServer = !inMemory && !a.flags.has("data-dir");
    const target = findsServer ? "" : ` --url ${base}${auth ? " --token <API token>" : ""}`;
    const lines = [
      `tenantlite listening on ${base}`,
      ...((await servesConsole(base)) ? [`  console:      ${base}/  (open it in a browser)`] : []),
      `  storage:      ${dbFile !== undefined ? `${dbFile} at the root URL; other databases in memory (not saved)` : memory ? "memory (nothing is saved)" : ctx.dataDir.path}`,
      `  tenants:      ${workers === 0 ? "on the server's own thread (--workers 0): a long statement holds every tenant" : `on ${workers ?? availableParallelism()} threads; a statement is stopped after ${maxQueryMs === 0 ? "no limit (--max-query-ms 0)" : `${maxQueryMs ?? 30000} ms`}`}`,
      `  auth:         ${auth ? "on (database JWTs and the API token are required)" : "off (no tokens needed)"}`,
      "",
      `  @libsql/client, database "${server.rootDatabase ?? "default"}" (as with turso dev):`,
      `    createClient({ url: "${base}" })   or "${server.wsUrl}", "libsql://127.0.0.1:${server.port}?tls=0"`,
      "  any other database <db> (create it first):",
      `    createClient({ url: "${base}/dev/<db>/" })      (trailing slash required)`,
      "",
      "  @tursodatabase/api:",
      `    createClient({ org: "local", token: <api token>, baseUrl: "${base}/v1/" })`,
      "",
      `  tenantlite CLI (in another terminal; \`tenantlite …\` once installed):`,
      `    npx tenantlite db create acme${target}`,
      `    npx tenantlite db list${target}`,
      `    npx tenantlite db shell acme${target}`,
    ];
    // The server's own token is shown once, at start, on purpose: it is how the user gets it.
    if (server.apiToken !== undefined) lines.push(`  API token:    ${server.apiToken}`);
    else lines.push('  API token:    any string (auth is off), e.g. token: "local"');
    ctx.out(`${lines.join("\n")}\n`);
    return new Promise<number>((resolve) => {
      const stop = () => {
        server.close().then(
          () => resolve(0),
          () => resolve(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
};

/** Whether the server answers a browser at `/` with the console (it is served once built). */
async function servesConsole(base: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/`, { method: "HEAD", headers: { accept: "text/html" } });
    return res.ok && (res.headers.get("content-type") ?? "").startsWith("text/html");
  } catch {
    return false;
  }
}

/** A whole number flag from 0 to `max`, or undefined when not given. */
function count(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) > max) {
    throw usageError(`${flag} must be a whole number from 0 to ${max}`);
  }
  return Number(value);
}
