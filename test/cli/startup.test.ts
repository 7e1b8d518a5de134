/**
 * Starting and finding things: a data directory held by a server (commands go through it), by
 * something else (a clear STORAGE_LOCKED), a port in use, a data directory that is a file, a
 * libsql:// URL without ?tls=0, an old Node, and --version. Each failure is one coded line.
 */
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsStorage } from "../../src/node/fs-storage.js";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { buildCli, errorCode, runCli } from "./helpers.js";

const tempDir = useTempDirs("tl-cli-", { scope: "file" });

const root = new URL("../..", import.meta.url).pathname;
let memServer: RunningServer;

beforeAll(async () => {
  await buildCli();
  memServer = await startServer({ port: 0, memory: true });
});

afterAll(async () => {
  await memServer?.close();
});

describe("a data directory a server holds", () => {
  it("commands without --url go through the server (auth on: its token is recorded 0600) and see its data", async () => {
    const dir = tempDir();
    const server = await startServer({
      port: 0,
      dataDir: dir,
      auth: true,
      apiToken: "tok-Secret-9",
    });
    try {
      await server.platform.createDatabase("served");
      await server.platform.client("served").execute("CREATE TABLE t (x)");
      await server.platform.client("served").execute("INSERT INTO t VALUES (41)");
      const d = ["--data-dir", dir];
      const list = await runCli(["db", "list", ...d]);
      expect(list.stderr).toBe("");
      expect(list.stdout).toMatch(
        new RegExp(`served +regular +- +default +${server.url}/dev/served/`),
      );
      const created = await runCli(["db", "create", "from-cli", ...d]);
      expect(created.stdout).toContain("Created database from-cli in group default.");
      expect((await server.platform.getDatabase("from-cli")).name).toBe("from-cli");
      const shell = await runCli([
        "db",
        "shell",
        "served",
        "UPDATE t SET x = x + 1 RETURNING x",
        ...d,
      ]);
      expect(shell.stdout).toBe("x\n42\n");
      const rows = await server.platform.client("served").execute("SELECT x FROM t");
      expect(rows.rows[0]?.x).toBe(42);
      // The token sits in a file only its owner may read; the lock file does not hold it.
      const record = join(dir, ".~tl-server");
      expect(statSync(record).mode & 0o777).toBe(0o600);
      expect(readFileSync(record, "utf8")).toContain(server.url);
      expect(readFileSync(join(dir, ".~tl-lock"), "utf8")).not.toContain("tok-Secret-9");
      // Local-only features say why they are not available now.
      const enc = await runCli([
        "db",
        "create",
        "vault",
        "--enable-encryption",
        "--encryption-key",
        "k-123456",
        ...d,
      ]);
      expect(errorCode(enc)).toBe("NOT_SUPPORTED");
      expect(enc.stderr).toMatch(/served by tenantlite dev \(process \d+\): stop it first/);
    } finally {
      await server.close();
    }
    // Closed: the record is gone and the directory is local again, with everything in it.
    expect(() => statSync(join(dir, ".~tl-server"))).toThrow();
    const after = await runCli(["db", "list", "--data-dir", dir]);
    expect(after.stdout).toMatch(/from-cli +regular/);
    expect(after.stdout).toMatch(/served +regular/);
  });

  it("a server that left no record, and an application holding the directory: STORAGE_LOCKED says what to do, without the path", async () => {
    const dir = tempDir("tl-cli-held-");
    const server = await startServer({ port: 0, dataDir: dir });
    try {
      writeFileSync(join(dir, ".~tl-server"), "{}"); // a record that says nothing usable
      const r = await runCli(["db", "list", "--data-dir", dir]);
      expect(errorCode(r)).toBe("STORAGE_LOCKED");
      expect(r.stderr).toMatch(/the --data-dir you gave is in use by a tenantlite dev server/);
      expect(r.stderr).toContain("pass --url");
      expect(r.stderr).not.toContain(dir);
      // A second server on it: the library's own message, in the CLI's words, without the path.
      const dev = await runCli(["dev", "--port", "0", "--data-dir", dir]);
      expect(errorCode(dev)).toBe("STORAGE_LOCKED");
      expect(dev.stderr).toMatch(
        /the --data-dir you gave is in use by process \d+ \(tenantlite dev\)/,
      );
      expect(dev.stderr).not.toContain(dir);
    } finally {
      await server.close();
    }
    const app = await FsStorage.open(dir); // this test process, as an application would
    try {
      const t0 = Date.now();
      const r = await runCli(["db", "list"], { env: { TENANTLITE_DATA_DIR: dir } });
      expect(errorCode(r)).toBe("STORAGE_LOCKED");
      expect(r.stderr).toContain(
        `the data directory in TENANTLITE_DATA_DIR is in use by process ${process.pid}, an application using tenantlite`,
      );
      expect(r.stderr).not.toContain(dir);
      expect(Date.now() - t0).toBeLessThan(10_000); // not waited for
    } finally {
      await app.close();
    }
  });
});

