/**
 * Turso's Platform API (reference §4) under `/v1/organizations/local/…` on the database port:
 * groups, databases, configuration, database and group tokens, rotation, API tokens, locations,
 * organizations. Bodies are parsed as JSON whatever their content-type; failures answer
 * `{"error": …, "code": …}` with the status the Turso client expects.
 */
import { bytesToBase64 } from "../engine/values.js";
import { databaseNotFound, hasCode, TenantliteError } from "../errors.js";
import { sha256Hex } from "../platform/sha256.js";
import type { MintOptions } from "../platform/tokens.js";
import type { DatabaseInfo, DatabaseType, GroupInfo } from "../platform/types.js";
import type { ServerContext } from "./context.js";
import { apiFailure, type HttpRequest, json, type Reply, readBody, readJson } from "./http.js";
import { remoteEncryptionSecret } from "./remote-encryption.js";
import { formatSizeLimit, parseSizeLimit } from "./size-limit.js";

/** The only organization a local server has. */
export const ORG = "local";
/** Version string shown in database and group objects. */
export const VERSION = "tenantlite-0.1.0";

const LOCATIONS = { local: "Local machine (tenantlite)" };

/**
 * Fields of `POST /databases` (lower case): what `@tursodatabase/api` 2.x sends (`group_id` for
 * its `groupId`, `use_tursodb` for `useTursoDb`) and what the Turso CLI adds (`location`,
 * `extensions`).
 */
const CREATE_FIELDS = new Set([
  "name",
  "group",
  "group_id",
  "seed",
  "size_limit",
  "is_schema",
  "schema",
  "remote_encryption",
  "image",
  "use_tursodb",
  "location",
  "extensions",
]);

/** Fields of a database's configuration (`PATCH /databases/{name}/configuration`). */
const CONFIG_FIELDS = new Set([
  "size_limit",
  "allow_attach",
  "block_reads",
  "block_writes",
  "delete_protection",
  "allowed_ips",
  "allowed_aws_vpc_ids",
]);

/** `exp` answered for a live API token (they never expire): 9999-12-31T23:59:59Z. */
const NEVER_EXPIRES = 253_402_300_799;

/** An API token the Platform API accepts: only its SHA-256 is kept (and stored). */
interface ApiToken {
  readonly id: string;
  readonly name: string;
  readonly hash: string;
}

/** Where tokens created through `/v1/auth/api-tokens` are kept across restarts. */
const API_TOKENS_KEY = "auth/api-tokens.json";

