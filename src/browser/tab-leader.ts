/**
 * One engine per origin, shared by its tabs. Every tab queues on an exclusive Web Lock; the tab
 * holding it is the leader: it starts the engine (a worker, or its own page) and serves the
 * others' requests, relayed over a BroadcastChannel. When the leader's tab closes, its lock goes
 * to the next tab in the queue, which opens the engine again from IndexedDB (committed data
 * only). A request is addressed to one leader: if another one takes over before it is answered,
 * it fails with LEADER_CHANGED (it may have run; it is never sent twice). A leader whose engine
 * worker fails starts another and announces it as a new leader (see `#engineFailed`).
 */
import { TenantliteError } from "../errors.js";
import type { EngineHost } from "./engine-host.js";
import { type EngineInit, openEngine } from "./open-engine.js";
import {
  decodeError,
  type EngineAnswer,
  type EngineEvent,
  type EngineRequest,
  encodeError,
  engineFailed,
  engineUnavailable,
  leaderChanged,
  notSendable,
  type WireError,
} from "./rpc.js";

/** Where the leader runs the engine. */
export interface EngineLink {
  call(body: EngineRequest): Promise<EngineAnswer>;
  /** A tab went away: drop its clients and roll back its transactions. */
  dropTab(tabId: string): void;
  close(): Promise<void>;
}

/**
 * The engine in a dedicated worker (built from engine-worker.ts). A worker that fails (an
 * uncaught error in it, or an engine that could not open) is ended, what was in flight fails with
 * ENGINE_UNAVAILABLE, and `onFailed` is told, so that the leader can start another.
 */
export class WorkerEngine implements EngineLink {
  readonly #worker: Worker;
  readonly #pending = new Map<number, (a: EngineAnswer) => void>();
  #next = 1;
  #failed: WireError | undefined;
  #closing = false;
  /** The engine in the worker opened (a failure after that is not a failure to start). */
  #ready = false;

  constructor(
    url: string,
    init: EngineInit,
    onEvent: (event: EngineEvent) => void,
    private readonly onFailed: () => void = () => undefined,
  ) {
    this.#worker = new Worker(url, { name: "tenantlite-engine" });
    this.#worker.onmessage = (e: MessageEvent) => {
      const m = e.data as
        | { type: "res"; id: number; answer: EngineAnswer }
        | { type: "failed"; error: WireError }
        | { type: "event"; event: EngineEvent }
        | { type: "ready" };
      if (m.type === "res") {
        const done = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        done?.(m.answer);
      } else if (m.type === "event") {
        onEvent(m.event);
      } else if (m.type === "ready") {
        this.#ready = true;
      } else if (m.type === "failed") {
        this.#broken(m.error);
      }
    };
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#broken(encodeError(this.#ready ? engineFailed() : engineUnavailable()));
    };
    this.#worker.postMessage(init);
  }

  call(body: EngineRequest): Promise<EngineAnswer> {
    return new Promise((resolve) => {
      if (this.#failed !== undefined) return resolve({ ok: false, error: this.#failed });
      const id = this.#next++;
      this.#pending.set(id, resolve);
      try {
        this.#worker.postMessage({ type: "req", id, body });
      } catch (e) {
        this.#pending.delete(id);
        resolve({ ok: false, error: encodeError(notSendable(e)) });
      }
    });
  }

  dropTab(tabId: string): void {
    this.#worker.postMessage({ type: "dropTab", tabId });
  }

  /** Closes the engine (its saves finish), at most 2 s, then ends the worker. */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#failed === undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.#worker.addEventListener("message", (e: MessageEvent) => {
          if ((e.data as { type?: string })?.type === "closed") {
            clearTimeout(timer);
            resolve();
          }
        });
        this.#worker.postMessage({ type: "close" });
      });
    }
    this.#worker.terminate();
    this.#fail(encodeError(engineUnavailable()));
  }

  #fail(error: WireError): void {
    this.#failed ??= error;
    for (const done of this.#pending.values()) done({ ok: false, error });
    this.#pending.clear();
  }

  /**
   * The worker failed: it is ended first (its engine lock and IndexedDB connection go with it, so
   * a successor never runs beside it), then the leader hears of it.
   */
  #broken(error: WireError): void {
    if (this.#failed !== undefined || this.#closing) return;
    this.#worker.terminate();
    this.#fail(error);
    this.onFailed();
  }
}

/** The engine on the leader tab's own thread (the in-page mode). */
export class PageEngine implements EngineLink {
  readonly #host: Promise<EngineHost>;

