/**
 * A server whose data directory's disk fills up, on a real full file system: a tmpfs of 4 MiB
 * mounted for the test (it needs the right to mount, as root in CI's container has; without it
 * the suite is skipped and says why). Writes fail with a coded error and change nothing, reads go
 * on, and the two things an operator needs on a full disk still work: deleting a database, which
 * frees its room, and rotating a leaked token. (Before the data directory kept room in reserve
 * for them, both failed with STORAGE_WRITE_FAILED: their catalog and auth records could not be
 * written, so nothing could be freed short of deleting files by hand; and a server or CLI command
 * started on the full disk could not open the directory at all, its lock file finding no room.)
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { afterAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";

const API_TOKEN = "full-disk-api-token";
const mountPoint = join(tmpdir(), `tenantlite-full-disk-${process.pid}`);

/** Mounts a 4 MiB tmpfs at `mountPoint`: whether it could. */
function mountSmallDisk(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  mkdirSync(mountPoint, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint]);
  if (r.status === 0) return true;
  rmSync(mountPoint, { recursive: true, force: true });
  return false;
}

const mounted = mountSmallDisk();
if (!mounted) {
  console.warn(
    "full-disk.test.ts: skipped, this process may not mount a tmpfs (needs root on Linux)",
  );
}

let server: RunningServer | undefined;

afterAll(async () => {
  await server?.close();
  if (mounted) {
    // Lazily, should anything still hold a file there; the directory goes once it is unmounted.
    spawnSync("umount", ["-l", mountPoint]);
    try {
      rmSync(mountPoint, { recursive: true, force: true });
    } catch {
      /* still mounted: left for the OS's temp cleanup */
    }
  }
});

async function api(
  server: RunningServer,
  path: string,
  method = "POST",
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/v1/organizations/local${path}`, {
    method,
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const start = (dataDir: string) =>
  startServer({ port: 0, dataDir, auth: true, apiToken: API_TOKEN, consoleDir: false });

async function token(s: RunningServer, db: string, readOnly = false): Promise<string> {
  const q = readOnly ? "?authorization=read-only" : "";
  return (await api(s, `/databases/${db}/auth/tokens${q}`)).body.jwt as string;
}

const client = (s: RunningServer, db: string, authToken: string): Client =>
  createClient({ url: `${s.url}/dev/${db}/`, authToken });

/** Takes every byte left on the disk with a file of its own (bounded: the disk is 4 MiB). */
function fillTheRest(path: string): void {
  const fd = openSync(path, "w");
  const chunk = new Uint8Array(4096).fill(1);
  try {
    for (let i = 0; i < 2048; i++) writeSync(fd, chunk);
    throw new Error("the disk did not fill up");
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOSPC") throw e;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!mounted)("a server whose data directory's disk is full", () => {
  it("refuses writes coded, keeps reads, and still deletes databases and rotates tokens", async () => {
    const dataDir = join(mountPoint, "data");
    server = await start(dataDir);
    expect((await api(server, "/databases", "POST", { name: "a", group: "default" })).status).toBe(
      200,
    );
    expect((await api(server, "/databases", "POST", { name: "b", group: "default" })).status).toBe(
      200,
    );
    const bToken = await token(server, "b");
    let b = client(server, "b", bToken);
    await b.execute("CREATE TABLE u (x)");
    await b.execute("INSERT INTO u VALUES ('kept')");

    // Tenant a writes until the disk refuses.
    let a = client(server, "a", await token(server, "a"));
    await a.execute("CREATE TABLE t (x BLOB)");
    let acknowledged = 0;
    let refused: unknown;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      try {
        await a.execute("INSERT INTO t VALUES (randomblob(16000))");
        acknowledged++;
      } catch (e) {
        refused = e;
      }
    }
    expect(refused).toBeTenantliteError("STORAGE_WRITE_FAILED", /free space/);
    expect(String((refused as Error).message)).not.toContain(mountPoint);
    expect(acknowledged).toBeGreaterThan(10);
    fillTheRest(join(mountPoint, "filler"));
    expect(statfsSync(mountPoint).bavail).toBe(0);

    // Reads go on; writes and creations are refused, coded, and change nothing.
    const reader = client(server, "a", await token(server, "a", true));
    expect((await reader.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(acknowledged);
    await expect(a.execute("INSERT INTO t VALUES (1)")).rejects.toBeTenantliteError(
      "STORAGE_WRITE_FAILED",
    );
    const created = await api(server, "/databases", "POST", { name: "c", group: "default" });
    expect(created.status).toBe(503);
    expect(created.body.code).toBe("STORAGE_WRITE_FAILED");
    expect((await reader.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(acknowledged);

    // The server starts again on the full disk (its lock file takes its room from the reserve:
    // before, `tenantlite dev` and every CLI command failed to open the directory at all).
    for (const x of [a, b, reader]) x.close();
    await server.close();
    fillTheRest(join(mountPoint, "filler-2")); // (what closing freed: its lock file)
    expect(statfsSync(mountPoint).bavail).toBe(0);
    server = await start(dataDir);
    const aToken = await token(server, "a");
    a = client(server, "a", aToken);
    b = client(server, "b", bToken);
    expect((await a.execute("SELECT count(*) AS n FROM t")).rows[0]!.n).toBe(acknowledged);

    // A leaked token can still be revoked: b's tokens are rotated.
    expect((await api(server, "/databases/b/auth/rotate")).status).toBe(200);
    await expect(b.execute("SELECT 1")).rejects.toBeTenantliteError("AUTH_JWT_INVALID", /rotated/);

    // And a database can still be deleted, which frees its room for the others.
    const deleted = await api(server, "/databases/a", "DELETE");
    expect(deleted).toEqual({ status: 200, body: { database: "a" } });
    expect(statfsSync(mountPoint).bavail).toBeGreaterThan(0);
    expect((await api(server, "/databases", "POST", { name: "c", group: "default" })).status).toBe(
      200,
    );
    const c = client(server, "c", await token(server, "c"));
    await c.execute("CREATE TABLE v (x)");
    await c.execute("INSERT INTO v VALUES (1), (2)");
    for (const x of [a, b, c]) x.close();

    // All of it is what a restart finds: a gone, b's row and c's rows kept, b's old token dead.
    await server.close();
    server = await start(dataDir);
    const names = ((await api(server, "/databases", "GET")).body.databases as { Name: string }[])
      .map((d) => d.Name)
      .sort();
    expect(names).toEqual(["b", "c", "default"]);
    await expect(client(server, "b", bToken).execute("SELECT 1")).rejects.toBeTenantliteError(
      "AUTH_JWT_INVALID",
    );
    const b2 = client(server, "b", await token(server, "b"));
    expect((await b2.execute("SELECT x FROM u")).rows.map((r) => r.x)).toEqual(["kept"]);
    const c2 = client(server, "c", await token(server, "c"));
    expect((await c2.execute("SELECT count(*) AS n FROM v")).rows[0]!.n).toBe(2);
    b2.close();
    c2.close();
  }, 60_000);
});
