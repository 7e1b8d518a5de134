import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/index.js";
import { tenantThreads } from "../../src/node/tenant-threads.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
/** Collects garbage across turns (a WeakRef read in a turn keeps its target for that turn). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
  }
}

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

  it("keeps none of a transaction's results once handed out, on a thread or not", async () => {
    for (const threads of [false, true]) {
      const platform = await createPlatform(
        threads ? { tenantThreads: tenantThreads({ threads: 1 }) } : {},
      );
      await platform.createDatabase("acme");
      const db = platform.client("acme");
      const tx = await db.transaction("read");
      let rs: unknown = await tx.execute("SELECT randomblob(100000) AS b");
      const handedOut = new WeakRef(rs as object);
      rs = undefined;
      await collect();
      // Before, the transaction's queue held its last result until the transaction went.
      expect(handedOut.deref()).toBeUndefined();
      expect((await tx.execute("SELECT 1 AS one")).rows[0]!.one).toBe(1);
      tx.close();
      db.close();
      await platform.close();
    }
  });
});
