// The console's server place (web/src/server-place.ts) is plain fetch + JSON, so it runs in Node
// against a real startServer too: here what is hard to time from a page — the editor, the table
// browser and a migration using one database's Hrana stream at once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { ConsoleError } from "../../web/src/place.js";
import { probeServer, ServerPlace } from "../../web/src/server-place.js";

describe("console server place", () => {
  let server: RunningServer;
  let place: ServerPlace;

  beforeAll(async () => {
    server = await startServer({ port: 0, memory: true, consoleDir: false });
    place = new ServerPlace(`${server.url}/`, () => null);
  });
  afterAll(() => server?.close());

  it("finds the server by its Platform API", async () => {
    expect(await probeServer(`${server.url}/`, null)).toBe("server");
    expect(await probeServer(`${server.url}/some/static/dir/`, null)).toBe("none");
  });

  it("sends one database's requests one after another: a baton is good for one request", async () => {
    await place.createDatabase("streams", { type: "regular", allowAttach: false });
    const session = place.session("streams");
    await session.execute("CREATE TEMP TABLE x (a)");
    await session.execute("INSERT INTO temp.x VALUES (1)");
    // Sent at once with one baton, all but one would be refused (BATON_REUSED) and redone on a
    // new stream, which has no TEMP table x.
    const counts = await Promise.all(
      Array.from({ length: 8 }, () => session.execute("SELECT count(*) FROM temp.x")),
    );
    expect(counts.map((r) => r.rows[0]![0])).toEqual(Array(8).fill(1n));
  });

  it("answers a refused request with a coded error and keeps the stream", async () => {
    const session = place.session("streams");
    const err = await session.execute("SELECT * FROM nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsoleError);
    expect((err as ConsoleError).code).toMatch(/SQLITE_ERROR|SQL_/);
    expect((err as ConsoleError).message).toMatch(/no such table: nope/);
    const r = await session.execute("SELECT count(*) FROM temp.x");
    expect(r.rows[0]![0]).toBe(1n);
  });

  it("opens a new stream when the old one is gone, unless the old one held state (then a coded error, nothing run)", async () => {
    const lost: string[] = [];
    const p = new ServerPlace(`${server.url}/`, () => null);
    p.onLost = (db) => lost.push(db);
    // The server's answer to a stream it no longer has (expired after 10 s idle, or unknown).
    const expire = (db: string) =>
      (p as unknown as { batons: Map<string, string> }).batons.set(db, "gone");
    const s = p.session("streams");
    await s.execute("SELECT 1");
    expire("streams");
    expect((await s.execute("SELECT 2")).rows[0]![0]).toBe(2n);
    expect(lost).toEqual(["streams"]);

    await s.execute("CREATE TEMP TABLE y (a)");
    expire("streams");
    const err = await s.execute("INSERT INTO y VALUES (1)").catch((e: unknown) => e);
    expect((err as ConsoleError).code).toBe("STREAM_LOST");
    expect((err as ConsoleError).message).toMatch(
      /ATTACH and TEMP tables are gone and nothing ran/,
    );
    expect(lost).toEqual(["streams", "streams"]);
    // The next request runs on a new stream: no TEMP table y there.
    const again = await s.execute("SELECT * FROM temp.y").catch((e: unknown) => e);
    expect((again as ConsoleError).message).toMatch(/no such table: temp.y/);
  });

  it("reads values as the console shows them: integers as BigInt, blobs as bytes, NULL", async () => {
    const r = await place
      .session("streams")
      .execute("SELECT 9007199254740993 AS big, 1.5 AS f, x'00ff' AS b, NULL AS n, 'é' AS t");
    expect(r.columns).toEqual(["big", "f", "b", "n", "t"]);
    const [big, f, b, n, t] = Array.from(r.rows[0]!);
    expect(big).toBe(9007199254740993n);
    expect(f).toBe(1.5);
    expect([...new Uint8Array(b as ArrayBuffer)]).toEqual([0, 255]);
    expect(n).toBeNull();
    expect(t).toBe("é");
  });
});
