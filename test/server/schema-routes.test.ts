/**
 * Schema rules hold by every route (issue 15, points 5 and 6), over the real server with a data
 * directory: a child's schema cannot be edited behind SQLite's back (`writable_schema`, writes to
 * `sqlite_schema`), and every write to a parent is a migration — also inside a client's write
 * transaction's `executeMultiple`, a Hrana `sequence` inside `BEGIN … COMMIT`, and a `sequence`
 * holding only `BEGIN`. After a restart the family is whole and still migrates.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { keys } from "../../src/storage/keyspace.js";
import { caught, useTempDirs } from "../helpers.js";
import { pipeline } from "./helpers.js";

let dir: string;
const tempDir = useTempDirs("tenantlite-schema-routes-", { scope: "file" });
let server: RunningServer;
const clients: Client[] = [];

async function start(): Promise<void> {
  server = await startServer({ port: 0, dataDir: dir, consoleDir: false });
}
function client(name: string): Client {
  const c = createClient({ url: `${server.url}/dev/${name}/` });
  clients.push(c);
  return c;
}
const stmt = (sql: string) => ({ sql, args: [], named_args: [], want_rows: true });
// biome-ignore lint/suspicious/noExplicitAny: wire JSON is inspected field by field
type Json = any;

beforeAll(async () => {
  dir = tempDir();
  await start();
  await server.platform.createDatabase("app", { type: "schema" });
  await client("app").execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
  for (const name of ["c1", "c2"]) {
    await server.platform.createDatabase(name, { schema: "app" });
    await client(name).execute({ sql: "INSERT INTO users (name) VALUES (?)", args: [name] });
  }
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

async function schemaOf(name: string): Promise<string> {
  const rs = await client(name).execute(
    "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
  );
  return JSON.stringify(rs.rows);
}

const edits = [
  "PRAGMA writable_schema = ON",
  "PRAGMA writable_schema = 1",
  "PRAGMA main.writable_schema = RESET",
  "UPDATE sqlite_schema SET sql = 'CREATE TABLE users (id INTEGER PRIMARY KEY)' WHERE name = 'users'",
  "UPDATE main.sqlite_master SET name = 'x' WHERE name = 'users'",
  "INSERT INTO sqlite_master VALUES ('table', 'ghost', 'ghost', 99, 'CREATE TABLE ghost (a)')",
  "DELETE FROM sqlite_schema WHERE name = 'users'",
  "WITH s AS (SELECT 1) DELETE FROM sqlite_schema WHERE name = 'users'",
];

describe("a schema child's schema cannot be edited by any route", () => {
  it.each(edits)(
    "refuses %j through execute, batch, transaction, executeMultiple, sequence and stored SQL",
    async (sql) => {
      const before = await schemaOf("c1");
      const c = client("c1");
      await expect(c.execute(sql)).rejects.toBeTenantliteError(
        "DDL_FORBIDDEN",
        /"c1" takes its schema from "app"; run the change on "app" and it reaches every child/,
      );
      await expect(c.batch(["SELECT 1", sql], "write")).rejects.toBeTenantliteError(
        "DDL_FORBIDDEN",
      );
      const tx = await c.transaction("write");
      await expect(tx.execute(sql)).rejects.toBeTenantliteError("DDL_FORBIDDEN");
      tx.close();
      await expect(
        c.executeMultiple(`PRAGMA writable_schema = ON; ${sql};`),
      ).rejects.toBeTenantliteError("DDL_FORBIDDEN");
      const url = `${server.url}/dev/c1/v2/pipeline`;
      const r = await pipeline(url, {
        requests: [
          { type: "sequence", sql: `SELECT 1; ${sql};` },
          { type: "store_sql", sql_id: 1, sql },
          { type: "execute", stmt: { sql_id: 1, args: [], named_args: [], want_rows: true } },
          {
            type: "batch",
            batch: {
              steps: [{ stmt: stmt("BEGIN") }, { stmt: stmt(sql) }, { stmt: stmt("ROLLBACK") }],
            },
          },
          { type: "close" },
        ],
      });
      const results = r.body.results as Json[];
      expect(results[0].error.code).toBe("DDL_FORBIDDEN");
      expect(results[2].error.code).toBe("DDL_FORBIDDEN");
      expect(results[3].response.result.step_errors[1].code).toBe("DDL_FORBIDDEN");
      expect(await schemaOf("c1")).toBe(before);
    },
  );
});

describe("every write to a schema parent is a migration", () => {
  async function migrations(): Promise<number> {
    return (await server.platform.listMigrations("app")).migrations.length;
  }
  async function columns(name: string): Promise<string[]> {
    const rs = await client(name).execute("SELECT name FROM pragma_table_info('users')");
    return rs.rows.map((r) => String(r.name));
  }

  it("executeMultiple inside a client's write transaction", async () => {
    const jobs = await migrations();
    const tx = await client("app").transaction("write");
    await tx.executeMultiple("ALTER TABLE users ADD COLUMN a1 TEXT");
    await tx.commit();
    for (const name of ["app", "c1", "c2"]) expect(await columns(name)).toContain("a1");
    expect(await migrations()).toBe(jobs + 1);
  });

  it("a Hrana sequence between BEGIN and COMMIT, and a sequence holding only BEGIN", async () => {
    const url = `${server.url}/dev/app/v2/pipeline`;
    for (const [i, requests] of [
      [
        { type: "execute", stmt: stmt("BEGIN") },
        { type: "sequence", sql: "ALTER TABLE users ADD COLUMN a2 TEXT;" },
        { type: "execute", stmt: stmt("COMMIT") },
      ],
      [
        { type: "sequence", sql: "BEGIN" },
        { type: "execute", stmt: stmt("ALTER TABLE users ADD COLUMN a3 TEXT") },
        { type: "execute", stmt: stmt("COMMIT") },
      ],
    ].entries()) {
      const jobs = await migrations();
      const r = await pipeline(url, { requests: [...(requests as object[]), { type: "close" }] });
      expect(r.status).toBe(200);
      for (const result of r.body.results as Json[]) expect(result.type).toBe("ok");
      const column = `a${i + 2}`;
      for (const name of ["app", "c1", "c2"]) expect(await columns(name)).toContain(column);
      expect(await migrations()).toBe(jobs + 1);
    }
    expect(await server.platform.checkSchemas("app")).toEqual([]);
  });
});

describe("after a restart", () => {
  it("every child is readable, at its parent's schema, and the family still migrates", async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
    await start();
    const parent = await schemaOf("app");
    for (const name of ["c1", "c2"]) {
      expect(await schemaOf(name)).toBe(parent);
      expect((await client(name).execute("PRAGMA integrity_check")).rows[0]![0]).toBe("ok");
      expect((await client(name).execute("SELECT name FROM users")).rows[0]!.name).toBe(name);
    }
    await client("app").execute("ALTER TABLE users ADD COLUMN after_restart TEXT");
    expect(await server.platform.checkSchemas("app")).toEqual([]);
  });
});

describe("a family whose child cannot be migrated", () => {
  it("gets a coded error naming the child (a damaged file, a foreign schema), never INTERNAL_ERROR", async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
    const sql = await loadSqlJs();
    const other = new sql.Database(null);
    other.exec("CREATE TABLE other (x)");
    const foreign = other.export();
    other.close();
    const damaged = new Uint8Array(8192).fill(7);
    for (const [name, bytes] of [
      ["c1", damaged],
      ["c1", foreign],
    ] as const) {
      await start();
      const id = (await server.platform.getDatabase(name)).id;
      await server.close();
      await writeFile(join(dir, keys.tenant(id)), bytes);
      await start();
      const e = await caught(client("app").execute("ALTER TABLE users ADD COLUMN never TEXT"));
      expect(e).toBeTenantliteError("SCHEMA_MIGRATION_ERROR", /namespace `c1`/);
      expect(e.message).not.toMatch(/tenants\/|INTERNAL/);
      // Nothing changed anywhere: the parent and the healthy child are as they were.
      expect(await schemaOf("c2")).toBe(await schemaOf("app"));
      expect(await schemaOf("app")).not.toMatch(/never/);
      for (const c of clients.splice(0)) c.close();
      await server.close();
    }
    await start();
  });
});
