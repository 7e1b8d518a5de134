/**
 * Migrations of schema databases: a write to a schema parent is applied to every child and to the
 * parent, or to none of them — even across crashes.
 *
 * A job runs in two phases. Prepare: the statements run on a scratch copy of the parent, then of
 * each child (streamed, a few at a time, so memory stays bounded); each result image is staged in
 * storage under `migrations/<job>/<id>.db`. Any failure aborts the job: staged images are deleted
 * and nothing live has changed. Commit: the job record is marked committed (one durable catalog
 * record — the commit point). Apply: each staged image replaces its tenant's live image, then the
 * job is marked `RunSuccess` and the staging area removed. After a crash, `recover()` rolls
 * committed jobs forward from their staged images and marks uncommitted ones failed, so parent and
 * children end all at the old schema or all at the new one, and no job stays "running".
 *
 * While a job runs, writes to the parent and its children fail with BLOCKED; reads go on.
 */
import { splitStatements } from "../../parser/index.js";
import { hasAlterColumn, runStatements } from "../engine/alter-column.js";
import type { BatchStatement } from "../engine/connection.js";
import { toSqliteError } from "../engine/sqlite-errors.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import { TenantDb } from "../engine/tenant-db.js";
import type { IntMode, ResultSet } from "../engine/values.js";
import { registerVectorFunctions } from "../engine/vector.js";
import { TenantliteError } from "../errors.js";
import { deleteAll, type Storage } from "../storage/storage.js";
import type { Catalog } from "./catalog.js";
import { sha256Hex } from "./sha256.js";
import type { DatabaseInfo } from "./types.js";

/** sqld's job statuses (the names `/v1/jobs` reports). */
export type JobStatus =
  | "WaitingDryRun"
  | "DryRunSuccess"
  | "DryRunFailure"
  | "WaitingRun"
  | "RunSuccess"
  | "RunFailure";

/** One child's part of a job. */
export interface TaskProgress {
  /** The child's name. */
  readonly namespace: string;
  readonly status: JobStatus;
  readonly error: string | null;
}

/** A migration job as reported by `getMigration` (sqld's `/v1/jobs/{id}` shape, plus timings). */
export interface MigrationJob {
  readonly job_id: number;
  readonly status: JobStatus;
  readonly error?: string;
  readonly progress: readonly TaskProgress[];
  /** The parent's name. */
  readonly schema: string;
  readonly statements: readonly string[];
  readonly children: number;
  readonly done: number;
  readonly created_at: string;
  readonly finished_at: string | null;
}

/** Progress events for progress bars (children done of total). */
export interface MigrationProgress {
  readonly jobId: number;
  readonly schema: string;
  readonly phase: "prepare" | "apply" | "done" | "failed";
  readonly done: number;
  readonly total: number;
  readonly failures: number;
}

/**
 * Runs children's dry runs on other threads (Node: worker threads, which `tenantlite/node`'s
 * `createPlatform` sets up), and shares the work with the runner's own thread: a dry run may come
 * back as "run it here" when this thread has nothing else to do. The runner also does a dry run
 * itself when the threads are not running, and redoes those a failing thread dropped.
 */
export interface MigrationThreads {
  /**
   * A job with this many children is beginning: starts the threads unless they run, or unless
   * the job is too small to gain from them.
   */
  start(children: number): void;
  /**
   * Queues a dry run of `statements` in one transaction on `image` (the bytes are handed over
   * when a thread takes it): the migrated image, or the failing statement's 1-based step and
   * SQLite's message (step 0: the image itself failed), or `{ here: true }` when the caller's
   * thread is idle and should run it itself (its bytes untouched). Undefined when the threads are
   * not running.
   */
  run(image: Uint8Array, statements: readonly string[]): Promise<ThreadDryRun> | undefined;
  /** Stops the threads. */
  close(): Promise<void>;
}

/** The outcome of a dry run handed to {@link MigrationThreads}. */
export type ThreadDryRun =
  | { image: Uint8Array }
  | { step: number; message: string }
  | { here: true };

