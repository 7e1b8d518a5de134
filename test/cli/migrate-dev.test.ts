/**
 * Migrations through the CLI with their progress output (plain lines, a bar on a forced or real
 * terminal, a failing child), and `dev` / no command starting the server.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform } from "../../src/index.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { BUNDLE, buildCli, errorCode, runCli, runCliInPty } from "./helpers.js";

const tempDir = useTempDirs("tl-cli-", { scope: "file" });

const CHILDREN = 30;
let server: RunningServer;
const local = ["--data-dir", tempDir()];

/** A schema parent with CHILDREN children, one of which holds data a unique index refuses. */
async function seed(platform: Awaited<ReturnType<typeof createPlatform>>) {
  await platform.createDatabase("app", { type: "schema" });
  await platform.client("app").execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)");
  for (let i = 0; i < CHILDREN; i++) await platform.createDatabase(`t${i}`, { schema: "app" });
  await platform.client("t7").execute("INSERT INTO users (email) VALUES ('a'), ('a')");
}

beforeAll(async () => {
  await buildCli();
  server = await startServer({ port: 0, memory: true });
  await seed(server.platform);
  const storage = await FsStorage.open(local[1]!);
  const p = await createPlatform({ storage });
  await seed(p);
  await p.close();
  await storage.close(); // the CLI's processes lock the directory in turn
});

afterAll(async () => {
  await server?.close();
});

