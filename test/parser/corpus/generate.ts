// Combinatorial statement generators over the grammar's rules, and deterministic mutations of
// the hand-written statements. SQLite decides every verdict; nothing here states expectations.
import { tokenize } from "../../../parser/lexer.js";

/** SQLite's keywords (mkkeywordhash.c), TEMPORARY included. */
export const KEYWORDS =
  "ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL NULLS OF OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE RANGE RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT".split(
    " ",
  );

/** Expressions over t1(a, b, c). */
export const EXPRESSIONS = [
  "1",
  "-1",
  "+1",
  "~1",
  "NOT 1",
  "1.5e3",
  "0x10",
  "'s'",
  "x'ab'",
  "NULL",
  "a",
  "t1.a",
  "main.t1.a",
  "a + b",
  "a - b * c",
  "a / b % c",
  "a || b",
  "a & b | c",
  "a << 1 >> 2",
  "a = b",
  "a == b",
  "a != b",
  "a <> b",
  "a < b",
  "a <= b",
  "a > b",
  "a >= b",
  "a AND b",
  "a OR b",
  "NOT a AND b",
  "a IS b",
  "a IS NOT b",
  "a IS NULL",
  "a IS NOT NULL",
  "a ISNULL",
  "a NOTNULL",
  "a NOT NULL",
  "a IS DISTINCT FROM b",
  "a IS NOT DISTINCT FROM b",
  "a BETWEEN 1 AND 2",
  "a NOT BETWEEN b AND c",
  "a BETWEEN 1 + 1 AND 2 * 3",
  "a BETWEEN b AND c AND a",
  "a IN (1)",
  "a IN (1, 2)",
  "a IN ()",
  "a NOT IN (b, c)",
  "a IN (SELECT x FROM t2)",
  "a IN t2",
  "a NOT IN main.t2",
  "b LIKE 'x'",
  "b NOT LIKE 'x' ESCAPE 'y'",
  "b LIKE 'x' || 'y' ESCAPE '!'",
  "b GLOB 'x'",
  "b NOT GLOB 'x'",
  "b REGEXP 'x'",
  "b MATCH 'x'",
  "b COLLATE nocase",
  "b COLLATE \"binary\" = 'x'",
  "CASE WHEN a THEN b END",
  "CASE a WHEN 1 THEN 2 ELSE 3 END",
  "CASE WHEN a THEN b WHEN c THEN 1 ELSE NULL END",
  "CAST(a AS INTEGER)",
  "CAST(a AS TEXT)",
  "CAST(b AS VARCHAR(3))",
  "CAST(c AS NUMERIC(5, 2))",
  "EXISTS (SELECT 1)",
  "NOT EXISTS (SELECT * FROM t2)",
  "(SELECT 1)",
  "(SELECT x FROM t2 LIMIT 1)",
  "(a)",
  "((a))",
  "(a, b) = (1, 2)",
  "(a, b) IN (SELECT x, y FROM t2)",
  "abs(a)",
  "max(a, b, c)",
  "count(*)",
  "count(DISTINCT a)",
  "coalesce(a, b, 1)",
  "substr(b, 1, 2)",
  "length(b)",
  "json_extract('{}', '$.a')",
  "'{}' -> '$'",
  "'{}' ->> '$'",
  "?",
  "?1",
  ":p",
  "@p",
  "$p",
  "current_date",
  "current_time",
  "current_timestamp",
  "a + -b",
  "- - a",
  "a NOT LIKE b",
  "a = 1 OR b = 2 AND c = 3",
  "NOT (a = 1)",
  "a IN (SELECT 1 UNION SELECT 2)",
  "typeof(a)",
  "instr(b, 'x') > 0",
  "a BETWEEN (SELECT 1) AND 3",
  "iif(a, b, c)",
  "unlikely(a)",
  "random()",
  "printf('%s', b)",
  "hex(x'00')",
  "quote(b)",
  "a IS NOT b COLLATE nocase",
  "a % 2 = 0",
  "b LIKE ?",
  "a IN (?, ?2, :x)",
  "upper(b) || lower(b)",
  "trim(b, ' ')",
  "1 BETWEEN 0 AND 2 = 1",
  "(SELECT count(*) FROM t2 WHERE x = a) > 0",
  "a IN json_each('[1]')",
];

const CONTEXTS = [
  (e: string) => `SELECT ${e}`,
  (e: string) => `SELECT a FROM t1 WHERE ${e}`,
  (e: string) => `SELECT * FROM t1 ORDER BY ${e}`,
  (e: string) => `UPDATE t1 SET c = ${e}`,
  (e: string) => `DELETE FROM t1 WHERE ${e}`,
  (e: string) => `SELECT b, count(*) FROM t1 GROUP BY b HAVING ${e}`,
];

