// SQLite itself (through sql.js) as the oracle for the parser's verdicts.
import initSqlJs, { type Database } from "sql.js";

/** Fixture objects every corpus statement may refer to. */
export const FIXTURE = `
CREATE TABLE t1(a INTEGER PRIMARY KEY, b TEXT, c REAL);
CREATE TABLE t2(x, y, z);
CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, msg);
CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE INDEX i1 ON t1(b);
CREATE INDEX i2 ON t2(y COLLATE nocase);
CREATE VIEW v1 AS SELECT a, b FROM t1;
CREATE TRIGGER trg AFTER INSERT ON t1 BEGIN INSERT INTO log(msg) VALUES (new.b); END;
CREATE VIRTUAL TABLE ft USING fts4(body);
CREATE TEMP TABLE tt(u, w);
ATTACH ':memory:' AS aux;
CREATE TABLE aux.t3(p, q);
CREATE INDEX aux.i3 ON t3(p);
CREATE VIEW aux.v3 AS SELECT p FROM t3;
ATTACH ':memory:' AS userdb;
CREATE TABLE userdb.user_preferences(id INTEGER PRIMARY KEY, k TEXT UNIQUE, v);
`;

/** SQLite's verdict on one statement. */
export interface Verdict {
  /** Prepared without error. */
  readonly prepares: boolean;
  /** The prepared statement's result columns (0 when it did not prepare). */
  readonly columns: number;
  /** Failed with a syntax-level error (syntax error, incomplete input, unrecognized token…). */
  readonly syntaxError: boolean;
  readonly message: string | null;
  /** From the program: no Transaction p2≠0, Vacuum, JournalMode or Checkpoint (resolveP2Values). */
  readonly readonly: boolean;
  /** Schemas written: Transaction p2≠0, Vacuum and journal-mode changes, by their p1. */
  readonly schemas: readonly string[];
  /** Schema-changing opcodes, or schema_version moved when run in a rolled-back savepoint. */
  readonly ddl: boolean;
}

const SYNTAX = /syntax error|incomplete input|unrecognized token|parser stack overflow/;
const DDL_OPS = new Set([
  "ParseSchema",
  "CreateBtree",
  "Destroy",
  "DropTable",
  "DropIndex",
  "DropTrigger",
  "VCreate",
  "VDestroy",
]);
const PAGER_JOURNALMODE_QUERY = -1;

/** Opens the fixture database. */
export async function openOracle(): Promise<Oracle> {
  const SQL = await initSqlJs();
  return new Oracle(() => {
    const db = new SQL.Database();
    db.exec(FIXTURE);
    return db;
  });
}

/** Runs statements through SQLite and reads its compiled program. */
export class Oracle {
  private readonly names: string[];
  private db: Database;

  constructor(private readonly open: () => Database) {
    this.db = open();
    const rows = this.db.exec("PRAGMA database_list")[0]!.values;
    this.names = [];
    for (const [seq, name] of rows) this.names[Number(seq)] = String(name);
  }

  /**
   * Where SQLite's name resolution finds an object (temp, main, then attached schemas), and its
   * type; null when no schema has it.
   */
  locate(name: string, schema: string | null): { schema: string; type: string } | null {
    const order =
      schema !== null
        ? [schema]
        : ["temp", "main", ...this.schemaNames.filter((n) => n !== "main" && n !== "temp")];
    for (const s of order) {
      const table = s.toLowerCase() === "temp" ? "sqlite_temp_master" : `"${s}".sqlite_master`;
      let rows: unknown[][] = [];
      try {
        const st = this.db.prepare(`SELECT type FROM ${table} WHERE name = ? COLLATE NOCASE`);
        st.bind([name]);
        while (st.step()) rows.push(st.get());
        st.free();
      } catch {
        rows = [];
      }
      if (rows.length > 0) return { schema: s.toLowerCase(), type: String(rows[0]![0]) };
    }
    return null;
  }

  /** Every schema of the fixture connection. */
  get schemaNames(): readonly string[] {
    return this.names.filter((n) => n !== undefined);
  }

  private versions(): string {
    return this.schemaNames
      .map((n) => String(this.db.exec(`PRAGMA "${n}".schema_version`)[0]?.values[0]?.[0]))
      .join(",");
  }

  /**
   * SQLite's verdict for one statement: `sql` is prepared as is; the program is read from
   * `inner` (the statement without its EXPLAIN prefix).
   */
  verdict(full: string, sql: string, execute: boolean): Verdict {
    // Many pragmas act while being prepared: give each its own connection.
    if (/^\s*(EXPLAIN\s+(QUERY\s+PLAN\s+)?)?PRAGMA/i.test(full)) {
      this.db.close();
      this.db = this.open();
    }
    let columns: number;
    try {
      const stmt = this.db.prepare(full);
      columns = stmt.getColumnNames().length;
      stmt.free();
    } catch (e) {
      const message = (e as Error).message;
      return {
        prepares: false,
        columns: 0,
        syntaxError: SYNTAX.test(message),
        message,
        readonly: true,
        schemas: [],
        ddl: false,
      };
    }
    let rows: unknown[][];
    try {
      rows = this.db.exec(`EXPLAIN ${sql}`)[0]?.values ?? [];
    } catch {
      rows = [];
    }
    let readonly = true;
    let ddl = false;
    const schemas = new Set<string>();
    for (const [, opcode, p1, p2, p3] of rows) {
      const op = String(opcode);
      const db = this.names[Number(p1)] ?? `#${String(p1)}`;
      if (op === "Transaction" && Number(p2) !== 0) {
        readonly = false;
        schemas.add(db);
      } else if (op === "Vacuum") {
        readonly = false;
        schemas.add(db);
      } else if (op === "JournalMode") {
        readonly = false;
        if (Number(p3) !== PAGER_JOURNALMODE_QUERY) schemas.add(db);
      } else if (op === "Checkpoint") {
        readonly = false;
      } else if (DDL_OPS.has(op) || (op === "SetCookie" && Number(p2) === 1)) {
        ddl = true;
      }
    }
    if (execute && !ddl) {
      const before = this.versions();
      this.db.run("SAVEPOINT oracle");
      try {
        this.db.run(sql);
      } catch {
        // Runtime failures (constraints…) say nothing about the syntax.
      }
      const after = this.versions();
      this.db.run("ROLLBACK TO oracle; RELEASE oracle");
      if (before !== after) ddl = true;
    }
    return {
      prepares: true,
      columns,
      syntaxError: false,
      message: null,
      readonly,
      schemas: [...schemas],
      ddl,
    };
  }
}