/** What the runner needs from the platform. */
export interface MigrationHost {
  readonly sql: SqlJsModule;
  readonly storage: Storage;
  readonly catalog: Catalog;
  /**
   * The tenant's current committed image (waits for its transactions; flushes pending saves) —
   * or, with `allowShared`, the key of the shared image (`images/<sha256>.db`) it reads as it
   * stands, when it has no file and no changes of its own.
   */
  startingImage(
    info: DatabaseInfo,
    allowShared: boolean,
  ): Promise<{ image: Uint8Array } | { shared: string }>;
  /** Replaces the tenant's live image, durably, and in memory when it is open. */
  replaceImage(info: DatabaseInfo, bytes: Uint8Array): Promise<void>;
  /**
   * Replaces many tenants' images at once: readable when it resolves, durable at `synced`. Their
   * files may be left torn by a crash until then: the caller keeps a durable copy of each to
   * redo the batch from, and holds back other saves of these tenants.
   */
  replaceImages(
    entries: readonly { info: DatabaseInfo; bytes: Uint8Array }[],
  ): Promise<{ synced: Promise<void> }>;
  /**
   * Saves images over tenants' files, atomically and durably, and nothing else: tenants open in
   * memory are left as they are (a failed sync's redo, after the job was done).
   */
  saveImages(entries: readonly { info: DatabaseInfo; bytes: Uint8Array }[]): Promise<void>;
  /** The bytes of a shared image (cached when small). */
  loadSharedImage(key: string): Promise<Uint8Array>;
  /**
   * Points tenants at shared images (one catalog record for all of them), and swaps the image
   * of those that are open; a tenant that has a file of its own gets the image written to it.
   */
  adoptSharedImages(entries: readonly { info: DatabaseInfo; key: string }[]): Promise<void>;
  /** Blocks (with a reason) or unblocks writes to a parent and its children. */
  setBlocked(parent: DatabaseInfo, reason: string | undefined): void;
  /** Threads for children's dry runs, when the runtime has them. */
  readonly threads?: MigrationThreads | undefined;
}

interface JobRecord {
  job_id: number;
  parent: string;
  schema: string;
  status: JobStatus;
  committed: boolean;
  error: string | null;
  statements: BatchStatement[];
  children: number;
  done: number;
  task_base: number;
  failures: TaskProgress[];
  created_at: string;
  finished_at: string | null;
}

const CONCURRENCY = 8;
/** Children in preparation at once when threads run their dry runs (they take batches). */
const THREADED_CONCURRENCY = 64;
/** Children's images in preparation at once stay under this many bytes (one may exceed it). */
const PREPARE_BYTES = 64 << 20;
const PAGE = 500;
const jobKey = (parentId: string, jobId: number) =>
  `jobs/${parentId}/${String(jobId).padStart(10, "0")}`;
const parentKey = (jobId: number) => `migrations/${jobId}/parent.db`;
const packKey = (jobId: number, n: number) =>
  `migrations/${jobId}/pack-${String(n).padStart(8, "0")}`;
/** Staged child images are written in packs of about this many bytes (one durable write each). */
const PACK_BYTES = 8 << 20;
/** The apply phase replaces children's images in batches of about this many bytes. */
const APPLY_BATCH_BYTES = 32 << 20;
/** Staged packs up to this many bytes stay in memory for the apply phase too. */
const KEEP_STAGED_BYTES = 32 << 20;
const PACK_MAGIC_V1 = new TextEncoder().encode("TLPACK1\n");
const PACK_MAGIC = new TextEncoder().encode("TLPACK2\n");

/** A staged child: its migrated image, or the shared image it is to read from now on. */
type StagedChild = { id: string; image: Uint8Array } | { id: string; base: string };

/** The outcome of migrating one shared image once for all the untouched children reading it. */
type SharedOutcome =
  | { kind: "image"; key: string }
  | { kind: "error"; error: { step: number; message: string; cause: unknown } }
  | { kind: "per-child" };

/** Runs, records and recovers migration jobs. */
export class MigrationRunner {
  /** Jobs running now, by parent id. */
  private readonly running = new Map<string, JobRecord>();
  /**
   * Finished jobs whose children's files are still being synced, by parent name: their staged
   * packs stay until then, and saves of their children wait (see `settled`).
   */
  private readonly settling = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(p: MigrationProgress) => void>();

  constructor(private readonly host: MigrationHost) {}

