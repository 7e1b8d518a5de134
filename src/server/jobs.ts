/**
 * sqld's migration jobs of a schema database (`GET /v1/jobs`, `GET /v1/jobs/<id>`), on the
 * database's own URL and with its JWT: the handlers of the jobs routes in `routes.ts`.
 */
import type { DatabaseSession } from "./context.js";
import { json, type Reply } from "./http.js";
import type { RouteContext } from "./router.js";

/** `GET /v1/jobs`: the schema's migrations, newest first. */
export async function listJobs(c: RouteContext): Promise<Reply> {
  const session = await schemaSession(c);
  if (session === undefined) return notSchema();
  return json(await c.server.platform.listMigrations(session.info.name));
}

/** `GET /v1/jobs/<id>`: one migration and its progress per child. */
export async function getJob(c: RouteContext): Promise<Reply> {
  const session = await schemaSession(c);
  if (session === undefined) return notSchema();
  const id = Number(c.params.id);
  if (!Number.isSafeInteger(id) || id < 1) {
    return json({ error: "couldn't find requested migration job" }, 404);
  }
  const { job_id, status, error, progress } = await c.server.platform.getMigration(
    session.info.name,
    id,
  );
  return json({ job_id, status, ...(error === undefined ? {} : { error }), progress });
}

/** The request's session when its database is a schema database. */
async function schemaSession(c: RouteContext): Promise<DatabaseSession | undefined> {
  const session = await c.server.session(
    c.database,
    await c.server.permissionsFromHeader(c.req.headers.get("authorization")),
  );
  return session.info.type === "schema" ? session : undefined;
}

/** sqld's answer (`{"error"}` only) for jobs of a database that is not a schema database. */
function notSchema(): Reply {
  return json({ error: "Invalid namespace" }, 400);
}
