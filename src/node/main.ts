/**
 * `npm start` / `tenantlite`: until the server lands this runs a short demo of the platform on
 * the default data directory, so the two set-up commands of the README do something real.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { createPlatform } from "../platform/platform.js";
import { FsStorage } from "./fs-storage.js";

async function main(): Promise<void> {
  const dataDir = process.env.TENANTLITE_DATA_DIR ?? join(homedir(), ".tenantlite", "data");
  const storage = await FsStorage.open(dataDir);
  const platform = await createPlatform({ storage });
  console.log(`tenantlite: data directory ${dataDir}`);
  for (const name of ["acme", "globex"]) {
    const exists = (await platform.listDatabases({ limit: 1000 })).some((d) => d.name === name);
    if (!exists) await platform.createDatabase(name);
    const db = platform.client(name);
    await db.execute(
      "CREATE TABLE IF NOT EXISTS visits (id INTEGER PRIMARY KEY, at TEXT NOT NULL)",
    );
    await db.execute({
      sql: "INSERT INTO visits (at) VALUES (?)",
      args: [new Date().toISOString()],
    });
    const rs = await db.execute("SELECT count(*) AS n FROM visits");
    console.log(`  ${name}: ${rs.rows[0]!.n} visit(s) recorded`);
  }
  await platform.close();
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