/** The Platform API routes; `handle` answers `undefined` for paths that are not its own. */
export class PlatformApi {
  private readonly apiTokens = new Map<string, ApiToken>();
  /** The token given at start (flag, env or generated): valid for this run, never stored. */
  private initialHash: Promise<string> | undefined;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly ctx: ServerContext,
    initialToken: string | undefined,
  ) {
    if (initialToken !== undefined) this.initialHash = sha256Hex(initialToken);
  }

  /** Reads the stored API tokens once. */
  private load(): Promise<void> {
    this.loaded ??= (async () => {
      const bytes = await this.ctx.platform.storage.load(API_TOKENS_KEY);
      if (bytes === undefined) return;
      try {
        for (const t of JSON.parse(new TextDecoder().decode(bytes)) as ApiToken[]) {
          if (typeof t.name === "string" && typeof t.hash === "string")
            this.apiTokens.set(t.name, t);
        }
      } catch {
        /* an unreadable file holds no usable token */
      }
    })();
    return this.loaded;
  }

  private save(): Promise<void> {
    const bytes = new TextEncoder().encode(JSON.stringify([...this.apiTokens.values()]));
    return this.ctx.platform.storage.save(API_TOKENS_KEY, bytes);
  }

  /**
   * Whether `path` belongs to the Platform API. Its paths without the version prefix
   * (`/organizations/…`: a client `baseUrl` without `/v1/`) are claimed too, to say so.
   */
  static owns(path: string): boolean {
    return /^(\/v[12])?\/(organizations|auth|locations)(\/|$)/.test(path);
  }

  /** Answers a Platform API request. */
  async handle(req: HttpRequest, url: URL, path: string): Promise<Reply> {
    try {
      if (!/^\/v[12]\//.test(path)) {
        // `new URL("organizations/…", baseUrl)` drops a last segment without a trailing slash.
        throw new TenantliteError(
          "API_PATH_WITHOUT_VERSION",
          `Platform API paths start with /v1/: end the client's baseUrl with /v1/ (trailing slash included), e.g. baseUrl: "${url.origin}/v1/"`,
        );
      }
      await this.load();
      // Validation answers for any token, including ones that authenticate would refuse.
      if (/^\/v[12]\/auth\/(api-tokens\/)?validate\/?$/.test(path)) {
        return only(req.method, "GET", async () => json({ exp: await this.expiryOf(req) }));
      }
      await this.authenticate(req);
      return await this.route(req, url, path);
    } catch (e) {
      return apiFailure(e, this.ctx.internalError(`${req.method} ${path}`));
    }
  }

  private async authenticate(req: HttpRequest): Promise<void> {
    if (!this.ctx.auth) return;
    const header = req.headers.get("authorization") ?? "";
    const m = /^bearer\s+(.+)$/i.exec(header.trim());
    if (m === null) {
      throw new TenantliteError("AUTH_HEADER_NOT_FOUND", "Unauthorized: no API token given");
    }
    if (await this.accepts(m[1]!)) return;
    throw new TenantliteError("AUTH_API_TOKEN_INVALID", "Unauthorized: invalid API token");
  }

  /** Whether `token` is the start token or a live created one. */
  private async accepts(token: string): Promise<boolean> {
    const hash = await sha256Hex(token);
    if (hash === (await this.initialHash)) return true;
    for (const t of this.apiTokens.values()) if (t.hash === hash) return true;
    return false;
  }

  /**
   * `exp` for `/v1/auth/validate` (`/v1/auth/api-tokens/validate`): -1 for a token this server
   * would refuse (unknown, revoked, none given). API tokens here never expire; Turso answers -1
   * for that, which `@tursodatabase/api`'s `validate` reports as `valid: false`, so a live token
   * is answered with the latest time JavaScript's clients handle well (9999-12-31T23:59:59Z).
   * With auth off every token is accepted, so every token is live.
   */
  private async expiryOf(req: HttpRequest): Promise<number> {
    if (!this.ctx.auth) return NEVER_EXPIRES;
    const m = /^bearer\s+(.+)$/i.exec((req.headers.get("authorization") ?? "").trim());
    if (m === null) return -1;
    return (await this.accepts(m[1]!)) ? NEVER_EXPIRES : -1;
  }

  private async route(req: HttpRequest, url: URL, path: string): Promise<Reply> {
    const method = req.method;
    const seg = path
      .split("/")
      .filter((s) => s !== "")
      .map(decodeURIComponent);
    // seg[0] = "v1" | "v2"
    const area = seg[1];
    if (area === "locations" && seg.length === 2) {
      return only(method, "GET", () => json({ locations: LOCATIONS }));
    }
    if (area === "auth") return this.authRoutes(req, method, seg.slice(2));
    if (area !== "organizations") throw notFound();
    if (seg.length === 2) {
      return only(method, "GET", () => json({ organizations: [organization()] }));
    }
    if (seg[2] !== ORG) {
      throw new TenantliteError(
        "NOT_FOUND",
        `organization ${JSON.stringify(seg[2]!.slice(0, 64))} not found: this server has only "${ORG}"`,
      );
    }
    const rest = seg.slice(3);
    const [kind, name, sub, subName, extra] = rest;
    if (kind === undefined) {
      if (method === "GET") return json({ organization: organization() });
      if (method === "PATCH") {
        await readJson(req, this.bodyLimits());
        return json({ organization: organization() });
      }
      throw wrongMethod(["GET", "PATCH"]);
    }
    switch (kind) {
      case "members":
        return only(method, "GET", () =>
          json({ members: [{ username: ORG, role: "owner", email: "" }] }),
        );
      case "invoices":
        return only(method, "GET", () => json({ invoices: [] }));
      case "locations":
        return only(method, "GET", () => json({ locations: LOCATIONS }));
      case "groups":
        return this.groups(req, url, method, name, sub, subName, extra);
      case "databases":
        return this.databases(req, url, method, name, sub, subName, extra);
      default:
        throw notFound();
    }
  }

  // ── groups ──────────────────────────────────────────────────────────────

  private async groups(
    req: HttpRequest,
    url: URL,
    method: string,
    name: string | undefined,
    sub: string | undefined,
    subName: string | undefined,
    extra: string | undefined,
  ): Promise<Reply> {
    const p = this.ctx.platform;
    if (name === undefined) {
      if (method === "GET") return json({ groups: (await p.listGroups()).map(groupJson) });
      if (method === "POST") {
        const body = objectBody(await readJson(req, this.bodyLimits()));
        const groupName = field(body, "name");
        const location = field(body, "location");
        if (typeof groupName !== "string") throw badRequest("name is required");
        if (location !== undefined && typeof location !== "string") {
          throw badRequest("location must be a string");
        }
        const g = await p.createGroup(groupName, { location: location ?? "local" });
        return json({ group: groupJson(g) });
      }
      throw wrongMethod(["GET", "POST"]);
    }
    const group = await this.group(name);
    if (sub === undefined) {
      if (method === "GET") return json({ group: groupJson(group) });
      if (method === "DELETE") {
        // tenantlite asks for the explicit `?cascade=true` where Turso deletes every database.
        const cascade = booleanParam(url, "cascade");
        const g = await p.deleteGroup(group.name, { cascade });
        this.ctx.forgetGroup(group.name);
        return json({ group: groupJson(g) });
      }
      throw wrongMethod(["GET", "DELETE"]);
    }
    if (sub === "auth" && subName === "tokens" && extra === undefined) {
      return only(method, "POST", async () => {
        const opts = await this.mintOptions(req, url);
        return json({ jwt: await this.ctx.tokens.mintGroupToken(group.id, opts) });
      });
    }
    if (sub === "auth" && subName === "rotate" && extra === undefined) {
      return only(method, "POST", async () => {
        await this.ctx.tokens.rotateGroup(group.id);
        return json({});
      });
    }
    if (sub === "configuration" && subName === undefined) {
      if (method === "GET") return json({ delete_protection: group.delete_protection });
      if (method === "PATCH") {
        const body = objectBody(await readJson(req, this.bodyLimits()));
        const dp = body.delete_protection;
        if (dp !== undefined && dp !== null && typeof dp !== "boolean") {
          throw new TenantliteError("ARGS_INVALID", "delete_protection must be a boolean");
        }
        // null or missing leaves it unchanged.
        const updated =
          typeof dp === "boolean"
            ? await this.ctx.platform.updateGroup(group.name, { delete_protection: dp })
            : group;
        return json({ delete_protection: updated.delete_protection });
      }
      throw wrongMethod(["GET", "PATCH"]);
    }
    if (sub === "locations" && subName !== undefined && extra === undefined) {
      return only2(method, ["POST", "DELETE"], () => json({ group: groupJson(group) }));
    }
    if ((sub === "update" || sub === "unarchive") && subName === undefined) {
      return only(method, "POST", () => json({ group: groupJson(group) }));
    }
    throw notFound();
  }

  private async group(name: string): Promise<GroupInfo> {
    try {
      return await this.ctx.platform.getGroup(name);
    } catch (e) {
      if (e instanceof TenantliteError && e.code === "GROUP_NOT_FOUND") {
        throw new TenantliteError("GROUP_NOT_FOUND", "group not found");
      }
      throw e;
    }
  }

  // ── databases ───────────────────────────────────────────────────────────

  private async databases(
    req: HttpRequest,
    url: URL,
    method: string,
    name: string | undefined,
    sub: string | undefined,
    subName: string | undefined,
    extra: string | undefined,
  ): Promise<Reply> {
    const p = this.ctx.platform;
    const host = url.host;
    if (name === undefined) {
      if (method === "GET")
        return json({ databases: (await this.list(url)).map((d) => dbJson(d, host)) });
      if (method === "POST") return this.createDatabase(req, host);
      throw wrongMethod(["GET", "POST"]);
    }
    if (sub === "upload" && subName === undefined) {
      return only(method, "POST", () => this.uploadDatabase(req, url, name));
    }
    const info = await this.database(name);
    if (sub === undefined) {
      if (method === "GET") return json({ database: dbJson(info, host) });
      if (method === "DELETE") {
        await p.deleteDatabase(info.id);
        return json({ database: info.name });
      }
      throw wrongMethod(["GET", "DELETE"]);
    }
    if (extra !== undefined) throw notFound();
    switch (sub) {
      case "configuration":
        if (subName !== undefined) throw notFound();
        if (method === "GET") return json(configJson(info));
        if (method === "PATCH") {
          const body = objectBody(await readJson(req, this.bodyLimits()));
          const patch: Record<string, boolean | null> = {};
          for (const k of Object.keys(body)) {
            if (!CONFIG_FIELDS.has(k)) {
              throw unsupported(
                `${JSON.stringify(k.slice(0, 40))} is not a configuration field; known: ${[...CONFIG_FIELDS].join(", ")}`,
              );
            }
          }
          for (const k of ["allow_attach", "block_reads", "block_writes", "delete_protection"]) {
            const v = body[k];
            if (v === undefined || v === null) continue;
            if (typeof v !== "boolean") throw badRequest(`${k} must be a boolean or null`);
            patch[k] = v;
          }
          for (const k of ["allowed_ips", "allowed_aws_vpc_ids"]) {
            const v = body[k];
            if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
            throw unsupported(
              `${k} is not supported: tenantlite listens where it was started and filters no addresses; leave ${k} out (or empty)`,
            );
          }
          // Everything is checked before anything changes.
          const limit = given(body.size_limit);
          const sizeLimit = limit === undefined ? undefined : parseSizeLimit(limit);
          await p.updateConfig(info.id, patch);
          if (sizeLimit !== undefined) await p.setSizeLimit(info.id, sizeLimit);
          return json(configJson(await p.getDatabase(info.id)));
        }
        throw wrongMethod(["GET", "PATCH"]);
      case "usage":
        return only(method, "GET", async () => {
          const bytes = (await p.exportDatabase(info.id)).byteLength;
          const usage = { rows_read: 0, rows_written: 0, storage_bytes: bytes, bytes_synced: 0 };
          return json({
            database: {
              uuid: info.id,
              instances: [{ uuid: info.id, usage }],
              usage,
              total: usage,
            },
          });
        });
      case "auth":
        if (subName === "tokens") {
          return only(method, "POST", async () => {
            const opts = await this.mintOptions(req, url);
            const target = { id: info.id, groupId: await this.ctx.groupId(info.group) };
            return json({ jwt: await this.ctx.tokens.mintDatabaseToken(target, opts) });
          });
        }
        if (subName === "rotate") {
          return only(method, "POST", async () => {
            await this.ctx.tokens.rotateDatabase(info.id);
            return json({});
          });
        }
        throw notFound();
      case "instances": {
        const inst = instanceJson(info, host);
        if (subName === undefined) return only(method, "GET", () => json({ instances: [inst] }));
        if (subName !== inst.name && subName !== inst.uuid) {
          throw new TenantliteError("NOT_FOUND", "instance not found");
        }
        return only(method, "GET", () => json({ instance: inst }));
      }
      case "update":
        return only(method, "POST", () => json({}));
      case "export":
        // tenantlite extension (the CLI's `db export --url`): the SQLite file, base64 in JSON.
        if (subName !== undefined) throw notFound();
        return only(method, "GET", async () => {
          const bytes = await p.exportDatabase(info.id);
          return json({ name: info.name, base64: bytesToBase64(bytes) });
        });
      default:
        throw notFound();
    }
  }

  private async list(url: URL): Promise<DatabaseInfo[]> {
    const q = url.searchParams;
    const group = q.get("group") || undefined;
    const schema = q.get("schema") || undefined;
    const type = q.get("type") || undefined;
    if (type !== undefined && type !== "regular" && type !== "schema" && type !== "child") {
      throw badRequest('type must be "regular", "schema" or "child"');
    }
    const out: DatabaseInfo[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.ctx.platform.listDatabases({
        limit: 1000,
        ...(group ? { group } : {}),
        ...(schema ? { schema } : {}),
        ...(type ? { type: type as DatabaseType } : {}),
        ...(after ? { after } : {}),
      });
      out.push(...page);
      if (page.length < 1000) return out;
      after = page[page.length - 1]!.name;
    }
  }

  /**
   * `POST /databases`. Every field `@tursodatabase/api` 2.x and the Turso CLI send either works or
   * is refused with a coded error naming it; unknown fields are refused too, and a refused
   * request creates nothing.
   */
  private async createDatabase(req: HttpRequest, host: string): Promise<Reply> {
    const body = objectBody(await readJson(req, this.bodyLimits()));
    for (const k of Object.keys(body)) {
      if (!CREATE_FIELDS.has(k.toLowerCase())) {
        throw unsupported(
          `${JSON.stringify(k.slice(0, 40))} is not an option of database creation; known: ${[...CREATE_FIELDS].join(", ")}`,
        );
      }
    }
    const name = field(body, "name");
    if (typeof name !== "string") throw badRequest("name is required");
    const p = this.ctx.platform;
    let group = given(field(body, "group"));
    const groupId = given(field(body, "group_id"));
    if (group !== undefined && groupId !== undefined) {
      throw new TenantliteError("ARGS_INVALID", "give group or group_id, not both");
    }
    if (group !== undefined && typeof group !== "string") {
      throw badRequest("group must be a string");
    }
    if (groupId !== undefined) {
      if (typeof groupId !== "string") throw badRequest("group_id must be a string");
      group = (await p.listGroups()).find((g) => g.id === groupId)?.name;
      if (group === undefined) throw badRequest("group not found");
    }
    let target: GroupInfo | undefined;
    if (group !== undefined) {
      try {
        target = await p.getGroup(group as string);
      } catch {
        throw badRequest("group not found");
      }
    }
    const isSchema = given(field(body, "is_schema"));
    const schema = given(field(body, "schema"));
    if (isSchema !== undefined && typeof isSchema !== "boolean") {
      throw badRequest("is_schema must be a boolean");
    }
    if (schema !== undefined && typeof schema !== "string") {
      throw badRequest("schema must be a string");
    }
    if (isSchema === true && schema !== undefined) {
      throw badRequest("'is_schema' and 'schema' cannot both be provided");
    }
    // Turso's engine versions and options tenantlite has no counterpart for.
    const image = given(field(body, "image"));
    if (image !== undefined && image !== "" && image !== "latest") {
      throw unsupported(
        image === "canary"
          ? 'image "canary" is not available: tenantlite has one engine build; use "latest" or leave image out'
          : 'image must be "latest" (tenantlite has one engine build) or left out',
      );
    }
    const tursoDb = given(field(body, "use_tursodb"));
    if (tursoDb !== undefined && tursoDb !== false) {
      throw unsupported(
        "use_tursodb is not supported: tenantlite runs SQLite (sql.js), not the Turso Database engine; leave it out",
      );
    }
    const extensions = given(field(body, "extensions"));
    if (extensions !== undefined && extensions !== "" && extensions !== "none") {
      throw unsupported(
        "extensions are not supported: tenantlite's SQLite build is fixed (JSON, FTS3/4 and math functions are built in); leave extensions out",
      );
    }
    const location = given(field(body, "location"));
    const groupLocation = target?.location ?? "local";
    if (location !== undefined && location !== "" && location !== groupLocation) {
      throw unsupported(
        `location ${JSON.stringify(String(location).slice(0, 40))} is not available: a database lives where its group does (${JSON.stringify(groupLocation)}); leave location out`,
      );
    }
    const sizeLimitValue = given(field(body, "size_limit"));
    const sizeLimit =
      sizeLimitValue === undefined || sizeLimitValue === "" ? null : parseSizeLimit(sizeLimitValue);
    const encryption = given(field(body, "remote_encryption"));
    const secret = encryption === undefined ? undefined : remoteEncryptionSecret(encryption);
    if (secret !== undefined && (isSchema === true || schema !== undefined)) {
      throw unsupported(
        "remote_encryption cannot be combined with is_schema or schema: schema databases and their children are not encrypted in tenantlite",
      );
    }
    const fromDatabase = await this.seedSource(given(field(body, "seed")), secret);
    const info = await p.createDatabase(name, {
      ...(group !== undefined ? { group: group as string } : {}),
      ...(isSchema === true ? { type: "schema" as const } : {}),
      ...(typeof schema === "string" ? { schema } : {}),
      ...(fromDatabase !== undefined ? { fromDatabase } : {}),
      ...(secret !== undefined ? { encryption: { key: secret } } : {}),
      ...(secret !== undefined && fromDatabase !== undefined
        ? { sourceEncryptionKey: secret }
        : {}),
      ...(sizeLimit !== null ? { sizeLimit } : {}),
    });
    return json({ database: { DbId: info.id, Hostname: hostname(info, host), Name: info.name } });
  }

  /**
   * The database a `seed` copies, after checking it: `{type: "database", name}` works (an
   * encrypted source needs its key in `remote_encryption`, which encrypts the copy too, as in
   * Turso); a point in time, a dump URL and Turso's two-step upload are refused.
   */
  private async seedSource(seed: unknown, secret: string | undefined): Promise<string | undefined> {
    if (seed === undefined) return undefined;
    const s = objectBody(seed);
    for (const k of Object.keys(s)) {
      if (!["type", "name", "url", "timestamp"].includes(k)) {
        throw unsupported(
          `seed.${k.slice(0, 40)} is not an option: a seed has type, name, url and timestamp`,
        );
      }
    }
    const timestamp = given(s.timestamp);
    if (timestamp !== undefined) {
      throw new TenantliteError(
        "SEED_TIMESTAMP_UNSUPPORTED",
        "seed.timestamp cannot be honoured: tenantlite keeps no history of a database, so it can only copy its current state; leave seed.timestamp out",
      );
    }
    if (s.type === "database") {
      if (typeof s.name !== "string" || s.name === "") throw badRequest("seed.name is required");
      if (given(s.url) !== undefined) {
        throw unsupported('seed.url is only for seed type "dump"; a database seed takes a name');
      }
      const source = await this.ctx.platform.getDatabase(s.name).catch(() => undefined);
      if (source === undefined) {
        throw badRequest(
          `seed database ${JSON.stringify(s.name.slice(0, 80))} not found: could not find database with name ${s.name.slice(0, 80)}`,
        );
      }
      if (source.encrypted && secret === undefined) {
        throw new TenantliteError(
          "ENCRYPTION_KEY_REQUIRED",
          `seed database "${source.name}" is encrypted: give its key in remote_encryption, which encrypts the copy too`,
        );
      }
      return s.name;
    }
    const type = JSON.stringify(String(s.type).slice(0, 40));
    if (s.type === "dump") {
      throw unsupported(
        `seed type "dump" is not supported: the server does not fetch URLs; load the dump into a database and seed from it ({"type":"database","name":…}), or POST a SQLite file to /v1/organizations/${ORG}/databases/<name>/upload`,
      );
    }
    if (s.type === "database_upload") {
      throw unsupported(
        `seed type "database_upload" is not supported: POST the SQLite file to /v1/organizations/${ORG}/databases/<name>/upload, which creates the database in one step`,
      );
    }
    throw unsupported(
      `seed type ${type} is not supported: use {"type":"database","name":…}, or POST the SQLite file to /v1/organizations/${ORG}/databases/<name>/upload`,
    );
  }

  /** tenantlite extension: creates database `name` from a SQLite file sent as the body. */
  private async uploadDatabase(req: HttpRequest, url: URL, name: string): Promise<Reply> {
    const bytes = await readBody(req, {
      maxBytes: this.ctx.limits.maxUploadBytes,
      timeoutMs: Math.max(this.ctx.limits.bodyTimeoutMs, 60_000),
    });
    const group = url.searchParams.get("group") || undefined;
    const info = await this.ctx.platform.createDatabase(name, {
      fromBytes: bytes,
      ...(group ? { group } : {}),
    });
    return json({
      database: { DbId: info.id, Hostname: hostname(info, url.host), Name: info.name },
    });
  }

  private async database(name: string): Promise<DatabaseInfo> {
    try {
      return await this.ctx.platform.getDatabase(name);
    } catch (e) {
      if (hasCode(e, "DATABASE_NOT_FOUND")) throw databaseNotFound(name, { platformApi: true });
      throw e;
    }
  }

  private async mintOptions(req: HttpRequest, url: URL): Promise<MintOptions> {
    const expiration = url.searchParams.get("expiration") ?? undefined;
    const authorization = url.searchParams.get("authorization") || undefined;
    const body = await readJson(req, this.bodyLimits());
    const attach: string[] = [];
    if (body !== undefined && body !== null) {
      const permissions = objectBody(body).permissions;
      if (permissions !== undefined && permissions !== null) {
        const readAttach = objectBody(permissions).read_attach;
        if (readAttach !== undefined && readAttach !== null) {
          const dbs = objectBody(readAttach).databases;
          if (dbs !== undefined && dbs !== null) {
            if (!Array.isArray(dbs) || !dbs.every((d) => typeof d === "string")) {
              throw badRequest("permissions.read_attach.databases must be a list of names");
            }
            for (const d of dbs as string[]) {
              try {
                attach.push((await this.ctx.platform.getDatabase(d)).id);
              } catch {
                throw badRequest(
                  `database ${JSON.stringify(d.slice(0, 80))} in read_attach not found`,
                );
              }
            }
          }
        }
      }
    }
    return {
      ...(expiration !== undefined ? { expiration } : {}),
      ...(authorization !== undefined ? { authorization } : {}),
      attach,
    };
  }

  // ── API tokens ──────────────────────────────────────────────────────────

  private async authRoutes(req: HttpRequest, method: string, seg: string[]): Promise<Reply> {
    const [a, b] = seg;
    if (a !== "api-tokens") throw notFound();
    if (b === undefined) {
      return only(method, "GET", () =>
        json({ tokens: [...this.apiTokens.values()].map((t) => ({ id: t.id, name: t.name })) }),
      );
    }
    if (seg.length !== 2) throw notFound();
    if (method === "POST") {
      await readBody(req, this.bodyLimits());
      if (this.apiTokens.has(b)) {
        throw new TenantliteError("API_TOKEN_EXISTS", "an API token with this name already exists");
      }
      const token = randomToken();
      const t = { id: crypto.randomUUID(), name: b, hash: await sha256Hex(token) };
      this.apiTokens.set(b, t);
      await this.save();
      // The token itself is shown once, here; only its hash is kept.
      return json({ id: t.id, name: t.name, token });
    }
    if (method === "DELETE") {
      if (!this.apiTokens.delete(b)) {
        throw new TenantliteError("NOT_FOUND", "API token not found");
      }
      await this.save();
      return json({ token: b });
    }
    throw wrongMethod(["POST", "DELETE"]);
  }

  private bodyLimits() {
    return { maxBytes: this.ctx.limits.maxBodyBytes, timeoutMs: this.ctx.limits.bodyTimeoutMs };
  }
}

