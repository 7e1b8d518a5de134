/**
 * Drives the built `tenantlite` command as a subprocess. The bundle is built once per test file
 * into node_modules/.cache (packages stay external and resolve from the repo), so tests never
 * race other builds of dist/.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";

const root = new URL("../..", import.meta.url).pathname;
/** Where the test bundle is written (one directory per test process: files run in parallel). */
const OUTDIR = join(root, `node_modules/.cache/tenantlite-cli-test/${process.pid}`);
export const BUNDLE = join(OUTDIR, "tenantlite.js");

/** Builds the CLI bundle (call in beforeAll). */
export async function buildCli(): Promise<void> {
  await build({
    entryPoints: { tenantlite: join(root, "src/node/main.ts") },
    outdir: OUTDIR,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Our own modules are bundled: one file loads faster than hundreds at every process start.
    external: ["sql.js", "jose", "idb-keyval", "ws", "@libsql/*", "@tursodatabase/*"],
    logLevel: "warning",
  });
}

/** What one run printed. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `args`; `input` is piped to stdin (stdin is closed either way). */
export function runCli(
  args: readonly string[],
  options: {
    input?: string;
    env?: Record<string, string | undefined>;
    /** Run under `ulimit -f`: no file can grow past this (0: none can be written at all). */
    fileSizeLimitKiB?: number;
  } = {},
): Promise<RunResult> {
  if (options.fileSizeLimitKiB === undefined) {
    return runCommand(process.execPath, [BUNDLE, ...args], options);
  }
  const limit = `ulimit -f ${options.fileSizeLimitKiB} && exec "$@"`;
  return runCommand("/bin/sh", ["-c", limit, "sh", process.execPath, BUNDLE, ...args], options);
}

/** Runs the CLI inside a pseudo-terminal (`script -qfc`), typing `input`. */
export function runCliInPty(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string | undefined> } = {},
): Promise<RunResult> {
  const command = [process.execPath, BUNDLE, ...args].map(shellQuote).join(" ");
  return runCommand("script", ["-qfec", command, "/dev/null"], options);
}

function runCommand(
  file: string,
  args: readonly string[],
  options: { input?: string; env?: Record<string, string | undefined> },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, ...options.env })) {
      if (v !== undefined) env[k] = v;
    }
    const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A command that exits before reading its input closes the pipe: the write fails with
    // EPIPE, which says nothing about the command (its exit code and output do).
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Asserts a failed run printed exactly one `error: CODE: …` line and exited non-zero. */
export function errorCode(r: RunResult): string {
  const lines = r.stderr.trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  const m = /^error: ([A-Z0-9_]+): \S/.exec(last);
  if (r.code === 0 || m === null) {
    throw new Error(
      `expected a coded error, got exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`,
    );
  }
  return m[1]!;
}
