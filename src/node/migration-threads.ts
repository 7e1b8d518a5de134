/**
 * Children's migration dry runs on worker threads. A dry run is pure sql.js CPU (open the image,
 * run the statements in one transaction, export): ~0.25–0.4 ms for a tiny child, most of what a
 * migration of children with rows of their own costs. Worker threads run them on the other cores
 * while the main thread loads images and writes the staged packs.
 *
 * Threads start when a job begins (~30–120 ms: each loads its own sql.js) and stop after a while
 * without work. Work goes out in batches (one message per batch, the images handed over, not
 * copied): a message per child costs about as much as a child's dry run. The main thread takes
 * its share too: whenever its event loop comes round with nothing else to do, the newest queued
 * dry run is handed back to it (`{ here: true }`) — all of them while the threads start, few once
 * they run, since loading images and writing packs come first. A rule decided when a dry run is
 * queued (run here when the threads look busy) took too much: a freshly started thread, its
 * JIT still cold, then sat idle while the main thread was the bottleneck.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { MigrationThreads, ThreadDryRun } from "../platform/migrations/jobs.js";
import type { WorkerBatch, WorkerMessage } from "./migration-worker.js";
import { workerProgram } from "./worker-program.js";

/** Options of {@link createMigrationThreads}. */
export interface MigrationThreadsOptions {
  /**
   * Worker threads (default: one fewer than the machine's cores, at least 1 and at most 4 — the
   * runner's own thread does dry runs too, whenever it is idle; 0 turns them off).
   */
  readonly threads?: number;
  /** Threads stop after this long without work (default 30 s). */
  readonly idleMs?: number;
  /**
   * Jobs with fewer children do without threads (default 1,000). A thread starts in ~30–120 ms and
   * ~30 MB, and its JIT needs ~1,000 dry runs to warm up: smaller jobs measured no faster with
   * one, at ~1.5× the CPU.
   */
  readonly fromChildren?: number;
}

/** Children per message to a thread. */
const BATCH = 16;
/** Batches a thread holds at once: one running, one waiting, so it never idles between them. */
const BATCHES_PER_THREAD = 2;

interface Task {
  image: Uint8Array;
  statements: readonly string[];
  resolve: (r: ThreadDryRun) => void;
  reject: (e: unknown) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  /** Batches sent and not answered, by message id. */
  inFlight: Map<number, Task[]>;
}

/**
 * Worker threads for migration dry runs. `tenantlite/node`'s `createPlatform` gives every
 * platform one (started only when a migration needs it).
 */
export function createMigrationThreads(options: MigrationThreadsOptions = {}): MigrationThreads {
  return new WorkerMigrationThreads(options);
}

class WorkerMigrationThreads implements MigrationThreads {
  readonly #count: number;
  readonly #idleMs: number;
  readonly #fromChildren: number;
  #threads: Thread[] = [];
  #queue: Task[] = [];
  #nextId = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #offering = false;

  constructor(options: MigrationThreadsOptions) {
    const count = options.threads ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError("threads must be a non-negative integer");
    }
    this.#count = count;
    this.#idleMs = options.idleMs ?? 30_000;
    this.#fromChildren = options.fromChildren ?? 1000;
  }

  start(children = Number.POSITIVE_INFINITY): void {
    if (this.#closed || this.#count === 0 || children < this.#fromChildren) return;
    this.#touch();
    if (this.#threads.length > 0) return;
    const program = workerProgram("migration-worker");
    if (program === undefined) return;
    for (let i = 0; i < this.#count; i++) {
      const worker =
        "file" in program ? new Worker(program.file) : new Worker(program.code, { eval: true });
      worker.unref(); // a migration in progress keeps the process alive on its own
      const thread: Thread = { worker, ready: false, inFlight: new Map() };
      worker.on("message", (m: WorkerMessage) => this.#onMessage(thread, m));
      worker.on("error", (e) => this.#fail(thread, e));
      worker.on("exit", () => this.#fail(thread, new Error("a migration thread stopped")));
      this.#threads.push(thread);
    }
  }

  run(image: Uint8Array, statements: readonly string[]): Promise<ThreadDryRun> | undefined {
    if (this.#threads.length === 0) return undefined;
    this.#touch();
    // The image's buffer is handed to the thread: only when the image is all of it.
    const own =
      image.byteOffset === 0 && image.byteLength === image.buffer.byteLength
        ? image
        : image.slice();
    return new Promise<ThreadDryRun>((resolve, reject) => {
      this.#queue.push({ image: own, statements, resolve, reject });
      // Tasks queued in the same tick go out together.
      if (this.#queue.length === 1) queueMicrotask(() => this.#dispatch());
      this.#offerToCaller();
    });
  }

  /**
   * After the event loop's I/O (worker replies, file reads) has been handled, hands the newest
   * queued dry run back to the caller's thread — one per turn of the loop.
   */
  #offerToCaller(): void {
    if (this.#offering) return;
    this.#offering = true;
    setImmediate(() => {
      this.#offering = false;
      this.#queue.pop()?.resolve({ here: true });
      if (this.#queue.length > 0) this.#offerToCaller();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#stop(new Error("the migration threads were closed"));
  }

  #dispatch(): void {
    for (const thread of this.#threads) {
      while (thread.ready && this.#queue.length > 0 && thread.inFlight.size < BATCHES_PER_THREAD) {
        // One statement list per batch (a job's children all share the job's list).
        const first = this.#queue[0]!;
        let n = 1;
        while (
          n < BATCH &&
          n < this.#queue.length &&
          this.#queue[n]!.statements === first.statements
        ) {
          n++;
        }
        const batch = this.#queue.splice(0, n);
        const id = this.#nextId++;
        thread.inFlight.set(id, batch);
        const images = batch.map((t) => t.image);
        const message: WorkerBatch = { id, images, statements: first.statements };
        thread.worker.postMessage(
          message,
          images.map((i) => i.buffer as ArrayBuffer),
        );
      }
    }
  }

  #onMessage(thread: Thread, m: WorkerMessage): void {
    if ("ready" in m) {
      thread.ready = true;
      this.#dispatch();
      return;
    }
    if ("failed" in m) {
      this.#fail(thread, new Error(`a migration thread could not load sql.js: ${m.failed}`));
      return;
    }
    const batch = thread.inFlight.get(m.id);
    if (batch === undefined) return;
    thread.inFlight.delete(m.id);
    for (const [i, task] of batch.entries()) task.resolve(m.results[i]!);
    this.#dispatch();
  }

  /**
   * A thread failed: all of them stop, their tasks and the queue are rejected (the runner redoes
   * those itself), and the next job starts new ones.
   */
  #fail(thread: Thread, error: unknown): void {
    if (this.#threads.includes(thread)) void this.#stop(error);
  }

  async #stop(error: unknown): Promise<void> {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const threads = this.#threads;
    this.#threads = [];
    const queued = this.#queue;
    this.#queue = [];
    for (const t of queued) t.reject(error);
    for (const thread of threads) {
      for (const batch of thread.inFlight.values()) for (const t of batch) t.reject(error);
      thread.inFlight.clear();
    }
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  /** Restarts the idle countdown: threads stop after `idleMs` without work. */
  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      const busy = this.#queue.length > 0 || this.#threads.some((t) => t.inFlight.size > 0);
      if (busy) this.#touch();
      else void this.#stop(new Error("the migration threads stopped"));
    }, this.#idleMs);
    this.#idleTimer.unref();
  }
}
