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
import type { BatchStatement } from "../engine/connection.js";
import { toSqliteError } from "../engine/sqlite-errors.js";
import type { SqlJsModule } from "../engine/sqljs-types.js";
import { TenantDb } from "../engine/tenant-db.js";
import type { IntMode, ResultSet } from "../engine/values.js";
import { TenantliteError } from "../errors.js";
import type { Storage } from "../storage/storage.js";
import type { Catalog } from "./catalog.js";
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

/** What the runner needs from the platform. */
export interface MigrationHost {
  readonly sql: SqlJsModule;
  readonly storage: Storage;
  readonly catalog: Catalog;
  /** The tenant's current committed image (waits for its transactions; flushes pending saves). */
  currentImage(info: DatabaseInfo): Promise<Uint8Array>;
  /** Replaces the tenant's live image, durably, and in memory when it is open. */
  replaceImage(info: DatabaseInfo, bytes: Uint8Array): Promise<void>;
  /** Blocks (with a reason) or unblocks writes to a parent and its children. */
  setBlocked(parent: DatabaseInfo, reason: string | undefined): void;
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
const APPLY_CONCURRENCY = 16;
const PAGE = 500;
const jobKey = (parentId: string, jobId: number) =>
  `jobs/${parentId}/${String(jobId).padStart(10, "0")}`;
const parentKey = (jobId: number) => `migrations/${jobId}/parent.db`;
const packKey = (jobId: number, n: number) =>
  `migrations/${jobId}/pack-${String(n).padStart(8, "0")}`;
/** Staged child images are written in packs of about this many bytes (one durable write each). */
const PACK_BYTES = 8 << 20;
const PACK_MAGIC = new TextEncoder().encode("TLPACK1\n");

/** Runs, records and recovers migration jobs. */
export class MigrationRunner {
  /** Jobs running now, by parent id. */
  private readonly running = new Map<string, JobRecord>();
  private readonly listeners = new Set<(p: MigrationProgress) => void>();

  constructor(private readonly host: MigrationHost) {}

