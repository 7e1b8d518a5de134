/**
 * The migration runner: a write to a schema parent is applied to every child and to the parent,
 * or to none of them — even across crashes.
 *
 * A job runs in two phases. Prepare: the statements run on a scratch copy of the parent, then of
 * each child (streamed, a few at a time, so memory stays bounded; see dry-run.ts and
 * engine-dry-run.ts); each result image is staged in storage under `migrations/<job>/` (see
 * pack.ts). Any failure aborts the job: staged images are deleted and nothing live has changed.
 * Commit: the job record is marked committed (one durable catalog record — the commit point, see
 * jobs.ts). Apply (stages.ts): each staged image replaces its tenant's live image (through the
 * pool), then the job is marked `RunSuccess` and the staging area removed. After a crash,
 * `recover()` rolls committed jobs forward from their staged images and marks uncommitted ones
 * failed, so parent and children end all at the old schema or all at the new one, and no job
 * stays "running".
 *
 * While a job runs, writes to the parent and its children fail with BLOCKED (the access guard);
 * reads go on.
 */
import { hasAlterColumn } from "../../engine/alter-column.js";
import type { BatchStatement } from "../../engine/connection-policy.js";
import type { SqlJsModule } from "../../engine/sqljs-types.js";
import type { IntMode, ResultSet } from "../../engine/values.js";
import { MigrationError, TenantliteError } from "../../errors.js";
import { keys } from "../../storage/keyspace.js";
import type { Storage } from "../../storage/storage.js";
import type { AccessGuard } from "../access-guard.js";
import type { Catalog } from "../catalog.js";
import type { ImageStore } from "../image-store.js";
import type { TenantPool } from "../tenant-pool.js";
import type { DatabaseInfo } from "../types.js";
import { type DryRun, fromThread, needsEngineFunctions } from "./dry-run.js";
import { runOn, runScriptOn } from "./engine-dry-run.js";
import {
  JobLog,
  type JobRecord,
  type JobStatus,
  type MigrationJob,
  type MigrationProgress,
  type MigrationThreads,
  type SettlingJobs,
  validate,
} from "./jobs.js";
import { encodePack, type StagedChild } from "./pack.js";
import { JobStages, PAGE } from "./stages.js";

/** What the runner works with. */
export interface MigrationRunnerDeps {
  readonly sql: SqlJsModule;
  /** Where jobs stage their images. */
  readonly storage: Storage;
  /** Children of a parent, and the job records. */
  readonly catalog: Catalog;
  /** Tenants' current images, and installing the migrated ones. */
  readonly pool: TenantPool;
  /** Shared images: read once for all untouched children, and the migrated ones saved. */
  readonly images: ImageStore;
  /** Blocks writes to a parent and its children while its job runs. */
  readonly guard: AccessGuard;
  /** Finished jobs whose children's files are still syncing. */
  readonly settling: SettlingJobs;
  /** Threads for children's dry runs, when the runtime has them. */
  readonly threads: MigrationThreads | undefined;
  /** Settles once the children of a parent being created now are recorded (or failed). */
  readonly childrenCreated?: (parentId: string) => Promise<unknown>;
}

const CONCURRENCY = 8;
/** Children in preparation at once when threads run their dry runs (they take batches). */
const THREADED_CONCURRENCY = 64;
/** Children's images in preparation at once stay under this many bytes (one may exceed it). */
const PREPARE_BYTES = 64 << 20;
/** Staged child images are written in packs of about this many bytes (one durable write each). */
const PACK_BYTES = 8 << 20;
/** Staged packs up to this many bytes stay in memory for the apply phase too. */
const KEEP_STAGED_BYTES = 32 << 20;

/** The outcome of migrating one shared image once for all the untouched children reading it. */
type SharedOutcome =
  | { kind: "image"; key: string }
  | { kind: "error"; error: { step: number; message: string; cause: unknown } }
  | { kind: "per-child" };

/** Runs, records and recovers migration jobs. */
export class MigrationRunner {
  /** Jobs running now, by parent id. */
  readonly #running = new Map<string, JobRecord>();
  readonly #listeners = new Set<(p: MigrationProgress) => void>();
  readonly #sql: SqlJsModule;
  readonly #storage: Storage;
  readonly #catalog: Catalog;
  readonly #jobs: JobLog;
  readonly #pool: TenantPool;
  readonly #images: ImageStore;
  readonly #guard: AccessGuard;
  readonly #settling: SettlingJobs;
  readonly #threads: MigrationThreads | undefined;
  /** Staged images: applied, removed once synced, and rolled forward after a crash. */
  readonly #stages: JobStages;
  readonly #childrenCreated: MigrationRunnerDeps["childrenCreated"];

