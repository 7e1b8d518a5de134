/**
 * The in-process `Client`: the interface of `@libsql/client`, served by the platform without a
 * network. Each client has one logical connection for its autocommit statements; every
 * `transaction()` gets a connection of its own, like a stream in Hrana.
 */

import { transactionClosed } from "../engine/connection-errors.js";
import type { BatchStatement, SqlConnection as Connection } from "../engine/connection-policy.js";
import type { InArgs, InStatement, IntMode, ResultSet } from "../engine/values.js";
import { TenantliteError } from "../errors.js";
import type { Client, Transaction, TransactionMode } from "./types.js";

/** Opens a new logical connection onto the client's database. */
export type ConnectionFactory = () => Connection;

/** A settled promise with no value, for a queue with nothing pending. */
const SETTLED: Promise<unknown> = Promise.resolve();

const BEGIN: Record<TransactionMode, string> = {
  write: "BEGIN IMMEDIATE",
  read: "BEGIN TRANSACTION READONLY",
  deferred: "BEGIN DEFERRED",
};

/** Normalizes the statement forms `@libsql/client` accepts. */
export function toBatchStatement(s: InStatement | [string, InArgs?]): BatchStatement {
  if (typeof s === "string") return { sql: s };
  if (Array.isArray(s)) {
    const [sql, args] = s;
    if (typeof sql !== "string") throw badStatement();
    return args === undefined ? { sql } : { sql, args };
  }
  if (s === null || typeof s !== "object" || typeof s.sql !== "string") throw badStatement();
  return s.args === undefined ? { sql: s.sql } : { sql: s.sql, args: s.args };
}

function badStatement(): TenantliteError {
  return new TenantliteError(
    "ARGS_INVALID",
    "A statement must be a SQL string, { sql, args } or [sql, args]",
  );
}

function modeToBegin(mode: unknown): string {
  if (mode === "write" || mode === "read" || mode === "deferred") return BEGIN[mode];
  throw new TenantliteError(
    "TRANSACTION_MODE_INVALID",
    `Unknown transaction mode ${JSON.stringify(String(mode))}: use "write", "read" or "deferred"`,
  );
}

/** `Client` over platform connections. */
export class PlatformClient implements Client {
  #conn: Connection | undefined;
  #isClosed = false;
  readonly protocol = "tenantlite";

  readonly #connect: ConnectionFactory;
  readonly #intMode: IntMode;

  constructor(connect: ConnectionFactory, intMode: IntMode) {
    this.#connect = connect;
    this.#intMode = intMode;
  }

  get closed(): boolean {
    return this.#isClosed;
  }

  execute(stmtOrSql: InStatement, args?: InArgs): Promise<ResultSet> {
    try {
      this.#assertOpen();
      this.#conn ??= this.#connect();
      if (typeof stmtOrSql === "string") return this.#conn.execute(stmtOrSql, args, this.#intMode);
      const s = toBatchStatement(stmtOrSql);
      return this.#conn.execute(s.sql, s.args, this.#intMode);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode: TransactionMode = "deferred",
  ): Promise<ResultSet[]> {
    return this.#run(async (c) => {
      const begin = modeToBegin(mode);
      return c.batch(stmts.map(toBatchStatement), this.#intMode, begin);
    });
  }

  migrate(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]> {
    return this.#run(async (c) => {
      const list = stmts.map(toBatchStatement);
      await c.execute("PRAGMA foreign_keys=off", undefined, this.#intMode);
      try {
        return await c.batch(list, this.#intMode, BEGIN.deferred);
      } finally {
        await c.execute("PRAGMA foreign_keys=on", undefined, this.#intMode);
      }
    });
  }

  async transaction(mode: TransactionMode = "write"): Promise<Transaction> {
    this.#assertOpen();
    const begin = modeToBegin(mode);
    const conn = this.#connect();
    try {
      await conn.execute(begin, undefined, this.#intMode);
    } catch (e) {
      conn.close();
      throw e;
    }
    return new PlatformTransaction(conn, this.#intMode);
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#run((c) => {
      if (typeof sql !== "string") throw badStatement();
      return c.executeScript(sql);
    });
  }

  async sync(): Promise<undefined> {
    return undefined;
  }

  close(): void {
    this.#isClosed = true;
    this.#conn?.close();
    this.#conn = undefined;
  }

  async reconnect(): Promise<void> {
    this.#conn?.close();
    this.#conn = undefined;
    this.#isClosed = false;
  }

  #assertOpen(): void {
    if (this.#isClosed) throw new TenantliteError("CLIENT_CLOSED", "The client is closed");
  }

  async #run<T>(f: (c: Connection) => Promise<T>): Promise<T> {
    this.#assertOpen();
    this.#conn ??= this.#connect();
    return f(this.#conn);
  }
}

/**
 * `Transaction` over one platform connection. Its operations run one after another, in the order
 * they were called; once a statement ends the transaction (a `ROLLBACK` statement, a firing
 * `OR ROLLBACK`), later ones fail with TRANSACTION_CLOSED instead of running in autocommit.
 */
export class PlatformTransaction implements Transaction {
  #done = false;
  /** The transaction ended by a statement of its own. */
  #ended = false;
  /** The last operation while any is pending; settled and empty otherwise (see `#finished`). */
  #queue: Promise<unknown> = SETTLED;
  /** Operations called and not finished yet. */
  #pending = 0;

