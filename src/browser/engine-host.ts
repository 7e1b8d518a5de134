/**
 * Serves engine requests (see rpc.ts) from one Platform: the origin's single engine, whether it
 * runs in a worker or in the leader tab's page. Clients are opened on first sight of their key;
 * interactive transactions get ids, so every later statement reaches the same connection.
 */
import type { SqlConnection as Connection } from "../engine/connection-policy.js";
import { TenantliteError } from "../errors.js";
import { PlatformClient } from "../platform/client.js";
import type { Platform } from "../platform/platform.js";
import type { Client, Transaction } from "../platform/types.js";
import {
  type ClientRef,
  type EngineAnswer,
  type EngineEvent,
  type EngineRequest,
  encodeError,
  encodeResultSet,
  PLATFORM_METHODS,
} from "./rpc.js";

const CONN_METHODS = new Set(["execute", "batch", "executeScript", "describe", "close"]);
const CLIENT_METHODS = new Set(["execute", "batch", "migrate", "executeMultiple"]);
const TX_METHODS = new Set(["execute", "batch", "executeMultiple", "commit", "rollback", "close"]);
const PLATFORM = new Set<string>(PLATFORM_METHODS);

/** Refuses a call of a method not in `methods`, or without an array of arguments. */
function checkCall(methods: ReadonlySet<string>, r: { method: string; args: unknown }): void {
  if (!methods.has(r.method) || !Array.isArray(r.args)) throw badRequest();
}

/** Answers requests on one Platform. */
export class EngineHost {
  /** Clients by key, with the autocommit connection each one opened (to report its state). */
  readonly #clients = new Map<string, { client: Client; own: { conn?: Connection } }>();
  readonly #connections = new Map<string, Connection>();
  readonly #transactions = new Map<string, { tx: Transaction; client: string }>();
  /** Completion of the migrations started here, by `<schema>/<jobId>`. */
  readonly #jobs = new Map<string, Promise<void>>();
  #nextTx = 1;
  readonly #unsubscribe: () => void;

