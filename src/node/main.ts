/**
 * The `tenantlite` command (bundled to dist/tenantlite.js; `npm start` runs it): with no command
 * it starts the server (`tenantlite dev`, flags as before); otherwise it runs a CLI command —
 * see `tenantlite --help` and src/node/cli/.
 */
import "./sql-wasm.js";
import { runCli } from "./cli/run.js";

/**
 * Output that could not be written: a reader that went away (`… | head`) is no failure of the
 * command (what follows is dropped), anything else (a full disk under `> file`) fails it.
 */
let outputFailed: string | undefined;
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    // (ERR_STREAM_DESTROYED: a write after the stream's first error, which decided.)
    if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") {
      outputFailed ??= e.code ?? "an error";
    }
  });
}

runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
}).then(exitWhenWritten, (e: unknown) => {
  process.stderr.write(`error: INTERNAL_ERROR: ${e instanceof Error ? e.message : String(e)}\n`);
  exitWhenWritten(1);
});

/**
 * Exits once stdout and stderr have handed everything written to the system: writes to a pipe
 * are asynchronous, and exiting at once cut a large output (`db shell … .dump | gzip` got its
 * first 128 KB). Exit then, not when the event loop empties: an idle handle (a stdin the shell
 * read from, a keep-alive socket) must not keep the CLI alive.
 */
function exitWhenWritten(code: number): void {
  let waiting = 2;
  const done = () => {
    if (--waiting > 0) return;
    if (outputFailed === undefined) process.exit(code);
    process.stderr.write(
      `error: FILE_WRITE_FAILED: could not write the output (${outputFailed}): check that where it goes has free space\n`,
      () => process.exit(code === 0 ? 1 : code),
    );
  };
  // The callback comes once what was written before is flushed, or with the stream's error.
  process.stdout.write("", done);
  process.stderr.write("", done);
}
