/**
 * The `tenantlite` command (bundled to dist/tenantlite.js; `npm start` runs it): with no command
 * it starts the server (`tenantlite dev`, flags as before); otherwise it runs a CLI command —
 * see `tenantlite --help` and src/node/cli/.
 */
import "./sql-wasm.js";
import { runCli } from "./cli/run.js";

runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
}).then(
  // Exit at once: stdout and stderr are synchronous for files and pipes on POSIX, and an idle
  // handle (a stdin the shell read from, a keep-alive socket) must not keep the CLI alive.
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`error: INTERNAL_ERROR: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
