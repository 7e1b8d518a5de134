/**
 * The commands and flags turso users type, in both modes (a temp data directory, and a memory
 * server through --url): db import, db inspect, delete protection for databases and groups,
 * db create without a name, -e/-r, -g/-s, db export --output-file.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { buildCli, errorCode, runCli } from "./helpers.js";

const tempDir = useTempDirs("tl-cli-", { scope: "file" });

let server: RunningServer;

beforeAll(async () => {
  await buildCli();
  server = await startServer({ port: 0, memory: true });
});

afterAll(async () => {
  await server?.close();
});

const modes = [
  ["local", () => ["--data-dir", tempDir()]],
  ["remote", () => ["--url", server.url]],
] as const;

for (const [mode, flagsOf] of modes) {
  describe(`turso's commands (${mode})`, () => {
    it("db export --output-file, db import <file> (named after it), db inspect", async () => {
      const f = flagsOf();
      const p = mode[0]!; // names unique per mode: the remote server is shared
      const run = async (...args: string[]) => {
        const r = await runCli([...args, ...f]);
        expect(r.stderr, args.join(" ")).toBe("");
        return r.stdout;
      };
      await run("db", "create", `${p}-src`);
      await run(
        "db",
        "shell",
        `${p}-src`,
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX users_name ON users(name); CREATE VIEW names AS SELECT name FROM users; INSERT INTO users (name) VALUES ('ann'), ('bob'), ('cy')",
      );
      const dir = tempDir();
      const file = join(dir, "out.db");
      expect(await run("db", "export", `${p}-src`, "--output-file", file)).toMatch(
        /^Exported .* \((\d+) bytes\)\.\n$/,
      );
      const size = readFileSync(file).byteLength;
      const both = await runCli(["db", "export", `${p}-src`, "--output-file", file, "-o", file]);
      expect(errorCode(both)).toBe("ARGS_INVALID");

      // turso's naming: the base name without a SQLite extension.
      const shop = join(dir, `${p}-shop.SQLite3`); // the extension in any case
      copyFileSync(file, shop);
      expect(await run("db", "import", shop)).toBe(
        `Created database ${p}-shop in group default.\nURL: ${mode === "local" ? "http://127.0.0.1:8080" : server.url}/dev/${p}-shop/\n`,
      );
      expect(await run("db", "shell", `${p}-shop`, "SELECT count(*) AS n FROM users")).toBe(
        "n\n3\n",
      );
      const bad = join(dir, "My_Data.db");
      copyFileSync(file, bad);
      const invalid = await runCli(["db", "import", bad, ...f]);
      expect(errorCode(invalid)).toBe("NAME_INVALID");
      expect(invalid.stderr).toContain('"My_Data"');
      expect(invalid.stderr).toContain("--from-file");
      expect(errorCode(await runCli(["db", "import", join(dir, "none.db"), ...f]))).toBe(
        "FILE_NOT_FOUND",
      );
      expect(errorCode(await runCli(["db", "import", shop, ...f]))).toBe("DATABASE_EXISTS");

      expect(await run("db", "inspect", `${p}-shop`)).toBe(
        `Total space used: ${size < 10_000 ? `${(size / 1000).toFixed(1)}` : Math.round(size / 1000)} kB\nTables: 1\nViews: 1\nIndexes: 1\n`,
      );
      expect(await run("db", "inspect", `${p}-shop`, "--verbose")).toMatch(
        /\n\nNAME +TYPE +ROWS\nusers +table +3\nnames +view +-\nusers_name +index +-\n$/,
      );
      const json = JSON.parse(await run("db", "inspect", `${p}-shop`, "--json")) as Record<
        string,
        unknown
      >;
      expect(json).toEqual({
        name: `${p}-shop`,
        storage_bytes: size,
        tables: 1,
        views: 1,
        indexes: 1,
      });
      expect(errorCode(await runCli(["db", "inspect", "nope", ...f]))).toBe("DATABASE_NOT_FOUND");
    });

    it("delete protection: databases and groups refuse to be destroyed until it is disabled", async () => {
      const f = flagsOf();
      const p = mode[0]!;
      const run = async (...args: string[]) => {
        const r = await runCli([...args, ...f]);
        expect(r.stderr, args.join(" ")).toBe("");
        expect(r.code).toBe(0);
        return r.stdout;
      };
      await run("group", "create", `${p}-g`);
      await run("db", "create", `${p}-keep`, "--group", `${p}-g`);
      expect(await run("db", "config", "delete-protection", "show", `${p}-keep`)).toBe(
        "Delete Protection off\n",
      );
      expect(await run("db", "config", "delete-protection", "enable", `${p}-keep`)).toBe(
        `Delete protection on for database ${p}-keep.\n`,
      );
      expect(await run("db", "config", "delete-protection", "show", `${p}-keep`)).toBe(
        "Delete Protection on\n",
      );
      expect(await run("db", "show", `${p}-keep`)).toMatch(/Delete protection: +yes/);
      const refused = await runCli(["db", "destroy", `${p}-keep`, "--yes", ...f]);
      expect(errorCode(refused)).toBe("DATABASE_PROTECTED");
      expect(refused.stderr).toContain(
        `first run: tenantlite db config delete-protection disable ${p}-keep`,
      );
      // The group holding it cannot go either, and says which database is the reason.
      const groupRefused = await runCli(["group", "destroy", `${p}-g`, "--yes", ...f]);
      expect(errorCode(groupRefused)).toBe("DATABASE_PROTECTED");
      expect(groupRefused.stderr).toContain(`disable ${p}-keep`);
      await run("db", "config", "delete-protection", "disable", `${p}-keep`);

      expect(await run("group", "config", "delete-protection", "enable", `${p}-g`)).toBe(
        `Delete protection on for group ${p}-g.\n`,
      );
      expect(await run("group", "config", "delete-protection", "show", `${p}-g`)).toBe(
        "Delete Protection on\n",
      );
      const g = await runCli(["group", "destroy", `${p}-g`, "--yes", ...f]);
      expect(errorCode(g)).toBe("GROUP_PROTECTED");
      expect(g.stderr).toContain(
        `first run: tenantlite group config delete-protection disable ${p}-g`,
      );
      expect(await run("db", "list", "-g", `${p}-g`)).toMatch(new RegExp(`${p}-keep`));
      await run("group", "config", "delete-protection", "disable", `${p}-g`);
      expect(await run("group", "destroy", `${p}-g`, "--yes")).toBe(`Destroyed group ${p}-g.\n`);
      for (const args of [
        ["db", "config", "delete-protection", "maybe", `${p}-keep`],
        ["group", "config", "delete-protection", "on", "default"],
      ]) {
        const r = await runCli([...args, ...f]);
        expect(errorCode(r)).toBe("ARGS_INVALID");
        expect(r.code).toBe(2);
      }
      expect(
        errorCode(await runCli(["db", "config", "delete-protection", "show", "nope", ...f])),
      ).toBe("DATABASE_NOT_FOUND");
    });

    it("db create without a name makes up an adjective-noun one; -e/-r and -g/-s are turso's short flags", async () => {
      const f = flagsOf();
      const made = await runCli(["db", "create", ...f]);
      const m = /^Created database ([a-z]+-[a-z]+) in group default\.\n/.exec(made.stdout);
      expect(m, made.stdout + made.stderr).not.toBeNull();
      const name = m![1]!;
      expect((await runCli(["db", "show", name, ...f])).code).toBe(0);
      const jwt = (await runCli(["db", "tokens", "create", name, "-e", "1d", "-r", ...f])).stdout;
      const claims = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as {
        a?: string;
        exp?: number;
      };
      expect(claims.a).toBe("ro");
      expect(claims.exp! - Date.now() / 1000).toBeGreaterThan(23 * 3600);
      expect(claims.exp! - Date.now() / 1000).toBeLessThan(25 * 3600);
      expect((await runCli(["db", "list", "-g", "default", ...f])).stdout).toContain(name);
      const parent = `${mode[0]}-parent`;
      await runCli(["db", "create", parent, "--type", "schema", ...f]);
      await runCli(["db", "create", `${mode[0]}-kid`, "--schema", parent, ...f]);
      expect((await runCli(["db", "list", "-s", parent, ...f])).stdout).toMatch(
        new RegExp(`^NAME .*\\n${mode[0]}-kid +child +${parent} `),
      );
    });
  });
}