  /** Subscribes to progress events of every job; returns the unsubscribe function. */
  onProgress(listener: (p: MigrationProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
    let dry: ReturnType<typeof runOn>;
    try {
      // Dry run on the parent first: a failure here creates no job.
      const parentImage = await this.host.currentImage(parent);
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
    const jobId = this.nextCounter("jobs/next-id", 1);
    job.job_id = jobId;
    job.children = this.host.catalog.countChildren(parent.name);
    job.task_base = this.nextCounter("jobs/next-task", job.children);
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
    const done = (async () => {
      try {
        await this.save(job);
        await this.host.storage.save(parentKey(jobId), dry.image!);
        await this.prepareChildren(parent, job, list, emit);
        job.status = "WaitingRun";
        job.committed = true;
        await this.save(job); // the commit point
        job.done = 0;
        await this.apply(job, emit);
        job.status = "RunSuccess";
        job.finished_at = new Date().toISOString();
        await this.save(job);
        emit("done");
        await this.clearStage(jobId);
      } catch (e) {
        if (!job.committed) {
          job.status = "RunFailure";
          job.error ??= e instanceof TenantliteError ? e.detail : String(e);
          job.finished_at = new Date().toISOString();
          await this.save(job).catch(() => undefined);
          await this.clearStage(jobId).catch(() => undefined);
          emit("failed");
        }
        throw e;
      } finally {
        this.running.delete(parent.id);
        this.host.setBlocked(parent, undefined);
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
  ): Promise<void> {
    let index = 0;
    let failure: TenantliteError | undefined;
    // Staged images go to storage in packs: one durable write for many children.
    let pack: { id: string; image: Uint8Array }[] = [];
    let packBytes = 0;
    let packs = 0;
    let writing: Promise<void> = Promise.resolve();
    const flushPack = () => {
      if (pack.length === 0) return writing;
      const entries = pack;
      const n = packs++;
      pack = [];
      packBytes = 0;
      writing = writing.then(() =>
        this.host.storage.save(packKey(job.job_id, n), encodePack(entries)),
      );
      return writing;
    };
    for (const page of this.host.catalog.pagesOfDatabases({ schema: parent.name }, PAGE)) {
      await forEachLimited(page, CONCURRENCY, async (child) => {
        if (failure !== undefined) return;
        const task = job.task_base + index++;
        const image = await this.host.currentImage(child);
        const r = list.some((x) => x.args !== undefined)
          ? runOn(this.host.sql, image, list, "bigint")
          : runScriptOn(this.host.sql, image, list);
        if (r.error !== undefined) {
          const message = `An error occured executing the migration at step ${r.error.step}: ${r.error.message}`;
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

  /** Replaces every live image with its staged one (children first, the parent last). */
  private async apply(job: JobRecord, emit: (phase: MigrationProgress["phase"]) => void) {
    for (let after: string | undefined; ; ) {
      const keys = await this.host.storage.list(`migrations/${job.job_id}/pack-`, {
        limit: PAGE,
        ...(after ? { after } : {}),
      });
      for (const key of keys) {
        const bytes = await this.host.storage.load(key);
        if (bytes === undefined) continue;
        await forEachLimited(decodePack(bytes), APPLY_CONCURRENCY, async ({ id, image }) => {
          const info = this.host.catalog.getDatabase(id);
          // A child deleted meanwhile is skipped (deleting is refused while a job runs).
          if (info !== undefined) await this.host.replaceImage(info, image);
          job.done++;
          emit("apply");
        });
      }
      if (keys.length < PAGE) break;
      after = keys[keys.length - 1];
    }
    const parent = this.host.catalog.getDatabase(job.parent);
    const parentBytes = await this.host.storage.load(parentKey(job.job_id));
    if (parent !== undefined && parentBytes !== undefined) {
      await this.host.replaceImage(parent, parentBytes);
    }
  }

  private async clearStage(jobId: number): Promise<void> {
    for (;;) {
      const keys = await this.host.storage.list(`migrations/${jobId}/`, { limit: PAGE });
      await forEachLimited(keys, CONCURRENCY, (k) => this.host.storage.delete(k));
      if (keys.length < PAGE) return;
    }
  }

  private save(job: JobRecord): Promise<void> {
    return this.host.catalog.putRecord(jobKey(job.parent, job.job_id), JSON.stringify(job));
  }

  private nextCounter(key: string, count: number): number {
    const next = Number(this.host.catalog.getRecord(key) ?? "1");
    void this.host.catalog.putRecord(key, String(next + count));
    return next;
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
      if (
        typeof job.job_id !== "number" ||
        job.status === "RunSuccess" ||
        job.status === "RunFailure"
      ) {
        if (typeof job.job_id === "number") await this.clearStage(job.job_id);
        continue;
      }
      recovered++;
      if (job.committed) {
        await this.apply(job, () => undefined);
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
 * checked their shape and results are not needed, so they run straight on sql.js.
 */
function runScriptOn(
  sql: SqlJsModule,
  image: Uint8Array,
  list: readonly BatchStatement[],
): {
  image?: Uint8Array;
  results: ResultSet[];
  error?: { step: number; message: string; cause: unknown };
} {
  const db = new sql.Database(image);
  try {
    db.exec("BEGIN");
    for (let i = 0; i < list.length; i++) {
      try {
        db.run(list[i]!.sql);
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

/** Packs staged images: `TLPACK1\n`, then per entry u16 id length, id, u32 image length, image. */
function encodePack(entries: readonly { id: string; image: Uint8Array }[]): Uint8Array {
  const ids = entries.map((e) => new TextEncoder().encode(e.id));
  let size = PACK_MAGIC.length;
  entries.forEach((e, i) => {
    size += 2 + ids[i]!.length + 4 + e.image.length;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(PACK_MAGIC);
  let o = PACK_MAGIC.length;
  entries.forEach((e, i) => {
    view.setUint16(o, ids[i]!.length);
    out.set(ids[i]!, o + 2);
    o += 2 + ids[i]!.length;
    view.setUint32(o, e.image.length);
    out.set(e.image, o + 4);
    o += 4 + e.image.length;
  });
  return out;
}

function decodePack(bytes: Uint8Array): { id: string; image: Uint8Array }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < PACK_MAGIC.length; i++) {
    if (bytes[i] !== PACK_MAGIC[i])
      throw new TenantliteError("MIGRATION_STAGE_CORRUPT", "a staged migration pack is damaged");
  }
  const out: { id: string; image: Uint8Array }[] = [];
  let o = PACK_MAGIC.length;
  while (o < bytes.length) {
    const idLength = view.getUint16(o);
    const id = new TextDecoder().decode(bytes.subarray(o + 2, o + 2 + idLength));
    o += 2 + idLength;
    const length = view.getUint32(o);
    out.push({ id, image: bytes.subarray(o + 4, o + 4 + length) });
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
