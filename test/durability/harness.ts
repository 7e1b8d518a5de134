/**
 * Crash-test harness shared by crash.test.ts and relaxed.test.ts: builds crash-child.ts once,
 * runs it against one data directory, kills it with SIGKILL at a random moment after its first
 * acknowledgement, and checks the directory with a fresh platform in this process.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createPlatform, FsStorage, type Platform } from "../../src/node/index.js";

const here = fileURLToPath(new URL(".", import.meta.url));

/** Where the child's bundle is made: under node_modules, so that it resolves sql.js. */
export const BUNDLE_PARENT = resolve(here, "../../node_modules");

/**
 * Bundles the child once into `dir` (a temp dir made in {@link BUNDLE_PARENT}). Returns its path.
 */
export async function buildChild(dir: string): Promise<{ script: string }> {
  const script = join(dir, "crash-child.mjs");
  await build({
    entryPoints: [join(here, "crash-child.ts")],
    outfile: script,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Only sql.js stays external (it finds its .wasm next to itself): bundling everything else
    // keeps the child's start-up short.
    external: ["sql.js"],
    // CommonJS dependencies bundled into ESM still call `require` for Node built-ins.
    banner: {
      js: 'import { createRequire as __tlCreateRequire } from "node:module"; const require = __tlCreateRequire(import.meta.url);',
    },
    logLevel: "warning",
  });
  return { script };
}

/** A spawned child that has loaded sql.js and waits for its `go` line. */
interface Booted {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once the child printed `boot`. */
  booted: Promise<void>;
  lines: string[];
  stderr: string[];
  /** Resolves when the process ended and its output is fully read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Called on the first `ack` line. */
  onFirstAck: (() => void) | undefined;
}

function spawnChild(script: string, tenants: number, env: Record<string, string> = {}): Booted {
  const child = spawn(process.execPath, [script], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env, CRASH_TENANTS: String(tenants) },
  });
  const b: Booted = {
    child,
    booted: undefined as unknown as Promise<void>,
    lines: [],
    stderr: [],
    closed: new Promise((res) => child.on("close", (code, signal) => res({ code, signal }))),
    onFirstAck: undefined,
  };
  let partial = "";
  let sawAck = false;
  let bootResolve: () => void = () => undefined;
  b.booted = new Promise<void>((res, rej) => {
    bootResolve = res;
    void b.closed.then(({ code, signal }) =>
      rej(
        new Error(`child ended before boot (code ${code}, signal ${signal}): ${b.stderr.join("")}`),
      ),
    );
  });
  b.booted.catch(() => undefined);
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop()!; // a line cut by the kill is ignored
    for (const line of parts) {
      if (line === "boot") bootResolve();
      else b.lines.push(line);
      if (!sawAck && line.startsWith("ack ")) {
        sawAck = true;
        b.onFirstAck?.();
      }
    }
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => b.stderr.push(chunk));
  return b;
}

/**
 * What the runs so far allow on disk. Values and tenants move to "required" when acknowledged,
 * or when a check already saw them on disk (what a crash left is what the next run starts from).
 */
export class Model {
  /** Tenants that must exist. */
  readonly mustExist = new Set<string>();
  /** Tenants that must not exist (acknowledged delete, or seen gone after a tried one). */
  readonly mustBeGone = new Set<string>();
  /** Tenants whose create or delete was tried but not acknowledged (either state is fine). */
  readonly maybe = new Set<string>();
  /** Tenants whose table `v` must exist. */
  readonly hasTable = new Set<string>();
  /** Values each tenant must hold. */
  readonly required = new Map<string, Set<number>>();
  /** Values each tenant may hold (every value ever tried on it). */
  readonly tried = new Map<string, Set<number>>();
  acked = 0;

  constructor(tenants: number) {
    for (let i = 0; i < tenants; i++) {
      this.mustExist.add(`t${i}`);
      this.hasTable.add(`t${i}`);
    }
  }

