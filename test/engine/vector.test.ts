/**
 * libSQL's vectors on sql.js (issue 16, point 3): the byte and text formats (vector-format.ts),
 * the SQL functions on every connection (vector.ts), vector indexes and the vector_top_k rewrite
 * (vector-index.ts). What native libSQL answers for the same statements is checked in
 * test/platform/vector-differential.test.ts; here, the behaviour itself, with the values worked
 * out by hand from libSQL's C code.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { rewriteTableFunctions } from "../../src/engine/table-functions.js";
import { cosF32 } from "../../src/engine/vector-distance.js";
import {
  blobShape,
  encodeBlob,
  formatG,
  formatText,
  parseText,
  VectorError,
  VectorType,
} from "../../src/engine/vector-format.js";
import { type Client, createPlatform, type Platform } from "../../src/index.js";
import { caught } from "../helpers.js";

const f32 = (...xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const hex = (b: unknown) => Buffer.from(b as ArrayBuffer).toString("hex");

describe("vector-format: libSQL's formats", () => {
  it("prints numbers as SQLite's %g does", () => {
    const cases: [number, string][] = [
      [1, "1"],
      [2.5, "2.5"],
      [3e-5, "3e-05"],
      [1234567, "1.23457e+06"],
      [Math.fround(0.1), "0.1"],
      [-0, "0"],
      [100000, "100000"],
      [123456, "123456"],
      [999999.5, "1e+06"],
      [0.0001, "0.0001"],
      [0.00001, "1e-05"],
      [1e100, "1e+100"],
      [-1.5e-7, "-1.5e-07"],
      [1234565, "1.23457e+06"], // a tie rounds away from zero
      [-1234565, "-1.23457e+06"],
      [Number.POSITIVE_INFINITY, "Inf"],
      [Number.NEGATIVE_INFINITY, "-Inf"],
      [Number.NaN, "NaN"],
    ];
    for (const [x, s] of cases) expect(formatG(x), String(x)).toBe(s);
  });

  it("parses the text form as libSQL does, spaces skipped everywhere", () => {
    expect(Array.from(parseText(" [1, 2.5 ,-3e-2 ] ", VectorType.F32).data)).toEqual([
      1,
      2.5,
      Math.fround(-3e-2),
    ]);
    expect(Array.from(parseText("[1 2]", VectorType.F32).data)).toEqual([12]);
    expect(parseText("[]", VectorType.F64).data).toHaveLength(0);
    expect(Array.from(parseText("[.5, 5., +1e1]", VectorType.F64).data)).toEqual([0.5, 5, 10]);
    expect(parseText("[1e39]", VectorType.F32).data[0]).toBe(Number.POSITIVE_INFINITY);
  });

  it("refuses bad text with libSQL's messages, never quoting the text", () => {
    const bad: [string, RegExp][] = [
      ["1,2", /^vector: must start with '\['$/],
      ["[1,2", /^vector: must end with '\]'$/],
      ["[1,s3cr3t]", /^vector: invalid float at position 1$/],
      ["[1,]", /^vector: invalid float at position 1$/],
      ["[inf]", /^vector: invalid float at position 0$/],
      ["[0x10]", /^vector: invalid float at position 0$/],
      ["[1] x", /^vector: non-space symbols after closing '\]' are forbidden$/],
      [`[${"1".repeat(1026)}]`, /^vector: float string length exceeded 1024 characters/],
      [`[${new Array(65537).fill(0).join(",")}]`, /^vector: max size exceeded 65536$/],
    ];
    for (const [text, message] of bad) {
      let error: unknown;
      try {
        parseText(text, VectorType.F32);
      } catch (e) {
        error = e;
      }
      expect(error, text.slice(0, 20)).toBeInstanceOf(VectorError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain("s3cr3t");
    }
    expect(parseText(`[${new Array(65536).fill(0).join(",")}]`, VectorType.F32).data).toHaveLength(
      65536,
    );
  });

  it("reads blob shapes: even lengths are float32, odd ones end with a type byte", () => {
    expect(blobShape(f32(1, 2))).toEqual({ type: VectorType.F32, dims: 2 });
    expect(blobShape(new Uint8Array(0))).toEqual({ type: VectorType.F32, dims: 0 });
    expect(blobShape(Uint8Array.of(0, 0, 0x80, 0x3f, 1))).toEqual({
      type: VectorType.F32,
      dims: 1,
    });
    expect(blobShape(new Uint8Array(17).fill(0, 0, 16).fill(2, 16))).toEqual({
      type: VectorType.F64,
      dims: 2,
    });
    expect(blobShape(Uint8Array.of(0, 0x3c, 0, 0x40, 5))).toEqual({
      type: VectorType.F16,
      dims: 2,
    });
    expect(() => blobShape(Uint8Array.of(0, 0, 0x80))).toThrow(/unexpected binary type: 128/);
    expect(() => blobShape(Uint8Array.of(7))).toThrow(/unexpected binary type: 7/);
    expect(() => blobShape(new Uint8Array(13).fill(2))).toThrow(/divisible by 8/);
    // Six bytes: one float and two stray bytes (libSQL reads uninitialized memory for these).
    expect(() => blobShape(new Uint8Array(6))).toThrow(/unexpected data part size/);
  });

  it("writes libSQL's blobs: float32 bare, float64 with its type byte", () => {
    expect(hex(encodeBlob(parseText("[1,2]", VectorType.F32)))).toBe("0000803f00000040");
    expect(hex(encodeBlob(parseText("[1,2]", VectorType.F64)))).toBe(
      "000000000000f03f000000000000004002",
    );
    expect(hex(encodeBlob(parseText("[]", VectorType.F64)))).toBe("02");
    expect(formatText(parseText("[1,2.5,1e-7]", VectorType.F32))).toBe("[1,2.5,1e-07]");
  });

  it("computes cosine distance in single precision, as libSQL's float code does", () => {
    const a = new Float32Array([1, 2]);
    const b = new Float32Array([2, 1]);
    // 1 - 4/√25 in float32 arithmetic, rounded to a float: 0.2 as a float, not 0.2 as a double.
    expect(cosF32(a, b)).toBe(Math.fround(0.2));
    expect(Number.isNaN(cosF32(new Float32Array(2), new Float32Array(2)))).toBe(true);
  });
});

let platform: Platform;
let db: Client;

beforeAll(async () => {
  platform = await createPlatform();
  await platform.createDatabase("vec");
  db = platform.client("vec");
});
afterAll(() => platform.close());

async function value(sql: string, args: unknown[] = []): Promise<unknown> {
  const rs = await db.execute({ sql, args: args as never });
  return rs.rows[0]?.[0];
}

describe("vector SQL functions", () => {
  it("make, read and compare vectors", async () => {
    expect(hex(await value("SELECT vector('[1,2]')"))).toBe("0000803f00000040");
    expect(hex(await value("SELECT vector32(vector64('[1,2]'))"))).toBe("0000803f00000040");
    expect(hex(await value("SELECT vector64(?)", [f32(1, 2)]))).toBe(
      "000000000000f03f000000000000004002",
    );
    expect(await value("SELECT typeof(vector('[]'))")).toBe("blob");
    expect(await value("SELECT vector_extract(?)", [f32(0.5, -3, 1e-10)])).toBe("[0.5,-3,1e-10]");
    expect(await value("SELECT vector_extract('[1, 2]')")).toBe("[1,2]");
    expect(await value("SELECT vector_distance_cos('[1,2]', '[2,1]')")).toBe(Math.fround(0.2));
    expect(await value("SELECT vector_distance_l2(vector('[0,0]'), vector('[3,4]'))")).toBe(5);
    expect(await value("SELECT vector_distance_cos('[0,0]', '[0,0]')")).toBeNull();
    expect(await value("SELECT typeof(vector_distance_cos('[1]', '[1]'))")).toBe("real");
  });

  it("refuses bad input with a coded error that names no value, and changes nothing", async () => {
    await db.execute("CREATE TABLE IF NOT EXISTS junk (v)");
    const before = await value("SELECT count(*) FROM junk");
    const cases: [string, unknown[], RegExp][] = [
      ["INSERT INTO junk VALUES (vector(?))", ["[1,s3cr3t-token]"], /invalid float at position 1/],
      ["INSERT INTO junk VALUES (vector(?))", [null], /got NULL, expected TEXT or BLOB/],
      ["INSERT INTO junk VALUES (vector(?))", [7], /got FLOAT, expected TEXT or BLOB/],
      ["INSERT INTO junk VALUES (vector(1))", [], /got INTEGER, expected TEXT or BLOB/],
      ["SELECT vector_distance_cos('[1,2]', '[1,2,3]')", [], /same length: 2 != 3/],
      ["SELECT vector_distance_l2('[1]', vector64('[1]'))", [], /same type: 1 != 2/],
      ["SELECT vector_extract(x'000080')", [], /unexpected binary type: 128/],
      [
        "SELECT vector_distance_l2(vector1bit('[1]'), vector1bit('[1]'))",
        [],
        /l2 distance is not supported for float1bit/,
      ],
      ["SELECT vector_distance_cos(vector16('[1]'), vectorb16('[1]'))", [], /same type: 5 != 6/],
    ];
    for (const [sql, args, message] of cases) {
      const e = await caught(db.execute({ sql, args: args as never }));
      expect(e).toBeTenantliteError("SQLITE_ERROR", message);
      expect(e.message).not.toContain("s3cr3t");
    }
    expect(await value("SELECT count(*) FROM junk")).toBe(before);
  });

  it("make libSQL's float16, bfloat16, float8 and float1bit vectors, bit for bit", async () => {
    // float16: round to nearest even; 70000 overflows to infinity, 1e-8 underflows to zero.
    expect(hex(await value("SELECT vector16('[1,-2,0.1,70000,1e-8,6e-5]')"))).toBe(
      "003c00c0662e007c0000ef0305",
    );
    // bfloat16: the top half of the float32, truncated.
    expect(hex(await value("SELECT vectorb16('[1,-2,0.1]')"))).toBe("803f00c0cc3d06");
    // float1bit: a bit per element (set when positive), padding, unused bits, type.
    expect(hex(await value("SELECT vector1bit('[1,-2,3,0,-0.5,7,8,9,-1]')"))).toBe("e500001703");
    // float8: bytes, zero padding to 4, alpha and shift (floats), 0, padding length, type.
    expect(hex(await value("SELECT vector8('[1,2,3]')"))).toBe("007fff008180003c0000803f000104");
    // Quantized to 8 bits: 2 comes back as 127·(2/255) + 1.
    expect(await value("SELECT vector_extract(vector8('[1,2,3]'))")).toBe("[1,1.99608,3]");
    expect(await value("SELECT vector_extract(vector1bit('[0.5,-3]'))")).toBe("[1,-1]");
    expect(await value("SELECT vector_extract(vector16('[0.1]'))")).toBe("[0.0999756]");
    expect(
      await value("SELECT vector_distance_cos(vector1bit('[1,1,-1]'), vector1bit('[1,-1,1]'))"),
    ).toBe(2);
    expect(await value("SELECT vector_distance_l2(vectorb16('[0,0]'), vectorb16('[3,4]'))")).toBe(
      5,
    );
  });

  it("are deterministic: usable in an index expression and factored out of loops", async () => {
    await db.executeMultiple(`
      CREATE TABLE docs (id INTEGER PRIMARY KEY, emb F32_BLOB(2));
      CREATE INDEX docs_text ON docs (vector_extract(emb));
      INSERT INTO docs (emb) VALUES (vector('[1,0]')), (vector('[0,1]')), (vector('[1,1]'));
    `);
    expect(await value("SELECT id FROM docs WHERE vector_extract(emb) = '[0,1]'")).toBe(2);
    const plan = await db.execute(
      "EXPLAIN QUERY PLAN SELECT id FROM docs WHERE vector_extract(emb) = '[0,1]'",
    );
    expect(JSON.stringify(plan.rows)).toMatch(/docs_text/);
  });

  it("work on every connection of a tenant, and on every sql.js connection", async () => {
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO docs (emb) VALUES (vector('[2,2]'))");
    // Another logical connection, on a SQLite connection of its own, while the write is open.
    const other = platform.client("vec");
    const rs = await other.execute("SELECT vector_extract(vector('[3]')), count(*) FROM docs");
    expect([rs.rows[0]?.[0], rs.rows[0]?.[1]]).toEqual(["[3]", 3]);
    await tx.rollback();
    other.close();
    const sql = await loadSqlJs();
    const raw = new sql.Database();
    // A connection sql.js opened for someone else has none of them: they are registered per
    // connection by the engine.
    expect(() => raw.exec("SELECT vector('[1]')")).toThrow(/no such function/);
    raw.close();
  });

  it("keep working after the WebAssembly heap grows (the old heap buffer is detached)", async () => {
    const sql = (await loadSqlJs()) as unknown as {
      _malloc(n: number): number;
      _free(p: number): void;
    };
    await value("SELECT vector_extract(vector('[1]'))");
    const big = sql._malloc(64 * 1024 * 1024);
    expect(big).not.toBe(0);
    try {
      const v = f32(...Array.from({ length: 384 }, (_, i) => i / 7));
      expect(await value("SELECT vector_extract(vector32(?))", [v])).toBe(
        formatText({ type: VectorType.F32, data: new Float32Array(v.buffer) }),
      );
    } finally {
      sql._free(big);
    }
  });
});

describe("vector indexes and vector_top_k", () => {
  beforeAll(async () => {
    await db.executeMultiple(`
      CREATE TABLE items (id INTEGER PRIMARY KEY, emb F32_BLOB(3), label TEXT);
      CREATE INDEX items_idx ON items (libsql_vector_idx(emb));
      CREATE INDEX items_l2 ON items (libsql_vector_idx(emb, 'metric=l2', 'compress_neighbors=float8'));
      INSERT INTO items (emb, label) VALUES
        (vector('[1,0,0]'), 'x'), (vector('[0,1,0]'), 'y'), (vector('[0,0,1]'), 'z'),
        (vector('[1,1,0]'), 'xy'), (NULL, 'none'), ('[0,1,1]', 'yz text'), (vector('[1,0,0]'), 'x again');
    `);
  });

  it("finds the k nearest rows, in order, ties by rowid; NULL vectors are not indexed", async () => {
    const rs = await db.execute(
      "SELECT i.label FROM vector_top_k('items_idx', vector('[1,0.1,0]'), 4) AS v JOIN items i ON i.id = v.id",
    );
    expect(rs.rows.map((r) => r[0])).toEqual(["x", "x again", "xy", "y"]);
    const all = await db.execute("SELECT id FROM vector_top_k('items_idx', '[0,1,0.9]', 100)");
    expect(all.rows.map((r) => r[0])).toEqual([6, 2, 3, 4, 1, 7]);
    expect(all.columns).toEqual(["id"]);
  });

  it("uses the index's metric, and gives the order of an exact search", async () => {
    const q = "[0.2,0.9,0.4]";
    for (const [index, fn] of [
      ["items_idx", "vector_distance_cos"],
      ["items_l2", "vector_distance_l2"],
    ]) {
      const top = await db.execute({
        sql: `SELECT id FROM vector_top_k('${index}', vector(?), 3)`,
        args: [q],
      });
      const exact = await db.execute({
        sql: `SELECT id FROM items WHERE emb IS NOT NULL ORDER BY ${fn}(emb, vector(?)), id LIMIT 3`,
        args: [q],
      });
      expect(
        top.rows.map((r) => r[0]),
        index,
      ).toEqual(exact.rows.map((r) => r[0]));
    }
  });

  it("binds parameters in order around the rewrite: positional, numbered and named", async () => {
    const rs = await db.execute({
      sql: "SELECT ? AS tag, id FROM vector_top_k('items_idx', ?, ?) WHERE id > ?",
      args: ["t", f32(1, 0, 0), 5, 1],
    });
    expect(rs.columns).toEqual(["tag", "id"]);
    // Nearest five to [1,0,0]: 1 and 7 (distance 0), 4, then 2 and 3 (distance 1, by rowid).
    expect(rs.rows.map((r) => [r[0], r[1]])).toEqual([
      ["t", 7],
      ["t", 4],
      ["t", 2],
      ["t", 3],
    ]);
    const named = await db.execute({
      sql: "SELECT id FROM vector_top_k('items_idx', :q, :k) WHERE id <> :skip",
      args: { q: "[0,0,1]", k: 2, skip: 3 },
    });
    expect(named.rows.map((r) => r[0])).toEqual([6]);
  });

  it("rewrites only table sources: not strings, comments, names or scalar calls", async () => {
    expect(await value("SELECT 'FROM vector_top_k(''items_idx'', 1, 2)' -- vector_top_k(")).toBe(
      "FROM vector_top_k('items_idx', 1, 2)",
    );
    await expect(
      db.execute("SELECT vector_top_k('items_idx', '[1,0,0]', 1)"),
    ).rejects.toBeTenantliteError("SQLITE_ERROR", /no such function: vector_top_k/);
    const sql = await loadSqlJs();
    const raw = new sql.Database();
    try {
      expect(rewriteTableFunctions(raw as never, "SELECT 1 /* vector_top_k('a', 1, 2) */")).toBe(
        undefined,
      );
      expect(rewriteTableFunctions(raw as never, 'SELECT "vector_top_k" FROM t')).toBe(undefined);
    } finally {
      raw.close();
    }
  });

  it("reads the index's partial WHERE, sees its own transaction, stays a read", async () => {
    await db.execute(
      "CREATE INDEX items_xy ON items (libsql_vector_idx(emb)) WHERE label LIKE 'x%'",
    );
    const rs = await db.execute("SELECT id FROM vector_top_k('items_xy', '[0,1,0]', 10)");
    expect(rs.rows.map((r) => r[0])).toEqual([4, 1, 7]);
    const tx = await db.transaction("write");
    await tx.execute("INSERT INTO items (emb, label) VALUES (vector('[0,1,0]'), 'x new')");
    const inTx = await tx.execute("SELECT id FROM vector_top_k('items_xy', '[0,1,0]', 1)");
    expect(inTx.rows.map((r) => r[0])).toEqual([8]);
    await tx.rollback();
    const read = await db.transaction("read");
    expect(
      (await read.execute("SELECT id FROM vector_top_k('items_idx', '[0,0,1]', 1)")).rows,
    ).toHaveLength(1);
    await read.commit();
  });

  it("searches an attached tenant's index ('alias.index'), which stays read-only", async () => {
    await platform.createDatabase("kb", { config: { allow_attach: true } });
    await platform.client("kb").executeMultiple(`
      CREATE TABLE kb (id INTEGER PRIMARY KEY, t TEXT, emb F32_BLOB(2));
      CREATE INDEX kb_idx ON kb (libsql_vector_idx(emb));
      INSERT INTO kb (t, emb) VALUES ('a', vector('[1,0]')), ('b', vector('[0,1]'));
    `);
    const tx = await db.transaction("read");
    await tx.execute('ATTACH "kb" AS s');
    const rs = await tx.execute(
      "SELECT k.t FROM vector_top_k('s.kb_idx', '[0.1,1]', 2) AS v JOIN s.kb k ON k.id = v.id",
    );
    expect(rs.rows.map((r) => r[0])).toEqual(["b", "a"]);
    await expect(
      tx.execute("INSERT INTO s.kb (emb) VALUES (vector('[1,1]'))"),
    ).rejects.toBeTenantliteError("SQLITE_READONLY");
    await tx.commit();
  });

  it("refuses with libSQL's errors: bad index, bad query, bad k", async () => {
    const cases: [string, RegExp][] = [
      [
        "SELECT * FROM vector_top_k('nope', '[1,0,0]', 1)",
        /failed to parse vector index parameters/,
      ],
      [
        "SELECT * FROM vector_top_k('docs_text', '[1,0,0]', 1)",
        /failed to parse vector index parameters/,
      ],
      ["SELECT * FROM vector_top_k('zz.items_idx', '[1,0,0]', 1)", /unknown schema 'zz'/],
      ["SELECT * FROM vector_top_k('items_idx', '[1,0]', 1)", /dimensions are different: 2 != 3/],
      [
        "SELECT * FROM vector_top_k('items_idx', vector64('[1,0,0]'), 1)",
        /type differs from column type: 2 != 1/,
      ],
      ["SELECT * FROM vector_top_k('items_idx', '[1,0,0]', -1)", /non-negative integer/],
      ["SELECT * FROM vector_top_k('items_idx', '[1,0,0]', 0.5)", /float value were provided/],
      ["SELECT * FROM vector_top_k('items_idx', '[1,0,0]', 'a')", /unexpected type of value/],
      ["SELECT * FROM vector_top_k('items_idx', '[1,0,0]')", /got 2 parameters, expected 3/],
      ["SELECT * FROM vector_top_k(?, '[1,0,0]', 1)", /index name must be a string literal/],
      // libSQL checks the query and k before it looks for the index.
      ["SELECT * FROM vector_top_k('nope', 'bad', 1)", /must start with '\['/],
    ];
    for (const [sql, message] of cases) {
      await expect(
        db.execute({ sql, args: sql.includes("?") ? ["items_idx"] : [] }),
      ).rejects.toBeTenantliteError("SQLITE_ERROR", message);
    }
  });

  it("checks CREATE INDEX as libSQL does, and a refused index changes nothing", async () => {
    await db.execute(
      "CREATE TABLE plain (id INTEGER PRIMARY KEY, b BLOB, h F16_BLOB(4), v F32_BLOB(4))",
    );
    const cases: [string, RegExp][] = [
      ["CREATE INDEX p1 ON plain (libsql_vector_idx(b))", /unexpected vector column type: BLOB/],
      [
        "CREATE INDEX p2 ON plain (libsql_vector_idx(v, 'metric=dot'))",
        /invalid vector index parameter 'metric=dot'/,
      ],
      ["CREATE INDEX p3 ON plain (libsql_vector_idx(v), id)", /exactly one column/],
      [
        "CREATE INDEX p4 ON plain (libsql_vector_idx(h, 'compress_neighbors=float1bit', 'metric=l2'))",
        /1-bit compression available only for cosine metric/,
      ],
      [
        "CREATE INDEX p5 ON plain (libsql_vector_idx(v || b))",
        /first argument must be a column token/,
      ],
    ];
    for (const [sql, message] of cases)
      await expect(db.execute(sql)).rejects.toBeTenantliteError("SQLITE_ERROR", message);
    const left = await db.execute(
      "SELECT name FROM sqlite_schema WHERE tbl_name = 'plain' AND type = 'index'",
    );
    expect(left.rows).toEqual([]);
    // Values an index would refuse: not a vector.
    await db.execute("CREATE INDEX p_ok ON plain (libsql_vector_idx(v))");
    await expect(
      db.execute("INSERT INTO plain (v) VALUES ('not a vector')"),
    ).rejects.toBeTenantliteError("SQLITE_ERROR", /must start with/);
    expect(await value("SELECT count(*) FROM plain")).toBe(0);
  });

  it("checks CREATE INDEX on the table SQLite indexes: a TEMP table before main's of its name", async () => {
    // libSQL creates this index on the TEMP table (SQLite's name resolution), whose column is a
    // vector; main's table of the same name has a TEXT column, which would be refused.
    await db.execute("CREATE TABLE shadowed (id INTEGER PRIMARY KEY, e TEXT)");
    const conn = platform.connect("vec");
    try {
      await conn.execute(
        "CREATE TEMP TABLE shadowed (id INTEGER PRIMARY KEY, e F32_BLOB(2))",
        undefined,
      );
      await conn.execute("CREATE INDEX shadowed_idx ON shadowed (libsql_vector_idx(e))", undefined);
      const index = await conn.execute(
        "SELECT tbl_name FROM temp.sqlite_schema WHERE type = 'index' AND name = 'shadowed_idx'",
        undefined,
      );
      expect(index.rows.map((r) => r.tbl_name)).toEqual(["shadowed"]);
    } finally {
      conn.close();
    }
  });
});
