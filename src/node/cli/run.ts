/**
 * The `tenantlite` command line: picks the command from the leading words, parses its flags,
 * opens the local or remote backend, runs it, and turns any failure into ONE stderr line
 * `error: <CODE>: <message>` with a non-zero exit status (2 for usage errors, 1 otherwise).
 */
import pkg from "../../../package.json" with { type: "json" };
import { TenantliteError } from "../../errors.js";
import { type FlagSpec, parseArgs, str, usageError } from "./args.js";
import type { Backend } from "./backend.js";
import { type Command, type CommandContext, GLOBAL_FLAGS } from "./command.js";
import { dataDirOf, openDataDir } from "./data-dir.js";
import { DB_COMMANDS } from "./db-commands.js";
import { DEV_COMMAND } from "./dev-command.js";
import { GROUP_COMMANDS } from "./group-commands.js";
import { type CliIo, errorLine } from "./io.js";
import { looksLikeUrl } from "./urls.js";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [DEV_COMMAND, ...GROUP_COMMANDS, ...DB_COMMANDS];

const TOP = `tenantlite — database-per-tenant SQLite: server and command line

Usage: tenantlite <command> [arguments] [flags]
       tenantlite                      (same as: tenantlite dev)

Database commands work on the local data directory (--data-dir, env TENANTLITE_DATA_DIR,
default ~/.tenantlite/data) — through the tenantlite dev server when one holds it — or, with
--url, on a running server (token: --token or env TENANTLITE_API_TOKEN). Errors print one line
"error: <CODE>: <message>" on stderr. tenantlite --version prints the version.
`;

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let backend: Backend | undefined;
  try {
    // As turso (cobra): `--version` or `-v` before any command word.
    const first = argv.findIndex((a) => !a.startsWith("-"));
    const flagsBefore = first === -1 ? argv : argv.slice(0, first);
    if (flagsBefore.includes("--version") || flagsBefore.includes("-v")) {
      io.stdout.write(`tenantlite version ${pkg.version}\n`);
      return 0;
    }
    const { command, rest, group } = resolve(argv);
    if (command === undefined) {
      const help = rest.includes("--help") || rest.includes("-h");
      if (group !== "" && !help) {
        throw usageError(`"${group}" needs a subcommand: ${subcommands(group).join(", ")}`);
      }
      io.stdout.write(groupHelp(group));
      return 0;
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const specs: Record<string, FlagSpec> = {
      ...(command.usesBackend ? GLOBAL_FLAGS : {}),
      ...command.flags,
    };
    const args = parseArgs(
      command.flags["show-url"] === undefined ? rest : showUrlAlias(rest),
      specs,
    );
    const [min, max] = command.positionals;
    if (args.positionals.length < min) {
      throw usageError(`missing argument: tenantlite ${command.name} ${command.usage}`.trimEnd());
    }
    if (args.positionals.length > max) {
      throw usageError(
        `unexpected argument ${JSON.stringify(args.positionals[max]!.slice(0, 60))}: tenantlite ${command.name} ${command.usage}`.trimEnd(),
      );
    }
    const dataDir = dataDirOf(args);
    const ctx: CommandContext = {
      args,
      io,
      dataDir,
      out: (text) => io.stdout.write(text),
      backend: async () => {
        if (backend !== undefined) return backend;
        const url = str(args, "url") ?? (process.env.TENANTLITE_URL || undefined);
        const token = str(args, "token") ?? (process.env.TENANTLITE_API_TOKEN || undefined);
        // Loaded on demand: help and usage errors stay fast without the engine.
        if (url !== undefined) {
          const { RemoteBackend } = await import("./remote-backend.js");
          backend = new RemoteBackend(url, token);
        } else if (args.flags.has("token")) {
          throw usageError("--token goes with --url (local mode needs no token)");
        } else {
          // Locally, or through the `tenantlite dev` server holding the directory.
          backend = await openDataDir(dataDir, token);
        }
        return backend;
      },
    };
    return (await command.run(ctx)) ?? 0;
  } catch (e) {
    io.stderr.write(`${errorLine(e)}\n`);
    return e instanceof TenantliteError && USAGE_CODES.has(e.code) ? 2 : 1;
  } finally {
    await backend?.close().catch(() => undefined);
  }
}

const USAGE_CODES = new Set(["ARGS_INVALID", "UNKNOWN_COMMAND"]);

/**
 * Finds the command: the longest run of leading words naming one. Flags may come first
 * (`tenantlite --data-dir d db list`); no command word at all means `dev` (what `npm start` runs).
 */
