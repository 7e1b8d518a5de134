/**
 * One SQLite connection's transactions: the explicit one its user opened (tracked from the
 * statements that ran, asked of SQLite when unsure) and the implicit read transaction the engine
 * opens to make consecutive reads cheap.
 */
import type { RawDatabase } from "./sqljs-types.js";
import type { KeptStatements } from "./statement-cache.js";

/** How a transaction statement that ran ended the explicit transaction, if it did. */
export type TransactionEnd = "rolled-back" | "committed-schema" | undefined;

/** A connection's transaction state (see tenant-db.ts). */
export class TransactionState {
  /** Whether an explicit transaction is open (tracked from statements, probed when unsure). */
  explicit = false;
  /** Whether the open transaction changed the file's schema (only this connection sees it yet). */
  schemaChanged = false;
  /** An implicit read transaction the engine opened to make consecutive reads cheap. */
  implicitRead = false;
  #implicitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the connection is closed: an implicit read then has nothing to commit. */
  closed = false;

  readonly #raw: RawDatabase;
  /** The implicit read's `BEGIN` and `COMMIT` are kept prepared: a server runs them per read. */
  readonly #kept: KeptStatements;

  constructor(raw: RawDatabase, kept: KeptStatements) {
    this.#raw = raw;
    this.#kept = kept;
  }

  /** Opens the implicit read transaction, unless a transaction is open or databases are attached. */
  beginImplicitRead(attached: ReadonlyMap<string, string>): void {
    if (this.implicitRead || this.explicit || attached.size > 0) return;
    this.#kept.run("BEGIN");
    this.implicitRead = true;
    this.#implicitTimer = setTimeout(() => this.endImplicitRead(), 0);
  }

  /** Ends the engine's implicit read transaction so that writes and user BEGINs run as usual. */
  endImplicitRead(): void {
    if (!this.implicitRead) return;
    this.implicitRead = false;
    clearTimeout(this.#implicitTimer);
    this.#implicitTimer = undefined;
    if (this.closed) return;
    try {
      this.#kept.run("COMMIT");
    } catch {
      /* nothing to commit */
    }
  }

  /**
   * After a transaction statement (first word `word`) ran: whether it ended the explicit
   * transaction by a rollback, or by a commit of schema changes.
   */
  afterTransactionStatement(word: string): TransactionEnd {
    const wasInTxn = this.explicit;
    const changedSchema = this.schemaChanged;
    if (word === "BEGIN") {
      this.explicit = true;
    } else if (word === "COMMIT" || word === "END") {
      this.explicit = false;
      this.schemaChanged = false;
    } else this.sync();
    if (wasInTxn && !this.explicit) {
      if (word === "ROLLBACK") return "rolled-back";
      if (changedSchema) return "committed-schema";
    }
    return undefined;
  }

  /**
   * Asks SQLite whether a transaction is open (`BEGIN` succeeds only in autocommit mode); true
   * when one was thought open and is not.
   */
  sync(): boolean {
    this.endImplicitRead();
    const before = this.explicit;
    try {
      this.#raw.exec("BEGIN");
      this.#raw.exec("ROLLBACK");
      this.explicit = false;
      this.schemaChanged = false;
    } catch {
      this.explicit = true;
    }
    return before && !this.explicit;
  }

  /** Rolls back the explicit transaction (SQLite may have rolled it back already). */
  rollback(): void {
    try {
      this.#raw.exec("ROLLBACK");
    } catch {
      /* already rolled back by SQLite */
    }
    this.explicit = false;
    this.schemaChanged = false;
  }
}