/** A random API token (base64url of 32 random bytes). */
export function randomToken(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function organization() {
  return {
    name: ORG,
    slug: ORG,
    type: "personal",
    overages: false,
    blocked_reads: false,
    blocked_writes: false,
    plan_id: "local",
  };
}

function hostname(info: DatabaseInfo, host: string): string {
  const port = /:(\d+)$/.exec(host)?.[1];
  return `${info.name}.localhost${port === undefined ? "" : `:${port}`}`;
}

function dbJson(info: DatabaseInfo, host: string) {
  return {
    Name: info.name,
    DbId: info.id,
    Hostname: hostname(info, host),
    block_reads: info.config.block_reads,
    block_writes: info.config.block_writes,
    allow_attach: info.config.allow_attach,
    regions: ["local"],
    primaryRegion: "local",
    type: "logical",
    version: VERSION,
    group: info.group,
    is_schema: info.type === "schema",
    schema: info.parent ?? undefined,
    archived: false,
    delete_protection: info.config.delete_protection,
    encrypted: info.encrypted,
    sleeping: false,
    database_type: "sqlite",
  };
}

function instanceJson(info: DatabaseInfo, host: string) {
  return {
    uuid: info.id,
    name: "local",
    type: "primary",
    region: "local",
    hostname: hostname(info, host),
  };
}

function configJson(info: DatabaseInfo) {
  return {
    size_limit: formatSizeLimit(info.sizeLimit),
    allow_attach: info.config.allow_attach,
    block_reads: info.config.block_reads,
    block_writes: info.config.block_writes,
    delete_protection: info.config.delete_protection,
    allowed_ips: [],
    allowed_aws_vpc_ids: [],
  };
}

function groupJson(g: GroupInfo) {
  return {
    name: g.name,
    uuid: g.id,
    version: VERSION,
    locations: [g.location],
    primary: g.location,
    archived: false,
    delete_protection: g.delete_protection,
  };
}

function objectBody(v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw badRequest("the body must be a JSON object");
  }
  return v as Record<string, unknown>;
}

