/**
 * One server under test, in a process of its own so that its CPU time (`process.cpuUsage()`) is
 * its own and not the load generator's. Started by bench/server and bench/fixtures with
 * `fork("scripts/run-ts.mjs", ["bench/server/child.ts", kind, dir])`:
 *
 * - `tenantlite`: `startServer` (`--memory` when `dir` is empty, else that data directory);
 * - `native`: the anchor, a minimal `node:http` server answering the same Hrana v2 pipeline
 *   (`execute` and `close` requests, which is what `@libsql/client` sends over HTTP) with
 *   better-sqlite3 12: one database per `/dev/<name>/` (`:memory:` when `dir` is empty, else the
 *   file `<dir>/<name>.db` in WAL mode with `synchronous=FULL`: each commit is durable when
 *   answered, as tenantlite's are), statements prepared once by SQL text. No auth, streams,
 *   statement checks or limits;
 * - `floor`: the same minimal server with sql.js (in memory), a point select only.
 *
 * Messages: the child sends `{ url }` once it listens; `"cpu"` is answered with
 * `{ cpu: <user + system µs so far> }`; `"exit"` closes the server and exits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import initSqlJs from "sql.js";
import { startServer } from "../../src/node/server.js";
import { loadBetterSqlite3 } from "../lib/native.js";

const [kind = "", dir = "", workers = ""] = process.argv.slice(2);

interface HranaValue {
  type: string;
  value?: unknown;
  base64?: string;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function fromHrana(v: HranaValue): unknown {
  switch (v.type) {
    case "integer": {
      const n = BigInt(String(v.value));
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(n)
        : n;
    }
    case "float":
      return Number(v.value);
    case "text":
      return String(v.value);
    case "blob":
      return Buffer.from(v.base64 ?? "", "base64");
    default:
      return null;
  }
}

function toHrana(v: unknown): HranaValue {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: String(v) };
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) return { type: "blob", base64: Buffer.from(v).toString("base64") };
  return { type: "text", value: String(v) };
}

interface NativeStmt {
  reader: boolean;
  safeIntegers(on: boolean): NativeStmt;
  raw(on: boolean): NativeStmt;
  columns(): { name: string; type: string | null }[];
  all(...args: unknown[]): unknown[][];
  run(...args: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}
interface NativeDb {
  prepare(sql: string): NativeStmt;
  pragma(sql: string): unknown;
}

/** The native anchor: better-sqlite3 behind a bare Hrana v2 pipeline endpoint. */
function nativeHandler(): (req: IncomingMessage, res: ServerResponse) => void {
  const Database = loadBetterSqlite3() as unknown as (new (file: string) => NativeDb) | undefined;
  if (Database === undefined)
    throw new Error("better-sqlite3 is not installed (npm run bench:setup)");
  const dbs = new Map<string, { db: NativeDb; stmts: Map<string, NativeStmt> }>();
  const open = (name: string) => {
    let t = dbs.get(name);
    if (t === undefined) {
      const db = new Database(dir === "" ? ":memory:" : join(dir, `${name}.db`));
      if (dir !== "") {
        db.pragma("journal_mode = WAL");
        db.pragma("synchronous = FULL");
      }
      db.pragma("foreign_keys = ON");
      t = { db, stmts: new Map() };
      dbs.set(name, t);
    }
    return t;
  };
  const execute = (name: string, stmt: { sql: string; args?: HranaValue[] }) => {
    const t = open(name);
    let st = t.stmts.get(stmt.sql);
    if (st === undefined) {
      st = t.db.prepare(stmt.sql);
      if (st.reader) st.safeIntegers(true).raw(true);
      else st.safeIntegers(true);
      t.stmts.set(stmt.sql, st);
    }
    const args = (stmt.args ?? []).map(fromHrana);
    if (st.reader) {
      const rows = st.all(...args).map((r) => r.map(toHrana));
      const cols = st.columns().map((c) => ({ name: c.name, decltype: c.type }));
      return { cols, rows, affected_row_count: 0, last_insert_rowid: null };
    }
    const r = st.run(...args);
    return {
      cols: [],
      rows: [],
      affected_row_count: r.changes,
      last_insert_rowid: String(r.lastInsertRowid),
    };
  };
  return (req, res) => {
    const name = /^\/dev\/([^/]+)\//.exec(req.url ?? "")?.[1] ?? "default";
    readBody(req).then((buf) => {
      const body = JSON.parse(buf.toString()) as {
        requests: { type: string; stmt?: { sql: string; args?: HranaValue[] } }[];
      };
      const results = body.requests.map((r) => {
        if (r.type === "close") return { type: "ok", response: { type: "close" } };
        if (r.type !== "execute" || r.stmt === undefined)
          return { type: "error", error: { message: `unsupported request ${r.type}` } };
        try {
          return { type: "ok", response: { type: "execute", result: execute(name, r.stmt) } };
        } catch (e) {
          return {
            type: "error",
            error: { message: (e as Error).message, code: "SQLITE_ERROR" },
          };
        }
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ baton: null, base_url: null, results }));
    });
  };
}

/** The floor: the same bare endpoint with sql.js, for the point select only. */
async function floorHandler(): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  db.exec(
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000) INSERT INTO t SELECT i, 'name-' || i FROM c",
  );
  const stmt = db.prepare("SELECT id, name FROM t WHERE id = ?");
  return (req, res) => {
    readBody(req).then((buf) => {
      const body = JSON.parse(buf.toString());
      const exec = body.requests[0];
      stmt.bind([Number(exec.stmt.args[0].value)]);
      const rows: unknown[] = [];
      while (stmt.step()) {
        const [rid, name] = stmt.get();
        rows.push([
          { type: "integer", value: String(rid) },
          { type: "text", value: name },
        ]);
      }
      stmt.reset();
      const result = {
        cols: [
          { name: "id", decltype: "INTEGER" },
          { name: "name", decltype: "TEXT" },
        ],
        rows,
        affected_row_count: 0,
        last_insert_rowid: null,
      };
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          baton: null,
          base_url: null,
          results: [
            { type: "ok", response: { type: "execute", result } },
            { type: "ok", response: { type: "close" } },
          ],
        }),
      );
    });
  };
}

async function main(): Promise<void> {
  let url: string;
  let close: () => Promise<void>;
  if (kind === "tenantlite") {
    const server = await startServer({
      port: 0,
      consoleDir: false,
      ...(dir === "" ? { memory: true } : { dataDir: dir }),
      ...(workers === "" ? {} : { workers: Number(workers) }),
    });
    url = server.url;
    close = () => server.close();
  } else if (kind === "native" || kind === "floor") {
    const handler = kind === "native" ? nativeHandler() : await floorHandler();
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise<void>((r) => server.close(() => r()));
  } else {
    throw new Error(`unknown server kind "${kind}" (tenantlite, native, floor)`);
  }
  process.on("message", (m) => {
    if (m === "cpu") {
      const u = process.cpuUsage();
      process.send?.({ cpu: u.user + u.system });
    } else if (m === "exit") {
      void close().then(() => process.exit(0));
    }
  });
  process.send?.({ url });
}

await main();
