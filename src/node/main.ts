/**
 * `npm start` / `tenantlite [dev]`: starts the server (Hrana over HTTP and WebSocket, the Platform
 * API) on 127.0.0.1:8080 with filesystem storage, and prints the URLs both clients need.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { startServer } from "./server.js";

const HELP = `Usage: tenantlite [dev] [options]

Options:
  --port <n>        TCP port (default 8080; 0 = any free port)
  --host <addr>     address to bind (default 127.0.0.1; non-loopback needs --auth)
  --data-dir <dir>  where databases are stored (env TENANTLITE_DATA_DIR; default ~/.tenantlite/data)
  --memory          keep everything in memory (no files)
  --auth            require JWTs and a Platform API token (off by default, like turso dev)
  --api-token <t>   Platform API token (env TENANTLITE_API_TOKEN; generated when --auth is on)
  --help            show this help
`;

interface Args {
  port: number;
  host: string;
  dataDir: string;
  memory: boolean;
  auth: boolean;
  apiToken: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    port: 8080,
    host: "127.0.0.1",
    dataDir: process.env.TENANTLITE_DATA_DIR || join(homedir(), ".tenantlite", "data"),
    memory: false,
    auth: false,
    apiToken: process.env.TENANTLITE_API_TOKEN || undefined,
  };
  const rest = [...argv];
  if (rest[0] === "dev") rest.shift();
  while (rest.length > 0) {
    const flag = rest.shift()!;
    const [name, inline] =
      flag.startsWith("--") && flag.includes("=") ? flag.split(/=(.*)/s) : [flag];
    const value = (): string => {
      const v = inline ?? rest.shift();
      if (v === undefined || v === "") throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--port": {
        const v = value();
        const port = Number(v);
        if (!/^\d+$/.test(v) || port > 65535) throw new Error("--port must be 0 to 65535");
        args.port = port;
        break;
      }
      case "--host":
        args.host = value();
        break;
      case "--data-dir":
        args.dataDir = value();
        break;
      case "--memory":
        args.memory = true;
        break;
      case "--auth":
        args.auth = true;
        break;
      case "--api-token":
        args.apiToken = value();
        break;
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(name)}; see --help`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`tenantlite: ${(e as Error).message}`);
    process.exit(2);
  }
  const server = await startServer({
    port: args.port,
    host: args.host,
    ...(args.memory ? { memory: true } : { dataDir: args.dataDir }),
    auth: args.auth,
    ...(args.apiToken === undefined ? {} : { apiToken: args.apiToken }),
  });
  const base = server.url;
  const lines = [
    `tenantlite listening on ${base}`,
    `  storage:      ${args.memory ? "memory (nothing is saved)" : args.dataDir}`,
    `  auth:         ${args.auth ? "on (database JWTs and the API token are required)" : "off (no tokens needed)"}`,
    "",
    "  @libsql/client (database <db>; create it first):",
    `    createClient({ url: "${base}/dev/<db>/" })      (trailing slash required)`,
    `    createClient({ url: "${server.wsUrl}/dev/<db>/" })`,
    `    or http://<db>.localhost:${server.port}`,
    "",
    "  @tursodatabase/api:",
    `    createClient({ org: "local", token: <api token>, baseUrl: "${base}/v1/" })`,
  ];
  if (server.apiToken !== undefined) lines.push(`  API token:    ${server.apiToken}`);
  else lines.push('  API token:    any string (auth is off), e.g. token: "local"');
  console.log(lines.join("\n"));
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(`tenantlite: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
