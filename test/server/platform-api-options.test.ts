/**
 * Issue 16, point 7 (and the Platform API part of point 6): the Platform API is never silently
 * wrong. Every option of `@tursodatabase/api` 2.x's `databases.create` works or is refused with a
 * coded error naming it, a refused create leaves nothing behind, groups are not deleted by
 * surprise, `apiTokens.validate` tells the truth, and a `baseUrl` without `/v1/` is told so.
 * Everything goes through the real clients over the real server, on a data directory.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { createClient as createApiClient, type TursoClientError } from "@tursodatabase/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlatform } from "../../src/node/create-platform.js";
import { FsStorage } from "../../src/node/fs-storage.js";
import { type RunningServer, startServer } from "../../src/node/server.js";
import type { Platform } from "../../src/platform/platform.js";
import { caught, useTempDirs } from "../helpers.js";
import { pipeline } from "./helpers.js";

let dir: string;
const tempDir = useTempDirs("tl-api-options-", { scope: "file" });
let platform: Platform;
let server: RunningServer;
let api: ReturnType<typeof createApiClient>;

/** The `code` of the last failed Platform API response: the Turso client keeps only `error`. */
let lastCode: string | undefined;
const realFetch = globalThis.fetch;

beforeAll(async () => {
  globalThis.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    if (!res.ok) {
      lastCode = await res
        .clone()
        .json()
        .then((b: { code?: string }) => b.code)
        .catch(() => undefined);
    }
    return res;
  };
  dir = tempDir();
  await start();
});

/** Starts (or restarts) the platform on `dir` and a server with auth on. */
async function start(): Promise<void> {
  platform = await createPlatform({
    storage: await FsStorage.open(dir),
    kdfIterations: 1000,
    migrationThreads: null,
  });
  server = await startServer({ port: 0, platform, auth: true, apiToken: "boot" });
  api = createApiClient({ org: "local", token: "boot", baseUrl: `${server.url}/v1/` });
}

afterAll(async () => {
  globalThis.fetch = realFetch;
  await server?.close();
  await platform?.close();
});

/** The promise's rejection, with the response's `code` attached as `.code` (for toBeTenantliteError). */
function coded<T>(p: Promise<T>): Promise<T> {
  lastCode = undefined;
  return p.catch((e: unknown) => {
    (e as { code?: string }).code = lastCode;
    throw e;
  });
}

async function names(): Promise<string[]> {
  return (await api.databases.list()).map((d) => d.name).sort();
}

/** Asserts a refused create: its code and message, and that no database was left behind. */
async function refusedCreate(
  name: string,
  options: Parameters<typeof api.databases.create>[1],
  code: string,
  message: RegExp,
  status = 400,
): Promise<void> {
  const before = await names();
  const e = (await caught(
    coded(api.databases.create(name, options)),
  )) as unknown as TursoClientError;
  expect(e).toBeTenantliteError(code, message);
  expect(e.status).toBe(status);
  expect(await names()).toEqual(before);
  expect(await platform.listDatabases()).not.toContainEqual(expect.objectContaining({ name }));
}

/**
 * A create request the client would not send (a field it does not know, a field of the wrong
 * shape), sent as raw JSON: refused with 400 and `answer`, and nothing created.
 */
