/**
 * The Platform API through the unmodified `@tursodatabase/api` client: groups, databases, schema
 * parents and children, configuration, API tokens, and the statuses and messages it reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { startTenantsServer } from "./helpers.js";

let server: RunningServer;
let api: Awaited<ReturnType<typeof startTenantsServer>>["api"];

beforeAll(async () => {
  ({ server, api } = await startTenantsServer());
});

afterAll(async () => {
  await server.close();
});

describe("Platform API with @tursodatabase/api", () => {
  it("lists, gets and reports on groups and databases", async () => {
    const groups = await api.groups.list();
    expect(groups.map((g) => g.name).sort()).toEqual(["default", "tenants"]);
    expect((await api.groups.get("tenants")).name).toBe("tenants");
    const db = await api.databases.get("acme");
    expect(db).toMatchObject({ name: "acme", group: "tenants", allow_attach: false });
    expect((await api.databases.list({ group: "tenants" })).map((d) => d.name)).toEqual([
      "acme",
      "globex",
    ]);
    // The server's root database (turso dev's), made at start.
    expect((await api.databases.list({ group: "default" })).map((d) => d.name)).toEqual([
      "default",
    ]);
    const usage = await api.databases.usage("acme");
    expect(usage.uuid).toBe(db.id);
    const instances = await api.databases.listInstances("acme");
    expect(instances).toHaveLength(1);
    expect((await api.organizations.list()).map((o) => o.slug)).toEqual(["local"]);
    expect((await api.locations.list()).map((l) => l.code)).toEqual(["local"]);
  });

  it("answers errors with the status and message the client reads", async () => {
    const e1 = await api.databases.get("nope").catch((e: unknown) => e);
    expect((e1 as { status: number }).status).toBe(404);
    expect((e1 as Error).message).toMatch(/could not find database with name nope/);
    const e2 = await api.databases.create("acme").catch((e: unknown) => e);
    expect((e2 as { status: number }).status).toBe(409);
    const e3 = await api.databases.create("x1", { group: "nogroup" }).catch((e: unknown) => e);
    expect((e3 as { status: number }).status).toBe(400);
    const e4 = await api.databases
      .createToken("acme", { expiration: "soon" })
      .catch((e: unknown) => e);
    expect((e4 as { status: number }).status).toBe(400);
    expect((e4 as Error).message).toMatch(/Invalid expiration format/);
  });

  it("has one location: a group elsewhere, or another location for a group, is refused and changes nothing", async () => {
    const refused = async (p: Promise<unknown>, status: number, message: RegExp) => {
      const e = await p.catch((x: unknown) => x);
      expect((e as { status: number }).status).toBe(status);
      expect((e as Error).message).toMatch(message);
    };
    const elsewhere = /location "aws-us-east-1" is not available/;
    // The client's types list Turso's locations; this server has "local" only.
    const location = "aws-us-east-1" as Parameters<typeof api.groups.create>[1];
    await refused(api.groups.create("far", location), 400, elsewhere);
    await refused(api.groups.addLocation("tenants", location), 400, elsewhere);
    await refused(
      api.groups.removeLocation("tenants", location),
      400,
      /"aws-us-east-1" is not one of the group's locations \("local"\)/,
    );
    await refused(
      api.groups.removeLocation("tenants", "local" as typeof location),
      400,
      /"local" is the group's primary location, which cannot be removed/,
    );
    expect((await api.groups.list()).map((g) => g.name).sort()).toEqual(["default", "tenants"]);
    const tenants = await api.groups.addLocation("tenants", "local" as typeof location);
    expect(tenants).toMatchObject({ name: "tenants", locations: ["local"], primary: "local" });
    const near = await api.groups.create("near", "local" as typeof location);
    expect(near).toMatchObject({ name: "near", locations: ["local"] });
    await api.groups.delete("near");
  });

  it("creates schema parents, children and seeded copies, and filters them", async () => {
    await api.databases.create("parent", { group: "tenants", is_schema: true });
    await api.databases.create("child1", { group: "tenants", schema: "parent" });
    const children = await api.databases.list({ schema: "parent" });
    expect(children.map((d) => d.name)).toEqual(["child1"]);
    const parents = await api.databases.list({ type: "schema" });
    expect(parents.map((d) => d.name)).toEqual(["parent"]);
    expect((await api.databases.get("child1")).schema).toBe("parent");
    const jobs = await fetch(`${server.url}/dev/parent/v1/jobs`, {
      headers: { authorization: `Bearer ${(await api.databases.createToken("parent")).jwt}` },
    });
    expect(await jobs.json()).toEqual({ schema_version: 0, migrations: [] });
    await api.databases.delete("child1");
    await api.databases.delete("parent");
  });

  it("reads and changes a group's delete protection (null leaves it unchanged)", async () => {
    const url = `${server.url}/v1/organizations/local/groups/tenants/configuration`;
    const headers = { authorization: `Bearer ${server.apiToken}` };
    const patch = async (body: unknown) =>
      (await fetch(url, { method: "PATCH", headers, body: JSON.stringify(body) })).json();
    expect(await patch({ delete_protection: true })).toEqual({ delete_protection: true });
    expect(await patch({ delete_protection: null })).toEqual({ delete_protection: true });
    expect(await (await fetch(url, { headers })).json()).toEqual({ delete_protection: true });
    const bad = await fetch(url, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ delete_protection: "yes" }),
    });
    expect(bad.status).toBe(400);
    expect(await patch({ delete_protection: false })).toEqual({ delete_protection: false });
  });

  it("manages API tokens", async () => {
    const created = await api.apiTokens.create("ci");
    expect(created.token).toBeTypeOf("string");
    expect((await api.apiTokens.list()).map((t) => t.name)).toContain("ci");
    const other = (await import("@tursodatabase/api")).createClient({
      org: "local",
      token: created.token,
      baseUrl: `${server.url}/v1/`,
    });
    expect((await other.databases.list()).length).toBeGreaterThan(0);
    await api.apiTokens.revoke("ci");
    const e = await other.databases.list().catch((x: unknown) => x);
    expect((e as { status: number }).status).toBe(401);
  });
});
