/**
 * Hrana over HTTP at the wire level, through the neutral handler (no sockets): the shapes,
 * batons, conditions, stored SQL and error codes of the reference.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../../src/platform/platform.js";
import { createHandler, type ServerHandler } from "../../src/server/handler.js";

let platform: Platform;
let server: ServerHandler;
const BASE = "http://127.0.0.1:8080/dev/acme";

// biome-ignore lint/suspicious/noExplicitAny: wire JSON is inspected field by field
type Json = any;

async function post(path: string, body: unknown, init: RequestInit = {}) {
  const res = await server.fetch(
    new Request(`${BASE}${path}`, {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      ...init,
    }),
  );
  const text = await res.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

const stmt = (sql: string, extra: object = {}) => ({
  sql,
  args: [],
  named_args: [],
  want_rows: true,
  ...extra,
});
const exec = (sql: string, extra: object = {}) => ({ type: "execute", stmt: stmt(sql, extra) });

beforeAll(async () => {
  platform = await createPlatform({ transactionTimeoutMs: 300, busyTimeoutMs: 300 });
  await platform.createDatabase("acme");
  server = await createHandler({ platform, limits: { streamIdleMs: 200, maxStreams: 5 } });
  await post("/v2/pipeline", {
    requests: [
      exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER, f REAL, b BLOB)"),
    ],
  });
});

afterAll(async () => {
  server.close();
  await platform.close();
});

describe("pipeline", () => {
  it("refuses a result over 10 MB with RESPONSE_TOO_LARGE, and the stream goes on", async () => {
    const r = await post("/v2/pipeline", {
      requests: [
        exec("SELECT randomblob(9000000) AS big"),
        exec("SELECT 1 AS one"),
        { type: "close" },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.results[0]).toMatchObject({
      type: "error",
      error: { code: "RESPONSE_TOO_LARGE" },
    });
    expect(r.body.results[1].response.result.rows[0][0]).toEqual({ type: "integer", value: "1" });
  });

  it("encodes values and results like sqld", async () => {
    const r = await post("/v2/pipeline", {
      requests: [
        {
          type: "execute",
          stmt: {
            sql: "INSERT INTO t (name, n, f, b) VALUES (?, ?, ?, ?)",
            args: [
              { type: "text", value: "a" },
              { type: "integer", value: "-9223372036854775808" },
              { type: "float", value: 1 },
              { type: "blob", base64: "AAEC" },
            ],
          },
        },
        exec("SELECT name, n, f, b, typeof(f) AS tf, NULL AS z FROM t WHERE name = :name", {
          named_args: [{ name: "name", value: { type: "text", value: "a" } }],
        }),
        { type: "close" },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/application\/json/);
    expect(r.body.baton).toBeNull();
    expect(r.body.base_url).toBeNull();
    const [ins, sel, close] = r.body.results;
    expect(ins.type).toBe("ok");
    expect(ins.response.result).toMatchObject({
      affected_row_count: 1,
      last_insert_rowid: "1",
      rows: [],
    });
    expect(sel.response.result.cols).toEqual([
      { name: "name", decltype: "TEXT" },
      { name: "n", decltype: "INTEGER" },
      { name: "f", decltype: "REAL" },
      { name: "b", decltype: "BLOB" },
      { name: "tf", decltype: null },
      { name: "z", decltype: null },
    ]);
    expect(sel.response.result.rows).toEqual([
      [
        { type: "text", value: "a" },
        { type: "integer", value: "-9223372036854775808" },
        { type: "float", value: 1 },
        { type: "blob", base64: "AAEC" },
        { type: "text", value: "real" },
        { type: "null" },
      ],
    ]);
    expect(sel.response.result).toMatchObject({ affected_row_count: 0, last_insert_rowid: null });
    expect(close).toEqual({ type: "ok", response: { type: "close" } });
  });

  it("reports affected rows only for DML and the rowid only for INSERT", async () => {
    const r = await post("/v2/pipeline", {
      requests: [
        exec("UPDATE t SET n = n WHERE 1"),
        exec("CREATE TABLE IF NOT EXISTS other (x)"),
        exec("SELECT 1 = ?", { args: [{ type: "blob", base64: "AAEC==" }] }),
      ],
    });
    const [upd, ddl, sel] = r.body.results;
    expect(upd.response.result).toMatchObject({ affected_row_count: 1, last_insert_rowid: null });
    expect(ddl.response.result).toMatchObject({ affected_row_count: 0, last_insert_rowid: null });
    expect(sel.type).toBe("ok");
    expect(r.body.baton).toBeTypeOf("string");
  });

  it("keeps going after a failing request and maps error codes", async () => {
    const r = await post("/v3/pipeline", {
      requests: [
        exec("SELECT * FROM nope"),
        exec("SELEC 1"),
        exec("INSERT INTO t (name) VALUES ('a')"),
        exec("SELECT ?"),
        exec("SELECT ?, :a", {
          args: [{ type: "null" }],
          named_args: [{ name: "a", value: { type: "null" } }],
        }),
        exec(""),
        exec("SELECT 1; SELECT 2"),
        exec("SELECT 2 AS two"),
        { type: "execute", stmt: { sql_id: 99 } },
        { type: "close" },
      ],
    });
    const codes = r.body.results.map((x: Json) => (x.type === "ok" ? "ok" : x.error.code));
    expect(codes).toEqual([
      "SQL_INPUT_ERROR",
      "SQL_PARSE_ERROR",
      "SQLITE_CONSTRAINT",
      "ARGS_INVALID",
      "ARGS_BOTH_POSITIONAL_AND_NAMED",
      "SQL_NO_STATEMENT",
      "SQL_MANY_STATEMENTS",
      "ok",
      "SQL_NOT_FOUND",
      "ok",
    ]);
    expect(r.body.results[0].error.message).toMatch(/^SQL input error: no such table: nope/);
    expect(r.body.results[1].error.message).toMatch(/^SQL string could not be parsed: /);
    expect(r.body.results[2].error.message).toMatch(/^SQLite error: UNIQUE constraint failed/);
  });

  it("stores SQL per stream within sqld's limits", async () => {
    const requests: unknown[] = [];
    for (let i = 0; i < 51; i++)
      requests.push({ type: "store_sql", sql_id: i, sql: `SELECT ${i}` });
    requests.push({
      type: "execute",
      stmt: { sql_id: 7, args: [], named_args: [], want_rows: true },
    });
    requests.push({ type: "close_sql", sql_id: 7 });
    requests.push({ type: "execute", stmt: { sql_id: 7 } });
    requests.push({ type: "store_sql", sql_id: 100, sql: `SELECT '${"x".repeat(6000)}'` });
    requests.push({ type: "close" });
    const r = await post("/v2/pipeline", { requests });
    const res = r.body.results;
    expect(res[49].type).toBe("ok");
    expect(res[50].error.code).toBe("SQL_STORE_TOO_MANY");
    expect(res[51].response.result.rows).toEqual([[{ type: "integer", value: "7" }]]);
    expect(res[52].type).toBe("ok");
    expect(res[53].error.code).toBe("SQL_NOT_FOUND");
    expect(res[54].error.code).toBe("SQL_STORE_TOO_LARGE");
  });

  it("describes statements and reports autocommit", async () => {
    const r = await post("/v3/pipeline", {
      requests: [
        { type: "describe", sql: "SELECT name, n + 1 AS m FROM t WHERE id = :id AND n > ?" },
        { type: "describe", sql: "EXPLAIN SELECT 1" },
        { type: "describe", sql: "DELETE FROM t" },
        // Numbered parameters are named as written, as sqld's sqlite3_bind_parameter_name does;
        // a number's first name wins, and `?` after them takes the next number.
        { type: "describe", sql: "SELECT ?3, ?03, :a, ?, ?2" },
        { type: "get_autocommit" },
        exec("BEGIN"),
        { type: "get_autocommit" },
        exec("ROLLBACK"),
        { type: "close" },
      ],
    });
    const [d1, d2, d3, d4, a1, , a2] = r.body.results.map((x: Json) => x.response);
    expect(d1.result).toEqual({
      params: [{ name: ":id" }, { name: null }],
      cols: [
        { name: "name", decltype: "TEXT" },
        { name: "m", decltype: null },
      ],
      is_explain: false,
      is_readonly: true,
    });
    expect(d2.result.is_explain).toBe(true);
    expect(d3.result.is_readonly).toBe(false);
    expect(d4.result.params).toEqual([
      { name: null },
      { name: "?2" },
      { name: "?3" },
      { name: ":a" },
      { name: null },
    ]);
    expect(a1.is_autocommit).toBe(true);
    expect(a2.is_autocommit).toBe(false);
  });
});

describe("batch", () => {
  it("evaluates conditions and returns one entry per step", async () => {
    const steps = [
      { stmt: stmt("BEGIN") },
      { condition: { type: "ok", step: 0 }, stmt: stmt("INSERT INTO t (name) VALUES ('b1')") },
      { condition: { type: "ok", step: 1 }, stmt: stmt("INSERT INTO t (name) VALUES ('a')") },
      { condition: { type: "ok", step: 2 }, stmt: stmt("COMMIT") },
      { condition: { type: "not", cond: { type: "ok", step: 3 } }, stmt: stmt("ROLLBACK") },
      {
        condition: { type: "error", step: 3 },
        stmt: stmt("SELECT 'skipped commit counts as error'"),
      },
      {
        condition: { type: "and", conds: [{ type: "ok", step: 4 }, { type: "is_autocommit" }] },
        stmt: stmt("SELECT count(*) FROM t WHERE name = 'b1'"),
      },
      {
        condition: {
          type: "or",
          conds: [
            { type: "ok", step: 3 },
            { type: "error", step: 0 },
          ],
        },
        stmt: stmt("SELECT 'never'"),
      },
    ];
    const r = await post("/v2/pipeline", {
      requests: [{ type: "batch", batch: { steps } }, { type: "close" }],
    });
    const result = r.body.results[0].response.result;
    expect(result.step_results).toHaveLength(8);
    expect(result.step_errors).toHaveLength(8);
    const status = result.step_results.map((x: Json, i: number) =>
      x !== null ? "ok" : result.step_errors[i] !== null ? result.step_errors[i].code : "skipped",
    );
    expect(status).toEqual([
      "ok",
      "ok",
      "SQLITE_CONSTRAINT",
      "skipped",
      "ok",
      "ok",
      "ok",
      "skipped",
    ]);
    expect(result.step_results[6].rows).toEqual([[{ type: "integer", value: "0" }]]);
  });

  it("fails as a whole on a syntax error or a bad condition, running nothing", async () => {
    const r = await post("/v2/pipeline", {
      requests: [
        {
          type: "batch",
          batch: {
            steps: [
              { stmt: stmt("INSERT INTO t (name) VALUES ('c1')") },
              { stmt: stmt("SELEC 1") },
            ],
          },
        },
        exec("SELECT count(*) FROM t WHERE name = 'c1'"),
        { type: "close" },
      ],
    });
    expect(r.body.results[0].error.code).toBe("SQL_PARSE_ERROR");
    expect(r.body.results[1].response.result.rows[0][0].value).toBe("0");
    const bad = await post("/v2/pipeline", {
      requests: [
        {
          type: "batch",
          batch: { steps: [{ condition: { type: "ok", step: 0 }, stmt: stmt("SELECT 1") }] },
        },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("PROTO_ERROR");
    expect(bad.body.message).toMatch(/Invalid reference to step/);
  });
});

describe("batons and streams", () => {
  it("keeps a transaction across requests with single-use batons", async () => {
    const r1 = await post("/v2/pipeline", {
      requests: [exec("BEGIN"), exec("INSERT INTO t (name) VALUES ('s1')")],
    });
    const b1 = r1.body.baton;
    expect(b1).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const r2 = await post("/v2/pipeline", {
      baton: b1,
      requests: [exec("SELECT count(*) FROM t WHERE name = 's1'")],
    });
    expect(r2.body.results[0].response.result.rows[0][0].value).toBe("1");
    const reused = await post("/v2/pipeline", { baton: b1, requests: [exec("SELECT 1")] });
    expect(reused.status).toBe(400);
    expect(reused.body.code).toBe("BATON_REUSED");
    const r3 = await post("/v2/pipeline", {
      baton: r2.body.baton,
      requests: [exec("ROLLBACK"), { type: "close" }],
    });
    expect(r3.body.baton).toBeNull();
    const invalid = await post("/v2/pipeline", { baton: "forged", requests: [] });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({
      code: "BATON_INVALID",
      message: "Received an invalid baton",
    });
  });

  it("expires idle streams and rolls back their transactions", async () => {
    const r1 = await post("/v2/pipeline", {
      requests: [exec("BEGIN"), exec("INSERT INTO t (name) VALUES ('e1')")],
    });
    await new Promise((r) => setTimeout(r, 400));
    const late = await post("/v2/pipeline", { baton: r1.body.baton, requests: [exec("COMMIT")] });
    expect(late.status).toBe(400);
    expect(late.body.code).toBe("STREAM_EXPIRED");
    const check = await post("/v2/pipeline", {
      requests: [exec("SELECT count(*) FROM t WHERE name = 'e1'"), { type: "close" }],
    });
    expect(check.body.results[0].response.result.rows[0][0].value).toBe("0");
  });

  it("times out a transaction left open and answers TRANSACTION_TIMEOUT", async () => {
    const handler = await createHandler({ platform, limits: { streamIdleMs: 5000 } });
    const send = async (body: unknown) =>
      (
        await handler.fetch(
          new Request(`${BASE}/v2/pipeline`, { method: "POST", body: JSON.stringify(body) }),
        )
      ).json();
    const r1 = await send({
      requests: [exec("BEGIN"), exec("INSERT INTO t (name) VALUES ('to1')")],
    });
    await new Promise((r) => setTimeout(r, 450));
    const r2 = await send({ baton: r1.baton, requests: [exec("COMMIT"), { type: "close" }] });
    expect(r2.results[0].error.code).toBe("TRANSACTION_TIMEOUT");
    handler.close();
  });

  it("limits streams holding transactions, expires idle ones to make room", async () => {
    for (let i = 0; i < 8; i++) await platform.createDatabase(`lim${i}`).catch(() => {});
    const batons: string[] = [];
    let refused: Json;
    for (let i = 0; i < 8; i++) {
      const res = await server.fetch(
        new Request(`http://127.0.0.1/dev/lim${i}/v2/pipeline`, {
          method: "POST",
          body: JSON.stringify({ requests: [exec("BEGIN")] }),
        }),
      );
      const body = await res.json();
      if (res.status === 200) batons.push(body.baton);
      else refused = { status: res.status, body };
    }
    expect(batons).toHaveLength(5);
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe("STREAM_LIMIT");
    for (let i = 0; i < 5; i++) {
      const res = await server.fetch(
        new Request(`http://127.0.0.1/dev/lim${i}/v2/pipeline`, {
          method: "POST",
          body: JSON.stringify({ baton: batons[i], requests: [exec("ROLLBACK")] }),
        }),
      );
      expect(res.status).toBe(200);
    }
    // Five idle streams are open now; new ones push the oldest out.
    for (let i = 0; i < 3; i++) {
      expect((await post("/v2/pipeline", { requests: [exec("SELECT 1")] })).status).toBe(200);
    }
    expect(server.openStreams).toBe(5);
  });
});

describe("cursor", () => {
  it("streams a batch as newline-delimited JSON", async () => {
    const r = await post("/v3/cursor", {
      batch: {
        steps: [
          { stmt: stmt("SELECT 1 AS one UNION ALL SELECT 2") },
          { stmt: stmt("SELECT * FROM nope") },
          { condition: { type: "ok", step: 1 }, stmt: stmt("SELECT 3") },
        ],
      },
    });
    expect(r.status).toBe(200);
    const lines = (r.body as string)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0].baton).toBeTypeOf("string");
    expect(lines.slice(1).map((l: Json) => l.type)).toEqual([
      "step_begin",
      "row",
      "row",
      "step_end",
      "step_error",
    ]);
    expect(lines[1]).toEqual({
      type: "step_begin",
      step: 0,
      cols: [{ name: "one", decltype: null }],
    });
    expect(lines[2]).toEqual({ type: "row", row: [{ type: "integer", value: "1" }] });
    expect(lines[5].error.code).toBe("SQL_INPUT_ERROR");
    await post("/v2/pipeline", { baton: lines[0].baton, requests: [{ type: "close" }] });
  });
});

describe("routing and whole-request errors", () => {
  const get = (url: string, init: RequestInit = {}) => server.fetch(new Request(url, init));

  it("serves probes, health and version", async () => {
    expect(await (await get("http://127.0.0.1/v2")).text()).toMatch(/HTTP API v2/);
    expect(await (await get(`${BASE}/v3`)).text()).toMatch(/HTTP API v3/);
    expect((await get("http://127.0.0.1/health")).status).toBe(200);
    expect(await (await get("http://127.0.0.1/version")).text()).toMatch(/tenantlite/);
  });

  it("selects the database by the first Host label", async () => {
    const res = await get("http://acme.localhost:8080/v2/pipeline", {
      method: "POST",
      body: JSON.stringify({ requests: [exec("SELECT count(*) FROM t"), { type: "close" }] }),
    });
    expect(res.status).toBe(200);
    const nope = await get("http://nope.localhost:8080/v2/pipeline", {
      method: "POST",
      body: "{}",
    });
    expect(nope.status).toBe(404);
    expect(await nope.json()).toMatchObject({
      code: "DATABASE_NOT_FOUND",
      message: "Namespace `nope` doesn't exist",
    });
    const none = await get("http://127.0.0.1:8080/v2/pipeline", { method: "POST", body: "{}" });
    expect(none.status).toBe(404);
  });

  it("answers bad input with clear coded errors", async () => {
    const cases: [string, RequestInit, number, string][] = [
      [`${BASE}/v2/pipeline`, { method: "POST", body: "{not json" }, 400, "JSON_INVALID"],
      [`${BASE}/v2/pipeline`, { method: "POST", body: "[]" }, 400, "PROTO_ERROR"],
      [`${BASE}/v2/pipeline`, { method: "POST", body: '{"requests":{}}' }, 400, "PROTO_ERROR"],
      [
        `${BASE}/v2/pipeline`,
        { method: "POST", body: '{"requests":[{"type":"drop_all"}]}' },
        400,
        "PROTO_ERROR",
      ],
      [
        `${BASE}/v2/pipeline`,
        { method: "POST", body: '{"requests":[{"type":"execute","stmt":{"sql":1}}]}' },
        400,
        "PROTO_ERROR",
      ],
      [
        `${BASE}/v2/pipeline`,
        {
          method: "POST",
          body: '{"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1e3"}]}}]}',
        },
        400,
        "PROTO_ERROR",
      ],
      [
        `${BASE}/v2/pipeline`,
        { method: "POST", body: '{"baton":5,"requests":[]}' },
        400,
        "PROTO_ERROR",
      ],
      [`${BASE}/v2/pipeline`, { method: "GET" }, 405, "METHOD_NOT_ALLOWED"],
      [`${BASE}/nowhere`, { method: "GET" }, 404, "NOT_FOUND"],
      ["http://127.0.0.1/v1/organizations/other/databases", { method: "GET" }, 404, "NOT_FOUND"],
      [
        "http://127.0.0.1/v1/organizations/local/databases",
        { method: "PUT" },
        405,
        "METHOD_NOT_ALLOWED",
      ],
      [
        "http://127.0.0.1/v1/organizations/local/databases",
        { method: "POST", body: '{"name":5}' },
        400,
        "BAD_REQUEST",
      ],
      [
        "http://127.0.0.1/v1/organizations/local/databases",
        { method: "POST", body: "nope" },
        400,
        "JSON_INVALID",
      ],
    ];
    for (const [url, init, status, code] of cases) {
      const res = await get(url, init);
      expect(res.status, `${init.method} ${url} ${String(init.body)}`).toBe(status);
      const body = await res.json();
      expect(body.code, `${init.method} ${url} ${String(init.body)}`).toBe(code);
      expect(body.message ?? body.error).toBeTypeOf("string");
    }
  });

  it("refuses bodies over the limit with 413", async () => {
    const small = await createHandler({ platform, limits: { maxBodyBytes: 1000 } });
    const res = await small.fetch(
      new Request(`${BASE}/v2/pipeline`, {
        method: "POST",
        body: JSON.stringify({ requests: [exec(`SELECT '${"x".repeat(2000)}'`)] }),
      }),
    );
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe("BODY_TOO_LARGE");
    small.close();
  });
});
