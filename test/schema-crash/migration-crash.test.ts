/**
 * All or none, even across crashes (issue 5, point 4): a child process migrates a schema database
 * with 500 children and is killed with SIGKILL at a random moment, at least 50 times on the same
 * data directory. After each kill a fresh platform (which recovers interrupted jobs) must find the
 * parent and every child at the same schema — all old or all new — no job left running, and no
 * staged image left behind.
 *
 * Half the children are untouched copies (one shared image, migrated once for all of them); the
 * other half hold a row of their own, so each is dry-run on its own (on a worker thread) and its
 * file is overwritten in place while the job applies — torn by a kill there until recovery rolls
 * the job forward from its staged packs. Those children must keep their row and pass
 * integrity_check.
 *
 * A job is done before its children's files are synced (the stage keeps it durable until then),
 * so each run also writes to two children right after it; runs killed just after `done` must
 * keep every write the child process saw acknowledged — recovery redoing the job must never
 * overwrite one.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { createPlatform, type Platform } from "../../src/index.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { useTempDirs } from "../helpers.js";

const here = dirname(fileURLToPath(import.meta.url));
const CHILDREN = Number(process.env.MIGRATION_CRASH_CHILDREN ?? 500);
const KILLS = Number(process.env.MIGRATION_CRASH_KILLS ?? 50);
const TIME_BOUND_MS = Number(process.env.MIGRATION_CRASH_TIME_BOUND_MS ?? 420_000);

const tempDir = useTempDirs("tenantlite-migrate-crash-", { scope: "file" });
const bundleDir = useTempDirs(".tl-migrate-crash-", {
  scope: "file",
  parent: resolve(here, "../../node_modules"),
});
let buildDir: string;
let script: string;
let dataDir: string;

beforeAll(async () => {
  buildDir = bundleDir();
  script = join(buildDir, "migrate-child.mjs");
  await build({
    entryPoints: [join(here, "migrate-child.ts")],
    outfile: script,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Our own modules are bundled: one file loads faster than hundreds at every process start.
    external: ["sql.js", "jose", "idb-keyval", "ws", "@libsql/*", "@tursodatabase/*"],
    logLevel: "warning",
  });
  dataDir = tempDir();
});

/**
 * Runs the child once; kills it `killAfterMs` after it opened, or (with `from: "apply"`) after its
 * apply phase began — the short stretch where children's files are overwritten in place, which
 * kills spread over the whole run would seldom hit — or (`from: "done"`) after the job finished,
 * while its files are synced and the writes after it wait. `wrote` lists the acknowledged writes.
 */
