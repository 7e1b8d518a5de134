import { describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { TenantDb } from "../../src/engine/tenant-db.js";

describe("tenant churn", () => {
  it("opens, writes, exports and closes 17,000 tenants without exhausting sql.js", async () => {
    // Shared-memory WAL leaks ~64 KB per close in sql.js and fails after ~16,300 closes; tenants
    // therefore run WAL under exclusive locking (see TenantDb).
    const sql = await loadSqlJs();
    const seed = new TenantDb(sql, undefined);
    seed.execute("CREATE TABLE t (x)", undefined, "number");
    const image = seed.export();
    seed.close();
    let last = 0;
    for (let i = 0; i < 17_000; i++) {
      const db = new TenantDb(sql, image);
      db.execute("INSERT INTO t VALUES (?)", [i], "number");
      last = Number(db.execute("SELECT count(*) AS n FROM t", undefined, "number").rows[0]!.n);
      if (i % 1000 === 0) db.export();
      db.close();
    }
    expect(last).toBe(1);
  }, 120_000);
});
