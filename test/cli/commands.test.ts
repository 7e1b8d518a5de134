/**
 * The management commands, driven as a subprocess in both modes: local (a temp data directory)
 * and remote (`--url`, a memory server on a free port). The same scenario runs in both and must
 * print the same thing.
 */
import { spawn } from "node:child_process";
import { openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { BUNDLE, buildCli, errorCode, runCli } from "./helpers.js";

const tempDir = useTempDirs("tl-cli-", { scope: "file" });

let server: RunningServer;
let authServer: RunningServer;

beforeAll(async () => {
  await buildCli();
  server = await startServer({ port: 0, memory: true });
  authServer = await startServer({ port: 0, memory: true, auth: true, apiToken: "api-secret-1" });
});

afterAll(async () => {
  await server?.close();
  await authServer?.close();
});

interface Mode {
  name: string;
  /** Flags that select the mode (a fresh data dir or the server). */
  flags(): string[];
  normalize(text: string): string;
}

const modes: Mode[] = [
  {
    name: "local",
    flags: () => ["--data-dir", tempDir()],
    normalize: (t) => t.replaceAll("http://127.0.0.1:8080", "URL"),
  },
  {
    name: "remote",
    flags: () => ["--url", server.url],
    normalize: (t) => t.replaceAll(server.url, "URL"),
  },
];

/** Runs the seed scenario, returning every command's normalized output. */
async function scenario(mode: Mode): Promise<string[]> {
  const f = mode.flags();
  const run = async (...args: string[]) => {
    const r = await runCli([...args, ...f]);
    // Writing to a schema parent is a migration: its report goes to stderr.
    expect(r.stderr.replace(/^migration job .*\n/gm, ""), `${args.join(" ")}`).toBe("");
    expect(r.code).toBe(0);
    return mode.normalize(r.stdout).replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "UUID");
  };
  const prefix = `s${mode.name[0]}`;
  const outputs: string[] = [];
  outputs.push(await run("group", "create", `${prefix}-eu`));
  outputs.push(
    await run("db", "create", `${prefix}-app`, "--type", "schema", "--group", `${prefix}-eu`),
  );
  outputs.push(
    await run(
      "db",
      "shell",
      `${prefix}-app`,
      "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
    ),
  );
  for (const n of [1, 2]) {
    outputs.push(
      await run(
        "db",
        "create",
        `${prefix}-t${n}`,
        "--schema",
        `${prefix}-app`,
        "--group",
        `${prefix}-eu`,
      ),
    );
  }
  outputs.push(await run("db", "list", "--group", `${prefix}-eu`));
  outputs.push(await run("db", "list", "--schema", `${prefix}-app`, "--json"));
  outputs.push(await run("db", "show", `${prefix}-t1`));
  outputs.push(await run("db", "show", `${prefix}-t1`, "--url"));
  outputs.push(
    await run("db", "migrate", `${prefix}-app`, "ALTER TABLE users ADD COLUMN plan TEXT"),
  );
  outputs.push(await run("db", "migrations", "list", `${prefix}-app`));
  outputs.push(await run("db", "migrations", "show", `${prefix}-app`, "2"));
  outputs.push(
    await run(
      "db",
      "shell",
      `${prefix}-t2`,
      "INSERT INTO users (name, plan) VALUES ('ann', 'pro')",
    ),
  );
  outputs.push(await run("db", "shell", `${prefix}-t2`, "SELECT id, name, plan FROM users"));
  outputs.push(await run("db", "config", "attach", "allow", `${prefix}-t2`));
  outputs.push(await run("db", "config", "attach", "show", `${prefix}-t2`));
  outputs.push(await run("db", "destroy", `${prefix}-t1`, "--yes"));
  outputs.push(await run("db", "list", "--schema", `${prefix}-app`));
  outputs.push(await run("group", "destroy", `${prefix}-eu`, "--yes"));
  return outputs.map((o) => o.replaceAll(`${prefix}-`, "X-"));
}

describe("the same commands in both modes", () => {
  it("local and remote print the same for the seed scenario", async () => {
    const [local, remote] = await Promise.all(modes.map(scenario));
    expect(remote).toEqual(local);
    const text = local!.join("");
    expect(text).toContain("Created schema database X-app in group X-eu.");
    expect(text).toContain("migration job 2 on X-app: RunSuccess, 2 children, 0 failed");
    expect(text).toMatch(/X-t1\s+child\s+X-app\s+X-eu/);
    expect(text).toContain("ann   pro");
    expect(local![8]).toBe("URL/dev/X-t1/\n");
  });
});

