/**
 * Remote mode (`--url`): the commands go through a server's Platform API (the calls
 * `@tursodatabase/api` makes, done with fetch) and Hrana. Database JWTs for shells and job
 * status are minted through the API, as the turso CLI does.
 */
import { type ErrorCode, TenantliteError } from "../../errors.js";
import type { DatabaseConfig, DatabaseType } from "../../platform/types.js";
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
import { openHttpSession, openWsSession, unreachable } from "./hrana-client.js";
import { parseTargetUrl } from "./urls.js";

const ORG = "local";

interface ApiDatabase {
  Name: string;
  DbId: string;
  group: string;
  is_schema?: boolean;
  schema?: string;
  encrypted?: boolean;
  allow_attach: boolean;
  block_reads: boolean;
  block_writes: boolean;
  delete_protection: boolean;
}

interface ApiGroup {
  name: string;
  uuid: string;
  primary?: string;
  locations?: string[];
  delete_protection?: boolean;
}

/** Options of {@link RemoteBackend}. */
export interface RemoteOptions {
  /**
   * The server was found holding the data directory (no `--url` given): its process id, for
   * messages that would otherwise say "without --url".
   */
  readonly servedPid?: number;
}

/** The remote backend talking to `server` (e.g. `http://127.0.0.1:8080`, or a libsql:// URL). */
export class RemoteBackend implements Backend {
  readonly mode = "remote" as const;
  private readonly server: string;
  private readonly jwts = new Map<string, string>();

  constructor(
    server: string,
    private readonly apiToken: string | undefined,
    private readonly options: RemoteOptions = {},
  ) {
    this.server = parseTargetUrl(server, "--url").url.origin;
  }

  /** What a local-only feature needs, said the way that fits how this backend was chosen. */
  private localOnly(what: string): TenantliteError {
    const pid = this.options.servedPid;
    return new TenantliteError(
      "NOT_SUPPORTED",
      pid === undefined
        ? `${what} only in local mode (without --url)`
        : `${what} only in local mode, and the data directory is served by tenantlite dev (process ${pid}): stop it first`,
    );
  }

  async createDatabase(name: string, o: CreateDbOptions): Promise<DbView> {
    if (o.encryptionKey !== undefined) {
      throw this.localOnly("encrypted databases can be created");
    }
    if (o.fromFile !== undefined) {
      if (o.schemaParent || o.schema !== undefined) {
        throw new TenantliteError(
          "NOT_SUPPORTED",
          "--from-file cannot be combined with --type schema or --schema in remote mode",
        );
      }
      const q = o.group === undefined ? "" : `?group=${encodeURIComponent(o.group)}`;
      await this.api("POST", `/databases/${enc(name)}/upload${q}`, o.fromFile);
    } else {
      await this.api("POST", "/databases", {
        name,
        ...(o.group === undefined ? {} : { group: o.group }),
        ...(o.schemaParent ? { is_schema: true } : {}),
        ...(o.schema === undefined ? {} : { schema: o.schema }),
        ...(o.fromDb === undefined ? {} : { seed: { type: "database", name: o.fromDb } }),
      });
    }
    return this.getDatabase(name);
  }

  async listDatabases(o: { group?: string; schema?: string }): Promise<DbView[]> {
    const q = new URLSearchParams();
    if (o.group !== undefined) q.set("group", o.group);
    if (o.schema !== undefined) q.set("schema", o.schema);
    const qs = q.size === 0 ? "" : `?${q}`;
    const body = (await this.api("GET", `/databases${qs}`)) as { databases: ApiDatabase[] };
    return body.databases.map(dbView);
  }

  async getDatabase(name: string): Promise<DbView> {
    const body = (await this.api("GET", `/databases/${enc(name)}`)) as { database: ApiDatabase };
    return dbView(body.database);
  }

  async deleteDatabase(name: string): Promise<void> {
    await this.api("DELETE", `/databases/${enc(name)}`);
  }

  async updateConfig(name: string, patch: Partial<DatabaseConfig>): Promise<DatabaseConfig> {
    const c = (await this.api("PATCH", `/databases/${enc(name)}/configuration`, patch)) as Record<
      string,
      boolean
    >;
    return {
      allow_attach: c.allow_attach === true,
      block_reads: c.block_reads === true,
      block_writes: c.block_writes === true,
      delete_protection: c.delete_protection === true,
    };
  }

