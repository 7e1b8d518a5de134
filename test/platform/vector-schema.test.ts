/**
 * libSQL's vectors in schema databases: a migration on the parent that adds an embedding column,
 * fills it with vector functions and creates a vector index reaches every child, each child then
 * searching its own rows. Children's dry runs on migration threads (whose sql.js lacks the
 * engine's vector functions) come back to the runner's thread and end byte for byte as without
 * threads.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { MigrationThreads, Platform } from "../../src/index.js";
import { createPlatform } from "../../src/node/create-platform.js";
import { createMigrationThreads } from "../../src/node/migration-threads.js";

const opened: Platform[] = [];
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close();
});

const CHILDREN = 12;
const name = (i: number) => `c${String(i).padStart(2, "0")}`;

/** A schema "app" whose children hold notes of their own (the last three hold none). */
async function schema(options: Parameters<typeof createPlatform>[0]): Promise<Platform> {
  const p = await createPlatform(options);
  opened.push(p);
  await p.createDatabase("app", { type: "schema" });
  await p.client("app").execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, x REAL, y REAL)");
  for (let i = 0; i < CHILDREN; i++) {
    await p.createDatabase(name(i), { schema: "app" });
    if (i >= CHILDREN - 3) continue;
    await p.client(name(i)).batch(
      [0, 1, 2].map((k) => ({
        sql: "INSERT INTO notes (x, y) VALUES (?, ?)",
        args: [Math.cos(i + k), Math.sin(i + k)],
      })),
      "write",
    );
  }
  return p;
}

const MIGRATION = [
  "ALTER TABLE notes ADD COLUMN emb F32_BLOB(2)",
  "UPDATE notes SET emb = vector32('[' || x || ',' || y || ']')",
  "CREATE INDEX notes_idx ON notes (libsql_vector_idx(emb))",
];

describe("vectors in schema databases", () => {
  it("a migration adds embeddings and a vector index to every child; each searches its own", async () => {
    const p = await schema({ migrationThreads: null });
    await p.migrate("app", MIGRATION);
    expect(await p.checkSchemas("app")).toEqual([]);
    for (let i = 0; i < CHILDREN - 3; i++) {
      const c = p.client(name(i));
      const rs = await c.execute({
        sql: "SELECT id FROM vector_top_k('notes_idx', vector32(?), 1)",
        args: [`[${Math.cos(i + 1)},${Math.sin(i + 1)}]`],
      });
      expect(
        rs.rows.map((r) => r.id),
        name(i),
      ).toEqual([2]);
      // New rows go through the index's checks like any child's.
      await expect(c.execute("INSERT INTO notes (emb) VALUES ('[1,')")).rejects.toMatchObject({
        code: "SQLITE_ERROR",
      });
    }
    const empty = await p
      .client(name(CHILDREN - 1))
      .execute("SELECT id FROM vector_top_k('notes_idx', '[1,0]', 5)");
    expect(empty.rows).toEqual([]);
    // DDL on a child is refused, vector index included.
    await expect(
      p.client(name(0)).execute("CREATE INDEX mine ON notes (libsql_vector_idx(emb))"),
    ).rejects.toMatchObject({ code: "DDL_FORBIDDEN" });
  });

  it("children's dry runs on migration threads end byte for byte as without threads", async () => {
    const alone = await schema({ migrationThreads: null });
    const real = createMigrationThreads({ threads: 1, fromChildren: 1 });
    // Started and warm: the thread takes work rather than handing it back.
    real.start(1_000_000);
    const probe = async () =>
      real.run(new Uint8Array(await alone.exportDatabase("app")), ["SELECT 1"]);
    for (let i = 0; i < 500 && "here" in ((await probe()) ?? { here: true }); i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // What the thread answered: it has no vector functions, so the runner redoes those children.
    const answers: string[] = [];
    const threads: MigrationThreads = {
      start: (n) => real.start(n),
      close: () => real.close(),
      run: (image, statements) =>
        real.run(image, statements)?.then((r) => {
          answers.push("message" in r ? r.message : "here" in r ? "here" : "image");
          return r;
        }),
    };
    const threaded = await schema({ migrationThreads: threads });
    await alone.migrate("app", MIGRATION);
    await threaded.migrate("app", MIGRATION);
    expect(answers.some((a) => /no such function: vector32/.test(a))).toBe(true);
    for (let i = 0; i < CHILDREN; i++) {
      const a = await alone.exportDatabase(name(i));
      const b = await threaded.exportDatabase(name(i));
      expect(Buffer.from(b).equals(Buffer.from(a)), name(i)).toBe(true);
    }
    const rs = await threaded
      .client(name(3))
      .execute("SELECT vector_extract(emb) AS v FROM notes ORDER BY id LIMIT 1");
    expect(rs.rows[0]!.v).toMatch(/^\[-?\d/);
  });
});
