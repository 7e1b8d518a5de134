// Runs the upstream @libsql/client test suite (packages/libsql-client/src/__tests__/client.test.ts
// of tursodatabase/libsql-client-ts), unmodified, against `tenantlite dev --data-dir <tmp>`: over
// HTTP with SERVER=test_v2 and over WebSocket with SERVER=test_v3, each at a database's
// /dev/<db>/ URL and at the root URL (turso dev's addressing), then prints pass/fail counts per
// mode and the failing tests. Not part of `npm test`: it needs a copy of the upstream repository and
// the npm registry (jest, ts-jest and the client's dependencies are installed into a temp dir).
//
//   git clone https://github.com/tursodatabase/libsql-client-ts /path/to/libsql-client-ts
//   LIBSQL_CLIENT_TS=/path/to/libsql-client-ts npm run test:upstream-client
//
// LIBSQL_CLIENT_TS is a checkout or a git directory (bare clones work; LIBSQL_CLIENT_TS_REF picks
// the commit, default HEAD). Flags: --only http|ws|http-root|ws-root, --verbose (show jest's output), --keep (keep
// the temp dir: sources, installs, jest logs, server log), --no-build (use the existing dist/).
// Exit status: 0 when no test failed, 1 when any failed (failures whose cause lies outside the
// server are tagged [known: why] in the summary, see KNOWN), 2 when the harness itself failed.
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startDevServer } from "./lib/dev-server.mjs";

const repoRoot = resolve(new URL("..", import.meta.url).pathname);
const TEST_FILE = "src/__tests__/client.test.ts";
const UPSTREAM_PATHS = ["packages/libsql-client", "packages/libsql-core", "package-lock.json"];
/** The test toolchain, pinned to what upstream's package-lock.json resolves (works on Node 20). */
const TOOLCHAIN = {
  jest: "29.7.0",
  "ts-jest": "29.1.1",
  typescript: "4.9.5",
  "@types/jest": "29.5.11",
  "@types/node": "18.19.8",
};
const MODES = [
  { name: "http", scheme: "http", server: "test_v2", db: "upstream-suite-http" },
  { name: "ws", scheme: "ws", server: "test_v3", db: "upstream-suite-ws" },
  // turso dev's addressing: the root URL, no path, serves the data directory's `default` database.
  { name: "http-root", scheme: "http", server: "test_v2", db: undefined },
  { name: "ws-root", scheme: "ws", server: "test_v3", db: undefined },
];
/** Failures explained by the suite itself rather than by the server (see the README section). */
const KNOWN = [
  {
    match: (t) => /ROLLBACK (statement|as the first statement) stops execution/.test(t.title),
    why: "Hrana 3 test, but @libsql/client speaks Hrana 2 (no is_autocommit guard is sent)",
  },
];
const JEST_RUN_MS = 10 * 60_000;

const args = parseArgs(process.argv.slice(2));
const work = mkdtempSync(join(tmpdir(), "tenantlite-upstream-suite-"));
let server;
let exitCode = 2;
const stopOnSignal = () => {
  cleanup().finally(() => process.exit(130));
};
process.once("SIGINT", stopOnSignal);
process.once("SIGTERM", stopOnSignal);

try {
  const upstream = extractUpstream(work);
  console.log(`upstream: ${upstream.describe}`);
  install(work);
  buildCore(work);
  if (args.build) {
    step("building tenantlite (node scripts/build.mjs)");
    run(process.execPath, ["scripts/build.mjs"], { cwd: repoRoot });
  }
  step("starting tenantlite dev");
  server = await startDevServer(repoRoot, join(work, "data"), join(work, "server.log"));
  console.log(`tenantlite dev: ${server.base} (data dir ${join(work, "data")})`);
  const summaries = [];
  for (const mode of MODES.filter((m) => args.only === undefined || m.name === args.only)) {
    if (mode.db !== undefined) await createDatabase(server.base, mode.db);
    const url =
      mode.db === undefined
        ? `${mode.scheme}://127.0.0.1:${server.port}`
        : `${mode.scheme}://127.0.0.1:${server.port}/dev/${mode.db}/`;
    summaries.push(await runSuite(work, mode, url));
  }
  await server?.stop();
  printSummary(summaries);
  exitCode = summaries.every((s) => s.ok && s.failed.length === 0) ? 0 : 1;
} catch (e) {
  console.error(`\nupstream-client-suite: ${e instanceof Error ? e.message : String(e)}`);
  exitCode = 2;
} finally {
  await cleanup();
}
process.exit(exitCode);

// ── steps ──────────────────────────────────────────────────────────────────────────────────────

function parseArgs(argv) {
  const out = { only: undefined, verbose: false, keep: false, build: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--verbose") out.verbose = true;
    else if (a === "--keep") out.keep = true;
    else if (a === "--no-build") out.build = false;
    else if (a === "--only" && MODES.some((m) => m.name === argv[i + 1])) out.only = argv[++i];
    else {
      console.error(
        `unknown argument ${JSON.stringify(a)}\nusage: LIBSQL_CLIENT_TS=<checkout or git dir> node scripts/upstream-client-suite.mjs [--only http|ws|http-root|ws-root] [--verbose] [--keep] [--no-build]`,
      );
      process.exit(2);
    }
  }
  return out;
}

