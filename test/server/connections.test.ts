/**
 * Each logical connection has a SQLite connection of its own (issue 15, points 1, 2 and 4),
 * tried as a user and an attacker would: the real `@libsql/client` over http and ws against a
 * server on a data directory, with a read-only token beside a read-write one. Whatever one
 * connection creates or sets never changes another's data or behaviour, readers never wait for a
 * writer, and after a restart every acknowledged row is there and `integrity_check` is ok.
 */
import { type Client, createClient } from "@libsql/client";
import { createClient as createApiClient } from "@tursodatabase/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";

const API_TOKEN = "connections-test-token";
let dir: string;
const tempDir = useTempDirs("tenantlite-connections-", { scope: "file" });
let server: RunningServer;
let rwToken: string;
let roToken: string;

async function start(): Promise<RunningServer> {
  return startServer({ port: 0, dataDir: dir, auth: true, apiToken: API_TOKEN, consoleDir: false });
}

beforeAll(async () => {
  dir = tempDir();
  server = await start();
  const api = createApiClient({ org: "local", token: API_TOKEN, baseUrl: `${server.url}/v1/` });
  await api.databases.create("acme");
  rwToken = (await api.databases.createToken("acme")).jwt;
  roToken = (await api.databases.createToken("acme", { authorization: "read-only" })).jwt;
  const setup = createClient({ url: `${server.url}/dev/acme/`, authToken: rwToken });
  await setup.execute(
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER CHECK (age >= 0))",
  );
  setup.close();
});

afterAll(async () => {
  await server.close();
});

/** Rows acknowledged to writers, checked after the restart. */
const acknowledged: string[] = [];