  async createGroup(name: string, location: string | undefined): Promise<GroupView> {
    const body = (await this.api("POST", "/groups", {
      name,
      location: location ?? "local",
    })) as { group: ApiGroup };
    return groupView(body.group);
  }

  async listGroups(): Promise<GroupView[]> {
    return ((await this.api("GET", "/groups")) as { groups: ApiGroup[] }).groups.map(groupView);
  }

  async getGroup(name: string): Promise<GroupView> {
    return groupView(
      ((await this.api("GET", `/groups/${enc(name)}`)) as { group: ApiGroup }).group,
    );
  }

  async deleteGroup(name: string): Promise<void> {
    // `group destroy` deletes the databases with the group once confirmed (--yes or the prompt).
    await this.api("DELETE", `/groups/${enc(name)}?cascade=true`);
  }

  async updateGroupConfig(name: string, patch: { delete_protection: boolean }): Promise<GroupView> {
    await this.api("PATCH", `/groups/${enc(name)}/configuration`, patch);
    return this.getGroup(name);
  }

  async databaseSize(name: string, encryptionKey: string | undefined): Promise<number> {
    if (encryptionKey !== undefined) throw this.localOnly("encrypted databases can be inspected");
    const body = (await this.api("GET", `/databases/${enc(name)}/usage`)) as {
      database?: { usage?: { storage_bytes?: unknown } };
    };
    const bytes = body.database?.usage?.storage_bytes;
    if (typeof bytes !== "number") {
      throw new TenantliteError(
        "HTTP_BAD_RESPONSE",
        "the server's usage answer has no storage_bytes",
      );
    }
    return bytes;
  }

  async createDatabaseToken(name: string, o: TokenOptions): Promise<string> {
    return this.mint(`/databases/${enc(name)}/auth/tokens`, o);
  }

  async invalidateDatabaseTokens(name: string): Promise<void> {
    await this.api("POST", `/databases/${enc(name)}/auth/rotate`);
    this.jwts.delete(name);
  }

  createGroupToken(group: string, o: TokenOptions): Promise<string> {
    return this.mint(`/groups/${enc(group)}/auth/tokens`, o);
  }

  async invalidateGroupTokens(group: string): Promise<void> {
    await this.api("POST", `/groups/${enc(group)}/auth/rotate`);
    this.jwts.clear();
  }

  async exportDatabase(name: string, encryptionKey: string | undefined): Promise<Uint8Array> {
    if (encryptionKey !== undefined) {
      throw this.localOnly("encrypted databases can be exported");
    }
    const body = (await this.api("GET", `/databases/${enc(name)}/export`)) as { base64: string };
    return new Uint8Array(Buffer.from(body.base64, "base64"));
  }

  async listMigrations(parent: string): Promise<JobSummary[]> {
    const body = (await this.jobs(parent, "")) as { migrations: JobSummary[] };
    return body.migrations;
  }

  async getMigration(parent: string, jobId: number): Promise<JobDetail> {
    return (await this.jobs(parent, `/${jobId}`)) as JobDetail;
  }

  async openSession(name: string, o: SessionOptions): Promise<SqlSession> {
    if (o.encryptionKey !== undefined) {
      throw this.localOnly("encrypted databases can be opened");
    }
    const attach = o.attach ?? [];
    // Like `turso db shell --attach`: a fresh token with exactly these attach permissions.
    const jwt =
      attach.length > 0
        ? await this.mint(`/databases/${enc(name)}/auth/tokens`, { expiration: "2d", attach })
        : await this.jwt(name);
    const opts = { url: `${this.server}/dev/${enc(name)}/`, jwt };
    return o.interactive || attach.length > 0 ? openWsSession(opts) : openHttpSession(opts);
  }

  async watchMigrations<T>(schema: string, work: () => Promise<T>, sink: ProgressSink): Promise<T> {
    const before = (await this.listMigrations(schema))[0]?.job_id ?? 0;
    const seen = new Map<number, string>();
    const poll = async () => {
      const list = await this.listMigrations(schema);
      for (const j of list.filter((j) => j.job_id > before).reverse()) {
        const detail = await this.getMigration(schema, j.job_id);
        const key = `${detail.status}:${detail.progress.length}`;
        if (seen.get(j.job_id) === key) continue;
        seen.set(j.job_id, key);
        sink(j.job_id, updateOf(detail));
      }
    };
    let running = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight: Promise<void> = Promise.resolve();
    const loop = () => {
      inFlight = poll()
        .catch(() => undefined)
        .then(() => {
          if (running) timer = setTimeout(loop, 150);
        });
    };
    timer = setTimeout(loop, 150);
    try {
      return await work();
    } finally {
      running = false;
      clearTimeout(timer);
      await inFlight;
      // One last look, so the final state of every job the work started is reported.
      await poll().catch(() => undefined);
    }
  }

