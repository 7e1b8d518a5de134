/**
 * The `db …` commands: create, list, show, destroy, config, tokens, shell, export, migrate and
 * migrations — named and flagged like turso's CLI.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { TenantliteError } from "../../errors.js";
import { assertValidName } from "../../platform/names.js";
import { bool, list, str, usageError } from "./args.js";
import type { Backend, DbView } from "./backend.js";
import {
  type Command,
  type CommandContext,
  confirm,
  JSON_FLAG,
  positional,
  TOKEN_FLAGS,
  tokenOptions,
  YES_FLAG,
} from "./command.js";
import { protectionAction, withProtectionHint } from "./delete-protection.js";
import { freshName } from "./generated-name.js";
import { withMigrationReport } from "./migration-report.js";
import { jsonText, quoteIdent, table } from "./output.js";
import type { ShellTarget } from "./shell.js";
import { looksLikeUrl, parseTargetUrl } from "./urls.js";

const ENCRYPTION_KEY = {
  type: "string",
  help: "<key> the database's encryption key (local mode)",
} as const;

const create: Command = {
  name: "db create",
  usage: "[name]",
  summary: "create a database",
  details:
    "Names: lowercase letters, digits and dashes, at most 64 characters; without one, a name such\nas brave-otter is made up (as turso does). A schema database (--type schema) owns the schema of\nits children (--schema <parent>); writing to it migrates them all.",
  flags: {
    group: { type: "string", help: "<group> group to create it in (default: default)" },
    type: { type: "string", help: "<type> 'schema' makes a schema (parent) database" },
    schema: { type: "string", help: "<parent> make a child of this schema database" },
    "from-db": { type: "string", help: "<name> start as a copy of this database" },
    "from-file": { type: "string", help: "<file.db> start from this SQLite file" },
    "enable-encryption": { type: "boolean", help: "encrypt at rest (local mode)" },
    "encryption-key": { type: "string", help: "<key> the key to encrypt with" },
    json: JSON_FLAG,
  },
  positionals: [0, 1],
  examples: [
    "tenantlite db create acme",
    "tenantlite db create",
    "tenantlite db create app-schema --type schema",
    "tenantlite db create tenant-1 --schema app-schema",
    "tenantlite db create restored --from-file backup.db",
  ],
  usesBackend: true,
  async run(ctx) {
    const a = ctx.args;
    const type = str(a, "type");
    if (type !== undefined && type !== "schema" && type !== "regular") {
      throw usageError(`--type takes "schema" (or "regular"), not ${JSON.stringify(type)}`);
    }
    const encrypt = bool(a, "enable-encryption");
    const key = str(a, "encryption-key");
    if (encrypt !== (key !== undefined)) {
      throw usageError("--enable-encryption and --encryption-key go together");
    }
    const sources = ["schema", "from-db", "from-file"].filter((f) => a.flags.has(f));
    if (sources.length > 1) {
      throw usageError(`--${sources[0]} and --${sources[1]} cannot be combined`);
    }
    const file = str(a, "from-file");
    const fromFile = file === undefined ? undefined : await readInput(file);
    const backend = await ctx.backend();
    const group = str(a, "group");
    const schema = str(a, "schema");
    const fromDb = str(a, "from-db");
    const name = a.positionals[0] ?? (await freshName((n) => exists(backend, n)));
    const db = await backend.createDatabase(name, {
      ...(group === undefined ? {} : { group }),
      ...(type === "schema" ? { schemaParent: true } : {}),
      ...(schema === undefined ? {} : { schema }),
      ...(fromDb === undefined ? {} : { fromDb }),
      ...(fromFile === undefined ? {} : { fromFile }),
      ...(key === undefined ? {} : { encryptionKey: key }),
    });
    printCreated(ctx, backend, db);
    return 0;
  },
};

function printCreated(ctx: CommandContext, backend: Backend, db: DbView): void {
  if (bool(ctx.args, "json")) {
    ctx.out(jsonText(db));
    return;
  }
  const kind = db.type === "schema" ? "schema database" : "database";
  const parent = db.parent === null ? "" : ` (child of ${db.parent})`;
  ctx.out(`Created ${kind} ${db.name} in group ${db.group}${parent}.\n`);
  ctx.out(`URL: ${backend.databaseUrl(db.name)}\n`);
}

/** Whether a database of that name exists. */
async function exists(backend: Backend, name: string): Promise<boolean> {
  try {
    await backend.getDatabase(name);
    return true;
  } catch (e) {
    if (e instanceof TenantliteError && e.code === "DATABASE_NOT_FOUND") return false;
    throw e;
  }
}

