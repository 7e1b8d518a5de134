/**
 * Shows the migrations a piece of work starts on a schema database: live progress (bar on a
 * terminal, plain lines otherwise) while it runs, then one summary line per job, worded the
 * same in local and remote mode.
 */
import type { Backend } from "./backend.js";
import { isTty, ProgressReporter, type ProgressUpdate } from "./progress.js";

/** Where the report goes. */
export interface ReportIo {
  /** Progress (stderr). */
  readonly progress: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Summary lines. */
  summary(line: string): void;
}

/**
 * Runs `work`, reporting the migration jobs of `schema` it starts. Resolves with the work's
 * result and whether a job failed; when the work throws, the summaries are still printed.
 */
export async function withMigrationReport<T>(
  backend: Backend,
  schema: string,
  io: ReportIo,
  work: () => Promise<T>,
): Promise<{ result: T; failed: boolean; jobs: number[] }> {
  const tty = isTty(io.progress);
  const reporters = new Map<number, ProgressReporter>();
  const sink = (jobId: number, u: ProgressUpdate) => {
    let r = reporters.get(jobId);
    if (r === undefined) {
      for (const other of reporters.values()) other.finish();
      r = new ProgressReporter(io.progress, tty, `migration job ${jobId} on ${schema}`);
      reporters.set(jobId, r);
    }
    r.update(u);
  };
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: await backend.watchMigrations(schema, work, sink) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  for (const r of reporters.values()) r.finish();
  const jobs = [...reporters.keys()];
  const failed = await summarize(backend, schema, jobs, io).catch(() => true);
  if (!outcome.ok) throw outcome.error;
  return { result: outcome.value, failed, jobs };
}

async function summarize(backend: Backend, schema: string, jobs: number[], io: ReportIo) {
  let failed = false;
  for (const jobId of jobs) {
    const job = await backend.getMigration(schema, jobId);
    const failures = job.progress.filter((p) => p.error !== null && p.error !== "aborted").length;
    if (job.status !== "RunSuccess") failed = true;
    io.summary(
      `migration job ${jobId} on ${schema}: ${job.status}, ${job.progress.length} children, ${failures} failed${job.error ? ` (${job.error})` : ""}`,
    );
  }
  return failed;
}