async function refusedRawCreate(
  body: { name: string } & Record<string, unknown>,
  answer: { code: string; error: RegExp | string },
): Promise<void> {
  const res = await fetch(`${server.url}/v1/organizations/local/databases`, {
    method: "POST",
    headers: { authorization: "Bearer boot" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject(answer);
  expect(await names()).not.toContain(body.name);
}

/** A `@libsql/client` for `name` over HTTP with a fresh token. */
async function sql(name: string, options: { remoteEncryptionKey?: string } = {}) {
  return createClient({
    url: `${server.url}/dev/${name}/`,
    authToken: (await api.databases.createToken(name)).jwt,
    ...options,
  });
}

/** The stored files of the tenant with this id (its image lives under tenants/…/<id>.db). */
function storedFile(id: string): Buffer {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
    );
  const path = walk(join(dir, "tenants")).find((p) => p.endsWith(`${id}.db`));
  expect(path, "the tenant's stored file").toBeDefined();
  return readFileSync(path!);
}

const KEY = Buffer.alloc(32, 7).toString("base64");
const SQLITE_MAGIC = Buffer.from("SQLite format 3\0");

describe("groups.delete", () => {
  it("refuses the default group; databases.create keeps working afterwards", async () => {
    await api.databases.create("in-default");
    const e = (await caught(coded(api.groups.delete("default")))) as unknown as TursoClientError;
    expect(e).toBeTenantliteError("GROUP_IS_DEFAULT", /default group.*cannot be deleted/);
    expect(e.status).toBe(409);
    expect((await api.groups.list()).map((g) => g.name)).toContain("default");
    expect((await api.databases.get("in-default")).group).toBe("default");
    expect((await api.databases.create("after-default")).name).toBe("after-default");
    expect((await api.databases.get("after-default")).group).toBe("default");
  });

  it("refuses a group that holds databases unless ?cascade=true", async () => {
    await api.groups.create("doomed", "local" as never);
    for (const n of ["d1", "d2", "d3"]) await api.databases.create(n, { group: "doomed" });
    await expect(coded(api.groups.delete("doomed"))).rejects.toBeTenantliteError(
      "GROUP_NOT_EMPTY",
      /group "doomed" still holds 3 databases; delete them first, or .*DELETE …\/groups\/doomed\?cascade=true/,
    );
    expect((await api.databases.list({ group: "doomed" })).length).toBe(3);
    const url = `${server.url}/v1/organizations/local/groups/doomed`;
    const headers = { authorization: "Bearer boot" };
    const bad = await fetch(`${url}?cascade=maybe`, { method: "DELETE", headers });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe("ARGS_INVALID");
    const ok = await fetch(`${url}?cascade=true`, { method: "DELETE", headers });
    expect(ok.status).toBe(200);
    expect((await ok.json()).group.name).toBe("doomed");
    expect((await api.groups.list()).map((g) => g.name)).not.toContain("doomed");
    expect(await names()).not.toContain("d1");
  });

  it("deletes an empty group without cascade", async () => {
    await api.groups.create("empty", "local" as never);
    expect((await api.groups.delete("empty")).name).toBe("empty");
    expect((await api.groups.list()).map((g) => g.name)).not.toContain("empty");
  });
});

describe("databases.create: every option works or is refused, naming it", () => {
  it("group: creates in the group; an unknown group is refused", async () => {
    await api.groups.create("eu", "local" as never);
    await api.databases.create("opt-group", { group: "eu" });
    expect((await api.databases.get("opt-group")).group).toBe("eu");
    await refusedCreate("opt-group-x", { group: "nope" }, "BAD_REQUEST", /group not found/);
  });

  it("groupId: creates in the group with that id; an unknown id is refused", async () => {
    const eu = (await realFetch(`${server.url}/v1/organizations/local/groups/eu`, {
      headers: { authorization: "Bearer boot" },
    }).then((r) => r.json())) as { group: { uuid: string } };
    await api.databases.create("opt-group-id", { groupId: eu.group.uuid });
    expect((await api.databases.get("opt-group-id")).group).toBe("eu");
    await refusedCreate(
      "opt-group-id-x",
      { groupId: "no-such-id" },
      "BAD_REQUEST",
      /group not found/,
    );
  });

  it("group and group_id together are refused (the client refuses them first)", async () => {
    const res = await fetch(`${server.url}/v1/organizations/local/databases`, {
      method: "POST",
      headers: { authorization: "Bearer boot" },
      body: JSON.stringify({ name: "opt-both", group: "eu", group_id: "x" }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "ARGS_INVALID", error: /group or group_id/ });
    expect(await names()).not.toContain("opt-both");
  });

  it("is_schema and schema: a schema parent and its child", async () => {
    await api.databases.create("opt-parent", { is_schema: true });
    await api.databases.create("opt-child", { schema: "opt-parent" });
    expect((await api.databases.get("opt-parent")).is_schema).toBe(true);
    expect((await api.databases.get("opt-child")).schema).toBe("opt-parent");
  });

  it("seed {type: database}: a copy of the source's current state", async () => {
    await api.databases.create("opt-seed-src");
    const src = await sql("opt-seed-src");
    await src.execute("CREATE TABLE t (x)");
    await src.execute("INSERT INTO t VALUES ('copied')");
    src.close();
    await api.databases.create("opt-seed", { seed: { type: "database", name: "opt-seed-src" } });
    const copy = await sql("opt-seed");
    expect((await copy.execute("SELECT x FROM t")).rows[0]?.x).toBe("copied");
    copy.close();
    await refusedCreate(
      "opt-seed-x",
      { seed: { type: "database", name: "no-such-db" } },
      "BAD_REQUEST",
      /seed database "no-such-db" not found/,
    );
  });

  it("seed.timestamp is refused, naming it: there is no point-in-time history", async () => {
    for (const timestamp of [new Date(), "2024-01-01T00:00:00Z", new Date(Date.now() + 1e6)]) {
      await refusedCreate(
        "opt-seed-ts",
        { seed: { type: "database", name: "opt-seed-src", timestamp } },
        "SEED_TIMESTAMP_UNSUPPORTED",
        /seed\.timestamp cannot be honoured/,
      );
    }
  });

  it("seed {type: dump} is refused, naming it", async () => {
    await refusedCreate(
      "opt-seed-dump",
      { seed: { type: "dump", url: "http://127.0.0.1:1/dump.sql" } },
      "OPTION_UNSUPPORTED",
      /seed type "dump" is not supported/,
    );
  });

  it("size_limit: a write past it fails with SQLITE_FULL; PATCH raises it; the configuration shows it", async () => {
    await api.databases.create("opt-size", { size_limit: "64kb" });
    const url = `${server.url}/v1/organizations/local/databases/opt-size/configuration`;
    const headers = { authorization: "Bearer boot" };
    expect((await (await fetch(url, { headers })).json()).size_limit).toBe("64000");
    const c = await sql("opt-size");
    await c.execute("CREATE TABLE big (b BLOB)");
    let rows = 0;
    const e = await caught(
      (async () => {
        for (; rows < 200; rows++) await c.execute("INSERT INTO big VALUES (zeroblob(4000))");
      })(),
    );
    expect(e).toBeTenantliteError("SQLITE_FULL", /full/);
    expect(e).toBeDefined();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(16);
    // The limit cannot be lifted from SQL.
    await expect(c.execute("PRAGMA max_page_count = 100000")).rejects.toBeTenantliteError(
      "PRAGMA_FORBIDDEN",
      /size limit/,
    );
    const raised = await fetch(url, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ size_limit: "1mb" }),
    });
    expect((await raised.json()).size_limit).toBe("1000000");
    await c.execute("INSERT INTO big VALUES (zeroblob(4000))");
    const bad = await fetch(url, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ size_limit: "huge", block_writes: true }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe("SIZE_LIMIT_INVALID");
    // Nothing of a refused PATCH was applied.
    expect((await (await fetch(url, { headers })).json()).block_writes).toBe(false);
    const lifted = await fetch(url, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ size_limit: "0" }),
    });
    expect((await lifted.json()).size_limit).toBe("0");
    for (let i = 0; i < 300; i++) await c.execute("INSERT INTO big VALUES (zeroblob(4000))");
    c.close();
  });

  it("size_limit persists across a restart of the server", async () => {
    await api.databases.create("opt-size-keep", { size_limit: "32kib" });
    await server.close();
    await platform.close();
    await start();
    const url = `${server.url}/v1/organizations/local/databases/opt-size-keep/configuration`;
    const config = await (await fetch(url, { headers: { authorization: "Bearer boot" } })).json();
    expect(config.size_limit).toBe(String(32 * 1024));
    const c = await sql("opt-size-keep");
    await c.execute("CREATE TABLE big (b BLOB)");
    await expect(
      (async () => {
        for (let i = 0; i < 50; i++) await c.execute("INSERT INTO big VALUES (zeroblob(4000))");
      })(),
    ).rejects.toBeTenantliteError("SQLITE_FULL");
    c.close();
  });

  it("a malformed size_limit is refused, naming it", async () => {
    for (const size_limit of ["lots", "12 parsecs", "-5mb", "0.1b"]) {
      await refusedCreate("opt-size-x", { size_limit }, "SIZE_LIMIT_INVALID", /size_limit/);
    }
  });

  it("remote_encryption: an encrypted database, used with the key as Turso's clients send it", async () => {
    const created = await api.databases.create("opt-enc", {
      remote_encryption: { encryption_key: KEY, encryption_cipher: "aes256gcm" },
    });
    const c = await sql("opt-enc", { remoteEncryptionKey: KEY });
    await c.execute("CREATE TABLE secrets (s TEXT)");
    await c.execute("INSERT INTO secrets VALUES ('top-secret-value')");
    expect((await c.execute("SELECT s FROM secrets")).rows[0]?.s).toBe("top-secret-value");
    c.close();
    // The secret is the key's base64 text: the library (and the CLI's --encryption-key) opens it.
    const local = platform.client("opt-enc", { encryptionKey: KEY });
    expect((await local.execute("SELECT count(*) AS n FROM secrets")).rows[0]?.n).toBe(1);
    local.close();
    const stored = storedFile(created.id);
    expect(stored.subarray(0, 16).equals(SQLITE_MAGIC)).toBe(false);
    expect(stored.includes(Buffer.from("top-secret-value"))).toBe(false);
    expect(stored.includes(Buffer.from("CREATE TABLE secrets"))).toBe(false);
    // Without the key, or with another, the database does not open.
    const without = await sql("opt-enc");
    await expect(without.execute("SELECT 1")).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_REQUIRED",
    );
    without.close();
    const wrong = await sql("opt-enc", {
      remoteEncryptionKey: Buffer.alloc(32, 8).toString("base64"),
    });
    await expect(wrong.execute("SELECT 1")).rejects.toBeTenantliteError("ENCRYPTION_KEY_INVALID");
    wrong.close();
    // A copy of an encrypted database takes its key (and is encrypted with it).
    await refusedCreate(
      "opt-enc-copy",
      { seed: { type: "database", name: "opt-enc" } },
      "ENCRYPTION_KEY_REQUIRED",
      /remote_encryption/,
    );
    await api.databases.create("opt-enc-copy", {
      seed: { type: "database", name: "opt-enc" },
      remote_encryption: { encryption_key: KEY, encryption_cipher: "aes256gcm" },
    });
    const copy = await sql("opt-enc-copy", { remoteEncryptionKey: KEY });
    expect((await copy.execute("SELECT s FROM secrets")).rows[0]?.s).toBe("top-secret-value");
    copy.close();
    // A key sent to a database that is not encrypted is refused, not ignored.
    const plain = await sql("opt-seed-src", { remoteEncryptionKey: KEY });
    await expect(plain.execute("SELECT 1")).rejects.toBeTenantliteError(
      "ENCRYPTION_KEY_INVALID",
      /is not encrypted/,
    );
    plain.close();
  });

  it("remote_encryption: a stream opened with a key cannot go on with another", async () => {
    const url = `${server.url}/dev/opt-enc/v2/pipeline`;
    const authorization = `Bearer ${(await api.databases.createToken("opt-enc")).jwt}`;
    const step = { type: "execute", stmt: { sql: "SELECT count(*) FROM secrets" } };
    const first = await pipeline(
      url,
      { baton: null, requests: [step] },
      { authorization, "x-turso-encryption-key": KEY },
    );
    expect(first.status).toBe(200);
    expect(first.body.results[0].type).toBe("ok");
    const other = await pipeline(
      url,
      { baton: first.body.baton, requests: [step] },
      { authorization, "x-turso-encryption-key": Buffer.alloc(32, 9).toString("base64") },
    );
    expect(other.status).toBe(400);
    expect(other.body.code).toBe("ENCRYPTION_KEY_INVALID");
    const none = await pipeline(
      url,
      { baton: first.body.baton, requests: [step] },
      { authorization },
    );
    expect(none.status).toBe(400);
  });

  it("remote_encryption with a cipher tenantlite does not use, or a bad key, is refused", async () => {
    for (const cipher of ["aegis256", "aes128gcm", "chacha20poly1305"] as const) {
      await refusedCreate(
        "opt-enc-x",
        { remote_encryption: { encryption_key: KEY, encryption_cipher: cipher } },
        "ENCRYPTION_CIPHER_UNSUPPORTED",
        new RegExp(`encryption_cipher "${cipher}" is not supported.*aes256gcm`),
      );
    }
    const short = Buffer.alloc(16, 1).toString("base64");
    await refusedCreate(
      "opt-enc-x",
      { remote_encryption: { encryption_key: short, encryption_cipher: "aes256gcm" } },
      "ENCRYPTION_KEY_INVALID",
      /encryption_key must decode to 32 bytes/,
    );
    await refusedCreate(
      "opt-enc-x",
      { remote_encryption: { encryption_key: "not base64!", encryption_cipher: "aes256gcm" } },
      "ENCRYPTION_KEY_INVALID",
      /not valid base64/,
    );
    const e = await coded(
      api.databases.create("opt-enc-x", {
        remote_encryption: { encryption_key: KEY, encryption_cipher: "aegis256" },
      }),
    ).catch((x: Error) => x);
    // Messages never carry the key.
    expect((e as Error).message).not.toContain(KEY);
  });

  it("image: latest works; canary is refused", async () => {
    await api.databases.create("opt-image", { image: "latest" });
    expect(await names()).toContain("opt-image");
    await refusedCreate(
      "opt-image-x",
      { image: "canary" },
      "OPTION_UNSUPPORTED",
      /image "canary" is not available/,
    );
  });

  it("useTursoDb: false works; true is refused", async () => {
    await api.databases.create("opt-tursodb", { useTursoDb: false });
    expect(await names()).toContain("opt-tursodb");
    await refusedCreate(
      "opt-tursodb-x",
      { useTursoDb: true },
      "OPTION_UNSUPPORTED",
      /use_tursodb is not supported/,
    );
  });

  it("fields the client does not send are refused too, naming them", async () => {
    await refusedRawCreate(
      { name: "opt-unknown", size_limt: "1mb" },
      { code: "OPTION_UNSUPPORTED", error: /"size_limt"/ },
    );
  });

  it("a field that must be an object and is not is refused naming that field, not the body", async () => {
    await refusedRawCreate(
      { name: "opt-seed-text", seed: "opt-seed-src" },
      { code: "BAD_REQUEST", error: "seed must be a JSON object" },
    );
  });
});

