/**
 * Issue 16, point 3 through the real server: per-tenant vector search with an unmodified
 * `@libsql/client` over http, each tenant with its own embeddings and index, checked against the
 * same statements on native libSQL (`:memory:`). A read-only token may search (vector_top_k is a
 * read) and may not write vectors.
 */
import { type Client, createClient } from "@libsql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/node/server.js";
import { caught } from "../helpers.js";
import { startTestServer } from "./helpers.js";

let server: RunningServer;
const clients: Client[] = [];

function client(db: string, token: string): Client {
  const c = createClient({ url: `${server.url}/dev/${db}/`, authToken: token });
  clients.push(c);
  return c;
}

const SCHEMA = [
  "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, emb F32_BLOB(4))",
  "CREATE INDEX notes_idx ON notes (libsql_vector_idx(emb, 'metric=cosine'))",
];

/** Each tenant's own notes: the same index name, different embeddings. */
const NOTES: Record<string, [string, string][]> = {
  alice: [
    ["groceries", "[0.9, 0.1, 0.0, 0.0]"],
    ["gym plan", "[0.0, 0.8, 0.2, 0.0]"],
    ["recipes", "[0.8, 0.2, 0.1, 0.0]"],
    ["taxes", "[0.0, 0.0, 0.1, 0.9]"],
  ],
  bob: [
    ["guitar", "[0.1, 0.0, 0.9, 0.1]"],
    ["garden", "[0.7, 0.3, 0.0, 0.0]"],
  ],
};

const QUERY = "[1, 0.2, 0, 0]";
const SEARCH =
  "SELECT n.body, vector_extract(n.emb) AS v FROM vector_top_k('notes_idx', vector32(?), 3) AS t JOIN notes n ON n.id = t.id";

let tokens: Record<string, { rw: string; ro: string }>;

beforeAll(async () => {
  const started = await startTestServer({ auth: true });
  server = started.server;
  const { api } = started;
  tokens = {};
  for (const name of Object.keys(NOTES)) {
    await api.databases.create(name);
    tokens[name] = {
      rw: (await api.databases.createToken(name)).jwt,
      ro: (await api.databases.createToken(name, { authorization: "read-only" })).jwt,
    };
  }
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe("vectors through the server with @libsql/client over http", () => {
  it("each tenant searches its own embeddings, as native libSQL answers", async () => {
    for (const [name, notes] of Object.entries(NOTES)) {
      const remote = client(name, tokens[name]!.rw);
      const native = createClient({ url: ":memory:" });
      clients.push(native);
      for (const c of [remote, native]) {
        await c.batch(
          [
            ...SCHEMA,
            ...notes.map(([body, emb]) => ({
              sql: "INSERT INTO notes (body, emb) VALUES (?, vector32(?))",
              args: [body, emb],
            })),
          ],
          "write",
        );
      }
      const ours = await remote.execute({ sql: SEARCH, args: [QUERY] });
      const theirs = await native.execute({ sql: SEARCH, args: [QUERY] });
      expect(ours.columns).toEqual(theirs.columns);
      expect(ours.rows.map((r) => [r.body, r.v])).toEqual(theirs.rows.map((r) => [r.body, r.v]));
      expect(ours.rows.length).toBe(Math.min(3, notes.length));
      // Blobs cross the wire unchanged both ways: the stored bytes are libSQL's.
      const blob = await remote.execute("SELECT emb FROM notes ORDER BY id LIMIT 1");
      const nativeBlob = await native.execute("SELECT emb FROM notes ORDER BY id LIMIT 1");
      expect(Buffer.from(blob.rows[0]!.emb as ArrayBuffer)).toEqual(
        Buffer.from(nativeBlob.rows[0]!.emb as ArrayBuffer),
      );
    }
    const alice = await client("alice", tokens.alice!.rw).execute({ sql: SEARCH, args: [QUERY] });
    expect(alice.rows.map((r) => r.body)).toEqual(["groceries", "recipes", "gym plan"]);
  });

  it("a read-only token searches but cannot write vectors; bad vectors are coded errors", async () => {
    const ro = client("bob", tokens.bob!.ro);
    const found = await ro.execute({ sql: SEARCH, args: [QUERY] });
    expect(found.rows.map((r) => r.body)).toEqual(["garden", "guitar"]);
    await expect(
      ro.execute({ sql: "INSERT INTO notes (body, emb) VALUES ('x', vector32(?))", args: [QUERY] }),
    ).rejects.toBeTenantliteError("AUTH_FORBIDDEN");
    const rw = client("bob", tokens.bob!.rw);
    // Over Hrana a generic SQLite error is SQLITE_UNKNOWN, as sqld sends it.
    const e = await caught(
      rw.execute({
        sql: "INSERT INTO notes (body, emb) VALUES ('x', vector32(?))",
        args: ["[1, s3cr3t]"],
      }),
    );
    expect(e).toBeTenantliteError("SQLITE_UNKNOWN", /vector: invalid float at position 1/);
    expect(e.message).not.toContain("s3cr3t");
    await expect(rw.execute({ sql: SEARCH, args: ["[1, 0]"] })).rejects.toBeTenantliteError(
      "SQLITE_UNKNOWN",
      /dimensions are different: 2 != 4/,
    );
    expect((await rw.execute("SELECT count(*) AS n FROM notes")).rows[0]!.n).toBe(2);
  });
});
