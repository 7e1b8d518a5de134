/**
 * Matching a request to a route of the table in `routes.ts`. A route's path has literal segments
 * and `:name` parameters, each one non-empty segment. The first route (in table order) whose path
 * matches decides the path; among the routes with that same path, the method picks one, or the
 * match answers the methods that path allows.
 */
import type { ApiTokens } from "../platform/auth/api-tokens.js";
import type { ServerContext } from "./context.js";
import type { HttpStreams } from "./hrana/http-streams.js";
import type { HttpRequest, Reply } from "./http.js";

/** Everything a route's handler gets: one object, named fields. */
export interface RouteContext {
  readonly req: HttpRequest;
  readonly url: URL;
  /** The path's `:name` parameters (decoded on the Platform API). */
  readonly params: Readonly<Record<string, string>>;
  /** The database the request selected (`/dev/<db>/` or `Host`); undefined: the root database. */
  readonly database: string | undefined;
  readonly server: ServerContext;
  readonly streams: HttpStreams;
  readonly apiTokens: ApiTokens;
}

/** A request before routing: the route context without the path's parameters. */
export type RequestContext = Omit<RouteContext, "params">;

/**
 * Which endpoints a route belongs to: `database` (Hrana, jobs and probes of the selected database;
 * failures as `{message, code}`) or `api` (the Platform API: an API token, failures as
 * `{error, code}`).
 */
export type Area = "database" | "api";

/** One endpoint: a method on a path, and the function that answers it. */
export interface Route {
  readonly area: Area;
  readonly method: string;
  /** E.g. `/v1/organizations/:org/groups/:group`. */
  readonly path: string;
  /** Answered before the API token is checked (token validation answers for any token). */
  readonly public?: boolean;
  readonly handle: (c: RouteContext) => Reply | Promise<Reply>;
}

/** What a path matched: a route and its parameters, or only the methods its path allows. */
export type Match =
  | { readonly route: Route; readonly params: Record<string, string> }
  | { readonly route: undefined; readonly allowed: readonly string[]; readonly public: boolean };

/** A route table, compiled once. */
export class Router {
  private readonly compiled: readonly { route: Route; segments: readonly string[] }[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({
      route,
      segments: route.path === "/" ? [] : route.path.slice(1).split("/"),
    }));
  }

  /** The route for `method` on a path of `area` given as its segments; undefined: no such path. */
  match(area: Area, method: string, segments: readonly string[]): Match | undefined {
    let path: string | undefined;
    let params: Record<string, string> | undefined;
    const allowed: string[] = [];
    let open = false;
    for (const { route, segments: pattern } of this.compiled) {
      if (route.area !== area) continue;
      if (path === undefined) {
        params = bind(pattern, segments);
        if (params === undefined) continue;
        path = route.path;
      } else if (route.path !== path) {
        continue;
      }
      if (route.method === method) return { route, params: params! };
      allowed.push(route.method);
      open ||= route.public === true;
    }
    return path === undefined ? undefined : { route: undefined, allowed, public: open };
  }
}

function bind(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith(":")) {
      if (s === "") return undefined;
      params[p.slice(1)] = s;
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}