describe("apiTokens.validate", () => {
  it("says valid with an expiry in the future for a live token, and invalid for a revoked or unknown one", async () => {
    const now = Math.floor(Date.now() / 1000);
    const live = await api.apiTokens.validate("boot");
    expect(live.valid).toBe(true);
    expect(live.expiry).toBeGreaterThan(now);
    const created = await api.apiTokens.create("validate-me");
    const client = (token: string) =>
      createApiClient({ org: "local", token, baseUrl: `${server.url}/v1/` });
    // The client sends its own token, whatever it is given (see the reference, §4.4).
    expect((await client(created.token).apiTokens.validate(created.token)).valid).toBe(true);
    await api.apiTokens.revoke("validate-me");
    expect(await client(created.token).apiTokens.validate(created.token)).toEqual({
      valid: false,
      expiry: -1,
    });
    expect((await client("never-issued").apiTokens.validate("never-issued")).valid).toBe(false);
  });
});

describe("a baseUrl without /v1/", () => {
  it("is told to add /v1/", async () => {
    for (const baseUrl of [`${server.url}/`, `${server.url}/v1`]) {
      const bare = createApiClient({ org: "local", token: "boot", baseUrl });
      const e = (await caught(coded(bare.databases.list()))) as unknown as TursoClientError;
      expect(e).toBeTenantliteError(
        "API_PATH_WITHOUT_VERSION",
        /end the client's baseUrl with \/v1\/ \(trailing slash included\)/,
      );
      expect(e.status).toBe(404);
    }
  });
});
