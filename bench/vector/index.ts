/**
 * Vector benchmark (issue 16, point 3): k-NN over 10,000 384-dimension float32 embeddings in one
 * tenant, in ms per query, through the platform's client:
 *
 * - `vector_top_k('docs_idx', q, 10)` (tenantlite rewrites it into an exact search),
 * - `ORDER BY vector_distance_cos(emb, q) LIMIT 10` (the same exact search, written out),
 *
 * against anchors measured in the same run: native libSQL through @libsql/client on `:memory:`
 * (the same exact scan, and its approximate DiskANN vector_top_k), and a plain JS loop over
 * Float32Arrays (cosine distance in float64, top 10 by sorting). Also the time to insert the rows
 * with the index in place. Every engine's exact search must return the same ids (checked).
 *
 * Query figures are the better of two rounds (the machine is shared).
 *
 * Environment: BENCH_ROWS (10000), BENCH_DIMS (384), BENCH_QUERIES (20), BENCH_NATIVE_INDEX=1
 * to also build native libSQL's DiskANN index (its inserts take ~10 ms per row at this size, so
 * it is off by default).
 */
import { createClient } from "@libsql/client";
import { createPlatform } from "../../src/index.js";
import { printTable, ratio } from "../lib/measure.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const DIMS = Number(process.env.BENCH_DIMS ?? 384);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 20);
const K = 10;
const NATIVE_INDEX = process.env.BENCH_NATIVE_INDEX === "1";

/** Seeded values in [-1, 1): the same data every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

const next = random(42);
const vectors = Array.from({ length: ROWS }, () => Float32Array.from({ length: DIMS }, next));
const queries = Array.from({ length: QUERIES }, () => Float32Array.from({ length: DIMS }, next));
const blob = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

const SCHEMA = `CREATE TABLE docs (id INTEGER PRIMARY KEY, emb F32_BLOB(${DIMS}))`;
const INDEX = "CREATE INDEX docs_idx ON docs (libsql_vector_idx(emb))";
const TOP_K = `SELECT id FROM vector_top_k('docs_idx', ?, ${K})`;
const EXACT = `SELECT id FROM docs ORDER BY vector_distance_cos(emb, ?) LIMIT ${K}`;

interface Runner {
  execute(stmt: { sql: string; args: unknown[] }): Promise<{ rows: ArrayLike<unknown>[] }>;
  batch(stmts: { sql: string; args: unknown[] }[], mode: "write"): Promise<unknown>;
}

/** Inserts every vector in batches of 500; ms per 1,000 rows. */
async function load(db: Runner): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < ROWS; i += 500) {
    await db.batch(
      vectors
        .slice(i, i + 500)
        .map((v) => ({ sql: "INSERT INTO docs (emb) VALUES (?)", args: [blob(v)] })),
      "write",
    );
  }
  return ((performance.now() - start) / ROWS) * 1000;
}

/** ms per query (better of two rounds, after a warm-up query), and each query's ids. */
async function queryAll(db: Runner, sql: string): Promise<{ ms: number; ids: string[] }> {
  await db.execute({ sql, args: [blob(queries[0]!)] });
  let ms = Number.POSITIVE_INFINITY;
  let ids: string[] = [];
  for (let round = 0; round < 2; round++) {
    ids = [];
    const start = performance.now();
    for (const q of queries) {
      const rs = await db.execute({ sql, args: [blob(q)] });
      ids.push(rs.rows.map((r) => Number(r[0])).join(","));
    }
    ms = Math.min(ms, (performance.now() - start) / queries.length);
  }
  return { ms, ids };
}

/** The floor for JS: cosine distances in a plain loop, top K by sorting. */
function jsLoop(): { ms: number } {
  const norms = vectors.map((v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)));
  const run = (q: Float32Array) => {
    let qn = 0;
    for (let i = 0; i < DIMS; i++) qn += q[i]! * q[i]!;
    qn = Math.sqrt(qn);
    const d = new Float64Array(ROWS);
    for (let r = 0; r < ROWS; r++) {
      const v = vectors[r]!;
      let dot = 0;
      for (let i = 0; i < DIMS; i++) dot += v[i]! * q[i]!;
      d[r] = 1 - dot / (norms[r]! * qn);
    }
    return Array.from(d.keys())
      .sort((a, b) => d[a]! - d[b]!)
      .slice(0, K);
  };
  run(queries[0]!);
  let ms = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 2; round++) {
    const start = performance.now();
    for (const q of queries) run(q);
    ms = Math.min(ms, (performance.now() - start) / queries.length);
  }
  return { ms };
}

