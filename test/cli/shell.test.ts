/**
 * `db shell` as a subprocess: one-shot SQL, piped scripts with dot commands, the REPL in a
 * pseudo-terminal (`script`), and `--attach` sessions in both modes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { buildCli, errorCode, runCli, runCliInPty } from "./helpers.js";

const tempDir = useTempDirs("tl-cli-", { scope: "file" });

let server: RunningServer;
let authServer: RunningServer;
const local = ["--data-dir", tempDir()];

beforeAll(async () => {
  await buildCli();
  server = await startServer({ port: 0, memory: true });
  authServer = await startServer({ port: 0, memory: true, auth: true, apiToken: "k" });
  await Promise.all([
    runCli(["db", "create", "acme", ...local]),
    server.platform.createDatabase("acme"),
  ]);
});

afterAll(async () => {
  await server?.close();
  await authServer?.close();
});

const SCRIPT = `CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT,
  score REAL,
  pic BLOB
);
CREATE INDEX users_name ON users(name);
INSERT INTO users VALUES (1, 'ann', 1.5, x'0102'), (2, 'bob, jr', NULL, NULL);
.tables
.indexes users
.schema users
.mode csv
SELECT id, name FROM users ORDER BY id;
.headers off
SELECT id, name FROM users ORDER BY id;
.headers on
.mode json
SELECT * FROM users ORDER BY id;
.mode line
SELECT id, score FROM users WHERE id = 1;
.mode table
SELECT * FROM users ORDER BY id;
`;

describe("db shell, non-interactive", () => {
  for (const [mode, flags] of [
    ["local", () => local],
    ["remote", () => ["--url", server.url]],
  ] as const) {
    it(`runs a piped script with dot commands (${mode})`, async () => {
      const r = await runCli(["db", "shell", "acme", ...flags()], { input: SCRIPT });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(
        [
          "users",
          "users_name",
          "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  name TEXT,\n  score REAL,\n  pic BLOB\n);",
          "CREATE INDEX users_name ON users(name);",
          'id,name\r\n1,ann\r\n2,"bob, jr"\r',
          '1,ann\r\n2,"bob, jr"\r',
          '[{"id":1,"name":"ann","score":1.5,"pic":{"base64":"AQI="}},{"id":2,"name":"bob, jr","score":null,"pic":null}]',
          "   id = 1",
          "score = 1.5",
          "id  name     score  pic",
          "1   ann      1.5    X'0102'",
          "2   bob, jr  NULL   NULL",
          "",
        ].join("\n"),
      );
      // .dump recreates the database elsewhere.
      const dump = await runCli(["db", "shell", "acme", ".dump", ...flags()]);
      expect(dump.stdout).toContain("INSERT INTO \"users\" VALUES(1,'ann',1.5,X'0102');");
      const file = join(tempDir(), "dump.sql");
      writeFileSync(file, dump.stdout);
      await runCli(["db", "create", `copy-${mode}`, ...flags()]);
      const read = await runCli(["db", "shell", `copy-${mode}`, ...flags()], {
        input: `.read ${file}\n.timer on\nSELECT count(*) AS n FROM users;\n`,
      });
      expect(read.stdout).toMatch(/^n\n2\nRun Time: real \d+\.\d{3}\n$/);
    });
  }

  it("one statement as an argument; a script stops at its first error with one coded line", async () => {
    const one = await runCli([
      "db",
      "shell",
      "acme",
      "SELECT name FROM users WHERE id = 2",
      ...local,
    ]);
    expect(one.stdout).toBe("name\nbob, jr\n");
    const r = await runCli(["db", "shell", "acme", ...local], {
      input: "SELECT 1 AS a;\nSELECT * FROM missing;\nSELECT 2 AS b;\n",
    });
    expect(r.stdout).toBe("a\n1\n");
    expect(errorCode(r)).toBe("SQLITE_ERROR");
    expect(r.code).toBe(1);
    const bad = await runCli(["db", "shell", "acme", ".mode fancy", ...local]);
    expect(errorCode(bad)).toBe("ARGS_INVALID");
    const unknown = await runCli(["db", "shell", "acme", ".frob", ...local]);
    expect(errorCode(unknown)).toBe("UNKNOWN_COMMAND");
    const noFile = await runCli(["db", "shell", "acme", ".read /nonexistent/x.sql", ...local]);
    expect(errorCode(noFile)).toBe("FILE_NOT_FOUND");
  });
});

describe("db shell, interactive (pseudo-terminal)", () => {
  it("multi-line statements, dot commands, errors that do not end the session, history", async () => {
    const history = join(tempDir(), "history");
    const r = await runCliInPty(["db", "shell", "acme", ...local], {
      input:
        "SELECT\n  41 + 1\n  AS answer;\n.mode csv\nSELECT * FROM nope;\nSELECT 'still here' AS s;\n.quit\n",
      env: { TENANTLITE_HISTORY_FILE: history },
    });
    const out = r.stdout.replace(/\r/g, "");
    expect(out).toContain("Connected to acme");
    expect(out).toContain("→  ");
    expect(out).toContain("...  ");
    expect(out).toMatch(/answer\s*\n42\n/);
    expect(out).toContain("error: SQLITE_ERROR: ");
    expect(out).toContain("s\nstill here\n");
    expect(r.code).toBe(0);
    expect(readFileSync(history, "utf8")).toContain(".mode csv\n");
  });
});

describe("db shell --attach", () => {
  it("local: ATTACH lasts across statements; only the named databases may be attached", async () => {
    const d = ["--data-dir", tempDir()];
    // One at a time: concurrent local processes on one data directory can lose catalog updates.
    for (const n of ["main-db", "shared", "other"]) await runCli(["db", "create", n, ...d]);
    await runCli(["db", "shell", "shared", "CREATE TABLE s (x); INSERT INTO s VALUES (42)", ...d]);
    const notAllowed = await runCli(["db", "shell", "main-db", "--attach", "shared", ...d], {
      input: 'ATTACH "shared" AS sh;\n',
    });
    expect(errorCode(notAllowed)).toBe("ATTACH_FORBIDDEN");
    for (const n of ["shared", "other"]) await runCli(["db", "config", "attach", "allow", n, ...d]);
    const ok = await runCli(["db", "shell", "main-db", "--attach", "shared", ...d], {
      input: 'ATTACH "shared" AS sh;\nSELECT x FROM sh.s;\n',
    });
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toBe("x\n42\n");
    // As sqlite3's shell: attached databases' objects listed as alias.name.
    const listed = await runCli(["db", "shell", "main-db", "--attach", "shared", ...d], {
      input:
        'CREATE TABLE m (y);\nATTACH "shared" AS sh;\n.tables\n.schema\n.schema sh.s\n.indexes\n',
    });
    expect(listed.stderr).toBe("");
    expect(listed.stdout).toBe(
      "m\nsh.s\nCREATE TABLE m (y);\nCREATE TABLE sh.s (x);\nCREATE TABLE sh.s (x);\n",
    );
    const other = await runCli(["db", "shell", "main-db", "--attach", "shared", ...d], {
      input: 'ATTACH "other" AS o;\n',
    });
    expect(errorCode(other)).toBe("ATTACH_FORBIDDEN");
    expect(
      errorCode(await runCli(["db", "shell", "main-db", "SELECT 1", "--attach", "nope", ...d])),
    ).toBe("DATABASE_NOT_FOUND");
  });

  it("remote with auth: a minted attach token over a WebSocket, piped and in a terminal", async () => {
    const env = { TENANTLITE_URL: authServer.url, TENANTLITE_API_TOKEN: "k" };
    for (const n of ["tenant", "shared"]) await authServer.platform.createDatabase(n);
    await authServer.platform.updateConfig("shared", { allow_attach: true });
    await authServer.platform.client("shared").execute("CREATE TABLE s (x)");
    await authServer.platform.client("shared").execute("INSERT INTO s VALUES (7)");
    const input = 'ATTACH "shared" AS sh;\nSELECT x FROM sh.s;\n';
    const without = await runCli(["db", "shell", "tenant"], { input, env });
    expect(errorCode(without)).toBe("ATTACH_FORBIDDEN");
    const withAttach = await runCli(["db", "shell", "tenant", "--attach", "shared"], {
      input,
      env,
    });
    expect(withAttach.stderr).toBe("");
    expect(withAttach.stdout).toBe("x\n7\n");
    const pty = await runCliInPty(["db", "shell", "tenant", "--attach", "shared"], {
      input: `${input}.quit\n`,
      env: { ...env, TENANTLITE_HISTORY_FILE: join(tempDir(), "h") },
    });
    expect(pty.stdout.replace(/\r/g, "")).toMatch(/x\n7\n/);
    expect(pty.stdout).not.toContain("error:");
  });
});

describe("db shell <url>", () => {
  it("a database URL instead of a name: http, libsql://…?tls=0, <db>.localhost, a token in the query", async () => {
    await server.platform.createDatabase("by-url");
    const c = server.platform.client("by-url");
    await c.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    await c.execute("INSERT INTO users (name) VALUES ('ann'), ('bob')");
    const host = new URL(server.url).host;
    const port = new URL(server.url).port;
    for (const url of [
      `${server.url}/dev/by-url/`,
      `${server.url}/dev/by-url`,
      `libsql://${host}/dev/by-url?tls=0`,
      `ws://${host}/dev/by-url/`,
      `http://by-url.localhost:${port}`,
    ]) {
      const r = await runCli(["db", "shell", url, "SELECT count(*) AS n FROM users"]);
      expect(r.stderr, url).toBe("");
      expect(r.stdout, url).toBe("n\n2\n");
    }
    const piped = await runCli(["db", "shell", `${server.url}/dev/by-url/`], {
      input: ".tables\nSELECT name FROM users WHERE id = 1;\n",
    });
    expect(piped.stdout).toBe("users\nname\nann\n");
    const pty = await runCliInPty(["db", "shell", `${server.url}/dev/by-url/`], {
      input: "SELECT 40 + 2 AS n;\n.quit\n",
      env: { TENANTLITE_HISTORY_FILE: join(tempDir(), "h") },
    });
    const out = pty.stdout.replace(/\r/g, "");
    expect(out).toContain(`Connected to by-url (${server.url}/dev/by-url/)`);
    expect(out).toMatch(/n\n42\n/);

    const tls = await runCli(["db", "shell", `libsql://${host}/dev/by-url`, "SELECT 1"]);
    expect(errorCode(tls)).toBe("URL_TLS_MISMATCH");
    expect(tls.stderr).toContain("?tls=0");
    const withFlag = await runCli(["db", "shell", `${server.url}/dev/by-url/`, "--attach", "x"]);
    expect(errorCode(withFlag)).toBe("ARGS_INVALID");

    // With auth on the token comes in the URL, as turso reads it; it never shows in errors.
    await authServer.platform.createDatabase("locked");
    const base = `${authServer.url}/dev/locked/`;
    const denied = await runCli(["db", "shell", base, "SELECT 1 AS one"]);
    expect(errorCode(denied)).toMatch(/^AUTH_/);
    const env = { TENANTLITE_URL: authServer.url, TENANTLITE_API_TOKEN: "k" };
    const jwt = (await runCli(["db", "tokens", "create", "locked"], { env })).stdout.trim();
    for (const q of ["authToken", "auth_token", "jwt"]) {
      const r = await runCli(["db", "shell", `${base}?${q}=${jwt}`, "SELECT 1 AS one"]);
      expect(r.stdout, q).toBe("one\n1\n");
    }
    const bad = await runCli(["db", "shell", `${base}?authToken=not-a-jwt-123`, "SELECT 1"]);
    expect(errorCode(bad)).toMatch(/^AUTH_/);
    expect(bad.stderr).not.toContain("not-a-jwt-123");
  });
});