function run(
  k: number,
  killAfterMs: number | undefined,
  from: "open" | "apply" | "done" = "open",
): Promise<{ done: boolean; wrote: string[]; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child: ChildProcess = spawn(process.execPath, [script, dataDir, String(k)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let stderr = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (killAfterMs !== undefined && timer === undefined && out.includes(`${from}\n`)) {
        timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("close", () => {
      clearTimeout(timer);
      const wrote = [...out.matchAll(/^wrote (\S+) (\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      resolvePromise({ done: out.includes("wrote c0001"), wrote, stderr });
    });
  });
}

/** A platform on the data directory; closing it also closes (and unlocks) the directory. */
async function open(): Promise<Platform> {
  const storage = await FsStorage.open(dataDir);
  const platform = await createPlatform({ storage });
  const close = platform.close.bind(platform);
  platform.close = async () => {
    await close();
    await storage.close();
  };
  return platform;
}

describe("SIGKILL during a migration over many children", () => {
  it(
    `leaves parent and all ${CHILDREN} children at one schema over ${KILLS} kills`,
    async () => {
      const setup = await open();
      await setup.createDatabase("app", { type: "schema" });
      await setup.client("app").execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
      await setup.client("app").execute("CREATE TABLE marks (k INTEGER)");
      const creates = [];
      for (let i = 0; i < CHILDREN; i++)
        creates.push(setup.createDatabase(`c${String(i).padStart(4, "0")}`, { schema: "app" }));
      await Promise.all(creates);
      for (let i = 0; i < CHILDREN; i += 2) {
        const name = `c${String(i).padStart(4, "0")}`;
        await setup
          .client(name)
          .execute({ sql: "INSERT INTO users (name) VALUES (?)", args: [name] });
      }
      await setup.close();

      // One undisturbed run tells how long a migration takes, so kills can land anywhere in it.
      const started = Date.now();
      const first = await run(0, undefined);
      expect(first.stderr).toBe("");
      expect(first.done).toBe(true);
      const span = Date.now() - started;
      let applyKills = 0;
      let doneKills = 0;
      /** Writes acknowledged to a killed or finished child process: `<child> <k>`. */
      const acknowledged: string[] = [...first.wrote];

      const deadline = Date.now() + TIME_BOUND_MS;
      let kills = 0;
      let completed = 0;
      let applied = 1;
      const problems: string[] = [];
      for (let k = 1; kills < KILLS && Date.now() < deadline; k++) {
        // A third of the runs are killed within 40 ms of the apply phase beginning, a third within
        // 60 ms of the job being done, the rest anywhere.
        const from = (["open", "apply", "done"] as const)[k % 3]!;
        const r = await run(
          k,
          Math.floor(Math.random() * (from === "open" ? span : from === "apply" ? 40 : 60)),
          from,
        );
        acknowledged.push(...r.wrote);
        if (r.done) completed++;
        else {
          kills++;
          if (from === "apply") applyKills++;
          if (from === "done" && r.wrote.length < 2) doneKills++;
        }
        const p = await open();
        try {
          const drift = await p.checkSchemas("app");
          if (drift.length > 0)
            problems.push(
              `after run ${k}: ${drift.length} children differ from the parent, e.g. ${JSON.stringify(drift[0])}`,
            );
          const { migrations } = await p.listMigrations("app");
          const stuck = migrations.filter(
            (m) => m.status !== "RunSuccess" && m.status !== "RunFailure",
          );
          if (stuck.length > 0)
            problems.push(`after run ${k}: jobs not final: ${JSON.stringify(stuck)}`);
          const staged = await p.storage.list("migrations/", { limit: 5 });
          if (staged.length > 0)
            problems.push(`after run ${k}: staged images left: ${staged.join(", ")}`);
          const marks = await p.client("app").execute("SELECT count(*) AS n FROM marks");
          applied = Number(marks.rows[0]!.n);
          const sample = await p
            .client("c0499".slice(0, 1) + String(CHILDREN - 1).padStart(4, "0"))
            .execute("SELECT count(*) AS n FROM marks");
          if (Number(sample.rows[0]!.n) !== applied)
            problems.push(
              `after run ${k}: last child has ${sample.rows[0]!.n} marks, parent ${applied}`,
            );
          // Children with files of their own (every 25th of them): whole, with their row.
          for (let i = 0; i < CHILDREN; i += 50) {
            const name = `c${String(i).padStart(4, "0")}`;
            const c = p.client(name);
            const ok = await c.execute("PRAGMA integrity_check");
            const own = await c.execute({
              sql: "SELECT (SELECT count(*) FROM users WHERE name = ?) AS own, (SELECT count(*) FROM marks) AS marks",
              args: [name],
            });
            const row = own.rows[0]!;
            if (ok.rows[0]![0] !== "ok" || Number(row.own) !== 1 || Number(row.marks) !== applied)
              problems.push(
                `after run ${k}: child ${name}: integrity ${String(ok.rows[0]![0])}, own rows ${String(row.own)}, marks ${String(row.marks)} (parent ${applied})`,
              );
          }
          // Every acknowledged write is there.
          for (const w of acknowledged) {
            const [name, n] = w.split(" ");
            const rs = await p.client(name!).execute({
              sql: "SELECT count(*) AS n FROM users WHERE name = ?",
              args: [`after${n}`],
            });
            if (Number(rs.rows[0]!.n) !== 1)
              problems.push(`after run ${k}: the acknowledged write ${w} is lost`);
          }
        } finally {
          await p.close();
        }
        if (problems.length > 0) break;
      }
      console.log(
        `migration crash loop: ${kills} kills (${applyKills} in the apply phase, ${doneKills} after the job was done with writes pending), ${completed} runs completed, ${applied} migrations applied, ${acknowledged.length} acknowledged writes kept, one migration ≈ ${span} ms`,
      );
      expect(problems).toEqual([]);
      expect(kills, `time bound hit after ${kills} kills`).toBeGreaterThanOrEqual(KILLS);
    },
    TIME_BOUND_MS + 120_000,
  );
});
