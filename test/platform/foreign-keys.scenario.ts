/**
 * Foreign keys as Turso's libSQL has them: built with SQLITE_DEFAULT_FOREIGN_KEYS=1, so every
 * connection starts with `PRAGMA foreign_keys` on. One scenario, run step by step against any
 * `@libsql/client`-shaped client: the default, cascades, orphans and their error codes, deferred
 * constraints, `migrate` (foreign keys off while it runs, on after) and batches rolled back by a
 * violation. Outcomes are normalized to plain data as in `differential.scenario.ts`, plus the
 * error's `extendedCode` and `rawCode`.
 */
import type { Client as LibsqlClient } from "@libsql/client";
import { normalizeError, outcome as outcomeOf } from "./differential.scenario.js";

export type AnyClient = Pick<
  LibsqlClient,
  "execute" | "batch" | "transaction" | "executeMultiple" | "migrate"
>;

/** What a step works on: the scenario's database, and ways to get at it anew. */
export interface Target {
  /** A client on the scenario's database (replaced by `reopen`). */
  client: AnyClient;
  /** A client on a brand-new, empty database (closed by the test). */
  fresh(): Promise<AnyClient>;
  /** Opens the scenario's database again, as a new process would, and replaces `client`. */
  reopen(): Promise<void>;
}

/** A step: a name and what it does. */
export interface Step {
  readonly name: string;
  run(t: Target): Promise<unknown>;
}

/**
 * An error as plain data: `normalizeError`'s class, code, message and statement index, plus
 * SQLite's extended code by name (`SQLITE_CONSTRAINT_FOREIGNKEY`) and number (`rawCode`, 787).
 * Beyond `normalizeError`'s documented differences, one more (README, "Where tenantlite differs"):
 * SQLite implements a RESTRICT action as a trigger, so libSQL reports its violation as
 * SQLITE_CONSTRAINT_TRIGGER (1811) with the same "FOREIGN KEY constraint failed" message;
 * sql.js gives only the message, so tenantlite reports SQLITE_CONSTRAINT_FOREIGNKEY (787).
 */
export function normalizeFkError(e: unknown): unknown {
  const err = e as { extendedCode?: unknown; rawCode?: unknown; message?: string };
  const restrict =
    err.extendedCode === "SQLITE_CONSTRAINT_TRIGGER" &&
    /FOREIGN KEY constraint failed/.test(err.message ?? "");
  return {
    ...(normalizeError(e) as object),
    extendedCode: restrict ? "SQLITE_CONSTRAINT_FOREIGNKEY" : err.extendedCode,
    rawCode: restrict ? 787 : err.rawCode,
  };
}

function outcome(f: () => Promise<unknown>, sqls: readonly string[] = []): Promise<unknown> {
  return outcomeOf(f, sqls, normalizeFkError);
}

/** One statement through `client.execute`. */
const q = (sql: string, args?: unknown[]): Step => ({
  name: sql + (args === undefined ? "" : ` ${JSON.stringify(args)}`),
  run: (t) =>
    outcome(() => t.client.execute(args === undefined ? sql : { sql, args: args as never }), [sql]),
});

/** Statements through `client.batch(…, mode)`. */
const batch = (
  name: string,
  stmts: string[],
  mode: "write" | "read" | "deferred" = "write",
): Step => ({
  name: `batch ${mode}: ${name}`,
  run: (t) => outcome(() => t.client.batch(stmts, mode), stmts),
});

/** Statements through `client.migrate`. */
const migrate = (name: string, stmts: string[]): Step => ({
  name: `migrate: ${name}`,
  run: (t) => outcome(() => t.client.migrate(stmts), stmts),
});

/**
 * Statements in one `transaction(mode)`, each outcome recorded, then `end` (commit or rollback),
 * whose outcome is recorded too, with `closed` after it.
 */
const tx = (
  name: string,
  stmts: string[],
  end: "commit" | "rollback" = "commit",
  mode: "write" | "read" | "deferred" = "write",
): Step => ({
  name: `transaction ${mode}: ${name} (${end})`,
  run: async (t) => {
    const txn = await t.client.transaction(mode);
    const out: unknown[] = [];
    try {
      for (const sql of stmts) out.push(await outcome(() => txn.execute(sql), [sql]));
      out.push({ [end]: await outcome(() => txn[end]()) });
      out.push({ closed: txn.closed });
    } finally {
      txn.close();
    }
    return out;
  },
});

