/**
 * `GET /dump` (sqld's endpoint, which `turso db shell … .dump` reads) and the shell's `.dump`:
 * the SQL text loads into native libSQL (`@libsql/client` `:memory:`) and into a new tenantlite
 * database, giving back the same rows, types and schema — generated columns, WITHOUT ROWID, an
 * FTS4 table, AUTOINCREMENT counters, ANALYZE statistics, text with line breaks, a table bigger
 * than a response may be; with a read-only token, and refused without one.
 */
import { writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { buildCli, runCli } from "../cli/helpers.js";
import { useTempDirs } from "../helpers.js";
import { startTestServer } from "./helpers.js";

const tempDir = useTempDirs("tl-dump-");

let server: RunningServer;
let api: Awaited<ReturnType<typeof startTestServer>>["api"];
let source: Client;
let token: string;

const SCHEMA = `
CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT NOT NULL, r REAL, b BLOB, n NUMERIC);
CREATE TABLE kids (id INTEGER PRIMARY KEY AUTOINCREMENT, pid INTEGER REFERENCES p(id), note TEXT);
CREATE TABLE w (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID;
CREATE TABLE g (a INT, b INT GENERATED ALWAYS AS (a*2) STORED, c INT AS (a+1));
CREATE TABLE "weird ""name""" ("col one" TEXT, [x] INT, "rowid" TEXT);
CREATE TABLE big (id INTEGER PRIMARY KEY, v BLOB);
CREATE VIRTUAL TABLE f USING fts4(body);
CREATE INDEX p_name ON p(name);
CREATE VIEW v AS SELECT name FROM p;
CREATE TRIGGER tg AFTER INSERT ON p BEGIN INSERT INTO kids (pid, note) VALUES (new.id, 'auto; with semicolon'); END;
INSERT INTO p VALUES (1, 'it''s', 0.1, x'00ff10', 1e300);
INSERT INTO p VALUES (2, 'line1' || char(10) || 'line2' || char(13) || 'x\\n', 2.0, NULL, 12345678901234567890);
INSERT INTO p VALUES (3, 'ünïcode ✓ 🎉', 1.0000000000000002, x'', '007');
INSERT INTO p VALUES (4, 'four', 9007199254740993, zeroblob(3), 9223372036854775807);
INSERT INTO w VALUES ('a', 1), ('b', 'two'), ('c', 3.5), ('d', x'ab'), ('e', 2.0);
INSERT INTO g (a) VALUES (1), (2);
INSERT INTO "weird ""name""" VALUES ('v', 1, 'r');
INSERT INTO f VALUES ('hello world'), ('goodbye moon');
DELETE FROM kids WHERE id = 4;
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 1200) INSERT INTO big SELECT n * 3, randomblob(10000) FROM c;
ANALYZE;
`;
const TABLES = [
  "p",
  "kids",
  "w",
  "g",
  '"weird ""name"""',
  "big",
  "f",
  "f_segdir",
  "sqlite_sequence",
  "sqlite_stat1",
];

beforeAll(async () => {
  ({ server, api } = await startTestServer({ auth: true }));
  await api.databases.create("src");
  token = (await api.databases.createToken("src", { authorization: "read-only" })).jwt;
  const full = (await api.databases.createToken("src")).jwt;
  source = createClient({ url: `${server.url}/dev/src/`, authToken: full, intMode: "bigint" });
  await source.executeMultiple(SCHEMA);
  await buildCli();
}, 60_000);
afterAll(async () => {
  source.close();
  await server.close();
});

/** Everything a dump must bring back: each table's rows with their types, and the schema. */
async function contents(c: Client): Promise<string[]> {
  const out: string[] = [];
  for (const t of TABLES) {
    const name = t.replace(/^"|"$/g, "").replace(/""/g, '"').replace(/'/g, "''");
    // Generated columns too (xinfo), not a virtual table's hidden ones (hidden = 1).
    const info = await c.execute(
      `SELECT name FROM pragma_table_xinfo('${name}') WHERE hidden != 1`,
    );
    const cols = info.rows.map((r) => `"${String(r.name).replace(/"/g, '""')}"`);
    // Values and types exactly, but of `big` only a digest: whole, it is too large a response.
    const typed = cols
      .map((col) =>
        t === "big"
          ? `typeof(${col}), length(${col}), hex(substr(${col}, 1, 8)), hex(substr(${col}, -8))`
          : `typeof(${col}), ${col}`,
      )
      .join(", ");
    const width = t === "big" ? 4 : 2;
    const order = cols.map((_, i) => i * width + 2).join(", ");
    const rs = await c.execute(`SELECT ${typed} FROM ${t} ORDER BY ${order}`);
    const shown = (v: unknown) =>
      v instanceof ArrayBuffer ? `x${Buffer.from(v).toString("hex")}` : `${typeof v}:${String(v)}`;
    out.push(`${t}: ${JSON.stringify(rs.rows.map((r) => Array.from(r).map(shown)))}`);
  }
  const schema = await c.execute(
    "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name",
  );
  out.push(...schema.rows.map((r) => Array.from(r).map(String).join(" | ")));
  return out;
}

describe("GET /dump and .dump", () => {
  it("recreate the database in native libSQL and in tenantlite, rows, types and schema", async () => {
    const res = await fetch(`${server.url}/dev/src/dump`, {
      headers: { authorization: `Bearer ${token}` }, // read-only is enough
    });
    expect(res.status).toBe(200);
    const dump = await res.text();
    expect(dump.startsWith("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")).toBe(true);
    expect(dump.endsWith("COMMIT;\n")).toBe(true);
    expect(dump).toContain('INSERT INTO "g" VALUES(1);'); // no values for generated columns
    expect(dump).toContain(
      "replace(replace('line1\\012line2\\rx\\n','\\r',char(13)),'\\012',char(10))",
    );
    expect(dump).toContain("DELETE FROM sqlite_sequence;");
    expect(dump).not.toContain("writable_schema");

    const expected = await contents(source);
    const native = createClient({ url: ":memory:", intMode: "bigint" });
    await native.executeMultiple(dump);
    expect(await contents(native)).toEqual(expected);
    expect((await native.execute("SELECT rowid FROM f WHERE f MATCH 'hello'")).rows).toHaveLength(
      1,
    );
    native.close();

    // Into tenantlite through the shell's .read (24 MB: more than one request may carry).
    await api.databases.create("copy");
    const file = join(tempDir(), "dump.sql");
    writeFileSync(file, dump);
    const read = await runCli(
      ["db", "shell", "copy", "--url", server.url, "--token", server.apiToken!],
      {
        input: `.read ${file}\n`,
      },
    );
    expect(read.stderr).toBe("");
    const copy = createClient({
      url: `${server.url}/dev/copy/`,
      authToken: (await api.databases.createToken("copy")).jwt,
      intMode: "bigint",
    });
    expect(await contents(copy)).toEqual(expected);
    // The AUTOINCREMENT counter came back: the next id is 5, not 4.
    await copy.execute("INSERT INTO p VALUES (9, 'nine', NULL, NULL, NULL)");
    expect((await copy.execute("SELECT max(id) AS m FROM kids")).rows[0]!.m).toBe(5n);
    copy.close();
  }, 60_000);

  it("the shell's .dump is the same text, paged by size: tables bigger than a response (10 MB) dump", async () => {
    const url = server.url;
    const r = await runCli([
      "db",
      "shell",
      "src",
      ".dump",
      "--url",
      url,
      "--token",
      server.apiToken!,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(20_000_000); // `big` alone: 12 MB, hex twice that
    const http = await fetch(`${url}/dev/src/dump`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.stdout).toBe(await http.text());
    const one = await runCli([
      "db",
      "shell",
      "src",
      ".dump w",
      "--url",
      url,
      "--token",
      server.apiToken!,
    ]);
    expect(one.stdout).toBe(
      [
        "PRAGMA foreign_keys=OFF;",
        "BEGIN TRANSACTION;",
        "CREATE TABLE w (k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID;",
        "INSERT INTO \"w\" VALUES('a',1);",
        "INSERT INTO \"w\" VALUES('b','two');",
        "INSERT INTO \"w\" VALUES('c',3.5);",
        "INSERT INTO \"w\" VALUES('d',X'ab');",
        "INSERT INTO \"w\" VALUES('e',2);", // ANY in a table that is not STRICT: NUMERIC affinity
        "COMMIT;",
        "",
      ].join("\n"),
    );
    // Rows of 30 KB: 300 of them in one read were a 12 MB response (over sqld's 10 MB); reads
    // are fitted to the rows' size.
    await api.databases.create("wide");
    const wideToken = (await api.databases.createToken("wide")).jwt;
    const wide = createClient({ url: `${url}/dev/wide/`, authToken: wideToken });
    await wide.executeMultiple(
      "CREATE TABLE w (v BLOB); WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 300) INSERT INTO w SELECT randomblob(30000) FROM c;",
    );
    wide.close();
    const wr = await runCli([
      "db",
      "shell",
      "wide",
      ".dump",
      "--url",
      url,
      "--token",
      server.apiToken!,
    ]);
    expect(wr.stderr).toBe("");
    expect(wr.stdout.split("\n").filter((l) => l.startsWith('INSERT INTO "w"'))).toHaveLength(300);
    const wideHttp = await fetch(`${url}/dev/wide/dump`, {
      headers: { authorization: `Bearer ${wideToken}` },
    });
    expect(wr.stdout).toBe(await wideHttp.text());
  }, 60_000);

  it("needs a token for the database, and names no unknown database's storage", async () => {
    expect((await fetch(`${server.url}/dev/src/dump`)).status).toBe(401);
    const other = (await api.databases.createToken("copy")).jwt;
    const forbidden = await fetch(`${server.url}/dev/src/dump`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(forbidden.status).toBe(403);
    const missing = await fetch(`${server.url}/dev/nope/dump`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(missing.status).toBe(404);
    expect((await missing.json()).code).toBe("DATABASE_NOT_FOUND");
    // Reads blocked: a coded error before any text, not a cut dump.
    await api.databases.create("shut");
    await fetch(`${server.url}/v1/organizations/local/databases/shut/configuration`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${server.apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ block_reads: true }),
    });
    const shut = await fetch(`${server.url}/dev/shut/dump`, {
      headers: { authorization: `Bearer ${(await api.databases.createToken("shut")).jwt}` },
    });
    expect(shut.status).toBe(403);
    expect((await shut.json()).code).toBe("BLOCKED");
  });

  it("is sent as it is read, and a client that leaves mid-way leaves nothing open", async () => {
    const res = await fetch(`${server.url}/dev/src/dump`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value).startsWith("PRAGMA foreign_keys=OFF;")).toBe(true);
    await reader.cancel();
    // The dump's connection (and its read snapshot) went with it: the database goes on, and a
    // write, a delete of a copy and a whole new dump all work at once.
    const rw = createClient({
      url: `${server.url}/dev/src/`,
      authToken: (await api.databases.createToken("src")).jwt,
    });
    await rw.execute("CREATE TABLE IF NOT EXISTS after_cancel (x)");
    rw.close();
    const again = await fetch(`${server.url}/dev/src/dump`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect((await again.text()).endsWith("COMMIT;\n")).toBe(true);
  }, 30_000);

  it("cuts the dump of a client that stops reading past the transaction timeout; the server goes on", async () => {
    // The dump's snapshot is a transaction: it ends as any idle one does (5 s), so a client that
    // takes nothing holds no snapshot or connection for longer.
    const quick = await startTestServer({ auth: false });
    try {
      await quick.api.databases.create("big");
      const c = createClient({ url: `${quick.server.url}/dev/big/` });
      await c.executeMultiple(
        "CREATE TABLE b (v BLOB); WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 300) INSERT INTO b SELECT randomblob(100000) FROM c;",
      );
      // Headers, then nothing read for 6 s (60 MB of text: more than the sockets buffer).
      const ended = await new Promise<string>((resolve) => {
        const req = httpGet(`${quick.server.url}/dev/big/dump`, (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => {
            text += d;
          });
          res.on("error", () => resolve("reset"));
          res.on("end", () => resolve(text.endsWith("COMMIT;\n") ? "whole" : "cut"));
          res.pause();
          setTimeout(() => res.resume(), 6000);
        });
        req.on("error", () => resolve("reset"));
      });
      expect(["reset", "cut"]).toContain(ended);
      expect((await c.execute("SELECT count(*) AS n FROM b")).rows[0]!.n).toBe(300);
      c.close();
    } finally {
      await quick.server.close();
    }
  }, 30_000);
});