/** Keyword-as-identifier contexts. */
const KEYWORD_CONTEXTS = [
  (k: string) => `CREATE TABLE ${k}(x)`,
  (k: string) => `CREATE TABLE n1(${k})`,
  (k: string) => `CREATE TABLE n1(a ${k})`,
  (k: string) => `SELECT 1 ${k}`,
  (k: string) => `SELECT 1 AS ${k}`,
  (k: string) => `SELECT ${k} FROM t1`,
  (k: string) => `SELECT ${k}(1)`,
  (k: string) => `SELECT * FROM t1 ${k}`,
  (k: string) => `SELECT t1.${k} FROM t1`,
  (k: string) => `UPDATE t1 SET ${k} = 1`,
  (k: string) => `INSERT INTO t1(${k}) VALUES (1)`,
  (k: string) => `SAVEPOINT ${k}`,
  (k: string) => `WITH ${k} AS (SELECT 1) SELECT 2`,
  (k: string) => `CREATE INDEX ${k} ON t1(a)`,
];

const JOINS = [
  ",",
  "JOIN",
  "INNER JOIN",
  "CROSS JOIN",
  "LEFT JOIN",
  "LEFT OUTER JOIN",
  "RIGHT JOIN",
  "RIGHT OUTER JOIN",
  "FULL JOIN",
  "FULL OUTER JOIN",
  "NATURAL JOIN",
  "NATURAL LEFT JOIN",
  "NATURAL INNER JOIN",
  "NATURAL FULL OUTER JOIN",
  "OUTER JOIN",
  "LEFT INNER JOIN",
  "LEFT foo JOIN",
  "INNER OUTER LEFT JOIN",
];
const JOIN_CONSTRAINTS = ["", " ON a = x", " USING (a)", " ON 1"];
const RIGHT_SIDES = ["t2", "t2 AS u", "(SELECT 1 AS x) s", "json_each('[1]')", "(t2)"];

const CLAUSES = [
  "DISTINCT",
  "WHERE a > 0",
  "GROUP BY b",
  "HAVING count(*) > 0",
  "WINDOW w AS (ORDER BY a)",
  "ORDER BY a",
  "LIMIT 1 OFFSET 1",
];

const COLUMN_CONSTRAINTS = [
  "PRIMARY KEY",
  "PRIMARY KEY DESC",
  "PRIMARY KEY AUTOINCREMENT",
  "NOT NULL",
  "NULL",
  "UNIQUE",
  "UNIQUE ON CONFLICT REPLACE",
  "CHECK (a > 0)",
  "DEFAULT 0",
  "DEFAULT 'x'",
  "DEFAULT (1 + 2)",
  "DEFAULT -5",
  "DEFAULT CURRENT_TIME",
  "COLLATE nocase",
  "REFERENCES t2(x)",
  "REFERENCES t2 ON DELETE CASCADE",
  "GENERATED ALWAYS AS (1)",
  "AS (2) STORED",
  "CONSTRAINT c1 NOT NULL",
  "NOT NULL ON CONFLICT IGNORE",
  "DEFERRABLE INITIALLY DEFERRED",
  "NOT DEFERRABLE",
];

const SCHEMAS = ["", "main.", "temp.", "aux.", "userdb."];

function ddlAndDml(): string[] {
  const out: string[] = [];
  for (const s of SCHEMAS) {
    out.push(`CREATE TABLE ${s}g1(a, b)`);
    out.push(`CREATE TEMP TABLE ${s}g1(a, b)`);
    out.push(`CREATE TABLE IF NOT EXISTS ${s}g1(a PRIMARY KEY) WITHOUT ROWID`);
    out.push(`CREATE TABLE ${s}g1 AS SELECT 1 AS a`);
    out.push(`CREATE VIEW ${s}g1 AS SELECT 1 AS a`);
    out.push(`CREATE TEMP VIEW ${s}g1 AS SELECT 1 AS a`);
    out.push(`CREATE VIRTUAL TABLE ${s}g1 USING fts4(a)`);
    out.push(`CREATE INDEX ${s}g1 ON t1(a)`);
    out.push(`CREATE INDEX ${s}g1 ON t3(p)`);
    out.push(`CREATE INDEX ${s}g1 ON tt(u)`);
    out.push(`CREATE TRIGGER ${s}g1 AFTER INSERT ON t1 BEGIN SELECT 1; END`);
    out.push(`CREATE TEMP TRIGGER ${s}g1 AFTER INSERT ON t1 BEGIN SELECT 1; END`);
    out.push(`CREATE TRIGGER ${s}g1 AFTER INSERT ON t3 BEGIN SELECT 1; END`);
    out.push(`CREATE TRIGGER ${s}g1 BEFORE DELETE ON tt BEGIN SELECT 1; END`);
    for (const t of ["t1", "t2", "t3", "tt", "user_preferences", "v1", "v3", "i1", "i3", "trg"]) {
      out.push(`DROP TABLE ${s}${t}`);
      out.push(`DROP TABLE IF EXISTS ${s}${t}`);
      out.push(`DROP VIEW ${s}${t}`);
      out.push(`DROP INDEX ${s}${t}`);
      out.push(`DROP TRIGGER ${s}${t}`);
      out.push(`ALTER TABLE ${s}${t} RENAME TO g2`);
      out.push(`ALTER TABLE ${s}${t} ADD COLUMN g3`);
      out.push(`INSERT INTO ${s}${t} DEFAULT VALUES`);
      out.push(`DELETE FROM ${s}${t}`);
      out.push(`SELECT * FROM ${s}${t}`);
      out.push(`ANALYZE ${s}${t}`);
      out.push(`REINDEX ${s}${t}`);
    }
    out.push(`UPDATE ${s}t1 SET a = 1`);
    out.push(`UPDATE ${s}t3 SET p = 1`);
    out.push(`UPDATE ${s}tt SET u = 1`);
    out.push(`INSERT INTO ${s}t3 SELECT * FROM ${s}t3`);
    out.push(`VACUUM ${s.replace(".", "")}`);
    out.push(`PRAGMA ${s}user_version = 1`);
    out.push(`PRAGMA ${s}schema_version`);
    out.push(`PRAGMA ${s}journal_mode = memory`);
    out.push(`PRAGMA ${s}table_info(t1)`);
  }
  return out;
}

