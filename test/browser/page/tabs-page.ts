/**
 * Page for test/browser/tabs.test.ts: the library's browser entry plus the helpers the test
 * drives through `page.evaluate` (a write loop that reports each acknowledged row, an event-loop
 * lag probe, and one scenario run against any platform to compare their answers).
 */
import {
  type BrowserPlatform,
  type Client,
  createBrowserPlatform,
  createPlatform,
  hasCode,
  MemoryStorage,
  type Platform,
  type RemoteConnection,
  type ResultSet,
  TenantliteBatchError,
  TenantliteError,
} from "../../../src/browser/index.js";

declare global {
  interface Window {
    tl: BrowserPlatform | undefined;
    ack?: (id: string) => Promise<void>;
    helpers: typeof helpers;
  }
}

const WORKER = { workerUrl: "/worker.js", wasmUrl: "/sql-wasm-browser.wasm" };

/** Codes after which a write is retried: the engine moved, the write may or may not have run. */
const RETRY = new Set(["LEADER_CHANGED", "ENGINE_UNAVAILABLE"]);

const helpers = {
  async open(mode: "worker" | "page", dbName: string): Promise<boolean> {
    window.tl = await createBrowserPlatform({ ...WORKER, mode, dbName });
    return window.tl.isLeader;
  },

  /** Error codes: a bad mode, then a first statement on an engine whose worker script is missing. */
  async startFailures(): Promise<unknown> {
    const code = async (f: () => Promise<unknown>) => {
      try {
        await f();
        return "no error";
      } catch (e) {
        return e instanceof TenantliteError ? e.code : `not coded: ${String(e)}`;
      }
    };
    const badMode = await code(() =>
      createBrowserPlatform({ ...WORKER, mode: "thread" as never, dbName: "bad" }),
    );
    const p = await createBrowserPlatform({
      workerUrl: "/missing.js",
      wasmUrl: WORKER.wasmUrl,
      dbName: "missing",
    });
    const missingWorker = await code(() => p.listDatabases());
    const again = await code(() => p.client("x").execute("SELECT 1"));
    await p.close();
    return { badMode, missingWorker, again };
  },

  isLeader(): boolean {
    return window.tl?.isLeader ?? false;
  },

  /** Inserts `n` rows (`<tab>-<i>`), each retried until acknowledged; reports each acked id. */
  async writeRows(db: string, tab: string, n: number): Promise<{ acked: number; retries: number }> {
    const client = window.tl!.client(db);
    let retries = 0;
    for (let i = 0; i < n; i++) {
      const id = `${tab}-${i}`;
      for (;;) {
        try {
          await client.execute("INSERT OR IGNORE INTO t (id, tab, n) VALUES (?, ?, ?)", [
            id,
            tab,
            i,
          ]);
          break;
        } catch (e) {
          // Bounded: an engine that never comes back fails the run instead of spinning.
          if (!(e instanceof TenantliteError) || !RETRY.has(e.code) || retries >= 1000) throw e;
          retries++;
        }
      }
      await window.ack?.(id);
    }
    return { acked: n, retries };
  },

  async ids(db: string): Promise<string[]> {
    const rs = await window.tl!.client(db).execute("SELECT id FROM t ORDER BY id");
    return rs.rows.map((r) => String(r.id));
  },

  /**
   * Runs `sql` while a 10 ms interval measures how late its callbacks fire: the page's worst
   * event-loop lag during the query.
   */
  async lagDuring(
    db: string,
    sql: string,
  ): Promise<{
    maxLagMs: number;
    over50: number;
    /** Late ticks as `<ms since the query started>:<lag ms>`. */
    late: string[];
    ticks: number;
    queryMs: number;
    value: string;
  }> {
    const client = window.tl!.client(db);
    let last = performance.now();
    let maxLagMs = 0;
    let over50 = 0;
    let ticks = 0;
    const late: string[] = [];
    let started = performance.now();
    const probe = setInterval(() => {
      const now = performance.now();
      const lag = now - last - 10;
      maxLagMs = Math.max(maxLagMs, lag);
      if (lag > 50) {
        over50++;
        late.push(`${Math.round(now - started)}:${Math.round(lag)}`);
      }
      ticks++;
      last = now;
    }, 10);
    started = performance.now();
    try {
      const rs = await client.execute(sql);
      const queryMs = performance.now() - started;
      // One more tick, so a lag that ends with the query is measured too.
      await new Promise((r) => setTimeout(r, 30));
      return { maxLagMs, over50, late, ticks, queryMs, value: String(rs.rows[0]![0]) };
    } finally {
      clearInterval(probe);
    }
  },

  /** Runs a migration from this tab and returns the progress phases this tab heard. */
  async migrateWatching(schema: string): Promise<string[]> {
    const tl = window.tl!;
    await tl.createDatabase(schema, { type: "schema" });
    await tl.createDatabase(`${schema}-child`, { schema });
    const phases: string[] = [];
    const off = tl.onMigrationProgress((e) => {
      if (e.schema === schema) phases.push(e.phase);
    });
    await tl.migrate(schema, ["CREATE TABLE m (x)"]);
    off();
    return [...new Set(phases)];
  },

  /** Begins a transaction here and inserts one row in it, left open for `commitOpen`. */
  async beginInsert(db: string, id: string): Promise<void> {
    const tx = await window.tl!.client(db).transaction("write");
    await tx.execute("INSERT INTO t (id, tab, n) VALUES (?, 'tx', 0)", [id]);
    openTx = tx;
  },

  /** Opens a raw connection here and runs one statement on it. */
  async openConnection(db: string): Promise<void> {
    openConn = window.tl!.connect(db);
    await openConn.execute("SELECT 1", undefined);
  },

  /** The open connection's next statement: its error code and whether it is closed after. */
  async useConnection(): Promise<{ code: string; closed: boolean }> {
    try {
      await openConn!.execute("SELECT 1", undefined);
      return { code: "none", closed: openConn!.closed };
    } catch (e) {
      return { code: e instanceof TenantliteError ? e.code : String(e), closed: openConn!.closed };
    }
  },

  /** A BEGIN through a client's execute, and one insert, left open. */
  async beginManual(db: string, id: string): Promise<void> {
    manual = window.tl!.client(db);
    await manual.execute("BEGIN");
    await manual.execute("INSERT INTO t (id, tab, n) VALUES (?, 'manual', 0)", [id]);
  },

  /** The manual-transaction client's next two statements: error code or "ok". */
  async useManual(): Promise<string[]> {
    const out: string[] = [];
    for (const sql of ["COMMIT", "SELECT 1"]) {
      try {
        await manual!.execute(sql);
        out.push("ok");
      } catch (e) {
        out.push(e instanceof TenantliteError ? e.code : String(e));
      }
    }
    return out;
  },

  async commitOpen(): Promise<string> {
    try {
      await openTx!.commit();
      return "committed";
    } catch (e) {
      return e instanceof TenantliteError ? e.code : `not coded: ${String(e)}`;
    }
  },

  /** The same calls against the worker platform, the in-page one and the in-process Platform. */
  /**
   * libSQL's extension functions (sql.js's legacy ones), generate_series and sqld's uuid functions
   * in a fresh engine: their answers.
   */
  async legacyFunctions(mode: "worker" | "page", dbName: string): Promise<unknown> {
    const platform = await createBrowserPlatform({ ...WORKER, mode, dbName });
    try {
      await platform.createDatabase("fn");
      const rs = await platform
        .client("fn")
        .execute(
          "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 500) SELECT sum(floor(sqrt(n))) AS s, replicate('ab', 2) AS r, log(100) AS l, median(n) AS m, (SELECT sum(value) FROM generate_series(1, 10)) AS g, length(uuid4()) AS u4, uuid7_timestamp_ms(uuid7()) > 1700000000000 AS u7 FROM c",
        );
      return { ...rs.rows[0] };
    } finally {
      await platform.close();
    }
  },

  async scenario(kind: "worker" | "page" | "in-process", dbName: string): Promise<unknown> {
    const platform: BrowserPlatform | Platform =
      kind === "in-process"
        ? await createPlatform({ storage: new MemoryStorage() })
        : await createBrowserPlatform({ ...WORKER, mode: kind, dbName });
    try {
      return await runScenario(platform);
    } finally {
      await platform.close();
    }
  },
};

