/**
 * Cooperative pacing for long loops over statements (a script, a batch, a pipeline): every
 * {@link SLICE_MS} of work the loop gives the event loop a turn, so that one client's
 * 200,000-statement script or 10,000-step batch does not hold up every other tenant's requests
 * until it ends. A loop shorter than a slice never yields, so small requests cost nothing more.
 * A single statement still runs to its end: sql.js cannot be interrupted.
 *
 * @example
 * const pace = new Pace();
 * for (const s of statements) {
 *   await pace.turn();
 *   run(s);
 * }
 */
export class Pace {
  #last = performance.now();

  /** Resolves at once, or after a turn of the event loop when this loop has run a whole slice. */
  turn(): Promise<void> | undefined {
    const now = performance.now();
    if (now - this.#last < SLICE_MS) return undefined;
    return nextTask().then(() => {
      this.#last = performance.now();
    });
  }
}

/** Work between turns of the event loop in a long loop (ms). */
export const SLICE_MS = 10;

/**
 * A promise that resolves in a later task, once pending I/O callbacks and timers have run
 * (`setTimeout(0)`: in Node after the poll phase, where other requests arrive; measured better
 * for other clients' latency than a `MessageChannel` message, which costs a channel per turn).
 */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