for (const [mode, flags] of [
  ["local", () => local],
  ["remote", () => ["--url", server.url]],
] as const) {
  describe(`db migrate (${mode})`, () => {
    it("plain progress lines, a summary, jobs listed and shown; a failing child fails the job", async () => {
      const r = await runCli([
        "db",
        "migrate",
        "app",
        "ALTER TABLE users ADD COLUMN plan TEXT; CREATE INDEX users_plan ON users(plan)",
        ...flags(),
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`migration job 2 on app: RunSuccess, ${CHILDREN} children, 0 failed\n`);
      const lines = r.stderr.trimEnd().split("\n");
      for (const l of lines)
        expect(l).toMatch(/^migration job 2 on app: \w+ \d+\/30 children, 0 failed$/);
      // Not one line per child: per phase and per tenth at most.
      expect(lines.length).toBeLessThanOrEqual(25);
      expect(lines[lines.length - 1]).toMatch(/30\/30 children/);
      expect(r.stderr).not.toContain("\x1b[");

      const fail = await runCli([
        "db",
        "migrate",
        "app",
        "CREATE UNIQUE INDEX users_email ON users(email)",
        ...flags(),
      ]);
      expect(fail.code).toBe(1);
      expect(fail.stdout).toMatch(
        /^migration job 3 on app: RunFailure, 30 children, 1 failed \(.*t7.*\)\n$/,
      );
      expect(errorCode(fail)).toMatch(/[A-Z]/);

      const [list, show, json] = await Promise.all([
        runCli(["db", "migrations", "list", "app", ...flags()]),
        runCli(["db", "migrations", "show", "app", "3", ...flags()]),
        runCli(["db", "migrations", "show", "app", "2", "--json", ...flags()]),
      ]);
      expect(list.stdout).toBe("JOB  STATUS\n3    RunFailure\n2    RunSuccess\n1    RunSuccess\n");
      expect(show.stdout).toMatch(/^Job 3: RunFailure/);
      expect(show.stdout).toMatch(/\nt7 +RunFailure +\S/);
      const job = JSON.parse(json.stdout) as { status: string; progress: unknown[] };
      expect(job.status).toBe("RunSuccess");
      expect(job.progress).toHaveLength(CHILDREN);
      expect(errorCode(await runCli(["db", "migrations", "show", "app", "99", ...flags()]))).toBe(
        "JOB_NOT_FOUND",
      );
      // Children took the new schema; direct DDL on a child is refused.
      const child = await runCli(["db", "shell", "t3", "SELECT plan FROM users", ...flags()]);
      expect(child.stdout).toBe("plan\n");
      expect(errorCode(await runCli(["db", "shell", "t3", "DROP TABLE users", ...flags()]))).toBe(
        "DDL_FORBIDDEN",
      );
    });
  });
}

describe("progress on a terminal", () => {
  it("a bar redrawn in place (forced TTY, local) and in a real pseudo-terminal via db shell (remote)", async () => {
    const forced = await runCli(["db", "migrate", "app", "CREATE TABLE a (x)", ...local], {
      env: { TENANTLITE_FORCE_TTY: "1" },
    });
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain("\r\x1b[K");
    expect(forced.stderr).toMatch(/migration job \d+ on app \[#+\.*\] \d+\/30 children, 0 failed/);
    expect(forced.stderr).toMatch(/\[#{10,}\] 30\/30 children/);

    const pty = await runCliInPty([
      "db",
      "shell",
      "app",
      "CREATE TABLE b (x)",
      "--url",
      server.url,
    ]);
    const out = pty.stdout;
    expect(pty.code).toBe(0);
    expect(out).toContain("\r\x1b[K");
    expect(out).toMatch(/migration job \d+ on app: RunSuccess, 30 children, 0 failed/);
  });
});

/** Starts `tenantlite <args>` as a child process; resolves with its URL once it listens. */
async function startDev(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BUNDLE, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      // The banner is written at once, ending with the API token line.
      const m = /listening on (http:\/\/\S+)[\s\S]*API token:.*\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on("exit", () => reject(new Error(`server exited: ${out}`)));
  });
  return { child, url, exited, banner: out };
}

describe("dev", () => {
  for (const args of [
    ["dev", "--port", "0", "--memory"],
    ["--port", "0", "--memory"],
  ]) {
    it(`tenantlite ${args.join(" ")} serves until SIGTERM`, async () => {
      const { child, url, exited } = await startDev(args);
      try {
        expect((await runCli(["db", "create", "x", "--url", url])).code).toBe(0);
        expect((await runCli(["db", "list", "--url", url])).stdout).toMatch(
          /^NAME .*\ndefault +regular.*\nx +regular/,
        );
      } finally {
        child.kill("SIGTERM");
        expect(await exited).toBe(0);
      }
    });
  }

  it("a command on a data directory the server holds goes through the server; once it is killed, the directory is local again", async () => {
    const dir = tempDir();
    const { child, url, exited, banner } = await startDev([
      "dev",
      "--port",
      "0",
      "--data-dir",
      dir,
    ]);
    try {
      // Another data directory than a bare command's: the banner's commands carry the URL.
      expect(banner).toContain(`npx tenantlite db list --url ${url}\n`);
      expect((await runCli(["db", "create", "served", "--url", url])).code).toBe(0);
      const t0 = Date.now();
      const via = await runCli(["db", "create", "via-dir", "--data-dir", dir]);
      expect(via.stderr).toBe("");
      expect(via.stdout).toContain(`URL: ${url}/dev/via-dir/`);
      expect(Date.now() - t0).toBeLessThan(10_000); // no waiting for a server
      expect((await runCli(["db", "list", "--url", url])).stdout).toMatch(/\bvia-dir\b/);
    } finally {
      child.kill("SIGKILL"); // no chance to unlock nor to drop its record: both are stale now
      await exited;
    }
    expect((await runCli(["db", "create", "local", "--data-dir", dir])).code).toBe(0);
    const list = await runCli(["db", "list", "--data-dir", dir]);
    expect(list.stdout).toMatch(/\blocal\b/);
    expect(list.stdout).toMatch(/\bserved\b/);
    expect(list.stdout).toMatch(/\bvia-dir\b/);
    expect(list.stdout).toContain("http://127.0.0.1:8080/dev/local/"); // local mode's URLs
  });

  it("the banner's CLI commands work as printed (default data directory: no --url needed)", async () => {
    const home = tempDir("tl-home-");
    const env = { HOME: home, TENANTLITE_DATA_DIR: "" };
    const { child, url, exited, banner } = await startDev(["--port", "0"], env);
    try {
      const commands = [...banner.matchAll(/^ {4}npx tenantlite (.*)$/gm)].map((m) => m[1]!);
      expect(commands).toEqual(["db create acme", "db list", "db shell acme"]);
      expect(banner).toContain(`storage:      ${join(home, ".tenantlite", "data")}`);
      const created = await runCli(commands[0]!.split(" "), { env });
      expect(created.stdout).toContain(`URL: ${url}/dev/acme/`);
      const listed = await runCli(commands[1]!.split(" "), { env });
      expect(listed.stdout).toMatch(/^NAME .*\nacme +regular/);
      const shell = await runCli(commands[2]!.split(" "), { env, input: "SELECT 6 * 7 AS n;\n" });
      expect(shell.stdout).toBe("n\n42\n");
    } finally {
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });
});
