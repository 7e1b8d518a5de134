/**
 * What a logical connection (connection.ts) is given and gives: the tenant it opens, the rules the
 * platform applies through it (guard, ATTACH resolution, statement router), its timeouts, and the
 * statements of a batch.
 */
import type { ProgramEffects } from "./program.js";
import type { StatementDescription, StatementGuard, StatementInfo } from "./statement-info.js";
import type { TenantFile } from "./tenant-file.js";
import type { InArgs, IntMode, ResultSet } from "./values.js";

/** A tenant opened for use by a connection: its file, and its persistence. */
export interface OpenTenant {
  readonly name: string;
  /** The tenant's file (the same object for as long as the tenant stays open). */
  readonly file: TenantFile;
  /**
   * After a write of connection `by` ended (committed or rolled back): saves the tenant when its
   * committed state changed (`undefined` when there is nothing to wait for). Resolves when
   * durable (strict) or scheduled (relaxed); rejects when the save failed (the tenant is then
   * back at its last durable state). A tenant thread answers `undefined` for a save whose
   * outcome the platform waits for before it answers the request (threads/tenant-host.ts).
   */
  committed(by: object): Promise<void> | undefined;
  /** Ends the use that `TenantSource.open()` began (an open tenant in use is never evicted). */
  release(): void;
}

/**
 * How a connection finds its tenant (the platform opens it lazily and may evict it when idle).
 * Each `open()` pins the tenant until the matching `release()`.
 */
export interface TenantSource {
  open(): Promise<OpenTenant> | OpenTenant;
}

/** What `ATTACH` names, as the parser read it. */
export interface AttachRequest {
  /** The database name or id, unquoted. */
  readonly target: string;
  /** How it was written: `identifier` (`"acme"`, `acme`), `string` (`'acme'`) or `expression`. */
  readonly targetKind: "identifier" | "string" | "expression";
  readonly alias: string;
}

/**
 * Rules a connection applies on behalf of the platform: a guard run before every statement, the
 * resolution of ATTACH targets (catalog names, permissions) to open, pinned tenants, and a router
 * for tenants whose writes the platform applies itself.
 */
export interface ConnectionPolicy {
  /**
   * The checks for statements on a tenant (DDL on schema children, blocked writes, read-only
   * tokens, writes through attachments…), asked for before each statement so they follow the
   * tenant's current state; `attached` holds this connection's aliases, in lower case.
   */
  readonly guard?: (
    tenant: OpenTenant,
    attached: ReadonlySet<string>,
  ) => StatementGuard | undefined;
  /** Resolves an ATTACH; throws a coded refusal. The returned tenant is pinned until released. */
  readonly attach?: (self: OpenTenant, request: AttachRequest) => Promise<OpenTenant>;
  /**
   * Takes over the statements of a tenant whose writes the platform applies otherwise (a schema
   * parent's are migrations); asked before each statement; one router per connection.
   */
  readonly router?: (tenant: OpenTenant) => StatementRouter | undefined;
  /** The connection's idle transaction was rolled back by its timeout. */
  readonly expired?: () => void;
}

/** What a {@link StatementRouter} may do with the connection it routes for. */
export interface RoutedConnection {
  readonly inTransaction: boolean;
  /** Runs a statement on this connection's own SQLite connection (not routed again). */
  run(sql: string, args: InArgs | undefined, intMode: IntMode): Promise<ResultSet>;
  /** Rolls back this connection's transaction, if any. */
  rollback(): Promise<void>;
  /** The statement as the engine read it (parsed once). */
  info(sql: string): StatementInfo;
  /** What the statement's compiled program writes and restructures. */
  effects(sql: string): ProgramEffects;
  /** The result of a statement that returns nothing. */
  empty(): ResultSet;
}

/** Runs statements of a tenant the platform handles itself (see `ConnectionPolicy.router`). */
export interface StatementRouter {
  /** One statement (of `execute`, a batch joining an open transaction, or a script). */
  statement(
    conn: RoutedConnection,
    sql: string,
    args: InArgs | undefined,
    intMode: IntMode,
  ): Promise<ResultSet>;
  /** A whole script outside a transaction; resolves true when it handled it. */
  script(conn: RoutedConnection, statements: readonly string[]): Promise<boolean>;
  /** A batch in a transaction of its own; resolves with its results when it handled it. */
  batch(
    conn: RoutedConnection,
    statements: readonly BatchStatement[],
    intMode: IntMode,
  ): Promise<ResultSet[] | undefined>;
}

/** How long a statement waits for another connection's transaction, unless told otherwise. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/** Timeouts of a connection. */
export interface ConnectionOptions {
  /** How long a statement waits for another connection's transaction. Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** How long a transaction may stay idle before it is rolled back. Default 5000 ms (Turso's). */
  readonly transactionTimeoutMs?: number;
  /**
   * The largest result one statement may read, counted as its Hrana JSON roughly takes
   * (`valueSize`): past it the statement stops with `RESPONSE_TOO_LARGE` instead of reading on.
   * Default: no limit. (The server sets sqld's 10 MiB, so a huge result never sits in memory.)
   */
  readonly maxResultBytes?: number;
  /**
   * Where limited results (`maxResultBytes`) are counted while they are read and until their
   * reader gives them back: a statement that would take it past its bound stops with
   * `RESPONSE_TOO_LARGE` (sqld's `max_total_response_size`). Default: none.
   */
  readonly resultPool?: ResultPool;
}

/** Bytes of results held at once, shared by connections (and threads): see `resultPool`. */
export interface ResultPool {
  /** Takes `bytes` more, or nothing when that would pass the bound (then false). */
  claim(bytes: number): boolean;
  /** Gives back `bytes` taken by `claim`. */
  release(bytes: number): void;
}

/** One statement of a batch. */
export interface BatchStatement {
  readonly sql: string;
  readonly args?: InArgs;
}

/**
 * A logical connection as clients, Hrana streams and shells use it: the engine's own
 * (connection.ts), or one whose SQLite connection lives on a tenant thread (platform/threads).
 */
export interface SqlConnection {
  /** Whether this connection holds an open transaction. */
  readonly inTransaction: boolean;
  readonly closed: boolean;
  /**
   * The result limit of its next statements (see `ConnectionOptions.maxResultBytes`): a caller
   * that shares one limit among several statements (a Hrana batch) lowers it as they run.
   */
  maxResultBytes: number | undefined;
  /** Runs one statement. */
  execute(sql: string, args: InArgs | undefined, intMode?: IntMode): Promise<ResultSet>;
  /**
   * Runs one statement like `execute`, but answers with its result itself when it ran at once
   * (and throws what failed at once): for a caller that makes a promise of its own anyway.
   */
  run(sql: string, args: InArgs | undefined, intMode?: IntMode): ResultSet | Promise<ResultSet>;
  /**
   * Runs statements in order; with `begin` in a transaction of their own, else joining the open
   * transaction. A failure throws a `TenantliteBatchError` naming the statement.
   */
  batch(
    statements: readonly BatchStatement[],
    intMode: IntMode,
    begin: string | undefined,
  ): Promise<ResultSet[]>;
  /** Runs a script statement by statement; a failure names the statement (`statementIndex`). */
  executeScript(sql: string): Promise<void>;
  /** Describes one statement without running it. */
  describe(sql: string): Promise<StatementDescription>;
  /** Rolls back any open transaction and lets go of the tenant. */
  close(): void;
}
