// Parser benchmark: cold parse per statement, cached lookup, and throughput on a large script.
// Usage: node scripts/run-ts.mjs bench/parser/index.ts
import { readFileSync } from "node:fs";
import { classify, parse } from "../../parser/index.js";
import { clearClassifyCache } from "../../parser/parse.js";

const corpus = readFileSync(
  new URL("../../test/parser/corpus/handwritten.sql", import.meta.url),
  "utf8",
)
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("--"));

function time(fn: () => void, minMs = 300): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    fn();
    n++;
    t = performance.now();
  }
  return (t - t0) / n;
}

const t0 = performance.now();
parse("SELECT 1");
const setupMs = performance.now() - t0;

// Warm the JIT on the whole corpus first: "cold" means not cached, not unoptimized.
for (let i = 0; i < 20; i++) for (const s of corpus) parse(s);

const chars = corpus.reduce((n, s) => n + s.length, 0);
const perCorpus = time(() => {
  for (const s of corpus) parse(s);
}, 1000);
const perStatementUs = (perCorpus * 1000) / corpus.length;
const per200Us = (perCorpus * 1000 * 200) / chars;

const typical =
  "SELECT u.id, u.name, p.value FROM users AS u LEFT JOIN userdb.user_preferences AS p ON p.user_id = u.id WHERE u.created_at > :since AND p.k IN ('theme', 'lang') ORDER BY u.id LIMIT 50";
const typicalUs = time(() => parse(typical)) * 1000;

clearClassifyCache();
classify(typical);
const lookups = 1_000_000;
const tc = performance.now();
for (let i = 0; i < lookups; i++) classify(typical);
const cachedUs = ((performance.now() - tc) * 1000) / lookups;

function script(bytes: number): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const s = `INSERT INTO events(id, kind, payload, at) VALUES (${i}, 'click', '{"x":${i % 97}}', ${1.5 * i});\n`;
    parts.push(s);
    n += s.length;
  }
  return parts.join("");
}
const mb1 = script(1 << 20);
const mb4 = script(4 << 20);
parse(mb1);
const t1 = time(() => parse(mb1), 2000);
const t4 = time(() => parse(mb4), 2000);
const mbps = mb1.length / (1 << 20) / (t1 / 1000);

/** One statement of about `bytes` made of `part(i)` joined by `sep`, between `head` and `tail`. */
function long(
  bytes: number,
  head: string,
  part: (i: number) => string,
  sep: string,
  tail: (n: number) => string,
): string {
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const s = part(i);
    parts.push(s);
    n += s.length + sep.length;
  }
  return head + parts.join(sep) + tail(parts.length);
}
/** Statements where each part refers to others by name: linear time or not shows at 1 and 4 MB. */
const shapes: [string, (bytes: number) => string][] = [
  [
    "chained CTEs",
    (b) =>
      long(
        b,
        "WITH ",
        (i) => `c${i}(x) AS (SELECT ${i === 0 ? "1" : `x FROM c${i - 1}`})`,
        ",",
        (n) => ` SELECT x FROM c${n - 1}`,
      ),
  ],
  [
    "numbered parameters",
    (b) =>
      long(
        b,
        "SELECT ",
        (i) => `?${i + 1}`,
        ",",
        () => "",
      ),
  ],
  [
    "named parameters",
    (b) =>
      long(
        b,
        "SELECT ",
        (i) => `:p${i}`,
        ",",
        () => "",
      ),
  ],
];
const shapeTimes = shapes.map(([name, make]) => {
  const s1 = make(1 << 20);
  const s4 = make(4 << 20);
  parse(s1);
  return { name, t1: time(() => parse(s1), 2000), t4: time(() => parse(s4), 2000) };
});

const fmt = (x: number, d = 1) => x.toFixed(d);
console.log(`parser setup (first parse, once): ${fmt(setupMs)} ms`);
console.log(
  `cold parse, mixed corpus: ${corpus.length} statements, mean ${fmt(perStatementUs)} µs/statement, ${fmt(per200Us)} µs per 200 chars (target ≤ 50)`,
);
console.log(
  `cold parse, typical ${typical.length}-char SELECT: ${fmt(typicalUs)} µs (target ≤ 50)`,
);
console.log(`cached classify lookup: ${fmt(cachedUs, 3)} µs (target ≤ 0.2)`);
console.log(
  `1 MB script of inserts: ${fmt(t1)} ms, ${fmt(mbps)} MB/s (target ≥ 4); 4 MB: ${fmt(t4)} ms, ratio 4MB/1MB ${fmt(t4 / t1, 2)} (linear = 4)`,
);
for (const { name, t1: a, t4: b } of shapeTimes) {
  console.log(
    `1 MB statement of ${name}: ${fmt(a)} ms; 4 MB: ${fmt(b)} ms, ratio 4MB/1MB ${fmt(b / a, 2)} (linear = 4)`,
  );
}
