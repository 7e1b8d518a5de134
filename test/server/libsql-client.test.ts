/**
 * Hrana through the unmodified `@libsql/client`, over http:// and ws://: statements, batches,
 * migrations and scripts, interactive transactions, coded errors, and what tokens and a
 * database's configuration allow, and token rotation (databases and tokens made with
 * `@tursodatabase/api`).
 */
import { type Client, createClient, LibsqlError } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { caught } from "../helpers.js";
import { startTenantsServer } from "./helpers.js";

let server: RunningServer;
let api: Awaited<ReturnType<typeof startTenantsServer>>["api"];
let token: string;

beforeAll(async () => {
  ({ server, api } = await startTenantsServer());
  token = (await api.databases.createToken("acme")).jwt;
});

afterAll(async () => {
  await server.close();
});

for (const proto of ["http", "ws"] as const) {
  describe(`@libsql/client over ${proto}`, () => {
    let client: Client;
    const url = () => `${proto === "http" ? server.url : server.wsUrl}/dev/acme/`;

    beforeAll(async () => {
      client = createClient({ url: url(), authToken: token, intMode: "bigint" });
      await client.execute(`DROP TABLE IF EXISTS t_${proto}`);
      await client.execute(
        `CREATE TABLE t_${proto} (id INTEGER PRIMARY KEY, name TEXT UNIQUE, big INTEGER, data BLOB, f REAL)`,
      );
    });
    afterAll(() => client.close());

    it("executes with args, 64-bit integers, blobs and floats", async () => {
      const big = 9223372036854775807n;
      const r = await client.execute({
        sql: `INSERT INTO t_${proto} (name, big, data, f) VALUES (?, ?, ?, ?)`,
        args: ["a", big, new Uint8Array([0, 255, 1]), 2.5],
      });
      expect(r.rowsAffected).toBe(1);
      expect(r.lastInsertRowid).toBe(1n);
      const rs = await client.execute({
        sql: `SELECT name, big, data, f, 1 + 1 AS two FROM t_${proto} WHERE name = :n`,
        args: { n: "a" },
      });
      expect(rs.columns).toEqual(["name", "big", "data", "f", "two"]);
      expect(rs.columnTypes).toEqual(["TEXT", "INTEGER", "BLOB", "REAL", ""]);
      const row = rs.rows[0]!;
      expect(row.big).toBe(big);
      expect([...new Uint8Array(row.data as ArrayBuffer)]).toEqual([0, 255, 1]);
      expect(row.f).toBe(2.5);
      expect(row.two).toBe(2n);
      const sel = await client.execute(`SELECT count(*) FROM t_${proto}`);
      expect(sel.rowsAffected).toBe(0);
      expect(sel.lastInsertRowid).toBeUndefined();
    });

    it("gives RETURNING's declared types, and none for an untyped column or an expression, as sqld does", async () => {
      await client.execute(
        `CREATE TABLE IF NOT EXISTS r_${proto} (id INTEGER PRIMARY KEY, at DATETIME, u)`,
      );
      const ins = await client.execute(
        `INSERT INTO r_${proto} (at, u) VALUES ('2026-01-01', 1) RETURNING *, CAST(id AS TEXT) AS s`,
      );
      expect(ins.columnTypes).toEqual(["INTEGER", "DATETIME", "", ""]);
      const [upd] = await client.batch([`UPDATE r_${proto} SET u = 2 RETURNING at, u, rowid`]);
      expect(upd!.columnTypes).toEqual(["DATETIME", "", "INTEGER"]);
      const sel = await client.execute(`SELECT u, at FROM r_${proto} UNION ALL SELECT 'x', 1`);
      expect(sel.columnTypes).toEqual(["", "DATETIME"]);
    });

    it("runs batches in every mode, atomically", async () => {
      for (const mode of ["write", "deferred", "read"] as const) {
        const rs = await client.batch(
          [`SELECT count(*) AS n FROM t_${proto}`, { sql: "SELECT ? AS x", args: [mode] }],
          mode,
        );
        expect(rs[1]!.rows[0]!.x).toBe(mode);
      }
      const before = (await client.execute(`SELECT count(*) AS n FROM t_${proto}`)).rows[0]!.n;
      const e = await caught(
        client.batch(
          [
            `INSERT INTO t_${proto} (name) VALUES ('b1')`,
            `INSERT INTO t_${proto} (name) VALUES ('a')`,
          ],
          "write",
        ),
      );
      expect(e).toBeTenantliteError("SQLITE_CONSTRAINT");
      expect((e as unknown as { statementIndex: number }).statementIndex).toBe(1);
      const after = (await client.execute(`SELECT count(*) AS n FROM t_${proto}`)).rows[0]!.n;
      expect(after).toBe(before);
    });

    // sqld caps a batch's steps nowhere but in the body size: 12,000 statements (the client adds
    // its BEGIN, COMMIT and ROLLBACK steps) are one batch, committed whole.
    it("runs a batch of 12,000 statements, as sqld does", async () => {
      await client.execute(`CREATE TABLE IF NOT EXISTS many_${proto} (i INTEGER)`);
      const statements = Array.from({ length: 12_000 }, (_, i) => ({
        sql: `INSERT INTO many_${proto} VALUES (?)`,
        args: [i],
      }));
      const rs = await client.batch(statements, "write");
      expect(rs).toHaveLength(12_000);
      const sum = await client.execute(`SELECT count(*) AS n, sum(i) AS s FROM many_${proto}`);
      expect(sum.rows[0]!.n).toBe(12_000n);
      expect(sum.rows[0]!.s).toBe(BigInt((12_000 * 11_999) / 2));
    });

    it("migrates and runs scripts", async () => {
      await client.migrate([
        `CREATE TABLE IF NOT EXISTS m_${proto} (x)`,
        `INSERT INTO m_${proto} VALUES (1)`,
      ]);
      await client.executeMultiple(
        `INSERT INTO m_${proto} VALUES (2); INSERT INTO m_${proto} VALUES (3);`,
      );
      const rs = await client.execute(`SELECT sum(x) AS s FROM m_${proto}`);
      expect(rs.rows[0]!.s).toBe(6n);
    });

    it("commits and rolls back interactive transactions", async () => {
      const tx = await client.transaction("write");
      await tx.execute(`INSERT INTO t_${proto} (name) VALUES ('tx1')`);
      const inside = await tx.execute(`SELECT count(*) AS n FROM t_${proto} WHERE name = 'tx1'`);
      expect(inside.rows[0]!.n).toBe(1n);
      await tx.batch([`INSERT INTO t_${proto} (name) VALUES ('tx2')`]);
      await tx.commit();
      const tx2 = await client.transaction("write");
      await tx2.execute(`INSERT INTO t_${proto} (name) VALUES ('tx3')`);
      await tx2.rollback();
      const rs = await client.execute(
        `SELECT name FROM t_${proto} WHERE name LIKE 'tx%' ORDER BY name`,
      );
      expect(rs.rows.map((r) => r.name)).toEqual(["tx1", "tx2"]);
    });

    it("reports SQL errors with Hrana codes", async () => {
      await expect(client.execute("SELECT * FROM missing")).rejects.toBeTenantliteError(
        "SQL_INPUT_ERROR",
        /no such table/,
      );
      await expect(client.execute("SELEC 1")).rejects.toBeTenantliteError("SQL_PARSE_ERROR");
      await expect(
        client.execute(`INSERT INTO t_${proto} (name) VALUES ('a')`),
      ).rejects.toBeTenantliteError("SQLITE_CONSTRAINT");
      await expect(client.execute("SELECT 1; SELECT 2")).rejects.toBeTenantliteError(
        "SQL_MANY_STATEMENTS",
      );
    });

    it("refuses an unknown database, a bad token and an expired token with readable codes", async () => {
      const host = proto === "http" ? server.url : server.wsUrl;
      const unknown = createClient({ url: `${host}/dev/nope/`, authToken: token });
      const e1 = await caught(unknown.execute("SELECT 1"));
      expect(e1).toBeTenantliteError("DATABASE_NOT_FOUND");
      expect(e1).toBeInstanceOf(LibsqlError);
      unknown.close();
      const bad = createClient({ url: url(), authToken: `${token.slice(0, -4)}AAAA` });
      await expect(bad.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
      bad.close();
      const none = createClient({ url: url() });
      await expect(none.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_HEADER_NOT_FOUND");
      none.close();
      const other = (await api.databases.createToken("globex")).jwt;
      const wrong = createClient({ url: url(), authToken: other });
      await expect(wrong.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_FORBIDDEN");
      wrong.close();
      const short = (await api.databases.createToken("acme", { expiration: "1s" })).jwt;
      await new Promise((r) => setTimeout(r, 2100));
      const expired = createClient({ url: url(), authToken: short });
      await expect(expired.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_EXPIRED");
      expired.close();
    });

    it("enforces read-only tokens and configuration switches", async () => {
      const ro = (await api.databases.createToken("acme", { authorization: "read-only" })).jwt;
      const reader = createClient({ url: url(), authToken: ro, intMode: "bigint" });
      expect((await reader.execute(`SELECT count(*) AS n FROM t_${proto}`)).rows).toHaveLength(1);
      await expect(reader.execute(`DELETE FROM t_${proto}`)).rejects.toBeTenantliteError(
        "AUTH_FORBIDDEN",
      );
      await expect(reader.batch([`DELETE FROM t_${proto}`], "write")).rejects.toBeTenantliteError(
        "AUTH_FORBIDDEN",
      );
      reader.close();
      await patchConfig("acme", { block_writes: true });
      await expect(client.execute(`DELETE FROM t_${proto}`)).rejects.toBeTenantliteError("BLOCKED");
      expect((await client.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1n);
      await patchConfig("acme", { block_writes: false, block_reads: true });
      await expect(client.execute("SELECT 1")).rejects.toBeTenantliteError("BLOCKED");
      await patchConfig("acme", { block_reads: null, delete_protection: null });
      const cfg = await patchConfig("acme", { block_reads: false });
      expect(cfg).toMatchObject({ block_reads: false, block_writes: false, allow_attach: false });
    });
  });
}

describe("token rotation", () => {
  it("invalidates earlier database and group tokens", async () => {
    const dbToken = (await api.databases.createToken("globex")).jwt;
    const groupToken = (await api.groups.createToken("tenants")).jwt;
    const url = `${server.url}/dev/globex/`;
    for (const t of [dbToken, groupToken]) {
      const c = createClient({ url, authToken: t });
      await c.execute("SELECT 1");
      c.close();
    }
    await api.databases.rotateTokens("globex");
    const c1 = createClient({ url, authToken: dbToken });
    await expect(c1.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_INVALID", /rotated/);
    // A group token minted before the database's rotation no longer works on it (issue 17);
    // it still works on the group's other databases.
    await expect(
      createClient({ url, authToken: groupToken }).execute("SELECT 1"),
    ).rejects.toBeTenantliteError("AUTH_JWT_INVALID", /rotated/);
    const c2 = createClient({ url: `${server.url}/dev/acme/`, authToken: groupToken });
    await c2.execute("SELECT 1");
    await api.groups.rotateTokens("tenants");
    await expect(c2.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_INVALID");
    const fresh = createClient({ url, authToken: (await api.databases.createToken("globex")).jwt });
    await fresh.execute("SELECT 1");
    for (const c of [c1, c2, fresh]) c.close();
    token = (await api.databases.createToken("acme")).jwt;
  });
});

async function patchConfig(name: string, body: Record<string, boolean | null>) {
  const res = await fetch(`${server.url}/v1/organizations/local/databases/${name}/configuration`, {
    method: "PATCH",
    headers: { authorization: `Bearer ${server.apiToken}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return res.json();
}
