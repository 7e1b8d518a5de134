import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, createPlatform, type Platform } from "../../src/index.js";
import { caught } from "../helpers.js";

let platform: Platform;
let db: Client;

beforeAll(async () => {
  platform = await createPlatform();
  await platform.createDatabase("values");
  db = platform.client("values");
  await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, x)");
});
afterAll(() => platform.close());

describe("64-bit integers", () => {
  const extremes = [
    9223372036854775807n,
    -9223372036854775808n,
    2n ** 53n + 1n,
    -(2n ** 62n),
    2n ** 31n,
  ];
  it.each(extremes)(
    "round-trips %s exactly through an INTEGER column and a bare parameter",
    async (v) => {
      const big = platform.client("values", { intMode: "bigint" });
      await big.execute({ sql: "INSERT INTO t (v, x) VALUES (?, ?)", args: [v, v] });
      const rs = await big.execute({
        sql: "SELECT v, x, ? AS p, typeof(?) AS ty FROM t WHERE v = ?",
        args: [v, v, v],
      });
      expect(rs.rows[0]!.v).toBe(v);
      expect(rs.rows[0]!.x).toBe(v);
      expect(rs.rows[0]!.p).toBe(v);
      expect(rs.rows[0]!.ty).toBe("integer");
      expect(rs.columns).toEqual(["v", "x", "p", "ty"]);
      const str = platform.client("values", { intMode: "string" });
      const s = await str.execute({ sql: "SELECT v FROM t WHERE v = ?", args: [v] });
      expect(s.rows[0]!.v).toBe(v.toString());
    },
  );

  it("keeps the caller's parameter text as the column name of a rewritten 64-bit parameter", async () => {
    const big = platform.client("values", { intMode: "bigint" });
    const rs = await big
      .execute({ sql: "SELECT :n, ?2 + 0", args: { n: 2n ** 40n, "?2": 1 } as never })
      .catch((e) => e);
    // ?2 is positional: named arguments cannot bind it.
    expect((rs as { code: string }).code).toBe("ARGS_INVALID");
    const ok = await big.execute({ sql: "SELECT :n", args: { n: 2n ** 40n } });
    expect(ok.columns).toEqual([":n"]);
    expect(ok.rows[0]![0]).toBe(2n ** 40n);
  });

  it("raises a RangeError in number mode for integers beyond 2^53, and not for large REALs", async () => {
    await expect(db.execute("SELECT 9007199254740993 AS x")).rejects.toBeInstanceOf(RangeError);
    await expect(db.execute("SELECT 9007199254740992 AS x")).rejects.toBeInstanceOf(RangeError);
    const ok = await db.execute("SELECT 9007199254740991 AS a, 1e300 AS b, -9007199254740991 AS c");
    expect(ok.rows[0]!.a).toBe(9007199254740991);
    expect(ok.rows[0]!.b).toBe(1e300);
    expect(ok.rows[0]!.c).toBe(-9007199254740991);
  });

  it("refuses bigints outside 64 bits with a RangeError before running anything", async () => {
    await expect(
      db.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [2n ** 63n] }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      db.execute({ sql: "INSERT INTO t (v) VALUES (?)", args: [-(2n ** 63n) - 1n] }),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it("refuses NaN, ±Infinity and an invalid Date with @libsql/client's RangeError, storing nothing", async () => {
    // They were bound as NULL: a row written with a computed NaN lost its value without a word.
    const before = (await db.execute("SELECT count(*) AS n FROM t")).rows[0]!.n;
    const lists = [[NaN], [Infinity], [-Infinity], [new Date("not a date")], ["a", NaN], [1, NaN]];
    for (const args of lists) {
      const sql =
        args.length === 1 ? "INSERT INTO t (v) VALUES (?)" : "INSERT INTO t (v) VALUES (? || ?)";
      const e = await db.execute({ sql, args }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e, String(args)).toBeInstanceOf(RangeError);
      expect((e as Error).message).toBe(
        "Only finite numbers (not Infinity or NaN) can be passed as arguments",
      );
    }
    await expect(
      db.execute({ sql: "INSERT INTO t (v) VALUES (:v)", args: { v: NaN } }),
    ).rejects.toBeInstanceOf(RangeError);
    expect((await db.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(before);
  });
});

describe("arguments", () => {
  it("binds ?, ?NNN, :a, @a and $a, named with or without the prefix", async () => {
    const rs = await db.execute({ sql: "SELECT ?2 AS two, ?1 AS one", args: ["a", "b"] });
    expect([rs.rows[0]!.one, rs.rows[0]!.two]).toEqual(["a", "b"]);
    for (const [sql, args] of [
      ["SELECT :a AS v", { a: 1 }],
      ["SELECT :a AS v", { ":a": 1 }],
      ["SELECT @a AS v", { a: 1 }],
      ["SELECT @a AS v", { "@a": 1 }],
      ["SELECT $a AS v", { a: 1 }],
      ["SELECT $a AS v", { $a: 1 }],
    ] as const) {
      const r = await db.execute({ sql, args });
      expect(r.rows[0]!.v).toBe(1);
    }
    const r = await db.execute({ sql: "SELECT :a + :a AS v, :b AS w", args: { a: 2, b: null } });
    expect([r.rows[0]!.v, r.rows[0]!.w]).toEqual([4, null]);
  });

  it("reports missing and surplus arguments with ARGS_INVALID, never echoing values", async () => {
    await expect(
      db.execute({ sql: "SELECT :missing", args: { other: "secret-value" } }),
    ).rejects.toBeTenantliteError("ARGS_INVALID", /:missing not found/);
    const e = await caught(db.execute({ sql: "SELECT ?", args: [1, "secret-value"] }));
    expect(e).toBeTenantliteError("ARGS_INVALID", /too many/);
    expect(e.message).not.toContain("secret-value");
    await expect(db.execute({ sql: "SELECT ?, ?", args: [1] })).rejects.toBeTenantliteError(
      "ARGS_INVALID",
      /not found/,
    );
    await expect(
      db.execute({ sql: "SELECT ?", args: [undefined as never] }),
    ).rejects.toBeTenantliteError("ARGS_INVALID", /undefined/);
    await expect(db.execute({ sql: "SELECT ?", args: [{} as never] })).rejects.toBeTenantliteError(
      "ARGS_INVALID",
      /Object/,
    );
  });

  it("binds strings exactly: non-ASCII, NULs, long ones, and lone surrogates as U+FFFD", async () => {
    const cases = [
      "",
      "plain",
      "héllo wörld",
      "日本語のテキスト",
      "emoji 🎉🚀 and more",
      "nul\u0000inside\u0000",
      "x".repeat(100_000),
      `${"ü".repeat(3000)}🎉`,
      "tail ascii then ✓",
    ];
    for (const text of cases) {
      const rs = await db.execute({
        sql: "SELECT ? AS s, length(CAST(? AS BLOB)) AS bytes, ? AS n, ? AS z",
        args: [text, text, 7, null],
      });
      // All of it is bound; text is read up to its first NUL, as libSQL's client reads it.
      expect(rs.rows[0]!.s).toBe(text.split("\u0000")[0]);
      expect(rs.rows[0]!.bytes).toBe(Buffer.byteLength(text));
      expect(rs.rows[0]!.n).toBe(7);
      expect(rs.rows[0]!.z).toBeNull();
    }
    // A lone surrogate is no UTF-8: it becomes U+FFFD, as Node's native drivers encode it.
    const lone = await db.execute({
      sql: "SELECT ? AS s, hex(?) AS h",
      args: ["a\ud800b", "\udc00"],
    });
    expect(lone.rows[0]!.s).toBe("a\ufffdb");
    expect(lone.rows[0]!.h).toBe("EFBFBD");
    // Bound again after another statement reused the encoding buffer: the first is unchanged.
    await db.execute({ sql: "INSERT INTO t (id, x) VALUES (?, ?)", args: [900, "first value"] });
    await db.execute({ sql: "SELECT ?", args: ["something else entirely, and longer"] });
    const back = await db.execute({ sql: "SELECT x FROM t WHERE id = ?", args: [900] });
    expect(back.rows[0]!.x).toBe("first value");
  });

  it("binds blobs from Uint8Array and ArrayBuffer and returns ArrayBuffer", async () => {
    const rs = await db.execute({
      sql: "SELECT ? AS a, ? AS b",
      args: [new Uint8Array([1, 2]), new Uint8Array([3]).buffer],
    });
    expect(rs.rows[0]!.a).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(rs.rows[0]!.a as ArrayBuffer)]).toEqual([1, 2]);
    expect([...new Uint8Array(rs.rows[0]!.b as ArrayBuffer)]).toEqual([3]);
  });

  it("binds Dates as epoch milliseconds", async () => {
    const rs = await db.execute({ sql: "SELECT ? AS d", args: [new Date(1234)] });
    expect(rs.rows[0]!.d).toBe(1234);
  });
});

describe("result sets", () => {
  it("gives rows with index and name access, like libSQL's Row", async () => {
    const rs = await db.execute("SELECT 1 AS a, 'x' AS b, 2 AS a");
    const row = rs.rows[0]!;
    expect(row.length).toBe(3);
    expect([row[0], row[1], row[2]]).toEqual([1, "x", 2]);
    expect(row.a).toBe(1);
    expect(Object.keys(row)).toEqual(["a", "b"]);
    expect(JSON.stringify(row)).toBe('{"a":1,"b":"x"}');
  });

  it("serializes with toJSON: integers as strings, blobs as base64", async () => {
    const big = platform.client("values", { intMode: "bigint" });
    const rs = await big.execute("SELECT 5 AS i, x'0102ff' AS b, 1.5 AS r, NULL AS n");
    expect(JSON.parse(JSON.stringify(rs))).toEqual({
      columns: ["i", "b", "r", "n"],
      columnTypes: ["", "", "", ""],
      rows: [["5", "AQL/", 1.5, null]],
      rowsAffected: 0,
      lastInsertRowid: null,
    });
  });

  it("reports lastInsertRowid exactly across the 64-bit range, in and out of transactions", async () => {
    // Read from SQLite's connection object (connection-counters.ts): each value as SQL has it.
    await db.execute("CREATE TABLE rowids (x)");
    const rowids = [
      -9223372036854775808n,
      -4294967297n,
      -4294967296n,
      -1n,
      0n,
      4294967295n,
      4294967296n,
      9007199254740991n,
      9007199254740993n,
      9223372036854775807n,
    ];
    const insert = (rowid: bigint) => ({
      sql: "INSERT INTO rowids (rowid, x) VALUES (?, 0)",
      args: [rowid],
    });
    const tx = await db.transaction("write");
    for (const rowid of rowids.slice(0, 5)) {
      expect((await tx.execute(insert(rowid))).lastInsertRowid).toBe(rowid);
      const asked = await tx.execute("SELECT CAST(last_insert_rowid() AS TEXT) AS r");
      expect(asked.rows[0]!.r).toBe(rowid.toString());
    }
    await tx.commit();
    for (const rowid of rowids.slice(5)) {
      expect((await db.execute(insert(rowid))).lastInsertRowid).toBe(rowid);
    }
    expect((await db.execute("SELECT count(*) AS n FROM rowids")).rows[0]!.n).toBe(rowids.length);
  });

  it("binds NULL where the same statement's last run bound a value, after a failed run too", async () => {
    await db.execute(
      "CREATE TABLE rebind (id INTEGER PRIMARY KEY, a, b CHECK (b IS NULL OR b != 'bad'))",
    );
    const sql = "INSERT INTO rebind (id, a, b) VALUES (?, ?, ?)";
    await db.execute({ sql, args: [1, "x", "y"] });
    await db.execute({ sql, args: [2, null, null] });
    await expect(db.execute({ sql, args: [3, "z", "bad"] })).rejects.toThrow(/CHECK/);
    await db.execute({ sql, args: [4, null, null] });
    const rs = await db.execute("SELECT id, a, b FROM rebind ORDER BY id");
    expect(rs.rows.map((r) => [r.id, r.a, r.b])).toEqual([
      [1, "x", "y"],
      [2, null, null],
      [4, null, null],
    ]);
  });

  it("reports rowsAffected for INSERT/UPDATE/DELETE only and lastInsertRowid after INSERT only", async () => {
    await db.execute("CREATE TABLE counts (id INTEGER PRIMARY KEY, v INTEGER, x)");
    const ins = await db.execute("INSERT INTO counts (v) VALUES (1), (2), (3)");
    expect(ins.rowsAffected).toBe(3);
    expect(typeof ins.lastInsertRowid).toBe("bigint");
    const upd = await db.execute("UPDATE counts SET x = 0 WHERE v IN (1, 2)");
    expect(upd.rowsAffected).toBe(2);
    expect(upd.lastInsertRowid).toBeUndefined();
    const sel = await db.execute("SELECT * FROM counts");
    expect(sel.rowsAffected).toBe(0);
    const ddl = await db.execute("CREATE TABLE IF NOT EXISTS other (a)");
    expect(ddl.rowsAffected).toBe(0);
    const ret = await db.execute("INSERT INTO counts (v) VALUES (99) RETURNING v");
    expect(ret.rowsAffected).toBe(1);
    expect(ret.rows[0]!.v).toBe(99);
    const cte = await db.execute("WITH x AS (SELECT 1) DELETE FROM counts WHERE v = 99");
    expect(cte.rowsAffected).toBe(1);
  });

  it("binds every JS number as REAL, as libSQL does, whatever the other arguments are", async () => {
    const types = "SELECT typeof(?1) AS a, typeof(?2) AS b, typeof(?3) AS c, ?1 AS v";
    // All numbers (bound straight through SQLite's C API), then with text and null beside them.
    expect({ ...(await db.execute({ sql: types, args: [1, -0, 2 ** 40] })).rows[0] }).toEqual({
      a: "real",
      b: "real",
      c: "real",
      v: 1,
    });
    expect({ ...(await db.execute({ sql: types, args: [7, "x", null] })).rows[0] }).toEqual({
      a: "real",
      b: "text",
      c: "null",
      v: 7,
    });
    expect({ ...(await db.execute({ sql: types, args: [1.5, 2, true] })).rows[0] }).toEqual({
      a: "real",
      b: "real",
      c: "real",
      v: 1.5,
    });
    // Bindings never leak from one run of a statement into the next.
    const one = "SELECT ?1 AS p, typeof(?2) AS t";
    expect({ ...(await db.execute({ sql: one, args: [3, 4] })).rows[0] }).toEqual({
      p: 3,
      t: "real",
    });
    expect({ ...(await db.execute({ sql: one, args: ["s", null] })).rows[0] }).toEqual({
      p: "s",
      t: "null",
    });
    expect({ ...(await db.execute({ sql: one, args: [5, 6] })).rows[0] }).toEqual({
      p: 5,
      t: "real",
    });
  });

  it("gives declared column types, following views and subqueries", async () => {
    await db.execute("CREATE TABLE typed (a INTEGER, b TEXT, c REAL, d decimal(10,2), e BLOB)");
    await db.execute("CREATE VIEW typed_v AS SELECT a, b FROM typed");
    const rs = await db.execute("SELECT a, b, c, d, e, a + 1 AS f FROM typed");
    expect(rs.columnTypes).toEqual(["INTEGER", "TEXT", "REAL", "decimal(10,2)", "BLOB", ""]);
    expect((await db.execute("SELECT * FROM typed_v")).columnTypes).toEqual(["INTEGER", "TEXT"]);
    expect(
      (await db.execute({ sql: "SELECT b FROM (SELECT b FROM typed WHERE a = ?)", args: [1] }))
        .columnTypes,
    ).toEqual(["TEXT"]);
    // After a schema change the types follow.
    await db.execute("ALTER TABLE typed RENAME COLUMN b TO bb");
    await db.execute("ALTER TABLE typed ADD COLUMN b VARCHAR(20)");
    expect((await db.execute("SELECT b FROM typed")).columnTypes).toEqual(["VARCHAR(20)"]);
  });

  it("gives declared types as libSQL does: none for expressions and untyped columns, RETURNING's, a compound's by its first SELECT", async () => {
    // Each expectation is what native libSQL (`@libsql/client` `:memory:`, sqlite3_column_decltype)
    // answers for the same schema and statement. A view of the query (how sql.js, which lacks
    // column_decltype, is asked) names an expression's affinity instead: "TEXT" for a CAST to
    // text, "BLOB" for an untyped column, "" for every RETURNING column.
    const p = await createPlatform();
    await p.createDatabase("decltypes");
    const c = p.client("decltypes");
    for (const ddl of [
      "CREATE TABLE a (id INTEGER PRIMARY KEY, name TEXT, u, ts DATETIME, flag BOOLEAN)",
      "CREATE TABLE b (id integer primary key, a_id INT REFERENCES a(id), note varchar(20), amount NUMERIC, data blob)",
      "CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID",
      "CREATE TABLE g (x INT, y INT GENERATED ALWAYS AS (x * 2) VIRTUAL, z TEXT AS (x || 'z') STORED)",
      "CREATE VIEW va AS SELECT a.id, a.name AS nm, b.note, count(*) AS n, b.amount + 1 AS amt, a.u FROM a JOIN b ON b.a_id = a.id GROUP BY a.id",
      "CREATE VIEW vv AS SELECT * FROM va WHERE n > 0",
      "CREATE VIEW v1 AS SELECT 1 AS a UNION ALL SELECT name FROM a",
      "CREATE VIEW v2 AS SELECT name AS a FROM a UNION ALL SELECT 1 ORDER BY a",
      "INSERT INTO a VALUES (1, 'a', 1, '2020', 1)",
      // Views within views, each naming the one before three times: each is typed once.
      "CREATE VIEW n0 AS SELECT max(name) AS m, u FROM a GROUP BY u",
      ...[1, 2, 3].map(
        (i) =>
          `CREATE VIEW n${i} AS SELECT max(x.m) AS m, y.u, z.m AS zm FROM n${i - 1} x, n${i - 1} y, n${i - 1} z GROUP BY y.u`,
      ),
    ]) {
      await c.execute(ddl);
    }
    // The types of a's columns, and of b's.
    const A = ["INTEGER", "TEXT", "", "DATETIME", "BOOLEAN"];
    const B = ["INTEGER", "INT", "varchar(20)", "NUMERIC", "BLOB"];
    const cases: [string, string[]][] = [
      ["SELECT * FROM a", A],
      ["SELECT rowid, _rowid_, oid, u FROM a", ["INTEGER", "INTEGER", "INTEGER", ""]],
      [
        "SELECT name COLLATE NOCASE, CAST(id AS TEXT), CAST(name AS INTEGER), +name, -id, (name), id + 0, ((u)) FROM a",
        ["", "", "", "", "", "TEXT", "", ""],
      ],
      [
        "SELECT (SELECT name FROM a), (SELECT u FROM a), EXISTS (SELECT 1) FROM a",
        ["TEXT", "", ""],
      ],
      ["SELECT x.name, x.u FROM (SELECT name, u FROM a) AS x", ["TEXT", ""]],
      [
        "SELECT * FROM (SELECT CAST(id AS TEXT) AS c, upper(name) AS up, ts FROM a)",
        ["", "", "DATETIME"],
      ],
      ["SELECT name FROM a UNION ALL SELECT 1", ["TEXT"]],
      ["SELECT 1 UNION ALL SELECT name FROM a", [""]],
      ["SELECT x.a FROM (SELECT 1 AS a UNION ALL SELECT name FROM a) x", ["TEXT"]],
      ["SELECT (SELECT name FROM a UNION ALL SELECT 1)", [""]],
      ["SELECT * FROM va", ["INTEGER", "TEXT", "varchar(20)", "", "", ""]],
      ["SELECT * FROM vv", ["INTEGER", "TEXT", "varchar(20)", "", "", ""]],
      ["SELECT * FROM v1", ["TEXT"]],
      ["SELECT * FROM v2", [""]],
      ["SELECT * FROM a JOIN b ON b.a_id = a.id", [...A, ...B]],
      ["SELECT * FROM a JOIN b USING (id)", [...A, ...B.slice(1)]],
      ["SELECT * FROM a NATURAL JOIN b", [...A, ...B.slice(1)]],
      ["SELECT * FROM (a JOIN b ON a.id = b.a_id)", [...A, ...B]],
      [
        "SELECT b.*, a.u FROM a LEFT JOIN b ON a.id = b.a_id",
        ["INTEGER", "INT", "varchar(20)", "NUMERIC", "BLOB", ""],
      ],
      ["SELECT k, v, rowid FROM a, w", ["TEXT", "", "INTEGER"]],
      ["SELECT * FROM g", ["INT", "INT", "TEXT"]],
      ["SELECT key, value FROM json_each('[1]')", ["", ""]],
      ["SELECT * FROM pragma_table_info('a')", ["", "", "", "", "", ""]],
      ['SELECT NAME, A.ID, main.a.ts, "u" FROM A', ["TEXT", "INTEGER", "DATETIME", ""]],
      ["VALUES (1, 'a')", ["", ""]],
      ["SELECT * FROM n3", ["", "", ""]],
      ["WITH c AS (SELECT name, CAST(ts AS TEXT) AS rt FROM a) SELECT * FROM c", ["TEXT", ""]],
      ["WITH c(x, y) AS (SELECT name, u FROM a) SELECT y, x, c.x FROM c", ["", "TEXT", "TEXT"]],
      [
        "WITH p AS (SELECT id, u FROM a), q AS (SELECT * FROM p) SELECT q.*, a.name FROM q JOIN a ON a.id = q.id",
        ["INTEGER", "", "TEXT"],
      ],
      [
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
        [""],
      ],
      ["SELECT * FROM (WITH q AS (SELECT u, name FROM a) SELECT * FROM q)", ["", "TEXT"]],
      ["WITH a AS (SELECT 'x' AS name) SELECT name FROM a", [""]],
      [
        "INSERT INTO a (name) VALUES ('x') RETURNING *",
        ["INTEGER", "TEXT", "", "DATETIME", "BOOLEAN"],
      ],
      [
        "INSERT INTO a (name) VALUES ('y') RETURNING id, name AS nm, CAST(id AS TEXT), u, rowid",
        ["INTEGER", "TEXT", "", "", "INTEGER"],
      ],
      ["UPDATE a SET name = 'z' WHERE id = 1 RETURNING name, ts", ["TEXT", "DATETIME"]],
      [
        "INSERT INTO b (a_id, note) VALUES (1, 'n') RETURNING note, data, amount",
        ["varchar(20)", "BLOB", "NUMERIC"],
      ],
      [
        "DELETE FROM b WHERE id = 1 RETURNING *",
        ["INTEGER", "INT", "varchar(20)", "NUMERIC", "BLOB"],
      ],
      [
        "INSERT INTO a (id, name) VALUES (1, 'q') ON CONFLICT(id) DO UPDATE SET name = excluded.name RETURNING id, name",
        ["INTEGER", "TEXT"],
      ],
      ["INSERT INTO g (x) VALUES (2) RETURNING *", ["INT", "INT", "TEXT"]],
      // RETURNING's table is the target, whatever a CTE of the same name is.
      [
        "WITH a AS (SELECT 1 AS x) INSERT INTO a (name) SELECT 'w' FROM a RETURNING id, name",
        ["INTEGER", "TEXT"],
      ],
    ];
    for (const [sql, expected] of cases) {
      // Twice: a statement's first run hands its types out lazily, later runs compute them.
      expect((await c.execute(sql)).columnTypes, sql).toEqual(expected);
      if (!/^(INSERT|DELETE)/.test(sql))
        expect((await c.execute(sql)).columnTypes, sql).toEqual(expected);
    }
    // Within a connection's TEMP objects, which shadow the file's.
    const conn = p.connect("decltypes");
    await conn.execute("CREATE TEMP TABLE a (shadow REAL, t)", undefined);
    expect((await conn.execute("SELECT * FROM a", undefined)).columnTypes).toEqual(["REAL", ""]);
    expect((await conn.execute("SELECT *, u FROM main.a", undefined)).columnTypes).toEqual([
      ...A,
      "",
    ]);
    conn.close();
    c.close();
    await p.close();
  });

  it("gives a result's declared types as they were when it ran, read after a schema change", async () => {
    // Types are computed when first read (a query's first run): a change of the schema in
    // between, on this connection or another, must not show in them.
    const p = await createPlatform();
    await p.createDatabase("late");
    const a = p.connect("late");
    const b = p.connect("late");
    await a.execute("CREATE TABLE t (x INTEGER, y TEXT)", undefined);
    const own = await a.execute("SELECT x, y FROM t", undefined);
    const other = await b.execute("SELECT y, x FROM t", undefined);
    const temp = await b.execute("SELECT x AS tx FROM t", undefined);
    await a.execute("ALTER TABLE t RENAME TO t_old", undefined);
    await a.execute("CREATE TABLE t (x BLOB, y REAL)", undefined);
    expect(own.columnTypes).toEqual(["INTEGER", "TEXT"]);
    expect(other.columnTypes).toEqual(["TEXT", "INTEGER"]);
    await b.execute("CREATE TEMP TABLE t (x VARCHAR(9))", undefined);
    expect(temp.columnTypes).toEqual(["INTEGER"]);
    // The same texts now: the new tables (b's TEMP table comes first for b).
    expect((await a.execute("SELECT x, y FROM t", undefined)).columnTypes).toEqual([
      "BLOB",
      "REAL",
    ]);
    expect((await b.execute("SELECT x AS tx FROM t", undefined)).columnTypes).toEqual([
      "VARCHAR(9)",
    ]);
    // A transaction's own DDL, then a rollback, and a script.
    await a.execute("BEGIN", undefined);
    await a.execute("CREATE TABLE u (k NUMERIC)", undefined);
    const inTx = await a.execute("SELECT k FROM u", undefined);
    await a.execute("ROLLBACK", undefined);
    expect(inTx.columnTypes).toEqual(["NUMERIC"]);
    const beforeScript = await a.execute("SELECT y FROM t_old", undefined);
    await a.executeScript("DROP TABLE t_old; CREATE TABLE t_old (y DATE)");
    expect(beforeScript.columnTypes).toEqual(["TEXT"]);
    // Many results held unread: all keep their types.
    const held = [];
    for (let i = 0; i < 150; i++)
      held.push(await a.execute(`SELECT y, ${i} AS n FROM t`, undefined));
    await a.execute("DROP TABLE t", undefined);
    for (const rs of held) expect(rs.columnTypes).toEqual(["REAL", ""]);
    expect(JSON.parse(JSON.stringify(held[0])).columnTypes).toEqual(["REAL", ""]);
    expect({ ...held[1]! }.columnTypes).toEqual(["REAL", ""]);
    a.close();
    b.close();
    await p.close();
  });
});

describe("statements", () => {
  it("refuses more than one statement in execute and none at all", async () => {
    await expect(db.execute("SELECT 1; SELECT 2")).rejects.toBeTenantliteError(
      "SQL_MANY_STATEMENTS",
    );
    await expect(db.execute("")).rejects.toBeTenantliteError("SQL_NO_STATEMENT");
    await expect(db.execute("  -- only a comment")).rejects.toBeTenantliteError("SQL_NO_STATEMENT");
    const ok = await db.execute("SELECT 1 AS one; -- trailing comment");
    expect(ok.rows[0]!.one).toBe(1);
  });
});