  /** Subscribes to progress events of every job; returns the unsubscribe function. */
  onProgress(listener: (p: MigrationProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once the last job of this parent (by name) has its children's files synced and its
   * stage removed; undefined when there is nothing to wait for. A save of one of its children
   * must wait for it: until then a crash makes recovery redo the job from its stage, which would
   * overwrite anything saved since.
   */
  settled(parentName: string): Promise<void> | undefined {
    return this.settling.get(parentName);
  }

  /** Waits for every finished job's children to be synced (failures are the jobs' own). */
  async settleAll(): Promise<void> {
    await Promise.allSettled([...this.settling.values()]);
  }

  /** Whether a job of this parent is running. */
  isRunning(parentId: string): boolean {
    return this.running.has(parentId);
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
    await this.settling.get(parent.name);
    if (this.running.has(parent.id)) {
      throw migrationError(`A migration job is already in progress for \`${parent.name}\``);
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
    this.running.set(parent.id, job);
    this.host.setBlocked(parent, `a migration of schema "${parent.name}" is running`);
    // Threads boot while the parent's dry run and the first children run here (not for libSQL's
    // ALTER COLUMN … TO, which they cannot run: see prepareChildren).
    if (!list.some((s) => hasAlterColumn(s.sql))) {
      this.host.threads?.start(this.host.catalog.countChildren(parent.name));
    }
    let dry: ReturnType<typeof runOn>;
    try {
      // Dry run on the parent first: a failure here creates no job.
      const parentImage = await this.imageOf(parent);
      dry = runOn(this.host.sql, parentImage, list, options.intMode ?? "number");
      if (dry.error !== undefined) {
        throw migrationError(
          `An error occured executing the migration at step ${dry.error.step}: ${dry.error.message}`,
          dry.error.cause,
        );
      }
    } catch (e) {
      this.running.delete(parent.id);
      this.host.setBlocked(parent, undefined);
      throw e;
    }
    let jobId: number;
    try {
      // Both counters move in memory at once (no other job can take the same numbers) and are
      // durable before the job goes on; a failed save fails this migration, nothing else.
      const children = this.host.catalog.countChildren(parent.name);
      const ids = this.takeCounter("jobs/next-id", 1);
      const tasks = this.takeCounter("jobs/next-task", children);
      await Promise.all([ids.saved, tasks.saved]);
      jobId = ids.first;
      job.job_id = jobId;
      job.children = children;
      job.task_base = tasks.first;
    } catch (e) {
      this.running.delete(parent.id);
      this.host.setBlocked(parent, undefined);
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
      for (const l of this.listeners) l(p);
    };
    const staged = new Map<string, StagedChild[]>();
    /** Why the children stay blocked after the job failed past its commit. */
    let stuckReason: string | undefined;
    const done = (async () => {
      try {
        await this.save(job); // before anything is staged: recovery finds what to clear
        // The parent's image is staged while the children are prepared; both before the commit.
        const parentStaged = this.host.storage.save(parentKey(jobId), dry.image!);
        parentStaged.catch(() => undefined); // awaited below, after the children
        await this.prepareChildren(parent, job, list, emit, staged).catch(async (e) => {
          await parentStaged.catch(() => undefined); // then the children's error
          throw e;
        });
        await parentStaged;
        job.status = "WaitingRun";
        job.committed = true;
        await this.save(job); // the commit point
        job.done = 0;
        emit("apply"); // the apply phase begins: 0 of total
        const { synced } = await this.apply(job, emit, staged);
        job.status = "RunSuccess";
        job.finished_at = new Date().toISOString();
        await this.save(job);
        // Done: every child reads its new image, and the stage keeps the job durable until
        // their files are synced (a crash before then redoes the job from it).
        this.settle(job, synced);
        emit("done");
      } catch (e) {
        if (!job.committed) {
          job.status = "RunFailure";
          job.error ??= e instanceof TenantliteError ? e.detail : String(e);
          job.finished_at = new Date().toISOString();
          await this.save(job).catch(() => undefined);
          await this.clearStage(jobId).catch(() => undefined);
          emit("failed");
        } else {
          // Committed but not applied everywhere (a storage failure): the next start finishes
          // it from the stage. Until then the children stay as they are: no writes, no new job.
          const stuck = migrationError(
            `migration job ${jobId} of \`${parent.name}\` could not finish applying; it is finished from its staged images when the platform next starts`,
            e,
          );
          const never = Promise.reject(stuck);
          never.catch(() => undefined);
          this.settling.set(parent.name, never);
          stuckReason = stuck.detail;
        }
        throw e;
      } finally {
        this.running.delete(parent.id);
        this.host.setBlocked(parent, stuckReason);
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
  private async prepareChildren(
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
      const key = packKey(job.job_id, n);
      if (keptBytes < KEEP_STAGED_BYTES) {
        staged.set(key, entries);
        for (const e of entries) if ("image" in e) keptBytes += e.image.length;
      }
      writing = writing.then(() =>
        this.host.storage.save(key, encodePack(entries), { transfer: true }),
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
        outcome = this.migrateSharedImage(key, list);
        shared.set(key, outcome);
      }
      return outcome;
    };
    const sqls = list.map((s) => s.sql);
    // Threads have sql.js only: libSQL's ALTER COLUMN … TO is the engine's (alter-column.ts).
    const threads = withArgs || sqls.some((s) => hasAlterColumn(s)) ? undefined : this.host.threads;
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
          if (r === undefined || needsEngineFunctions(r)) image = await this.imageOf(child);
          else if (!("here" in r)) return fromThread(r);
        }
        return withArgs
          ? runOn(this.host.sql, image, list, "bigint")
          : runScriptOn(this.host.sql, image, list);
      } finally {
        release(size);
      }
    };
    for (const page of this.host.catalog.pagesOfDatabases({ schema: parent.name }, PAGE)) {
      const limit = threads === undefined ? CONCURRENCY : THREADED_CONCURRENCY;
      await forEachLimited(page, limit, async (child) => {
        if (failure !== undefined) return;
        const task = job.task_base + index++;
        let r: DryRun;
        try {
          const start = await this.host.startingImage(child, !withArgs);
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
            r = await dryRun(child, await this.imageOf(child)); // a shared image run per child
          }
        } catch (e) {
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
          failure ??= migrationError(
            `migration dry run failed: task ${task} for namespace \`${child.name}\` failed with error: ${message}`,
            r.error.cause,
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
  private async migrateSharedImage(
    key: string,
    list: readonly BatchStatement[],
  ): Promise<SharedOutcome> {
    const bytes = await this.host.loadSharedImage(key);
    const r = runScriptOn(this.host.sql, bytes, list, { deterministicOnly: true });
    if (r.error !== undefined) return { kind: "error", error: r.error };
    if (r.image === undefined) return { kind: "per-child" };
    const migrated = `images/${await sha256Hex(r.image)}.db`;
    if (!(await this.host.storage.has(migrated))) {
      await this.host.storage.save(migrated, r.image, { transfer: true });
    }
    return { kind: "image", key: migrated };
  }

  /** A tenant's current image, never as a shared image's key. */
  private async imageOf(info: DatabaseInfo): Promise<Uint8Array> {
    const start = await this.host.startingImage(info, false);
    if ("image" in start) return start.image;
    throw new Error("unreachable: a shared image was not allowed");
  }

  /**
   * Replaces every live image with its staged one (children first, the parent last); resolves
   * once all read their new image, with a promise of the children's files being synced.
   */
  private async apply(
    job: JobRecord,
    emit: (phase: MigrationProgress["phase"]) => void,
    /** Packs still in memory (the job's own run); the others are read back (and after a crash). */
    staged: Map<string, StagedChild[]> = new Map(),
    /**
     * Only write the children's files again, durably (after a failed sync): the catalog, the
     * parent and tenants in memory have the job already, and may have changed since.
     */
    filesOnly = false,
  ): Promise<{ synced: Promise<void> }> {
    let batch: { info: DatabaseInfo; bytes: Uint8Array }[] = [];
    let batchBytes = 0;
    let skipped = 0;
    const syncs: Promise<void>[] = [];
    const replaceBatch = async () => {
      if (batch.length > 0 && filesOnly) await this.host.saveImages(batch);
      else if (batch.length > 0) {
        const { synced } = await this.host.replaceImages(batch);
        synced.catch(() => undefined); // the caller awaits them all
        syncs.push(synced);
      }
      for (let i = batch.length + skipped; i > 0; i--) {
        job.done++;
        emit("apply");
      }
      batch = [];
      batchBytes = 0;
      skipped = 0;
    };
    for (let after: string | undefined; ; ) {
      const keys = await this.host.storage.list(`migrations/${job.job_id}/pack-`, {
        limit: PAGE,
        ...(after ? { after } : {}),
      });
      for (const key of keys) {
        let entries = staged.get(key);
        staged.delete(key);
        if (entries === undefined) {
          const bytes = await this.host.storage.load(key);
          if (bytes === undefined) continue;
          entries = decodePack(bytes);
        }
        // A child deleted meanwhile is skipped (deleting is refused while a job runs).
        const infos = this.host.catalog.getDatabasesById(entries.map((e) => e.id));
        const adopt: { info: DatabaseInfo; key: string }[] = [];
        for (const e of entries) {
          const info = "base" in e ? infos.get(e.id) : undefined;
          if (info !== undefined && "base" in e) adopt.push({ info, key: e.base });
        }
        if (!filesOnly) await this.host.adoptSharedImages(adopt);
        for (const e of entries) {
          if ("base" in e) {
            job.done++;
            emit("apply");
          }
        }
        // Children with images of their own go in batches of a few packs: written together,
        // their files are synced together (the packs protect them until the job is done).
        for (const e of entries) {
          if (!("image" in e)) continue;
          const info = infos.get(e.id);
          if (info !== undefined) {
            batch.push({ info, bytes: e.image });
            batchBytes += e.image.length;
          } else skipped++;
        }
        if (batchBytes >= APPLY_BATCH_BYTES) await replaceBatch();
      }
      if (keys.length < PAGE) break;
      after = keys[keys.length - 1];
    }
    await replaceBatch();
    const parent = this.host.catalog.getDatabase(job.parent);
    const parentBytes = filesOnly ? undefined : await this.host.storage.load(parentKey(job.job_id));
    if (parent !== undefined && parentBytes !== undefined) {
      await this.host.replaceImage(parent, parentBytes);
    }
    return { synced: Promise.all(syncs).then(() => undefined) };
  }

  /**
   * After a job finished: once its children's files are synced, removes its stage. Should a sync
   * fail, the children's files are saved again from the stage, durably; should that fail too,
   * the stage stays (the next start redoes the job) and saves of the children keep failing.
   */
  private settle(job: JobRecord, synced: Promise<void>): void {
    const settled = (async () => {
      try {
        await synced;
      } catch {
        await this.apply({ ...job, done: 0 }, () => undefined, new Map(), true);
      }
      await this.clearStage(job.job_id);
    })();
    this.settling.set(job.schema, settled);
    settled.then(
      () => {
        if (this.settling.get(job.schema) === settled) this.settling.delete(job.schema);
      },
      () => undefined,
    );
  }

  private async clearStage(jobId: number): Promise<void> {
    for (;;) {
      const keys = await this.host.storage.list(`migrations/${jobId}/`, { limit: PAGE });
      await deleteAll(this.host.storage, keys);
      if (keys.length < PAGE) return;
    }
  }

  private save(job: JobRecord): Promise<void> {
    return this.host.catalog.putRecord(jobKey(job.parent, job.job_id), JSON.stringify(job));
  }

  /** Takes `count` numbers from counter `key`: the first one, and the save of the counter. */
  private takeCounter(key: string, count: number): { first: number; saved: Promise<void> } {
    const first = Number(this.host.catalog.getRecord(key) ?? "1");
    return { first, saved: this.host.catalog.putRecord(key, String(first + count)) };
  }

  /**
   * Finishes what a crash interrupted: committed jobs are rolled forward from their staged
   * images; jobs that had not committed are marked failed and their staging removed.
   */
  async recover(): Promise<number> {
    let recovered = 0;
    for (const { value } of this.host.catalog.listRecords("jobs/", 100_000)) {
      let job: JobRecord;
      try {
        job = JSON.parse(value) as JobRecord;
      } catch {
        continue;
      }
      if (typeof job.job_id !== "number" || job.status === "RunFailure") {
        if (typeof job.job_id === "number") await this.clearStage(job.job_id);
        continue;
      }
      if (job.status === "RunSuccess") {
        // Finished, but a stage left means its children's files may not have been synced: they
        // are written again from it (nothing was saved to them since, see `settled`).
        const staged = await this.host.storage.list(`migrations/${job.job_id}/`, { limit: 1 });
        if (staged.length > 0) {
          await (await this.apply(job, () => undefined)).synced;
          await this.clearStage(job.job_id);
        }
        continue;
      }
      recovered++;
      if (job.committed) {
        await (await this.apply(job, () => undefined)).synced;
        job.status = "RunSuccess";
      } else {
        job.status = "RunFailure";
        job.error =
          job.error ?? "the migration was interrupted before it committed; nothing was changed";
      }
      job.finished_at = new Date().toISOString();
      await this.save(job);
      await this.clearStage(job.job_id);
    }
    return recovered;
  }

  /** Jobs of a parent, newest first (sqld's `/v1/jobs` list). */
  list(parent: DatabaseInfo): { job_id: number; status: JobStatus }[] {
    return this.host.catalog
      .listRecords(`jobs/${parent.id}/`, 100_000)
      .map((r) => JSON.parse(r.value) as JobRecord)
      .map((j) =>
        this.running.get(parent.id)?.job_id === j.job_id ? this.running.get(parent.id)! : j,
      )
      .sort((a, b) => b.job_id - a.job_id)
      .map((j) => ({ job_id: j.job_id, status: j.status }));
  }

  /** One job with per-child status, or undefined. */
  get(parent: DatabaseInfo, jobId: number): MigrationJob | undefined {
    const live = this.running.get(parent.id);
    let job: JobRecord | undefined = live?.job_id === jobId ? live : undefined;
    if (job === undefined) {
      const raw = this.host.catalog.getRecord(jobKey(parent.id, jobId));
      if (raw === undefined) return undefined;
      job = JSON.parse(raw) as JobRecord;
    }
    const failed = new Map(job.failures.map((f) => [f.namespace, f]));
    const progress: TaskProgress[] = [];
    for (const page of this.host.catalog.pagesOfDatabases({ schema: parent.name }, 1000)) {
      for (const child of page) {
        const f = failed.get(child.name);
        const status: JobStatus =
          f !== undefined ? "RunFailure" : job.status === "RunFailure" ? "RunFailure" : job.status;
        const error = f?.error ?? (job.status === "RunFailure" ? "aborted" : null);
        progress.push({ namespace: child.name, status, error });
      }
    }
    return {
      job_id: job.job_id,
      status: job.status,
      ...(job.error === null ? {} : { error: job.error }),
      progress,
      schema: job.schema,
      statements: job.statements.map((s) => s.sql),
      children: job.children,
      done: job.done,
      created_at: job.created_at,
      finished_at: job.finished_at,
    };
  }
}

/** A child's dry run: its migrated image, or the failing step. */
interface DryRun {
  image?: Uint8Array;
  error?: { step: number; message: string; cause: unknown };
}

/** A thread's dry run as the runner's own would have reported it. */
/**
 * Whether a thread's dry run failed for want of the SQL functions the engine registers on its own
 * connections (libSQL's vector functions, vector.ts): the thread's sql.js has none, so the child
 * runs here instead.
 */
function needsEngineFunctions(r: ThreadDryRun): boolean {
  return (
    "message" in r && /no such function: (vector|libsql_vector_idx|tenantlite_)/i.test(r.message)
  );
}

function fromThread(r: { image: Uint8Array } | { step: number; message: string }): DryRun {
  if ("image" in r) return { image: r.image };
  const err = toSqliteError(new Error(r.message));
  if (r.step === 0) throw err; // the image could not be opened: as runScriptOn would throw
  return { error: { step: r.step, message: err.detail, cause: err } };
}

/** Runs `list` in one transaction on a scratch copy of `image`; returns the new image or the failing step. */
function runOn(
  sql: SqlJsModule,
  image: Uint8Array,
  list: readonly BatchStatement[],
  intMode: IntMode,
): {
  image?: Uint8Array;
  results: ResultSet[];
  error?: { step: number; message: string; cause: unknown };
} {
  const db = new TenantDb(sql, image, { journalMode: "delete" });
  const results: ResultSet[] = [];
  try {
    db.execute("BEGIN", undefined, "bigint");
    for (let i = 0; i < list.length; i++) {
      const s = list[i]!;
      try {
        results.push(db.execute(s.sql, s.args, intMode));
      } catch (e) {
        db.rollback();
        const message = e instanceof TenantliteError ? e.detail : String(e);
        return { results, error: { step: i + 1, message, cause: e } };
      }
    }
    db.execute("COMMIT", undefined, "bigint");
    return { image: db.export(), results };
  } finally {
    db.close();
  }
}

/**
 * The children's side of `runOn` for statements without arguments: the parent's dry run already
 * checked their shape and results are not needed, so they run straight on sql.js. With
 * `deterministicOnly`, each statement's compiled program is checked first, and `image` is
 * undefined (nothing failed) when one calls a function whose results could differ between runs
 * on identical bytes, or fires a trigger program.
 */
function runScriptOn(
  sql: SqlJsModule,
  image: Uint8Array,
  list: readonly BatchStatement[],
  options: { deterministicOnly?: boolean } = {},
): {
  image?: Uint8Array;
  results: ResultSet[];
  error?: { step: number; message: string; cause: unknown };
} {
  const db = new sql.Database(image);
  try {
    registerVectorFunctions(sql, db.db);
    db.exec(`${SCRATCH_PRAGMAS}; BEGIN`);
    for (let i = 0; i < list.length; i++) {
      try {
        if (options.deterministicOnly !== true) runStatements(sql, db, list[i]!.sql);
        else {
          for (const { sql: one } of splitStatements(list[i]!.sql)) {
            // libSQL's ALTER COLUMN … TO only rewrites schema text: the same on the same bytes.
            if (hasAlterColumn(one)) runStatements(sql, db, one);
            else if (!deterministicProgram(db, one)) return { results: [] };
            else db.run(one);
          }
        }
      } catch (e) {
        const err = toSqliteError(e);
        return { results: [], error: { step: i + 1, message: err.detail, cause: err } };
      }
    }
    db.exec("COMMIT");
    return { image: db.export(), results: [] };
  } finally {
    db.close();
  }
}

/**
 * How children's dry runs open their scratch copy: nobody else uses it, so no file locks between
 * statements, and a journal in memory (a failed statement or transaction still rolls back) —
 * ~15 % less CPU per child than the defaults. Migration threads use the same, so a child's image
 * is the same byte for byte wherever its dry run ran.
 */
export const SCRATCH_PRAGMAS = "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = MEMORY";

/**
 * SQLite's built-in functions that give the same result for the same arguments, including the
 * ones `ALTER TABLE` compiles to. Any other function (`random()`, `changes()`, the date and time
 * functions, which may read 'now') makes a migration run child by child.
 */
const DETERMINISTIC_FUNCTIONS = new Set(
  (
    "abs char coalesce concat concat_ws format glob hex ifnull iif instr length like likelihood " +
    "likely lower ltrim max min nullif octet_length printf quote replace round rtrim sign soundex " +
    "substr substring trim typeof unhex unicode unlikely upper zeroblob acos acosh asin asinh atan " +
    "atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10 log2 mod pi pow power " +
    "radians sin sinh sqrt tan tanh trunc json json_array json_array_length json_error_position " +
    "json_extract json_insert json_object json_patch json_quote json_remove json_replace json_set " +
    "json_type json_valid jsonb jsonb_array jsonb_extract jsonb_insert jsonb_object jsonb_patch " +
    "jsonb_remove jsonb_replace jsonb_set -> ->> sqlite_rename_column sqlite_rename_table " +
    "sqlite_rename_test sqlite_rename_quotefix sqlite_drop_column " +
    // libSQL's vector functions (vector.ts): pure functions of their arguments.
    "vector vector32 vector64 vector1bit vector8 vector16 vectorb16 vector_extract " +
    "vector_distance_cos vector_distance_l2 libsql_vector_idx"
  ).split(" "),
);

/** Whether a statement's program calls only deterministic functions and fires no trigger. */
function deterministicProgram(db: InstanceType<SqlJsModule["Database"]>, one: string): boolean {
  const stmt = db.prepare(`EXPLAIN ${one}`);
  try {
    while (stmt.step()) {
      const [, opcode, , , , p4] = stmt.get();
      if (opcode === "Program") return false;
      if (opcode === "Function" || opcode === "PureFunc" || opcode === "Function0") {
        const name = String(p4).replace(/\(.*$/, "").toLowerCase();
        if (!DETERMINISTIC_FUNCTIONS.has(name)) return false;
      }
    }
    return true;
  } finally {
    stmt.free();
  }
}

const TXN = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

/**
 * sqld's validation: an optional leading BEGIN and trailing COMMIT are dropped (the migration
 * always runs in a transaction of its own); any other transaction control, and ATTACH, is refused.
 */
function validate(statements: readonly BatchStatement[]): BatchStatement[] {
  const list = [...statements];
  if (list.length > 0 && /^\s*BEGIN\b/i.test(list[0]!.sql)) {
    list.shift();
    const last = list[list.length - 1];
    if (last !== undefined && /^\s*(COMMIT|END)\b/i.test(last.sql)) list.pop();
  }
  for (const s of list) {
    if (TXN.test(s.sql)) {
      throw migrationError(
        "migration is invalid: it contains transaction items (BEGIN, COMMIT, SAVEPOINT...) which are not allowed. The migration is already run within a transaction",
      );
    }
    if (/^\s*(ATTACH|DETACH)\b/i.test(s.sql)) {
      throw migrationError(
        "Error executing migration: ATTACH is not permitted in migration scripts",
      );
    }
  }
  return list;
}

/**
 * Packs staged children: `TLPACK2\n`, then per entry u16 id length, id, u8 kind (0: an image,
 * 1: the key of a shared image), u32 length, payload. (`TLPACK1` packs, images only without the
 * kind byte, are still read.)
 */
function encodePack(entries: readonly StagedChild[]): Uint8Array {
  const encoder = new TextEncoder();
  const ids = entries.map((e) => encoder.encode(e.id));
  const payloads = entries.map((e) => ("image" in e ? e.image : encoder.encode(e.base)));
  let size = PACK_MAGIC.length;
  entries.forEach((_, i) => {
    size += 2 + ids[i]!.length + 1 + 4 + payloads[i]!.length;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(PACK_MAGIC);
  let o = PACK_MAGIC.length;
  entries.forEach((e, i) => {
    view.setUint16(o, ids[i]!.length);
    out.set(ids[i]!, o + 2);
    o += 2 + ids[i]!.length;
    out[o++] = "image" in e ? 0 : 1;
    view.setUint32(o, payloads[i]!.length);
    out.set(payloads[i]!, o + 4);
    o += 4 + payloads[i]!.length;
  });
  return out;
}

function decodePack(bytes: Uint8Array): StagedChild[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged = () =>
    new TenantliteError("MIGRATION_STAGE_CORRUPT", "a staged migration pack is damaged");
  const has = (magic: Uint8Array) => magic.every((b, i) => bytes[i] === b);
  const v2 = has(PACK_MAGIC);
  if (!v2 && !has(PACK_MAGIC_V1)) throw damaged();
  const decoder = new TextDecoder();
  const out: StagedChild[] = [];
  let o = PACK_MAGIC.length;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) throw damaged();
    const idLength = view.getUint16(o);
    const id = decoder.decode(bytes.subarray(o + 2, o + 2 + idLength));
    o += 2 + idLength;
    const kind = v2 ? bytes[o++] : 0;
    if (o + 4 > bytes.length) throw damaged();
    const length = view.getUint32(o);
    if (o + 4 + length > bytes.length || (kind !== 0 && kind !== 1)) throw damaged();
    const payload = bytes.subarray(o + 4, o + 4 + length);
    out.push(kind === 0 ? { id, image: payload } : { id, base: decoder.decode(payload) });
    o += 4 + length;
  }
  return out;
}

function migrationError(detail: string, cause?: unknown): TenantliteError {
  return new TenantliteError("SCHEMA_MIGRATION_ERROR", `Schema migration error: ${detail}`, {
    ...(cause === undefined ? {} : { cause }),
  });
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
