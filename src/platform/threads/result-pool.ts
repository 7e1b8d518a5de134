/**
 * The bound on results held at once by all tenant threads of a platform (sqld's
 * `max_total_response_size`, 32 MB): the rows of limited results (a server's streams set
 * `maxResultBytes`) count from the moment a thread reads them until the platform has received
 * them, so a burst of large queries cannot queue gigabytes between the threads and the server;
 * a statement that would pass the bound stops with `RESPONSE_TOO_LARGE`.
 *
 * `pool` is shared by the platform and every thread: cell 0 the bytes held, cell 1 the bound.
 * Each thread also counts what it holds in a cell of its own (one per start), so what a thread
 * held when it ended — a statement stopped mid-read, answers it never sent — is given back then.
 */
import type { ResultPool } from "../../engine/connection-policy.js";

/** The pool of a platform's threads; none for `bound` 0 (no bound). */
export function sharedResultPool(bound: number): Int32Array | undefined {
  if (bound === 0) return undefined;
  const pool = new Int32Array(new SharedArrayBuffer(8));
  pool[1] = bound;
  return pool;
}

/** What a thread is started with: the pool, and its own cell. */
export interface ThreadResults {
  readonly pool: Int32Array;
  readonly cell: Int32Array;
}

/** A thread's cell once its thread ended and gave everything back (bytes are never negative). */
const ENDED = -1;

/**
 * A connection's view of the pool on its thread; `by.held`: what its request holds now, which
 * the request's answer tells the platform (`receivedResult`).
 */
export function threadResultPool({ pool, cell }: ThreadResults, by: { held: number }): ResultPool {
  return {
    claim(bytes) {
      // The own cell first: a thread stopped between the two steps then gives back too much,
      // never too little.
      Atomics.add(cell, 0, bytes);
      if (Atomics.add(pool, 0, bytes) + bytes > Atomics.load(pool, 1)) {
        Atomics.sub(pool, 0, bytes);
        Atomics.sub(cell, 0, bytes);
        return false;
      }
      by.held += bytes;
      return true;
    },
    release(bytes) {
      Atomics.sub(pool, 0, bytes);
      Atomics.sub(cell, 0, bytes);
      by.held -= bytes;
    },
  };
}

/** The platform received an answer whose result held `bytes`: they are the server's now. */
export function receivedResult({ pool, cell }: ThreadResults, bytes: number): void {
  if (Atomics.load(cell, 0) === ENDED) return;
  Atomics.sub(cell, 0, bytes);
  Atomics.sub(pool, 0, bytes);
}

/** The thread ended: what it still held is given back (once). */
export function threadEnded({ pool, cell }: ThreadResults): void {
  const left = Atomics.exchange(cell, 0, ENDED);
  if (left !== ENDED) Atomics.sub(pool, 0, left);
}
