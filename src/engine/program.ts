/**
 * What a statement will do, read from SQLite's own compiled program (`EXPLAIN`), not from our
 * parser: which schemas it writes and which schemas' structure it changes. This is the backstop
 * that keeps attached databases read-only and schema children's structure fixed even when a
 * statement fools the parser (DESIGN.md, decision 2).
 */
import type { RawDatabase } from "./sqljs-types.js";

/** The effects of one statement, by schema name (lower case: `main`, `temp`, an alias). */
export interface ProgramEffects {
  /** Schemas whose content the program may write. */
  readonly writes: ReadonlySet<string>;
  /** Schemas whose structure (tables, indexes, views, triggers) the program may change. */
  readonly schemaChanges: ReadonlySet<string>;
  /**
   * Schemas whose schema table (`sqlite_schema`, root page 1) the program opens for writing: an
   * edit of the schema behind SQLite's back (`writable_schema`), or ordinary DDL.
   */
  readonly schemaTableWrites: ReadonlySet<string>;
}

// Which operand of each opcode names the schema (database index), per SQLite's opcode docs.
const WRITE_OPS: Record<string, "p1" | "p2" | "p3"> = {
  Transaction: "p1", // only when p2 ≥ 1 (write transaction)
  OpenWrite: "p3",
  SetCookie: "p1",
  CreateBtree: "p1",
  Destroy: "p3",
  Clear: "p2",
  DropTable: "p1",
  DropIndex: "p1",
  DropTrigger: "p1",
  VCreate: "p1",
  VDestroy: "p1",
  Vacuum: "p1",
  IncrVacuum: "p1",
  JournalMode: "p1",
  ParseSchema: "p1",
};
const SCHEMA_OPS: Record<string, "p1" | "p3"> = {
  ParseSchema: "p1",
  CreateBtree: "p1",
  Destroy: "p3",
  DropTable: "p1",
  DropIndex: "p1",
  DropTrigger: "p1",
  VCreate: "p1",
  VDestroy: "p1",
};
/** SetCookie p2 = 1 is BTREE_SCHEMA_VERSION: the schema changed. */
const SCHEMA_VERSION_COOKIE = 1;

/**
 * Compiles `EXPLAIN <sql>` on `db` and collects the schemas the program writes and restructures.
 * Throws what SQLite throws when the statement does not compile.
 */
export function explainEffects(db: RawDatabase, sql: string): ProgramEffects {
  const names = schemaNames(db);
  const writes = new Set<string>();
  const schemaChanges = new Set<string>();
  const schemaTableWrites = new Set<string>();
  const stmt = db.prepare(`EXPLAIN ${sql}`);
  try {
    while (stmt.step()) {
      const row = stmt.get();
      const opcode = String(row[1]);
      const p = { p1: Number(row[2]), p2: Number(row[3]), p3: Number(row[4]) };
      const writeOperand = WRITE_OPS[opcode];
      if (writeOperand !== undefined) {
        if (opcode !== "Transaction" || p.p2 >= 1) add(writes, names, p[writeOperand]);
      }
      const schemaOperand = SCHEMA_OPS[opcode];
      if (schemaOperand !== undefined) add(schemaChanges, names, p[schemaOperand]);
      if (opcode === "SetCookie" && p.p2 === SCHEMA_VERSION_COOKIE) add(schemaChanges, names, p.p1);
      if (opcode === "OpenWrite" && p.p2 === 1) add(schemaTableWrites, names, p.p3);
      if (opcode === "SqlExec") {
        // SQL the program runs itself: `PRAGMA optimize` runs `ANALYZE "<schema>"."<table>"`,
        // which writes statistics and may create sqlite_stat1.
        const s = /^ANALYZE "((?:[^"]|"")*)"/.exec(String(row[5]))?.[1]?.replace(/""/g, '"');
        const schema = s?.toLowerCase() ?? "main";
        writes.add(schema);
        schemaChanges.add(schema);
      }
    }
  } finally {
    stmt.free();
  }
  return { writes, schemaChanges, schemaTableWrites };
}

function add(set: Set<string>, names: readonly string[], index: number): void {
  set.add(names[index] ?? `#${index}`);
}

/** Schema names by index, as `PRAGMA database_list` numbers them. */
export function schemaNames(db: RawDatabase): string[] {
  const out: string[] = [];
  for (const row of db.exec("PRAGMA database_list")[0]?.values ?? []) {
    out[Number(row[0])] = String(row[1]).toLowerCase();
  }
  return out;
}

/**
 * Whether `sql` compiles to `VACUUM … INTO`: an `OP_Vacuum` whose p2 names the register holding
 * the target file (p2 is 0 for a VACUUM in place). Throws what SQLite throws when `EXPLAIN <sql>`
 * does not compile (as when `sql` is itself an EXPLAIN).
 */
export function vacuumsInto(db: RawDatabase, sql: string): boolean {
  const stmt = db.prepare(`EXPLAIN ${sql}`);
  try {
    while (stmt.step()) {
      const row = stmt.get();
      if (row[1] === "Vacuum" && Number(row[3]) !== 0) return true;
    }
  } finally {
    stmt.free();
  }
  return false;
}
