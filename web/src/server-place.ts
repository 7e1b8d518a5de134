/**
 * The databases of the tenantlite server that serves the console, through the same wire APIs
 * `@tursodatabase/api` and `@libsql/client` use: the Platform API under
 * `/v1/organizations/local/` and Hrana over HTTP (`/dev/<db>/v2/pipeline`). Plain fetch + JSON.
 */
import type { Value } from "tenantlite/browser";
import {
  ConsoleError,
  type DbRow,
  type JobView,
  type NewDatabase,
  type Place,
  type Rows,
  type Session,
} from "./place.js";

const ORG = "v1/organizations/local/";
/** sessionStorage key of the pasted API token (never localStorage: it ends with the tab). */
export const TOKEN_KEY = "tenantlite.api-token";

/** Statements that leave state on their connection, which a new stream would not have. */
const STATEFUL = /^\s*(begin|savepoint|attach|pragma|create\s+temp(orary)?\b)/i;

/** What probing the page's own origin found. */
export type Probe = "server" | "auth" | "none";

/**
 * Whether a tenantlite (or Turso-compatible) server answers the Platform API next to the page:
 * "server" (JSON database list), "auth" (it answered 401: a token is needed) or "none" (a static
 * host, or offline).
 */
export async function probeServer(base: string, token: string | null): Promise<Probe> {
  try {
    const res = await fetch(new URL(`${ORG}databases`, base), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(3000),
    });
    if (res.status === 401) return "auth";
    if (!res.ok || !/json/.test(res.headers.get("content-type") ?? "")) return "none";
    const body = (await res.json()) as { databases?: unknown };
    return Array.isArray(body.databases) ? "server" : "none";
  } catch {
    return "none";
  }
}

interface ApiDatabase {
  Name: string;
  DbId: string;
  group: string;
  is_schema?: boolean;
  schema?: string;
  allow_attach?: boolean;
  delete_protection?: boolean;
}

type HranaValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

interface HranaResult {
  cols: { name: string | null; decltype: string | null }[];
  rows: HranaValue[][];
  affected_row_count: number;
}

type PipelineResult =
  | { type: "ok"; response: { type: string; result?: HranaResult } }
  | { type: "error"; error: { message: string; code?: string } };