  constructor(init: EngineInit, onEvent: (event: EngineEvent) => void) {
    this.#host = openEngine(init, onEvent);
    this.#host.catch(() => undefined);
  }

  async call(body: EngineRequest): Promise<EngineAnswer> {
    let host: EngineHost;
    try {
      host = await this.#host;
    } catch (e) {
      return { ok: false, error: encodeError(engineUnavailable(e)) };
    }
    return host.handle(body);
  }

  dropTab(tabId: string): void {
    void this.#host.then((h) => h.dropTab(tabId)).catch(() => undefined);
  }

  async close(): Promise<void> {
    const host = await this.#host.catch(() => undefined);
    await host?.close();
  }
}

type Message =
  | { readonly t: "who" }
  /** `since`: when that tab took the lock; a later leader has a larger one. */
  | { readonly t: "leader"; readonly tab: string; readonly since: number }
  | { readonly t: "bye"; readonly tab: string }
  | { readonly t: "event"; readonly event: EngineEvent }
  | {
      readonly t: "req";
      readonly to: string;
      /** The `since` of the leader it is sent to: which of that tab's engines. */
      readonly since: number;
      readonly from: string;
      readonly id: number;
      readonly body: EngineRequest;
    }
  | { readonly t: "res"; readonly to: string; readonly id: number; readonly answer: EngineAnswer };

/** How many times within RESTART_WINDOW_MS a leader starts a new engine after one failed. */
const RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;

/** A leader as a transaction is pinned to it: the tab and which of its engines (`since`). */
function leaderKey(tab: string, since: number): string {
  return `${tab}@${since}`;
}

interface Pending {
  /** `leaderKey` of the engine it was sent to. */
  readonly leader: string;
  resolve(a: EngineAnswer): void;
  reject(e: unknown): void;
}

/** This tab's link to the origin's engine, wherever it runs. */
export class TabLeader {
  /** This tab's id (client keys start with it). */
  readonly tabId: string = crypto.randomUUID();
  #leader: string | undefined;
  /** When the known leader took the lock (messages from different tabs may arrive out of order). */
  #since = Number.NEGATIVE_INFINITY;
  #engine: EngineLink | undefined;
  #channel: BroadcastChannel | undefined;
  readonly #pending = new Map<number, Pending>();
  #waiting: (() => void)[] = [];
  #next = 1;
  #release: (() => void) | undefined;
  #closed = false;
  /** When this tab's engines failed lately (at most RESTARTS within RESTART_WINDOW_MS). */
  readonly #restarts: number[] = [];
  readonly #listeners = new Set<(event: EngineEvent) => void>();
  readonly #onPageHide = () => this.#channel?.postMessage({ t: "bye", tab: this.tabId });

  constructor(
    private readonly name: string,
    private readonly startEngine: (
      onEvent: (event: EngineEvent) => void,
      onFailed: () => void,
    ) => EngineLink,
  ) {}