const importCmd: Command = {
  name: "db import",
  usage: "<file.db>",
  summary: "create a database from a SQLite file, named after the file",
  details:
    "As turso's db import: the name is the file's name without its extension (.db, .sqlite,\n.sqlite3, .sl3, .s3db, .db3), e.g. ./data/shop.db becomes shop. For another name use\ndb create <name> --from-file <file>.",
  flags: {
    group: { type: "string", help: "<group> group to create it in (default: default)" },
    json: JSON_FLAG,
  },
  positionals: [1, 1],
  examples: ["tenantlite db import ./shop.db", "tenantlite db import legacy.sqlite --group eu"],
  usesBackend: true,
  async run(ctx) {
    const file = positional(ctx, 0);
    const name = importedName(file);
    try {
      assertValidName(name, "database");
    } catch (e) {
      throw new TenantliteError(
        "NAME_INVALID",
        `the name taken from the file name, ${JSON.stringify(name.slice(0, 80))}, is not a valid database name (1 to 64 lowercase letters, digits and dashes): rename the file, or use tenantlite db create <name> --from-file <file>`,
        { cause: e },
      );
    }
    const bytes = await readInput(file);
    const backend = await ctx.backend();
    const group = str(ctx.args, "group");
    const db = await backend.createDatabase(name, {
      ...(group === undefined ? {} : { group }),
      fromFile: bytes,
    });
    printCreated(ctx, backend, db);
    return 0;
  },
};

/** turso's rule: the file's base name without a SQLite extension. */
export function importedName(file: string): string {
  const base = basename(file);
  const ext = [".db", ".sqlite", ".sqlite3", ".sl3", ".s3db", ".db3"].find((e) =>
    base.toLowerCase().endsWith(e),
  );
  return ext === undefined ? base : base.slice(0, base.length - ext.length);
}

async function readInput(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch {
    throw new TenantliteError("FILE_NOT_FOUND", `cannot read ${JSON.stringify(file)}`);
  }
}

const listCmd: Command = {
  name: "db list",
  usage: "",
  summary: "list databases",
  flags: {
    group: { type: "string", short: "g", help: "<group> only this group's databases" },
    schema: {
      type: "string",
      short: "s",
      help: "<parent> only the children of this schema database",
    },
    json: JSON_FLAG,
  },
  positionals: [0, 0],
  examples: ["tenantlite db list", "tenantlite db list --schema app-schema --json"],
  usesBackend: true,
  async run(ctx) {
    const group = str(ctx.args, "group");
    const schema = str(ctx.args, "schema");
    const backend = await ctx.backend();
    if (group !== undefined) await backend.getGroup(group);
    if (schema !== undefined) await backend.getDatabase(schema);
    const dbs = await backend.listDatabases({
      ...(group === undefined ? {} : { group }),
      ...(schema === undefined ? {} : { schema }),
    });
    if (bool(ctx.args, "json")) ctx.out(jsonText(dbs));
    else if (dbs.length === 0) ctx.out("No databases.\n");
    else {
      ctx.out(
        table(
          ["NAME", "TYPE", "SCHEMA", "GROUP", "URL"],
          dbs.map((d) => [d.name, d.type, d.parent ?? "-", d.group, backend.databaseUrl(d.name)]),
        ),
      );
    }
    return 0;
  },
};

const show: Command = {
  name: "db show",
  usage: "<name>",
  summary: "show a database",
  flags: {
    "show-url": {
      type: "boolean",
      help: "print only the URL @libsql/client takes (also: --url without a value)",
    },
    "http-url": { type: "boolean", help: "print only the HTTP URL" },
    json: JSON_FLAG,
  },
  positionals: [1, 1],
  examples: ["tenantlite db show acme", "tenantlite db show acme --url"],
  usesBackend: true,
  async run(ctx) {
    const backend = await ctx.backend();
    const db = await backend.getDatabase(positional(ctx, 0));
    const url = backend.databaseUrl(db.name);
    if (ctx.args.flags.get("show-url") === true || ctx.args.flags.get("http-url") === true) {
      ctx.out(`${url}\n`);
      return 0;
    }
    if (bool(ctx.args, "json")) {
      ctx.out(jsonText({ ...db, url }));
      return 0;
    }
    ctx.out(describe(db, url));
    return 0;
  },
};

