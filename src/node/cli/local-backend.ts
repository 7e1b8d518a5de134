/**
 * Local mode: the commands run on a data directory through the library (no server needed).
 * Tokens are minted with the same key pair a server on that directory uses, so they work there.
 */
import { TenantliteError } from "../../errors.js";
import { TokenAuthority } from "../../platform/auth/jwt.js";
import type { Platform } from "../../platform/platform.js";
import type {
  AccessPolicy,
  DatabaseConfig,
  DatabaseInfo,
  DatabaseRef,
  GroupInfo,
} from "../../platform/types.js";
import { createPlatform } from "../create-platform.js";
import { FsStorage } from "../fs-storage.js";
import type {
  Backend,
  CreateDbOptions,
  DbView,
  GroupView,
  JobDetail,
  JobSummary,
  ProgressSink,
  SessionOptions,
  SqlSession,
  TokenOptions,
} from "./backend.js";
import type { DataDir } from "./data-dir.js";
import type { Cell, Rows } from "./output.js";

/** The local backend on `dataDir`. */
export class LocalBackend implements Backend {
  readonly mode = "local" as const;
  private tokens: TokenAuthority | undefined;

  private constructor(
    private readonly platform: Platform,
    private readonly storage: FsStorage,
  ) {}

  /**
   * Opens (creating if needed) and locks the data directory; another CLI command holding it is
   * waited for (commands are short). See `openDataDir` for what a `STORAGE_LOCKED` leads to.
   */
  static async open(dataDir: DataDir): Promise<LocalBackend> {
    const storage = await FsStorage.open(dataDir.path, {
      lockLabel: "tenantlite",
      lockWaitMs: 15_000,
      describedAs: dataDir.what,
    });
    try {
      return new LocalBackend(await createPlatform({ storage }), storage);
    } catch (e) {
      await storage.close();
      throw e;
    }
  }

  async createDatabase(name: string, o: CreateDbOptions): Promise<DbView> {
    const info = await this.platform.createDatabase(name, {
      ...(o.group === undefined ? {} : { group: o.group }),
      ...(o.schemaParent ? { type: "schema" as const } : {}),
      ...(o.schema === undefined ? {} : { schema: o.schema }),
      ...(o.fromDb === undefined ? {} : { fromDatabase: o.fromDb }),
      ...(o.fromFile === undefined ? {} : { fromBytes: o.fromFile }),
      ...(o.encryptionKey === undefined ? {} : { encryption: { key: o.encryptionKey } }),
    });
    return dbView(info);
  }

  async listDatabases(o: { group?: string; schema?: string }): Promise<DbView[]> {
    const out: DbView[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.platform.listDatabases({
        limit: 1000,
        ...(o.group === undefined ? {} : { group: o.group }),
        ...(o.schema === undefined ? {} : { schema: o.schema }),
        ...(after === undefined ? {} : { after }),
      });
      out.push(...page.map(dbView));
      if (page.length < 1000) return out;
      after = page[page.length - 1]!.name;
    }
  }

  async getDatabase(name: string): Promise<DbView> {
    return dbView(await this.platform.getDatabase(name));
  }

  async deleteDatabase(name: string): Promise<void> {
    await this.platform.deleteDatabase(name);
  }

  updateConfig(name: string, patch: Partial<DatabaseConfig>): Promise<DatabaseConfig> {
    return this.platform.updateConfig(name, patch);
  }

  async createGroup(name: string, location: string | undefined): Promise<GroupView> {
    return groupView(
      await this.platform.createGroup(name, location === undefined ? {} : { location }),
    );
  }

  async listGroups(): Promise<GroupView[]> {
    return (await this.platform.listGroups()).map(groupView);
  }

  async getGroup(name: string): Promise<GroupView> {
    return groupView(await this.platform.getGroup(name));
  }

  async deleteGroup(name: string): Promise<void> {
    // `group destroy` deletes the databases with the group once confirmed (--yes or the prompt).
    await this.platform.deleteGroup(name, { cascade: true });
  }

  async updateGroupConfig(name: string, patch: { delete_protection: boolean }): Promise<GroupView> {
    return groupView(await this.platform.updateGroup(name, patch));
  }

  async databaseSize(name: string, encryptionKey: string | undefined): Promise<number> {
    return (await this.exportDatabase(name, encryptionKey)).byteLength;
  }

  async createDatabaseToken(name: string, o: TokenOptions): Promise<string> {
    const info = await this.platform.getDatabase(name);
    const group = await this.platform.getGroup(info.group);
    return (await this.authority()).mintDatabaseToken(
      { id: info.id, groupId: group.id },
      await this.mintOptions(o),
    );
  }