describe("startup errors", () => {
  it("a port in use is PORT_IN_USE, from startServer and from tenantlite dev", async () => {
    const port = Number(new URL(memServer.url).port);
    await expect(startServer({ port, memory: true })).rejects.toMatchObject({
      code: "PORT_IN_USE",
    });
    const r = await runCli(["dev", "--port", String(port), "--memory"]);
    expect(errorCode(r)).toBe("PORT_IN_USE");
    expect(r.stderr).toBe(
      `error: PORT_IN_USE: port ${port} is in use on 127.0.0.1; stop the other server or pass --port <n> (0 picks a free one)\n`,
    );
    // The data directory of a server that could not listen is not left locked.
    const dir = tempDir();
    expect(errorCode(await runCli(["dev", "--port", String(port), "--data-dir", dir]))).toBe(
      "PORT_IN_USE",
    );
    expect((await runCli(["db", "list", "--data-dir", dir])).code).toBe(0);
  });

  it("a data directory that is a file (or under one) is DATA_DIR_INVALID, without the path", async () => {
    const file = join(tempDir(), "not-a-dir");
    writeFileSync(file, "x");
    const cases = [
      ["db", "list", "--data-dir", file],
      ["dev", "--port", "0", "--data-dir", file],
      ["db", "list", "--data-dir", join(file, "sub")],
    ];
    const results = await Promise.all(cases.map((c) => runCli(c)));
    results.forEach((r, i) => {
      expect(errorCode(r), cases[i]!.join(" ")).toBe("DATA_DIR_INVALID");
      expect(r.stderr).not.toContain(file);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    });
    expect(results[0]!.stderr).toBe(
      "error: DATA_DIR_INVALID: the --data-dir you gave is a file, not a directory; give a directory (it is created if missing)\n",
    );
    expect(readFileSync(file, "utf8")).toBe("x"); // changed nothing
  });

  it.skipIf(!existsSync("/proc/self"))(
    "a data directory whose file system refuses new directories (/proc) is DATA_DIR_INVALID at once",
    async () => {
      // Node's recursive mkdir retried there for good, at full CPU: the command never ended.
      const cases = [
        ["db", "list", "--data-dir", "/proc/tenantlite-data"],
        ["dev", "--port", "0", "--data-dir", "/proc/tenantlite-data/sub"],
      ];
      const results = await Promise.all(cases.map((c) => runCli(c)));
      results.forEach((r, i) => {
        expect(errorCode(r), cases[i]!.join(" ")).toBe("DATA_DIR_INVALID");
        expect(r.stderr).toBe(
          "error: DATA_DIR_INVALID: the --data-dir you gave cannot be created there (its file system refuses new directories)\n",
        );
      });
    },
  );

  it("a data directory that cannot be written (a full disk) is STORAGE_WRITE_FAILED, without the path", async () => {
    // ulimit -f 0: no file can get a byte, as on a full disk (EFBIG where a full disk says ENOSPC).
    const dir = join(tempDir(), "full");
    const cases = [
      ["db", "list", "--data-dir", dir],
      ["db", "create", "acme", "--data-dir", dir],
      ["dev", "--port", "0", "--data-dir", dir],
    ];
    const results = await Promise.all(cases.map((c) => runCli(c, { fileSizeLimitKiB: 0 })));
    results.forEach((r, i) => {
      expect(errorCode(r), cases[i]!.join(" ")).toBe("STORAGE_WRITE_FAILED");
      expect(r.stderr).not.toContain(dir);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    });
    expect(results[0]!.stderr).toBe(
      "error: STORAGE_WRITE_FAILED: the --data-dir you gave cannot be written (no file may grow here: this process's file size limit (ulimit -f) is reached): free some space, or give another data directory\n",
    );
    // With room again, the same directory works.
    expect((await runCli(["db", "create", "acme", "--data-dir", dir])).code).toBe(0);
  });

  it("libsql:// URLs: a local one without ?tls=0 says to add it; with it (and ws://) they work", async () => {
    const host = new URL(memServer.url).host;
    const bad = await runCli(["db", "list", "--url", `libsql://${host}`]);
    expect(errorCode(bad)).toBe("URL_TLS_MISMATCH");
    expect(bad.stderr).toContain(`add ?tls=0 (libsql://${host}?tls=0) or use http://${host}`);
    for (const url of [`libsql://${host}?tls=0`, `ws://${host}`, `${memServer.url}/`]) {
      const r = await runCli(["db", "list", "--url", url]);
      expect(r.stderr, url).toBe("");
      expect(r.code).toBe(0);
    }
    await memServer.platform.createDatabase("lib-db");
    const show = await runCli(["db", "show", "lib-db", "--url", `libsql://${host}?tls=0`]);
    expect(show.stdout).toMatch(/^Name: +lib-db\n/);
    const secret = await runCli(["db", "list", "--url", "nope://x?authToken=sekrit-77"]);
    expect(errorCode(secret)).toBe("ARGS_INVALID");
    expect(secret.stderr).not.toContain("sekrit-77");
  });

  it("--version prints the package's version", async () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-v"]) {
      const r = await runCli([flag]);
      expect(r.stdout).toBe(`tenantlite version ${version}\n`);
      expect(r.code).toBe(0);
    }
  });
});

