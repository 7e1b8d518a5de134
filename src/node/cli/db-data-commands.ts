/**
 * The `db …` commands that reach into a database's data: shell (SQL, interactive or not, by name
 * or by URL), export and inspect — named and flagged like turso's CLI.
 */
import { existsSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { TenantliteError } from "../../errors.js";
import { bool, list, str, usageError } from "./args.js";
import { type Command, ENCRYPTION_KEY, JSON_FLAG, positional } from "./command.js";
import { jsonText, quoteIdent, table } from "./output.js";
import type { ShellTarget } from "./shell.js";
import { looksLikeUrl, parseTargetUrl } from "./urls.js";

export const shell: Command = {
  name: "db shell",
  usage: "<db|url> [SQL]",
  summary: "run SQL, or an interactive shell (.help lists its dot commands)",
  details:
    "With SQL (or piped input) it runs it and exits; on a terminal it is a REPL: statements end\nwith ';', history, .tables .schema .indexes .mode .headers .read .dump .timer .quit.\nWriting to a schema database migrates its children (progress is shown). Instead of a name,\na database URL works as with turso: http://127.0.0.1:8080/dev/acme/, libsql://…?tls=0,\nws://…, with a token as ?authToken=… (no migration progress then).",
  flags: {
    attach: {
      type: "string",
      help: "<a,b> mint a token that may ATTACH these databases; ATTACH lasts for the session",
    },
    "encryption-key": ENCRYPTION_KEY,
  },
  positionals: [1, 2],
  examples: [
    'tenantlite db shell acme "SELECT * FROM users"',
    "tenantlite db shell acme < dump.sql",
    "tenantlite db shell tenant-1 --attach shared-data",
    'tenantlite db shell http://127.0.0.1:8080/dev/acme/ "SELECT 1"',
  ],
  usesBackend: true,
  async run(ctx) {
    const { runShell, backendTarget } = await import("./shell.js");
    const sql = ctx.args.positionals[1];
    const key = str(ctx.args, "encryption-key");
    const attach = list(ctx.args, "attach");
    const first = positional(ctx, 0);
    let target: ShellTarget;
    if (looksLikeUrl(first)) {
      for (const flag of ["url", "attach", "encryption-key", "data-dir", "token"]) {
        if (ctx.args.flags.has(flag)) {
          throw usageError(
            `--${flag} goes with a database name; with a database URL the URL says it all (a token as ?authToken=…)`,
          );
        }
      }
      target = urlTarget(first);
    } else {
      target = await backendTarget(await ctx.backend(), first, {
        attach,
        ...(key === undefined ? {} : { encryptionKey: key }),
      });
    }
    return runShell(
      target,
      {
        ...(sql === undefined ? {} : { sql }),
        interactive: ctx.io.stdin.isTTY === true,
        ...(process.env.TENANTLITE_HISTORY_FILE
          ? { historyFile: process.env.TENANTLITE_HISTORY_FILE }
          : {}),
      },
      ctx.io,
    );
  },
};

/**
 * A database given by URL, as turso's `db shell <url>` takes it: `http://127.0.0.1:8080/dev/acme/`,
 * `http://acme.localhost:8080`, `libsql://…?tls=0`, `ws://…`, a token as `?authToken=`. The
 * shell talks Hrana to it directly (no Platform API), so schema migrations show no progress.
 */
function urlTarget(input: string): ShellTarget {
  const { url, authToken } = parseTargetUrl(input, "the database URL");
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  const dev = /^\/dev\/([^/]+)\//.exec(url.pathname);
  const hostLabel = /^([a-z0-9-]+)\.localhost$/i.exec(url.hostname);
  if (dev === null && hostLabel !== null && url.pathname === "/") {
    // `<db>.localhost` names rarely resolve outside browsers: the same database by its path.
    url.hostname = "127.0.0.1";
    url.pathname = `/dev/${hostLabel[1]!.toLowerCase()}/`;
  }
  const name = dev !== null ? decodeURIComponent(dev[1]!) : (hostLabel?.[1] ?? url.host);
  return {
    name,
    where: `${url.origin}${url.pathname}`,
    openSession: async (interactive) => {
      const { openHttpSession, openWsSession } = await import("./hrana-client.js");
      const o = { url: url.href, jwt: authToken };
      return interactive ? openWsSession(o) : openHttpSession(o);
    },
  };
}

export const exportCmd: Command = {
  name: "db export",
  usage: "<db>",
  summary: "write a database to a SQLite file",
  flags: {
    "output-file": { type: "string", help: "<file.db> where to write (default <db>.db)" },
    output: { type: "string", short: "o", help: "<file.db> the same as --output-file" },
    overwrite: { type: "boolean", help: "replace the file if it exists" },
    "encryption-key": ENCRYPTION_KEY,
  },
  positionals: [1, 1],
  examples: ["tenantlite db export acme --output-file acme-backup.db"],
  usesBackend: true,
  async run(ctx) {
    const name = positional(ctx, 0);
    if (ctx.args.flags.has("output-file") && ctx.args.flags.has("output")) {
      throw usageError("--output-file and --output are the same flag: give one");
    }
    const file = str(ctx.args, "output-file") ?? str(ctx.args, "output") ?? `${name}.db`;
    if (existsSync(file) && !bool(ctx.args, "overwrite")) {
      throw new TenantliteError(
        "FILE_EXISTS",
        `${JSON.stringify(file)} already exists; pass --overwrite to replace it`,
      );
    }
    const backend = await ctx.backend();
    const bytes = await backend.exportDatabase(name, str(ctx.args, "encryption-key"));
    await writeWhole(file, bytes);
    ctx.out(`Exported ${name} to ${file} (${bytes.byteLength} bytes).\n`);
    return 0;
  },
};

export const inspect: Command = {
  name: "db inspect",
  usage: "<db>",
  summary: "show a database's size and how many tables and indexes it has",
  details:
    "Total space used is the size of its SQLite file (what db export writes). turso also prints\nrows read and written; tenantlite does not count them. --verbose lists every table, view and\nindex, with each table's row count.",
  flags: {
    verbose: { type: "boolean", help: "list tables (with row counts), views and indexes" },
    json: JSON_FLAG,
    "encryption-key": ENCRYPTION_KEY,
  },
  positionals: [1, 1],
  examples: ["tenantlite db inspect acme", "tenantlite db inspect acme --verbose"],
  usesBackend: true,
  async run(ctx) {
    const name = positional(ctx, 0);
    const key = str(ctx.args, "encryption-key");
    const backend = await ctx.backend();
    await backend.getDatabase(name);
    const bytes = await backend.databaseSize(name, key);
    const session = await backend.openSession(
      name,
      key === undefined ? {} : { encryptionKey: key },
    );
    const objects: { name: string; type: string; rows: bigint | null }[] = [];
    try {
      const r = await session.execute(
        "SELECT name, type FROM sqlite_schema WHERE type IN ('table','view','index') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'view' THEN 1 ELSE 2 END, name",
      );
      for (const [n, type] of r.rows) {
        let rows: bigint | null = null;
        if (type === "table" && bool(ctx.args, "verbose")) {
          const c = await session.execute(`SELECT count(*) FROM ${quoteIdent(String(n))}`);
          rows = BigInt(c.rows[0]?.[0] as bigint | number);
        }
        objects.push({ name: String(n), type: String(type), rows });
      }
    } finally {
      await session.close();
    }
    const count = (t: string) => objects.filter((o) => o.type === t).length;
    if (bool(ctx.args, "json")) {
      ctx.out(
        jsonText({
          name,
          storage_bytes: bytes,
          tables: count("table"),
          views: count("view"),
          indexes: count("index"),
          ...(bool(ctx.args, "verbose") ? { objects } : {}),
        }),
      );
      return 0;
    }
    ctx.out(`Total space used: ${humanBytes(bytes)}\n`);
    ctx.out(`Tables: ${count("table")}\nViews: ${count("view")}\nIndexes: ${count("index")}\n`);
    if (bool(ctx.args, "verbose") && objects.length > 0) {
      ctx.out(
        `\n${table(
          ["NAME", "TYPE", "ROWS"],
          objects.map((o) => [o.name, o.type, o.rows === null ? "-" : String(o.rows)]),
        )}`,
      );
    }
    return 0;
  },
};

/**
 * Bytes in SI units as turso prints them (go-humanize): "512 B", "8.2 kB", "12 MB".
 * @example humanBytes(8192) // "8.2 kB"
 */
export function humanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  const e = Math.min(Math.floor(Math.log10(n) / 3), units.length - 1);
  const v = Math.round((n / 1000 ** e) * 10) / 10;
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[e]}`;
}

/**
 * Writes `file` whole or not at all: a temp file beside it, renamed over it once written, so a
 * full disk never leaves half a database — nor destroys the file `--overwrite` was replacing.
 */
async function writeWhole(file: string, bytes: Uint8Array): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(temp, bytes, { flag: "wx" });
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    const code = String((e as { code?: unknown }).code ?? "");
    const why =
      code === "ENOENT" || code === "ENOTDIR"
        ? "the directory it goes in does not exist"
        : code === "EACCES" || code === "EPERM" || code === "EROFS"
          ? "its directory cannot be written"
          : /^E[A-Z]+$/.test(code)
            ? `${code}: check that its directory has free space`
            : "check that its directory is writable and has free space";
    throw new TenantliteError(
      "FILE_WRITE_FAILED",
      `could not write the output file (${why}); give another --output-file, or make room; nothing was written`,
      { cause: e },
    );
  }
}
