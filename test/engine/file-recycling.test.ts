import { describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { TenantDb } from "../../src/engine/tenant-db.js";
import { TenantFile } from "../../src/engine/tenant-file.js";

describe("tenant file recycling", () => {
  it("opens, writes through two connections, exports and closes 17,000 tenants without exhausting sql.js", async () => {
    // sql.js never frees the wal-index it maps for a shared WAL file (~75 KB per file closed: the
    // process fails after ~17,000 closes), so TenantFile recycles closed tenants' files.
    const sql = await loadSqlJs();
    const seed = new TenantDb(sql, undefined);
    seed.execute("CREATE TABLE t (x)", undefined, "number");
    const image = seed.export();
    seed.close();
    let last = 0;
    for (let i = 0; i < 17_000; i++) {
      const file = TenantFile.open(sql, `t${i}`, image);
      const writer = file.lease({});
      const reader = file.lease({});
      writer.execute("INSERT INTO t VALUES (?)", [i], "number");
      last = Number(reader.execute("SELECT count(*) AS n FROM t", undefined, "number").rows[0]!.n);
      reader.endImplicitRead();
      if (i % 1000 === 0) file.export();
      file.close();
    }
    expect(last).toBe(1);
  }, 180_000);
});