for (const mode of modes) {
  describe(`errors (${mode.name})`, () => {
    it("unknown database, existing database, unknown group, bad names", async () => {
      const f = mode.flags();
      expect((await runCli(["db", "create", "dup", ...f])).code).toBe(0);
      const cases: [string[], RegExp][] = [
        [["db", "show", "nope"], /^DATABASE_NOT_FOUND$/],
        [["db", "shell", "nope", "SELECT 1"], /^DATABASE_NOT_FOUND$/],
        [["db", "destroy", "nope", "--yes"], /^DATABASE_NOT_FOUND$/],
        [["db", "create", "dup"], /^DATABASE_EXISTS$/],
        [["db", "create", "x", "--group", "nope"], /^(GROUP_NOT_FOUND|BAD_REQUEST)$/],
        [["db", "create", "Bad_Name"], /INVALID/],
        [["group", "show", "nope"], /^GROUP_NOT_FOUND$/],
        [["db", "migrations", "list", "dup"], /^SCHEMA_INVALID$/],
        [["db", "migrate", "dup", "SELECT 1"], /^SCHEMA_INVALID$/],
        [["db", "tokens", "create", "dup", "--attach", "nope"], /^DATABASE_NOT_FOUND$/],
        [["db", "tokens", "create", "dup", "--expiration", "soon"], /EXPIRATION|BAD_REQUEST|ARGS/],
        [["db", "shell", "dup", "SELEC nonsense"], /^(SQL_PARSE_ERROR|SQLITE_ERROR)$/],
      ];
      const results = await Promise.all(cases.map(([args]) => runCli([...args, ...f])));
      results.forEach((r, i) => {
        expect(errorCode(r), cases[i]![0].join(" ")).toMatch(cases[i]![1]);
        expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      });
    });

    it("destroy without --yes and without a terminal asks for --yes", async () => {
      const f = mode.flags();
      await runCli(["db", "create", "keep", ...f]);
      const results = await Promise.all(
        [
          ["db", "destroy", "keep"],
          ["db", "tokens", "invalidate", "keep"],
          ["group", "destroy", "default"],
          ["group", "tokens", "invalidate", "default"],
        ].map((args) => runCli([...args, ...f])),
      );
      for (const r of results) expect(errorCode(r)).toBe("CONFIRMATION_REQUIRED");
      expect((await runCli(["db", "show", "keep", ...f])).code).toBe(0);
    });

    it("files: --from-file missing or junk, export onto an existing file, round trips", async () => {
      const f = mode.flags();
      const dir = tempDir();
      await runCli(["db", "create", "src", ...f]);
      await runCli(["db", "shell", "src", "CREATE TABLE t (x); INSERT INTO t VALUES (7)", ...f]);
      const out = join(dir, "src.db");
      const e = await runCli(["db", "export", "src", "--output", out, ...f]);
      expect(e.stdout).toMatch(/^Exported src to .*src\.db \(\d+ bytes\)\.\n$/);
      expect(readFileSync(out).subarray(0, 15).toString()).toBe("SQLite format 3");
      const junk = join(dir, "junk.db");
      writeFileSync(junk, "not a database at all");
      const [missing, exists, junkR] = await Promise.all([
        runCli(["db", "create", "y", "--from-file", join(dir, "no.db"), ...f]),
        runCli(["db", "export", "src", "--output", out, ...f]),
        runCli(["db", "create", "junk", "--from-file", junk, ...f]),
      ]);
      // Successful creates one at a time: concurrent local processes on one data directory
      // can lose catalog updates.
      const copy = await runCli(["db", "create", "copy", "--from-file", out, ...f]);
      const copy2 = await runCli(["db", "create", "copy2", "--from-db", "src", ...f]);
      expect(errorCode(missing)).toBe("FILE_NOT_FOUND");
      expect(errorCode(exists)).toBe("FILE_EXISTS");
      expect(errorCode(junkR)).toMatch(/[A-Z]/);
      expect(copy.code).toBe(0);
      expect(copy2.code).toBe(0);
      const [a, b] = await Promise.all([
        runCli(["db", "shell", "copy", "SELECT x FROM t", ...f]),
        runCli(["db", "shell", "copy2", "SELECT x FROM t", ...f]),
      ]);
      expect(a.stdout).toBe("x\n7\n");
      expect(b.stdout).toBe("x\n7\n");
    });
  });
}