function describe(db: DbView, url: string): string {
  const yn = (b: boolean | undefined) => (b === undefined ? "unknown" : b ? "yes" : "no");
  return table(undefined, [
    ["Name:", db.name],
    ["ID:", db.id],
    ["Type:", db.type],
    ["Schema:", db.parent ?? "-"],
    ["Group:", db.group],
    ["URL:", url],
    ["Encrypted:", yn(db.encrypted)],
    ["Allow attach:", yn(db.config.allow_attach)],
    ["Block reads:", yn(db.config.block_reads)],
    ["Block writes:", yn(db.config.block_writes)],
    ["Delete protection:", yn(db.config.delete_protection)],
  ]);
}

const destroy: Command = {
  name: "db destroy",
  usage: "<name>",
  summary: "delete a database and its data",
  flags: { yes: YES_FLAG },
  positionals: [1, 1],
  examples: ["tenantlite db destroy acme --yes"],
  usesBackend: true,
  async run(ctx) {
    const name = positional(ctx, 0);
    const backend = await ctx.backend();
    await backend.getDatabase(name);
    await confirm(ctx, `Destroy database ${name} and all its data?`, `destroying ${name}`);
    await backend.deleteDatabase(name).catch((e: unknown) => {
      throw withProtectionHint(e);
    });
    ctx.out(`Destroyed database ${name}.\n`);
    return 0;
  },
};

const configAttach: Command = {
  name: "db config attach",
  usage: "allow|disallow|show <db>",
  summary: "allow or disallow other databases' tokens to ATTACH this one",
  flags: {},
  positionals: [2, 2],
  examples: [
    "tenantlite db config attach allow shared-data",
    "tenantlite db config attach show shared-data",
  ],
  usesBackend: true,
  async run(ctx) {
    const action = positional(ctx, 0);
    const name = positional(ctx, 1);
    if (action !== "allow" && action !== "disallow" && action !== "show") {
      throw usageError(
        `db config attach takes allow, disallow or show, not ${JSON.stringify(action.slice(0, 40))}`,
      );
    }
    const backend = await ctx.backend();
    if (action === "show") {
      const db = await backend.getDatabase(name);
      ctx.out(`${db.config.allow_attach ? "on" : "off"}\n`);
      return 0;
    }
    await backend.getDatabase(name);
    await backend.updateConfig(name, { allow_attach: action === "allow" });
    ctx.out(`Attach ${action === "allow" ? "allowed" : "disallowed"} for ${name}.\n`);
    return 0;
  },
};

const configDeleteProtection: Command = {
  name: "db config delete-protection",
  usage: "enable|disable|show <db>",
  summary: "switch a database's delete protection (a protected database cannot be destroyed)",
  flags: {},
  positionals: [2, 2],
  examples: [
    "tenantlite db config delete-protection enable acme",
    "tenantlite db config delete-protection show acme",
  ],
  usesBackend: true,
  async run(ctx) {
    const action = protectionAction(ctx, "db config delete-protection");
    const name = positional(ctx, 1);
    const backend = await ctx.backend();
    const db = await backend.getDatabase(name);
    if (action === "show") {
      ctx.out(`Delete Protection ${db.config.delete_protection ? "on" : "off"}\n`);
      return 0;
    }
    await backend.updateConfig(name, { delete_protection: action === "enable" });
    ctx.out(`Delete protection ${action === "enable" ? "on" : "off"} for database ${name}.\n`);
    return 0;
  },
};

const tokensCreate: Command = {
  name: "db tokens create",
  usage: "<db>",
  summary: "mint a database token (JWT) for @libsql/client",
  flags: TOKEN_FLAGS,
  positionals: [1, 1],
  examples: [
    "tenantlite db tokens create acme --expiration 2w",
    "tenantlite db tokens create tenant-1 --attach shared-data",
  ],
  usesBackend: true,
  async run(ctx) {
    const backend = await ctx.backend();
    const o = tokenOptions(ctx);
    for (const n of o.attach) await backend.getDatabase(n);
    ctx.out(`${await backend.createDatabaseToken(positional(ctx, 0), o)}\n`);
    return 0;
  },
};

const tokensInvalidate: Command = {
  name: "db tokens invalidate",
  usage: "<db>",
  summary: "invalidate every token minted so far for a database",
  flags: { yes: YES_FLAG },
  positionals: [1, 1],
  examples: ["tenantlite db tokens invalidate acme --yes"],
  usesBackend: true,
  async run(ctx) {
    const name = positional(ctx, 0);
    const backend = await ctx.backend();
    await backend.getDatabase(name);
    await confirm(ctx, `Invalidate all tokens of ${name}?`, `invalidating the tokens of ${name}`);
    await backend.invalidateDatabaseTokens(name);
    ctx.out(`Invalidated all tokens of database ${name}.\n`);
    return 0;
  },
};

