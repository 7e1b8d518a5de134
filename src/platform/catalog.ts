/**
 * The catalog: groups and databases, kept in a SQLite database of its own (through the same
 * engine and storage as tenants), so lookups are indexed and listing is paginated however many
 * databases there are.
 */
import type { RawDatabase, SqlJsModule } from "../engine/sqljs-types.js";
import type { Storage } from "../storage/storage.js";
import type {
  DatabaseConfig,
  DatabaseInfo,
  DatabaseType,
  GroupInfo,
  ListDatabasesOptions,
} from "./types.js";

const CATALOG_KEY = "catalog/catalog.db";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS groups (
  name TEXT PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  location TEXT NOT NULL,
  delete_protection INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS databases (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  group_name TEXT NOT NULL REFERENCES groups(name),
  created_at TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('regular', 'schema', 'child')),
  parent TEXT,
  allow_attach INTEGER NOT NULL DEFAULT 0,
  block_reads INTEGER NOT NULL DEFAULT 0,
  block_writes INTEGER NOT NULL DEFAULT 0,
  delete_protection INTEGER NOT NULL DEFAULT 0,
  encrypted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS databases_by_group ON databases(group_name, name);
CREATE INDEX IF NOT EXISTS databases_by_parent ON databases(parent, name);
`;

type Row = Record<string, unknown>;

/** Durable records of groups and databases. */
export class Catalog {
  private constructor(
    private readonly db: RawDatabase,
    private readonly storage: Storage,
  ) {}

  /** Opens the catalog stored in `storage` (or a new one). */
  static async open(sql: SqlJsModule, storage: Storage): Promise<Catalog> {
    const bytes = await storage.load(CATALOG_KEY);
    const db = new sql.Database(bytes ?? null);
    db.exec(SCHEMA);
    return new Catalog(db, storage);
  }

  /** Writes the catalog image (after every change). */
  private async save(): Promise<void> {
    await this.storage.save(CATALOG_KEY, this.db.export());
  }

  private all(sql: string, params: unknown[] = []): Row[] {
    const st = this.db.prepare(sql);
    try {
      st.bind(params);
      const out: Row[] = [];
      const cols = st.getColumnNames();
      while (st.step()) {
        const v = st.get();
        const row: Row = {};
        cols.forEach((c, i) => {
          row[c] = v[i];
        });
        out.push(row);
      }
      return out;
    } finally {
      st.free();
    }
  }

  getGroup(name: string): GroupInfo | undefined {
    const r = this.all("SELECT * FROM groups WHERE name = ?", [name])[0];
    return r === undefined ? undefined : toGroup(r);
  }

  listGroups(): GroupInfo[] {
    return this.all("SELECT * FROM groups ORDER BY name").map(toGroup);
  }

  async putGroup(g: GroupInfo): Promise<void> {
    this.db.run(
      "INSERT OR REPLACE INTO groups (name, id, created_at, location, delete_protection) VALUES (?, ?, ?, ?, ?)",
      [g.name, g.id, g.createdAt, g.location, g.delete_protection ? 1 : 0],
    );
    await this.save();
  }

  async deleteGroup(name: string): Promise<void> {
    this.db.run("DELETE FROM groups WHERE name = ?", [name]);
    await this.save();
  }

  /** A database by name or id. */
  getDatabase(nameOrId: string): DatabaseInfo | undefined {
    const r = this.all("SELECT * FROM databases WHERE name = ? OR id = ? LIMIT 1", [
      nameOrId,
      nameOrId,
    ])[0];
    return r === undefined ? undefined : toDatabase(r);
  }

  listDatabases(options: ListDatabasesOptions = {}): DatabaseInfo[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.group !== undefined) {
      where.push("group_name = ?");
      params.push(options.group);
    }
    if (options.schema !== undefined) {
      where.push("parent = ?");
      params.push(options.schema);
    }
    if (options.type !== undefined) {
      where.push("type = ?");
      params.push(options.type);
    }
    if (options.after !== undefined) {
      where.push("name > ?");
      params.push(options.after);
    }
    const limit = Math.max(1, Math.min(options.limit ?? 1000, 100_000));
    const sql = `SELECT * FROM databases ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY name LIMIT ${limit}`;
    return this.all(sql, params).map(toDatabase);
  }

  countChildren(parent: string): number {
    return Number(
      this.all("SELECT count(*) AS n FROM databases WHERE parent = ?", [parent])[0]?.n ?? 0,
    );
  }

  async putDatabase(d: DatabaseInfo): Promise<void> {
    this.db.run(
      `INSERT OR REPLACE INTO databases (id, name, group_name, created_at, type, parent, allow_attach, block_reads, block_writes, delete_protection, encrypted)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        d.id,
        d.name,
        d.group,
        d.createdAt,
        d.type,
        d.parent,
        d.config.allow_attach ? 1 : 0,
        d.config.block_reads ? 1 : 0,
        d.config.block_writes ? 1 : 0,
        d.config.delete_protection ? 1 : 0,
        d.encrypted ? 1 : 0,
      ],
    );
    await this.save();
  }

  async deleteDatabase(id: string): Promise<void> {
    this.db.run("DELETE FROM databases WHERE id = ?", [id]);
    await this.save();
  }

  close(): void {
    this.db.close();
  }
}

function toGroup(r: Row): GroupInfo {
  return Object.freeze({
    id: String(r.id),
    name: String(r.name),
    createdAt: String(r.created_at),
    location: String(r.location),
    delete_protection: r.delete_protection === 1,
  });
}

function toDatabase(r: Row): DatabaseInfo {
  const config: DatabaseConfig = Object.freeze({
    allow_attach: r.allow_attach === 1,
    block_reads: r.block_reads === 1,
    block_writes: r.block_writes === 1,
    delete_protection: r.delete_protection === 1,
  });
  return Object.freeze({
    id: String(r.id),
    name: String(r.name),
    group: String(r.group_name),
    createdAt: String(r.created_at),
    type: r.type as DatabaseType,
    parent: r.parent === null || r.parent === undefined ? null : String(r.parent),
    config,
    encrypted: r.encrypted === 1,
  });
}
