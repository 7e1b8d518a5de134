/**
 * A database file written by libSQL (one exported from Turso) with vector indexes imports: libSQL
 * keeps such an index as an empty SQLite index plus a DiskANN graph in shadow tables, tenantlite
 * as an index holding a NULL per row. Importing rebuilds each index as tenantlite keeps it and
 * drops libSQL's shadow tables; the file was refused as "not a usable SQLite database" before.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { expect, it } from "vitest";
import { createPlatform } from "../../src/index.js";
import { useTempDirs } from "../helpers.js";

const tempDir = useTempDirs("tl-vector-import-");

/** A seeded vector of 3 floats. */
const vec = (i: number) => `[${[i % 7, (i * 3) % 5, (i * 11) % 13].map((x) => x / 10 + 0.05)}]`;

it("imports a libSQL file with vector indexes, and searches, writes and exports it", async () => {
  const file = join(tempDir(), "from-libsql.db");
  const native = createClient({ url: `file:${file}` });
  await native.batch(
    [
      "CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT, emb F32_BLOB(3))",
      "CREATE INDEX docs_cos ON docs (libsql_vector_idx(emb))",
      "CREATE INDEX docs_l2 ON docs (libsql_vector_idx(emb, 'metric=l2'))",
      "CREATE INDEX docs_body ON docs (lower(body))",
      "CREATE TABLE notes_shadow (k TEXT)", // a table of the user's: not libSQL's, kept
      "INSERT INTO notes_shadow VALUES ('mine')",
      ...Array.from({ length: 30 }, (_, i) => ({
        sql: "INSERT INTO docs (body, emb) VALUES (?, vector32(?))",
        args: [`doc ${i}`, vec(i)],
      })),
    ],
    "write",
  );
  const query = vec(100);
  const exact = async (metric: "cos" | "l2") =>
    (
      await native.execute({
        sql: `SELECT id FROM docs ORDER BY vector_distance_${metric}(emb, vector32(?)), id LIMIT 5`,
        args: [query],
      })
    ).rows.map((r) => Number(r.id));
  const expectedCos = await exact("cos");
  const expectedL2 = await exact("l2");
  native.close();
  const bytes = new Uint8Array(readFileSync(file));

  const platform = await createPlatform();
  try {
    await platform.createDatabase("imported", { fromBytes: bytes });
    const c = platform.client("imported");
    const names = (await c.execute("SELECT name FROM sqlite_schema ORDER BY name")).rows.map(
      (r) => r.name,
    );
    expect(names).toEqual(["docs", "docs_body", "docs_cos", "docs_l2", "notes_shadow"]);
    expect((await c.execute("PRAGMA integrity_check")).rows[0]?.[0]).toBe("ok");
    const top = async (index: string) =>
      (
        await c.execute({
          sql: `SELECT id FROM vector_top_k('${index}', vector32(?), 5)`,
          args: [query],
        })
      ).rows.map((r) => Number(r.id));
    expect(await top("docs_cos")).toEqual(expectedCos);
    expect(await top("docs_l2")).toEqual(expectedL2);
    expect((await c.execute("SELECT k FROM notes_shadow")).rows[0]?.k).toBe("mine");

    // Written and searched as any tenant: the new row is the query itself, so it comes first.
    await c.execute({
      sql: "INSERT INTO docs (body, emb) VALUES ('new', vector32(?))",
      args: [query],
    });
    expect((await top("docs_cos"))[0]).toBe(31);
    expect((await c.execute("PRAGMA integrity_check")).rows[0]?.[0]).toBe("ok");

    // Its export (tenantlite's own file) imports as it is.
    const exported = await platform.exportDatabase("imported");
    await platform.createDatabase("again", { fromBytes: exported });
    expect(
      (await platform.client("again").execute("SELECT count(*) AS n FROM docs")).rows[0]?.n,
    ).toBe(31);
  } finally {
    await platform.close();
  }
});
