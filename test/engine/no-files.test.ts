/**
 * No statement creates a file in the engine's file system (issue 17): `VACUUM INTO` is refused for
 * every caller, by the parser's verdict first and by SQLite's compiled program (`OP_Vacuum` with a
 * target register) when the parser is not asked, and SQLite's other routes to a file by name are
 * not in the build. A file would live in sql.js's memory until the process ends, at any name
 * (another tenant's `-wal` or `-journal` too).
 */
import { describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { vacuumsInto } from "../../src/engine/program.js";
import { TenantDb } from "../../src/engine/tenant-db.js";
import { TenantFile } from "../../src/engine/tenant-file.js";
import { engineFileTables } from "../helpers.js";

const sql = await loadSqlJs();
const run = (db: TenantDb, text: string, args?: unknown[]) =>
  db.execute(text, args as never, "number");

describe("statements never create files", () => {
  it("refuses VACUUM INTO in every spelling, before it runs", async () => {
    const file = TenantFile.open(sql, "t", undefined);
    const db = file.lease({});
    run(db, "CREATE TABLE secret (x)");
    run(db, "INSERT INTO secret VALUES ('hush')");
    const tag = `f${Date.now()}`;
    const attempts: [string, unknown[]?][] = [
      [`VACUUM INTO '${tag}-1'`],
      [`VACUUM main INTO '${tag}-2'`],
      [`vacuum "main" into '${tag}-3'`],
      [`VACUUM INTO ('${tag}' || '-4')`],
      [`/* a comment */ VaCuUm\n\tINTO '${tag}-5';`],
      ["VACUUM INTO ?", [`${tag}-6`]],
      [`VACUUM INTO '${db.filename}-wal'`],
      [`VACUUM INTO '${db.filename}-journal'`],
    ];
    for (const [text, args] of attempts) {
      await expect(Promise.resolve().then(() => run(db, text, args))).rejects.toBeTenantliteError(
        "VACUUM_INTO_FORBIDDEN",
        /export/,
      );
    }
    for (let i = 1; i <= 6; i++) expect(await engineFileTables(`${tag}-${i}`)).toEqual([]);
    // Explaining it runs nothing; plain VACUUM rewrites the database in place.
    expect(run(db, `EXPLAIN VACUUM INTO '${tag}-7'`).rows.length).toBeGreaterThan(0);
    expect(await engineFileTables(`${tag}-7`)).toEqual([]);
    run(db, "VACUUM");
    expect(run(db, "SELECT x FROM secret").rows[0]!.x).toBe("hush");
    file.close();
  });

  it("refuses it from SQLite's compiled program when the parser is not asked (scripts)", async () => {
    const db = new TenantDb(sql, undefined);
    const tag = `s${Date.now()}`;
    // The table the target name comes from exists only once the script's first statement ran.
    await expect(
      Promise.resolve().then(() =>
        db.executeScript(
          `CREATE TABLE names (n); INSERT INTO names VALUES ('${tag}'); VACUUM INTO (SELECT n FROM names)`,
        ),
      ),
    ).rejects.toBeTenantliteError("VACUUM_INTO_FORBIDDEN");
    expect(await engineFileTables(tag)).toEqual([]);
    expect(run(db, "SELECT count(*) AS n FROM names").rows[0]!.n).toBe(1);
    db.executeScript("CREATE TABLE vacuum_log (x); VACUUM; INSERT INTO vacuum_log VALUES (1)");
    expect(run(db, "SELECT count(*) AS n FROM vacuum_log").rows[0]!.n).toBe(1);
    // The program check itself: OP_Vacuum names a target register only for INTO.
    expect(vacuumsInto(db.raw, "VACUUM INTO 'x'")).toBe(true);
    expect(vacuumsInto(db.raw, "VACUUM")).toBe(false);
    expect(vacuumsInto(db.raw, "SELECT 'VACUUM INTO x'")).toBe(false);
    db.close();
  });

  it("has no SQL function that opens or writes a file by name", async () => {
    const db = new TenantDb(sql, undefined);
    for (const text of [
      "SELECT sqlite_attach('x', 'y', NULL)",
      "SELECT load_extension('x')",
      "SELECT writefile('x', 'y')",
      "SELECT readfile('x')",
      "SELECT edit('x')",
    ]) {
      await expect(Promise.resolve().then(() => run(db, text))).rejects.toBeTenantliteError(
        "SQLITE_ERROR",
        /no such function/,
      );
    }
    db.close();
  });
});