/** Copies the upstream client and core packages into `dir` from a checkout or a git directory. */
function extractUpstream(dir) {
  const source = process.env.LIBSQL_CLIENT_TS;
  const howTo =
    "Set LIBSQL_CLIENT_TS to a checkout (or git directory) of the upstream client:\n" +
    "  git clone https://github.com/tursodatabase/libsql-client-ts /path/to/libsql-client-ts\n" +
    "  LIBSQL_CLIENT_TS=/path/to/libsql-client-ts npm run test:upstream-client";
  if (!source) throw new Error(`LIBSQL_CLIENT_TS is not set.\n${howTo}`);
  const path = resolve(source);
  if (!existsSync(path)) throw new Error(`LIBSQL_CLIENT_TS=${source} does not exist.\n${howTo}`);
  step(`extracting upstream sources from ${path}`);
  let describe;
  if (existsSync(join(path, "packages/libsql-client", TEST_FILE))) {
    for (const p of UPSTREAM_PATHS) {
      if (!existsSync(join(path, p))) continue;
      cpSync(join(path, p), join(dir, p), {
        recursive: true,
        filter: (src) => !/[/\\](node_modules|lib-cjs|lib-esm)$/.test(src),
      });
    }
    const head = spawnSync("git", ["-C", path, "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
    });
    describe = `${path} (working tree${head.status === 0 ? ` at ${head.stdout.trim()}` : ""})`;
  } else {
    const ref = process.env.LIBSQL_CLIENT_TS_REF || "HEAD";
    const gitDir = existsSync(join(path, ".git")) ? join(path, ".git") : path;
    const commit = spawnSync(
      "git",
      ["--git-dir", gitDir, "rev-parse", "--verify", `${ref}^{commit}`],
      {
        encoding: "utf8",
      },
    );
    if (commit.status !== 0) {
      throw new Error(
        `${path} is neither a libsql-client-ts checkout (no packages/libsql-client/${TEST_FILE}) nor a git directory with ${ref}.\n${howTo}`,
      );
    }
    const tar = join(dir, "upstream.tar");
    run("git", [
      "--git-dir",
      gitDir,
      "archive",
      "--format=tar",
      `--output=${tar}`,
      ref,
      ...UPSTREAM_PATHS,
    ]);
    run("tar", ["-xf", tar, "-C", dir]);
    rmSync(tar);
    describe = `${gitDir} at ${commit.stdout.trim().slice(0, 12)} (${ref})`;
  }
  const testFile = join(dir, "packages/libsql-client", TEST_FILE);
  if (!existsSync(testFile)) throw new Error(`the upstream copy has no ${TEST_FILE}`);
  const version = readJson(join(dir, "packages/libsql-client/package.json")).version;
  return { describe: `${describe}, @libsql/client ${version}` };
}

/**
 * Installs the toolchain and the client's runtime dependencies (at the versions upstream's lock
 * file resolves, else as its package.json asks) into `dir/node_modules`, above both packages.
 */
