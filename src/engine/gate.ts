/**
 * Exclusive access to one tenant for the length of a transaction. Statements outside
 * transactions pass through between transactions; a waiter gives up after its timeout with a
 * coded SQLITE_BUSY error — never a hang.
 */
import { TenantliteError } from "../errors.js";

interface Waiter {
  readonly owner: object;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A FIFO mutex whose owner is a logical connection. */
export class TenantGate {
  #owner: object | undefined;
  readonly #waiters: Waiter[] = [];

  readonly #name: string;

  constructor(name: string) {
    this.#name = name;
  }

  /** The connection holding the tenant, if any. */
  get holder(): object | undefined {
    return this.#owner;
  }

  /** Whether anybody holds or waits for the tenant. */
  get busy(): boolean {
    return this.#owner !== undefined || this.#waiters.length > 0;
  }

  /** Takes the tenant for `owner`; resolves at once when free or already held by `owner`. */
  enter(owner: object, timeoutMs: number): Promise<void> | undefined {
    if (this.#owner === owner) return undefined;
    if (this.#owner === undefined && this.#waiters.length === 0) {
      this.#owner = owner;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { owner, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(
          new TenantliteError(
            "SQLITE_BUSY",
            `database is locked: another connection holds a transaction on "${this.#name}" (waited ${timeoutMs} ms)`,
            { rawCode: 5 },
          ),
        );
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /**
   * Runs `work` holding the tenant for a platform task (persisting, exporting, swapping an image),
   * so it falls between connections' transactions; releases it afterwards whatever happens.
   */
  async hold<T>(work: () => T | Promise<T>, timeoutMs = 60_000): Promise<T> {
    const token = {};
    const wait = this.enter(token, timeoutMs);
    if (wait !== undefined) await wait;
    try {
      return await work();
    } finally {
      this.leave(token);
    }
  }

  /** Releases the tenant if `owner` holds it and hands it to the next waiter. */
  leave(owner: object): void {
    if (this.#owner !== owner) return;
    this.#owner = undefined;
    const next = this.#waiters.shift();
    if (next !== undefined) {
      clearTimeout(next.timer);
      this.#owner = next.owner;
      next.resolve();
    }
  }
}