  databaseUrl(name: string): string {
    return `${this.server}/dev/${name}/`;
  }

  async close(): Promise<void> {}

  private async jobs(parent: string, suffix: string): Promise<unknown> {
    const jwt = await this.jwt(parent);
    let res: Response;
    try {
      res = await fetch(`${this.server}/dev/${enc(parent)}/v1/jobs${suffix}`, {
        headers: jwt === undefined ? {} : { authorization: `Bearer ${jwt}` },
      });
    } catch (e) {
      throw unreachable(this.server, e);
    }
    const body = (await res.json().catch(() => ({}))) as { error?: string; code?: ErrorCode };
    if (res.ok) return body;
    if (res.status === 400 && body.error === "Invalid namespace") {
      throw new TenantliteError("SCHEMA_INVALID", "Invalid namespace: not a schema database");
    }
    if (res.status === 404 && body.code === undefined) {
      throw new TenantliteError(
        "JOB_NOT_FOUND",
        body.error ?? "couldn't find requested migration job",
      );
    }
    throw new TenantliteError(body.code ?? `HTTP_${res.status}`, body.error ?? "request failed");
  }

  /** A cached full-access JWT for `name` (needed when the server enforces auth). */
  private async jwt(name: string): Promise<string> {
    let t = this.jwts.get(name);
    if (t === undefined) {
      t = await this.mint(`/databases/${enc(name)}/auth/tokens`, { expiration: "1d" });
      this.jwts.set(name, t);
    }
    return t;
  }

  private async mint(path: string, o: TokenOptions): Promise<string> {
    const q = new URLSearchParams();
    if (o.expiration !== undefined) q.set("expiration", o.expiration);
    if (o.readOnly) q.set("authorization", "read-only");
    const body = (await this.api("POST", `${path}?${q}`, {
      permissions: { read_attach: { databases: [...(o.attach ?? [])] } },
    })) as { jwt: string };
    return body.jwt;
  }

  /** One Platform API call; failures become coded errors (the server sends `{error, code}`). */
  private async api(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = `${this.server}/v1/organizations/${ORG}${path}`;
    const headers: Record<string, string> = { "user-agent": "tenantlite-cli" };
    if (this.apiToken !== undefined) headers.authorization = `Bearer ${this.apiToken}`;
    let payload: string | Uint8Array<ArrayBuffer> | undefined;
    if (body instanceof Uint8Array) {
      payload = new Uint8Array(body);
      headers["content-type"] = "application/octet-stream";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
      });
    } catch (e) {
      throw unreachable(this.server, e);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.ok && parsed !== undefined) return parsed;
    const err = (parsed ?? {}) as { error?: string; code?: ErrorCode };
    throw new TenantliteError(
      err.code ?? `HTTP_${res.status}`,
      err.error ?? `the server answered ${res.status} to ${method} ${path.replace(/\?.*$/, "")}`,
    );
  }
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function dbView(d: ApiDatabase): DbView {
  const type: DatabaseType = d.is_schema ? "schema" : d.schema ? "child" : "regular";
  return {
    name: d.Name,
    id: d.DbId,
    group: d.group,
    type,
    parent: d.schema ?? null,
    encrypted: d.encrypted,
    config: {
      allow_attach: d.allow_attach,
      block_reads: d.block_reads,
      block_writes: d.block_writes,
      delete_protection: d.delete_protection,
    },
  };
}

function groupView(g: ApiGroup): GroupView {
  return {
    name: g.name,
    id: g.uuid,
    location: g.primary ?? g.locations?.[0] ?? "local",
    delete_protection: g.delete_protection === true,
  };
}

function updateOf(job: JobDetail) {
  const total = job.progress.length;
  const failures = job.progress.filter((p) => p.error !== null && p.error !== "aborted").length;
  const done = job.status === "RunSuccess" ? total : 0;
  return { phase: job.status, done, total, failures };
}