  async invalidateDatabaseTokens(name: string): Promise<void> {
    const info = await this.platform.getDatabase(name);
    await (await this.authority()).rotateDatabase(info.id);
  }

  async createGroupToken(name: string, o: TokenOptions): Promise<string> {
    const group = await this.platform.getGroup(name);
    return (await this.authority()).mintGroupToken(group.id, await this.mintOptions(o));
  }

  async invalidateGroupTokens(name: string): Promise<void> {
    const group = await this.platform.getGroup(name);
    await (await this.authority()).rotateGroup(group.id);
  }

  exportDatabase(name: string, encryptionKey: string | undefined): Promise<Uint8Array> {
    return this.platform.exportDatabase(name, encryptionKey === undefined ? {} : { encryptionKey });
  }

  async listMigrations(parent: string): Promise<JobSummary[]> {
    return (await this.platform.listMigrations(parent)).migrations;
  }

  async getMigration(parent: string, jobId: number): Promise<JobDetail> {
    const { job_id, status, error, progress } = await this.platform.getMigration(parent, jobId);
    return { job_id, status, ...(error === undefined ? {} : { error }), progress };
  }

  async openSession(name: string, o: SessionOptions): Promise<SqlSession> {
    const info = await this.platform.getDatabase(name);
    let access: AccessPolicy | undefined;
    if (o.attach !== undefined && o.attach.length > 0) {
      // Exactly what a token minted with these attach permissions grants (names checked first).
      const allowed = new Set<string>();
      for (const n of o.attach) allowed.add((await this.platform.getDatabase(n)).id);
      const own = (db: DatabaseRef) => db.id === info.id;
      access = {
        canRead: (db) => own(db) || allowed.has(db.id),
        canWrite: own,
        canAttach: (db) => allowed.has(db.id),
        canDdl: () => false,
      };
    }
    const conn = this.platform.connect(name, {
      ...(access === undefined ? {} : { access }),
      ...(o.encryptionKey === undefined ? {} : { encryptionKey: o.encryptionKey }),
    });
    return {
      execute: async (sql) => rowsOf(await conn.execute(sql, undefined, "bigint")),
      batch: async (statements) =>
        (
          await conn.batch(
            statements.map((sql) => ({ sql })),
            "bigint",
            "BEGIN IMMEDIATE",
          )
        ).map(rowsOf),
      close: async () => conn.close(),
    };
  }

  async watchMigrations<T>(schema: string, work: () => Promise<T>, sink: ProgressSink): Promise<T> {
    const stop = this.platform.onMigrationProgress((p) => {
      if (p.schema === schema) sink(p.jobId, p);
    });
    try {
      return await work();
    } finally {
      stop();
    }
  }

  databaseUrl(name: string): string {
    return `http://127.0.0.1:8080/dev/${name}/`;
  }

  async close(): Promise<void> {
    try {
      await this.platform.close();
    } finally {
      await this.storage.close();
    }
  }

  private async authority(): Promise<TokenAuthority> {
    this.tokens ??= await TokenAuthority.open(this.platform.storage);
    return this.tokens;
  }

  private async mintOptions(o: TokenOptions) {
    const attach: string[] = [];
    for (const n of o.attach ?? []) attach.push((await this.platform.getDatabase(n)).id);
    return {
      ...(o.expiration === undefined ? {} : { expiration: o.expiration }),
      ...(o.readOnly ? { authorization: "read-only" } : {}),
      attach,
    };
  }
}

function dbView(info: DatabaseInfo): DbView {
  return {
    name: info.name,
    id: info.id,
    group: info.group,
    type: info.type,
    parent: info.parent,
    encrypted: info.encrypted,
    config: info.config,
  };
}

function groupView(g: GroupInfo): GroupView {
  return { name: g.name, id: g.id, location: g.location, delete_protection: g.delete_protection };
}

function rowsOf(r: { columns: string[]; rows: ArrayLike<unknown>[]; rowsAffected: number }): Rows {
  return {
    columns: r.columns,
    rows: r.rows.map((row) => Array.from({ length: r.columns.length }, (_, i) => cell(row[i]))),
    rowsAffected: r.rowsAffected,
  };
}

function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v instanceof Uint8Array || typeof v === "string" || typeof v === "number") return v;
  if (typeof v === "bigint") return v;
  throw new TenantliteError("INTERNAL_ERROR", `unexpected value of type ${typeof v}`);
}