describe("usage errors", () => {
  it("exit 2 with one coded line", async () => {
    const d = ["--data-dir", tempDir()];
    const pending: Promise<void>[] = [];
    for (const [args, code] of [
      [["frobnicate"], "UNKNOWN_COMMAND"],
      [["db", "frob"], "UNKNOWN_COMMAND"],
      [["db"], "ARGS_INVALID"],
      [["db", "inspect", ...d], "ARGS_INVALID"],
      [["db", "import", ...d], "ARGS_INVALID"],
      [["db", "create", "a", "b", ...d], "ARGS_INVALID"],
      [["db", "list", "--bogus", ...d], "ARGS_INVALID"],
      [["db", "list", "--group", ...d], "ARGS_INVALID"],
      [["db", "create", "a", "--type", "weird", ...d], "ARGS_INVALID"],
      [["db", "create", "a", "--enable-encryption", ...d], "ARGS_INVALID"],
      [["db", "config", "attach", "maybe", "a", ...d], "ARGS_INVALID"],
      [["db", "migrations", "show", "a", "x", ...d], "ARGS_INVALID"],
      [["db", "list", "--token", "t", ...d], "ARGS_INVALID"],
      [["db", "list", "--url", "ftp://x"], "ARGS_INVALID"],
      [["dev", "--port", "99999"], "ARGS_INVALID"],
      [["dev", "--workers", "two"], "ARGS_INVALID"],
      [["dev", "--workers", "65"], "ARGS_INVALID"],
      [["dev", "--max-query-ms", "-1"], "ARGS_INVALID"],
      [["dev", "--workers", "0", "--max-query-ms", "5000"], "ARGS_INVALID"],
      // Not a server on memory with the directory silently ignored.
      [["dev", "--port", "0", "--memory", ...d], "ARGS_INVALID"],
    ] as const) {
      pending.push(
        runCli(args).then((r) => {
          expect(errorCode(r), args.join(" ")).toBe(code);
          expect(r.code, args.join(" ")).toBe(2);
          expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
        }),
      );
    }
    await Promise.all(pending);
  });

  it("an unreachable server is one coded line", async () => {
    const r = await runCli(["db", "list", "--url", "http://127.0.0.1:1"]);
    expect(errorCode(r)).toBe("SERVER_UNREACHABLE");
  });
});

