/**
 * The Platform API's organization (one: `local`) and locations (one: where the server runs), so
 * that clients and the Turso CLI that ask for them find what they expect.
 */
import { TenantliteError } from "../../errors.js";
import { json, type Reply, readJson } from "../http.js";
import type { RouteContext } from "../router.js";
import { LOCATIONS, ORG, organizationJson } from "./views.js";

/** Refuses a path under `/organizations/<org>/` for any organization but `local`. */
export function checkOrganization(segments: readonly string[]): void {
  const org = segments[2];
  if (segments[1] === "organizations" && org !== undefined && org !== ORG) {
    throw new TenantliteError(
      "NOT_FOUND",
      `organization ${JSON.stringify(org.slice(0, 64))} not found: this server has only "${ORG}"`,
    );
  }
}

/** `GET /organizations`. */
export function listOrganizations(): Reply {
  return json({ organizations: [organizationJson()] });
}

/** `GET /organizations/local`. */
export function getOrganization(): Reply {
  return json({ organization: organizationJson() });
}

/** `PATCH /organizations/local`: nothing to change; the body must still be JSON. */
export async function patchOrganization(c: RouteContext): Promise<Reply> {
  await readJson(c.req, c.server.bodyLimits);
  return json({ organization: organizationJson() });
}

/** `GET /organizations/local/members`: its one member, the owner. */
export function listMembers(): Reply {
  return json({ members: [{ username: ORG, role: "owner", email: "" }] });
}

/** `GET /organizations/local/invoices`: none. */
export function listInvoices(): Reply {
  return json({ invoices: [] });
}

/** `GET /locations`, `GET /organizations/local/locations`. */
export function listLocations(): Reply {
  return json({ locations: LOCATIONS });
}