function value(v: HranaValue): Value {
  switch (v.type) {
    case "null":
      return null;
    case "integer":
      return BigInt(v.value);
    case "float":
      return v.value;
    case "text":
      return v.value;
    case "blob": {
      const bin = atob(v.base64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      return bytes.buffer;
    }
  }
}

function rowsOf(r: HranaResult): Rows {
  return {
    columns: r.cols.map((c) => c.name ?? ""),
    columnTypes: r.cols.map((c) => c.decltype ?? ""),
    rows: r.rows.map((row) => row.map(value)),
    rowsAffected: r.affected_row_count,
  };
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The server's databases, through its Platform API and Hrana. */
export class ServerPlace implements Place {
  readonly kind = "server";
  readonly defaultGroup = "default";
  private readonly batons = new Map<string, string | null>();
  /** Databases whose stream holds state a new stream would not have (BEGIN, ATTACH, TEMP…). */
  private readonly stateful = new Set<string>();
  /** Told when a database's stream is gone (the console forgets its ATTACHes). */
  onLost: ((db: string) => void) | undefined;
  private readonly jwts = new Map<string, Promise<string>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly base: string,
    private readonly token: () => string | null,
  ) {}

  /** A Platform API call; answers the parsed JSON, throws a coded error otherwise. */
  private async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(new URL(ORG + path, this.base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return this.answer<T>(res, `${method} ${path.split("?")[0]}`);
  }

  private async answer<T>(res: Response, what: string): Promise<T> {
    if (res.status === 401) {
      throw new ConsoleError(
        "UNAUTHORIZED",
        this.token()
          ? "The server refused the API token (401): paste a valid one in “API token” above"
          : "The server asks for an API token (401: it runs with --auth): paste one in “API token” above",
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConsoleError("BAD_RESPONSE", `${what} answered ${res.status} without JSON`);
    }
    if (!res.ok) {
      const e = json as { error?: unknown; code?: unknown; message?: unknown };
      const message =
        typeof e.error === "string"
          ? e.error
          : typeof e.message === "string"
            ? e.message
            : `${what} failed`;
      throw new ConsoleError(typeof e.code === "string" ? e.code : `HTTP_${res.status}`, message);
    }
    return json as T;
  }

  async databases(): Promise<DbRow[]> {
    const { databases } = await this.api<{ databases: ApiDatabase[] }>("GET", "databases");
    return databases
      .map((d) => ({
        id: d.DbId,
        name: d.Name,
        group: d.group,
        type: d.is_schema
          ? ("schema" as const)
          : d.schema
            ? ("child" as const)
            : ("regular" as const),
        parent: d.schema ?? null,
        allowAttach: d.allow_attach === true,
        deleteProtection: d.delete_protection === true,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async groups(): Promise<string[]> {
    const { groups } = await this.api<{ groups: { name: string }[] }>("GET", "groups");
    return groups.map((g) => g.name).sort();
  }

  async createDatabase(name: string, o: NewDatabase): Promise<void> {
    if (o.type === "child" && !o.parent) {
      throw new ConsoleError("PARENT_MISSING", "Create a schema parent first");
    }
    await this.api("POST", "databases", {
      name,
      ...(o.type === "schema" ? { is_schema: true } : {}),
      ...(o.type === "child" ? { schema: o.parent } : o.group ? { group: o.group } : {}),
    });
    if (o.allowAttach) await this.setAllowAttach(name, true);
  }

  async importDatabase(name: string, bytes: Uint8Array): Promise<void> {
    const headers: Record<string, string> = { "content-type": "application/octet-stream" };
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(
      new URL(`${ORG}databases/${encodeURIComponent(name)}/upload`, this.base),
      { method: "POST", headers, body: bytes as Uint8Array<ArrayBuffer> },
    );
    await this.answer(res, "POST upload");
  }

  async deleteDatabase(name: string): Promise<void> {
    this.forget(name);
    await this.api("DELETE", `databases/${encodeURIComponent(name)}`);
  }

  async createGroup(name: string): Promise<void> {
    await this.api("POST", "groups", { name });
  }

  async deleteGroup(name: string): Promise<void> {
    await this.api("DELETE", `groups/${encodeURIComponent(name)}?cascade=true`);
  }

  async setAllowAttach(name: string, allow: boolean): Promise<void> {
    await this.api("PATCH", `databases/${encodeURIComponent(name)}/configuration`, {
      allow_attach: allow,
    });
  }

  async exportDatabase(name: string): Promise<Uint8Array> {
    const { base64 } = await this.api<{ base64: string }>(
      "GET",
      `databases/${encodeURIComponent(name)}/export`,
    );
    return base64ToBytes(base64);
  }

  /** Headers for Hrana on `db`: with --auth, a database token minted through the Platform API. */
  private async hranaHeaders(db: string): Promise<Record<string, string>> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (!this.token()) return headers;
    let jwt = this.jwts.get(db);
    if (jwt === undefined) {
      jwt = this.api<{ jwt: string }>(
        "POST",
        `databases/${encodeURIComponent(db)}/auth/tokens?expiration=1d`,
      ).then((r) => r.jwt);
      jwt.catch(() => this.jwts.delete(db));
      this.jwts.set(db, jwt);
    }
    headers.authorization = `Bearer ${await jwt}`;
    return headers;
  }

  /**
   * One Hrana pipeline on `db`'s stream (kept by its baton). A baton is good for one request, so
   * the page's requests on one database (editor, table browser, migration) go one after another.
   */
  private pipeline(db: string, requests: unknown[]): Promise<PipelineResult[]> {
    const run = (this.queues.get(db) ?? Promise.resolve()).then(() => this.send(db, requests));
    this.queues.set(
      db,
      run.catch(() => undefined),
    );
    return run;
  }

  private async send(db: string, requests: unknown[]): Promise<PipelineResult[]> {
    const url = new URL(`dev/${encodeURIComponent(db)}/v2/pipeline`, this.base);
    const baton = this.batons.get(db) ?? null;
    const res = await fetch(url, {
      method: "POST",
      headers: await this.hranaHeaders(db),
      body: JSON.stringify({ baton, requests }),
    });
    if (!res.ok && baton !== null && (res.status === 400 || res.status === 404)) {
      // The stream is gone (the server expires idle ones after 10 s). Its connection state —
      // an open transaction, ATTACH, TEMP tables, pragmas — went with it: when there was some,
      // say so instead of running the request outside it; otherwise a new stream does as well.
      this.batons.delete(db);
      this.onLost?.(db);
      if (this.stateful.delete(db)) {
        throw new ConsoleError(
          "STREAM_LOST",
          `The server closed this tab's connection to ${db} (idle streams end after 10 s): its open transaction, ATTACH and TEMP tables are gone and nothing ran; run again on a new connection`,
        );
      }
      return this.send(db, requests);
    }
    const body = await this.answer<{ baton: string | null; results: PipelineResult[] }>(
      res,
      "Hrana pipeline",
    );
    this.batons.set(db, body.baton);
    return body.results;
  }

  session(db: string): Session {
    return {
      execute: async (sql) => {
        if (STATEFUL.test(sql)) this.stateful.add(db);
        const [r] = await this.pipeline(db, [{ type: "execute", stmt: { sql, want_rows: true } }]);
        if (r === undefined) throw new ConsoleError("BAD_RESPONSE", "Hrana answered no result");
        if (r.type === "error") throw new ConsoleError(r.error.code ?? "ERROR", r.error.message);
        return rowsOf(r.response.result!);
      },
    };
  }

  forget(db: string): void {
    this.batons.delete(db);
    this.stateful.delete(db);
  }

  private async jobs(db: string): Promise<{ job_id: number; status: string }[]> {
    const res = await fetch(new URL(`dev/${encodeURIComponent(db)}/v1/jobs`, this.base), {
      headers: await this.hranaHeaders(db),
    });
    return (await this.answer<{ migrations: { job_id: number; status: string }[] }>(res, "jobs"))
      .migrations;
  }

  private async job(db: string, id: number, children: number): Promise<JobView> {
    const res = await fetch(new URL(`dev/${encodeURIComponent(db)}/v1/jobs/${id}`, this.base), {
      headers: await this.hranaHeaders(db),
    });
    const j = await this.answer<Omit<JobView, "children" | "done">>(res, "job");
    const done = j.progress.filter((p) => p.status === "RunSuccess").length;
    return { ...j, children: Math.max(children, j.progress.length), done };
  }

  /**
   * A migration on the server: the statements in one transaction of a Hrana batch on the parent
   * (BEGIN … COMMIT, ROLLBACK when a step fails, as `@libsql/client`'s write batch does), so they
   * are one migration job there, all or nothing; then that job's per-child state.
   */
  async migrate(db: string, statements: string[], onJob: (job: JobView) => void): Promise<JobView> {
    const children = (await this.databases()).filter((d) => d.parent === db).length;
    const before = Math.max(0, ...(await this.jobs(db)).map((j) => j.job_id));
    const sqls = ["BEGIN", ...statements, "COMMIT"];
    const steps = [
      ...sqls.map((sql, i) => ({
        stmt: { sql },
        ...(i === 0 ? {} : { condition: { type: "ok", step: i - 1 } }),
      })),
      {
        stmt: { sql: "ROLLBACK" },
        condition: { type: "not", cond: { type: "ok", step: sqls.length - 1 } },
      },
    ];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        await new Promise((r) => setTimeout(r, 150));
        const latest = Math.max(0, ...(await this.jobs(db).catch(() => [])).map((j) => j.job_id));
        if (latest > before && polling) {
          await this.job(db, latest, children).then(onJob, () => undefined);
        }
      }
    })();
    let failure: string | undefined;
    try {
      const [r] = await this.pipeline(db, [{ type: "batch", batch: { steps } }]);
      if (r?.type === "error") failure = r.error.message;
      else {
        const response = r?.response as
          | { result?: { step_errors?: ({ message: string } | null)[] } }
          | undefined;
        const errs = response?.result?.step_errors;
        failure = errs?.find((e) => e !== null)?.message;
      }
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    } finally {
      polling = false;
      await poll;
    }
    const ids = (await this.jobs(db)).map((j) => j.job_id).filter((id) => id > before);
    if (ids.length === 0) {
      return {
        job_id: 0,
        status: failure ? "RunFailure" : "RunSuccess",
        ...(failure ? { error: failure } : {}),
        progress: [],
        children,
        done: 0,
      };
    }
    const job = await this.job(db, Math.max(...ids), children);
    return failure && job.error === undefined ? { ...job, error: failure } : job;
  }
}