let openConn: RemoteConnection | undefined;
let manual: Client | undefined;
let openTx: Awaited<ReturnType<Client["transaction"]>> | undefined;

function shape(rs: ResultSet): unknown {
  return {
    columns: rs.columns,
    columnTypes: rs.columnTypes,
    rowsByIndex: rs.rows.map((r) => Array.from({ length: r.length }, (_, i) => show(r[i]))),
    rowsByName: rs.rows.map((r) => Object.fromEntries(Object.keys(r).map((k) => [k, show(r[k])]))),
    rowsAffected: rs.rowsAffected,
    lastInsertRowid: rs.lastInsertRowid === undefined ? "undefined" : `${rs.lastInsertRowid}n`,
    json: rs.toJSON(),
  };
}

function show(v: unknown): unknown {
  if (typeof v === "bigint") return `${v}n`;
  if (v instanceof ArrayBuffer) return `blob:${[...new Uint8Array(v)].join(",")}`;
  return v;
}

/** Drops what differs between any two runs (ids, times). */
function stable<T extends object>(o: T): Partial<T> {
  const { id: _id, createdAt: _at, ...rest } = o as T & { id?: unknown; createdAt?: unknown };
  return rest as Partial<T>;
}

async function failure(f: () => unknown): Promise<unknown> {
  try {
    await f();
    return "no error";
  } catch (e) {
    if (e instanceof TenantliteBatchError) {
      return { cls: "batch", code: e.code, index: e.statementIndex, coded: true };
    }
    if (e instanceof TenantliteError)
      return { cls: e.name, code: e.code, coded: hasCode(e, e.code) };
    return { cls: (e as Error).constructor.name, message: (e as Error).message };
  }
}

