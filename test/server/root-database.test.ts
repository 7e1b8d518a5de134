/**
 * `turso dev` addressing: the root URL serves a database (`default` in the data directory, or
 * the SQLite file given with `--db-file`), over http, ws and `libsql://…?tls=0`, through the real
 * `@libsql/client`; a `/dev/<db>` URL without its slash, and TLS on the plain port, say what to
 * write instead.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import initSqlJs from "sql.js";
import { describe, expect, it } from "vitest";
import { startServer } from "../../src/node/server.js";
import { caught, useTempDirs } from "../helpers.js";

const tempDir = useTempDirs("tl-root-", { scope: "file" });

/** Reads a SQLite file with a separate SQLite (sql.js opened on the bytes), as sqlite3 would. */
async function readWithSqlite(path: string, sql: string): Promise<unknown[][]> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(readFileSync(path));
  try {
    return db.exec(sql)[0]?.values ?? [];
  } finally {
    db.close();
  }
}

describe("the root URL", () => {
  it("serves database default over http, ws and libsql://?tls=0, kept in the data directory", async () => {
    const dataDir = tempDir();
    let server = await startServer({ port: 0, dataDir, consoleDir: false });
    expect(server.rootDatabase).toBe("default");
    const urls = [server.url, server.wsUrl, `libsql://127.0.0.1:${server.port}?tls=0`];
    for (const [i, url] of urls.entries()) {
      const c = createClient({ url });
      await c.execute("CREATE TABLE IF NOT EXISTS t(x INTEGER)");
      await c.execute({ sql: "INSERT INTO t VALUES (?)", args: [i] });
      c.close();
    }
    // The same rows at /dev/default/: the root URL is that database, not another one.
    const named = createClient({ url: `${server.url}/dev/default/` });
    expect((await named.execute("SELECT count(*) AS n FROM t")).rows[0]?.n).toBe(3);
    named.close();
    await server.close();

    server = await startServer({ port: 0, dataDir, consoleDir: false });
    const again = createClient({ url: server.url });
    expect((await again.execute("SELECT group_concat(x) AS xs FROM t")).rows[0]?.xs).toBe("0,1,2");
    again.close();
    expect((await server.platform.listDatabases()).map((d) => d.name)).toEqual(["default"]);
    await server.close();
  });

  it("says so when the root database was deleted, and when there is none", async () => {
    const server = await startServer({ port: 0, memory: true, consoleDir: false });
    await server.platform.deleteDatabase("default");
    const c = createClient({ url: server.url });
    const gone = await caught(c.execute("SELECT 1"));
    expect(gone.message).toMatch(/root URL serves database "default".*db create default/);
    c.close();
    await server.close();

    const none = await startServer({
      port: 0,
      memory: true,
      consoleDir: false,
      rootDatabase: false,
    });
    const n = createClient({ url: none.url });
    expect((await caught(n.execute("SELECT 1"))).message).toMatch(/No database selected/);
    n.close();
    expect(await none.platform.listDatabases()).toEqual([]);
    await none.close();
  });

  it("answers /dev/<db> without its slash with the fix, over http; ws takes it as is", async () => {
    const server = await startServer({ port: 0, memory: true, consoleDir: false });
    await server.platform.createDatabase("acme");
    const c = createClient({ url: `${server.url}/dev/acme` });
    const e = await caught(c.execute("SELECT 1"));
    expect(e.message).toMatch(/URL_MISSING_SLASH.*\/dev\/<database>\//);
    c.close();
    const ws = createClient({ url: `${server.wsUrl}/dev/acme` });
    await ws.execute("CREATE TABLE only_acme(x)");
    ws.close();
    const check = createClient({ url: `${server.url}/dev/acme/` });
    expect((await check.execute("SELECT name FROM sqlite_schema")).rows.map((r) => r.name)).toEqual(
      ["only_acme"],
    );
    check.close();
    await server.close();
  });

  it("tells the server's user when a client tries TLS on the plain port", async () => {
    const lines: string[] = [];
    const server = await startServer({
      port: 0,
      memory: true,
      consoleDir: false,
      warn: (l) => lines.push(l),
    });
    const c = createClient({ url: `libsql://127.0.0.1:${server.port}` });
    await expect(c.execute("SELECT 1")).rejects.toThrow();
    c.close();
    expect(lines).toEqual([expect.stringMatching(/^TLS_NOT_SUPPORTED: .*\?tls=0/)]);
    await server.close();
  });
});

describe("--db-file", () => {
  it("serves a new file at the root; it stays a SQLite file that SQLite reads between writes", async () => {
    const file = join(tempDir(), "local.db");
    const server = await startServer({ port: 0, dbFile: file, consoleDir: false });
    const c = createClient({ url: server.url });
    await c.batch(["CREATE TABLE t(x TEXT)", "INSERT INTO t VALUES ('a'), ('b')"], "write");
    expect(await readWithSqlite(file, "SELECT group_concat(x) FROM t")).toEqual([["a,b"]]);
    expect(await readWithSqlite(file, "PRAGMA integrity_check")).toEqual([["ok"]]);
    // Other databases live in memory beside it.
    await server.platform.createDatabase("other");
    c.close();
    // Deleting the database leaves the user's file alone.
    await server.platform.deleteDatabase("default");
    expect(statSync(file).size).toBeGreaterThan(0);
    await server.close();
  });

  it("serves an existing file, WAL mode kept, and refuses what it cannot serve", async () => {
    const dir = tempDir();
    const SQL = await initSqlJs();
    const src = new SQL.Database();
    src.run("CREATE TABLE a(x); INSERT INTO a VALUES (42)");
    const image = src.export();
    src.close();
    image[18] = 2;
    image[19] = 2; // a file left in WAL mode, as sqlite3 / libSQL leave theirs
    const file = join(dir, "app.db");
    writeFileSync(file, image);

    const server = await startServer({ port: 0, dbFile: file, consoleDir: false });
    const c = createClient({ url: server.url });
    expect((await c.execute("SELECT x FROM a")).rows[0]?.x).toBe(42);
    await c.execute("INSERT INTO a VALUES (43)");
    c.close();
    await server.close();
    const bytes = readFileSync(file);
    expect([bytes[18], bytes[19]]).toEqual([2, 2]);
    expect(await readWithSqlite(file, "SELECT group_concat(x) FROM a")).toEqual([["42,43"]]);

    writeFileSync(`${file}-wal`, "not empty");
    const busy = await caught(startServer({ port: 0, dbFile: file, consoleDir: false }));
    expect(busy).toBeTenantliteError("DB_FILE_IN_USE");
    rmSync(`${file}-wal`);

    const text = join(dir, "notes.txt");
    writeFileSync(text, "hello, not a database");
    const invalid = await caught(startServer({ port: 0, dbFile: text, consoleDir: false }));
    expect(invalid).toBeTenantliteError("DB_FILE_INVALID");
    expect(invalid.message).not.toContain(dir);
    expect(readFileSync(text, "utf8")).toBe("hello, not a database");

    mkdirSync(join(dir, "folder"));
    const folder = await caught(
      startServer({ port: 0, dbFile: join(dir, "folder"), consoleDir: false }),
    );
    expect(folder).toBeTenantliteError("DB_FILE_INVALID");
    const both = await caught(
      startServer({ port: 0, dbFile: file, dataDir: dir, consoleDir: false }),
    );
    expect(both).toBeTenantliteError("ARGS_INVALID");
  });
});
