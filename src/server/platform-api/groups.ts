/**
 * The Platform API's groups (`/v1/organizations/local/groups/…`): list, create, get, delete,
 * configuration, group tokens and rotation; update and unarchive answer the group as it is
 * (nothing to update); of locations there is one, the group's own.
 */
import { groupNotFound, hasCode, TenantliteError } from "../../errors.js";
import type { GroupInfo } from "../../platform/types.js";
import { json, type Reply, readJson } from "../http.js";
import type { RouteContext } from "../router.js";
import { badRequest, booleanParam, field, objectBody, unsupported } from "./request.js";
import { mintOptions } from "./tokens.js";
import { groupJson } from "./views.js";

/** `GET /groups`. */
export async function listGroups(c: RouteContext): Promise<Reply> {
  return json({ groups: (await c.server.platform.listGroups()).map(groupJson) });
}

/** `POST /groups` `{name, location?}`. */
export async function createGroup(c: RouteContext): Promise<Reply> {
  const body = objectBody(await readJson(c.req, c.server.bodyLimits));
  const name = field(body, "name");
  const location = field(body, "location");
  if (typeof name !== "string") throw badRequest("name is required");
  if (location !== undefined && typeof location !== "string") {
    throw badRequest("location must be a string");
  }
  const g = await c.server.platform.createGroup(name, { location: location ?? "local" });
  return json({ group: groupJson(g) });
}

/** `GET /groups/<group>`; also `locations/<location>` (POST, DELETE), `update`, `unarchive`. */
export async function getGroup(c: RouteContext): Promise<Reply> {
  return json({ group: groupJson(await group(c)) });
}

/** `POST /groups/<group>/locations/<location>`: the group's own is there already; no other exists. */
export async function addGroupLocation(c: RouteContext): Promise<Reply> {
  const g = await group(c);
  const location = c.params.location!;
  if (location !== g.location) {
    throw unsupported(
      `location ${JSON.stringify(location.slice(0, 40))} is not available: a group has one location here, ${JSON.stringify(g.location)}`,
    );
  }
  return json({ group: groupJson(g) });
}

/** `DELETE /groups/<group>/locations/<location>`: a group's one location is its primary. */
export async function removeGroupLocation(c: RouteContext): Promise<Reply> {
  const g = await group(c);
  const location = c.params.location!;
  throw location === g.location
    ? badRequest(
        `location ${JSON.stringify(location)} is the group's primary location, which cannot be removed`,
      )
    : unsupported(
        `location ${JSON.stringify(location.slice(0, 40))} is not one of the group's locations (${JSON.stringify(g.location)})`,
      );
}

/** `DELETE /groups/<group>`: tenantlite asks for `?cascade=true` where Turso deletes every database. */
export async function deleteGroup(c: RouteContext): Promise<Reply> {
  const g = await group(c);
  const cascade = booleanParam(c.url, "cascade");
  const deleted = await c.server.platform.deleteGroup(g.name, { cascade });
  c.server.forgetGroup(g.name);
  return json({ group: groupJson(deleted) });
}

/** `POST /groups/<group>/auth/tokens`: a group JWT. */
export async function createGroupToken(c: RouteContext): Promise<Reply> {
  const g = await group(c);
  const opts = await mintOptions(c);
  return json({ jwt: await c.server.tokens.mintGroupToken(g.id, opts) });
}

/** `POST /groups/<group>/auth/rotate`: every earlier token of the group stops working. */
export async function rotateGroupTokens(c: RouteContext): Promise<Reply> {
  await c.server.tokens.rotateGroup((await group(c)).id);
  return json({});
}

/** `GET /groups/<group>/configuration`. */
export async function getGroupConfig(c: RouteContext): Promise<Reply> {
  return json({ delete_protection: (await group(c)).delete_protection });
}

/** `PATCH /groups/<group>/configuration` `{delete_protection}`; null or missing leaves it. */
export async function patchGroupConfig(c: RouteContext): Promise<Reply> {
  const g = await group(c);
  const body = objectBody(await readJson(c.req, c.server.bodyLimits));
  const dp = body.delete_protection;
  if (dp !== undefined && dp !== null && typeof dp !== "boolean") {
    throw new TenantliteError("ARGS_INVALID", "delete_protection must be a boolean");
  }
  const updated =
    typeof dp === "boolean"
      ? await c.server.platform.updateGroup(g.name, { delete_protection: dp })
      : g;
  return json({ delete_protection: updated.delete_protection });
}

/** The group the path names, `GROUP_NOT_FOUND` in the Platform API's words when there is none. */
async function group(c: RouteContext): Promise<GroupInfo> {
  try {
    return await c.server.platform.getGroup(c.params.group!);
  } catch (e) {
    if (hasCode(e, "GROUP_NOT_FOUND")) throw groupNotFound();
    throw e;
  }
}
