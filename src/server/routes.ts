/**
 * Every endpoint of the server, in one table: Hrana over HTTP and its probes, sqld's migration
 * jobs, and Turso's Platform API (reference §4). Handlers live apart, one file per concern; the
 * router (`router.ts`) matches a request here, and `handler.ts` runs what matched.
 *
 * `database` paths are relative to the selected database (`/dev/<db>/…` or the `Host`'s first
 * label). `api` paths are written with `/v1/`; `/v2/` is served the same.
 */
import * as hrana from "./hrana/http-routes.js";
import { getJob, listJobs } from "./jobs.js";
import * as databases from "./platform-api/databases.js";
import * as groups from "./platform-api/groups.js";
import * as orgs from "./platform-api/organizations.js";
import * as tokens from "./platform-api/tokens.js";
import type { Route } from "./router.js";

const ORG = "/v1/organizations/:org";
const DB = `${ORG}/databases/:name`;
const GROUP = `${ORG}/groups/:group`;

/** A route of the selected database. */
function db(method: string, path: string, handle: Route["handle"]): Route {
  return { area: "database", method, path, handle };
}

/** A Platform API route. */
function api(
  method: string,
  path: string,
  handle: Route["handle"],
  options: { public?: boolean } = {},
): Route {
  return { area: "api", method, path, handle, ...options };
}

export const ROUTES: readonly Route[] = [
  // Hrana over HTTP (WebSocket sessions upgrade on GET /, before any route).
  db("POST", "/v2/pipeline", hrana.pipeline),
  db("POST", "/v3/pipeline", hrana.pipeline),
  db("POST", "/v3/cursor", hrana.cursor),
  db("GET", "/v2", hrana.hello("v2")),
  db("GET", "/v3", hrana.hello("v3")),
  db("GET", "/health", hrana.health),
  db("GET", "/version", hrana.version),
  db("GET", "/dump", hrana.dump),
  db("GET", "/", hrana.root),
  // sqld's migration jobs of a schema database.
  db("GET", "/v1/jobs", listJobs),
  db("GET", "/v1/jobs/:id", getJob),

  // Platform API: API tokens (validation answers for any token, before the token check).
  api("GET", "/v1/auth/validate", tokens.validateApiToken, { public: true }),
  api("GET", "/v1/auth/api-tokens/validate", tokens.validateApiToken, { public: true }),
  api("GET", "/v1/auth/api-tokens", tokens.listApiTokens),
  api("POST", "/v1/auth/api-tokens/:name", tokens.createApiToken),
  api("DELETE", "/v1/auth/api-tokens/:name", tokens.deleteApiToken),
  // Platform API: the organization and locations.
  api("GET", "/v1/locations", orgs.listLocations),
  api("GET", "/v1/organizations", orgs.listOrganizations),
  api("GET", ORG, orgs.getOrganization),
  api("PATCH", ORG, orgs.patchOrganization),
  api("GET", `${ORG}/members`, orgs.listMembers),
  api("GET", `${ORG}/invoices`, orgs.listInvoices),
  api("GET", `${ORG}/locations`, orgs.listLocations),
  // Platform API: groups.
  api("GET", `${ORG}/groups`, groups.listGroups),
  api("POST", `${ORG}/groups`, groups.createGroup),
  api("GET", GROUP, groups.getGroup),
  api("DELETE", GROUP, groups.deleteGroup),
  api("POST", `${GROUP}/auth/tokens`, groups.createGroupToken),
  api("POST", `${GROUP}/auth/rotate`, groups.rotateGroupTokens),
  api("GET", `${GROUP}/configuration`, groups.getGroupConfig),
  api("PATCH", `${GROUP}/configuration`, groups.patchGroupConfig),
  api("POST", `${GROUP}/locations/:location`, groups.addGroupLocation),
  api("DELETE", `${GROUP}/locations/:location`, groups.removeGroupLocation),
  api("POST", `${GROUP}/update`, groups.getGroup),
  api("POST", `${GROUP}/unarchive`, groups.getGroup),
  // Platform API: databases.
  api("GET", `${ORG}/databases`, databases.listDatabases),
  api("POST", `${ORG}/databases`, databases.createDatabase),
  api("POST", `${DB}/upload`, databases.uploadDatabase),
  api("GET", DB, databases.getDatabase),
  api("DELETE", DB, databases.deleteDatabase),
  api("GET", `${DB}/configuration`, databases.getDatabaseConfig),
  api("PATCH", `${DB}/configuration`, databases.patchDatabaseConfig),
  api("GET", `${DB}/usage`, databases.databaseUsage),
  api("POST", `${DB}/auth/tokens`, databases.createDatabaseToken),
  api("POST", `${DB}/auth/rotate`, databases.rotateDatabaseTokens),
  api("GET", `${DB}/instances`, databases.listInstances),
  api("GET", `${DB}/instances/:instance`, databases.getInstance),
  api("POST", `${DB}/update`, databases.updateDatabase),
  api("GET", `${DB}/export`, databases.exportDatabase),
];