/** A body field by name, case-insensitively (the Turso CLI sends capitalised keys). */
function field(body: Record<string, unknown>, name: string): unknown {
  if (name in body) return body[name];
  for (const k of Object.keys(body)) if (k.toLowerCase() === name) return body[k];
  return undefined;
}

/** A `true`/`false` query parameter (absent: false); anything else is refused. */
function booleanParam(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  if (v === null || v === "false" || v === "0") return false;
  if (v === "true" || v === "1" || v === "") return true;
  throw new TenantliteError("ARGS_INVALID", `query parameter ${name} must be true or false`);
}

/** `null` and a missing field alike mean "not given". */
function given(v: unknown): unknown {
  return v === null ? undefined : v;
}

function unsupported(message: string): TenantliteError {
  return new TenantliteError("OPTION_UNSUPPORTED", message);
}

function badRequest(message: string): TenantliteError {
  return new TenantliteError("BAD_REQUEST", message);
}

function notFound(): TenantliteError {
  return new TenantliteError("NOT_FOUND", "no such Platform API route");
}

function wrongMethod(allowed: string[]): TenantliteError {
  return new TenantliteError(
    "METHOD_NOT_ALLOWED",
    `method not allowed here: use ${allowed.join(" or ")}`,
  );
}

function only(
  method: string,
  allowed: string,
  fn: () => Reply | Promise<Reply>,
): Reply | Promise<Reply> {
  if (method !== allowed) throw wrongMethod([allowed]);
  return fn();
}

function only2(
  method: string,
  allowed: string[],
  fn: () => Reply | Promise<Reply>,
): Reply | Promise<Reply> {
  if (!allowed.includes(method)) throw wrongMethod(allowed);
  return fn();
}