  constructor(deps: MigrationRunnerDeps) {
    this.#sql = deps.sql;
    this.#storage = deps.storage;
    this.#catalog = deps.catalog;
    this.#jobs = new JobLog(deps.catalog);
    this.#pool = deps.pool;
    this.#images = deps.images;
    this.#guard = deps.guard;
    this.#settling = deps.settling;
    this.#threads = deps.threads;
    this.#childrenCreated = deps.childrenCreated;
    this.#stages = new JobStages({
      storage: deps.storage,
      catalog: deps.catalog,
      pool: deps.pool,
      jobs: this.#jobs,
      settling: deps.settling,
    });
  }

  /** Subscribes to progress events of every job; returns the unsubscribe function. */
  onProgress(listener: (p: MigrationProgress) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Whether a job of this parent is running. */
  isRunning(parentId: string): boolean {
    return this.#running.has(parentId);
  }

  /**
   * Migrates `parent` and all its children with `statements`. Resolves with the parent's results
   * once the job finished (or at once with `wait: false`, the job going on in the background).
   */
  async migrate(
    parent: DatabaseInfo,
    statements: readonly BatchStatement[],
    options: {
      wait?: boolean;
      onProgress?: (p: MigrationProgress) => void;
      /** How integers come back in the parent's results. */
      intMode?: IntMode;
    } = {},
  ): Promise<{ jobId: number; results: ResultSet[]; done: Promise<void> }> {
    const list = validate(statements);
    // The previous job's children must be synced before this one rewrites them.
    await this.#settling.settled(parent.name);
    if (this.#running.has(parent.id)) {
      throw new MigrationError(`A migration job is already in progress for \`${parent.name}\``);
    }
    // Block writes to the parent and its children before reading the parent, so that no write
    // can land between the images read here and the images installed at the end.
    const job: JobRecord = {
      job_id: 0,
      parent: parent.id,
      schema: parent.name,
      status: "WaitingDryRun",
      committed: false,
      error: null,
      statements: list.map((s) =>
        s.args === undefined ? { sql: s.sql } : { sql: s.sql, args: s.args },
      ),
      children: 0,
      done: 0,
      task_base: 0,
      failures: [],
      created_at: new Date().toISOString(),
      finished_at: null,
    };
    this.#running.set(parent.id, job);
    this.#guard.setBlocked(parent, `a migration of schema "${parent.name}" is running`);
    // Threads boot while the parent's dry run and the first children run here (not for libSQL's
    // ALTER COLUMN … TO, which they cannot run: see prepareChildren).
    if (!list.some((s) => hasAlterColumn(s.sql))) {
      this.#threads?.start(this.#catalog.countChildren(parent.name));
    }
    let dry: ReturnType<typeof runOn>;
    let jobId: number;
    try {
      // A child created from the parent's image before this job began (new ones are refused
      // now) is recorded first, so that this job migrates it too.
      await this.#childrenCreated?.(parent.id);
      // Dry run on the parent first: a failure here creates no job.
      const parentImage = await this.#imageOf(parent);
      dry = runOn(this.#sql, parentImage, list, options.intMode ?? "number");
      if (dry.error !== undefined) {
        throw new MigrationError(
          `An error occured executing the migration at step ${dry.error.step}: ${dry.error.message}`,
          { step: dry.error.step, cause: dry.error.cause },
        );
      }
      // Both counters move in memory at once (no other job can take the same numbers) and are
      // durable before the job goes on; a failed save fails this migration, nothing else.
      const children = this.#catalog.countChildren(parent.name);
      const ids = this.#jobs.takeCounter("jobs/next-id", 1);
      const tasks = this.#jobs.takeCounter("jobs/next-task", children);
      await Promise.all([ids.saved, tasks.saved]);
      jobId = ids.first;
      job.job_id = jobId;
      job.children = children;
      job.task_base = tasks.first;
    } catch (e) {
      this.#running.delete(parent.id);
      this.#guard.setBlocked(parent, undefined);
      throw e;
    }
    const emit = (phase: MigrationProgress["phase"]) => {
      const p: MigrationProgress = {
        jobId,
        schema: parent.name,
        phase,
        done: job.done,
        total: job.children,
        failures: job.failures.length,
      };
      options.onProgress?.(p);
      for (const l of this.#listeners) l(p);
    };
    const staged = new Map<string, StagedChild[]>();
    /** Why the children stay blocked after the job failed past its commit. */
    let stuckReason: string | undefined;
    const done = (async () => {
      try {
        await this.#jobs.save(job); // before anything is staged: recovery finds what to clear
        // The parent's image is staged while the children are prepared; both before the commit.
        const parentStaged = this.#storage.save(keys.migrationParent(jobId), dry.image!);
        parentStaged.catch(() => undefined); // awaited below, after the children
        await this.#prepareChildren(parent, job, list, emit, staged).catch(async (e) => {
          await parentStaged.catch(() => undefined); // then the children's error
          throw e;
        });
        await parentStaged;
        job.status = "WaitingRun";
        job.committed = true;
        await this.#jobs.save(job); // the commit point
        job.done = 0;
        emit("apply"); // the apply phase begins: 0 of total
        const { synced } = await this.#stages.apply(job, emit, staged);
        job.status = "RunSuccess";
        job.finished_at = new Date().toISOString();
        await this.#jobs.save(job);
        // Done: every child reads its new image, and the stage keeps the job durable until
        // their files are synced (a crash before then redoes the job from it).
        this.#stages.settle(job, synced);
        emit("done");
      } catch (e) {
        if (!job.committed) {
          job.status = "RunFailure";
          job.error ??= e instanceof TenantliteError ? e.detail : String(e);
          job.finished_at = new Date().toISOString();
          await this.#jobs.save(job).catch(() => undefined);
          await this.#stages.clear(jobId).catch(() => undefined);
          emit("failed");
        } else {
          // Committed but not applied everywhere (a storage failure): the next start finishes
          // it from the stage. Until then the children stay as they are: no writes, no new job.
          const stuck = new MigrationError(
            `migration job ${jobId} of \`${parent.name}\` could not finish applying; it is finished from its staged images when the platform next starts`,
            { cause: e },
          );
          const never = Promise.reject(stuck);
          never.catch(() => undefined);
          this.#settling.set(parent.name, never);
          stuckReason = stuck.detail;
        }
        throw e;
      } finally {
        this.#running.delete(parent.id);
        this.#guard.setBlocked(parent, stuckReason);
      }
    })();
    const results = dry.results;
    if (options.wait === false) {
      done.catch(() => undefined);
      return { jobId, results, done };
    }
    await done;
    return { jobId, results, done };
  }

  /** Dry-runs every child and stages its migrated image; throws (after marking tasks) on a failure. */
  async #prepareChildren(
    parent: DatabaseInfo,
    job: JobRecord,
    list: readonly BatchStatement[],
    emit: (phase: MigrationProgress["phase"]) => void,
    /** Filled with the first packs' entries, which the apply phase then need not read back. */
    staged: Map<string, StagedChild[]>,
  ): Promise<void> {
    let index = 0;
    let failure: TenantliteError | undefined;
    // Staged images go to storage in packs: one durable write for many children.
    let pack: StagedChild[] = [];
    let packBytes = 0;
    let packs = 0;
    let keptBytes = 0;
    let writing: Promise<void> = Promise.resolve();
    const flushPack = () => {
      if (pack.length === 0) return writing;
      const entries = pack;
      const n = packs++;
      pack = [];
      packBytes = 0;
      const key = keys.migrationPack(job.job_id, n);
      if (keptBytes < KEEP_STAGED_BYTES) {
        staged.set(key, entries);
        for (const e of entries) if ("image" in e) keptBytes += e.image.length;
      }
      writing = writing.then(() =>
        this.#storage.save(key, encodePack(entries), { transfer: true }),
      );
      return writing;
    };
    // Untouched children read a shared image: identical bytes, so (when the migration is
    // deterministic) one run serves all of them, and they go on sharing the migrated image.
    const withArgs = list.some((x) => x.args !== undefined);
    const shared = new Map<string, Promise<SharedOutcome>>();
    const migrateShared = (key: string) => {
      let outcome = shared.get(key);
      if (outcome === undefined) {
        outcome = this.#migrateSharedImage(key, list);
        shared.set(key, outcome);
      }
      return outcome;
    };
    const sqls = list.map((s) => s.sql);
    // Threads have sql.js only: libSQL's ALTER COLUMN … TO is the engine's (alter-column.ts).
    const threads = withArgs || sqls.some((s) => hasAlterColumn(s)) ? undefined : this.#threads;
    // Images in preparation are bounded in bytes too, whatever their number.
    let preparing = 0;
    const waiting: (() => void)[] = [];
    const release = (bytes: number) => {
      preparing -= bytes;
      waiting.shift()?.();
    };
    const dryRun = async (child: DatabaseInfo, first: Uint8Array): Promise<DryRun> => {
      let image = first;
      while (preparing > 0 && preparing + image.length > PREPARE_BYTES) {
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      const size = image.length;
      preparing += size;
      try {
        const threaded = threads?.run(image, sqls);
        if (threaded !== undefined) {
          const r = await threaded.catch(() => undefined);
          // A thread failed, or lacked the engine's functions: the child runs here, from its
          // image read again (the thread was handed the bytes).
          if (r === undefined || needsEngineFunctions(r)) image = await this.#imageOf(child);
          else if (!("here" in r)) return fromThread(r);
        }
        return withArgs
          ? runOn(this.#sql, image, list, "bigint")
          : runScriptOn(this.#sql, image, list);
      } finally {
        release(size);
      }
    };
    for (const page of this.#catalog.pagesOfDatabases({ schema: parent.name }, PAGE)) {
      const limit = threads === undefined ? CONCURRENCY : THREADED_CONCURRENCY;
      await forEachLimited(page, limit, async (child) => {
        if (failure !== undefined) return;
        const task = job.task_base + index++;
        let r: DryRun;
        try {
          const start = await this.#pool.startingImage(child, !withArgs);
          const outcome = "shared" in start ? await migrateShared(start.shared) : undefined;
          if (outcome?.kind === "image") {
            pack.push({ id: child.id, base: outcome.key });
            job.done++;
            emit("prepare");
            return;
          } else if (outcome?.kind === "error") {
            r = outcome;
          } else if ("image" in start) {
            r = await dryRun(child, start.image);
          } else {
            r = await dryRun(child, await this.#imageOf(child)); // a shared image run per child
          }
        } catch (e) {
          // Storage refused a write (the shared image migrated for many children): the job fails
          // with that error; no child is to blame, and restoring or deleting one mends nothing.
          if (e instanceof TenantliteError && e.code === "STORAGE_WRITE_FAILED") throw e;
          // The child's database itself is unusable (a damaged file…): the job fails, naming it.
          const detail =
            e instanceof TenantliteError ? e.detail : e instanceof Error ? e.message : String(e);
          r = { error: { step: 0, message: detail, cause: e } };
        }
        if (r.error !== undefined) {
          const message =
            r.error.step === 0
              ? `the database could not be opened for the migration (${r.error.message}); restore or delete it, then migrate again`
              : `An error occured executing the migration at step ${r.error.step}: ${r.error.message}`;
          job.failures.push({ namespace: child.name, status: "RunFailure", error: message });
          failure ??= new MigrationError(
            `migration dry run failed: task ${task} for namespace \`${child.name}\` failed with error: ${message}`,
            { step: r.error.step, child: child.name, cause: r.error.cause },
          );
          return;
        }
        pack.push({ id: child.id, image: r.image! });
        packBytes += r.image!.length;
        if (packBytes >= PACK_BYTES) await flushPack();
        job.done++;
        emit("prepare");
      });
      if (failure !== undefined) break;
    }
    await flushPack();
    if (failure !== undefined) {
      job.status = "DryRunFailure";
      job.error = failure.detail.replace(/^Schema migration error: /, "");
      throw failure;
    }
    job.status = "DryRunSuccess";
  }

  /**
   * Runs the migration once on a shared image: the migrated image is stored as a shared image
   * itself (durably, before the job commits). Only for migrations whose compiled programs call
   * only deterministic built-in functions and fire no trigger program, so that identical bytes
   * give identical results (`random()`, `datetime('now')` and the like make every child run on
   * its own).
   */
  async #migrateSharedImage(key: string, list: readonly BatchStatement[]): Promise<SharedOutcome> {
    const bytes = await this.#images.requireShared(key);
    const r = runScriptOn(this.#sql, bytes, list, { deterministicOnly: true });
    if (r.error !== undefined) return { kind: "error", error: r.error };
    if (r.image === undefined) return { kind: "per-child" };
    return { kind: "image", key: await this.#images.saveShared(r.image, { transfer: true }) };
  }

  /** A tenant's current image, never as a shared image's key. */
  async #imageOf(info: DatabaseInfo): Promise<Uint8Array> {
    const start = await this.#pool.startingImage(info, false);
    if ("image" in start) return start.image;
    throw new Error("unreachable: a shared image was not allowed");
  }

  /**
   * Finishes what a crash interrupted: committed jobs are rolled forward from their staged
   * images; jobs that had not committed are marked failed and their staging removed.
   */
  recover(): Promise<number> {
    return this.#stages.recover();
  }

  /** Jobs of a parent, newest first (sqld's `/v1/jobs` list). */
  list(parent: DatabaseInfo): { job_id: number; status: JobStatus }[] {
    return this.#jobs.list(parent, this.#running.get(parent.id));
  }

  /** One job with per-child status, or undefined. */
  get(parent: DatabaseInfo, jobId: number): MigrationJob | undefined {
    return this.#jobs.get(parent, jobId, this.#running.get(parent.id));
  }
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  f: (item: T) => Promise<void>,
) {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++]!;
      try {
        await f(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}