describe("bin/tenantlite.js", () => {
  /** A copy of bin/ whose dist/tenantlite.js only says it was loaded. */
  function fakePackage(withDist: boolean): string {
    const dir = tempDir("tl-bin-");
    mkdirSync(join(dir, "bin"));
    for (const f of ["tenantlite.js", "node-version.js"]) {
      copyFileSync(join(root, "bin", f), join(dir, "bin", f));
    }
    writeFileSync(join(dir, "package.json"), '{"type":"module"}');
    if (withDist) {
      mkdirSync(join(dir, "dist"));
      writeFileSync(join(dir, "dist", "tenantlite.js"), 'console.log("LOADED");\n');
    }
    return dir;
  }
  const run = (dir: string, node?: string) =>
    spawnSync(
      process.execPath,
      [
        ...(node === undefined
          ? []
          : [
              "--import",
              `data:text/javascript,Object.defineProperty(process.versions,"node",{value:${JSON.stringify(node)}})`,
            ]),
        join(dir, "bin", "tenantlite.js"),
        "db",
        "list",
      ],
      { encoding: "utf8" },
    );

  it("checks the Node version before it loads anything", () => {
    const dir = fakePackage(true);
    const old = run(dir, "18.19.0");
    expect(old.stderr).toBe(
      "error: NODE_VERSION_UNSUPPORTED: tenantlite needs Node 20 or newer; this is Node 18.19.0\n",
    );
    expect(old.stdout).toBe("");
    expect(old.status).toBe(1);
    expect(run(dir, "20.0.0").stdout).toBe("LOADED\n");
    expect(run(dir).stdout).toBe("LOADED\n");
    const unbuilt = run(fakePackage(false));
    expect(unbuilt.stderr).toMatch(/^error: BUILD_MISSING: dist\/tenantlite\.js is missing/);
    expect(unbuilt.status).toBe(1);
  });
});

describe("npx tenantlite in a clone", () => {
  it("runs the package's own bin, as the README and the dev banner say (npm 11)", () => {
    // A clone without .git: the files the build needs, the repository's node_modules.
    const clone = tempDir("tl-clone-");
    for (const f of ["package.json", "package-lock.json"]) {
      copyFileSync(join(root, f), join(clone, f));
    }
    for (const d of ["bin", "scripts", "src", "parser"]) {
      cpSync(join(root, d), join(clone, d), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(clone, "node_modules"));
    const env = {
      ...process.env,
      npm_config_cache: join(clone, ".npm-cache"), // npx links the package into its cache
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
    };
    const build = spawnSync("npm", ["run", "build"], { cwd: clone, env, encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);
    const r = spawnSync("npx", ["--offline", "tenantlite", "--version"], {
      cwd: join(clone, "src"), // from anywhere in the clone
      env,
      encoding: "utf8",
      timeout: 120_000,
    });
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      version: string;
    };
    expect(r.stdout, r.stderr).toBe(`tenantlite version ${version}\n`);
  });
});
