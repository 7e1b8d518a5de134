/**
 * Migration jobs as recorded: their statuses and shapes (sqld's `/v1/jobs`), the durable job
 * records in the catalog ({@link JobLog}), the jobs whose children's files are still syncing
 * ({@link SettlingJobs}), the contract of the threads children's dry runs may run on, and which
 * statements a job accepts ({@link validate}).
 */
import type { BatchStatement } from "../../engine/connection-policy.js";
import { MigrationError } from "../../errors.js";
import type { Catalog } from "../catalog.js";
import type { DatabaseInfo } from "../types.js";

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

/** A job as stored in the catalog (`jobs/<parent id>/<job id>`). */
export interface JobRecord {
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

const jobKey = (parentId: string, jobId: number) =>
  `jobs/${parentId}/${String(jobId).padStart(10, "0")}`;

/**
 * A stored job as it stands when it is not running: one that never committed has failed, even
 * if its record still says how far it got (on a full disk its failure could not be recorded, and
 * a tool polling the job would wait for good). Recovery records it at the next start.
 */
const ended = (j: JobRecord): JobRecord =>
  j.committed || j.finished_at !== null
    ? j
    : { ...j, status: "RunFailure", error: j.error ?? "aborted" };

/** Job records and counters, kept in the catalog. */
export class JobLog {
  readonly #catalog: Catalog;

  constructor(catalog: Catalog) {
    this.#catalog = catalog;
  }

  /** Saves a job's record. */
  save(job: JobRecord): Promise<void> {
    return this.#catalog.putRecord(jobKey(job.parent, job.job_id), JSON.stringify(job));
  }

  /** Takes `count` numbers from counter `key`: the first one, and the save of the counter. */
  takeCounter(key: string, count: number): { first: number; saved: Promise<void> } {
    const first = Number(this.#catalog.getRecord(key) ?? "1");
    return { first, saved: this.#catalog.putRecord(key, String(first + count)) };
  }

  /** Every job's stored record (as JSON text), for recovery. */
  all(): { value: string }[] {
    return this.#catalog.listRecords("jobs/", 100_000);
  }

  /** Jobs of a parent, newest first (sqld's `/v1/jobs` list); `running` is its job in memory. */
  list(
    parent: DatabaseInfo,
    running: JobRecord | undefined,
  ): { job_id: number; status: JobStatus }[] {
    return this.#catalog
      .listRecords(`jobs/${parent.id}/`, 100_000)
      .map((r) => JSON.parse(r.value) as JobRecord)
      .map((j) => (running?.job_id === j.job_id ? running : ended(j)))
      .sort((a, b) => b.job_id - a.job_id)
      .map((j) => ({ job_id: j.job_id, status: j.status }));
  }

  /** One job with per-child status, or undefined; `running` is the parent's job in memory. */
  get(
    parent: DatabaseInfo,
    jobId: number,
    running: JobRecord | undefined,
  ): MigrationJob | undefined {
    let job: JobRecord | undefined = running?.job_id === jobId ? running : undefined;
    if (job === undefined) {
      const raw = this.#catalog.getRecord(jobKey(parent.id, jobId));
      if (raw === undefined) return undefined;
      job = ended(JSON.parse(raw) as JobRecord);
    }
    const failed = new Map(job.failures.map((f) => [f.namespace, f]));
    const progress: TaskProgress[] = [];
    for (const page of this.#catalog.pagesOfDatabases({ schema: parent.name }, 1000)) {
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

/**
 * Finished jobs whose children's files are still being synced, by parent name: their staged
 * packs stay until then, and saves of their children wait (a crash before then makes recovery
 * redo the job from its stage, which would overwrite anything saved since).
 */
export class SettlingJobs {
  readonly #settling = new Map<string, Promise<void>>();

  /**
   * Resolves once the last job of this parent (by name) has its children's files synced and its
   * stage removed; undefined when there is nothing to wait for.
   */
  settled(parentName: string): Promise<void> | undefined {
    return this.#settling.get(parentName);
  }

  /** Records the parent's last job as settling until `settled` settles. */
  set(parentName: string, settled: Promise<void>): void {
    this.#settling.set(parentName, settled);
  }

  /** Forgets the parent's settling job, if it still is `settled`. */
  delete(parentName: string, settled: Promise<void>): void {
    if (this.#settling.get(parentName) === settled) this.#settling.delete(parentName);
  }

  /** Waits for every finished job's children to be synced (failures are the jobs' own). */
  async all(): Promise<void> {
    await Promise.allSettled([...this.#settling.values()]);
  }
}

const TXN = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

/**
 * sqld's validation: an optional leading BEGIN and trailing COMMIT are dropped (the migration
 * always runs in a transaction of its own); any other transaction control, and ATTACH, is refused.
 */
export function validate(statements: readonly BatchStatement[]): BatchStatement[] {
  const list = [...statements];
  if (list.length > 0 && /^\s*BEGIN\b/i.test(list[0]!.sql)) {
    list.shift();
    const last = list[list.length - 1];
    if (last !== undefined && /^\s*(COMMIT|END)\b/i.test(last.sql)) list.pop();
  }
  for (const s of list) {
    if (TXN.test(s.sql)) {
      throw new MigrationError(
        "migration is invalid: it contains transaction items (BEGIN, COMMIT, SAVEPOINT...) which are not allowed. The migration is already run within a transaction",
      );
    }
    if (/^\s*(ATTACH|DETACH)\b/i.test(s.sql)) {
      throw new MigrationError(
        "Error executing migration: ATTACH is not permitted in migration scripts",
      );
    }
  }
  return list;
}
