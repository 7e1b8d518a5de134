/**
 * The command line's argument parser: positionals plus `--flag`, `--flag value`, `--flag=value`
 * and `-h`, checked against the flags a command declares. No dependency, no magic: unknown flags,
 * missing values and surplus positionals are `ARGS_INVALID` errors that name the culprit.
 */
import { TenantliteError } from "../../errors.js";

/** A flag a command accepts. */
export interface FlagSpec {
  /** `boolean` flags take no value; `string` flags take exactly one. */
  readonly type: "boolean" | "string";
  /** Shown in `--help`; for string flags the first word in angle brackets names the value. */
  readonly help: string;
  /** One-letter alias, e.g. `y` for `--yes`. */
  readonly short?: string;
}

/** What {@link parseArgs} returns. */
export interface ParsedArgs {
  readonly positionals: string[];
  /** Flag values by long name (without dashes); booleans are `true` when present. */
  readonly flags: Map<string, string | true>;
}

/** A usage error: exit status 2, one line on stderr. */
export function usageError(message: string): TenantliteError {
  return new TenantliteError("ARGS_INVALID", message);
}

/**
 * Parses `argv` against `specs`. A lone `--` ends flag parsing (so SQL starting with `-` can
 * still be passed).
 * @example parseArgs(["acme", "--group", "g1"], { group: { type: "string", help: "…" } })
 */
export function parseArgs(argv: readonly string[], specs: Record<string, FlagSpec>): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  const byShort = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) byShort.set(spec.short, name);
  const rest = [...argv];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--") {
      positionals.push(...rest);
      break;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else if (/^-[a-zA-Z]$/.test(arg)) {
      const long = byShort.get(arg.slice(1));
      if (long === undefined) throw usageError(`unknown option ${JSON.stringify(arg)}; see --help`);
      name = long;
    } else {
      positionals.push(arg);
      continue;
    }
    const spec = specs[name];
    if (spec === undefined) {
      throw usageError(`unknown option ${JSON.stringify(`--${name}`.slice(0, 60))}; see --help`);
    }
    if (spec.type === "boolean") {
      if (inline !== undefined) throw usageError(`--${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = inline ?? rest.shift();
    if (value === undefined || value === "") throw usageError(`--${name} needs a value`);
    flags.set(name, value);
  }
  return { positionals, flags };
}

/** A string flag's value, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

/** Whether a boolean flag was given. */
export function bool(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

/** A comma-separated list flag (`--attach a,b`), empty items dropped. */
export function list(args: ParsedArgs, name: string): string[] {
  const v = str(args, name);
  if (v === undefined) return [];
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