describe.each(["http", "ws"] as const)("private connection state over %s", (scheme) => {
  const clients: Client[] = [];
  const client = (token: string): Client => {
    const base = scheme === "http" ? server.url : server.wsUrl;
    const c = createClient({ url: `${base}/dev/acme/`, authToken: token });
    clients.push(c);
    return c;
  };
  afterAll(() => {
    for (const c of clients) c.close();
  });

  it("a read-only token's TEMP table never captures a writer's insert", async () => {
    const ro = await client(roToken).transaction("read");
    await ro.execute("CREATE TEMP TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)");
    const name = `${scheme}-temp-table`;
    const rs = await client(rwToken).execute({
      sql: "INSERT INTO users (name, age) VALUES (?, 1)",
      args: [name],
    });
    expect(rs.rowsAffected).toBe(1);
    acknowledged.push(name);
    // The reader's own TEMP table is empty; main has the row.
    expect((await ro.execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(0);
    expect(
      (
        await ro.execute({
          sql: "SELECT count(*) AS n FROM main.users WHERE name = ?",
          args: [name],
        })
      ).rows[0]!.n,
    ).toBe(1);
    ro.close();
  });

  it("a read-only token's TEMP trigger never fires on a writer's insert", async () => {
    const ro = await client(roToken).transaction("read");
    await ro.execute(
      "CREATE TEMP TRIGGER wipe AFTER INSERT ON main.users BEGIN DELETE FROM main.users WHERE id <> new.id; END",
    );
    const rw = client(rwToken);
    const before = Number((await rw.execute("SELECT count(*) AS n FROM users")).rows[0]!.n);
    const name = `${scheme}-after-trigger`;
    await rw.execute({ sql: "INSERT INTO users (name, age) VALUES (?, 2)", args: [name] });
    acknowledged.push(name);
    expect((await rw.execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(before + 1);
    // Its own connection cannot fire it either: the insert is a write.
    await expect(
      ro.execute("INSERT INTO main.users (name, age) VALUES ('ro', 3)"),
    ).rejects.toBeTenantliteError("AUTH_FORBIDDEN");
    ro.close();
  });

  it("a read-only token may only read pragmas; a writer's own pragmas change nobody else", async () => {
    const ro = await client(roToken).transaction("read");
    for (const sql of [
      "PRAGMA ignore_check_constraints = 1",
      "PRAGMA query_only = 1",
      "PRAGMA foreign_keys = OFF",
      "PRAGMA writable_schema = ON",
      "PRAGMA recursive_triggers = 1",
      "PRAGMA cache_size = 10",
    ]) {
      await expect(ro.execute(sql)).rejects.toBeTenantliteError("AUTH_FORBIDDEN");
    }
    expect((await ro.execute("PRAGMA foreign_keys")).rows[0]![0]).toBe(1);
    expect((await ro.execute("PRAGMA table_info(users)")).rows.length).toBe(3);
    ro.close();

    const a = await client(rwToken).transaction("write");
    await a.execute("PRAGMA ignore_check_constraints = 1");
    await a.execute("PRAGMA query_only = 1");
    await a.rollback();
    const b = client(rwToken);
    await expect(
      b.execute("INSERT INTO users (name, age) VALUES ('negative', -1)"),
    ).rejects.toBeTenantliteError("SQLITE_CONSTRAINT");
    const name = `${scheme}-after-pragmas`;
    await b.execute({ sql: "INSERT INTO users (name, age) VALUES (?, 4)", args: [name] });
    acknowledged.push(name);
  });

  it("a closed client's TEMP objects are gone for whoever gets its SQLite connection next", async () => {
    // A client's SQLite connection whose only state was TEMP objects is washed and pooled when
    // the client closes (not closed): the next clients must find nothing of it.
    for (let round = 0; round < 3; round++) {
      const ro = await client(roToken).transaction("read");
      await ro.execute("CREATE TEMP TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)");
      await ro.execute("CREATE TEMP VIEW everyone AS SELECT * FROM main.users");
      await ro.execute(
        "CREATE TEMP TRIGGER wipe AFTER INSERT ON main.users BEGIN DELETE FROM main.users WHERE id <> new.id; END",
      );
      await ro.commit();
      ro.close();
      const rw = client(rwToken);
      const before = Number((await rw.execute("SELECT count(*) AS n FROM users")).rows[0]!.n);
      const name = `${scheme}-after-washed-${round}`;
      const rs = await rw.execute({
        sql: "INSERT INTO users (name, age) VALUES (?, 8)",
        args: [name],
      });
      expect(rs.rowsAffected).toBe(1);
      acknowledged.push(name);
      expect((await rw.execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(before + 1);
      const next = client(roToken);
      expect((await next.execute("SELECT count(*) AS n FROM temp.sqlite_schema")).rows[0]!.n).toBe(
        0,
      );
      expect((await next.execute("SELECT last_insert_rowid() AS r")).rows[0]!.r).toBe(0);
    }
  });

  it("a request or transaction after another's writes starts with counters at 0, as on a new connection", async () => {
    // The SQLite connection of a request that wrote is lent to the next one with its
    // last_insert_rowid(), changes() and total_changes() reset, not closed: nothing shows.
    const read = async (c: Client | Awaited<ReturnType<Client["transaction"]>>) =>
      Object.values(
        (await c.execute("SELECT last_insert_rowid() AS r, changes() AS c, total_changes() AS t"))
          .rows[0]!,
      ).map(Number);
    for (let round = 0; round < 3; round++) {
      const name = `${scheme}-counters-${round}`;
      const writer = client(rwToken);
      const tx = await writer.transaction("write");
      const rs = await tx.execute({
        sql: "INSERT INTO users (name, age) VALUES (?, 5)",
        args: [name],
      });
      await tx.execute({ sql: "UPDATE users SET age = age WHERE name = ?", args: [name] });
      expect(await read(tx)).toEqual([Number(rs.lastInsertRowid), 1, 2]);
      await tx.commit();
      acknowledged.push(name);
      await writer.execute({ sql: "UPDATE users SET age = 6 WHERE name = ?", args: [name] });
      writer.close();
      expect(await read(client(roToken))).toEqual([0, 0, 0]);
      const next = await client(rwToken).transaction("write");
      expect(await read(next)).toEqual([0, 0, 0]);
      await next.rollback();
    }
  });

  it("a second client cannot see the first client's TEMP table", async () => {
    const a = await client(rwToken).transaction("write");
    await a.execute("CREATE TEMP TABLE secret (x)");
    await a.execute("INSERT INTO secret VALUES ('hidden')");
    for (const token of [roToken, rwToken]) {
      for (const sql of ["SELECT * FROM secret", "SELECT * FROM temp.secret"]) {
        const e = await client(token)
          .execute(sql)
          .catch((x: unknown) => x as Error);
        expect((e as Error).message).toMatch(/no such table/);
      }
    }
    expect((await a.execute("SELECT x FROM secret")).rows[0]!.x).toBe("hidden");
    await a.rollback();
  });

  it("refuses engine-wide pragmas for every caller, and writes go on", async () => {
    for (const token of [roToken, rwToken]) {
      for (const sql of [
        "PRAGMA hard_heap_limit = 300000",
        "PRAGMA soft_heap_limit = 1000",
        "PRAGMA threads = 4",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA locking_mode = EXCLUSIVE",
      ]) {
        await expect(client(token).execute(sql)).rejects.toBeTenantliteError(
          "PRAGMA_FORBIDDEN",
          /cannot be set/,
        );
      }
    }
    const name = `${scheme}-after-heap-limit`;
    await client(rwToken).execute({
      sql: "INSERT INTO users (name, age) VALUES (?, 5)",
      args: [name],
    });
    acknowledged.push(name);
  });

  it("readers never wait for a writer's open transaction; writers queue", async () => {
    const rw = client(rwToken);
    const committed = Number((await rw.execute("SELECT count(*) AS n FROM users")).rows[0]!.n);
    const tx = await client(rwToken).transaction("write");
    const name = `${scheme}-in-transaction`;
    await tx.execute({ sql: "INSERT INTO users (name, age) VALUES (?, 6)", args: [name] });
    for (const token of [roToken, rwToken]) {
      const started = Date.now();
      const rs = await client(token).execute("SELECT count(*) AS n FROM users");
      expect(Date.now() - started).toBeLessThan(1000);
      expect(rs.rows[0]!.n).toBe(committed);
    }
    // A write the caller may not make is refused at once, not after waiting for the writer.
    const refusedAt = Date.now();
    await expect(
      client(roToken).execute("INSERT INTO users (name, age) VALUES ('ro', 1)"),
    ).rejects.toThrow(/AUTH_FORBIDDEN/);
    expect(Date.now() - refusedAt).toBeLessThan(1000);
    let queued = false;
    const writer = client(rwToken)
      .execute({ sql: "INSERT INTO users (name, age) VALUES (?, 7)", args: [`${name}-queued`] })
      .then(() => {
        queued = true;
      });
    await new Promise((r) => setTimeout(r, 100));
    expect(queued).toBe(false);
    await tx.commit();
    await writer;
    acknowledged.push(name, `${name}-queued`);
    expect((await rw.execute("SELECT count(*) AS n FROM users")).rows[0]!.n).toBe(committed + 2);
  });

  it("a write refused inside a transaction holds no writer off (a read-only token's, one that does not compile)", async () => {
    const rw = client(rwToken);
    const ro = await client(roToken).transaction("deferred");
    const bad = await client(rwToken).transaction("deferred");
    await expect(ro.execute("INSERT INTO users (name, age) VALUES ('ro', 1)")).rejects.toThrow(
      /AUTH_FORBIDDEN/,
    );
    await expect(bad.execute("INSERT INTO nosuch VALUES (1)")).rejects.toThrow(/no such table/);
    // Both transactions stay open, holding nothing: a writer goes through at once, as in SQLite,
    // where neither statement took a lock (it waited 5 s, then SQLITE_BUSY).
    const name = `${scheme}-beside-refused`;
    const started = Date.now();
    await rw.execute({ sql: "INSERT INTO users (name, age) VALUES (?, 8)", args: [name] });
    expect(Date.now() - started).toBeLessThan(1000);
    acknowledged.push(name);
    // They are still transactions: they read (their snapshot starts now) and end cleanly.
    expect(
      (await ro.execute({ sql: "SELECT count(*) AS n FROM users WHERE name = ?", args: [name] }))
        .rows[0]!.n,
    ).toBe(1);
    await ro.commit();
    await bad.execute({ sql: "INSERT INTO users (name, age) VALUES (?, 9)", args: [`${name}-2`] });
    await bad.commit();
    acknowledged.push(`${name}-2`);
  });
});

describe("after a restart", () => {
  it("every acknowledged row is there and integrity_check is ok", async () => {
    await server.close();
    server = await start();
    const c = createClient({ url: `${server.url}/dev/acme/`, authToken: rwToken });
    const rs = await c.execute("SELECT name FROM users ORDER BY id");
    expect(rs.rows.map((r) => r.name)).toEqual(acknowledged);
    expect((await c.execute("PRAGMA integrity_check")).rows[0]![0]).toBe("ok");
    expect((await c.execute("PRAGMA foreign_key_check")).rows).toEqual([]);
    c.close();
  });
});