describe("tokens", () => {
  it("remote with auth: API token required, never echoed; minted JWTs work and are invalidated", async () => {
    const bad = await runCli(["db", "list", "--url", authServer.url, "--token", "wrong-token-xyz"]);
    expect(errorCode(bad)).toBe("AUTH_API_TOKEN_INVALID");
    expect(bad.stderr).not.toContain("wrong-token-xyz");
    expect(errorCode(await runCli(["db", "list", "--url", authServer.url]))).toBe(
      "AUTH_HEADER_NOT_FOUND",
    );
    const env = { TENANTLITE_API_TOKEN: "api-secret-1", TENANTLITE_URL: authServer.url };
    expect((await runCli(["db", "create", "tok"], { env })).code).toBe(0);
    const jwt = (
      await runCli(["db", "tokens", "create", "tok", "--expiration", "2w"], { env })
    ).stdout.trim();
    expect(jwt).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const ro = (
      await runCli(["db", "tokens", "create", "tok", "--read-only"], { env })
    ).stdout.trim();
    const exec = async (token: string, sql: string) =>
      (
        await fetch(`${authServer.url}/dev/tok/v2/pipeline`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql } }] }),
        })
      ).json() as Promise<{ results?: { type: string }[]; code?: string }>;
    expect((await exec(jwt, "CREATE TABLE t (x)")).results?.[0]?.type).toBe("ok");
    expect((await exec(ro, "INSERT INTO t VALUES (1)")).results?.[0]?.type).toBe("error");
    // The CLI itself works with auth on (it mints its own database JWTs).
    expect(
      (await runCli(["db", "shell", "tok", "SELECT count(*) AS n FROM t"], { env })).stdout,
    ).toBe("n\n0\n");
    const inv = await runCli(["db", "tokens", "invalidate", "tok", "--yes"], { env });
    expect(inv.stdout).toBe("Invalidated all tokens of database tok.\n");
    expect((await exec(jwt, "SELECT 1 AS one")).code).toMatch(/AUTH/);
    const gjwt = (await runCli(["group", "tokens", "create", "default"], { env })).stdout.trim();
    expect((await exec(gjwt, "SELECT 1 AS one")).results?.[0]?.type).toBe("ok");
    expect((await runCli(["group", "tokens", "invalidate", "default", "-y"], { env })).code).toBe(
      0,
    );
    expect((await exec(gjwt, "SELECT 1 AS one")).code).toMatch(/AUTH/);
  });

  it("local tokens are accepted by a server started later on the same data dir", async () => {
    const dir = tempDir();
    await runCli(["db", "create", "acme", "--data-dir", dir]);
    const jwt = (await runCli(["db", "tokens", "create", "acme", "--data-dir", dir])).stdout.trim();
    const s = await startServer({ port: 0, dataDir: dir, auth: true });
    try {
      const res = await fetch(`${s.url}/dev/acme/v2/pipeline`, {
        method: "POST",
        headers: { authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ requests: [{ type: "execute", stmt: { sql: "SELECT 1 AS one" } }] }),
      });
      expect(((await res.json()) as { results: { type: string }[] }).results[0]!.type).toBe("ok");
    } finally {
      await s.close();
    }
  });

  it("encryption (local): key required, never echoed", async () => {
    const d = ["--data-dir", tempDir()];
    const key = "correct horse battery staple";
    expect(
      (
        await runCli([
          "db",
          "create",
          "vault",
          "--enable-encryption",
          "--encryption-key",
          key,
          ...d,
        ])
      ).code,
    ).toBe(0);
    expect((await runCli(["db", "show", "vault", ...d])).stdout).toMatch(/Encrypted:\s+yes/);
    const ok = await runCli([
      "db",
      "shell",
      "vault",
      "CREATE TABLE s (v); INSERT INTO s VALUES ('x'); SELECT v FROM s",
      "--encryption-key",
      key,
      ...d,
    ]);
    expect(ok.stdout).toBe("v\nx\n");
    const wrong = await runCli([
      "db",
      "shell",
      "vault",
      "SELECT 1 AS one",
      "--encryption-key",
      "nope-key-123",
      ...d,
    ]);
    expect(errorCode(wrong)).toMatch(/KEY|ENCRYPT/);
    expect(wrong.stderr).not.toContain("nope-key-123");
    expect(errorCode(await runCli(["db", "shell", "vault", "SELECT 1 AS one", ...d]))).toMatch(
      /KEY|ENCRYPT/,
    );
    const out = join(tempDir(), "v.db");
    expect(
      (await runCli(["db", "export", "vault", "-o", out, "--encryption-key", key, ...d])).code,
    ).toBe(0);
    expect(readFileSync(out).subarray(0, 15).toString()).toBe("SQLite format 3");
    const remote = await runCli([
      "db",
      "create",
      "v2",
      "--enable-encryption",
      "--encryption-key",
      key,
      "--url",
      server.url,
    ]);
    expect(errorCode(remote)).toBe("NOT_SUPPORTED");
    expect(remote.stderr).not.toContain(key);
  });
});

describe("help", () => {
  it("tenantlite --help lists every command with an example; each command's --help has flags and examples", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    const names = [
      "dev",
      "group create",
      "group list",
      "group show",
      "group destroy",
      "group config delete-protection",
      "group tokens create",
      "group tokens invalidate",
      "db create",
      "db list",
      "db show",
      "db destroy",
      "db import",
      "db config attach",
      "db config delete-protection",
      "db inspect",
      "db tokens create",
      "db tokens invalidate",
      "db shell",
      "db export",
      "db migrate",
      "db migrations list",
      "db migrations show",
    ];
    const helps = await Promise.all(names.map((n) => runCli([...n.split(" "), "--help"])));
    names.forEach((n, i) => {
      expect(top.stdout).toContain(`  ${n}`);
      expect(top.stdout).toContain(`e.g. tenantlite ${n}`);
      expect(helps[i]!.code, n).toBe(0);
      expect(helps[i]!.stdout).toContain(`Usage: tenantlite ${n}`);
      expect(helps[i]!.stdout).toMatch(/Examples:\n {2}tenantlite /);
    });
    expect((await runCli(["db", "create", "--help"])).stdout).toContain("--from-file <file.db>");
    expect((await runCli(["db", "--help"])).stdout).toContain("db shell <db|url> [SQL]");
    expect((await runCli(["help", "db", "shell"])).stdout).toContain("--attach <a,b>");
  });
});

