/**
 * Child process of the migration crash test: opens the data directory (which recovers any
 * interrupted job), prints `open`, runs one migration of schema "app" (printing `apply` when its
 * apply phase begins), prints `done`, then writes a row to two children (printing `wrote <child>
 * <k>` once each is acknowledged). Node's `createPlatform`, with children's dry runs shared
 * with a worker thread.
 * Usage: node migrate-child.mjs <data dir> <k>
 */
import { createPlatform } from "../../src/node/create-platform.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { createMigrationThreads } from "../../src/node/migration-threads.js";

const [dir, k] = process.argv.slice(2);
const platform = await createPlatform({
  storage: await FsStorage.open(dir!),
  // Threads for every job, however small (the default starts them from 1,000 children).
  migrationThreads: createMigrationThreads({ fromChildren: 1 }),
});
process.stdout.write("open\n");
let applying = false;
await platform.migrate(
  "app",
  [
    `ALTER TABLE users ADD COLUMN c${k} TEXT`,
    `CREATE INDEX users_c${k} ON users(c${k})`,
    `INSERT INTO marks VALUES (${k})`,
  ],
  {
    onProgress: (p) => {
      if (p.phase === "apply" && !applying) {
        applying = true;
        process.stdout.write("apply\n");
      }
    },
  },
);
process.stdout.write("done\n");
// Writes right after the job, while its children's files may still be syncing: one to a child
// with a file of its own, one to an untouched copy (which gets a file of its own by it). Each is
// acknowledged only once durable.
for (const name of ["c0000", "c0001"]) {
  await platform
    .client(name)
    .execute({ sql: "INSERT INTO users (name) VALUES (?)", args: [`after${k}`] });
  process.stdout.write(`wrote ${name} ${k}\n`);
}
await platform.close();