  readonly #conn: Connection;
  readonly #intMode: IntMode;

  constructor(conn: Connection, intMode: IntMode) {
    this.#conn = conn;
    this.#intMode = intMode;
  }

  get closed(): boolean {
    return this.#done;
  }

  execute(stmtOrSql: InStatement, args?: InArgs): Promise<ResultSet> {
    return this.#run(() => {
      if (typeof stmtOrSql === "string") return this.#conn.run(stmtOrSql, args, this.#intMode);
      const s = toBatchStatement(stmtOrSql);
      return this.#conn.run(s.sql, s.args, this.#intMode);
    });
  }

  batch(stmts: Array<InStatement | [string, InArgs?]>): Promise<ResultSet[]> {
    return this.#run(() => this.#conn.batch(stmts.map(toBatchStatement), this.#intMode, undefined));
  }

  executeMultiple(sql: string): Promise<void> {
    return this.#run(() => this.#conn.executeScript(sql));
  }

  async commit(): Promise<void> {
    this.#assertOpen();
    this.#done = true;
    try {
      await this.#queue.catch(() => undefined);
      if (this.#ended) throw transactionClosed();
      await this.#conn.execute("COMMIT", undefined, this.#intMode);
    } finally {
      this.#conn.close();
    }
  }

  async rollback(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    try {
      await this.#queue.catch(() => undefined);
      if (!this.#ended) await this.#conn.execute("ROLLBACK", undefined, this.#intMode);
    } catch {
      /* nothing to roll back (e.g. SQLite already did) */
    } finally {
      this.#conn.close();
    }
  }

  close(): void {
    this.#done = true;
    this.#conn.close();
  }

  #assertOpen(): void {
    if (this.#done) throw new TenantliteError("TRANSACTION_CLOSED", "The transaction is closed");
  }

  #run<T>(f: () => T | Promise<T>): Promise<T> {
    try {
      this.#assertOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    // With no earlier operation pending, this one starts at once (each hop through the queue's
    // promise chain costs a statement ~0.1 µs); otherwise it waits for them, in order.
    const first = this.#pending === 0;
    this.#pending++;
    const op = first
      ? this.#step(f)
      : this.#queue.then(
          () => this.#step(f),
          () => this.#step(f),
        );
    // Not kept once done: a settled promise holds its value (a result, every row of it).
    this.#queue = this.#pending ? op : SETTLED;
    return op;
  }

  /** Runs `f`, then notes whether the transaction ended; one promise per statement that ran at once. */
  #step<T>(f: () => T | Promise<T>): Promise<T> {
    let result: T | Promise<T>;
    try {
      if (this.#ended) throw transactionClosed();
      result = f();
    } catch (e) {
      return Promise.reject(this.#failed(e));
    }
    if (!(result instanceof Promise)) return Promise.resolve(this.#finished(result));
    // `then` rather than an async function: one promise per statement instead of three.
    return result.then(
      (value) => this.#finished(value),
      (e: unknown) => {
        throw this.#failed(e);
      },
    );
  }

  #finished<T>(value: T): T {
    if (!--this.#pending) this.#queue = SETTLED;
    if (!this.#conn.inTransaction) this.#ended = true;
    return value;
  }

  #failed(e: unknown): unknown {
    if (!--this.#pending) this.#queue = SETTLED;
    // A timed-out transaction keeps reporting TRANSACTION_TIMEOUT (the connection says so).
    const timeout = e instanceof TenantliteError && e.code === "TRANSACTION_TIMEOUT";
    if (!timeout && !this.#conn.inTransaction) this.#ended = true;
    return e;
  }
}
