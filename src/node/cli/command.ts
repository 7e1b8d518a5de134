/**
 * What a CLI command is: its name, usage, flags, an example (all shown by `--help`) and the
 * function that runs it with a {@link CommandContext}.
 */
import { createInterface } from "node:readline";
import { TenantliteError } from "../../errors.js";
import { bool, type FlagSpec, list, type ParsedArgs, str } from "./args.js";
import type { Backend } from "./backend.js";
import type { DataDir } from "./data-dir.js";
import type { CliIo } from "./io.js";

/** What a running command gets. */
export interface CommandContext {
  readonly args: ParsedArgs;
  readonly io: CliIo;
  /** The local or remote backend chosen by `--url` / `--data-dir` (opened on first use). */
  backend(): Promise<Backend>;
  /** Writes to stdout. */
  out(text: string): void;
  /** The data directory (`--data-dir`, env, default), for local mode and `dev`. */
  readonly dataDir: DataDir;
}

/** One command, e.g. `db create`. */
export interface Command {
  /** Words that select it, e.g. `db create`. */
  readonly name: string;
  /** Positionals as shown in usage, e.g. `<name>`. */
  readonly usage: string;
  readonly summary: string;
  /** Longer help text (optional). */
  readonly details?: string;
  readonly flags: Record<string, FlagSpec>;
  /** Least and most positionals. */
  readonly positionals: readonly [number, number];
  readonly examples: readonly string[];
  /** Whether the command works on databases (gets `--url`, `--token`, `--data-dir`). */
  readonly usesBackend: boolean;
  run(ctx: CommandContext): Promise<number | undefined>;
}

/** Flags every database command takes. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  "data-dir": {
    type: "string",
    help: "<dir> local data directory (env TENANTLITE_DATA_DIR; default ~/.tenantlite/data)",
  },
  url: {
    type: "string",
    help: "<url> work on a server instead (env TENANTLITE_URL), e.g. http://127.0.0.1:8080",
  },
  token: {
    type: "string",
    help: "<token> Platform API token for --url (env TENANTLITE_API_TOKEN)",
  },
};

/** The flag that turns tables into JSON. */
export const JSON_FLAG: FlagSpec = { type: "boolean", help: "print JSON instead of a table" };

/** `--encryption-key`: a database's encryption key, for the commands that open one locally. */
export const ENCRYPTION_KEY = {
  type: "string",
  help: "<key> the database's encryption key (local mode)",
} as const;

/** `--yes`: destroy or invalidate without asking (see {@link confirm}). */
export const YES_FLAG = {
  type: "boolean",
  short: "y",
  help: "do not ask for confirmation",
} as const;

/** The command's `i`-th positional (its declared count guarantees there is one). */
export const positional = (ctx: CommandContext, i: number): string => ctx.args.positionals[i]!;

/** The flags of the commands that mint tokens (`db tokens create`, `group tokens create`). */
export const TOKEN_FLAGS = {
  expiration: {
    type: "string",
    short: "e",
    help: "<when> 'never' (default) or a duration such as 2w, 7d, 1h30m",
  },
  "read-only": { type: "boolean", short: "r", help: "the token can only read" },
  attach: { type: "string", help: "<a,b> databases the token may ATTACH (read-only)" },
} as const;

/** The token options {@link TOKEN_FLAGS} give. */
export function tokenOptions(ctx: CommandContext) {
  const expiration = str(ctx.args, "expiration");
  return {
    ...(expiration === undefined ? {} : { expiration }),
    readOnly: bool(ctx.args, "read-only"),
    attach: list(ctx.args, "attach"),
  };
}

/**
 * Asks before destroying something: `--yes` skips the question; without a terminal the command
 * refuses (so scripts never hang on a prompt).
 */
export async function confirm(ctx: CommandContext, question: string, what: string): Promise<void> {
  if (ctx.args.flags.get("yes") === true) return;
  if (!ctx.io.stdin.isTTY) {
    throw new TenantliteError(
      "CONFIRMATION_REQUIRED",
      `${what} needs confirmation: pass --yes to do it without a prompt`,
    );
  }
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: true });
  const answer = await new Promise<string>((resolve) => {
    rl.question(`${question} [y/N] `, resolve);
    rl.once("close", () => resolve(""));
  });
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) {
    throw new TenantliteError("CANCELLED", `${what} was cancelled`);
  }
}