  /** `emit` receives what every tab should hear (migration progress). */
  readonly #platform: Platform;
  constructor(platform: Platform, emit: (event: EngineEvent) => void) {
    this.#platform = platform;
    this.#unsubscribe = platform.onMigrationProgress((progress) =>
      emit({ kind: "migrationProgress", progress }),
    );
  }

  /** Runs one request; never throws (errors come back coded). */
  async handle(request: EngineRequest): Promise<EngineAnswer> {
    try {
      return { ok: true, value: await this.#run(request) };
    } catch (e) {
      return { ok: false, error: encodeError(e) };
    }
  }

  async #run(r: EngineRequest): Promise<unknown> {
    if (r === null || typeof r !== "object") throw badRequest();
    switch (r.op) {
      case "platform": {
        checkCall(PLATFORM, r);
        const method = this.#platform[r.method] as (...a: unknown[]) => Promise<unknown>;
        return method.apply(this.#platform, r.args);
      }
      case "client": {
        checkCall(CLIENT_METHODS, r);
        const { client, own } = this.#client(r.client);
        const method = client[r.method] as (...a: unknown[]) => Promise<unknown>;
        const value = encodeValue(await method.apply(client, r.args));
        // A BEGIN sent through execute() leaves the client's connection in a transaction: the
        // tab then keeps the client on this engine (see RemoteClient).
        return { value, inTransaction: own.conn?.inTransaction ?? false };
      }
      case "migrate": {
        if (typeof r.schema !== "string" || !Array.isArray(r.statements)) throw badRequest();
        const started = await this.#platform.migrate(
          r.schema,
          r.statements as Parameters<Platform["migrate"]>[1],
          { wait: r.wait === true },
        );
        const key = `${r.schema}/${started.jobId}`;
        this.#jobs.set(key, started.done);
        started.done.then(
          () => this.#jobs.delete(key),
          () => setTimeout(() => this.#jobs.delete(key), 60_000),
        );
        return { jobId: started.jobId, results: encodeValue(started.results) };
      }
      case "migrationDone": {
        const done = this.#jobs.get(`${r.schema}/${r.jobId}`);
        if (done !== undefined) return done;
        // Started by an earlier engine, or finished: its recorded status tells.
        return this.#waitForJob(r.schema, r.jobId);
      }
      case "conn": {
        checkCall(CONN_METHODS, r);
        const ref = r.conn;
        if (ref === null || typeof ref !== "object" || typeof ref.key !== "string")
          throw badRequest();
        if (r.method === "close") {
          this.#connections.get(ref.key)?.close();
          this.#connections.delete(ref.key);
          return { value: undefined, inTransaction: false };
        }
        let conn = this.#connections.get(ref.key);
        if (conn === undefined) {
          const { encryptionKey, authToken } = ref.options ?? {};
          conn = this.#platform.connect(ref.name, {
            ...(encryptionKey === undefined ? {} : { encryptionKey }),
            ...(authToken === undefined ? {} : { authToken }),
          });
          this.#connections.set(ref.key, conn);
        }
        const method = conn[r.method] as (...a: unknown[]) => Promise<unknown>;
        const value = encodeValue(await method.apply(conn, r.args));
        return { value, inTransaction: conn.inTransaction };
      }
      case "closeClient": {
        this.#clients.get(r.key)?.client.close();
        this.#clients.delete(r.key);
        return undefined;
      }
      case "begin": {
        const ref = this.#checkRef(r.client);
        // A client of its own: the keyed client's autocommit connection stays the only one it has.
        const tx = await this.#platform.client(ref.name, ref.options ?? {}).transaction(r.mode);
        const id = `tx${this.#nextTx++}`;
        this.#transactions.set(id, { tx, client: r.client.key });
        return id;
      }
      case "tx": {
        checkCall(TX_METHODS, r);
        const tx = this.#transactions.get(r.tx)?.tx;
        if (tx === undefined) {
          if (r.method === "rollback" || r.method === "close") return undefined;
          throw new TenantliteError(
            "TRANSACTION_CLOSED",
            "The transaction is closed (committed, rolled back, or unknown to this engine)",
          );
        }
        if (r.method === "commit" || r.method === "rollback" || r.method === "close") {
          this.#transactions.delete(r.tx);
        }
        const method = tx[r.method] as (...a: unknown[]) => unknown;
        return encodeValue(await method.apply(tx, r.args));
      }
      default:
        throw badRequest();
    }
  }

  async #waitForJob(schema: string, jobId: number): Promise<void> {
    for (;;) {
      const job = await this.#platform.getMigration(schema, jobId);
      if (job.status === "RunSuccess") return;
      if (job.status === "RunFailure" || job.status === "DryRunFailure") {
        throw new TenantliteError(
          "MIGRATION_FAILED",
          `Migration job ${jobId} on "${schema}" ended with ${job.status}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #checkRef(ref: ClientRef): ClientRef {
    if (ref === null || typeof ref !== "object" || typeof ref.key !== "string") throw badRequest();
    return ref;
  }

  #client(ref: ClientRef): { client: Client; own: { conn?: Connection } } {
    this.#checkRef(ref);
    let entry = this.#clients.get(ref.key);
    if (entry === undefined) {
      const options = ref.options ?? {};
      // Checks the name and options exactly as the in-process platform does.
      this.#platform.client(ref.name, options);
      const { encryptionKey, authToken } = options;
      const own: { conn?: Connection } = {};
      const client = new PlatformClient(() => {
        own.conn = this.#platform.connect(ref.name, {
          ...(encryptionKey === undefined ? {} : { encryptionKey }),
          ...(authToken === undefined ? {} : { authToken }),
        });
        return own.conn;
      }, options.intMode ?? "number");
      entry = { client, own };
      this.#clients.set(ref.key, entry);
    }
    return entry;
  }

  /** A tab left: rolls back its transactions and closes its clients (keys start `<tab>/`). */
  dropTab(tabId: string): void {
    const prefix = `${tabId}/`;
    for (const [id, t] of this.#transactions) {
      if (!t.client.startsWith(prefix)) continue;
      this.#transactions.delete(id);
      void t.tx.rollback().catch(() => undefined);
    }
    for (const [key, c] of this.#clients) {
      if (!key.startsWith(prefix)) continue;
      this.#clients.delete(key);
      c.client.close();
    }
    for (const [key, c] of this.#connections) {
      if (!key.startsWith(prefix)) continue;
      this.#connections.delete(key);
      c.close();
    }
  }

  #markClosed!: () => void;
  /** Settles once {@link close} finished (the engine lock is held until then). */
  readonly closed = new Promise<void>((resolve) => {
    this.#markClosed = resolve;
  });

  /** Closes every client and transaction, then the platform. */
  async close(): Promise<void> {
    try {
      await this.#close();
    } finally {
      this.#markClosed();
    }
  }

  async #close(): Promise<void> {
    this.#unsubscribe();
    for (const t of this.#transactions.values()) await t.tx.rollback().catch(() => undefined);
    for (const c of this.#clients.values()) c.client.close();
    for (const c of this.#connections.values()) c.close();
    this.#connections.clear();
    this.#transactions.clear();
    this.#clients.clear();
    await this.#platform.close();
  }
}

function encodeValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => encodeValue(x));
  if (v !== null && typeof v === "object" && "rows" in v && "columns" in v) {
    return encodeResultSet(v as Parameters<typeof encodeResultSet>[0]);
  }
  return v;
}

function badRequest(): TenantliteError {
  return new TenantliteError("ARGS_INVALID", "Malformed engine request");
}
