/**
 * The bytes of large request bodies the server works on at once. A body is held several times
 * over while it is read, decoded, parsed and run (its chunks, the whole, its text, the statement
 * on a tenant thread and in SQLite): 60 requests of 15 MB sent at once took `tenantlite dev` to
 * 5 GB of RSS (measured), and a few hundred would have ended it, every tenant with it. Each body
 * over `LARGE_BODY_BYTES` first reserves its size here — the declared length, or the body limit
 * when none is declared — and waits, unread (TCP holds its client back), until the bodies being
 * worked on leave room; it holds the room until its request is answered. Reservations are
 * granted in arrival order, so a large body is never passed over for good by smaller ones; one
 * larger than the whole budget goes alone.
 */

/** Bodies up to this size are not counted (nearly every request: a statement or a batch). */
export const LARGE_BODY_BYTES = 64 * 1024;

/** A reservation: `ready` once granted (or once released while waiting); release it once done. */
export interface BodyReservation {
  readonly ready: Promise<void>;
  /** Gives the room back, or leaves the queue; once (later calls do nothing). */
  release(): void;
}

interface Waiting {
  readonly bytes: number;
  readonly go: () => void;
}

export class BodyBudget {
  #used = 0;
  readonly #queue: Waiting[] = [];

  constructor(readonly maxBytes: number) {}

  /** Bytes reserved now (for tests). */
  get used(): number {
    return this.#used;
  }

  /** Bodies waiting for room now (for tests). */
  get waiting(): number {
    return this.#queue.length;
  }

  reserve(bytes: number): BodyReservation {
    let state: "waiting" | "held" | "done" = "waiting";
    let go: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      go = resolve;
    });
    const entry: Waiting = {
      bytes,
      go: () => {
        state = "held";
        this.#used += bytes;
        go();
      },
    };
    this.#queue.push(entry);
    this.#pump();
    return {
      ready,
      release: () => {
        if (state === "held") this.#used -= bytes;
        else if (state === "waiting") {
          this.#queue.splice(this.#queue.indexOf(entry), 1);
          go(); // (its request goes on to find its client gone)
        }
        if (state !== "done") {
          state = "done";
          this.#pump();
        }
      },
    };
  }

  /** Grants the reservations at the head of the queue that fit. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const next = this.#queue[0]!;
      if (this.#used > 0 && this.#used + next.bytes > this.maxBytes) return;
      this.#queue.shift();
      next.go();
    }
  }
}
