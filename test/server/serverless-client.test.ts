/**
 * `@tursodatabase/serverless`, unmodified, against the server on a data directory: its own API
 * (statements, raw rows, plucked values, safe integers, rows streamed over the Hrana 3 cursor,
 * batches, both transaction styles, sqld's error codes), its `compat` client, a read-only token,
 * and its per-query timeout, which aborts the request: the server stops the statement too (the
 * server here has no query time limit, so only the client's leaving can stop it).
 */

import { type Connection, connect, DatabaseError, TimeoutError } from "@tursodatabase/serverless";
import { createClient as createCompat } from "@tursodatabase/serverless/compat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { caught, useTempDirs } from "../helpers.js";
import { startTestServer } from "./helpers.js";

const tempDir = useTempDirs("tl-serverless-", { scope: "file" });
let server: RunningServer;
let url: string;
let token: string;
let readOnly: string;
let db: Connection;

const NEVER_ENDS =
  "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 9e18) SELECT count(*) AS n FROM c";

beforeAll(async () => {
  let api: Awaited<ReturnType<typeof startTestServer>>["api"];
  ({ server, api } = await startTestServer({
    auth: true,
    memory: false,
    dataDir: tempDir(),
    maxQueryMs: 0,
  }));
  await api.databases.create("shop", { group: "default" });
  token = (await api.databases.createToken("shop")).jwt;
  readOnly = (await api.databases.createToken("shop", { authorization: "read-only" })).jwt;
  url = `${server.url}/dev/shop/`;
  db = connect({ url, authToken: token });
  await db.exec(
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, big INTEGER, data BLOB, price REAL)",
  );
});

afterAll(async () => {
  await db?.close();
  await server?.close();
});

describe("@tursodatabase/serverless", () => {
  it("runs statements and reads every value type, rows streamed over the cursor", async () => {
    const big = 9007199254740993n; // 2^53 + 1: only exact as a bigint
    const r = await db.run("INSERT INTO items (name, big, data, price) VALUES (?, ?, ?, ?)", [
      "lamp",
      big,
      new Uint8Array([0, 255, 7]),
      19.5,
    ]);
    expect(r).toMatchObject({ changes: 1, lastInsertRowid: 1 });
    const insert = await db.prepare("INSERT INTO items (name) VALUES (?)");
    for (let i = 0; i < 300; i++) await insert.run([`item-${i}`]);

    const row = await db.get("SELECT name, data, price FROM items WHERE id = ?", [1]);
    expect(row.name).toBe("lamp");
    expect([...new Uint8Array(row.data)]).toEqual([0, 255, 7]);
    expect(row.price).toBe(19.5);
    const exact = await db.prepare("SELECT big FROM items WHERE id = 1");
    expect((await exact.safeIntegers(true).get()).big).toBe(big);

    const names = await db.prepare("SELECT id, name FROM items WHERE id <= 3 ORDER BY id");
    expect(names.columns()).toEqual([
      { name: "id", type: "INTEGER" },
      { name: "name", type: "TEXT" },
    ]);
    expect(await names.raw(true).all()).toEqual([
      [1, "lamp"],
      [2, "item-0"],
      [3, "item-1"],
    ]);
    const plucked = await db.prepare("SELECT name FROM items WHERE id > 1 ORDER BY id");
    expect(await plucked.pluck(true).all()).toHaveLength(300);

    let seen = 0;
    for await (const item of db.iterate("SELECT id, name FROM items ORDER BY id")) {
      seen++;
      expect(item.id).toBe(seen);
    }
    expect(seen).toBe(301);
  });

  it("keeps a batch atomic, and answers errors with sqld's codes", async () => {
    const before = (await db.get("SELECT count(*) AS n FROM items")).n;
    await db.batch(
      [
        { sql: "INSERT INTO items (name) VALUES (?)", args: ["desk"] },
        "UPDATE items SET price = 1",
      ],
      "write",
    );
    const failed = await caught(
      db.batch(
        ["INSERT INTO items (name) VALUES ('chair')", "INSERT INTO items (name) VALUES ('lamp')"],
        "write",
      ),
    );
    expect(failed).toBeInstanceOf(DatabaseError);
    expect((failed as DatabaseError).code).toBe("SQLITE_CONSTRAINT");
    expect((await db.get("SELECT count(*) AS n FROM items")).n).toBe(before + 1);
    expect(await db.get("SELECT name FROM items WHERE name = 'chair'")).toBeUndefined();

    const syntax = await caught(db.exec("SELEC 1"));
    expect((syntax as DatabaseError).code).toBe("SQL_PARSE_ERROR");
    const missing = await caught(db.all("SELECT * FROM nowhere"));
    expect((missing as DatabaseError).code).toBe("SQL_INPUT_ERROR");
  });

  it("commits a transaction and rolls one back when its function throws", async () => {
    const add = db.transaction(async (name: string) => {
      await db.run("INSERT INTO items (name) VALUES (?)", [name]);
      return db.get("SELECT count(*) AS n FROM items WHERE name = ?", [name]);
    });
    expect((await add("shelf")).n).toBe(1);
    const boom = await caught(
      db.transactionAsync(async (tx) => {
        await tx.run("INSERT INTO items (name) VALUES ('never')");
        throw new Error("changed my mind");
      }),
    );
    expect((boom as Error).message).toBe("changed my mind");
    expect(await db.get("SELECT id FROM items WHERE name = 'never'")).toBeUndefined();
    expect(db.inTransaction).toBe(false);
  });

  it("refuses a write with a read-only token, and serves its reads", async () => {
    const reader = connect({ url, authToken: readOnly });
    expect((await reader.get("SELECT count(*) AS n FROM items WHERE name = 'shelf'")).n).toBe(1);
    const e = await caught(reader.run("INSERT INTO items (name) VALUES ('thief')"));
    expect((e as DatabaseError).code).toBe("AUTH_FORBIDDEN");
    expect(await db.get("SELECT id FROM items WHERE name = 'thief'")).toBeUndefined();
    await reader.close();
  });

  it("serves its compat client (the @libsql/client shape)", async () => {
    const c = createCompat({ url, authToken: token });
    const [, counted] = await c.batch(
      [
        { sql: "INSERT INTO items (name) VALUES (?)", args: ["stool"] },
        "SELECT count(*) AS n FROM items",
      ],
      "write",
    );
    const all = (await c.execute("SELECT count(*) AS n FROM items")).rows[0]!;
    expect((counted!.rows[0] as Record<string, unknown>).n).toBe(all.n);
    const tx = await c.transaction("write");
    await tx.execute("INSERT INTO items (name) VALUES ('bench')");
    await tx.rollback();
    await c.executeMultiple(
      "INSERT INTO items (name) VALUES ('rug'); INSERT INTO items (name) VALUES ('mat');",
    );
    const rs = await c.execute({
      sql: "SELECT name FROM items WHERE name IN (?, ?, ?) ORDER BY name",
      args: ["bench", "mat", "rug"],
    });
    expect(rs.rows.map((r) => r.name)).toEqual(["mat", "rug"]);
    c.close();
  });

  it("a query that times out on the client is stopped on the server", async () => {
    const e = await caught(db.get(NEVER_ENDS, [], { queryTimeout: 300 }));
    expect(e).toBeInstanceOf(TimeoutError);
    // The server has no time limit: had the statement gone on, the tenant's thread would be
    // busy with it for good, and this read on the same tenant would never be answered.
    const other = connect({ url, authToken: token });
    expect((await other.get("SELECT count(*) AS n FROM items WHERE name = 'lamp'")).n).toBe(1);
    await other.close();
  });
});