async function runScenario(p: BrowserPlatform | Platform): Promise<unknown> {
  const out: Record<string, unknown> = {};
  const info = await p.createDatabase("scenario");
  out.created = { name: info.name, type: info.type, group: info.group };
  const db = p.client("scenario");
  await db.executeMultiple(
    "CREATE TABLE v (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB); CREATE TABLE c (id INTEGER PRIMARY KEY CHECK (id < 10));",
  );
  out.insert = shape(
    await db.execute({
      sql: "INSERT INTO v (i, r, s, b) VALUES (?, ?, ?, ?)",
      args: [9007199254740993n, new Date(86_400_000), "héllo", new Uint8Array([1, 2, 255])],
    }),
  );
  await db.execute("INSERT INTO v (i, r, s, b) VALUES (:i, :r, :s, :b)", {
    i: true,
    r: 1.5,
    s: null,
    b: new Uint8Array([7]).buffer,
  });
  out.select = shape(await db.execute("SELECT id, r, s, b, r AS s FROM v ORDER BY id"));
  out.overflow = await failure(() => db.execute("SELECT i FROM v WHERE id = 1"));
  const big = p.client("scenario", { intMode: "bigint" });
  out.bigint = shape(await big.execute("SELECT i FROM v ORDER BY id"));
  out.strings = shape(await p.client("scenario", { intMode: "string" }).execute("SELECT i FROM v"));
  out.batch = (
    await db.batch(
      [
        "INSERT INTO c VALUES (1)",
        ["INSERT INTO c VALUES (?)", [2]],
        "SELECT count(*) AS n FROM c",
      ],
      "write",
    )
  ).map(shape);
  out.batchError = await failure(() =>
    db.batch(["INSERT INTO c VALUES (3)", "INSERT INTO c VALUES (99)"], "write"),
  );
  out.afterBatchError = shape(await db.execute("SELECT count(*) AS n FROM c"));
  out.badArg = await failure(() => db.execute("SELECT ?", [{ not: "a value" } as never]));
  out.badArgFunction = await failure(() => db.execute("SELECT ?", [(() => 1) as never]));
  out.badStatement = await failure(() => db.execute(42 as never));
  out.badMode = await failure(() => db.transaction("sideways" as never));
  out.syntax = await failure(() => db.execute("SELEC 1"));
  out.constraint = await failure(() => db.execute("INSERT INTO c VALUES (50)"));
  const tx = await db.transaction("write");
  await tx.execute("INSERT INTO c VALUES (5)");
  out.txSees = shape(await tx.execute("SELECT count(*) AS n FROM c"));
  await tx.rollback();
  out.afterRollback = shape(await db.execute("SELECT count(*) AS n FROM c"));
  const tx2 = await db.transaction();
  await tx2.batch(["INSERT INTO c VALUES (6)", "INSERT INTO c VALUES (7)"]);
  await tx2.commit();
  out.afterCommit = shape(await db.execute("SELECT count(*) AS n FROM c"));
  out.commitTwice = await failure(() => tx2.commit());
  out.migrate = (await db.migrate(["ALTER TABLE c ADD COLUMN note TEXT"])).map(shape);
  out.missing = await failure(() => p.client("nope").execute("SELECT 1"));
  out.list = (await p.listDatabases()).map((d) => d.name).sort();
  out.exists = await failure(() => p.createDatabase("scenario"));
  // A raw connection, as a SQL shell uses it: TEMP objects and an open BEGIN persist.
  const conn = p.connect("scenario");
  await conn.execute("BEGIN", undefined);
  await conn.execute("CREATE TEMP TABLE tt (x)", undefined);
  await conn.execute("INSERT INTO tt VALUES (?)", [12n]);
  out.connection = {
    inTx: conn.inTransaction,
    temp: shape(await conn.execute("SELECT x FROM tt", undefined, "bigint")),
    batch: (await conn.batch([{ sql: "SELECT x + 1 AS y FROM tt" }], "string", undefined)).map(
      shape,
    ),
    described: await conn.describe("SELECT x FROM tt WHERE x = ?"),
    error: await failure(() => conn.execute("SELECT nope FROM tt", undefined)),
  };
  await conn.execute("COMMIT", undefined);
  (out.connection as Record<string, unknown>).afterCommit = conn.inTransaction;
  await conn.executeScript("INSERT INTO tt VALUES (1); INSERT INTO tt VALUES (2);");
  (out.connection as Record<string, unknown>).afterScript = shape(
    await conn.execute("SELECT count(*) AS n FROM tt", undefined),
  );
  conn.close();
  (out.connection as Record<string, unknown>).closed = conn.closed;
  (out.connection as Record<string, unknown>).useAfterClose = await failure(() =>
    conn.execute("SELECT 1", undefined),
  );
  // Schema migrations: progress events, wait: false with `done`, the job's record, a failure.
  await p.createDatabase("app-schema", { type: "schema" });
  await p.createDatabase("child-1", { schema: "app-schema" });
  await p.createDatabase("child-2", { schema: "app-schema" });
  const phases: string[] = [];
  const off = p.onMigrationProgress((e) => {
    if (e.schema === "app-schema") phases.push(`${e.phase}:${e.done}/${e.total}`);
  });
  const m1 = await p.migrate("app-schema", ["CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT)"]);
  const m2 = await p.migrate("app-schema", ["ALTER TABLE u ADD COLUMN plan TEXT"], { wait: false });
  await m2.done;
  off();
  out.migrations = {
    jobs: [m1.jobId, m2.jobId],
    results: m1.results.map(shape),
    // Dedupe: how many progress events fire per phase is the engine's business.
    phases: [...new Set(phases)],
    job: JSON.parse(
      JSON.stringify(await p.getMigration("app-schema", m2.jobId)).replace(
        /"\d{4}-[^"]+Z"/g,
        '"<time>"',
      ),
    ),
    list: await p.listMigrations("app-schema"),
    childColumns: shape(
      await p.client("child-2").execute("SELECT name FROM pragma_table_info('u')"),
    ),
    failed: await failure(() => p.migrate("app-schema", ["ALTER TABLE nope ADD COLUMN x"])),
    notSchema: await failure(() => p.migrate("scenario", ["CREATE TABLE z (x)"])),
  };
  const image = await p.exportDatabase("scenario");
  out.management = {
    exportHeader: new TextDecoder().decode(image.slice(0, 15)),
    config: await p.updateConfig("scenario", { allow_attach: true }),
    sizeLimit: (await p.setSizeLimit("scenario", 10_000_000)).sizeLimit,
    info: (({ name, type, group, config }) => ({ name, type, group, config }))(
      await p.getDatabase("scenario"),
    ),
    checkSchemas: await p.checkSchemas("app-schema"),
    group: stable(await p.createGroup("g2")),
    updatedGroup: stable(await p.updateGroup("g2", { delete_protection: true })),
    groups: (await p.listGroups()).map((g) => g.name).sort(),
    badName: await failure(() => p.createDatabase("no spaces allowed")),
    badLimit: await failure(() => p.setSizeLimit("scenario", -1)),
  };
  db.close();
  out.closed = await failure(() => db.execute("SELECT 1"));
  await p.deleteDatabase("scenario");
  out.afterDelete = (await p.listDatabases()).map((d) => d.name).sort();
  return out;
}

window.helpers = helpers;