function install(dir) {
  const client = readJson(join(dir, "packages/libsql-client/package.json"));
  const core = readJson(join(dir, "packages/libsql-core/package.json"));
  const lockPath = join(dir, "package-lock.json");
  const locked = existsSync(lockPath) ? (readJson(lockPath).packages ?? {}) : {};
  const dependencies = {};
  for (const deps of [core.dependencies, client.dependencies]) {
    for (const [name, range] of Object.entries(deps ?? {})) {
      if (name === "@libsql/core") continue; // built from the upstream source below
      dependencies[name] = locked[`node_modules/${name}`]?.version ?? range;
    }
  }
  Object.assign(dependencies, TOOLCHAIN);
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "upstream-client-suite", private: true, dependencies }, null, 2)}\n`,
  );
  step(
    `npm install (${Object.entries(dependencies)
      .map(([n, v]) => `${n}@${v}`)
      .join(", ")})`,
  );
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir });
}

/** Builds @libsql/core from the upstream source as upstream's CI does, into node_modules. */
function buildCore(dir) {
  step("building @libsql/core from the upstream source (tsc, CommonJS and ESM)");
  const coreDir = join(dir, "packages/libsql-core");
  const tsc = join(dir, "node_modules/typescript/bin/tsc");
  run(process.execPath, [tsc, "-p", "tsconfig.build-cjs.json"], { cwd: coreDir });
  run(process.execPath, [tsc, "-p", "tsconfig.build-esm.json"], { cwd: coreDir });
  copyFileSync(join(coreDir, "package-cjs.json"), join(coreDir, "lib-cjs/package.json"));
  const target = join(dir, "node_modules/@libsql/core");
  mkdirSync(target, { recursive: true });
  for (const p of ["package.json", "lib-cjs", "lib-esm"]) {
    cpSync(join(coreDir, p), join(target, p), { recursive: true });
  }
}

/** Creates a database through the Platform API (auth is off: any token is accepted). */
async function createDatabase(base, name) {
  const res = await fetch(`${base}/v1/organizations/local/databases`, {
    method: "POST",
    headers: { authorization: "Bearer local", "content-type": "application/json" },
    body: JSON.stringify({ name, group: "default" }),
  });
  if (!res.ok) throw new Error(`creating database ${name}: HTTP ${res.status} ${await res.text()}`);
}

/** Runs jest on the upstream test file for one mode and reads its JSON report. */
async function runSuite(dir, mode, url) {
  step(`mode ${mode.name}: URL=${url} SERVER=${mode.server}`);
  const report = join(dir, `jest-${mode.name}.json`);
  const logFile = join(dir, `jest-${mode.name}.log`);
  const env = { ...process.env, URL: url, SERVER: mode.server, FORCE_COLOR: "0" };
  delete env.AUTH_TOKEN;
  delete env.SYNC_URL;
  const started = Date.now();
  const jest = join(dir, "node_modules/jest/bin/jest.js");
  const child = spawn(
    process.execPath,
    [jest, "--runInBand", "--ci", "--json", `--outputFile=${report}`, TEST_FILE],
    { cwd: join(dir, "packages/libsql-client"), env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const log = createWriteStream(logFile);
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk) => {
      log.write(chunk);
      if (args.verbose) process.stdout.write(chunk);
    });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, JEST_RUN_MS);
  const code = await new Promise((r) => child.once("exit", (c, sig) => r(sig ?? c)));
  clearTimeout(timer);
  await new Promise((r) => log.end(r));
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const summary = { mode, url, seconds, ok: false, passed: 0, skipped: 0, failed: [], note: "" };
  if (!existsSync(report)) {
    const tail = readFileSync(logFile, "utf8").trim().split("\n").slice(-20).join("\n");
    summary.note = timedOut
      ? `jest was killed after ${JEST_RUN_MS / 1000} s`
      : `jest exited (${code}) without a report:\n${tail}`;
    return summary;
  }
  const json = readJson(report);
  const file = json.testResults?.[0];
  if (file === undefined || (file.assertionResults ?? []).length === 0) {
    summary.note = `the test file did not run: ${stripAnsi(file?.message ?? "no results").trim()}`;
    return summary;
  }
  summary.ok = true;
  if (timedOut) summary.note = `jest was killed after ${JEST_RUN_MS / 1000} s`;
  for (const t of file.assertionResults) {
    if (t.status === "passed") summary.passed++;
    else if (t.status === "failed") {
      summary.failed.push({
        name: t.fullName,
        error: firstLines(t.failureMessages?.[0] ?? ""),
        known: KNOWN.find((k) => k.match(t))?.why,
      });
    } else summary.skipped++;
  }
  return summary;
}

function printSummary(summaries) {
  console.log("\n══ upstream @libsql/client suite against tenantlite dev ══");
  for (const s of summaries) {
    const known = s.failed.filter((f) => f.known !== undefined).length;
    console.log(
      `\n${s.mode.name} (SERVER=${s.mode.server}, ${s.url}), ${s.seconds} s: ` +
        (s.ok
          ? `${s.passed} passed, ${s.failed.length} failed${known > 0 ? ` (${known} known)` : ""}, ${s.skipped} skipped`
          : "NO RESULTS"),
    );
    if (s.note !== "") console.log(`  ${s.note.replace(/\n/g, "\n  ")}`);
    for (const f of s.failed) {
      console.log(`  ✕ ${f.name}${f.known === undefined ? "" : `  [known: ${f.known}]`}`);
      for (const line of f.error) console.log(`      ${line}`);
    }
  }
  const unexplained = summaries.reduce(
    (n, s) => n + (s.ok ? s.failed.filter((f) => f.known === undefined).length : 1),
    0,
  );
  console.log(
    unexplained === 0
      ? "\nresult: no unexplained failures"
      : `\nresult: ${unexplained} unexplained failure(s) or mode(s) without results`,
  );
  if (args.keep) console.log(`\nkept: ${work} (jest-*.log, jest-*.json, server.log)`);
}

async function cleanup() {
  await server?.stop();
  if (args.keep) return;
  rmSync(work, { recursive: true, force: true });
}

// ── helpers ────────────────────────────────────────────────────────────────────────────────────

function step(what) {
  console.log(`→ ${what}`);
}

/** Runs a command to completion; throws with its output when it fails. */
function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error !== undefined) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`${cmd} ${argv.join(" ")} failed (${r.status ?? r.signal}):\n${out}`);
  }
  return r.stdout;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function stripAnsi(s) {
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}

/** The first meaningful lines of a jest failure, before its code frame and stack. */
function firstLines(message) {
  const out = [];
  for (const raw of stripAnsi(message).split("\n")) {
    const line = raw.trim();
    if (/^at /.test(line) || /^>?\s*\d+ \|/.test(line)) break;
    if (line === "") continue;
    out.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
    if (out.length === 3) break;
  }
  return out;
}
