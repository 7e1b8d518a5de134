/**
 * SQL functions Turso's server (sqld) has from sqlean and sql.js lacks, as sqlean answers them
 * (src/engine/sqlean.ts): the uuid family.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, createPlatform, type Platform } from "../../src/index.js";

let platform: Platform;
let db: Client;

beforeAll(async () => {
  platform = await createPlatform();
  await platform.createDatabase("fns");
  db = platform.client("fns");
});
afterAll(async () => {
  await platform.close();
});

async function one(sql: string, args: (string | number | Uint8Array | null)[] = []) {
  const rs = await db.execute({ sql, args });
  return Array.from(rs.rows[0]!);
}

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("sqlean's uuid functions", () => {
  it("makes random version 4 and time-ordered version 7 UUIDs, a new one each call", async () => {
    const rs = await db.execute(
      "SELECT uuid4() AS a, gen_random_uuid() AS b, uuid7() AS c FROM generate_series(1, 200)",
    );
    for (const col of ["a", "b"]) {
      const all = rs.rows.map((r) => r[col] as string);
      for (const u of all) expect(u).toMatch(V4);
      expect(new Set(all).size).toBe(200);
    }
    const v7 = rs.rows.map((r) => r.c as string);
    for (const u of v7) expect(u).toMatch(V7);
    expect(new Set(v7).size).toBe(200);
    expect(await one("SELECT uuid4() = uuid4(), typeof(uuid7())")).toEqual([0, "text"]);
  });

  it("reads the time of a version 7 UUID back, as an integer", async () => {
    const before = Date.now();
    const [u] = await one("SELECT uuid7()");
    const [ms, type] = await one("SELECT uuid7_timestamp_ms(?), typeof(uuid7_timestamp_ms(?))", [
      u as string,
      u as string,
    ]);
    expect(type).toBe("integer");
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
    // sqlean's documented example, as text and as a blob; other versions give NULL.
    expect(
      await one(
        "SELECT uuid7_timestamp_ms('018ff38a-a5c9-712d-bc80-0550b3ad41a2'), uuid7_timestamp_ms(uuid_blob('018ff38a-a5c9-712d-bc80-0550b3ad41a2')), uuid7_timestamp_ms(uuid4()), uuid7_timestamp_ms('x')",
      ),
    ).toEqual([1717777901001, 1717777901001, null, null]);
  });

  it("converts between text and 16-byte blobs, accepting sqlean's spellings", async () => {
    const canonical = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    for (const spelling of [
      "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
      "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
      "a0eebc999c0b4ef8bb6d6bb9bd380a11",
      "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
      "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
    ]) {
      expect(await one("SELECT uuid_str(?), hex(uuid_blob(?))", [spelling, spelling])).toEqual([
        canonical,
        "A0EEBC999C0B4EF8BB6D6BB9BD380A11",
      ]);
    }
    const blob = Uint8Array.from(Buffer.from("a0eebc999c0b4ef8bb6d6bb9bd380a11", "hex"));
    expect(await one("SELECT uuid_str(?), length(uuid_blob(?))", [blob, blob])).toEqual([
      canonical,
      16,
    ]);
    // Too few or too many digits, stray characters, a blob of another length, other types.
    for (const bad of [
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
      "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",
      " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
      "",
    ]) {
      expect(await one("SELECT uuid_str(?), uuid_blob(?)", [bad, bad]), bad).toEqual([null, null]);
    }
    expect(
      await one("SELECT uuid_str(x'00'), uuid_str(NULL), uuid_str(12), uuid_blob(1.5)"),
    ).toEqual([null, null, null, null]);
  });

  it("serves as a column default, and in index expressions where deterministic", async () => {
    await db.execute("CREATE TABLE items (id TEXT PRIMARY KEY DEFAULT (uuid7()), n INT)");
    await db.execute("INSERT INTO items (n) SELECT value FROM generate_series(1, 5)");
    const ids = (await db.execute("SELECT id FROM items")).rows.map((r) => r.id as string);
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) expect(id).toMatch(V7);
    await db.execute("CREATE INDEX items_by_blob ON items (uuid_blob(id))");
    await expect(db.execute("CREATE INDEX items_bad ON items (uuid4())")).rejects.toThrow(
      /non-deterministic/,
    );
  });
});
