/**
 * Child process of the migration crash test: opens the data directory (which recovers any
 * interrupted job), prints `open`, runs one migration of schema "app" (printing `apply` when its
 * apply phase begins), prints `done`. Node's
 * `createPlatform`: children's dry runs go to a worker thread, as in the server and the CLI.
 * Usage: node migrate-child.mjs <data dir> <k>
 */
import { createPlatform } from "../../src/node/create-platform.js";
import { FsStorage } from "../../src/node/fs-storage.js";

const [dir, k] = process.argv.slice(2);
const platform = await createPlatform({ storage: await FsStorage.open(dir!) });
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
await platform.close();