describe("output that cannot be written (a full disk)", () => {
  it("db export fails with FILE_WRITE_FAILED, leaves no part of a file, and keeps the one --overwrite was replacing", async () => {
    const f = ["--url", server.url];
    await runCli(["db", "create", "fat", ...f]);
    await runCli(["db", "shell", "fat", "CREATE TABLE t AS SELECT randomblob(300000) AS b", ...f]);
    const dir = tempDir();
    const out = join(dir, "fat.db");
    writeFileSync(out, "the previous backup");
    // ulimit -f 64: no file this process writes may grow past 64 KiB (a full disk, for it).
    const r = await runCli(["db", "export", "fat", "-o", out, "--overwrite", ...f], {
      fileSizeLimitKiB: 64,
    });
    expect(errorCode(r)).toBe("FILE_WRITE_FAILED");
    expect(r.stderr).toMatch(
      /\(EFBIG: check that its directory has free space\).*nothing was written/,
    );
    expect(r.stderr).not.toContain(dir);
    expect(readFileSync(out, "utf8")).toBe("the previous backup");
    expect(readdirSync(dir)).toEqual(["fat.db"]);
    const nowhere = await runCli(["db", "export", "fat", "-o", join(dir, "no", "x.db"), ...f]);
    expect(nowhere.stderr).toContain("(the directory it goes in does not exist)");
    // With room, the same command replaces it.
    expect((await runCli(["db", "export", "fat", "-o", out, "--overwrite", ...f])).code).toBe(0);
    expect(readFileSync(out).subarray(0, 15).toString()).toBe("SQLite format 3");
  });

  it("prints a table of 150,000 rows (widths were found with Math.max(...rows): a stack overflow)", async () => {
    const f = ["--url", server.url];
    await runCli(["db", "create", "tall", ...f]);
    const sql =
      "SELECT n, 'x' AS s FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 150000) SELECT n FROM c)";
    const r = await runCli(["db", "shell", "tall", sql, ...f]);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(150_001);
    expect(lines[0]).toBe("n       s");
    expect(lines.at(-1)).toBe("150000  x");
  });

  it("output to a full device fails the command (FILE_WRITE_FAILED, exit 1); a reader gone does not", async () => {
    const f = ["--url", server.url];
    await runCli(["db", "create", "out", ...f]);
    // Asynchronously: the server answering it runs in this process.
    const run = (file: string, args: string[], stdout: "pipe" | number) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(file, args, { stdio: ["ignore", stdout, "pipe"] });
        let out = "";
        let err = "";
        child.stdout?.setEncoding("utf8").on("data", (d: string) => {
          out += d;
        });
        child.stderr!.setEncoding("utf8").on("data", (d: string) => {
          err += d;
        });
        child.on("close", (status) => resolve({ status, stdout: out, stderr: err }));
      });
    const full = await run(
      process.execPath,
      [BUNDLE, "db", "shell", "out", ".dump", ...f],
      openSync("/dev/full", "w"),
    );
    expect(full.status).toBe(1);
    expect(full.stderr).toBe(
      "error: FILE_WRITE_FAILED: could not write the output (ENOSPC): check that where it goes has free space\n",
    );
    const script = `"${process.execPath}" "${BUNDLE}" db shell out "SELECT * FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 20000) SELECT n FROM c)" --url ${server.url} | head -c 10`;
    const head = await run(
      "/bin/bash",
      ["-c", `${script} >/dev/null; echo "\${PIPESTATUS[0]}"`],
      "pipe",
    );
    expect(head.stderr).toBe("");
    expect(head.stdout).toBe("0\n");
  });
});