function resolve(argv: readonly string[]): {
  command: Command | undefined;
  rest: string[];
  group: string;
} {
  const tops = new Set(COMMANDS.map((c) => c.name.split(" ")[0]!));
  tops.add("help");
  const at = argv.findIndex((a) => tops.has(a));
  const firstWord = argv.findIndex((a) => !a.startsWith("-"));
  if (at === -1 || (firstWord !== -1 && firstWord < at && !isFlagValue(argv, firstWord))) {
    if (firstWord !== -1 && !isFlagValue(argv, firstWord)) {
      throw new TenantliteError(
        "UNKNOWN_COMMAND",
        `unknown command ${JSON.stringify(argv[firstWord]!.slice(0, 40))}; see tenantlite --help`,
      );
    }
    if (argv.includes("--help") || argv.includes("-h")) {
      return { command: undefined, rest: ["--help"], group: "" };
    }
    return { command: DEV_COMMAND, rest: [...argv], group: "" };
  }
  const before = argv.slice(0, at);
  let words = [argv[at]!];
  let i = at + 1;
  if (words[0] === "help") {
    const topic = argv.slice(at + 1).filter((a) => !a.startsWith("-"));
    return resolve([...topic, "--help"]);
  }
  for (; i < argv.length; i++) {
    const next = [...words, argv[i]!].join(" ");
    if (COMMANDS.some((c) => c.name === next || c.name.startsWith(`${next} `)))
      words = next.split(" ");
    else break;
  }
  const name = words.join(" ");
  const command = COMMANDS.find((c) => c.name === name);
  const rest = [...before, ...argv.slice(i)];
  if (command === undefined) {
    const word = argv[i];
    if (word !== undefined && !word.startsWith("-")) {
      throw new TenantliteError(
        "UNKNOWN_COMMAND",
        `unknown command "${name} ${word.slice(0, 40)}"; "${name}" has: ${subcommands(name).join(", ")}`,
      );
    }
  }
  return { command, rest, group: name };
}

/** Whether argv[i] is the value of the flag before it (`--data-dir db`). */
function isFlagValue(argv: readonly string[], i: number): boolean {
  const prev = argv[i - 1];
  if (prev === undefined || !prev.startsWith("--") || prev.includes("=")) return false;
  const name = prev.slice(2);
  const spec = GLOBAL_FLAGS[name] ?? DEV_COMMAND.flags[name];
  return spec?.type === "string";
}

/** `db show x --url` (no value) means "print the URL", as in turso; `--url http://…` is the server. */
function showUrlAlias(rest: string[]): string[] {
  return rest.map((a, i) => (a === "--url" && !looksLikeUrl(rest[i + 1] ?? "") ? "--show-url" : a));
}

function subcommands(group: string): string[] {
  const depth = group.split(" ").length;
  const names = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map(
    (c) => c.name.split(" ")[depth]!,
  );
  return [...new Set(names)];
}

function groupHelp(group: string): string {
  const cmds = COMMANDS.filter((c) => group === "" || c.name.startsWith(`${group} `));
  const width = Math.max(...cmds.map((c) => `${c.name} ${c.usage}`.length));
  const lines = cmds.map(
    (c) => `  ${`${c.name} ${c.usage}`.padEnd(width)}  ${c.summary}\n      e.g. ${c.examples[0]}`,
  );
  const head = group === "" ? TOP : `Usage: tenantlite ${group} <command> [arguments] [flags]\n`;
  return `${head}\nCommands:\n${lines.join("\n")}\n\nRun "tenantlite <command> --help" for its flags and examples.\n`;
}

function commandHelp(c: Command): string {
  const flags = { ...c.flags, ...(c.usesBackend ? GLOBAL_FLAGS : {}) };
  const flagLines = Object.entries(flags).map(([name, spec]) => {
    const m = spec.type === "string" ? /^(<[^>]+>)\s*(.*)$/s.exec(spec.help) : null;
    const shown = name === "show-url" ? "--url" : `--${name}`;
    const left = `${spec.short ? `-${spec.short}, ` : ""}${shown}${m ? ` ${m[1]}` : ""}`;
    return [left, m ? m[2]! : spec.help] as const;
  });
  flagLines.push(["-h, --help", "show this help"]);
  const width = Math.max(...flagLines.map(([l]) => l.length));
  return [
    `Usage: tenantlite ${c.name} ${c.usage}`.trimEnd(),
    "",
    `${c.summary[0]!.toUpperCase()}${c.summary.slice(1)}.`,
    ...(c.details ? ["", c.details] : []),
    "",
    "Flags:",
    ...flagLines.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`),
    "",
    "Examples:",
    ...c.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}