/** Every pragma of `pragma_list` in a few shapes (heap limits left out: they act at prepare). */
const PRAGMAS =
  "analysis_limit application_id auto_vacuum automatic_index busy_timeout cache_size cache_spill case_sensitive_like cell_size_check checkpoint_fullfsync collation_list compile_options count_changes data_version database_list default_cache_size defer_foreign_keys empty_result_callbacks encoding foreign_key_check foreign_key_list foreign_keys freelist_count full_column_names fullfsync function_list ignore_check_constraints incremental_vacuum index_info index_list index_xinfo integrity_check journal_mode journal_size_limit legacy_alter_table locking_mode max_page_count mmap_size module_list optimize page_count page_size pragma_list query_only quick_check read_uncommitted recursive_triggers reverse_unordered_selects schema_version secure_delete short_column_names shrink_memory synchronous table_info table_list table_xinfo temp_store threads trusted_schema user_version wal_autocheckpoint wal_checkpoint".split(
    " ",
  );

function pragmas(): string[] {
  const out: string[] = [];
  for (const p of PRAGMAS) {
    out.push(`PRAGMA ${p}`, `PRAGMA aux.${p}`, `PRAGMA ${p}(t1)`, `PRAGMA main.${p}('x')`);
    if (!["query_only", "ignore_check_constraints", "locking_mode"].includes(p)) {
      out.push(`PRAGMA ${p} = 0`, `PRAGMA aux.${p} = -1`);
    }
  }
  return out;
}

const INSERTS = [...KEYWORDS, "(", ")", ",", ".", "*", "-", "=", "||", "'s'", "1", "a", "t1", "?"];

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic token-level mutations: drop, duplicate or swap tokens, or truncate. */
export function mutations(seeds: readonly string[], perSeed: number, seed = 7): string[] {
  const rand = rng(seed);
  const out: string[] = [];
  for (const s of seeds) {
    const toks = tokenize(s);
    if (toks.length < 2) continue;
    for (let m = 0; m < perSeed; m++) {
      const parts = toks.map((t) => t.image);
      const i = Math.floor(rand() * parts.length);
      const op = Math.floor(rand() * 5);
      if (op === 4) parts.splice(i, 0, INSERTS[Math.floor(rand() * INSERTS.length)]!);
      else if (op === 0) parts.splice(i, 1);
      else if (op === 1) parts.splice(i, 0, parts[i]!);
      else if (op === 2 && i + 1 < parts.length)
        [parts[i], parts[i + 1]] = [parts[i + 1]!, parts[i]!];
      else parts.length = Math.max(1, i);
      out.push(parts.join(" "));
    }
  }
  return out;
}

/** The generated part of the corpus. */
export function generated(seeds: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of EXPRESSIONS) for (const c of CONTEXTS) out.push(c(e));
  for (const k of KEYWORDS) for (const c of KEYWORD_CONTEXTS) out.push(c(k), c(k.toLowerCase()));
  for (const j of JOINS) {
    for (const r of RIGHT_SIDES)
      for (const c of JOIN_CONSTRAINTS) out.push(`SELECT * FROM t1 ${j} ${r}${c}`);
  }
  for (let mask = 0; mask < 1 << CLAUSES.length; mask++) {
    const parts = ["SELECT"];
    if (mask & 1) parts.push(CLAUSES[0]!);
    parts.push("a, b FROM t1");
    for (let i = 1; i < CLAUSES.length; i++) if (mask & (1 << i)) parts.push(CLAUSES[i]!);
    out.push(parts.join(" "));
  }
  for (const a of COLUMN_CONSTRAINTS) {
    out.push(`CREATE TABLE n1(a INTEGER ${a}, b)`);
    for (const b of COLUMN_CONSTRAINTS) if (a < b) out.push(`CREATE TABLE n1(a ${a} ${b}, z)`);
  }
  out.push(
    ...ddlAndDml(),
    ...pragmas(),
    ...mutations(seeds, 30, 101),
    ...mutations(seeds, 30, 202),
  );
  return out;
}
