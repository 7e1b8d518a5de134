/**
 * Multi-database schema and queries (the mission of issue 7, point 7), end to end with the
 * unmodified clients: `@tursodatabase/api`
 * creates a schema parent with three children, enables attach on one and mints a token with
 * `read_attach`; `@libsql/client` migrates the parent and sees the change in every child, writes
 * per tenant, ATTACHes and joins in one transaction, and sees DDL on a child and an unauthorized
 * attach refused with readable messages — over http:// and ws://.
 */
import { createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { caught } from "../helpers.js";
import { startTestServer } from "./helpers.js";

let server: RunningServer;
let api: Awaited<ReturnType<typeof startTestServer>>["api"];

beforeAll(async () => {
  ({ server, api } = await startTestServer({ auth: true }));
  await api.databases.create("saas", { is_schema: true });
  for (const name of ["tenant-a", "tenant-b", "catalog"]) {
    await api.databases.create(name, { schema: "saas" });
  }
});
afterAll(() => server.close());

describe.each(["http", "ws"] as const)("the mission over %s", (scheme) => {
  const url = (db: string) =>
    scheme === "http" ? `${server.url}/dev/${db}/` : `${server.wsUrl}/dev/${db}/`;

  it("migrates the parent into every child, joins across tenants, refuses what it must", async () => {
    const suffix = scheme;
    const parentToken = (await api.databases.createToken("saas")).jwt;
    const parent = createClient({ url: url("saas"), authToken: parentToken });
    await parent.execute(`CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)`);
    await parent.execute(`ALTER TABLE users ADD COLUMN plan_${suffix} TEXT`);
    parent.close();

    // The migration reached every child.
    for (const name of ["tenant-a", "tenant-b", "catalog"]) {
      const c = createClient({
        url: url(name),
        authToken: (await api.databases.createToken(name)).jwt,
      });
      const cols = await c.execute("SELECT name FROM pragma_table_info('users')");
      expect(cols.rows.map((r) => r.name)).toContain(`plan_${suffix}`);
      await c.execute({
        sql: `INSERT INTO users (name, plan_${suffix}) VALUES (?, ?)`,
        args: [`${name}-user`, "pro"],
      });
      c.close();
    }

    // Attach is allowed on "catalog" only, and only with a token that grants it.
    await fetch(`${server.url}/v1/organizations/local/databases/catalog/configuration`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${server.apiToken}` },
      body: JSON.stringify({ allow_attach: true }),
    });
    const attachToken = (
      await api.databases.createToken("tenant-a", {
        permissions: { read_attach: { databases: ["catalog"] } },
      })
    ).jwt;
    const a = createClient({ url: url("tenant-a"), authToken: attachToken });
    const tx = await a.transaction("read");
    await tx.execute('ATTACH "catalog" AS cat');
    const joined = await tx.execute(
      `SELECT u.name AS mine, c.name AS theirs FROM users u JOIN cat.users c ON c.plan_${suffix} = u.plan_${suffix}`,
    );
    expect(joined.rows.map((r) => [r.mine, r.theirs])).toContainEqual([
      "tenant-a-user",
      "catalog-user",
    ]);
    // Read-only through the attachment.
    await expect(tx.execute("DELETE FROM cat.users")).rejects.toBeTenantliteError(
      "SQLITE_READONLY",
    );
    await tx.rollback();

    // DDL on a child is refused with a readable, coded error.
    const e = await caught(a.execute("CREATE TABLE hack (x)"));
    expect(e).toBeTenantliteError("DDL_FORBIDDEN");
    expect(e.message).toMatch(
      /"tenant-a" takes its schema from "saas"; run the change on "saas" and it reaches every child/,
    );

    // An attach the token does not grant is refused with a readable message.
    const plain = createClient({
      url: url("tenant-a"),
      authToken: (await api.databases.createToken("tenant-a")).jwt,
    });
    const tx2 = await plain.transaction("read");
    const e2 = await caught(tx2.execute('ATTACH "catalog" AS cat'));
    expect(e2).toBeTenantliteError("ATTACH_FORBIDDEN");
    expect(e2.message).toMatch(/AttachRead permission/);
    expect(e2.message).toMatch(/tenantlite db tokens create tenant-a --attach catalog/);
    expect(e2.message).not.toMatch(/config attach allow/);
    await tx2.rollback();
    // A database that does not allow attach.
    const tx3 = await a.transaction("read");
    const e3 = await caught(tx3.execute('ATTACH "tenant-b" AS b'));
    expect(e3).toBeTenantliteError("ATTACH_FORBIDDEN");
    // Neither the token (it grants attach on catalog only) nor tenant-b allows it: both fixes.
    expect(e3.message).toMatch(/tenantlite db config attach allow tenant-b/);
    expect(e3.message).toMatch(/--attach tenant-b/);
    await tx3.rollback();
    a.close();
    plain.close();

    // The job is visible on the parent's host.
    const jobs = await fetch(`${server.url}/dev/saas/v1/jobs`, {
      headers: { authorization: `Bearer ${parentToken}` },
    });
    const body = (await jobs.json()) as { migrations: { job_id: number; status: string }[] };
    expect(body.migrations.length).toBeGreaterThanOrEqual(1);
    expect(body.migrations[0]!.status).toBe("RunSuccess");
    const one = await fetch(`${server.url}/dev/saas/v1/jobs/${body.migrations[0]!.job_id}`, {
      headers: { authorization: `Bearer ${parentToken}` },
    });
    const detail = (await one.json()) as { progress: { namespace: string; status: string }[] };
    expect(detail.progress.map((p) => p.namespace).sort()).toEqual([
      "catalog",
      "tenant-a",
      "tenant-b",
    ]);
  });
});