const fmt = (ms: number) => ms.toFixed(2);

console.log(
  `vector: k-NN (k=${K}) over ${ROWS} ${DIMS}-dimension float32 vectors in one tenant, ${QUERIES} queries`,
);

const platform = await createPlatform();
await platform.createDatabase("vectors");
const ours = platform.client("vectors") as unknown as Runner;
await ours.execute({ sql: SCHEMA, args: [] });
await ours.execute({ sql: INDEX, args: [] });
const ourLoad = await load(ours);
const ourTopK = await queryAll(ours, TOP_K);
const ourExact = await queryAll(ours, EXACT);

const native = createClient({ url: ":memory:" }) as unknown as Runner & { close(): void };
await native.execute({ sql: SCHEMA, args: [] });
const nativeLoadPlain = await load(native);
const nativeExact = await queryAll(native, EXACT);
let nativeIndexed: { load: number; topK: { ms: number; ids: string[] } } | undefined;
if (NATIVE_INDEX) {
  const indexed = createClient({ url: ":memory:" }) as unknown as Runner & { close(): void };
  await indexed.execute({ sql: SCHEMA, args: [] });
  await indexed.execute({ sql: INDEX, args: [] });
  nativeIndexed = { load: await load(indexed), topK: await queryAll(indexed, TOP_K) };
  indexed.close();
}
native.close();
const js = jsLoop();

// The exact searches agree, query by query.
const same = (a: string[], b: string[]) => a.every((x, i) => x === b[i]);
if (!same(ourTopK.ids, ourExact.ids) || !same(ourExact.ids, nativeExact.ids)) {
  console.error("exact searches disagree:", {
    ourTopK: ourTopK.ids[0],
    ourExact: ourExact.ids[0],
    nativeExact: nativeExact.ids[0],
  });
  process.exit(1);
}
const recall =
  nativeIndexed === undefined
    ? undefined
    : nativeIndexed.topK.ids.reduce((n, ids, i) => {
        const exact = new Set(nativeExact.ids[i]!.split(","));
        return n + ids.split(",").filter((id) => exact.has(id)).length;
      }, 0) /
      (K * QUERIES);

printTable([
  ["query (ms per query)", "ms", "vs native exact", "vs JS loop"],
  [
    "tenantlite vector_top_k (exact)",
    fmt(ourTopK.ms),
    ratio(ourTopK.ms, nativeExact.ms),
    ratio(ourTopK.ms, js.ms),
  ],
  [
    "tenantlite ORDER BY vector_distance_cos LIMIT 10",
    fmt(ourExact.ms),
    ratio(ourExact.ms, nativeExact.ms),
    ratio(ourExact.ms, js.ms),
  ],
  [
    "anchor: native libSQL, same exact scan",
    fmt(nativeExact.ms),
    "1.00×",
    ratio(nativeExact.ms, js.ms),
  ],
  [
    `anchor: native libSQL vector_top_k (DiskANN${recall === undefined ? "" : `, recall ${(recall * 100).toFixed(0)}%`})`,
    nativeIndexed === undefined ? "skipped" : fmt(nativeIndexed.topK.ms),
    nativeIndexed === undefined ? "" : ratio(nativeIndexed.topK.ms, nativeExact.ms),
    "",
  ],
  ["anchor: JS loop over Float32Arrays", fmt(js.ms), ratio(js.ms, nativeExact.ms), "1.00×"],
]);
console.log("");
printTable([
  ["insert (ms per 1,000 rows, batches of 500)", "ms", "vs native, no index"],
  ["tenantlite, with the vector index", fmt(ourLoad), ratio(ourLoad, nativeLoadPlain)],
  ["anchor: native libSQL, no index", fmt(nativeLoadPlain), "1.00×"],
  [
    "anchor: native libSQL, DiskANN index",
    nativeIndexed === undefined ? "skipped" : fmt(nativeIndexed.load),
    nativeIndexed === undefined ? "" : ratio(nativeIndexed.load, nativeLoadPlain),
  ],
]);
await platform.close();
