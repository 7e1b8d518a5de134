/**
 * Declared column types are found once per query and schema for all tenants of one engine
 * (tenant-file.ts, `declaredFor`): tenants with the same schema share what one found, and a
 * tenant whose schema differs in anything never gets another's.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { TenantDb } from "../../src/engine/tenant-db.js";
import { createPlatform, type Platform } from "../../src/index.js";

let platform: Platform | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await platform?.close();
  platform = undefined;
});

const types = async (p: Platform, db: string, sql: string) => {
  const rs = await p.client(db).execute(sql);
  return rs.columnTypes;
};

describe("declared types across tenants", () => {
  it("tenants made from one schema find a query's types once between them", async () => {
    platform = await createPlatform();
    const probes = vi.spyOn(TenantDb.prototype, "probeDeclaredTypes");
    for (let i = 0; i < 8; i++) {
      await platform.createDatabase(`same-${i}`);
      await platform.client(`same-${i}`).execute("CREATE TABLE t (x INTEGER, y VARCHAR(9))");
    }
    for (let i = 0; i < 8; i++) {
      expect(await types(platform, `same-${i}`, "SELECT y, x FROM t")).toEqual([
        "VARCHAR(9)",
        "INTEGER",
      ]);
    }
    expect(probes).toHaveBeenCalledTimes(1);
  });

  it("never gives a tenant the types of another schema, before or after a change", async () => {
    platform = await createPlatform();
    const schemas: Record<string, string[]> = {
      a: ["CREATE TABLE t (x INTEGER, y TEXT)"],
      b: ["CREATE TABLE t (x INTEGER, y TEXT)"],
      c: ["CREATE TABLE t (x TEXT, y BLOB)"],
      // The same names, a view over another table.
      d: ["CREATE TABLE base (v DATE)", "CREATE VIEW t AS SELECT v AS x, v AS y FROM base"],
      // The same table text, one more object.
      e: ["CREATE TABLE t (x INTEGER, y TEXT)", "CREATE TABLE u (x REAL)"],
    };
    for (const [name, ddl] of Object.entries(schemas)) {
      await platform.createDatabase(name);
      for (const s of ddl) await platform.client(name).execute(s);
    }
    const q = "SELECT x, y FROM t";
    expect(await types(platform, "a", q)).toEqual(["INTEGER", "TEXT"]);
    expect(await types(platform, "c", q)).toEqual(["TEXT", "BLOB"]);
    expect(await types(platform, "d", q)).toEqual(["DATE", "DATE"]);
    expect(await types(platform, "b", q)).toEqual(["INTEGER", "TEXT"]);
    expect(await types(platform, "e", q)).toEqual(["INTEGER", "TEXT"]);
    expect(await types(platform, "e", "SELECT x FROM u")).toEqual(["REAL"]);
    // A change of b's schema: b's queries follow it, a's (the schema b had) do not.
    await platform.client("b").execute("ALTER TABLE t ADD COLUMN z NUMERIC");
    expect(await types(platform, "b", "SELECT * FROM t")).toEqual(["INTEGER", "TEXT", "NUMERIC"]);
    expect(await types(platform, "a", "SELECT * FROM t")).toEqual(["INTEGER", "TEXT"]);
    await platform.client("a").execute("DROP TABLE t");
    await platform.client("a").execute("CREATE TABLE t (x BOOLEAN, y JSON)");
    expect(await types(platform, "a", q)).toEqual(["BOOLEAN", "JSON"]);
    expect(await types(platform, "b", q)).toEqual(["INTEGER", "TEXT"]);
  });
});