  /**
   * Applies one run's output. `strict`: acknowledged inserts are required (in relaxed mode they
   * may be lost with the last interval, so only the catalog operations, which are always saved
   * before they resolve, are).
   */
  apply(lines: readonly string[], strict: boolean): void {
    for (const line of lines) {
      const [kind, op, tenant, value] = line.split(" ");
      if (kind !== "try" && kind !== "ack") continue;
      if (tenant === undefined) throw new Error(`bad line ${line}`);
      if (kind === "ack") this.acked++;
      switch (`${kind} ${op}`) {
        case "try insert":
          setOf(this.tried, tenant).add(Number(value));
          break;
        case "ack insert":
          if (strict) setOf(this.required, tenant).add(Number(value));
          break;
        case "try create":
        case "try delete":
          this.mustExist.delete(tenant);
          this.maybe.add(tenant);
          break;
        case "ack create":
          this.maybe.delete(tenant);
          this.mustExist.add(tenant);
          break;
        case "ack table":
          if (strict) this.hasTable.add(tenant);
          break;
        case "ack delete":
          this.maybe.delete(tenant);
          this.mustExist.delete(tenant);
          this.mustBeGone.add(tenant);
          this.hasTable.delete(tenant);
          this.required.delete(tenant);
          break;
        default:
          throw new Error(`unknown line ${line}`);
      }
    }
  }

  /**
   * Opens `dataDir` with a fresh platform and checks it against the model; returns the problems
   * found (empty when all is well). Afterwards, what was seen on disk is required from then on.
   */
  async verify(dataDir: string): Promise<string[]> {
    const problems: string[] = [];
    let platform: Platform | undefined;
    // Closed before the next child starts: the directory's lock is one process's at a time.
    const storage = await FsStorage.open(dataDir);
    try {
      platform = await createPlatform({ storage });
      const names = new Set((await platform.listDatabases({ limit: 100_000 })).map((d) => d.name));
      for (const n of this.mustExist) {
        if (!names.has(n)) problems.push(`${n}: acknowledged (or seen) but missing from catalog`);
      }
      for (const n of this.mustBeGone) {
        if (names.has(n)) problems.push(`${n}: deleted (acknowledged) but still in the catalog`);
      }
      for (const n of names) {
        if (!this.mustExist.has(n) && !this.maybe.has(n)) {
          problems.push(`${n}: in the catalog but never created`);
        }
      }
      for (const n of this.maybe) {
        if (names.has(n)) {
          this.maybe.delete(n);
          this.mustExist.add(n);
        } else {
          this.maybe.delete(n);
          this.mustBeGone.add(n);
          this.hasTable.delete(n);
          this.required.delete(n);
        }
      }
      // Tenants are checked concurrently: the check waits on file I/O far more than it computes.
      const p = platform;
      await Promise.all([...names].map((n) => this.checkTenant(p, n, problems)));
    } finally {
      await platform?.close();
      await storage.close();
    }
    return problems;
  }