  /** Listens to the engine's events (from whichever tab leads); returns the unsubscribe function. */
  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #deliver(event: EngineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  /** Joins the origin's tabs; resolves once a leader (maybe this tab) is known. */
  async start(): Promise<void> {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (locks === undefined || typeof BroadcastChannel === "undefined") {
      // No way to coordinate: this tab runs its own engine (one tab per origin is then on the app).
      this.#lead();
      return;
    }
    const channel = new BroadcastChannel(`tenantlite:${this.name}`);
    this.#channel = channel;
    channel.onmessage = (e: MessageEvent) => this.#onMessage(e.data as Message);
    addEventListener("pagehide", this.#onPageHide);
    void locks.request(`tenantlite:${this.name}:leader`, { mode: "exclusive" }, () => {
      if (this.#closed) return undefined;
      this.#lead();
      channel.postMessage(this.#announcement());
      return new Promise<void>((resolve) => {
        this.#release = resolve;
      });
    });
    channel.postMessage({ t: "who" } satisfies Message);
    await this.#leaderKnown();
  }

  /** Whether this tab hosts the engine now. */
  get isLeader(): boolean {
    return this.#leader === this.tabId;
  }

  /** The leading tab's id, once known. */
  get leader(): string | undefined {
    return this.#leader;
  }

  /**
   * Sends one request to the engine and returns its value and the leader that answered. With
   * `pinned`, only that leader may serve it (a transaction lives in one engine).
   */
  async call(body: EngineRequest, pinned?: string): Promise<{ value: unknown; leader: string }> {
    if (this.#closed) throw new TenantliteError("CLIENT_CLOSED", "The platform is closed");
    await this.#leaderKnown();
    const leader = this.#leader!;
    const since = this.#since;
    const key = leaderKey(leader, since);
    if (pinned !== undefined && pinned !== key) throw leaderChanged();
    let answer: EngineAnswer;
    if (leader === this.tabId) {
      answer = await this.#engine!.call(body);
    } else {
      answer = await new Promise<EngineAnswer>((resolve, reject) => {
        const id = this.#next++;
        this.#pending.set(id, { leader: key, resolve, reject });
        try {
          this.#channel!.postMessage({ t: "req", to: leader, since, from: this.tabId, id, body });
        } catch (e) {
          this.#pending.delete(id);
          reject(notSendable(e));
        }
      });
    }
    if (!answer.ok) throw decodeError(answer.error);
    return { value: answer.value, leader: key };
  }

  /** Leaves: gives up leadership (the next tab takes over) and fails what is in flight. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    removeEventListener("pagehide", this.#onPageHide);
    this.#onPageHide();
    const closing = new TenantliteError("CLIENT_CLOSED", "The platform is closed");
    for (const p of this.#pending.values()) p.reject(closing);
    this.#pending.clear();
    await this.#engine?.close();
    this.#engine = undefined;
    this.#channel?.close();
    this.#release?.();
  }

  #lead(): void {
    const engine = this.startEngine(
      (event) => {
        if (this.#closed) return;
        this.#deliver(event);
        this.#channel?.postMessage({ t: "event", event } satisfies Message);
      },
      () => this.#engineFailed(engine),
    );
    this.#engine = engine;
    this.#setLeader(this.tabId, performance.timeOrigin + performance.now());
  }

  /**
   * This tab's engine failed (its worker died): the tab starts another one and announces it as a
   * new leader, so that every tab's requests in flight and transactions fail with LEADER_CHANGED,
   * as when a leader tab closes, and the next ones reach the new engine, which opens from
   * IndexedDB what was acknowledged. An engine that keeps failing (e.g. a worker URL that does not
   * load) is given up on: requests then fail with ENGINE_UNAVAILABLE.
   */
  #engineFailed(engine: EngineLink): void {
    if (this.#closed || engine !== this.#engine) return;
    const now = performance.now();
    while (this.#restarts.length > 0 && now - this.#restarts[0]! > RESTART_WINDOW_MS) {
      this.#restarts.shift();
    }
    if (this.#restarts.length >= RESTARTS) return;
    this.#restarts.push(now);
    this.#lead();
    this.#channel?.postMessage(this.#announcement());
  }

  #announcement(): Message {
    return { t: "leader", tab: this.tabId, since: this.#since };
  }

  #leaderKnown(): Promise<void> {
    if (this.#leader !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #setLeader(tab: string, since: number): void {
    // A stale announcement (an old leader answering "who" just before it closed) is ignored. The
    // same tab with a later `since` runs a new engine (the old one failed).
    if (since < this.#since || (tab === this.#leader && since === this.#since)) return;
    this.#leader = tab;
    this.#since = since;
    const key = leaderKey(tab, since);
    for (const [id, p] of this.#pending) {
      if (p.leader !== key) {
        this.#pending.delete(id);
        p.reject(leaderChanged());
      }
    }
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
  }

  #onMessage(m: Message): void {
    if (this.#closed || m === null || typeof m !== "object") return;
    switch (m.t) {
      case "who":
        if (this.isLeader) this.#channel?.postMessage(this.#announcement());
        return;
      case "leader":
        if (typeof m.tab === "string" && typeof m.since === "number") {
          this.#setLeader(m.tab, m.since);
        }
        return;
      case "event":
        if (m.event !== null && typeof m.event === "object") this.#deliver(m.event);
        return;
      case "bye":
        if (this.isLeader && typeof m.tab === "string") this.#engine?.dropTab(m.tab);
        return;
      case "req": {
        if (m.to !== this.tabId || this.#engine === undefined) return;
        const from = m.from;
        const id = m.id;
        const reply = (a: EngineAnswer) =>
          this.#channel?.postMessage({ t: "res", to: from, id, answer: a } satisfies Message);
        if (m.since !== this.#since) {
          // Sent to an engine of this tab that has failed since: this one never saw its state.
          reply({ ok: false, error: encodeError(leaderChanged()) });
          return;
        }
        void this.#engine.call(m.body).then((answer) => {
          try {
            reply(answer);
          } catch (e) {
            reply({ ok: false, error: encodeError(e) });
          }
        });
        return;
      }
      case "res": {
        if (m.to !== this.tabId) return;
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        p?.resolve(m.answer);
        return;
      }
    }
  }
}
