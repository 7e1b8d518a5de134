/**
 * The Platform API's databases (`/v1/organizations/local/databases/…`): list, create (from
 * nothing, a seed database or an uploaded file), get, delete, configuration, usage, database
 * tokens and rotation, instances, export. Every field `@tursodatabase/api` 2.x and the Turso CLI
 * send either works or is refused with a coded error naming it.
 */
import { bytesToBase64 } from "../../engine/values.js";
import { databaseNotFound, hasCode, TenantliteError } from "../../errors.js";
import type { DatabaseInfo, DatabaseType, GroupInfo } from "../../platform/types.js";
import { json, type Reply, readBody, readJson } from "../http.js";
import { remoteEncryptionSecret } from "../remote-encryption.js";
import type { RouteContext } from "../router.js";
import { parseSizeLimit } from "../size-limit.js";
import { badRequest, field, given, objectBody, unsupported } from "./request.js";
import { mintOptions } from "./tokens.js";
import { configJson, createdJson, databaseJson, instanceJson, ORG } from "./views.js";

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

/** `GET /databases` (`?group=`, `?schema=`, `?type=regular|schema|child`). */
export async function listDatabases(c: RouteContext): Promise<Reply> {
  const host = c.url.host;
  return json({ databases: (await listAll(c)).map((d) => databaseJson(d, host)) });
}

/** `GET /databases/<name>`. */
export async function getDatabase(c: RouteContext): Promise<Reply> {
  return json({ database: databaseJson(await database(c), c.url.host) });
}

/** `DELETE /databases/<name>`. */
export async function deleteDatabase(c: RouteContext): Promise<Reply> {
  const info = await database(c);
  await c.server.platform.deleteDatabase(info.id);
  return json({ database: info.name });
}

/** `GET /databases/<name>/configuration`. */
export async function getDatabaseConfig(c: RouteContext): Promise<Reply> {
  return json(configJson(await database(c)));
}

/**
 * `PATCH /databases/<name>/configuration`: the flags and `size_limit`; address filters are
 * refused unless empty. Everything is checked before anything changes.
 */
export async function patchDatabaseConfig(c: RouteContext): Promise<Reply> {
  const info = await database(c);
  const p = c.server.platform;
  const body = objectBody(await readJson(c.req, c.server.bodyLimits));
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
  const limit = given(body.size_limit);
  const sizeLimit = limit === undefined ? undefined : parseSizeLimit(limit);
  await p.updateConfig(info.id, patch);
  if (sizeLimit !== undefined) await p.setSizeLimit(info.id, sizeLimit);
  return json(configJson(await p.getDatabase(info.id)));
}

/** `GET /databases/<name>/usage`: the file's size; rows are not counted. */
export async function databaseUsage(c: RouteContext): Promise<Reply> {
  const info = await database(c);
  const bytes = (await c.server.platform.exportDatabase(info.id)).byteLength;
  const usage = { rows_read: 0, rows_written: 0, storage_bytes: bytes, bytes_synced: 0 };
  return json({
    database: { uuid: info.id, instances: [{ uuid: info.id, usage }], usage, total: usage },
  });
}

/** `POST /databases/<name>/auth/tokens`: a database JWT. */
export async function createDatabaseToken(c: RouteContext): Promise<Reply> {
  const info = await database(c);
  const opts = await mintOptions(c);
  const target = { id: info.id, groupId: await c.server.groupId(info.group) };
  return json({ jwt: await c.server.tokens.mintDatabaseToken(target, opts) });
}

/** `POST /databases/<name>/auth/rotate`: every earlier token of the database stops working. */
export async function rotateDatabaseTokens(c: RouteContext): Promise<Reply> {
  await c.server.tokens.rotateDatabase((await database(c)).id);
  return json({});
}

/** `GET /databases/<name>/instances`: its one instance. */
export async function listInstances(c: RouteContext): Promise<Reply> {
  return json({ instances: [instanceJson(await database(c), c.url.host)] });
}

/** `GET /databases/<name>/instances/<instance>` (by name or UUID). */
export async function getInstance(c: RouteContext): Promise<Reply> {
  const inst = instanceJson(await database(c), c.url.host);
  const wanted = c.params.instance!;
  if (wanted !== inst.name && wanted !== inst.uuid) {
    throw new TenantliteError("NOT_FOUND", "instance not found");
  }
  return json({ instance: inst });
}

