import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/index.js";

describe("in-process client", () => {
  it("runs the README example", async () => {
    const platform = await createPlatform();
    await platform.createDatabase("acme");
    const db = platform.client("acme");
    await db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    const ins = await db.execute({ sql: "INSERT INTO users (name) VALUES (?)", args: ["ada"] });
    expect(ins.rowsAffected).toBe(1);
    expect(ins.lastInsertRowid).toBe(1n);
    const rs = await db.execute("SELECT * FROM users");
    expect(rs.rows[0]!.name).toBe("ada");
    expect(rs.rows[0]![1]).toBe("ada");
    expect(rs.columns).toEqual(["id", "name"]);
    expect(rs.columnTypes).toEqual(["INTEGER", "TEXT"]);
    await platform.close();
  });
});
