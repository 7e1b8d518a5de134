/**
 * Child process of the crash tests (crash.test.ts). Not a test file: the test bundles it once with
 * esbuild and spawns it many times, killing it with SIGKILL at random moments.
 *
 * Protocol (one line per event on stdout, written with a blocking `writeSync`, so every line
 * printed before the kill reaches the parent):
 * - on start it warms sql.js up (an in-memory platform) and prints `boot`, then waits for a line
 *   `go <dataDir> <strict|relaxed> <base> <iteration>` on stdin (so the parent can start the next
 *   child while it verifies the previous crash);
 * - it opens the platform on `<dataDir>` and prints `open`;
 * - `try <op> …` is printed right before an operation is issued, `ack <op> …` right after the
 *   awaited call resolved: `insert <tenant> <n>`, `create <tenant>`, `table <tenant>` (its table
 *   `v` was created), `delete <tenant>`.
 *
 * Tenants `t0`…`t<N-1>` (created by the parent, each with `CREATE TABLE v (n INTEGER PRIMARY KEY)`)
 * get a stream of inserts each; one more worker creates tenants `x<iteration>-<k>`, gives them the
 * table and a few rows, and deletes the oldest extra tenants so their number stays bounded.
 */
import { writeSync } from "node:fs";
import { createInterface } from "node:readline";
import { createPlatform, FsStorage, tenantThreads } from "../../src/node/index.js";

const TENANTS = Number(process.env.CRASH_TENANTS ?? 20);
const MAX_EXTRAS = 8;

/**
 * Writes a line straight to fd 1 with a blocking system call: `process.stdout.write` may queue
 * in user space when the pipe is full, and a SIGKILL would then drop lines already "printed".
 */
function out(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(1, bytes, off);
    } catch (e) {
      if ((e as { code?: string }).code !== "EAGAIN") throw e;
    }
  }
}

// CRASH_THREADS=1: tenants on two tenant threads (the server's default), where a commit's save is
// done by the platform, which answers the request once it is durable.
const threads = process.env.CRASH_THREADS === "1";

// Warm up: the first createPlatform loads sql.js's WASM (memoized for the process); with threads,
// the threads' program is bundled once per process, and they load theirs.
const warm = await createPlatform(
  threads ? { tenantThreads: tenantThreads({ threads: 2, maxQueryMs: 0 }) } : {},
);
if (threads) {
  await warm.createDatabase("warm");
  await warm.client("warm").execute("SELECT 1");
}
await warm.close();
out("boot");

const go = await new Promise<string>((resolve) => {
  const rl = createInterface({ input: process.stdin });
  rl.once("line", (line) => {
    rl.close();
    resolve(line);
  });
});
const [, dataDir, mode, baseText, iterationText] = go.split(" ");
if (dataDir === undefined || (mode !== "strict" && mode !== "relaxed")) {
  throw new Error(`bad go line: ${go}`);
}
let next = Number(baseText);
const iteration = Number(iterationText);

// CRASH_PAGE_LOG_CHECKPOINT: how full a page log gets before it is written into its file (small
// values make kills land inside those in-place writes).
// CRASH_PAGE_LOG_HOLD: the biggest image held whole (0: every image is compared with its file and
// held by its log's pages, whose checkpoints write those pages in place).
const checkpointAt = process.env.CRASH_PAGE_LOG_CHECKPOINT;
const holdAt = process.env.CRASH_PAGE_LOG_HOLD;
const platform = await createPlatform({
  storage: await FsStorage.open(dataDir, {
    ...(checkpointAt === undefined ? {} : { pageLogCheckpointBytes: Number(checkpointAt) }),
    ...(holdAt === undefined ? {} : { pageLogHoldBytes: Number(holdAt) }),
  }),
  durability: mode,
  flushIntervalMs: 50,
  ...(threads ? { tenantThreads: tenantThreads({ threads: 2, maxQueryMs: 0 }) } : {}),
});
const extras = (await platform.listDatabases({ limit: 100_000 }))
  .map((d) => d.name)
  .filter((n) => n.startsWith("x"));
out("open");

async function insert(tenant: string): Promise<void> {
  const n = next++;
  out(`try insert ${tenant} ${n}`);
  await platform.client(tenant).execute({ sql: "INSERT INTO v (n) VALUES (?)", args: [n] });
  out(`ack insert ${tenant} ${n}`);
}

async function inserter(tenant: string): Promise<never> {
  for (;;) await insert(tenant);
}

async function churn(): Promise<never> {
  for (let k = 0; ; k++) {
    const name = `x${iteration}-${k}`;
    out(`try create ${name}`);
    await platform.createDatabase(name);
    out(`ack create ${name}`);
    extras.push(name);
    await platform.client(name).execute("CREATE TABLE v (n INTEGER PRIMARY KEY)");
    out(`ack table ${name}`);
    for (let i = 0; i < 3; i++) await insert(name);
    while (extras.length > MAX_EXTRAS) {
      const victim = extras.shift()!;
      out(`try delete ${victim}`);
      await platform.deleteDatabase(victim);
      out(`ack delete ${victim}`);
    }
  }
}

const workers: Promise<never>[] = [churn()];
for (let i = 0; i < TENANTS; i++) workers.push(inserter(`t${i}`));
await Promise.all(workers).catch((e: unknown) => {
  process.stderr.write(
    `child failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(3);
});
