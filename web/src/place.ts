/**
 * Where the console's databases live: the server that serves it (Platform API + Hrana, see
 * server-place.ts) or this browser (IndexedDB, through the library's createBrowserPlatform: the
 * engine runs in a worker of the origin's leader tab, shared by every console tab). The console
 * talks to either through this one shape.
 */
import type {
  BrowserPlatform,
  DatabaseInfo,
  MigrationJob,
  RemoteConnection,
  Value,
} from "tenantlite/browser";
import { everyDatabase } from "./list.js";
import { isScratch } from "./preview.js";

/** A database as the console shows it, whichever place it lives in. */
export interface DbRow {
  readonly id: string;
  readonly name: string;
  readonly group: string;
  readonly type: "regular" | "schema" | "child";
  readonly parent: string | null;
  readonly allowAttach: boolean;
  readonly deleteProtection: boolean;
  /** ISO time; the Platform API does not report it. */
  readonly createdAt?: string;
}

/** Rows of one statement (the part of a ResultSet the console reads). */
export interface Rows {
  readonly columns: string[];
  readonly columnTypes: string[];
  readonly rows: ArrayLike<Value>[];
  readonly rowsAffected: number;
}

/** One connection to a database: statements run in order, ATTACH lasts between them. */
export interface Session {
  execute(sql: string): Promise<Rows>;
}

/** A migration job: its state and each child's. `children` is how many it covers. */
export interface JobView {
  readonly job_id: number;
  readonly status: string;
  readonly error?: string;
  readonly progress: readonly { namespace: string; status: string; error: string | null }[];
  readonly children: number;
  readonly done: number;
}

/** What `createDatabase` takes. */
export interface NewDatabase {
  readonly type: "regular" | "schema" | "child";
  readonly group?: string;
  readonly parent?: string;
  readonly allowAttach: boolean;
}

/** An error the console shows as `code: message`. */
export class ConsoleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A place's databases and groups, and how to work on them. */
export interface Place {
  readonly kind: "server" | "browser";
  readonly defaultGroup: string;
  databases(): Promise<DbRow[]>;
  groups(): Promise<string[]>;
  createDatabase(name: string, opts: NewDatabase): Promise<void>;
  importDatabase(name: string, bytes: Uint8Array): Promise<void>;
  deleteDatabase(name: string): Promise<void>;
  createGroup(name: string): Promise<void>;
  /** Deletes the group with its databases. */
  deleteGroup(name: string): Promise<void>;
  setAllowAttach(name: string, allow: boolean): Promise<void>;
  exportDatabase(name: string): Promise<Uint8Array>;
  /** The page's connection to `name` (kept until `forget`). */
  session(name: string): Session;
  forget(name: string): void;
  /** Applies a migration to schema parent `name` and its children; `onJob` sees it progress. */
  migrate(name: string, statements: string[], onJob: (job: JobView) => void): Promise<JobView>;
}

function dbRow(d: DatabaseInfo): DbRow {
  return {
    id: d.id,
    name: d.name,
    group: d.group,
    type: d.type,
    parent: d.parent,
    allowAttach: d.config.allow_attach,
    deleteProtection: d.config.delete_protection,
    createdAt: d.createdAt,
  };
}

function jobView(job: MigrationJob): JobView {
  return { ...job, progress: job.progress };
}

/** The browser's own tenants: the origin's engine (createBrowserPlatform) on IndexedDB. */
export class BrowserPlace implements Place {
  readonly kind = "browser";
  private readonly connections = new Map<string, RemoteConnection>();

  /**
   * Called when a database's connection was found closed by a leader change (its ATTACHes and
   * open transaction went with the old engine), before a new one is opened.
   */
  onLost: ((db: string) => void) | undefined;

  constructor(readonly platform: BrowserPlatform) {}

  /** The engine's default group: the library's, as the console never sets one. */
  readonly defaultGroup = "default";

  async databases(): Promise<DbRow[]> {
    // A migration preview's scratch copy (preview.ts) lives only while the preview runs.
    return (await everyDatabase(this.platform)).filter((d) => !isScratch(d.name)).map(dbRow);
  }

  async groups(): Promise<string[]> {
    return (await this.platform.listGroups()).map((g) => g.name);
  }

  async createDatabase(name: string, o: NewDatabase): Promise<void> {
    const config = { allow_attach: o.allowAttach };
    if (o.type === "child") {
      if (!o.parent) throw new ConsoleError("PARENT_MISSING", "Create a schema parent first");
      await this.platform.createDatabase(name, { schema: o.parent, config });
    } else {
      await this.platform.createDatabase(name, {
        type: o.type,
        config,
        ...(o.group ? { group: o.group } : {}),
      });
    }
  }

  async importDatabase(name: string, bytes: Uint8Array): Promise<void> {
    await this.platform.createDatabase(name, { fromBytes: bytes });
  }

  async deleteDatabase(name: string): Promise<void> {
    this.forget(name);
    await this.platform.deleteDatabase(name);
  }

  async createGroup(name: string): Promise<void> {
    await this.platform.createGroup(name);
  }

  async deleteGroup(name: string): Promise<void> {
    for (const d of await this.databases()) if (d.group === name) this.forget(d.name);
    await this.platform.deleteGroup(name, { cascade: true });
  }

  async setAllowAttach(name: string, allow: boolean): Promise<void> {
    await this.platform.updateConfig(name, { allow_attach: allow });
  }

  exportDatabase(name: string): Promise<Uint8Array> {
    return this.platform.exportDatabase(name);
  }

  /**
   * A logical connection in the engine (ATTACH and an open BEGIN last between statements). After
   * another tab took over the engine it is closed (its state went with the old engine): the next
   * call opens a new one.
   */
  connection(name: string): RemoteConnection {
    let conn = this.connections.get(name);
    if (conn?.closed) this.onLost?.(name);
    if (conn === undefined || conn.closed) {
      conn = this.platform.connect(name);
      this.connections.set(name, conn);
    }
    return conn;
  }

  session(name: string): Session {
    const conn = this.connection(name);
    return { execute: (sql) => conn.execute(sql, undefined, "bigint") };
  }

  forget(name: string): void {
    this.connections.get(name)?.close();
    this.connections.delete(name);
  }

  async migrate(
    name: string,
    statements: string[],
    onJob: (job: JobView) => void,
  ): Promise<JobView> {
    const started = await this.platform.migrate(name, statements, { wait: false });
    const id = started.jobId;
    const timer = setInterval(() => {
      this.platform.getMigration(name, id).then(
        (j) => onJob(jobView(j)),
        () => undefined,
      );
    }, 120);
    try {
      await started.done.catch(() => undefined);
    } finally {
      clearInterval(timer);
    }
    return jobView(await this.platform.getMigration(name, id));
  }
}