/** `POST /databases/<name>/update`: nothing to update (one engine build). */
export async function updateDatabase(c: RouteContext): Promise<Reply> {
  await database(c);
  return json({});
}

/** `GET /databases/<name>/export` (tenantlite extension, the CLI's `db export --url`): the SQLite file, base64 in JSON. */
export async function exportDatabase(c: RouteContext): Promise<Reply> {
  const info = await database(c);
  const bytes = await c.server.platform.exportDatabase(info.id);
  return json({ name: info.name, base64: bytesToBase64(bytes) });
}

/** The database the path names, `DATABASE_NOT_FOUND` in the Platform API's words. */
async function database(c: RouteContext): Promise<DatabaseInfo> {
  const name = c.params.name!;
  try {
    return await c.server.platform.getDatabase(name);
  } catch (e) {
    if (hasCode(e, "DATABASE_NOT_FOUND")) throw databaseNotFound(name, { platformApi: true });
    throw e;
  }
}

/**
 * `POST /databases`. Every field `@tursodatabase/api` 2.x and the Turso CLI send either works or
 * is refused with a coded error naming it; unknown fields are refused too, and a refused
 * request creates nothing.
 */
export async function createDatabase(c: RouteContext): Promise<Reply> {
  const body = objectBody(await readJson(c.req, c.server.bodyLimits));
  for (const k of Object.keys(body)) {
    if (!CREATE_FIELDS.has(k.toLowerCase())) {
      throw unsupported(
        `${JSON.stringify(k.slice(0, 40))} is not an option of database creation; known: ${[...CREATE_FIELDS].join(", ")}`,
      );
    }
  }
  const name = field(body, "name");
  if (typeof name !== "string") throw badRequest("name is required");
  const p = c.server.platform;
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
  const source = await seedSource(c, given(field(body, "seed")), secret);
  const info = await p.createDatabase(name, {
    ...(group !== undefined ? { group: group as string } : {}),
    ...(isSchema === true ? { type: "schema" as const } : {}),
    ...(typeof schema === "string" ? { schema } : {}),
    ...(source !== undefined ? { fromDatabase: source.name } : {}),
    ...(secret !== undefined ? { encryption: { key: secret } } : {}),
    // An encrypted source's key is the copy's (an unencrypted source takes no key).
    ...(secret !== undefined && source?.encrypted ? { sourceEncryptionKey: secret } : {}),
    ...(sizeLimit !== null ? { sizeLimit } : {}),
  });
  return json({ database: createdJson(info, c.url.host) });
}

/**
 * The database a `seed` copies, after checking it: `{type: "database", name}` works (an
 * encrypted source needs its key in `remote_encryption`, which encrypts the copy too, as in
 * Turso); a point in time, a dump URL and Turso's two-step upload are refused.
 */
async function seedSource(
  c: RouteContext,
  seed: unknown,
  secret: string | undefined,
): Promise<DatabaseInfo | undefined> {
  if (seed === undefined) return undefined;
  const s = objectBody(seed, "seed");
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
    const source = await c.server.platform.getDatabase(s.name).catch(() => undefined);
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
    return source;
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

/** `POST /databases/<name>/upload` (tenantlite extension): creates it from the SQLite file sent. */
export async function uploadDatabase(c: RouteContext): Promise<Reply> {
  const bytes = await readBody(c.req, {
    maxBytes: c.server.limits.maxUploadBytes,
    timeoutMs: Math.max(c.server.limits.bodyTimeoutMs, 60_000),
  });
  const group = c.url.searchParams.get("group") || undefined;
  const info = await c.server.platform.createDatabase(c.params.name!, {
    fromBytes: bytes,
    ...(group ? { group } : {}),
  });
  return json({ database: createdJson(info, c.url.host) });
}

async function listAll(c: RouteContext): Promise<DatabaseInfo[]> {
  const url = c.url;
  const q = url.searchParams;
  const group = q.get("group") || undefined;
  const schema = q.get("schema") || undefined;
  const type = q.get("type") || undefined;
  if (type !== undefined && type !== "regular" && type !== "schema" && type !== "child") {
    throw badRequest('type must be "regular", "schema" or "child"');
  }
  const out: DatabaseInfo[] = [];
  for (let after: string | undefined; ; ) {
    const page = await c.server.platform.listDatabases({
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