  private async checkTenant(platform: Platform, n: string, problems: string[]): Promise<void> {
    const db = platform.client(n);
    try {
      // One read transaction: a plain `PRAGMA integrity_check` makes the platform rewrite the
      // tenant's file (it is not known to be read-only), which costs a save per tenant.
      const [check, tables] = await db.batch(
        [
          "PRAGMA integrity_check",
          "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'v'",
        ],
        "read",
      );
      const verdict = check!.rows.map((r) => String(r[0])).join("; ");
      if (verdict !== "ok") problems.push(`${n}: integrity_check says ${verdict}`);
      if (Number(tables!.rows[0]?.[0]) === 0) {
        if (this.hasTable.has(n)) problems.push(`${n}: table v (acknowledged) is missing`);
        return;
      }
      this.hasTable.add(n);
      const rows = await db.execute("SELECT n FROM v");
      const present = new Set(rows.rows.map((r) => Number(r[0])));
      const tried = this.tried.get(n) ?? new Set<number>();
      const missing = [...(this.required.get(n) ?? [])].filter((v) => !present.has(v));
      if (missing.length > 0) {
        problems.push(
          `${n}: ${missing.length} acknowledged value(s) lost, e.g. ${missing.slice(0, 5).join(", ")}`,
        );
      }
      const alien = [...present].filter((v) => !tried.has(v));
      if (alien.length > 0) {
        problems.push(`${n}: holds values never written: ${alien.slice(0, 5).join(", ")}`);
      }
      // What survived this crash is on disk: it must survive later ones too.
      this.required.set(n, present);
    } catch (e) {
      problems.push(`${n}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      db.close();
    }
  }
}

function setOf(map: Map<string, Set<number>>, key: string): Set<number> {
  let s = map.get(key);
  if (s === undefined) {
    s = new Set();
    map.set(key, s);
  }
  return s;
}

/** Creates `t0`…`t<n-1>`, each with table `v`, in `dataDir`. */
export async function seed(dataDir: string, tenants: number): Promise<void> {
  const storage = await FsStorage.open(dataDir);
  const platform = await createPlatform({ storage });
  try {
    for (let i = 0; i < tenants; i++) {
      await platform.createDatabase(`t${i}`);
      await platform.client(`t${i}`).execute("CREATE TABLE v (n INTEGER PRIMARY KEY)");
    }
  } finally {
    await platform.close();
    await storage.close();
  }
}

export interface CrashLoopOptions {
  script: string;
  dataDir: string;
  mode: "strict" | "relaxed";
  tenants: number;
  /** Kills wanted. */
  iterations: number;
  /** Wall-clock bound of the whole loop. */
  timeBoundMs: number;
  /** Kill delay after the first ack: uniform in [minDelayMs, maxDelayMs]. */
  minDelayMs: number;
  maxDelayMs: number;
  /** Extra environment of the children (e.g. CRASH_PAGE_LOG_CHECKPOINT). */
  childEnv?: Record<string, string>;
}

export interface CrashLoopResult {
  kills: number;
  elapsedMs: number;
  acked: number;
  /** First problems found, with the iteration; empty when every check passed. */
  problems: string[];
  /** Set when the time bound ended the loop. */
  timedOut: boolean;
  /** Mean milliseconds per kill: waiting for the child to boot, `go` → first ack, first ack → process gone, and the check. */
  phases: { waitBoot: number; toFirstAck: number; toExit: number; verify: number };
}

/**
 * Runs the child, kills it, checks, and loops until `iterations` kills, the time bound, or the
 * first failed check. The next child is spawned, and boots, while the crash is checked; it only
 * touches the directory after its `go` line.
 */
export async function crashLoop(o: CrashLoopOptions): Promise<CrashLoopResult> {
  const model = new Model(o.tenants);
  const start = Date.now();
  let kills = 0;
  let next = spawnChild(o.script, o.tenants, o.childEnv);
  const sums = { waitBoot: 0, toFirstAck: 0, toExit: 0, verify: 0 };
  const result = (problems: string[], timedOut = false): CrashLoopResult => ({
    kills,
    elapsedMs: Date.now() - start,
    acked: model.acked,
    problems,
    timedOut,
    phases: {
      waitBoot: sums.waitBoot / Math.max(1, kills),
      toFirstAck: sums.toFirstAck / Math.max(1, kills),
      toExit: sums.toExit / Math.max(1, kills),
      verify: sums.verify / Math.max(1, kills),
    },
  });
  try {
    while (kills < o.iterations) {
      if (Date.now() - start > o.timeBoundMs) return result([], true);
      const run = next;
      const waitAt = performance.now();
      await run.booted;
      sums.waitBoot += performance.now() - waitAt;
      const delay = o.minDelayMs + Math.random() * (o.maxDelayMs - o.minDelayMs);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const goAt = performance.now();
      let ackAt = goAt;
      run.onFirstAck = () => {
        ackAt = performance.now();
        timer = setTimeout(() => run.child.kill("SIGKILL"), delay);
      };
      // Safety net: a child that never acknowledges anything is killed too (and reported).
      const stuck = setTimeout(() => run.child.kill("SIGKILL"), 15_000);
      run.child.stdin.write(`go ${o.dataDir} ${o.mode} ${(kills + 1) * 1_000_000} ${kills}\n`);
      const { code, signal } = await run.closed;
      clearTimeout(stuck);
      if (timer !== undefined) clearTimeout(timer);
      const exitAt = performance.now();
      sums.toFirstAck += ackAt - goAt;
      sums.toExit += exitAt - ackAt;
      next = spawnChild(o.script, o.tenants, o.childEnv);
      if (signal !== "SIGKILL" || !run.lines.some((l) => l.startsWith("ack "))) {
        return result([
          `iteration ${kills}: child ended with code ${code}, signal ${signal}, ${run.lines.length} lines; stderr: ${run.stderr.join("").slice(0, 2000)}`,
        ]);
      }
      kills++;
      model.apply(run.lines, o.mode === "strict");
      const problems = await model.verify(o.dataDir);
      sums.verify += performance.now() - exitAt;
      if (problems.length > 0) {
        return result(problems.slice(0, 20).map((p) => `after kill ${kills}: ${p}`));
      }
    }
    return result([]);
  } finally {
    next.child.kill("SIGKILL");
    await next.closed;
  }
}
