/**
 * The `db …` commands — named and flagged like turso's CLI. Here: create, import, list, show,
 * destroy, config and tokens; shell, export and inspect are in db-data-commands.ts, migrate and
 * migrations in db-migrate-commands.ts. {@link DB_COMMANDS} lists them all, in help order.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { TenantliteError } from "../../errors.js";
import { assertValidName } from "../../platform/names.js";
import { bool, str, usageError } from "./args.js";
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
import { exportCmd, inspect, shell } from "./db-data-commands.js";
import { migrate, migrationsList, migrationsShow } from "./db-migrate-commands.js";
import { protectionAction, withProtectionHint } from "./delete-protection.js";
import { freshName } from "./generated-name.js";
import { jsonText, table } from "./output.js";

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
