/**
 * Child process of the migration crash test: opens the data directory (which recovers any
 * interrupted job), prints `open`, runs one migration of schema "app", prints `done`.
 * Usage: node migrate-child.mjs <data dir> <k>
 */
import { createPlatform } from "../../src/index.js";
import { FsStorage } from "../../src/node/fs-storage.js";

const [dir, k] = process.argv.slice(2);
const platform = await createPlatform({ storage: await FsStorage.open(dir!) });
process.stdout.write("open\n");
await platform.migrate("app", [
  `ALTER TABLE users ADD COLUMN c${k} TEXT`,
  `CREATE INDEX users_c${k} ON users(c${k})`,
  `INSERT INTO marks VALUES (${k})`,
]);
process.stdout.write("done\n");
await platform.close();
