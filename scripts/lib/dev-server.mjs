// `tenantlite dev` as a child process for the by-hand checks in scripts/ (the upstream client
// suite, the drizzle-kit and ORM checks): built dist/, a data directory, 127.0.0.1 on any free
// port; and what those checks share (their flags, the build).
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { join } from "node:path";

const START_MS = 30_000;
const STOP_MS = 10_000;

/**
 * Starts `node dist/tenantlite.js dev --data-dir <dataDir>` from `repoRoot`, its output going to
 * `logFile`, and resolves once its banner names the port: `{ port, base, stop() }`.
 */
export async function startDevServer(repoRoot, dataDir, logFile) {
  const cli = join(repoRoot, "dist/tenantlite.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run without --no-build`);
  const log = createWriteStream(logFile);
  const child = spawn(
    process.execPath,
    [cli, "dev", "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0"],
    {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      // The suite's `.close_ws`/`.close_tcp` statements (its network-error tests).
      env: { ...process.env, TENANTLITE_HRANA_TEST_HOOKS: "1" },
    },
  );
  child.stderr.pipe(log);
  const exited = new Promise((r) => child.once("exit", r));
  let banner = "";
  const port = await new Promise((resolvePort, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tenantlite dev did not start within ${START_MS} ms:\n${banner}`)),
      START_MS,
    );
    child.stdout.on("data", (chunk) => {
      log.write(chunk);
      banner += chunk.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(banner);
      if (m !== null) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`tenantlite dev exited (${signal ?? code}) before listening:\n${banner}`));
    });
  }).catch((e) => {
    child.kill("SIGKILL");
    log.end();
    throw e;
  });
  let stopped = false;
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    /** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone and its log closed. */
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_MS);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}

/**
 * The flags a by-hand check was given, from `allowed`; exits with status 2 and its usage on any
 * other argument.
 */
export function checkFlags(script, allowed) {
  const flags = new Set(process.argv.slice(2));
  for (const a of flags) {
    if (!allowed.includes(a)) {
      console.error(
        `unknown argument ${JSON.stringify(a)}\nusage: node scripts/${script} ${allowed.map((f) => `[${f}]`).join(" ")}`,
      );
      process.exit(2);
    }
  }
  return flags;
}

/** Builds dist/ (`node scripts/build.mjs`) for `startDevServer`; throws with the build's output. */
export function buildDist(repoRoot) {
  const b = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: repoRoot, encoding: "utf8" });
  if (b.status !== 0) throw new Error(`build failed:\n${b.stdout}${b.stderr}`);
}
