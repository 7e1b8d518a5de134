/**
 * The Platform API's tokens: API tokens (`/v1/auth/api-tokens`, validation) kept by
 * `platform/auth/api-tokens.ts`, the API token check every other Platform API route passes, and
 * the options of database and group JWTs (`…/auth/tokens`) read from a request.
 */
import { TenantliteError } from "../../errors.js";
import type { MintOptions } from "../../platform/auth/jwt.js";
import { json, type Reply, readBody, readJson } from "../http.js";
import type { RequestContext, RouteContext } from "../router.js";
import { badRequest, objectBody } from "./request.js";

/** `exp` answered for a live API token (they never expire): 9999-12-31T23:59:59Z. */
const NEVER_EXPIRES = 253_402_300_799;

/** Refuses a Platform API request without a valid API token (when auth is on). */
export async function authenticate(c: RequestContext): Promise<void> {
  if (!c.server.auth) return;
  const token = bearer(c);
  if (token === undefined) {
    throw new TenantliteError("AUTH_HEADER_NOT_FOUND", "Unauthorized: no API token given");
  }
  if (await c.apiTokens.accepts(token)) return;
  throw new TenantliteError("AUTH_API_TOKEN_INVALID", "Unauthorized: invalid API token");
}

/**
 * `GET /v1/auth/validate` (`/v1/auth/api-tokens/validate`): `exp` of the request's token, -1 for
 * a token this server would refuse (unknown, revoked, none given). API tokens here never expire;
 * Turso answers -1 for that, which `@tursodatabase/api`'s `validate` reports as `valid: false`,
 * so a live token is answered with the latest time JavaScript's clients handle well
 * (9999-12-31T23:59:59Z). With auth off every token is accepted, so every token is live.
 */
export async function validateApiToken(c: RouteContext): Promise<Reply> {
  if (!c.server.auth) return json({ exp: NEVER_EXPIRES });
  const token = bearer(c);
  const live = token !== undefined && (await c.apiTokens.accepts(token));
  return json({ exp: live ? NEVER_EXPIRES : -1 });
}

/** `GET /v1/auth/api-tokens`. */
export function listApiTokens(c: RouteContext): Reply {
  return json({ tokens: c.apiTokens.list() });
}

/** `POST /v1/auth/api-tokens/<name>`: the token itself is shown once, here. */
export async function createApiToken(c: RouteContext): Promise<Reply> {
  await readBody(c.req, c.server.bodyLimits);
  return json(await c.apiTokens.create(c.params.name!));
}

/** `DELETE /v1/auth/api-tokens/<name>`. */
export async function deleteApiToken(c: RouteContext): Promise<Reply> {
  const name = c.params.name!;
  if (!(await c.apiTokens.delete(name))) {
    throw new TenantliteError("NOT_FOUND", "API token not found");
  }
  return json({ token: name });
}

/**
 * The options of a database or group JWT: `expiration` and `authorization` from the query, and
 * the databases it may attach (`permissions.read_attach.databases`, by name) from the body.
 */
export async function mintOptions(c: RouteContext): Promise<MintOptions> {
  const expiration = c.url.searchParams.get("expiration") ?? undefined;
  const authorization = c.url.searchParams.get("authorization") || undefined;
  const body = await readJson(c.req, c.server.bodyLimits);
  const attach: string[] = [];
  if (body !== undefined && body !== null) {
    const permissions = objectBody(body).permissions;
    if (permissions !== undefined && permissions !== null) {
      const readAttach = objectBody(permissions, "permissions").read_attach;
      if (readAttach !== undefined && readAttach !== null) {
        const dbs = objectBody(readAttach, "permissions.read_attach").databases;
        if (dbs !== undefined && dbs !== null) {
          if (!Array.isArray(dbs) || !dbs.every((d) => typeof d === "string")) {
            throw badRequest("permissions.read_attach.databases must be a list of names");
          }
          for (const d of dbs as string[]) {
            try {
              attach.push((await c.server.platform.getDatabase(d)).id);
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

/** The token of a `Bearer` authorization header. */
function bearer(c: RequestContext): string | undefined {
  return /^bearer\s+(.+)$/i.exec((c.req.headers.get("authorization") ?? "").trim())?.[1];
}