const ORPHAN_CODES = "SQLITE_CONSTRAINT / SQLITE_CONSTRAINT_FOREIGNKEY (787)";

/** The scenario. */
export const steps: Step[] = [
  // 1. the default: on, on every connection, and PRAGMA foreign_keys=OFF is a no-op in a transaction
  q("PRAGMA foreign_keys"),
  {
    name: "PRAGMA foreign_keys on a brand-new database",
    run: async (t) => outcome(async () => (await t.fresh()).execute("PRAGMA foreign_keys")),
  },
  tx("read the default", ["PRAGMA foreign_keys"], "commit", "read"),
  tx(
    "PRAGMA foreign_keys=OFF inside a transaction changes nothing",
    ["PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys"],
    "rollback",
  ),
  q("PRAGMA foreign_keys"),
  batch("read the default", ["PRAGMA foreign_keys"], "read"),

  // 2. schema with every action
  q("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"),
  q(
    "CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE ON UPDATE CASCADE, title TEXT NOT NULL)",
  ),
  q(
    "CREATE TABLE reviews (id INTEGER PRIMARY KEY, book_id INTEGER REFERENCES books(id) ON DELETE SET NULL, body TEXT NOT NULL)",
  ),
  q(
    "CREATE TABLE loans (id INTEGER PRIMARY KEY, book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE RESTRICT, who TEXT NOT NULL)",
  ),
  q(
    "CREATE TABLE fans (id INTEGER PRIMARY KEY, author_id INTEGER REFERENCES authors(id), name TEXT NOT NULL)",
  ),
  q("PRAGMA foreign_key_list(books)"),
  q("PRAGMA foreign_key_list(reviews)"),
  q("INSERT INTO authors (id, name) VALUES (1, 'ada'), (2, 'bob'), (3, 'cy'), (4, 'di')"),
  q(
    "INSERT INTO books (id, author_id, title) VALUES (1, 1, 'a1'), (2, 1, 'a2'), (3, 2, 'b1'), (4, 2, 'b2'), (5, 3, 'c1'), (6, 4, 'd1')",
  ),
  q(
    "INSERT INTO reviews (id, book_id, body) VALUES (1, 1, 'r-a1'), (2, 3, 'r-b1'), (3, 4, 'r-b2'), (4, 5, 'r-c1')",
  ),
  q("INSERT INTO loans (id, book_id, who) VALUES (1, 5, 'eve')"),
  q("INSERT INTO fans (id, author_id, name) VALUES (1, 4, 'fan of di')"),

  // 2. cascades: delete → books gone → their reviews set to NULL; update → keys follow
  q("DELETE FROM authors WHERE id = 2"),
  q("SELECT id, author_id, title FROM books ORDER BY id"),
  q("SELECT id, book_id, body FROM reviews ORDER BY id"),
  q("SELECT changes() AS c"),
  q("UPDATE authors SET id = 10 WHERE id = 1"),
  q("SELECT id, author_id, title FROM books ORDER BY id"),
  q("DELETE FROM books WHERE id = 1"),
  q("SELECT id, book_id, body FROM reviews ORDER BY id"),
  // RESTRICT, directly and through a cascade; NO ACTION on delete and on update
  q("DELETE FROM books WHERE id = 5"),
  q("DELETE FROM authors WHERE id = 3"),
  q(
    "SELECT (SELECT count(*) FROM authors WHERE id = 3) AS a, (SELECT count(*) FROM books WHERE id = 5) AS b",
  ),
  q("DELETE FROM authors WHERE id = 4"),
  q("UPDATE authors SET id = 40 WHERE id = 4"),
  q("SELECT id, name FROM authors ORDER BY id"),

  // 3. orphans: codes, parameters, UPDATE, OR IGNORE (does not apply to foreign keys), NULL is fine
  q("INSERT INTO books (author_id, title) VALUES (999, 'orphan')"),
  q("INSERT INTO books (author_id, title) VALUES (?, ?)", [999, "orphan"]),
  q("UPDATE books SET author_id = 999 WHERE id = 2"),
  q("INSERT OR IGNORE INTO books (author_id, title) VALUES (999, 'orphan')"),
  q("INSERT INTO reviews (book_id, body) VALUES (NULL, 'no book')"),
  q("INSERT INTO reviews (book_id, body) VALUES (777, 'missing book')"),
  q("SELECT count(*) AS n FROM books WHERE author_id = 999"),
  {
    name: `an orphan fails with ${ORPHAN_CODES}`,
    run: async (t) => {
      try {
        await t.client.execute("INSERT INTO fans (author_id, name) VALUES (12345, 'nobody')");
        return "no error";
      } catch (e) {
        const err = e as { code?: unknown; extendedCode?: unknown; rawCode?: unknown };
        return [err.code, err.extendedCode, err.rawCode];
      }
    },
  },
  tx("a failing orphan insert does not end the transaction", [
    "INSERT INTO authors (id, name) VALUES (5, 'eve')",
    "INSERT INTO books (author_id, title) VALUES (999, 'orphan')",
    "INSERT INTO books (id, author_id, title) VALUES (7, 5, 'e1')",
  ]),
  q("SELECT b.id, a.name, b.title FROM books b JOIN authors a ON a.id = b.author_id ORDER BY b.id"),
  {
    name: "transaction batch with an orphan: the batch fails, the transaction goes on",
    run: async (t) => {
      const txn = await t.client.transaction("write");
      try {
        const stmts = [
          "INSERT INTO authors (id, name) VALUES (6, 'fay')",
          "INSERT INTO books (author_id, title) VALUES (998, 'orphan')",
        ];
        const a = await outcome(() => txn.batch(stmts), stmts);
        const b = await outcome(() => txn.execute("SELECT id FROM authors WHERE id = 6"));
        const c = await outcome(() => txn.commit());
        return [a, b, c, txn.closed];
      } finally {
        txn.close();
      }
    },
  },
  q("SELECT id, name FROM authors WHERE id >= 5 ORDER BY id"),
  {
    name: "executeMultiple stops at an orphan",
    run: (t) =>
      outcome(() =>
        t.client.executeMultiple(
          "INSERT INTO authors (id, name) VALUES (7, 'kept'); INSERT INTO books (author_id, title) VALUES (997, 'orphan'); INSERT INTO authors (id, name) VALUES (8, 'never');",
        ),
      ),
  },
  q("SELECT id, name FROM authors WHERE id >= 7 ORDER BY id"),

  // 5. migrate: foreign keys off while it runs, on after
  q("CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL)"),
  q(
    "CREATE TABLE book_tags (book_id INTEGER NOT NULL REFERENCES books(id) ON DELETE CASCADE, tag_id INTEGER NOT NULL REFERENCES tags(id), PRIMARY KEY (book_id, tag_id))",
  ),
  q("INSERT INTO tags (id, label) VALUES (1, 'old'), (2, 'new')"),
  q("INSERT INTO book_tags (book_id, tag_id) VALUES (2, 1), (6, 2), (7, 1)"),
  batch("recreating a referenced parent with foreign keys on fails", [
    "CREATE TABLE tags_new (id INTEGER PRIMARY KEY, label TEXT NOT NULL, color TEXT)",
    "INSERT INTO tags_new (id, label) SELECT id, label FROM tags",
    "DROP TABLE tags",
    "ALTER TABLE tags_new RENAME TO tags",
  ]),
  q("SELECT name FROM sqlite_schema WHERE name LIKE 'tags%' ORDER BY name"),
  migrate("recreate a referenced parent (no cascade, no failure)", [
    "CREATE TABLE tags_new (id INTEGER PRIMARY KEY, label TEXT NOT NULL, color TEXT)",
    "INSERT INTO tags_new (id, label) SELECT id, label FROM tags",
    "DROP TABLE tags",
    "ALTER TABLE tags_new RENAME TO tags",
  ]),
  q("PRAGMA foreign_keys"),
  q("SELECT book_id, tag_id FROM book_tags ORDER BY book_id"),
  q("SELECT id, label, color FROM tags ORDER BY id"),
  q("PRAGMA foreign_key_check"),
  q("INSERT INTO book_tags (book_id, tag_id) VALUES (2, 99)"),
  q("DELETE FROM tags WHERE id = 1"),
  migrate("recreate a cascading parent (its children stay)", [
    "CREATE TABLE authors_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, country TEXT)",
    "INSERT INTO authors_new (id, name) SELECT id, name FROM authors",
    "DROP TABLE authors",
    "ALTER TABLE authors_new RENAME TO authors",
  ]),
  q("PRAGMA foreign_keys"),
  q("SELECT id, author_id, title FROM books ORDER BY id"),
  q("PRAGMA foreign_key_list(books)"),
  q("INSERT INTO books (author_id, title) VALUES (999, 'orphan after migrate')"),
  q("DELETE FROM authors WHERE id = 5"),
  q("SELECT id, author_id FROM books ORDER BY id"),
  q("SELECT book_id, tag_id FROM book_tags ORDER BY book_id"),
  migrate("an orphan is accepted while foreign keys are off", [
    "INSERT INTO books (id, author_id, title) VALUES (30, 555, 'migrated orphan')",
  ]),
  q("PRAGMA foreign_keys"),
  q("PRAGMA foreign_key_check"),
  q("PRAGMA foreign_key_check(books)"),
  q("UPDATE books SET title = 'touched' WHERE id = 30"),
  q("UPDATE books SET author_id = 556 WHERE id = 30"),
  q("DELETE FROM books WHERE id = 30"),
  q("PRAGMA foreign_key_check"),
  migrate("a failing migration rolls back and turns foreign keys back on", [
    "INSERT INTO books (id, author_id, title) VALUES (31, 557, 'never')",
    "INSERT INTO nowhere VALUES (1)",
  ]),
  q("PRAGMA foreign_keys"),
  q("SELECT count(*) AS n FROM books WHERE id = 31"),
  q("INSERT INTO books (id, author_id, title) VALUES (32, 558, 'orphan')"),

  // 6. batches: a violation rolls the whole batch back
  batch("an orphan in the middle", [
    "INSERT INTO authors (id, name) VALUES (20, 'hal')",
    "INSERT INTO books (id, author_id, title) VALUES (40, 20, 'h1')",
    "INSERT INTO books (id, author_id, title) VALUES (41, 996, 'orphan')",
    "INSERT INTO authors (id, name) VALUES (21, 'ivy')",
  ]),
  q(
    "SELECT (SELECT count(*) FROM authors WHERE id IN (20, 21)) AS a, (SELECT count(*) FROM books WHERE id IN (40, 41)) AS b",
  ),
  batch("a RESTRICT after a cascade", [
    "DELETE FROM books WHERE id = 2",
    "DELETE FROM books WHERE id = 5",
  ]),
  q("SELECT id FROM books ORDER BY id"),
  q("SELECT book_id, tag_id FROM book_tags ORDER BY book_id"),
  batch(
    "an orphan in deferred mode",
    [
      "INSERT INTO authors (id, name) VALUES (22, 'jo')",
      "INSERT INTO books (author_id, title) VALUES (995, 'orphan')",
    ],
    "deferred",
  ),
  q("SELECT count(*) AS n FROM authors WHERE id = 22"),
  batch("cascade inside a batch", [
    "INSERT INTO authors (id, name) VALUES (23, 'kim')",
    "INSERT INTO books (id, author_id, title) VALUES (42, 23, 'k1'), (43, 23, 'k2')",
    "DELETE FROM authors WHERE id = 23",
    "SELECT count(*) AS n FROM books WHERE author_id = 23",
  ]),

  // the default survives a reopen of the database
  {
    name: "reopened: foreign keys on, orphans refused, cascades cascade",
    run: async (t) => {
      await t.reopen();
      const c = t.client;
      return [
        await outcome(() => c.execute("PRAGMA foreign_keys")),
        await outcome(() => c.execute("INSERT INTO books (author_id, title) VALUES (994, 'x')")),
        await outcome(() => c.execute("DELETE FROM authors WHERE id = 10")),
        await outcome(() => c.execute("SELECT id, author_id FROM books ORDER BY id")),
      ];
    },
  },
  // 4. deferred constraints, last: a COMMIT that fails on a deferred violation leaves libsql-js's
  // COMMIT statement active (the binding does not reset a statement that failed), and until it is
  // garbage-collected every DROP TABLE on that connection fails with SQLITE_LOCKED and, on a file,
  // other connections' writes with SQLITE_BUSY (even after `close()`, which then fails quietly).
  // Nothing after this section drops a table or writes through another connection, so that quirk
  // of the binding never decides a step.
  q("CREATE TABLE d_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"),
  q(
    "CREATE TABLE d_child (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES d_parent(id) DEFERRABLE INITIALLY DEFERRED, note TEXT NOT NULL)",
  ),
  tx("child before parent", [
    "INSERT INTO d_child (id, pid, note) VALUES (1, 1, 'early')",
    "SELECT count(*) AS n FROM d_parent WHERE id = 1",
    "INSERT INTO d_parent (id, name) VALUES (1, 'late parent')",
  ]),
  q("SELECT c.id, p.name, c.note FROM d_child c JOIN d_parent p ON p.id = c.pid ORDER BY c.id"),
  tx("orphan: commit fails", [
    "INSERT INTO d_parent (id, name) VALUES (2, 'not kept')",
    "INSERT INTO d_child (id, pid, note) VALUES (2, 404, 'orphan')",
    "SELECT count(*) AS n FROM d_child",
  ]),
  q(
    "SELECT (SELECT count(*) FROM d_child) AS children, (SELECT count(*) FROM d_parent) AS parents",
  ),
  tx("orphan repaired before commit", [
    "INSERT INTO d_child (id, pid, note) VALUES (3, 3, 'repaired')",
    "INSERT INTO d_parent (id, name) VALUES (3, 'repairer')",
  ]),
  tx(
    "orphan rolled back",
    ["INSERT INTO d_child (id, pid, note) VALUES (4, 404, 'orphan')"],
    "rollback",
  ),
  q("INSERT INTO d_child (id, pid, note) VALUES (5, 405, 'autocommit orphan')"),
  q("SELECT id, pid FROM d_child ORDER BY id"),
  batch("deferred child before parent", [
    "INSERT INTO d_child (id, pid, note) VALUES (6, 6, 'batch early')",
    "INSERT INTO d_parent (id, name) VALUES (6, 'batch parent')",
  ]),
  batch("deferred orphan: fails at commit", [
    "INSERT INTO d_parent (id, name) VALUES (7, 'not kept')",
    "INSERT INTO d_child (id, pid, note) VALUES (7, 406, 'batch orphan')",
  ]),
  q("SELECT id, pid FROM d_child ORDER BY id"),
  q("SELECT id FROM d_parent ORDER BY id"),
  // PRAGMA defer_foreign_keys: an immediate constraint checked at COMMIT, reset after it
  q("PRAGMA defer_foreign_keys"),
  tx("defer_foreign_keys=ON: child before parent", [
    "PRAGMA defer_foreign_keys=ON",
    "PRAGMA defer_foreign_keys",
    "INSERT INTO books (id, author_id, title) VALUES (20, 77, 'deferred by pragma')",
    "INSERT INTO authors (id, name) VALUES (77, 'gus')",
  ]),
  q("PRAGMA defer_foreign_keys"),
  q("SELECT id, author_id, title FROM books WHERE id = 20"),
  tx("defer_foreign_keys=ON: orphan, commit fails", [
    "PRAGMA defer_foreign_keys=ON",
    "INSERT INTO authors (id, name) VALUES (78, 'not kept')",
    "INSERT INTO books (id, author_id, title) VALUES (21, 79, 'orphan')",
  ]),
  q(
    "SELECT (SELECT count(*) FROM books WHERE id = 21) AS b, (SELECT count(*) FROM authors WHERE id = 78) AS a",
  ),
  q("PRAGMA defer_foreign_keys"),
  tx("defer_foreign_keys=ON: orphan deleted before commit", [
    "PRAGMA defer_foreign_keys=ON",
    "INSERT INTO books (id, author_id, title) VALUES (22, 80, 'orphan')",
    "DELETE FROM books WHERE id = 22",
  ]),
  tx("without defer_foreign_keys the same orphan fails at once", [
    "INSERT INTO books (id, author_id, title) VALUES (23, 81, 'orphan')",
    "SELECT count(*) AS n FROM books WHERE id = 23",
  ]),
  q("SELECT count(*) AS n FROM books WHERE id >= 21"),

  q("PRAGMA foreign_key_check"),
  q("PRAGMA integrity_check"),
];