const shell: Command = {
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

const exportCmd: Command = {
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
    await writeFile(file, bytes);
    ctx.out(`Exported ${name} to ${file} (${bytes.byteLength} bytes).\n`);
    return 0;
  },
};

const inspect: Command = {
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

const migrate: Command = {
  name: "db migrate",
  usage: "<parent> <file.sql|SQL>",
  summary: "change a schema database and all its children, as one job",
  details:
    "All statements run as one migration job: every child and the parent change, or none does.\nShows a progress bar on a terminal (children done/total, failures), plain lines otherwise.",
  flags: {},
  positionals: [2, 2],
  examples: [
    'tenantlite db migrate app-schema "ALTER TABLE users ADD COLUMN plan TEXT"',
    "tenantlite db migrate app-schema migrations/002.sql",
  ],
  usesBackend: true,
  async run(ctx) {
    const parent = positional(ctx, 0);
    const source = positional(ctx, 1);
    const sql = existsSync(source) ? await readFile(source, "utf8") : source;
    const { splitStatements } = await import("../../../parser/index.js");
    const statements = splitStatements(sql).map((s) => s.sql);
    if (statements.length === 0) throw usageError("no SQL statements to migrate with");
    const backend = await ctx.backend();
    const db = await backend.getDatabase(parent);
    if (db.type !== "schema") {
      throw new TenantliteError("SCHEMA_INVALID", `database ${parent} is not a schema database`);
    }
    const session = await backend.openSession(parent, {});
    try {
      const { failed, jobs } = await withMigrationReport(
        backend,
        parent,
        { progress: ctx.io.stderr, summary: (l) => ctx.out(`${l}\n`) },
        () => session.batch(statements),
      );
      if (jobs.length === 0) ctx.out(`No migration was needed on ${parent}.\n`);
      return failed ? 1 : 0;
    } finally {
      await session.close();
    }
  },
};

const migrationsList: Command = {
  name: "db migrations list",
  usage: "<parent>",
  summary: "list a schema database's migration jobs",
  flags: { json: JSON_FLAG },
  positionals: [1, 1],
  examples: ["tenantlite db migrations list app-schema"],
  usesBackend: true,
  async run(ctx) {
    const jobs = await (await ctx.backend()).listMigrations(positional(ctx, 0));
    if (bool(ctx.args, "json")) ctx.out(jsonText(jobs));
    else if (jobs.length === 0) ctx.out("No migrations.\n");
    else
      ctx.out(
        table(
          ["JOB", "STATUS"],
          jobs.map((j) => [String(j.job_id), j.status]),
        ),
      );
    return 0;
  },
};

const migrationsShow: Command = {
  name: "db migrations show",
  usage: "<parent> <job>",
  summary: "show a migration job with the status of every child",
  flags: { json: JSON_FLAG },
  positionals: [2, 2],
  examples: ["tenantlite db migrations show app-schema 3"],
  usesBackend: true,
  async run(ctx) {
    const id = positional(ctx, 1);
    if (!/^\d{1,15}$/.test(id) || Number(id) < 1) {
      throw usageError(
        `the job id must be a positive number, not ${JSON.stringify(id.slice(0, 40))}`,
      );
    }
    const job = await (await ctx.backend()).getMigration(positional(ctx, 0), Number(id));
    if (bool(ctx.args, "json")) {
      ctx.out(jsonText(job));
      return 0;
    }
    ctx.out(`Job ${job.job_id}: ${job.status}${job.error ? ` (${job.error})` : ""}\n`);
    if (job.progress.length > 0) {
      ctx.out(
        table(
          ["CHILD", "STATUS", "ERROR"],
          job.progress.map((p) => [p.namespace, p.status, p.error ?? "-"]),
        ),
      );
    }
    return 0;
  },
};

/** Every `db` command. */
export const DB_COMMANDS: readonly Command[] = [
  create,
  listCmd,
  show,
  destroy,
  importCmd,
  configAttach,
  configDeleteProtection,
  inspect,
  tokensCreate,
  tokensInvalidate,
  shell,
  exportCmd,
  migrate,
  migrationsList,
  migrationsShow,
];
