/**
 * A migration job's stage (`migrations/<job>/`, see pack.ts) once the job committed: applying it
 * (each staged image replaces its tenant's live image, through the pool), removing it once the
 * children's files are synced, and, after a crash, rolling committed jobs forward from it and
 * marking uncommitted ones failed (`recover`). The runner (runner.ts) stages and commits.
 */
import { keys } from "../../storage/keyspace.js";
import { deleteAll, type Storage } from "../../storage/storage.js";
import type { Catalog } from "../catalog.js";
import type { TenantPool } from "../tenant-pool.js";
import type { DatabaseInfo } from "../types.js";
import type { JobLog, JobRecord, MigrationProgress, SettlingJobs } from "./jobs.js";
import { decodePack, type StagedChild } from "./pack.js";

/** Storage keys listed at a time. */
export const PAGE = 500;
/** The apply phase replaces children's images in batches of about this many bytes. */
const APPLY_BATCH_BYTES = 32 << 20;

/** What a job's stage is applied with. */
export interface JobStagesDeps {
  /** Where jobs stage their images. */
  readonly storage: Storage;
  /** The children the staged images are for. */
  readonly catalog: Catalog;
  /** Installs the staged images. */
  readonly pool: TenantPool;
  /** The job records. */
  readonly jobs: JobLog;
  /** Finished jobs whose children's files are still syncing. */
  readonly settling: SettlingJobs;
}

/** Committed jobs' stages: applied, removed once synced, and finished after a crash. */
export class JobStages {
  readonly #storage: Storage;
  readonly #catalog: Catalog;
  readonly #pool: TenantPool;
  readonly #jobs: JobLog;
  readonly #settling: SettlingJobs;

  constructor(deps: JobStagesDeps) {
    this.#storage = deps.storage;
    this.#catalog = deps.catalog;
    this.#pool = deps.pool;
    this.#jobs = deps.jobs;
    this.#settling = deps.settling;
  }

  /**
   * Replaces every live image with its staged one (children first, the parent last); resolves
   * once all read their new image, with a promise of the children's files being synced.
   */
  async apply(
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
      if (batch.length > 0 && filesOnly) await this.#pool.saveImages(batch);
      else if (batch.length > 0) {
        const { synced } = await this.#pool.replaceImages(batch);
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
      const found = await this.#storage.list(keys.migrationPackPrefix(job.job_id), {
        limit: PAGE,
        ...(after ? { after } : {}),
      });
      for (const key of found) {
        let entries = staged.get(key);
        staged.delete(key);
        if (entries === undefined) {
          const bytes = await this.#storage.load(key);
          if (bytes === undefined) continue;
          entries = decodePack(bytes);
        }
        // A child deleted meanwhile is skipped (deleting is refused while a job runs).
        const infos = this.#catalog.getDatabasesById(entries.map((e) => e.id));
        const adopt: { info: DatabaseInfo; key: string }[] = [];
        for (const e of entries) {
          const info = "base" in e ? infos.get(e.id) : undefined;
          if (info !== undefined && "base" in e) adopt.push({ info, key: e.base });
        }
        if (!filesOnly) await this.#pool.adoptSharedImages(adopt);
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
      if (found.length < PAGE) break;
      after = found[found.length - 1];
    }
    await replaceBatch();
    const parent = this.#catalog.getDatabase(job.parent);
    const parentBytes = filesOnly
      ? undefined
      : await this.#storage.load(keys.migrationParent(job.job_id));
    if (parent !== undefined && parentBytes !== undefined) {
      await this.#pool.replaceImage(parent, parentBytes);
    }
    return { synced: Promise.all(syncs).then(() => undefined) };
  }

  /**
   * After a job finished: once its children's files are synced, removes its stage. Should a sync
   * fail, the children's files are saved again from the stage, durably; should that fail too,
   * the stage stays (the next start redoes the job) and saves of the children keep failing.
   */
  settle(job: JobRecord, synced: Promise<void>): void {
    const settled = (async () => {
      try {
        await synced;
      } catch {
        await this.apply({ ...job, done: 0 }, () => undefined, new Map(), true);
      }
      await this.clear(job.job_id);
    })();
    this.#settling.set(job.schema, settled);
    settled.then(
      () => {
        this.#settling.delete(job.schema, settled);
      },
      () => undefined,
    );
  }

  /** Removes a job's stage (its staged packs and parent image). */
  async clear(jobId: number): Promise<void> {
    for (;;) {
      const found = await this.#storage.list(keys.migrationPrefix(jobId), { limit: PAGE });
      await deleteAll(this.#storage, found);
      if (found.length < PAGE) return;
    }
  }

  /**
   * Finishes what a crash interrupted: committed jobs are rolled forward from their staged
   * images; jobs that had not committed are marked failed and their staging removed.
   */
  async recover(): Promise<number> {
    let recovered = 0;
    for (const { value } of this.#jobs.all()) {
      let job: JobRecord;
      try {
        job = JSON.parse(value) as JobRecord;
      } catch {
        continue;
      }
      if (typeof job.job_id !== "number" || job.status === "RunFailure") {
        if (typeof job.job_id === "number") await this.clear(job.job_id);
        continue;
      }
      if (job.status === "RunSuccess") {
        // Finished, but a stage left means its children's files may not have been synced: they
        // are written again from it (nothing was saved to them since, see `settled`).
        const staged = await this.#storage.list(keys.migrationPrefix(job.job_id), { limit: 1 });
        if (staged.length > 0) {
          await (await this.apply(job, () => undefined)).synced;
          await this.clear(job.job_id);
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
      await this.#jobs.save(job);
      await this.clear(job.job_id);
    }
    return recovered;
  }
}
